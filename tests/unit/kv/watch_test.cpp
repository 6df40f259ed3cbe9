// SPDX-License-Identifier: Apache-2.0
#include <thread>

#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

namespace {

std::unique_ptr<Watcher> watch(Store& store, WatchOptions options,
                               std::function<void()> notify = {}) {
  auto watcher = store.watch(std::move(options), std::move(notify));
  if (!watcher) {
    FAIL("watch failed: " << watcher.error().message);
  }
  return std::move(*watcher);
}

WatchOptions prefix_watch(const std::string& prefix, std::int64_t start = 0) {
  WatchOptions options;
  options.key = prefix;
  options.range_end = prefix_end(prefix);
  options.start_revision = start;
  return options;
}

std::vector<std::int64_t> revisions_of(const std::vector<Event>& events) {
  std::vector<std::int64_t> out;
  for (const auto& event : events) {
    out.push_back(event.kv.mod_revision);
  }
  return out;
}

std::vector<std::int64_t> iota(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) {
    out.push_back(i);
  }
  return out;
}

}  // namespace

TEST_CASE("a watch from revision 0 sees only changes after it was created", "[kv]") {
  TestStore s;
  put(*s, "w/a", "1");
  std::atomic<int> notified{0};
  auto w = watch(*s, prefix_watch("w/"), [&] { notified.fetch_add(1); });
  CHECK(w->next_revision() == 3);
  CHECK(drain(*w).empty());
  put(*s, "w/b", "2");
  put(*s, "other", "x");
  // Watchers are notified after the callbacks ran, so the notify for w/b may land just after put()
  // returned (and one for w/a may still arrive: a notify only says "poll", never what).
  REQUIRE(skiff::testing::eventually([&] { return notified.load() >= 1; }));
  auto events = drain(*w);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == Event::Type::kPut);
  CHECK(events[0].kv.key == "w/b");
  CHECK(events[0].kv.value == "2");
  CHECK(events[0].kv.create_revision == 3);
  CHECK(w->next_revision() == 5);
}

TEST_CASE("a watch replays history inclusively and then continues live without gap or duplicate",
          "[kv]") {
  TestStore s;
  for (int i = 0; i < 5; ++i) {
    put(*s, "r/" + std::to_string(i), "v");  // revs 2..6
  }
  std::atomic<int> notified{0};
  auto w = watch(*s, prefix_watch("r/", 3), [&] { notified.fetch_add(1); });
  CHECK(notified.load() == 1);  // history to replay
  std::vector<Event> events;
  auto first = w->poll(1);  // a tiny budget still returns one whole revision
  REQUIRE(first);
  REQUIRE(first->size() == 1);
  events.insert(events.end(), first->begin(), first->end());
  std::thread writer([&] {
    for (int i = 5; i < 25; ++i) {
      put(*s, "r/" + std::to_string(i), "v");  // revs 7..26
    }
  });
  while (events.size() < 24) {
    auto batch = w->poll(200);
    REQUIRE(batch);
    events.insert(events.end(), batch->begin(), batch->end());
  }
  writer.join();
  auto rest = drain(*w);
  events.insert(events.end(), rest.begin(), rest.end());
  CHECK(revisions_of(events) == iota(3, 26));
  CHECK(w->next_revision() == 27);
}

TEST_CASE("a watcher behind the window is replayed from SQLite with prev_kv", "[kv]") {
  TestStore s([](StoreOptions& o) { o.watch_window_bytes = 2048; });
  for (int i = 0; i < 200; ++i) {
    put(*s, "big/" + std::to_string(i % 10), std::string(100, 'a' + static_cast<char>(i % 26)));
  }
  del(*s, "big/0");  // rev 202
  WatchOptions options = prefix_watch("big/", 2);
  options.prev_kv = true;
  auto w = watch(*s, options);
  auto events = drain(*w, 4096);
  REQUIRE(events.size() == 201);
  CHECK(revisions_of(events) == iota(2, 202));
  CHECK_FALSE(events[0].prev_kv.has_value());  // a creation
  REQUIRE(events[10].prev_kv.has_value());     // big/0 updated at rev 12
  CHECK(events[10].prev_kv->mod_revision == 2);
  CHECK(events[10].prev_kv->value == std::string(100, 'a'));
  CHECK(events[10].kv.version == 2);
  const auto& tombstone = events.back();
  CHECK(tombstone.type == Event::Type::kDelete);
  CHECK(tombstone.kv.key == "big/0");
  CHECK(tombstone.kv.mod_revision == 202);
  CHECK(tombstone.kv.value.empty());
  CHECK(tombstone.kv.version == 0);
  REQUIRE(tombstone.prev_kv.has_value());
  CHECK(tombstone.prev_kv->mod_revision == 192);
}

TEST_CASE("a watcher far behind is caught up and never dropped", "[kv]") {
  TestStore s([](StoreOptions& o) { o.watch_window_bytes = 4096; });
  auto w = watch(*s, prefix_watch("far/"));
  std::atomic<int> done{0};
  for (int i = 0; i < 1000; ++i) {
    PutRequest request;
    request.key = "far/" + std::to_string(i % 50);
    request.value = std::to_string(i);
    s->put(request, [&](skiff::Result<PutResponse>) { done.fetch_add(1); });
  }
  REQUIRE(skiff::testing::eventually([&] { return done.load() == 1000; }));
  auto events = drain(*w, 1000);
  CHECK(revisions_of(events) == iota(2, 1001));
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].kv.value == std::to_string(i));
  }
}

TEST_CASE("a watch starting below the compaction point fails with compacted", "[kv]") {
  TestStore s;
  for (int i = 0; i < 10; ++i) {
    put(*s, "cw", std::to_string(i));  // 2..11
  }
  REQUIRE(s->compact_sync(8));
  auto w = watch(*s, prefix_watch("cw", 5));
  auto r = w->poll(1 << 20);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == skiff::Reason::kGone);
  CHECK(r.error().message == kErrCompacted);
  // Exactly at the compaction point is allowed.
  auto at = watch(*s, prefix_watch("cw", 8));
  CHECK(revisions_of(drain(*at)) == iota(8, 11));
  // A negative start behaves as compacted.
  auto negative = watch(*s, prefix_watch("cw", -1));
  CHECK_FALSE(negative->poll(100).has_value());
  // A watcher left behind by a later compaction fails too.
  auto slow = watch(*s, prefix_watch("cw", 9));
  REQUIRE(s->compact_sync(11));
  CHECK_FALSE(slow->poll(100).has_value());
}

TEST_CASE("a watch starting in the future waits for that revision", "[kv]") {
  TestStore s;
  put(*s, "fw", "a");  // 2
  auto w = watch(*s, prefix_watch("fw", 4));
  CHECK(drain(*w).empty());
  CHECK(w->next_revision() == 4);
  put(*s, "fw", "b");  // 3
  CHECK(drain(*w).empty());
  put(*s, "fw", "c");  // 4
  auto events = drain(*w);
  CHECK(revisions_of(events) == std::vector<std::int64_t>{4});
}

TEST_CASE("watch filters and key ranges select events", "[kv]") {
  TestStore s;
  WatchOptions no_put = prefix_watch("f/");
  no_put.filter_put = true;
  WatchOptions no_delete = prefix_watch("f/");
  no_delete.filter_delete = true;
  WatchOptions single;
  single.key = "f/1";
  WatchOptions everything;  // empty key = "\0", from-key with "\0"
  everything.range_end = std::string(1, '\0');
  auto w_no_put = watch(*s, no_put);
  auto w_no_delete = watch(*s, no_delete);
  auto w_single = watch(*s, single);
  auto w_all = watch(*s, everything);
  put(*s, "f/1", "a");
  put(*s, "f/2", "b");
  put(*s, "g", "c");
  del(*s, "f/", prefix_end("f/"));
  auto deletes = drain(*w_no_put);
  REQUIRE(deletes.size() == 2);
  CHECK(deletes[0].type == Event::Type::kDelete);
  CHECK(deletes[1].type == Event::Type::kDelete);
  CHECK(drain(*w_no_delete).size() == 2);
  auto one = drain(*w_single);
  REQUIRE(one.size() == 2);
  CHECK(one[0].kv.key == "f/1");
  CHECK(one[1].kv.key == "f/1");
  CHECK(drain(*w_all).size() == 5);

  WatchOptions inverted;
  inverted.key = "b";
  inverted.range_end = "a";
  auto bad = s->watch(inverted, {});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == skiff::Reason::kBadRequest);
  CHECK(bad.error().message == "mvcc: watcher range is empty");
}

TEST_CASE("prev_kv is sent for updates and deletes but never for creations", "[kv]") {
  TestStore s;
  WatchOptions with = prefix_watch("pv/");
  with.prev_kv = true;
  auto w_with = watch(*s, with);
  auto w_without = watch(*s, prefix_watch("pv/"));
  put(*s, "pv/a", "1");
  put(*s, "pv/a", "2");
  del(*s, "pv/a");
  put(*s, "pv/a", "3");
  auto events = drain(*w_with);
  REQUIRE(events.size() == 4);
  CHECK_FALSE(events[0].prev_kv.has_value());
  REQUIRE(events[1].prev_kv.has_value());
  CHECK(events[1].prev_kv->value == "1");
  REQUIRE(events[2].prev_kv.has_value());
  CHECK(events[2].prev_kv->value == "2");
  CHECK(events[2].prev_kv->version == 2);
  CHECK_FALSE(events[3].prev_kv.has_value());
  for (const auto& event : drain(*w_without)) {
    CHECK_FALSE(event.prev_kv.has_value());
  }
}

TEST_CASE("the events of one txn share its revision in op order", "[kv]") {
  TestStore s;
  put(*s, "m/m", "old");  // 2
  auto w = watch(*s, prefix_watch("m/"));
  TxnRequest t;
  t.success = {op_put("m/z", "1"), op_put("m/a", "2"), op_del("m/m")};
  REQUIRE(s->txn_sync(t));
  auto events = w->poll(1);  // one revision, even over budget
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  CHECK(keys_of(std::vector<KeyValue>{(*events)[0].kv, (*events)[1].kv, (*events)[2].kv}) ==
        std::vector<std::string>{"m/z", "m/a", "m/m"});
  CHECK(revisions_of(*events) == std::vector<std::int64_t>{3, 3, 3});
  CHECK((*events)[2].type == Event::Type::kDelete);
}

TEST_CASE("destroying watchers while writes commit never notifies a dead watcher", "[kv]") {
  TestStore s;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int i = 0;
    while (!stop.load()) {
      PutRequest request{"churn/" + std::to_string(i++ % 10), "v", 0, false, false, false};
      std::ignore = s->put_sync(request);
    }
  });
  auto late_notifies = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 200; ++i) {
    auto alive = std::make_shared<std::atomic<bool>>(true);
    {
      auto w = watch(*s, prefix_watch("churn/"), [alive, late_notifies] {
        if (!alive->load()) {
          late_notifies->fetch_add(1);
        }
      });
      std::ignore = w->poll(1024);
    }
    alive->store(false);  // any notify from now on would be after ~Watcher returned
  }
  for (int i = 0; i < 20; ++i) {
    PutRequest request{"churn/x", "v", 0, false, false, false};
    std::ignore = s->put_sync(request);
  }
  stop.store(true);
  writer.join();
  CHECK(late_notifies->load() == 0);
}
