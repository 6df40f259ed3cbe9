// SPDX-License-Identifier: Apache-2.0
// etcd_server DATA_DIR HOST:PORT [full|normal]: only the datastore and its etcd v3 endpoint, set up
// as `skiff server` sets them up (same store options, same endpoint options), without the Kubernetes
// API server. `skiff server` has no flag that turns its API server off, so bench/run.sh measures
// this program's idle RSS to show what the store and the endpoint cost on their own
// (docs/benchmarks.md). Runs until SIGTERM or SIGINT.

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "skiff/etcd/server.hpp"
#include "skiff/kv/store.hpp"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: etcd_server DATA_DIR HOST:PORT [full|normal]\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  const std::filesystem::path db_dir = std::filesystem::path(argv[1]) / "server" / "db";
  std::filesystem::create_directories(db_dir);
  skiff::kv::StoreOptions store_options;
  store_options.path = (db_dir / "state.db").string();
  store_options.sync_full = argc < 4 || std::string(argv[3]) != "normal";
  auto store = skiff::kv::Store::open(store_options);
  if (!store) {
    std::fprintf(stderr, "etcd_server: %s\n", store.error().message.c_str());
    return 1;
  }
  skiff::etcd::ServerOptions options;
  options.listen = argv[2];
  auto server = skiff::etcd::Server::start(**store, options);
  if (!server) {
    std::fprintf(stderr, "etcd_server: %s\n", server.error().message.c_str());
    return 1;
  }
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  (*server)->shutdown();
  server->reset();
  store->reset();
  return 0;
}
