// SPDX-License-Identifier: Apache-2.0
// Store: opening and loading the database, the reads that run on the caller's thread, and the thin
// public wrappers that queue writes for the writer thread (writer.cpp).

#include "skiff/kv/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>

#include "skiff/base/log.hpp"

#include "store_impl.hpp"

namespace skiff::kv {

namespace {

constexpr std::string_view kComponent = "kv";
constexpr int kSchemaVersion = 2;
constexpr int kBusyTimeoutMs = 5000;

// auto_vacuum must be set before the first table exists; on an existing file it is a no-op.
// `history` is deliberately a rowid table: in a WITHOUT ROWID table a row is stored like an index
// entry, which spills anything over ~1000 bytes (4 KiB pages) into overflow pages, so 1 KiB values
// cost 4.7 KiB per row there against 1.4 KiB here (measured). The rowid is the row's position,
// (rev << 20) | sub (see row_id()), so rows append in commit order and a row is found, pointed at
// (prev, current.id) and deleted through the table's own b-tree: schema 1 had a separate unique
// index on (rev, sub), one more page per commit, and compacting a large delete rewrote nearly all
// of that index once per slice (most of ~2 GB of WAL after etcdctl check perf l). `rev` and `sub`
// are computed columns for readability (no storage).
constexpr const char* kSchema = R"sql(
CREATE TABLE history(
  id INTEGER PRIMARY KEY, key BLOB NOT NULL, create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL, deleted INTEGER NOT NULL, value BLOB NOT NULL,
  prev INTEGER NOT NULL,
  rev INTEGER GENERATED ALWAYS AS (id >> 20) VIRTUAL,
  sub INTEGER GENERATED ALWAYS AS (id & 1048575) VIRTUAL);
CREATE INDEX history_key ON history(key);
CREATE TABLE current(key BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE leases(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL);
CREATE TABLE meta(name TEXT PRIMARY KEY, value);
INSERT INTO meta(name, value) VALUES ('schema_version', 2), ('revision', 1),
  ('compact_revision', 0), ('compacted_through', 0);
)sql";

// Schema 1 (before 2026-12) to 2: the same rows with their (rev, sub) folded into the rowid, in one
// transaction. Pointers to the previous row and `current`'s target are renumbered the same way.
constexpr const char* kMigrate1To2 = R"sql(
CREATE TABLE history2(
  id INTEGER PRIMARY KEY, key BLOB NOT NULL, create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL, deleted INTEGER NOT NULL, value BLOB NOT NULL,
  prev INTEGER NOT NULL,
  rev INTEGER GENERATED ALWAYS AS (id >> 20) VIRTUAL,
  sub INTEGER GENERATED ALWAYS AS (id & 1048575) VIRTUAL);
INSERT INTO history2(id, key, create_rev, version, lease, deleted, value, prev)
  SELECT (rev << 20) | sub, key, create_rev, version, lease, deleted, value,
         CASE WHEN prev_rev = 0 THEN 0 ELSE (prev_rev << 20) | prev_sub END
  FROM history ORDER BY rev, sub;
DROP TABLE history;
ALTER TABLE history2 RENAME TO history;
CREATE INDEX history_key ON history(key);
CREATE TABLE current2(key BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO current2(key, id) SELECT key, (rev << 20) | sub FROM current;
DROP TABLE current;
ALTER TABLE current2 RENAME TO current;
UPDATE meta SET value = 2 WHERE name = 'schema_version';
)sql";

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Ends a read transaction on a pooled connection whatever happens.
class ReadTransaction {
public:
  explicit ReadTransaction(sql::Connection& db) : db_(db) { db_.prepare("BEGIN").run(); }
  ~ReadTransaction() {
    try {
      db_.prepare("ROLLBACK").run();
    } catch (const sql::SqliteError&) {
      // Nothing was written; a failed end of a read transaction leaves nothing to undo.
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

private:
  sql::Connection& db_;
};

// Open failures are all kUnavailable (the process cannot serve), but the message says which kind,
// since the operator's fix differs: restore a backup, fix permissions, or fix the path.
Error open_error(const std::string& path, const sql::SqliteError& e) {
  switch (e.code()) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return errors::unavailable(fmt::format("database {} is corrupt: {}", path, e.what()));
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return errors::unavailable(fmt::format("database {} is not writable: {}", path, e.what()));
    case SQLITE_BUSY:
      // The file lock of another process's store (see sql::Connection::open).
      return errors::unavailable(fmt::format(
          "database {} is in use by another process (is another skiff server running on this "
          "data dir?): {}",
          path, e.what()));
    default:
      return errors::unavailable(fmt::format("cannot open database {}: {}", path, e.what()));
  }
}

std::int64_t meta_value(sql::Connection& db, const std::string& name) {
  auto& stmt = db.prepare("SELECT value FROM meta WHERE name = ?1");
  sql::StatementReset guard(stmt);
  stmt.bind_text(1, name);
  return stmt.step() ? stmt.column_int64(0) : 0;
}

/// Opens the write connection, configures it, checks the file and loads the state into `impl`.
std::optional<Error> load(Store::Impl& impl) {
  const std::string& path = impl.options.path;
  try {
    impl.wdb = sql::Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  } catch (const sql::SqliteError& e) {
    return errors::unavailable(fmt::format("cannot open database {}: {}", path, e.what()));
  }
  try {
    auto& db = *impl.wdb;
    // The first read takes the process lock: another process holding it fails here at once rather
    // than after the busy timeout.
    db.query_int("PRAGMA schema_version");
    sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {
      return errors::unavailable(fmt::format("database {} is not writable", path));
    }
    // Order matters: auto_vacuum only takes effect before the first table is created, and WAL mode
    // must be on before anything is written.
    db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    std::string mode = db.query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") {
      return errors::unavailable(
          fmt::format("database {} cannot use WAL mode (journal mode is {})", path, mode));
    }
    db.exec(impl.options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec(fmt::format("PRAGMA journal_size_limit = {}", impl.options.wal_size_limit));
    // 16 MiB of page cache for the writer (SQLite's default is 2 MiB): a compaction slice or a
    // large delete touches thousands of pages, and a transaction that outgrows the cache spills
    // pages to the WAL more than once. Filled only on demand and released when idle.
    db.exec("PRAGMA cache_size = -16384");
    // A damaged file is refused at open rather than discovered by the first unlucky read.
    std::string check = db.query_text("PRAGMA quick_check");
    if (check != "ok") {
      return errors::unavailable(fmt::format("database {} is corrupt: {}", path, check));
    }
    std::int64_t schema = 0;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (db.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'meta'") == 0) {
        db.exec(kSchema);
      } else if (meta_value(db, "schema_version") == 1) {
        log::info(kComponent, "migrating {} from schema 1 to 2", path);
        db.exec(kMigrate1To2);
      }
      schema = meta_value(db, "schema_version");
      db.exec("COMMIT");
    } catch (...) {
      try {
        db.exec("ROLLBACK");
      } catch (const sql::SqliteError&) {
      }
      throw;
    }
    if (schema != kSchemaVersion) {
      return errors::unavailable(
          fmt::format("database {} has unsupported schema version {}", path, schema));
    }
    // The current revision is that of the newest history row: every revision writes at least one
    // row in its own transaction. Compaction may have removed the newest revision's rows (the
    // tombstones of a delete compacted at that revision), but then the compaction point is that
    // revision. `meta.revision` is no longer updated per commit; files written before still have
    // it, and it is never ahead of either.
    const std::int64_t compact_revision = meta_value(db, "compact_revision");
    const std::int64_t revision =
        std::max({meta_value(db, "revision"), compact_revision,
                  row_revision(db.query_int("SELECT id FROM history ORDER BY id DESC LIMIT 1"))});
    impl.revision.store(revision);
    impl.compact_rev.store(compact_revision);
    impl.compacted_through = meta_value(db, "compacted_through");
    impl.window_first = revision + 1;

    // Leases first, so the key scan can attach each key to its lease. Deadlines are loaded as
    // stored: a lease that expired while the store was down is revoked by the writer's first expiry
    // check.
    auto& leases = db.prepare("SELECT id, ttl, expires_at_ms FROM leases");
    {
      sql::StatementReset guard(leases);
      while (leases.step()) {
        impl.leases[leases.column_int64(0)].row =
            LeaseRow{leases.column_int64(1), leases.column_int64(2)};
      }
    }
    auto& keys = db.prepare(
        "SELECT c.key, h.id, h.create_rev, h.version, h.lease, h.value FROM current c "
        "JOIN history h ON h.id = c.id");
    {
      sql::StatementReset guard(keys);
      while (keys.step()) {
        Entry entry;
        entry.kv.key = keys.column_blob(0);
        entry.kv.mod_revision = row_revision(keys.column_int64(1));
        entry.sub = row_sub(keys.column_int64(1));
        entry.kv.create_revision = keys.column_int64(2);
        entry.kv.version = keys.column_int64(3);
        entry.kv.lease = keys.column_int64(4);
        keys.column_blob_into(5, entry.kv.value);
        if (entry.kv.lease != 0) {
          if (auto it = impl.leases.find(entry.kv.lease); it != impl.leases.end()) {
            it->second.keys.insert(entry.kv.key);
          }
        }
        // `current` is a WITHOUT ROWID table keyed by `key`, so rows arrive sorted: append at the
        // end.
        std::string key = entry.kv.key;
        impl.keys.emplace_hint(impl.keys.end(), std::move(key), std::move(entry));
      }
    }
    log::info(kComponent, "opened {} at revision {} ({} keys, {} leases, compacted at {})", path,
              revision, impl.keys.size(), impl.leases.size(), impl.compact_rev.load());
  } catch (const sql::SqliteError& e) {
    return open_error(path, e);
  }
  return std::nullopt;
}

template <class T, class Start>
Result<T> wait_for(Start&& start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  start([&promise](Result<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace

// --- helpers shared with writer.cpp / watch.cpp
// ------------------------------------------------------

// A rough size (payload plus fixed overhead) is enough for both uses: bounding the window's memory
// and chunking poll() results.
std::size_t event_bytes(const Event& event) {
  std::size_t bytes = 64 + event.kv.key.size() + event.kv.value.size();
  if (event.prev_kv) {
    bytes += 48 + event.prev_kv->key.size() + event.prev_kv->value.size();
  }
  return bytes;
}

Error sqlite_error(const std::string& path, const sql::SqliteError& error) {
  if (error.code() == SQLITE_FULL) {
    return errors::too_many_requests(kErrNoSpace);
  }
  return errors::unavailable(fmt::format("database {}: {}", path, error.what()));
}

// A key is live at `revision` when its newest row at or below it is not a tombstone. Rows older
// than the compaction point may be gone, but the newest one at or below it always survives, which
// is all this needs for any revision the caller may read.
std::vector<KeyValue> read_history(sql::Connection& db, const KeyInterval& interval,
                                   std::int64_t revision) {
  std::vector<KeyValue> out;
  if (interval.empty) {
    return out;
  }
  auto& at = db.prepare(
      "SELECT id, create_rev, version, lease, deleted, value FROM history "
      "WHERE key = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1");
  auto read_key = [&](const std::string& key) {
    sql::StatementReset guard(at);
    at.bind_blob(1, key).bind(2, row_id(revision + 1, 0));
    if (at.step() && at.column_int64(4) == 0) {
      KeyValue kv;
      kv.key = key;
      kv.mod_revision = row_revision(at.column_int64(0));
      kv.create_revision = at.column_int64(1);
      kv.version = at.column_int64(2);
      kv.lease = at.column_int64(3);
      at.column_blob_into(5, kv.value);
      out.push_back(std::move(kv));
    }
  };
  if (interval.single()) {
    read_key(interval.begin);
    return out;
  }
  // Skip from one distinct key to the next through the (key, rev) index: the cost follows the keys
  // in the interval, not the length of their history.
  auto& next =
      db.prepare(interval.unbounded
                     ? "SELECT key FROM history WHERE key >= ?1 ORDER BY key LIMIT 1"
                     : "SELECT key FROM history WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT 1");
  std::string cursor = interval.begin;
  while (true) {
    std::string key;
    {
      sql::StatementReset guard(next);
      next.bind_blob(1, cursor);
      if (!interval.unbounded) {
        next.bind_blob(2, interval.end);
      }
      if (!next.step()) {
        break;
      }
      key = next.column_blob(0);
    }
    read_key(key);
    cursor = std::move(key);
    cursor.push_back('\0');
  }
  return out;
}

// Read connections are opened on demand and kept up to kMaxIdle; in WAL mode they read a consistent
// snapshot without blocking the writer. query_only guards against a stray write through them.
std::unique_ptr<sql::Connection> ReadPool::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
  }
  auto connection = sql::Connection::open(path_, SQLITE_OPEN_READWRITE);
  sqlite3_busy_timeout(connection->handle(), kBusyTimeoutMs);
  connection->exec("PRAGMA query_only = 1");
  return connection;
}

void ReadPool::release(std::unique_ptr<sql::Connection> connection) {
  if (!connection) {
    return;
  }
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) {
    idle_.push_back(std::move(connection));
  }
}

void ReadPool::clear() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

void Store::Impl::for_each_in_window(const KeyInterval& interval, std::int64_t revision,
                                     const std::function<void(const KeyValue&)>& fn) const {
  // The state at `revision` is the current state with every later change undone; the first event of
  // a key after `revision` carries the version it replaced (none for a creation).
  std::map<std::string_view, const KeyValue*> undo;
  if (!window.empty() && !interval.empty) {
    auto index = static_cast<std::size_t>(revision + 1 - window.front().revision);
    for (; index < window.size(); ++index) {
      for (const Event& event : window[index].events) {
        if (interval.contains(event.kv.key)) {
          undo.try_emplace(event.kv.key, event.prev_kv ? &*event.prev_kv : nullptr);
        }
      }
    }
  }
  if (interval.empty) {
    return;
  }
  auto in_range = [&](std::string_view key) {
    return interval.unbounded || key < std::string_view(interval.end);
  };
  auto live = keys.lower_bound(interval.begin);
  auto changed = undo.begin();
  while (true) {
    bool live_ok = live != keys.end() && in_range(live->first);
    bool changed_ok = changed != undo.end();
    if (!live_ok && !changed_ok) {
      return;
    }
    if (changed_ok && (!live_ok || changed->first <= std::string_view(live->first))) {
      if (live_ok && changed->first == std::string_view(live->first)) {
        ++live;
      }
      if (changed->second != nullptr) {
        fn(*changed->second);
      }
      ++changed;
    } else {
      fn(live->second.kv);
      ++live;
    }
  }
}

Result<std::vector<KeyValue>> Store::Impl::read_at_locked(const KeyInterval& interval,
                                                          std::int64_t revision) const {
  if (revision + 1 >= window_first) {
    std::vector<KeyValue> out;
    for_each_in_window(interval, revision, [&](const KeyValue& kv) { out.push_back(kv); });
    return out;
  }
  return read_history_pooled(interval, revision);
}

Result<std::vector<KeyValue>> Store::Impl::read_history_pooled(const KeyInterval& interval,
                                                               std::int64_t revision) const {
  try {
    PooledConnection db(pool);
    ReadTransaction txn(*db);
    // Compaction may have advanced since the caller checked; this snapshot's value decides.
    if (revision < meta_value(*db, "compact_revision")) {
      return errors::gone(kErrCompacted);
    }
    return read_history(*db, interval, revision);
  } catch (const sql::SqliteError& e) {
    return sqlite_error(options.path, e);
  }
}

// --- Store
// --------------------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  impl_->stop();
}

Result<std::unique_ptr<Store>> Store::open(StoreOptions options) {
  if (!options.now_ms) {
    options.now_ms = system_now_ms;
  }
  const std::string path = options.path;
  if (path.empty()) {
    return errors::unavailable("cannot open database: no path given");
  }
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return errors::unavailable(fmt::format("cannot open database {}: cannot create {}: {}", path,
                                             parent.string(), ec.message()));
    }
  }
  if (std::filesystem::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) {
    return errors::unavailable(fmt::format("database {} is not writable", path));
  }
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    if (auto error = load(*impl)) {
      return *error;
    }
    impl->start();
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  } catch (const std::exception& e) {
    return errors::unavailable(fmt::format("cannot open database {}: {}", path, e.what()));
  }
}

std::int64_t Store::current_revision() const {
  return impl_->revision.load();
}

std::int64_t Store::compact_revision() const {
  return impl_->compact_rev.load();
}

Result<RangeResponse> Store::range(const RangeRequest& request) const {
  if (auto error = validate_range(request)) {
    return *error;
  }
  // Three sources, cheapest first: the live map (latest), the map with the window's later changes
  // undone (recent revisions, e.g. apiserver pagination at a pinned revision), SQLite (older ones).
  KeyInterval interval = make_interval(request.key, request.range_end);
  std::shared_lock lock(impl_->mu);
  const std::int64_t current = impl_->revision.load();
  std::int64_t rev = request.revision;
  if (rev > current) {
    return errors::out_of_range(kErrFutureRev);
  }
  if (rev <= 0) {
    rev = current;
  }
  if (rev < impl_->compact_rev.load()) {
    return errors::gone(kErrCompacted);
  }
  if (rev == current) {
    View view(impl_->keys, impl_->leases);
    return build_range(
        request,
        [&](const std::function<void(const KeyValue&)>& fn) {
          view.for_each(interval, [&](const Entry& entry) { fn(entry.kv); });
        },
        current);
  }
  if (rev + 1 >= impl_->window_first) {
    // Every revision after `rev` is still in the watch window: answer from memory.
    return build_range(
        request,
        [&](const std::function<void(const KeyValue&)>& fn) {
          impl_->for_each_in_window(interval, rev, fn);
        },
        current);
  }
  // SQLite reads run without the lock; the read transaction re-checks the compaction point.
  lock.unlock();
  auto kvs = impl_->read_history_pooled(interval, rev);
  if (!kvs) {
    return kvs.error();
  }
  return build_range(
      request,
      [&](const std::function<void(const KeyValue&)>& fn) {
        for (const auto& kv : *kvs) {
          fn(kv);
        }
      },
      current);
}

void Store::put(PutRequest request, Callback<PutResponse> done, CommitOn on) {
  if (auto error = validate_put(request)) {
    done(*error);
    return;
  }
  impl_->submit(Item<PutRequest, PutResponse>{std::move(request), std::move(done), std::nullopt},
                on);
}

void Store::delete_range(DeleteRangeRequest request, Callback<DeleteRangeResponse> done,
                         CommitOn on) {
  if (auto error = validate_delete(request)) {
    done(*error);
    return;
  }
  impl_->submit(Item<DeleteRangeRequest, DeleteRangeResponse>{std::move(request), std::move(done),
                                                              std::nullopt},
                on);
}

void Store::txn(TxnRequest request, Callback<TxnResponse> done, CommitOn on) {
  if (auto error = validate_txn(request)) {
    done(*error);
    return;
  }
  {
    // A txn whose chosen branches only read runs here, against one snapshot, without a revision.
    std::shared_lock lock(impl_->mu);
    View view(impl_->keys, impl_->leases);
    auto path = txn_path(request, view);
    if (!txn_writes(request, path)) {
      Impl* impl = impl_.get();
      Executor ex(
          view, impl->revision.load(), impl->compact_rev.load(),
          [impl](const KeyInterval& interval, std::int64_t rev) {
            return impl->read_at_locked(interval, rev);  // the shared lock is held here
          },
          impl->now_ms());
      auto result = ex.txn(request, path);
      lock.unlock();
      done(std::move(result));
      return;
    }
  }
  impl_->submit(Item<TxnRequest, TxnResponse>{std::move(request), std::move(done), std::nullopt},
                on);
}

void Store::compact(std::int64_t revision, Callback<CompactResponse> done) {
  impl_->submit(Item<CompactRequest, CompactResponse>{CompactRequest{revision}, std::move(done),
                                                      std::nullopt});
}

void Store::lease_grant(std::int64_t id, std::int64_t ttl, Callback<LeaseGrantResponse> done) {
  impl_->submit(
      Item<GrantRequest, LeaseGrantResponse>{GrantRequest{id, ttl}, std::move(done), std::nullopt});
}

void Store::lease_revoke(std::int64_t id, Callback<std::int64_t> done) {
  impl_->submit(
      Item<RevokeRequest, std::int64_t>{RevokeRequest{id}, std::move(done), std::nullopt});
}

void Store::lease_keep_alive(std::int64_t id, Callback<std::int64_t> done) {
  impl_->submit(
      Item<KeepAliveRequest, std::int64_t>{KeepAliveRequest{id}, std::move(done), std::nullopt});
}

// Served from memory: the writer keeps `leases` (rows and attached keys) exact at every publish.
LeaseTimeToLiveResponse Store::lease_time_to_live(std::int64_t id, bool keys) const {
  LeaseTimeToLiveResponse response;
  response.id = id;
  const std::int64_t now = impl_->now_ms();
  std::shared_lock lock(impl_->mu);
  response.revision = impl_->revision.load();
  auto it = impl_->leases.find(id);
  if (it == impl_->leases.end()) {
    response.ttl = -1;
    return response;
  }
  response.granted_ttl = it->second.row.ttl;
  // Whole seconds left, rounded up so a fresh lease reports its full TTL.
  response.ttl = std::max<std::int64_t>(0, (it->second.row.deadline_ms - now + 999) / 1000);
  if (keys) {
    response.keys.assign(it->second.keys.begin(), it->second.keys.end());
  }
  return response;
}

std::vector<std::int64_t> Store::lease_list() const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::int64_t> ids;
  ids.reserve(impl_->leases.size());
  for (const auto& [id, lease] : impl_->leases) {
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Sizes come from SQLite's page counts (logical size, WAL pages included) plus the WAL frames in
// use; db_size_in_use leaves out the free pages that incremental vacuum or defragment would return.
StoreStatus Store::status() const {
  StoreStatus status;
  {
    std::shared_lock lock(impl_->mu);
    status.revision = impl_->revision.load();
    status.compact_revision = impl_->compact_rev.load();
    status.keys = static_cast<std::int64_t>(impl_->keys.size());
  }
  try {
    PooledConnection db(impl_->pool);
    const std::int64_t page_size = db->query_int("PRAGMA page_size");
    const std::int64_t pages = db->query_int("PRAGMA page_count");
    const std::int64_t free_pages = db->query_int("PRAGMA freelist_count");
    // The WAL counts with the frames not yet copied into the file, not its preallocated length.
    const int frames = impl_->wal_frames.load(std::memory_order_relaxed);
    const int backfilled = impl_->checkpointer ? impl_->checkpointer->backfilled() : 0;
    const int in_use = backfilled <= frames ? frames - backfilled : frames;
    const std::int64_t wal = static_cast<std::int64_t>(in_use) * (page_size + 24);
    status.db_size = pages * page_size + wal;
    status.db_size_in_use = (pages - free_pages) * page_size;
  } catch (const sql::SqliteError& e) {
    log::warn(kComponent, "status: cannot read database size: {}", e.what());
  }
  return status;
}

void Store::defragment(Callback<std::int64_t> done) {
  impl_->submit(
      Item<DefragmentRequest, std::int64_t>{DefragmentRequest{}, std::move(done), std::nullopt});
}

Result<PutResponse> Store::put_sync(PutRequest request) {
  return wait_for<PutResponse>([&](auto done) { put(std::move(request), std::move(done)); });
}

Result<DeleteRangeResponse> Store::delete_range_sync(DeleteRangeRequest request) {
  return wait_for<DeleteRangeResponse>(
      [&](auto done) { delete_range(std::move(request), std::move(done)); });
}

Result<TxnResponse> Store::txn_sync(TxnRequest request) {
  return wait_for<TxnResponse>([&](auto done) { txn(std::move(request), std::move(done)); });
}

Result<CompactResponse> Store::compact_sync(std::int64_t revision) {
  return wait_for<CompactResponse>([&](auto done) { compact(revision, std::move(done)); });
}

Result<LeaseGrantResponse> Store::lease_grant_sync(std::int64_t id, std::int64_t ttl) {
  return wait_for<LeaseGrantResponse>([&](auto done) { lease_grant(id, ttl, std::move(done)); });
}

Result<std::int64_t> Store::lease_revoke_sync(std::int64_t id) {
  return wait_for<std::int64_t>([&](auto done) { lease_revoke(id, std::move(done)); });
}

Result<std::int64_t> Store::lease_keep_alive_sync(std::int64_t id) {
  return wait_for<std::int64_t>([&](auto done) { lease_keep_alive(id, std::move(done)); });
}

void Store::wait_compaction_idle_for_test() {
  std::unique_lock lock(impl_->queue_mu);
  impl_->compaction_cv.wait(lock, [&] {
    return impl_->compacted_through >= impl_->compact_rev.load() || impl_->stopping;
  });
}

}  // namespace skiff::kv
