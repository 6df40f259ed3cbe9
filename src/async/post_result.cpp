// SPDX-License-Identifier: Apache-2.0
#include "skiff/async/post_result.hpp"

#include <atomic>
#include <stdexcept>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/system_error.hpp>

namespace skiff::async::detail {

struct ResumeState {
  ResumeState(Executor ex, ResumeHandler h)
      : executor(
            boost::asio::prefer(std::move(ex), boost::asio::execution::outstanding_work.tracked)),
        handler(std::move(h)),
        slot(boost::asio::get_associated_cancellation_slot(*handler)) {}
  ResumeState(const ResumeState&) = delete;
  ResumeState& operator=(const ResumeState&) = delete;

  ~ResumeState() {
    // Every callback copy is gone and nobody resumed: the callee dropped it, which is a bug there.
    if (!claimed.exchange(true)) {
      try {
        resume_with(std::make_exception_ptr(
            std::logic_error("async::post_result: callback destroyed without being called")));
      } catch (...) {
        // Out of memory while posting: the coroutine stays suspended; nothing else can be done
        // here.
      }
    }
  }

  // Only the claimant calls this, so the handler is ours alone.
  void resume_with(std::exception_ptr error) {
    if (!handler) {
      return;
    }
    auto h = std::move(*handler);
    handler.reset();
    auto s = slot;
    // The tracked executor moves into the posted function, so the work it counts ends with the
    // resumption even while callback copies (and so this state) live on.
    auto ex = std::move(executor);
    executor = Executor{};
    boost::asio::post(ex, [h = std::move(h), error, s, work = ex]() mutable {
      if (s.is_connected()) {
        s.clear();
      }
      std::move(h)(error);
    });
  }

  std::atomic<bool> claimed{false};
  Executor executor;  // tracked: the work guard while the callee holds the callback
  std::optional<ResumeHandler> handler;
  boost::asio::cancellation_slot slot;
};

Resumer::Resumer(Executor executor, ResumeHandler handler)
    : state_(std::make_shared<ResumeState>(std::move(executor), std::move(handler))) {
  if (state_->slot.is_connected()) {
    const std::weak_ptr<ResumeState> weak = state_;
    state_->slot.assign([weak](boost::asio::cancellation_type type) {
      if (type == boost::asio::cancellation_type::none) {
        return;
      }
      if (auto s = weak.lock(); s && !s->claimed.exchange(true)) {
        s->resume_with(std::make_exception_ptr(
            boost::system::system_error(boost::asio::error::operation_aborted)));
      }
    });
  }
}

bool Resumer::claim() const {
  return !state_->claimed.exchange(true);
}

void Resumer::resume(std::exception_ptr error) const {
  state_->resume_with(std::move(error));
}

}  // namespace skiff::async::detail
