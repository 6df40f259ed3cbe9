// SPDX-License-Identifier: Apache-2.0
#include "crd.hpp"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/kv/store.hpp"

#include "glue.hpp"
#include "objects.hpp"

namespace skiff::registry::detail {

namespace {

constexpr std::string_view kComponent = "crd";
const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

struct KubeVersion {
  bool kube = false;
  int major = 0;
  int stage = 3;  // 3 = GA, 2 = beta, 1 = alpha
  int minor = 0;
};

KubeVersion parse_kube_version(std::string_view v) {
  static const std::regex re("^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$");
  std::cmatch m;
  KubeVersion k;
  if (!std::regex_match(v.begin(), v.end(), m, re)) {
    return k;
  }
  k.kube = true;
  k.major = std::stoi(m[1].str());
  if (m[2].matched) {
    k.stage = m[2].str() == "beta" ? 2 : 1;
    k.minor = std::stoi(m[3].str());
  }
  return k;
}

std::vector<std::string> strings_of(const json::Value& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v.as_array()) {
      if (e.is_string()) {
        out.push_back(e.as_string());
      }
    }
  }
  return out;
}

FieldCause cause(std::string type, std::string field, std::string message) {
  return FieldCause{std::move(type), std::move(message), std::move(field)};
}

std::vector<PrinterColumn> crd_columns(const json::Value& version) {
  std::vector<PrinterColumn> cols;
  cols.push_back({"Name", "string", "name", "The object's name, unique within its namespace.", 0, ""});
  const json::Value* extra = version.get("additionalPrinterColumns");
  if (extra != nullptr && extra->is_array() && !extra->empty()) {
    for (const auto& c : extra->as_array()) {
      cols.push_back({std::string(c.string_or("name")), std::string(c.string_or("type", "string")),
                      std::string(c.string_or("format")), std::string(c.string_or("description")),
                      static_cast<int>(c.int_or("priority", 0)),
                      std::string(c.string_or("jsonPath"))});
    }
  } else {
    cols.push_back({"Age", "date", "", "", 0, ".metadata.creationTimestamp"});
  }
  return cols;
}

Error invalid_crd(const json::Value& crd, std::vector<FieldCause> causes) {
  Error e = errors::make(Reason::kInvalid,
                         fmt::format("CustomResourceDefinition.apiextensions.k8s.io {} is invalid: {}",
                                     json::quote(crd["metadata"].string_or("name")),
                                     join_causes(causes)));
  e.causes = std::move(causes);
  e.name = std::string(crd["metadata"].string_or("name"));
  e.group = "apiextensions.k8s.io";
  e.kind = "CustomResourceDefinition";
  return e;
}

json::Value condition(std::string_view type, std::string_view reason, std::string_view message,
                      const std::string& now) {
  return json::Object{{"type", type},       {"status", "True"},         {"lastTransitionTime", now},
                      {"reason", reason},   {"message", message}};
}

// The status upstream's controllers would write: accepted names, both conditions, stored versions.
void set_crd_status(json::Value& crd, const json::Value* old) {
  const json::Value& spec = crd["spec"];
  const json::Value& names = spec["names"];
  json::Value accepted = json::Object{};
  for (const char* k : {"plural", "singular", "shortNames", "kind", "listKind", "categories"}) {
    if (const json::Value* v = names.get(k)) {
      accepted[k] = *v;
    }
  }
  if (accepted.string_or("singular").empty()) {
    std::string singular(names.string_or("kind"));
    std::transform(singular.begin(), singular.end(), singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    accepted["singular"] = singular;
  }
  if (accepted.string_or("listKind").empty()) {
    accepted["listKind"] = std::string(names.string_or("kind")) + "List";
  }
  std::string now = format_time(std::chrono::system_clock::now());
  json::Value status = json::Object{};
  status["acceptedNames"] = std::move(accepted);
  if (old != nullptr) {
    if (const json::Value* conds = old->get_path({"status", "conditions"})) {
      status["conditions"] = *conds;
    }
  }
  if (!status.get("conditions")) {
    status["conditions"] = json::Array{
        condition("NamesAccepted", "NoConflicts", "no conflicts found", now),
        condition("Established", "InitialNamesAccepted", "the initial names have been accepted",
                  now)};
  }
  json::Array stored;
  if (old != nullptr) {
    if (const json::Value* sv = old->get_path({"status", "storedVersions"}); sv && sv->is_array()) {
      stored = sv->as_array();
    }
  }
  if (const json::Value* versions = spec.get("versions"); versions && versions->is_array()) {
    for (const auto& v : versions->as_array()) {
      if (v.bool_or("storage")) {
        json::Value name(std::string(v.string_or("name")));
        if (std::find(stored.begin(), stored.end(), name) == stored.end()) {
          stored.push_back(std::move(name));
        }
      }
    }
  }
  status["storedVersions"] = std::move(stored);
  crd["status"] = std::move(status);
}

class CrdStrategy final : public Strategy {
 public:
  void apply_defaults(json::Value& crd) const override {
    json::Value& spec = crd["spec"];
    if (!spec.is_object()) {
      return;
    }
    json::Value& names = spec["names"];
    if (names.is_object()) {
      if (names.string_or("singular").empty() && !names.string_or("kind").empty()) {
        std::string singular(names.string_or("kind"));
        std::transform(singular.begin(), singular.end(), singular.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        names["singular"] = singular;
      }
      if (names.string_or("listKind").empty() && !names.string_or("kind").empty()) {
        names["listKind"] = std::string(names.string_or("kind")) + "List";
      }
    }
    if (!spec.get("conversion")) {
      spec["conversion"] = json::Object{{"strategy", "None"}};
    }
  }
  bool tracks_generation() const override { return true; }
  void prepare_for_create(json::Value& crd) const override { set_crd_status(crd, nullptr); }
  void prepare_for_update(json::Value& crd, const json::Value& old) const override {
    set_crd_status(crd, &old);
  }
  std::vector<FieldCause> validate(const json::Value& crd) const override {
    auto types = crd_types(crd);
    if (!types) {
      return types.error().causes;
    }
    return {};
  }
  std::vector<PrinterColumn> columns() const override {
    return {{"Name", "string", "name", "The object's name, unique within its namespace.", 0, ""},
            {"Created At", "date", "", "", 0, ""}};
  }
  json::Array cells(const json::Value& crd, TimePoint) const override {
    return {json::Value(crd["metadata"].string_or("name")),
            json::Value(crd["metadata"].string_or("creationTimestamp"))};
  }
};

}  // namespace

const Strategy& crd_strategy() {
  static const CrdStrategy kStrategy;
  return kStrategy;
}

bool version_preferred(std::string_view a, std::string_view b) {
  KubeVersion x = parse_kube_version(a);
  KubeVersion y = parse_kube_version(b);
  if (x.kube != y.kube) {
    return x.kube;
  }
  if (!x.kube) {
    return a < b;
  }
  if (x.stage != y.stage) {
    return x.stage > y.stage;
  }
  if (x.major != y.major) {
    return x.major > y.major;
  }
  return x.minor > y.minor;
}

namespace {

// What a request to deprecated version `v` is warned with: its deprecationWarning, else upstream's
// default, which names the newest served, non-deprecated version newer than `v` if there is one.
std::string deprecation_warning(const json::Array& versions, const json::Value& v,
                                std::string_view group, std::string_view kind) {
  if (const json::Value* w = v.get("deprecationWarning"); w != nullptr && w->is_string()) {
    return std::string(w->as_string());
  }
  std::string_view name = v.string_or("name");
  std::string msg = fmt::format("{}/{} {} is deprecated", group, name, kind);
  std::string_view newest;
  for (const auto& other : versions) {
    std::string_view o = other.string_or("name");
    if (other.bool_or("served") && !other.bool_or("deprecated") && version_preferred(o, name) &&
        (newest.empty() || version_preferred(o, newest))) {
      newest = o;
    }
  }
  if (!newest.empty()) {
    msg += fmt::format("; use {}/{} {}", group, newest, kind);
  }
  return msg;
}

}  // namespace

Result<std::vector<ResourceTypePtr>> crd_types(const json::Value& crd) {
  std::vector<FieldCause> causes;
  const json::Value& spec = crd["spec"];
  const json::Value& names = spec["names"];
  std::string group(spec.string_or("group"));
  std::string plural(names.string_or("plural"));
  std::string kind(names.string_or("kind"));
  std::string singular(names.string_or("singular"));
  if (singular.empty()) {
    singular = kind;
    std::transform(singular.begin(), singular.end(), singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  std::string list_kind(names.string_or("listKind"));
  if (list_kind.empty()) {
    list_kind = kind + "List";
  }
  std::string scope(spec.string_or("scope"));
  if (group.empty()) {
    causes.push_back(cause("FieldValueRequired", "spec.group", "Required value"));
  } else if (group.find('.') == std::string::npos) {
    causes.push_back(cause("FieldValueInvalid", "spec.group",
                           fmt::format("Invalid value: {}: should be a domain with at least one dot",
                                       json::quote(group))));
  }
  if (plural.empty()) {
    causes.push_back(cause("FieldValueRequired", "spec.names.plural", "Required value"));
  }
  if (kind.empty()) {
    causes.push_back(cause("FieldValueRequired", "spec.names.kind", "Required value"));
  }
  if (scope != "Namespaced" && scope != "Cluster") {
    causes.push_back(cause("FieldValueNotSupported", "spec.scope",
                           fmt::format("Unsupported value: {}: supported values: \"Cluster\", "
                                       "\"Namespaced\"",
                                       json::quote(scope))));
  }
  std::string expected_name = plural + "." + group;
  if (crd["metadata"].string_or("name") != expected_name) {
    causes.push_back(cause("FieldValueInvalid", "metadata.name",
                           fmt::format("Invalid value: {}: must be spec.names.plural+\".\"+spec.group",
                                       json::quote(crd["metadata"].string_or("name")))));
  }
  const json::Value& versions = spec["versions"];
  if (!versions.is_array() || versions.empty()) {
    causes.push_back(cause("FieldValueRequired", "spec.versions", "Required value: must have exactly one version marked as storage version"));
  }
  std::string storage;
  int storage_count = 0;
  if (versions.is_array()) {
    for (const auto& v : versions.as_array()) {
      if (v.bool_or("storage")) {
        ++storage_count;
        storage = std::string(v.string_or("name"));
      }
    }
    if (storage_count != 1 && !versions.empty()) {
      causes.push_back(cause("FieldValueInvalid", "spec.versions",
                             "Invalid value: must have exactly one version marked as storage "
                             "version"));
    }
  }
  if (!causes.empty()) {
    return invalid_crd(crd, std::move(causes));
  }

  std::vector<ResourceTypePtr> out;
  const auto& vs = versions.as_array();
  for (std::size_t i = 0; i < vs.size(); ++i) {
    const json::Value& v = vs[i];
    std::string vname(v.string_or("name"));
    if (!v.bool_or("served")) {
      continue;
    }
    auto t = std::make_shared<ResourceType>();
    t->gvk = {group, vname, kind};
    t->plural = plural;
    t->singular = singular;
    t->list_kind = list_kind;
    t->namespaced = scope == "Namespaced";
    t->short_names = strings_of(names["shortNames"]);
    t->categories = strings_of(names["categories"]);
    t->verbs = kAllVerbs;
    t->custom = true;
    t->storage_prefix = fmt::format("/registry/{}/{}/", group, plural);
    t->storage_version = storage;
    t->columns = crd_columns(v);
    if (v.bool_or("deprecated")) {
      t->deprecation_warning = deprecation_warning(vs, v, group, kind);
    }
    const json::Value& subs = v["subresources"];
    if (subs.get("status") != nullptr) {
      t->has_status = true;
      t->subresources.push_back({"status", t->gvk, {"get", "patch", "update"}});
    }
    if (const json::Value* sc = subs.get("scale")) {
      t->scale = ScalePaths{std::string(sc->string_or("specReplicasPath")),
                            std::string(sc->string_or("statusReplicasPath")),
                            std::string(sc->string_or("labelSelectorPath"))};
      t->subresources.push_back(
          {"scale", {"autoscaling", "v1", "Scale"}, {"get", "patch", "update"}});
    }
    const json::Value* schema_doc = v.get_path({"schema", "openAPIV3Schema"});
    std::string prefix = fmt::format("spec.versions[{}].schema.openAPIV3Schema", i);
    if (schema_doc == nullptr) {
      causes.push_back(cause("FieldValueRequired", prefix, "Required value: schemas are required"));
      continue;
    }
    auto schema = Schema::from_openapi_v3(*schema_doc, t->gvk, prefix);
    if (!schema) {
      // error() returns a copy: take it once, or begin() and end() belong to two vectors.
      Error e = schema.error();
      causes.insert(causes.end(), e.causes.begin(), e.causes.end());
      continue;
    }
    t->custom_schema = std::make_shared<const Schema>(std::move(*schema));
    t->schema = t->custom_schema->root();
    out.push_back(std::move(t));
  }
  if (!causes.empty()) {
    return invalid_crd(crd, std::move(causes));
  }
  std::stable_sort(out.begin(), out.end(), [](const ResourceTypePtr& a, const ResourceTypePtr& b) {
    return version_preferred(a->gvk.version, b->gvk.version);
  });
  for (std::size_t i = 0; i < out.size(); ++i) {
    const_cast<ResourceType&>(*out[i]).version_priority = static_cast<int>(i);
  }
  return out;
}

void sync_crd(Catalog& catalog, const json::Value& crd) {
  const json::Value& spec = crd["spec"];
  std::string group(spec.string_or("group"));
  std::string plural(spec["names"].string_or("plural"));
  auto types = crd_types(crd);
  if (!types) {
    log::warn(kComponent, "not serving {}: {}", crd["metadata"].string_or("name"),
              types.error().message);
    catalog.remove_custom(group, plural);
    return;
  }
  if (types->empty()) {
    catalog.remove_custom(group, plural);
    return;
  }
  if (auto ok = catalog.set_custom(group, plural, std::move(*types)); !ok) {
    log::warn(kComponent, "not serving {}: {}", crd["metadata"].string_or("name"),
              ok.error().message);
  }
}

void drop_crd(Catalog& catalog, const json::Value& crd) {
  const json::Value& spec = crd["spec"];
  catalog.remove_custom(spec.string_or("group"), spec["names"].string_or("plural"));
}

Result<void> load_crds(kv::Store& store, Catalog& catalog) {
  kv::RangeRequest req;
  req.key = "/registry/customresourcedefinitions/";
  req.range_end = kv::prefix_end(req.key);
  auto r = store.range(req);
  if (!r) {
    return r.error();
  }
  for (const auto& kv : r->kvs) {
    auto crd = json::parse(kv.value);
    if (crd) {
      sync_crd(catalog, *crd);
    }
  }
  return {};
}

}  // namespace skiff::registry::detail
