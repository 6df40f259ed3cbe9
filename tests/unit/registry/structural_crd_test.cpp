// SPDX-License-Identifier: Apache-2.0
// CRD schemas: conversion with upstream's structural checks, and pruning, defaulting and value
// validation of custom resources against the converted nodes.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "skiff/registry/openapi_schema.hpp"
#include "skiff/registry/schema.hpp"
#include "skiff/registry/structural.hpp"

#include "registry_test_util.hpp"

using skiff::FieldCause;
using skiff::Reason;
using skiff::json::Value;
using skiff::registry::apply_defaults;
using skiff::registry::GroupVersionKind;
using skiff::registry::Kind;
using skiff::registry::ListType;
using skiff::registry::Node;
using skiff::registry::prune;
using skiff::registry::Schema;
using skiff::registry::validate_value;
using skiff::testing::parse_json;

namespace {

const char* const kPrefix = "spec.versions[0].schema.openAPIV3Schema";
const GroupVersionKind kWidget{"example.com", "v1", "Widget"};

const char* const kWidgetSchema = R"({
  "type": "object",
  "description": "A widget.",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["image"],
      "properties": {
        "image": {"type": "string", "minLength": 1, "pattern": "^[a-z0-9./:-]+$"},
        "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "mode": {"type": "string", "enum": ["a", "b"]},
        "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": true, "multipleOf": 0.25},
        "port": {"x-kubernetes-int-or-string": true},
        "tags": {"type": "array", "maxItems": 3, "x-kubernetes-list-type": "set",
                 "items": {"type": "string", "maxLength": 5}},
        "workers": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "required": ["name"],
                              "properties": {"name": {"type": "string"},
                                             "cpu": {"type": "string", "default": "100m"},
                                             "env": {"type": "object",
                                                     "additionalProperties": {"type": "string"}}}}},
        "labels": {"type": "object", "maxProperties": 2,
                   "additionalProperties": {"type": "object",
                                            "properties": {"value": {"type": "string", "default": "x"}}}},
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                   "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "x-kubernetes-preserve-unknown-fields": true},
        "when": {"type": "string", "format": "date-time"},
        "id": {"type": "string", "format": "uuid"},
        "optional": {"type": "string", "nullable": true},
        "choice": {"type": "object",
                   "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                   "oneOf": [{"required": ["x"]}, {"required": ["y"]}]},
        "anything": {"x-kubernetes-preserve-unknown-fields": true},
        "nested": {"type": "object", "default": {},
                   "properties": {"level": {"type": "string", "default": "info"}}}
      }
    },
    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
  }
})";

Schema widget_schema() {
  auto s = Schema::from_openapi_v3(parse_json(kWidgetSchema), kWidget, kPrefix);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  return std::move(*s);
}

std::vector<std::string> messages(const std::vector<FieldCause>& causes) {
  std::vector<std::string> out;
  for (const FieldCause& c : causes) {
    out.push_back(c.field + ": " + c.message);
  }
  return out;
}

}  // namespace

TEST_CASE("a structural CRD schema converts into nodes with resource metadata added",
          "[registry][crd]") {
  Schema s = widget_schema();
  const Node* root = s.root();
  REQUIRE(root != nullptr);
  CHECK(root->name == "com.example.v1.Widget");
  CHECK(s.find("com.example.v1.Widget") == root);
  CHECK(s.find_kind(kWidget) == root);
  CHECK(root->kind == Kind::kObject);
  CHECK(root->description == "A widget.");
  REQUIRE(root->field("metadata") != nullptr);
  CHECK(root->field("metadata")->node ==
        Schema::builtin().find("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
  CHECK(root->field("apiVersion")->node->kind == Kind::kString);
  CHECK(root->fields.front().name == "apiVersion");
  const Node& spec = *root->field("spec")->node;
  CHECK(spec.field("image")->required);
  CHECK(spec.field("port")->node->kind == Kind::kIntOrString);
  CHECK(spec.field("tags")->node->list_type == ListType::kSet);
  CHECK(spec.field("workers")->node->list_map_keys == std::vector<std::string>{"name"});
  CHECK(spec.field("labels")->node->kind == Kind::kMap);
  CHECK(spec.field("config")->node->preserve_unknown_fields);
  CHECK(spec.field("anything")->node->kind == Kind::kAny);
  const Node& tmpl = *spec.field("template")->node;
  CHECK(tmpl.embedded_resource);
  CHECK(tmpl.field("metadata") != nullptr);
  CHECK(spec.field("choice")->node->one_of.size() == 2);
  CHECK(*spec.field("size")->node->default_value == Value(1));

  // Its OpenAPI form keeps the author's constraints and extensions.
  Value defs = skiff::registry::openapi_definitions({root}, skiff::registry::OpenApiVersion::kV3);
  const Value& w = defs["com.example.v1.Widget"];
  CHECK(w["x-kubernetes-group-version-kind"] ==
        parse_json(R"([{"group":"example.com","kind":"Widget","version":"v1"}])"));
  CHECK(w["properties"]["metadata"] ==
        parse_json(
            R"({"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"})"));
  const Value& sp = w["properties"]["spec"]["properties"];
  CHECK(sp["size"] == parse_json(R"({"type":"integer","default":1,"minimum":1,"maximum":10})"));
  CHECK(
      sp["port"] ==
      parse_json(
          R"({"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true})"));
  CHECK(sp["template"]["x-kubernetes-embedded-resource"] == Value(true));
  CHECK(sp["config"]["x-kubernetes-preserve-unknown-fields"] == Value(true));
  CHECK(sp["workers"]["x-kubernetes-list-map-keys"] == parse_json(R"(["name"])"));
  CHECK(sp["choice"]["oneOf"] == parse_json(R"([{"required":["x"]},{"required":["y"]}])"));
  CHECK(sp["anything"] == parse_json(R"({"x-kubernetes-preserve-unknown-fields":true})"));
  CHECK(defs.get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") != nullptr);
  CHECK(w["required"].is_null());
  CHECK(w["properties"]["spec"]["required"] == parse_json(R"(["image"])"));
}

TEST_CASE("pruning drops unknown fields of custom resources and reports them sorted",
          "[registry][crd]") {
  Schema s = widget_schema();
  Value cr = parse_json(R"({
    "apiVersion": "example.com/v1", "kind": "Widget",
    "metadata": {"name": "w", "bogus": 1, "labels": {"a": "b"}},
    "extra": true,
    "spec": {"image": "nginx", "bogus": {"x": 1},
             "workers": [{"name": "a", "extra": 1, "env": {"K": "V"}}],
             "labels": {"k": {"value": "v", "extra": 2}},
             "config": {"free": {"any": 1}, "known": {"a": "x", "b": "pruned"}},
             "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "junk": 1},
                          "spec": {"anything": true}},
             "anything": {"deep": [1, {"x": 2}]}},
    "status": {"ready": true, "extra": "x"}})");
  std::vector<std::string> unknown = skiff::registry::unknown_fields(*s.root(), cr);
  std::sort(unknown.begin(), unknown.end());
  std::vector<std::string> pruned = prune(*s.root(), cr);
  const std::vector<std::string> expected = {
      "extra",
      "metadata.bogus",
      "spec.bogus",
      "spec.config.known.b",
      "spec.labels.k.extra",
      "spec.template.metadata.junk",
      "spec.workers[0].extra",
      "status.extra",
  };
  CHECK(pruned == expected);
  // Strict field validation finds the same paths without changing the object.
  CHECK(unknown == expected);
  CHECK(cr == parse_json(R"({
    "apiVersion": "example.com/v1", "kind": "Widget",
    "metadata": {"name": "w", "labels": {"a": "b"}},
    "spec": {"image": "nginx",
             "workers": [{"name": "a", "env": {"K": "V"}}],
             "labels": {"k": {"value": "v"}},
             "config": {"free": {"any": 1}, "known": {"a": "x"}},
             "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                          "spec": {"anything": true}},
             "anything": {"deep": [1, {"x": 2}]}},
    "status": {"ready": true}})"));
  // Pruning again finds nothing.
  CHECK(prune(*s.root(), cr).empty());
}

TEST_CASE("structural defaulting fills absent and null fields recursively", "[registry][crd]") {
  Schema s = widget_schema();
  Value cr = parse_json(R"({"spec": {"image": "x", "mode": null, "optional": null,
                                      "workers": [{"name": "a"}, {"name": "b", "cpu": "2"}],
                                      "labels": {"k": {}, "n": null}},
                            "status": {}})");
  apply_defaults(*s.root(), cr);
  CHECK(cr == parse_json(R"({"spec": {"image": "x", "optional": null, "size": 1,
                                       "nested": {"level": "info"},
                                       "workers": [{"name": "a", "cpu": "100m"}, {"name": "b", "cpu": "2"}],
                                       "labels": {"k": {"value": "x"}}},
                             "status": {}})"));
  // A non-nullable null with a default takes the default.
  Value with_null = parse_json(R"({"spec": {"image": "x", "size": null}})");
  apply_defaults(*s.root(), with_null);
  CHECK(with_null["spec"]["size"] == Value(1));
  // Defaulting is idempotent.
  Value again = cr;
  apply_defaults(*s.root(), again);
  CHECK(again == cr);
}

TEST_CASE("custom resources are validated with upstream's field errors", "[registry][crd]") {
  Schema s = widget_schema();
  const Node& root = *s.root();
  struct Case {
    const char* spec;
    std::vector<std::string> causes;
  };
  const std::vector<Case> cases = {
      {R"({"image": "nginx", "size": 3, "mode": "a", "ratio": 0.5, "port": "http",
           "tags": ["x"], "workers": [{"name": "a"}], "when": "2024-01-02T03:04:05Z",
           "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "optional": null, "choice": {"x": "1"}})",
       {}},
      {R"({"image": "nginx", "size": "x"})",
       {R"(spec.size: Invalid value: "x": spec.size in body must be of type integer: "string")"}},
      {R"({"size": 2})", {"spec.image: Required value"}},
      {R"({"image": "nginx", "mode": "c"})",
       {R"(spec.mode: Unsupported value: "c": supported values: "a", "b")"}},
      {R"({"image": "nginx", "size": 0})",
       {"spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"}},
      {R"({"image": "nginx", "size": 11})",
       {"spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"}},
      {R"({"image": "nginx", "ratio": 1})",
       {"spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1"}},
      {R"({"image": "nginx", "ratio": 0.3})",
       {"spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.25"}},
      {R"({"image": "Nginx!"})",
       {R"(spec.image: Invalid value: "Nginx!": spec.image in body should match '^[a-z0-9./:-]+$')"}},
      {R"({"image": ""})",
       {R"(spec.image: Invalid value: "": spec.image in body should be at least 1 chars long)",
        R"(spec.image: Invalid value: "": spec.image in body should match '^[a-z0-9./:-]+$')"}},
      {R"({"image": "x", "tags": ["a", "toolong", "a", "b"]})",
       {"spec.tags: Too many: 4: must have at most 3 items",
        "spec.tags[1]: Too long: may not be more than 5 bytes",
        R"(spec.tags[2]: Duplicate value: "a")"}},
      {R"({"image": "x", "workers": [{"name": "a"}, {"cpu": "1"}, {"name": "a"}]})",
       {"spec.workers[1].name: Required value",
        R"(spec.workers[2]: Duplicate value: map[string]interface {}{"name":"a"})"}},
      {R"({"image": "x", "port": true})",
       {R"(spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean")"}},
      {R"({"image": "x", "when": "yesterday", "id": "nope"})",
       {R"(spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday")",
        R"(spec.id: Invalid value: "nope": spec.id in body must be of type uuid: "nope")"}},
      {R"({"image": "x", "mode": null})",
       {R"(spec.mode: Invalid value: "": spec.mode in body must be of type string: "null")"}},
      {R"({"image": "x", "labels": {"a": {}, "b": {}, "c": {"value": 1}}})",
       {"spec.labels: Too many: 3: must have at most 2 items",
        R"(spec.labels.c.value: Invalid value: 1: spec.labels.c.value in body must be of type string: "integer")"}},
      {R"({"image": "x", "choice": {}})",
       {R"(spec.choice: Invalid value: "": "spec.choice" must validate one and only one schema (oneOf). Found none valid)"}},
      {R"({"image": "x", "choice": {"x": "1", "y": "2"}})",
       {R"(spec.choice: Invalid value: "": "spec.choice" must validate one and only one schema (oneOf). Found 2 valid alternatives)"}},
      {R"({"image": "x", "workers": {"name": "a"}})",
       {R"(spec.workers: Invalid value: map[string]interface {}{"name":"a"}: spec.workers in body must be of type array: "object")"}},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    Value cr = Value::object();
    cr["spec"] = parse_json(c.spec);
    std::vector<FieldCause> causes = validate_value(root, cr);
    CHECK(messages(causes) == c.causes);
    for (const FieldCause& cause : causes) {
      CHECK(cause.type.rfind("FieldValue", 0) == 0);
    }
  }
  // Metadata is not validated by the CRD schema (creationTimestamp: null is fine), apiVersion and
  // kind are strings.
  CHECK(validate_value(root, parse_json(R"({"metadata": {"name": "w", "creationTimestamp": null,
                                                         "labels": {"a": "b"}},
                                            "apiVersion": "example.com/v1", "kind": "Widget",
                                            "spec": {"image": "x"}})"))
            .empty());
  CHECK(messages(validate_value(root, parse_json(R"({"kind": 1, "spec": {"image": "x"}})"))) ==
        std::vector<std::string>{
            R"(kind: Invalid value: 1: kind in body must be of type string: "integer")"});

  // Patterns use a linear-time matcher: a long string is no danger to the stack.
  Value long_image = Value::object();
  long_image["spec"]["image"] = std::string(200000, 'a');
  CHECK(validate_value(root, long_image).empty());
  long_image["spec"]["image"] = std::string(200000, 'a') + "!";
  CHECK(validate_value(root, long_image).size() == 1);

  std::vector<FieldCause> typed = validate_value(root, parse_json(R"({"spec": {"image": 5}})"));
  REQUIRE(typed.size() == 1);
  CHECK(typed[0].type == "FieldValueTypeInvalid");
  CHECK(typed[0].field == "spec.image");
  std::vector<FieldCause> required = validate_value(root, parse_json(R"({"spec": {}})"));
  REQUIRE(required.size() == 1);
  CHECK(required[0].type == "FieldValueRequired");
  // A root path prefixes the fields but not the "in body" text.
  std::vector<FieldCause> prefixed =
      validate_value(*root.field("spec")->node, parse_json(R"({"image": 1})"), "spec");
  REQUIRE(prefixed.size() == 1);
  CHECK(prefixed[0].field == "spec.image");
  CHECK(prefixed[0].message ==
        R"(Invalid value: 1: image in body must be of type string: "integer")");
  // The causes make upstream's Invalid error.
  skiff::Error e = skiff::registry::invalid_error(
      "Widget.example.com", "w", validate_value(root, parse_json(R"({"spec":{"size":"x"}})")));
  CHECK(e.reason == Reason::kInvalid);
  CHECK(
      e.message ==
      R"(Widget.example.com "w" is invalid: [spec.image: Required value, spec.size: Invalid value: "x": spec.size in body must be of type integer: "string"])");
}

TEST_CASE("non-structural and unsupported CRD schemas are rejected with upstream's causes",
          "[registry][crd]") {
  struct Case {
    const char* schema;
    std::vector<std::string> causes;  // "field: message", prefix removed
  };
  const std::vector<Case> cases = {
      {R"({"properties": {"spec": {"type": "object"}}})",
       {"type: Required value: must not be empty at the root"}},
      {R"({"type": "string"})", {R"(type: Invalid value: "string": must be object at the root)"}},
      {R"({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}})",
       {"properties[spec].type: Required value: must not be empty for specified object fields"}},
      {R"({"type": "object", "properties": {"list": {"type": "array"}}})",
       {"properties[list].items: Required value: must be specified"}},
      {R"({"type": "object", "properties": {"list": {"type": "array", "items": {}}}})",
       {"properties[list].items.type: Required value: must not be empty for specified array "
        "items"}},
      {R"({"type": "object", "properties": {"a": {"$ref": "#/definitions/x", "type": "string"}}})",
       {"properties[a].$ref: Forbidden: $ref is not supported"}},
      {R"({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}},
                                                 "additionalProperties": {"type": "string"}}}})",
       {"properties[a].additionalProperties: Forbidden: additionalProperties and properties are "
        "mutual exclusive"}},
      {R"({"type": "object", "additionalProperties": {"type": "string"}})",
       {"additionalProperties: Forbidden: must not be used at the root"}},
      {R"({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}})",
       {"properties[metadata]: Forbidden: must not specify anything other than name and "
        "generateName, but metadata is implicitly specified"}},
      {R"({"type": "object", "properties": {"kind": {"type": "integer"}}})",
       {R"(properties[kind].type: Invalid value: "integer": must be string)"}},
      {R"({"type": "object", "properties": {"a": {"type": "null"}}})",
       {"properties[a].type: Forbidden: type cannot be set to null, use nullable as an "
        "alternative"}},
      {R"({"type": "object", "properties": {"a": {"type": "file"}}})",
       {R"(properties[a].type: Unsupported value: "file": supported values: "array", "boolean", "integer", "number", "object", "string")"}},
      {R"({"type": "object", "properties": {"a": {"type": "array", "items": [{"type": "string"}]}}})",
       {"properties[a].items: Forbidden: items must be a schema object and not an array"}},
      {R"({"type": "object", "properties": {"a": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}})",
       {"properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime "
        "complexity becomes quadratic"}},
      {R"({"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-preserve-unknown-fields": false}}})",
       {"properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or "
        "undefined"}},
      {R"({"type": "object", "properties": {"a": {"type": "string", "allOf": [{"type": "string"}]}}})",
       {"properties[a].allOf[0].type: Forbidden: must be empty to be structural"}},
      {R"({"type": "object", "properties": {"a": {"type": "object", "anyOf": [{"properties": {"b": {"minLength": 1}}}]}}})",
       {"properties[a].properties[b]: Required value: because it is defined in "
        "spec.versions[0].schema.openAPIV3Schema.properties[a].anyOf[0].properties[b]"}},
      {R"({"type": "object", "properties": {"a": {"type": "array", "x-kubernetes-list-type": "map",
                                                 "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}})",
       {"properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if "
        "x-kubernetes-list-type is map"}},
      {R"({"type": "object", "properties": {"a": {"type": "array", "x-kubernetes-list-type": "map",
                                                 "x-kubernetes-list-map-keys": ["k"],
                                                 "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}})",
       {"properties[a].items.properties[k].default: Required value: this property is in "
        "x-kubernetes-list-map-keys, so it must have a default or be a required property"}},
      {R"({"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-list-type": "set"}}})",
       {R"(properties[a].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified)"}},
      {R"({"type": "object", "properties": {"a": {"type": "object", "x-kubernetes-embedded-resource": true}}})",
       {"properties[a].properties: Required value: must not be empty if "
        "x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"}},
      {R"({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}})",
       {R"(properties[a].pattern: Invalid value: "(unclosed": must be a valid regular expression, but isn't: )"}},
      {R"({"type": "object", "properties": {"a": {"type": "integer", "default": "x"}}})",
       {R"(properties[a].default: Invalid value: "x": in body must be of type integer: "string")"}},
      {R"({"type": "object", "nullable": true})",
       {"nullable: Forbidden: nullable cannot be true at the root"}},
      {R"({"type": "object", "properties": {"a": {"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true}}})",
       {"properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if "
        "x-kubernetes-int-or-string is true"}},
  };
  for (const Case& c : cases) {
    INFO(c.schema);
    auto r = Schema::from_openapi_v3(parse_json(c.schema), kWidget, kPrefix);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kInvalid);
    std::vector<std::string> got;
    for (const FieldCause& cause : r.error().causes) {
      std::string field = cause.field;
      REQUIRE(field.rfind(kPrefix, 0) == 0);
      field = field.substr(std::string(kPrefix).size());
      if (!field.empty() && field.front() == '.') {
        field = field.substr(1);
      }
      got.push_back(field + ": " + cause.message);
    }
    // The regular-expression error text is the library's; compare up to it.
    if (c.causes.size() == 1 && c.causes[0].find("but isn't: ") != std::string::npos) {
      REQUIRE(got.size() == 1);
      CHECK(got[0].rfind(c.causes[0], 0) == 0);
    } else {
      CHECK(got == c.causes);
    }
    CHECK(r.error().message.find(kPrefix) != std::string::npos);
  }
}

TEST_CASE("accepted CRD schema idioms convert", "[registry][crd]") {
  const std::vector<const char*> good = {
      // metadata may constrain name and generateName only.
      R"({"type": "object", "properties": {"metadata": {"type": "object",
          "properties": {"name": {"type": "string", "maxLength": 10}}}}})",
      // int-or-string with upstream's anyOf pattern.
      R"({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true,
          "anyOf": [{"type": "integer"}, {"type": "string"}]}}})",
      // preserve-unknown-fields at the root, no properties.
      R"({"type": "object", "x-kubernetes-preserve-unknown-fields": true})",
      // additionalProperties: true next to properties is allowed.
      R"({"type": "object", "properties": {"a": {"type": "object", "additionalProperties": true,
          "properties": {"b": {"type": "string"}}}}})",
      // Value validations under junctors that refer to specified properties.
      R"({"type": "object", "properties": {"a": {"type": "object",
          "properties": {"b": {"type": "string"}}, "anyOf": [{"required": ["b"]},
          {"required": ["d"], "properties": {"b": {"minLength": 2}}}], "not": {"required": ["c"]}}}})",
      // list-type map with required keys, set of scalars.
      R"({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["k", "p"], "items": {"type": "object", "required": ["k"],
          "properties": {"k": {"type": "string"}, "p": {"type": "integer", "default": 0}}}},
          "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}})",
  };
  for (const char* schema : good) {
    INFO(schema);
    auto r = Schema::from_openapi_v3(parse_json(schema), kWidget, kPrefix);
    INFO((r ? std::string() : r.error().message));
    CHECK(r);
  }
  // The metadata name constraint applies to custom resources.
  auto r = Schema::from_openapi_v3(parse_json(good[0]), kWidget, kPrefix);
  REQUIRE(r);
  auto causes =
      validate_value(*r->root(), parse_json(R"({"metadata": {"name": "much-too-long-name"}})"));
  CHECK(messages(causes) ==
        std::vector<std::string>{"metadata.name: Too long: may not be more than 10 bytes"});
  // Junctor semantics: anyOf passes when one branch passes; not fails when it matches.
  auto j = Schema::from_openapi_v3(parse_json(good[4]), kWidget, kPrefix);
  REQUIRE(j);
  CHECK(validate_value(*j->root(), parse_json(R"({"a": {"b": "x"}})")).empty());
  CHECK(
      messages(validate_value(*j->root(), parse_json(R"({"a": {"b": "x", "c": 1}})"))) ==
      std::vector<std::string>{R"(a: Invalid value: "": "a" must not validate the schema (not))"});
  CHECK(messages(validate_value(*j->root(), parse_json(R"({"a": {}})"))) ==
        std::vector<std::string>{
            R"(a: Invalid value: "": "a" must validate at least one schema (anyOf))"});
  // A root with preserve-unknown-fields keeps everything but still prunes metadata.
  auto open = Schema::from_openapi_v3(parse_json(good[2]), kWidget, kPrefix);
  REQUIRE(open);
  Value cr = parse_json(R"({"spec": {"x": 1}, "metadata": {"name": "a", "junk": true}})");
  CHECK(prune(*open->root(), cr) == std::vector<std::string>{"metadata.junk"});
  CHECK(cr == parse_json(R"({"spec": {"x": 1}, "metadata": {"name": "a"}})"));
  // Deep schemas do not exhaust the stack.
  std::string deep = R"({"type": "object", "properties": {"a": )";
  std::string tail = "}}";
  for (int i = 0; i < 120; ++i) {
    deep += R"({"type": "object", "properties": {"a": )";
    tail += "}}";
  }
  deep += R"({"type": "string"})" + tail;
  auto d = Schema::from_openapi_v3(parse_json(deep), kWidget, kPrefix);
  REQUIRE_FALSE(d);
  CHECK(d.error().message.find("schema nested too deeply") != std::string::npos);
}

TEST_CASE("x-kubernetes-validations rules are compiled with the schema and checked on values",
          "[registry][crd][cel]") {
  const char* const schema = R"({
    "type": "object",
    "properties": {
      "spec": {
        "type": "object",
        "x-kubernetes-validations": [
          {"rule": "self.minReplicas <= self.replicas",
           "message": "minReplicas must not exceed replicas"},
          {"rule": "!has(self.mode) || self.mode != 'legacy'", "reason": "FieldValueForbidden",
           "fieldPath": ".mode", "message": "legacy mode is gone"},
          {"rule": "self.ratio < 2.5"},
          {"rule": "self.image == oldSelf.image", "message": "image is immutable"},
          {"rule": "size(self.name) <= 8",
           "messageExpression": "'name ' + self.name + ' is too long'"}
        ],
        "properties": {
          "replicas": {"type": "integer"},
          "minReplicas": {"type": "integer"},
          "mode": {"type": "string"},
          "ratio": {"type": "number"},
          "image": {"type": "string"},
          "name": {"type": "string"},
          "workers": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "required": ["name"],
                                "x-kubernetes-validations": [
                                  {"rule": "self.cpu >= oldSelf.cpu", "message": "cpu shrank"}],
                                "properties": {"name": {"type": "string"},
                                               "cpu": {"type": "integer"}}}}
        }
      }
    }
  })";
  auto s = Schema::from_openapi_v3(parse_json(schema), kWidget, kPrefix);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  const Node& root = *s->root();
  auto check = [&](const char* spec, const char* old_spec) {
    Value object = parse_json(std::string(R"({"spec": )") + spec + "}");
    std::optional<Value> old;
    if (old_spec != nullptr) {
      old = parse_json(std::string(R"({"spec": )") + old_spec + "}");
    }
    return messages(validate_value(root, object, {}, old ? &*old : nullptr));
  };
  const char* base =
      R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "a", "name": "web"})";
  // All rules hold; `ratio` is a whole number in JSON but a double to CEL (1 < 2.5 compares).
  CHECK(check(base, nullptr) == std::vector<std::string>{});
  CHECK(check(R"({"replicas": 1, "minReplicas": 2, "ratio": 1, "image": "a", "name": "web"})",
              nullptr) ==
        std::vector<std::string>{R"(spec: Invalid value: "object": minReplicas must not exceed )"
                                 "replicas"});
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "a", "name": "web",
                  "mode": "legacy"})",
              nullptr) == std::vector<std::string>{"spec.mode: Forbidden: legacy mode is gone"});
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 3, "image": "a", "name": "web"})",
              nullptr) ==
        std::vector<std::string>{R"(spec: Invalid value: "object": failed rule: self.ratio < 2.5)"});
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "a", "name": "frontend1"})",
              nullptr) ==
        std::vector<std::string>{R"(spec: Invalid value: "object": name frontend1 is too long)"});
  // A missing field is an evaluation error, reported with the rule.
  std::vector<std::string> missing =
      check(R"({"replicas": 3, "ratio": 1, "image": "a", "name": "web"})", nullptr);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0] == R"(spec: Invalid value: "object": no such key: minReplicas evaluating )"
                      "rule: self.minReplicas <= self.replicas");

  // Transition rules run only with an old value, against the value at the same place.
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "b", "name": "web"})",
              nullptr) == std::vector<std::string>{});
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "b", "name": "web"})",
              base) == std::vector<std::string>{R"(spec: Invalid value: "object": image is )"
                                                "immutable"});
  // listType=map items correlate by key: w1 shrank, w2 is new (no old value: rule skipped).
  const char* old_workers = R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "a",
      "name": "web", "workers": [{"name": "w1", "cpu": 4}]})";
  CHECK(check(R"({"replicas": 3, "minReplicas": 1, "ratio": 1, "image": "a", "name": "web",
                  "workers": [{"name": "w2", "cpu": 1}, {"name": "w1", "cpu": 2}]})",
              old_workers) ==
        std::vector<std::string>{R"(spec.workers[1]: Invalid value: "object": cpu shrank)"});

  // Rules that do not compile, or carry an unknown reason, reject the schema.
  auto bad = Schema::from_openapi_v3(parse_json(R"({"type": "object", "properties": {"spec": {
      "type": "object", "x-kubernetes-validations": [{"rule": "self.x >"}, {"rule": "true",
      "reason": "Nope"}, {"message": "no rule"}]}}})"),
                                     kWidget, kPrefix);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == Reason::kInvalid);
  REQUIRE(bad.error().causes.size() == 3);
  const std::string at = std::string(kPrefix) + ".properties[spec].x-kubernetes-validations";
  CHECK(bad.error().causes[0].field == at + "[0].rule");
  CHECK(bad.error().causes[0].message.starts_with(
      R"(Invalid value: "self.x >": compilation failed: ERROR: <input>:1:)"));
  CHECK(bad.error().causes[1].field == at + "[1].reason");
  CHECK(bad.error().causes[1].message ==
        R"(Unsupported value: "Nope": supported values: "FieldValueDuplicate", )"
        R"("FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")");
  CHECK(bad.error().causes[2].field == at + "[2].rule");
  CHECK(bad.error().causes[2].message == "Required value");
}
