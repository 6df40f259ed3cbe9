// SPDX-License-Identifier: Apache-2.0
// Server-side apply and the ownership every write records, in the scenarios kubectl users hit.
#include <chrono>
#include <string>

#include "skiff/registry/managed_fields.hpp"
#include "skiff/registry/patch.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::FieldManager;
using skiff::registry::FieldManagerOptions;
using skiff::registry::make_path;
using skiff::testing::js;
using skiff::testing::schemas;

namespace {

using Clock = std::chrono::system_clock;

Clock::time_point at(int seconds) {
  return Clock::time_point(std::chrono::seconds(1714557600 + seconds));  // 2024-05-01T10:00:00Z
}

FieldManagerOptions deployments(std::string subresource = {}) {
  FieldManagerOptions o;
  o.gvk = {"apps", "v1", "Deployment"};
  o.subresource = std::move(subresource);
  o.reset_fields = {make_path({"status"})};
  return o;
}

// The Go zero value of a Deployment as upstream's unstructured converter writes it.
Value zero_deployment() {
  return js(R"({"metadata":{"creationTimestamp":null},
                "spec":{"selector":null,"strategy":{},
                        "template":{"metadata":{"creationTimestamp":null},"spec":{"containers":null}}},
                "status":{}})");
}

const char* kConfig = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
  "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
    "template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80}]}]}}}})";

// What the registry adds on create: server-set metadata.
Value stored(Value object) {
  object["metadata"]["uid"] = "3c5d";
  object["metadata"]["creationTimestamp"] = "2024-05-01T10:00:00Z";
  object["metadata"]["resourceVersion"] = "7";
  return object;
}

Value apply_ok(const FieldManager& fm, const Value* live, std::string_view config,
               std::string_view manager, int when, bool force = false) {
  auto r = fm.apply(live, js(config), manager, force, at(when));
  INFO(config);
  if (!r) {
    FAIL(r.error().message);
  }
  return *r;
}

const Value& entries(const Value& object) {
  return object["metadata"]["managedFields"];
}

const Value* entry(const Value& object, std::string_view manager, std::string_view operation = {},
                   std::string_view subresource = {}) {
  const Value& mf = entries(object);
  if (!mf.is_array()) {
    return nullptr;
  }
  for (const auto& e : mf.as_array()) {
    if (e.string_or("manager") == manager &&
        (operation.empty() || e.string_or("operation") == operation) &&
        e.string_or("subresource") == subresource) {
      return &e;
    }
  }
  return nullptr;
}

std::string fields(const Value& object, std::string_view manager, std::string_view operation = {},
                   std::string_view subresource = {}) {
  const Value* e = entry(object, manager, operation, subresource);
  return e == nullptr ? std::string("<none>") : skiff::json::serialize((*e)["fieldsV1"]);
}

}  // namespace

TEST_CASE("apply creates an object and records upstream's Apply entry", "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value created = apply_ok(fm, nullptr, kConfig, "kubectl", 0);
  CHECK(created["spec"]["replicas"] == Value(2));
  CHECK(created["spec"]["template"]["spec"]["containers"].as_array()[0]["image"] ==
        Value("nginx:1.25"));
  REQUIRE(entries(created).size() == 1);
  const Value& e = entries(created).as_array()[0];
  CHECK(e["manager"] == Value("kubectl"));
  CHECK(e["operation"] == Value("Apply"));
  CHECK(e["apiVersion"] == Value("apps/v1"));
  CHECK(e["time"] == Value("2024-05-01T10:00:00Z"));
  CHECK(e["fieldsType"] == Value("FieldsV1"));
  CHECK(
      fields(created, "kubectl") ==
      R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},)"
      R"("f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})");
  // the same apply again changes nothing, not even the time
  Value live = stored(created);
  Value again = apply_ok(fm, &live, kConfig, "kubectl", 60);
  CHECK(again == live);
}

TEST_CASE("re-applying without a field removes it; fields another manager owns stay",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(apply_ok(fm, nullptr, kConfig, "kubectl", 0));
  // a second manager applies the same replicas and its own label
  live = apply_ok(fm, &live, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default","labels":{"team":"a"}},"spec":{"replicas":2}})",
                  "helm", 10);
  CHECK(live["metadata"]["labels"] == js(R"({"app":"web","team":"a"})"));
  CHECK(fields(live, "helm") ==
        R"({"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:replicas":{}}})");
  CHECK_THAT(fields(live, "kubectl"), Catch::Contains("f:replicas"));

  // kubectl drops replicas, the port and the label: replicas stays (helm owns it), the rest goes
  live = apply_ok(fm, &live, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default"},
      "spec":{"selector":{"matchLabels":{"app":"web"}},
        "template":{"metadata":{"labels":{"app":"web"}},
          "spec":{"containers":[{"name":"web","image":"nginx:1.25"}]}}}})",
                  "kubectl", 20);
  CHECK(live["spec"]["replicas"] == Value(2));
  CHECK(live["metadata"]["labels"] == js(R"({"team":"a"})"));
  CHECK(live["spec"]["template"]["spec"]["containers"] ==
        js(R"([{"name":"web","image":"nginx:1.25"}])"));
  CHECK_THAT(fields(live, "kubectl"), !Catch::Contains("f:replicas"));

  // helm drops replicas too: now nobody owns it and it goes
  live = apply_ok(fm, &live, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default","labels":{"team":"a"}}})",
                  "helm", 30);
  CHECK(live["spec"].get("replicas") == nullptr);
  CHECK(fields(live, "helm") == R"({"f:metadata":{"f:labels":{"f:team":{}}}})");
}

TEST_CASE("a conflicting apply fails without force and takes over with it", "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(apply_ok(fm, nullptr, kConfig, "alice", 0));
  const char* bob =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
                        "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}})";
  auto refused = fm.apply(&live, js(bob), "bob", false, at(10));
  REQUIRE_FALSE(refused);
  const auto& e = refused.error();
  CHECK(e.reason == Reason::kConflict);
  CHECK(e.message ==
        "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.replicas\n"
        "- .spec.template.spec.containers[name=\"web\"].image");
  REQUIRE(e.causes.size() == 2);
  CHECK(e.causes[0].type == "FieldManagerConflict");
  CHECK(e.causes[0].message == "conflict with \"alice\"");
  CHECK(e.causes[0].field == ".spec.replicas");
  CHECK(e.causes[1].field == ".spec.template.spec.containers[name=\"web\"].image");

  Value forced = apply_ok(fm, &live, bob, "bob", 10, true);
  CHECK(forced["spec"]["replicas"] == Value(3));
  CHECK(
      fields(forced, "bob") ==
      R"({"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}})");
  CHECK_THAT(fields(forced, "alice"), !Catch::Contains("f:replicas"));
  CHECK_THAT(fields(forced, "alice"), !Catch::Contains("f:image"));
  // alice keeps the item and its name (both appliers set it)
  CHECK_THAT(fields(forced, "alice"), Catch::Contains(R"(k:{\"name\":\"web\"})"));
  // the same value is no conflict
  CHECK(fm.apply(&forced,
                 js(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                                 "spec":{"replicas":3}})"),
                 "carol", false, at(20)));
}

TEST_CASE("kubectl-create's managedFields match upstream's", "[registry][apply]") {
  FieldManagerOptions o = deployments();
  o.empty_object = zero_deployment();
  const FieldManager fm(schemas().deployment, o);
  // `kubectl create deployment nginx --image=nginx`, after defaulting
  Value created = js(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"nginx","namespace":"default","uid":"u","creationTimestamp":"2024-05-01T10:00:00Z",
                "generation":1,"labels":{"app":"nginx"}},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"nginx"}},
      "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"nginx"}},
        "spec":{"containers":[{"name":"nginx","image":"nginx","resources":{},
                               "terminationMessagePath":"/dev/termination-log",
                               "terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
                "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
                "securityContext":{},"schedulerName":"default-scheduler"}},
      "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},
      "revisionHistoryLimit":10,"progressDeadlineSeconds":600},
    "status":{}})");
  Value recorded = fm.update(nullptr, created, "kubectl-create", at(0));
  REQUIRE(entries(recorded).size() == 1);
  const Value& e = entries(recorded).as_array()[0];
  CHECK(
      skiff::json::serialize(e) ==
      R"({"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":)"
      R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},)"
      R"("f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},)"
      R"("f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},)"
      R"("f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}})");
  // the object itself is untouched apart from managedFields
  Value without = recorded;
  without["metadata"].as_object().erase("managedFields");
  CHECK(without == created);
}

TEST_CASE("updates move changed fields to their manager and merge into its entry",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(fm.update(nullptr, js(kConfig), "kubectl-create", at(0)));
  Value edited = live;
  edited["spec"]["replicas"] = 4;
  live = fm.update(&live, edited, "kubectl-edit", at(10));
  CHECK(fields(live, "kubectl-edit") == R"({"f:spec":{"f:replicas":{}}})");
  CHECK_THAT(fields(live, "kubectl-create"), !Catch::Contains("f:replicas"));
  edited = live;
  edited["metadata"]["labels"]["tier"] = "front";
  live = fm.update(&live, edited, "kubectl-edit", at(20));
  // one entry per manager/operation/apiVersion, with the union of fields and the latest time
  REQUIRE(entries(live).size() == 2);
  CHECK(fields(live, "kubectl-edit") ==
        R"({"f:metadata":{"f:labels":{"f:tier":{}}},"f:spec":{"f:replicas":{}}})");
  CHECK((*entry(live, "kubectl-edit"))["time"] == Value("2024-05-01T10:00:20Z"));
  // a removal takes the field from everyone
  edited = live;
  edited["metadata"]["labels"].as_object().erase("tier");
  live = fm.update(&live, edited, "kubectl-label", at(30));
  CHECK(fields(live, "kubectl-edit") == R"({"f:spec":{"f:replicas":{}}})");
  CHECK(entry(live, "kubectl-label") == nullptr);  // it only removed: it owns nothing
  // a no-op update changes nothing
  Value same = fm.update(&live, live, "kubectl-replace", at(40));
  CHECK(same == live);
}

TEST_CASE("client-side apply handing over to server-side apply", "[registry][apply]") {
  FieldManagerOptions o = deployments();
  const FieldManager fm(schemas().deployment, o);
  // `kubectl apply` (client-side) creates with the last-applied annotation
  Value manifest = js(kConfig);
  manifest["metadata"]["annotations"] = Value::object();
  std::string last = skiff::json::serialize(manifest);
  Value posted = manifest;
  posted["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = last;
  Value live = stored(fm.update(nullptr, posted, "kubectl-client-side-apply", at(0)));
  CHECK_THAT(fields(live, "kubectl-client-side-apply"), Catch::Contains("f:replicas"));

  const char* ssa =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
                        "spec":{"replicas":3}})";
  SECTION("another tool conflicts with the client-side manager, as upstream shows") {
    auto r = fm.apply(&live, js(ssa), "other-tool", false, at(10));
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kConflict);
    CHECK(r.error().message ==
          "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
          "apps/v1: .spec.replicas");
    REQUIRE(r.error().causes.size() == 1);
    CHECK(r.error().causes[0].message ==
          "conflict with \"kubectl-client-side-apply\" using apps/v1");
    CHECK(r.error().causes[0].field == ".spec.replicas");
  }
  SECTION("kubectl takes over what the last-applied annotation still describes") {
    Value r = apply_ok(fm, &live, ssa, "kubectl", 10);
    CHECK(r["spec"]["replicas"] == Value(3));
    CHECK(fields(r, "kubectl", "Apply") == R"({"f:spec":{"f:replicas":{}}})");
    CHECK_THAT(fields(r, "kubectl-client-side-apply"), !Catch::Contains("f:replicas"));
    // and the annotation now holds the applied configuration (encoding/json's form)
    CHECK(
        r["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] ==
        Value(
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3}})"
            "\n"));
  }
  SECTION("but not fields changed since the last client-side apply") {
    Value scaled = live;
    scaled["spec"]["replicas"] = 5;
    live = fm.update(&live, scaled, "kubectl-client-side-apply", at(5));
    auto r = fm.apply(&live, js(ssa), "kubectl", false, at(10));
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
          "apps/v1: .spec.replicas");
  }
}

TEST_CASE("only kubectl's applies rewrite the last-applied annotation, within the size limit",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(js(kConfig));
  live["metadata"]["annotations"] =
      js(R"({"kubectl.kubernetes.io/last-applied-configuration":"nonempty"})");
  live = fm.update(nullptr, live, "kubectl-client-side-apply", at(0));
  Value other = apply_ok(fm, &live, kConfig, "NOT-KUBECTL", 10, true);
  CHECK(other["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] ==
        Value("nonempty"));
  Value mine = apply_ok(fm, &live, kConfig, "kubectl", 10, true);
  const std::string text(
      mine["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
          .as_string());
  CHECK_THAT(
      text,
      Catch::StartsWith(
          R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web")"));
  CHECK_THAT(text, Catch::EndsWith("}\n"));
  // a configuration too large for the annotations (256 KiB in total) drops the annotation instead
  Value big = js(kConfig);
  for (int i = 0; i < 3000; ++i) {
    big["metadata"]["labels"]["a-label-with-a-long-name-number-" + std::to_string(i)] =
        "and-a-long-enough-value-too-0123456789-0123456789-0123456789";
  }
  Value dropped = apply_ok(fm, &live, skiff::json::serialize(big), "kubectl", 20, true);
  CHECK(dropped["metadata"]["annotations"].get(
            "kubectl.kubernetes.io/last-applied-configuration") == nullptr);
}

TEST_CASE("kubectl scale (an update of /scale) then apply conflicts on replicas",
          "[registry][apply]") {
  const FieldManager main(schemas().deployment, deployments());
  const FieldManager scale(schemas().deployment, deployments("scale"));
  Value live = stored(apply_ok(main, nullptr, kConfig, "kubectl", 0));
  // PATCH /scale {"spec":{"replicas":5}} from kubectl (no fieldManager: the User-Agent's "kubectl")
  Value scaled = live;
  scaled["spec"]["replicas"] = 5;
  const std::string manager =
      skiff::registry::manager_or_user_agent("", "kubectl/v1.32.5 (linux/amd64) kubernetes/abcdef");
  live = scale.update(&live, scaled, manager, at(10));
  CHECK(fields(live, "kubectl", "Update", "scale") == R"({"f:spec":{"f:replicas":{}}})");
  CHECK_THAT(fields(live, "kubectl", "Apply"), !Catch::Contains("f:replicas"));
  // re-applying the manifest (replicas: 2) now conflicts with the scale manager
  auto r = main.apply(&live, js(kConfig), "kubectl", false, at(20));
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource "
        "\"scale\" using apps/v1: .spec.replicas");
  // leaving replicas out of the manifest applies cleanly and keeps the scaled value
  Value without = js(kConfig);
  without["spec"].as_object().erase("replicas");
  Value ok = apply_ok(main, &live, skiff::json::serialize(without), "kubectl", 30);
  CHECK(ok["spec"]["replicas"] == Value(5));
}

TEST_CASE("apply to an untracked object attributes its fields to before-first-apply",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(js(kConfig));  // e.g. created before managedFields were kept
  auto r =
      fm.apply(&live, js(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                                  "spec":{"replicas":9}})"),
               "kubectl", false, at(10));
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: "
        ".spec.replicas");
  Value forced =
      apply_ok(fm, &live, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                                         "spec":{"replicas":9}})",
               "kubectl", 10, true);
  CHECK(entry(forced, "before-first-apply", "Update") != nullptr);
  CHECK(fields(forced, "kubectl") == R"({"f:spec":{"f:replicas":{}}})");
  // updates of untracked objects stay untracked
  Value edited = live;
  edited["spec"]["replicas"] = 4;
  CHECK(entries(fm.update(&live, edited, "kubectl-edit", at(20))).is_null());
}

TEST_CASE("apply errors are upstream's", "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  auto err = [&](std::string_view config) {
    auto r = fm.apply(nullptr, js(config), "kubectl", false, at(0));
    INFO(config);
    REQUIRE_FALSE(r);
    return r.error();
  };
  auto e = err(R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web"}})");
  CHECK(e.reason == Reason::kBadRequest);
  CHECK(e.message == "invalid object type: apps/v1, Kind=StatefulSet");
  CHECK(err(R"({"kind":"Deployment"})").message == "invalid object type: /, Kind=Deployment");
  e = err(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","managedFields":[]}})");
  CHECK(e.reason == Reason::kBadRequest);
  CHECK(e.message == "metadata.managedFields must be nil");
  e = err(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},"spec":{"foo":1}})");
  CHECK(e.reason == Reason::kInternal);
  CHECK(e.message ==
        "failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.foo: "
        "field not declared in schema");
  e = err(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
              "spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"a"}]}}}})");
  CHECK_THAT(
      e.message,
      Catch::EndsWith(".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"));
  e = err(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
              "spec":{"replicas":"two","template":{"spec":{"containers":[{"image":"x"}]}}}})");
  CHECK_THAT(
      e.message,
      Catch::Contains("errors:\n  .spec.replicas: expected numeric (int or float), got string"));
  CHECK_THAT(e.message, Catch::Contains("omits key field \"name\""));
  // invalid live managedFields make apply fail (upstream decodes them first)
  Value live = stored(js(kConfig));
  live["metadata"]["managedFields"] = js(R"([{"manager":"x","operation":"Merge"}])");
  auto r = fm.apply(&live, js(kConfig), "kubectl", false, at(0));
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == Reason::kInternal);
  CHECK(r.error().message ==
        "failed to decode managed fields: operation must be `Apply` or `Update`");
}

TEST_CASE("invalid managedFields in a write are ignored or reset as upstream",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  const Value live = stored(fm.update(nullptr, js(kConfig), "kubectl-create", at(0)));
  Value edited = live;
  edited["spec"]["replicas"] = 3;
  SECTION("invalid entries in the request: the live ones are used") {
    edited["metadata"]["managedFields"] = js(R"([{"manager":"x","operation":"Bogus"}])");
    Value r = fm.update(&live, edited, "kubectl-edit", at(10));
    CHECK(entry(r, "kubectl-create") != nullptr);
    CHECK(fields(r, "kubectl-edit") == R"({"f:spec":{"f:replicas":{}}})");
  }
  SECTION("[] and [{}] reset them, leaving the object untracked") {
    for (const char* reset : {"[]", "[{}]"}) {
      edited["metadata"]["managedFields"] = js(reset);
      CHECK(entries(fm.update(&live, edited, "kubectl-edit", at(10))).is_null());
    }
  }
  SECTION("valid entries in the request replace the live ones") {
    edited["metadata"]["managedFields"] =
        js(R"([{"manager":"someone","operation":"Update","apiVersion":"apps/v1",
        "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}}}}])");
    Value r = fm.update(&live, edited, "kubectl-edit", at(10));
    CHECK(entry(r, "kubectl-create") == nullptr);
    CHECK(fields(r, "someone") == R"({"f:metadata":{"f:labels":{"f:app":{}}}})");
  }
  SECTION("a subresource write never supplies its own entries") {
    const FieldManager status(schemas().deployment, deployments("status"));
    Value st = live;
    st["status"] = js(R"({"replicas":1})");
    st["metadata"]["managedFields"] = Value::array();
    Value r = status.update(&live, st, "deployment-controller", at(10));
    CHECK(entry(r, "kubectl-create") != nullptr);
  }
}

TEST_CASE("reset fields are owned by nobody; status writes are owned on /status",
          "[registry][apply]") {
  const FieldManager main(schemas().deployment, deployments());
  Value live = stored(apply_ok(
      main, nullptr, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                                                  "spec":{"replicas":1},"status":{"replicas":7}})",
      "kubectl", 0));
  CHECK(fields(live, "kubectl") == R"({"f:spec":{"f:replicas":{}}})");
  FieldManagerOptions so = deployments("status");
  so.reset_fields = {make_path({"spec"})};
  const FieldManager status(schemas().deployment, so);
  Value st = live;
  st["status"] = js(R"({"replicas":1,"conditions":[{"type":"Available","status":"True"}]})");
  Value r = status.update(&live, st, "deployment-controller", at(5));
  CHECK(
      fields(r, "deployment-controller", "Update", "status") ==
      R"({"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}},"f:replicas":{}}})");
}

TEST_CASE("update managers beyond ten are folded into ancient-changes", "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value live = stored(fm.update(nullptr, js(kConfig), "creator", at(0)));
  for (int i = 0; i < 11; ++i) {
    Value edited = live;
    edited["metadata"]["labels"]["l" + std::to_string(i)] = "v";
    live = fm.update(&live, edited, "m" + std::to_string(i), at(10 + i));
  }
  // 12 update managers: the three oldest (creator, m0, m1) merge into one bucket, leaving ten
  REQUIRE(entries(live).size() == 10);
  CHECK(entry(live, "creator") == nullptr);
  CHECK(entry(live, "m0") == nullptr);
  CHECK(entry(live, "m1") == nullptr);
  CHECK(entry(live, "m2") != nullptr);
  const Value* ancient = entry(live, "ancient-changes", "Update");
  REQUIRE(ancient != nullptr);
  CHECK_THAT(skiff::json::serialize((*ancient)["fieldsV1"]), Catch::Contains("f:l0"));
  CHECK_THAT(skiff::json::serialize((*ancient)["fieldsV1"]), Catch::Contains("f:l1"));
  CHECK((*ancient)["time"] == Value("2024-05-01T10:00:11Z"));
  CHECK_THAT(skiff::json::serialize((*ancient)["fieldsV1"]), Catch::Contains("f:replicas"));
}

TEST_CASE("sets, atomic lists, and deduced content in apply", "[registry][apply]") {
  SECTION("finalizers are a set: each applier owns its own items") {
    const FieldManager fm(schemas().deployment, deployments());
    Value live = stored(apply_ok(fm, nullptr, R"({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"web","finalizers":["a/x"]}})",
                                 "one", 0));
    live = apply_ok(fm, &live, R"({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"web","finalizers":["b/y"]}})",
                    "two", 10);
    CHECK(live["metadata"]["finalizers"] == js(R"(["a/x","b/y"])"));
    CHECK(fields(live, "two") == R"({"f:metadata":{"f:finalizers":{"v:\"b/y\"":{}}}})");
    live = apply_ok(fm, &live,
                    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}})",
                    "one", 20);
    CHECK(live["metadata"]["finalizers"] == js(R"(["b/y"])"));
  }
  SECTION("an atomic list belongs to one manager as a whole") {
    const FieldManager fm(schemas().deployment, deployments());
    Value live = stored(apply_ok(
        fm, nullptr, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
        "spec":{"template":{"spec":{"containers":[{"name":"c","command":["a","b"]}]}}}})",
        "one", 0));
    auto r =
        fm.apply(&live, js(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
        "spec":{"template":{"spec":{"containers":[{"name":"c","command":["z"]}]}}}})"),
                 "two", false, at(10));
    REQUIRE_FALSE(r);
    CHECK(r.error().causes[0].field == ".spec.template.spec.containers[name=\"c\"].command");
  }
  SECTION("kAny content: maps granular, lists atomic") {
    FieldManagerOptions o;
    o.gvk = {"example.com", "v1", "Widget"};
    const FieldManager fm(schemas().widget, o);
    Value live = stored(apply_ok(
        fm, nullptr, R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
        "spec":{"size":1,"opts":{"a":1},"tags":["x"]}})",
        "one", 0));
    // the declared kAny field is not a member itself; the maps inside it are
    CHECK(fields(live, "one") ==
          R"({"f:spec":{"f:opts":{".":{},"f:a":{}},"f:size":{},"f:tags":{}}})");
    live = apply_ok(fm, &live,
                    R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
        "spec":{"opts":{"b":2}}})",
                    "two", 10);
    CHECK(live["spec"] == js(R"({"size":1,"opts":{"a":1,"b":2},"tags":["x"]})"));
    auto r = fm.apply(&live,
                      js(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
        "spec":{"tags":["y"]}})"),
                      "two", false, at(20));
    REQUIRE_FALSE(r);
    CHECK(r.error().causes[0].field == ".spec.tags");
  }
}

TEST_CASE("convenience entry points use the schema's kind", "[registry][apply]") {
  auto created = skiff::registry::server_side_apply(nullptr, js(kConfig), schemas().deployment,
                                                    "kubectl", "apps/v1", false, at(0));
  REQUIRE(created);
  CHECK(entry(*created, "kubectl", "Apply") != nullptr);
  auto wrong = skiff::registry::server_side_apply(
      nullptr, js(R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"x"}})"),
      schemas().deployment, "kubectl", "apps/v1", false, at(0));
  REQUIRE_FALSE(wrong);
  Value recorded = skiff::registry::record_update(nullptr, js(kConfig), schemas().deployment,
                                                  "kubectl-create", "apps/v1", at(0));
  CHECK(entry(recorded, "kubectl-create", "Update") != nullptr);
}

TEST_CASE("malformed apply configurations never crash", "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  const Value live = stored(apply_ok(fm, nullptr, kConfig, "kubectl", 0));
  const char* configs[] = {
      R"([])",
      R"(null)",
      R"("x")",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":"x"})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":[1]}})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[null,1,[2]]}}}})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":{"a":1}}}}})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"finalizers":[{"a":1},null,["x"]]}})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"protocol":"UDP"}]}]}}}})",
      R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"selector":{"matchLabels":{"a":{"b":1}}}}})",
  };
  for (const char* c : configs) {
    INFO(c);
    for (bool force : {false, true}) {
      auto r = fm.apply(&live, js(c), "x", force, at(1));
      if (!r) {
        CHECK_FALSE(r.error().message.empty());
      }
    }
  }
  // and lenient walking of odd live objects
  Value odd = live;
  odd["spec"]["template"]["spec"]["containers"] =
      js(R"([{"name":"a"},{"name":"a"},{"noname":1},"x",null])");
  odd["spec"]["replicas"] = "three";
  auto r = fm.apply(&odd, js(kConfig), "kubectl", true, at(2));
  CHECK(r);
  Value updated = fm.update(&live, odd, "editor", at(3));
  CHECK(updated.is_object());
  // found by fuzzing: a write whose metadata is not an object records nothing instead of crashing
  CHECK(fm.update(&live, js(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":3})"), "x",
                  at(4))["metadata"] == Value(3));
  CHECK(fm.update(nullptr, js(R"([1])"), "x", at(4)) == js("[1]"));
  Value bad_meta = live;
  bad_meta["metadata"] = "x";
  CHECK(fm.apply(&bad_meta, js(kConfig), "kubectl", true, at(5)));
}

// Scenarios of k8s.io/apimachinery's managedfields tests (v0.32.5 fieldmanager_test.go).
TEST_CASE("upstream: stripped metadata leaves no entry; an invalid request entry is ignored",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  Value obj = js(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"b","namespace":"b","uid":"b","generation":0,"resourceVersion":"b",
                  "creationTimestamp":"2024-05-01T10:00:00Z",
                  "managedFields":[{"manager":"update","operation":"Apply","apiVersion":"apps/v1"}]}})");
  CHECK(entries(fm.update(nullptr, obj, "fieldmanager_test", at(0))).is_null());
}

TEST_CASE("upstream: client-side apply upgraded to server-side apply by kubectl",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  const char* manifest =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-deployment","labels":{"app":"my-app"}},
      "spec":{"replicas":100,"selector":{"matchLabels":{"app":"my-app"}},
        "template":{"metadata":{"labels":{"app":"my-app"}},"spec":{"containers":[{"name":"my-c","image":"my-image-v1"}]}}}})";
  Value created = js(manifest);
  created["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = manifest;
  Value live = stored(fm.update(nullptr, created, "kubectl-client-side-apply-test", at(0)));
  const char* upgrade =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-deployment","labels":{"app":"my-app-v2"}},
      "spec":{"replicas":8,"selector":{"matchLabels":{"app":"my-app-v2"}},
        "template":{"metadata":{"labels":{"app":"my-app-v2"}},"spec":{"containers":[{"name":"my-c","image":"my-image-v2"}]}}}})";
  // another manager would conflict on every changed field
  auto refused = fm.apply(&live, js(upgrade), "someone-else", false, at(10));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().causes.size() == 5);
  Value r = apply_ok(fm, &live, upgrade, "kubectl", 10);
  CHECK(r["spec"]["replicas"] == Value(8));
  CHECK_THAT(
      r["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_string(),
      Catch::Contains("my-image-v2"));
}

TEST_CASE("upstream: untracked after a reset, tracked again by the first apply",
          "[registry][apply]") {
  const FieldManager fm(schemas().deployment, deployments());
  const char* deployment =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-deployment","labels":{"app":"my-app"}},
      "spec":{"replicas":100}})";
  Value live = stored(fm.update(nullptr, js(deployment), "test_kubectl_create", at(0)));
  CHECK(entries(live).size() == 1);
  Value reset = js(deployment);
  reset["metadata"]["managedFields"] = Value::array();
  reset["metadata"]["uid"] = "nonempty";
  live = fm.update(&live, reset, "test_kubectl_replace", at(1));
  CHECK(entries(live).is_null());
  Value csa = js(deployment);
  csa["metadata"]["uid"] = "nonempty";
  csa["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = deployment;
  live = fm.update(&live, csa, "test_k_client_side_apply", at(2));
  CHECK(entries(live).is_null());
  live = apply_ok(fm, &live, deployment, "test_server_side_apply_without_upgrade", 3);
  REQUIRE(entries(live).size() == 2);
  CHECK(entries(live).as_array()[0]["manager"] == Value("test_server_side_apply_without_upgrade"));
  CHECK(entries(live).as_array()[1]["manager"] == Value("before-first-apply"));
  // kubectl takes over from before-first-apply what the last-applied annotation still describes
  live = apply_ok(
      fm, &live,
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-deployment","labels":{"app":"my-app-v2"}},
      "spec":{"replicas":8}})",
      "kubectl", 4);
  CHECK(live["spec"]["replicas"] == Value(8));
  CHECK_THAT(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                 .as_string(),
             Catch::Contains("my-app-v2"));
}
