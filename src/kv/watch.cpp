// SPDX-License-Identifier: Apache-2.0
// Watchers: a pull model over the in-memory window of recent revisions, falling back to the history
// table for revisions that have left the window. The writer only calls `notify`; all copying
// happens on the consumer's thread in poll().

#include <algorithm>

#include "store_impl.hpp"

namespace skiff::kv {

namespace {

constexpr std::string_view kErrWatchRangeEmpty = "mvcc: watcher range is empty";

// Rows of a revision range within a key interval, with the row each one superseded (for prev_kv).
constexpr const char* kReplayColumns =
    "SELECT h.id, h.key, h.create_rev, h.version, h.lease, h.deleted, h.value, "
    "p.id, p.create_rev, p.version, p.lease, p.value "
    "FROM history h LEFT JOIN history p ON p.id = h.prev "
    "WHERE h.id >= ?1 AND h.id < ?2 AND h.key >= ?3 ";

class WatcherImpl final : public Watcher {
public:
  WatcherImpl(Store::Impl& store, WatchOptions options, KeyInterval interval, std::int64_t next,
              std::shared_ptr<WatchShared> shared)
      : store_(store),
        options_(std::move(options)),
        interval_(std::move(interval)),
        next_(next),
        shared_(std::move(shared)) {}

  ~WatcherImpl() override { store_.unregister(shared_); }

  Result<std::vector<Event>> poll(std::size_t max_bytes) override;
  std::int64_t next_revision() const override { return next_.load(); }

private:
  bool wanted(const Event& event) const {
    if (event.type == Event::Type::kPut ? options_.filter_put : options_.filter_delete) {
      return false;
    }
    return interval_.contains(event.kv.key);
  }
  void add(const Event& event, std::vector<Event>& out, std::size_t& bytes) const {
    Event copy;
    copy.type = event.type;
    copy.kv = event.kv;
    if (options_.prev_kv) {
      copy.prev_kv = event.prev_kv;
    }
    bytes += event_bytes(copy);
    out.push_back(std::move(copy));
  }
  /// Replays [next_, upper] from SQLite; stops after a whole revision once `bytes` reaches the
  /// budget.
  std::optional<Error> replay(std::int64_t upper, std::size_t max_bytes, std::vector<Event>& out,
                              std::size_t& bytes);

  Store::Impl& store_;
  WatchOptions options_;
  KeyInterval interval_;
  std::atomic<std::int64_t> next_;
  std::shared_ptr<WatchShared> shared_;
};

// next_ only moves forward and only past revisions that were fully delivered (or had nothing for
// this watcher), which gives the no-gap/no-duplicate guarantee across the window/SQLite hand-over:
// whichever source serves revision N, the next poll asks for N+1.
Result<std::vector<Event>> WatcherImpl::poll(std::size_t max_bytes) {
  std::vector<Event> out;
  std::size_t bytes = 0;
  while (true) {
    std::shared_lock lock(store_.mu);
    const std::int64_t current = store_.revision.load();
    std::int64_t next = next_.load();
    if (next < store_.compact_rev.load()) {
      return errors::gone(kErrCompacted);
    }
    if (next > current) {
      return out;  // caught up, or a start revision still in the future
    }
    // The window holds every revision from window_first to `current` contiguously, so the revision
    // `next` sits at a computable index.
    if (next >= store_.window_first && !store_.window.empty()) {
      const auto& window = store_.window;
      auto index = static_cast<std::size_t>(next - window.front().revision);
      for (; index < window.size(); ++index) {
        const WindowRevision& rev = window[index];
        for (const Event& event : rev.events) {
          if (wanted(event)) {
            add(event, out, bytes);
          }
        }
        next_.store(rev.revision + 1);
        if (!out.empty() && bytes >= max_bytes) {
          return out;
        }
      }
      next_.store(current + 1);
      return out;
    }
    // Behind the window: read the gap from the history table, without holding the lock.
    const std::int64_t upper = store_.window_first - 1;
    lock.unlock();
    if (auto error = replay(upper, max_bytes, out, bytes)) {
      return *error;
    }
    if (!out.empty() && bytes >= max_bytes) {
      return out;
    }
  }
}

// Rows come in (rev, sub) order, which is the order the events were committed in; the byte budget
// is only checked at revision boundaries so a revision is never split across polls.
std::optional<Error> WatcherImpl::replay(std::int64_t upper, std::size_t max_bytes,
                                         std::vector<Event>& out, std::size_t& bytes) {
  if (upper < next_.load()) {
    return std::nullopt;
  }
  try {
    PooledConnection db(store_.pool);
    db->prepare("BEGIN").run();
    struct End {
      sql::Connection& db;
      ~End() {
        try {
          db.prepare("ROLLBACK").run();
        } catch (const sql::SqliteError&) {
        }
      }
    } end{*db};
    // The compaction point is re-read inside the snapshot: rows below it may already be gone.
    const std::int64_t from = next_.load();
    {
      auto& meta = db->prepare("SELECT value FROM meta WHERE name = 'compact_revision'");
      sql::StatementReset guard(meta);
      if (meta.step() && from < meta.column_int64(0)) {
        return errors::gone(kErrCompacted);
      }
    }
    std::string sql = kReplayColumns;
    sql += interval_.unbounded ? "ORDER BY h.id" : "AND h.key < ?4 ORDER BY h.id";
    auto& stmt = db->prepare(sql);
    sql::StatementReset guard(stmt);
    stmt.bind(1, row_id(from, 0)).bind(2, row_id(upper + 1, 0)).bind_blob(3, interval_.begin);
    if (!interval_.unbounded) {
      stmt.bind_blob(4, interval_.end);
    }
    std::int64_t last_rev = 0;
    while (stmt.step()) {
      const std::int64_t rev = row_revision(stmt.column_int64(0));
      if (rev != last_rev && last_rev != 0) {
        // Revision `last_rev` is complete: everything before `rev` has been delivered.
        next_.store(rev);
        if (!out.empty() && bytes >= max_bytes) {
          return std::nullopt;
        }
      }
      last_rev = rev;
      Event event;
      event.kv.key = stmt.column_blob(1);
      event.kv.mod_revision = rev;
      if (stmt.column_int64(5) != 0) {
        event.type = Event::Type::kDelete;
      } else {
        event.type = Event::Type::kPut;
        event.kv.create_revision = stmt.column_int64(2);
        event.kv.version = stmt.column_int64(3);
        event.kv.lease = stmt.column_int64(4);
        stmt.column_blob_into(6, event.kv.value);
      }
      if (event.type == Event::Type::kPut ? options_.filter_put : options_.filter_delete) {
        continue;
      }
      // The LEFT JOIN finds the superseded row through prev; it is absent for
      // creations and when compaction already removed it (etcd then omits prev_kv as well).
      if (options_.prev_kv && !stmt.column_is_null(7)) {
        KeyValue prev;
        prev.key = event.kv.key;
        prev.mod_revision = row_revision(stmt.column_int64(7));
        prev.create_revision = stmt.column_int64(8);
        prev.version = stmt.column_int64(9);
        prev.lease = stmt.column_int64(10);
        stmt.column_blob_into(11, prev.value);
        event.prev_kv = std::move(prev);
      }
      bytes += event_bytes(event);
      out.push_back(std::move(event));
    }
    next_.store(upper + 1);
    return std::nullopt;
  } catch (const sql::SqliteError& e) {
    return sqlite_error(store_.options.path, e);
  }
}

// Only watchers with a matching event are woken, so idle watchers on other prefixes cost nothing
// but this scan.
bool interested(const WatchShared& shared, const std::vector<WindowRevision>& committed) {
  for (const auto& rev : committed) {
    for (const auto& event : rev.events) {
      bool filtered = event.type == Event::Type::kPut ? shared.filter_put : shared.filter_delete;
      if (!filtered && shared.interval.contains(event.kv.key)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

void Store::Impl::unregister(const std::shared_ptr<WatchShared>& shared) {
  {
    std::lock_guard lock(watchers_mu);
    auto it = std::find(watchers.begin(), watchers.end(), shared);
    if (it != watchers.end()) {
      *it = std::move(watchers.back());
      watchers.pop_back();
    }
  }
  // Waits for a notify in progress; none starts afterwards.
  std::lock_guard lock(shared->mu);
  shared->active = false;
}

std::vector<std::shared_ptr<WatchShared>> Store::Impl::watchers_for(
    const std::vector<WindowRevision>& committed) {
  std::vector<std::shared_ptr<WatchShared>> targets;
  if (committed.empty()) {
    return targets;
  }
  std::lock_guard lock(watchers_mu);
  for (const auto& shared : watchers) {
    if (interested(*shared, committed)) {
      targets.push_back(shared);
    }
  }
  return targets;
}

void Store::Impl::notify_watchers(const std::vector<std::shared_ptr<WatchShared>>& targets) {
  for (const auto& shared : targets) {
    std::lock_guard lock(shared->mu);
    if (shared->active && shared->notify) {
      shared->notify();
    }
  }
}

// A watch is only a cursor (next revision) plus a filter; no events are queued per watcher, so a
// slow or far-behind watcher costs nothing until it polls.
Result<std::unique_ptr<Watcher>> Store::watch(WatchOptions options, std::function<void()> notify) {
  if (options.key.empty()) {
    options.key = std::string(1, '\0');
  }
  KeyInterval interval = make_interval(options.key, options.range_end);
  if (interval.empty) {
    return errors::bad_request(kErrWatchRangeEmpty);
  }
  auto shared = std::make_shared<WatchShared>();
  shared->notify = std::move(notify);
  shared->interval = interval;
  shared->filter_put = options.filter_put;
  shared->filter_delete = options.filter_delete;
  // Register before reading the revision: a commit in between then notifies rather than being
  // missed.
  {
    std::lock_guard lock(impl_->watchers_mu);
    impl_->watchers.push_back(shared);
  }
  const std::int64_t current = impl_->revision.load();
  const std::int64_t start = options.start_revision;
  const std::int64_t next = start == 0 ? current + 1 : start;
  auto watcher =
      std::make_unique<WatcherImpl>(*impl_, std::move(options), std::move(interval), next, shared);
  if (start != 0 && start <= current) {
    std::lock_guard lock(shared->mu);
    if (shared->notify) {
      shared->notify();  // history to replay (or a compacted start to report)
    }
  }
  return std::unique_ptr<Watcher>(std::move(watcher));
}

}  // namespace skiff::kv
