// SPDX-License-Identifier: Apache-2.0
#include "skiff/cli/server_config.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace skiff::cli {
namespace {

bool parse_int(std::string_view text, std::int64_t& out) {
  if (text.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// HOST:PORT, with [v6]:PORT accepted; the port must be 0..65535.
bool valid_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') {
    return false;
  }
  std::int64_t port = 0;
  return parse_int(text.substr(colon + 1), port) && port >= 0 && port <= 65535;
}

}  // namespace

std::string default_data_dir() {
  if (::geteuid() == 0) {
    return "/var/lib/skiff";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.skiff";
}

std::string server_help() {
  return fmt::format(
      "NAME:\n"
      "   skiff server - Run management server\n"
      "\n"
      "USAGE:\n"
      "   skiff server [OPTIONS]\n"
      "\n"
      "OPTIONS:\n"
      "   --data-dir value, -d value                  (data) Folder to hold state (default: "
      "/var/lib/skiff or ${{HOME}}/.skiff if not root)\n"
      "   --log-level value                           (logging) Minimum level logged: debug, info, "
      "warn, error (default: \"info\")\n"
      "   --etcd-listen value                         (db) Serve the etcd v3 API on HOST:PORT, e.g. "
      "127.0.0.1:2379 (default: off)\n"
      "   --datastore-sync value                      (db) full: acknowledged writes survive power "
      "loss; normal: faster, may lose the last writes on power loss (default: \"full\")\n"
      "   --datastore-compaction-keep-revisions value (db) Automatic compaction keeps at least this "
      "many revisions, 0 disables it (default: 1000)\n"
      "   --datastore-compaction-keep-minutes value   (db) ...and at least this many minutes of "
      "history (default: 5)\n"
      "   --datastore-quota-bytes value               (db) Refuse writes once the database is this "
      "large, 0 for no quota (default: 0)\n"
      "   --help, -h                                  show help\n");
}

Result<ServerConfig> parse_server_flags(const std::vector<std::string>& args, bool& help) {
  ServerConfig config;
  config.data_dir = default_data_dir();
  help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      continue;
    }
    if (arg.rfind('-', 0) != 0) {
      return errors::bad_request(fmt::format("unexpected argument \"{}\"", arg));
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    // Every flag below takes a value: from "--flag=value" or the next argument.
    auto take = [&]() -> Result<std::string> {
      if (value) {
        return *value;
      }
      if (i + 1 >= args.size()) {
        return errors::bad_request(fmt::format("flag needs an argument: {}", name));
      }
      return args[++i];
    };
    auto bad_value = [&](const std::string& v, std::string_view why) {
      return errors::bad_request(
          fmt::format("invalid value \"{}\" for flag {}: {}", v, name, why));
    };
    if (name == "--data-dir" || name == "-d") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (v->empty()) {
        return bad_value(*v, "must not be empty");
      }
      config.data_dir = *v;
    } else if (name == "--etcd-listen") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (!valid_host_port(*v)) {
        return bad_value(*v, "want HOST:PORT with a port from 0 to 65535");
      }
      config.etcd_listen = *v;
    } else if (name == "--log-level") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (!log::parse_level(*v, config.log_level)) {
        return bad_value(*v, "want one of debug, info, warn, error");
      }
    } else if (name == "--datastore-sync") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (*v == "full") {
        config.datastore_sync_full = true;
      } else if (*v == "normal") {
        config.datastore_sync_full = false;
      } else {
        return bad_value(*v, "want full or normal");
      }
    } else if (name == "--datastore-compaction-keep-revisions" ||
               name == "--datastore-compaction-keep-minutes" || name == "--datastore-quota-bytes") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      std::int64_t n = 0;
      if (!parse_int(*v, n) || n < 0) {
        return bad_value(*v, "want a whole number >= 0");
      }
      if (name == "--datastore-compaction-keep-revisions") {
        config.compaction_keep_revisions = n;
      } else if (name == "--datastore-compaction-keep-minutes") {
        config.compaction_keep_minutes = n;
      } else {
        config.quota_bytes = n;
      }
    } else {
      return errors::bad_request(fmt::format("flag provided but not defined: {}", name));
    }
  }
  return config;
}

}  // namespace skiff::cli
