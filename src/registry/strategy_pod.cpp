// SPDX-License-Identifier: Apache-2.0
// core/v1 Pod: defaults, create/update validation (with upstream's pod update immutability), the
// kubectl Table row (Ready, Status reason, Restarts, IP, Node, ...), field selectors, status on
// create (phase Pending, QoS class, SchedulingGated) and graceful deletion of scheduled pods.

#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/quantity.hpp"
#include "skiff/api/time.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

std::optional<api::Timestamp> timestamp(const json::Value& v, std::string_view key) {
  std::string_view text = v.string_or(key);
  if (text.empty()) {
    return std::nullopt;
  }
  auto t = api::parse_rfc3339(text);
  if (!t) {
    return std::nullopt;
  }
  return *t;
}

// qos.GetPodQOS over the (defaulted) spec: BestEffort without cpu/memory requests or limits,
// Guaranteed when every container limits both and requests equal limits, else Burstable.
std::string qos_class(const json::Value& spec) {
  std::map<std::string, api::Quantity> requests;
  std::map<std::string, api::Quantity> limits;
  bool guaranteed = true;
  auto add = [](std::map<std::string, api::Quantity>& into, const std::string& name,
                const api::Quantity& q) {
    auto it = into.find(name);
    if (it == into.end()) {
      into.emplace(name, q);
    } else {
      it->second += q;
    }
  };
  std::vector<const json::Value*> containers;
  for (const char* list : {"containers", "initContainers"}) {
    for (const json::Value& c : arr(spec, list)) {
      containers.push_back(&c);
    }
  }
  for (const json::Value* c : containers) {
    const json::Value& res = (*c)["resources"];
    for (const char* kind : {"requests", "limits"}) {
      std::set<std::string> found;
      const json::Value& list = res[kind];
      if (list.is_object()) {
        for (const auto& m : list.as_object()) {
          if (m.key != "cpu" && m.key != "memory") {
            continue;
          }
          auto q = api::Quantity::from_json(m.value);
          if (!q || q->sign() <= 0) {
            continue;
          }
          add(std::string_view(kind) == "requests" ? requests : limits, m.key, *q);
          found.insert(m.key);
        }
      }
      if (std::string_view(kind) == "limits" &&
          (found.count("cpu") == 0 || found.count("memory") == 0)) {
        guaranteed = false;
      }
    }
  }
  if (requests.empty() && limits.empty()) {
    return "BestEffort";
  }
  if (guaranteed) {
    for (const auto& [name, req] : requests) {
      auto lim = limits.find(name);
      if (lim == limits.end() || lim->second.compare(req) != 0) {
        guaranteed = false;
        break;
      }
    }
  }
  if (guaranteed && requests.size() == limits.size()) {
    return "Guaranteed";
  }
  return "Burstable";
}

bool is_sidecar(const json::Value& spec, std::string_view name) {
  for (const json::Value& c : arr(spec, "initContainers")) {
    if (c.string_or("name") == name) {
      return c.string_or("restartPolicy") == "Always";
    }
  }
  return false;
}

std::string first_pod_ip(const json::Value& status) {
  const json::Array& ips = arr(status, "podIPs");
  if (!ips.empty()) {
    return str(ips.front(), "ip");
  }
  return str(status, "podIP");
}

// A compact description of how two specs differ (upstream prints a cmp.Diff of the internal
// structs, which has no JSON equivalent): "-path: old" / "+path: new" lines.
void spec_diff(const json::Value& a, const json::Value& b, const std::string& path,
               std::vector<std::string>& out) {
  if (out.size() > 20) {
    return;
  }
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& m : a.as_object()) {
      keys.insert(m.key);
    }
    for (const auto& m : b.as_object()) {
      keys.insert(m.key);
    }
    for (const auto& k : keys) {
      spec_diff(a[k], b[k], api::field_child(path, k), out);
    }
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      spec_diff(a.as_array()[i], b.as_array()[i], api::field_index(path, i), out);
    }
    return;
  }
  if (!(a == b)) {
    out.push_back(fmt::format("- {}: {}", path, json::serialize(a)));
    out.push_back(fmt::format("+ {}: {}", path, json::serialize(b)));
  }
}

Causes only_added_tolerations(const json::Value& now, const json::Value& before,
                              const std::string& path) {
  Causes out;
  for (const json::Value& old_t : arr(before, "tolerations")) {
    bool found = false;
    for (const json::Value& new_t : arr(now, "tolerations")) {
      json::Value clone = old_t;
      if (clone.is_object()) {
        clone.as_object().erase("tolerationSeconds");
      }
      json::Value other = new_t;
      if (other.is_object()) {
        other.as_object().erase("tolerationSeconds");
      }
      if (clone == other) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.push_back(api::field_forbidden(path,
                                         "existing toleration can not be modified except its "
                                         "tolerationSeconds"));
      return out;
    }
  }
  return out;
}

class PodStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& pod) const override {
    if (json::Value* spec = pod.get("spec"); spec != nullptr && spec->is_object()) {
      default_pod_spec(*spec, true);
    }
  }

  void prepare_for_create(json::Value& pod) const override {
    // Upstream defaults at decode time, before PrepareForCreate; the QoS class needs the defaulted
    // requests.
    apply_defaults(pod);
    json::Value status = json::Object{{"phase", "Pending"}};
    status["qosClass"] = qos_class(std::as_const(pod)["spec"]);
    if (std::as_const(pod)["spec"]["schedulingGates"].size() > 0) {
      status["conditions"] = json::Array{
          json::Object{{"type", "PodScheduled"},
                       {"status", "False"},
                       {"lastProbeTime", nullptr},
                       {"lastTransitionTime", nullptr},
                       {"reason", "SchedulingGated"},
                       {"message", "Scheduling is blocked due to non-empty scheduling gates"}}};
    }
    pod["status"] = std::move(status);
  }

  Causes validate(const json::Value& pod) const override {
    Causes out = validate_pod_spec(pod["spec"], "spec");
    // validate() runs for creates only; ephemeral containers are added through their subresource.
    if (pod["spec"]["ephemeralContainers"].size() > 0) {
      out.push_back(api::field_forbidden("spec.ephemeralContainers", "cannot be set on create"));
    }
    return out;
  }

  Causes validate_update(const json::Value& pod, const json::Value& old) const override {
    Causes out = validate_pod_spec(pod["spec"], "spec");
    const json::Value& spec = pod["spec"];
    const json::Value& old_spec = old["spec"];
    for (const char* list : {"containers", "initContainers"}) {
      const json::Value& now = spec[list];
      const json::Value& before = old_spec[list];
      std::string path = api::field_child("spec", list);
      if (now.size() != before.size()) {
        out.push_back(api::field_forbidden(path, "pod updates may not add or remove containers"));
        return out;
      }
      const json::Array& items = arr(spec, list);
      for (std::size_t i = 0; i < items.size(); ++i) {
        std::string image = str(items[i], "image");
        if (image.empty()) {
          out.push_back(api::field_required(api::field_child(api::field_index(path, i), "image")));
        }
      }
    }
    const json::Value* ads = spec.get("activeDeadlineSeconds");
    const json::Value* old_ads = old_spec.get("activeDeadlineSeconds");
    bool has_ads = ads != nullptr && ads->is_integral();
    bool had_ads = old_ads != nullptr && old_ads->is_integral();
    if (has_ads) {
      std::int64_t v = ads->as_int();
      if (v < 0 || v > 2147483647) {
        out.push_back(api::field_invalid("spec.activeDeadlineSeconds", v,
                                         inclusive_range_error(0, 2147483647)));
        return out;
      }
      if (had_ads && old_ads->as_int() < v) {
        out.push_back(api::field_invalid("spec.activeDeadlineSeconds", v,
                                         "must be less than or equal to previous value"));
        return out;
      }
    } else if (had_ads) {
      out.push_back(api::field_invalid("spec.activeDeadlineSeconds", nullptr,
                                       "must not update from a positive integer to nil value"));
    }
    append(out, only_added_tolerations(spec, old_spec, "spec.tolerations"));

    // Everything else must stay: compare with the mutable fields carried over from the old spec.
    json::Value munged = spec;
    for (const char* list : {"containers", "initContainers"}) {
      if (json::Value* cs = munged.get(list); cs != nullptr && cs->is_array()) {
        const json::Array& olds = arr(old_spec, list);
        for (std::size_t i = 0; i < cs->as_array().size() && i < olds.size(); ++i) {
          json::Value& c = cs->as_array()[i];
          if (c.is_object()) {
            if (const json::Value* img = olds[i].get("image")) {
              c["image"] = *img;
            } else {
              c.as_object().erase("image");
            }
          }
        }
      }
    }
    auto carry = [&](std::string_view key) {
      if (const json::Value* v = old_spec.get(key)) {
        munged[key] = *v;
      } else if (munged.is_object()) {
        munged.as_object().erase(key);
      }
    };
    carry("activeDeadlineSeconds");
    carry("tolerations");
    std::int64_t old_grace = old_spec.int_or("terminationGracePeriodSeconds", 0);
    if (old_grace < 0 && spec.int_or("terminationGracePeriodSeconds", 0) == 1) {
      carry("terminationGracePeriodSeconds");
    }
    // Scheduling gates may only be removed.
    {
      std::set<std::string> old_gates;
      for (const json::Value& g : arr(old_spec, "schedulingGates")) {
        old_gates.insert(str(g, "name"));
      }
      bool subset = true;
      for (const json::Value& g : arr(spec, "schedulingGates")) {
        subset = subset && old_gates.count(str(g, "name")) != 0;
      }
      if (subset) {
        carry("schedulingGates");
      } else {
        out.push_back(api::field_forbidden(
            "spec.schedulingGates",
            "only deletion is allowed, but found new scheduling "
            "gate '" +
                [&] {
                  for (const json::Value& g : arr(spec, "schedulingGates")) {
                    if (old_gates.count(str(g, "name")) == 0) {
                      return str(g, "name");
                    }
                  }
                  return std::string();
                }() +
                "'"));
        carry("schedulingGates");
      }
    }
    if (!(munged == old_spec)) {
      std::vector<std::string> lines;
      spec_diff(old_spec, munged, "spec", lines);
      std::string diff;
      for (const auto& l : lines) {
        diff += "\n" + l;
      }
      out.push_back(api::field_forbidden(
          "spec",
          "pod updates may not change fields other than `spec.containers[*].image`,"
          "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
          "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
          "set to 1 if it was previously negative)" +
              diff));
    }
    return out;
  }

  std::vector<std::string> field_labels() const override {
    return {
        "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
  }

  std::optional<std::string> field_value(const json::Value& pod,
                                         std::string_view label) const override {
    const json::Value& spec = pod["spec"];
    const json::Value& status = pod["status"];
    if (label == "spec.nodeName") {
      return str(spec, "nodeName");
    }
    if (label == "spec.restartPolicy") {
      return str(spec, "restartPolicy");
    }
    if (label == "spec.schedulerName") {
      return str(spec, "schedulerName");
    }
    if (label == "spec.serviceAccountName") {
      return str(spec, "serviceAccountName");
    }
    if (label == "spec.hostNetwork") {
      return spec.bool_or("hostNetwork") ? "true" : "false";
    }
    if (label == "status.phase") {
      return str(status, "phase");
    }
    if (label == "status.podIP") {
      return first_pod_ip(status);
    }
    if (label == "status.nominatedNodeName") {
      return str(status, "nominatedNodeName");
    }
    return std::nullopt;
  }

  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Ready", "string", 0,
                   "The aggregate readiness state of this pod for accepting "
                   "traffic."),
            column("Status", "string", 0, "The aggregate status of the containers in this pod."),
            column("Restarts", "string", 0,
                   "The number of times the containers in this pod have been restarted and when "
                   "the last container in this pod has restarted."),
            age_column(),
            column("IP", "string", 1, "The pod's IP address."),
            column("Node", "string", 1, "The node the pod is scheduled to."),
            column("Nominated Node", "string", 1, "The node the scheduler nominated for the pod."),
            column("Readiness Gates", "string", 1, "The pod's readiness gates that are true.")};
  }

  json::Array cells(const json::Value& pod, TimePoint now) const override {
    const json::Value& spec = pod["spec"];
    const json::Value& status = pod["status"];
    std::int64_t restarts = 0;
    std::int64_t sidecar_restarts = 0;
    std::int64_t total = static_cast<std::int64_t>(spec["containers"].size());
    std::int64_t ready = 0;
    std::optional<api::Timestamp> last_restart;
    std::optional<api::Timestamp> last_sidecar_restart;
    auto later = [](std::optional<api::Timestamp>& into, std::optional<api::Timestamp> t) {
      if (t && (!into || *into < *t)) {
        into = t;
      }
    };

    std::string phase = str(status, "phase");
    std::string reason = phase;
    if (!status.string_or("reason").empty()) {
      reason = str(status, "reason");
    }
    for (const json::Value& c : arr(status, "conditions")) {
      if (c.string_or("type") == "PodScheduled" && c.string_or("reason") == "SchedulingGated") {
        reason = "SchedulingGated";
      }
    }
    for (const json::Value& c : arr(spec, "initContainers")) {
      if (c.string_or("restartPolicy") == "Always") {
        ++total;
      }
    }

    bool initializing = false;
    const json::Array& inits = arr(status, "initContainerStatuses");
    std::size_t init_count = spec["initContainers"].size();
    for (std::size_t i = 0; i < inits.size(); ++i) {
      const json::Value& cs = inits[i];
      restarts += num(cs, "restartCount");
      const json::Value& last_term = cs["lastState"]["terminated"];
      if (last_term.is_object()) {
        later(last_restart, timestamp(last_term, "finishedAt"));
      }
      bool sidecar = is_sidecar(spec, cs.string_or("name"));
      if (sidecar) {
        sidecar_restarts += num(cs, "restartCount");
        if (last_term.is_object()) {
          later(last_sidecar_restart, timestamp(last_term, "finishedAt"));
        }
      }
      const json::Value& state = cs["state"];
      const json::Value& term = state["terminated"];
      const json::Value& waiting = state["waiting"];
      if (term.is_object() && num(term, "exitCode") == 0) {
        continue;
      }
      if (sidecar && cs.bool_or("started")) {
        if (cs.bool_or("ready")) {
          ++ready;
        }
        continue;
      }
      if (term.is_object()) {
        if (term.string_or("reason").empty()) {
          if (num(term, "signal") != 0) {
            reason = fmt::format("Init:Signal:{}", num(term, "signal"));
          } else {
            reason = fmt::format("Init:ExitCode:{}", num(term, "exitCode"));
          }
        } else {
          reason = "Init:" + str(term, "reason");
        }
      } else if (waiting.is_object() && !waiting.string_or("reason").empty() &&
                 waiting.string_or("reason") != "PodInitializing") {
        reason = "Init:" + str(waiting, "reason");
      } else {
        reason = fmt::format("Init:{}/{}", i, init_count);
      }
      initializing = true;
      break;
    }

    bool initialized_true = false;
    for (const json::Value& c : arr(status, "conditions")) {
      if (c.string_or("type") == "Initialized") {
        initialized_true = c.string_or("status") == "True";
        break;
      }
    }
    if (!initializing || initialized_true) {
      restarts = sidecar_restarts;
      last_restart = last_sidecar_restart;
      bool has_running = false;
      const json::Array& statuses = arr(status, "containerStatuses");
      for (std::size_t k = statuses.size(); k-- > 0;) {
        const json::Value& cs = statuses[k];
        restarts += num(cs, "restartCount");
        const json::Value& last_term = cs["lastState"]["terminated"];
        if (last_term.is_object()) {
          later(last_restart, timestamp(last_term, "finishedAt"));
        }
        const json::Value& state = cs["state"];
        const json::Value& term = state["terminated"];
        const json::Value& waiting = state["waiting"];
        if (waiting.is_object() && !waiting.string_or("reason").empty()) {
          reason = str(waiting, "reason");
        } else if (term.is_object() && !term.string_or("reason").empty()) {
          reason = str(term, "reason");
        } else if (term.is_object()) {
          if (num(term, "signal") != 0) {
            reason = fmt::format("Signal:{}", num(term, "signal"));
          } else {
            reason = fmt::format("ExitCode:{}", num(term, "exitCode"));
          }
        } else if (cs.bool_or("ready") && state["running"].is_object()) {
          has_running = true;
          ++ready;
        }
      }
      if (reason == "Completed" && has_running) {
        reason = condition_true(status["conditions"], "Ready") ? "Running" : "NotReady";
      }
    }

    bool deleting = !pod["metadata"].string_or("deletionTimestamp").empty();
    if (deleting && status.string_or("reason") == "NodeLost") {
      reason = "Unknown";
    } else if (deleting && phase != "Failed" && phase != "Succeeded") {
      reason = "Terminating";
    }

    std::string restarts_text = std::to_string(restarts);
    if (restarts != 0 && last_restart && *last_restart != api::kGoZeroTime) {
      restarts_text =
          fmt::format("{} ({} ago)", restarts,
                      api::translate_timestamp_since(*last_restart, api::to_timestamp(now)));
    }

    std::string ip = first_pod_ip(status);
    std::string node = str(spec, "nodeName");
    std::string nominated = str(status, "nominatedNodeName");
    std::string gates = "<none>";
    if (spec["readinessGates"].size() > 0) {
      std::int64_t true_count = 0;
      for (const json::Value& gate : arr(spec, "readinessGates")) {
        std::string type = str(gate, "conditionType");
        for (const json::Value& c : arr(status, "conditions")) {
          if (c.string_or("type") == type) {
            if (c.string_or("status") == "True") {
              ++true_count;
            }
            break;
          }
        }
      }
      gates = fmt::format("{}/{}", true_count, spec["readinessGates"].size());
    }
    return {name_cell(pod),
            json::Value(fmt::format("{}/{}", ready, total)),
            json::Value(reason),
            json::Value(restarts_text),
            age_cell(pod, now),
            json::Value(ip.empty() ? "<none>" : ip),
            json::Value(node.empty() ? "<none>" : node),
            json::Value(nominated.empty() ? "<none>" : nominated),
            json::Value(gates)};
  }

  bool graceful_delete(const json::Value& pod, std::int64_t grace_period_seconds) const override {
    // Unscheduled and finished pods go at once; the kubelet completes the others.
    if (pod["spec"].string_or("nodeName").empty()) {
      return false;
    }
    std::string_view phase = pod["status"].string_or("phase");
    if (phase == "Failed" || phase == "Succeeded") {
      return false;
    }
    return grace_period_seconds > 0;
  }
};

}  // namespace

const Strategy& pod_strategy() {
  static const PodStrategy kStrategy;
  return kStrategy;
}

}  // namespace skiff::registry::strategies
