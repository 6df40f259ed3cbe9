// SPDX-License-Identifier: Apache-2.0
#pragma once

// Deadlines and cancellation adapters for awaitables: with_timeout(op, d) runs `op` and cancels it
// if it has not finished after `d` (Boost 1.81 has no cancel_after); terminal_on_cancel(op) lets a
// graceful cancellation stop operations that only honour terminal ones. One place for the
// parallel-group machinery (STYLE.md §8 "Structured concurrency" 4), so callers never touch the
// experimental operators.

#include <chrono>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "skiff/base/error.hpp"

namespace skiff::async {

namespace detail {
/// Races `op` against a timer. Returns kTimeout if the timer fired first, kCancelled if the
/// awaiting coroutine was cancelled before `op` finished, success when `op` finished first;
/// rethrows what `op` threw otherwise.
boost::asio::awaitable<Result<void>> run_with_timeout(boost::asio::awaitable<void> op,
                                                      std::chrono::steady_clock::duration timeout);

boost::asio::awaitable<void> run_terminal_on_cancel(boost::asio::awaitable<void> op);

template <class T>
boost::asio::awaitable<void> store_into(boost::asio::awaitable<T> op, std::optional<T>* out) {
  out->emplace(co_await std::move(op));
}
}  // namespace detail

/// Runs `op` on the calling coroutine's executor and returns its value, or an error:
/// - `Reason::kTimeout` when `timeout` passed first; `op` was then cancelled (with every
/// cancellation
///   type, `terminal` included) and has finished;
/// - `Reason::kCancelled` when the awaiting coroutine was cancelled (the cancellation, whatever its
///   type, is passed on to `op`) and `op` did not return normally.
/// `op` returning normally before the timer fired always yields its value, even if it did so in
/// reaction to a cancellation. An exception `op` throws otherwise propagates at once, without
/// waiting for the timer.
///
/// Like any race, this waits for the loser to finish: bound only operations that react to
/// cancellation (STYLE.md §8 "`||` waits for the loser").
template <class T>
boost::asio::awaitable<Result<T>> with_timeout(boost::asio::awaitable<T> op,
                                               std::chrono::steady_clock::duration timeout) {
  std::optional<T> value;
  auto done = co_await detail::run_with_timeout(detail::store_into(std::move(op), &value), timeout);
  if (!done) {
    co_return done.error();
  }
  co_return std::move(*value);  // NOLINT(bugprone-unchecked-optional-access): set when done
}

/// The void form of with_timeout.
inline boost::asio::awaitable<Result<void>> with_timeout(
    boost::asio::awaitable<void> op, std::chrono::steady_clock::duration timeout) {
  return detail::run_with_timeout(std::move(op), timeout);
}

/// Runs `op` so that every cancellation the awaiting coroutine admits (total, partial or terminal)
/// reaches `op` as `terminal`. For operations that honour only terminal cancellation — Asio SSL
/// stream operations, Beast's HTTP reads and most composed operations — which must nevertheless
/// stop when the caller is asked to finish gracefully (an idle keep-alive read during a graceful
/// shutdown). `op` runs in a child coroutine on the caller's executor; its result or exception is
/// passed through.
template <class T>
boost::asio::awaitable<T> terminal_on_cancel(boost::asio::awaitable<T> op) {
  std::optional<T> value;
  co_await detail::run_terminal_on_cancel(detail::store_into(std::move(op), &value));
  co_return std::move(*value);  // NOLINT(bugprone-unchecked-optional-access): op returned normally
}

/// The void form of terminal_on_cancel.
inline boost::asio::awaitable<void> terminal_on_cancel(boost::asio::awaitable<void> op) {
  return detail::run_terminal_on_cancel(std::move(op));
}

}  // namespace skiff::async
