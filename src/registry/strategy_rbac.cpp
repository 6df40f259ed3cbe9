// SPDX-License-Identifier: Apache-2.0
// rbac.authorization.k8s.io/v1: Role, ClusterRole (rules; upstream's default Name/Created At
// table), RoleBinding, ClusterRoleBinding (roleRef, subjects, Role/Users/Groups/ServiceAccounts
// columns).

#include <utility>

#include <fmt/format.h>

#include "printing.hpp"
#include "strategy_util.hpp"

namespace skiff::registry::strategies {

namespace {

constexpr std::string_view kGroup = "rbac.authorization.k8s.io";

Causes validate_rules(const json::Value& rules, bool namespaced) {
  Causes out;
  const json::Array& list = rules.is_array() ? rules.as_array() : json::Array{};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& r = list[i];
    std::string p = api::field_index("rules", i);
    if (r["verbs"].size() == 0) {
      out.push_back(api::field_required(api::field_child(p, "verbs"),
                                        "verbs must contain at least one value"));
    }
    if (r["nonResourceURLs"].size() > 0) {
      if (namespaced) {
        out.push_back(api::field_invalid(api::field_child(p, "nonResourceURLs"),
                                         r["nonResourceURLs"],
                                         "namespaced rules cannot apply to non-resource URLs"));
      }
      if (r["apiGroups"].size() > 0 || r["resources"].size() > 0 || r["resourceNames"].size() > 0) {
        out.push_back(api::field_invalid(api::field_child(p, "nonResourceURLs"),
                                         r["nonResourceURLs"],
                                         "rules cannot apply to both regular resources and "
                                         "non-resource URLs"));
      }
      continue;
    }
    if (r["apiGroups"].size() == 0) {
      out.push_back(api::field_required(api::field_child(p, "apiGroups"),
                                        "resource rules must supply at least one api group"));
    }
    if (r["resources"].size() == 0) {
      out.push_back(api::field_required(api::field_child(p, "resources"),
                                        "resource rules must supply at least one resource"));
    }
  }
  return out;
}

class RoleStrategy final : public Strategy {
public:
  explicit RoleStrategy(bool cluster) : cluster_(cluster) {}
  Causes validate(const json::Value& role) const override {
    Causes out;
    const json::Value& agg = role["aggregationRule"];
    if (cluster_ && agg.is_object()) {
      const json::Array& selectors = arr(agg, "clusterRoleSelectors");
      if (selectors.empty()) {
        out.push_back(api::field_required("aggregationRule.clusterRoleSelectors",
                                          "at least one clusterRoleSelector required if "
                                          "aggregationRule is non-nil"));
      }
      for (std::size_t i = 0; i < selectors.size(); ++i) {
        append(out, api::validate_label_selector(
                        selectors[i], api::field_index("aggregationRule.clusterRoleSelectors", i)));
      }
      return out;
    }
    append(out, validate_rules(role["rules"], !cluster_));
    return out;
  }
  std::vector<PrinterColumn> columns() const override { return default_created_at_columns(); }
  json::Array cells(const json::Value& role, TimePoint) const override {
    return default_created_at_cells(role);
  }

private:
  bool cluster_;
};

void default_binding(json::Value& b) {
  if (json::Value* ref = b.get("roleRef"); ref != nullptr && ref->is_object()) {
    set_default(*ref, "apiGroup", std::string(kGroup));
  }
  if (json::Value* subjects = b.get("subjects"); subjects != nullptr && subjects->is_array()) {
    for (json::Value& s : subjects->as_array()) {
      if (s.is_object() && unset(s.get("apiGroup"))) {
        std::string kind = str(s, "kind");
        if (kind == "User" || kind == "Group") {
          s["apiGroup"] = std::string(kGroup);
        }
      }
    }
  }
}

class BindingStrategy final : public Strategy {
public:
  explicit BindingStrategy(bool cluster) : cluster_(cluster) {}
  void apply_defaults(json::Value& b) const override { default_binding(b); }
  Causes validate(const json::Value& b) const override {
    Causes out;
    const json::Value& ref = b["roleRef"];
    std::string group = str(ref, "apiGroup");
    if (group != kGroup) {
      out.push_back(api::field_not_supported("roleRef.apiGroup", group, {std::string(kGroup)}));
    }
    std::string kind = str(ref, "kind");
    if (cluster_) {
      if (kind != "ClusterRole") {
        out.push_back(api::field_not_supported("roleRef.kind", kind, {"ClusterRole"}));
      }
    } else if (kind != "Role" && kind != "ClusterRole") {
      out.push_back(api::field_not_supported("roleRef.kind", kind, {"Role", "ClusterRole"}));
    }
    std::string name = str(ref, "name");
    if (name.empty()) {
      out.push_back(api::field_required("roleRef.name"));
    } else {
      for (const auto& msg : api::name_is_path_segment(name, false)) {
        out.push_back(api::field_invalid("roleRef.name", name, msg));
      }
    }
    const json::Array& subjects = arr(b, "subjects");
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      const json::Value& s = subjects[i];
      std::string p = api::field_index("subjects", i);
      std::string sname = str(s, "name");
      if (sname.empty()) {
        out.push_back(api::field_required(api::field_child(p, "name")));
      }
      std::string skind = str(s, "kind");
      std::string sgroup = str(s, "apiGroup");
      if (skind == "ServiceAccount") {
        if (!sname.empty()) {
          for (const auto& msg : api::name_is_dns_subdomain(sname, false)) {
            out.push_back(api::field_invalid(api::field_child(p, "name"), sname, msg));
          }
        }
        if (!sgroup.empty()) {
          out.push_back(api::field_not_supported(api::field_child(p, "apiGroup"), sgroup, {""}));
        }
        if (cluster_ && s.string_or("namespace").empty()) {
          out.push_back(api::field_required(api::field_child(p, "namespace")));
        }
      } else if (skind == "User" || skind == "Group") {
        if (sgroup != kGroup) {
          out.push_back(api::field_not_supported(api::field_child(p, "apiGroup"), sgroup,
                                                 {std::string(kGroup)}));
        }
      } else {
        out.push_back(api::field_not_supported(api::field_child(p, "kind"), skind,
                                               {"ServiceAccount", "User", "Group"}));
      }
    }
    return out;
  }
  Causes validate_update(const json::Value& b, const json::Value& old) const override {
    Causes out = validate(b);
    if (!(b["roleRef"] == old["roleRef"])) {
      out.push_back(api::field_invalid("roleRef", b["roleRef"], "cannot change roleRef"));
    }
    return out;
  }
  std::vector<PrinterColumn> columns() const override {
    std::string what = cluster_ ? "clusterRoleBinding" : "roleBinding";
    return {name_column(),
            column("Role", "string", 0, "The role the binding grants."),
            age_column(),
            column("Users", "string", 1, "Users in the " + what),
            column("Groups", "string", 1, "Groups in the " + what),
            column("ServiceAccounts", "string", 1, "ServiceAccounts in the " + what)};
  }
  json::Array cells(const json::Value& b, TimePoint now) const override {
    std::string users;
    std::string groups;
    std::string sas;
    auto add = [](std::string& list, const std::string& item) {
      list += (list.empty() ? "" : ", ") + item;
    };
    for (const json::Value& s : arr(b, "subjects")) {
      std::string kind = str(s, "kind");
      if (kind == "ServiceAccount") {
        add(sas, str(s, "namespace") + "/" + str(s, "name"));
      } else if (kind == "User") {
        add(users, str(s, "name"));
      } else if (kind == "Group") {
        add(groups, str(s, "name"));
      }
    }
    const json::Value& ref = b["roleRef"];
    return {
        name_cell(b),        json::Value(fmt::format("{}/{}", str(ref, "kind"), str(ref, "name"))),
        age_cell(b, now),    json::Value(users),
        json::Value(groups), json::Value(sas)};
  }

private:
  bool cluster_;
};

}  // namespace

const Strategy* rbac_strategy(std::string_view kind) {
  static const RoleStrategy kRole(false);
  static const RoleStrategy kClusterRole(true);
  static const BindingStrategy kBinding(false);
  static const BindingStrategy kClusterBinding(true);
  if (kind == "Role") {
    return &kRole;
  }
  if (kind == "ClusterRole") {
    return &kClusterRole;
  }
  if (kind == "RoleBinding") {
    return &kBinding;
  }
  if (kind == "ClusterRoleBinding") {
    return &kClusterBinding;
  }
  return nullptr;
}

}  // namespace skiff::registry::strategies
