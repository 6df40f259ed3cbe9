// SPDX-License-Identifier: Apache-2.0
// The scale subresource (autoscaling/v1 Scale over spec.replicas) and server-side apply's create.

#include <algorithm>

#include <fmt/format.h>

#include "skiff/base/yaml.hpp"

#include "glue.hpp"
#include "objects.hpp"
#include "registry_impl.hpp"

namespace skiff::registry {

using boost::asio::awaitable;

namespace {

// Reads a dotted JSON path (".spec.replicas") of a CRD scale declaration.
const json::Value* at_path(const json::Value& object, std::string_view path) {
  const json::Value* v = &object;
  std::size_t pos = path.starts_with('.') ? 1 : 0;
  while (pos < path.size() && v != nullptr) {
    std::size_t dot = path.find('.', pos);
    std::string_view part = path.substr(pos, dot == std::string_view::npos ? path.npos : dot - pos);
    v = v->get(part);
    pos = dot == std::string_view::npos ? path.size() : dot + 1;
  }
  return v;
}

void set_path(json::Value& object, std::string_view path, json::Value value) {
  json::Value* v = &object;
  std::size_t pos = path.starts_with('.') ? 1 : 0;
  while (true) {
    std::size_t dot = path.find('.', pos);
    std::string_view part = path.substr(pos, dot == std::string_view::npos ? path.npos : dot - pos);
    if (dot == std::string_view::npos) {
      (*v)[part] = std::move(value);
      return;
    }
    v = &(*v)[part];
    pos = dot + 1;
  }
}

std::string selector_of(const ResourceType& type, const json::Value& object) {
  if (type.scale) {
    if (type.scale->label_selector.empty()) {
      return {};
    }
    const json::Value* s = at_path(object, type.scale->label_selector);
    return s != nullptr && s->is_string() ? s->as_string() : std::string();
  }
  const json::Value& selector = object["spec"]["selector"];
  if (type.gvk.kind == "ReplicationController") {
    // A plain map: "k=v,k2=v2" in key order (upstream sorts).
    std::vector<std::pair<std::string, std::string>> pairs;
    if (selector.is_object()) {
      for (const auto& m : selector.as_object()) {
        pairs.emplace_back(m.key, m.value.is_string() ? m.value.as_string() : "");
      }
    }
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& [k, v] : pairs) {
      out += (out.empty() ? "" : ",") + k + "=" + v;
    }
    return out;
  }
  return detail::selector_string(selector);
}

}  // namespace

Result<json::Value> Registry::Impl::to_scale(const ResourceType& type,
                                             const json::Value& object) const {
  if (type.subresource("scale") == nullptr) {
    return errors::not_found("the server could not find the requested resource");
  }
  const json::Value& meta = object["metadata"];
  json::Value scale_meta = json::Object{};
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (const json::Value* v = meta.get(k)) {
      scale_meta[k] = *v;
    }
  }
  std::int64_t spec_replicas = 0;
  std::int64_t status_replicas = 0;
  if (type.scale) {
    const json::Value* s = at_path(object, type.scale->spec_replicas);
    spec_replicas = s != nullptr && s->is_integral() ? s->as_int() : 0;
    const json::Value* st = at_path(object, type.scale->status_replicas);
    status_replicas = st != nullptr && st->is_integral() ? st->as_int() : 0;
  } else {
    spec_replicas = object["spec"].int_or("replicas", 1);
    status_replicas = object["status"].int_or("replicas", 0);
  }
  json::Value status = json::Object{{"replicas", status_replicas}};
  std::string selector = selector_of(type, object);
  if (!selector.empty()) {
    status["selector"] = selector;
  }
  return json::Value(json::Object{{"kind", "Scale"},
                                  {"apiVersion", "autoscaling/v1"},
                                  {"metadata", std::move(scale_meta)},
                                  {"spec", json::Object{{"replicas", spec_replicas}}},
                                  {"status", std::move(status)}});
}

awaitable<Result<WriteResult>> Registry::Impl::update_scale(ResourceTypePtr type, std::string ns,
                                                            std::string name, json::Value scale,
                                                            WriteOptions options) {
  if (!scale.is_object() || scale.string_or("kind", "Scale") != "Scale") {
    co_return errors::bad_request("the body of the request must be an autoscaling/v1 Scale");
  }
  // ScaleSpec.replicas is `omitempty` upstream: Go clients leave a 0 out (kubectl scale
  // --current-replicas=N --replicas=0 PUTs `"spec":{}`), so a missing value is 0.
  const json::Value* given = scale.get_path({"spec", "replicas"});
  if (given != nullptr && !given->is_null() && !given->is_integral()) {
    co_return errors::bad_request(fmt::format(
        "Scale in version \"v1\" cannot be handled as a Scale: spec.replicas: expected an "
        "integer, got {}",
        json::type_name(given->type())));
  }
  const std::int64_t replicas = given != nullptr && given->is_integral() ? given->as_int() : 0;
  if (replicas < 0) {
    std::string detail =
        fmt::format("Invalid value: {}: must be greater than or equal to 0", replicas);
    Error e = errors::make(Reason::kInvalid,
                           fmt::format("Scale.autoscaling {} is invalid: spec.replicas: {}",
                                       json::quote(name), detail));
    e.causes.push_back({"FieldValueInvalid", detail, "spec.replicas"});
    e.name = name;
    e.group = "autoscaling";
    e.kind = "Scale";
    co_return e;
  }
  std::int64_t current = 0;
  auto old = read_object(*type, ns, name, &current);
  if (!old) {
    co_return old.error();
  }
  auto wanted = detail::parse_resource_version(scale["metadata"].string_or("resourceVersion"));
  if (!wanted) {
    co_return errors::bad_request(wanted.error().message);
  }
  if (*wanted != 0 && *wanted != current) {
    co_return detail::modified(*type, name);
  }
  json::Value updated = *old;
  if (type->scale) {
    set_path(updated, type->scale->spec_replicas, replicas);
  } else {
    updated["spec"]["replicas"] = replicas;
  }
  auto result = co_await store_update(type, ns, name, std::move(updated), *old, current, options, "");
  if (!result) {
    co_return result;
  }
  auto out = to_scale(*type, result->object);
  if (!out) {
    co_return out.error();
  }
  result->object = std::move(*out);
  co_return result;
}

Result<json::Value> Registry::Impl::parse_apply_body(const ResourceType& type, std::string_view body,
                                                     std::string_view name,
                                                     std::string_view ns) const {
  auto config = json::parse(body);
  if (!config) {
    config = yaml::parse(body);
  }
  if (!config) {
    return errors::bad_request(fmt::format("error decoding YAML: {}", config.error().message));
  }
  if (!config->is_object()) {
    return errors::bad_request("the apply configuration must be an object");
  }
  if (auto ok = check_type_meta(type, *config); !ok) {
    return ok.error();
  }
  json::Value& meta = (*config)["metadata"];
  if (!meta.is_object()) {
    meta = json::Value::object();
  }
  std::string_view body_name = meta.string_or("name");
  if (!body_name.empty() && body_name != name) {
    return errors::bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  }
  meta["name"] = std::string(name);
  if (type.namespaced) {
    std::string_view body_ns = meta.string_or("namespace");
    if (!body_ns.empty() && body_ns != ns) {
      return errors::bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = std::string(ns);
  }
  return config;
}

awaitable<Result<WriteResult>> Registry::Impl::apply_create(ResourceTypePtr type, std::string ns,
                                                            std::string name, std::string body,
                                                            PatchOptions patch,
                                                            WriteOptions options) {
  if (options.field_manager.empty()) {
    co_return errors::bad_request(
        "PATCH, application/apply-patch+yaml requires fieldManager to be set");
  }
  auto config = parse_apply_body(*type, body, name, ns);
  if (!config) {
    co_return config.error();
  }
  // A create by apply keeps no status (PrepareForCreate), so nobody owns it.
  auto applied = detail::server_side_apply(nullptr, *config, type->schema, manager_for(options),
                                           type->group_version(), patch.force, options_now(), "",
                                           detail::reset_field(*type, ""));
  if (!applied) {
    co_return applied.error();
  }
  co_return co_await create(type, ns, std::move(*applied), std::move(options), true);
}

}  // namespace skiff::registry
