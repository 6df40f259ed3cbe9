// SPDX-License-Identifier: Apache-2.0
#include <thread>

#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

TEST_CASE("lease grant picks or honours IDs, raises short TTLs and rejects huge ones", "[kv]") {
  TestStore s;
  auto picked = s->lease_grant_sync(0, 30);
  REQUIRE(picked);
  CHECK(picked->id > 0);
  CHECK(picked->ttl == 30);
  CHECK(picked->revision == 1);
  auto explicit_id = s->lease_grant_sync(1234, 1);
  REQUIRE(explicit_id);
  CHECK(explicit_id->id == 1234);
  CHECK(explicit_id->ttl == 2);  // raised to lease_min_ttl
  auto duplicate = s->lease_grant_sync(1234, 10);
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().reason == skiff::Reason::kAlreadyExists);
  CHECK(duplicate.error().message == kErrLeaseExists);
  auto huge = s->lease_grant_sync(0, kMaxLeaseTtl + 1);
  REQUIRE_FALSE(huge);
  CHECK(huge.error().reason == skiff::Reason::kOutOfRange);
  CHECK(huge.error().message == kErrLeaseTtlTooLarge);
  CHECK(s->lease_grant_sync(0, kMaxLeaseTtl).has_value());
  CHECK(s->current_revision() == 1);
  auto ids = s->lease_list();
  CHECK(ids.size() == 3);
  CHECK(std::find(ids.begin(), ids.end(), 1234) != ids.end());
}

TEST_CASE("keys attach to a lease, and time_to_live reports them", "[kv]") {
  ManualClock clock;
  TestStore s([&](StoreOptions& o) { o.now_ms = clock.fn(); });
  auto lease = s->lease_grant_sync(7, 60);
  REQUIRE(lease);
  put(*s, "l/b", "1", 7);
  put(*s, "l/a", "2", 7);
  put(*s, "l/c", "3", 7);
  put(*s, "l/c", "3");  // detached again
  clock.advance_ms(10'500);
  auto ttl = s->lease_time_to_live(7, true);
  CHECK(ttl.id == 7);
  CHECK(ttl.granted_ttl == 60);
  CHECK(ttl.ttl == 50);
  CHECK(ttl.keys == std::vector<std::string>{"l/a", "l/b"});
  CHECK(s->lease_time_to_live(7, false).keys.empty());
  CHECK(get(*s, "l/a").kvs.at(0).lease == 7);
  auto unknown = s->lease_time_to_live(99, true);
  CHECK(unknown.ttl == -1);
}

TEST_CASE("keep_alive renews to the full TTL and answers 0 for unknown leases", "[kv]") {
  ManualClock clock;
  TestStore s([&](StoreOptions& o) { o.now_ms = clock.fn(); });
  REQUIRE(s->lease_grant_sync(5, 10));
  put(*s, "ka", "v", 5);
  clock.advance_ms(8000);
  auto renewed = s->lease_keep_alive_sync(5);
  REQUIRE(renewed);
  CHECK(*renewed == 10);
  CHECK(s->lease_time_to_live(5, false).ttl == 10);
  clock.advance_ms(8000);  // 16 s after the grant: alive thanks to the renewal
  auto unknown = s->lease_keep_alive_sync(6);
  REQUIRE(unknown);
  CHECK(*unknown == 0);
  CHECK(get(*s, "ka").kvs.size() == 1);
  clock.advance_ms(2500);
  REQUIRE(skiff::testing::eventually([&] { return get(*s, "ka").kvs.empty(); }));
  CHECK(s->lease_time_to_live(5, false).ttl == -1);
  CHECK(*s->lease_keep_alive_sync(5) == 0);
}

TEST_CASE("revoke deletes the lease's keys in one revision", "[kv]") {
  TestStore s;
  REQUIRE(s->lease_grant_sync(11, 60));
  put(*s, "rv/1", "a", 11);  // 2
  put(*s, "rv/2", "b", 11);  // 3
  put(*s, "rv/3", "c");      // 4
  WatchOptions options;
  options.key = "rv/";
  options.range_end = prefix_end("rv/");
  options.prev_kv = true;
  auto w = s->watch(options, {});
  REQUIRE(w);
  auto revoked = s->lease_revoke_sync(11);
  REQUIRE(revoked);
  CHECK(*revoked == 5);
  CHECK(s->current_revision() == 5);
  CHECK(keys_of(range(*s, prefix_request("rv/"))) == std::vector<std::string>{"rv/3"});
  auto events = collect(**w, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == Event::Type::kDelete);
  CHECK(events[0].kv.key == "rv/1");
  CHECK(events[0].kv.mod_revision == 5);
  CHECK(events[1].kv.mod_revision == 5);
  REQUIRE(events[1].prev_kv.has_value());
  CHECK(events[1].prev_kv->value == "b");
  auto unknown = s->lease_revoke_sync(11);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().reason == skiff::Reason::kNotFound);
  CHECK(unknown.error().message == kErrLeaseNotFound);
  CHECK(s->lease_time_to_live(11, false).ttl == -1);
  // A lease without keys revokes without a revision.
  REQUIRE(s->lease_grant_sync(12, 60));
  CHECK(*s->lease_revoke_sync(12) == 5);
}

TEST_CASE("an expired lease deletes its keys in one revision with DELETE events", "[kv]") {
  ManualClock clock;
  TestStore s([&](StoreOptions& o) { o.now_ms = clock.fn(); });
  REQUIRE(s->lease_grant_sync(21, 5));
  put(*s, "ex/a", "1", 21);  // 2
  put(*s, "ex/b", "2", 21);  // 3
  WatchOptions options;
  options.key = "ex/";
  options.range_end = prefix_end("ex/");
  options.prev_kv = true;
  std::atomic<int> notified{0};
  auto w = s->watch(options, [&] { notified.fetch_add(1); });
  REQUIRE(w);
  clock.advance_ms(4000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a few expiry checks: not yet
  CHECK(s->current_revision() == 3);
  clock.advance_ms(1001);
  REQUIRE(skiff::testing::eventually([&] { return s->current_revision() == 4; }));
  CHECK(range(*s, prefix_request("ex/")).count == 0);
  auto events = collect(**w, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == Event::Type::kDelete);
  CHECK(events[1].type == Event::Type::kDelete);
  CHECK(events[0].kv.mod_revision == 4);
  CHECK(events[1].kv.mod_revision == 4);
  CHECK(events[0].prev_kv.value().value == "1");
  CHECK(notified.load() >= 1);
  CHECK(s->lease_time_to_live(21, false).ttl == -1);
  CHECK(s->lease_list().empty());
}

TEST_CASE("leases and their deadlines survive a reopen and expire afterwards", "[kv]") {
  ManualClock clock;
  TestStore s([&](StoreOptions& o) {
    o.now_ms = clock.fn();
    o.lease_check_interval = std::chrono::milliseconds(1000);
  });
  REQUIRE(s->lease_grant_sync(31, 20));
  REQUIRE(s->lease_grant_sync(32, 100));
  put(*s, "sv/a", "1", 31);
  put(*s, "sv/b", "1", 32);
  clock.advance_ms(5000);
  s.reopen();
  auto ttl = s->lease_time_to_live(31, true);
  CHECK(ttl.ttl == 15);
  CHECK(ttl.granted_ttl == 20);
  CHECK(ttl.keys == std::vector<std::string>{"sv/a"});
  // The deadline passes while the store is closed: it expires soon after open, not during it.
  s.store.reset();
  clock.advance_ms(20'000);
  s.store = open_store(s.options);
  CHECK(get(*s, "sv/a").kvs.size() == 1);
  REQUIRE(skiff::testing::eventually([&] { return get(*s, "sv/a").kvs.empty(); }));
  CHECK(get(*s, "sv/b").kvs.size() == 1);
  CHECK(s->lease_time_to_live(32, false).ttl == 75);
}
