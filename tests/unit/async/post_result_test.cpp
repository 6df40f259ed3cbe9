// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/post_result.hpp"

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include "skiff/async/timeout.hpp"
#include "skiff/kv/store.hpp"

#include "run_async.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using skiff::async::post_result;
using skiff::testing::run_async;

TEST_CASE("post_result resumes on the awaiting strand with the value from a foreign thread",
          "[async][post_result]") {
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(pool.get_executor());
  std::thread::id callback_thread;
  std::thread worker;
  auto fut = asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<bool> {
        auto v = co_await post_result<std::string>([&](std::function<void(std::string)> done) {
          worker = std::thread([&callback_thread, done] {
            callback_thread = std::this_thread::get_id();
            done("from worker");
            done("ignored second call");
          });
        });
        co_return v == "from worker" && strand.running_in_this_thread() &&
            std::this_thread::get_id() != callback_thread;
      },
      asio::use_future);
  REQUIRE(fut.get());
  worker.join();
  pool.join();
}

TEST_CASE("post_result keeps the io_context running while the callback is pending",
          "[async][post_result]") {
  asio::io_context ctx;
  std::promise<std::function<void(int)>> handed_over;
  std::atomic<int> result{0};
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        result = co_await post_result<int>(
            [&](std::function<void(int)> done) { handed_over.set_value(std::move(done)); });
      },
      asio::detached);
  // run() would return as soon as the coroutine suspended if nothing tracked work on ctx.
  std::thread runner([&] { ctx.run(); });
  auto done = handed_over.get_future().get();
  done(7);
  runner.join();
  REQUIRE(result == 7);
}

TEST_CASE("post_result reports a dropped callback and a throwing start", "[async][post_result]") {
  asio::io_context ctx;
  REQUIRE_THROWS_AS(
      run_async(ctx, post_result<int>([](std::function<void(int)> done) {
                  std::thread([d = std::move(done)]() mutable { d = nullptr; }).join();
                })),
      std::logic_error);
  REQUIRE_THROWS_WITH(run_async(ctx, post_result<int>([](std::function<void(int)>) {
                                  throw std::runtime_error("start failed");
                                })),
                      "start failed");
}

TEST_CASE("a cancelled post_result throws at once and ignores the late callback",
          "[async][post_result]") {
  asio::io_context ctx;
  std::function<void(int)> kept;
  auto r = run_async(
      ctx, skiff::async::with_timeout(
               post_result<int>([&](std::function<void(int)> done) { kept = done; }), 5ms));
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kTimeout);
  std::thread([&] { kept(1); }).join();  // late: ignored, no crash
  ctx.restart();
  ctx.poll();
}

TEST_CASE("post_result bridges kv::Store writes completed on its writer thread",
          "[async][post_result]") {
  skiff::testing::TempDir dir;
  skiff::kv::StoreOptions options;
  options.path = dir.file("kv.db");
  auto store = skiff::kv::Store::open(options);
  REQUIRE(store.has_value());
  asio::io_context ctx;
  auto strand = asio::make_strand(ctx);
  auto fut = asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<std::pair<std::int64_t, bool>> {
        auto put = co_await post_result<skiff::Result<skiff::kv::PutResponse>>([&](auto done) {
          skiff::kv::PutRequest request;
          request.key = "/registry/k";
          request.value = "v";
          (*store)->put(std::move(request), std::move(done));
        });
        co_return std::pair{put ? put->revision : -1, strand.running_in_this_thread()};
      },
      asio::use_future);
  ctx.run();
  auto [revision, on_strand] = fut.get();
  REQUIRE(revision == 2);
  REQUIRE(on_strand);
}
