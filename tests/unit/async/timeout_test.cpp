// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/timeout.hpp"

#include <atomic>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "skiff/async/event.hpp"
#include "skiff/async/task_group.hpp"

#include "run_async.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using skiff::async::with_timeout;
using skiff::testing::run_async;

namespace {

asio::awaitable<int> answer_after(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
  co_return 42;
}

// Waits an hour unless cancelled; records whether it was cancelled (it then still finishes
// normally).
asio::awaitable<void> hour(std::atomic<bool>* cancelled) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  *cancelled = ec == asio::error::operation_aborted;
}

// The same, but a cancellation ends it with the usual operation_aborted exception.
asio::awaitable<void> hour_throwing(std::atomic<bool>* cancelled) {
  co_await hour(cancelled);
  if (*cancelled) {
    throw boost::system::system_error(asio::error::operation_aborted);
  }
}

}  // namespace

TEST_CASE("with_timeout returns the value of an operation that finishes in time",
          "[async][timeout]") {
  asio::io_context ctx;
  auto r = run_async(ctx, with_timeout(answer_after(1ms), std::chrono::hours(1)));
  REQUIRE(r.has_value());
  REQUIRE(*r == 42);
}

TEST_CASE("with_timeout cancels a slow operation and reports kTimeout", "[async][timeout]") {
  asio::io_context ctx;
  std::atomic<bool> cancelled{false};
  auto r = run_async(ctx, with_timeout(hour(&cancelled), 5ms));
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kTimeout);
  REQUIRE(cancelled);  // the loser was cancelled and had finished before with_timeout returned
}

TEST_CASE("with_timeout propagates an exception without waiting for the timer",
          "[async][timeout]") {
  asio::io_context ctx;
  auto failing = []() -> asio::awaitable<int> {
    throw std::runtime_error("boom");
    co_return 0;
  };
  // An hour-long timeout: if with_timeout waited for it, run_async's limit would fail the test.
  REQUIRE_THROWS_WITH(run_async(ctx, with_timeout(failing(), std::chrono::hours(1)), 10s), "boom");
}

TEST_CASE("with_timeout passes the caller's cancellation on and reports kCancelled",
          "[async][timeout]") {
  asio::io_context ctx;
  skiff::async::TaskGroup group;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> started{false};
  std::optional<skiff::Reason> reason;
  group.spawn(asio::make_strand(ctx), [&]() -> asio::awaitable<void> {
    // Total cancellation, admitted here, must reach the inner op too.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    started = true;
    auto r = co_await with_timeout(hour_throwing(&cancelled), std::chrono::hours(1));
    reason = r ? std::nullopt : std::optional(r.error().reason);
  });
  run_async(ctx, [&]() -> asio::awaitable<void> {
    while (!started) {
      asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    group.cancel(asio::cancellation_type::total);
    co_await group.join();
  }());
  REQUIRE(cancelled);
  REQUIRE(reason == skiff::Reason::kCancelled);
}
