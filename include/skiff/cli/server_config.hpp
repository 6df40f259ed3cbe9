// SPDX-License-Identifier: Apache-2.0
#pragma once

// `skiff server` configuration: a plain aggregate filled from flags. Defaults follow k3s where it has the
// same setting.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/log.hpp"

namespace skiff::cli {

struct ServerConfig {
  std::string data_dir;                     ///< default: /var/lib/skiff as root, ~/.skiff otherwise
  std::optional<std::string> etcd_listen;   ///< "HOST:PORT" of the etcd v3 endpoint; off when unset
  log::Level log_level = log::Level::kInfo;
  bool datastore_sync_full = true;          ///< --datastore-sync full|normal
  std::int64_t compaction_keep_revisions = 1000;  ///< --datastore-compaction-keep-revisions
  std::int64_t compaction_keep_minutes = 5;       ///< --datastore-compaction-keep-minutes
  std::int64_t quota_bytes = 0;                   ///< --datastore-quota-bytes (0 = none)

  // The Kubernetes API (HTTPS).
  std::string bind_address = "0.0.0.0";     ///< --bind-address
  int https_port = 6443;                    ///< --https-listen-port (0 picks a free port)
  std::vector<std::string> tls_sans;        ///< --tls-san (repeatable, comma-separated)
  std::string write_kubeconfig;             ///< --write-kubeconfig / -o (default: see below)
  int write_kubeconfig_mode = 0600;         ///< --write-kubeconfig-mode (octal)
  bool disable_agent = false;               ///< --disable-agent
  bool disable_apiserver = false;           ///< --disable-apiserver (store + etcd endpoint only)
  std::string service_cidr = "10.43.0.0/16";  ///< --service-cidr
  std::string cluster_cidr = "10.42.0.0/16";  ///< --cluster-cidr
  int node_port_min = 30000;                ///< --service-node-port-range
  int node_port_max = 32767;
};

/// The default admin kubeconfig path: /etc/skiff/skiff.yaml as root, ~/.kube/skiff.yaml otherwise.
std::string default_kubeconfig_path();

/// The default data directory for the current user.
std::string default_data_dir();

/// Parses `skiff server` flags (args after the subcommand name). Errors: kBadRequest with the message to
/// print (unknown flag, missing or bad value). `help` is set when --help/-h was given.
Result<ServerConfig> parse_server_flags(const std::vector<std::string>& args, bool& help);

/// `skiff server --help` text.
std::string server_help();

}  // namespace skiff::cli
