// SPDX-License-Identifier: Apache-2.0
#include <chrono>
#include <string>

#include "skiff/registry/managed_fields.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::decode_managed_fields;
using skiff::registry::encode_managed_fields;
using skiff::registry::field_set_of;
using skiff::registry::FieldPath;
using skiff::registry::FieldSet;
using skiff::registry::make_path;
using skiff::registry::path_to_string;
using skiff::registry::PathElement;
using skiff::registry::validate_managed_fields;
using skiff::registry::validate_managed_fields_entries;
using skiff::testing::js;
using skiff::testing::schemas;

namespace {

FieldSet from_v1(std::string_view text) {
  auto s = FieldSet::from_fields_v1(js(text));
  REQUIRE(s);
  return *s;
}

std::string v1(const FieldSet& s) {
  return skiff::json::serialize(s.to_fields_v1());
}

}  // namespace

TEST_CASE("FieldsV1 round-trips upstream's golden encodings byte for byte",
          "[registry][managed-fields]") {
  // structured-merge-diff's TestSerializeV1GoldenData: element order is fields, keys, values
  // (numbers, strings, booleans), indices; "." marks a member that also has children.
  const char* examples[] = {
      R"({"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},"k:{\"name\":\"first\"}":{},"k:{\"name\":\"second\"}":{},"k:{\"port\":443,\"protocol\":\"tcp\"}":{},"k:{\"port\":443,\"protocol\":\"udp\"}":{},"v:1":{},"v:2":{},"v:3":{},"v:\"aa\"":{},"v:\"ab\"":{},"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}})",
      R"({"f:aaa":{"k:{\"name\":\"second\"}":{"v:3":{"f:aab":{}}},"v:3":{},"v:true":{}},"f:aab":{"f:aaa":{},"f:aaf":{"k:{\"port\":443,\"protocol\":\"udp\"}":{"k:{\"port\":443,\"protocol\":\"tcp\"}":{}}},"k:{\"name\":\"first\"}":{}},"f:aac":{"f:aaa":{"v:1":{}},"f:aac":{},"v:3":{"k:{\"name\":\"second\"}":{}}},"f:aad":{"f:aac":{"v:1":{}},"f:aaf":{"k:{\"name\":\"first\"}":{"k:{\"name\":\"first\"}":{}}},"i:1":{"i:1":{},"i:3":{"v:true":{}}}},"f:aae":{"f:aae":{},"k:{\"port\":443,\"protocol\":\"tcp\"}":{"k:{\"port\":443,\"protocol\":\"udp\"}":{}},"i:4":{"f:aaf":{}}},"f:aaf":{"i:1":{"f:aac":{}},"i:2":{},"i:3":{}},"k:{\"name\":\"first\"}":{"f:aad":{"f:aaf":{}}},"k:{\"port\":443,\"protocol\":\"tcp\"}":{"f:aaa":{"f:aad":{}}},"k:{\"port\":443,\"protocol\":\"udp\"}":{"f:aac":{},"k:{\"name\":\"first\"}":{"i:3":{}},"k:{\"port\":443,\"protocol\":\"udp\"}":{"i:4":{}}},"v:1":{"f:aac":{"i:4":{}},"f:aaf":{},"k:{\"port\":443,\"protocol\":\"tcp\"}":{}},"v:2":{"f:aad":{"f:aaf":{}},"i:1":{}},"v:3":{"f:aaa":{},"k:{\"name\":\"first\"}":{},"i:2":{}},"v:\"aa\"":{"f:aab":{"f:aaf":{}},"f:aae":{},"k:{\"name\":\"first\"}":{"f:aad":{}},"i:2":{}},"v:\"ab\"":{"f:aaf":{"i:4":{}},"k:{\"port\":443,\"protocol\":\"tcp\"}":{},"k:{\"port\":443,\"protocol\":\"udp\"}":{},"v:1":{"k:{\"port\":443,\"protocol\":\"udp\"}":{}},"i:1":{"f:aae":{"i:4":{}}}},"v:true":{"k:{\"name\":\"second\"}":{"f:aaa":{}},"i:2":{"k:{\"port\":443,\"protocol\":\"tcp\"}":{}}},"i:1":{"i:3":{"f:aaf":{}}},"i:2":{"f:aae":{},"k:{\"port\":443,\"protocol\":\"tcp\"}":{"v:1":{}}},"i:3":{"f:aab":{"v:true":{"v:\"aa\"":{}}},"f:aaf":{},"i:1":{}},"i:4":{"v:\"aa\"":{"f:aab":{"k:{\"name\":\"second\"}":{}}}}})",
  };
  for (const char* e : examples) {
    CHECK(v1(from_v1(e)) == e);
  }
  // unknown element kinds are dropped, as upstream does
  CHECK(v1(from_v1(R"({"f:aaa":{},"r:aab":{}})")) == R"({"f:aaa":{}})");
  // a member with children gets "."
  FieldSet s;
  s.insert(make_path({"spec", "template"}));
  s.insert(make_path({"spec", "template", "spec"}));
  CHECK(v1(s) == R"({"f:spec":{"f:template":{".":{},"f:spec":{}}}})");
}

TEST_CASE("malformed FieldsV1 is an error, never a crash", "[registry][managed-fields]") {
  for (const char* bad : {R"([])", R"("f:x")", R"({"f:x":1})", R"({"x":{}})", R"({"k:[1]":{}})",
                          R"({"k:{":{}})", R"({"i:x":{}})", R"({"v:":{}})"}) {
    INFO(bad);
    CHECK_FALSE(FieldSet::from_fields_v1(js(bad)));
  }
}

TEST_CASE("path elements order, print and parse as upstream's", "[registry][managed-fields]") {
  auto key = PathElement::key({{"protocol", Value("TCP")}, {"containerPort", Value(80)}});
  CHECK(key.serialize() == R"(k:{"containerPort":80,"protocol":"TCP"})");
  CHECK(key.to_string() == R"([containerPort=80,protocol="TCP"])");
  CHECK(PathElement::value(Value("a")).to_string() == R"([="a"])");
  CHECK(PathElement::index(3).serialize() == "i:3");
  CHECK(PathElement::field("a") < key);
  CHECK(key < PathElement::value(Value(1)));
  CHECK(PathElement::value(Value(2)) < PathElement::value(Value("1")));
  CHECK(PathElement::value(Value("b")) < PathElement::value(Value(true)));
  CHECK(PathElement::value(Value(true)) < PathElement::index(0));
  auto parsed = PathElement::deserialize(R"(k:{"protocol":"TCP","containerPort":80})");
  REQUIRE(parsed);
  CHECK(*parsed == key);
  CHECK(PathElement::value(Value("<a&b>")).serialize() == R"(v:"\u003ca\u0026b\u003e")");
  FieldPath p = make_path({"spec", "template", "spec", "containers"});
  p.push_back(PathElement::key({{"name", Value("web")}}));
  p.push_back(PathElement::field("image"));
  CHECK(path_to_string(p) == R"(.spec.template.spec.containers[name="web"].image)");
}

TEST_CASE("field set algebra follows upstream's semantics", "[registry][managed-fields]") {
  FieldSet a = from_v1(R"({"f:spec":{".":{},"f:replicas":{},"f:template":{"f:x":{}}}})");
  FieldSet b = from_v1(R"({"f:spec":{".":{},"f:replicas":{}}})");
  CHECK(v1(a.difference(b)) == R"({"f:spec":{"f:template":{"f:x":{}}}})");
  CHECK(a.recursive_difference(from_v1(R"({"f:spec":{}})")).empty());
  CHECK(v1(a.intersection(b)) == v1(b));
  CHECK(a.union_with(b) == a);
  CHECK(a.has(make_path({"spec"})));
  CHECK_FALSE(a.has(make_path({"spec", "template"})));
  CHECK(a.has(make_path({"spec", "template", "x"})));
  CHECK(a.size() == 3);
  CHECK(v1(a.leaves()) == R"({"f:spec":{"f:replicas":{},"f:template":{"f:x":{}}}})");
  std::vector<std::string> order;
  a.for_each([&](const FieldPath& p) { order.push_back(path_to_string(p)); });
  CHECK(order == std::vector<std::string>{".spec", ".spec.replicas", ".spec.template.x"});
}

TEST_CASE("field sets of objects: keyed items, sets, granular and atomic maps",
          "[registry][managed-fields]") {
  auto s = field_set_of(schemas().deployment, js(R"({
    "apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","labels":{"app":"web"},"finalizers":["a","b"],"annotations":{}},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"spec":{"containers":[{"name":"web","image":"nginx","command":["a"],
                                         "ports":[{"containerPort":80}]}]}}}})"));
  REQUIRE(s);
  CHECK(
      v1(*s) ==
      R"({"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:annotations":{},"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}},"f:labels":{"f:app":{}},"f:name":{}},)"
      R"("f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:command":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})");
  auto bad = field_set_of(schemas().deployment, js(R"({"spec":{"nope":1}})"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == ".spec.nope: field not declared in schema");
}

TEST_CASE("managedFields entries decode, validate and encode as upstream",
          "[registry][managed-fields]") {
  auto entries = decode_managed_fields(js(R"([
    {"manager":"b","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T10:00:05Z",
     "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}}},
    {"manager":"a","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T12:00:00+02:00",
     "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:x":{}}}},"subresource":"status"},
    {"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1"}])"));
  REQUIRE(entries);
  REQUIRE(entries->size() == 3);
  CHECK(*(*entries)[1].time == *(*entries)[0].time - std::chrono::seconds(5));
  auto encoded = encode_managed_fields(*entries);
  // Apply sorts first; Update entries by time, then manager.
  CHECK(encoded.as_array()[0]["manager"] == Value("kubectl"));
  CHECK(encoded.as_array()[1]["manager"] == Value("a"));
  CHECK(encoded.as_array()[1]["time"] == Value("2024-05-01T10:00:00Z"));
  CHECK(encoded.as_array()[1]["subresource"] == Value("status"));
  CHECK(
      skiff::json::serialize(encoded.as_array()[2]) ==
      R"({"manager":"b","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T10:00:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}}})");
  CHECK(encode_managed_fields({}).is_null());

  struct Bad {
    const char* entries;
    const char* message;
  };
  const Bad bad[] = {
      {R"([{"manager":"m","operation":"Patch","apiVersion":"v1","fieldsType":"FieldsV1"}])",
       "operation must be `Apply` or `Update`"},
      {R"([{"manager":"m","operation":"Update","fieldsType":"FieldsV1"}])",
       "apiVersion must not be empty"},
      {R"([{"manager":"m","operation":"Update","apiVersion":"v1"}])",
       "missing fieldsType in managed fields entry 0"},
      {R"([{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV2"}])",
       "invalid fieldsType \"FieldsV2\" in managed fields entry 0"},
      {R"({"manager":"m"})", "metadata.managedFields must be a list"},
  };
  for (const auto& b : bad) {
    auto r = validate_managed_fields(js(b.entries));
    INFO(b.entries);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == b.message);
  }
  CHECK_FALSE(validate_managed_fields(js(R"([{"manager":"m","operation":"Update","apiVersion":"v1",
      "fieldsType":"FieldsV1","fieldsV1":{"f:x":1}}])")));
  CHECK_FALSE(validate_managed_fields(js(R"([{"manager":"m","operation":"Update","apiVersion":"v1",
      "fieldsType":"FieldsV1","time":"yesterday"}])")));
  CHECK(validate_managed_fields(Value()));

  auto causes = validate_managed_fields_entries(
      js(R"([{"manager":"ok","operation":"Merge","fieldsType":"FieldsV9"},{"manager":"x\u0001"}])"),
      "metadata.managedFields");
  REQUIRE(causes.size() == 4);
  CHECK(causes[0].field == "metadata.managedFields[0].operation");
  CHECK(causes[0].message == "Invalid value: \"Merge\": must be `Apply` or `Update`");
  CHECK(causes[1].field == "metadata.managedFields[0].fieldsType");
  CHECK(causes[2].field == "metadata.managedFields[1].operation");
  CHECK(causes[3].field == "metadata.managedFields[1].manager");
}
