// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/timeout.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace skiff::async::detail {

namespace {

// The co_spawned child's own cancellation state would filter out everything but `terminal`;
// whatever reaches the group was already admitted by the awaiting coroutine's filter, so pass every
// type on.
boost::asio::awaitable<void> pass_all_cancellation(boost::asio::awaitable<void> op) {
  co_await boost::asio::this_coro::reset_cancellation_state(
      boost::asio::enable_total_cancellation());
  co_await std::move(op);
}

// In: everything the caller let through. Out: what the operation is sure to act on.
boost::asio::awaitable<void> terminal_child(boost::asio::awaitable<void> op) {
  co_await boost::asio::this_coro::reset_cancellation_state(
      boost::asio::enable_total_cancellation(), [](boost::asio::cancellation_type type) {
        return type != boost::asio::cancellation_type::none
                   ? boost::asio::cancellation_type::terminal
                   : boost::asio::cancellation_type::none;
      });
  co_await std::move(op);
}

}  // namespace

boost::asio::awaitable<Result<void>> run_with_timeout(boost::asio::awaitable<void> op,
                                                      std::chrono::steady_clock::duration timeout) {
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex, timeout);
  // wait_for_one, not the `||` operator: `||` waits for one *success*, so an op failing at once
  // would sit out the whole timeout.
  auto [order, op_error, timer_ec] =
      co_await boost::asio::experimental::make_parallel_group(
          boost::asio::co_spawn(ex, pass_all_cancellation(std::move(op)), boost::asio::deferred),
          timer.async_wait(boost::asio::deferred))
          .async_wait(boost::asio::experimental::wait_for_one(), boost::asio::use_awaitable);
  std::ignore = timer_ec;
  auto state = co_await boost::asio::this_coro::cancellation_state;
  const bool cancelled = state.cancelled() != boost::asio::cancellation_type::none;
  if (order[0] == 0) {
    if (!op_error) {
      co_return Result<void>{};
    }
    if (cancelled) {
      co_return errors::cancelled("operation cancelled");
    }
    std::rethrow_exception(op_error);
  }
  if (cancelled) {
    co_return errors::cancelled("operation cancelled");
  }
  co_return errors::make(Reason::kTimeout, "operation timed out");
}

boost::asio::awaitable<void> run_terminal_on_cancel(boost::asio::awaitable<void> op) {
  auto ex = co_await boost::asio::this_coro::executor;
  // A named coroutine, not a capturing lambda: GCC 12 double-destroys an awaitable that a lambda
  // coroutine spawned with use_awaitable co_awaits straight out of its capture (seen with ASan).
  co_await boost::asio::co_spawn(ex, terminal_child(std::move(op)), boost::asio::use_awaitable);
}

}  // namespace skiff::async::detail
