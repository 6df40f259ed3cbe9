// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <utility>

#include "shared.hpp"

namespace skiff::etcd {

Hub::Hub(int threads, std::chrono::milliseconds tick) : tick_(tick) {
  threads = std::max(threads, 1);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
  threads_.emplace_back([this] { timer(); });
}

Hub::~Hub() { stop_threads(); }

void Hub::post(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_threads_) return;
    queue_.push_back(std::move(work));
  }
  cv_.notify_all();
}

bool Hub::add(const std::shared_ptr<Stoppable>& stream) {
  std::lock_guard lock(mu_);
  if (stopping_streams_) return false;
  streams_.emplace(stream.get(), stream);
  return true;
}

void Hub::remove(const Stoppable* stream) {
  std::lock_guard lock(mu_);
  streams_.erase(stream);
}

void Hub::stop_streams() {
  std::vector<std::shared_ptr<Stoppable>> streams;
  {
    std::lock_guard lock(mu_);
    stopping_streams_ = true;
    for (auto& [key, weak] : streams_) {
      if (auto stream = weak.lock()) streams.push_back(std::move(stream));
    }
  }
  for (auto& stream : streams) stream->stop();
}

void Hub::stop_threads() {
  {
    std::lock_guard lock(mu_);
    if (stopping_threads_ && threads_.empty()) return;
    stopping_threads_ = true;
  }
  cv_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  queue_.clear();
}

void Hub::worker() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_threads_ || !queue_.empty(); });
    if (stopping_threads_) return;
    auto work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work();
    work = nullptr;  // drop captured references outside the lock
    lock.lock();
  }
}

void Hub::timer() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, tick_, [this] { return stopping_threads_; });
    if (stopping_threads_) return;
    std::vector<std::shared_ptr<Stoppable>> streams;
    for (auto& [key, weak] : streams_) {
      if (auto stream = weak.lock()) streams.push_back(std::move(stream));
    }
    lock.unlock();
    for (auto& stream : streams) stream->tick();
    streams.clear();
    lock.lock();
  }
}

}  // namespace skiff::etcd
