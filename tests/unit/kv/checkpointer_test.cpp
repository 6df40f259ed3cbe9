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

/// A WAL database with a reader that pins an old snapshot (frames committed after the reader's
/// snapshot cannot be copied into the file, the reader would see them, until it ends) and a
/// running checkpointer on it.
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
    checkpointer = std::make_unique<Checkpointer>(path, 0);
    checkpointer->start();
  }

  /// A full checkpoint with a waiter; the future is ready once the waiter was answered.
  std::future<void> request_full(std::chrono::milliseconds retry_for) {
    auto done = std::make_shared<std::promise<void>>();
    checkpointer->request_full([done] { done->set_value(); },
                               std::chrono::steady_clock::now() + retry_for);
    return done->get_future();
  }

  std::unique_ptr<Checkpointer> checkpointer;
};

}  // namespace

TEST_CASE("a full checkpoint someone waits for is retried until the WAL is all in the file",
          "[kv]") {
  PinnedWal wal;
  auto answered = wal.request_full(60s);
  // Every run stops short of the frames the reader pins, so the waiter is not answered...
  CHECK(answered.wait_for(300ms) == std::future_status::timeout);
  CHECK(wal.checkpointer->backfilled() < wal.frames);
  // Between tries it counts as idle, so a writer waiting for it goes on.
  CHECK(wal.checkpointer->wait_idle(10000ms));
  CHECK(answered.wait_for(0s) == std::future_status::timeout);
  // ...until the reader lets go: the next try copies the rest.
  wal.reader->exec("COMMIT");
  REQUIRE(answered.wait_for(30s) == std::future_status::ready);
  CHECK(wal.checkpointer->backfilled() == wal.frames);
}

TEST_CASE("a full checkpoint whose retry deadline passed answers with the WAL incomplete",
          "[kv]") {
  PinnedWal wal;
  auto& checkpointer = *wal.checkpointer;
  auto answered = wal.request_full(50ms);
  REQUIRE(answered.wait_for(30s) == std::future_status::ready);
  CHECK(checkpointer.backfilled() < wal.frames);
  // Without a waiter a run is tried once, as before.
  checkpointer.request_full();
  REQUIRE(checkpointer.wait_idle(30000ms));
  CHECK(checkpointer.backfilled() < wal.frames);
  // Stopping while a waiter's run is being retried still answers it.
  auto last_answered = wal.request_full(60s);
  checkpointer.stop();
  CHECK(last_answered.wait_for(0s) == std::future_status::ready);
  wal.reader->exec("COMMIT");
}
