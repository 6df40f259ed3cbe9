// SPDX-License-Identifier: Apache-2.0
// A database written by the schema-1 code (fixtures/schema1.db, made by
// fixtures/make_schema1_fixture.cpp from the sources before schema 2) opens with the current code
// and serves exactly what the old code served from it (fixtures/schema1.dump): live keys at every
// retained revision, the watch replay with prev_kv, the leases with their keys and TTLs. Then it
// keeps working: writes, lease expiry, compaction, reopening.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kv_dump.hpp"
#include "kv_test_util.hpp"

using namespace skiff::kv;
using namespace skiff::kv::test;

namespace {

constexpr std::int64_t kFixtureNowMs = 1'760'000'000'000;  // the generator's fixed clock

std::string fixture(const std::string& name) { return std::string(SKIFF_KV_FIXTURES) + "/" + name; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("a schema 1 database written by the old code migrates without losing anything", "[kv]") {
  skiff::testing::TempDir dir;
  ManualClock clock;
  clock.now->store(kFixtureNowMs);
  auto options = test_options(dir);
  options.now_ms = clock.fn();
  std::filesystem::create_directories(std::filesystem::path(options.path).parent_path());
  std::filesystem::copy_file(fixture("schema1.db"), options.path);
  REQUIRE(sql_int(options.path, "SELECT value FROM meta WHERE name = 'schema_version'") == 1);
  const std::string expected = read_file(fixture("schema1.dump"));
  REQUIRE(expected.find("error") == std::string::npos);
  REQUIRE(expected.find("lease 7001 ") != std::string::npos);

  auto store = open_store(options);
  CHECK(sql_int(options.path, "SELECT value FROM meta WHERE name = 'schema_version'") == 2);
  CHECK(sql_text(options.path, "PRAGMA integrity_check") == "ok");
  CHECK(sql_int(options.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'history_key_rev'") ==
        0);
  CHECK(store->current_revision() == 20);
  CHECK(store->compact_revision() == 9);
  CHECK(dump_store(*store) == expected);

  // Opening again does not migrate again and serves the same.
  store.reset();
  store = open_store(options);
  CHECK(dump_store(*store) == expected);

  // Below the compaction point the old file had nothing; the new code says so the same way.
  auto compacted = store->range([] {
    RangeRequest request;
    request.key = "m/a";
    request.revision = 8;
    return request;
  }());
  REQUIRE_FALSE(compacted);
  CHECK(compacted.error().message == kErrCompacted);

  // The migrated file takes writes at the next revision, with per-key versions continued.
  auto next = put(*store, "m/a", "a4");
  CHECK(next.revision == 21);
  CHECK(get(*store, "m/a").kvs.at(0).version == 4);
  CHECK(get(*store, "m/a").kvs.at(0).create_revision == 2);
  // The lease kept its deadline (granted 3600 s at the fixture's clock): it expires an hour later
  // and takes both its keys with it, in one revision.
  CHECK(store->lease_time_to_live(7001, false).ttl == 3600);
  clock.advance_ms(3601 * 1000);
  REQUIRE(skiff::testing::eventually([&] { return store->lease_list().empty(); }));
  REQUIRE(skiff::testing::eventually([&] { return store->current_revision() == 22; }));
  CHECK(range(*store, prefix_request("l/")).kvs.empty());
  CHECK(get(*store, "l/long1", 21).kvs.at(0).lease == 7001);
  // Compaction over migrated rows: only the newest row of each live key stays.
  REQUIRE(store->compact_sync(22));
  store->wait_compaction_idle_for_test();
  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  all.keys_only = true;
  CHECK(keys_of(range(*store, all)) ==
        std::vector<std::string>{std::string("bin/\0\xff\x01", 7), "m/a", "m/b", "m/big", "m/e",
                                 "m/hot"});
  store.reset();
  CHECK(sql_text(options.path, "PRAGMA integrity_check") == "ok");
  // One row per live key: superseded rows and tombstones up to 22 are gone.
  CHECK(sql_int(options.path, "SELECT count(*) FROM history") == 6);
  store = open_store(options);
  CHECK(store->current_revision() == 22);
  CHECK(get(*store, "m/big").kvs.at(0).value == std::string(6000, 'B'));
  CHECK(get(*store, std::string("bin/\0\xff\x01", 7)).kvs.at(0).value == std::string("v\0\xfe", 3));
}
