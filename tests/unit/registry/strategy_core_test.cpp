// SPDX-License-Identifier: Apache-2.0
// Strategy behaviour that is not a plain data case: the kind -> strategy mapping over the whole
// catalog, Table shape for every built-in kind, pod graceful deletion, bad input.
#include <string>

#include "skiff/registry/catalog.hpp"

#include "registry_test_util.hpp"
#include "strategies.hpp"

using skiff::json::Value;
using skiff::registry::GroupVersionKind;
using skiff::registry::strategy_for;
using skiff::testing::parse_json;

TEST_CASE("every built-in kind has a Table whose rows match its columns") {
  auto now = std::chrono::system_clock::now();
  for (const auto& t : skiff::registry::builtin_types()) {
    INFO(t->gvk.group << "/" << t->gvk.version << " " << t->gvk.kind);
    CHECK(t->columns.size() >= 2);
    CHECK(t->columns.front().name != "");
    // An object with nothing but metadata still prints (every field missing), and so does one
    // whose fields have the wrong JSON types.
    Value bare = Value(skiff::json::Object{{"apiVersion", t->group_version()},
                                           {"kind", t->gvk.kind},
                                           {"metadata", skiff::json::Object{{"name", "x"}}}});
    CHECK(t->strategy->cells(bare, now).size() == t->columns.size());
    Value odd = bare;
    odd["spec"] = "wrong";
    odd["status"] = 5;
    CHECK(t->strategy->cells(odd, now).size() == t->columns.size());
    Value defaulted = odd;
    t->strategy->apply_defaults(defaulted);
    (void)t->strategy->validate(defaulted);
    (void)t->strategy->validate_update(defaulted, bare);
    for (const auto& label : t->strategy->field_labels()) {
      CHECK(t->strategy->field_value(bare, label).has_value());
    }
  }
}

TEST_CASE("pods are deleted gracefully only when scheduled, running and given a grace period") {
  const auto& pods = strategy_for(GroupVersionKind{"", "v1", "Pod"});
  Value pod = parse_json(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}})");
  CHECK(pods.graceful_delete(pod, 30));
  CHECK_FALSE(pods.graceful_delete(pod, 0));
  Value unscheduled = pod;
  unscheduled["spec"].as_object().erase("nodeName");
  CHECK_FALSE(pods.graceful_delete(unscheduled, 30));
  Value done = pod;
  done["status"]["phase"] = "Succeeded";
  CHECK_FALSE(pods.graceful_delete(done, 30));
  const auto& cms = strategy_for(GroupVersionKind{"", "v1", "ConfigMap"});
  CHECK_FALSE(cms.graceful_delete(pod, 30));
}

TEST_CASE("kinds without special rules keep the default strategy") {
  const auto& binding = strategy_for(GroupVersionKind{"", "v1", "Binding"});
  CHECK(&binding == &skiff::registry::default_strategy());
  const auto& review =
      strategy_for(GroupVersionKind{"authorization.k8s.io", "v1", "SubjectAccessReview"});
  CHECK(&review == &skiff::registry::default_strategy());
}
