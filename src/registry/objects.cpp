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

Error too_large_resource_version(std::int64_t wanted, std::int64_t current) {
  Error e = errors::make(
      Reason::kTimeout,
      fmt::format("Timeout: Too large resource version: {}, current: {}", wanted, current));
  e.causes.push_back({"ResourceVersionTooLarge", "Too large resource version", ""});
  return e;
}

namespace {

// ---- autoscaling/v1 <-> v2 HorizontalPodAutoscaler (stored as v2) ----
// v1 knows only a CPU utilization target; upstream keeps v2-only metrics in an annotation on v1
// objects. Here: the CPU target maps both ways, other v2 metrics are kept (in the annotation
// upstream uses) so a v1 round trip does not lose them.
constexpr std::string_view kHpaMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";

void hpa_v1_to_v2(json::Value& obj) {
  json::Value& spec = obj["spec"];
  json::Array metrics;
  if (auto* ann = obj.get_path({"metadata", "annotations"}); ann != nullptr && ann->is_object()) {
    if (const json::Value* kept = ann->get(kHpaMetricsAnnotation); kept && kept->is_string()) {
      if (auto parsed = json::parse(kept->as_string()); parsed && parsed->is_array()) {
        metrics = parsed->as_array();
      }
    }
    ann->as_object().erase(kHpaMetricsAnnotation);
    if (ann->as_object().empty()) {
      obj["metadata"].as_object().erase("annotations");
    }
  }
  if (spec.is_object()) {
    if (const json::Value* cpu = spec.get("targetCPUUtilizationPercentage")) {
      metrics.insert(metrics.begin(),
                     json::Object{{"type", "Resource"},
                                  {"resource", json::Object{{"name", "cpu"},
                                                            {"target", json::Object{
                                                                {"type", "Utilization"},
                                                                {"averageUtilization", *cpu}}}}}});
      spec.as_object().erase("targetCPUUtilizationPercentage");
    }
    if (!metrics.empty()) {
      spec["metrics"] = std::move(metrics);
    }
  }
  if (json::Value* status = obj.get("status"); status != nullptr && status->is_object()) {
    if (const json::Value* cur = status->get("currentCPUUtilizationPercentage")) {
      (*status)["currentMetrics"] = json::Array{json::Object{
          {"type", "Resource"},
          {"resource",
           json::Object{{"name", "cpu"}, {"current", json::Object{{"averageUtilization", *cur}}}}}}};
      status->as_object().erase("currentCPUUtilizationPercentage");
    }
    if (const json::Value* scale = status->get("lastScaleTime"); scale && scale->is_null()) {
      status->as_object().erase("lastScaleTime");
    }
  }
}

void hpa_v2_to_v1(json::Value& obj) {
  json::Value& spec = obj["spec"];
  if (spec.is_object()) {
    json::Array others;
    if (const json::Value* metrics = spec.get("metrics"); metrics && metrics->is_array()) {
      for (const auto& m : metrics->as_array()) {
        const json::Value& target = m["resource"]["target"];
        if (m.string_or("type") == "Resource" && m["resource"].string_or("name") == "cpu" &&
            target.string_or("type") == "Utilization" && !spec.get("targetCPUUtilizationPercentage")) {
          spec["targetCPUUtilizationPercentage"] = target["averageUtilization"];
        } else {
          others.push_back(m);
        }
      }
      spec.as_object().erase("metrics");
    }
    spec.as_object().erase("behavior");
    if (!others.empty()) {
      obj["metadata"]["annotations"][kHpaMetricsAnnotation] =
          json::serialize(json::Value(std::move(others)));
    }
  }
  if (json::Value* status = obj.get("status"); status != nullptr && status->is_object()) {
    if (const json::Value* cur = status->get("currentMetrics"); cur && cur->is_array()) {
      for (const auto& m : cur->as_array()) {
        if (m.string_or("type") == "Resource" && m["resource"].string_or("name") == "cpu") {
          if (const json::Value* u = m.get_path({"resource", "current", "averageUtilization"})) {
            (*status)["currentCPUUtilizationPercentage"] = *u;
          }
        }
      }
    }
    status->as_object().erase("currentMetrics");
    status->as_object().erase("conditions");
  }
}

// ---- core/v1 <-> events.k8s.io/v1 Event (stored as core/v1) ----
// Field correspondences as upstream's conversion: involvedObject/regarding, message/note,
// source/deprecatedSource, firstTimestamp/deprecatedFirstTimestamp, lastTimestamp/
// deprecatedLastTimestamp, count/deprecatedCount, reportingComponent/reportingController.
const std::pair<std::string_view, std::string_view> kEventFields[] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
    {"reportingComponent", "reportingController"},
};

void rename_fields(json::Value& obj, bool core_to_events) {
  if (!obj.is_object()) {
    return;
  }
  json::Object& o = obj.as_object();
  for (const auto& [core, events] : kEventFields) {
    std::string_view from = core_to_events ? core : events;
    std::string_view to = core_to_events ? events : core;
    if (json::Value* v = o.find(from)) {
      json::Value moved = std::move(*v);
      o.erase(from);
      o.set(to, std::move(moved));
    }
  }
}

}  // namespace

void convert_version(const ResourceType& type, json::Value& object, std::string_view version) {
  if (!object.is_object()) {
    return;
  }
  std::string_view from = object.string_or("apiVersion");
  std::string to =
      type.gvk.group.empty() ? std::string(version) : type.gvk.group + "/" + std::string(version);
  if (!type.custom && type.gvk.kind == "HorizontalPodAutoscaler") {
    if (from == "autoscaling/v1" && to == "autoscaling/v2") {
      hpa_v1_to_v2(object);
    } else if (from == "autoscaling/v2" && to == "autoscaling/v1") {
      hpa_v2_to_v1(object);
    }
  }
  object["apiVersion"] = to;
}

void to_storage_form(const ResourceType& type, json::Value& object) {
  if (!type.custom && type.gvk.kind == "Event" && type.gvk.group == "events.k8s.io") {
    rename_fields(object, false);
    object["apiVersion"] = "v1";
    return;
  }
  if (type.storage_version != type.gvk.version ||
      object.string_or("apiVersion") != type.group_version()) {
    convert_version(type, object, type.storage_version);
  }
}

void from_storage_form(const ResourceType& type, json::Value& object) {
  std::string_view stored = object.string_or("apiVersion");
  if (!type.custom && type.gvk.kind == "Event") {
    bool stored_core = stored == "v1";
    if (type.gvk.group == "events.k8s.io" && stored_core) {
      rename_fields(object, true);
    } else if (type.gvk.group.empty() && stored == "events.k8s.io/v1") {
      rename_fields(object, false);
    }
    object["apiVersion"] = type.group_version();
    return;
  }
  if (stored != type.group_version()) {
    // A stored object of another version of this resource (the storage version, or an object
    // written before the storage version changed).
    convert_version(type, object, type.gvk.version);
  }
}

std::string encode_for_storage(const ResourceType& type, json::Value object) {
  to_storage_form(type, object);
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
  from_storage_form(type, obj);
  if (!obj.get("kind")) {
    obj["kind"] = type.gvk.kind;
  }
  obj["metadata"]["resourceVersion"] = std::to_string(revision);
  return parsed;
}

std::string served_json_prefix(const ResourceType& type) {
  if (!type.custom && type.gvk.kind == "Event") {
    return {};
  }
  return fmt::format("{{\"apiVersion\":{},\"kind\":{},\"metadata\":{{",
                     json::quote(type.group_version()), json::quote(type.gvk.kind));
}

Result<void> stored_to_json(const ResourceType& type, const std::string& prefix,
                            std::string_view value, std::int64_t revision, std::string& out) {
  // Objects written by encode_for_storage() in the served version start with exactly `prefix`;
  // the rest is copied, so a list costs a copy per item instead of a parse and a serialize.
  if (!prefix.empty() && value.size() > prefix.size() && value.starts_with(prefix)) {
    std::string rv = std::to_string(revision);
    out.append(prefix);
    out.append("\"resourceVersion\":\"").append(rv).append("\"");
    std::string_view rest = value.substr(prefix.size());
    if (rest.front() != '}') {
      out.push_back(',');
    }
    out.append(rest);
    return {};
  }
  auto object = decode_stored(type, value, revision);
  if (!object) {
    return object.error();
  }
  out.append(json::serialize(*object));
  return {};
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
