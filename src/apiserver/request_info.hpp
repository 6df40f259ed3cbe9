// SPDX-License-Identifier: Apache-2.0
#pragma once

// What a request path addresses (private to src/apiserver), parsed the way kube-apiserver's
// RequestInfoFactory does: API prefix, group, version, namespace, resource, name, subresource and
// the verb from method + shape.

#include <string>
#include <string_view>
#include <vector>

namespace skiff::apiserver {

struct RequestInfo {
  bool resource_request = false;  ///< false for /api, /apis, /apis/g, /apis/g/v and non-API paths
  std::string prefix;             ///< "api" or "apis"
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;
  std::string subresource;
  std::string verb;  ///< get, list, watch, create, update, patch, delete, deletecollection
  /// The non-resource part for discovery paths: "/api", "/api/v1", "/apis", "/apis/g", "/apis/g/v".
  std::vector<std::string> parts;
};

/// Parses `path` (already percent-decoded, no query). `watch_param` is the watch=true|1 query.
/// Returns false for paths outside /api and /apis.
bool parse_request_info(std::string_view method, std::string_view path, bool watch_param,
                        RequestInfo& info);

}  // namespace skiff::apiserver
