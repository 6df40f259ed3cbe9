// SPDX-License-Identifier: Apache-2.0
#pragma once

// A bridge from callback-style APIs that complete on their own threads (kv::Store writes complete
// on its writer thread, gRPC callbacks on gRPC threads) to coroutines: post_result<T>(start) calls
// `start(callback)`, suspends, and resumes the awaiting coroutine on its own executor with the
// value the callback was given, wherever the callback ran.
//
//   auto put = co_await async::post_result<Result<kv::PutResponse>>(
//       [&](auto done) { store.put(key, value, std::move(done)); });

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/async/executor.hpp"

namespace skiff::async {

namespace detail {

using ResumeHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
struct ResumeState;

/// Resumes one suspended coroutine exactly once, from any thread. Copyable; copies share the state.
/// If every copy is destroyed without the coroutine having been resumed, it resumes with a
/// std::logic_error ("callback destroyed without being called").
class Resumer {
public:
  Resumer(Executor executor, ResumeHandler handler);
  /// True for the first caller across all copies (and false after a cancellation won the race):
  /// only that caller may store a value and then call resume().
  bool claim() const;
  /// Resumes the coroutine (posted to its executor), rethrowing `error` there if set. Call once,
  /// after a successful claim().
  void resume(std::exception_ptr error = nullptr) const;

private:
  std::shared_ptr<ResumeState> state_;
};

}  // namespace detail

/// Calls `start(callback)` from the awaiting coroutine, where `callback` is a copyable
/// `std::function<void(T)>`, then suspends until the callback runs (on any thread) and returns the
/// value it was given, resumed on the awaiting coroutine's executor (strand included).
///
/// - Only the first call of the callback counts; later calls are ignored.
/// - If `start` throws, the exception propagates from the co_await.
/// - If every copy of the callback is destroyed uncalled, the co_await throws std::logic_error.
/// - Cancellation (any type) abandons the wait, not the operation: the co_await throws
///   `system_error(operation_aborted)` at once and the callback, when it comes, is ignored. Callers
///   that must know the outcome of a write should not cancel it.
/// - While suspended it holds work on the executor, so the io_context does not run out of work.
template <class T, class Start>
boost::asio::awaitable<T> post_result(Start start) {
  auto value = std::make_shared<std::optional<T>>();
  // A named initiation, moved in: GCC 12 destroys a prvalue lambda passed to async_initiate inside
  // a co_await expression twice (a shared_ptr capture loses a reference; seen with ASan).
  auto initiation = [&start, value](auto handler) {
    Executor ex = boost::asio::get_associated_executor(handler);
    detail::Resumer resumer(std::move(ex), detail::ResumeHandler(std::move(handler)));
    try {
      start(std::function<void(T)>([resumer, value](T result) {
        if (resumer.claim()) {
          value->emplace(std::move(result));
          resumer.resume();
        }
      }));
    } catch (...) {
      if (resumer.claim()) {
        resumer.resume(std::current_exception());
      }
    }
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                       void(std::exception_ptr)>(std::move(initiation),
                                                                 boost::asio::use_awaitable);
  co_return std::move(**value);
}

}  // namespace skiff::async
