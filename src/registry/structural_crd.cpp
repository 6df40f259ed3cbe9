// SPDX-License-Identifier: Apache-2.0
// Schema::from_openapi_v3: a CRD version's openAPIV3Schema (JSONSchemaProps) into schema nodes,
// with the checks upstream's CRD validation applies (apiextensions validation of the schema
// document, the structural-schema invariants, completeness of value validations, list/map type
// rules, defaults that must validate). Error paths and messages follow upstream's field errors
// (`properties[spec].type: Required value: must not be empty for specified object fields`).
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "skiff/registry/schema.hpp"
#include "skiff/registry/structural.hpp"

#include "cel.hpp"
#include "schema_impl.hpp"
#include "structural_regex.hpp"

namespace skiff::registry {
namespace {

// field.Path rendering: Child → ".name", Key → "[key]", Index → "[i]".
std::string child(const std::string& p, std::string_view name) {
  return p.empty() ? std::string(name) : p + "." + std::string(name);
}
std::string key(const std::string& p, std::string_view k) {
  return p + "[" + std::string(k) + "]";
}
std::string index(const std::string& p, std::size_t i) {
  return p + "[" + std::to_string(i) + "]";
}

enum class Level { kRoot, kItem, kField };

constexpr std::string_view kTypes[] = {"array", "boolean", "integer", "number", "object", "string"};

class Converter {
public:
  Converter(Schema::Impl& impl, std::vector<FieldCause>& causes) : impl_(impl), causes_(causes) {
    any_ = &impl_.add();
    any_->kind = Kind::kAny;
    any_->preserve_unknown_fields = true;
    string_ = &impl_.add();
    string_->kind = Kind::kString;
  }

  const Node* any() const { return any_; }
  const Node* string_node() const { return string_; }

  // The structural (non-junctor) schema at `path`.
  Node* convert(const json::Value& s, const std::string& path, Level level, bool embedded_root,
                std::size_t depth) {
    Node& n = impl_.add();
    if (depth > 100) {
      invalid(path, json::Value(), "schema nested too deeply");
      n.kind = Kind::kAny;
      return &n;
    }
    if (!s.is_object()) {
      invalid(path, s, "must be an object");
      n.kind = Kind::kAny;
      return &n;
    }
    generic_checks(s, path, false);
    std::string type(s.string_or("type"));
    bool int_or_string = s.bool_or("x-kubernetes-int-or-string");
    const json::Value* preserve = s.get("x-kubernetes-preserve-unknown-fields");
    bool preserve_unknown = preserve != nullptr && preserve->is_bool() && preserve->as_bool();
    bool embedded = s.bool_or("x-kubernetes-embedded-resource");
    const json::Value* props = s.get("properties");
    const json::Value* additional = s.get("additionalProperties");
    const json::Value* items = s.get("items");
    bool has_props = props != nullptr && props->is_object() && !props->as_object().empty();

    // Structural invariants (upstream validateStructuralInvariants).
    if (type == "array" && (items == nullptr || items->is_null())) {
      required(child(path, "items"), "must be specified");
    }
    if (additional != nullptr && level == Level::kRoot) {
      forbidden(child(path, "additionalProperties"), "must not be used at the root");
    }
    if (int_or_string && preserve_unknown) {
      invalid(child(path, "x-kubernetes-preserve-unknown-fields"), true,
              "must be false if x-kubernetes-int-or-string is true");
    }
    if (int_or_string && embedded) {
      invalid(child(path, "x-kubernetes-embedded-resource"), true,
              "must be false if x-kubernetes-int-or-string is true");
    }
    if (embedded && type != "object") {
      if (type.empty()) {
        required(child(path, "type"), "must be object if x-kubernetes-embedded-resource is true");
      } else {
        invalid(child(path, "type"), type,
                "must be object if x-kubernetes-embedded-resource is true");
      }
    } else if (type.empty() && !int_or_string && !preserve_unknown) {
      switch (level) {
        case Level::kRoot:
          required(child(path, "type"), "must not be empty at the root");
          break;
        case Level::kItem:
          required(child(path, "type"), "must not be empty for specified array items");
          break;
        case Level::kField:
          required(child(path, "type"), "must not be empty for specified object fields");
          break;
      }
    }
    if (embedded && additional != nullptr) {
      forbidden(child(path, "additionalProperties"),
                "must not be used if x-kubernetes-embedded-resource is set");
    }
    if (level == Level::kRoot && !type.empty() && type != "object") {
      invalid(child(path, "type"), type, "must be object at the root");
    }
    bool check_meta = level == Level::kRoot || embedded;
    if (check_meta && props != nullptr && props->is_object()) {
      for (std::string_view meta : {"kind", "apiVersion"}) {
        if (const json::Value* p = props->get(meta); p != nullptr && p->is_object()) {
          if (p->string_or("type") != "string") {
            invalid(child(key(child(path, "properties"), meta), "type"),
                    std::string(p->string_or("type")), "must be string");
          }
        }
      }
    }
    if (embedded && !preserve_unknown && !has_props) {
      required(child(path, "properties"),
               "must not be empty if x-kubernetes-embedded-resource is true without "
               "x-kubernetes-preserve-unknown-fields");
    }

    // The node itself.
    if (int_or_string) {
      n.kind = Kind::kIntOrString;
    } else if (type == "object") {
      bool map_values =
          additional != nullptr &&
          (additional->is_object() || (additional->is_bool() && additional->as_bool())) &&
          !has_props;
      n.kind = map_values ? Kind::kMap : Kind::kObject;
    } else if (type == "array") {
      n.kind = Kind::kArray;
    } else if (type == "string") {
      n.kind = Kind::kString;
    } else if (type == "integer") {
      n.kind = Kind::kInteger;
    } else if (type == "number") {
      n.kind = Kind::kNumber;
    } else if (type == "boolean") {
      n.kind = Kind::kBoolean;
    } else if (has_props) {
      n.kind = Kind::kObject;  // untyped with preserve-unknown-fields but known members
    } else {
      n.kind = Kind::kAny;
    }
    n.preserve_unknown_fields = preserve_unknown || n.kind == Kind::kAny;
    n.embedded_resource = embedded;
    value_constraints(s, n, path);
    list_and_map_types(s, n, path, type);

    if (n.kind == Kind::kObject && props != nullptr && props->is_object()) {
      std::set<std::string> required_names = required_set(s);
      for (const json::Member& m : props->as_object()) {
        std::string ppath = key(child(path, "properties"), m.key);
        Field f;
        f.name = m.key;
        if (m.key == "metadata" && (level == Level::kRoot || embedded)) {
          f.node = metadata_node(m.value, ppath, level == Level::kRoot);
        } else {
          f.node = convert(m.value, ppath, Level::kField, false, depth + 1);
        }
        f.required = required_names.count(m.key) > 0;
        n.fields.push_back(std::move(f));
      }
    } else if (props != nullptr && !props->is_object() && !props->is_null()) {
      invalid(child(path, "properties"), *props, "must be an object");
    }
    if (n.kind == Kind::kMap) {
      if (additional->is_object()) {
        n.items = convert(*additional, child(path, "additionalProperties"), Level::kField, false,
                          depth + 1);
      } else {
        n.items = any_;
      }
    } else if (additional != nullptr && additional->is_object() && !has_props) {
      // additionalProperties on a non-object type: still check it, it has no effect.
      convert(*additional, child(path, "additionalProperties"), Level::kField, false, depth + 1);
    }
    if (items != nullptr && items->is_object()) {
      const Node* item = convert(*items, child(path, "items"), Level::kItem, false, depth + 1);
      if (n.kind == Kind::kArray) {
        n.items = item;
      }
    }
    if (n.kind == Kind::kArray && n.items == nullptr) {
      n.items = any_;
    }
    if (embedded || embedded_root) {
      add_resource_meta(n);
    }
    junctors(s, n, path, level, depth);
    n.transition_rules_below =
        std::any_of(n.validations.begin(), n.validations.end(),
                    [](const ValidationRule& r) { return r.transition; }) ||
        (n.items != nullptr && n.items->transition_rules_below) ||
        std::any_of(n.fields.begin(), n.fields.end(),
                    [](const Field& f) { return f.node->transition_rules_below; });
    if (s.get("default") != nullptr) {
      defaults_.emplace_back(&n, child(path, "default"));
    }
    return &n;
  }

  // The metadata property of a resource: ObjectMeta; at the root only name/generateName may be
  // constrained (upstream validateStructuralMetadataInvariants).
  const Node* metadata_node(const json::Value& s, const std::string& path, bool root) {
    const Node* object_meta =
        Schema::builtin().find("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    if (!s.is_object()) {
      invalid(path, s, "must be an object");
      return object_meta;
    }
    generic_checks(s, path, false);
    if (s.string_or("type") != "object") {
      invalid(child(path, "type"), std::string(s.string_or("type")), "must be object");
    }
    if (!root) {
      return object_meta;
    }
    const json::Value* props = s.get("properties");
    bool only_names = true;
    if (props != nullptr && props->is_object()) {
      for (const json::Member& m : props->as_object()) {
        only_names = only_names && (m.key == "name" || m.key == "generateName");
      }
    }
    bool other = false;
    for (const json::Member& m : s.as_object()) {
      if (m.key == "type" || m.key == "default" || (m.key == "properties" && only_names)) {
        continue;
      }
      other = true;
    }
    if (other) {
      forbidden(path,
                "must not specify anything other than name and generateName, but metadata is "
                "implicitly specified");
      return object_meta;
    }
    if (props == nullptr || !props->is_object() || props->as_object().empty()) {
      return object_meta;
    }
    // A copy of ObjectMeta whose name/generateName carry the CRD's constraints.
    Node& copy = impl_.add();
    copy = *object_meta;
    copy.refines = object_meta;
    copy.gvks.clear();
    copy.name.clear();
    for (Field& f : copy.fields) {
      if (const json::Value* p = props->get(f.name); p != nullptr) {
        f.node = convert(*p, key(child(path, "properties"), f.name), Level::kField, false, 1);
      }
    }
    return &copy;
  }

  void add_resource_meta(Node& n) {
    if (n.kind != Kind::kObject) {
      return;
    }
    std::vector<Field> meta;
    const Node* object_meta =
        Schema::builtin().find("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    for (std::string_view name : {"apiVersion", "kind", "metadata"}) {
      if (n.field(name) != nullptr) {
        continue;
      }
      Field f;
      f.name = std::string(name);
      f.node = name == "metadata" ? object_meta : string_;
      meta.push_back(std::move(f));
    }
    n.fields.insert(n.fields.begin(), meta.begin(), meta.end());
  }

  void check_defaults() {
    for (const auto& [node, path] : defaults_) {
      for (FieldCause& c : validate_value(*node, *node->default_value, path)) {
        causes_.push_back(std::move(c));
      }
    }
  }

  void invalid(const std::string& path, const json::Value& value, std::string_view detail) {
    add("FieldValueInvalid", path,
        "Invalid value: " + go_value_text(value) + ": " + std::string(detail));
  }
  void required(const std::string& path, std::string_view detail) {
    add("FieldValueRequired", path,
        detail.empty() ? std::string("Required value") : "Required value: " + std::string(detail));
  }
  void forbidden(const std::string& path, std::string_view detail) {
    add("FieldValueForbidden", path, "Forbidden: " + std::string(detail));
  }
  void not_supported(const std::string& path, const json::Value& value,
                     const std::vector<std::string_view>& allowed) {
    std::string detail = "supported values: ";
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      detail += (i > 0 ? ", \"" : "\"") + std::string(allowed[i]) + "\"";
    }
    add("FieldValueNotSupported", path,
        "Unsupported value: " + go_value_text(value) + ": " + detail);
  }

private:
  void add(std::string type, const std::string& path, std::string message) {
    causes_.push_back({std::move(type), std::move(message), path});
  }

  static std::set<std::string> required_set(const json::Value& s) {
    std::set<std::string> out;
    if (const json::Value* r = s.get("required"); r != nullptr && r->is_array()) {
      for (const json::Value& v : r->as_array()) {
        if (v.is_string()) {
          out.insert(v.as_string());
        }
      }
    }
    return out;
  }

  // Checks every schema (structural or nested) gets (upstream ValidateCustomResourceDefinition-
  // OpenAPISchema and the standard validator).
  void generic_checks(const json::Value& s, const std::string& path, bool nested) {
    static constexpr std::pair<std::string_view, std::string_view> kUnsupported[] = {
        {"id", "id is not supported"},
        {"additionalItems", "additionalItems is not supported"},
        {"patternProperties", "patternProperties is not supported"},
        {"definitions", "definitions is not supported"},
        {"dependencies", "dependencies is not supported"},
        {"$ref", "$ref is not supported"},
    };
    for (const auto& [k, msg] : kUnsupported) {
      if (const json::Value* v = s.get(k); v != nullptr && !v->empty()) {
        forbidden(child(path, k), msg);
      }
    }
    if (const json::Value* t = s.get("type"); t != nullptr) {
      std::string type = t->is_string() ? t->as_string() : json::serialize(*t);
      if (type == "null") {
        forbidden(child(path, "type"),
                  "type cannot be set to null, use nullable as an alternative");
      } else if (!type.empty() &&
                 std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
        not_supported(child(path, "type"), *t, {std::begin(kTypes), std::end(kTypes)});
      }
    }
    if (const json::Value* items = s.get("items"); items != nullptr && items->is_array()) {
      forbidden(child(path, "items"), "items must be a schema object and not an array");
    }
    if (s.bool_or("uniqueItems")) {
      forbidden(child(path, "uniqueItems"),
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
    }
    const json::Value* props = s.get("properties");
    const json::Value* additional = s.get("additionalProperties");
    if (additional != nullptr && props != nullptr && props->is_object() &&
        !props->as_object().empty()) {
      bool allows_all = additional->is_bool() && additional->as_bool();
      if (!allows_all) {
        forbidden(child(path, "additionalProperties"),
                  "additionalProperties and properties are mutual exclusive");
      }
    }
    if (const json::Value* p = s.get("x-kubernetes-preserve-unknown-fields");
        p != nullptr && p->is_bool() && !p->as_bool() && !nested) {
      invalid(child(path, "x-kubernetes-preserve-unknown-fields"), false,
              "must be true or undefined");
    }
    if (const json::Value* p = s.get("pattern"); p != nullptr && p->is_string()) {
      std::string error;
      if (!detail::Regex::compile(p->as_string(), &error)) {
        invalid(child(path, "pattern"), *p,
                "must be a valid regular expression, but isn't: " + error);
      }
    }
  }

  void value_constraints(const json::Value& s, Node& n, const std::string& path) {
    n.format = std::string(s.string_or("format"));
    n.description = std::string(s.string_or("description"));
    n.nullable = s.bool_or("nullable");
    if (const json::Value* d = s.get("default"); d != nullptr) {
      n.default_value = *d;
    }
    if (const json::Value* e = s.get("enum"); e != nullptr) {
      if (e->is_array()) {
        n.enum_values = e->as_array();
      } else {
        invalid(child(path, "enum"), *e, "must be an array");
      }
    }
    if (const json::Value* p = s.get("pattern");
        p != nullptr && p->is_string() && !p->as_string().empty()) {
      n.pattern = p->as_string();
    }
    auto number = [&](std::string_view k, std::optional<double>& out) {
      if (const json::Value* v = s.get(k); v != nullptr && v->is_number()) {
        out = v->as_double();
      }
    };
    auto integer = [&](std::string_view k, std::optional<std::int64_t>& out) {
      if (const json::Value* v = s.get(k); v != nullptr && v->is_integral()) {
        out = v->as_int();
      }
    };
    number("minimum", n.minimum);
    number("maximum", n.maximum);
    number("multipleOf", n.multiple_of);
    n.exclusive_minimum = s.bool_or("exclusiveMinimum");
    n.exclusive_maximum = s.bool_or("exclusiveMaximum");
    integer("minLength", n.min_length);
    integer("maxLength", n.max_length);
    integer("minItems", n.min_items);
    integer("maxItems", n.max_items);
    integer("minProperties", n.min_properties);
    integer("maxProperties", n.max_properties);
    n.unique_items = s.bool_or("uniqueItems");
    validation_rules(s, n, path);
  }

  // x-kubernetes-validations: every rule (and messageExpression) must compile.
  void validation_rules(const json::Value& s, Node& n, const std::string& path) {
    const json::Value* rules = s.get("x-kubernetes-validations");
    if (rules == nullptr || rules->is_null()) {
      return;
    }
    const std::string base = child(path, "x-kubernetes-validations");
    if (!rules->is_array()) {
      invalid(base, *rules, "must be an array");
      return;
    }
    for (std::size_t i = 0; i < rules->as_array().size(); ++i) {
      const json::Value& r = rules->as_array()[i];
      const std::string at = index(base, i);
      ValidationRule vr;
      vr.rule = std::string(r.string_or("rule"));
      vr.message = std::string(r.string_or("message"));
      vr.message_expression = std::string(r.string_or("messageExpression"));
      vr.reason = std::string(r.string_or("reason"));
      vr.field_path = std::string(r.string_or("fieldPath"));
      if (vr.rule.empty()) {
        required(child(at, "rule"), "");
        continue;
      }
      if (!vr.reason.empty() && vr.reason != "FieldValueInvalid" &&
          vr.reason != "FieldValueForbidden" && vr.reason != "FieldValueRequired" &&
          vr.reason != "FieldValueDuplicate") {
        not_supported(child(at, "reason"), vr.reason,
                      {"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid",
                       "FieldValueRequired"});
        continue;
      }
      auto program = cel::compile(vr.rule);
      if (!program) {
        invalid(child(at, "rule"), vr.rule, "compilation failed: " + program.error().message);
        continue;
      }
      vr.program = std::move(*program);
      vr.transition = cel::uses_old_self(*vr.program);
      if (!vr.message_expression.empty()) {
        auto mp = cel::compile(vr.message_expression);
        if (!mp) {
          invalid(child(at, "messageExpression"), vr.message_expression,
                  "messageExpression compilation failed: " + mp.error().message);
          continue;
        }
        vr.message_program = std::move(*mp);
      }
      n.validations.push_back(std::move(vr));
    }
  }

  void list_and_map_types(const json::Value& s, Node& n, const std::string& path,
                          const std::string& type) {
    if (const json::Value* mt = s.get("x-kubernetes-map-type"); mt != nullptr && mt->is_string()) {
      if (type != "object") {
        if (type.empty()) {
          required(child(path, "type"), "must be object if x-kubernetes-map-type is specified");
        } else {
          invalid(child(path, "type"), type,
                  "must be object if x-kubernetes-map-type is specified");
        }
      }
      if (mt->as_string() == "atomic") {
        n.map_type = MapType::kAtomic;
      } else if (mt->as_string() == "granular") {
        n.map_type = MapType::kGranular;
      } else {
        not_supported(child(path, "x-kubernetes-map-type"), *mt, {"atomic", "granular"});
      }
    }
    const json::Value* lt = s.get("x-kubernetes-list-type");
    std::string list_type = lt != nullptr && lt->is_string() ? lt->as_string() : "";
    if (lt != nullptr) {
      if (type != "array") {
        if (type.empty()) {
          required(child(path, "type"), "must be array if x-kubernetes-list-type is specified");
        } else {
          invalid(child(path, "type"), type,
                  "must be array if x-kubernetes-list-type is specified");
        }
      }
      if (list_type == "atomic") {
        n.list_type = ListType::kAtomic;
      } else if (list_type == "set") {
        n.list_type = ListType::kSet;
      } else if (list_type == "map") {
        n.list_type = ListType::kMap;
      } else {
        not_supported(child(path, "x-kubernetes-list-type"), *lt, {"atomic", "set", "map"});
      }
    }
    const json::Value* keys = s.get("x-kubernetes-list-map-keys");
    if (keys != nullptr && keys->is_array()) {
      for (const json::Value& k : keys->as_array()) {
        if (k.is_string()) {
          n.list_map_keys.push_back(k.as_string());
        }
      }
    }
    if (!n.list_map_keys.empty() && list_type != "map") {
      if (lt == nullptr) {
        required(child(path, "x-kubernetes-list-type"),
                 "must be map if x-kubernetes-list-map-keys is non-empty");
      } else {
        invalid(child(path, "x-kubernetes-list-type"), list_type,
                "must be map if x-kubernetes-list-map-keys is non-empty");
      }
    }
    const json::Value* items = s.get("items");
    if (list_type == "map") {
      if (n.list_map_keys.empty()) {
        required(child(path, "x-kubernetes-list-map-keys"),
                 "must not be empty if x-kubernetes-list-type is map");
      }
      if (items == nullptr || !items->is_object()) {
        required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map");
        return;
      }
      if (items->string_or("type") != "object") {
        invalid(child(child(path, "items"), "type"), std::string(items->string_or("type")),
                "must be object if parent array's x-kubernetes-list-type is map");
        return;
      }
      const json::Value* item_props = items->get("properties");
      std::set<std::string> item_required = required_set(*items);
      std::set<std::string> seen;
      for (const std::string& k : n.list_map_keys) {
        const json::Value* p = item_props != nullptr ? item_props->get(k) : nullptr;
        if (p == nullptr) {
          invalid(child(path, "x-kubernetes-list-map-keys"),
                  json::Value(json::Array(n.list_map_keys.begin(), n.list_map_keys.end())),
                  "entries must all be names of item properties");
          break;
        }
        std::string_view pt = p->string_or("type");
        if (pt != "string" && pt != "integer" && pt != "number" && pt != "boolean" &&
            !p->bool_or("x-kubernetes-int-or-string")) {
          invalid(child(key(child(child(path, "items"), "properties"), k), "type"),
                  std::string(items->string_or("type")),
                  "must be a scalar type if parent array's x-kubernetes-list-type is map");
        }
        if (!seen.insert(k).second) {
          invalid(child(path, "x-kubernetes-list-map-keys"),
                  json::Value(json::Array(n.list_map_keys.begin(), n.list_map_keys.end())),
                  "must not contain duplicate entries");
        }
        if (item_required.count(k) == 0 && p->get("default") == nullptr) {
          required(child(key(child(child(path, "items"), "properties"), k), "default"),
                   "this property is in x-kubernetes-list-map-keys, so it must have a default or "
                   "be a required property");
        }
        if (p->bool_or("nullable")) {
          forbidden(child(key(child(child(path, "items"), "properties"), k), "nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable");
        }
      }
    } else if (list_type == "set" && items != nullptr && items->is_object()) {
      std::string_view it = items->string_or("type");
      if (it == "object" && items->string_or("x-kubernetes-map-type") != "atomic") {
        invalid(child(child(path, "items"), "x-kubernetes-map-type"),
                std::string(items->string_or("x-kubernetes-map-type")),
                "must be atomic as item of a list with x-kubernetes-list-type=set");
      } else if (it == "array" && items->string_or("x-kubernetes-list-type") != "atomic") {
        invalid(child(child(path, "items"), "x-kubernetes-list-type"),
                std::string(items->string_or("x-kubernetes-list-type")),
                "must be atomic as item of a list with x-kubernetes-list-type=set");
      }
    }
    if (!list_type.empty() && list_type != "atomic" && items != nullptr && items->is_object() &&
        items->bool_or("nullable")) {
      forbidden(child(child(path, "items"), "nullable"),
                "cannot be nullable when x-kubernetes-list-type is " + list_type);
    }
  }

  static bool is_int_or_string_any_of(const json::Value* any_of) {
    if (any_of == nullptr || !any_of->is_array() || any_of->size() != 2) {
      return false;
    }
    const json::Array& a = any_of->as_array();
    auto only_type = [](const json::Value& v, std::string_view t) {
      return v.is_object() && v.size() == 1 && v.string_or("type") == t;
    };
    return only_type(a[0], "integer") && only_type(a[1], "string");
  }

  void junctors(const json::Value& s, Node& n, const std::string& path, Level level,
                std::size_t depth) {
    bool skip_any_of = is_int_or_string_any_of(s.get("anyOf"));
    const json::Value* all_of = s.get("allOf");
    bool skip_first_all_of_any_of = all_of != nullptr && all_of->is_array() && !all_of->empty() &&
                                    is_int_or_string_any_of(all_of->as_array()[0].get("anyOf"));
    auto list = [&](std::string_view name, std::vector<const Node*>& out, bool skip) {
      const json::Value* v = s.get(name);
      if (v == nullptr || skip) {
        return;
      }
      if (!v->is_array()) {
        invalid(child(path, name), *v, "must be an array");
        return;
      }
      for (std::size_t i = 0; i < v->as_array().size(); ++i) {
        bool skip_any = std::string_view(name) == "allOf" && i == 0 && skip_first_all_of_any_of;
        out.push_back(nested(v->as_array()[i], &n, path, index(child(path, name), i), level,
                             skip_any, depth + 1));
      }
    };
    list("allOf", n.all_of, false);
    list("anyOf", n.any_of, skip_any_of);
    list("oneOf", n.one_of, false);
    if (const json::Value* v = s.get("not"); v != nullptr) {
      n.not_node = nested(*v, &n, path, child(path, "not"), level, false, depth + 1);
    }
  }

  // A value validation under a junctor: constraints only (upstream validateNestedValueValidation),
  // and every property or items it names must exist in the structural schema `structural` at
  // `spath` (validateNestedValueValidationCompleteness).
  const Node* nested(const json::Value& s, const Node* structural, const std::string& spath,
                     const std::string& vpath, Level level, bool skip_any_of, std::size_t depth) {
    Node& n = impl_.add();
    n.kind = Kind::kAny;  // constraints only; never used for pruning
    if (depth > 100 || !s.is_object()) {
      if (!s.is_object()) {
        invalid(vpath, s, "must be an object");
      }
      return &n;
    }
    generic_checks(s, vpath, true);
    if (!s.string_or("type").empty()) {
      forbidden(child(vpath, "type"), "must be empty to be structural");
    }
    if (s.get("additionalProperties") != nullptr) {
      forbidden(child(vpath, "additionalProperties"), "must be undefined to be structural");
    }
    static constexpr std::pair<std::string_view, std::string_view> kForbidden[] = {
        {"default", "must be undefined to be structural"},
        {"title", "must be empty to be structural"},
        {"description", "must be empty to be structural"},
        {"x-kubernetes-list-map-keys", "must be empty to be structural"},
        {"x-kubernetes-list-type", "must be undefined to be structural"},
        {"x-kubernetes-map-type", "must be undefined to be structural"},
        {"x-kubernetes-validations", "must be empty to be structural"},
    };
    for (const auto& [k, msg] : kForbidden) {
      if (const json::Value* v = s.get(k); v != nullptr && !v->is_null()) {
        forbidden(child(vpath, k), msg);
      }
    }
    for (std::string_view k : {"nullable", "x-kubernetes-preserve-unknown-fields",
                               "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"}) {
      if (s.bool_or(k)) {
        forbidden(child(vpath, k), "must be false to be structural");
      }
    }
    value_constraints(s, n, vpath);
    n.nullable = false;
    n.default_value.reset();
    n.description.clear();
    n.format = std::string(s.string_or("format"));
    std::set<std::string> required_names = required_set(s);
    if (const json::Value* props = s.get("properties"); props != nullptr && props->is_object()) {
      for (const json::Member& m : props->as_object()) {
        std::string pv = key(child(vpath, "properties"), m.key);
        if (m.key == "metadata") {
          forbidden(pv, "must not be specified in a nested context");
        }
        const Node* sub_structural = nullptr;
        if (structural != nullptr && structural->kind == Kind::kObject) {
          if (const Field* f = structural->field(m.key); f != nullptr) {
            sub_structural = f->node;
          }
        }
        std::string sp = key(child(spath, "properties"), m.key);
        if (sub_structural == nullptr) {
          required(sp, "because it is defined in " + pv);
        }
        Field f;
        f.name = m.key;
        f.node = nested(m.value, sub_structural, sp, pv, Level::kField, false, depth + 1);
        f.required = required_names.erase(m.key) > 0;
        n.fields.push_back(std::move(f));
      }
    }
    for (const std::string& r : required_names) {
      Field f;
      f.name = r;
      f.node = any_;
      f.required = true;
      n.fields.push_back(std::move(f));
    }
    if (const json::Value* items = s.get("items"); items != nullptr && items->is_object()) {
      const Node* sub_structural =
          structural != nullptr && structural->kind == Kind::kArray ? structural->items : nullptr;
      if (sub_structural == nullptr) {
        required(child(spath, "items"), "because it is defined in " + child(vpath, "items"));
      }
      n.items = nested(*items, sub_structural, child(spath, "items"), child(vpath, "items"),
                       Level::kItem, false, depth + 1);
    }
    auto list = [&](std::string_view name, std::vector<const Node*>& out, bool skip) {
      const json::Value* v = s.get(name);
      if (v == nullptr || skip || !v->is_array()) {
        return;
      }
      for (std::size_t i = 0; i < v->as_array().size(); ++i) {
        out.push_back(nested(v->as_array()[i], structural, spath, index(child(vpath, name), i),
                             level, false, depth + 1));
      }
    };
    list("allOf", n.all_of, false);
    list("anyOf", n.any_of, skip_any_of || is_int_or_string_any_of(s.get("anyOf")));
    list("oneOf", n.one_of, false);
    if (const json::Value* v = s.get("not"); v != nullptr) {
      n.not_node = nested(*v, structural, spath, child(vpath, "not"), level, false, depth + 1);
    }
    return &n;
  }

  Schema::Impl& impl_;
  std::vector<FieldCause>& causes_;
  Node* any_ = nullptr;
  Node* string_ = nullptr;
  std::vector<std::pair<const Node*, std::string>> defaults_;
};

// Upstream's OpenAPI definition name for a CRD kind: the group reversed, then version and kind
// ("stable.example.com", v1, CronTab → "com.example.stable.v1.CronTab").
std::string crd_definition_name(const GroupVersionKind& gvk) {
  std::vector<std::string_view> labels;
  std::string_view g = gvk.group;
  while (!g.empty()) {
    auto dot = g.find('.');
    labels.push_back(g.substr(0, dot));
    g = dot == std::string_view::npos ? std::string_view() : g.substr(dot + 1);
  }
  std::reverse(labels.begin(), labels.end());
  std::string out;
  for (std::string_view label : labels) {
    out.append(label).append(".");
  }
  return out + gvk.version + "." + gvk.kind;
}

}  // namespace

Result<Schema> Schema::from_openapi_v3(const json::Value& open_api_v3_schema,
                                       const GroupVersionKind& gvk, std::string_view cause_prefix) {
  auto impl = std::make_unique<Impl>();
  std::vector<FieldCause> causes;
  Converter conv(*impl, causes);
  std::string root_path(cause_prefix);
  if (open_api_v3_schema.bool_or("nullable")) {
    conv.forbidden(child(root_path, "nullable"), "nullable cannot be true at the root");
  }
  Node* root = conv.convert(open_api_v3_schema, root_path, Level::kRoot, true, 0);
  if (causes.empty()) {
    conv.check_defaults();
  }
  if (!causes.empty()) {
    std::string msg;
    for (std::size_t i = 0; i < causes.size(); ++i) {
      msg += (i > 0 ? ", " : "") + causes[i].field + ": " + causes[i].message;
    }
    Error e = errors::make(Reason::kInvalid, causes.size() == 1 ? msg : "[" + msg + "]");
    e.causes = std::move(causes);
    return e;
  }
  root->name = crd_definition_name(gvk);
  root->gvks = {gvk};
  impl->root = root;
  for (const Node& n : impl->nodes) {
    impl->index(n);
  }
  return Schema(std::move(impl));
}

}  // namespace skiff::registry
