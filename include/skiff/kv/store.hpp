// SPDX-License-Identifier: Apache-2.0
#pragma once

// kv::Store: the embedded, revisioned key-value store every Skiff object lives in. etcd v3 semantics
// (see types.hpp) on one SQLite file:
//   - a log of revisions (`history`) plus a current-value index (in memory, rebuilt from SQLite's `current`
//     table at open), so get/list cost depends on the live keys in range, not on history length;
//   - one writer thread with group commit: queued write requests share one SQLite transaction, each still
//     gets its own revision; nothing is acknowledged before its transaction committed
//     (`synchronous=FULL` by default: an acknowledged write survives power loss);
//   - watch events pushed from the commit path into an in-memory window (no polling); a watcher that falls
//     behind the window is caught up from the log;
//   - leases with persisted deadlines; automatic compaction in small slices between write batches; a
//     bounded WAL and incremental vacuum.
//
// Errors (Result values): messages are etcd's texts without the "etcdserver: " prefix (the etcd shim adds
// it), reasons as listed per method. Constants below name the texts that callers compare.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/kv/types.hpp"

namespace skiff::kv {

inline constexpr std::string_view kErrKeyNotProvided = "key is not provided";          // kBadRequest
inline constexpr std::string_view kErrCompacted = "mvcc: required revision has been compacted";  // kGone
inline constexpr std::string_view kErrFutureRev = "mvcc: required revision is a future revision";  // kOutOfRange
inline constexpr std::string_view kErrTooManyOps = "too many operations in txn request";  // kBadRequest
inline constexpr std::string_view kErrDuplicateKey = "duplicate key given in txn request";  // kBadRequest
inline constexpr std::string_view kErrKeyNotFound = "key not found";                  // kBadRequest
inline constexpr std::string_view kErrValueProvided = "value is provided";            // kBadRequest
inline constexpr std::string_view kErrLeaseProvided = "lease is provided";            // kBadRequest
inline constexpr std::string_view kErrLeaseNotFound = "requested lease not found";    // kNotFound
inline constexpr std::string_view kErrLeaseExists = "lease already exists";           // kAlreadyExists
inline constexpr std::string_view kErrLeaseTtlTooLarge = "too large lease TTL";       // kOutOfRange
inline constexpr std::string_view kErrNoSpace = "mvcc: database space exceeded";      // kTooManyRequests
inline constexpr std::string_view kErrStopped = "server stopped";                     // kUnavailable

/// How the store is opened. Durations are fields so tests can make them tiny.
struct StoreOptions {
  std::string path;  ///< SQLite database file; created (with its folder) if missing
  /// true: synchronous=FULL (an acknowledged write survives power loss). false: NORMAL (faster; the last
  /// acknowledged writes may be lost on power loss, never on a process crash).
  bool sync_full = true;
  /// Automatic compaction keeps at least the last `compaction_keep_revisions` revisions and everything
  /// younger than `compaction_keep_duration`. Off when `auto_compaction` is false (Compact still works).
  bool auto_compaction = true;
  std::int64_t compaction_keep_revisions = 1000;
  std::chrono::milliseconds compaction_keep_duration = std::chrono::minutes(5);
  std::chrono::milliseconds compaction_interval = std::chrono::seconds(10);
  /// Compaction step size in history rows. Compaction runs between write batches: each step reads
  /// or deletes at least this many rows and goes on only while no request waits (up to ~20 ms), so
  /// a request waits for at most one step; freed pages then go back in bounded vacuum steps.
  std::int64_t compaction_slice = 1000;
  /// Events kept in memory for watchers that are slightly behind; older ones are read from SQLite.
  std::size_t watch_window_bytes = 8u << 20;
  /// Most requests committed in one SQLite transaction.
  std::size_t max_batch = 256;
  /// After this much time without writes, the WAL is checkpointed completely (in the background)
  /// and heap memory freed by large deletes goes back to the system. Checkpoints otherwise run in
  /// the background as the WAL grows; the WAL file is reused in place, not truncated.
  std::chrono::milliseconds checkpoint_idle = std::chrono::seconds(1);
  /// Most bytes the WAL file keeps: SQLite cuts it back to this when it rewinds, and an idle
  /// checkpoint truncates a WAL that one huge transaction grew beyond it (or beyond twice
  /// wal_preallocate_bytes).
  std::int64_t wal_size_limit = 64LL << 20;
  /// The WAL file is extended with zeros to this size (at most wal_size_limit; in small steps
  /// while the store is idle, never at open) and rewound at about half of it, so commits overwrite
  /// allocated blocks instead of growing the file: on the benchmark VM an fdatasync that grows a
  /// file costs 2-30x one that overwrites (docs/benchmarks.md). Skipped while the file system has
  /// less than 8x this free. 0 = let the WAL grow on demand.
  std::int64_t wal_preallocate_bytes = 16LL << 20;
  /// Refuse writes (kErrNoSpace) once the database file exceeds this many bytes; 0 = no quota.
  std::int64_t quota_bytes = 0;
  /// Shortest lease TTL granted (shorter requests are raised, as etcd does), and how often expiry is checked.
  std::int64_t lease_min_ttl = 2;
  std::chrono::milliseconds lease_check_interval = std::chrono::milliseconds(250);
  /// A Defragment vacuums for at most this long, then waits at most this long for the checkpoint
  /// that shrinks the file (etcdctl gives up after 5 s); what is left continues in the background.
  std::chrono::milliseconds defragment_budget = std::chrono::seconds(1);
  /// Wall clock in milliseconds since the epoch (lease deadlines, compaction age). Tests inject their own.
  std::function<std::int64_t()> now_ms;
};

template <class T>
using Callback = std::function<void(Result<T>)>;

/// Where a write may be committed (see Store).
enum class CommitOn {
  kWriter,        ///< always queued to the writer thread
  /// On the calling thread when the writer is idle and nothing is queued: the caller then waits for
  /// the commit and its fsync, and the callback (and watchers' notify) runs before the method
  /// returns. Saves two thread hand-offs per write of a client that writes one at a time. For
  /// callers that may block for a disk flush (the etcd endpoint's gRPC threads), not for event
  /// loops.
  kCallerIfIdle,
};

class Watcher;

/// The store. Thread-safe: any method may be called from any thread.
///
/// Reads (`range`, `txn` that turns out read-only, lease queries) run on the calling thread against the
/// in-memory index (or SQLite for historical revisions) and do not wait for writers beyond a short lock.
/// Writes are queued to the single writer thread; the callback runs once the write committed (or
/// failed), **on a store thread**: the writer itself when it has nothing else to do, otherwise the
/// store's completion thread, so that sending responses overlaps the next commit (or the caller's
/// own thread with CommitOn::kCallerIfIdle when the writer is idle). Either way callbacks
/// run one at a time and in commit order; they must not block and must not call a blocking (`*_sync`)
/// method of the store. Three cases are answered on the **calling thread** before the method returns
/// instead: a request rejected by its static checks (empty key, ignore_* with a value or
/// lease, a malformed txn), a txn whose chosen branches only read (it needs no revision), and any request
/// made once the store is shutting down (kErrStopped).
class Store {
 public:
  /// Opens (creating if needed) the database and starts the writer thread. Errors: kUnavailable when the
  /// file cannot be opened, is read-only or corrupt (message says which and where).
  static Result<std::unique_ptr<Store>> open(StoreOptions options);

  /// Stops the writer after committing what is queued; pending callbacks complete first. Watchers must be
  /// destroyed before the store.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Latest committed revision (1 on a fresh store).
  std::int64_t current_revision() const;
  /// Revisions below this are compacted (0 if never compacted).
  std::int64_t compact_revision() const;

  /// Errors: kErrKeyNotProvided, kErrCompacted, kErrFutureRev.
  Result<RangeResponse> range(const RangeRequest& request) const;

  /// Errors: kErrKeyNotProvided, kErrKeyNotFound / kErrValueProvided / kErrLeaseProvided (ignore_*),
  /// kErrLeaseNotFound, kErrNoSpace, kErrStopped, kUnavailable (disk error: nothing was written).
  void put(PutRequest request, Callback<PutResponse> done, CommitOn on = CommitOn::kWriter);
  void delete_range(DeleteRangeRequest request, Callback<DeleteRangeResponse> done,
                    CommitOn on = CommitOn::kWriter);
  /// Errors: as put/range, plus kErrTooManyOps, kErrDuplicateKey, kErrKeyNotFound (empty op).
  void txn(TxnRequest request, Callback<TxnResponse> done, CommitOn on = CommitOn::kWriter);
  /// Compacts history below `revision`. Errors: kErrCompacted (revision <= compaction point),
  /// kErrFutureRev. Completes once the compaction point is recorded; the removal of old rows proceeds in
  /// slices afterwards (reads below the point fail at once).
  void compact(std::int64_t revision, Callback<CompactResponse> done);

  /// `id == 0` picks an unused positive ID. Errors: kErrLeaseExists, kErrLeaseTtlTooLarge.
  void lease_grant(std::int64_t id, std::int64_t ttl, Callback<LeaseGrantResponse> done);
  /// Deletes the lease's keys in one revision. Errors: kErrLeaseNotFound.
  void lease_revoke(std::int64_t id, Callback<std::int64_t> done);  ///< value: header revision
  /// Renews to the granted TTL; value: the TTL, or 0 for an unknown/expired lease (not an error).
  void lease_keep_alive(std::int64_t id, Callback<std::int64_t> done);
  LeaseTimeToLiveResponse lease_time_to_live(std::int64_t id, bool keys) const;
  std::vector<std::int64_t> lease_list() const;

  /// Status figures (sizes from SQLite's page counts; db_size adds the WAL frames not yet copied
  /// into the file, not the WAL's preallocated length).
  StoreStatus status() const;
  /// Returns free pages to the file system (incremental vacuum in short steps between write batches,
  /// so writes are not held up) and checkpoints the WAL so the file shrinks (Maintenance.Defragment).
  /// Completes once the free list is empty and the WAL is all in the (shrunk) file, but after about
  /// twice StoreOptions::defragment_budget at most (one of vacuum, one of checkpoint): what is left,
  /// e.g. pages a compaction still frees, goes back in the background as always. Its callback may
  /// run after those of writes queued behind it, on a store thread.
  void defragment(Callback<std::int64_t> done);

  /// Registers a watcher. `notify` is called (on the committing thread, without store locks held) whenever
  /// new revisions are committed that may concern it; it must not block and must not destroy the
  /// Watcher (the destructor waits for a running notify): the consumer then calls Watcher::poll() from
  /// its own thread until it returns nothing. A notify may be spurious (e.g. for a revision just before
  /// the watch started). `notify` is also called once right away, on the calling thread, if the watcher
  /// has history to replay (or a compacted start to report). Errors: kBadRequest "mvcc: watcher range is
  /// empty" when key >= range_end.
  Result<std::unique_ptr<Watcher>> watch(WatchOptions options, std::function<void()> notify);

  // Blocking conveniences for tools and tests (never call them from a callback).
  Result<PutResponse> put_sync(PutRequest request);
  Result<DeleteRangeResponse> delete_range_sync(DeleteRangeRequest request);
  Result<TxnResponse> txn_sync(TxnRequest request);
  Result<CompactResponse> compact_sync(std::int64_t revision);
  Result<LeaseGrantResponse> lease_grant_sync(std::int64_t id, std::int64_t ttl);
  Result<std::int64_t> lease_revoke_sync(std::int64_t id);
  Result<std::int64_t> lease_keep_alive_sync(std::int64_t id);

  /// Waits until automatic/requested compaction has removed every row below the compaction point
  /// (tests, benchmarks).
  void wait_compaction_idle_for_test();

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A registered watch. Not thread-safe itself: one consumer at a time calls poll(). Destroying it
/// unregisters it (no notify after the destructor returned).
class Watcher {
 public:
  virtual ~Watcher() = default;

  /// The next events for this watcher in (revision, op) order: whole revisions, about `max_bytes` at most
  /// but always at least one revision if one is pending. Empty when caught up. Errors: kGone
  /// (kErrCompacted) when the next revision it needs was compacted: the watch cannot continue, and the
  /// caller reports Store::compact_revision().
  virtual Result<std::vector<Event>> poll(std::size_t max_bytes) = 0;

  /// The next revision this watcher will deliver: every revision below it has been delivered (or had no
  /// event for it). After a poll() that returned nothing it is current_revision() + 1 as of that poll.
  virtual std::int64_t next_revision() const = 0;
};

}  // namespace skiff::kv
