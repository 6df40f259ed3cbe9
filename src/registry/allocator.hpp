// SPDX-License-Identifier: Apache-2.0
#pragma once

// Service ClusterIP and NodePort allocation (private to src/registry). Each allocated address and
// node port is a kv key of its own ("/registry/ranges/serviceips/10.43.0.10",
// "/registry/ranges/servicenodeports/30080") written in the same transaction as the Service, with a
// compare that the key does not exist yet: two creates can never get the same IP, also when several
// servers share one store, and a released Service frees its keys in the transaction that deletes
// it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/kv/store.hpp"

namespace skiff::registry::detail {

struct ServiceRanges {
  std::uint32_t network = 0;  ///< service CIDR base address (host order)
  int prefix = 16;
  int node_port_min = 30000;
  int node_port_max = 32767;

  /// Parses "10.43.0.0/16". Errors: kBadRequest.
  static Result<ServiceRanges> parse(std::string_view cidr, int port_min, int port_max);
  /// The first usable address (10.43.0.1): reserved for the `kubernetes` service.
  std::string first_ip() const;
};

/// What one Service write needs in kv: compares (keys must be free) and ops (claim or release).
struct Allocation {
  std::vector<kv::Compare> compares;
  std::vector<kv::RequestOp> ops;
};

std::string ip_key(std::string_view ip);
std::string node_port_key(std::int64_t port);

/// Fills spec.clusterIP/clusterIPs and node ports of a Service being created (or updated from
/// `old`), and returns the kv claims for them. `owner` ("ns/name") is the claim's value.
/// Errors: kInvalid with upstream's causes for an address outside the range or already allocated,
/// a node port outside the range or taken, a full range.
Result<Allocation> allocate_service(kv::Store& store, const ServiceRanges& ranges,
                                    json::Value& service, const json::Value* old,
                                    std::string_view owner);

/// The releases (deletes) of a Service's claims, for the transaction that deletes it.
std::vector<kv::RequestOp> release_service(const json::Value& service);

}  // namespace skiff::registry::detail
