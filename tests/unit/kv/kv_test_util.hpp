// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared helpers for the kv unit tests: a store in a temporary directory, short request builders,
// an injectable clock and a direct SQLite probe for checking what is on disk.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "skiff/kv/store.hpp"

#include "skiff_test.hpp"

namespace skiff::kv::test {

/// A millisecond clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> now =
      std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000);
  std::function<std::int64_t()> fn() const {
    auto n = now;
    return [n] {
      return n->load();
    };
  }
  void advance_ms(std::int64_t ms) { now->fetch_add(ms); }
};

/// Options suitable for tests: a file in `dir`, fast timers, no automatic compaction.
inline StoreOptions test_options(const skiff::testing::TempDir& dir) {
  StoreOptions options;
  options.path = dir.file("db/state.db");
  options.sync_full = false;
  options.auto_compaction = false;
  options.lease_check_interval = std::chrono::milliseconds(10);
  options.checkpoint_idle = std::chrono::milliseconds(50);
  return options;
}

inline std::unique_ptr<Store> open_store(const StoreOptions& options) {
  auto store = Store::open(options);
  if (!store) {
    FAIL("open failed: " << store.error().message);
  }
  return std::move(*store);
}

/// A Defragment budget no loaded machine exhausts: a test's Defragment then answers only once the
/// file shrank, whatever the timing (the default 1 s can run out under a parallel test run).
inline void patient_defragment(StoreOptions& options) {
  options.defragment_budget = std::chrono::seconds(30);
}

/// A store in its own temporary directory; reopen() closes and opens it again with the same
/// options.
struct TestStore {
  skiff::testing::TempDir dir;
  StoreOptions options;
  std::unique_ptr<Store> store;

  explicit TestStore(const std::function<void(StoreOptions&)>& tweak = {}) {
    options = test_options(dir);
    if (tweak) {
      tweak(options);
    }
    store = open_store(options);
  }
  Store* operator->() { return store.get(); }
  Store& operator*() { return *store; }
  void reopen() {
    store.reset();
    store = open_store(options);
  }
};

inline PutResponse put(Store& store, const std::string& key, const std::string& value,
                       std::int64_t lease = 0) {
  PutRequest request;
  request.key = key;
  request.value = value;
  request.lease = lease;
  auto result = store.put_sync(request);
  if (!result) {
    FAIL("put " << key << " failed: " << result.error().message);
  }
  return *result;
}

inline DeleteRangeResponse del(Store& store, const std::string& key,
                               const std::string& range_end = {}, bool prev_kv = false) {
  DeleteRangeRequest request{key, range_end, prev_kv};
  auto result = store.delete_range_sync(request);
  if (!result) {
    FAIL("delete " << key << " failed: " << result.error().message);
  }
  return *result;
}

inline RangeResponse range(Store& store, RangeRequest request) {
  auto result = store.range(request);
  if (!result) {
    FAIL("range failed: " << result.error().message);
  }
  return *result;
}

inline RangeResponse get(Store& store, const std::string& key, std::int64_t revision = 0) {
  RangeRequest request;
  request.key = key;
  request.revision = revision;
  return range(store, request);
}

inline RangeRequest prefix_request(const std::string& prefix) {
  RangeRequest request;
  request.key = prefix;
  request.range_end = prefix_end(prefix);
  return request;
}

inline std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) {
    out.push_back(kv.key);
  }
  return out;
}

inline std::vector<std::string> keys_of(const RangeResponse& response) {
  return keys_of(response.kvs);
}

inline RequestOp op_put(const std::string& key, const std::string& value, std::int64_t lease = 0) {
  PutRequest put;
  put.key = key;
  put.value = value;
  put.lease = lease;
  return RequestOp{put};
}

inline RequestOp op_get(const std::string& key, const std::string& range_end = {}) {
  RangeRequest range;
  range.key = key;
  range.range_end = range_end;
  return RequestOp{range};
}

inline RequestOp op_del(const std::string& key, const std::string& range_end = {}) {
  return RequestOp{DeleteRangeRequest{key, range_end, false}};
}

inline Compare cmp(CompareTarget target, CompareResult result, const std::string& key,
                   std::int64_t number, const std::string& value = {}) {
  Compare c;
  c.target = target;
  c.result = result;
  c.key = key;
  c.number = number;
  c.value = value;
  return c;
}

/// Runs one query against the database file directly and returns the first column of the first row.
inline std::int64_t sql_int(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::int64_t value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

/// As sql_int, but reads only the main database file, ignoring the WAL (SQLite's immutable
/// mode): shows what a checkpoint has copied into the file. -1 when the file cannot be read, as
/// happens while a checkpoint is writing it (poll with eventually()).
inline std::int64_t main_file_int(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  const std::string uri = "file:" + path + "?immutable=1";
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

inline std::string sql_text(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

/// Polls until the watcher reports nothing more.
inline std::vector<Event> drain(Watcher& watcher, std::size_t max_bytes = 1 << 20) {
  std::vector<Event> events;
  while (true) {
    auto batch = watcher.poll(max_bytes);
    if (!batch) {
      FAIL("poll failed: " << batch.error().message);
    }
    if (batch->empty()) {
      return events;
    }
    events.insert(events.end(), batch->begin(), batch->end());
  }
}

/// Polls a watcher until it has delivered at least `count` events (or 10 s pass).
inline std::vector<Event> collect(Watcher& watcher, std::size_t count,
                                  std::size_t max_bytes = 1 << 20) {
  std::vector<Event> events;
  skiff::testing::eventually([&] {
    auto batch = watcher.poll(max_bytes);
    if (!batch) {
      FAIL("poll failed: " << batch.error().message);
    }
    events.insert(events.end(), batch->begin(), batch->end());
    return events.size() >= count;
  });
  return events;
}

}  // namespace skiff::kv::test
