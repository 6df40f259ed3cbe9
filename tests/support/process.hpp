// SPDX-License-Identifier: Apache-2.0
#pragma once

// A child process for end-to-end tests: started with fork/exec, its stdout and stderr captured to files,
// signalled, and waited for with a deadline. The destructor kills (SIGKILL) and reaps a child still running.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace skiff::testing {

class Process {
 public:
  /// Starts `argv[0]` (a path) with `argv`; stdout/stderr go to `log_prefix`.out / .err.
  Process(std::vector<std::string> argv, std::string log_prefix, std::vector<std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Exit status if the child exited within `limit` (128+signal if killed by a signal), else nullopt.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  bool running();
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

}  // namespace skiff::testing
