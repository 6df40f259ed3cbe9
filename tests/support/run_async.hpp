// SPDX-License-Identifier: Apache-2.0
#pragma once

// run_async(ctx, awaitable, limit): runs a coroutine to completion on `ctx` from the test thread
// and returns its value (or rethrows), failing the test if it has not finished within `limit` (the
// role STYLE.md §10 gives skiff::testing::run_async).

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "skiff_test.hpp"

namespace skiff::testing {

template <class T>
T run_async(boost::asio::io_context& ctx, boost::asio::awaitable<T> task,
            std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  bool finished = false;
  std::exception_ptr error;
  std::optional<T> value;
  boost::asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e, T v) {
    finished = true;
    error = e;
    if (!e) {
      value.emplace(std::move(v));
    }
  });
  ctx.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    if (ctx.run_one_for(deadline - std::chrono::steady_clock::now()) == 0 && ctx.stopped()) {
      break;
    }
  }
  REQUIRE(finished);
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*value);
}

inline void run_async(boost::asio::io_context& ctx, boost::asio::awaitable<void> task,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  bool finished = false;
  std::exception_ptr error;
  boost::asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e) {
    finished = true;
    error = e;
  });
  ctx.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    if (ctx.run_one_for(deadline - std::chrono::steady_clock::now()) == 0 && ctx.stopped()) {
      break;
    }
  }
  REQUIRE(finished);
  if (error) {
    std::rethrow_exception(error);
  }
}

}  // namespace skiff::testing
