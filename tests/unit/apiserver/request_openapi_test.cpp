// SPDX-License-Identifier: Apache-2.0
// Request and response shapes kubectl depends on: PUT and PATCH address one object (a collection
// has no such route: 405), the OpenAPI v3 PATCH operation of a custom resource offers no strategic
// merge patch (kubectl's apply then sends a JSON merge patch, which custom resources accept), and
// the scale subresource has a Table of its own (kubectl get --subresource=scale).

#include <algorithm>

#include <boost/asio/io_context.hpp>

#include "openapi.hpp"
#include "request_info.hpp"
#include "table.hpp"
#include "skiff/kv/store.hpp"
#include "skiff/registry/registry.hpp"
#include "run_async.hpp"
#include "skiff_test.hpp"

namespace {

namespace registry = skiff::registry;
namespace json = skiff::json;
using skiff::apiserver::parse_request_info;
using skiff::apiserver::RequestInfo;

std::string verb_of(std::string_view method, std::string_view path) {
  RequestInfo info;
  REQUIRE(parse_request_info(method, path, false, info));
  return info.verb;
}

json::Value parse(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return std::move(*v);
}

}  // namespace

TEST_CASE("PUT and PATCH name an object; on a collection they have no verb", "[apiserver]") {
  CHECK(verb_of("PUT", "/api/v1/namespaces/default/configmaps/a") == "update");
  CHECK(verb_of("PATCH", "/api/v1/namespaces/default/configmaps/a") == "patch");
  CHECK(verb_of("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale") == "update");
  CHECK(verb_of("PUT", "/api/v1/namespaces/default/configmaps").empty());
  CHECK(verb_of("PATCH", "/api/v1/namespaces/default/configmaps").empty());
  CHECK(verb_of("PUT", "/api/v1/nodes").empty());
  // The other verbs are unchanged.
  CHECK(verb_of("POST", "/api/v1/namespaces/default/configmaps") == "create");
  CHECK(verb_of("DELETE", "/api/v1/namespaces/default/configmaps") == "deletecollection");
  CHECK(verb_of("DELETE", "/api/v1/namespaces/default/configmaps/a") == "delete");
  CHECK(verb_of("GET", "/api/v1/namespaces/default/configmaps") == "list");
}

TEST_CASE("OpenAPI v3 offers strategic merge patch for built-in kinds only", "[apiserver]") {
  skiff::testing::TempDir dir;
  skiff::kv::StoreOptions o;
  o.path = dir.file("db/state.db");
  o.sync_full = false;
  auto store = skiff::kv::Store::open(o);
  REQUIRE(store);
  registry::Catalog catalog;
  registry::Registry reg(**store, catalog);
  boost::asio::io_context io;
  auto run = [&](auto a) { return skiff::testing::run_async(io, std::move(a)); };
  REQUIRE(run(reg.ensure_system_namespaces()));
  registry::ResourceTypePtr crds;
  for (const auto& t : catalog.snapshot()->types()) {
    if (t->gvk.group == "apiextensions.k8s.io" && t->plural == "customresourcedefinitions") {
      crds = t;
    }
  }
  REQUIRE(crds);
  REQUIRE(run(reg.create(crds, "", parse(R"({"apiVersion":"apiextensions.k8s.io/v1",
    "kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced",
      "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
      "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
        "schema":{"openAPIV3Schema":{"type":"object","properties":{
          "spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
          "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}})"),
                         {})));

  skiff::apiserver::OpenApiCache cache(catalog);
  auto patch_types = [](const json::Value& doc, const std::string& path) {
    std::vector<std::string> out;
    const json::Value* content =
        doc.get_path({"paths", path, "patch", "requestBody", "content"});
    REQUIRE(content != nullptr);
    for (const auto& [k, v] : content->as_object()) {
      out.push_back(k);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const json::Value custom = cache.document("apis/example.com/v1");
  REQUIRE(custom.is_object());
  const std::vector<std::string> without_smp{"application/apply-patch+yaml",
                                             "application/json-patch+json",
                                             "application/merge-patch+json"};
  CHECK(patch_types(custom, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}") ==
        without_smp);
  CHECK(patch_types(custom, "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status") ==
        without_smp);

  const json::Value core = cache.document("api/v1");
  REQUIRE(core.is_object());
  auto with_smp = without_smp;
  with_smp.push_back("application/strategic-merge-patch+json");
  CHECK(patch_types(core, "/api/v1/namespaces/{namespace}/configmaps/{name}") == with_smp);
}

TEST_CASE("the Table of a Scale shows desired and available replicas", "[apiserver]") {
  const json::Value scale = parse(R"({"kind":"Scale","apiVersion":"autoscaling/v1",
    "metadata":{"name":"web","namespace":"default","uid":"u1","resourceVersion":"7",
                "creationTimestamp":"2026-01-01T00:00:00Z"},
    "spec":{"replicas":3},"status":{"replicas":1,"selector":"app=web"}})");
  auto now = std::chrono::sys_days(std::chrono::year(2026) / 1 / 1) + std::chrono::minutes(5);
  const json::Value table = skiff::apiserver::make_scale_table(
      scale, skiff::apiserver::IncludeObject::kMetadata,
      std::chrono::time_point_cast<skiff::registry::TimePoint::duration>(now), "v1");
  CHECK(table["kind"] == json::Value("Table"));
  CHECK(table["apiVersion"] == json::Value("meta.k8s.io/v1"));
  CHECK(table["metadata"]["resourceVersion"] == json::Value("7"));
  std::vector<std::string> names;
  for (const auto& c : table["columnDefinitions"].as_array()) {
    names.emplace_back(c.string_or("name"));
  }
  CHECK(names == std::vector<std::string>{"Name", "Desired", "Available", "Age"});
  REQUIRE(table["rows"].size() == 1);
  const json::Value& row = table["rows"].as_array().at(0);
  CHECK(row["cells"] == parse(R"(["web",3,1,"5m"])"));
  CHECK(row["object"]["kind"] == json::Value("PartialObjectMetadata"));
  CHECK(row["object"]["metadata"]["name"] == json::Value("web"));
  // An empty spec (replicas is omitempty) is 0 desired.
  const json::Value zero = skiff::apiserver::make_scale_table(
      parse(R"({"kind":"Scale","metadata":{"name":"z"},"spec":{},"status":{}})"),
      skiff::apiserver::IncludeObject::kNone,
      std::chrono::time_point_cast<skiff::registry::TimePoint::duration>(now), "v1");
  CHECK(zero["rows"].as_array().at(0)["cells"] == parse(R"(["z",0,0,"<unknown>"])"));
  CHECK(zero["rows"].as_array().at(0).get("object") == nullptr);
}
