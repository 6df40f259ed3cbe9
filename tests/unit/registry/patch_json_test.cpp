// SPDX-License-Identifier: Apache-2.0
#include <fstream>
#include <sstream>
#include <string>

#include "skiff/registry/patch.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::apply_json_patch;
using skiff::registry::apply_patch_body;
using skiff::registry::JsonPatchLimits;
using skiff::registry::parse_json_pointer;
using skiff::registry::PatchType;
using skiff::testing::js;

namespace {

Value load(const std::string& name) {
  std::ifstream in(std::string(SKIFF_PATCH_TEST_DATA) + "/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return js(ss.str());
}

}  // namespace

TEST_CASE("JSON pointers decode ~0 and ~1 after splitting", "[registry][patch][json-patch]") {
  auto p = parse_json_pointer("/a~1b/m~0n/~01/");
  REQUIRE(p);
  CHECK(*p == std::vector<std::string>{"a/b", "m~n", "~1", ""});
  CHECK(parse_json_pointer("")->empty());
  CHECK_FALSE(parse_json_pointer("a/b"));
  CHECK_FALSE(parse_json_pointer("/a~2"));
  CHECK_FALSE(parse_json_pointer("/a~"));
}

TEST_CASE("JSON patch passes the RFC 6902 appendix examples", "[registry][patch][json-patch]") {
  const Value data = load("json_patch_rfc6902.json");
  for (const auto& c : data["cases"].as_array()) {
    INFO(c.string_or("description"));
    auto r = apply_json_patch(c["doc"], c["patch"]);
    if (c.bool_or("fails")) {
      REQUIRE_FALSE(r);
      CHECK(r.error().reason == Reason::kInvalid);
      if (const auto* m = c.get("message")) {
        CHECK(r.error().message == m->as_string());
      }
    } else {
      REQUIRE(r);
      INFO("got: " << skiff::json::serialize(*r));
      CHECK(*r == c["expected"]);
    }
  }
}

TEST_CASE("JSON patch follows evanphx/json-patch v4 where it is lenient",
          "[registry][patch][json-patch]") {
  SECTION("replace of a missing member adds it (rollout undo on an object without annotations)") {
    auto r = apply_json_patch(
        js(R"({"metadata":{"name":"x"}})"),
        js(R"([{"op":"replace","path":"/metadata/annotations","value":{"a":"b"}}])"));
    REQUIRE(r);
    CHECK(*r == js(R"({"metadata":{"name":"x","annotations":{"a":"b"}}})"));
  }
  SECTION("negative indices count from the end") {
    auto r = apply_json_patch(js(R"({"a":[1,2,3]})"), js(R"([{"op":"remove","path":"/a/-1"},
                                                               {"op":"replace","path":"/a/-2","value":9}])"));
    REQUIRE(r);
    CHECK(*r == js(R"({"a":[9,2]})"));
  }
  SECTION("add without value adds null; copy of a missing member copies null") {
    auto r = apply_json_patch(js(R"({})"), js(R"([{"op":"add","path":"/a"},
                                                   {"op":"copy","from":"/nope","path":"/b"}])"));
    REQUIRE(r);
    CHECK(*r == js(R"({"a":null,"b":null})"));
  }
  SECTION("test treats a missing member and null alike") {
    CHECK(apply_json_patch(js(R"({})"), js(R"([{"op":"test","path":"/a","value":null}])")));
    CHECK_FALSE(apply_json_patch(js(R"({})"), js(R"([{"op":"test","path":"/a","value":1}])")));
    CHECK(apply_json_patch(js(R"({"a":{"x":1,"y":[1,2]}})"),
                           js(R"([{"op":"test","path":"/a","value":{"y":[1,2],"x":1.0}}])")));
  }
  SECTION("the whole document") {
    auto r =
        apply_json_patch(js(R"({"a":1})"), js(R"([{"op":"replace","path":"","value":{"b":2}}])"));
    REQUIRE(r);
    CHECK(*r == js(R"({"b":2})"));
    CHECK(apply_json_patch(js(R"({"a":1})"), js(R"([{"op":"test","path":"","value":{"a":1}}])")));
    CHECK_FALSE(apply_json_patch(js(R"({"a":1})"), js(R"([{"op":"remove","path":""}])")));
  }
}

TEST_CASE("JSON patch errors name the operation like upstream", "[registry][patch][json-patch]") {
  auto err = [](std::string_view doc, std::string_view patch) {
    auto r = apply_json_patch(js(doc), js(patch));
    INFO(patch);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(err(R"({})", R"([{"op":"add","path":"/a/b","value":1}])").message ==
        "add operation does not apply: doc is missing path: \"/a/b\": missing value");
  CHECK(err(R"({})", R"([{"op":"remove","path":"/a"}])").message ==
        "error in remove for path: '/a': Unable to remove nonexistent key: a: missing value");
  CHECK(
      err(R"({"a":[1]})", R"([{"op":"add","path":"/a/5","value":1}])").message ==
      "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced");
  CHECK(err(R"({"a":[1]})", R"([{"op":"add","path":"/a/x","value":1}])").message ==
        "error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: "
        "parsing \"x\": invalid syntax");
  CHECK(err(R"({"a":1})", R"([{"op":"test","path":"/a","value":2}])").message ==
        "testing value /a failed: test failed");
  CHECK(err(R"({})", R"([{"op":"frobnicate","path":"/a"}])").message ==
        "Unexpected kind: frobnicate");
  CHECK(err(R"({})", R"([{"path":"/a"}])").message == "Unexpected kind: unknown");
  CHECK(err(R"({})", R"([{"op":"add"}])").message ==
        "add operation failed to decode path: missing value");
  CHECK(err(R"({"a":[1]})", R"([{"op":"move","from":"/a/0","path":"/a/0/x"}])").reason ==
        Reason::kInvalid);
  // decode errors are bad requests
  CHECK(err(R"({})", R"({"op":"add"})").reason == Reason::kBadRequest);
  CHECK(err(R"({})", R"(["add"])").message ==
        "json: cannot unmarshal string into Go value of type jsonpatch.Operation");
}

TEST_CASE("JSON patch cost is bounded as upstream's", "[registry][patch][json-patch]") {
  SECTION("operation count") {
    Value ops = Value::array();
    for (int i = 0; i < 10001; ++i) {
      ops.as_array().push_back(js(R"({"op":"test","path":"/a","value":1})"));
    }
    auto r = apply_json_patch(js(R"({"a":1})"), ops);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kTooLarge);
    CHECK(r.error().message ==
          "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got "
          "10001");
    ops.as_array().pop_back();
    CHECK(apply_json_patch(js(R"({"a":1})"), ops));
  }
  SECTION("copy volume doubles per operation and is cut off") {
    Value ops = Value::array();
    for (int i = 0; i < 40; ++i) {
      ops.as_array().push_back(js(R"({"op":"copy","from":"/a","path":"/a/-"})"));
    }
    auto r = apply_json_patch(js(R"({"a":["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]})"), ops);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kInvalid);
    CHECK_THAT(
        r.error().message,
        Catch::StartsWith("Unable to complete the copy, the accumulated size increase of copy is"));
    CHECK_THAT(r.error().message, Catch::EndsWith("exceeding the limit 3145728"));
    JsonPatchLimits small;
    small.max_copy_bytes = 10;
    CHECK_FALSE(apply_json_patch(js(R"({"a":"0123456789ab"})"),
                                 js(R"([{"op":"copy","from":"/a","path":"/b"}])"), small));
  }
}

TEST_CASE("JSON patch requests answer with upstream's Status", "[registry][patch][json-patch]") {
  const Value live = js(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})");
  SECTION("a failing operation is a vague 422") {
    auto r =
        apply_patch_body(PatchType::kJson, live, R"([{"op":"remove","path":"/spec"}])", nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kInvalid);
    CHECK(r.error().message == "the server rejected our request due to an error in our request");
  }
  SECTION("a body that is not JSON is a 400") {
    auto r = apply_patch_body(PatchType::kJson, live, "[{", nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kBadRequest);
  }
  SECTION("a result that is not an object fails the decode") {
    auto r = apply_patch_body(PatchType::kJson, live, R"([{"op":"replace","path":"","value":[1]}])",
                              nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kInvalid);
    REQUIRE(r.error().causes.size() == 1);
    CHECK(r.error().causes[0].field == "patch");
  }
  SECTION("success") {
    auto r =
        apply_patch_body(PatchType::kJson, live,
                         R"([{"op":"add","path":"/metadata/labels","value":{"a":"b"}}])", nullptr);
    REQUIRE(r);
    CHECK((*r)["metadata"]["labels"]["a"] == Value("b"));
  }
}

TEST_CASE("malformed JSON patches never crash", "[registry][patch][json-patch]") {
  const Value doc = js(R"({"a":[1,{"b":null}],"c":{"d":"e"}})");
  const char* patches[] = {
      R"(null)",
      R"([])",
      R"([null])",
      R"([{}])",
      R"([{"op":1,"path":2}])",
      R"([{"op":"add","path":7,"value":1}])",
      R"([{"op":"move","from":"","path":"/x"}])",
      R"([{"op":"move","from":"/a","path":"/a/0"}])",
      R"([{"op":"copy","from":"/a/9","path":"/x"}])",
      R"([{"op":"remove","path":"/a/-"}])",
      R"([{"op":"replace","path":"/a/99999999999999999999","value":1}])",
      R"([{"op":"add","path":"/a/-9223372036854775808","value":1}])",
      R"([{"op":"test","path":"/c/d"}])",
      R"([{"op":"add","path":"/c/d/e","value":1}])",
      R"([{"op":"add","path":"relative","value":1}])",
      R"([{"op":"add","path":"/a/~2","value":1}])",
      R"([{"op":"replace","path":"","value":3}])",
  };
  for (const char* p : patches) {
    INFO(p);
    auto r = apply_json_patch(doc, js(p));
    if (!r) {
      CHECK_FALSE(r.error().message.empty());
    }
    auto body = apply_patch_body(PatchType::kJson, doc, p, nullptr);
    (void)body;
  }
}
