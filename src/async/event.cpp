// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/event.hpp"

#include <algorithm>

#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "waiter.hpp"

namespace skiff::async {

Event::~Event() {
  for (auto& w : waiters_) {
    w->complete(boost::asio::error::operation_aborted);
  }
}

void Event::set() {
  std::vector<std::shared_ptr<detail::Waiter>> waiters;
  {
    const std::lock_guard lock(mutex_);
    set_ = true;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) {
    w->complete({});
  }
}

void Event::reset() {
  const std::lock_guard lock(mutex_);
  set_ = false;
}

bool Event::is_set() const {
  const std::lock_guard lock(mutex_);
  return set_;
}

boost::asio::awaitable<void> Event::wait() {
  co_await async_wait(boost::asio::use_awaitable);
}

void Event::start_wait(Executor executor, detail::WaitHandler handler) {
  auto waiter = detail::Waiter::start(std::move(executor), std::move(handler));
  const std::lock_guard lock(mutex_);
  if (set_) {
    waiter->complete({});
    return;
  }
  // Drop waits that were cancelled meanwhile, so a loop of cancelled waits cannot grow the list.
  std::erase_if(waiters_, [](const auto& w) { return w->done(); });
  waiters_.push_back(std::move(waiter));
}

}  // namespace skiff::async
