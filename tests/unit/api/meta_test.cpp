// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/meta.hpp"

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "skiff/api/labels.hpp"
#include "skiff/api/validation.hpp"

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

json::Value parse_json(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return *v;
}

const char* const kPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-0", "namespace": "default", "uid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "resourceVersion": "42", "generation": 3, "generateName": "web-",
    "labels": {"app": "web", "empty": ""},
    "annotations": {"note": "hi"},
    "finalizers": ["a", "b"],
    "ownerReferences": [
      {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s-1",
       "controller": true, "blockOwnerDeletion": true},
      {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "c-1"}],
    "creationTimestamp": "2024-05-01T12:00:00Z",
    "deletionTimestamp": "2024-05-02T00:00:00+02:00",
    "deletionGracePeriodSeconds": 30,
    "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
  }
})";

TEST_CASE("ObjectMeta getters read a full object", "[api][meta]") {
  const json::Value pod = parse_json(kPod);
  CHECK(get_api_version(pod) == "v1");
  CHECK(get_kind(pod) == "Pod");
  CHECK(get_name(pod) == "web-0");
  CHECK(get_namespace(pod) == "default");
  CHECK(get_generate_name(pod) == "web-");
  CHECK(get_uid(pod) == "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  CHECK(get_resource_version(pod) == "42");
  CHECK(get_generation(pod) == 3);
  CHECK(get_label(pod, "app") == std::optional<std::string_view>("web"));
  CHECK(get_label(pod, "empty") == std::optional<std::string_view>(""));
  CHECK_FALSE(get_label(pod, "missing"));
  CHECK(get_annotation(pod, "note") == std::optional<std::string_view>("hi"));
  CHECK(get_finalizers(pod) == std::vector<std::string_view>{"a", "b"});
  CHECK(has_finalizer(pod, "b"));
  CHECK_FALSE(has_finalizer(pod, "c"));
  const auto refs = get_owner_references(pod);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0] == OwnerReference{"apps/v1", "StatefulSet", "web", "s-1", true, true});
  CHECK(refs[1] == OwnerReference{"v1", "ConfigMap", "cfg", "c-1", false, false});
  CHECK(get_controller_of(pod) == refs[0]);
  CHECK(is_owned_by(pod, "c-1"));
  CHECK_FALSE(is_owned_by(pod, "x"));
  CHECK(get_creation_timestamp(pod) ==
        std::optional<Timestamp>(parse_rfc3339("2024-05-01T12:00:00Z").value()));
  CHECK(get_deletion_timestamp(pod) ==
        std::optional<Timestamp>(parse_rfc3339("2024-05-01T22:00:00Z").value()));
  CHECK(get_deletion_grace_period_seconds(pod) == std::optional<std::int64_t>(30));
  CHECK(get_managed_fields(pod).size() == 1);
  CHECK(object_key(pod) == "default/web-0");
  CHECK(LabelSelector::parse("app=web").value().matches(get_labels(pod)));
}

TEST_CASE("ObjectMeta getters tolerate missing and mistyped parts", "[api][meta]") {
  for (const char* text : {"{}", "null", "[]", R"({"metadata": 5})", R"({"metadata": {"name": 1,
        "labels": [], "finalizers": "x", "ownerReferences": {}, "generation": "3",
        "creationTimestamp": "yesterday", "deletionGracePeriodSeconds": "30"}})"}) {
    INFO(text);
    const json::Value obj = parse_json(text);
    CHECK(get_name(obj).empty());
    CHECK(get_namespace(obj).empty());
    CHECK(get_generation(obj) == 0);
    CHECK_FALSE(get_label(obj, "a"));
    CHECK(get_finalizers(obj).empty());
    CHECK_FALSE(has_finalizer(obj, "x"));
    CHECK(get_owner_references(obj).empty());
    CHECK_FALSE(get_controller_of(obj));
    CHECK_FALSE(get_creation_timestamp(obj));
    CHECK_FALSE(get_deletion_timestamp(obj));
    CHECK_FALSE(get_deletion_grace_period_seconds(obj));
    CHECK(object_key(obj).empty());
    CHECK(LabelSelector().matches(get_labels(obj)));
  }
}

TEST_CASE("ObjectMeta setters create what they need", "[api][meta]") {
  json::Value obj = json::Value::object();
  set_name(obj, "cm");
  set_namespace(obj, "kube-system");
  set_uid(obj, "u");
  set_resource_version(obj, "7");
  set_generation(obj, 2);
  set_generate_name(obj, "cm-");
  set_label(obj, "app", "x");
  set_label(obj, "app", "y");
  set_annotation(obj, "a", "b");
  set_creation_timestamp(obj, parse_rfc3339("2024-05-01T12:00:00.9Z").value());
  set_deletion_timestamp(obj, parse_rfc3339("2024-05-01T13:00:00Z").value());
  CHECK(
      json::serialize(obj) ==
      R"({"metadata":{"name":"cm","namespace":"kube-system","uid":"u","resourceVersion":"7",)"
      R"("generation":2,"generateName":"cm-","labels":{"app":"y"},"annotations":{"a":"b"},)"
      R"("creationTimestamp":"2024-05-01T12:00:00Z","deletionTimestamp":"2024-05-01T13:00:00Z"}})");
  set_deletion_timestamp(obj, std::nullopt);
  set_resource_version(obj, "");
  set_namespace(obj, "");
  CHECK(remove_label(obj, "app"));
  CHECK_FALSE(remove_label(obj, "app"));
  CHECK(remove_annotation(obj, "a"));
  CHECK_FALSE(remove_annotation(obj, "zz"));
  CHECK(json::serialize(obj) ==
        R"({"metadata":{"name":"cm","uid":"u","generation":2,"generateName":"cm-","labels":{},)"
        R"("annotations":{},"creationTimestamp":"2024-05-01T12:00:00Z"}})");

  // Writes replace members of the wrong type.
  json::Value odd = parse_json(R"({"metadata": {"labels": "x", "finalizers": 3}})");
  set_label(odd, "k", "v");
  CHECK(add_finalizer(odd, "f"));
  CHECK(json::serialize(odd) == R"({"metadata":{"labels":{"k":"v"},"finalizers":["f"]}})");
  json::Value not_object = json::Value(3);
  set_name(not_object, "n");
  CHECK(json::serialize(not_object) == R"({"metadata":{"name":"n"}})");
}

TEST_CASE("finalizers are added once and removed everywhere", "[api][meta]") {
  json::Value obj = json::Value::object();
  CHECK(add_finalizer(obj, "kubernetes.io/pvc-protection"));
  CHECK_FALSE(add_finalizer(obj, "kubernetes.io/pvc-protection"));
  CHECK(add_finalizer(obj, "foregroundDeletion"));
  CHECK(get_finalizers(obj) ==
        std::vector<std::string_view>{"kubernetes.io/pvc-protection", "foregroundDeletion"});
  mutable_metadata(obj)["finalizers"].as_array().emplace_back("foregroundDeletion");
  CHECK(remove_finalizer(obj, "foregroundDeletion"));
  CHECK(get_finalizers(obj) == std::vector<std::string_view>{"kubernetes.io/pvc-protection"});
  CHECK_FALSE(remove_finalizer(obj, "foregroundDeletion"));
  CHECK(remove_finalizer(obj, "kubernetes.io/pvc-protection"));
  CHECK(get_metadata(obj).get("finalizers") == nullptr);  // dropped when empty
  CHECK_FALSE(remove_finalizer(obj, "x"));
  json::Value none;
  CHECK_FALSE(remove_finalizer(none, "x"));
}

TEST_CASE("owner references round-trip through JSON", "[api][meta]") {
  json::Value obj = json::Value::object();
  const std::vector<OwnerReference> refs = {
      {"apps/v1", "ReplicaSet", "web-5d8f", "rs-uid", true, true},
      {"v1", "Node", "n1", "node-uid", false, false},
  };
  set_owner_references(obj, refs);
  CHECK(json::serialize(get_metadata(obj)["ownerReferences"]) ==
        R"([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d8f","uid":"rs-uid",)"
        R"("controller":true,"blockOwnerDeletion":true},{"apiVersion":"v1","kind":"Node",)"
        R"("name":"n1","uid":"node-uid"}])");
  CHECK(get_owner_references(obj) == refs);
  CHECK(get_controller_of(obj) == refs[0]);
  set_owner_references(obj, {});
  CHECK(get_metadata(obj).get("ownerReferences") == nullptr);
  set_managed_fields(obj, parse_json(R"([{"manager": "m"}])"));
  CHECK(get_managed_fields(obj).size() == 1);
  set_managed_fields(obj, json::Value::array());
  CHECK(get_managed_fields(obj).is_null());
}

TEST_CASE("new_uid produces distinct version-4 UUIDs", "[api][meta]") {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_uid();
    CHECK(std::regex_match(id, uuid));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  // Each thread has its own generator; they must not repeat each other.
  std::vector<std::string> a;
  std::vector<std::string> b;
  std::thread t1([&] {
    for (int i = 0; i < 200; ++i) {
      a.push_back(new_uid());
    }
  });
  std::thread t2([&] {
    for (int i = 0; i < 200; ++i) {
      b.push_back(new_uid());
    }
  });
  t1.join();
  t2.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() == 400);
}

TEST_CASE("generated names keep a 58-byte prefix and 5 random characters", "[api][meta]") {
  const std::regex suffix("[bcdfghjklmnpqrstvwxz2456789]{5}");
  const std::string short_name = generate_name("web-");
  REQUIRE(short_name.size() == 9);
  CHECK(short_name.substr(0, 4) == "web-");
  CHECK(std::regex_match(short_name.substr(4), suffix));
  const std::string long_base(70, 'a');
  const std::string long_name = generate_name(long_base);
  CHECK(long_name.size() == 63);
  CHECK(long_name.substr(0, 58) == std::string(58, 'a'));
  CHECK(name_is_dns_subdomain(long_name, false).empty());
  CHECK(generate_name("").size() == 5);
  std::set<std::string> names;
  for (int i = 0; i < 200; ++i) {
    names.insert(generate_name("x-"));
  }
  CHECK(names.size() > 190);  // 27^5 possibilities: collisions in 200 draws are very unlikely
}

TEST_CASE("object keys join and split namespace and name", "[api][meta]") {
  CHECK(object_key("default", "web") == "default/web");
  CHECK(object_key("", "node-1") == "node-1");
  CHECK(split_object_key("default/web").value() ==
        std::pair<std::string, std::string>{"default", "web"});
  CHECK(split_object_key("node-1").value() == std::pair<std::string, std::string>{"", "node-1"});
  CHECK(split_object_key("/x").value() == std::pair<std::string, std::string>{"", "x"});
  CHECK(split_object_key("").value() == std::pair<std::string, std::string>{"", ""});
  auto bad = split_object_key("a/b/c");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == Reason::kBadRequest);
  CHECK(bad.error().message == "unexpected key format: \"a/b/c\"");
}

}  // namespace
}  // namespace skiff::api
