// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace skiff::testing {
namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

Process::Process(std::vector<std::string> argv, std::string log_prefix,
                 std::vector<std::string> env)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Child: a clean signal mask (the parent may block SIGTERM), captured output, then exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(null, 0);
    for (const auto& e : env) {
      ::putenv(const_cast<char*>(e.c_str()));
    }
    std::vector<char*> args;
    for (auto& a : argv) {
      args.push_back(a.data());
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    std::ignore = wait_for(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) const { ::kill(pid_, sig); }

bool Process::running() {
  if (status_) {
    return false;
  }
  return !wait_for(std::chrono::milliseconds(0));
}

std::optional<int> Process::wait_for(std::chrono::milliseconds limit) {
  if (status_) {
    return status_;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string Process::stdout_text() const { return slurp(out_path_); }
std::string Process::stderr_text() const { return slurp(err_path_); }

}  // namespace skiff::testing
