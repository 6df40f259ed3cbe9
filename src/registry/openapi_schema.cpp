// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/openapi_schema.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

namespace skiff::registry {
namespace {

json::Value type_only(std::string_view type) {
  json::Object o;
  o.set("type", type);
  return json::Value(std::move(o));
}

std::string_view list_type_name(ListType t) {
  switch (t) {
    case ListType::kAtomic:
      return "atomic";
    case ListType::kSet:
      return "set";
    case ListType::kMap:
      return "map";
    case ListType::kUnset:
      break;
  }
  return {};
}

std::string_view map_type_name(MapType t) {
  switch (t) {
    case MapType::kAtomic:
      return "atomic";
    case MapType::kGranular:
      return "granular";
    case MapType::kUnset:
      break;
  }
  return {};
}

json::Value render(const Node& node, OpenApiVersion v, bool as_definition);

// An anonymous kAny node that says nothing (the placeholder behind a junctor's `required` names).
bool is_unconstrained(const Node& n) {
  return n.kind == Kind::kAny && n.name.empty() && n.fields.empty() && n.items == nullptr &&
         n.enum_values.empty() && !n.pattern && !n.minimum && !n.maximum && !n.min_length &&
         !n.max_length && !n.min_items && !n.max_items && !n.min_properties && !n.max_properties &&
         !n.multiple_of && n.all_of.empty() && n.any_of.empty() && n.one_of.empty() &&
         n.not_node == nullptr && n.format.empty() && !n.default_value;
}

json::Value number_value(double d) {
  // Bounds are doubles in the model; show integral ones as integers, as CRD authors wrote them.
  if (d == static_cast<double>(static_cast<std::int64_t>(d)) && d > -9.0e15 && d < 9.0e15) {
    return json::Value(static_cast<std::int64_t>(d));
  }
  return json::Value(d);
}

// The Kubernetes extensions and value constraints of a node (everything but its type structure).
void add_attributes(const Node& n, OpenApiVersion v, json::Object& o) {
  if (!n.description.empty()) {
    o.set("description", n.description);
  }
  if (n.default_value) {
    o.set("default", *n.default_value);
  }
  if (!n.enum_values.empty()) {
    o.set("enum", json::Value(json::Array(n.enum_values.begin(), n.enum_values.end())));
  }
  if (n.nullable && v == OpenApiVersion::kV3) {
    o.set("nullable", true);
  }
  if (n.pattern) {
    o.set("pattern", *n.pattern);
  }
  if (n.minimum) {
    o.set("minimum", number_value(*n.minimum));
    if (n.exclusive_minimum) {
      o.set("exclusiveMinimum", true);
    }
  }
  if (n.maximum) {
    o.set("maximum", number_value(*n.maximum));
    if (n.exclusive_maximum) {
      o.set("exclusiveMaximum", true);
    }
  }
  if (n.multiple_of) {
    o.set("multipleOf", number_value(*n.multiple_of));
  }
  if (n.min_length) {
    o.set("minLength", *n.min_length);
  }
  if (n.max_length) {
    o.set("maxLength", *n.max_length);
  }
  if (n.min_items) {
    o.set("minItems", *n.min_items);
  }
  if (n.max_items) {
    o.set("maxItems", *n.max_items);
  }
  if (n.unique_items) {
    o.set("uniqueItems", true);
  }
  if (n.min_properties) {
    o.set("minProperties", *n.min_properties);
  }
  if (n.max_properties) {
    o.set("maxProperties", *n.max_properties);
  }
  if (v == OpenApiVersion::kV3) {
    auto junctor = [&](std::string_view key, const std::vector<const Node*>& list) {
      if (list.empty()) {
        return;
      }
      json::Array a;
      for (const Node* sub : list) {
        a.push_back(render(*sub, v, false));
      }
      o.set(key, json::Value(std::move(a)));
    };
    junctor("allOf", n.all_of);
    junctor("anyOf", n.any_of);
    junctor("oneOf", n.one_of);
    if (n.not_node != nullptr) {
      o.set("not", render(*n.not_node, v, false));
    }
  }
  if (!n.gvks.empty()) {
    json::Array gvks;
    for (const GroupVersionKind& g : n.gvks) {
      json::Object e;
      e.set("group", g.group);
      e.set("kind", g.kind);
      e.set("version", g.version);
      gvks.emplace_back(std::move(e));
    }
    o.set("x-kubernetes-group-version-kind", json::Value(std::move(gvks)));
  }
  if (n.embedded_resource) {
    o.set("x-kubernetes-embedded-resource", true);
  }
  if (n.kind == Kind::kIntOrString && n.name.empty()) {
    o.set("x-kubernetes-int-or-string", true);
  }
  if (!list_type_name(n.list_type).empty()) {
    o.set("x-kubernetes-list-type", list_type_name(n.list_type));
  }
  if (!n.list_map_keys.empty()) {
    json::Array keys(n.list_map_keys.begin(), n.list_map_keys.end());
    o.set("x-kubernetes-list-map-keys", json::Value(std::move(keys)));
  }
  if (!map_type_name(n.map_type).empty()) {
    o.set("x-kubernetes-map-type", map_type_name(n.map_type));
  }
  if (!n.patch_merge_key.empty()) {
    o.set("x-kubernetes-patch-merge-key", n.patch_merge_key);
  }
  if (!n.patch_strategy.empty()) {
    o.set("x-kubernetes-patch-strategy", n.patch_strategy);
  }
  bool preserve = n.preserve_unknown_fields && (n.kind == Kind::kObject || n.kind == Kind::kMap ||
                                                (n.kind == Kind::kAny && n.name.empty()));
  if (preserve) {
    o.set("x-kubernetes-preserve-unknown-fields", true);
  }
}

// The structural part: type, format, properties, items.
void add_structure(const Node& n, OpenApiVersion v, json::Object& o) {
  switch (n.kind) {
    case Kind::kObject: {
      o.set("type", "object");
      json::Object props;
      json::Array required;
      for (const Field& f : n.fields) {
        if (f.inlined) {
          continue;
        }
        props.set(f.name, render(*f.node, v, false));
        if (f.required) {
          required.emplace_back(f.name);
        }
      }
      if (!props.empty()) {
        o.set("properties", json::Value(std::move(props)));
      }
      if (!required.empty()) {
        o.set("required", json::Value(std::move(required)));
      }
      break;
    }
    case Kind::kMap:
      o.set("type", "object");
      o.set("additionalProperties", render(*n.items, v, false));
      break;
    case Kind::kArray:
      o.set("type", "array");
      o.set("items", render(*n.items, v, false));
      break;
    case Kind::kString:
      o.set("type", "string");
      break;
    case Kind::kInteger:
      o.set("type", "integer");
      break;
    case Kind::kNumber:
      o.set("type", "number");
      break;
    case Kind::kBoolean:
      o.set("type", "boolean");
      break;
    case Kind::kBytes:
      o.set("type", "string");
      if (n.format.empty()) {
        o.set("format", "byte");
      }
      break;
    case Kind::kIntOrString:
      if (!n.name.empty()) {
        if (v == OpenApiVersion::kV3) {
          o.set("oneOf", json::Value(json::Array{type_only("integer"), type_only("string")}));
        } else {
          o.set("type", "string");
        }
        if (n.format.empty()) {
          o.set("format", "int-or-string");
        }
      } else if (v == OpenApiVersion::kV3) {
        o.set("anyOf", json::Value(json::Array{type_only("integer"), type_only("string")}));
      }
      break;
    case Kind::kQuantity:
      if (v == OpenApiVersion::kV3) {
        o.set("oneOf", json::Value(json::Array{type_only("string"), type_only("number")}));
      } else {
        o.set("type", "string");
      }
      break;
    case Kind::kTime:
    case Kind::kMicroTime:
      o.set("type", "string");
      if (n.format.empty()) {
        o.set("format", "date-time");
      }
      break;
    case Kind::kDuration:
      o.set("type", "string");
      break;
    case Kind::kAny:
      // RawExtension and FieldsV1 publish as objects; apiextensions JSON and the JSONSchemaPropsOr*
      // unions (which carry a protobuf shape) and CRD nodes without a type have none.
      if (!n.name.empty() && n.proto_shape == ProtoShape::kPlain &&
          n.name != "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON") {
        o.set("type", "object");
      }
      if (n.name.empty()) {
        // CRD value-validation nodes and untyped nodes may still constrain members and items.
        json::Object props;
        json::Array required;
        for (const Field& f : n.fields) {
          // Names listed only in `required` point at an unconstrained placeholder.
          if (!is_unconstrained(*f.node)) {
            props.set(f.name, render(*f.node, v, false));
          }
          if (f.required) {
            required.emplace_back(f.name);
          }
        }
        if (!props.empty()) {
          o.set("properties", json::Value(std::move(props)));
        }
        if (!required.empty()) {
          o.set("required", json::Value(std::move(required)));
        }
        if (n.items != nullptr) {
          o.set("items", render(*n.items, v, false));
        }
      }
      break;
  }
  if (!n.format.empty()) {
    o.set("format", n.format);
  }
}

json::Value render(const Node& node, OpenApiVersion v, bool as_definition) {
  if (!as_definition && !node.name.empty()) {
    json::Object ref;
    ref.set("$ref", openapi_ref(node.name, v));
    return json::Value(std::move(ref));
  }
  json::Object o;
  if (!as_definition && node.refines != nullptr) {
    // A named type with field-level extensions: refer to it and put the extensions beside the
    // reference (v3 needs allOf for siblings of $ref to count; v2 tools read them directly).
    const Node& base = *node.refines;
    if (v == OpenApiVersion::kV3) {
      json::Object ref;
      ref.set("$ref", openapi_ref(base.name, v));
      o.set("allOf", json::Value(json::Array{json::Value(std::move(ref))}));
    } else {
      o.set("$ref", openapi_ref(base.name, v));
    }
    json::Object attrs;
    add_attributes(node, v, attrs);
    json::Object base_attrs;
    add_attributes(base, v, base_attrs);
    for (json::Member& m : attrs) {
      const json::Value* same = base_attrs.find(m.key);
      if (same == nullptr || !(*same == m.value)) {
        o.set(m.key, std::move(m.value));
      }
    }
    return json::Value(std::move(o));
  }
  add_structure(node, v, o);
  add_attributes(node, v, o);
  return json::Value(std::move(o));
}

void collect(const Node* n, std::set<const Node*>& seen, std::vector<const Node*>& named) {
  if (n == nullptr || !seen.insert(n).second) {
    return;
  }
  if (!n->name.empty()) {
    named.push_back(n);
  }
  if (n->refines != nullptr) {
    collect(n->refines, seen, named);
  }
  // The union nodes' fields are their protobuf members; JSON and OpenAPI do not show them.
  if (n->kind != Kind::kAny || n->name.empty()) {
    for (const Field& f : n->fields) {
      if (!f.inlined) {
        collect(f.node, seen, named);
      }
    }
  }
  collect(n->items, seen, named);
  for (const auto* list : {&n->all_of, &n->any_of, &n->one_of}) {
    for (const Node* sub : *list) {
      collect(sub, seen, named);
    }
  }
  collect(n->not_node, seen, named);
}

}  // namespace

std::string openapi_ref(std::string_view name, OpenApiVersion version) {
  return std::string(version == OpenApiVersion::kV3 ? "#/components/schemas/" : "#/definitions/")
      .append(name);
}

json::Value openapi_definition(const Node& node, OpenApiVersion version) {
  return render(node, version, true);
}

std::vector<const Node*> openapi_closure(const std::vector<const Node*>& roots) {
  std::set<const Node*> seen;
  std::vector<const Node*> named;
  for (const Node* r : roots) {
    collect(r, seen, named);
  }
  std::sort(named.begin(), named.end(),
            [](const Node* a, const Node* b) { return a->name < b->name; });
  return named;
}

json::Value openapi_definitions(const std::vector<const Node*>& roots, OpenApiVersion version) {
  json::Object out;
  for (const Node* n : openapi_closure(roots)) {
    out.set(n->name, render(*n, version, true));
  }
  return json::Value(std::move(out));
}

json::Value openapi_v3_schemas(const std::vector<const Node*>& roots) {
  return openapi_definitions(roots, OpenApiVersion::kV3);
}

json::Value openapi_v2_definitions(const std::vector<const Node*>& roots) {
  return openapi_definitions(roots, OpenApiVersion::kV2);
}

}  // namespace skiff::registry
