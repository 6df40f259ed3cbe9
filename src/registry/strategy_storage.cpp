// SPDX-License-Identifier: Apache-2.0
// storage.k8s.io/v1: StorageClass, CSIDriver, CSINode, VolumeAttachment.

#include <utility>

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

bool is_default_class(const json::Value& sc) {
  const json::Value& a = sc["metadata"]["annotations"];
  return a.string_or("storageclass.kubernetes.io/is-default-class") == "true" ||
         a.string_or("storageclass.beta.kubernetes.io/is-default-class") == "true";
}

class StorageClassStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& sc) const override {
    set_default(sc, "reclaimPolicy", "Delete");
    set_default(sc, "volumeBindingMode", "Immediate");
  }
  Causes validate(const json::Value& sc) const override {
    Causes out;
    std::string provisioner = str(sc, "provisioner");
    if (provisioner.empty()) {
      out.push_back(api::field_required("provisioner"));
    } else {
      for (const auto& msg : api::is_qualified_name(provisioner)) {
        out.push_back(api::field_invalid("provisioner", provisioner, msg));
      }
    }
    std::string policy = str(sc, "reclaimPolicy");
    if (!policy.empty() && policy != "Delete" && policy != "Retain") {
      out.push_back(api::field_not_supported("reclaimPolicy", policy, {"Delete", "Retain"}));
    }
    std::string mode = str(sc, "volumeBindingMode");
    if (mode.empty()) {
      out.push_back(api::field_required("volumeBindingMode"));
    } else if (mode != "Immediate" && mode != "WaitForFirstConsumer") {
      out.push_back(api::field_not_supported("volumeBindingMode", mode,
                                             {"Immediate", "WaitForFirstConsumer"}));
    }
    return out;
  }
  Causes validate_update(const json::Value& sc, const json::Value& old) const override {
    Causes out;
    auto norm = [](const json::Value& v) {
      return v.is_object() && v.as_object().empty() ? json::Value() : v;
    };
    if (!(norm(sc["parameters"]) == norm(old["parameters"]))) {
      out.push_back(api::field_forbidden("parameters", "updates to parameters are forbidden."));
    }
    if (str(sc, "provisioner") != str(old, "provisioner")) {
      out.push_back(api::field_forbidden("provisioner", "updates to provisioner are forbidden."));
    }
    if (str(sc, "reclaimPolicy") != str(old, "reclaimPolicy")) {
      out.push_back(
          api::field_forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
    }
    append(out, api::validate_immutable_field(sc["volumeBindingMode"], old["volumeBindingMode"],
                                              "volumeBindingMode"));
    append(out, validate(sc));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Provisioner", "string", 0, "The volume plugin that provisions volumes."),
            column("ReclaimPolicy", "string", 0, "What happens to released volumes."),
            column("VolumeBindingMode", "string", 0, "When volumes are bound and provisioned."),
            column("AllowVolumeExpansion", "string", 0, "Whether volumes may grow."),
            age_column()};
  }
  json::Array cells(const json::Value& sc, TimePoint now) const override {
    std::string name = str(sc["metadata"], "name");
    if (is_default_class(sc)) {
      name += " (default)";
    }
    std::string policy = sc["reclaimPolicy"].is_string() ? str(sc, "reclaimPolicy") : "Delete";
    std::string mode =
        sc["volumeBindingMode"].is_string() ? str(sc, "volumeBindingMode") : "Immediate";
    return {json::Value(name),
            json::Value(str(sc, "provisioner")),
            json::Value(policy),
            json::Value(mode),
            json::Value(sc.bool_or("allowVolumeExpansion")),
            age_cell(sc, now)};
  }
};

class CsiDriverStrategy final : public Strategy {
public:
  void apply_defaults(json::Value& d) const override {
    json::Value& spec = obj(d, "spec");
    for (auto [key, value] : {std::pair<const char*, json::Value>{"attachRequired", true},
                              {"podInfoOnMount", false},
                              {"storageCapacity", false},
                              {"requiresRepublish", false},
                              {"seLinuxMount", false}}) {
      if (spec.get(key) == nullptr || spec[key].is_null()) {
        spec[key] = value;
      }
    }
    if (spec["volumeLifecycleModes"].size() == 0) {
      spec["volumeLifecycleModes"] = json::Array{json::Value("Persistent")};
    }
    set_default(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  }
  Causes validate(const json::Value& d) const override {
    Causes out;
    const json::Value& spec = d["spec"];
    std::string policy = str(spec, "fsGroupPolicy");
    if (!policy.empty() && policy != "File" && policy != "None" &&
        policy != "ReadWriteOnceWithFSType") {
      out.push_back(api::field_not_supported("spec.fsGroupPolicy", policy,
                                             {"File", "None", "ReadWriteOnceWithFSType"}));
    }
    const json::Array& modes = arr(spec, "volumeLifecycleModes");
    for (std::size_t i = 0; i < modes.size(); ++i) {
      std::string m = modes[i].is_string() ? modes[i].as_string() : "";
      if (m != "Persistent" && m != "Ephemeral") {
        out.push_back(api::field_not_supported(api::field_index("spec.volumeLifecycleModes", i), m,
                                               {"Ephemeral", "Persistent"}));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& d, const json::Value& old) const override {
    Causes out = validate(d);
    append(out,
           api::validate_immutable_field(d["spec"]["attachRequired"], old["spec"]["attachRequired"],
                                         "spec.attachRequired"));
    append(out, api::validate_immutable_field(d["spec"]["volumeLifecycleModes"],
                                              old["spec"]["volumeLifecycleModes"],
                                              "spec.volumeLifecycleModes"));
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("AttachRequired", "boolean"),
            column("PodInfoOnMount", "boolean"),
            column("StorageCapacity", "boolean"),
            column("TokenRequests", "string"),
            column("RequiresRepublish", "boolean"),
            column("Modes", "string"),
            age_column()};
  }
  json::Array cells(const json::Value& d, TimePoint now) const override {
    const json::Value& spec = d["spec"];
    std::string modes;
    for (const json::Value& m : arr(spec, "volumeLifecycleModes")) {
      modes += (modes.empty() ? "" : ",") + (m.is_string() ? m.as_string() : "");
    }
    std::string tokens = "<unset>";
    if (spec["tokenRequests"].is_array()) {
      tokens.clear();
      for (const json::Value& t : arr(spec, "tokenRequests")) {
        tokens += (tokens.empty() ? "" : ",") + str(t, "audience");
      }
    }
    return {name_cell(d),
            json::Value(spec["attachRequired"].is_bool() ? spec.bool_or("attachRequired") : true),
            json::Value(spec.bool_or("podInfoOnMount")),
            json::Value(spec.bool_or("storageCapacity")),
            json::Value(tokens),
            json::Value(spec.bool_or("requiresRepublish")),
            json::Value(modes.empty() ? "<none>" : modes),
            age_cell(d, now)};
  }
};

class CsiNodeStrategy final : public Strategy {
public:
  Causes validate(const json::Value& n) const override {
    Causes out;
    const json::Array& drivers = arr(n["spec"], "drivers");
    for (std::size_t i = 0; i < drivers.size(); ++i) {
      std::string p = api::field_index("spec.drivers", i);
      if (drivers[i].string_or("name").empty()) {
        out.push_back(api::field_required(api::field_child(p, "name")));
      }
      if (drivers[i].string_or("nodeID").empty()) {
        out.push_back(api::field_required(api::field_child(p, "nodeID")));
      }
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Drivers", "integer", 0,
                   "Drivers indicates the number of CSI drivers registered on the node"),
            age_column()};
  }
  json::Array cells(const json::Value& n, TimePoint now) const override {
    return {name_cell(n), json::Value(static_cast<std::int64_t>(n["spec"]["drivers"].size())),
            age_cell(n, now)};
  }
};

class VolumeAttachmentStrategy final : public Strategy {
public:
  Causes validate(const json::Value& va) const override {
    Causes out;
    const json::Value& spec = va["spec"];
    if (spec.string_or("attacher").empty()) {
      out.push_back(api::field_required("spec.attacher"));
    }
    if (spec.string_or("nodeName").empty()) {
      out.push_back(api::field_required("spec.nodeName"));
    }
    const json::Value& source = spec["source"];
    bool pv = !source["persistentVolumeName"].is_null();
    bool inline_spec = !source["inlineVolumeSpec"].is_null();
    if (pv == inline_spec) {
      out.push_back(api::field_required("spec.source",
                                        "must specify exactly one of "
                                        "persistentVolumeName and inlineVolumeSpec"));
    }
    return out;
  }
  Causes validate_update(const json::Value& va, const json::Value& old) const override {
    Causes out = validate(va);
    if (!(va["spec"] == old["spec"])) {
      out.push_back(api::field_invalid("spec", va["spec"], "field is immutable"));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    return {name_column(),
            column("Attacher", "string", 0, "The attacher.", "name"),
            column("PV", "string"),
            column("Node", "string"),
            column("Attached", "boolean"),
            age_column()};
  }
  json::Array cells(const json::Value& va, TimePoint now) const override {
    const json::Value& spec = va["spec"];
    return {name_cell(va),
            json::Value(str(spec, "attacher")),
            json::Value(str(spec["source"], "persistentVolumeName")),
            json::Value(str(spec, "nodeName")),
            json::Value(va["status"].bool_or("attached")),
            age_cell(va, now)};
  }
};

}  // namespace

const Strategy* storage_strategy(std::string_view kind) {
  static const StorageClassStrategy kStorageClass;
  static const CsiDriverStrategy kCsiDriver;
  static const CsiNodeStrategy kCsiNode;
  static const VolumeAttachmentStrategy kVolumeAttachment;
  if (kind == "StorageClass") {
    return &kStorageClass;
  }
  if (kind == "CSIDriver") {
    return &kCsiDriver;
  }
  if (kind == "CSINode") {
    return &kCsiNode;
  }
  if (kind == "VolumeAttachment") {
    return &kVolumeAttachment;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
