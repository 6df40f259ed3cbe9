// SPDX-License-Identifier: Apache-2.0
#pragma once

// One suspended wait (Event, TaskGroup::join, post_result): completes exactly once, from whichever
// side gets there first — the owner (success) or the waiter's cancellation slot
// (operation_aborted).

#include <memory>
#include <mutex>
#include <optional>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>

#include "skiff/async/event.hpp"

namespace skiff::async::detail {

class Waiter {
public:
  /// Takes over `handler`, tracks work on `executor` (so its context keeps running while we wait)
  /// and hooks the handler's cancellation slot, if it has one.
  static std::shared_ptr<Waiter> start(Executor executor, WaitHandler handler);

  Waiter(Executor executor, WaitHandler handler);
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  /// Posts the handler with `ec` to its executor. Any thread; true if this call completed the wait,
  /// false if it was already complete.
  bool complete(boost::system::error_code ec);
  bool done() const;

private:
  mutable std::mutex mutex_;
  std::optional<WaitHandler> handler_;
  Executor executor_;
  boost::asio::cancellation_slot slot_;
};

}  // namespace skiff::async::detail
