// SPDX-License-Identifier: Apache-2.0
#include <fstream>
#include <sstream>
#include <string>

#include "skiff/registry/patch.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::apply_strategic_merge_patch;
using skiff::testing::js;
using skiff::testing::schemas;

namespace {

Value load(const std::string& name) {
  std::ifstream in(std::string(SKIFF_PATCH_TEST_DATA) + "/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return js(ss.str());
}

Value smp(const Value& original, std::string_view patch, const skiff::registry::Node* schema) {
  auto r = apply_strategic_merge_patch(original, js(patch), schema);
  INFO(patch);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("strategic merge patch reproduces upstream's MergeItem test expectations",
          "[registry][patch][smp]") {
  const Value data = load("strategic_merge_item.json");
  const auto& cases = data["cases"].as_array();
  REQUIRE(cases.size() > 200);
  int checked = 0;
  for (const auto& c : cases) {
    const std::string description(c.string_or("description"));
    INFO(description);
    INFO("original: " << skiff::json::serialize(c["original"]));
    INFO("patch:    " << skiff::json::serialize(c["patch"]));
    auto result = apply_strategic_merge_patch(c["original"], c["patch"], schemas().merge_item);
    if (const Value* err = c.get("error")) {
      REQUIRE_FALSE(result);
      CHECK_THAT(result.error().message, Catch::Contains(err->as_string()));
    } else {
      REQUIRE(result);
      INFO("expected: " << skiff::json::serialize(c["expected"]));
      INFO("got:      " << skiff::json::serialize(*result));
      // Objects compare without member order, lists with it: list order is part of the expectation.
      CHECK(*result == c["expected"]);
    }
    ++checked;
  }
  CHECK(checked == static_cast<int>(cases.size()));
}

TEST_CASE("strategic merge patch keeps the result's list order as upstream",
          "[registry][patch][smp]") {
  const auto* item = schemas().merge_item;
  SECTION("patch order wins for merged items, server-only items keep their place") {
    auto r = smp(js(R"({"mergingList":[{"name":"1"},{"name":"2","value":"b"},{"name":"3"}]})"),
                 R"({"mergingList":[{"name":"3","value":"c"},{"name":"1","value":"a"}]})", item);
    CHECK(r == js(R"({"mergingList":[{"name":"2","value":"b"},{"name":"3","value":"c"},
                                     {"name":"1","value":"a"}]})"));
  }
  SECTION("$setElementOrder orders the whole list") {
    auto r = smp(js(R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]})"),
                 R"({"$setElementOrder/mergingList":[{"name":"c"},{"name":"b"},{"name":"a"}],
                     "mergingList":[{"name":"b","value":"x"}]})",
                 item);
    CHECK(r == js(R"({"mergingList":[{"name":"c"},{"name":"b","value":"x"},{"name":"a"}]})"));
  }
  SECTION("primitive merge lists are sets") {
    auto r = smp(js(R"({"mergingIntList":[1,2]})"), R"({"mergingIntList":[2,3,3]})", item);
    CHECK(r == js(R"({"mergingIntList":[1,2,3]})"));
  }
}

TEST_CASE("strategic merge patch directives", "[registry][patch][smp]") {
  const auto* item = schemas().merge_item;
  SECTION("$patch: replace on a map") {
    CHECK(smp(js(R"({"simpleMap":{"a":"1","b":"2"}})"),
              R"({"simpleMap":{"$patch":"replace","c":"3"}})",
              item) == js(R"({"simpleMap":{"c":"3"}})"));
  }
  SECTION("$patch: delete on a map leaves it empty") {
    CHECK(smp(js(R"({"simpleMap":{"a":"1"}})"), R"({"simpleMap":{"$patch":"delete"}})", item) ==
          js(R"({"simpleMap":{}})"));
  }
  SECTION("$patch: delete removes every item with the key") {
    CHECK(smp(js(R"({"mergingList":[{"name":"a"},{"name":"b"},{"name":"a","value":"x"}]})"),
              R"({"mergingList":[{"name":"a","$patch":"delete"}]})",
              item) == js(R"({"mergingList":[{"name":"b"}]})"));
  }
  SECTION("$patch: replace in a list") {
    CHECK(smp(js(R"({"mergingList":[{"name":"a"},{"name":"b"}]})"),
              R"({"mergingList":[{"$patch":"replace"},{"name":"c","value":null}]})",
              item) == js(R"({"mergingList":[{"name":"c"}]})"));
  }
  SECTION("$deleteFromPrimitiveList") {
    CHECK(smp(js(R"({"mergingIntList":[1,2,3]})"),
              R"({"$deleteFromPrimitiveList/mergingIntList":[2]})",
              item) == js(R"({"mergingIntList":[1,3]})"));
  }
  SECTION("$retainKeys clears what is not listed") {
    CHECK(smp(js(R"({"retainKeysMap":{"name":"n","value":"v","other":"o"}})"),
              R"({"retainKeysMap":{"$retainKeys":["name","other"],"other":"p"}})",
              item) == js(R"({"retainKeysMap":{"name":"n","other":"p"}})"));
  }
  SECTION("null deletes; nulls in new values are dropped") {
    CHECK(smp(js(R"({"name":"x","value":"y"})"), R"({"value":null,"simpleMap":{"a":"1","b":null}})",
              item) == js(R"({"name":"x","simpleMap":{"a":"1"}})"));
  }
  SECTION("a replace strategy field takes the patch as is") {
    CHECK(smp(js(R"({"replacingItem":{"a":1,"b":{"c":2}}})"), R"({"replacingItem":{"b":{"d":3}}})",
              item) == js(R"({"replacingItem":{"b":{"d":3}}})"));
  }
  SECTION("directives in values new to the object do not leak into it") {
    auto r = smp(js(R"({})"),
                 R"({"mergeItemPtr":{"$setElementOrder/mergingList":[{"name":"a"}],
                     "mergingList":[{"name":"a"},{"name":"b","$patch":"delete"}]}})",
                 item);
    CHECK(r == js(R"({"mergeItemPtr":{"mergingList":[{"name":"a"}]}})"));
  }
}

TEST_CASE("strategic merge patch errors are upstream's", "[registry][patch][smp]") {
  const auto* item = schemas().merge_item;
  auto fails = [&](std::string_view original, std::string_view patch) {
    auto r = apply_strategic_merge_patch(js(original), js(patch), item);
    INFO(patch);
    REQUIRE_FALSE(r);
    return r.error();
  };
  SECTION("missing merge key") {
    auto e = fails(R"({"mergingList":[{"name":"1","value":"a"}]})",
                   R"({"mergingList":[{"value":"b"}]})");
    CHECK(e.reason == Reason::kInternal);
    CHECK(e.message == "map: map[value:b] does not contain declared merge key: name");
  }
  SECTION("unknown $patch on a map") {
    auto e = fails(R"({"simpleMap":{}})", R"({"$patch":"explode","name":"x"})");
    CHECK(e.message == "unknown patch type: explode in map: map[$patch:explode name:x]");
  }
  SECTION("$patch: merge in a list") {
    auto e = fails(R"({"mergingList":[{"name":"a"}]})", R"({"mergingList":[{"$patch":"merge"}]})");
    CHECK(e.message == "merging lists cannot yet be specified in the patch");
  }
  SECTION("malformed directives are bad requests") {
    CHECK(fails(R"({})", R"({"$setElementOrder":[1]})").reason == Reason::kBadRequest);
    CHECK(fails(R"({"mergingIntList":[1]})", R"({"$deleteFromPrimitiveListX":[1]})").message ==
          "invalid patch format of primitive list");
    auto e = fails(R"({"retainKeysMap":{"name":"a"}})",
                   R"({"retainKeysMap":{"$retainKeys":["name"],"value":"v"}})");
    CHECK(e.reason == Reason::kBadRequest);
    CHECK(e.message == "invalid patch format of retainKeys");
    CHECK(fails(R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"$retainKeys":"name"}})").message ==
          "invalid patch format of retainKeys");
  }
  SECTION("lists of lists") {
    auto e = fails(R"({"mergingIntList":[[1]]})", R"({"mergingIntList":[[2]]})");
    CHECK(e.reason == Reason::kInvalid);
    CHECK(e.message == "lists of lists are not supported");
  }
  SECTION("mixed element types") {
    auto e = fails(R"({"mergingIntList":[1]})", R"({"mergingIntList":["a"]})");
    CHECK_THAT(e.message, Catch::StartsWith("list element types are not identical"));
  }
  SECTION("$setElementOrder not matching the patch list") {
    auto e = fails(R"({"mergingList":[{"name":"1"},{"name":"3"},{"name":"2"}]})",
                   R"({"$setElementOrder/mergingList":[{"name":"1"},{"name":"2"},{"name":"3"}],
                       "mergingList":[{"name":"3","value":"3"},{"name":"1","value":"1"}]})");
    CHECK_THAT(e.message, Catch::Contains("doesn't match $setElementOrder list"));
  }
  SECTION("non-object patch") {
    auto r = apply_strategic_merge_patch(js(R"({})"), js(R"([1])"), item);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kBadRequest);
    CHECK(r.error().message ==
          "json: cannot unmarshal array into Go value of type map[string]interface {}");
  }
}

TEST_CASE("strategic merge patch without schema falls back to merge semantics",
          "[registry][patch][smp]") {
  const auto* widget = schemas().widget;
  auto r = smp(js(R"({"spec":{"a":{"b":1,"c":[1,2]},"list":[{"name":"x"}]}})"),
               R"({"spec":{"a":{"c":[3],"d":null},"list":[{"name":"y"}]}})", widget);
  CHECK(r == js(R"({"spec":{"a":{"b":1,"c":[3]},"list":[{"name":"y"}]}})"));
  // unknown fields of a typed kind behave the same
  auto d = smp(js(R"({"spec":{"unknownThing":{"x":[1]}}})"),
               R"({"spec":{"unknownThing":{"x":[2]}}})", schemas().deployment);
  CHECK(d == js(R"({"spec":{"unknownThing":{"x":[2]}}})"));
  // and a null schema too
  CHECK(smp(js(R"({"a":[1],"b":{"c":1}})"), R"({"a":[2],"b":{"d":2}})", nullptr) ==
        js(R"({"a":[2],"b":{"c":1,"d":2}})"));
}
