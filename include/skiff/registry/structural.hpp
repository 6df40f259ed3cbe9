// SPDX-License-Identifier: Apache-2.0
#pragma once

// structural: operations of the API server on objects as JSON trees against a schema, for built-in
// kinds and CRDs alike:
//   - unknown and duplicate field detection for `fieldValidation=Strict|Warn`;
//   - type checking of built-in objects (what Go's JSON decoding into typed structs rejects);
//   - pruning of unknown fields (CRDs);
//   - structural defaulting from `default` values (CRDs);
//   - CRD value validation (types, enum, formats, bounds, lengths, patterns, list types, junctors)
//     reported as field causes in upstream's wording.
// Schema::from_openapi_v3 (schema.hpp), the conversion of a CRD `openAPIV3Schema` with the
// structural-schema checks, lives in the same implementation.
//
// Paths use Kubernetes' field-path style: members joined with ".", array indices as "[i]", map keys
// as ".key" ("spec.template.spec.containers[0].image", "metadata.labels.app"). Walkers skip the
// `inlined` protobuf entries of a node and never follow into kAny values.
//
// Thread safety: pure functions over immutable schemas; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry {

/// Paths of members `value` carries that `node` does not describe, in document order (upstream's
/// strict decoding reports them this way). Respects preserve-unknown-fields (members of such an
/// object are not reported, but known members are still checked), embedded resources, maps (values
/// are checked against the map's value type) and kAny (anything goes). Values of the wrong JSON
/// type are not descended into (type checking reports those).
std::vector<std::string> unknown_fields(const Node& node, const json::Value& value);

/// `unknown field "spec.foo"`, the text upstream uses for Strict errors and Warn warnings.
std::string unknown_field_message(std::string_view path);
/// `duplicate field "metadata.name"` (paths from json::ParseOptions::duplicates).
std::string duplicate_field_message(std::string_view path);
/// The Strict rejection of a built-in kind: kBadRequest with message `strict decoding error: ` and
/// the unknown/duplicate messages joined by ", ", as upstream's `<Kind> in version "<v>" cannot be
/// handled as a <Kind>: ...` (the caller adds that prefix: `prefix` is prepended verbatim).
Error strict_decoding_error(std::string_view prefix, const std::vector<std::string>& unknown,
                            const std::vector<std::string>& duplicates);

/// Type checking as Go's JSON decoding of a built-in kind does it: strings, integers (no fractions,
/// int32 range), numbers, booleans, base64 bytes, quantities (upstream's quantity syntax),
/// int-or-string, RFC 3339 times, Go durations, objects/maps/arrays; null is accepted everywhere.
/// Returns the first mismatch as kBadRequest with Go's wording, e.g. `json: cannot unmarshal string
/// into Go struct field DeploymentSpec.spec.replicas of type int32` (the caller prefixes
/// `<Kind> in version "<v>" cannot be handled as a <Kind>: `).
Result<void> check_types(const Node& node, const json::Value& value);

/// CRD pruning: removes members the schema does not describe, in place, and returns their paths,
/// sorted. With `is_resource_root` the root's apiVersion, kind and metadata are kept (and metadata
/// is pruned to ObjectMeta); objects with x-kubernetes-embedded-resource keep theirs the same way;
/// x-kubernetes-preserve-unknown-fields keeps unknown members but still prunes known ones.
std::vector<std::string> prune(const Node& node, json::Value& value, bool is_resource_root = true);

/// Structural defaulting (CRDs), upstream's algorithm: first nulls of non-nullable fields without a
/// default are dropped; then every absent member (and every non-nullable null member, array item or
/// map value) whose schema has a default gets a deep copy of it, recursively through properties,
/// array items and map values (defaults are themselves defaulted further down).
void apply_defaults(const Node& node, json::Value& value);

/// CRD value validation: every violation as a field cause with upstream's type, path and message,
/// e.g. {FieldValueTypeInvalid, "spec.size", `Invalid value: "x": spec.size in body must be of
/// type integer: "string"`}, {FieldValueNotSupported, "spec.c", `Unsupported value: "c":
/// supported values: "a", "b"`}, {FieldValueRequired, "spec.name", `Required value`}. `root_path`
/// prefixes every path ("" for a whole object). A resource's metadata is left to metadata
/// validation except the name/generateName constraints a CRD may declare. Run it after prune()
/// and apply_defaults(), as upstream does (defaulting drops the nulls validation would reject).
/// x-kubernetes-validations (CEL rules) are evaluated at each node the value reaches, after its
/// own constraints: `self` is the value there, `oldSelf` the value at the same place in `old` (an
/// update's previous object; object members and map values by key, listType=map items by their
/// keys). A transition rule (one using oldSelf) is skipped where there is no old value. A failed
/// rule is {FieldValueInvalid (or its `reason`), "spec", `Invalid value: "object": <message>`},
/// `failed rule: <rule>` without a message.
std::vector<FieldCause> validate_value(const Node& node, const json::Value& value,
                                       std::string_view root_path = {},
                                       const json::Value* old = nullptr);

/// Builds upstream's Invalid error: kInvalid, message `<qualified kind> "<name>" is invalid:
/// <cause>` for one cause or `... is invalid: [<cause>, <cause>]` for several (each `<field>:
/// <message>`), causes kept. `qualified_kind` is "Kind" for core, "Kind.group" otherwise.
Error invalid_error(std::string_view qualified_kind, std::string_view name,
                    std::vector<FieldCause> causes);

/// A value as Go's `%#v`/`%v` shows it inside field errors: strings quoted, numbers and booleans
/// plain, objects as `map[string]interface {}{"a":1}`, arrays as `[]interface {}{"a", 1}`, null as
/// `null` (exposed for callers that build their own field causes).
std::string go_value_text(const json::Value& value);

}  // namespace skiff::registry
