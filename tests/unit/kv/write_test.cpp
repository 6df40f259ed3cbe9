// SPDX-License-Identifier: Apache-2.0
#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

TEST_CASE("each put takes the next revision and tracks create, mod and version", "[kv]") {
  TestStore s;
  CHECK(put(*s, "p", "1").revision == 2);
  CHECK(put(*s, "q", "1").revision == 3);
  CHECK(put(*s, "p", "2").revision == 4);
  auto kv = get(*s, "p").kvs.at(0);
  CHECK(kv.create_revision == 2);
  CHECK(kv.mod_revision == 4);
  CHECK(kv.version == 2);
  CHECK(kv.value == "2");
  CHECK(s->current_revision() == 4);
}

TEST_CASE("a put of an identical value still takes a revision", "[kv]") {
  TestStore s;
  put(*s, "same", "v");
  CHECK(put(*s, "same", "v").revision == 3);
  auto kv = get(*s, "same").kvs.at(0);
  CHECK(kv.version == 2);
  CHECK(kv.mod_revision == 3);
}

TEST_CASE("put returns the previous kv only when asked and only if there was one", "[kv]") {
  TestStore s;
  PutRequest request{"pk", "1", 0, true, false, false};
  auto first = s->put_sync(request);
  REQUIRE(first);
  CHECK_FALSE(first->prev_kv.has_value());
  request.value = "2";
  auto second = s->put_sync(request);
  REQUIRE(second);
  REQUIRE(second->prev_kv.has_value());
  CHECK(second->prev_kv->value == "1");
  CHECK(second->prev_kv->mod_revision == 2);
  request.prev_kv = false;
  auto third = s->put_sync(request);
  REQUIRE(third);
  CHECK_FALSE(third->prev_kv.has_value());
}

TEST_CASE("ignore_value and ignore_lease keep the current value or lease", "[kv]") {
  TestStore s;
  auto lease = s->lease_grant_sync(0, 60);
  REQUIRE(lease);
  put(*s, "iv", "orig", lease->id);

  PutRequest keep_value;
  keep_value.key = "iv";
  keep_value.ignore_value = true;
  keep_value.lease = 0;  // detaches
  REQUIRE(s->put_sync(keep_value));
  auto kv = get(*s, "iv").kvs.at(0);
  CHECK(kv.value == "orig");
  CHECK(kv.lease == 0);
  CHECK(kv.version == 2);

  put(*s, "iv", "orig", lease->id);
  PutRequest keep_lease;
  keep_lease.key = "iv";
  keep_lease.value = "new";
  keep_lease.ignore_lease = true;
  REQUIRE(s->put_sync(keep_lease));
  kv = get(*s, "iv").kvs.at(0);
  CHECK(kv.value == "new");
  CHECK(kv.lease == lease->id);
}

TEST_CASE("ignore flags fail on a missing key or with a value or lease given", "[kv]") {
  TestStore s;
  PutRequest missing;
  missing.key = "nope";
  missing.ignore_value = true;
  auto r = s->put_sync(missing);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == skiff::Reason::kBadRequest);
  CHECK(r.error().message == kErrKeyNotFound);
  missing.ignore_value = false;
  missing.ignore_lease = true;
  r = s->put_sync(missing);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == kErrKeyNotFound);

  put(*s, "yes", "v");
  PutRequest value_given{"yes", "x", 0, false, true, false};
  r = s->put_sync(value_given);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == skiff::Reason::kBadRequest);
  CHECK(r.error().message == kErrValueProvided);
  PutRequest lease_given{"yes", "x", 5, false, false, true};
  r = s->put_sync(lease_given);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == kErrLeaseProvided);
  CHECK(s->current_revision() == 2);
}

TEST_CASE("a put with an unknown lease fails with lease not found and writes nothing", "[kv]") {
  TestStore s;
  PutRequest request{"leased", "v", 12345, false, false, false};
  auto r = s->put_sync(request);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == skiff::Reason::kNotFound);
  CHECK(r.error().message == kErrLeaseNotFound);
  CHECK(s->current_revision() == 1);
  CHECK(get(*s, "leased").kvs.empty());
  PutRequest empty_key;
  auto e = s->put_sync(empty_key);
  REQUIRE_FALSE(e);
  CHECK(e.error().message == kErrKeyNotProvided);
}

TEST_CASE("delete of one key takes a revision and returns prev_kvs when asked", "[kv]") {
  TestStore s;
  put(*s, "d", "v");
  auto r = del(*s, "d", {}, true);
  CHECK(r.deleted == 1);
  CHECK(r.revision == 3);
  REQUIRE(r.prev_kvs.size() == 1);
  CHECK(r.prev_kvs[0].value == "v");
  CHECK(get(*s, "d").kvs.empty());
  auto quiet = del(*s, "d");
  CHECK(quiet.deleted == 0);
  CHECK(quiet.revision == 3);
  CHECK(s->current_revision() == 3);
}

TEST_CASE("a prefix delete removes N keys in one revision and leaves the rest", "[kv]") {
  TestStore s;
  for (int i = 0; i < 4; ++i) {
    put(*s, "dp/" + std::to_string(i), "v");
  }
  put(*s, "dq", "stays");
  auto r = del(*s, "dp/", prefix_end("dp/"));
  CHECK(r.deleted == 4);
  CHECK(r.revision == 7);
  CHECK(r.prev_kvs.empty());
  CHECK(s->current_revision() == 7);
  CHECK(range(*s, prefix_request("dp/")).count == 0);
  CHECK(get(*s, "dq").kvs.size() == 1);
  // From-key delete.
  put(*s, "x1", "v");
  put(*s, "x2", "v");
  auto from = del(*s, "x", std::string(1, '\0'));
  CHECK(from.deleted == 2);
}

TEST_CASE("a deleted then recreated key starts at version 1 with history intact", "[kv]") {
  TestStore s;
  put(*s, "r", "a");  // 2
  put(*s, "r", "b");  // 3
  del(*s, "r");       // 4
  put(*s, "r", "c");  // 5
  auto kv = get(*s, "r").kvs.at(0);
  CHECK(kv.create_revision == 5);
  CHECK(kv.mod_revision == 5);
  CHECK(kv.version == 1);
  CHECK(get(*s, "r", 3).kvs.at(0).value == "b");
  CHECK(get(*s, "r", 3).kvs.at(0).version == 2);
  CHECK(get(*s, "r", 4).kvs.empty());
}

TEST_CASE("empty values and large values round-trip", "[kv]") {
  TestStore s;
  put(*s, "empty", "");
  auto kv = get(*s, "empty").kvs.at(0);
  CHECK(kv.value.empty());
  const std::string big(1400 * 1024, 'z');
  put(*s, "big", big);
  CHECK(get(*s, "big").kvs.at(0).value == big);
  s.reopen();
  CHECK(get(*s, "big").kvs.at(0).value == big);
  CHECK(get(*s, "empty").kvs.size() == 1);
}
