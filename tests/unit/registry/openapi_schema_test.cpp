// SPDX-License-Identifier: Apache-2.0
// OpenAPI emission: the closure of a group-version's kinds renders as structurally valid v3 and v2
// definitions with the Kubernetes extensions, and the real kubectl can `explain` from it.
#include "skiff/registry/openapi_schema.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "skiff/registry/schema.hpp"

#include "process.hpp"
#include "registry_test_util.hpp"

using skiff::json::Value;
using skiff::registry::GroupVersionKind;
using skiff::registry::Node;
using skiff::registry::openapi_closure;
using skiff::registry::openapi_definition;
using skiff::registry::openapi_definitions;
using skiff::registry::OpenApiVersion;
using skiff::registry::Schema;
using skiff::testing::parse_json;

namespace {

std::vector<const Node*> kinds_of(std::string_view group, std::string_view version) {
  std::vector<const Node*> roots;
  for (const GroupVersionKind& gvk : Schema::builtin().kinds()) {
    if (gvk.group == group && gvk.version == version) {
      roots.push_back(Schema::builtin().find_kind(gvk));
    }
  }
  return roots;
}

// Every "$ref" anywhere under `v`.
void collect_refs(const Value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& m : v.as_object()) {
      if (m.key == "$ref" && m.value.is_string()) {
        out.push_back(m.value.as_string());
      } else {
        collect_refs(m.value, out);
      }
    }
  } else if (v.is_array()) {
    for (const Value& e : v.as_array()) {
      collect_refs(e, out);
    }
  }
}

// Structural validity: refs resolve, every schema object has a type, a ref, a junctor or is an
// intentionally open schema; properties/items/additionalProperties are schemas.
void check_schema(const Value& s, const Value& defs, const std::string& prefix,
                  const std::string& where) {
  INFO(where << ": " << skiff::json::serialize(s));
  REQUIRE(s.is_object());
  if (prefix == "#/definitions/") {
    // swagger 2.0 has no junctors but allOf, and we use none of them there; nor nullable.
    CHECK(s.get("oneOf") == nullptr);
    CHECK(s.get("anyOf") == nullptr);
    CHECK(s.get("allOf") == nullptr);
    CHECK(s.get("nullable") == nullptr);
  }
  if (const Value* ref = s.get("$ref")) {
    REQUIRE(ref->is_string());
    REQUIRE(ref->as_string().rfind(prefix, 0) == 0);
    CHECK(defs.get(ref->as_string().substr(prefix.size())) != nullptr);
  }
  if (const Value* props = s.get("properties")) {
    REQUIRE(props->is_object());
    for (const auto& m : props->as_object()) {
      check_schema(m.value, defs, prefix, where + "." + m.key);
    }
  }
  if (const Value* items = s.get("items")) {
    check_schema(*items, defs, prefix, where + "[]");
  }
  if (const Value* ap = s.get("additionalProperties")) {
    check_schema(*ap, defs, prefix, where + "{}");
  }
  for (std::string_view j : {"allOf", "anyOf", "oneOf"}) {
    if (const Value* list = s.get(j)) {
      REQUIRE(list->is_array());
      for (const Value& e : list->as_array()) {
        check_schema(e, defs, prefix, where + "/" + std::string(j));
      }
    }
  }
  if (const Value* req = s.get("required")) {
    REQUIRE(req->is_array());
    for (const Value& r : req->as_array()) {
      REQUIRE(r.is_string());
      CHECK(s.get_path({"properties", r.as_string()}) != nullptr);
    }
  }
  if (const Value* t = s.get("type")) {
    std::set<std::string> types = {"object", "array", "string", "integer", "number", "boolean"};
    CHECK(types.count(t->as_string()) == 1);
  }
}

}  // namespace

TEST_CASE("OpenAPI v3 definitions of a group-version are closed and carry the extensions",
          "[registry][openapi]") {
  std::vector<const Node*> roots = kinds_of("apps", "v1");
  for (const Node* n : kinds_of("", "v1")) {
    roots.push_back(n);
  }
  Value defs = openapi_definitions(roots, OpenApiVersion::kV3);
  REQUIRE(defs.is_object());
  CHECK(defs.size() > 200);
  std::vector<std::string> refs;
  collect_refs(defs, refs);
  CHECK(refs.size() > 300);
  for (const auto& m : defs.as_object()) {
    check_schema(m.value, defs, "#/components/schemas/", m.key);
  }

  const Value& deployment = defs["io.k8s.api.apps.v1.Deployment"];
  CHECK(deployment["x-kubernetes-group-version-kind"] ==
        parse_json(R"([{"group":"apps","kind":"Deployment","version":"v1"}])"));
  CHECK(deployment["type"] == Value("object"));
  CHECK(deployment["properties"]["metadata"] ==
        parse_json(
            R"({"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"})"));
  CHECK(deployment["properties"]["apiVersion"] == parse_json(R"({"type":"string"})"));
  // A field-level patch strategy next to a reference: allOf.
  CHECK(defs["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"] ==
        parse_json(
            R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"}],
                       "x-kubernetes-patch-strategy":"retainKeys"})"));
  CHECK(defs["io.k8s.api.apps.v1.DeploymentSpec"]["required"] ==
        parse_json(R"(["selector","template"])"));

  const Value& ports = defs["io.k8s.api.core.v1.Container"]["properties"]["ports"];
  CHECK(ports == parse_json(R"({"type":"array",
      "items":{"$ref":"#/components/schemas/io.k8s.api.core.v1.ContainerPort"},
      "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["containerPort","protocol"],
      "x-kubernetes-patch-merge-key":"containerPort","x-kubernetes-patch-strategy":"merge"})"));
  CHECK(defs["io.k8s.api.core.v1.Container"]["required"] == parse_json(R"(["name"])"));
  CHECK(defs["io.k8s.api.core.v1.ContainerPort"]["properties"]["protocol"] ==
        parse_json(R"({"type":"string","default":"TCP","enum":["SCTP","TCP","UDP"]})"));
  CHECK(defs["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"] ==
        parse_json(R"({"type":"integer","format":"int32"})"));
  CHECK(defs["io.k8s.api.core.v1.PodSpec"]["properties"]["nodeSelector"] ==
        parse_json(R"({"type":"object","additionalProperties":{"type":"string"},
                       "x-kubernetes-map-type":"atomic"})"));
  CHECK(defs["io.k8s.api.core.v1.ObjectReference"]["x-kubernetes-map-type"] == Value("atomic"));
  // Volume shows its inlined sources as properties; there is no VolumeSource definition.
  CHECK(defs["io.k8s.api.core.v1.Volume"]["properties"].get("emptyDir") != nullptr);
  CHECK(defs.get("io.k8s.api.core.v1.VolumeSource") == nullptr);
  // Special types.
  CHECK(defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"] ==
        parse_json(R"({"type":"string","format":"date-time"})"));
  CHECK(defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] ==
        parse_json(R"({"oneOf":[{"type":"string"},{"type":"number"}]})"));
  CHECK(defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] ==
        parse_json(R"({"oneOf":[{"type":"integer"},{"type":"string"}],"format":"int-or-string"})"));
  CHECK(defs["io.k8s.apimachinery.pkg.runtime.RawExtension"] == parse_json(R"({"type":"object"})"));
  CHECK(defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].get(
            "x-kubernetes-group-version-kind") == nullptr);
  CHECK(
      defs["io.k8s.api.core.v1.Secret"]["properties"]["data"] ==
      parse_json(R"({"type":"object","additionalProperties":{"type":"string","format":"byte"}})"));
  // The wrapper array is a plain array in OpenAPI.
  CHECK(defs["io.k8s.apimachinery.pkg.apis.meta.v1.APIResource"]["properties"]["verbs"] ==
        parse_json(R"({"type":"array","items":{"type":"string"}})"));
}

TEST_CASE("OpenAPI v2 definitions use #/definitions and no v3-only constructs",
          "[registry][openapi]") {
  std::vector<const Node*> roots = kinds_of("apiextensions.k8s.io", "v1");
  for (const Node* n : kinds_of("batch", "v1")) {
    roots.push_back(n);
  }
  Value defs = openapi_definitions(roots, OpenApiVersion::kV2);
  for (const auto& m : defs.as_object()) {
    check_schema(m.value, defs, "#/definitions/", m.key);
  }
  std::string text = skiff::json::serialize(defs);
  CHECK(text.find("#/components/schemas/") == std::string::npos);
  CHECK(defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] ==
        parse_json(R"({"type":"string","format":"int-or-string"})"));
  CHECK(defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] ==
        parse_json(R"({"type":"string"})"));
  const Value& props =
      defs["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"];
  CHECK(props["properties"]["properties"] == parse_json(R"({"type":"object","additionalProperties":
            {"$ref":"#/definitions/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"}})"));
  CHECK(
      props["properties"]["items"] ==
      parse_json(
          R"({"$ref":"#/definitions/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"})"));
  // The union has no type (any JSON), like upstream.
  CHECK(defs["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"] ==
        parse_json("{}"));
  CHECK(defs["io.k8s.api.batch.v1.Job"]["x-kubernetes-group-version-kind"] ==
        parse_json(R"([{"group":"batch","kind":"Job","version":"v1"}])"));
  // The closure is sorted by name and contains exactly the reachable named nodes.
  std::vector<const Node*> closure = openapi_closure(roots);
  CHECK(closure.size() == defs.size());
  CHECK(std::is_sorted(closure.begin(), closure.end(),
                       [](const Node* a, const Node* b) { return a->name < b->name; }));
  CHECK(skiff::registry::openapi_v2_definitions(roots) == defs);
  CHECK(skiff::registry::openapi_v3_schemas(roots) ==
        openapi_definitions(roots, OpenApiVersion::kV3));
  // A single definition renders without referring to itself.
  CHECK(
      openapi_definition(*Schema::builtin().find_kind({"batch", "v1", "Job"}), OpenApiVersion::kV2)
          .get("$ref") == nullptr);
}

namespace {

std::string find_kubectl(const std::string& version) {
  std::string p = skiff::testing::find_program("kubectl." + version);
  if (p.empty() && std::filesystem::exists("/usr/lib/google-cloud-sdk/bin/kubectl." + version)) {
    p = "/usr/lib/google-cloud-sdk/bin/kubectl." + version;
  }
  return p;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// A GV document as the API server's builder would make it: our components.schemas plus, for
// each resource, the one path operation kubectl's explain template looks up to find the kind.
Value gv_document(std::string_view group, std::string_view version, std::string_view resource,
                  std::string_view kind) {
  Value doc =
      parse_json(R"({"openapi":"3.0.0","info":{"title":"Kubernetes","version":"v1.32.5"}})");
  std::string prefix = group.empty() ? "/api/" : "/apis/" + std::string(group) + "/";
  Value op = Value::object();
  op["get"]["x-kubernetes-group-version-kind"] =
      parse_json(R"({"group":")" + std::string(group) + R"(","version":")" + std::string(version) +
                 R"(","kind":")" + std::string(kind) + R"("})");
  doc["paths"][prefix + std::string(version) + "/namespaces/{namespace}/" + std::string(resource) +
               "/{name}"] = op;
  doc["components"]["schemas"] = openapi_definitions(kinds_of(group, version), OpenApiVersion::kV3);
  return doc;
}

}  // namespace

TEST_CASE("kubectl 1.32 explains built-in kinds from our OpenAPI v3 documents",
          "[registry][openapi][kubectl]") {
  std::string kubectl = find_kubectl("1.32");
  std::string python = skiff::testing::find_program("python3");
  if (kubectl.empty() || python.empty()) {
    WARN("kubectl.1.32 or python3 not found; skipping");
    return;
  }
  skiff::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "openapi");
  write_file(dir.file("resources.json"), R"({
      "v1": [{"name":"pods","kind":"Pod","namespaced":true}],
      "apps/v1": [{"name":"deployments","kind":"Deployment","namespaced":true}]})");
  write_file(dir.file("openapi/api__v1.json"),
             skiff::json::serialize(gv_document("", "v1", "pods", "Pod")));
  write_file(dir.file("openapi/apis__apps__v1.json"),
             skiff::json::serialize(gv_document("apps", "v1", "deployments", "Deployment")));
  skiff::testing::Process server(
      {python, skiff::testing::registry_data_path("openapi_server.py"), dir.path().string()},
      dir.file("server"));
  REQUIRE(skiff::testing::eventually([&] { return std::filesystem::exists(dir.file("port")); }));
  std::string url = "http://127.0.0.1:" + skiff::testing::read_file(dir.file("port"));
  auto explain = [&](const std::string& what) {
    std::string out;
    int rc = skiff::testing::run_command(kubectl + " explain " + what + " --server=" + url +
                                             " --cache-dir=" + dir.file("cache") + " 2>&1",
                                         &out);
    INFO(out);
    CHECK(rc == 0);
    return out;
  };
  std::string strategy = explain("deployments.spec.strategy");
  CHECK(strategy.find("KIND:       Deployment") != std::string::npos);
  CHECK(strategy.find("FIELD: strategy <DeploymentStrategy>") != std::string::npos);
  CHECK(strategy.find("rollingUpdate\t<RollingUpdateDeployment>") != std::string::npos);
  CHECK(strategy.find("Recreate") != std::string::npos);  // the enum of type
  std::string containers = explain("pods.spec.containers");
  CHECK(containers.find("FIELD: containers <[]Container>") != std::string::npos);
  CHECK(containers.find("name\t<string> -required-") != std::string::npos);
  CHECK(containers.find("ports\t<[]ContainerPort>") != std::string::npos);
  std::string protocol = explain("pods.spec.containers.ports.protocol");
  CHECK(protocol.find("TCP") != std::string::npos);
  server.signal(SIGTERM);
  (void)server.wait_for(std::chrono::seconds(5));
}
