// SPDX-License-Identifier: Apache-2.0
#include "skiff/kv/store.hpp"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "kv_test_util.hpp"
#include <sys/resource.h>
#include <sys/stat.h>

using namespace skiff::kv;
using namespace skiff::kv::test;

TEST_CASE("revision, keys, history and the compaction point persist across reopen", "[kv]") {
  TestStore s;
  put(*s, "p/a", "1");  // 2
  put(*s, "p/a", "2");  // 3
  put(*s, "p/b", "3");  // 4
  del(*s, "p/b");       // 5
  put(*s, "p/c", "4");  // 6
  REQUIRE(s->compact_sync(3));
  s.reopen();
  CHECK(s->current_revision() == 6);
  CHECK(s->compact_revision() == 3);
  CHECK(keys_of(range(*s, prefix_request("p/"))) == std::vector<std::string>{"p/a", "p/c"});
  auto a = get(*s, "p/a").kvs.at(0);
  CHECK(a.version == 2);
  CHECK(a.create_revision == 2);
  CHECK(a.mod_revision == 3);
  CHECK(get(*s, "p/b", 4).kvs.at(0).value == "3");
  CHECK(get(*s, "p/b", 5).kvs.empty());
  CHECK(put(*s, "p/d", "5").revision == 7);
  auto status = s->status();
  CHECK(status.revision == 7);
  CHECK(status.compact_revision == 3);
  CHECK(status.keys == 3);
  CHECK(status.db_size > 0);
  CHECK(status.db_size_in_use > 0);
  CHECK(status.db_size_in_use <= status.db_size);
}

TEST_CASE("the file uses WAL with incremental auto-vacuum; the WAL is preallocated and reused",
          "[kv]") {
  TestStore s;
  const auto preallocated = static_cast<std::uintmax_t>(s.options.wal_preallocate_bytes);
  REQUIRE(preallocated > 0);
  // Preallocated in small steps while the writer has nothing to do, not at open.
  CHECK(skiff::testing::eventually(
      [&] { return std::filesystem::file_size(s.options.path + "-wal") == preallocated; }));
  // Several times the preallocated size goes through the WAL: it must rewind (commits overwrite
  // the file from its start) rather than grow.
  const std::string value(1000, 'w');
  for (int i = 0; i < 3000; ++i) {
    put(*s, "wal/" + std::to_string(i % 300), value + std::to_string(i));
  }
  CHECK(sql_text(s.options.path, "PRAGMA journal_mode") == "wal");
  CHECK(sql_int(s.options.path, "PRAGMA auto_vacuum") == 2);  // INCREMENTAL
  CHECK(sql_int(s.options.path, "SELECT value FROM meta WHERE name = 'schema_version'") == 2);
  CHECK(std::filesystem::file_size(s.options.path + "-wal") == preallocated);
  // checkpoint_idle is 50 ms in tests: once idle, everything reaches the main file, and the WAL
  // file keeps its size for the next commits.
  CHECK(skiff::testing::eventually([&] {
    return main_file_int(s.options.path, "SELECT count(*) FROM history") == 3000;
  }));
  CHECK(std::filesystem::file_size(s.options.path + "-wal") == preallocated);
  CHECK(s->status().db_size < 3000 * 4096);  // the WAL counts with what is not yet in the file
  CHECK(get(*s, "wal/7").kvs.at(0).value == value + "2707");
}

TEST_CASE("without preallocation the WAL starts empty and stays bounded", "[kv]") {
  TestStore s([](StoreOptions& o) { o.wal_preallocate_bytes = 0; });
  const std::string value(1000, 'w');
  for (int i = 0; i < 3000; ++i) {
    put(*s, "wal/" + std::to_string(i % 300), value);
  }
  // Rewound at about a thousand frames, like SQLite's automatic checkpoint would.
  CHECK(std::filesystem::file_size(s.options.path + "-wal") < (8u << 20));
  CHECK(skiff::testing::eventually([&] {
    return main_file_int(s.options.path, "SELECT count(*) FROM history") == 3000;
  }));
}

TEST_CASE("the revision survives reopening when compaction removed the newest revision's rows",
          "[kv]") {
  TestStore s;
  put(*s, "gone/a", "1");  // 2
  put(*s, "gone/b", "2");  // 3
  auto deleted = s->delete_range_sync(DeleteRangeRequest{"gone/", prefix_end("gone/"), false});
  REQUIRE(deleted);
  CHECK(deleted->revision == 4);
  REQUIRE(s->compact_sync(4));
  s->wait_compaction_idle_for_test();
  // The tombstones at 4 and everything they superseded are gone: no row names revision 4.
  CHECK(sql_int(s.options.path, "SELECT count(*) FROM history") == 0);
  s.reopen();
  CHECK(s->current_revision() == 4);
  CHECK(s->compact_revision() == 4);
  CHECK(put(*s, "gone/c", "3").revision == 5);
  s.reopen();
  CHECK(s->current_revision() == 5);
}

TEST_CASE("64 concurrent puts are all acknowledged with distinct consecutive revisions", "[kv]") {
  TestStore s([](StoreOptions& o) { o.sync_full = true; });
  constexpr int kThreads = 64;
  constexpr int kPerThread = 20;
  std::mutex mu;
  std::vector<std::int64_t> revisions;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        PutRequest request{fmt::format("gc/{}/{}", t, i), "value", 0, false, false, false};
        auto r = s->put_sync(request);
        if (!r) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard lock(mu);
        revisions.push_back(r->revision);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("group commit: " << kThreads * kPerThread << " puts from " << kThreads << " threads in "
                        << elapsed << " s = " << static_cast<int>(kThreads * kPerThread / elapsed)
                        << " puts/s (synchronous=FULL)");
  CHECK(failures.load() == 0);
  std::sort(revisions.begin(), revisions.end());
  std::vector<std::int64_t> expected;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    expected.push_back(2 + i);
  }
  CHECK(revisions == expected);
  CHECK(s->current_revision() == 1 + kThreads * kPerThread);
  CHECK(range(*s, prefix_request("gc/")).count == kThreads * kPerThread);
}

TEST_CASE("callbacks run in commit order", "[kv]") {
  TestStore s;
  std::vector<std::int64_t> order;
  std::mutex mu;
  std::atomic<int> done{0};
  for (int i = 0; i < 500; ++i) {
    PutRequest request{"order", std::to_string(i), 0, false, false, false};
    s->put(request, [&](skiff::Result<PutResponse> r) {
      std::lock_guard lock(mu);
      order.push_back(r ? r->revision : -1);
      done.fetch_add(1);
    });
  }
  REQUIRE(skiff::testing::eventually([&] { return done.load() == 500; }));
  std::lock_guard lock(mu);
  for (std::size_t i = 0; i < order.size(); ++i) {
    CHECK(order[i] == static_cast<std::int64_t>(i) + 2);
  }
  CHECK(get(*s, "order").kvs.at(0).value == "499");
}

TEST_CASE("CommitOn::kCallerIfIdle commits on the calling thread when the writer is idle",
          "[kv]") {
  // No timers: once its start-up work is done the writer sleeps, and only a request (or an inline
  // commit that left it dirty) wakes it.
  TestStore s([](StoreOptions& o) {
    o.lease_check_interval = std::chrono::hours(1);
    o.wal_preallocate_bytes = 0;
  });
  auto watcher = s->watch(WatchOptions{"inline/", "inline0", 0, false, false, false}, [] {});
  REQUIRE(watcher);
  // Returns whether the callback ran on this thread before put() returned (an inline commit).
  int next = 0;
  auto put_inline = [&] {
    const auto me = std::this_thread::get_id();
    std::atomic<bool> done{false};
    std::thread::id ran_on;
    skiff::Result<PutResponse> result = skiff::errors::internal("no callback");
    PutRequest request{"inline/" + std::to_string(next++), "v", 0, false, false, false};
    s->put(
        request,
        [&](skiff::Result<PutResponse> r) {
          ran_on = std::this_thread::get_id();
          result = std::move(r);
          done = true;
        },
        CommitOn::kCallerIfIdle);
    REQUIRE(skiff::testing::eventually([&] { return done.load(); }));  // queued: wait for it
    REQUIRE(result);
    return ran_on == me;
  };
  CHECK(skiff::testing::eventually(put_inline));  // the first tries may meet the starting writer
  // Let the writer finish its idle work (everything in the main file): it then sleeps clean.
  CHECK(skiff::testing::eventually(
      [&] { return main_file_int(s.options.path, "SELECT count(*) FROM history") == next; }));
  for (int i = 0; i < 5; ++i) {
    CHECK(put_inline());  // the writer stays asleep between them
  }
  const std::int64_t puts = next;
  CHECK(s->current_revision() == 1 + puts);
  CHECK(range(*s, prefix_request("inline/")).count == puts);
  // Watchers heard every commit, in order.
  auto events = drain(**watcher);
  REQUIRE(static_cast<std::int64_t>(events.size()) == puts);
  for (std::int64_t i = 0; i < puts; ++i) {
    CHECK(events[static_cast<std::size_t>(i)].kv.mod_revision == 2 + i);
  }
  // The writer noticed it has idle work again: the commits reach the main file (checkpoint_idle
  // 50 ms) although no request went through its queue.
  CHECK(skiff::testing::eventually([&] {
    return main_file_int(s.options.path, "SELECT count(*) FROM history") == puts;
  }));
  // Queued writes still work afterwards, and everything survives reopening.
  CHECK(put(*s, "inline/queued", "q").revision == 2 + puts);
  watcher->reset();
  s.reopen();
  CHECK(range(*s, prefix_request("inline/")).count == puts + 1);
}

TEST_CASE("inline and queued writes from many threads share one gap-free revision order",
          "[kv]") {
  TestStore s([](StoreOptions& o) { o.sync_full = true; });
  constexpr int kThreads = 6;
  constexpr int kPerThread = 150;
  constexpr int kQueued = 300;
  auto watcher = s->watch(WatchOptions{"mix/", "mix0", 0, false, false, false}, [] {});
  REQUIRE(watcher);
  std::vector<std::vector<std::int64_t>> revisions(kThreads);
  std::atomic<int> failures{0};
  std::atomic<int> queued_acks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::promise<skiff::Result<PutResponse>> promise;
        auto future = promise.get_future();
        PutRequest request{fmt::format("mix/{}/{}", t, i), std::to_string(i), 0, false, false,
                           false};
        s->put(
            request, [&](skiff::Result<PutResponse> r) { promise.set_value(std::move(r)); },
            CommitOn::kCallerIfIdle);
        auto r = future.get();
        if (!r) {
          failures.fetch_add(1);
          continue;
        }
        revisions[static_cast<std::size_t>(t)].push_back(r->revision);
      }
    });
  }
  // Meanwhile a burst of queued writes (never inline).
  for (int i = 0; i < kQueued; ++i) {
    PutRequest request{fmt::format("mix/q/{}", i), "q", 0, false, false, false};
    s->put(request, [&](skiff::Result<PutResponse> r) {
      if (r) {
        queued_acks.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  REQUIRE(skiff::testing::eventually([&] { return queued_acks.load() == kQueued; }));
  CHECK(failures.load() == 0);
  std::vector<std::int64_t> all;
  for (const auto& mine : revisions) {
    CHECK(std::is_sorted(mine.begin(), mine.end()));  // each thread's writes in its own order
    all.insert(all.end(), mine.begin(), mine.end());
  }
  constexpr int kTotal = kThreads * kPerThread + kQueued;
  CHECK(s->current_revision() == 1 + kTotal);
  auto events = drain(**watcher);
  REQUIRE(events.size() == static_cast<std::size_t>(kTotal));
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].kv.mod_revision == static_cast<std::int64_t>(i) + 2);  // no gaps, no dups
  }
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(range(*s, prefix_request("mix/")).count == kTotal);
}

TEST_CASE("updates that grow, shrink or keep a value's size read back exactly", "[kv]") {
  // The live value's buffer is reused when the new value fits it (writer.cpp replace_entry).
  TestStore s;
  auto watcher = s->watch(WatchOptions{"sized", "", 0, true, false, false}, [] {});
  REQUIRE(watcher);
  const std::vector<std::size_t> sizes = {1000, 600, 1000, 999, 2000, 10, 0, 5000, 2600, 3};
  std::vector<std::string> values;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    values.push_back(std::string(sizes[i], static_cast<char>('a' + i)));
    put(*s, "sized", values.back());
    CHECK(get(*s, "sized").kvs.at(0).value == values.back());
  }
  auto events = drain(**watcher);
  REQUIRE(events.size() == sizes.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].kv.value == values[i]);
    if (i > 0) {
      REQUIRE(events[i].prev_kv.has_value());
      CHECK(events[i].prev_kv->value == values[i - 1]);
    }
  }
  watcher->reset();
  s.reopen();
  CHECK(get(*s, "sized").kvs.at(0).value == values.back());
  CHECK(get(*s, "sized", 2).kvs.at(0).value == values[0]);
}

TEST_CASE("the store finishes queued writes when it is destroyed", "[kv]") {
  skiff::testing::TempDir dir;
  auto options = test_options(dir);
  std::atomic<int> acked{0};
  {
    auto store = open_store(options);
    for (int i = 0; i < 300; ++i) {
      PutRequest request{"q/" + std::to_string(i), "v", 0, false, false, false};
      store->put(request, [&](skiff::Result<PutResponse> r) {
        if (r) {
          acked.fetch_add(1);
        }
      });
    }
  }
  CHECK(acked.load() == 300);
  auto store = open_store(options);
  CHECK(range(*store, prefix_request("q/")).count == 300);
}

TEST_CASE("open reports an unopenable, corrupt or read-only database clearly", "[kv]") {
  skiff::testing::TempDir dir;
  StoreOptions options = test_options(dir);

  SECTION("a path that is a directory") {
    std::filesystem::create_directories(dir.file("adir"));
    options.path = dir.file("adir");
    auto r = Store::open(options);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == skiff::Reason::kUnavailable);
    CHECK_THAT(r.error().message, Catch::Contains("cannot open database " + options.path));
  }
  SECTION("a folder that cannot be created") {
    std::ofstream(dir.file("plain-file")) << "x";
    options.path = dir.file("plain-file") + "/sub/state.db";
    auto r = Store::open(options);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == skiff::Reason::kUnavailable);
    CHECK_THAT(r.error().message, Catch::Contains("cannot open database " + options.path));
  }
  SECTION("a file that is not a database") {
    options.path = dir.file("garbage.db");
    std::ofstream(options.path) << std::string(8192, 'x');
    auto r = Store::open(options);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == skiff::Reason::kUnavailable);
    CHECK_THAT(r.error().message, Catch::Contains("database " + options.path + " is corrupt"));
  }
  SECTION("a damaged database") {
    options.path = dir.file("damaged.db");
    {
      auto store = open_store(options);
      for (int i = 0; i < 300; ++i) {
        put(*store, fmt::format("d/{:04}", i), std::string(200, 'd'));
      }
    }
    // Overwrite pages in the middle of the file (the header stays valid).
    {
      std::fstream f(options.path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(4096 * 3);
      std::string junk(4096 * 4, '\x5a');
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto r = Store::open(options);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == skiff::Reason::kUnavailable);
    CHECK_THAT(r.error().message, Catch::Contains("is corrupt"));
  }
  SECTION("a read-only file") {
    if (geteuid() == 0) {
      WARN("running as root: file permissions cannot make the database read-only; skipped");
      return;
    }
    {
      auto store = open_store(options);
      put(*store, "ro", "v");
    }
    std::filesystem::permissions(options.path, std::filesystem::perms::owner_read);
    auto r = Store::open(options);
    std::filesystem::permissions(
        options.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == skiff::Reason::kUnavailable);
    CHECK_THAT(r.error().message, Catch::Contains("is not writable"));
  }
}

TEST_CASE("a quota on the file size refuses puts but allows deletes and compaction", "[kv]") {
  TestStore s([](StoreOptions& o) {
    o.quota_bytes = 256 * 1024;
    patient_defragment(o);
  });
  const std::string value(8 * 1024, 'q');
  int written = 0;
  skiff::Error last;
  for (int i = 0; i < 200; ++i) {
    PutRequest request{"quota/" + std::to_string(i), value, 0, false, false, false};
    auto r = s->put_sync(request);
    if (!r) {
      last = r.error();
      break;
    }
    ++written;
  }
  REQUIRE(written < 200);
  CHECK(last.reason == skiff::Reason::kTooManyRequests);
  CHECK(last.message == kErrNoSpace);
  auto grant = s->lease_grant_sync(0, 10);
  REQUIRE_FALSE(grant);
  CHECK(grant.error().message == kErrNoSpace);
  TxnRequest txn_put;
  txn_put.success = {op_put("quota/x", "v")};
  CHECK_FALSE(s->txn_sync(txn_put).has_value());
  // Reads keep working, and so do deletes and compaction.
  CHECK(range(*s, prefix_request("quota/")).count == written);
  auto deleted = s->delete_range_sync(DeleteRangeRequest{"quota/", prefix_end("quota/"), false});
  REQUIRE(deleted);
  CHECK(deleted->deleted == written);
  REQUIRE(s->compact_sync(s->current_revision()));
  s->wait_compaction_idle_for_test();
  std::promise<skiff::Result<std::int64_t>> defragged;
  s->defragment([&](skiff::Result<std::int64_t> r) { defragged.set_value(std::move(r)); });
  REQUIRE(defragged.get_future().get().has_value());
  // With the space given back, writes are accepted again.
  CHECK(s->put_sync(PutRequest{"quota/again", "v", 0, false, false, false}).has_value());
}

TEST_CASE("a disk write error fails the batch clearly while reads keep working", "[kv]") {
  // No preallocation: the failure below needs a write that grows the WAL file.
  TestStore s([](StoreOptions& o) {
    o.checkpoint_idle = std::chrono::hours(1);
    o.wal_preallocate_bytes = 0;
  });
  put(*s, "io/a", "1");
  // Make every write that grows a file fail with EFBIG (an I/O error to SQLite), as a full or
  // broken disk would, without needing root or a special filesystem.
  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  std::error_code ec;
  auto wal_size = std::filesystem::file_size(s.options.path + "-wal", ec);
  auto db_size = std::filesystem::file_size(s.options.path);
  struct rlimit tight = saved;
  tight.rlim_cur = std::max<rlim_t>(wal_size, db_size) + 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &tight) == 0);
  PutRequest big{"io/b", std::string(1 << 20, 'b'), 0, false, false, false};
  auto failed = s->put_sync(big);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
  std::signal(SIGXFSZ, old_handler);
  REQUIRE_FALSE(failed);
  INFO(failed.error().message);
  CHECK(failed.error().reason == skiff::Reason::kUnavailable);
  CHECK_THAT(failed.error().message, Catch::Contains("database " + s.options.path));
  CHECK(s->current_revision() == 2);
  CHECK(get(*s, "io/a").kvs.at(0).value == "1");
  CHECK(get(*s, "io/b").kvs.empty());
  // The next write works and takes the next revision; nothing of the failed batch is visible.
  CHECK(put(*s, "io/c", "3").revision == 3);
  s.reopen();
  CHECK(s->current_revision() == 3);
  CHECK(get(*s, "io/b").kvs.empty());
  CHECK(get(*s, "io/c").kvs.size() == 1);
}

TEST_CASE("a schema 1 file is migrated at open and keeps its history", "[kv]") {
  // The layout of schema 1 (revision and sub-revision as columns, a unique index on them, prev
  // pointers as pairs), written here by hand: a put, an update, a put then delete, a txn with two
  // puts.
  skiff::testing::TempDir dir;
  auto options = test_options(dir);
  std::filesystem::create_directories(std::filesystem::path(options.path).parent_path());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(options.path.c_str(), &db) == SQLITE_OK);
    const char* sql = R"sql(
      PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;
      CREATE TABLE history(
        rev INTEGER NOT NULL, sub INTEGER NOT NULL, key BLOB NOT NULL, create_rev INTEGER NOT NULL,
        version INTEGER NOT NULL, lease INTEGER NOT NULL, deleted INTEGER NOT NULL,
        value BLOB NOT NULL, prev_rev INTEGER NOT NULL, prev_sub INTEGER NOT NULL,
        PRIMARY KEY(rev, sub));
      CREATE INDEX history_key_rev ON history(key, rev);
      CREATE TABLE current(key BLOB PRIMARY KEY, rev INTEGER NOT NULL, sub INTEGER NOT NULL)
        WITHOUT ROWID;
      CREATE TABLE leases(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL);
      CREATE TABLE meta(name TEXT PRIMARY KEY, value);
      INSERT INTO meta(name, value) VALUES ('schema_version', 1), ('revision', 6),
        ('compact_revision', 0), ('compacted_through', 0);
      INSERT INTO history VALUES
        (2, 0, CAST('m/a' AS BLOB), 2, 1, 0, 0, CAST('a1' AS BLOB), 0, 0),
        (3, 0, CAST('m/a' AS BLOB), 2, 2, 0, 0, CAST('a2' AS BLOB), 2, 0),
        (4, 0, CAST('m/b' AS BLOB), 4, 1, 0, 0, CAST('b1' AS BLOB), 0, 0),
        (5, 0, CAST('m/b' AS BLOB), 0, 0, 0, 1, CAST('' AS BLOB), 4, 0),
        (6, 0, CAST('m/c' AS BLOB), 6, 1, 0, 0, CAST('c1' AS BLOB), 0, 0),
        (6, 1, CAST('m/d' AS BLOB), 6, 1, 0, 0, CAST('d1' AS BLOB), 0, 0);
      INSERT INTO current VALUES (CAST('m/a' AS BLOB), 3, 0), (CAST('m/c' AS BLOB), 6, 0),
        (CAST('m/d' AS BLOB), 6, 1);
    )sql";
    char* err = nullptr;
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_store(options);
  CHECK(sql_int(options.path, "SELECT value FROM meta WHERE name = 'schema_version'") == 2);
  CHECK(store->current_revision() == 6);
  auto live = range(*store, prefix_request("m/"));
  REQUIRE(keys_of(live) == std::vector<std::string>{"m/a", "m/c", "m/d"});
  CHECK(live.kvs[0].value == "a2");
  CHECK(live.kvs[0].mod_revision == 3);
  CHECK(live.kvs[0].version == 2);
  CHECK(live.kvs[2].mod_revision == 6);
  CHECK(get(*store, "m/a", 2).kvs.at(0).value == "a1");
  CHECK(get(*store, "m/b", 4).kvs.at(0).value == "b1");
  CHECK(get(*store, "m/b", 5).kvs.empty());
  // Watch replay follows the renumbered prev pointers.
  WatchOptions options_all;
  options_all.key = "m/";
  options_all.range_end = prefix_end("m/");
  options_all.start_revision = 2;
  options_all.prev_kv = true;
  auto watcher = store->watch(options_all, {});
  REQUIRE(watcher);
  auto events = (*watcher)->poll(1 << 20);
  REQUIRE(events);
  REQUIRE(events->size() == 6);
  CHECK((*events)[1].prev_kv.has_value());
  CHECK((*events)[1].prev_kv->value == "a1");
  CHECK((*events)[3].type == Event::Type::kDelete);
  CHECK((*events)[3].prev_kv->value == "b1");
  CHECK((*events)[5].kv.key == "m/d");
  watcher->reset();
  // Writing and compacting work on the migrated file.
  CHECK(put(*store, "m/a", "a3").revision == 7);
  REQUIRE(store->compact_sync(7));
  store->wait_compaction_idle_for_test();
  CHECK(sql_int(options.path, "SELECT count(*) FROM history") == 3);  // a@7, c@6, d@6
  CHECK(get(*store, "m/a", 7).kvs.at(0).version == 3);
}
