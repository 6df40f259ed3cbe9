// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/task_group.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/async/event.hpp"
#include "skiff/async/timeout.hpp"

#include "run_async.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using skiff::async::Event;
using skiff::async::TaskGroup;
using skiff::testing::run_async;

namespace {

// Sleeps "forever" (an hour) unless cancelled; records how it ended.
asio::awaitable<void> sleeper(std::atomic<int>* aborted, std::atomic<int>* started) {
  ++*started;
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) {
    ++*aborted;
  }
}

// Like sleeper, but admits total cancellation first (STYLE.md §8: total = finish gracefully).
asio::awaitable<void> total_sleeper(std::atomic<int>* aborted, std::atomic<int>* started) {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_await sleeper(aborted, started);
}

}  // namespace

TEST_CASE("join waits for every child, which run on their own strands", "[async][task_group]") {
  asio::thread_pool pool(2);
  TaskGroup group;
  std::atomic<int> done{0};
  std::atomic<int> on_strand{0};
  Event release;
  for (int i = 0; i < 20; ++i) {
    auto strand = asio::make_strand(pool.get_executor());
    group.spawn(strand, [&, strand]() -> asio::awaitable<void> {
      co_await release.wait();
      if (strand.running_in_this_thread()) {
        ++on_strand;
      }
      ++done;
    });
  }
  REQUIRE(group.size() == 20);
  asio::io_context ctx;
  // join() from another context: suspended until all children finish.
  run_async(ctx, [&]() -> asio::awaitable<void> {
    REQUIRE(group.size() == 20);
    release.set();
    co_await group.join();
    REQUIRE(done == 20);
    REQUIRE(group.size() == 0);
  }());
  REQUIRE(on_strand == 20);
  pool.join();
}

TEST_CASE("cancel(terminal) stops blocked children and join returns", "[async][task_group]") {
  asio::thread_pool pool(2);
  TaskGroup group;
  std::atomic<int> aborted{0};
  std::atomic<int> started{0};
  for (int i = 0; i < 10; ++i) {
    group.spawn(asio::make_strand(pool.get_executor()), sleeper(&aborted, &started));
  }
  REQUIRE(skiff::testing::eventually([&] { return started == 10; }));
  std::thread canceller([&] { group.cancel(asio::cancellation_type::terminal); });
  asio::io_context ctx;
  run_async(ctx, group.join());
  canceller.join();
  REQUIRE(aborted == 10);
  pool.join();
}

TEST_CASE("total cancellation reaches only children that admit it", "[async][task_group]") {
  asio::io_context ctx;
  TaskGroup group;
  std::atomic<int> plain_aborted{0};
  std::atomic<int> total_aborted{0};
  std::atomic<int> started{0};
  group.spawn(asio::make_strand(ctx), sleeper(&plain_aborted, &started));
  group.spawn(asio::make_strand(ctx), total_sleeper(&total_aborted, &started));
  run_async(ctx, [&]() -> asio::awaitable<void> {
    while (started < 2) {
      asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    group.cancel(asio::cancellation_type::total);
    // The total-admitting child ends; the default-filtered one keeps sleeping.
    while (total_aborted == 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    REQUIRE(group.size() == 1);
    REQUIRE(plain_aborted == 0);
    group.cancel(asio::cancellation_type::terminal);
    co_await group.join();
  }());
  REQUIRE(plain_aborted == 1);
  REQUIRE(total_aborted == 1);
}

TEST_CASE("a child spawned after cancel() receives the cancellation", "[async][task_group]") {
  asio::io_context ctx;
  TaskGroup group;
  group.cancel(asio::cancellation_type::total);
  std::atomic<int> aborted{0};
  std::atomic<int> started{0};
  group.spawn(asio::make_strand(ctx), total_sleeper(&aborted, &started));
  run_async(ctx, group.join());
  REQUIRE(aborted == 1);
}

TEST_CASE("join rethrows the first exception a child let escape, after all finished",
          "[async][task_group]") {
  asio::io_context ctx;
  TaskGroup group;
  Event release;
  std::atomic<bool> sibling_done{false};
  group.spawn(asio::make_strand(ctx), []() -> asio::awaitable<void> {
    throw std::runtime_error("child failed");
    co_return;
  });
  group.spawn(asio::make_strand(ctx), [&]() -> asio::awaitable<void> {
    co_await release.wait();
    sibling_done = true;
  });
  REQUIRE_THROWS_WITH(run_async(ctx,
                                [&]() -> asio::awaitable<void> {
                                  release.set();
                                  co_await group.join();
                                }()),
                      "child failed");
  REQUIRE(sibling_done);
  // Reported once: a second join has nothing to rethrow.
  run_async(ctx, group.join());
}

TEST_CASE("a spawned capturing lambda keeps its captures alive", "[async][task_group]") {
  asio::io_context ctx;
  TaskGroup group;
  Event release;
  std::weak_ptr<std::string> watch;
  {
    auto text = std::make_shared<std::string>("captured");
    watch = text;
    group.spawn(asio::make_strand(ctx), [text, &release]() -> asio::awaitable<void> {
      co_await release.wait();
      REQUIRE(*text == "captured");
    });
  }
  ctx.poll();
  REQUIRE_FALSE(watch.expired());  // owned by the child's frame, not by the caller's scope
  release.set();
  run_async(ctx, group.join());
  REQUIRE(watch.expired());
}

TEST_CASE("join on an empty group completes at once and a cancelled join leaves children running",
          "[async][task_group]") {
  asio::io_context ctx;
  TaskGroup group;
  run_async(ctx, group.join());
  Event release;
  group.spawn(asio::make_strand(ctx), [&]() -> asio::awaitable<void> { co_await release.wait(); });
  auto r = run_async(ctx, skiff::async::with_timeout(group.join(), 10ms));
  REQUIRE_FALSE(r.has_value());
  REQUIRE(group.size() == 1);
  release.set();
  run_async(ctx, group.join());
  REQUIRE(group.size() == 0);
}
