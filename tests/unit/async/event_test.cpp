// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/event.hpp"

#include <atomic>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/async/timeout.hpp"

#include "run_async.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using skiff::async::Event;
using skiff::testing::run_async;

TEST_CASE("a wait on a set event completes at once", "[async][event]") {
  asio::io_context ctx;
  Event ev;
  ev.set();
  REQUIRE(ev.is_set());
  run_async(ctx, ev.wait());
  ev.reset();
  REQUIRE_FALSE(ev.is_set());
}

TEST_CASE("set from a foreign thread wakes every waiter, on its own executor", "[async][event]") {
  asio::io_context ctx;
  Event ev;
  std::atomic<int> woken{0};
  std::atomic<bool> on_wrong_thread{false};
  const auto test_thread = std::this_thread::get_id();
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
          co_await ev.wait();
          if (std::this_thread::get_id() != test_thread) {
            on_wrong_thread = true;
          }
          ++woken;
        },
        asio::detached);
  }
  ctx.poll();  // all three are now suspended in wait()
  REQUIRE(woken == 0);
  // The context has no work but the three waits: it must not return before they resume, although
  // set() comes from a thread the context knows nothing about.
  std::thread setter([&] { ev.set(); });
  ctx.run();
  setter.join();
  REQUIRE(woken == 3);
  REQUIRE_FALSE(on_wrong_thread);
}

TEST_CASE("a cancelled wait completes with operation_aborted and leaves the event unset",
          "[async][event]") {
  asio::io_context ctx;
  Event ev;
  auto r = run_async(ctx, skiff::async::with_timeout(ev.wait(), 10ms));
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kTimeout);
  REQUIRE_FALSE(ev.is_set());

  // The error-code form: as_tuple reports the abort instead of throwing.
  auto code = run_async(ctx, [&]() -> asio::awaitable<boost::system::error_code> {
    boost::system::error_code result;
    auto inner = [&]() -> asio::awaitable<void> {
      auto [ec] = co_await ev.async_wait(asio::as_tuple(asio::use_awaitable));
      result = ec;
    };
    std::ignore = co_await skiff::async::with_timeout(inner(), 10ms);
    co_return result;
  }());
  REQUIRE(code == asio::error::operation_aborted);

  // The event still works after cancelled waits.
  ev.set();
  run_async(ctx, ev.wait());
}
