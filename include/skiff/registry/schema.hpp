// SPDX-License-Identifier: Apache-2.0
#pragma once

// schema: the structural type system behind every Kubernetes object Skiff serves. One model holds
// both the built-in types (generated once from the upstream API's schema facts — field names, JSON
// types, protobuf field numbers, list/map semantics, patch strategies, defaults, enums — by
// tools/gen_schema.py, committed as src/registry/data/builtin_schema.json and embedded in the
// binary; see src/registry/data/README.md) and CRD schemas (converted at run time from
// `openAPIV3Schema`). Everything that needs to know a type reads it here: protobuf decoding
// (protobuf.hpp), OpenAPI documents (openapi_schema.hpp), strict field validation, pruning,
// defaulting and CRD value validation (structural.hpp), strategic merge patch and server-side
// apply.
//
// Nodes form a graph (types refer to each other, some recursively, e.g. JSONSchemaProps). A Schema
// owns its nodes; pointers stay valid for the Schema's lifetime (builtin() lives until exit, and a
// CRD Schema may point into builtin() for ObjectMeta). Schemas are immutable once built and safe to
// read from any thread without locking.

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
  kObject,  ///< fixed fields (a Go struct); see Node::fields
  kMap,     ///< string keys, values of Node::items (a Go map; OpenAPI additionalProperties)
  kArray,   ///< elements of Node::items
  kString,
  kInteger,  ///< Node::format says "int32" or "int64"
  kNumber,   ///< double
  kBoolean,
  kBytes,        ///< base64 string in JSON, raw bytes in protobuf
  kIntOrString,  ///< intstr.IntOrString (CRDs: x-kubernetes-int-or-string)
  kQuantity,     ///< resource.Quantity: a string ("100m", "1Gi") or a number in JSON
  kTime,         ///< meta/v1 Time: RFC 3339 string, seconds precision
  kMicroTime,    ///< meta/v1 MicroTime: RFC 3339 with microseconds
  kDuration,     ///< meta/v1 Duration: Go duration string ("1h2m3s")
  kAny,          ///< any JSON value (RawExtension, FieldsV1, apiextensions JSON, untyped CRD nodes)
};

/// x-kubernetes-list-type. kUnset means "atomic" for SSA, "replace unless a patch strategy says
/// otherwise" for strategic merge.
enum class ListType : std::uint8_t { kUnset, kAtomic, kSet, kMap };
/// x-kubernetes-map-type / x-kubernetes-struct-type.
enum class MapType : std::uint8_t { kUnset, kAtomic, kGranular };

/// How a node is laid out in Kubernetes' protobuf encoding when that is not implied by its Kind.
enum class ProtoShape : std::uint8_t {
  kPlain,          ///< the obvious encoding for the kind (message, scalar, repeated, map entries)
  kWrappedArray,   ///< a kArray sent as a message whose `repeated items = 1` holds the elements
                   ///< (metav1.Verbs, authentication/authorization/certificates ExtraValue)
  kSchemaOrArray,  ///< apiextensions JSONSchemaPropsOrArray {1 schema, 2 jSONSchemas}
  kSchemaOrBool,   ///< apiextensions JSONSchemaPropsOrBool {1 allows, 2 schema}
  kSchemaOrStringArray,  ///< apiextensions JSONSchemaPropsOrStringArray {1 schema, 2 property}
};

struct GroupVersionKind {
  std::string group;  ///< "" for core
  std::string version;
  std::string kind;
  bool operator==(const GroupVersionKind&) const = default;
};

struct Node;

namespace cel {
class Program;  // a compiled CEL expression (private to the registry: src/registry/cel.hpp)
}

/// One x-kubernetes-validations entry of a CRD schema node: a CEL rule over `self` (and `oldSelf`
/// for a transition rule), compiled when the CRD is accepted.
struct ValidationRule {
  std::string rule;
  std::string message;             ///< shown when the rule fails; default "failed rule: <rule>"
  std::string message_expression;  ///< a CEL expression giving the message instead
  std::string reason;              ///< FieldValueInvalid (default), Forbidden, Required, Duplicate
  std::string field_path;          ///< where the cause points, relative to the node (".spec.x")
  /// The rule uses oldSelf: evaluated only on updates with an old value (optionalOldSelf, which
  /// would also run it on creates, is not supported).
  bool transition = false;
  std::shared_ptr<const cel::Program> program;
  std::shared_ptr<const cel::Program> message_program;  ///< for message_expression
};

/// One named member of a kObject node.
struct Field {
  std::string name;            ///< JSON name
  const Node* node = nullptr;  ///< its type; never null
  /// Protobuf field number within the node's own message; 0 when the field has none: JSON-only
  /// fields (TypeMeta's apiVersion/kind, meta/v1 Table) and the members of an inlined struct,
  /// which belong to that struct's message.
  std::int32_t proto_number = 0;
  bool required = false;  ///< OpenAPI "required" (no +optional and no omitempty upstream)
  /// Protobuf only: the field is an embedded struct whose members appear inline in JSON (Go's
  /// `json:",inline"`, e.g. Volume.volumeSource). Its members are also listed in the parent's
  /// `fields` (JSON view); this entry exists for protobuf decoding and is skipped by JSON walkers.
  bool inlined = false;
  /// Go's `omitempty`: JSON leaves the zero value out. With `pointer` this tells the protobuf
  /// decoder which zero values the JSON form of the same object would carry.
  bool omit_empty = false;
  /// Go `*T`: presence is meaningful (`replicas: 0` differs from no replicas).
  bool pointer = false;
};

/// A type: named (an OpenAPI definition such as "io.k8s.api.core.v1.Pod") or anonymous (an array or
/// map wrapper made for one field, a scalar with a field's default or enum, or a CRD schema node).
struct Node {
  Kind kind = Kind::kAny;
  std::string name;    ///< definition name; empty for anonymous nodes
  std::string format;  ///< OpenAPI format: "int32", "int64", "double", "byte", "date-time", ...

  // kObject: the JSON view of the fields, in upstream order (inlined structs expanded; an `inlined`
  // entry marks where the embedded struct sits, for protobuf). The apiextensions unions (kAny with
  // a ProtoShape) list their protobuf members here for the decoder; JSON walkers ignore the fields
  // of a kAny node, except in value-validation nodes (see all_of below).
  std::vector<Field> fields;
  // kArray and kMap: the element / value type.
  const Node* items = nullptr;

  // Semantics used by patch, apply and OpenAPI (x-kubernetes-* extensions).
  ListType list_type = ListType::kUnset;
  std::vector<std::string> list_map_keys;  ///< for ListType::kMap
  MapType map_type = MapType::kUnset;      ///< on kMap (map-type) and kObject (struct-type)
  std::string patch_strategy;   ///< "merge", "retainKeys", "merge,retainKeys", "replace" or empty
  std::string patch_merge_key;  ///< merge key for lists of objects under strategy "merge"
  ProtoShape proto_shape = ProtoShape::kPlain;
  /// Set on an anonymous node that is a copy of the named node `refines` plus field-level
  /// attributes (a struct-typed field with its own +structType, patch strategy or default, e.g.
  /// DeploymentSpec.strategy with retainKeys). The copy is complete; OpenAPI uses this to emit
  /// `allOf: [{$ref}]` with the extensions beside it, as upstream does.
  const Node* refines = nullptr;

  /// x-kubernetes-preserve-unknown-fields: a kObject/kMap/kAny that keeps members its schema does
  /// not list (always true for kAny).
  bool preserve_unknown_fields = false;
  /// x-kubernetes-embedded-resource: an object carrying its own apiVersion/kind/metadata.
  bool embedded_resource = false;
  bool nullable = false;
  /// The GVKs a top-level kind is served as (x-kubernetes-group-version-kind), empty for other
  /// types.
  std::vector<GroupVersionKind> gvks;

  // Value constraints (CRD schemas; built-ins carry only defaults and enums).
  std::optional<json::Value> default_value;
  std::vector<json::Value> enum_values;
  std::optional<std::string> pattern;
  std::optional<double> minimum;
  std::optional<double> maximum;
  bool exclusive_minimum = false;
  bool exclusive_maximum = false;
  std::optional<double> multiple_of;
  bool unique_items = false;
  std::optional<std::int64_t> min_length;
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> min_items;
  std::optional<std::int64_t> max_items;
  std::optional<std::int64_t> min_properties;
  std::optional<std::int64_t> max_properties;
  /// CRD value validation under logical junctors (allOf/anyOf/oneOf/not). These nodes are kAny and
  /// carry only constraints: their `fields` (properties and required names), `items` and value
  /// limits apply when the value has the matching JSON type. Structural rules (no types, no
  /// defaults, no metadata) are checked by Schema::from_openapi_v3.
  std::vector<const Node*> all_of;
  std::vector<const Node*> any_of;
  std::vector<const Node*> one_of;
  const Node* not_node = nullptr;
  /// x-kubernetes-validations (CRDs), checked after the value's own constraints.
  std::vector<ValidationRule> validations;
  /// A transition rule sits on this node or under it: only there does validation look for the old
  /// value at the same place.
  bool transition_rules_below = false;
  std::string description;  ///< ours (built-ins: empty); CRDs keep the author's text

  /// The field named `name` in the JSON view (never an `inlined` entry), or nullptr (also for
  /// non-objects).
  const Field* field(std::string_view name) const noexcept;
  /// The field with protobuf number `number` (including `inlined` entries), or nullptr.
  const Field* proto_field(std::int32_t number) const noexcept;
};

/// "apps/v1" for {apps, v1}, "v1" for the core group.
std::string api_version(const GroupVersionKind& gvk);
/// Splits an apiVersion ("apps/v1", "v1") into group and version.
GroupVersionKind parse_api_version(std::string_view api_version, std::string_view kind);

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

  /// The built-in types (loaded once, on first use, from data embedded in the binary; thread-safe,
  /// any thread; the first call costs a few milliseconds and about a megabyte, see the data
  /// README).
  static const Schema& builtin();

  /// The named type, or nullptr. Names are OpenAPI definition names
  /// ("io.k8s.api.apps.v1.Deployment", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").
  const Node* find(std::string_view name) const noexcept;
  /// The top-level kind served as `gvk`, or nullptr. meta/v1 kinds answer for every served group
  /// version (DeleteOptions as {"", v1}, {apps, v1}, {meta.k8s.io, v1}, ...), as upstream registers
  /// them.
  const Node* find_kind(const GroupVersionKind& gvk) const noexcept;
  /// Every named node, sorted by name (OpenAPI generation).
  std::vector<const Node*> named() const;
  /// Every GVK some node is served as, in a stable order.
  std::vector<GroupVersionKind> kinds() const;
  /// The root node of a schema built from one CRD version (nullptr for builtin()).
  const Node* root() const noexcept;
  /// Number of nodes owned (named and anonymous), for tests and memory accounting.
  std::size_t size() const noexcept;

  /// Converts a CRD version's `openAPIV3Schema` (a JSONSchemaProps document) into a Schema whose
  /// root describes the custom resource: apiVersion, kind and metadata (ObjectMeta, from builtin())
  /// are added as upstream does, and the root's gvks is {gvk}. Errors: kInvalid with field causes
  /// (paths under `cause_prefix`, e.g. "spec.versions[0].schema.openAPIV3Schema") when the schema
  /// is not structural or uses unsupported constructs ($ref, definitions, patternProperties, ...),
  /// in upstream's wording. Implemented in structural.cpp.
  static Result<Schema> from_openapi_v3(const json::Value& open_api_v3_schema,
                                        const GroupVersionKind& gvk, std::string_view cause_prefix);

  struct Impl;

private:
  explicit Schema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::registry
