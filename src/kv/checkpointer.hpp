// SPDX-License-Identifier: Apache-2.0
#pragma once

// The WAL checkpointer: copies committed WAL frames back into the database file on a thread and a
// SQLite connection of its own, so the single writer never spends its time (or waits for an fsync
// of the main file) on checkpoints. Private to src/kv.
//
// Why a separate thread: with SQLite's automatic checkpoint the writer itself copies ~1000 frames
// every few hundred commits (15 % of its time under etcdctl's check perf, and a multi-millisecond
// pause for the commit that triggers it), and the idle TRUNCATE checkpoint of a WAL that a huge
// transaction grew to hundreds of megabytes held the writer for seconds.
//
// How the WAL still restarts: SQLite rewinds the WAL to its first frame only when a write
// transaction begins while every frame is already backfilled. Background PASSIVE checkpoints
// alone rarely get there under steady load (the writer appends while they run), so the writer
// completes the last few frames itself once the background run got close (see Writer::manage_wal);
// that costs it a handful of page copies instead of a thousand.
//
// Threads: request()/busy()/backfilled() from any thread; everything else on the checkpointer's
// own thread. The connection never runs a transaction, so it never pins WAL frames.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sqlite.hpp"

namespace skiff::kv {

class Checkpointer {
public:
  /// `size_limit`: after an idle checkpoint found the WAL file larger than this (a huge
  /// transaction grew it), truncate it (0: never). The writer re-extends it to its preallocated
  /// size.
  Checkpointer(std::string path, std::int64_t size_limit);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// Opens the connection and starts the thread. Throws SqliteError.
  void start();
  /// Finishes the running checkpoint, runs the callbacks still waiting, joins the thread.
  void stop();

  /// A PASSIVE checkpoint soon; requests made while one is pending coalesce. Never blocks.
  void request();
  /// As request(), and after that run: truncate an oversized WAL file, then call `done` (on the
  /// checkpointer thread). Used when the writer has been idle and by Defragment. With a `done`,
  /// a run that could not copy every frame (the writer's own tail checkpoint held the lock, or a
  /// commit landed meanwhile) is retried every few milliseconds until one does or `retry_until`
  /// passes, so `done` normally means the database file holds everything (and has shrunk).
  void request_full(std::function<void()> done = {},
                    std::chrono::steady_clock::time_point retry_until = {});
  /// Return freed heap memory to the system (malloc_trim) after the next run: large deletes and
  /// compactions free hundreds of megabytes that glibc would otherwise keep.
  void request_trim();

  /// A checkpoint is running or about to.
  bool busy() const { return busy_.load(std::memory_order_acquire); }
  /// Frames the last run found backfilled (copied into the database) when it ended.
  int backfilled() const { return backfilled_.load(std::memory_order_acquire); }
  /// Waits until no checkpoint runs or is requested (false on timeout). The writer uses it to
  /// apply back-pressure when it outruns the checkpointer.
  bool wait_idle(std::chrono::milliseconds timeout);
  /// Completed runs (tests).
  std::uint64_t runs() const { return runs_.load(); }

private:
  void run();
  /// One PASSIVE run; true when every WAL frame is in the database file afterwards.
  bool checkpoint_once(bool full);

  std::string path_;
  std::int64_t size_limit_;
  std::unique_ptr<sql::Connection> db_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  bool requested_ = false;
  bool full_ = false;
  bool trim_ = false;
  bool stopping_ = false;
  std::vector<std::function<void()>> waiting_;
  std::chrono::steady_clock::time_point retry_until_{};

  std::atomic<bool> busy_{false};
  std::atomic<int> backfilled_{0};
  std::atomic<std::uint64_t> runs_{0};
  std::thread thread_;
};

}  // namespace skiff::kv
