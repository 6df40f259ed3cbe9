// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/patch.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::apply_merge_patch;
using skiff::registry::apply_patch_body;
using skiff::registry::PatchType;
using skiff::testing::js;

TEST_CASE("merge patch passes the RFC 7386 appendix examples", "[registry][patch][merge-patch]") {
  struct Case {
    const char* target;
    const char* patch;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    INFO(c.target << " + " << c.patch);
    CHECK(apply_merge_patch(js(c.target), js(c.patch)) == js(c.expected));
  }
}

TEST_CASE("merge patch requests answer with upstream's Status", "[registry][patch][merge-patch]") {
  const Value live =
      js(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1"}}})");
  SECTION("label and unlabel") {
    auto r =
        apply_patch_body(PatchType::kMerge, live, R"({"metadata":{"labels":{"k":"v"}}})", nullptr);
    REQUIRE(r);
    CHECK((*r)["metadata"]["labels"] == js(R"({"a":"1","k":"v"})"));
    r = apply_patch_body(PatchType::kMerge, *r, R"({"metadata":{"labels":{"a":null}}})", nullptr);
    REQUIRE(r);
    CHECK((*r)["metadata"]["labels"] == js(R"({"k":"v"})"));
  }
  SECTION("null, scalars and invalid JSON are 'Invalid JSON Patch'") {
    for (const char* body : {"null", "\"x\"", "3", "true", "{", ""}) {
      INFO(body);
      auto r = apply_patch_body(PatchType::kMerge, live, body, nullptr);
      REQUIRE_FALSE(r);
      CHECK(r.error().reason == Reason::kBadRequest);
      CHECK(r.error().message == "Invalid JSON Patch");
    }
  }
  SECTION("an array replaces the document, which then fails the decode") {
    auto r = apply_patch_body(PatchType::kMerge, live, "[1]", nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("patch: Invalid value: \"[1]\""));
  }
  SECTION("scale's patch on a Scale") {
    auto scale = js(R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web"},
                        "spec":{"replicas":1},"status":{"replicas":1,"selector":"app=web"}})");
    auto r = apply_patch_body(PatchType::kMerge, scale, R"({"spec":{"replicas":3}})", nullptr);
    REQUIRE(r);
    CHECK((*r)["spec"]["replicas"] == Value(3));
    CHECK((*r)["status"]["replicas"] == Value(1));
  }
}
