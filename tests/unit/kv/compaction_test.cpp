// SPDX-License-Identifier: Apache-2.0
#include <filesystem>
#include <future>
#include <thread>

#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

namespace {

/// Queues `count` puts without waiting for each, then waits for all of them.
void bulk_put(Store& store, int count, const std::function<PutRequest(int)>& make) {
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < count; ++i) {
    store.put(make(i), [&](skiff::Result<PutResponse> r) {
      if (!r) {
        failed.fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  REQUIRE(
      skiff::testing::eventually([&] { return done.load() == count; }, std::chrono::seconds(120)));
  REQUIRE(failed.load() == 0);
}

}  // namespace

TEST_CASE("compaction removes superseded versions and deleted keys from SQLite", "[kv]") {
  TestStore s;
  put(*s, "k1", "a");  // 2
  put(*s, "k1", "b");  // 3
  put(*s, "k2", "x");  // 4
  del(*s, "k2");       // 5
  put(*s, "k3", "y");  // 6
  put(*s, "k1", "c");  // 7
  auto compacted = s->compact_sync(6);
  REQUIRE(compacted);
  CHECK(compacted->revision == 7);
  CHECK(s->compact_revision() == 6);
  s->wait_compaction_idle_for_test();
  const std::string path = s.options.path;
  CHECK(sql_int(path, "SELECT count(*) FROM history WHERE key = CAST('k2' AS BLOB)") == 0);
  // k1 keeps its newest version at or below 6 (rev 3) and the newer one (rev 7).
  CHECK(sql_int(path, "SELECT count(*) FROM history WHERE key = CAST('k1' AS BLOB)") == 2);
  CHECK(sql_int(path, "SELECT min(rev) FROM history WHERE key = CAST('k1' AS BLOB)") == 3);
  CHECK(get(*s, "k1", 6).kvs.at(0).value == "b");
  CHECK(get(*s, "k1").kvs.at(0).value == "c");
  CHECK(get(*s, "k3", 6).kvs.at(0).value == "y");
  CHECK(get(*s, "k2", 6).kvs.empty());
  RangeRequest all = prefix_request("k");
  all.revision = 6;
  CHECK(keys_of(range(*s, all)) == std::vector<std::string>{"k1", "k3"});
  CHECK_FALSE(s->range(RangeRequest{"k1", {}, 0, 5}).has_value());
  // Latest values survive a reopen, and so does the compaction point.
  s.reopen();
  CHECK(s->compact_revision() == 6);
  CHECK(get(*s, "k1").kvs.at(0).version == 3);
  CHECK_FALSE(s->range(RangeRequest{"k1", {}, 0, 5}).has_value());
}

TEST_CASE("compacting twice, backwards or into the future fails as etcd does", "[kv]") {
  TestStore s;
  for (int i = 0; i < 5; ++i) {
    put(*s, "c", std::to_string(i));  // 2..6
  }
  REQUIRE(s->compact_sync(4));
  auto again = s->compact_sync(4);
  REQUIRE_FALSE(again);
  CHECK(again.error().reason == skiff::Reason::kGone);
  CHECK(again.error().message == kErrCompacted);
  auto backwards = s->compact_sync(3);
  REQUIRE_FALSE(backwards);
  CHECK(backwards.error().message == kErrCompacted);
  auto future = s->compact_sync(7);
  REQUIRE_FALSE(future);
  CHECK(future.error().reason == skiff::Reason::kOutOfRange);
  CHECK(future.error().message == kErrFutureRev);
  CHECK(s->compact_sync(6).has_value());
  s->wait_compaction_idle_for_test();
  CHECK(get(*s, "c", 6).kvs.at(0).value == "4");
}

TEST_CASE("compaction in small slices keeps every read at or above the point correct", "[kv]") {
  TestStore s([](StoreOptions& o) { o.compaction_slice = 3; });
  for (int i = 0; i < 60; ++i) {
    put(*s, "s" + std::to_string(i % 7), std::to_string(i));  // revs 2..61
  }
  REQUIRE(s->compact_sync(40));
  s->wait_compaction_idle_for_test();
  for (std::int64_t rev = 40; rev <= 61; ++rev) {
    RangeRequest all = prefix_request("s");
    all.revision = rev;
    auto r = range(*s, all);
    CHECK(r.count == 7);
    for (const auto& kv : r.kvs) {
      CHECK(kv.mod_revision <= rev);
      CHECK(std::stoi(kv.value) == kv.mod_revision - 2);
    }
  }
  // One surviving row per key at or below 40, plus the 21 newer revisions.
  CHECK(sql_int(s.options.path, "SELECT count(*) FROM history") == 7 + 21);
}

TEST_CASE("a revision with many rows is compacted in row-bounded slices and its pages returned",
          "[kv]") {
  // One prefix DeleteRange puts 300 tombstones in one revision; with 7-row slices it takes dozens
  // of slices, each between write batches, and the freed pages go back in vacuum steps.
  TestStore s([](StoreOptions& o) { o.compaction_slice = 7; });
  const std::string value(2000, 'v');
  for (int i = 0; i < 300; ++i) {
    put(*s, "big/" + std::to_string(1000 + i), value);  // revs 2..301
  }
  put(*s, "keep", "k");  // rev 302
  auto deleted = s->delete_range_sync(DeleteRangeRequest{"big/", prefix_end("big/"), false});
  REQUIRE(deleted);
  CHECK(deleted->deleted == 300);  // rev 303
  put(*s, "keep", "k2");           // rev 304
  const auto pages_before = sql_int(s.options.path, "PRAGMA page_count");
  REQUIRE(s->compact_sync(303));
  // Writes keep completing while the slices run.
  put(*s, "during", "x");  // rev 305
  s->wait_compaction_idle_for_test();
  // Left: "keep" at 302 (newest <= 303), "keep" at 304, "during" at 305.
  CHECK(sql_int(s.options.path, "SELECT count(*) FROM history") == 3);
  CHECK(range(*s, prefix_request("big/")).count == 0);
  CHECK(get(*s, "keep", 303).kvs.at(0).value == "k");
  CHECK(get(*s, "keep").kvs.at(0).value == "k2");
  REQUIRE(skiff::testing::eventually(
      [&] { return sql_int(s.options.path, "PRAGMA freelist_count") == 0; }));
  CHECK(sql_int(s.options.path, "PRAGMA page_count") < pages_before / 4);
}

TEST_CASE("automatic compaction keeps the configured number of revisions", "[kv]") {
  TestStore s([](StoreOptions& o) {
    o.auto_compaction = true;
    o.compaction_keep_revisions = 10;
    o.compaction_keep_duration = std::chrono::milliseconds(0);
    o.compaction_interval = std::chrono::milliseconds(20);
  });
  for (int i = 0; i < 50; ++i) {
    put(*s, "auto", std::to_string(i));  // revs 2..51
  }
  REQUIRE(skiff::testing::eventually([&] { return s->compact_revision() == 41; }));
  CHECK(get(*s, "auto", 41).kvs.at(0).value == "39");
  CHECK_FALSE(s->range(RangeRequest{"auto", {}, 0, 40}).has_value());
}

TEST_CASE("automatic compaction keeps revisions younger than the keep duration", "[kv]") {
  ManualClock clock;
  TestStore s([&](StoreOptions& o) {
    o.auto_compaction = true;
    o.compaction_keep_revisions = 0;
    o.compaction_keep_duration = std::chrono::minutes(5);
    o.compaction_interval = std::chrono::milliseconds(10);
    o.now_ms = clock.fn();
  });
  for (int i = 0; i < 20; ++i) {
    put(*s, "young", std::to_string(i));  // revs 2..21
  }
  // Give the compactor a few ticks at this time: nothing is five minutes old yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(s->compact_revision() == 0);
  clock.advance_ms(6 * 60 * 1000);
  REQUIRE(skiff::testing::eventually([&] { return s->compact_revision() == 21; }));
}

TEST_CASE("the database stays bounded through 20k updates of 200 keys with compaction", "[kv]") {
  TestStore s(patient_defragment);
  const std::string value(512, 'v');
  auto make = [&](int i) {
    PutRequest request;
    request.key = fmt::format("bounded/{:03}", i % 200);
    request.value = value + std::to_string(i);
    return request;
  };
  std::int64_t size_after_first_round = 0;
  for (int round = 0; round < 10; ++round) {
    bulk_put(*s, 2000, [&](int i) { return make(round * 2000 + i); });
    REQUIRE(s->compact_sync(s->current_revision()));
    s->wait_compaction_idle_for_test();
    if (round == 0) {
      size_after_first_round = s->status().db_size_in_use;
    }
  }
  auto status = s->status();
  INFO("in use after round 1: " << size_after_first_round << ", at the end: "
                                << status.db_size_in_use << ", file " << status.db_size);
  CHECK(status.keys == 200);
  CHECK(sql_int(s.options.path, "SELECT count(*) FROM history") == 200);
  CHECK(status.db_size_in_use <= size_after_first_round * 2);
  auto defrag = s->delete_range_sync(DeleteRangeRequest{"nothing", {}, false});
  REQUIRE(defrag);
  std::promise<skiff::Result<std::int64_t>> done;
  s->defragment([&](skiff::Result<std::int64_t> r) { done.set_value(std::move(r)); });
  REQUIRE(done.get_future().get().has_value());
  auto file = static_cast<std::int64_t>(std::filesystem::file_size(s.options.path));
  INFO("file after defragment " << file);
  CHECK(file <= size_after_first_round * 3);
  CHECK(s->status().db_size <= size_after_first_round * 3);
}

TEST_CASE("a write queued behind a Defragment is answered before the Defragment finishes",
          "[kv]") {
  // A Defragment returns the free pages in steps between write batches and answers only after its
  // checkpoint, so a put queued right behind it completes first (one whole-file vacuum used to hold
  // every writer until it was done).
  TestStore s(patient_defragment);
  const std::string value(3000, 'v');
  bulk_put(*s, 2000, [&](int i) {
    PutRequest request;
    request.key = fmt::format("frag/{:05}", i);
    request.value = value;
    return request;
  });
  REQUIRE(s->delete_range_sync(DeleteRangeRequest{"frag/", prefix_end("frag/"), false}));
  REQUIRE(s->compact_sync(s->current_revision()));
  s->wait_compaction_idle_for_test();

  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> both;
  auto record = [&](const std::string& what) {
    std::lock_guard lock(mu);
    order.push_back(what);
    if (order.size() == 2) {
      both.set_value();
    }
  };
  s->defragment([&](skiff::Result<std::int64_t> r) {
    CHECK(r.has_value());
    record("defragment");
  });
  s->put(PutRequest{"frag/after", "x", 0, false, false, false},
         [&](skiff::Result<PutResponse> r) {
           CHECK(r.has_value());
           record("put");
         });
  both.get_future().wait();
  CHECK(order == std::vector<std::string>{"put", "defragment"});
  // And the Defragment did its job: nothing left on the free list, the file shrank.
  CHECK(sql_int(s.options.path, "PRAGMA freelist_count") == 0);
  CHECK(std::filesystem::file_size(s.options.path) < 2000u * 3000u / 4);
}
