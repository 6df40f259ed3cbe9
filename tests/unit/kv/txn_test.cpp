// SPDX-License-Identifier: Apache-2.0
#include <thread>

#include "skiff/kv/store.hpp"

#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

namespace {

TxnResponse run(Store& store, TxnRequest request) {
  auto result = store.txn_sync(std::move(request));
  if (!result) {
    FAIL("txn failed: " << result.error().message);
  }
  return *result;
}

const RangeResponse& range_at(const TxnResponse& response, std::size_t i) {
  return std::get<RangeResponse>(response.responses.at(i).op);
}
const PutResponse& put_at(const TxnResponse& response, std::size_t i) {
  return std::get<PutResponse>(response.responses.at(i).op);
}

}  // namespace

TEST_CASE("the kube-apiserver create shape succeeds once, then fails", "[kv]") {
  TestStore s;
  TxnRequest create;
  create.compare = {cmp(CompareTarget::kMod, CompareResult::kEqual, "/registry/pods/a", 0)};
  create.success = {op_put("/registry/pods/a", "pod")};
  auto first = run(*s, create);
  CHECK(first.succeeded);
  CHECK(first.revision == 2);
  CHECK(put_at(first, 0).revision == 2);
  auto second = run(*s, create);
  CHECK_FALSE(second.succeeded);
  CHECK(second.responses.empty());
  CHECK(second.revision == 2);
  // OptimisticPut with GetOnFailure.
  create.failure = {op_get("/registry/pods/a")};
  auto third = run(*s, create);
  CHECK_FALSE(third.succeeded);
  CHECK(range_at(third, 0).kvs.at(0).value == "pod");
}

TEST_CASE("the GuaranteedUpdate shape updates on a matching mod revision and reads on a stale one",
          "[kv]") {
  TestStore s;
  auto rv = put(*s, "/registry/x", "v1").revision;
  TxnRequest update;
  update.compare = {cmp(CompareTarget::kMod, CompareResult::kEqual, "/registry/x", rv)};
  update.success = {op_put("/registry/x", "v2")};
  update.failure = {op_get("/registry/x")};
  auto ok = run(*s, update);
  CHECK(ok.succeeded);
  CHECK(put_at(ok, 0).revision == rv + 1);
  auto stale = run(*s, update);
  CHECK_FALSE(stale.succeeded);
  CHECK(range_at(stale, 0).kvs.at(0).value == "v2");
  CHECK(range_at(stale, 0).kvs.at(0).mod_revision == rv + 1);
  CHECK(stale.revision == rv + 1);
  // On a missing key the failure read is empty.
  TxnRequest missing = update;
  missing.compare[0].key = "/registry/none";
  missing.failure = {op_get("/registry/none")};
  auto none = run(*s, missing);
  CHECK_FALSE(none.succeeded);
  CHECK(range_at(none, 0).kvs.empty());
}

TEST_CASE("the delete shape removes the key at a new revision", "[kv]") {
  TestStore s;
  auto rv = put(*s, "/registry/d", "v").revision;
  TxnRequest remove;
  remove.compare = {cmp(CompareTarget::kMod, CompareResult::kEqual, "/registry/d", rv)};
  remove.success = {op_del("/registry/d")};
  remove.failure = {op_get("/registry/d")};
  auto r = run(*s, remove);
  CHECK(r.succeeded);
  const auto& d = std::get<DeleteRangeResponse>(r.responses.at(0).op);
  CHECK(d.deleted == 1);
  CHECK(d.revision == rv + 1);
  CHECK(r.revision == rv + 1);
  auto again = run(*s, remove);
  CHECK_FALSE(again.succeeded);
  CHECK(range_at(again, 0).kvs.empty());
}

TEST_CASE("the compaction lock CAS on compact_rev_key increments its version", "[kv]") {
  TestStore s;
  auto cas = [&](std::int64_t version, const std::string& value) {
    TxnRequest t;
    t.compare = {cmp(CompareTarget::kVersion, CompareResult::kEqual, "compact_rev_key", version)};
    t.success = {op_put("compact_rev_key", value)};
    t.failure = {op_get("compact_rev_key")};
    return run(*s, t);
  };
  auto first = cas(0, "5");
  CHECK(first.succeeded);
  CHECK(get(*s, "compact_rev_key").kvs.at(0).version == 1);
  auto second = cas(1, "9");
  CHECK(second.succeeded);
  CHECK(get(*s, "compact_rev_key").kvs.at(0).version == 2);
  auto lost = cas(1, "10");
  CHECK_FALSE(lost.succeeded);
  CHECK(range_at(lost, 0).kvs.at(0).version == 2);
  CHECK(range_at(lost, 0).kvs.at(0).value == "9");
}

TEST_CASE("every compare target and result behaves on present and absent keys", "[kv]") {
  TestStore s;
  auto lease = s->lease_grant_sync(77, 60);
  REQUIRE(lease);
  put(*s, "c", "m");      // rev 2
  put(*s, "c", "m", 77);  // rev 3: create 2, mod 3, version 2, lease 77
  auto holds = [&](Compare c) {
    TxnRequest t;
    t.compare = {std::move(c)};
    return run(*s, t).succeeded;
  };
  using T = CompareTarget;
  using R = CompareResult;
  struct Case {
    T target;
    std::int64_t actual;
  };
  for (const auto& [target, actual] :
       {Case{T::kVersion, 2}, Case{T::kCreate, 2}, Case{T::kMod, 3}, Case{T::kLease, 77}}) {
    INFO("target " << static_cast<int>(target));
    CHECK(holds(cmp(target, R::kEqual, "c", actual)));
    CHECK_FALSE(holds(cmp(target, R::kEqual, "c", actual + 1)));
    CHECK(holds(cmp(target, R::kNotEqual, "c", actual + 1)));
    CHECK_FALSE(holds(cmp(target, R::kNotEqual, "c", actual)));
    CHECK(holds(cmp(target, R::kGreater, "c", actual - 1)));
    CHECK_FALSE(holds(cmp(target, R::kGreater, "c", actual)));
    CHECK(holds(cmp(target, R::kLess, "c", actual + 1)));
    CHECK_FALSE(holds(cmp(target, R::kLess, "c", actual)));
    // Absent keys compare as 0.
    CHECK(holds(cmp(target, R::kEqual, "absent", 0)));
    CHECK_FALSE(holds(cmp(target, R::kNotEqual, "absent", 0)));
    CHECK(holds(cmp(target, R::kLess, "absent", 1)));
    CHECK(holds(cmp(target, R::kGreater, "absent", -1)));
  }
  CHECK(holds(cmp(T::kValue, R::kEqual, "c", 0, "m")));
  CHECK_FALSE(holds(cmp(T::kValue, R::kEqual, "c", 0, "n")));
  CHECK(holds(cmp(T::kValue, R::kNotEqual, "c", 0, "n")));
  CHECK(holds(cmp(T::kValue, R::kGreater, "c", 0, "a")));
  CHECK(holds(cmp(T::kValue, R::kLess, "c", 0, "z")));
  CHECK_FALSE(holds(cmp(T::kValue, R::kLess, "c", 0, "m")));
  // A value compare on a missing key is always false.
  for (auto result : {R::kEqual, R::kNotEqual, R::kGreater, R::kLess}) {
    CHECK_FALSE(holds(cmp(T::kValue, result, "absent", 0, "")));
  }
  CHECK(s->current_revision() == 3);
}

TEST_CASE("range compares must hold for every key in the interval", "[kv]") {
  TestStore s;
  put(*s, "rc/a", "1");
  put(*s, "rc/b", "1");
  put(*s, "rc/b", "2");
  auto holds = [&](Compare c) {
    c.range_end = prefix_end("rc/");
    TxnRequest t;
    t.compare = {std::move(c)};
    return run(*s, t).succeeded;
  };
  CHECK(holds(cmp(CompareTarget::kVersion, CompareResult::kGreater, "rc/", 0)));
  CHECK_FALSE(holds(cmp(CompareTarget::kVersion, CompareResult::kEqual, "rc/", 1)));
  CHECK(holds(cmp(CompareTarget::kMod, CompareResult::kLess, "rc/", 5)));
  CHECK_FALSE(holds(cmp(CompareTarget::kValue, CompareResult::kEqual, "rc/", 0, "1")));
  CHECK(holds(cmp(CompareTarget::kValue, CompareResult::kLess, "rc/", 0, "3")));
  // An empty interval compares as one zero KeyValue.
  CHECK(holds(cmp(CompareTarget::kVersion, CompareResult::kEqual, "rd/", 0)));
}

TEST_CASE("a multi-op branch commits at one revision with read-your-writes", "[kv]") {
  TestStore s;
  put(*s, "t0", "old");  // 2
  TxnRequest t;
  t.success = {op_get("t", "u"), op_put("t1", "a"), op_put("t2", "b"),
               op_get("t", "u"), op_del("t0"),      op_get("t", "u")};
  auto r = run(*s, t);
  CHECK(r.succeeded);
  CHECK(r.revision == 3);
  CHECK(range_at(r, 0).revision == 2);
  CHECK(keys_of(range_at(r, 0)) == std::vector<std::string>{"t0"});
  CHECK(put_at(r, 1).revision == 3);
  CHECK(put_at(r, 2).revision == 3);
  CHECK(range_at(r, 3).revision == 3);
  CHECK(keys_of(range_at(r, 3)) == std::vector<std::string>{"t0", "t1", "t2"});
  CHECK(range_at(r, 3).kvs[1].mod_revision == 3);
  CHECK(std::get<DeleteRangeResponse>(r.responses.at(4).op).revision == 3);
  CHECK(keys_of(range_at(r, 5)) == std::vector<std::string>{"t1", "t2"});
  CHECK(s->current_revision() == 3);
  CHECK(get(*s, "t1").kvs.at(0).create_revision == 3);
}

TEST_CASE("a read-only txn and a failed compare without writes take no revision", "[kv]") {
  TestStore s;
  put(*s, "ro", "v");
  TxnRequest t;
  t.success = {op_get("ro")};
  auto r = run(*s, t);
  CHECK(r.succeeded);
  CHECK(r.revision == 2);
  CHECK(range_at(r, 0).kvs.at(0).value == "v");
  TxnRequest failing;
  failing.compare = {cmp(CompareTarget::kVersion, CompareResult::kEqual, "ro", 9)};
  failing.success = {op_put("ro", "w")};
  failing.failure = {op_get("ro")};
  CHECK_FALSE(run(*s, failing).succeeded);
  TxnRequest empty;
  CHECK(run(*s, empty).succeeded);
  // A delete matching nothing writes nothing either.
  TxnRequest no_match;
  no_match.success = {op_del("nothing-here")};
  auto nm = run(*s, no_match);
  CHECK(nm.revision == 2);
  CHECK(std::get<DeleteRangeResponse>(nm.responses.at(0).op).revision == 2);
  CHECK(s->current_revision() == 2);
  // A txn range at an older revision, and its errors.
  put(*s, "ro", "w");
  TxnRequest old;
  RangeRequest at2;
  at2.key = "ro";
  at2.revision = 2;
  old.success = {RequestOp{at2}};
  auto o = run(*s, old);
  CHECK(range_at(o, 0).kvs.at(0).value == "v");
  CHECK(range_at(o, 0).revision == 3);
  at2.revision = 99;
  old.success = {RequestOp{at2}};
  auto future = s->txn_sync(old);
  REQUIRE_FALSE(future);
  CHECK(future.error().message == kErrFutureRev);
}

TEST_CASE("txn validation rejects too many ops, duplicate keys and empty keys", "[kv]") {
  TestStore s;
  auto error_of = [&](const TxnRequest& t) {
    auto r = s->txn_sync(t);
    REQUIRE_FALSE(r);
    return r.error();
  };
  TxnRequest many;
  for (std::size_t i = 0; i <= kMaxTxnOps; ++i) {
    many.success.push_back(op_put("k" + std::to_string(i), "v"));
  }
  CHECK(error_of(many).message == kErrTooManyOps);
  many.success.pop_back();
  CHECK(s->txn_sync(many).has_value());

  TxnRequest dup;
  dup.success = {op_put("a", "1"), op_put("a", "2")};
  CHECK(error_of(dup).message == kErrDuplicateKey);
  CHECK(error_of(dup).reason == skiff::Reason::kBadRequest);

  TxnRequest put_in_deleted;
  put_in_deleted.success = {op_del("p/", prefix_end("p/")), op_put("p/x", "1")};
  CHECK(error_of(put_in_deleted).message == kErrDuplicateKey);

  TxnRequest delete_twice;
  delete_twice.success = {op_del("a"), op_del("a")};
  CHECK(s->txn_sync(delete_twice).has_value());

  TxnRequest nested_dup;
  TxnRequest inner;
  inner.success = {op_put("n", "1")};
  nested_dup.success = {op_put("n", "0"), RequestOp{inner}};
  CHECK(error_of(nested_dup).message == kErrDuplicateKey);

  TxnRequest nested_then_else;
  TxnRequest branches;
  branches.success = {op_put("m", "then")};
  branches.failure = {op_put("m", "else")};
  nested_then_else.success = {RequestOp{branches}};
  CHECK(s->txn_sync(nested_then_else).has_value());

  TxnRequest nested_deleted;
  TxnRequest inner_put;
  inner_put.success = {op_put("q/1", "x")};
  nested_deleted.success = {op_del("q/", prefix_end("q/")), RequestOp{inner_put}};
  CHECK(error_of(nested_deleted).message == kErrDuplicateKey);

  TxnRequest empty_key;
  empty_key.success = {op_put("", "v")};
  CHECK(error_of(empty_key).message == kErrKeyNotProvided);
  TxnRequest empty_range;
  empty_range.failure = {op_get("")};
  CHECK(error_of(empty_range).message == kErrKeyNotProvided);

  TxnRequest bad_lease;
  bad_lease.success = {op_put("l", "v", 4242)};
  CHECK(error_of(bad_lease).message == kErrLeaseNotFound);

  TxnRequest value_provided;
  PutRequest p{"x", "v", 0, false, true, false};
  value_provided.success = {RequestOp{p}};
  CHECK(error_of(value_provided).message == kErrValueProvided);
}

TEST_CASE("a failing op inside a txn leaves no partial write", "[kv]") {
  TestStore s;
  TxnRequest t;
  PutRequest ignore_missing{"missing", "", 0, false, true, false};
  t.success = {op_put("first", "1"), RequestOp{ignore_missing}};
  auto r = s->txn_sync(t);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == kErrKeyNotFound);
  CHECK(get(*s, "first").kvs.empty());
  CHECK(s->current_revision() == 1);
  // The next request still works and takes revision 2.
  CHECK(put(*s, "after", "v").revision == 2);
}

TEST_CASE("nested txns choose their branch against the txn's starting snapshot", "[kv]") {
  TestStore s;
  put(*s, "n", "0");  // 2
  TxnRequest inner;
  inner.compare = {cmp(CompareTarget::kValue, CompareResult::kEqual, "n", 0, "0")};
  inner.success = {op_put("inner", "saw-old"), op_get("n")};
  inner.failure = {op_put("inner", "saw-new")};
  TxnRequest outer;
  outer.success = {op_put("n", "1"), RequestOp{inner}};
  auto r = run(*s, outer);
  CHECK(r.succeeded);
  CHECK(r.revision == 3);
  const auto& nested = std::get<TxnResponse>(r.responses.at(1).op);
  CHECK(nested.succeeded);
  CHECK(nested.revision == 0);
  CHECK(std::get<RangeResponse>(nested.responses.at(1).op).kvs.at(0).value == "1");
  CHECK(get(*s, "inner").kvs.at(0).value == "saw-old");
  CHECK(s->current_revision() == 3);
}

TEST_CASE("concurrent CAS updates from 8 threads lose no update", "[kv]") {
  TestStore s;
  put(*s, "counter", "0");
  constexpr int kThreads = 8;
  constexpr int kIncrements = 25;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};  // Catch assertions are not thread-safe: count, check afterwards
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        RangeRequest read;
        read.key = "counter";
        auto current = s->range(read);
        if (!current || current->kvs.size() != 1) {
          failures.fetch_add(1);
          return;
        }
        const auto& kv = current->kvs.at(0);
        TxnRequest cas;
        cas.compare = {cmp(CompareTarget::kMod, CompareResult::kEqual, "counter", kv.mod_revision)};
        cas.success = {op_put("counter", std::to_string(std::stoi(kv.value) + 1))};
        auto r = s->txn_sync(cas);
        if (!r) {
          failures.fetch_add(1);
          return;
        }
        if (r->succeeded) {
          ++i;
        } else {
          conflicts.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  REQUIRE(failures.load() == 0);
  auto kv = get(*s, "counter").kvs.at(0);
  CHECK(kv.value == std::to_string(kThreads * kIncrements));
  CHECK(kv.version == kThreads * kIncrements + 1);
  CHECK(s->current_revision() == 2 + kThreads * kIncrements);
  INFO("conflicts " << conflicts.load());
}

TEST_CASE("racing creates of one key have exactly one winner", "[kv]") {
  TestStore s;
  std::atomic<int> winners{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      TxnRequest create;
      create.compare = {cmp(CompareTarget::kMod, CompareResult::kEqual, "once", 0)};
      create.success = {op_put("once", std::to_string(t))};
      auto r = s->txn_sync(create);
      if (!r) {
        failures.fetch_add(1);
      } else if (r->succeeded) {
        winners.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(failures.load() == 0);
  CHECK(winners.load() == 1);
  CHECK(get(*s, "once").kvs.at(0).version == 1);
}
