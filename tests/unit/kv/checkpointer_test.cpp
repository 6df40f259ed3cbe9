// SPDX-License-Identifier: Apache-2.0
// The WAL checkpointer on its own: a full checkpoint with a waiter (what Defragment uses) is
// answered once every frame is in the database file, and no later than its retry deadline.
#include <chrono>
#include <future>
#include <memory>

#include <catch2/catch.hpp>

#include "checkpointer.hpp"
#include "skiff_test.hpp"
#include "sqlite.hpp"

using skiff::kv::Checkpointer;
using skiff::kv::sql::Connection;
using namespace std::chrono_literals;

namespace {

/// A WAL database with a reader that pins an old snapshot: frames committed after the reader's
/// snapshot cannot be copied into the file (the reader would see them) until it ends.
struct PinnedWal {
  skiff::testing::TempDir dir;
  std::string path = dir.file("c.db");
  std::unique_ptr<Connection> writer;
  std::unique_ptr<Connection> reader;
  int frames = 0;  ///< WAL length after the last commit (from the WAL hook)

  PinnedWal() {
    writer = Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    writer->exec("PRAGMA journal_mode = WAL; CREATE TABLE meta(v); INSERT INTO meta VALUES (1);");
    sqlite3_wal_autocheckpoint(writer->handle(), 0);
    sqlite3_wal_hook(
        writer->handle(),
        [](void* self, sqlite3*, const char*, int n) {
          static_cast<PinnedWal*>(self)->frames = n;
          return SQLITE_OK;
        },
        this);
    reader = Connection::open(path, SQLITE_OPEN_READWRITE);
    reader->exec("BEGIN");
    REQUIRE(reader->query_int("SELECT count(*) FROM meta") == 1);  // the snapshot starts here
    writer->exec("INSERT INTO meta VALUES (randomblob(200000))");
    REQUIRE(frames > 40);
  }
};

}  // namespace

TEST_CASE("a full checkpoint someone waits for is retried until the WAL is all in the file",
          "[kv]") {
  PinnedWal wal;
  Checkpointer checkpointer(wal.path, 0);
  checkpointer.start();
  std::promise<void> done;
  auto answered = done.get_future();
  checkpointer.request_full([&] { done.set_value(); }, std::chrono::steady_clock::now() + 60s);
  // Every run stops short of the frames the reader pins, so the waiter is not answered...
  CHECK(answered.wait_for(300ms) == std::future_status::timeout);
  CHECK(checkpointer.backfilled() < wal.frames);
  // ...until the reader lets go: the next try copies the rest.
  wal.reader->exec("COMMIT");
  REQUIRE(answered.wait_for(30s) == std::future_status::ready);
  CHECK(checkpointer.backfilled() == wal.frames);
}

TEST_CASE("a full checkpoint whose retry deadline passed answers with the WAL incomplete",
          "[kv]") {
  PinnedWal wal;
  Checkpointer checkpointer(wal.path, 0);
  checkpointer.start();
  std::promise<void> done;
  auto answered = done.get_future();
  checkpointer.request_full([&] { done.set_value(); }, std::chrono::steady_clock::now() + 50ms);
  REQUIRE(answered.wait_for(30s) == std::future_status::ready);
  CHECK(checkpointer.backfilled() < wal.frames);
  // Without a waiter a run is tried once, as before.
  checkpointer.request_full();
  REQUIRE(checkpointer.wait_idle(30000ms));
  CHECK(checkpointer.backfilled() < wal.frames);
  wal.reader->exec("COMMIT");
  // Stopping with a waiter queued still answers it.
  std::promise<void> last;
  auto last_answered = last.get_future();
  checkpointer.request_full([&] { last.set_value(); }, std::chrono::steady_clock::now() + 60s);
  checkpointer.stop();
  CHECK(last_answered.wait_for(0s) == std::future_status::ready);
}
