// SPDX-License-Identifier: Apache-2.0
#pragma once

// Store::Impl: the state shared by the public Store methods (store.cpp), the writer thread
// (writer.cpp) and watchers (watch.cpp). Private to src/kv.
//
// Locking: `mu` (a FairSharedMutex) guards the in-memory state (`keys`, `leases`, the watch window
// and the revision counters). Readers share it; the writer mutates that state only under the
// exclusive lock and reads it without any lock (it is the only mutator). `queue_mu` guards the
// request queue and the compaction progress; `watchers_mu` the watcher registry. Lock order: mu
// before queue_mu; a watcher's own mutex is taken only with no other lock held.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "skiff/kv/store.hpp"

#include "checkpointer.hpp"
#include "exec.hpp"
#include "sqlite.hpp"

namespace skiff::kv {

/// A shared mutex that does not starve the writer: libstdc++'s std::shared_mutex (a default pthread
/// rwlock) prefers readers, so a steady stream of overlapping reads could hold off the writer's
/// publish step forever. An exclusive locker holds the turnstile while it waits, which stops new
/// readers. Not recursive: a thread must not take the shared side twice.
class FairSharedMutex {
public:
  void lock() {
    std::lock_guard turn(turnstile_);
    rw_.lock();
  }
  void unlock() { rw_.unlock(); }
  void lock_shared() {
    { std::lock_guard turn(turnstile_); }
    rw_.lock_shared();
  }
  void unlock_shared() { rw_.unlock_shared(); }

private:
  std::mutex turnstile_;
  std::shared_mutex rw_;
};

/// A history row's id (its rowid): the revision in the high bits, the sub-revision (the change's
/// index within its revision) in the low kSubBits. Ordered like (rev, sub), i.e. commit order.
inline constexpr int kSubBits = 20;
/// Most changes one revision can hold (a prefix delete or lease revoke of more keys is refused).
inline constexpr std::int64_t kMaxChangesPerRevision = std::int64_t{1} << kSubBits;
/// Highest revision the id leaves room for (2^43 - 1: ~280 years at 1000 writes/s).
inline constexpr std::int64_t kMaxRevision = (std::int64_t{1} << (63 - kSubBits)) - 1;
constexpr std::int64_t row_id(std::int64_t rev, std::int64_t sub) {
  return (rev << kSubBits) | sub;
}
constexpr std::int64_t row_revision(std::int64_t id) {
  return id >> kSubBits;
}
constexpr std::int64_t row_sub(std::int64_t id) {
  return id & (kMaxChangesPerRevision - 1);
}

/// One committed revision as watchers see it: events in sub-revision order, each with prev_kv set
/// unless it is a creation.
struct WindowRevision {
  std::int64_t revision = 0;
  std::vector<Event> events;
  std::size_t bytes = 0;
};

/// Approximate memory/wire size of an event, for the window bound and Watcher::poll's budget.
std::size_t event_bytes(const Event& event);

/// A queued write: the request, its callback and, once executed, its result.
template <class Request, class Response>
struct Item {
  Request request;
  Callback<Response> done;
  std::optional<Result<Response>> result;
};
struct CompactRequest {
  std::int64_t revision = 0;
};
struct GrantRequest {
  std::int64_t id = 0;
  std::int64_t ttl = 0;
};
struct RevokeRequest {
  std::int64_t id = 0;
};
struct KeepAliveRequest {
  std::int64_t id = 0;
};
struct DefragmentRequest {};

using WriteItem =
    std::variant<Item<PutRequest, PutResponse>, Item<DeleteRangeRequest, DeleteRangeResponse>,
                 Item<TxnRequest, TxnResponse>, Item<CompactRequest, CompactResponse>,
                 Item<GrantRequest, LeaseGrantResponse>, Item<RevokeRequest, std::int64_t>,
                 Item<KeepAliveRequest, std::int64_t>, Item<DefragmentRequest, std::int64_t>>;

/// Runs write callbacks off the writer thread, in the order batches were handed over, one at a
/// time (writer.cpp). The writer hands a batch over when it has more work waiting (or the queue
/// here is not empty, to keep commit order); otherwise it runs the callbacks itself, which saves a
/// thread hop when requests come one at a time. Sending a gRPC response from a callback costs
/// about as much CPU as committing the request, so under load this lets the next commit overlap
/// the responses of the previous one.
class Completer {
public:
  Completer();
  ~Completer();  ///< runs everything still queued, then joins
  Completer(const Completer&) = delete;
  Completer& operator=(const Completer&) = delete;

  void push(std::vector<WriteItem> batch);
  /// Nothing queued or running: a callback run inline now cannot overtake an earlier one.
  bool idle() const { return idle_.load(std::memory_order_acquire); }
  /// Runs what is queued and stops the thread.
  void stop();

private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<WriteItem>> queue_;
  bool stopping_ = false;
  std::atomic<bool> idle_{true};
  std::thread thread_;
};

/// Read connections for historical reads and watch replay, each used by one thread at a time.
class ReadPool {
public:
  explicit ReadPool(std::string path) : path_(std::move(path)) {}
  std::unique_ptr<sql::Connection> acquire();  ///< throws SqliteError
  void release(std::unique_ptr<sql::Connection> connection);
  /// Closes the idle connections (at shutdown, before the write connection).
  void clear();

private:
  static constexpr std::size_t kMaxIdle = 4;
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<sql::Connection>> idle_;
};

/// Returns a pooled connection when leaving scope.
class PooledConnection {
public:
  explicit PooledConnection(ReadPool& pool) : pool_(pool), connection_(pool.acquire()) {}
  ~PooledConnection() { pool_.release(std::move(connection_)); }
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  sql::Connection& operator*() { return *connection_; }
  sql::Connection* operator->() { return connection_.get(); }

private:
  ReadPool& pool_;
  std::unique_ptr<sql::Connection> connection_;
};

/// What the writer needs to reach a watcher; shared between the registry and the Watcher.
struct WatchShared {
  std::mutex mu;  ///< held while notifying; the Watcher's destructor takes it to wait out a notify
  bool active = true;
  std::function<void()> notify;
  KeyInterval interval;
  bool filter_put = false;
  bool filter_delete = false;
};

/// Reads the newest version <= `revision` of every key in the interval that is live at `revision`.
std::vector<KeyValue> read_history(sql::Connection& db, const KeyInterval& interval,
                                   std::int64_t revision);

/// Maps a SQLite failure to the store's error (kErrNoSpace for a full disk, else kUnavailable).
Error sqlite_error(const std::string& path, const sql::SqliteError& error);

struct Store::Impl {
  explicit Impl(StoreOptions opts);  // both defined where Writer is complete
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::int64_t now_ms() const { return options.now_ms(); }

  // --- reads (store.cpp) ---
  /// A historical read on a pooled connection, re-checking the compaction point in its transaction.
  Result<std::vector<KeyValue>> read_history_pooled(const KeyInterval& interval,
                                                    std::int64_t revision) const;
  /// The live keys of an interval at an older `revision` whose successors are all in the window,
  /// from memory, in key order. Requires `mu` (shared) and revision + 1 >= window_first.
  void for_each_in_window(const KeyInterval& interval, std::int64_t revision,
                          const std::function<void(const KeyValue&)>& fn) const;
  /// A historical read from the window when possible, else from SQLite. Requires `mu` (shared).
  Result<std::vector<KeyValue>> read_at_locked(const KeyInterval& interval,
                                               std::int64_t revision) const;

  // --- writer (writer.cpp) ---
  void start();
  void stop();
  /// Queues a write (or commits it on the calling thread, see CommitOn), or fails it at once
  /// (kErrStopped) after stop().
  void submit(WriteItem item, CommitOn on = CommitOn::kWriter);

  // --- watchers (watch.cpp) ---
  void unregister(const std::shared_ptr<WatchShared>& shared);
  /// The registered watchers that some event of `committed` concerns.
  std::vector<std::shared_ptr<WatchShared>> watchers_for(
      const std::vector<WindowRevision>& committed);
  /// Calls their notify (no store lock held), skipping those unregistered meanwhile.
  void notify_watchers(const std::vector<std::shared_ptr<WatchShared>>& targets);

  StoreOptions options;

  // Shared in-memory state, guarded by `mu`.
  mutable FairSharedMutex mu;
  KeyMap keys;
  LeaseMap leases;
  std::deque<WindowRevision> window;
  std::size_t window_bytes = 0;
  std::int64_t window_first = 2;  ///< every revision in [window_first, revision] is in `window`
  std::atomic<std::int64_t> revision{1};
  std::atomic<std::int64_t> compact_rev{0};
  /// Frames in the WAL since it last rewound (the writer's wal hook); status() counts them.
  std::atomic<int> wal_frames{0};

  mutable ReadPool pool;

  // Writer-side state.
  std::unique_ptr<sql::Connection> wdb;
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::condition_variable compaction_cv;  ///< signalled when compaction catches up (queue_mu)
  std::deque<WriteItem> queue;
  bool stopping = false;
  /// The writer token: whoever set it (the writer thread, or a caller committing inline) alone uses
  /// wdb and the Writer's state until it clears it. The writer thread holds it except while asleep.
  bool writer_busy = false;
  bool writer_waiting = false;  ///< the writer thread waits for the token
  bool writer_recheck = false;  ///< an inline commit changed what the sleeping writer's deadline is

  std::int64_t compacted_through =
      0;  ///< history rows of revisions <= this are compacted (queue_mu)

  /// Background WAL checkpoints and memory trimming (checkpointer.hpp); started with the writer.
  std::unique_ptr<Checkpointer> checkpointer;
  /// Write callbacks under load (see Completer); stopped after the writer.
  std::unique_ptr<Completer> completer;

  std::mutex watchers_mu;
  std::vector<std::shared_ptr<WatchShared>> watchers;

  /// The writer thread's private context (writer.cpp).
  struct Writer;
  std::unique_ptr<Writer> writer;
  std::thread writer_thread;  ///< last: started after everything above exists
};

}  // namespace skiff::kv
