// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one header tests include instead of Catch directly (a move to Catch2 v3 touches only this file),
// plus small shared utilities: temporary directories, bounded waiting.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include "skiff/base/error.hpp"

// Catch prints checked values; a Result shows its error message (boost's own printer needs
// operator<< for both sides, which our types do not have).
namespace Catch {
template <class T>
struct StringMaker<skiff::Result<T>> {
  static std::string convert(const skiff::Result<T>& result) {
    return result ? std::string("{value}") : "{error: " + result.error().message + "}";
  }
};
}  // namespace Catch

namespace skiff::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed at destruction unless SKIFF_KEEP_TEMP is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Polls `pred` until it is true or `limit` passes; returns its last value. The bounded replacement for
/// sleeping in tests.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds step = std::chrono::milliseconds(5));

/// Runs a command through /bin/sh, returns its exit status and fills `out` with stdout (stderr goes to
/// the test's stderr unless redirected in the command).
int run_command(const std::string& command, std::string* out = nullptr,
                const std::string& stdin_data = {});

/// Absolute path of a program on PATH, or empty.
std::string find_program(const std::string& name);

}  // namespace skiff::testing
