// SPDX-License-Identifier: Apache-2.0
// Durability under SIGKILL: a writer process (kv_crash_writer) is killed at a random moment, again
// and again on the same database; after each kill the store must reopen cleanly, SQLite must report
// an intact file, and every write the killed process saw acknowledged must be there at its
// revision.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <sqlite3.h>

#include "skiff/kv/store.hpp"

#include "skiff_test.hpp"
#include <sys/wait.h>

extern char** environ;

namespace {

struct Ack {
  bool deleted = false;
  std::int64_t revision = 0;
  std::string key;
  std::string value;
};

/// Complete lines only: the kill may cut the last one short.
std::vector<Ack> read_acks(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::vector<Ack> acks;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      break;
    }
    std::istringstream line(text.substr(pos, end - pos));
    pos = end + 1;
    std::string kind;
    Ack ack;
    line >> kind >> ack.revision >> ack.key;
    ack.deleted = kind == "D";
    if (!ack.deleted) {
      line >> ack.value;
    }
    acks.push_back(std::move(ack));
  }
  return acks;
}

std::string integrity_check(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* stmt = nullptr;
  std::string result = "no result";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

}  // namespace

TEST_CASE("acknowledged writes survive SIGKILL of the writer process", "[kv][integration]") {
  const char* writer = std::getenv("KV_CRASH_WRITER");
  REQUIRE(writer != nullptr);
  skiff::testing::TempDir dir;
  const std::string db = dir.file("crash.db");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> run_ms(0, 400);
  std::vector<Ack> all;
  std::int64_t last_revision = 1;
  int rounds_with_acks = 0;

  for (int round = 0; round < 15; ++round) {
    const std::string out = dir.file("acks-" + std::to_string(round) + ".txt");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char* argv[] = {const_cast<char*>(writer), const_cast<char*>(db.c_str()), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, writer, &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    // The crash point is the random variable here, so this sleep is the experiment, not a wait.
    // Every fifth round counts from the spawn, so some kills land in open/recovery; the others
    // count from the first acknowledged write, so they land in the write burst however long
    // start-up takes on a loaded machine.
    const bool during_writes = round % 5 != 0;
    if (during_writes) {
      REQUIRE(skiff::testing::eventually(
          [&] {
            std::error_code ec;
            return std::filesystem::file_size(out, ec) > 0 && !ec;
          },
          std::chrono::seconds(60)));
    }
    const int ms = run_ms(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);

    auto acks = read_acks(out);
    INFO("round " << round << ": killed " << ms << " ms after "
                  << (during_writes ? "the first acknowledgement, " : "the spawn, ") << acks.size()
                  << " acknowledged writes");
    if (during_writes) CHECK(!acks.empty());
    rounds_with_acks += acks.empty() ? 0 : 1;
    for (const auto& ack : acks) {
      last_revision = std::max(last_revision, ack.revision);
    }
    all.insert(all.end(), acks.begin(), acks.end());

    CHECK(integrity_check(db) == "ok");
    skiff::kv::StoreOptions options;
    options.path = db;
    options.auto_compaction = false;
    auto store = skiff::kv::Store::open(options);
    REQUIRE(store.has_value());
    auto& s = **store;
    CHECK(s.current_revision() >= last_revision);
    std::size_t missing = 0;
    for (const auto& ack : all) {
      skiff::kv::RangeRequest get;
      get.key = ack.key;
      get.revision = ack.revision;
      auto r = s.range(get);
      bool ok =
          r.has_value() && (ack.deleted ? r->kvs.empty()
                                        : (r->kvs.size() == 1 && r->kvs[0].value == ack.value &&
                                           r->kvs[0].mod_revision == ack.revision));
      if (!ok) {
        ++missing;
        if (missing <= 5) {
          UNSCOPED_INFO("lost: " << (ack.deleted ? "delete " : "put ") << ack.key << " at "
                                 << ack.revision);
        }
      }
    }
    CHECK(missing == 0);
    last_revision = s.current_revision();
  }
  WARN("crash test: " << all.size() << " acknowledged writes over 15 kills (" << rounds_with_acks
                      << " during writes), final revision " << last_revision);
}
