// SPDX-License-Identifier: Apache-2.0
#include "sqlite.hpp"

namespace skiff::kv::sql {

namespace {
// SQLite treats a NULL pointer as SQL NULL even with length 0; an empty key/value must stay a blob.
const char kEmpty[1] = {0};
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) {
    throw SqliteError(rc, sqlite3_errmsg(db_));
  }
  return *this;
}

// SQLITE_STATIC: no copy of keys and values (up to 1.5 MiB); the StatementReset discipline
// guarantees the bound buffers outlive the statement's use.
Statement& Statement::bind_blob(int index, std::string_view value) {
  const char* data = value.empty() ? kEmpty : value.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) {
    throw SqliteError(rc, sqlite3_errmsg(db_));
  }
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  const char* data = value.empty() ? kEmpty : value.data();
  int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) {
    throw SqliteError(rc, sqlite3_errmsg(db_));
  }
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  // Take the message before the reset, which may replace it.
  std::string message = sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  throw SqliteError(rc, message);
}

void Statement::run() {
  StatementReset guard(*this);
  while (step()) {
  }
}

// Bindings are cleared too, so a cached statement never keeps pointers to buffers that are gone.
void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::column_blob(int col) const {
  std::string out;
  column_blob_into(col, out);
  return out;
}

std::string Statement::column_text(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

void Statement::column_blob_into(int col, std::string& out) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) {
    out.clear();
    return;
  }
  out.assign(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

// NOMUTEX: each connection is confined to one thread at a time by the store, so SQLite's own per-
// connection mutex would only cost. Extended codes make I/O failures distinguishable in logs.
// "unix-excl": the first access takes an exclusive POSIX lock on the file for the whole process
// (other connections of this process share it), so a second process gets SQLITE_BUSY instead of
// writing beside the store's in-memory index, and WAL-index locks between this process's
// connections are taken in memory: a commit makes no fcntl calls (it made six).
std::unique_ptr<Connection> Connection::open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, "unix-excl");
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw SqliteError(rc, message);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

void Connection::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, message);
  }
}

// Statements are prepared once per connection and kept (SQLITE_PREPARE_PERSISTENT): the writer runs
// the same handful of statements for every request.
Statement& Connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    return *it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    fail(rc);
  }
  auto [pos, inserted] = cache_.emplace(sql, std::make_unique<Statement>(db_, stmt));
  return *pos->second;
}

std::int64_t Connection::query_int(const std::string& sql) {
  Statement& stmt = prepare(sql);
  StatementReset guard(stmt);
  return stmt.step() ? stmt.column_int64(0) : 0;
}

std::string Connection::query_text(const std::string& sql) {
  Statement& stmt = prepare(sql);
  StatementReset guard(stmt);
  if (!stmt.step()) {
    return {};
  }
  return stmt.column_text(0);
}

void Connection::fail(int rc) const {
  throw SqliteError(rc, sqlite3_errmsg(db_));
}

}  // namespace skiff::kv::sql
