// SPDX-License-Identifier: Apache-2.0
#pragma once

// TaskGroup: structured concurrency for a dynamic set of child coroutines (HTTP connections, watch
// streams, pod workers). A component spawns children into its group, cancels them all with one
// cancellation type, and awaits them all before its run() returns (STYLE.md §8 "Structured
// concurrency" 3). Modelled on the task_group of Beast's advanced-server-flex-awaitable example,
// written for Boost 1.81 with bind_cancellation_slot and a consigned-style completion (no
// cancel_after).

#include <cstddef>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/system/error_code.hpp>

#include "skiff/async/event.hpp"
#include "skiff/async/executor.hpp"

namespace skiff::async {

namespace detail {
struct Child;
class ChildCompletion;

/// Runs `f()` to completion with `f` kept alive in this frame (a by-value coroutine parameter),
/// which is what makes spawning a capturing lambda safe (STYLE.md §8 "Lambda coroutines").
template <class F>
boost::asio::awaitable<void> invoke_owned(F f) {
  co_await f();
}
}  // namespace detail

/// A set of running child coroutines.
///
/// @par Executors
/// Each child runs on the executor given to spawn(), which should be a strand (or the executor of a
/// single-threaded io_context): cancel() delivers the cancellation by dispatching onto that
/// executor, which only serialises with the child if the executor is serial.
///
/// @par Cancellation
/// cancel(type) emits `type` to every running child and is remembered: children spawned later
/// receive it as soon as they start. A child sees the emission through its coroutine's cancellation
/// state, whose default filter passes only `terminal`; a child that wants `total` (Skiff's "finish
/// gracefully", §8) calls `co_await
/// this_coro::reset_cancellation_state(enable_total_cancellation())` first.
///
/// @par Errors
/// An exception that escapes a child is logged (component "async") and the first one is kept;
/// join() rethrows it once every child has finished. A child that must not stop its siblings
/// catches its own.
///
/// @par Thread safety
/// Every method may be called from any thread. The group must outlive its children: destroy it only
/// after join() completed (make it the owner's last data member). The destructor does not wait.
class TaskGroup {
public:
  TaskGroup();
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  /// Starts `task` on `executor` as a child of this group.
  void spawn(Executor executor, boost::asio::awaitable<void> task);

  /// Starts `f()` on `executor`; `f` (e.g. a capturing lambda returning awaitable<void>) is moved
  /// into the child's frame and lives as long as the child.
  template <class F>
    requires std::is_invocable_r_v<boost::asio::awaitable<void>, F&>
  void spawn(Executor executor, F f) {
    spawn(std::move(executor), detail::invoke_owned(std::move(f)));
  }

  /// Emits `type` to every child, now and for children spawned later.
  void cancel(boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal);

  /// Completes once the group has no running children (at once if it has none): with no error, or
  /// with `operation_aborted` if the wait itself was cancelled (the children keep running).
  /// Signature `void(boost::system::error_code)`. Does not rethrow children's exceptions; see
  /// join().
  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          Executor ex = boost::asio::get_associated_executor(handler);
          start_wait(std::move(ex), detail::WaitHandler(std::move(handler)));
        },
        token);
  }

  /// Awaits every child, then rethrows the first exception a child let escape (once; it is
  /// cleared). Throws `system_error(operation_aborted)` if cancelled while waiting.
  boost::asio::awaitable<void> join();

  /// Number of children still running.
  std::size_t size() const;

private:
  friend class detail::ChildCompletion;
  void start_wait(Executor executor, detail::WaitHandler handler);
  void finish(const std::shared_ptr<detail::Child>& child, std::exception_ptr error);

  mutable std::mutex mutex_;
  std::list<std::shared_ptr<detail::Child>> children_;
  boost::asio::cancellation_type cancelled_ = boost::asio::cancellation_type::none;
  std::exception_ptr first_error_;
  std::vector<std::shared_ptr<detail::Waiter>> waiters_;
};

}  // namespace skiff::async
