// SPDX-License-Identifier: Apache-2.0
#pragma once

// Deadlines for awaitables: with_timeout(op, d) runs `op` and cancels it if it has not finished after
// `d` (Boost 1.81 has no cancel_after). One place for the parallel-group machinery (STYLE.md §8
// "Structured concurrency" 4), so callers never touch the experimental operators.

#include <chrono>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "skiff/base/error.hpp"

namespace skiff::async {

namespace detail {
/// Races `op` against a timer. Returns kTimeout if the timer fired first, kCancelled if the awaiting
/// coroutine was cancelled before `op` finished, success when `op` finished first; rethrows what `op`
/// threw otherwise.
boost::asio::awaitable<Result<void>> run_with_timeout(boost::asio::awaitable<void> op,
                                                      std::chrono::steady_clock::duration timeout);

template <class T>
boost::asio::awaitable<void> store_into(boost::asio::awaitable<T> op, std::optional<T>* out) {
  out->emplace(co_await std::move(op));
}
}  // namespace detail

/// Runs `op` on the calling coroutine's executor and returns its value, or an error:
/// - `Reason::kTimeout` when `timeout` passed first; `op` was then cancelled (with every cancellation
///   type, `terminal` included) and has finished;
/// - `Reason::kCancelled` when the awaiting coroutine was cancelled (the cancellation, whatever its
///   type, is passed on to `op`) and `op` did not return normally.
/// `op` returning normally before the timer fired always yields its value, even if it did so in
/// reaction to a cancellation. An exception `op` throws otherwise propagates at once, without waiting
/// for the timer.
///
/// Like any race, this waits for the loser to finish: bound only operations that react to cancellation
/// (STYLE.md §8 "`||` waits for the loser").
template <class T>
boost::asio::awaitable<Result<T>> with_timeout(boost::asio::awaitable<T> op,
                                               std::chrono::steady_clock::duration timeout) {
  std::optional<T> value;
  auto done = co_await detail::run_with_timeout(detail::store_into(std::move(op), &value), timeout);
  if (!done) {
    co_return done.error();
  }
  co_return std::move(*value);
}

/// The void form of with_timeout.
inline boost::asio::awaitable<Result<void>> with_timeout(
    boost::asio::awaitable<void> op, std::chrono::steady_clock::duration timeout) {
  return detail::run_with_timeout(std::move(op), timeout);
}

}  // namespace skiff::async
