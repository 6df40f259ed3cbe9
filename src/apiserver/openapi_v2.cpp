// SPDX-License-Identifier: Apache-2.0
#include "openapi_v2.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <utility>

#include "skiff/registry/openapi_schema.hpp"

namespace skiff::apiserver {
namespace {

constexpr std::string_view kV3SchemaPrefix = "#/components/schemas/";
constexpr std::string_view kV3ParameterPrefix = "#/components/parameters/";
constexpr std::string_view kV3ResponsePrefix = "#/components/responses/";
constexpr std::string_view kListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
constexpr std::string_view kPatch = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

// A v3 reference as swagger 2.0 spells it.
std::string v2_ref(std::string_view ref) {
  for (auto [from, to] : {std::pair{kV3SchemaPrefix, std::string_view("#/definitions/")},
                          std::pair{kV3ParameterPrefix, std::string_view("#/parameters/")},
                          std::pair{kV3ResponsePrefix, std::string_view("#/responses/")}}) {
    if (ref.starts_with(from)) {
      return std::string(to).append(ref.substr(from.size()));
    }
  }
  return std::string(ref);
}

// A schema with every `$ref` rewritten to its swagger 2.0 form.
json::Value v2_schema(const json::Value& v3) {
  if (v3.is_array()) {
    json::Array out;
    out.reserve(v3.as_array().size());
    for (const json::Value& e : v3.as_array()) {
      out.push_back(v2_schema(e));
    }
    return json::Value(std::move(out));
  }
  if (!v3.is_object()) {
    return v3;
  }
  json::Object out;
  out.reserve(v3.as_object().size());
  for (const json::Member& m : v3.as_object()) {
    if (m.key == "$ref" && m.value.is_string()) {
      out.append_new(m.key, v2_ref(m.value.as_string()));
    } else {
      out.append_new(m.key, v2_schema(m.value));
    }
  }
  return json::Value(std::move(out));
}

// The first schema among a v3 `content` map's media types, or null.
const json::Value* content_schema(const json::Value& content) {
  if (!content.is_object()) {
    return nullptr;
  }
  for (const json::Member& m : content.as_object()) {
    if (const json::Value* s = m.value.get("schema")) {
      return s;
    }
  }
  return nullptr;
}

json::Array media_types(const json::Value& content) {
  json::Array out;
  if (content.is_object()) {
    for (const json::Member& m : content.as_object()) {
      out.emplace_back(m.key);
    }
  }
  return out;
}

// A v3 parameter object (`schema` beside name/in) as a swagger 2.0 non-body parameter (the schema's
// type, format, items, enum, default … hoisted beside name/in). References are rewritten.
json::Value v2_parameter(const json::Value& p) {
  if (!p.is_object()) {
    return p;
  }
  if (const json::Value* ref = p.get("$ref"); ref != nullptr && ref->is_string()) {
    return json::Object{{"$ref", v2_ref(ref->as_string())}};
  }
  json::Object out;
  // Upstream's member order: the schema facts first, then description, name, in, required.
  if (const json::Value* schema = p.get("schema"); schema != nullptr && schema->is_object()) {
    for (const json::Member& m : schema->as_object()) {
      out.set(m.key, v2_schema(m.value));
    }
  }
  for (const json::Member& m : p.as_object()) {
    if (m.key != "schema" && m.key != "style" && m.key != "explode") {
      out.set(m.key, m.value);
    }
  }
  return json::Value(std::move(out));
}

json::Array v2_parameters(const json::Value* params) {
  json::Array out;
  if (params != nullptr && params->is_array()) {
    for (const json::Value& p : params->as_array()) {
      out.push_back(v2_parameter(p));
    }
  }
  return out;
}

// One v3 operation as a swagger 2.0 operation.
json::Value v2_operation(const json::Value& op) {
  if (!op.is_object()) {
    return op;
  }
  json::Object out;
  if (const json::Value* d = op.get("description")) {
    out.set("description", *d);
  }
  const json::Value* body = op.get("requestBody");
  if (body != nullptr) {
    out.set("consumes", media_types(body->operator[]("content")));
  }
  json::Array produces;
  std::set<std::string> seen_types;
  if (const json::Value* responses = op.get("responses");
      responses != nullptr && responses->is_object()) {
    for (const json::Member& r : responses->as_object()) {
      for (json::Value& t : media_types(r.value["content"])) {
        if (seen_types.insert(t.as_string()).second) {
          produces.push_back(std::move(t));
        }
      }
    }
  }
  out.set("produces", std::move(produces));
  out.set("schemes", json::Array{"https"});
  for (const char* k : {"tags", "summary", "operationId"}) {
    if (const json::Value* v = op.get(k)) {
      out.set(k, *v);
    }
  }
  json::Array params;
  if (body != nullptr) {
    json::Object bp{{"name", "body"}, {"in", "body"}};
    bp.set("required", body->bool_or("required"));
    if (const json::Value* s = content_schema(body->operator[]("content"))) {
      bp.set("schema", v2_schema(*s));
    }
    params.emplace_back(std::move(bp));
  }
  for (json::Value& p : v2_parameters(op.get("parameters"))) {
    params.push_back(std::move(p));
  }
  out.set("parameters", std::move(params));
  json::Object responses;
  if (const json::Value* rs = op.get("responses"); rs != nullptr && rs->is_object()) {
    for (const json::Member& r : rs->as_object()) {
      if (const json::Value* ref = r.value.get("$ref"); ref != nullptr && ref->is_string()) {
        responses.set(r.key, json::Object{{"$ref", v2_ref(ref->as_string())}});
        continue;
      }
      json::Object resp{{"description", std::string(r.value.string_or("description"))}};
      if (const json::Value* s = content_schema(r.value["content"])) {
        resp.set("schema", v2_schema(*s));
      }
      responses.set(r.key, std::move(resp));
    }
  }
  out.set("responses", std::move(responses));
  for (const char* k : {"deprecated", "externalDocs"}) {
    if (const json::Value* v = op.get(k)) {
      out.set(k, *v);
    }
  }
  for (const json::Member& m : op.as_object()) {
    if (m.key.starts_with("x-")) {
      out.set(m.key, m.value);
    }
  }
  return json::Value(std::move(out));
}

json::Value v2_path_item(const json::Value& item) {
  if (!item.is_object()) {
    return item;
  }
  json::Object out;
  for (const json::Member& m : item.as_object()) {
    if (m.key == "get" || m.key == "put" || m.key == "post" || m.key == "delete" ||
        m.key == "options" || m.key == "head" || m.key == "patch") {
      out.set(m.key, v2_operation(m.value));
    } else if (m.key == "parameters") {
      out.set(m.key, v2_parameters(&m.value));
    } else if (m.key == "$ref" || m.key.starts_with("x-")) {
      out.set(m.key, m.value);
    }
    // summary, description and servers have no swagger 2.0 counterpart on a path item.
  }
  return json::Value(std::move(out));
}

void collect_refs(const json::Value& v, std::set<std::string>& out) {
  if (v.is_object()) {
    for (const json::Member& m : v.as_object()) {
      if (m.key == "$ref" && m.value.is_string()) {
        out.insert(m.value.as_string());
      } else {
        collect_refs(m.value, out);
      }
    }
  } else if (v.is_array()) {
    for (const json::Value& e : v.as_array()) {
      collect_refs(e, out);
    }
  }
}

// The list definition of a kind whose schema model has none (custom resources), shaped as upstream
// publishes CRD lists: apiVersion, items (required), kind, metadata.
json::Value list_definition(const std::string& item_def, const json::Value& item,
                            std::string_view ref_prefix) {
  json::Array gvks;
  if (const json::Value* g = item.get("x-kubernetes-group-version-kind");
      g != nullptr && g->is_array()) {
    for (const json::Value& e : g->as_array()) {
      gvks.emplace_back(json::Object{{"group", e["group"]},
                                     {"kind", std::string(e.string_or("kind")) + "List"},
                                     {"version", e["version"]}});
    }
  }
  json::Object props{
      {"apiVersion", json::Object{{"type", "string"}}},
      {"items",
       json::Object{{"type", "array"},
                    {"items", json::Object{{"$ref", std::string(ref_prefix) + item_def}}}}},
      {"kind", json::Object{{"type", "string"}}},
      {"metadata", json::Object{{"$ref", std::string(ref_prefix) + std::string(kListMeta)}}}};
  return json::Object{{"type", "object"},
                      {"required", json::Array{"items"}},
                      {"properties", std::move(props)},
                      {"x-kubernetes-group-version-kind", std::move(gvks)}};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

struct AcceptClause {
  std::string type;
  std::string subtype;
  double q = 1.0;
  int specificity = 0;  // 2 = type/subtype, 1 = type/*, 0 = */*
};

}  // namespace

SwaggerNegotiated negotiate_swagger(std::string_view accept) {
  if (trim(accept).empty()) {
    accept = "*/*";
  }
  std::vector<AcceptClause> clauses;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string_view part = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    std::size_t semi = part.find(';');
    std::string media = lower(trim(part.substr(0, semi)));
    std::size_t slash = media.find('/');
    if (slash == std::string::npos) {
      continue;
    }
    AcceptClause c{media.substr(0, slash), media.substr(slash + 1)};
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : part.substr(semi + 1);
    while (!params.empty()) {
      std::size_t next = params.find(';');
      std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        double q = 0;
        auto [ptr, ec] = std::from_chars(p.data() + 2, p.data() + p.size(), q);
        c.q = ec == std::errc() ? q : 0.0;
      }
    }
    if (c.q <= 0) {
      continue;
    }
    c.specificity = c.type == "*" ? 0 : c.subtype == "*" ? 1 : 2;
    clauses.push_back(std::move(c));
  }
  std::stable_sort(clauses.begin(), clauses.end(),
                   [](const AcceptClause& a, const AcceptClause& b) {
                     return a.q != b.q ? a.q > b.q : a.specificity > b.specificity;
                   });
  struct Offer {
    std::string_view subtype;
    SwaggerFormat format;
    std::string_view content_type;
  };
  const Offer offers[] = {
      {"json", SwaggerFormat::kJson, "application/json"},
      // Answered with the older spelling whichever was asked for, as upstream does: Go's
      // mime.ParseMediaType (client-go reads the Content-Type) rejects the `@`.
      {kSwaggerProtobuf.substr(12), SwaggerFormat::kProtobuf, kSwaggerProtobufOld},
      {kSwaggerProtobufOld.substr(12), SwaggerFormat::kProtobuf, kSwaggerProtobufOld},
  };
  for (const AcceptClause& c : clauses) {
    if (c.type != "application" && c.type != "*") {
      continue;
    }
    for (const Offer& o : offers) {
      if (c.subtype == o.subtype || c.subtype == "*") {
        return {o.format, o.content_type};
      }
    }
  }
  return {};
}

void add_list_definitions(json::Object& definitions, const json::Object& paths,
                          std::string_view ref_prefix) {
  std::set<std::string> refs;
  for (const json::Member& m : paths) {
    collect_refs(m.value, refs);
  }
  for (const std::string& ref : refs) {
    if (!ref.starts_with(ref_prefix) || !ref.ends_with("List")) {
      continue;
    }
    std::string name = ref.substr(ref_prefix.size());
    std::string item = name.substr(0, name.size() - 4);
    const json::Value* item_def = definitions.find(item);
    if (definitions.find(name) == nullptr && item_def != nullptr) {
      json::Value list = list_definition(item, *item_def, ref_prefix);
      definitions.set(name, std::move(list));
    }
  }
}

void add_patch_definition(json::Object& definitions) {
  if (definitions.find(kPatch) == nullptr) {
    definitions.set(std::string(kPatch),
                    json::Object{{"description",
                                  "The body of a PATCH request, in the format its "
                                  "Content-Type names."},
                                 {"type", "object"}});
  }
}

SwaggerBuilder::SwaggerBuilder(std::string version) : version_(std::move(version)) {}

void SwaggerBuilder::add_group_version(const json::Object& v3_paths,
                                       const std::vector<const registry::Node*>& roots) {
  // Path keys start with the group-version, so group-versions never share one.
  for (const json::Member& m : v3_paths) {
    paths_.append_new(m.key, v2_path_item(m.value));
  }
  roots_.insert(roots_.end(), roots.begin(), roots.end());
}

json::Value SwaggerBuilder::build() && {
  if (const registry::Node* list_meta = registry::Schema::builtin().find(kListMeta)) {
    roots_.push_back(list_meta);
  }
  json::Value definitions = registry::openapi_v2_definitions(roots_);
  json::Object& defs = definitions.as_object();
  add_list_definitions(defs, paths_, "#/definitions/");
  add_patch_definition(defs);
  json::Value security_definitions =
      json::Object{{"BearerToken", json::Object{{"description", "Bearer Token authentication"},
                                                {"type", "apiKey"},
                                                {"name", "authorization"},
                                                {"in", "header"}}}};
  return json::Object{{"swagger", "2.0"},
                      {"info", json::Object{{"title", "Kubernetes"}, {"version", version_}}},
                      {"paths", std::move(paths_)},
                      {"definitions", std::move(definitions)},
                      {"securityDefinitions", std::move(security_definitions)},
                      {"security", json::Array{json::Object{{"BearerToken", json::Array{}}}}}};
}

}  // namespace skiff::apiserver
