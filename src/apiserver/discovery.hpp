// SPDX-License-Identifier: Apache-2.0
#pragma once

// Discovery documents (private to src/apiserver), built from one catalog snapshot: aggregated
// discovery (apidiscovery.k8s.io v2 and v2beta1 APIGroupDiscoveryList for /api and /apis) and the
// legacy documents (APIVersions, APIGroupList, APIGroup, APIResourceList). The shapes follow
// notes/kubectl.md §2.

#include <string>
#include <string_view>

#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::apiserver {

/// Aggregated discovery for `/api` (core = true) or `/apis`. `version` is "v2" or "v2beta1".
json::Value aggregated_discovery(const registry::CatalogSnapshot& snap, bool core,
                                 std::string_view version);

/// `/api`: APIVersions. `server_address` is host:port as the client reached us.
json::Value legacy_api_versions(std::string_view server_address);
/// `/apis`: APIGroupList.
json::Value legacy_group_list(const registry::CatalogSnapshot& snap);
/// `/apis/<group>`: APIGroup, or null when the group is not served.
json::Value legacy_group(const registry::CatalogSnapshot& snap, std::string_view group);
/// `/api/v1`, `/apis/<g>/<v>`: APIResourceList, or null when the group-version is not served.
json::Value legacy_resource_list(const registry::CatalogSnapshot& snap, std::string_view group,
                                 std::string_view version);

}  // namespace skiff::apiserver
