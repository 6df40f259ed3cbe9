// SPDX-License-Identifier: Apache-2.0
#pragma once

// A manual-reset event coroutines can await: the "ready" signal between components (STYLE.md §9)
// and the "something changed" wake-up of a watch stream. Setting it wakes every waiter; it stays
// set until reset().

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "skiff/async/executor.hpp"

namespace skiff::async {

namespace detail {
class Waiter;
/// The type-erased completion every waiting operation in this module stores.
using WaitHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
}  // namespace detail

/// A manual-reset event.
///
/// @par Thread safety
/// Every method may be called from any thread. A waiter resumes on its own handler's executor (for
/// a coroutine: the executor it runs on), never inside set().
///
/// @par Cancellation
/// A wait supports every cancellation type: it then completes with `operation_aborted` (thrown by
/// wait()) and leaves the event as it is. While a wait is pending, it keeps its executor's context
/// from running out of work, so set() may come from a thread the waiter's io_context knows nothing
/// about.
///
/// Destroying the event completes pending waits with `operation_aborted`.
class Event {
public:
  Event() = default;
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Sets the event and wakes every current waiter. Waits started while it is set complete at once.
  void set();
  /// Clears the event; later waits suspend until the next set().
  void reset();
  bool is_set() const;

  /// Completes with no error once the event is set, or with `operation_aborted` when cancelled.
  /// Signature `void(boost::system::error_code)`; e.g. `as_tuple(use_awaitable)` for a no-throw
  /// wait.
  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          Executor ex = boost::asio::get_associated_executor(handler);
          start_wait(std::move(ex), detail::WaitHandler(std::move(handler)));
        },
        token);
  }

  /// Coroutine form of async_wait: returns once set, throws `system_error(operation_aborted)` when
  /// cancelled.
  boost::asio::awaitable<void> wait();

private:
  void start_wait(Executor executor, detail::WaitHandler handler);

  mutable std::mutex mutex_;
  bool set_ = false;
  std::vector<std::shared_ptr<detail::Waiter>> waiters_;
};

}  // namespace skiff::async
