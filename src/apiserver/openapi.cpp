// SPDX-License-Identifier: Apache-2.0
#include "openapi.hpp"

#include <chrono>

#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/registry/openapi_schema.hpp"

#include "http/gzip.hpp"
#include "openapi_v2.hpp"

namespace skiff::apiserver {

using registry::ResourceType;

namespace {

constexpr std::string_view kVersion = "v1.32.5+skiff";

// A content hash for cache-busting URLs: two FNV-1a 64-bit passes with different offsets, printed
// as 32 upper-case hex digits (upstream uses SHA-512; clients treat it as opaque).
std::string content_hash(std::string_view data) {
  std::uint64_t a = 14695981039346656037ULL;
  std::uint64_t b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : data) {
    a = (a ^ c) * 1099511628211ULL;
    b = (b ^ c) * 1099511628211ULL;
    b ^= b >> 29;
  }
  return fmt::format("{:016X}{:016X}", a, b);
}

std::string gv_path(const ResourceType& t) {
  return t.gvk.group.empty() ? "api/" + t.gvk.version
                             : "apis/" + t.gvk.group + "/" + t.gvk.version;
}

json::Value gvk_ext(const registry::GroupVersionKind& gvk) {
  return json::Object{{"group", gvk.group}, {"version", gvk.version}, {"kind", gvk.kind}};
}

json::Value query_param(std::string_view name, std::string_view type = "string") {
  return json::Object{{"name", name},
                      {"in", "query"},
                      {"description", ""},
                      {"schema", json::Object{{"type", type}, {"uniqueItems", true}}}};
}

json::Value path_param(std::string_view name) {
  return json::Object{{"name", name},
                      {"in", "path"},
                      {"description", ""},
                      {"required", true},
                      {"schema", json::Object{{"type", "string"}, {"uniqueItems", true}}}};
}

json::Value ref_content(const std::string& def) {
  json::Value schema = json::Object{{"$ref", "#/components/schemas/" + def}};
  return json::Object{{"application/json", json::Object{{"schema", schema}}},
                      {"application/yaml", json::Object{{"schema", schema}}}};
}

std::string camel(std::string s) {
  if (!s.empty()) {
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  }
  return s;
}

// "createNamespacedDeployment"-like operation ids (unique per document is all that matters).
std::string op_id(std::string_view verb, const ResourceType& t, bool namespaced, bool all,
                  std::string_view sub) {
  std::string kind = t.gvk.kind;
  return fmt::format("{}{}{}{}{}", verb, camel(t.gvk.group.substr(0, t.gvk.group.find('.'))),
                     camel(t.gvk.version), namespaced && !all ? "Namespaced" : "",
                     kind + (all ? "ForAllNamespaces" : "") + camel(std::string(sub)));
}

// `strategic`: the PATCH operation accepts strategic merge patches. Custom resources do not, and
// kubectl reads this list to choose its apply patch (merge patch when strategic is missing).
json::Value operation(std::string_view action, std::string id, const registry::GroupVersionKind& gvk,
                      const std::string& response_def, bool has_body, bool write,
                      bool strategic = true) {
  json::Array params;
  if (write) {
    params.push_back(query_param("dryRun"));
    params.push_back(query_param("fieldManager"));
    params.push_back(query_param("fieldValidation"));
  }
  if (action == "patch") {
    params.push_back(query_param("force", "boolean"));
  }
  if (action == "list" || action == "deletecollection") {
    for (const char* p : {"continue", "fieldSelector", "labelSelector", "resourceVersion",
                          "resourceVersionMatch", "sendInitialEvents"}) {
      params.push_back(query_param(p));
    }
    params.push_back(query_param("limit", "integer"));
    params.push_back(query_param("timeoutSeconds", "integer"));
    if (action == "list") {
      params.push_back(query_param("allowWatchBookmarks", "boolean"));
      params.push_back(query_param("watch", "boolean"));
    }
  }
  if (action == "delete") {
    params.push_back(query_param("dryRun"));
    params.push_back(query_param("gracePeriodSeconds", "integer"));
    params.push_back(query_param("propagationPolicy"));
  }
  json::Value op = json::Object{
      {"tags", json::Array{gvk.group.empty() ? "core_" + gvk.version : gvk.group + "_" + gvk.version}},
      {"description", ""},
      {"operationId", std::move(id)},
      {"parameters", std::move(params)},
      {"responses", json::Object{{"200", json::Object{{"description", "OK"},
                                                        {"content", ref_content(response_def)}}},
                                 {"401", json::Object{{"description", "Unauthorized"}}}}},
      {"x-kubernetes-action", action},
      {"x-kubernetes-group-version-kind", gvk_ext(gvk)}};
  if (has_body) {
    json::Value content;
    if (action == "patch") {
      json::Value schema = json::Object{
          {"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}};
      content = json::Object{
          {"application/apply-patch+yaml", json::Object{{"schema", schema}}},
          {"application/json-patch+json", json::Object{{"schema", schema}}},
          {"application/merge-patch+json", json::Object{{"schema", schema}}}};
      if (strategic) {
        content["application/strategic-merge-patch+json"] = json::Object{{"schema", schema}};
      }
    } else {
      content = ref_content(response_def);
    }
    op["requestBody"] = json::Object{{"content", std::move(content)}, {"required", true}};
  }
  return op;
}

std::string definition_of(const ResourceType& t) {
  return t.schema != nullptr && !t.schema->name.empty() ? t.schema->name
                                                        : fmt::format("{}.{}.{}", t.gvk.group,
                                                                      t.gvk.version, t.gvk.kind);
}

std::string list_definition_of(const ResourceType& t) {
  std::string def = definition_of(t);
  return def + "List";
}

// Custom resources take no strategic merge patch (there are no Go structs to carry its metadata):
// their PATCH operations do not list it, which is also what tells kubectl's client-side apply to
// send a JSON merge patch instead (it reads the operation's consumes in /openapi/v2).
void without_strategic_merge(json::Value& patch_op) {
  if (json::Value* content = patch_op.get_path({"requestBody", "content"});
      content != nullptr && content->is_object()) {
    content->as_object().erase("application/strategic-merge-patch+json");
  }
}

void add_paths(json::Object& paths, const ResourceType& t) {
  std::string base = "/" + gv_path(t);
  std::string def = definition_of(t);
  std::string list_def = list_definition_of(t);
  const auto& gvk = t.gvk;
  auto verb = [&](std::string_view v) { return t.has_verb(v); };
  std::string coll = t.namespaced ? base + "/namespaces/{namespace}/" + t.plural : base + "/" + t.plural;
  std::string item = coll + "/{name}";
  json::Value coll_item = json::Object{};
  if (verb("list")) {
    coll_item["get"] = operation("list", op_id("list", t, t.namespaced, false, ""), gvk, list_def,
                                 false, false);
  }
  if (verb("create")) {
    coll_item["post"] = operation("post", op_id("create", t, t.namespaced, false, ""), gvk, def,
                                  true, true);
  }
  if (verb("deletecollection")) {
    coll_item["delete"] = operation("deletecollection",
                                    op_id("deleteCollection", t, t.namespaced, false, ""), gvk,
                                    "io.k8s.apimachinery.pkg.apis.meta.v1.Status", false, false);
  }
  if (!coll_item.as_object().empty()) {
    if (t.namespaced) {
      coll_item["parameters"] = json::Array{path_param("namespace"), query_param("pretty")};
    } else {
      coll_item["parameters"] = json::Array{query_param("pretty")};
    }
    paths.set(coll, std::move(coll_item));
  }
  json::Value item_ops = json::Object{};
  if (verb("get")) {
    item_ops["get"] = operation("get", op_id("read", t, t.namespaced, false, ""), gvk, def, false,
                                false);
  }
  if (verb("update")) {
    item_ops["put"] = operation("put", op_id("replace", t, t.namespaced, false, ""), gvk, def, true,
                                true);
  }
  if (verb("patch")) {
    item_ops["patch"] = operation("patch", op_id("patch", t, t.namespaced, false, ""), gvk, def,
                                  true, true);
    if (t.custom) {
      without_strategic_merge(item_ops["patch"]);
    }
  }
  if (verb("delete")) {
    item_ops["delete"] = operation("delete", op_id("delete", t, t.namespaced, false, ""), gvk,
                                   "io.k8s.apimachinery.pkg.apis.meta.v1.Status", false, false);
  }
  if (!item_ops.as_object().empty()) {
    json::Array params{path_param("name")};
    if (t.namespaced) {
      params.push_back(path_param("namespace"));
    }
    params.push_back(query_param("pretty"));
    item_ops["parameters"] = std::move(params);
    paths.set(item, std::move(item_ops));
  }
  if (t.namespaced && verb("list")) {
    json::Value all = json::Object{
        {"get", operation("list", op_id("list", t, true, true, ""), gvk, list_def, false, false)},
        {"parameters", json::Array{query_param("pretty")}}};
    paths.set(base + "/" + t.plural, std::move(all));
  }
  for (const auto& s : t.subresources) {
    if (s.name != "status" && s.name != "scale") {
      continue;
    }
    std::string sub_def = s.name == "scale" ? std::string("io.k8s.api.autoscaling.v1.Scale") : def;
    json::Value ops = json::Object{};
    auto has = [&](std::string_view v) {
      return std::find(s.verbs.begin(), s.verbs.end(), v) != s.verbs.end();
    };
    if (has("get")) {
      ops["get"] = operation("get", op_id("read", t, t.namespaced, false, s.name), s.kind, sub_def,
                             false, false);
    }
    if (has("update")) {
      ops["put"] = operation("put", op_id("replace", t, t.namespaced, false, s.name), s.kind,
                             sub_def, true, true);
    }
    if (has("patch")) {
      ops["patch"] = operation("patch", op_id("patch", t, t.namespaced, false, s.name), s.kind,
                               sub_def, true, true);
      if (t.custom) {
        without_strategic_merge(ops["patch"]);
      }
    }
    json::Array params{path_param("name")};
    if (t.namespaced) {
      params.push_back(path_param("namespace"));
    }
    params.push_back(query_param("pretty"));
    ops["parameters"] = std::move(params);
    paths.set(item + "/" + s.name, std::move(ops));
  }
}

}  // namespace

OpenApiCache::OpenApiCache(registry::Catalog& catalog) : catalog_(catalog) {}

void OpenApiCache::rebuild_locked() {
  auto snap = catalog_.snapshot();
  if (snap->generation() == generation_ && !root_.body.empty()) {
    return;
  }
  auto started = std::chrono::steady_clock::now();
  docs_.clear();
  SwaggerBuilder swagger{std::string(kVersion)};
  std::map<std::string, std::vector<const ResourceType*>> by_gv;
  for (const auto& t : snap->types()) {
    by_gv[gv_path(*t)].push_back(t.get());
  }
  json::Object index;
  for (const auto& [gv, types] : by_gv) {
    json::Object paths;
    std::vector<const registry::Node*> roots;
    const registry::Schema& builtin = registry::Schema::builtin();
    for (const char* extra : {"io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                              "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
                              "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}) {
      if (const registry::Node* n = builtin.find(extra)) {
        roots.push_back(n);
      }
    }
    for (const ResourceType* t : types) {
      add_paths(paths, *t);
      if (t->schema != nullptr) {
        roots.push_back(t->schema);
      }
      if (const registry::Node* list = builtin.find(list_definition_of(*t))) {
        roots.push_back(list);
      } else if (const registry::Node* list_meta =
                     builtin.find("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")) {
        roots.push_back(list_meta);  // for the list definition add_list_definitions() makes
      }
      if (t->subresource("scale") != nullptr) {
        if (const registry::Node* scale = builtin.find("io.k8s.api.autoscaling.v1.Scale")) {
          roots.push_back(scale);
        }
      }
    }
    swagger.add_group_version(paths, roots);
    json::Value schemas = registry::openapi_v3_schemas(roots);
    add_list_definitions(schemas.as_object(), paths, "#/components/schemas/");
    add_patch_definition(schemas.as_object());
    json::Value doc = json::Object{
        {"openapi", "3.0.0"},
        {"info", json::Object{{"title", "Kubernetes"}, {"version", kVersion}}},
        {"paths", std::move(paths)},
        {"components", json::Object{{"schemas", std::move(schemas)}}}};
    Doc d;
    d.body = json::serialize(doc);
    d.hash = content_hash(d.body);
    index.set(gv, json::Object{{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + d.hash}});
    docs_.emplace(gv, std::move(d));
  }
  // Whole Docs are replaced: a gzip made from the previous generation's bytes must not survive.
  root_ = Doc{};
  v2_json_ = Doc{};
  v2_proto_ = Doc{};
  root_.body = json::serialize(json::Value(json::Object{{"paths", std::move(index)}}));
  root_.hash = content_hash(root_.body);
  auto v3_done = std::chrono::steady_clock::now();
  json::Value v2 = std::move(swagger).build();
  v2_json_.body = json::serialize(v2);
  v2_json_.hash = content_hash(v2_json_.body);
  v2_proto_.body = encode_openapi_v2_protobuf(v2);
  v2_proto_.hash = v2_json_.hash;
  generation_ = snap->generation();
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  log::debug("apiserver",
             "openapi documents rebuilt for catalog generation {}: v3 {:.1f} ms, v2 {:.1f} ms "
             "({} bytes JSON, {} bytes protobuf)",
             generation_, ms(v3_done - started), ms(std::chrono::steady_clock::now() - v3_done),
             v2_json_.body.size(), v2_proto_.body.size());
}

namespace {

// Whether an If-None-Match value names `etag` (quoted) or is `*`. Weak comparison, as upstream's
// http.ServeContent does: `W/"x"` matches `"x"`.
bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
      tag.remove_prefix(1);
    }
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
      tag.remove_suffix(1);
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);
    }
    if (tag == "*" || tag == etag) {
      return true;
    }
  }
  return false;
}

// Documents at least this large are sent gzip'd from the cache when the client accepts it
// (smaller ones are left to the HTTP core, which compresses what it sends above its own threshold).
constexpr std::size_t kCachedGzipMinBytes = 16 * 1024;

}  // namespace

void OpenApiCache::answer_locked(Doc& d, const OpenApiRequest& req, OpenApiResponse& out) {
  std::string etag = "\"" + d.hash + "\"";
  out.headers.emplace_back("Etag", etag);
  if (!req.if_none_match.empty() && none_match_hits(req.if_none_match, etag)) {
    // As http.ServeContent: no body, and no headers that describe one.
    out.code = 304;
    std::erase_if(out.headers, [](const auto& h) { return h.first == "Content-Type"; });
    return;
  }
  out.code = 200;
  if (d.body.size() >= kCachedGzipMinBytes && http::accepts_gzip(req.accept_encoding)) {
    if (d.gzip.empty()) {
      d.gzip = http::gzip_compress(d.body);
    }
    out.headers.emplace_back("Content-Encoding", "gzip");
    out.headers.emplace_back("Vary", "Accept-Encoding");
    out.body = d.gzip;
    return;
  }
  out.body = d.body;
}

OpenApiResponse OpenApiCache::serve(const OpenApiRequest& req) {
  std::string_view path = req.path;
  std::lock_guard lock(mu_);
  rebuild_locked();
  OpenApiResponse out;
  if (path == "/openapi/v2" || path == "/openapi/v2/") {
    SwaggerNegotiated neg = negotiate_swagger(req.accept);
    if (neg.format == SwaggerFormat::kNone) {
      out.code = 406;
      return out;
    }
    Doc& d = neg.format == SwaggerFormat::kJson ? v2_json_ : v2_proto_;
    out.headers = {{"Content-Type", std::string(neg.content_type)}, {"Vary", "Accept"},
                   {"Cache-Control", "no-cache, private"}};
    answer_locked(d, req, out);
    return out;
  }
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    out.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"}};
    answer_locked(root_, req, out);
    return out;
  }
  constexpr std::string_view kPrefix = "/openapi/v3/";
  if (path.starts_with(kPrefix)) {
    std::string_view gv = path.substr(kPrefix.size());
    auto it = docs_.find(gv);
    if (it == docs_.end()) {
      return out;
    }
    out.headers = {{"Content-Type", "application/json"}};
    if (req.hash == it->second.hash) {
      out.headers.emplace_back("Cache-Control", "public, immutable");
      out.headers.emplace_back("Expires", "Fri, 01 Jan 2100 00:00:00 GMT");
    } else {
      out.headers.emplace_back("Cache-Control", "no-cache, private");
    }
    answer_locked(it->second, req, out);
    return out;
  }
  return out;
}

json::Value OpenApiCache::document(std::string_view group_version_path) {
  std::lock_guard lock(mu_);
  rebuild_locked();
  auto it = docs_.find(group_version_path);
  if (it == docs_.end()) {
    return json::Value();
  }
  auto v = json::parse(it->second.body);
  return v ? std::move(*v) : json::Value();
}

}  // namespace skiff::apiserver
