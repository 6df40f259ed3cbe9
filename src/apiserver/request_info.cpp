// SPDX-License-Identifier: Apache-2.0
#include "request_info.hpp"

namespace skiff::apiserver {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos < path.size()) {
    while (pos < path.size() && path[pos] == '/') {
      ++pos;
    }
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > pos) {
      parts.emplace_back(path.substr(pos, end - pos));
    }
    pos = end;
  }
  return parts;
}

}  // namespace

bool parse_request_info(std::string_view method, std::string_view path, bool watch_param,
                        RequestInfo& info) {
  info = RequestInfo{};
  std::vector<std::string> parts = split_path(path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) {
    return false;
  }
  info.prefix = parts[0];
  info.parts = parts;
  std::size_t i = 1;
  if (info.prefix == "apis") {
    if (parts.size() < 3) {
      return true;  // /apis or /apis/<group>: discovery
    }
    info.group = parts[1];
    i = 2;
  } else if (parts.size() < 2) {
    return true;  // /api
  }
  info.version = parts[i++];
  if (i >= parts.size()) {
    return true;  // /api/v1, /apis/g/v
  }
  info.resource_request = true;
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  bool legacy_watch = false;
  if (!rest.empty() && rest[0] == "watch") {
    legacy_watch = true;  // deprecated /watch/ prefix
    rest.erase(rest.begin());
  }
  if (rest.size() >= 2 && rest[0] == "namespaces") {
    info.ns = rest[1];
    // /namespaces/x/status|finalize are the namespace's own subresources.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (!rest.empty()) {
    info.resource = rest[0];
  }
  if (rest.size() >= 2) {
    info.name = rest[1];
  }
  if (rest.size() >= 3) {
    info.subresource = rest[2];
  }
  if (rest.size() > 3) {
    // Only proxy subresources take a further path; keep it on the subresource.
    for (std::size_t k = 3; k < rest.size(); ++k) {
      info.subresource += "/" + rest[k];
    }
  }
  if (info.resource == "namespaces" && info.name.empty() && !info.ns.empty()) {
    info.name = info.ns;  // /api/v1/namespaces/x
  }
  if (info.resource == "namespaces") {
    info.ns.clear();
  }

  if (method == "GET" || method == "HEAD") {
    if (info.name.empty()) {
      info.verb = (watch_param || legacy_watch) ? "watch" : "list";
    } else {
      info.verb = legacy_watch ? "watch" : "get";
    }
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT" || method == "PATCH") {
    // Collections have no PUT or PATCH route upstream: 405, not an update of a nameless object.
    if (!info.name.empty()) {
      info.verb = method == "PUT" ? "update" : "patch";
    }
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = "";
  }
  return true;
}

}  // namespace skiff::apiserver
