// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/task_group.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/base/log.hpp"

#include "waiter.hpp"

namespace skiff::async {

namespace detail {

struct Child {
  explicit Child(Executor ex) : executor(std::move(ex)) {}
  Executor executor;
  boost::asio::cancellation_signal signal;
  // Written by the completion and read by cancel()'s emitters, both on `executor` (hence the
  // "executor should be a strand" rule): once set, the coroutine's cancellation state is gone and
  // the signal must not be emitted any more.
  bool done = false;
  std::list<std::shared_ptr<Child>>::iterator position;
};

// The co_spawn completion handler of a child. Running it records the outcome; destroying it (right
// after it ran, on the child's executor, or when a context is destroyed with the child still
// suspended) removes the child from the group. The group pointer is the "consigned" guard:
// moved-from copies carry none.
class ChildCompletion {
public:
  ChildCompletion(TaskGroup* group, std::shared_ptr<Child> child)
      : group_(group), child_(std::move(child)) {}
  ChildCompletion(ChildCompletion&& other) noexcept
      : group_(std::exchange(other.group_, nullptr)),
        child_(std::move(other.child_)),
        error_(std::move(other.error_)) {}
  ChildCompletion(const ChildCompletion&) = delete;
  ChildCompletion& operator=(const ChildCompletion&) = delete;
  ChildCompletion& operator=(ChildCompletion&&) = delete;
  ~ChildCompletion() {
    if (group_ != nullptr) {
      group_->finish(child_, std::move(error_));
    }
  }

  void operator()(std::exception_ptr error) { error_ = std::move(error); }

private:
  TaskGroup* group_;
  std::shared_ptr<Child> child_;
  std::exception_ptr error_;
};

}  // namespace detail

namespace {

void emit_later(const std::shared_ptr<detail::Child>& child, boost::asio::cancellation_type type) {
  // Posted, never run inline: the child's cancellation state may only be touched on its executor,
  // and never from inside the child's own stack (cancel() may be called by a child).
  boost::asio::post(child->executor, [child, type] {
    if (!child->done) {
      child->signal.emit(type);
    }
  });
}

}  // namespace

TaskGroup::TaskGroup() = default;

TaskGroup::~TaskGroup() {
  for (auto& w : waiters_) {
    w->complete(boost::asio::error::operation_aborted);
  }
}

void TaskGroup::spawn(Executor executor, boost::asio::awaitable<void> task) {
  auto child = std::make_shared<detail::Child>(executor);
  boost::asio::cancellation_type sticky;
  {
    const std::lock_guard lock(mutex_);
    child->position = children_.insert(children_.end(), child);
    sticky = cancelled_;
  }
  boost::asio::co_spawn(executor, std::move(task),
                        boost::asio::bind_cancellation_slot(child->signal.slot(),
                                                            detail::ChildCompletion(this, child)));
  if (sticky != boost::asio::cancellation_type::none) {
    // Posted after the child's start on the same (serial) executor, so the child has already run up
    // to its first suspension, past any reset_cancellation_state(), and sees this emission.
    emit_later(child, sticky);
  }
}

void TaskGroup::cancel(boost::asio::cancellation_type type) {
  std::vector<std::shared_ptr<detail::Child>> children;
  {
    const std::lock_guard lock(mutex_);
    cancelled_ = cancelled_ | type;
    children.assign(children_.begin(), children_.end());
  }
  for (auto& child : children) {
    emit_later(child, type);
  }
}

void TaskGroup::finish(const std::shared_ptr<detail::Child>& child, std::exception_ptr error) {
  child->done = true;
  std::vector<std::shared_ptr<detail::Waiter>> waiters;
  {
    const std::lock_guard lock(mutex_);
    children_.erase(child->position);
    if (error && !first_error_) {
      first_error_ = error;
    }
    if (children_.empty()) {
      waiters.swap(waiters_);
    }
  }
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log::error("async", "task group child failed: {}", e.what());
    } catch (...) {
      log::error("async", "task group child failed with a non-standard exception");
    }
  }
  for (auto& w : waiters) {
    w->complete({});
  }
}

void TaskGroup::start_wait(Executor executor, detail::WaitHandler handler) {
  auto waiter = detail::Waiter::start(std::move(executor), std::move(handler));
  const std::lock_guard lock(mutex_);
  if (children_.empty()) {
    waiter->complete({});
    return;
  }
  std::erase_if(waiters_, [](const auto& w) { return w->done(); });
  waiters_.push_back(std::move(waiter));
}

boost::asio::awaitable<void> TaskGroup::join() {
  co_await async_wait(boost::asio::use_awaitable);
  std::exception_ptr error;
  {
    const std::lock_guard lock(mutex_);
    error = std::exchange(first_error_, nullptr);
  }
  if (error) {
    std::rethrow_exception(error);
  }
}

std::size_t TaskGroup::size() const {
  const std::lock_guard lock(mutex_);
  return children_.size();
}

}  // namespace skiff::async
