// SPDX-License-Identifier: Apache-2.0
#pragma once

// Awaiting kv::Store's callback API from a coroutine (private to src/registry). kv completes writes
// on its writer thread (or, for requests rejected up front, on the calling thread before returning);
// the completion is posted back to the awaiting coroutine's executor so it always resumes there and
// never inline inside kv.

#include <memory>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "skiff/async/post_result.hpp"

#include "skiff/base/error.hpp"
#include "skiff/kv/store.hpp"

namespace skiff::registry::detail {

/// `start` is called with a kv::Callback<T>; the coroutine resumes, on its own executor, with the
/// Result it receives (async::post_result does the cross-thread hand-back).
template <class T, class Start>
boost::asio::awaitable<Result<T>> kv_call(Start start) {
  return async::post_result<Result<T>>(std::move(start));
}

// Not a coroutine itself: the request moves into the lambda here and the lambda by value into
// kv_call's frame (GCC 12 mishandles init-captures of a coroutine's own parameters).
inline boost::asio::awaitable<Result<kv::TxnResponse>> txn(kv::Store& store, kv::TxnRequest request) {
  return kv_call<kv::TxnResponse>(
      [&store, request = std::move(request)](std::function<void(Result<kv::TxnResponse>)> done) mutable {
        store.txn(std::move(request), kv::Callback<kv::TxnResponse>(std::move(done)));
      });
}

}  // namespace skiff::registry::detail
