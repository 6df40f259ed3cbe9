// SPDX-License-Identifier: Apache-2.0
// apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision.

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "skiff/api/labels.hpp"

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

void default_replicas(json::Value& spec) {
  if (spec.get("replicas") == nullptr || spec["replicas"].is_null()) {
    spec["replicas"] = 1;
  }
}

void default_revision_history(json::Value& spec) {
  if (spec.get("revisionHistoryLimit") == nullptr || spec["revisionHistoryLimit"].is_null()) {
    spec["revisionHistoryLimit"] = 10;
  }
}

void default_template(json::Value& spec) {
  if (json::Value* t = spec.get("template"); t != nullptr && t->is_object()) {
    default_pod_template(*t);
  }
}

json::Value* spec_of(json::Value& object) {
  json::Value* spec = object.get("spec");
  return spec != nullptr && spec->is_object() ? spec : nullptr;
}

// The selector/template rules shared by Deployment and ReplicaSet (ValidatePodTemplateSpecFor
// ReplicaSet) with the kind's own wording for unsupported template fields.
Causes validate_replica_template(const json::Value& spec, std::string_view kind_word,
                                 std::string_view kind_name, bool full_template) {
  Causes out;
  const json::Value& selector = spec["selector"];
  auto parsed = api::LabelSelector::from_label_selector(selector);
  if (!parsed) {
    out.push_back(api::field_invalid("spec.selector", selector, "invalid label selector"));
    return out;
  }
  const json::Value& tmpl = spec["template"];
  if (!parsed->empty() && !parsed->matches(tmpl["metadata"]["labels"])) {
    out.push_back(api::field_invalid_rendered("spec.template.metadata.labels",
                                              go_string_map(tmpl["metadata"]["labels"]),
                                              "`selector` does not match template `labels`"));
  }
  if (full_template) {
    append(out, validate_pod_template(tmpl, "spec.template"));
  } else {
    const json::Value& meta = tmpl["metadata"];
    append(out, api::validate_labels(meta["labels"], "spec.template.labels"));
    append(out, api::validate_annotations(meta["annotations"], "spec.template.annotations"));
  }
  std::string restart = str(tmpl["spec"], "restartPolicy");
  if (restart != "Always") {
    out.push_back(
        api::field_not_supported("spec.template.spec.restartPolicy", restart, {"Always"}));
  }
  if (!tmpl["spec"]["activeDeadlineSeconds"].is_null()) {
    out.push_back(api::field_forbidden(
        "spec.template.spec.activeDeadlineSeconds",
        fmt::format("activeDeadlineSeconds in {} is not Supported", kind_name)));
  }
  (void)kind_word;
  return out;
}

std::vector<PrinterColumn> with_containers(std::vector<PrinterColumn> cols, bool selector) {
  cols.push_back(column("Containers", "string", 1, "Names of each container in the template."));
  cols.push_back(
      column("Images", "string", 1, "Images referenced by each container in the template."));
  if (selector) {
    cols.push_back(column("Selector", "string", 1, "The label selector of the pods."));
  }
  return cols;
}

// ---- Deployment ---------------------------------------------------------------------------------

class DeploymentStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& d) const override {
    json::Value* spec = spec_of(d);
    if (spec == nullptr) {
      return;
    }
    default_replicas(*spec);
    json::Value& strategy = obj(*spec, "strategy");
    set_default(strategy, "type", "RollingUpdate");
    if (str(strategy, "type") == "RollingUpdate") {
      json::Value& ru = obj(strategy, "rollingUpdate");
      if (ru.get("maxUnavailable") == nullptr || ru["maxUnavailable"].is_null()) {
        ru["maxUnavailable"] = "25%";
      }
      if (ru.get("maxSurge") == nullptr || ru["maxSurge"].is_null()) {
        ru["maxSurge"] = "25%";
      }
    }
    default_revision_history(*spec);
    if (spec->get("progressDeadlineSeconds") == nullptr ||
        (*spec)["progressDeadlineSeconds"].is_null()) {
      (*spec)["progressDeadlineSeconds"] = 600;
    }
    default_template(*spec);
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& d) const override {
    const json::Value& spec = d["spec"];
    Causes out = nonnegative(spec, "replicas", "spec.replicas");
    append(out, validate_required_selector(spec["selector"], "spec.selector", "deployment"));
    append(out, validate_replica_template(spec, "deployment", "ReplicaSet", true));
    const json::Value& strategy = spec["strategy"];
    std::string type = str(strategy, "type");
    if (type == "Recreate") {
      if (!strategy["rollingUpdate"].is_null()) {
        out.push_back(api::field_forbidden("spec.strategy.rollingUpdate",
                                           "may not be specified when strategy `type` is "
                                           "'Recreate'"));
      }
    } else if (type == "RollingUpdate") {
      const json::Value& ru = strategy["rollingUpdate"];
      if (ru.is_null()) {
        out.push_back(api::field_required("spec.strategy.rollingUpdate",
                                          "this should be defaulted and never be nil"));
      } else {
        append(out, positive_int_or_percent(ru["maxUnavailable"],
                                            "spec.strategy.rollingUpdate.maxUnavailable"));
        append(out,
               positive_int_or_percent(ru["maxSurge"], "spec.strategy.rollingUpdate.maxSurge"));
        if (int_or_percent(ru["maxUnavailable"]) == 0 && int_or_percent(ru["maxSurge"]) == 0) {
          out.push_back(api::field_invalid(
              "spec.strategy.rollingUpdate.maxUnavailable",
              ru["maxUnavailable"].is_null() ? json::Value(0) : ru["maxUnavailable"],
              "may not be 0 when `maxSurge` is 0"));
        }
        append(out, not_more_than_100(ru["maxUnavailable"],
                                      "spec.strategy.rollingUpdate.maxUnavailable"));
      }
    } else {
      out.push_back(api::field_not_supported("spec.strategy", type, {"Recreate", "RollingUpdate"}));
    }
    append(out, nonnegative(spec, "minReadySeconds", "spec.minReadySeconds"));
    append(out, nonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit"));
    if (const json::Value* p = spec.get("progressDeadlineSeconds");
        p != nullptr && p->is_integral()) {
      append(out, api::validate_nonnegative_field(p->as_int(), "spec.progressDeadlineSeconds"));
      if (p->as_int() <= num(spec, "minReadySeconds")) {
        out.push_back(api::field_invalid("spec.progressDeadlineSeconds", p->as_int(),
                                         "must be greater than minReadySeconds"));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& d, const json::Value& old) const override {
    Causes out = validate(d);
    append(out, api::validate_immutable_field(d["spec"]["selector"], old["spec"]["selector"],
                                              "spec.selector"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return with_containers(
        {name_column(), column("Ready", "string", 0, "Number of the pod with ready state"),
         column("Up-to-date", "string", 0,
                "Total number of non-terminated pods "
                "with the desired template."),
         column("Available", "string", 0, "Total number of available pods."), age_column()},
        true);
  }
  json::Array cells(const json::Value& d, TimePoint now) const override {
    const json::Value& spec = d["spec"];
    const json::Value& status = d["status"];
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(d),
            json::Value(fmt::format("{}/{}", num(status, "readyReplicas"), num(spec, "replicas"))),
            int_cell(status, "updatedReplicas"),
            int_cell(status, "availableReplicas"),
            age_cell(d, now),
            json::Value(names),
            json::Value(images),
            json::Value(selector_string_or_invalid(spec["selector"]))};
  }
};

// ---- ReplicaSet ---------------------------------------------------------------------------------

class ReplicaSetStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& rs) const override {
    if (json::Value* spec = spec_of(rs)) {
      default_replicas(*spec);
      default_template(*spec);
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& rs) const override {
    const json::Value& spec = rs["spec"];
    Causes out = nonnegative(spec, "replicas", "spec.replicas");
    append(out, nonnegative(spec, "minReadySeconds", "spec.minReadySeconds"));
    append(out, validate_required_selector(spec["selector"], "spec.selector", "deployment"));
    append(out, validate_replica_template(spec, "replicaset", "ReplicaSet", true));
    return out;
  }
  Causes validate_update(const json::Value& rs, const json::Value& old) const override {
    Causes out = validate(rs);
    append(out, api::validate_immutable_field(rs["spec"]["selector"], old["spec"]["selector"],
                                              "spec.selector"));
    return out;
  }
  std::vector<std::string> field_labels() const override { return {"status.replicas"}; }
  std::optional<std::string> field_value(const json::Value& rs,
                                         std::string_view label) const override {
    if (label == "status.replicas") {
      return std::to_string(num(rs["status"], "replicas"));
    }
    return std::nullopt;
  }
  std::vector<PrinterColumn> columns() const override {
    return with_containers({name_column(), column("Desired", "integer", 0, "Desired replicas."),
                            column("Current", "integer", 0, "Observed replicas."),
                            column("Ready", "integer", 0, "Ready replicas."), age_column()},
                           true);
  }
  json::Array cells(const json::Value& rs, TimePoint now) const override {
    const json::Value& spec = rs["spec"];
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(rs),
            int_cell(spec, "replicas"),
            int_cell(rs["status"], "replicas"),
            int_cell(rs["status"], "readyReplicas"),
            age_cell(rs, now),
            json::Value(names),
            json::Value(images),
            json::Value(format_label_selector(spec["selector"]))};
  }
};

// ---- StatefulSet --------------------------------------------------------------------------------

class StatefulSetStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& sts) const override {
    json::Value* spec = spec_of(sts);
    if (spec == nullptr) {
      return;
    }
    set_default(*spec, "podManagementPolicy", "OrderedReady");
    json::Value& us = obj(*spec, "updateStrategy");
    if (unset(us.get("type"))) {
      us["type"] = "RollingUpdate";
      if (us.get("rollingUpdate") == nullptr || us["rollingUpdate"].is_null()) {
        us["rollingUpdate"] = json::Value::object();
      }
    }
    if (str(us, "type") == "RollingUpdate" && std::as_const(us)["rollingUpdate"].is_object()) {
      json::Value& ru = us["rollingUpdate"];
      if (ru.get("partition") == nullptr || ru["partition"].is_null()) {
        ru["partition"] = 0;
      }
    }
    json::Value& retention = obj(*spec, "persistentVolumeClaimRetentionPolicy");
    set_default(retention, "whenDeleted", "Retain");
    set_default(retention, "whenScaled", "Retain");
    default_replicas(*spec);
    default_revision_history(*spec);
    default_template(*spec);
    if (json::Value* claims = spec->get("volumeClaimTemplates");
        claims != nullptr && claims->is_array()) {
      for (json::Value& c : claims->as_array()) {
        if (json::Value* cs = c.get("spec"); cs != nullptr && cs->is_object()) {
          default_pvc_spec(*cs);
        }
        // Claim templates are PersistentVolumeClaims: their status defaults too.
        if (c.is_object()) {
          set_default(obj(c, "status"), "phase", "Pending");
        }
      }
    }
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& sts) const override {
    const json::Value& spec = sts["spec"];
    Causes out;
    std::string pmp = str(spec, "podManagementPolicy");
    if (pmp.empty()) {
      out.push_back(api::field_required("spec.podManagementPolicy"));
    } else if (pmp != "OrderedReady" && pmp != "Parallel") {
      out.push_back(api::field_invalid("spec.podManagementPolicy", pmp,
                                       "must be 'OrderedReady' or 'Parallel'"));
    }
    const json::Value& us = spec["updateStrategy"];
    std::string type = str(us, "type");
    if (type.empty()) {
      out.push_back(api::field_required("spec.updateStrategy"));
    } else if (type == "OnDelete") {
      if (!us["rollingUpdate"].is_null()) {
        out.push_back(api::field_invalid("spec.updateStrategy.rollingUpdate", us["rollingUpdate"],
                                         "only allowed for updateStrategy 'RollingUpdate'"));
      }
    } else if (type == "RollingUpdate") {
      const json::Value& ru = us["rollingUpdate"];
      if (ru.is_object()) {
        append(out, nonnegative(ru, "partition", "spec.updateStrategy.rollingUpdate.partition"));
        if (const json::Value* mu = ru.get("maxUnavailable"); mu != nullptr && !mu->is_null()) {
          std::string p = "spec.updateStrategy.rollingUpdate.maxUnavailable";
          append(out, positive_int_or_percent(*mu, p));
          if (int_or_percent(*mu) == 0) {
            out.push_back(api::field_invalid(p, *mu, "cannot be 0"));
          }
          append(out, not_more_than_100(*mu, p));
        }
      }
    } else {
      out.push_back(
          api::field_invalid("spec.updateStrategy", us, "must be 'RollingUpdate' or 'OnDelete'"));
    }
    const json::Value& retention = spec["persistentVolumeClaimRetentionPolicy"];
    if (retention.is_object()) {
      for (const char* k : {"whenDeleted", "whenScaled"}) {
        std::string v = str(retention, k);
        if (v != "Retain" && v != "Delete") {
          out.push_back(api::field_not_supported(
              api::field_child("spec.persistentVolumeClaimRetentionPolicy", k), v,
              {"Retain", "Delete"}));
        }
      }
    }
    append(out, nonnegative(spec, "replicas", "spec.replicas"));
    append(out, nonnegative(spec, "minReadySeconds", "spec.minReadySeconds"));
    if (spec["ordinals"].is_object()) {
      append(out, nonnegative(spec["ordinals"], "start", "spec.ordinals.start"));
    }
    append(out, validate_required_selector(spec["selector"], "spec.selector", "statefulset"));
    auto parsed = api::LabelSelector::from_label_selector(spec["selector"]);
    if (!parsed) {
      out.push_back(api::field_invalid("spec.selector", spec["selector"], ""));
    } else {
      const json::Value& tmpl = spec["template"];
      if (!parsed->empty() && !parsed->matches(tmpl["metadata"]["labels"])) {
        out.push_back(api::field_invalid_rendered("spec.template.metadata.labels",
                                                  go_string_map(tmpl["metadata"]["labels"]),
                                                  "`selector` does not match template `labels`"));
      }
      append(out, api::validate_labels(tmpl["metadata"]["labels"], "spec.template.labels"));
      append(out, api::validate_annotations(tmpl["metadata"]["annotations"],
                                            "spec.template.annotations"));
    }
    std::string restart = str(spec["template"]["spec"], "restartPolicy");
    if (restart != "Always") {
      out.push_back(
          api::field_not_supported("spec.template.spec.restartPolicy", restart, {"Always"}));
    }
    if (!spec["template"]["spec"]["activeDeadlineSeconds"].is_null()) {
      out.push_back(api::field_forbidden("spec.template.spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in StatefulSet is not Supported"));
    }
    return out;
  }
  Causes validate_update(const json::Value& sts, const json::Value& old) const override {
    Causes out = validate(sts);
    json::Value now = sts["spec"];
    json::Value before = old["spec"];
    for (json::Value* s : {&now, &before}) {
      if (s->is_object()) {
        for (const char* k : {"replicas", "template", "updateStrategy", "minReadySeconds",
                              "ordinals", "persistentVolumeClaimRetentionPolicy"}) {
          s->as_object().erase(k);
        }
      }
    }
    if (!(now == before)) {
      out.push_back(api::field_forbidden(
          "spec",
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
          "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
          "'minReadySeconds' are forbidden"));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return with_containers(
        {name_column(), column("Ready", "string", 0, "Number of the pod with ready state"),
         age_column()},
        false);
  }
  json::Array cells(const json::Value& sts, TimePoint now) const override {
    const json::Value& spec = sts["spec"];
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(sts),
            json::Value(
                fmt::format("{}/{}", num(sts["status"], "readyReplicas"), num(spec, "replicas"))),
            age_cell(sts, now), json::Value(names), json::Value(images)};
  }
};

// ---- DaemonSet ----------------------------------------------------------------------------------

class DaemonSetStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& ds) const override {
    json::Value* spec = spec_of(ds);
    if (spec == nullptr) {
      return;
    }
    json::Value& us = obj(*spec, "updateStrategy");
    set_default(us, "type", "RollingUpdate");
    if (str(us, "type") == "RollingUpdate") {
      json::Value& ru = obj(us, "rollingUpdate");
      if (ru.get("maxUnavailable") == nullptr || ru["maxUnavailable"].is_null()) {
        ru["maxUnavailable"] = 1;
      }
      if (ru.get("maxSurge") == nullptr || ru["maxSurge"].is_null()) {
        ru["maxSurge"] = 0;
      }
    }
    default_revision_history(*spec);
    default_template(*spec);
  }
  bool tracks_generation() const override { return true; }
  Causes validate(const json::Value& ds) const override {
    const json::Value& spec = ds["spec"];
    Causes out;
    const json::Value& selector = spec["selector"];
    append(out, api::validate_label_selector(selector, "spec.selector"));
    auto parsed = api::LabelSelector::from_label_selector(selector);
    const json::Value& tmpl = spec["template"];
    if (parsed && !parsed->matches(tmpl["metadata"]["labels"])) {
      out.push_back(api::field_invalid_rendered("spec.template.metadata.labels",
                                                go_string_map(tmpl["metadata"]["labels"]),
                                                "`selector` does not match template `labels`"));
    }
    if (selector.is_object() &&
        selector["matchLabels"].size() + selector["matchExpressions"].size() == 0) {
      out.push_back(
          api::field_invalid("spec.selector", selector, "empty selector is invalid for daemonset"));
    }
    append(out, validate_pod_template(tmpl, "spec.template"));
    std::string restart = str(tmpl["spec"], "restartPolicy");
    if (restart != "Always") {
      out.push_back(
          api::field_not_supported("spec.template.spec.restartPolicy", restart, {"Always"}));
    }
    if (!tmpl["spec"]["activeDeadlineSeconds"].is_null()) {
      out.push_back(api::field_forbidden("spec.template.spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in DaemonSet is not Supported"));
    }
    append(out, nonnegative(spec, "minReadySeconds", "spec.minReadySeconds"));
    append(out, nonnegative(spec, "templateGeneration", "spec.templateGeneration"));
    const json::Value& us = spec["updateStrategy"];
    std::string type = str(us, "type");
    if (type == "RollingUpdate") {
      const json::Value& ru = us["rollingUpdate"];
      if (ru.is_null()) {
        out.push_back(api::field_required("spec.updateStrategy.rollingUpdate"));
      } else {
        std::string p = "spec.updateStrategy.rollingUpdate";
        append(out, positive_int_or_percent(ru["maxUnavailable"], p + ".maxUnavailable"));
        append(out, positive_int_or_percent(ru["maxSurge"], p + ".maxSurge"));
        append(out, not_more_than_100(ru["maxUnavailable"], p + ".maxUnavailable"));
        append(out, not_more_than_100(ru["maxSurge"], p + ".maxSurge"));
        bool unavailable = int_or_percent(ru["maxUnavailable"]) != 0;
        bool surge = int_or_percent(ru["maxSurge"]) != 0;
        if (unavailable && surge) {
          out.push_back(api::field_invalid(p + ".maxSurge", ru["maxSurge"],
                                           "may not be set when maxUnavailable is non-zero"));
        } else if (!unavailable && !surge) {
          out.push_back(
              api::field_required(p + ".maxUnavailable", "cannot be 0 when maxSurge is 0"));
        }
      }
    } else if (type != "OnDelete") {
      out.push_back(
          api::field_not_supported("spec.updateStrategy", type, {"RollingUpdate", "OnDelete"}));
    }
    append(out, nonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit"));
    return out;
  }
  Causes validate_update(const json::Value& ds, const json::Value& old) const override {
    Causes out = validate(ds);
    append(out, api::validate_immutable_field(ds["spec"]["selector"], old["spec"]["selector"],
                                              "spec.selector"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return with_containers(
        {name_column(), column("Desired", "integer", 0, "Desired scheduled pods."),
         column("Current", "integer", 0, "Scheduled pods."),
         column("Ready", "integer", 0, "Ready pods."),
         column("Up-to-date", "integer", 0, "Updated pods."),
         column("Available", "integer", 0, "Available pods."),
         column("Node Selector", "string", 0, "The pods' node selector."), age_column()},
        true);
  }
  json::Array cells(const json::Value& ds, TimePoint now) const override {
    const json::Value& spec = ds["spec"];
    const json::Value& status = ds["status"];
    auto [names, images] = container_cells(spec["template"]["spec"]["containers"]);
    return {name_cell(ds),
            int_cell(status, "desiredNumberScheduled"),
            int_cell(status, "currentNumberScheduled"),
            int_cell(status, "numberReady"),
            int_cell(status, "updatedNumberScheduled"),
            int_cell(status, "numberAvailable"),
            json::Value(format_labels(spec["template"]["spec"]["nodeSelector"])),
            age_cell(ds, now),
            json::Value(names),
            json::Value(images),
            json::Value(format_label_selector(spec["selector"]))};
  }
};

// ---- ControllerRevision -------------------------------------------------------------------------

class ControllerRevisionStrategy final : public Strategy {
public:
  Causes validate(const json::Value& cr) const override {
    Causes out;
    if (cr.get("data") == nullptr || cr["data"].is_null()) {
      out.push_back(api::field_required("data", "data is mandatory"));
    }
    append(out, nonnegative(cr, "revision", "revision"));
    return out;
  }
  Causes validate_update(const json::Value& cr, const json::Value& old) const override {
    Causes out = validate(cr);
    append(out, api::validate_immutable_field(cr["data"], old["data"], "data"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(), column("Controller", "string", 0, "Controller of the object"),
            column("Revision", "string", 0, "The revision number."), age_column()};
  }
  json::Array cells(const json::Value& cr, TimePoint now) const override {
    std::string controller = "<none>";
    for (const json::Value& ref : arr(cr["metadata"], "ownerReferences")) {
      if (!ref.bool_or("controller")) {
        continue;
      }
      std::string api_version = str(ref, "apiVersion");
      std::string group;
      if (auto slash = api_version.find('/'); slash != std::string::npos) {
        group = api_version.substr(0, slash);
      }
      std::string kind = str(ref, "kind");
      std::string gk = group.empty() ? kind : kind + "." + group;
      std::transform(gk.begin(), gk.end(), gk.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      controller = gk.empty() ? str(ref, "name") : gk + "/" + str(ref, "name");
      break;
    }
    return {name_cell(cr), json::Value(controller), int_cell(cr, "revision"), age_cell(cr, now)};
  }
};

}  // namespace

const Strategy* apps_strategy(std::string_view kind) {
  static const DeploymentStrategy kDeployment;
  static const ReplicaSetStrategy kReplicaSet;
  static const StatefulSetStrategy kStatefulSet;
  static const DaemonSetStrategy kDaemonSet;
  static const ControllerRevisionStrategy kRevision;
  if (kind == "Deployment") {
    return &kDeployment;
  }
  if (kind == "ReplicaSet") {
    return &kReplicaSet;
  }
  if (kind == "StatefulSet") {
    return &kStatefulSet;
  }
  if (kind == "DaemonSet") {
    return &kDaemonSet;
  }
  if (kind == "ControllerRevision") {
    return &kRevision;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
