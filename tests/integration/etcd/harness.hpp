// SPDX-License-Identifier: Apache-2.0
#pragma once

// Test harness for the etcd shim: an in-process kv::Store + etcd::Server on 127.0.0.1:0, Debian's real
// `etcd` as a reference server on free loopback ports, and a runner for Debian's real `etcdctl`.

#include <sys/types.h>

#include <memory>
#include <string>

#include "skiff/etcd/server.hpp"
#include "skiff/kv/store.hpp"
#include "skiff_test.hpp"

namespace skiff::etcd::testing {

/// A free 127.0.0.1 TCP port (bound to port 0, then closed).
int free_port();

/// kv::Store on a temp SQLite file plus the shim serving it.
class Shim {
 public:
  explicit Shim(ServerOptions options = {});
  ~Shim();
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  kv::Store& store() { return *store_; }
  Server& server() { return *server_; }

 private:
  skiff::testing::TempDir dir_;
  std::unique_ptr<kv::Store> store_;
  std::unique_ptr<Server> server_;
};

/// Debian's etcd, single member on free loopback ports, data in a TempDir; killed by PID on destruction.
class RealEtcd {
 public:
  /// True if an `etcd` binary is on PATH.
  static bool available();
  RealEtcd();
  ~RealEtcd();
  RealEtcd(const RealEtcd&) = delete;
  RealEtcd& operator=(const RealEtcd&) = delete;
  bool started() const { return started_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }

 private:
  skiff::testing::TempDir dir_;
  pid_t pid_ = -1;
  int client_port_ = 0;
  bool started_ = false;
};

struct CommandResult {
  int rc = -1;
  std::string out;
  std::string err;
};

/// Runs `etcdctl <args>` (shell syntax) against `endpoint` with ETCDCTL_API=3 and bounded timeouts.
CommandResult etcdctl(const std::string& endpoint, const std::string& args, const std::string& stdin_data = {});

/// The etcdctl command line (for background use): "ETCDCTL_API=3 etcdctl --endpoints=... <args>".
std::string etcdctl_command(const std::string& endpoint, const std::string& args);

/// Reads a whole file ("" if missing).
std::string read_file(const std::string& path);

}  // namespace skiff::etcd::testing
