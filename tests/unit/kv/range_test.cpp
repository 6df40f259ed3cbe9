// SPDX-License-Identifier: Apache-2.0
#include <random>

#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

namespace {

void seed_abc(Store& store) {
  put(store, "a", "1");    // rev 2
  put(store, "a/x", "2");  // rev 3
  put(store, "a/y", "3");  // rev 4
  put(store, "b", "4");    // rev 5
  put(store, "c", "5");    // rev 6
}

}  // namespace

TEST_CASE("a fresh store is at revision 1 with no visible keys", "[kv]") {
  TestStore s;
  CHECK(s->current_revision() == 1);
  CHECK(s->compact_revision() == 0);
  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  auto response = range(*s, all);
  CHECK(response.revision == 1);
  CHECK(response.count == 0);
  CHECK(response.kvs.empty());
  CHECK_FALSE(response.more);
}

TEST_CASE("prefix_end increments the last byte and drops trailing 0xFF bytes", "[kv]") {
  CHECK(prefix_end("a") == "b");
  CHECK(prefix_end("/registry/pods/") == "/registry/pods0");
  CHECK(prefix_end(std::string("a\xff", 2)) == "b");
  CHECK(prefix_end(std::string("\xff\xff", 2)) == std::string(1, '\0'));
  CHECK(prefix_end("") == std::string(1, '\0'));
}

TEST_CASE("a single-key range returns that key or nothing", "[kv]") {
  TestStore s;
  seed_abc(*s);
  auto hit = get(*s, "a");
  REQUIRE(hit.kvs.size() == 1);
  CHECK(hit.kvs[0].value == "1");
  CHECK(hit.count == 1);
  CHECK(hit.revision == 6);
  auto miss = get(*s, "zzz");
  CHECK(miss.kvs.empty());
  CHECK(miss.count == 0);
  CHECK(miss.revision == 6);
}

TEST_CASE("an empty key is rejected with key is not provided", "[kv]") {
  TestStore s;
  auto result = s->range(RangeRequest{});
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == skiff::Reason::kBadRequest);
  CHECK(result.error().message == kErrKeyNotProvided);
}

TEST_CASE("prefix, from-key, all-keys and inverted intervals follow etcd's rules", "[kv]") {
  TestStore s;
  seed_abc(*s);
  CHECK(keys_of(range(*s, prefix_request("a/"))) == std::vector<std::string>{"a/x", "a/y"});
  CHECK(keys_of(range(*s, prefix_request("a"))) == std::vector<std::string>{"a", "a/x", "a/y"});

  RangeRequest from_b;
  from_b.key = "b";
  from_b.range_end = std::string(1, '\0');
  CHECK(keys_of(range(*s, from_b)) == std::vector<std::string>{"b", "c"});

  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  CHECK(range(*s, all).count == 5);

  RangeRequest interval;
  interval.key = "a/x";
  interval.range_end = "b";
  CHECK(keys_of(range(*s, interval)) == std::vector<std::string>{"a/x", "a/y"});

  RangeRequest inverted;
  inverted.key = "c";
  inverted.range_end = "a";
  auto empty = range(*s, inverted);
  CHECK(empty.kvs.empty());
  CHECK(empty.count == 0);
}

TEST_CASE("binary keys with NUL and 0xFF bytes sort bytewise", "[kv]") {
  const std::size_t window = GENERATE(std::size_t{0}, std::size_t{8} << 20);
  TestStore s([&](StoreOptions& o) { o.watch_window_bytes = window; });
  const std::string k1("a\0", 2);
  const std::string k2("a\x01", 2);
  const std::string k3("a\x7f", 2);
  const std::string k4("a\x80", 2);
  const std::string k5("a\xff", 2);
  const std::string k6("a\xff\x00z", 4);
  for (const auto& key : {k6, k3, k1, k5, k2, k4}) {
    put(*s, key, std::string("v\0v", 3) + key);
  }
  put(*s, "b", "x");
  auto response = range(*s, prefix_request("a"));
  CHECK(keys_of(response) == std::vector<std::string>{k1, k2, k3, k4, k5, k6});
  CHECK(response.kvs[0].value == std::string("v\0v", 3) + k1);
  // A prefix ending in 0xFF.
  CHECK(keys_of(range(*s, prefix_request(k5))) == std::vector<std::string>{k5, k6});
  // An exact binary key, and a NUL-terminated neighbour that must not match.
  CHECK(keys_of(get(*s, k1)) == std::vector<std::string>{k1});
  CHECK(get(*s, "a").kvs.empty());
  s.reopen();
  CHECK(keys_of(range(*s, prefix_request("a"))) ==
        std::vector<std::string>{k1, k2, k3, k4, k5, k6});
  // Historical reads go through SQLite and must order the same way.
  RangeRequest old = prefix_request("a");
  old.revision = s->current_revision() - 1;
  CHECK(keys_of(range(*s, old)) == std::vector<std::string>{k1, k2, k3, k4, k5, k6});
}

TEST_CASE("limit truncates, count ignores the limit and more says whether keys remain", "[kv]") {
  TestStore s;
  for (int i = 0; i < 5; ++i) {
    put(*s, "k" + std::to_string(i), "v");
  }
  RangeRequest request = prefix_request("k");
  request.limit = 2;
  auto page = range(*s, request);
  CHECK(keys_of(page) == std::vector<std::string>{"k0", "k1"});
  CHECK(page.more);
  CHECK(page.count == 5);

  request.limit = 5;
  page = range(*s, request);
  CHECK(page.kvs.size() == 5);
  CHECK_FALSE(page.more);

  request.limit = 0;
  page = range(*s, request);
  CHECK(page.kvs.size() == 5);
  CHECK_FALSE(page.more);

  // apiserver-style pagination: continue at last key + "\0", pinned revision.
  RangeRequest first = prefix_request("k");
  first.limit = 2;
  auto p1 = range(*s, first);
  put(*s, "k00", "inserted later");
  RangeRequest next = first;
  next.key = p1.kvs.back().key + std::string(1, '\0');
  next.revision = p1.revision;
  auto p2 = range(*s, next);
  CHECK(keys_of(p2) == std::vector<std::string>{"k2", "k3"});
  CHECK(p2.count == 3);
  CHECK(p2.more);
  CHECK(p2.revision == s->current_revision());
}

TEST_CASE("keys_only drops values and count_only returns just the count", "[kv]") {
  TestStore s;
  seed_abc(*s);
  RangeRequest request = prefix_request("a");
  request.keys_only = true;
  auto keys = range(*s, request);
  REQUIRE(keys.kvs.size() == 3);
  for (const auto& kv : keys.kvs) {
    CHECK(kv.value.empty());
    CHECK(kv.mod_revision > 0);
    CHECK(kv.version == 1);
  }
  request.keys_only = false;
  request.count_only = true;
  request.limit = 2;
  auto count = range(*s, request);
  CHECK(count.kvs.empty());
  CHECK(count.count == 3);
  CHECK_FALSE(count.more);
}

TEST_CASE("sorting by each target and order, with limit applied after sorting", "[kv]") {
  TestStore s;
  put(*s, "s/a", "3");  // rev 2
  put(*s, "s/b", "1");  // rev 3
  put(*s, "s/c", "2");  // rev 4
  put(*s, "s/a", "9");  // rev 5: s/a version 2, mod 5, create 2
  auto sorted = [&](SortTarget target, SortOrder order, std::int64_t limit = 0) {
    RangeRequest request = prefix_request("s/");
    request.sort_target = target;
    request.sort_order = order;
    request.limit = limit;
    return range(*s, request);
  };
  using V = std::vector<std::string>;
  CHECK(keys_of(sorted(SortTarget::kKey, SortOrder::kNone)) == V{"s/a", "s/b", "s/c"});
  CHECK(keys_of(sorted(SortTarget::kKey, SortOrder::kAscend)) == V{"s/a", "s/b", "s/c"});
  CHECK(keys_of(sorted(SortTarget::kKey, SortOrder::kDescend)) == V{"s/c", "s/b", "s/a"});
  CHECK(keys_of(sorted(SortTarget::kMod, SortOrder::kDescend)) == V{"s/a", "s/c", "s/b"});
  CHECK(keys_of(sorted(SortTarget::kMod, SortOrder::kAscend)) == V{"s/b", "s/c", "s/a"});
  CHECK(keys_of(sorted(SortTarget::kMod, SortOrder::kNone)) == V{"s/b", "s/c", "s/a"});
  CHECK(keys_of(sorted(SortTarget::kCreate, SortOrder::kDescend)) == V{"s/c", "s/b", "s/a"});
  CHECK(keys_of(sorted(SortTarget::kCreate, SortOrder::kAscend)) == V{"s/a", "s/b", "s/c"});
  CHECK(keys_of(sorted(SortTarget::kValue, SortOrder::kAscend)) == V{"s/b", "s/c", "s/a"});
  CHECK(keys_of(sorted(SortTarget::kValue, SortOrder::kDescend)) == V{"s/a", "s/c", "s/b"});
  CHECK(keys_of(sorted(SortTarget::kVersion, SortOrder::kDescend)).front() == "s/a");
  CHECK(keys_of(sorted(SortTarget::kVersion, SortOrder::kNone)).back() == "s/a");

  auto newest_two = sorted(SortTarget::kMod, SortOrder::kDescend, 2);
  CHECK(keys_of(newest_two) == V{"s/a", "s/c"});
  CHECK(newest_two.more);
  CHECK(newest_two.count == 3);
  auto last_key = sorted(SortTarget::kKey, SortOrder::kDescend, 1);
  CHECK(keys_of(last_key) == V{"s/c"});
  CHECK(last_key.more);
}

TEST_CASE("min and max revision filters drop kvs but not the count", "[kv]") {
  TestStore s;
  for (int i = 0; i < 5; ++i) {
    put(*s, "f" + std::to_string(i), "v");  // revs 2..6
  }
  put(*s, "f0", "again");  // rev 7: f0 create 2 mod 7
  RangeRequest request = prefix_request("f");
  request.min_mod_revision = 4;
  auto r = range(*s, request);
  CHECK(keys_of(r) == std::vector<std::string>{"f0", "f2", "f3", "f4"});
  CHECK(r.count == 5);

  request = prefix_request("f");
  request.max_mod_revision = 4;
  CHECK(keys_of(range(*s, request)) == std::vector<std::string>{"f1", "f2"});

  request = prefix_request("f");
  request.min_create_revision = 3;
  request.max_create_revision = 5;
  CHECK(keys_of(range(*s, request)) == std::vector<std::string>{"f1", "f2", "f3"});

  request = prefix_request("f");
  request.min_mod_revision = 4;
  request.limit = 2;
  r = range(*s, request);
  CHECK(keys_of(r) == std::vector<std::string>{"f0", "f2"});
  CHECK(r.more);
  CHECK(r.count == 5);
}

TEST_CASE("historical reads see each revision's values and the header stays current", "[kv]") {
  // Revisions still in the watch window are served from memory, older ones from SQLite: check both.
  const std::size_t window = GENERATE(std::size_t{0}, std::size_t{8} << 20);
  INFO("watch window bytes " << window);
  TestStore s([&](StoreOptions& o) { o.watch_window_bytes = window; });
  put(*s, "h", "v1");  // 2
  put(*s, "h", "v2");  // 3
  put(*s, "h2", "x");  // 4
  del(*s, "h");        // 5
  put(*s, "h", "v3");  // 6
  auto at = [&](std::int64_t rev) {
    return get(*s, "h", rev);
  };
  CHECK(at(1).kvs.empty());
  REQUIRE(at(2).kvs.size() == 1);
  CHECK(at(2).kvs[0].value == "v1");
  CHECK(at(3).kvs[0].value == "v2");
  CHECK(at(3).kvs[0].version == 2);
  CHECK(at(4).kvs[0].value == "v2");
  CHECK(at(5).kvs.empty());
  CHECK(at(5).count == 0);
  CHECK(at(6).kvs[0].value == "v3");
  CHECK(at(6).kvs[0].create_revision == 6);
  CHECK(at(3).revision == 6);

  RangeRequest list = prefix_request("h");
  list.revision = 4;
  auto old = range(*s, list);
  CHECK(keys_of(old) == std::vector<std::string>{"h", "h2"});
  CHECK(old.count == 2);
  CHECK(old.revision == 6);
  list.revision = 5;
  CHECK(keys_of(range(*s, list)) == std::vector<std::string>{"h2"});
}

TEST_CASE("reads below the compaction point fail, the point itself and future revisions as etcd",
          "[kv]") {
  const std::size_t window = GENERATE(std::size_t{0}, std::size_t{8} << 20);
  TestStore s([&](StoreOptions& o) { o.watch_window_bytes = window; });
  for (int i = 0; i < 10; ++i) {
    put(*s, "k", std::to_string(i));  // revs 2..11
  }
  REQUIRE(s->compact_sync(7));
  auto below = s->range(RangeRequest{"k", {}, 0, 6});
  REQUIRE_FALSE(below);
  CHECK(below.error().reason == skiff::Reason::kGone);
  CHECK(below.error().message == kErrCompacted);
  auto exact = get(*s, "k", 7);
  REQUIRE(exact.kvs.size() == 1);
  CHECK(exact.kvs[0].value == "5");
  CHECK(exact.revision == 11);
  s->wait_compaction_idle_for_test();
  CHECK(get(*s, "k", 7).kvs.at(0).value == "5");
  CHECK(get(*s, "k", 9).kvs.at(0).value == "7");
  auto future = s->range(RangeRequest{"k", {}, 0, 12});
  REQUIRE_FALSE(future);
  CHECK(future.error().reason == skiff::Reason::kOutOfRange);
  CHECK(future.error().message == kErrFutureRev);
  CHECK(get(*s, "k", 11).kvs.at(0).value == "9");
}

TEST_CASE("a large range of ten thousand keys is served whole", "[kv]") {
  TestStore s;
  const std::string value(1024, 'x');
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < 10000; ++i) {
    PutRequest request;
    request.key = fmt::format("big/{:05}", i);
    request.value = value;
    s->put(request, [&](skiff::Result<PutResponse> r) {
      if (!r) {
        failed.fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  REQUIRE(
      skiff::testing::eventually([&] { return done.load() == 10000; }, std::chrono::seconds(60)));
  CHECK(failed.load() == 0);
  auto all = range(*s, prefix_request("big/"));
  CHECK(all.kvs.size() == 10000);
  CHECK(all.count == 10000);
  CHECK(all.kvs.back().key == "big/09999");
}

TEST_CASE("historical lists agree between the window and SQLite under churn", "[kv]") {
  // Two stores receive the same writes; one answers old revisions from memory, one from SQLite.
  TestStore mem;
  TestStore disk([](StoreOptions& o) { o.watch_window_bytes = 0; });
  std::mt19937 rng(42);
  for (int i = 0; i < 400; ++i) {
    std::string key = "churn/" + std::to_string(rng() % 40);
    bool remove = (i % 7) == 3;
    for (Store* store : {mem.store.get(), disk.store.get()}) {
      if (remove) {
        del(*store, key);
      } else {
        put(*store, key, "v" + std::to_string(i));
      }
    }
  }
  REQUIRE(mem->current_revision() == disk->current_revision());
  for (std::int64_t rev = 1; rev <= mem->current_revision(); rev += 3) {
    RangeRequest request = prefix_request("churn/");
    request.revision = rev;
    auto a = range(*mem, request);
    auto b = range(*disk, request);
    INFO("revision " << rev);
    CHECK(a.kvs == b.kvs);
    CHECK(a.count == b.count);
  }
}
