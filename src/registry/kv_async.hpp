// SPDX-License-Identifier: Apache-2.0
#pragma once

// Awaiting kv::Store's callback API from a coroutine (private to src/registry). kv completes writes
// on its writer thread (or, for requests rejected up front, on the calling thread before returning);
// the completion is posted back to the awaiting coroutine's executor so it always resumes there and
// never inline inside kv.

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/base/error.hpp"
#include "skiff/kv/store.hpp"

namespace skiff::registry::detail {

/// `start` is called with a kv::Callback<T>; the coroutine resumes with the Result it receives.
template <class T, class Start>
boost::asio::awaitable<Result<T>> kv_call(Start start) {
  auto ex = co_await boost::asio::this_coro::executor;
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(Result<T>)>(
      [ex](auto handler, Start start_fn) mutable {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto target = boost::asio::get_associated_executor(*shared, ex);
        start_fn([shared, target](Result<T> result) mutable {
          boost::asio::post(target, [shared, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
          });
        });
      },
      boost::asio::use_awaitable, std::move(start));
}

// Not a coroutine itself: the request moves into the lambda here and the lambda by value into
// kv_call's frame (GCC 12 mishandles init-captures of a coroutine's own parameters).
inline boost::asio::awaitable<Result<kv::TxnResponse>> txn(kv::Store& store, kv::TxnRequest request) {
  return kv_call<kv::TxnResponse>(
      [&store, request = std::move(request)](kv::Callback<kv::TxnResponse> done) mutable {
        store.txn(std::move(request), std::move(done));
      });
}

}  // namespace skiff::registry::detail
