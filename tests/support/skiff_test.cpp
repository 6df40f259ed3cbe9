// SPDX-License-Identifier: Apache-2.0
#include "skiff_test.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

namespace skiff::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path root = base != nullptr ? base : "/tmp";
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    auto candidate = root / ("skiff-test-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  // SKIFF_KEEP_TEMP=1 keeps the directory for a post-mortem.
  if (std::getenv("SKIFF_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (pred()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(step);
  }
}

int run_command(const std::string& command, std::string* out, const std::string& stdin_data) {
  // stdin data goes through a temporary file so the child never blocks on a full pipe.
  std::string cmd = command;
  std::string input_path;
  if (!stdin_data.empty()) {
    char tmpl[] = "/tmp/skiff-stdin-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
      return -1;
    }
    std::ignore = ::write(fd, stdin_data.data(), stdin_data.size());
    ::close(fd);
    input_path = tmpl;
    cmd = "(" + command + ") < " + input_path;
  }
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    return -1;
  }
  std::string data;
  char buf[65536];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    data.append(buf, n);
  }
  int status = pclose(pipe);
  if (!input_path.empty()) {
    ::unlink(input_path.c_str());
  }
  if (out != nullptr) {
    *out = std::move(data);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string find_program(const std::string& name) {
  std::string out;
  if (run_command("command -v " + name + " 2>/dev/null", &out) != 0) {
    return {};
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

}  // namespace skiff::testing
