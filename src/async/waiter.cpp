// SPDX-License-Identifier: Apache-2.0
#include "waiter.hpp"

#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

namespace skiff::async::detail {

Waiter::Waiter(Executor executor, WaitHandler handler)
    : handler_(std::move(handler)),
      // A tracked executor is the work guard: without it an io_context whose only coroutine waits
      // for a set() from a foreign thread would run out of work and return.
      executor_(boost::asio::prefer(std::move(executor),
                                    boost::asio::execution::outstanding_work.tracked)),
      slot_(boost::asio::get_associated_cancellation_slot(*handler_)) {}

std::shared_ptr<Waiter> Waiter::start(Executor executor, WaitHandler handler) {
  auto waiter = std::make_shared<Waiter>(std::move(executor), std::move(handler));
  if (waiter->slot_.is_connected()) {
    // The slot handler holds a weak reference: a completed waiter must not be kept alive by a slot
    // the awaiting frame reuses for its next operation.
    const std::weak_ptr<Waiter> weak = waiter;
    waiter->slot_.assign([weak](boost::asio::cancellation_type type) {
      if (type == boost::asio::cancellation_type::none) {
        return;
      }
      if (auto w = weak.lock()) {
        w->complete(boost::asio::error::operation_aborted);
      }
    });
  }
  return waiter;
}

bool Waiter::complete(boost::system::error_code ec) {
  std::optional<WaitHandler> handler;
  Executor executor;
  {
    const std::lock_guard lock(mutex_);
    if (!handler_) {
      return false;
    }
    handler.swap(handler_);
    // The work count moves with the completion: a finished waiter that its owner still lists must
    // not keep the context running.
    executor = std::move(executor_);
    executor_ = Executor{};
  }
  // Always posted: complete() may run inside set() on a foreign thread or inside a cancellation
  // emit(); the slot may only be cleared once that emit has returned, i.e. on the waiter's
  // executor.
  auto slot = slot_;
  boost::asio::post(executor, [h = std::move(*handler), ec, slot, work = executor]() mutable {
    if (slot.is_connected()) {
      slot.clear();
    }
    std::move(h)(ec);
  });
  return true;
}

bool Waiter::done() const {
  const std::lock_guard lock(mutex_);
  return !handler_.has_value();
}

}  // namespace skiff::async::detail
