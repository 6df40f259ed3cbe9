// SPDX-License-Identifier: Apache-2.0
#pragma once

// schema: the structural type system behind every Kubernetes object Skiff serves. One model holds
// both the built-in types (generated at build time from the upstream API's schema facts: field
// names, JSON types, protobuf field numbers, list/map semantics, patch strategies — see
// src/registry/data/README.md) and CRD schemas (converted at run time from `openAPIV3Schema`).
// Everything that needs to know a type reads it here: protobuf decoding, OpenAPI documents, strict
// field validation, pruning, defaulting, strategic merge patch and server-side apply.
//
// Nodes form a graph (types refer to each other, some recursively, e.g. JSONSchemaProps). A Schema
// owns its nodes; pointers stay valid for the Schema's lifetime. Schemas are immutable once built and
// safe to read from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::registry {

/// What JSON a node accepts. The special kinds are Kubernetes' own scalar-ish types.
enum class Kind : std::uint8_t {
  kObject,       ///< fixed fields (a Go struct); see Node::fields
  kMap,          ///< string keys, values of Node::items (a Go map; OpenAPI additionalProperties)
  kArray,        ///< elements of Node::items
  kString,
  kInteger,      ///< Node::format says "int32" or "int64"
  kNumber,       ///< double
  kBoolean,
  kBytes,        ///< base64 string in JSON, raw bytes in protobuf
  kIntOrString,  ///< intstr.IntOrString
  kQuantity,     ///< resource.Quantity: a string ("100m", "1Gi") or a number in JSON
  kTime,         ///< meta/v1 Time: RFC 3339 string, seconds precision
  kMicroTime,    ///< meta/v1 MicroTime: RFC 3339 with microseconds
  kDuration,     ///< meta/v1 Duration: Go duration string ("1h2m3s")
  kAny,          ///< any JSON value (RawExtension, FieldsV1, apiextensions JSON)
};

/// x-kubernetes-list-type. kUnset means "atomic" for SSA, "replace unless a patch strategy says
/// otherwise" for strategic merge.
enum class ListType : std::uint8_t { kUnset, kAtomic, kSet, kMap };
/// x-kubernetes-map-type / x-kubernetes-struct-type.
enum class MapType : std::uint8_t { kUnset, kAtomic, kGranular };

struct GroupVersionKind {
  std::string group;  ///< "" for core
  std::string version;
  std::string kind;
  bool operator==(const GroupVersionKind&) const = default;
};

struct Node;

/// One named member of a kObject node.
struct Field {
  std::string name;              ///< JSON name
  const Node* node = nullptr;    ///< its type
  std::int32_t proto_number = 0; ///< protobuf field number; 0 when the field has none (apiVersion, kind)
  bool required = false;         ///< OpenAPI "required" (no +optional and no omitempty upstream)
  /// Protobuf only: the field is an embedded struct whose members appear inline in JSON (Go's
  /// `json:",inline"`, e.g. Volume.volumeSource). Its members are also listed in the parent's
  /// `fields` (JSON view); this entry exists for protobuf decoding and is skipped by JSON walkers.
  bool inlined = false;
};

/// A type: named (an OpenAPI definition such as "io.k8s.api.core.v1.Pod") or anonymous (an array or
/// map wrapper made for one field, or a CRD schema node).
struct Node {
  Kind kind = Kind::kAny;
  std::string name;    ///< definition name; empty for anonymous nodes
  std::string format;  ///< OpenAPI format: "int32", "int64", "double", "byte", "date-time", ...

  // kObject: the JSON view of the fields, in upstream order (inlined structs expanded; an `inlined`
  // entry marks where the embedded struct sits, for protobuf).
  std::vector<Field> fields;
  // kArray and kMap: the element / value type.
  const Node* items = nullptr;

  // Semantics used by patch, apply and OpenAPI (x-kubernetes-* extensions).
  ListType list_type = ListType::kUnset;
  std::vector<std::string> list_map_keys;  ///< for ListType::kMap
  MapType map_type = MapType::kUnset;      ///< on kMap (map-type) and kObject (struct-type)
  std::string patch_strategy;   ///< "merge", "retainKeys", "merge,retainKeys", "replace" or empty
  std::string patch_merge_key;  ///< merge key for lists of objects under strategy "merge"

  /// x-kubernetes-preserve-unknown-fields: a kObject/kMap/kAny that keeps members its schema does not
  /// list (always true for kAny).
  bool preserve_unknown_fields = false;
  /// x-kubernetes-embedded-resource: an object carrying its own apiVersion/kind/metadata.
  bool embedded_resource = false;
  bool nullable = false;
  /// The GVKs a top-level kind is served as (x-kubernetes-group-version-kind), empty for other types.
  std::vector<GroupVersionKind> gvks;

  // Value constraints (CRD schemas; built-ins carry only defaults and enums).
  std::optional<json::Value> default_value;
  std::vector<json::Value> enum_values;
  std::optional<std::string> pattern;
  std::optional<double> minimum;
  std::optional<double> maximum;
  bool exclusive_minimum = false;
  bool exclusive_maximum = false;
  std::optional<std::int64_t> min_length;
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> min_items;
  std::optional<std::int64_t> max_items;
  std::optional<std::int64_t> min_properties;
  std::optional<std::int64_t> max_properties;
  std::string description;  ///< ours (built-ins: empty); CRDs keep the author's text

  /// The field named `name` in the JSON view, or nullptr (also for non-objects).
  const Field* field(std::string_view name) const noexcept;
  /// The field with protobuf number `number` (including `inlined` entries), or nullptr.
  const Field* proto_field(std::int32_t number) const noexcept;
};

/// An immutable set of nodes. Built-ins come from `builtin()`; each CRD version gets its own Schema
/// from `from_openapi_v3()`.
class Schema {
 public:
  Schema();
  ~Schema();
  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  /// The built-in types (loaded once, on first use, from data embedded in the binary; thread-safe).
  static const Schema& builtin();

  /// The named type, or nullptr. Names are OpenAPI definition names
  /// ("io.k8s.api.apps.v1.Deployment", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").
  const Node* find(std::string_view name) const noexcept;
  /// The top-level kind served as `gvk`, or nullptr.
  const Node* find_kind(const GroupVersionKind& gvk) const noexcept;
  /// Every named node, in a stable order (OpenAPI generation).
  std::vector<const Node*> named() const;
  /// The root node of a schema built from one CRD version (nullptr for builtin()).
  const Node* root() const noexcept;

  /// Converts a CRD version's `openAPIV3Schema` (a JSONSchemaProps document) into a Schema whose root
  /// describes the custom resource: apiVersion, kind and metadata (ObjectMeta, from builtin()) are
  /// added as upstream does. Errors: kInvalid with field causes (paths under
  /// "spec.versions[i].schema.openAPIV3Schema") when the schema is not structural or uses
  /// unsupported constructs.
  static Result<Schema> from_openapi_v3(const json::Value& open_api_v3_schema,
                                        const GroupVersionKind& gvk, std::string_view cause_prefix);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::registry
