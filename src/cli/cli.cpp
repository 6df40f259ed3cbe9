// SPDX-License-Identifier: Apache-2.0
#include "skiff/cli/cli.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/cli/server_config.hpp"
#include "skiff/etcd/server.hpp"
#include "skiff/kv/store.hpp"
#include "kube_api.hpp"
#include "version.hpp"

namespace skiff::cli {
namespace {

constexpr std::string_view kComponent = "server";

std::string top_help() {
  return "NAME:\n"
         "   skiff - Kubernetes in one small binary\n"
         "\n"
         "USAGE:\n"
         "   skiff [global options] command [command options] [arguments...]\n"
         "\n"
         "COMMANDS:\n"
         "   server   Run management server\n"
         "   help, h  Shows a list of commands or help for one command\n"
         "\n"
         "GLOBAL OPTIONS:\n"
         "   --help, -h     show help\n"
         "   --version, -v  print the version\n";
}

void print_version() {
  fmt::print("skiff version v{} ({})\n", kVersion, kGitCommit);
}

int usage_error(std::string_view message, std::string_view hint) {
  fmt::print(stderr, "Incorrect Usage: {}\n\n{}", message, hint);
  return kExitUsage;
}

int fail(std::string_view message) {
  fmt::print(stderr, "skiff: {}\n", message);
  return kExitFailure;
}

// The etcd endpoint's cluster and member IDs must stay stable across restarts (etcdctl prints them,
// clients compare them), so they live in the data dir beside the database.
Result<std::pair<std::uint64_t, std::uint64_t>> load_ids(const std::filesystem::path& file) {
  std::uint64_t cluster = 0;
  std::uint64_t member = 0;
  if (std::ifstream in(file); in && (in >> std::hex >> cluster >> member) && cluster != 0 &&
                              member != 0) {
    return std::make_pair(cluster, member);
  }
  std::random_device rd;
  auto draw = [&rd]() {
    std::uint64_t v = 0;
    while (v == 0) {
      v = (static_cast<std::uint64_t>(rd()) << 32) | rd();
    }
    return v;
  };
  cluster = draw();
  member = draw();
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << std::hex << cluster << ' ' << member << '\n';
    if (!out.flush()) {
      return errors::unavailable(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    return errors::unavailable(fmt::format("cannot write {}: {}", file.string(), ec.message()));
  }
  return std::make_pair(cluster, member);
}

Result<void> make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return errors::unavailable(
        fmt::format("cannot create data directory {}: {}", dir.string(), ec.message()));
  }
  ::chmod(dir.c_str(), 0700);
  return {};
}

int run_server(const ServerConfig& config, const sigset_t& signals) {
  log::set_level(config.log_level);
  const std::filesystem::path db_dir = std::filesystem::path(config.data_dir) / "server" / "db";
  if (auto made = make_private_dir(db_dir); !made) {
    return fail(made.error().message);
  }

  kv::StoreOptions store_options;
  store_options.path = (db_dir / "state.db").string();
  store_options.sync_full = config.datastore_sync_full;
  store_options.auto_compaction = config.compaction_keep_revisions > 0;
  store_options.compaction_keep_revisions = config.compaction_keep_revisions;
  store_options.compaction_keep_duration = std::chrono::minutes(config.compaction_keep_minutes);
  store_options.quota_bytes = config.quota_bytes;
  auto store = kv::Store::open(store_options);
  if (!store) {
    return fail(store.error().message);
  }
  log::info(kComponent, "datastore {} open at revision {}", store_options.path,
            (*store)->current_revision());

  std::unique_ptr<KubeApi> kube_api;
  if (!config.disable_apiserver) {
    auto started = KubeApi::start(config, **store);
    if (!started) {
      return fail(started.error().message);
    }
    kube_api = std::move(*started);
  }

  std::unique_ptr<etcd::Server> etcd_server;
  if (config.etcd_listen) {
    auto ids = load_ids(db_dir / "cluster-ids");
    if (!ids) {
      return fail(ids.error().message);
    }
    etcd::ServerOptions options;
    options.listen = *config.etcd_listen;
    options.cluster_id = ids->first;
    options.member_id = ids->second;
    auto started = etcd::Server::start(**store, options);
    if (!started) {
      return fail(started.error().message);
    }
    etcd_server = std::move(*started);
    log::info(kComponent, "etcd v3 endpoint listening on {}",
              options.listen.substr(0, options.listen.rfind(':')) + ":" +
                  std::to_string(etcd_server->port()));
  }
  log::info(kComponent, "skiff server v{} running", kVersion);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  log::info(kComponent, "received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");

  // Reverse of start order: stop serving, then close the store (it commits what is queued).
  if (etcd_server) {
    etcd_server->shutdown();
    etcd_server.reset();
  }
  if (kube_api) {
    kube_api->shutdown();
    kube_api.reset();
  }
  store->reset();
  log::info(kComponent, "shutdown complete");
  return kExitOk;
}

}  // namespace

int run(const std::vector<std::string>& args) {
  // Only the signal wait in run_server sees SIGTERM/SIGINT: block them before any thread starts so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (args.size() < 2) {
    fmt::print("{}", top_help());
    return kExitOk;
  }
  const std::string& command = args[1];
  if (command == "--version" || command == "-v" || command == "version") {
    print_version();
    return kExitOk;
  }
  if (command == "--help" || command == "-h" || command == "help" || command == "h") {
    if (command.front() != '-' && args.size() > 2 && args[2] == "server") {
      fmt::print("{}", server_help());
    } else {
      fmt::print("{}", top_help());
    }
    return kExitOk;
  }
  if (command == "server") {
    bool help = false;
    auto config = parse_server_flags({args.begin() + 2, args.end()}, help);
    if (help) {
      fmt::print("{}", server_help());
      return kExitOk;
    }
    if (!config) {
      return usage_error(config.error().message, server_help());
    }
    return run_server(*config, signals);
  }
  if (command.front() == '-') {
    return usage_error(fmt::format("flag provided but not defined: {}", command), top_help());
  }
  return usage_error(fmt::format("no such command \"{}\"", command), top_help());
}

}  // namespace skiff::cli
