// SPDX-License-Identifier: Apache-2.0
#pragma once

// openapi_schema: renders schema nodes as OpenAPI definitions, for the OpenAPI documents the API
// server publishes (`/openapi/v3/<gv>` components.schemas, `/openapi/v2` definitions). The caller —
// the OpenAPI document builder — chooses the roots (the kinds of a group-version, a CRD's root) and
// adds `paths`; this module emits the closure of types reachable from them.
//
// What is emitted per node: type/format, properties and required, items, additionalProperties,
// references (`#/components/schemas/<name>` in v3, `#/definitions/<name>` in v2; in v3 a reference
// with field-level extensions beside it becomes `allOf: [{$ref}]`), enum, default, nullable (v3),
// and the Kubernetes extensions x-kubernetes-group-version-kind, -list-type, -list-map-keys,
// -map-type, -patch-strategy, -patch-merge-key, -int-or-string, -preserve-unknown-fields,
// -embedded-resource. CRD value validations (pattern, bounds, lengths, allOf/anyOf/oneOf/not) are
// emitted in v3; v2 leaves out what swagger 2.0 cannot say (nullable, junctors, oneOf). Built-in
// nodes carry no descriptions (we do not ship upstream prose); CRD nodes keep their authors'.
//
// Special types as upstream renders them: Time/MicroTime string date-time, Duration string,
// Quantity (v3 oneOf string|number, v2 string), IntOrString (format int-or-string; v3 oneOf
// integer|string), RawExtension/FieldsV1 object, apiextensions JSON and JSONSchemaPropsOr* with no
// type.
//
// Thread safety: pure functions; any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry {

enum class OpenApiVersion : std::uint8_t { kV2, kV3 };

/// "#/components/schemas/<name>" (v3) or "#/definitions/<name>" (v2).
std::string openapi_ref(std::string_view name, OpenApiVersion version);

/// The definition of one node: for a named node its full definition (not a reference to itself),
/// for an anonymous node the inline schema. References to other named nodes are `$ref`s.
json::Value openapi_definition(const Node& node, OpenApiVersion version);

/// Every named node reachable from `roots` (roots included; anonymous roots contribute what they
/// reach), sorted by name.
std::vector<const Node*> openapi_closure(const std::vector<const Node*>& roots);

/// The v3 `components.schemas` object (or the v2 `definitions` object): {name: definition} for
/// openapi_closure(roots), members sorted by name.
json::Value openapi_definitions(const std::vector<const Node*>& roots, OpenApiVersion version);
/// openapi_definitions(roots, kV3): the `components.schemas` object of a v3 document.
json::Value openapi_v3_schemas(const std::vector<const Node*>& roots);
/// openapi_definitions(roots, kV2): the `definitions` object of a swagger 2.0 document.
json::Value openapi_v2_definitions(const std::vector<const Node*>& roots);

}  // namespace skiff::registry
