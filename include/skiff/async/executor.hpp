// SPDX-License-Identifier: Apache-2.0
#pragma once

// The async module: the small set of coroutine tools every Skiff component builds on (Asio 1.81,
// STYLE.md §8). Executors and strands are plain Asio types; these aliases keep signatures short and
// give one place to change them.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

namespace skiff::async {

/// The executor every Skiff awaitable runs on (Asio's default for `awaitable<T>`).
using Executor = boost::asio::any_io_executor;

/// A strand over an Executor: the serialized executor a stateful component owns (STYLE.md §8
/// "Strands").
using Strand = boost::asio::strand<Executor>;

}  // namespace skiff::async
