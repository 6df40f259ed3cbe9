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
};

/// The default data directory for the current user.
std::string default_data_dir();

/// Parses `skiff server` flags (args after the subcommand name). Errors: kBadRequest with the message to
/// print (unknown flag, missing or bad value). `help` is set when --help/-h was given.
Result<ServerConfig> parse_server_flags(const std::vector<std::string>& args, bool& help);

/// `skiff server --help` text.
std::string server_help();

}  // namespace skiff::cli
