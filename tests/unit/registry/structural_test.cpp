// SPDX-License-Identifier: Apache-2.0
// Strict field detection and type checking of built-in kinds, and the upstream-style messages.
#include "skiff/registry/structural.hpp"

#include <string>
#include <vector>

#include "skiff/registry/schema.hpp"

#include "registry_test_util.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::check_types;
using skiff::registry::GroupVersionKind;
using skiff::registry::Node;
using skiff::registry::Schema;
using skiff::registry::unknown_fields;
using skiff::testing::parse_json;

namespace {

const Node& kind(const GroupVersionKind& gvk) {
  const Node* n = Schema::builtin().find_kind(gvk);
  REQUIRE(n != nullptr);
  return *n;
}

const char* const kDeployment = R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": null,
               "annotations": {"a": "b"}},
  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
           "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
           "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx",
                                                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                                 "resources": {"limits": {"cpu": "500m", "memory": 134217728}}}],
                                 "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}]}}},
  "status": {"replicas": 0}})";

}  // namespace

TEST_CASE("a valid built-in object has no unknown fields and passes type checking",
          "[registry][structural]") {
  const Node& d = kind({"apps", "v1", "Deployment"});
  Value v = parse_json(kDeployment);
  CHECK(unknown_fields(d, v).empty());
  CHECK(check_types(d, v));
}

TEST_CASE("unknown fields are reported with upstream's paths", "[registry][structural]") {
  struct Case {
    GroupVersionKind gvk;
    const char* object;
    std::vector<std::string> unknown;
  };
  const std::vector<Case> cases = {
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"foo":1,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","imagee":"x"}]}}},
           "statuss":{}})",
       {"spec.foo", "spec.template.spec.containers[1].imagee", "statuss"}},
      // Map values are checked against the value type, keys are free.
      {{"", "v1", "Pod"},
       R"({"metadata":{"labels":{"any-key":"v"},"nmae":"x"},
           "spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1"}},
                                  "env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"x","bogus":1}}}]}]}})",
       {"metadata.nmae", "spec.containers[0].env[0].valueFrom.fieldRef.bogus"}},
      // RawExtension (kAny) takes anything; so does FieldsV1 in managedFields.
      {{"apps", "v1", "ControllerRevision"},
       R"({"data":{"whatever":{"deep":[1,2]}},"revision":1,
           "metadata":{"managedFields":[{"manager":"m","fieldsV1":{"f:spec":{}}}]}})",
       {}},
      // Inlined members are known under their JSON names; the protobuf-only name is not.
      {{"", "v1", "Pod"},
       R"({"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","volumeSource":{}}]}})",
       {"spec.volumes[1].volumeSource"}},
      // Values of the wrong type are not descended into (type checking reports them).
      {{"", "v1", "ConfigMap"},
       R"({"metadata":"x","data":{"k":"v"},"binaryData":{"b":"AA=="}})",
       {}},
      // Unknown top-level and TypeMeta fields.
      {{"", "v1", "Namespace"},
       R"({"apiVersion":"v1","kind":"Namespace","extra":true})",
       {"extra"}},
  };
  for (const Case& c : cases) {
    INFO(c.object);
    CHECK(unknown_fields(kind(c.gvk), parse_json(c.object)) == c.unknown);
  }
  CHECK(skiff::registry::unknown_field_message("spec.foo") == "unknown field \"spec.foo\"");
  CHECK(skiff::registry::duplicate_field_message("metadata.name") ==
        "duplicate field \"metadata.name\"");
  skiff::Error e = skiff::registry::strict_decoding_error(
      "Deployment in version \"v1\" cannot be handled as a Deployment: ", {"spec.foo", "x"},
      {"metadata.name"});
  CHECK(e.reason == Reason::kBadRequest);
  CHECK(e.message ==
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: "
        "duplicate field \"metadata.name\", unknown field \"spec.foo\", unknown field \"x\"");
}

TEST_CASE("type mismatches in built-in objects fail with Go's decoding errors",
          "[registry][structural]") {
  struct Case {
    GroupVersionKind gvk;
    const char* object;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"replicas":"3"}})",
       "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type "
       "int32"},
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"replicas":1.5}})",
       "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of "
       "type int32"},
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"replicas":3000000000}})",
       "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas "
       "of type int32"},
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"template":{"spec":{"containers":{"name":"x"}}}}})",
       "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers "
       "of type []v1.Container"},
      {{"apps", "v1", "Deployment"},
       R"({"spec":{"paused":"yes"}})",
       "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type "
       "bool"},
      {{"", "v1", "Pod"},
       R"({"metadata":{"labels":{"a":1}}})",
       "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type "
       "string"},
      {{"", "v1", "Pod"},
       R"({"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1 core"}}}]}})",
       "quantities must match the regular expression "
       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
      {{"", "v1", "Pod"},
       R"({"spec":{"overhead":{"cpu":"5Mm"}}})",
       "unable to parse quantity's suffix"},
      {{"", "v1", "Pod"},
       R"({"spec":{"overhead":{"cpu":"1.2.3"}}})",
       "unable to parse numeric part of quantity"},
      {{"", "v1", "Pod"},
       R"({"spec":{"overhead":{"cpu":true}}})",
       "quantities must match the regular expression "
       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
      {{"", "v1", "Service"},
       R"({"spec":{"ports":[{"port":80,"targetPort":true}]}})",
       "json: cannot unmarshal bool into Go value of type int32"},
      {{"", "v1", "Namespace"},
       R"({"metadata":{"creationTimestamp":"yesterday"}})",
       "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as "
       "\"2006\""},
      {{"", "v1", "Secret"},
       R"({"data":{"k":"not base64!"}})",
       "illegal base64 data at input byte 3"},
      {{"", "v1", "Namespace"},
       R"([1,2])",
       "json: cannot unmarshal array into Go value of type v1.Namespace"},
  };
  for (const Case& c : cases) {
    INFO(c.object);
    auto r = check_types(kind(c.gvk), parse_json(c.object));
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kBadRequest);
    CHECK(r.error().message == c.message);
  }
  // Accepted forms: nulls anywhere, numbers for quantities, strings and ints for int-or-string,
  // integral doubles for integers.
  const std::vector<std::pair<GroupVersionKind, const char*>> ok = {
      {{"", "v1", "Pod"},
       R"({"metadata":null,"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":2,"memory":"1e3","ephemeral-storage":"+1.5Gi"}}}]}})"},
      {{"", "v1", "Service"},
       R"({"spec":{"ports":[{"port":80.0,"targetPort":"http"},{"port":81,"targetPort":8081}]}})"},
      {{"", "v1", "Namespace"},
       R"({"metadata":{"creationTimestamp":"2024-01-02T03:04:05Z","deletionTimestamp":"2024-01-02T03:04:05.123+02:00"}})"},
      {{"", "v1", "Secret"}, R"({"data":{"k":"aGk=","e":""}})"},
  };
  for (const auto& [gvk, object] : ok) {
    INFO(object);
    auto r = check_types(kind(gvk), parse_json(object));
    INFO((r ? std::string() : r.error().message));
    CHECK(r);
  }
}

TEST_CASE("field errors show values the way Go prints them", "[registry][structural]") {
  using skiff::registry::go_value_text;
  CHECK(go_value_text(Value("x\"y")) == R"("x\"y")");
  CHECK(go_value_text(Value(3)) == "3");
  CHECK(go_value_text(Value(1.5)) == "1.5");
  CHECK(go_value_text(Value(1e6)) == "1e+06");
  CHECK(go_value_text(Value(123456.0)) == "123456");
  CHECK(go_value_text(Value(0.00001)) == "1e-05");
  CHECK(go_value_text(Value(true)) == "true");
  CHECK(go_value_text(Value()) == "null");
  CHECK(go_value_text(parse_json(R"({"b":"x","a":1})")) ==
        R"(map[string]interface {}{"a":1, "b":"x"})");
  CHECK(go_value_text(parse_json(R"(["a",2,null])")) ==
        R"([]interface {}{"a", 2, interface {}(nil)})");

  skiff::Error one = skiff::registry::invalid_error(
      "Widget.example.com", "w", {{"FieldValueRequired", "Required value", "spec.size"}});
  CHECK(one.reason == Reason::kInvalid);
  CHECK(one.message == "Widget.example.com \"w\" is invalid: spec.size: Required value");
  REQUIRE(one.causes.size() == 1);
  skiff::Error two =
      skiff::registry::invalid_error("Pod", "p",
                                     {{"FieldValueRequired", "Required value", "spec.a"},
                                      {"FieldValueRequired", "Required value", "spec.a"},
                                      {"FieldValueInvalid", "Invalid value: 1: bad", "spec.b"}});
  CHECK(two.message ==
        "Pod \"p\" is invalid: [spec.a: Required value, spec.b: Invalid value: 1: bad]");
  CHECK(two.causes.size() == 3);
}
