// SPDX-License-Identifier: Apache-2.0
#include "allocator.hpp"

#include <arpa/inet.h>

#include <random>
#include <set>

#include <fmt/format.h>

namespace skiff::registry::detail {

namespace {

constexpr std::string_view kIpPrefix = "/registry/ranges/serviceips/";
constexpr std::string_view kPortPrefix = "/registry/ranges/servicenodeports/";

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return std::nullopt;
  }
  return ntohl(a.s_addr);
}

std::string format_ipv4(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

std::set<std::string> existing_suffixes(kv::Store& store, std::string_view prefix) {
  kv::RangeRequest req;
  req.key = std::string(prefix);
  req.range_end = kv::prefix_end(req.key);
  req.keys_only = true;
  std::set<std::string> out;
  auto r = store.range(req);
  if (r) {
    for (const auto& kv : r->kvs) {
      out.insert(kv.key.substr(prefix.size()));
    }
  }
  return out;
}

kv::Compare free_key(std::string key) {
  return kv::Compare{kv::CompareResult::kEqual, kv::CompareTarget::kCreate, std::move(key), {}, 0, {}};
}

kv::RequestOp claim(std::string key, std::string_view owner) {
  kv::PutRequest put;
  put.key = std::move(key);
  put.value = std::string(owner);
  return kv::RequestOp{std::move(put)};
}

kv::RequestOp release(std::string key) {
  kv::DeleteRangeRequest del;
  del.key = std::move(key);
  return kv::RequestOp{std::move(del)};
}

bool uses_node_ports(const json::Value& service) {
  std::string_view type = service["spec"].string_or("type", "ClusterIP");
  return type == "NodePort" || type == "LoadBalancer";
}

std::string ip_of(const json::Value& service) {
  std::string_view ip = service["spec"].string_or("clusterIP");
  return ip == "None" ? std::string() : std::string(ip);
}

std::set<std::int64_t> node_ports_of(const json::Value& service) {
  std::set<std::int64_t> out;
  const json::Value& ports = service["spec"]["ports"];
  if (ports.is_array()) {
    for (const auto& p : ports.as_array()) {
      if (p.int_or("nodePort", 0) > 0) {
        out.insert(p.int_or("nodePort", 0));
      }
    }
  }
  return out;
}

FieldCause invalid_cause(std::string field, std::string message) {
  return FieldCause{"FieldValueInvalid", std::move(message), std::move(field)};
}

Error invalid_error(std::vector<FieldCause> causes) {
  Error e = errors::make(Reason::kInvalid, "service allocation failed");
  e.causes = std::move(causes);
  return e;
}

}  // namespace

Result<ServiceRanges> ServiceRanges::parse(std::string_view cidr, int port_min, int port_max) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return errors::bad_request(fmt::format("invalid service CIDR {}", cidr));
  }
  auto ip = parse_ipv4(cidr.substr(0, slash));
  int prefix = std::atoi(std::string(cidr.substr(slash + 1)).c_str());
  if (!ip || prefix < 8 || prefix > 30) {
    return errors::bad_request(fmt::format("invalid service CIDR {}", cidr));
  }
  ServiceRanges r;
  std::uint32_t mask = prefix == 0 ? 0 : ~0U << (32 - prefix);
  r.network = *ip & mask;
  r.prefix = prefix;
  r.node_port_min = port_min;
  r.node_port_max = port_max;
  return r;
}

std::string ServiceRanges::first_ip() const { return format_ipv4(network + 1); }

std::string ip_key(std::string_view ip) { return std::string(kIpPrefix) + std::string(ip); }

std::string node_port_key(std::int64_t port) {
  return std::string(kPortPrefix) + std::to_string(port);
}

Result<Allocation> allocate_service(kv::Store& store, const ServiceRanges& ranges,
                                    json::Value& service, const json::Value* old,
                                    std::string_view owner) {
  Allocation out;
  json::Value& spec = service["spec"];
  std::string_view type = spec.string_or("type", "ClusterIP");
  std::string old_ip = old != nullptr ? ip_of(*old) : std::string();
  std::vector<FieldCause> causes;
  thread_local std::mt19937 rng{std::random_device{}()};
  std::string cidr = fmt::format("{}/{}", format_ipv4(ranges.network), ranges.prefix);

  // ---- cluster IP ----
  std::string ip;
  if (type != "ExternalName") {
    std::string_view wanted = spec.string_or("clusterIP");
    if (wanted.empty()) {
      if (const json::Value* ips = spec.get("clusterIPs"); ips && ips->is_array() && !ips->empty() &&
                                                          ips->as_array()[0].is_string()) {
        wanted = ips->as_array()[0].as_string();
      }
    }
    if (wanted == "None") {
      spec["clusterIP"] = "None";
      spec["clusterIPs"] = json::Array{"None"};
    } else if (!wanted.empty()) {
      auto addr = parse_ipv4(wanted);
      std::uint32_t size = 1U << (32 - ranges.prefix);
      if (!addr || *addr <= ranges.network || *addr >= ranges.network + size - 1) {
        causes.push_back(invalid_cause(
            "spec.clusterIPs",
            fmt::format("Invalid value: []string{{{}}}: failed to allocate IP {}: the provided IP "
                        "({}) is not in the valid range. The range of valid IPs is {}",
                        json::quote(wanted), wanted, wanted, cidr)));
      } else if (std::string(wanted) != old_ip &&
                 existing_suffixes(store, kIpPrefix).contains(std::string(wanted))) {
        causes.push_back(invalid_cause(
            "spec.clusterIPs",
            fmt::format("Invalid value: []string{{{}}}: failed to allocate IP {}: provided IP is "
                        "already allocated",
                        json::quote(wanted), wanted)));
      } else {
        ip = std::string(wanted);
      }
    } else if (!old_ip.empty()) {
      ip = old_ip;
    } else {
      std::set<std::string> used = existing_suffixes(store, kIpPrefix);
      std::uint32_t size = 1U << (32 - ranges.prefix);
      std::uint32_t usable = size - 2;  // network and broadcast
      // Offset 1 (the first address) is the kubernetes service's; others start at a random
      // offset and probe upwards, as upstream's bitmap allocator does.
      std::uint32_t start = 1 + std::uniform_int_distribution<std::uint32_t>(1, usable - 1)(rng);
      for (std::uint32_t i = 0; i < usable; ++i) {
        std::uint32_t off = 1 + (start - 1 + i) % usable;
        if (off == 1 && owner != "default/kubernetes") {
          continue;
        }
        std::string candidate = format_ipv4(ranges.network + off);
        if (!used.contains(candidate)) {
          ip = candidate;
          break;
        }
      }
      if (ip.empty()) {
        return errors::internal(
            "Internal error occurred: failed to allocate a serviceIP: range is full");
      }
    }
    if (!ip.empty()) {
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = json::Array{ip};
      if (!spec.get("ipFamilies")) {
        spec["ipFamilies"] = json::Array{"IPv4"};
      }
      if (!spec.get("ipFamilyPolicy")) {
        spec["ipFamilyPolicy"] = "SingleStack";
      }
      if (ip != old_ip) {
        out.compares.push_back(free_key(ip_key(ip)));
        out.ops.push_back(claim(ip_key(ip), owner));
      }
    }
  }
  if (!old_ip.empty() && old_ip != ip) {
    out.ops.push_back(release(ip_key(old_ip)));
  }

  // ---- node ports ----
  std::set<std::int64_t> old_ports = old != nullptr ? node_ports_of(*old) : std::set<std::int64_t>{};
  std::set<std::int64_t> new_ports;
  json::Value& ports = spec["ports"];
  if (uses_node_ports(service) && ports.is_array()) {
    std::set<std::string> used = existing_suffixes(store, kPortPrefix);
    auto taken = [&](std::int64_t p) {
      return (used.contains(std::to_string(p)) && !old_ports.contains(p)) || new_ports.contains(p);
    };
    auto& list = ports.as_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      json::Value& port = list[i];
      std::int64_t np = port.int_or("nodePort", 0);
      std::string field = fmt::format("spec.ports[{}].nodePort", i);
      if (np != 0) {
        if (np < ranges.node_port_min || np > ranges.node_port_max) {
          causes.push_back(invalid_cause(
              field, fmt::format("Invalid value: {}: provided port is not in the valid range. The "
                                 "range of valid ports is {}-{}",
                                 np, ranges.node_port_min, ranges.node_port_max)));
          continue;
        }
        if (taken(np)) {
          causes.push_back(
              invalid_cause(field, fmt::format("Invalid value: {}: provided port is already "
                                               "allocated",
                                               np)));
          continue;
        }
      } else {
        int span = ranges.node_port_max - ranges.node_port_min + 1;
        int start = std::uniform_int_distribution<int>(0, span - 1)(rng);
        for (int k = 0; k < span; ++k) {
          std::int64_t candidate = ranges.node_port_min + (start + k) % span;
          if (!taken(candidate)) {
            np = candidate;
            break;
          }
        }
        if (np == 0) {
          return errors::internal(
              "Internal error occurred: failed to allocate a nodePort: range is full");
        }
        port["nodePort"] = np;
      }
      new_ports.insert(np);
    }
  } else if (ports.is_array()) {
    // Node ports belong to NodePort and LoadBalancer services only.
    for (auto& port : ports.as_array()) {
      if (port.is_object()) {
        port.as_object().erase("nodePort");
      }
    }
  }
  if (!causes.empty()) {
    return invalid_error(std::move(causes));
  }
  for (std::int64_t p : new_ports) {
    if (!old_ports.contains(p)) {
      out.compares.push_back(free_key(node_port_key(p)));
      out.ops.push_back(claim(node_port_key(p), owner));
    }
  }
  for (std::int64_t p : old_ports) {
    if (!new_ports.contains(p)) {
      out.ops.push_back(release(node_port_key(p)));
    }
  }
  return out;
}

std::vector<kv::RequestOp> release_service(const json::Value& service) {
  std::vector<kv::RequestOp> ops;
  std::string ip = ip_of(service);
  if (!ip.empty()) {
    ops.push_back(release(ip_key(ip)));
  }
  for (std::int64_t p : node_ports_of(service)) {
    ops.push_back(release(node_port_key(p)));
  }
  return ops;
}

}  // namespace skiff::registry::detail
