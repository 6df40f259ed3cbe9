// SPDX-License-Identifier: Apache-2.0
// The writer thread: group commit of queued requests, compaction slices, lease expiry, automatic
// compaction and idle WAL checkpoints. Everything that writes SQLite runs here, on one connection.

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <random>

#include "skiff/base/log.hpp"

#include "store_impl.hpp"
#include <sys/stat.h>
#include <sys/statvfs.h>

namespace skiff::kv {

namespace {

constexpr std::string_view kComponent = "kv";

const std::string kBegin = "BEGIN IMMEDIATE";
const std::string kCommit = "COMMIT";
const std::string kInsertHistory =
    "INSERT INTO history(id, key, create_rev, version, lease, deleted, value, prev) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const std::string kUpsertCurrent =
    "INSERT INTO current(key, id) VALUES (?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET id = excluded.id";
const std::string kDeleteCurrent = "DELETE FROM current WHERE key = ?1";
const std::string kSetMeta =
    "INSERT INTO meta(name, value) VALUES (?1, ?2) "
    "ON CONFLICT(name) DO UPDATE SET value = excluded.value";
const std::string kUpsertLease =
    "INSERT INTO leases(id, ttl, expires_at_ms) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(id) DO UPDATE SET ttl = excluded.ttl, expires_at_ms = excluded.expires_at_ms";
const std::string kDeleteLease = "DELETE FROM leases WHERE id = ?1";
// The next rows after the cursor (an id), up to the compaction point, in id = (rev, sub) order.
const std::string kSliceRows =
    "SELECT id, deleted, prev FROM history WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3";
const std::string kDeleteRow = "DELETE FROM history WHERE id = ?1";

// Vacuum steps are sized to take about this long (one statement between write batches); the page
// count adapts to what the disk and the file's layout allow.
constexpr auto kVacuumStepTarget = std::chrono::milliseconds(5);
constexpr std::int64_t kVacuumMinPages = 16;
constexpr std::int64_t kVacuumMaxPages = 4096;
// With at most this many live pages and at least as many free ones, a full VACUUM (which copies the
// live pages) replaces the incremental steps: ~4 MiB to copy, a few tens of milliseconds.
constexpr std::int64_t kFullVacuumMaxLive = 1024;

// A write batch that changed this many keys frees a lot of memory once its overlay, events and
// responses are gone: ask the checkpointer to return it to the system (malloc_trim).
constexpr std::size_t kTrimAfterChanges = 10000;

// WAL preallocation steps (an fsync of fresh blocks each, up to ~15 ms here) run only after this
// long without writes, so they never sit between the requests of a busy client.
constexpr auto kPreallocIdle = std::chrono::milliseconds(50);

// A compaction delete transaction goes on while no request waits, for up to this long.
constexpr auto kSliceBudget = std::chrono::milliseconds(20);
// History rows read per compaction segment (two doomed ids each at most: 3.2 MB of memory).
constexpr std::int64_t kSegmentRows = 200000;

// Batches up to this size are acknowledged on the writer thread when nothing else waits (see
// Completer): a thread hop costs more than the callbacks.
constexpr std::size_t kInlineCallbacks = 4;

// Longest the writer waits for a background checkpoint before it rewinds the WAL itself.
constexpr auto kCheckpointWait = std::chrono::milliseconds(20);

// A WAL frame is one page plus a 24-byte header.
constexpr std::int64_t kWalHeaderBytes = 32;
constexpr std::int64_t kFrameBytes = 4096 + 24;

// Revoking/expiring this many leases per check keeps one expiry batch short.
constexpr std::size_t kMaxExpiriesPerCheck = 1000;

bool has_put(const std::vector<RequestOp>& ops) {
  for (const auto& op : ops) {
    if (std::holds_alternative<PutRequest>(op.op)) {
      return true;
    }
    if (const auto* t = std::get_if<TxnRequest>(&op.op)) {
      if (has_put(t->success) || has_put(t->failure)) {
        return true;
      }
    }
  }
  return false;
}

// An update keeps the live entry's heap buffers: the key's (the same key) and the value's when the
// new value fits it without wasting more than half of it. A key updated a million times then still
// has its strings where they were first allocated, near its neighbours', instead of wherever the
// allocator found room; otherwise a list's cost grows with the history behind it through cache
// misses alone (1.4x after 1M updates of 1k keys, kv_history_bench), which the store must avoid.
void replace_entry(Entry& live, Entry&& next) {
  std::string key = std::move(live.kv.key);
  const bool keep_value = next.kv.value.size() <= live.kv.value.capacity() &&
                          2 * next.kv.value.size() >= live.kv.value.capacity();
  std::string value = keep_value ? std::move(live.kv.value) : std::string();
  live = std::move(next);
  live.kv.key = std::move(key);
  if (keep_value) {
    value.assign(live.kv.value);
    live.kv.value = std::move(value);
  }
}

template <class T>
void complete(T& item) {
  if (!item.done) {
    return;
  }
  try {
    item.done(std::move(*item.result));
  } catch (const std::exception& e) {
    log::error(kComponent, "write callback threw: {}", e.what());
  } catch (...) {
    log::error(kComponent, "write callback threw");
  }
}

}  // namespace

struct Store::Impl::Writer {
  using Clock = std::chrono::steady_clock;

  explicit Writer(Impl& owner) : impl(owner), view(owner.keys, owner.leases) {}

  void run();
  /// Commits one request on the calling thread; the caller holds the writer token (see submit).
  /// Returns whether the sleeping writer must recompute its deadlines (it was not dirty before).
  bool commit_inline(WriteItem item);
  /// run_batch, then frees the batch's requests and responses and keeps the WAL in bounds.
  void commit_batch(std::vector<WriteItem>& batch);
  /// Records that a write transaction just ended (idle checkpoint and preallocation timing).
  void wrote() {
    dirty = true;
    last_write = Clock::now();
  }
  /// Passes a trim a large batch asked for on to the checkpointer.
  void trim_if_wanted();
  void run_batch(std::vector<WriteItem>& batch);
  void run_defragment(Item<DefragmentRequest, std::int64_t>& item);
  void compaction_slice();
  void collect_segment(std::int64_t done);
  void vacuum_step();
  void expire_leases();
  void auto_compact();
  bool compaction_pending();
  bool queue_empty();
  void acknowledge(std::vector<WriteItem>& batch);
  /// After any write transaction on wdb: keeps the background checkpointer fed and completes the
  /// last frames itself once it got close, so the WAL rewinds and is overwritten in place.
  void manage_wal();
  /// The writer went idle: everything to the database file, memory back to the system.
  void on_idle();
  /// Extends the WAL file with zeros towards its preallocated size (see StoreOptions), one chunk
  /// per call; clears wal_prealloc_pending once there.
  void preallocate_wal_step();
  /// Defragment: after the vacuum, checkpoint and answer (bounded wait).
  void finish_defragments();
  void answer_expired_defragments(bool all);

  void exec(Item<PutRequest, PutResponse>& item);
  void exec(Item<DeleteRangeRequest, DeleteRangeResponse>& item);
  void exec(Item<TxnRequest, TxnResponse>& item);
  void exec(Item<CompactRequest, CompactResponse>& item);
  void exec(Item<GrantRequest, LeaseGrantResponse>& item);
  void exec(Item<RevokeRequest, std::int64_t>& item);
  void exec(Item<KeepAliveRequest, std::int64_t>& item);
  void exec(Item<DefragmentRequest, std::int64_t>& item);

  Executor executor() {
    return Executor(
        view, batch_rev, batch_compact,
        [this](const KeyInterval& interval, std::int64_t rev) -> Result<std::vector<KeyValue>> {
          try {
            return read_history(*impl.wdb, interval, rev);
          } catch (const sql::SqliteError& e) {
            return sqlite_error(impl.options.path, e);
          }
        },
        impl.now_ms());
  }
  /// Writes an executed request's changes to SQLite and queues its watch events. Throws
  /// SqliteError.
  void persist(Executor& ex);
  /// Why an executed request cannot be stored (its changes do not fit one revision's ids), if so.
  std::optional<Error> unstorable(const Executor& ex) const;
  void set_meta(std::string_view name, std::int64_t value);
  std::int64_t db_bytes();

  Impl& impl;
  View view;
  bool dirty = false;           ///< written since the writer was last idle
  Clock::time_point last_write;  ///< end of the last write transaction
  std::int64_t batch_rev = 0;
  std::int64_t batch_compact = 0;
  bool over_quota = false;
  std::vector<WindowRevision> pending;
  std::mt19937_64 rng{std::random_device{}()};
  std::deque<std::pair<std::int64_t, std::int64_t>>
      samples;  ///< (now_ms, revision) for auto compaction
  Clock::time_point retry_compaction_at{};
  // The id of the last history row compaction examined (rows of one revision can be many: a
  // prefix DeleteRange); below the first row of compacted_through + 1 means "start there". Not
  // persisted: redoing part of a revision after a restart deletes nothing twice.
  std::int64_t cursor = 0;
  /// The compaction segment in progress (see compaction_slice()).
  struct Segment {
    std::int64_t target = 0;   ///< compaction point it compacts to
    std::int64_t cursor = 0;   ///< last row read
    std::int64_t through = 0;  ///< compacted_through once its doomed rows are gone
    std::int64_t rows = 0;     ///< rows read
    bool collected = false;
    std::vector<std::int64_t> doomed;  ///< ids to delete, sorted once collected
    std::size_t next = 0;              ///< next doomed id to delete
  };
  Segment segment;
  bool vacuum_pending = false;  ///< compaction freed pages that incremental vacuum has not returned
  std::int64_t vacuum_pages = 256;  ///< pages per vacuum step, adapted to kVacuumStepTarget

  // WAL bookkeeping (manage_wal). Frames as reported by the wal hook after each commit.
  int wal_frames = 0;
  std::uint64_t frames_written = 0;  ///< WAL frames appended since open (for the logs below)
  // Where a compaction or vacuum run started, for its completion log line.
  Clock::time_point compaction_started{};
  std::uint64_t compaction_frames_at = 0;
  std::uint64_t slices_at = 0;
  Clock::time_point vacuum_started{};
  std::uint64_t vacuum_frames_at = 0;
  std::int64_t vacuum_free_at = 0;
  std::uint64_t vacuum_steps = 0;
  int requested_at = 0;  ///< wal_frames when the checkpointer was last asked
  int restart_frames = 1000;
  int step_frames = 250;
  bool trim_wanted = false;
  bool wal_prealloc_pending = true;     ///< the WAL file is shorter than its preallocated size
  std::uint64_t tail_checkpoints = 0;   ///< WAL rewinds the writer completed itself
  std::uint64_t checkpoint_waits = 0;   ///< times it waited for the checkpointer (back-pressure)
  std::uint64_t compaction_slices = 0;  ///< compaction transactions
  std::uint64_t compaction_chunks = 0;  ///< compaction_slice-row chunks within them

  /// Defragment requests waiting for the vacuum to finish.
  std::vector<Callback<std::int64_t>> defrags;
  Clock::time_point defrag_vacuum_until{};
  /// Defragments waiting for their checkpoint: answered by whichever comes first, the checkpointer
  /// or the deadline.
  struct AwaitingDefrag {
    std::shared_ptr<std::atomic<bool>> answered;
    Callback<std::int64_t> done;
    Clock::time_point deadline;
  };
  std::vector<AwaitingDefrag> awaiting;
};

namespace {
int wal_hook(void* arg, sqlite3* /*db*/, const char* /*name*/, int frames) {
  auto* writer = static_cast<Store::Impl::Writer*>(arg);
  // Frames this commit appended (after a rewind the count starts again from zero).
  writer->frames_written += static_cast<std::uint64_t>(
      frames >= writer->wal_frames ? frames - writer->wal_frames : frames);
  writer->wal_frames = frames;
  return SQLITE_OK;
}
}  // namespace

// --- queue and loop
// ---------------------------------------------------------------------------------

Store::Impl::Impl(StoreOptions opts) : options(std::move(opts)), pool(options.path) {}

Store::Impl::~Impl() {
  stop();
  // Readers and the checkpointer first: the last connection to close checkpoints the WAL into the
  // file, and that should be the write connection.
  pool.clear();
  checkpointer.reset();
  wdb.reset();
}

// The checkpointer starts before the writer thread (which feeds it) and stops after it. Automatic
// checkpoints are off on the write connection: the hook only records the WAL's length.
void Store::Impl::start() {
  // An idle WAL that one huge transaction grew to twice its preallocated size (or to the limit)
  // is truncated; the writer then extends it again in small steps.
  std::int64_t idle_limit = options.wal_size_limit;
  if (options.wal_preallocate_bytes > 0) {
    idle_limit = std::min(idle_limit > 0 ? idle_limit : options.wal_preallocate_bytes * 2,
                          options.wal_preallocate_bytes * 2);
  }
  checkpointer = std::make_unique<Checkpointer>(options.path, idle_limit);
  checkpointer->start();
  checkpointer->request();  // a WAL left by a crash is copied in the background, not by commits
  completer = std::make_unique<Completer>();
  writer = std::make_unique<Writer>(*this);
  sqlite3_wal_autocheckpoint(wdb->handle(), 0);
  sqlite3_wal_hook(wdb->handle(), wal_hook, writer.get());
  {
    std::lock_guard lock(queue_mu);
    writer_busy = true;  // the writer thread starts with the token
  }
  writer_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "kv-writer");  // for top -H, perf and gdb
    writer->run();
  });
}

void Store::Impl::stop() {
  {
    std::lock_guard lock(queue_mu);
    stopping = true;
  }
  queue_cv.notify_all();
  if (writer_thread.joinable()) {
    writer_thread.join();
  }
  if (completer) {
    completer->stop();
  }
  if (checkpointer) {
    checkpointer->stop();
  }
}

// CommitOn::kCallerIfIdle: with the writer asleep and nothing queued, the caller takes the writer
// token and commits the request itself, which spares the hand-off to the writer thread and back
// (two wake-ups, each costlier than the commit's own CPU on a small VM). Requests that arrive
// meanwhile queue up for the writer, which waits for the token; so commit order stays arrival
// order.
void Store::Impl::submit(WriteItem item, CommitOn on) {
  if (on == CommitOn::kCallerIfIdle) {
    std::unique_lock lock(queue_mu);
    if (!stopping && !writer_busy && queue.empty()) {
      writer_busy = true;
      lock.unlock();
      // Gives the token back; `recheck` also wakes the sleeping writer to recompute its deadlines.
      auto release = [&](bool recheck) {
        lock.lock();
        writer_busy = false;
        writer_recheck = writer_recheck || recheck;
        const bool wake = writer_waiting || recheck || !queue.empty();
        lock.unlock();
        if (wake) {
          queue_cv.notify_one();
        }
      };
      bool recheck = false;
      try {
        recheck = writer->commit_inline(std::move(item));
      } catch (...) {
        // Not from SQLite (run_batch answers those), e.g. bad_alloc: the token must go back or
        // the writer waits for it forever; the caller sees the exception.
        release(true);
        throw;
      }
      release(recheck);
      return;
    }
  }
  {
    std::lock_guard lock(queue_mu);
    if (!stopping) {
      queue.push_back(std::move(item));
      queue_cv.notify_one();
      return;
    }
  }
  std::visit(
      [](auto& it) {
        it.result = errors::unavailable(kErrStopped);
        complete(it);
      },
      item);
}

// --- completions
// -------------------------------------------------------------------------------------

Completer::Completer() : thread_([this] { run(); }) {}

Completer::~Completer() {
  stop();
}

void Completer::push(std::vector<WriteItem> batch) {
  {
    std::lock_guard lock(mu_);
    idle_.store(false, std::memory_order_release);
    queue_.push_back(std::move(batch));
  }
  cv_.notify_one();
}

void Completer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Completer::run() {
  pthread_setname_np(pthread_self(), "kv-complete");
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) {
      return;  // stopping, and everything handed over has run
    }
    auto batch = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    for (auto& item : batch) {
      std::visit([](auto& it) { complete(it); }, item);
    }
    batch.clear();  // the requests and responses go here too, not on the writer
    lock.lock();
    if (queue_.empty()) {
      idle_.store(true, std::memory_order_release);
    }
  }
}

bool Store::Impl::Writer::commit_inline(WriteItem item) {
  const bool was_dirty = dirty;
  std::vector<WriteItem> batch;
  batch.push_back(std::move(item));
  commit_batch(batch);
  wrote();
  trim_if_wanted();
  return !was_dirty;
}

void Store::Impl::Writer::commit_batch(std::vector<WriteItem>& batch) {
  run_batch(batch);
  batch.clear();  // free the requests and responses before asking for a trim
  manage_wal();
}

void Store::Impl::Writer::trim_if_wanted() {
  if (trim_wanted) {
    trim_wanted = false;
    impl.checkpointer->request_trim();
  }
}

// Callbacks of one batch, inline or on the completer (see Completer). Either way they run in
// commit order: inline only when nothing handed over earlier is still pending.
void Store::Impl::Writer::acknowledge(std::vector<WriteItem>& batch) {
  if (impl.completer->idle() && (batch.size() <= kInlineCallbacks && queue_empty())) {
    for (auto& item : batch) {
      std::visit([](auto& it) { complete(it); }, item);
    }
    return;
  }
  impl.completer->push(std::move(batch));
  batch.clear();
}

bool Store::Impl::Writer::queue_empty() {
  std::lock_guard lock(impl.queue_mu);
  return impl.queue.empty();
}

bool Store::Impl::Writer::compaction_pending() {
  std::lock_guard lock(impl.queue_mu);
  return impl.compacted_through < impl.compact_rev.load();
}

// The loop sleeps until a request arrives or the next timer is due (lease check, automatic
// compaction, idle work, a Defragment's deadline), takes up to max_batch requests, commits them,
// then does at most one piece of background work, so queued writes wait for at most one compaction
// slice or vacuum step.
void Store::Impl::Writer::run() {
  const auto& opts = impl.options;
  auto now = Clock::now();
  auto next_lease_check = now + opts.lease_check_interval;
  auto next_auto_compact = now + opts.compaction_interval;
  last_write = now;
  samples.emplace_back(impl.now_ms(), impl.revision.load());
  if (opts.wal_preallocate_bytes > 0) {
    // Rewind the WAL well before it outgrows its preallocated size; ask the checkpointer for a
    // PASSIVE run every quarter of that.
    restart_frames = static_cast<int>(std::max<std::int64_t>(
        256, std::min(opts.wal_preallocate_bytes,
                      opts.wal_size_limit > 0 ? opts.wal_size_limit : opts.wal_preallocate_bytes) /
                 kFrameBytes / 2));
    step_frames = std::max(64, restart_frames / 4);
  }

  // The writer token (impl.writer_busy, set by start()) is held from here on except while
  // sleeping: a caller may commit inline meanwhile (commit_inline), and the loop takes the token
  // back before it touches any of this state again.
  while (true) {
    std::vector<WriteItem> batch;
    const bool background = (compaction_pending() && Clock::now() >= retry_compaction_at) ||
                            vacuum_pending || !defrags.empty();
    {
      std::unique_lock lock(impl.queue_mu);
      auto deadline = next_lease_check;
      if (opts.auto_compaction) {
        deadline = std::min(deadline, next_auto_compact);
      }
      if (dirty) {
        deadline = std::min(deadline, last_write + opts.checkpoint_idle);
      }
      for (const auto& waiting : awaiting) {
        deadline = std::min(deadline, waiting.deadline);
      }
      if (wal_prealloc_pending) {
        deadline = std::min(deadline, last_write + kPreallocIdle);
      }
      if (!background && impl.queue.empty() && !impl.stopping) {
        impl.writer_busy = false;
        impl.writer_recheck = false;
        impl.queue_cv.wait_until(lock, deadline, [&] {
          return !impl.queue.empty() || impl.stopping || impl.writer_recheck;
        });
        impl.writer_waiting = true;
        impl.queue_cv.wait(lock, [&] { return !impl.writer_busy; });
        impl.writer_waiting = false;
        impl.writer_busy = true;
        if (impl.writer_recheck && impl.queue.empty() && !impl.stopping) {
          continue;  // an inline commit made the writer dirty: sleep again with the idle deadline
        }
      }
      if (impl.queue.empty() && impl.stopping) {
        break;
      }
      // A batch ends before a defragment request, which is handled on its own.
      while (!impl.queue.empty() && batch.size() < std::max<std::size_t>(opts.max_batch, 1)) {
        bool defrag =
            std::holds_alternative<Item<DefragmentRequest, std::int64_t>>(impl.queue.front());
        if (defrag && !batch.empty()) {
          break;
        }
        batch.push_back(std::move(impl.queue.front()));
        impl.queue.pop_front();
        if (defrag) {
          break;
        }
      }
    }
    if (!batch.empty()) {
      if (auto* d = std::get_if<Item<DefragmentRequest, std::int64_t>>(&batch.front())) {
        run_defragment(*d);
      } else {
        commit_batch(batch);
      }
      wrote();
    }
    now = Clock::now();
    if (now >= next_lease_check) {
      expire_leases();
      next_lease_check = Clock::now() + opts.lease_check_interval;
    }
    if (opts.auto_compaction && now >= next_auto_compact) {
      auto_compact();
      next_auto_compact = Clock::now() + opts.compaction_interval;
    }
    answer_expired_defragments(false);
    // One piece of background work between batches. A Defragment goes before compaction slices:
    // its caller waits for it (etcdctl gives up after 5 s), compaction has no caller. It vacuums
    // for at most options.defragment_budget; what is left (a compaction still running frees more)
    // goes back in the background as always.
    bool worked = true;
    if (!defrags.empty()) {
      if (vacuum_pending && Clock::now() < defrag_vacuum_until) {
        vacuum_step();
      } else {
        finish_defragments();
      }
    } else if (compaction_pending() && Clock::now() >= retry_compaction_at) {
      compaction_slice();
    } else if (vacuum_pending) {
      vacuum_step();
    } else if (wal_prealloc_pending && Clock::now() - last_write >= kPreallocIdle &&
               queue_empty()) {
      preallocate_wal_step();
      worked = false;  // no SQLite write; idle work still follows
    } else {
      worked = false;
    }
    if (worked) {
      manage_wal();
      wrote();
    } else if (dirty && Clock::now() - last_write >= opts.checkpoint_idle) {
      on_idle();
      dirty = false;
    }
    trim_if_wanted();
  }
  // Stopping: nothing is vacuumed any more; answer whoever still waits.
  for (auto& done : defrags) {
    if (done) {
      done(impl.revision.load());
    }
  }
  defrags.clear();
  answer_expired_defragments(true);
}

// SQLite rewinds the WAL (the next commit overwrites frame 1) when a write transaction starts with
// every frame backfilled. The checkpointer does the bulk of the copying in the background; once the
// WAL is long enough and the checkpointer close behind, the writer copies the few frames left
// itself (PASSIVE: it never waits for readers or for the checkpointer), so the rewind happens at a
// predictable length instead of the WAL growing while both race. Near the preallocated size it
// copies up to one cycle's worth itself. Only a huge transaction leaves a gap larger than that: the
// writer then leaves it all to the checkpointer (this is what used to stall writes for seconds).
void Store::Impl::Writer::manage_wal() {
  const int frames = wal_frames;
  impl.wal_frames.store(frames, std::memory_order_relaxed);
  if (frames < requested_at) {
    requested_at = 0;  // rewound since
  }
  auto& checkpointer = *impl.checkpointer;
  if (frames >= restart_frames) {
    const int backfilled = checkpointer.backfilled();
    const int gap = backfilled <= frames ? frames - backfilled : frames;  // stale after a rewind
    const bool close_behind = gap <= step_frames;
    // Past 1.5 cycles the preallocated file is about to grow: wait for a running background
    // checkpoint (it copies little, since the gap is small) rather than let the WAL run away from
    // it, which happens whenever commits are cheaper than checkpoints (synchronous=NORMAL, large
    // batches).
    const bool must = 2 * frames >= 3 * restart_frames && gap <= 2 * restart_frames;
    if (close_behind || must) {
      for (int attempt = 0; attempt < 2; ++attempt) {
        int log_frames = 0;
        int done_frames = 0;
        int rc = sqlite3_wal_checkpoint_v2(impl.wdb->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &log_frames, &done_frames);
        if (rc == SQLITE_OK && log_frames == done_frames) {
          ++tail_checkpoints;
          requested_at = 0;
          impl.wal_frames.store(0, std::memory_order_relaxed);  // all in the file now
          return;
        }
        if (rc != SQLITE_BUSY || !must || !checkpointer.wait_idle(kCheckpointWait)) {
          break;
        }
        ++checkpoint_waits;
      }
    }
  }
  if (frames - requested_at >= step_frames) {
    requested_at = frames;
    checkpointer.request();
  }
}

void Store::Impl::Writer::on_idle() {
  wal_prealloc_pending = impl.options.wal_preallocate_bytes > 0;  // re-checked: a truncation
  sqlite3_db_release_memory(impl.wdb->handle());  // page cache a big compaction filled
  impl.checkpointer->request_full();
  impl.checkpointer->request_trim();
  requested_at = 0;
}

// Zeros past the end of the WAL are not frames (a frame needs the WAL header's salt and a valid
// checksum), so SQLite treats them like a short file; commits then write into blocks the file
// system (and, on a VM, the host) already allocated. Only the writer thread appends to the WAL, so
// nothing races with this; errors only cost the optimisation. Done in small chunks after
// kPreallocIdle without writes (allocating fresh blocks is slow: ~60 ms for 8 MiB on the
// benchmark VM), never at open.
void Store::Impl::Writer::preallocate_wal_step() {
  constexpr std::int64_t kChunk = 256 << 10;
  const auto& opts = impl.options;
  std::int64_t target = opts.wal_preallocate_bytes;
  if (opts.wal_size_limit > 0) {
    target = std::min(target, opts.wal_size_limit);
  }
  wal_prealloc_pending = false;
  if (target <= kWalHeaderBytes) {
    return;
  }
  const std::string path = opts.path + "-wal";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return;  // no WAL yet: SQLite creates it with the first write; on_idle() tries again
  }
  // Never on a nearly full file system: the space is better left to data (and a small disk
  // would be filled by zeros before the first write).
  struct statvfs fs {};
  const bool roomy =
      ::fstatvfs(fd, &fs) == 0 &&
      static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize) >= 8 * target;
  struct stat st {};
  if (roomy && ::fstat(fd, &st) == 0 && st.st_size < target) {
    // Never written, in .bss: reading it maps the kernel's shared zero page, so unlike a heap
    // buffer it adds nothing to the idle RSS.
    alignas(4096) static char zeros[kChunk];
    const auto size = static_cast<std::size_t>(std::min<std::int64_t>(target - st.st_size, kChunk));
    if (::pwrite(fd, zeros, size, st.st_size) == static_cast<ssize_t>(size) &&
        ::fdatasync(fd) == 0) {
      wal_prealloc_pending = st.st_size + static_cast<std::int64_t>(size) < target;
    } else {
      log::debug(kComponent, "WAL preallocation stopped at {} bytes: {}", st.st_size,
                 std::strerror(errno));
    }
  }
  ::close(fd);
}

// --- batches
// -----------------------------------------------------------------------------------------

std::int64_t Store::Impl::Writer::db_bytes() {
  return impl.wdb->query_int("PRAGMA page_count") * impl.wdb->query_int("PRAGMA page_size");
}

void Store::Impl::Writer::set_meta(std::string_view name, std::int64_t value) {
  auto& stmt = impl.wdb->prepare(kSetMeta);
  stmt.bind_text(1, name).bind(2, value).run();
}

// Group commit: every request of the batch runs against the overlay inside one SQLite transaction,
// each at its own revision. Nothing becomes visible (memory, watchers, callbacks) before COMMIT
// succeeded; if any SQLite step fails the transaction is rolled back, the overlay dropped, and the
// next batch starts again from the last committed revision, so revisions are never skipped or
// reused.
void Store::Impl::Writer::run_batch(std::vector<WriteItem>& batch) {
  batch_rev = impl.revision.load();
  batch_compact = impl.compact_rev.load();
  view.clear();
  pending.clear();
  bool changed_compaction = false;
  try {
    // As etcd's NOSPACE alarm: once over quota only requests that free space (deletes, compaction,
    // revokes) are accepted.
    over_quota = impl.options.quota_bytes > 0 && db_bytes() > impl.options.quota_bytes;
    impl.wdb->prepare(kBegin).run();
    try {
      for (auto& item : batch) {
        std::visit([this](auto& it) { exec(it); }, item);
      }
      // The revision is not written to `meta`: it is the newest history row's (or the compaction
      // point, see load()), so a commit touches one page fewer.
      changed_compaction = batch_compact != impl.compact_rev.load();
      impl.wdb->prepare(kCommit).run();
    } catch (...) {
      try {
        impl.wdb->exec("ROLLBACK");
      } catch (const sql::SqliteError&) {
        // SQLite may already have rolled back (e.g. after an I/O error); nothing else to undo.
      }
      throw;
    }
  } catch (const std::exception& e) {
    const auto* sqlite = dynamic_cast<const sql::SqliteError*>(&e);
    Error error = sqlite != nullptr ? sqlite_error(impl.options.path, *sqlite)
                                    : errors::internal(std::string("write failed: ") + e.what());
    log::warn(kComponent, "write batch of {} requests failed: {}", batch.size(), error.message);
    view.clear();
    pending.clear();
    for (auto& item : batch) {
      std::visit(
          [&](auto& it) {
            // Requests that failed on their own keep their error; the others wrote nothing.
            if (!it.result || it.result->has_value()) {
              it.result = error;
            }
          },
          item);
    }
    acknowledge(batch);
    return;
  }

  // Committed: publish the new state, then acknowledge in order, then wake watchers. The watchers
  // to wake are chosen before the events move into the window.
  auto to_notify = impl.watchers_for(pending);
  if (view.overlay().size() >= kTrimAfterChanges) {
    trim_wanted = true;
  }
  std::vector<WindowRevision> evicted;  // freed after the lock: a huge revision takes a while
  {
    // The only place the shared state changes. Lease attachments follow the keys: a key leaves its
    // old lease's set and joins its new one; leases granted in this batch get their rows after the
    // keys.
    std::unique_lock lock(impl.mu);
    // The overlay is cleared right after: its entries move into the shared map.
    for (auto& [key, entry] : view.mutable_overlay()) {
      auto it = impl.keys.find(key);
      if (it != impl.keys.end() && it->second.kv.lease != 0) {
        if (auto lease = impl.leases.find(it->second.kv.lease); lease != impl.leases.end()) {
          lease->second.keys.erase(key);
        }
      }
      if (entry) {
        if (entry->kv.lease != 0) {
          impl.leases[entry->kv.lease].keys.insert(key);
        }
        if (it != impl.keys.end()) {
          replace_entry(it->second, std::move(*entry));
        } else {
          impl.keys.emplace(key, std::move(*entry));
        }
      } else if (it != impl.keys.end()) {
        impl.keys.erase(it);
      }
    }
    for (const auto& [id, row] : view.lease_overlay()) {
      if (row) {
        impl.leases[id].row = *row;
      } else {
        impl.leases.erase(id);
      }
    }
    for (auto& rev : pending) {
      impl.window_bytes += rev.bytes;
      impl.window.push_back(std::move(rev));
    }
    // Older revisions leave the window; watchers that still need them read them from SQLite.
    while (impl.window_bytes > impl.options.watch_window_bytes && !impl.window.empty()) {
      impl.window_bytes -= impl.window.front().bytes;
      evicted.push_back(std::move(impl.window.front()));
      impl.window.pop_front();
    }
    impl.revision.store(batch_rev);
    impl.compact_rev.store(batch_compact);
    impl.window_first = impl.window.empty() ? batch_rev + 1 : impl.window.front().revision;
  }
  view.clear();
  if (changed_compaction) {
    log::info(kComponent, "compaction point recorded at revision {}", batch_compact);
  }
  acknowledge(batch);
  impl.notify_watchers(to_notify);
  pending.clear();
}

// One history row per change, `current` pointing at the live row (removed for deletes), and the
// watch events with prev_kv taken from the view now, so watchers never need a lookup for it.
void Store::Impl::Writer::persist(Executor& ex) {
  if (!ex.changed()) {
    return;
  }
  const std::int64_t rev = ex.new_revision();
  WindowRevision window_rev;
  window_rev.revision = rev;
  auto& insert = impl.wdb->prepare(kInsertHistory);
  for (auto& change : ex.changes()) {
    const KeyValue& kv = change.kv;
    const std::int64_t id = row_id(rev, change.sub);
    insert.bind(1, id)
        .bind_blob(2, kv.key)
        .bind(3, kv.create_revision)
        .bind(4, kv.version)
        .bind(5, kv.lease)
        .bind(6, change.deleted ? 1 : 0)
        .bind_blob(7, kv.value)
        .bind(8, change.prev ? row_id(change.prev->mod_revision, change.prev_sub) : 0)
        .run();
    if (change.deleted) {
      impl.wdb->prepare(kDeleteCurrent).bind_blob(1, kv.key).run();
    } else {
      impl.wdb->prepare(kUpsertCurrent).bind_blob(1, kv.key).bind(2, id).run();
    }
    // The statements above are done with the change's buffers (bound without copying), and the
    // executor is discarded after this: move rather than copy the key, value and prev_kv.
    Event event;
    event.type = change.deleted ? Event::Type::kDelete : Event::Type::kPut;
    event.kv = std::move(change.kv);
    event.prev_kv = std::move(change.prev);
    window_rev.bytes += event_bytes(event);
    window_rev.events.push_back(std::move(event));
  }
  pending.push_back(std::move(window_rev));
  batch_rev = rev;
}

std::optional<Error> Store::Impl::Writer::unstorable(const Executor& ex) const {
  if (static_cast<std::int64_t>(ex.changes().size()) > kMaxChangesPerRevision) {
    return errors::bad_request(fmt::format("too many keys changed in one revision ({}, at most {})",
                                           ex.changes().size(), kMaxChangesPerRevision));
  }
  if (ex.changed() && ex.new_revision() > kMaxRevision) {
    return errors::unavailable("revision space exhausted");
  }
  return std::nullopt;
}

void Store::Impl::Writer::exec(Item<PutRequest, PutResponse>& item) {
  if (over_quota) {
    item.result = errors::too_many_requests(kErrNoSpace);
    return;
  }
  Executor ex = executor();
  auto result = ex.put(item.request);
  if (result) {
    if (auto error = unstorable(ex)) {
      result = *error;
    }
  }
  if (!result) {
    ex.rollback();
  } else {
    persist(ex);
  }
  item.result = std::move(result);
}

void Store::Impl::Writer::exec(Item<DeleteRangeRequest, DeleteRangeResponse>& item) {
  Executor ex = executor();
  auto result = ex.delete_range(item.request);
  if (result) {
    if (auto error = unstorable(ex)) {
      result = *error;
    }
  }
  if (!result) {
    ex.rollback();
  } else {
    persist(ex);
  }
  item.result = std::move(result);
}

// The branch path is computed before any op runs so that nested compares see the same snapshot as
// the top-level ones (etcd evaluates them all up front).
void Store::Impl::Writer::exec(Item<TxnRequest, TxnResponse>& item) {
  if (over_quota && (has_put(item.request.success) || has_put(item.request.failure))) {
    item.result = errors::too_many_requests(kErrNoSpace);
    return;
  }
  Executor ex = executor();
  auto path = txn_path(item.request, view);
  auto result = ex.txn(item.request, path);
  if (result) {
    if (auto error = unstorable(ex)) {
      result = *error;
    }
  }
  if (!result) {
    ex.rollback();
  } else {
    persist(ex);
  }
  item.result = std::move(result);
}

// Only the compaction point is written here; reads below it fail from the publish on, and the rows
// go later in slices (compaction_slice) so a large compaction never stalls writes.
void Store::Impl::Writer::exec(Item<CompactRequest, CompactResponse>& item) {
  const std::int64_t rev = item.request.revision;
  if (rev <= batch_compact) {
    item.result = errors::gone(kErrCompacted);
    return;
  }
  if (rev > batch_rev) {
    item.result = errors::out_of_range(kErrFutureRev);
    return;
  }
  set_meta("compact_revision", rev);
  batch_compact = rev;
  item.result = CompactResponse{batch_rev};
}

// Granting takes no revision (as in etcd); the deadline is absolute wall-clock time so it survives
// a restart.
void Store::Impl::Writer::exec(Item<GrantRequest, LeaseGrantResponse>& item) {
  if (over_quota) {
    item.result = errors::too_many_requests(kErrNoSpace);
    return;
  }
  std::int64_t ttl = std::max(item.request.ttl, impl.options.lease_min_ttl);
  if (item.request.ttl > kMaxLeaseTtl) {
    item.result = errors::out_of_range(kErrLeaseTtlTooLarge);
    return;
  }
  std::int64_t id = item.request.id;
  if (id == 0) {
    do {
      id = static_cast<std::int64_t>(rng() >> 1);  // positive int64
    } while (id == 0 || view.lease_exists(id));
  } else if (view.lease_exists(id)) {
    item.result = errors::already_exists(kErrLeaseExists);
    return;
  }
  LeaseRow row{ttl, impl.now_ms() + ttl * 1000};
  impl.wdb->prepare(kUpsertLease).bind(1, id).bind(2, row.ttl).bind(3, row.deadline_ms).run();
  view.set_lease(id, row, nullptr);
  item.result = LeaseGrantResponse{batch_rev, id, ttl};
}

void Store::Impl::Writer::exec(Item<RevokeRequest, std::int64_t>& item) {
  Executor ex = executor();
  auto result = ex.revoke(item.request.id);
  if (result) {
    if (auto error = unstorable(ex)) {
      result = *error;
    }
  }
  if (!result) {
    ex.rollback();
    item.result = std::move(result);
    return;
  }
  persist(ex);
  impl.wdb->prepare(kDeleteLease).bind(1, item.request.id).run();
  item.result = std::move(result);
}

// A renewal is persisted like a grant, so a restart does not shorten a lease a client kept alive.
void Store::Impl::Writer::exec(Item<KeepAliveRequest, std::int64_t>& item) {
  auto row = view.lease(item.request.id);
  const std::int64_t now = impl.now_ms();
  if (!row || row->deadline_ms <= now) {
    item.result = std::int64_t{0};  // unknown or already expired: etcd answers TTL 0
    return;
  }
  row->deadline_ms = now + row->ttl * 1000;
  impl.wdb->prepare(kUpsertLease)
      .bind(1, item.request.id)
      .bind(2, row->ttl)
      .bind(3, row->deadline_ms)
      .run();
  view.set_lease(item.request.id, row, nullptr);
  item.result = row->ttl;
}

void Store::Impl::Writer::exec(Item<DefragmentRequest, std::int64_t>& item) {
  // Never batched (see run()); reaching here would be a bug, answer harmlessly.
  item.result = batch_rev;
}

// A Defragment returns the free pages in vacuum steps between write batches (one whole-file
// vacuum held every writer for as long as it took: ~25 s for 120k pages), for at most
// defragment_budget, then has the checkpointer copy the WAL into the shrunken file, and answers
// once that is done or another defragment_budget passed (a WAL that a huge transaction grew can
// take longer; it then completes in the background): about 2 s at most, whatever the file.
void Store::Impl::Writer::run_defragment(Item<DefragmentRequest, std::int64_t>& item) {
  if (defrags.empty()) {
    defrag_vacuum_until = Clock::now() + impl.options.defragment_budget;
  }
  vacuum_pending = true;
  defrags.push_back(std::move(item.done));
}

void Store::Impl::Writer::finish_defragments() {
  const std::int64_t revision = impl.revision.load();
  const auto deadline = Clock::now() + impl.options.defragment_budget;
  for (auto& done : defrags) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto shared_done = std::make_shared<Callback<std::int64_t>>(std::move(done));
    impl.checkpointer->request_full([answered, shared_done, revision] {
      if (!answered->exchange(true) && *shared_done) {
        (*shared_done)(revision);
      }
    }, deadline);
    awaiting.push_back(AwaitingDefrag{answered,
                                      [shared_done](Result<std::int64_t> r) {
                                        if (*shared_done) {
                                          (*shared_done)(std::move(r));
                                        }
                                      },
                                      deadline});
  }
  defrags.clear();
}

void Store::Impl::Writer::answer_expired_defragments(bool all) {
  const auto now = Clock::now();
  std::erase_if(awaiting, [&](AwaitingDefrag& waiting) {
    if (waiting.answered->load()) {
      return true;
    }
    if (!all && now < waiting.deadline) {
      return false;
    }
    if (!waiting.answered->exchange(true)) {
      waiting.done(impl.revision.load());
    }
    return true;
  });
}

// --- background work
// ------------------------------------------------------------------------------

// Compaction runs in steps between write batches, in segments of up to kSegmentRows history rows
// after the cursor (rows of revisions in (compacted_through, compaction point]):
//  1. collect: read the segment's rows compaction_slice at a time (reads only) and note the rows
//     they doom: each row supersedes the one it points at, and a tombstone also removes itself;
//  2. delete the doomed rows in id order, in transactions of at least compaction_slice rows that
//     go on while no request waits, up to kSliceBudget; the last records compacted_through.
// The doomed rows of one revision (a prefix delete's tombstones, in key order) are scattered over
// the whole history; deleting them in file order touches each page about once, where deleting them
// in the order they were found rewrote most pages once per transaction (~2 GB of WAL for check
// perf l's 220k-key delete). What survives is the newest version <= the compaction point of every
// key still live there. A crash loses only the current segment's progress: its rows are found
// and deleted again (deleting a deleted row is a no-op). A failed step is retried a second later.
void Store::Impl::Writer::compaction_slice() {
  std::int64_t done = 0;
  {
    std::lock_guard lock(impl.queue_mu);
    done = impl.compacted_through;
  }
  if (compaction_started == Clock::time_point{}) {
    compaction_started = Clock::now();
    compaction_frames_at = frames_written;
    slices_at = compaction_slices;
  }
  const auto start = Clock::now();
  try {
    if (!segment.collected) {
      collect_segment(done);
      if (!segment.collected) {
        return;  // more to read: the next step continues
      }
    }
    const std::size_t first = segment.next;
    impl.wdb->prepare(kBegin).run();
    try {
      auto& del = impl.wdb->prepare(kDeleteRow);
      const auto min_rows =
          static_cast<std::size_t>(std::max<std::int64_t>(impl.options.compaction_slice, 1));
      std::size_t n = 0;
      while (segment.next < segment.doomed.size()) {
        del.bind(1, segment.doomed[segment.next]).run();
        ++segment.next;
        // At least compaction_slice rows per transaction, so compaction keeps up under steady
        // load; beyond that only while no request waits (checked every 64 rows).
        if (++n >= min_rows && n % 64 == 0 &&
            (Clock::now() - start >= kSliceBudget || !queue_empty())) {
          break;
        }
      }
      const bool complete = segment.next == segment.doomed.size();
      if (complete && segment.through > done) {
        set_meta("compacted_through", segment.through);
      }
      impl.wdb->prepare(kCommit).run();
      ++compaction_slices;
      if (!complete) {
        return;
      }
    } catch (...) {
      segment.next = first;  // nothing of this transaction happened
      try {
        impl.wdb->exec("ROLLBACK");
      } catch (const sql::SqliteError&) {
      }
      throw;
    }
  } catch (const sql::SqliteError& e) {
    log::warn(kComponent, "compaction after revision {} failed, retrying: {}", done, e.what());
    retry_compaction_at = Clock::now() + std::chrono::seconds(1);
    return;
  }
  // The segment is done.
  const std::int64_t through = segment.through;
  const std::int64_t target = segment.target;
  cursor = segment.cursor;
  segment = Segment{};
  if (through >= target && target >= impl.compact_rev.load()) {
    vacuum_pending = true;
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - compaction_started);
    log::info(kComponent,
              "compaction through revision {} done: {} transactions, {} ms, {} MiB of WAL", target,
              compaction_slices - slices_at, took.count(),
              (frames_written - compaction_frames_at) * kFrameBytes >> 20);
    compaction_started = Clock::time_point{};
  }
  if (through > done) {
    {
      std::lock_guard lock(impl.queue_mu);
      impl.compacted_through = through;
    }
    impl.compaction_cv.notify_all();
  }
}

// Reads the next compaction_slice rows of the segment (one step). Sets segment.collected when the
// segment is full or reached the compaction point.
void Store::Impl::Writer::collect_segment(std::int64_t done) {
  if (segment.rows == 0 && segment.doomed.empty()) {
    segment.target = impl.compact_rev.load();
    segment.cursor = std::max(cursor, row_id(done + 1, 0) - 1);
    segment.through = done;
  }
  const std::int64_t max_rows = std::max<std::int64_t>(impl.options.compaction_slice, 1);
  const auto start = Clock::now();
  bool finished = false;
  // One chunk, then more while no request waits, up to kSliceBudget (reads are cheap).
  do {
    std::int64_t read = 0;
    std::int64_t last = 0;
    {
      auto& select = impl.wdb->prepare(kSliceRows);
      sql::StatementReset guard(select);
      select.bind(1, segment.cursor).bind(2, row_id(segment.target + 1, 0)).bind(3, max_rows);
      while (select.step()) {
        last = select.column_int64(0);
        if (select.column_int64(2) != 0) {
          segment.doomed.push_back(select.column_int64(2));  // the row it superseded
        }
        if (select.column_int64(1) != 0) {
          segment.doomed.push_back(last);  // a tombstone
        }
        ++read;
      }
    }
    ++compaction_chunks;
    segment.rows += read;
    // A short read means everything up to the target is covered; otherwise every revision
    // before the last row's is.
    finished = read < max_rows;
    if (read > 0) {
      segment.cursor = last;
    }
    segment.through = std::max(segment.through, finished ? segment.target : row_revision(last) - 1);
  } while (!finished && segment.rows < kSegmentRows && Clock::now() - start < kSliceBudget &&
           queue_empty());
  if (finished || segment.rows >= kSegmentRows) {
    std::sort(segment.doomed.begin(), segment.doomed.end());
    segment.collected = true;
  }
}

// Returns freed pages to the file system a bounded number at a time (auto_vacuum=INCREMENTAL), so a
// compaction that freed hundreds of megabytes never holds the writer for long. Moving a page costs
// anything from a few microseconds to a millisecond (its parent and pointer-map entry are updated,
// perhaps read from disk), so the step size follows the measured time per page.
void Store::Impl::Writer::vacuum_step() {
  try {
    const std::int64_t free = impl.wdb->query_int("PRAGMA freelist_count");
    if (free == 0) {
      vacuum_pending = false;
      return;
    }
    if (vacuum_started == Clock::time_point{}) {
      vacuum_started = Clock::now();
      vacuum_frames_at = frames_written;
      vacuum_free_at = free;
      vacuum_steps = 0;
    }
    const std::int64_t live = impl.wdb->query_int("PRAGMA page_count") - free;
    const auto start = Clock::now();
    if (live <= kFullVacuumMaxLive && free >= live) {
      // Mostly free (e.g. everything was deleted and compacted): rewriting the few live pages is
      // far cheaper than incremental vacuum, which looks each free page up in the free list and
      // writes a page or three per page it returns (gigabytes of WAL after check perf l).
      impl.wdb->exec("VACUUM");
    } else {
      impl.wdb->exec(fmt::format("PRAGMA incremental_vacuum({})", vacuum_pages));
      const auto took = Clock::now() - start;
      if (took > kVacuumStepTarget) {
        vacuum_pages = std::max(kVacuumMinPages, vacuum_pages / 2);
      } else if (took < kVacuumStepTarget / 2) {
        vacuum_pages = std::min(kVacuumMaxPages, vacuum_pages * 2);
      }
    }
    ++vacuum_steps;
    vacuum_pending = impl.wdb->query_int("PRAGMA freelist_count") > 0;
    if (!vacuum_pending) {
      trim_wanted = true;
      const auto took =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - vacuum_started);
      log::info(kComponent, "returned {} free pages in {} steps, {} ms, {} MiB of WAL",
                vacuum_free_at, vacuum_steps, took.count(),
                (frames_written - vacuum_frames_at) * kFrameBytes >> 20);
      vacuum_started = Clock::time_point{};
    }
  } catch (const sql::SqliteError& e) {
    log::debug(kComponent, "vacuum skipped: {}", e.what());
    vacuum_pending = false;
    vacuum_started = Clock::time_point{};
  }
}

// Expired leases are revoked through an ordinary batch, so their deletions get revisions, watch
// events and persistence exactly like a client's revoke.
void Store::Impl::Writer::expire_leases() {
  const std::int64_t now = impl.now_ms();
  std::vector<WriteItem> batch;
  for (const auto& [id, lease] : impl.leases) {
    if (lease.row.deadline_ms <= now) {
      batch.emplace_back(Item<RevokeRequest, std::int64_t>{RevokeRequest{id}, {}, std::nullopt});
      if (batch.size() >= kMaxExpiriesPerCheck) {
        break;
      }
    }
  }
  if (!batch.empty()) {
    log::debug(kComponent, "expiring {} leases", batch.size());
    run_batch(batch);
  }
}

// Keeps both the newest compaction_keep_revisions revisions and every revision younger than
// compaction_keep_duration: the (time, revision) samples tell which revision was current that long
// ago.
void Store::Impl::Writer::auto_compact() {
  const auto& opts = impl.options;
  const std::int64_t now = impl.now_ms();
  const std::int64_t current = impl.revision.load();
  samples.emplace_back(now, current);
  // The newest sample old enough bounds what may go; drop samples older than it.
  const std::int64_t horizon = now - opts.compaction_keep_duration.count();
  while (samples.size() > 1 && samples[1].first <= horizon) {
    samples.pop_front();
  }
  if (samples.empty() || samples.front().first > horizon) {
    return;
  }
  std::int64_t target = std::min(current - opts.compaction_keep_revisions, samples.front().second);
  if (target <= impl.compact_rev.load() || target < 1) {
    return;
  }
  std::vector<WriteItem> batch;
  batch.emplace_back(
      Item<CompactRequest, CompactResponse>{CompactRequest{target}, {}, std::nullopt});
  run_batch(batch);
}

}  // namespace skiff::kv
