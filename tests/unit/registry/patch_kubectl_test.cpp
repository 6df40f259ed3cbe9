// SPDX-License-Identifier: Apache-2.0
// The patches kubectl 1.32 sends (notes/kubectl.md §4, §7), applied as upstream applies them.
#include "skiff/registry/patch.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::apply_patch_body;
using skiff::registry::manager_or_user_agent;
using skiff::registry::parse_apply_patch;
using skiff::registry::patch_type_from_content_type;
using skiff::registry::PatchType;
using skiff::registry::validate_patch_options;
using skiff::testing::js;
using skiff::testing::schemas;

namespace {

const char* kDeployment = R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default","uid":"u1","labels":{"app":"web"},
              "annotations":{"deployment.kubernetes.io/revision":"1"}},
  "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[
        {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
         "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
         "imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log"},
        {"name":"sidecar","image":"busybox","command":["sleep","3600"]}],
        "volumes":[{"name":"data","emptyDir":{}}],
        "restartPolicy":"Always","dnsPolicy":"ClusterFirst"}}}})";

Value smp(const Value& live, std::string_view body, const skiff::registry::Node* schema) {
  auto r = apply_patch_body(PatchType::kStrategic, live, body, schema);
  INFO(body);
  if (!r) {
    FAIL(r.error().message);
  }
  return *r;
}

const Value& containers(const Value& d) {
  return d["spec"]["template"]["spec"]["containers"];
}

}  // namespace

TEST_CASE("kubectl set image and client-side apply: $setElementOrder with a changed image",
          "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  SECTION("one container named in the order list") {
    auto r =
        smp(live, R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
                          "containers":[{"image":"nginx:1.26","name":"web"}]}}}})",
            schemas().deployment);
    // The image changes and nothing else; the other container (not in the order list) stays, after.
    auto expected = live;
    expected["spec"]["template"]["spec"]["containers"].as_array()[0]["image"] = "nginx:1.26";
    CHECK(r == expected);
    CHECK(containers(r).as_array()[1]["name"] == Value("sidecar"));
  }
  SECTION("both containers, reordered") {
    auto r = smp(live, R"({"spec":{"template":{"spec":{
                            "$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}],
                            "containers":[{"image":"nginx:1.26","name":"web"}]}}}})",
                 schemas().deployment);
    REQUIRE(containers(r).size() == 2);
    CHECK(containers(r).as_array()[0]["name"] == Value("sidecar"));
    CHECK(containers(r).as_array()[1]["image"] == Value("nginx:1.26"));
    CHECK(containers(r).as_array()[1]["ports"] ==
          live["spec"]["template"]["spec"]["containers"].as_array()[0]["ports"]);
  }
  SECTION(
      "client-side apply: replicas, last-applied annotation, a removed env var and a new port") {
    auto r = smp(
        live,
        R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},
                          "spec":{"replicas":3,"template":{"spec":{
                            "$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],
                            "containers":[{"$setElementOrder/env":[{"name":"A"}],
                                           "$setElementOrder/ports":[{"containerPort":80},{"containerPort":443}],
                                           "env":[{"$patch":"delete","name":"B"}],
                                           "name":"web",
                                           "ports":[{"containerPort":443,"protocol":"TCP"}]}]}}}})",
        schemas().deployment);
    CHECK(r["spec"]["replicas"] == Value(3));
    CHECK(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == Value("1"));
    CHECK(r["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] ==
          Value("{}\n"));
    const auto& web = containers(r).as_array()[0];
    CHECK(web["env"] == js(R"([{"name":"A","value":"1"}])"));
    CHECK(web["ports"] ==
          js(R"([{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"protocol":"TCP"}])"));
  }
}

TEST_CASE("kubectl cordon and uncordon", "[registry][patch][kubectl]") {
  const Value node = js(
      R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{"podCIDR":"10.42.0.0/24"}})");
  auto cordoned = smp(node, R"({"spec":{"unschedulable":true}})", schemas().node);
  CHECK(cordoned["spec"] == js(R"({"podCIDR":"10.42.0.0/24","unschedulable":true})"));
  auto uncordoned = smp(cordoned, R"({"spec":{"unschedulable":null}})", schemas().node);
  CHECK(uncordoned == node);
}

TEST_CASE("kubectl rollout restart, pause and resume", "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  auto restarted = smp(live, R"({"spec":{"template":{"metadata":{"annotations":{
                                  "kubectl.kubernetes.io/restartedAt":"2024-05-01T10:00:00Z"}}}}})",
                       schemas().deployment);
  CHECK(
      restarted["spec"]["template"]["metadata"] ==
      js(R"({"labels":{"app":"web"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T10:00:00Z"}})"));
  CHECK(containers(restarted) == containers(live));
  auto again = smp(restarted, R"({"spec":{"template":{"metadata":{"annotations":{
                                  "kubectl.kubernetes.io/restartedAt":"2024-05-02T10:00:00Z"}}}}})",
                   schemas().deployment);
  CHECK(again["spec"]["template"]["metadata"]["annotations"].size() == 1);
  auto paused = smp(live, R"({"spec":{"paused":true}})", schemas().deployment);
  CHECK(paused["spec"]["paused"] == Value(true));
  auto resumed = smp(paused, R"({"spec":{"paused":null}})", schemas().deployment);
  CHECK(resumed == live);
}

TEST_CASE("kubectl rollout undo's JSON patch", "[registry][patch][kubectl]") {
  Value live = js(kDeployment);
  live["metadata"].as_object().erase("annotations");
  auto r = apply_patch_body(
      PatchType::kJson, live,
      R"([{"op":"replace","path":"/spec/template","value":{"metadata":{"labels":{"app":"web"}},
            "spec":{"containers":[{"name":"web","image":"nginx:1.24"}]}}},
          {"op":"replace","path":"/metadata/annotations","value":{"deployment.kubernetes.io/revision":"3"}}])",
      schemas().deployment);
  REQUIRE(r);
  CHECK(containers(*r) == js(R"([{"name":"web","image":"nginx:1.24"}])"));
  CHECK((*r)["metadata"]["annotations"] == js(R"({"deployment.kubernetes.io/revision":"3"})"));
}

TEST_CASE("strategy type change with $retainKeys, as kubectl computes it",
          "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  auto r = smp(
      live,
      R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}})",
      schemas().deployment);
  CHECK(r["spec"]["strategy"] == js(R"({"type":"Recreate"})"));
  // without the directive the old rollingUpdate would stay
  auto merged = smp(live, R"({"spec":{"strategy":{"type":"Recreate"}}})", schemas().deployment);
  CHECK(merged["spec"]["strategy"]["rollingUpdate"].is_object());
}

TEST_CASE("finalizers merge as a set; $deleteFromPrimitiveList removes",
          "[registry][patch][kubectl]") {
  Value live = js(kDeployment);
  live["metadata"]["finalizers"] = js(R"(["a.example.com/x"])");
  auto r = smp(live, R"({"metadata":{"finalizers":["b.example.com/y","a.example.com/x"]}})",
               schemas().deployment);
  CHECK(r["metadata"]["finalizers"] == js(R"(["b.example.com/y","a.example.com/x"])"));
  r = smp(r, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a.example.com/x"]}})",
          schemas().deployment);
  CHECK(r["metadata"]["finalizers"] == js(R"(["b.example.com/y"])"));
  r = smp(
      r,
      R"({"metadata":{"$setElementOrder/finalizers":["c","b.example.com/y"],"finalizers":["c"]}})",
      schemas().deployment);
  CHECK(r["metadata"]["finalizers"] == js(R"(["c","b.example.com/y"])"));
}

TEST_CASE("lists merge by their keys; atomic and unkeyed lists are replaced",
          "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  auto r = smp(live, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"web","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}],
                     "ports":[{"containerPort":80,"name":"http"}]},
                    {"name":"sidecar","command":["sleep","10"]}],
      "volumes":[{"name":"cache","emptyDir":{"medium":"Memory"}}]}}}})",
               schemas().deployment);
  const auto& web = containers(r).as_array()[0];
  CHECK(web["env"] ==
        js(R"([{"name":"A","value":"1"},{"name":"B","value":"20"},{"name":"C","value":"3"}])"));
  CHECK(web["ports"] == js(R"([{"containerPort":80,"protocol":"TCP","name":"http"}])"));
  CHECK(containers(r).as_array()[1]["command"] == js(R"(["sleep","10"])"));
  // Without $setElementOrder a new item goes before server-only items it cannot be ordered against.
  CHECK(r["spec"]["template"]["spec"]["volumes"] ==
        js(R"([{"name":"cache","emptyDir":{"medium":"Memory"}},{"name":"data","emptyDir":{}}])"));
  // volumes: $patch replace
  auto replaced = smp(
      live,
      R"({"spec":{"template":{"spec":{"volumes":[{"$patch":"replace"},{"name":"x","emptyDir":{}}]}}}})",
      schemas().deployment);
  CHECK(replaced["spec"]["template"]["spec"]["volumes"] == js(R"([{"name":"x","emptyDir":{}}])"));
  // a delete directive for a container
  auto deleted =
      smp(live,
          R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}})",
          schemas().deployment);
  CHECK(containers(deleted).size() == 1);
}

TEST_CASE("kubectl edit adding a container with nested directives and nulls",
          "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  auto r = smp(live, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"},{"name":"new"}],
      "containers":[{"name":"new","image":"redis","args":null,
                     "$setElementOrder/ports":[{"containerPort":6379}],
                     "ports":[{"containerPort":6379}]}]}}}})",
               schemas().deployment);
  REQUIRE(containers(r).size() == 3);
  CHECK(containers(r).as_array()[2] ==
        js(R"({"name":"new","image":"redis","ports":[{"containerPort":6379}]})"));
}

TEST_CASE("strategic merge patch requests answer with upstream's Status",
          "[registry][patch][kubectl]") {
  const Value live = js(kDeployment);
  auto status = [&](std::string_view body) {
    auto r = apply_patch_body(PatchType::kStrategic, live, body, schemas().deployment);
    INFO(body);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(status("[1]").reason == Reason::kBadRequest);
  CHECK(status("{").reason == Reason::kBadRequest);
  CHECK(status(R"({"spec":{"template":{"spec":{"$setElementOrder/containers":{}}}}})").reason ==
        Reason::kInternal);
  auto mixed = status(R"({"spec":{"template":{"spec":{"containers":[[1]]}}}})");
  CHECK(mixed.reason == Reason::kInternal);
  CHECK_THAT(mixed.message, Catch::StartsWith("list element types are not identical"));
  Value empty_list = live;
  empty_list["spec"]["template"]["spec"]["volumes"] = Value::array();
  auto lists_r =
      apply_patch_body(PatchType::kStrategic, empty_list,
                       R"({"spec":{"template":{"spec":{"volumes":[[1]]}}}})", schemas().deployment);
  REQUIRE_FALSE(lists_r);
  const auto& lists = lists_r.error();
  CHECK(lists.reason == Reason::kInvalid);
  CHECK(lists.message == "the server rejected our request due to an error in our request");
  auto key = status(R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})");
  CHECK(key.reason == Reason::kInternal);
  CHECK(key.message == "map: map[image:x] does not contain declared merge key: name");
  // a null body is an empty patch
  auto same = apply_patch_body(PatchType::kStrategic, live, "null", schemas().deployment);
  REQUIRE(same);
  CHECK(*same == live);
}

TEST_CASE("patch content types, options and manager names", "[registry][patch][kubectl]") {
  CHECK(patch_type_from_content_type("application/strategic-merge-patch+json") ==
        PatchType::kStrategic);
  CHECK(patch_type_from_content_type("application/merge-patch+json; charset=utf-8") ==
        PatchType::kMerge);
  CHECK(patch_type_from_content_type("application/json-patch+json") == PatchType::kJson);
  CHECK(patch_type_from_content_type("application/apply-patch+yaml") == PatchType::kApply);
  CHECK_FALSE(patch_type_from_content_type("application/json"));

  CHECK(validate_patch_options(PatchType::kApply, "kubectl", false));
  auto no_manager = validate_patch_options(PatchType::kApply, "", false);
  REQUIRE_FALSE(no_manager);
  CHECK(no_manager.error().reason == Reason::kInvalid);
  CHECK(no_manager.error().message ==
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for "
        "apply patch");
  REQUIRE(no_manager.error().causes.size() == 1);
  CHECK(no_manager.error().causes[0].type == "FieldValueRequired");
  auto force = validate_patch_options(PatchType::kMerge, "kubectl-patch", true);
  REQUIRE_FALSE(force);
  CHECK(force.error().causes[0].field == "force");
  CHECK_FALSE(validate_patch_options(PatchType::kMerge, std::string(129, 'm'), false));
  CHECK_FALSE(validate_patch_options(PatchType::kMerge, "bad\x01", false));

  CHECK(manager_or_user_agent("kubectl-edit", "kubectl/v1.32.5") == "kubectl-edit");
  CHECK(manager_or_user_agent("", "kubectl/v1.32.5 (linux/amd64) kubernetes/abc") == "kubectl");
  CHECK(manager_or_user_agent("", "Go-http-client/1.1") == "Go-http-client");
  CHECK(manager_or_user_agent("", std::string(200, 'x')).size() == 128);
  CHECK(manager_or_user_agent("", "a\tb/1") == "ab");
}

TEST_CASE("apply patch bodies are YAML or JSON objects", "[registry][patch][kubectl]") {
  auto json_body =
      parse_apply_patch(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})");
  REQUIRE(json_body);
  CHECK((*json_body)["kind"] == Value("ConfigMap"));
  auto yaml_body = parse_apply_patch(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n");
  REQUIRE(yaml_body);
  CHECK((*yaml_body)["data"]["a"] == Value("1"));
  auto list = parse_apply_patch("- a\n- b\n");
  REQUIRE_FALSE(list);
  CHECK(list.error().reason == Reason::kBadRequest);
  CHECK_THAT(list.error().message, Catch::StartsWith("error decoding YAML: "));
  CHECK_FALSE(parse_apply_patch("a: [\n"));
  auto empty = parse_apply_patch("");
  REQUIRE(empty);
  CHECK(empty->is_object());
}
