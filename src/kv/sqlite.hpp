// SPDX-License-Identifier: Apache-2.0
#pragma once

// A thin RAII layer over the SQLite C API, private to the kv module. Every failure throws
// SqliteError (code + message); the store catches it at the batch / read boundary and turns it into
// a Result, so the SQL code itself stays linear. A Connection is used by one thread at a time
// (opened with SQLITE_OPEN_NOMUTEX).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

namespace skiff::kv::sql {

class SqliteError : public std::runtime_error {
public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// The primary result code (SQLITE_FULL, SQLITE_IOERR, ...).
  int code() const noexcept { return code_ & 0xff; }

private:
  int code_;
};

/// A prepared statement. Blobs are bound without copying: the bound data must stay alive until the
/// statement is reset (StatementReset does that at scope exit).
class Statement {
public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_text(int index, std::string_view value);
  /// true: a row is available; false: done. Throws on error.
  bool step();
  /// Runs a statement that returns no rows, then resets it.
  void run();
  void reset() noexcept;

  std::int64_t column_int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string column_blob(int col) const;
  std::string column_text(int col) const;
  /// Copies the blob into `out`, reusing its storage.
  void column_blob_into(int col, std::string& out) const;

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

/// Resets a statement when leaving a scope, so early returns and exceptions never leave it busy.
class StatementReset {
public:
  explicit StatementReset(Statement& stmt) : stmt_(stmt) {}
  ~StatementReset() { stmt_.reset(); }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

private:
  Statement& stmt_;
};

class Connection {
public:
  /// Opens `path` with `flags` (SQLITE_OPEN_*); throws SqliteError with SQLite's message.
  static std::unique_ptr<Connection> open(const std::string& path, int flags);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements without results.
  void exec(const std::string& sql);
  /// A cached prepared statement for `sql` (prepared on first use).
  Statement& prepare(const std::string& sql);
  /// First column of the first row as an integer (0 if no row).
  std::int64_t query_int(const std::string& sql);
  /// First column of the first row as text (empty if no row).
  std::string query_text(const std::string& sql);
  /// Throws SqliteError for `rc` with the connection's current message.
  [[noreturn]] void fail(int rc) const;
  sqlite3* handle() const noexcept { return db_; }

private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace skiff::kv::sql
