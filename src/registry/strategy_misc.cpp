// SPDX-License-Identifier: Apache-2.0
// The smaller groups: autoscaling (HPA v1 and v2), coordination.k8s.io Lease,
// discovery.k8s.io EndpointSlice, events.k8s.io Event, policy PodDisruptionBudget,
// scheduling.k8s.io PriorityClass, node.k8s.io RuntimeClass, certificates.k8s.io
// CertificateSigningRequest, admissionregistration.k8s.io webhook configurations.

#include <set>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/quantity.hpp"
#include "skiff/api/time.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

std::string quantity_string(const json::Value& v) {
  if (v.is_null()) {
    return "0";
  }
  auto q = api::Quantity::from_json(v);
  return q ? q->to_string() : (v.is_string() ? v.as_string() : json::serialize(v));
}

// ---- HorizontalPodAutoscaler --------------------------------------------------------------------

json::Value scale_rules(const json::Value& rules, bool up) {
  json::Value out = rules.is_object() ? rules : json::Value::object();
  if (out["policies"].size() == 0) {
    if (up) {
      out["policies"] =
          json::Array{json::Object{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                      json::Object{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}};
    } else {
      out["policies"] =
          json::Array{json::Object{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}};
    }
  }
  if (out.get("stabilizationWindowSeconds") == nullptr ||
      out["stabilizationWindowSeconds"].is_null()) {
    out["stabilizationWindowSeconds"] = up ? 0 : 300;
  }
  set_default(out, "selectPolicy", "Max");
  return out;
}

// The v2 metric list an HPA of either version describes (v1 has a CPU target only).
std::pair<json::Array, json::Array> hpa_metrics(const json::Value& hpa, bool v2) {
  if (v2) {
    return {arr(hpa["spec"], "metrics"), arr(hpa["status"], "currentMetrics")};
  }
  json::Array specs;
  json::Array statuses;
  const json::Value& target = hpa["spec"]["targetCPUUtilizationPercentage"];
  if (target.is_integral()) {
    specs.emplace_back(json::Object{
        {"type", "Resource"},
        {"resource", json::Object{{"name", "cpu"},
                                  {"target", json::Object{{"type", "Utilization"},
                                                          {"averageUtilization", target}}}}}});
    const json::Value& current = hpa["status"]["currentCPUUtilizationPercentage"];
    if (current.is_integral()) {
      statuses.emplace_back(json::Object{
          {"type", "Resource"},
          {"resource", json::Object{{"name", "cpu"},
                                    {"current", json::Object{{"averageUtilization", current}}}}}});
    }
  }
  return {specs, statuses};
}

std::string format_hpa_metrics(const json::Array& specs, const json::Array& statuses) {
  if (specs.empty()) {
    return "<none>";
  }
  std::vector<std::string> list;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const json::Value& spec = specs[i];
    std::string type = str(spec, "type");
    const json::Value* status = i < statuses.size() ? &statuses[i] : nullptr;
    auto status_of = [&](const char* key) -> const json::Value* {
      if (status == nullptr) {
        return nullptr;
      }
      const json::Value& s = (*status)[key];
      return s.is_object() ? &s : nullptr;
    };
    if (type == "External" || type == "Object") {
      const char* key = type == "External" ? "external" : "object";
      const json::Value& target = spec[key]["target"];
      const json::Value* st = status_of(key);
      if (!target["averageValue"].is_null()) {
        std::string current = "<unknown>";
        if (st != nullptr && !(*st)["current"]["averageValue"].is_null()) {
          current = quantity_string((*st)["current"]["averageValue"]);
        }
        list.push_back(
            fmt::format("{}/{} (avg)", current, quantity_string(target["averageValue"])));
      } else {
        std::string current =
            st != nullptr ? quantity_string((*st)["current"]["value"]) : "<unknown>";
        list.push_back(fmt::format("{}/{}", current, quantity_string(target["value"])));
      }
    } else if (type == "Pods") {
      const json::Value* st = status_of("pods");
      std::string current =
          st != nullptr ? quantity_string((*st)["current"]["averageValue"]) : "<unknown>";
      list.push_back(
          fmt::format("{}/{}", current, quantity_string(spec["pods"]["target"]["averageValue"])));
    } else if (type == "Resource" || type == "ContainerResource") {
      const char* key = type == "Resource" ? "resource" : "containerResource";
      const json::Value& res = spec[key];
      const json::Value& target = res["target"];
      const json::Value* st = status_of(key);
      if (!target["averageValue"].is_null()) {
        std::string current =
            st != nullptr ? quantity_string((*st)["current"]["averageValue"]) : "<unknown>";
        list.push_back(fmt::format("{}: {}/{}", str(res, "name"), current,
                                   quantity_string(target["averageValue"])));
      } else {
        std::string current = "<unknown>";
        if (st != nullptr && (*st)["current"]["averageUtilization"].is_integral()) {
          current = fmt::format("{}%", num((*st)["current"], "averageUtilization"));
        }
        std::string goal = "<auto>";
        if (target["averageUtilization"].is_integral()) {
          goal = fmt::format("{}%", num(target, "averageUtilization"));
        }
        list.push_back(fmt::format("{}: {}/{}", str(res, "name"), current, goal));
      }
    } else {
      list.emplace_back("<unknown type>");
    }
  }
  constexpr std::size_t kMax = 2;
  std::size_t count = list.size();
  bool more = count > kMax;
  if (more) {
    list.resize(kMax);
  }
  std::string out;
  for (const auto& l : list) {
    out += (out.empty() ? "" : ", ") + l;
  }
  if (more) {
    out = fmt::format("{} + {} more...", out, count - kMax);
  }
  return out;
}

class HpaStrategy final : public Strategy {
public:
  explicit HpaStrategy(bool v2) : v2_(v2) {}
  void apply_defaults(json::Value& hpa) const override {
    json::Value* spec = hpa.get("spec");
    if (spec == nullptr || !spec->is_object()) {
      return;
    }
    if (spec->get("minReplicas") == nullptr || (*spec)["minReplicas"].is_null()) {
      (*spec)["minReplicas"] = 1;
    }
    if (!v2_) {
      if (spec->get("targetCPUUtilizationPercentage") == nullptr ||
          (*spec)["targetCPUUtilizationPercentage"].is_null()) {
        (*spec)["targetCPUUtilizationPercentage"] = 80;
      }
      return;
    }
    if ((*spec)["metrics"].size() == 0) {
      (*spec)["metrics"] = json::Array{json::Object{
          {"type", "Resource"},
          {"resource", json::Object{{"name", "cpu"},
                                    {"target", json::Object{{"type", "Utilization"},
                                                            {"averageUtilization", 80}}}}}}};
    }
    if (json::Value* behavior = spec->get("behavior");
        behavior != nullptr && behavior->is_object()) {
      json::Value up = scale_rules((*behavior)["scaleUp"], true);
      json::Value down = scale_rules((*behavior)["scaleDown"], false);
      (*behavior)["scaleUp"] = std::move(up);
      (*behavior)["scaleDown"] = std::move(down);
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& hpa) const override {
    Causes out;
    const json::Value& spec = hpa["spec"];
    if (spec["minReplicas"].is_integral() && num(spec, "minReplicas") < 1) {
      out.push_back(api::field_invalid("spec.minReplicas", num(spec, "minReplicas"),
                                       "must be greater than or equal to 1"));
    }
    std::int64_t max = num(spec, "maxReplicas");
    if (max < 1) {
      out.push_back(api::field_invalid("spec.maxReplicas", max, "must be greater than 0"));
    }
    if (spec["minReplicas"].is_integral() && max < num(spec, "minReplicas")) {
      out.push_back(api::field_invalid("spec.maxReplicas", max,
                                       "must be greater than or equal to `minReplicas`"));
    }
    const json::Value& ref = spec["scaleTargetRef"];
    for (const char* k : {"kind", "name"}) {
      std::string v = str(ref, k);
      std::string p = api::field_child("spec.scaleTargetRef", k);
      if (v.empty()) {
        out.push_back(api::field_required(p));
      } else {
        for (const auto& msg : api::is_valid_path_segment_name(v)) {
          out.push_back(api::field_invalid(p, v, msg));
        }
      }
    }
    if (!v2_) {
      if (spec["targetCPUUtilizationPercentage"].is_integral() &&
          num(spec, "targetCPUUtilizationPercentage") < 1) {
        out.push_back(api::field_invalid("spec.targetCPUUtilizationPercentage",
                                         num(spec, "targetCPUUtilizationPercentage"),
                                         "must be greater than 0"));
      }
      return out;
    }
    const json::Array& metrics = arr(spec, "metrics");
    static const std::vector<std::string> kTypes = {"ContainerResource", "External", "Object",
                                                    "Pods", "Resource"};
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      std::string p = api::field_index("spec.metrics", i);
      std::string type = str(metrics[i], "type");
      if (type.empty()) {
        out.push_back(
            api::field_required(api::field_child(p, "type"), "must specify a metric source type"));
      } else if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
        out.push_back(api::field_not_supported(api::field_child(p, "type"), type, kTypes));
      } else if (type == "Resource") {
        const json::Value& r = metrics[i]["resource"];
        if (r.is_null()) {
          out.push_back(
              api::field_required(api::field_child(p, "resource"),
                                  "must populate information for the given metric source"));
        } else if (r.string_or("name").empty()) {
          out.push_back(api::field_required(api::field_child(p, "resource.name"),
                                            "must specify a resource name"));
        } else {
          std::string tt = str(r["target"], "type");
          if (tt != "Utilization" && tt != "Value" && tt != "AverageValue") {
            out.push_back(api::field_required(api::field_child(p, "resource.target.type"),
                                              "must specify a metric target type"));
          }
        }
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Reference", "string", 0, "The scale target."),
            column("Targets", "string", 0, "The metrics and their targets."),
            column("MinPods", "string", 0, "The lower replica limit."),
            column("MaxPods", "string", 0, "The upper replica limit."),
            column("Replicas", "string", 0, "The current replicas."),
            age_column()};
  }
  json::Array cells(const json::Value& hpa, TimePoint now) const override {
    const json::Value& spec = hpa["spec"];
    auto [specs, statuses] = hpa_metrics(hpa, v2_);
    std::string min =
        spec["minReplicas"].is_integral() ? std::to_string(num(spec, "minReplicas")) : "<unset>";
    return {name_cell(hpa),
            json::Value(fmt::format("{}/{}", str(spec["scaleTargetRef"], "kind"),
                                    str(spec["scaleTargetRef"], "name"))),
            json::Value(format_hpa_metrics(specs, statuses)),
            json::Value(min),
            int_cell(spec, "maxReplicas"),
            int_cell(hpa["status"], "currentReplicas"),
            age_cell(hpa, now)};
  }

private:
  bool v2_;
};

// ---- Lease --------------------------------------------------------------------------------------

class LeaseStrategy final : public Strategy {
public:
  Causes validate(const json::Value& lease) const override {
    Causes out;
    const json::Value& spec = lease["spec"];
    if (spec["leaseDurationSeconds"].is_integral() && num(spec, "leaseDurationSeconds") <= 0) {
      out.push_back(api::field_invalid("spec.leaseDurationSeconds",
                                       num(spec, "leaseDurationSeconds"),
                                       "must be greater than 0"));
    }
    if (spec["leaseTransitions"].is_integral() && num(spec, "leaseTransitions") < 0) {
      out.push_back(api::field_invalid("spec.leaseTransitions", num(spec, "leaseTransitions"),
                                       "must be greater than or equal to 0"));
    }
    std::string strategy = str(spec, "strategy");
    if (!strategy.empty() && strategy != "OldestEmulationVersion") {
      out.push_back(
          api::field_not_supported("spec.strategy", strategy, {"OldestEmulationVersion"}));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Holder", "string", 0, "The lease's current holder."),
            age_column()};
  }
  json::Array cells(const json::Value& lease, TimePoint now) const override {
    return {name_cell(lease), json::Value(str(lease["spec"], "holderIdentity")),
            age_cell(lease, now)};
  }
};

// ---- EndpointSlice ------------------------------------------------------------------------------

std::string list_with_more(const std::vector<std::string>& list, bool more, std::size_t count,
                           std::size_t max) {
  std::string out;
  for (const auto& l : list) {
    out += (out.empty() ? "" : ",") + l;
  }
  if (more) {
    return fmt::format("{} + {} more...", out, count - max);
  }
  return out.empty() ? "<unset>" : out;
}

class EndpointSliceStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& es) const override {
    if (json::Value* ports = es.get("ports"); ports != nullptr && ports->is_array()) {
      for (json::Value& p : ports->as_array()) {
        if (!p.is_object()) {
          continue;
        }
        if (p.get("name") == nullptr || p["name"].is_null()) {
          p["name"] = "";
        }
        set_default(p, "protocol", "TCP");
      }
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& es) const override {
    Causes out;
    std::string type = str(es, "addressType");
    if (type.empty()) {
      out.push_back(api::field_required("addressType"));
    } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
      out.push_back(api::field_not_supported("addressType", type, {"FQDN", "IPv4", "IPv6"}));
    }
    const json::Array& endpoints = arr(es, "endpoints");
    if (endpoints.size() > 1000) {
      out.push_back(
          api::field_too_many("endpoints", static_cast<std::int64_t>(endpoints.size()), 1000));
    }
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      std::string p = api::field_index("endpoints", i);
      const json::Array& addrs = arr(endpoints[i], "addresses");
      if (addrs.empty()) {
        out.push_back(api::field_required(api::field_child(p, "addresses"),
                                          "must contain at least 1 address"));
      } else if (addrs.size() > 100) {
        out.push_back(api::field_too_many(api::field_child(p, "addresses"),
                                          static_cast<std::int64_t>(addrs.size()), 100));
      }
      if (std::string host = str(endpoints[i], "hostname"); !host.empty()) {
        for (const auto& msg : api::is_dns1123_label(host)) {
          out.push_back(api::field_invalid(api::field_child(p, "hostname"), host, msg));
        }
      }
    }
    const json::Array& ports = arr(es, "ports");
    std::set<std::string> names;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      std::string p = api::field_index("ports", i);
      std::string name = str(ports[i], "name");
      if (!name.empty()) {
        for (const auto& msg : api::is_dns1123_label(name)) {
          out.push_back(api::field_invalid(api::field_child(p, "name"), name, msg));
        }
      }
      if (names.count(name) != 0) {
        out.push_back(api::field_duplicate(api::field_child(p, "name"), name));
      }
      names.insert(name);
      std::string proto = str(ports[i], "protocol");
      if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
        out.push_back(api::field_not_supported(api::field_child(p, "protocol"), proto,
                                               {"SCTP", "TCP", "UDP"}));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& es, const json::Value& old) const override {
    Causes out = validate(es);
    append(out,
           api::validate_immutable_field(es["addressType"], old["addressType"], "addressType"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("AddressType", "string"), column("Ports", "string"),
            column("Endpoints", "string"), age_column()};
  }
  json::Array cells(const json::Value& es, TimePoint now) const override {
    constexpr std::size_t kMax = 3;
    std::vector<std::string> ports;
    bool more = false;
    std::size_t count = 0;
    for (const json::Value& p : arr(es, "ports")) {
      if (ports.size() < kMax) {
        std::string n = "*";
        if (p["port"].is_integral()) {
          n = std::to_string(num(p, "port"));
        } else if (p["name"].is_string()) {
          n = str(p, "name");
        }
        ports.push_back(n);
      } else if (ports.size() == kMax) {
        more = true;
      }
      ++count;
    }
    std::string port_text = list_with_more(ports, more, count, kMax);
    std::vector<std::string> addrs;
    more = false;
    count = 0;
    for (const json::Value& e : arr(es, "endpoints")) {
      for (const json::Value& a : arr(e, "addresses")) {
        if (addrs.size() < kMax) {
          addrs.push_back(a.is_string() ? a.as_string() : "");
        } else if (addrs.size() == kMax) {
          more = true;
        }
        ++count;
      }
    }
    return {name_cell(es), json::Value(str(es, "addressType")), json::Value(port_text),
            json::Value(list_with_more(addrs, more, count, kMax)), age_cell(es, now)};
  }
};

// ---- PodDisruptionBudget ------------------------------------------------------------------------

class PdbStrategy final : public Strategy {
public:
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& pdb) const override {
    Causes out;
    const json::Value& spec = pdb["spec"];
    bool min = !spec["minAvailable"].is_null();
    bool max = !spec["maxUnavailable"].is_null();
    if (min && max) {
      out.push_back(
          api::field_invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
    }
    for (const char* k : {"minAvailable", "maxUnavailable"}) {
      if (!spec[k].is_null()) {
        std::string p = api::field_child("spec", k);
        append(out, positive_int_or_percent(spec[k], p));
        append(out, not_more_than_100(spec[k], p));
      }
    }
    append(out, api::validate_label_selector(spec["selector"], "spec.selector"));
    if (std::string policy = str(spec, "unhealthyPodEvictionPolicy");
        !policy.empty() && policy != "AlwaysAllow" && policy != "IfHealthyBudget") {
      out.push_back(api::field_not_supported("spec.unhealthyPodEvictionPolicy", policy,
                                             {"AlwaysAllow", "IfHealthyBudget"}));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {
        name_column(),
        column("Min Available", "string", 0, "The minimum number of pods that must be available."),
        column("Max Unavailable", "string", 0,
               "The maximum number of pods that may be unavailable."),
        column("Allowed Disruptions", "integer", 0,
               "Calculated number of pods that may be disrupted at this time."),
        age_column()};
  }
  json::Array cells(const json::Value& pdb, TimePoint now) const override {
    const json::Value& spec = pdb["spec"];
    auto text = [&](const char* k) {
      return spec[k].is_null() ? std::string("N/A") : int_or_string_text(spec[k]);
    };
    return {name_cell(pdb), json::Value(text("minAvailable")), json::Value(text("maxUnavailable")),
            int_cell(pdb["status"], "disruptionsAllowed"), age_cell(pdb, now)};
  }
};

// ---- PriorityClass / RuntimeClass ---------------------------------------------------------------

class PriorityClassStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& pc) const override {
    set_default(pc, "preemptionPolicy", "PreemptLowerPriority");
  }
  Causes validate(const json::Value& pc) const override {
    Causes out;
    std::string name = str(pc["metadata"], "name");
    bool system = name == "system-node-critical" || name == "system-cluster-critical";
    if (!system && name.rfind("system-", 0) == 0) {
      out.push_back(api::field_invalid("metadata.name", name,
                                       "priority class names with 'system-' prefix are reserved"));
    }
    if (!system && num(pc, "value") > 1000000000) {
      out.push_back(api::field_forbidden(
          "value", "maximum allowed value of a user defined priority is 1000000000"));
    }
    std::string policy = str(pc, "preemptionPolicy");
    if (!policy.empty() && policy != "Never" && policy != "PreemptLowerPriority") {
      out.push_back(
          api::field_not_supported("preemptionPolicy", policy, {"Never", "PreemptLowerPriority"}));
    }
    return out;
  }
  Causes validate_update(const json::Value& pc, const json::Value& old) const override {
    Causes out = validate(pc);
    if (num(pc, "value") != num(old, "value")) {
      out.push_back(api::field_forbidden("value", "may not be changed in an update."));
    }
    append(out, api::validate_immutable_field(pc["preemptionPolicy"], old["preemptionPolicy"],
                                              "preemptionPolicy"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Value", "integer", 0, "The priority."),
            column("Global-Default", "boolean", 0, "Whether this is the default priority class."),
            age_column(),
            column("PreemptionPolicy", "string", 0, "Whether lower priority pods are preempted.")};
  }
  json::Array cells(const json::Value& pc, TimePoint now) const override {
    return {name_cell(pc), int_cell(pc, "value"), json::Value(pc.bool_or("globalDefault")),
            age_cell(pc, now), json::Value(str(pc, "preemptionPolicy"))};
  }
};

class RuntimeClassStrategy final : public Strategy {
public:
  Causes validate(const json::Value& rc) const override {
    Causes out;
    std::string handler = str(rc, "handler");
    for (const auto& msg : api::is_dns1123_label(handler)) {
      out.push_back(api::field_invalid("handler", handler, msg));
    }
    return out;
  }
  Causes validate_update(const json::Value& rc, const json::Value& old) const override {
    Causes out = validate(rc);
    append(out, api::validate_immutable_field(rc["handler"], old["handler"], "handler"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Handler", "string", 0, "The CRI handler."), age_column()};
  }
  json::Array cells(const json::Value& rc, TimePoint now) const override {
    return {name_cell(rc), json::Value(str(rc, "handler")), age_cell(rc, now)};
  }
};

// ---- CertificateSigningRequest ------------------------------------------------------------------

class CsrStrategy final : public Strategy {
public:
  Causes validate(const json::Value& csr) const override {
    Causes out;
    const json::Value& spec = csr["spec"];
    if (spec.string_or("request").empty()) {
      out.push_back(
          api::field_invalid("spec.request", "", "PEM block type must be CERTIFICATE REQUEST"));
    } else {
      std::string err;
      auto der = base64_decode(str(spec, "request"), &err);
      if (!der || der->find("-----BEGIN CERTIFICATE REQUEST-----") == std::string::npos) {
        out.push_back(
            api::field_invalid("spec.request", "", "PEM block type must be CERTIFICATE REQUEST"));
      }
    }
    std::string signer = str(spec, "signerName");
    if (signer.empty()) {
      out.push_back(api::field_required("spec.signerName"));
    } else if (signer.find('/') == std::string::npos) {
      out.push_back(api::field_invalid("spec.signerName", signer,
                                       "must be a fully qualified domain and path of the form "
                                       "'example.com/signer-name'"));
    }
    if (spec["expirationSeconds"].is_integral() && num(spec, "expirationSeconds") < 600) {
      out.push_back(
          api::field_invalid("spec.expirationSeconds", num(spec, "expirationSeconds"),
                             "may not specify a duration less than 600 seconds (10 minutes)"));
    }
    const json::Array& usages = arr(spec, "usages");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < usages.size(); ++i) {
      std::string u = usages[i].is_string() ? usages[i].as_string() : "";
      if (seen.count(u) != 0) {
        out.push_back(api::field_duplicate(api::field_index("spec.usages", i), u));
      }
      seen.insert(u);
    }
    return out;
  }
  Causes validate_update(const json::Value& csr, const json::Value& old) const override {
    Causes out = validate(csr);
    append(out, api::validate_immutable_field(csr["spec"], old["spec"], "spec"));
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"spec.signerName"}; }
  std::optional<std::string> field_value(const json::Value& csr,
                                         std::string_view label) const override {
    if (label == "spec.signerName") {
      return str(csr["spec"], "signerName");
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            age_column(),
            column("SignerName", "string"),
            column("Requestor", "string"),
            column("RequestedDuration", "string"),
            column("Condition", "string")};
  }
  json::Array cells(const json::Value& csr, TimePoint now) const override {
    const json::Value& spec = csr["spec"];
    bool approved = false;
    bool denied = false;
    bool failed = false;
    for (const json::Value& c : arr(csr["status"], "conditions")) {
      std::string type = str(c, "type");
      approved = approved || type == "Approved";
      denied = denied || type == "Denied";
      failed = failed || type == "Failed";
    }
    std::string state = denied ? "Denied" : (approved ? "Approved" : "Pending");
    if (failed) {
      state += ",Failed";
    }
    if (!csr["status"].string_or("certificate").empty()) {
      state += ",Issued";
    }
    std::string signer = spec.string_or("signerName").empty() ? "<none>" : str(spec, "signerName");
    std::string duration = "<none>";
    if (spec["expirationSeconds"].is_integral()) {
      duration = api::human_duration(std::chrono::seconds(num(spec, "expirationSeconds")));
    }
    return {name_cell(csr),        age_cell(csr, now),
            json::Value(signer),   json::Value(str(spec, "username")),
            json::Value(duration), json::Value(state)};
  }
};

// ---- webhook configurations ---------------------------------------------------------------------

class WebhookConfigurationStrategy final : public Strategy {
public:
  explicit WebhookConfigurationStrategy(bool mutating) : mutating_(mutating) {}
  void apply_defaults(json::Value& cfg) const override {
    json::Value* hooks = cfg.get("webhooks");
    if (hooks == nullptr || !hooks->is_array()) {
      return;
    }
    for (json::Value& h : hooks->as_array()) {
      if (!h.is_object()) {
        continue;
      }
      set_default(h, "failurePolicy", "Fail");
      set_default(h, "matchPolicy", "Equivalent");
      if (h.get("namespaceSelector") == nullptr || h["namespaceSelector"].is_null()) {
        h["namespaceSelector"] = json::Value::object();
      }
      if (h.get("objectSelector") == nullptr || h["objectSelector"].is_null()) {
        h["objectSelector"] = json::Value::object();
      }
      if (h.get("timeoutSeconds") == nullptr || h["timeoutSeconds"].is_null()) {
        h["timeoutSeconds"] = 10;
      }
      if (mutating_) {
        set_default(h, "reinvocationPolicy", "Never");
      }
      if (json::Value* rules = h.get("rules"); rules != nullptr && rules->is_array()) {
        for (json::Value& r : rules->as_array()) {
          set_default(r, "scope", "*");
        }
      }
      if (json::Value* svc = h.get_path({"clientConfig", "service"});
          svc != nullptr && svc->is_object()) {
        if (svc->get("port") == nullptr || (*svc)["port"].is_null()) {
          (*svc)["port"] = 443;
        }
      }
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& cfg) const override {
    Causes out;
    const json::Array& hooks = arr(cfg, "webhooks");
    std::set<std::string> names;
    for (std::size_t i = 0; i < hooks.size(); ++i) {
      const json::Value& h = hooks[i];
      std::string p = api::field_index("webhooks", i);
      std::string name = str(h, "name");
      if (names.count(name) != 0) {
        out.push_back(api::field_duplicate(api::field_child(p, "name"), name));
      }
      names.insert(name);
      if (name.empty()) {
        out.push_back(api::field_required(api::field_child(p, "name")));
      } else {
        for (const auto& msg : api::is_dns1123_subdomain(name)) {
          out.push_back(api::field_invalid(api::field_child(p, "name"), name, msg));
        }
        std::size_t dots = static_cast<std::size_t>(std::count(name.begin(), name.end(), '.'));
        if (dots < 2) {
          out.push_back(api::field_invalid(
              api::field_child(p, "name"), name,
              "should be a domain with at least three segments separated by dots"));
        }
      }
      std::string effects = str(h, "sideEffects");
      if (effects != "None" && effects != "NoneOnDryRun") {
        out.push_back(api::field_not_supported(api::field_child(p, "sideEffects"), effects,
                                               {"None", "NoneOnDryRun"}));
      }
      if (h["admissionReviewVersions"].size() == 0) {
        out.push_back(api::field_required(api::field_child(p, "admissionReviewVersions"),
                                          "must specify one of \"v1\", \"v1beta1\""));
      }
      const json::Value& cc = h["clientConfig"];
      bool url = !cc.string_or("url").empty();
      bool svc = cc["service"].is_object();
      if (url == svc) {
        out.push_back(api::field_required(api::field_child(p, "clientConfig"),
                                          "exactly one of url or service is required"));
      }
      std::string fp = str(h, "failurePolicy");
      if (!fp.empty() && fp != "Fail" && fp != "Ignore") {
        out.push_back(
            api::field_not_supported(api::field_child(p, "failurePolicy"), fp, {"Fail", "Ignore"}));
      }
      if (h["timeoutSeconds"].is_integral() &&
          (num(h, "timeoutSeconds") < 1 || num(h, "timeoutSeconds") > 30)) {
        out.push_back(api::field_invalid(api::field_child(p, "timeoutSeconds"),
                                         num(h, "timeoutSeconds"),
                                         "the timeout value must be between 1 and 30 seconds"));
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Webhooks", "integer", 0,
                   "Webhooks indicates the number of webhooks registered in this configuration"),
            age_column()};
  }
  json::Array cells(const json::Value& cfg, TimePoint now) const override {
    return {name_cell(cfg), json::Value(static_cast<std::int64_t>(cfg["webhooks"].size())),
            age_cell(cfg, now)};
  }

private:
  bool mutating_;
};

}  // namespace

const Strategy* misc_strategy(std::string_view group, std::string_view version,
                              std::string_view kind) {
  static const HpaStrategy kHpaV1(false);
  static const HpaStrategy kHpaV2(true);
  static const LeaseStrategy kLease;
  static const EndpointSliceStrategy kEndpointSlice;
  static const PdbStrategy kPdb;
  static const PriorityClassStrategy kPriorityClass;
  static const RuntimeClassStrategy kRuntimeClass;
  static const CsrStrategy kCsr;
  static const WebhookConfigurationStrategy kMutating(true);
  static const WebhookConfigurationStrategy kValidating(false);
  if (group == "autoscaling" && kind == "HorizontalPodAutoscaler") {
    return version == "v1" ? &kHpaV1 : &kHpaV2;
  }
  if (group == "coordination.k8s.io" && kind == "Lease") {
    return &kLease;
  }
  if (group == "discovery.k8s.io" && kind == "EndpointSlice") {
    return &kEndpointSlice;
  }
  if (group == "events.k8s.io" && kind == "Event") {
    return &event_strategy(true);
  }
  if (group == "policy" && kind == "PodDisruptionBudget") {
    return &kPdb;
  }
  if (group == "scheduling.k8s.io" && kind == "PriorityClass") {
    return &kPriorityClass;
  }
  if (group == "node.k8s.io" && kind == "RuntimeClass") {
    return &kRuntimeClass;
  }
  if (group == "certificates.k8s.io" && kind == "CertificateSigningRequest") {
    return &kCsr;
  }
  if (group == "admissionregistration.k8s.io") {
    if (kind == "MutatingWebhookConfiguration") {
      return &kMutating;
    }
    if (kind == "ValidatingWebhookConfiguration") {
      return &kValidating;
    }
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
