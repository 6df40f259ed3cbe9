// SPDX-License-Identifier: Apache-2.0
#include "checkpointer.hpp"

#include <pthread.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "skiff/base/log.hpp"

namespace skiff::kv {

namespace {
constexpr std::string_view kComponent = "kv";
// Pause between tries of a run someone waits for (a checkpoint of a few frames takes ~0.1 ms).
constexpr auto kRetryPause = std::chrono::milliseconds(2);
}  // namespace

Checkpointer::Checkpointer(std::string path, std::int64_t size_limit)
    : path_(std::move(path)), size_limit_(size_limit) {}

Checkpointer::~Checkpointer() {
  stop();
}

void Checkpointer::start() {
  db_ = sql::Connection::open(path_, SQLITE_OPEN_READWRITE);
  // PASSIVE checkpoints never wait; TRUNCATE (only for an oversized idle WAL) gives up at once
  // rather than hold off the writer.
  sqlite3_busy_timeout(db_->handle(), 0);
  // This connection never commits, but make sure it never checkpoints on its own either.
  sqlite3_wal_autocheckpoint(db_->handle(), 0);
  // A connection attaches to the WAL with its first read; until then a checkpoint through it does
  // nothing (and reports -1 frames).
  db_->query_int("SELECT count(*) FROM meta");
  thread_ = std::thread([this] { run(); });
}

void Checkpointer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  db_.reset();
}

void Checkpointer::request() {
  {
    std::lock_guard lock(mu_);
    if (requested_ || stopping_) {
      return;
    }
    requested_ = true;
    busy_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void Checkpointer::request_full(std::function<void()> done,
                                std::chrono::steady_clock::time_point retry_until) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      requested_ = true;
      full_ = true;
      busy_.store(true, std::memory_order_release);
      if (done) {
        waiting_.push_back(std::move(done));
        retry_until_ = std::max(retry_until_, retry_until);
      }
      done = nullptr;
    }
  }
  if (done) {
    done();  // stopping: closing the last connection checkpoints anyway; still answer
    return;
  }
  cv_.notify_one();
}

void Checkpointer::request_trim() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
    trim_ = true;
    busy_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

bool Checkpointer::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return !busy_.load() || stopping_; });
}

void Checkpointer::run() {
  pthread_setname_np(pthread_self(), "kv-checkpoint");
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return requested_ || stopping_; });
    if (!requested_ && stopping_) {
      break;
    }
    const bool full = full_;
    const bool trim = trim_;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    const auto retry_until = std::exchange(retry_until_, {});
    requested_ = full_ = trim_ = false;
    lock.unlock();
    bool complete = checkpoint_once(full);
    // Someone waits for the file to hold everything: a run that lost the race for the checkpoint
    // lock to the writer's tail checkpoint, or that a commit overtook, is tried again shortly.
    while (!complete && !waiting.empty() &&
           std::chrono::steady_clock::now() + kRetryPause < retry_until) {
      lock.lock();
      // Idle between tries: the writer's back-pressure wait (wait_idle) goes on rather than sit
      // out the retries.
      if (!requested_) {
        busy_.store(false, std::memory_order_release);
        idle_cv_.notify_all();
      }
      const bool stopping = cv_.wait_for(lock, kRetryPause, [&] { return stopping_; });
      busy_.store(true, std::memory_order_release);
      lock.unlock();
      if (stopping) {
        break;
      }
      complete = checkpoint_once(full);
    }
#if defined(__GLIBC__)
    if (trim) {
      malloc_trim(0);
    }
#else
    (void)trim;
#endif
    runs_.fetch_add(1);
    for (auto& done : waiting) {
      done();
    }
    lock.lock();
    if (!requested_) {
      busy_.store(false, std::memory_order_release);
      idle_cv_.notify_all();
    }
  }
  // Callbacks must never be lost, even if stop() came first.
  for (auto& done : waiting_) {
    done();
  }
  waiting_.clear();
}

bool Checkpointer::checkpoint_once(bool full) {
  int log_frames = 0;
  int done_frames = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                     &done_frames);
  if (rc != SQLITE_OK) {
    // SQLITE_BUSY: the writer is finishing the tail itself. Anything else is logged and retried on
    // the next request.
    if (rc != SQLITE_BUSY) {
      log::debug(kComponent, "background checkpoint failed: {}", sqlite3_errmsg(db_->handle()));
    }
    return false;
  }
  backfilled_.store(done_frames, std::memory_order_release);
  const bool complete = done_frames == log_frames;
  if (!full || !complete || size_limit_ <= 0) {
    return complete;
  }
  // Everything is in the database file. A WAL file that one huge transaction grew far beyond the
  // limit would otherwise stay on disk until the next commit lets SQLite cut it back.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_ + "-wal", ec);
  if (ec || static_cast<std::int64_t>(size) <= size_limit_) {
    return true;
  }
  rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                 nullptr);
  if (rc == SQLITE_OK) {
    backfilled_.store(0, std::memory_order_release);
    log::debug(kComponent, "truncated a WAL of {} bytes", size);
  }
  return true;
}

}  // namespace skiff::kv
