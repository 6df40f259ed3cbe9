// SPDX-License-Identifier: Apache-2.0
#pragma once

// Content negotiation (private to src/apiserver): which representation an Accept header asks for,
// and what a request body's Content-Type is.

#include <cstdint>
#include <string>
#include <string_view>

namespace skiff::apiserver {

enum class Output : std::uint8_t {
  kJson,
  kYaml,
  kTable,             ///< meta.k8s.io Table (v1 or v1beta1, see table_version)
  kPartialMetadata,   ///< meta.k8s.io PartialObjectMetadata(List)
  kDiscovery,         ///< apidiscovery.k8s.io APIGroupDiscoveryList (v2 or v2beta1)
};

struct Negotiated {
  bool acceptable = true;  ///< false: answer 406
  Output output = Output::kJson;
  std::string version;  ///< the Table / discovery / partial-metadata version asked for
};

/// Picks the first representation in `accept` that Skiff can produce. Aggregated discovery is only
/// offered where `discovery` is true (the /api and /apis paths).
Negotiated negotiate(std::string_view accept, bool discovery);

enum class BodyType : std::uint8_t {
  kJson,
  kYaml,
  kProtobuf,
  kJsonPatch,
  kMergePatch,
  kStrategicMergePatch,
  kApplyPatch,
  kUnsupported,
};

/// The body type named by a Content-Type header (parameters such as charset ignored).
BodyType body_type(std::string_view content_type);

}  // namespace skiff::apiserver
