// SPDX-License-Identifier: Apache-2.0
#include "discovery.hpp"

#include <algorithm>

namespace skiff::apiserver {

namespace {

using registry::CatalogSnapshot;
using registry::ResourceType;

json::Array strings(const std::vector<std::string>& v) {
  json::Array out;
  out.reserve(v.size());
  for (const auto& s : v) {
    out.emplace_back(s);
  }
  return out;
}

json::Value gvk_object(const registry::GroupVersionKind& gvk) {
  return json::Object{{"group", gvk.group}, {"version", gvk.version}, {"kind", gvk.kind}};
}

std::string group_version(std::string_view group, std::string_view version) {
  return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
}

json::Value aggregated_resource(const ResourceType& t) {
  json::Value r = json::Object{{"resource", t.plural},
                               {"responseKind", gvk_object(t.gvk)},
                               {"scope", t.namespaced ? "Namespaced" : "Cluster"},
                               {"singularResource", t.singular},
                               {"verbs", strings(t.verbs)}};
  if (!t.short_names.empty()) {
    r["shortNames"] = strings(t.short_names);
  }
  if (!t.categories.empty()) {
    r["categories"] = strings(t.categories);
  }
  if (!t.subresources.empty()) {
    json::Array subs;
    for (const auto& s : t.subresources) {
      subs.push_back(json::Object{{"subresource", s.name},
                                  {"responseKind", gvk_object(s.kind)},
                                  {"verbs", strings(s.verbs)}});
    }
    r["subresources"] = std::move(subs);
  }
  return r;
}

}  // namespace

json::Value aggregated_discovery(const CatalogSnapshot& snap, bool core, std::string_view version) {
  json::Array items;
  for (const auto& g : snap.groups()) {
    if (g.group.empty() != core) {
      continue;
    }
    json::Array versions;
    for (const auto& v : g.versions) {
      json::Array resources;
      for (const auto& t : snap.types()) {
        if (t->gvk.group == g.group && t->gvk.version == v) {
          resources.push_back(aggregated_resource(*t));
        }
      }
      versions.push_back(json::Object{
          {"version", v}, {"resources", std::move(resources)}, {"freshness", "Current"}});
    }
    json::Value meta = core ? json::Value(json::Object{})
                            : json::Value(json::Object{{"name", g.group}});
    items.push_back(json::Object{{"metadata", std::move(meta)}, {"versions", std::move(versions)}});
  }
  return json::Object{{"kind", "APIGroupDiscoveryList"},
                      {"apiVersion", "apidiscovery.k8s.io/" + std::string(version)},
                      {"metadata", json::Object{}},
                      {"items", std::move(items)}};
}

json::Value legacy_api_versions(std::string_view server_address) {
  return json::Object{
      {"kind", "APIVersions"},
      {"versions", json::Array{"v1"}},
      {"serverAddressByClientCIDRs",
       json::Array{json::Object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

namespace {
json::Value group_entry(const CatalogSnapshot::GroupVersions& g) {
  json::Array versions;
  for (const auto& v : g.versions) {
    versions.push_back(
        json::Object{{"groupVersion", group_version(g.group, v)}, {"version", v}});
  }
  json::Value preferred = versions.empty() ? json::Value() : versions.front();
  return json::Object{{"name", g.group},
                      {"versions", std::move(versions)},
                      {"preferredVersion", std::move(preferred)}};
}
}  // namespace

json::Value legacy_group_list(const CatalogSnapshot& snap) {
  json::Array groups;
  for (const auto& g : snap.groups()) {
    if (!g.group.empty()) {
      groups.push_back(group_entry(g));
    }
  }
  return json::Object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

json::Value legacy_group(const CatalogSnapshot& snap, std::string_view group) {
  for (const auto& g : snap.groups()) {
    if (g.group == group && !group.empty()) {
      json::Value v = group_entry(g);
      v["kind"] = "APIGroup";
      v["apiVersion"] = "v1";
      return v;
    }
  }
  return json::Value();
}

json::Value legacy_resource_list(const CatalogSnapshot& snap, std::string_view group,
                                 std::string_view version) {
  json::Array resources;
  bool found = false;
  for (const auto& t : snap.types()) {
    if (t->gvk.group != group || t->gvk.version != version) {
      continue;
    }
    found = true;
    json::Value r = json::Object{{"name", t->plural},
                                 {"singularName", t->singular},
                                 {"namespaced", t->namespaced},
                                 {"kind", t->gvk.kind},
                                 {"verbs", strings(t->verbs)}};
    if (!t->short_names.empty()) {
      r["shortNames"] = strings(t->short_names);
    }
    if (!t->categories.empty()) {
      r["categories"] = strings(t->categories);
    }
    resources.push_back(std::move(r));
    for (const auto& s : t->subresources) {
      json::Value sr = json::Object{{"name", t->plural + "/" + s.name},
                                    {"singularName", ""},
                                    {"namespaced", t->namespaced}};
      if (s.kind.group != t->gvk.group || s.kind.version != t->gvk.version) {
        sr["group"] = s.kind.group;
        sr["version"] = s.kind.version;
      }
      sr["kind"] = s.kind.kind;
      sr["verbs"] = strings(s.verbs);
      resources.push_back(std::move(sr));
    }
  }
  if (!found) {
    return json::Value();
  }
  return json::Object{{"kind", "APIResourceList"},
                      {"apiVersion", "v1"},
                      {"groupVersion", group_version(group, version)},
                      {"resources", std::move(resources)}};
}

}  // namespace skiff::apiserver
