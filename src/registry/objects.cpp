// SPDX-License-Identifier: Apache-2.0
#include "objects.hpp"

#include <charconv>

#include <fmt/format.h>

namespace skiff::registry::detail {

std::string object_key(const ResourceType& type, std::string_view ns, std::string_view name) {
  if (type.namespaced) {
    return fmt::format("{}{}/{}", type.storage_prefix, ns, name);
  }
  return fmt::format("{}{}", type.storage_prefix, name);
}

std::string collection_prefix(const ResourceType& type, std::string_view ns) {
  if (type.namespaced && !ns.empty()) {
    return fmt::format("{}{}/", type.storage_prefix, ns);
  }
  return type.storage_prefix;
}

std::string qualified_resource(const ResourceType& type) {
  return type.gvk.group.empty() ? type.plural : type.plural + "." + type.gvk.group;
}

std::string qualified_kind(const ResourceType& type) {
  return type.gvk.group.empty() ? type.gvk.kind : type.gvk.kind + "." + type.gvk.group;
}

namespace {
Error with_details(Error e, const ResourceType& type, std::string_view name) {
  e.name = std::string(name);
  e.group = type.gvk.group;
  e.kind = type.plural;
  return e;
}
}  // namespace

Error not_found(const ResourceType& type, std::string_view name) {
  return with_details(
      errors::not_found(fmt::format("{} {} not found", qualified_resource(type), json::quote(name))),
      type, name);
}

Error already_exists(const ResourceType& type, std::string_view name) {
  return with_details(errors::already_exists(fmt::format("{} {} already exists",
                                                         qualified_resource(type),
                                                         json::quote(name))),
                      type, name);
}

Error conflict(const ResourceType& type, std::string_view name, std::string_view why) {
  return with_details(errors::conflict(fmt::format("Operation cannot be fulfilled on {} {}: {}",
                                                   qualified_resource(type), json::quote(name),
                                                   why)),
                      type, name);
}

Error modified(const ResourceType& type, std::string_view name) {
  return conflict(type, name,
                  "the object has been modified; please apply your changes to the latest version "
                  "and try again");
}

std::string join_causes(const std::vector<FieldCause>& causes) {
  auto one = [](const FieldCause& c) {
    return c.field.empty() ? c.message : fmt::format("{}: {}", c.field, c.message);
  };
  if (causes.size() == 1) {
    return one(causes.front());
  }
  std::string out = "[";
  for (std::size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += one(causes[i]);
  }
  out += "]";
  return out;
}

Error invalid(const ResourceType& type, std::string_view name, std::vector<FieldCause> causes) {
  Error e = errors::make(Reason::kInvalid, fmt::format("{} {} is invalid: {}", qualified_kind(type),
                                                       json::quote(name), join_causes(causes)));
  e.causes = std::move(causes);
  e.name = std::string(name);
  e.group = type.gvk.group;
  e.kind = type.gvk.kind;
  return e;
}

Error bad_request(std::string message) { return errors::bad_request(message); }

void convert_version(const ResourceType& type, json::Value& object, std::string_view version) {
  // Versions of one resource that differ in shape (autoscaling v1/v2, core/events.k8s.io Events)
  // need field conversions; the rest only differ in apiVersion.
  std::string api_version =
      type.gvk.group.empty() ? std::string(version) : type.gvk.group + "/" + std::string(version);
  if (object.is_object()) {
    object["apiVersion"] = api_version;
  }
}

std::string encode_for_storage(const ResourceType& type, json::Value object) {
  if (type.storage_version != type.gvk.version) {
    convert_version(type, object, type.storage_version);
  }
  json::Object& in = object.as_object();
  if (auto* meta = in.find("metadata"); meta != nullptr && meta->is_object()) {
    meta->as_object().erase("resourceVersion");
  }
  json::Object ordered;
  ordered.reserve(in.size());
  for (const char* first : {"apiVersion", "kind", "metadata"}) {
    if (auto* v = in.find(first)) {
      ordered.set(first, std::move(*v));
    }
  }
  for (auto& m : in) {
    if (m.key != "apiVersion" && m.key != "kind" && m.key != "metadata") {
      ordered.set(m.key, std::move(m.value));
    }
  }
  return json::serialize(json::Value(std::move(ordered)));
}

Result<json::Value> decode_stored(const ResourceType& type, std::string_view value,
                                  std::int64_t revision) {
  auto parsed = json::parse(value);
  if (!parsed || !parsed->is_object()) {
    return errors::internal(fmt::format("stored object of {} is not valid JSON",
                                        qualified_resource(type)));
  }
  json::Value& obj = *parsed;
  std::string_view stored_api_version = obj.string_or("apiVersion");
  if (stored_api_version != type.group_version()) {
    convert_version(type, obj, type.gvk.version);
  }
  if (!obj.get("kind")) {
    obj["kind"] = type.gvk.kind;
  }
  obj["metadata"]["resourceVersion"] = std::to_string(revision);
  return parsed;
}

Result<std::int64_t> parse_resource_version(std::string_view rv) {
  if (rv.empty()) {
    return std::int64_t{0};
  }
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), n);
  if (ec != std::errc() || ptr != rv.data() + rv.size() || n < 0) {
    return errors::bad_request(fmt::format("invalid resource version: {}", rv));
  }
  return n;
}

}  // namespace skiff::registry::detail
