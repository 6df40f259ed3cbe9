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

std::string default_kubeconfig_path() {
  if (::geteuid() == 0) {
    return "/etc/skiff/skiff.yaml";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.kube/skiff.yaml";
}

namespace {

// An IPv4 CIDR "a.b.c.d/n" (what the service and cluster ranges accept for now).
bool valid_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  std::int64_t bits = 0;
  if (!parse_int(text.substr(slash + 1), bits) || bits < 8 || bits > 30) {
    return false;
  }
  std::string_view ip = text.substr(0, slash);
  int parts = 0;
  std::size_t pos = 0;
  while (pos <= ip.size()) {
    auto dot = ip.find('.', pos);
    std::string_view part = ip.substr(pos, dot == std::string_view::npos ? ip.npos : dot - pos);
    std::int64_t n = 0;
    if (!parse_int(part, n) || n < 0 || n > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    pos = dot + 1;
  }
  return parts == 4;
}

}  // namespace

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
      "   --bind-address value                        (listener) Address the Kubernetes API serves "
      "on (default: 0.0.0.0)\n"
      "   --https-listen-port value                   (listener) HTTPS port of the Kubernetes API "
      "(default: 6443)\n"
      "   --tls-san value                             (listener) Add additional hostnames or IPv4/IPv6 "
      "addresses as Subject Alternative Names on the server TLS cert\n"
      "   --write-kubeconfig value, -o value          (client) Write kubeconfig for admin client to "
      "this file (default: /etc/skiff/skiff.yaml as root, ${{HOME}}/.kube/skiff.yaml otherwise)\n"
      "   --write-kubeconfig-mode value               (client) Write kubeconfig with this mode, e.g. "
      "644 (default: 600)\n"
      "   --service-cidr value                        (networking) IPv4 network CIDR to use for service "
      "IPs (default: \"10.43.0.0/16\")\n"
      "   --cluster-cidr value                        (networking) IPv4 network CIDR to use for pod "
      "IPs (default: \"10.42.0.0/16\")\n"
      "   --service-node-port-range value             (networking) Port range to reserve for services "
      "with NodePort visibility (default: \"30000-32767\")\n"
      "   --disable-agent                             (agent) Do not run a local agent and register a "
      "local kubelet\n"
      "   --disable-apiserver                         (components) Do not run the Kubernetes API "
      "server (only the datastore, with --etcd-listen)\n"
      "   --help, -h                                  show help\n");
}

Result<ServerConfig> parse_server_flags(const std::vector<std::string>& args, bool& help) {
  ServerConfig config;
  config.data_dir = default_data_dir();
  config.write_kubeconfig = default_kubeconfig_path();
  help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      continue;
    }
    // Boolean flags: "--flag", "--flag=true" or "--flag=false".
    bool* switch_flag = nullptr;
    std::string_view switch_name = std::string_view(arg).substr(0, arg.find('='));
    if (switch_name == "--disable-agent") {
      switch_flag = &config.disable_agent;
    } else if (switch_name == "--disable-apiserver") {
      switch_flag = &config.disable_apiserver;
    }
    if (switch_flag != nullptr) {
      std::string_view v = arg.size() > switch_name.size()
                               ? std::string_view(arg).substr(switch_name.size() + 1)
                               : std::string_view("true");
      if (v != "true" && v != "false") {
        return errors::bad_request(fmt::format(
            "invalid value \"{}\" for flag {}: want true or false", v, switch_name));
      }
      *switch_flag = v == "true";
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
    } else if (name == "--bind-address") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (v->empty()) {
        return bad_value(*v, "must not be empty");
      }
      config.bind_address = *v;
    } else if (name == "--https-listen-port") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      std::int64_t port = 0;
      if (!parse_int(*v, port) || port < 0 || port > 65535) {
        return bad_value(*v, "want a port from 0 to 65535");
      }
      config.https_port = static_cast<int>(port);
    } else if (name == "--tls-san") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      std::string_view rest = *v;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view san = rest.substr(0, comma);
        if (!san.empty()) {
          config.tls_sans.emplace_back(san);
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (name == "--write-kubeconfig" || name == "-o") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (v->empty()) {
        return bad_value(*v, "must not be empty");
      }
      config.write_kubeconfig = *v;
    } else if (name == "--write-kubeconfig-mode") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      std::int64_t mode = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), mode, 8);
      if (v->empty() || ec != std::errc() || ptr != v->data() + v->size() || mode < 0 ||
          mode > 0777) {
        return bad_value(*v, "want an octal file mode such as 600 or 0644");
      }
      config.write_kubeconfig_mode = static_cast<int>(mode);
    } else if (name == "--service-cidr" || name == "--cluster-cidr") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      if (!valid_cidr(*v)) {
        return bad_value(*v, "want an IPv4 CIDR such as 10.43.0.0/16 (prefix /8 to /30)");
      }
      (name == "--service-cidr" ? config.service_cidr : config.cluster_cidr) = *v;
    } else if (name == "--service-node-port-range") {
      auto v = take();
      if (!v) {
        return v.error();
      }
      auto dash = v->find('-');
      std::int64_t lo = 0;
      std::int64_t hi = 0;
      if (dash == std::string::npos || !parse_int(std::string_view(*v).substr(0, dash), lo) ||
          !parse_int(std::string_view(*v).substr(dash + 1), hi) || lo < 1 || hi > 65535 ||
          lo > hi) {
        return bad_value(*v, "want a port range such as 30000-32767");
      }
      config.node_port_min = static_cast<int>(lo);
      config.node_port_max = static_cast<int>(hi);
    } else {
      return errors::bad_request(fmt::format("flag provided but not defined: {}", name));
    }
  }
  if (config.disable_apiserver && !config.etcd_listen) {
    return errors::bad_request("--disable-apiserver needs --etcd-listen: nothing would be served");
  }
  return config;
}

}  // namespace skiff::cli
