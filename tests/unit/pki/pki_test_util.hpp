// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared helpers for the pki unit tests: file contents and modes, and the real `openssl` /
// `kubectl` command-line tools run through the shell with a time limit (a hung tool fails the test
// instead of hanging it).

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "skiff/base/error.hpp"

#include "skiff_test.hpp"
#include <sys/stat.h>

namespace skiff::pki::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Permission bits of `path`, or -1 when it does not exist.
inline int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return -1;
  }
  return static_cast<int>(st.st_mode & 07777);
}

/// Single-quoted for /bin/sh.
inline std::string sh_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// Runs `command` bounded to 30 s, stderr merged into `out`; returns the exit status.
inline int run(const std::string& command, std::string* out = nullptr) {
  std::string text;
  int rc = skiff::testing::run_command("timeout 30 " + command + " 2>&1", &text);
  if (out != nullptr) {
    *out = text;
  }
  return rc;
}

/// Every file of a directory with its contents (a snapshot to compare before/after).
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files[entry.path().filename().string()] = slurp(entry.path().string());
  }
  return files;
}

}  // namespace skiff::pki::test
