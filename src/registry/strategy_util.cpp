// SPDX-License-Identifier: Apache-2.0
#include "strategy_util.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/labels.hpp"
#include "skiff/api/quantity.hpp"
#include "skiff/api/time.hpp"

namespace skiff::registry::strategies {

namespace {

const json::Value kNull;
const json::Array kEmptyArray;

}  // namespace

// ---- reading ----------------------------------------------------------------------------------

bool unset(const json::Value* v) noexcept {
  if (v == nullptr || v->is_null()) {
    return true;
  }
  if (v->is_string()) {
    return v->as_string().empty();
  }
  if (v->is_object()) {
    return v->as_object().empty();
  }
  return false;
}

bool zero(const json::Value* v) noexcept {
  if (unset(v)) {
    return true;
  }
  if (v->is_bool()) {
    return !v->as_bool();
  }
  if (v->is_number()) {
    return v->as_double() == 0;
  }
  if (v->is_array()) {
    return v->as_array().empty();
  }
  return false;
}

std::string str(const json::Value& object, std::string_view key) {
  return std::string(object.string_or(key));
}

std::int64_t num(const json::Value& object, std::string_view key, std::int64_t fallback) {
  const json::Value* v = object.get(key);
  if (v == nullptr || !v->is_integral()) {
    return fallback;
  }
  return v->as_int();
}

const json::Array& arr(const json::Value& object, std::string_view key) {
  const json::Value* v = object.get(key);
  return v != nullptr && v->is_array() ? v->as_array() : kEmptyArray;
}

void append(Causes& out, Causes more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// ---- defaulting -------------------------------------------------------------------------------

json::Value& obj(json::Value& parent, std::string_view key) {
  json::Value& v = parent[key];
  if (!v.is_object()) {
    v = json::Value::object();
  }
  return v;
}

void set_default(json::Value& object, std::string_view key, json::Value value) {
  if (!object.is_object()) {
    return;
  }
  if (unset(object.get(key))) {
    object.as_object().set(key, std::move(value));
  }
}

void set_default_if_zero(json::Value& object, std::string_view key, json::Value value) {
  if (!object.is_object()) {
    return;
  }
  if (zero(object.get(key))) {
    object.as_object().set(key, std::move(value));
  }
}

void default_resource_list(json::Value* list) {
  if (list == nullptr || !list->is_object()) {
    return;
  }
  for (auto& m : list->as_object()) {
    auto q = api::Quantity::from_json(m.value);
    if (!q) {
      continue;  // validation reports it
    }
    // RoundUp(-3): values finer than a milli unit round up (away from zero).
    std::int64_t milli = q->milli_value();
    api::Quantity rounded = api::Quantity::from_milli(milli, q->format());
    if (rounded != *q) {
      m.value = rounded.to_json();
    }
  }
}

namespace {

// parsers.ParseImageName's tag: "latest" when the reference has neither tag nor digest; "" when
// the reference does not parse (upper-case repository, empty).
std::string image_tag(std::string_view image) {
  if (image.empty()) {
    return "";
  }
  std::string_view name = image;
  bool digest = false;
  if (auto at = name.find('@'); at != std::string_view::npos) {
    digest = true;
    name = name.substr(0, at);
  }
  std::string tag;
  std::size_t slash = name.rfind('/');
  std::size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
  }
  // The repository path (after an optional registry host) must be lower-case.
  std::string_view path = name;
  if (auto first = name.find('/'); first != std::string_view::npos) {
    std::string_view host = name.substr(0, first);
    if (host.find('.') != std::string_view::npos || host.find(':') != std::string_view::npos ||
        host == "localhost") {
      path = name.substr(first + 1);
    }
  }
  if (path.empty() || std::any_of(path.begin(), path.end(), [](unsigned char c) {
        return std::isupper(c) != 0 || std::isspace(c) != 0;
      })) {
    return "";
  }
  if (tag.empty() && !digest) {
    return "latest";
  }
  return tag;
}

void default_field_ref(json::Value& holder) {
  if (json::Value* ref = holder.get("fieldRef"); ref != nullptr && ref->is_object()) {
    set_default(*ref, "apiVersion", "v1");
  }
}

void default_http_get(json::Value& handler) {
  if (json::Value* get = handler.get("httpGet"); get != nullptr && get->is_object()) {
    set_default(*get, "path", "/");
    set_default(*get, "scheme", "HTTP");
  }
}

void default_probe(json::Value& container, std::string_view key) {
  json::Value* probe = container.get(key);
  if (probe == nullptr || !probe->is_object()) {
    return;
  }
  set_default_if_zero(*probe, "timeoutSeconds", 1);
  set_default_if_zero(*probe, "periodSeconds", 10);
  set_default_if_zero(*probe, "successThreshold", 1);
  set_default_if_zero(*probe, "failureThreshold", 3);
  default_http_get(*probe);
  if (json::Value* grpc = probe->get("grpc"); grpc != nullptr && grpc->is_object()) {
    if (grpc->get("service") == nullptr || (*grpc)["service"].is_null()) {
      (*grpc)["service"] = "";
    }
  }
}

void default_container(json::Value& c) {
  if (!c.is_object()) {
    return;
  }
  if (unset(c.get("imagePullPolicy"))) {
    c["imagePullPolicy"] = image_tag(c.string_or("image")) == "latest" ? "Always" : "IfNotPresent";
  }
  set_default(c, "terminationMessagePath", "/dev/termination-log");
  set_default(c, "terminationMessagePolicy", "File");
  if (json::Value* ports = c.get("ports"); ports != nullptr && ports->is_array()) {
    for (json::Value& p : ports->as_array()) {
      set_default(p, "protocol", "TCP");
    }
  }
  if (json::Value* env = c.get("env"); env != nullptr && env->is_array()) {
    for (json::Value& e : env->as_array()) {
      if (json::Value* from = e.get("valueFrom"); from != nullptr && from->is_object()) {
        default_field_ref(*from);
      }
    }
  }
  if (json::Value* res = c.get("resources"); res != nullptr && res->is_object()) {
    default_resource_list(res->get("limits"));
    default_resource_list(res->get("requests"));
  }
  default_probe(c, "livenessProbe");
  default_probe(c, "readinessProbe");
  default_probe(c, "startupProbe");
  if (json::Value* lc = c.get("lifecycle"); lc != nullptr && lc->is_object()) {
    for (const char* hook : {"postStart", "preStop"}) {
      if (json::Value* h = lc->get(hook); h != nullptr && h->is_object()) {
        default_http_get(*h);
      }
    }
  }
}

void default_items_field_refs(json::Value& source) {
  if (json::Value* items = source.get("items"); items != nullptr && items->is_array()) {
    for (json::Value& item : items->as_array()) {
      if (item.is_object()) {
        default_field_ref(item);
      }
    }
  }
}

void default_volume(json::Value& v) {
  if (!v.is_object()) {
    return;
  }
  bool has_source = false;
  for (const auto& m : v.as_object()) {
    if (m.key != "name" && !m.value.is_null()) {
      has_source = true;
    }
  }
  if (!has_source) {
    v["emptyDir"] = json::Value::object();
    return;
  }
  auto source = [&](std::string_view key) -> json::Value* {
    json::Value* s = v.get(key);
    return s != nullptr && s->is_object() ? s : nullptr;
  };
  if (json::Value* s = source("hostPath")) {
    if (s->get("type") == nullptr || (*s)["type"].is_null()) {
      (*s)["type"] = "";
    }
  }
  if (json::Value* s = source("secret")) {
    set_default(*s, "defaultMode", 420);
  }
  if (json::Value* s = source("configMap")) {
    set_default(*s, "defaultMode", 420);
  }
  if (json::Value* s = source("downwardAPI")) {
    set_default(*s, "defaultMode", 420);
    default_items_field_refs(*s);
  }
  if (json::Value* s = source("projected")) {
    set_default(*s, "defaultMode", 420);
    if (json::Value* sources = s->get("sources"); sources != nullptr && sources->is_array()) {
      for (json::Value& p : sources->as_array()) {
        if (json::Value* d = p.get("downwardAPI"); d != nullptr && d->is_object()) {
          default_items_field_refs(*d);
        }
        if (json::Value* t = p.get("serviceAccountToken"); t != nullptr && t->is_object()) {
          set_default(*t, "expirationSeconds", 3600);
        }
      }
    }
  }
  if (json::Value* s = source("iscsi")) {
    set_default(*s, "iscsiInterface", "default");
  }
  if (json::Value* s = source("rbd")) {
    set_default(*s, "pool", "rbd");
    set_default(*s, "user", "admin");
    set_default(*s, "keyring", "/etc/ceph/keyring");
  }
  if (json::Value* s = source("azureDisk")) {
    set_default(*s, "cachingMode", "ReadWrite");
    set_default(*s, "fsType", "ext4");
    set_default(*s, "readOnly", false);
    set_default(*s, "kind", "Shared");
  }
  if (json::Value* s = source("scaleIO")) {
    set_default(*s, "storageMode", "ThinProvisioned");
    set_default(*s, "fsType", "xfs");
  }
  if (json::Value* s = source("ephemeral")) {
    if (json::Value* t = s->get("volumeClaimTemplate"); t != nullptr && t->is_object()) {
      if (json::Value* spec = t->get("spec"); spec != nullptr && spec->is_object()) {
        default_pvc_spec(*spec);
      }
    }
  }
}

// SetDefaults_Pod: requests default to limits for every resource the limits name.
void requests_from_limits(json::Value& c) {
  json::Value* res = c.get("resources");
  if (res == nullptr || !res->is_object()) {
    return;
  }
  const json::Value* found = res->get("limits");
  if (found == nullptr || !found->is_object() || found->as_object().empty()) {
    return;
  }
  const json::Value limits = *found;  // copied: adding "requests" may move the members
  json::Value& requests = obj(*res, "requests");
  for (const auto& m : limits.as_object()) {
    if (requests.get(m.key) == nullptr) {
      requests[m.key] = m.value;
    }
  }
}

}  // namespace

void default_pvc_spec(json::Value& spec) {
  if (!spec.is_object()) {
    return;
  }
  set_default(spec, "volumeMode", "Filesystem");
  if (json::Value* res = spec.get("resources"); res != nullptr && res->is_object()) {
    default_resource_list(res->get("limits"));
    default_resource_list(res->get("requests"));
  }
}

void default_pod_spec(json::Value& spec, bool is_pod) {
  if (!spec.is_object()) {
    return;
  }
  if (is_pod) {
    for (const char* list : {"containers", "initContainers"}) {
      if (json::Value* cs = spec.get(list); cs != nullptr && cs->is_array()) {
        for (json::Value& c : cs->as_array()) {
          if (c.is_object()) {
            requests_from_limits(c);
          }
        }
      }
    }
    if (spec.get("enableServiceLinks") == nullptr || spec["enableServiceLinks"].is_null()) {
      spec["enableServiceLinks"] = true;
    }
    if (spec.bool_or("hostNetwork")) {
      for (const char* list : {"containers", "initContainers"}) {
        if (json::Value* cs = spec.get(list); cs != nullptr && cs->is_array()) {
          for (json::Value& c : cs->as_array()) {
            if (json::Value* ports = c.get("ports"); ports != nullptr && ports->is_array()) {
              for (json::Value& p : ports->as_array()) {
                if (p.is_object() && zero(p.get("hostPort")) && p.get("containerPort") != nullptr) {
                  json::Value port = p["containerPort"];
                  p["hostPort"] = std::move(port);
                }
              }
            }
          }
        }
      }
    }
  }
  set_default(spec, "dnsPolicy", "ClusterFirst");
  set_default(spec, "restartPolicy", "Always");
  if (spec.get("securityContext") == nullptr || spec["securityContext"].is_null()) {
    spec["securityContext"] = json::Value::object();
  }
  if (spec.get("terminationGracePeriodSeconds") == nullptr ||
      spec["terminationGracePeriodSeconds"].is_null()) {
    spec["terminationGracePeriodSeconds"] = 30;
  }
  set_default(spec, "schedulerName", "default-scheduler");
  if (json::Value* vols = spec.get("volumes"); vols != nullptr && vols->is_array()) {
    for (json::Value& v : vols->as_array()) {
      default_volume(v);
    }
  }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    if (json::Value* cs = spec.get(list); cs != nullptr && cs->is_array()) {
      for (json::Value& c : cs->as_array()) {
        default_container(c);
      }
    }
  }
  default_resource_list(spec.get("overhead"));
}

void default_pod_template(json::Value& template_spec) {
  if (!template_spec.is_object()) {
    return;
  }
  if (json::Value* spec = template_spec.get("spec"); spec != nullptr && spec->is_object()) {
    default_pod_spec(*spec, false);
  } else {
    // A template without a spec still gets the spec defaults upstream (the struct is embedded).
    json::Value& s = template_spec["spec"];
    s = json::Value::object();
    default_pod_spec(s, false);
  }
}

// ---- validation helpers ------------------------------------------------------------------------

std::string inclusive_range_error(std::int64_t lo, std::int64_t hi) {
  return fmt::format("must be between {} and {}, inclusive", lo, hi);
}

std::vector<std::string> port_num_errors(std::int64_t port) {
  if (port >= 1 && port <= 65535) {
    return {};
  }
  return {inclusive_range_error(1, 65535)};
}

std::vector<std::string> port_name_errors(std::string_view port) {
  std::vector<std::string> errs;
  if (port.size() > 15) {
    errs.push_back(api::max_len_error(15));
  }
  bool charset = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!charset) {
    errs.emplace_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (std::none_of(port.begin(), port.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    errs.emplace_back("must contain at least one letter (a-z)");
  }
  if (port.find("--") != std::string_view::npos) {
    errs.emplace_back("must not contain consecutive hyphens");
  }
  if (!port.empty() && (port.front() == '-' || port.back() == '-')) {
    errs.emplace_back("must not begin or end with a hyphen");
  }
  return errs;
}

Causes validate_port_num_or_name(const json::Value& port, const std::string& path) {
  Causes out;
  if (port.is_integral()) {
    for (const auto& msg : port_num_errors(port.as_int())) {
      out.push_back(api::field_invalid(path, port.as_int(), msg));
    }
  } else if (port.is_string()) {
    for (const auto& msg : port_name_errors(port.as_string())) {
      out.push_back(api::field_invalid(path, port, msg));
    }
  } else {
    // A missing IntOrString is the integer 0.
    for (const auto& msg : port_num_errors(0)) {
      out.push_back(api::field_invalid(path, 0, msg));
    }
  }
  return out;
}

std::vector<std::string> config_map_key_errors(std::string_view key) {
  std::vector<std::string> errs;
  if (key.size() > api::kDns1123SubdomainMaxLength) {
    errs.push_back(api::max_len_error(api::kDns1123SubdomainMaxLength));
  }
  bool ok = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
  if (!ok) {
    errs.push_back(
        api::regex_error("a valid config key must consist of alphanumeric characters, "
                         "'-', '_' or '.'",
                         "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  }
  if (key == ".") {
    errs.emplace_back("must not be '.'");
  } else if (key == "..") {
    errs.emplace_back("must not be '..'");
  } else if (key.substr(0, 2) == "..") {
    errs.emplace_back("must not start with '..'");
  }
  return errs;
}

std::string go_string_map(const json::Value& labels) {
  if (!labels.is_object()) {
    return "map[string]string(nil)";
  }
  std::map<std::string, std::string> sorted;
  for (const auto& m : labels.as_object()) {
    sorted[m.key] = m.value.is_string() ? m.value.as_string() : json::serialize(m.value);
  }
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) {
      out += ", ";
    }
    first = false;
    out += api::go_quote(k) + ":" + api::go_quote(v);
  }
  return out + "}";
}

Causes nonnegative(const json::Value& object, std::string_view key, const std::string& path) {
  const json::Value* v = object.get(key);
  if (v == nullptr || !v->is_integral()) {
    return {};
  }
  return api::validate_nonnegative_field(v->as_int(), path);
}

Causes validate_required_selector(const json::Value& selector, const std::string& path,
                                  std::string_view kind_word) {
  Causes out;
  if (selector.is_null()) {
    out.push_back(api::field_required(path));
    return out;
  }
  append(out, api::validate_label_selector(selector, path));
  if (selector["matchLabels"].size() + selector["matchExpressions"].size() == 0) {
    out.push_back(api::field_invalid(path, selector,
                                     fmt::format("empty selector is invalid for {}", kind_word)));
  }
  return out;
}

// ---- resources
// ------------------------------------------------------------------------------------

namespace {

bool is_hugepages(std::string_view name) {
  return name.substr(0, 10) == "hugepages-";
}

// helper.IsNativeResource: no domain, or a *kubernetes.io/ domain.
bool is_native_resource(std::string_view name) {
  auto slash = name.find('/');
  if (slash == std::string_view::npos) {
    return true;
  }
  std::string_view domain = name.substr(0, slash);
  return domain == "kubernetes.io" ||
         (domain.size() > 14 && domain.substr(domain.size() - 14) == ".kubernetes.io");
}

bool overcommit_allowed(std::string_view name) {
  return is_native_resource(name) && !is_hugepages(name);
}

bool is_integer_resource(std::string_view name) {
  // Extended resources and attachable volume counts must be whole numbers.
  return !is_native_resource(name) || name.substr(0, 18) == "attachable-volumes-";
}

Causes validate_container_resource_name(std::string_view name, const std::string& path) {
  Causes out;
  for (const auto& msg : api::is_qualified_name(name)) {
    out.push_back(api::field_invalid(path, name, msg));
  }
  if (!out.empty()) {
    return out;
  }
  if (name.find('/') == std::string_view::npos) {
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !is_hugepages(name)) {
      out.push_back(api::field_invalid(path, name, "must be a standard resource for containers"));
    }
  } else if (!is_native_resource(name)) {
    if (name.substr(0, 9) == "requests.") {
      out.push_back(
          api::field_invalid(path, name, "doesn't follow extended resource name standard"));
    }
  }
  return out;
}

Causes validate_quantity(std::string_view resource, const json::Value& value,
                         const std::string& path, std::optional<api::Quantity>* parsed) {
  Causes out;
  auto q = api::Quantity::from_json(value);
  if (!q) {
    out.push_back(api::field_invalid(path, value, q.error().message));
    return out;
  }
  if (q->sign() < 0) {
    out.push_back(api::field_invalid(path, q->to_string(), "must be greater than or equal to 0"));
  }
  if (is_integer_resource(resource) && q->milli_value() % 1000 != 0) {
    out.push_back(api::field_invalid(path, q->to_string(), "must be an integer"));
  }
  *parsed = *q;
  return out;
}

std::vector<const json::Member*> sorted_members(const json::Value& map) {
  std::vector<const json::Member*> out;
  if (map.is_object()) {
    for (const auto& m : map.as_object()) {
      out.push_back(&m);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
  return out;
}

}  // namespace

Causes validate_resources(const json::Value& resources, const std::string& path) {
  Causes out;
  if (!resources.is_object()) {
    return out;
  }
  std::string lim_path = api::field_child(path, "limits");
  std::string req_path = api::field_child(path, "requests");
  std::map<std::string, api::Quantity> limits;
  for (const json::Member* m : sorted_members(resources["limits"])) {
    std::string p = api::field_key(lim_path, m->key);
    append(out, validate_container_resource_name(m->key, p));
    std::optional<api::Quantity> q;
    append(out, validate_quantity(m->key, m->value, p, &q));
    if (q) {
      limits[m->key] = *q;
    }
  }
  for (const json::Member* m : sorted_members(resources["requests"])) {
    std::string p = api::field_key(req_path, m->key);
    append(out, validate_container_resource_name(m->key, p));
    std::optional<api::Quantity> q;
    append(out, validate_quantity(m->key, m->value, p, &q));
    if (!q) {
      continue;
    }
    auto lim = limits.find(m->key);
    if (lim != limits.end()) {
      if (q->compare(lim->second) != 0 && !overcommit_allowed(m->key)) {
        out.push_back(api::field_invalid(
            req_path, q->to_string(),
            fmt::format("must be equal to {} limit of {}", m->key, lim->second.to_string())));
      } else if (q->compare(lim->second) > 0) {
        out.push_back(api::field_invalid(req_path, q->to_string(),
                                         fmt::format("must be less than or equal to {} limit of {}",
                                                     m->key, lim->second.to_string())));
      }
    } else if (!overcommit_allowed(m->key)) {
      out.push_back(
          api::field_required(lim_path, "Limit must be set for non overcommitable resources"));
    }
  }
  return out;
}

// ---- pod spec
// -------------------------------------------------------------------------------------

namespace {

Causes dns_label(std::string_view value, const std::string& path) {
  Causes out;
  for (const auto& msg : api::is_dns1123_label(value)) {
    out.push_back(api::field_invalid(path, value, msg));
  }
  return out;
}

Causes dns_subdomain(std::string_view value, const std::string& path) {
  Causes out;
  for (const auto& msg : api::is_dns1123_subdomain(value)) {
    out.push_back(api::field_invalid(path, value, msg));
  }
  return out;
}

Causes one_of(const json::Value& object, std::string_view key, const std::string& path,
              const std::vector<std::string>& valid, bool required) {
  Causes out;
  const json::Value* v = object.get(key);
  std::string value = v != nullptr && v->is_string() ? v->as_string() : "";
  if (value.empty()) {
    if (required) {
      out.push_back(api::field_required(path));
    }
    return out;
  }
  if (std::find(valid.begin(), valid.end(), value) == valid.end()) {
    out.push_back(api::field_not_supported(path, value, valid));
  }
  return out;
}

// Whether a volume source member is present (a non-null member other than the name).
std::vector<std::string> volume_sources(const json::Value& vol) {
  static const std::vector<std::string> kSources = {"hostPath",
                                                    "emptyDir",
                                                    "gitRepo",
                                                    "gcePersistentDisk",
                                                    "awsElasticBlockStore",
                                                    "secret",
                                                    "nfs",
                                                    "iscsi",
                                                    "glusterfs",
                                                    "flocker",
                                                    "persistentVolumeClaim",
                                                    "rbd",
                                                    "cinder",
                                                    "cephfs",
                                                    "quobyte",
                                                    "downwardAPI",
                                                    "fc",
                                                    "azureFile",
                                                    "vsphereVolume",
                                                    "photonPersistentDisk",
                                                    "portworxVolume",
                                                    "azureDisk",
                                                    "storageos",
                                                    "configMap",
                                                    "scaleIO",
                                                    "projected",
                                                    "csi",
                                                    "ephemeral",
                                                    "image"};
  std::vector<std::string> out;
  for (const auto& s : kSources) {
    if (const json::Value* v = vol.get(s); v != nullptr && !v->is_null()) {
      out.push_back(s);
    }
  }
  return out;
}

Causes validate_mode(const json::Value& holder, std::string_view key, const std::string& path) {
  Causes out;
  const json::Value* v = holder.get(key);
  if (v != nullptr && v->is_integral() && (v->as_int() > 0777 || v->as_int() < 0)) {
    out.push_back(api::field_invalid(
        path, v->as_int(), "must be a number between 0 and 0777 (octal), both inclusive"));
  }
  return out;
}

Causes validate_volume_source(const json::Value& vol, const std::string& path) {
  Causes out;
  std::vector<std::string> sources = volume_sources(vol);
  if (sources.empty()) {
    out.push_back(api::field_required(path, "must specify a volume type"));
    return out;
  }
  for (std::size_t i = 1; i < sources.size(); ++i) {
    out.push_back(api::field_forbidden(api::field_child(path, sources[i]),
                                       "may not specify more than 1 volume type"));
  }
  const std::string& kind = sources.front();
  const json::Value& s = vol[kind];
  std::string sp = api::field_child(path, kind);
  if (kind == "hostPath") {
    if (s.string_or("path").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "path")));
    }
    static const std::vector<std::string> kTypes = {
        "",       "DirectoryOrCreate", "Directory",  "FileOrCreate", "File",
        "Socket", "CharDevice",        "BlockDevice"};
    if (const json::Value* t = s.get("type");
        t != nullptr && t->is_string() &&
        std::find(kTypes.begin(), kTypes.end(), t->as_string()) == kTypes.end()) {
      out.push_back(api::field_not_supported(api::field_child(sp, "type"), *t, kTypes));
    }
  } else if (kind == "secret") {
    if (s.string_or("secretName").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "secretName")));
    }
    append(out, validate_mode(s, "defaultMode", api::field_child(sp, "defaultMode")));
  } else if (kind == "configMap") {
    if (s.string_or("name").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "name")));
    }
    append(out, validate_mode(s, "defaultMode", api::field_child(sp, "defaultMode")));
  } else if (kind == "persistentVolumeClaim") {
    if (s.string_or("claimName").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "claimName")));
    }
  } else if (kind == "nfs") {
    if (s.string_or("server").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "server")));
    }
    if (s.string_or("path").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "path")));
    }
  } else if (kind == "csi") {
    if (s.string_or("driver").empty()) {
      out.push_back(api::field_required(api::field_child(sp, "driver")));
    }
  } else if (kind == "downwardAPI" || kind == "projected") {
    append(out, validate_mode(s, "defaultMode", api::field_child(sp, "defaultMode")));
  } else if (kind == "emptyDir") {
    if (const json::Value* limit = s.get("sizeLimit"); limit != nullptr && !limit->is_null()) {
      auto q = api::Quantity::from_json(*limit);
      if (!q || q->sign() < 0) {
        out.push_back(api::field_forbidden(api::field_child(sp, "sizeLimit"),
                                           "SizeLimit field must be a valid resource quantity"));
      }
    }
  }
  return out;
}

// ValidateVolumes: returns the valid volume names.
Causes validate_volumes(const json::Value& volumes, const std::string& path,
                        std::set<std::string>& names) {
  Causes out;
  const json::Array& vols = volumes.is_array() ? volumes.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < vols.size(); ++i) {
    const json::Value& vol = vols[i];
    std::string idx = api::field_index(path, i);
    std::string name_path = api::field_child(idx, "name");
    Causes el = validate_volume_source(vol, idx);
    std::string name = str(vol, "name");
    if (name.empty()) {
      el.push_back(api::field_required(name_path));
    } else {
      append(el, dns_label(name, name_path));
    }
    if (names.count(name) != 0) {
      el.push_back(api::field_duplicate(name_path, name));
    }
    if (el.empty()) {
      names.insert(name);
    } else {
      append(out, std::move(el));
    }
  }
  return out;
}

Causes validate_container_ports(const json::Value& ports, const std::string& path) {
  Causes out;
  std::set<std::string> names;
  const json::Array& list = ports.is_array() ? ports.as_array() : kEmptyArray;
  static const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& p = list[i];
    std::string idx = api::field_index(path, i);
    std::string name = str(p, "name");
    if (!name.empty()) {
      auto msgs = port_name_errors(name);
      if (!msgs.empty()) {
        for (const auto& msg : msgs) {
          out.push_back(api::field_invalid(api::field_child(idx, "name"), name, msg));
        }
      } else if (names.count(name) != 0) {
        out.push_back(api::field_duplicate(api::field_child(idx, "name"), name));
      } else {
        names.insert(name);
      }
    }
    std::int64_t cp = num(p, "containerPort");
    if (cp == 0) {
      out.push_back(api::field_required(api::field_child(idx, "containerPort")));
    } else {
      for (const auto& msg : port_num_errors(cp)) {
        out.push_back(api::field_invalid(api::field_child(idx, "containerPort"), cp, msg));
      }
    }
    std::int64_t hp = num(p, "hostPort");
    if (hp != 0) {
      for (const auto& msg : port_num_errors(hp)) {
        out.push_back(api::field_invalid(api::field_child(idx, "hostPort"), hp, msg));
      }
    }
    append(out, one_of(p, "protocol", api::field_child(idx, "protocol"), kProtocols, true));
  }
  return out;
}

std::vector<std::string> env_name_errors(std::string_view name) {
  // RelaxedEnvironmentVariableValidation (beta, on in 1.32): printable ASCII other than '='.
  std::vector<std::string> errs;
  if (name.empty()) {
    errs.push_back("environment variable name " + api::empty_error());
  }
  for (unsigned char c : name) {
    if (c > 127 || std::isprint(c) == 0 || c == '=') {
      errs.emplace_back(
          "a valid environment variable name must consist only of printable ASCII "
          "characters other than '='");
      break;
    }
  }
  return errs;
}

Causes validate_key_selector(const json::Value& sel, const std::string& path, bool secret) {
  Causes out;
  std::string name = str(sel, "name");
  for (const auto& msg : api::name_is_dns_subdomain(name, false)) {
    out.push_back(api::field_invalid(api::field_child(path, "name"), name, msg));
  }
  std::string key = str(sel, "key");
  if (key.empty()) {
    out.push_back(api::field_required(api::field_child(path, "key")));
  } else {
    for (const auto& msg : config_map_key_errors(key)) {
      out.push_back(api::field_invalid(api::field_child(path, "key"), key, msg));
    }
  }
  (void)secret;
  return out;
}

Causes validate_field_ref(const json::Value& ref, const std::string& path) {
  static const std::vector<std::string> kPaths = {"metadata.name",
                                                  "metadata.namespace",
                                                  "metadata.uid",
                                                  "spec.nodeName",
                                                  "spec.serviceAccountName",
                                                  "status.hostIP",
                                                  "status.hostIPs",
                                                  "status.podIP",
                                                  "status.podIPs"};
  Causes out;
  std::string api_version = str(ref, "apiVersion");
  std::string field_path = str(ref, "fieldPath");
  if (api_version.empty()) {
    out.push_back(api::field_required(api::field_child(path, "apiVersion")));
    return out;
  }
  if (field_path.empty()) {
    out.push_back(api::field_required(api::field_child(path, "fieldPath")));
    return out;
  }
  auto subscripted = [&](std::string_view prefix) {
    return field_path.size() > prefix.size() + 3 &&
           field_path.compare(0, prefix.size(), prefix) == 0 && field_path[prefix.size()] == '[';
  };
  if (subscripted("metadata.labels") || subscripted("metadata.annotations")) {
    return out;
  }
  if (std::find(kPaths.begin(), kPaths.end(), field_path) == kPaths.end()) {
    out.push_back(
        api::field_not_supported(api::field_child(path, "fieldPath"), field_path, kPaths));
  }
  return out;
}

Causes validate_env(const json::Value& env, const std::string& path) {
  Causes out;
  const json::Array& list = env.is_array() ? env.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& ev = list[i];
    std::string idx = api::field_index(path, i);
    std::string name = str(ev, "name");
    if (name.empty()) {
      out.push_back(api::field_required(api::field_child(idx, "name")));
    }
    for (const auto& msg : env_name_errors(name)) {
      out.push_back(api::field_invalid(api::field_child(idx, "name"), name, msg));
    }
    const json::Value* from = ev.get("valueFrom");
    if (from == nullptr || from->is_null()) {
      continue;
    }
    std::string fp = api::field_child(idx, "valueFrom");
    int sources = 0;
    if (const json::Value* r = from->get("fieldRef"); r != nullptr && !r->is_null()) {
      ++sources;
      append(out, validate_field_ref(*r, api::field_child(fp, "fieldRef")));
    }
    if (const json::Value* r = from->get("resourceFieldRef"); r != nullptr && !r->is_null()) {
      ++sources;
      if (r->string_or("resource").empty()) {
        out.push_back(api::field_required(
            api::field_child(api::field_child(fp, "resourceFieldRef"), "resource")));
      }
    }
    if (const json::Value* r = from->get("configMapKeyRef"); r != nullptr && !r->is_null()) {
      ++sources;
      append(out, validate_key_selector(*r, api::field_child(fp, "configMapKeyRef"), false));
    }
    if (const json::Value* r = from->get("secretKeyRef"); r != nullptr && !r->is_null()) {
      ++sources;
      append(out, validate_key_selector(*r, api::field_child(fp, "secretKeyRef"), true));
    }
    if (sources == 0) {
      out.push_back(api::field_invalid(fp, "",
                                       "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                       "`configMapKeyRef` or `secretKeyRef`"));
    } else if (!ev.string_or("value").empty()) {
      out.push_back(api::field_invalid(fp, "", "may not be specified when `value` is not empty"));
    } else if (sources > 1) {
      out.push_back(
          api::field_invalid(fp, "", "may not have more than one field specified at a time"));
    }
  }
  return out;
}

Causes validate_env_from(const json::Value& env_from, const std::string& path) {
  Causes out;
  const json::Array& list = env_from.is_array() ? env_from.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& ev = list[i];
    std::string idx = api::field_index(path, i);
    if (std::string prefix = str(ev, "prefix"); !prefix.empty()) {
      for (const auto& msg : env_name_errors(prefix)) {
        out.push_back(api::field_invalid(api::field_child(idx, "prefix"), prefix, msg));
      }
    }
    int sources = 0;
    for (const char* key : {"configMapRef", "secretRef"}) {
      if (const json::Value* r = ev.get(key); r != nullptr && !r->is_null()) {
        ++sources;
        std::string name = str(*r, "name");
        for (const auto& msg : api::name_is_dns_subdomain(name, false)) {
          out.push_back(
              api::field_invalid(api::field_child(api::field_child(idx, key), "name"), name, msg));
        }
      }
    }
    if (sources == 0) {
      out.push_back(
          api::field_invalid(idx, "", "must specify one of: `configMapRef` or `secretRef`"));
    } else if (sources > 1) {
      out.push_back(
          api::field_invalid(idx, "", "may not have more than one field specified at a time"));
    }
  }
  return out;
}

Causes validate_volume_mounts(const json::Value& mounts, const std::set<std::string>& volumes,
                              const std::string& path) {
  Causes out;
  std::set<std::string> mountpoints;
  const json::Array& list = mounts.is_array() ? mounts.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& m = list[i];
    std::string idx = api::field_index(path, i);
    std::string name = str(m, "name");
    if (name.empty()) {
      out.push_back(api::field_required(api::field_child(idx, "name")));
    }
    if (volumes.count(name) == 0) {
      out.push_back(api::field_not_found(api::field_child(idx, "name"), name));
    }
    std::string mount_path = str(m, "mountPath");
    if (mount_path.empty()) {
      out.push_back(api::field_required(api::field_child(idx, "mountPath")));
    }
    if (mountpoints.count(mount_path) != 0) {
      out.push_back(
          api::field_invalid(api::field_child(idx, "mountPath"), mount_path, "must be unique"));
    }
    mountpoints.insert(mount_path);
    std::string sub = str(m, "subPath");
    if (!sub.empty()) {
      if (sub.front() == '/') {
        out.push_back(
            api::field_invalid(api::field_child(path, "subPath"), sub, "must be a relative path"));
      }
      std::size_t start = 0;
      while (start <= sub.size()) {
        std::size_t end = sub.find('/', start);
        std::string part =
            sub.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part == "..") {
          out.push_back(
              api::field_invalid(api::field_child(path, "subPath"), sub, "must not contain '..'"));
          break;
        }
        if (end == std::string::npos) {
          break;
        }
        start = end + 1;
      }
    }
  }
  return out;
}

Causes validate_handler(const json::Value& handler, const std::string& path, bool lifecycle) {
  Causes out;
  int handlers = 0;
  std::vector<std::string> kinds = {"exec", "httpGet", "tcpSocket"};
  if (lifecycle) {
    kinds.emplace_back("sleep");
  } else {
    kinds.emplace_back("grpc");
  }
  for (const auto& kind : kinds) {
    const json::Value* h = handler.get(kind);
    if (h == nullptr || h->is_null()) {
      continue;
    }
    std::string hp = api::field_child(path, kind);
    if (handlers > 0) {
      out.push_back(api::field_forbidden(hp, "may not specify more than 1 handler type"));
      continue;
    }
    ++handlers;
    if (kind == "exec") {
      if ((*h)["command"].size() == 0) {
        out.push_back(api::field_required(api::field_child(hp, "command")));
      }
    } else if (kind == "httpGet") {
      if (h->string_or("path").empty()) {
        out.push_back(api::field_required(api::field_child(hp, "path")));
      }
      append(out, validate_port_num_or_name((*h)["port"], api::field_child(hp, "port")));
      append(out, one_of(*h, "scheme", api::field_child(hp, "scheme"), {"HTTP", "HTTPS"}, false));
    } else if (kind == "tcpSocket") {
      append(out, validate_port_num_or_name((*h)["port"], api::field_child(hp, "port")));
    } else if (kind == "grpc") {
      std::int64_t port = num(*h, "port");
      for (const auto& msg : port_num_errors(port)) {
        out.push_back(api::field_invalid(api::field_child(hp, "port"), port, msg));
      }
    } else if (kind == "sleep") {
      std::int64_t seconds = num(*h, "seconds");
      if (seconds < 0) {
        out.push_back(api::field_invalid(
            api::field_child(hp, "seconds"), seconds,
            "must be non-negative and less than terminationGracePeriodSeconds."));
      }
    }
  }
  if (handlers == 0) {
    out.push_back(api::field_required(path, "must specify a handler type"));
  }
  return out;
}

Causes validate_probe(const json::Value& container, std::string_view key, const std::string& path,
                      bool init) {
  Causes out;
  const json::Value* probe = container.get(key);
  if (probe == nullptr || probe->is_null()) {
    return out;
  }
  if (init) {
    out.push_back(api::field_forbidden(
        path, "may not be set for init containers without restartPolicy=Always"));
    return out;
  }
  append(out, validate_handler(*probe, path, false));
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                        "successThreshold", "failureThreshold"}) {
    append(out, nonnegative(*probe, f, api::field_child(path, f)));
  }
  if (const json::Value* t = probe->get("terminationGracePeriodSeconds");
      t != nullptr && t->is_integral()) {
    if (key == "readinessProbe") {
      out.push_back(api::field_invalid(api::field_child(path, "terminationGracePeriodSeconds"),
                                       t->as_int(), "must not be set for readinessProbes"));
    } else if (t->as_int() <= 0) {
      out.push_back(api::field_invalid(api::field_child(path, "terminationGracePeriodSeconds"),
                                       t->as_int(), "must be greater than 0"));
    }
  }
  if (key != "readinessProbe") {
    std::int64_t success = num(*probe, "successThreshold");
    if (success != 1) {
      out.push_back(
          api::field_invalid(api::field_child(path, "successThreshold"), success, "must be 1"));
    }
  }
  return out;
}

Causes validate_container_common(const json::Value& c, const std::set<std::string>& volumes,
                                 const std::string& path) {
  Causes out;
  std::string name_path = api::field_child(path, "name");
  std::string name = str(c, "name");
  if (name.empty()) {
    out.push_back(api::field_required(name_path));
  } else {
    append(out, dns_label(name, name_path));
  }
  std::string image = str(c, "image");
  auto trimmed = [](std::string_view s) {
    auto b = s.find_first_not_of(" \t\n\r\f\v");
    if (b == std::string_view::npos) {
      return std::string_view();
    }
    auto e = s.find_last_not_of(" \t\n\r\f\v");
    return s.substr(b, e - b + 1);
  };
  if (trimmed(image).size() != image.size()) {
    out.push_back(api::field_invalid(api::field_child(path, "image"), image,
                                     "must not have leading or trailing whitespace"));
  }
  append(out, validate_container_ports(c["ports"], api::field_child(path, "ports")));
  append(out, validate_env(c["env"], api::field_child(path, "env")));
  append(out, validate_env_from(c["envFrom"], api::field_child(path, "envFrom")));
  append(out, validate_volume_mounts(c["volumeMounts"], volumes,
                                     api::field_child(path, "volumeMounts")));
  append(out, one_of(c, "imagePullPolicy", api::field_child(path, "imagePullPolicy"),
                     {"Always", "IfNotPresent", "Never"}, true));
  append(out, validate_resources(c["resources"], api::field_child(path, "resources")));
  std::string tmp = str(c, "terminationMessagePolicy");
  if (tmp.empty()) {
    out.push_back(api::field_required(api::field_child(path, "terminationMessagePolicy"),
                                      "must be 'File' or 'FallbackToLogsOnError'"));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    out.push_back(api::field_not_supported(api::field_child(path, "terminationMessagePolicy"), tmp,
                                           {"File", "FallbackToLogsOnError"}));
  }
  return out;
}

Causes validate_lifecycle(const json::Value& c, const std::string& path) {
  Causes out;
  const json::Value* lc = c.get("lifecycle");
  if (lc == nullptr || lc->is_null()) {
    return out;
  }
  for (const char* hook : {"postStart", "preStop"}) {
    if (const json::Value* h = lc->get(hook); h != nullptr && !h->is_null()) {
      append(out, validate_handler(*h, api::field_child(path, hook), true));
    }
  }
  return out;
}

Causes validate_containers(const json::Value& containers, const std::set<std::string>& volumes,
                           const std::string& path) {
  Causes out;
  const json::Array& list = containers.is_array() ? containers.as_array() : kEmptyArray;
  if (list.empty()) {
    out.push_back(api::field_required(path));
    return out;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& c = list[i];
    std::string idx = api::field_index(path, i);
    append(out, validate_container_common(c, volumes, idx));
    std::string name = str(c, "name");
    if (names.count(name) != 0) {
      out.push_back(api::field_duplicate(api::field_child(idx, "name"), name));
    } else {
      names.insert(name);
    }
    if (str(c, "image").empty()) {
      out.push_back(api::field_required(api::field_child(idx, "image")));
    }
    append(out, validate_lifecycle(c, api::field_child(idx, "lifecycle")));
    append(out, validate_probe(c, "livenessProbe", api::field_child(idx, "livenessProbe"), false));
    append(out,
           validate_probe(c, "readinessProbe", api::field_child(idx, "readinessProbe"), false));
    append(out, validate_probe(c, "startupProbe", api::field_child(idx, "startupProbe"), false));
    if (const json::Value* rp = c.get("restartPolicy"); rp != nullptr && !rp->is_null()) {
      out.push_back(api::field_forbidden(api::field_child(idx, "restartPolicy"),
                                         "may not be set for non-init containers"));
    }
  }
  return out;
}

Causes validate_init_containers(const json::Value& init, const json::Value& containers,
                                const std::set<std::string>& volumes, const std::string& path) {
  Causes out;
  const json::Array& list = init.is_array() ? init.as_array() : kEmptyArray;
  std::set<std::string> names;
  for (const json::Value& c : containers.is_array() ? containers.as_array() : kEmptyArray) {
    names.insert(str(c, "name"));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& c = list[i];
    std::string idx = api::field_index(path, i);
    append(out, validate_container_common(c, volumes, idx));
    std::string name = str(c, "name");
    if (names.count(name) != 0) {
      out.push_back(api::field_duplicate(api::field_child(idx, "name"), name));
    } else if (!name.empty()) {
      names.insert(name);
    }
    if (str(c, "image").empty()) {
      out.push_back(api::field_required(api::field_child(idx, "image")));
    }
    bool sidecar = str(c, "restartPolicy") == "Always";
    if (const json::Value* rp = c.get("restartPolicy");
        rp != nullptr && !rp->is_null() && !sidecar) {
      out.push_back(
          api::field_not_supported(api::field_child(idx, "restartPolicy"), *rp, {"Always"}));
    }
    if (sidecar) {
      append(out, validate_lifecycle(c, api::field_child(idx, "lifecycle")));
      append(out,
             validate_probe(c, "livenessProbe", api::field_child(idx, "livenessProbe"), false));
      append(out,
             validate_probe(c, "readinessProbe", api::field_child(idx, "readinessProbe"), false));
      append(out, validate_probe(c, "startupProbe", api::field_child(idx, "startupProbe"), false));
    } else {
      if (const json::Value* lc = c.get("lifecycle"); lc != nullptr && !lc->is_null()) {
        out.push_back(api::field_forbidden(api::field_child(idx, "lifecycle"),
                                           "may not be set for init containers without "
                                           "restartPolicy=Always"));
      }
      for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
        if (const json::Value* p = c.get(probe); p != nullptr && !p->is_null()) {
          out.push_back(api::field_forbidden(api::field_child(idx, probe),
                                             "may not be set for init containers without "
                                             "restartPolicy=Always"));
        }
      }
    }
  }
  return out;
}

// checkHostPortConflicts over all containers of a list.
Causes host_port_conflicts(const json::Value& containers, const std::string& path) {
  Causes out;
  std::set<std::string> seen;
  const json::Array& list = containers.is_array() ? containers.as_array() : kEmptyArray;
  for (std::size_t ci = 0; ci < list.size(); ++ci) {
    const json::Array& ports = arr(list[ci], "ports");
    for (std::size_t pi = 0; pi < ports.size(); ++pi) {
      std::int64_t hp = num(ports[pi], "hostPort");
      if (hp == 0) {
        continue;
      }
      std::string key =
          fmt::format("{}/{}/{}", str(ports[pi], "protocol"), str(ports[pi], "hostIP"), hp);
      if (seen.count(key) != 0) {
        out.push_back(api::field_duplicate(
            api::field_child(
                api::field_index(api::field_child(api::field_index(path, ci), "ports"), pi),
                "hostPort"),
            key));
      }
      seen.insert(key);
    }
  }
  return out;
}

}  // namespace

Causes validate_tolerations(const json::Value& tolerations, const std::string& path) {
  Causes out;
  const json::Array& list = tolerations.is_array() ? tolerations.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& t = list[i];
    std::string idx = api::field_index(path, i);
    std::string key = str(t, "key");
    std::string op = str(t, "operator");
    std::string effect = str(t, "effect");
    std::string value = str(t, "value");
    if (!key.empty()) {
      append(out, api::validate_label_name(key, api::field_child(idx, "key")));
    }
    if (key.empty() && op != "Exists") {
      out.push_back(api::field_invalid(api::field_child(idx, "operator"), op,
                                       "operator must be Exists when `key` is empty, which means "
                                       "\"match all values and all keys\""));
    }
    if (const json::Value* ts = t.get("tolerationSeconds");
        ts != nullptr && !ts->is_null() && effect != "NoExecute") {
      out.push_back(
          api::field_invalid(api::field_child(idx, "effect"), effect,
                             "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op == "Equal" || op.empty()) {
      auto errs = api::is_valid_label_value(value);
      if (!errs.empty()) {
        std::string joined;
        for (const auto& e : errs) {
          joined += (joined.empty() ? "" : ";") + e;
        }
        out.push_back(api::field_invalid(api::field_child(idx, "operator"), value, joined));
      }
    } else if (op == "Exists") {
      if (!value.empty()) {
        out.push_back(api::field_invalid(api::field_child(idx, "operator"), t,
                                         "value must be empty when `operator` is 'Exists'"));
      }
    } else {
      out.push_back(
          api::field_not_supported(api::field_child(idx, "operator"), op, {"Equal", "Exists"}));
    }
    if (!effect.empty() && effect != "NoSchedule" && effect != "PreferNoSchedule" &&
        effect != "NoExecute") {
      out.push_back(api::field_not_supported(api::field_child(idx, "effect"), effect,
                                             {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
  }
  return out;
}

Causes validate_pod_spec(const json::Value& spec, const std::string& path,
                         const PodSpecOptions& options) {
  Causes out;
  std::set<std::string> volumes;
  append(out, validate_volumes(spec["volumes"], api::field_child(path, "volumes"), volumes));
  append(out,
         validate_containers(spec["containers"], volumes, api::field_child(path, "containers")));
  append(out, validate_init_containers(spec["initContainers"], spec["containers"], volumes,
                                       api::field_child(path, "initContainers")));
  append(out, host_port_conflicts(spec["containers"], api::field_child(path, "containers")));
  append(out, one_of(spec, "restartPolicy", api::field_child(path, "restartPolicy"),
                     {"Always", "OnFailure", "Never"}, true));
  append(out, one_of(spec, "dnsPolicy", api::field_child(path, "dnsPolicy"),
                     {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}, true));
  if (str(spec, "dnsPolicy") == "None" && unset(spec.get("dnsConfig"))) {
    out.push_back(api::field_required(api::field_child(path, "dnsConfig"),
                                      "must provide `dnsConfig` when `dnsPolicy` is None"));
  }
  append(out, api::validate_labels(spec["nodeSelector"], api::field_child(path, "nodeSelector")));
  const json::Array& secrets = arr(spec, "imagePullSecrets");
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    if (secrets[i].string_or("name").empty()) {
      out.push_back(api::field_required(api::field_child(
          api::field_index(api::field_child(path, "imagePullSecrets"), i), "name")));
    }
  }
  if (std::string sa = str(spec, "serviceAccountName"); !sa.empty()) {
    for (const auto& msg : api::name_is_dns_subdomain(sa, false)) {
      out.push_back(api::field_invalid(api::field_child(path, "serviceAccountName"), sa, msg));
    }
  }
  if (std::string node = str(spec, "nodeName"); !node.empty() && !options.is_template) {
    for (const auto& msg : api::name_is_dns_subdomain(node, false)) {
      out.push_back(api::field_invalid(api::field_child(path, "nodeName"), node, msg));
    }
  }
  if (const json::Value* ads = spec.get("activeDeadlineSeconds");
      ads != nullptr && ads->is_integral()) {
    std::int64_t v = ads->as_int();
    if (v < 1 || v > 2147483647) {
      out.push_back(api::field_invalid(api::field_child(path, "activeDeadlineSeconds"), v,
                                       inclusive_range_error(1, 2147483647)));
    }
  }
  if (std::string host = str(spec, "hostname"); !host.empty()) {
    append(out, dns_label(host, api::field_child(path, "hostname")));
  }
  if (std::string sub = str(spec, "subdomain"); !sub.empty()) {
    append(out, dns_label(sub, api::field_child(path, "subdomain")));
  }
  append(out, validate_tolerations(spec["tolerations"], api::field_child(path, "tolerations")));
  if (std::string pc = str(spec, "priorityClassName"); !pc.empty()) {
    append(out, dns_subdomain(pc, api::field_child(path, "priorityClassName")));
  }
  if (std::string rc = str(spec, "runtimeClassName"); !rc.empty()) {
    append(out, dns_subdomain(rc, api::field_child(path, "runtimeClassName")));
  }
  append(out, one_of(spec, "preemptionPolicy", api::field_child(path, "preemptionPolicy"),
                     {"Never", "PreemptLowerPriority"}, false));
  if (options.is_template && spec["ephemeralContainers"].size() > 0) {
    out.push_back(api::field_forbidden(api::field_child(path, "ephemeralContainers"),
                                       "ephemeral containers not allowed in pod template"));
  }
  return out;
}

Causes validate_pod_template(const json::Value& template_spec, const std::string& path) {
  Causes out;
  const json::Value& meta = template_spec["metadata"];
  std::string meta_path = api::field_child(path, "metadata");
  append(out, api::validate_labels(meta["labels"], api::field_child(meta_path, "labels")));
  append(out, api::validate_annotations(meta["annotations"],
                                        api::field_child(meta_path, "annotations")));
  PodSpecOptions opts;
  opts.is_template = true;
  append(out, validate_pod_spec(template_spec["spec"], api::field_child(path, "spec"), opts));
  return out;
}

// ---- printing ---------------------------------------------------------------------------------

std::string format_labels(const json::Value& labels) {
  if (!labels.is_object() || labels.as_object().empty()) {
    return "<none>";
  }
  std::map<std::string, std::string> sorted;
  for (const auto& m : labels.as_object()) {
    sorted[m.key] = m.value.is_string() ? m.value.as_string() : json::serialize(m.value);
  }
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) {
      out += ",";
    }
    out += k + "=" + v;
  }
  return out;
}

std::string format_label_selector(const json::Value& selector) {
  auto s = api::LabelSelector::from_label_selector(selector);
  if (!s) {
    return "<error>";
  }
  std::string text = s->to_string();
  return text.empty() ? "<none>" : text;
}

std::string selector_string_or_invalid(const json::Value& selector) {
  auto s = api::LabelSelector::from_label_selector(selector);
  if (!s) {
    return "<invalid>";
  }
  return s->to_string();
}

std::pair<std::string, std::string> container_cells(const json::Value& containers) {
  std::string names;
  std::string images;
  const json::Array& list = containers.is_array() ? containers.as_array() : kEmptyArray;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) {
      names += ",";
      images += ",";
    }
    names += list[i].string_or("name");
    images += list[i].string_or("image");
  }
  return {names, images};
}

PrinterColumn column(std::string name, std::string type, int priority, std::string description,
                     std::string format) {
  PrinterColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.format = std::move(format);
  c.description = std::move(description);
  c.priority = priority;
  return c;
}

json::Value int_cell(const json::Value& object, std::string_view key) {
  return json::Value(num(object, key, 0));
}

std::string bool_ptr_text(const json::Value* value) {
  if (value == nullptr || !value->is_bool()) {
    return "<unset>";
  }
  return value->as_bool() ? "True" : "False";
}

std::string int_or_string_text(const json::Value& value) {
  if (value.is_string()) {
    return value.as_string();
  }
  if (value.is_integral()) {
    return std::to_string(value.as_int());
  }
  return "0";
}

std::string load_balancer_text(const json::Value& load_balancer) {
  std::set<std::string> result;
  for (const json::Value& ing : arr(load_balancer, "ingress")) {
    if (!ing.string_or("ip").empty()) {
      result.insert(str(ing, "ip"));
    } else if (!ing.string_or("hostname").empty()) {
      result.insert(str(ing, "hostname"));
    }
  }
  std::string out;
  for (const auto& r : result) {
    if (!out.empty()) {
      out += ",";
    }
    out += r;
  }
  return out;
}

std::string age_of(const json::Value& object, std::string_view key, TimePoint now) {
  std::string_view ts = object.string_or(key);
  if (ts.empty()) {
    return "<unknown>";
  }
  auto t = api::parse_rfc3339(ts);
  if (!t) {
    return "<unknown>";
  }
  return api::translate_timestamp_since(*t, api::to_timestamp(now));
}

bool condition_true(const json::Value& conditions, std::string_view type) {
  for (const json::Value& c : conditions.is_array() ? conditions.as_array() : kEmptyArray) {
    if (c.string_or("type") == type) {
      return c.string_or("status") == "True";
    }
  }
  return false;
}

json::Value name_cell(const json::Value& object) {
  return json::Value(object["metadata"].string_or("name"));
}

// ---- base64 ----------------------------------------------------------------------------------

namespace {
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
             (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
             static_cast<unsigned char>(data[i + 2]);
    out.push_back(kB64[(n >> 18) & 63]);
    out.push_back(kB64[(n >> 12) & 63]);
    out.push_back(kB64[(n >> 6) & 63]);
    out.push_back(kB64[n & 63]);
  }
  if (i < data.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (i + 1 < data.size()) {
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    out.push_back(kB64[(n >> 18) & 63]);
    out.push_back(kB64[(n >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? kB64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, std::string* error) {
  // Go's decoder skips \r and \n; any other character outside the alphabet, or misplaced
  // padding, is reported at its byte offset.
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t quantum = 0;  // characters in the current 4-character group
  std::size_t pads = 0;
  auto fail = [&](std::size_t at) -> std::optional<std::string> {
    if (error != nullptr) {
      *error = fmt::format("illegal base64 data at input byte {}", at);
    }
    return std::nullopt;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      continue;
    }
    if (c == '=') {
      if (quantum < 2) {
        return fail(i);
      }
      ++pads;
      ++quantum;
      if (quantum == 4) {
        // Only newlines may follow the padding.
        for (std::size_t j = i + 1; j < text.size(); ++j) {
          if (text[j] != '\r' && text[j] != '\n') {
            return fail(j);
          }
        }
        if (pads == 2 && (acc & 0xF) != 0) {
          // Go accepts non-zero trailing bits in StdEncoding (not Strict); keep going.
        }
        break;
      }
      continue;
    }
    if (pads > 0) {
      return fail(i);
    }
    auto pos = kB64.find(c);
    if (pos == std::string_view::npos) {
      return fail(i);
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
    quantum = (quantum + 1) % 4;
  }
  if (pads == 0 && quantum == 1) {
    return fail(text.size());
  }
  if (pads > 0 && quantum != 0 && quantum != 4) {
    return fail(text.size());
  }
  if (pads == 0 && quantum != 0) {
    // Unpadded input: Go's StdEncoding requires padding.
    return fail(text.size());
  }
  return out;
}

// ---- IntOrString rules (apps validation helpers) ---------------------------------------------

namespace {

std::optional<std::int64_t> percent_value(const json::Value& v) {
  if (!v.is_string() || !api::is_valid_percent(v.as_string()).empty()) {
    return std::nullopt;
  }
  const std::string& s = v.as_string();
  return std::stoll(s.substr(0, s.size() - 1));
}

}  // namespace

std::int64_t int_or_percent(const json::Value& v) {
  if (auto p = percent_value(v)) {
    return *p;
  }
  if (v.is_integral()) {
    return v.as_int();
  }
  if (v.is_string()) {
    // IntValue() of a string parses it as a number (0 when it is not one).
    try {
      return std::stoll(v.as_string());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

Causes positive_int_or_percent(const json::Value& v, const std::string& path) {
  Causes out;
  if (v.is_string()) {
    for (const auto& msg : api::is_valid_percent(v.as_string())) {
      out.push_back(api::field_invalid(path, v, msg));
    }
  } else if (v.is_integral()) {
    append(out, api::validate_nonnegative_field(v.as_int(), path));
  } else if (!v.is_null()) {
    out.push_back(api::field_invalid(path, v, "must be an integer or percentage (e.g '5%')"));
  }
  return out;
}

Causes not_more_than_100(const json::Value& v, const std::string& path) {
  Causes out;
  if (auto p = percent_value(v); p && *p > 100) {
    out.push_back(api::field_invalid(path, v, "must not be greater than 100%"));
  }
  return out;
}

}  // namespace skiff::registry::strategies
