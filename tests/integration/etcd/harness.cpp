// SPDX-License-Identifier: Apache-2.0
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace skiff::etcd::testing {

using skiff::testing::eventually;
using skiff::testing::find_program;
using skiff::testing::run_command;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Shim::Shim(ServerOptions options) {
  kv::StoreOptions store_options;
  store_options.path = dir_.file("kv.db");
  store_options.auto_compaction = false;  // like etcd's default: only explicit compaction
  store_options.sync_full = false;
  auto store = kv::Store::open(store_options);
  if (!store) throw std::runtime_error("kv open failed: " + store.error().message);
  store_ = std::move(*store);
  options.listen = "127.0.0.1:0";
  auto server = Server::start(*store_, options);
  if (!server) throw std::runtime_error("server start failed: " + server.error().message);
  server_ = std::move(*server);
}

Shim::~Shim() {
  server_.reset();  // shutdown() before the store
  store_.reset();
}

bool RealEtcd::available() { return !find_program("etcd").empty(); }

RealEtcd::RealEtcd() {
  const std::string etcd = find_program("etcd");
  if (etcd.empty()) return;
  client_port_ = free_port();
  const int peer_port = free_port();
  const int metrics_port = free_port();
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
  std::vector<std::string> args = {etcd,
                                   "--name", "skiff",
                                   "--data-dir", dir_.file("data"),
                                   "--listen-client-urls", client,
                                   "--advertise-client-urls", client,
                                   "--listen-peer-urls", peer,
                                   "--initial-advertise-peer-urls", peer,
                                   "--initial-cluster", "skiff=" + peer,
                                   "--initial-cluster-state", "new",
                                   "--listen-metrics-urls", "http://127.0.0.1:" + std::to_string(metrics_port)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = dir_.file("etcd.log");
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, etcd.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return;
  }
  started_ = eventually([&] { return etcdctl(endpoint(), "get health-probe").rc == 0; }, std::chrono::seconds(30),
                        std::chrono::milliseconds(100));
  if (!started_) WARN("etcd did not become ready; log:\n" << read_file(log));
}

RealEtcd::~RealEtcd() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string etcdctl_command(const std::string& endpoint, const std::string& args) {
  return "env ETCDCTL_API=3 etcdctl --endpoints=" + endpoint + " --dial-timeout=3s --command-timeout=20s " + args;
}

CommandResult etcdctl(const std::string& endpoint, const std::string& args, const std::string& stdin_data) {
  char tmpl[] = "/tmp/skiff-etcdctl-err-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd >= 0) ::close(fd);
  CommandResult result;
  result.rc = run_command(etcdctl_command(endpoint, args) + " 2>" + tmpl, &result.out, stdin_data);
  result.err = read_file(tmpl);
  ::unlink(tmpl);
  return result;
}

}  // namespace skiff::etcd::testing
