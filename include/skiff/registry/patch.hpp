// SPDX-License-Identifier: Apache-2.0
#pragma once

// patch: the three client-computed patch formats a PATCH request may carry, applied to the JSON
// tree of the live object the way kube-apiserver 1.32 applies them (k8s.io/apiserver
// endpoints/handlers/patch.go on evanphx/json-patch v4 and k8s.io/apimachinery strategicpatch):
//
// - JSON Patch, RFC 6902 (`application/json-patch+json`: `kubectl patch --type=json`,
//   `rollout undo`);
// - JSON merge patch, RFC 7386 (`application/merge-patch+json`: label, annotate, scale);
// - strategic merge patch (`application/strategic-merge-patch+json`: client-side apply, edit,
//   set image, cordon, rollout restart): merge patch whose lists follow the schema's patch strategy
//   and merge key, plus the `$patch`, `$retainKeys`, `$setElementOrder/` and
//   `$deleteFromPrimitiveList/` directives.
//
// Server-side apply (`application/apply-patch+yaml`) tracks field ownership and lives in
// managed_fields.hpp; `parse_apply_patch` here only decodes its body.
//
// Two layers: the format functions (`apply_json_patch`, `apply_merge_patch`,
// `apply_strategic_merge_patch`) report precise errors, for tests and logs; `apply_patch_body` is
// the request-level operation and reports exactly the Status upstream's handler answers with (which
// is sometimes deliberately vague, e.g. every failed JSON Patch operation is a 422 "the server
// rejected our request due to an error in our request"). Neither decodes the result into a type:
// validation, defaulting and pruning of the patched object happen afterwards in the registry, as
// upstream does them after its typed decoding.
//
// All functions are pure: no I/O, no shared state, safe from any thread. Inputs are never trusted:
// malformed patches produce an Error, never a crash, and their cost is bounded (JSON Patch
// operation count and copy volume; the nesting of every input is already bounded by json::parse).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::registry {

struct Node;

/// Decodes an RFC 6901 JSON Pointer into its reference tokens ("~1" becomes "/", "~0" becomes "~").
/// "" (the whole document) has no tokens. Errors: kBadRequest when the pointer is not empty and
/// does not start with "/", or has a "~" not followed by "0" or "1".
Result<std::vector<std::string>> parse_json_pointer(std::string_view pointer);

/// Cost bounds of one JSON Patch (upstream's values: maxJSONPatchOperations in the PATCH handler
/// and the apiserver's default JSONPatchMaxCopyBytes).
struct JsonPatchLimits {
  /// More operations than this: kTooLarge (413, checked before anything is applied).
  std::size_t max_operations = 10000;
  /// Total serialized size of the values copied by "copy" operations; beyond it: kInvalid.
  std::int64_t max_copy_bytes = std::int64_t{3} * 1024 * 1024;
};

/// Applies an RFC 6902 patch (`operations` must be an array of operation objects) to `document`.
/// Semantics are evanphx/json-patch v4's, which the apiserver uses: "add" / "remove" / "replace" /
/// "move" / "copy" / "test"; "-" appends to an array; negative array indices count from the end; a
/// "replace" of a missing object member adds it (upstream's leniency that e.g. `rollout undo`
/// relies on when it replaces /metadata/annotations); "add" without "value" adds null; "test"
/// compares JSON values semantically. Errors: kBadRequest when `operations` is not an array of
/// objects; kTooLarge past `limits.max_operations`; kInvalid when an operation cannot be applied
/// (missing path, bad index, failed test, unknown op, copy volume over the limit), with a message
/// naming the operation and path.
Result<json::Value> apply_json_patch(json::Value document, const json::Value& operations,
                                     const JsonPatchLimits& limits = {});

/// Applies an RFC 7386 merge patch: objects merge recursively, `null` deletes a member, anything
/// else (arrays included) replaces. A patch that is not an object replaces the whole target (RFC
/// 7386 §2); nulls inside objects taken from the patch are dropped. Never fails.
json::Value apply_merge_patch(json::Value target, const json::Value& patch);

/// Applies a strategic merge patch (a JSON object) to `original` (an object) as upstream's
/// StrategicMergeMapPatch does on the server: maps merge; `null` deletes; lists whose field has a
/// patch strategy containing "merge" merge by `patch_merge_key` (lists of objects) or as sets
/// (primitive lists, e.g. finalizers), other lists are replaced; maps whose field has strategy
/// "replace" are replaced; directives: `$patch: replace|delete` on maps, `$patch: delete|replace`
/// items in merging lists, `$retainKeys`, `$setElementOrder/<list>` (the result takes that order,
/// server-only items interleaved as upstream does), `$deleteFromPrimitiveList/<list>`. The result's
/// list order is upstream's.
///
/// `schema` is the node of `original`'s type (usually the kind's root node); it may be nullptr.
/// Members the schema does not know, and kAny subtrees, carry no strategy: their maps merge and
/// their lists are replaced, i.e. JSON merge semantics (with directives still interpreted). Values
/// taken whole from the patch lose their `$`-directives and nested nulls, as upstream's typed
/// decoding loses them.
///
/// Errors, worded as upstream's (which the request layer maps to HTTP as
/// interpretStrategicMergePatchError does): kBadRequest for the malformed-directive sentinels
/// ("invalid patch format of setElementOrder list", "invalid patch format of retainKeys", "invalid
/// patch format of primitive list"); kInvalid for "lists of lists are not supported"; kInternal for
/// everything else upstream reports as a plain error (e.g. `map: map[value:b] does not contain
/// declared merge key: name`, `unknown patch type: x in map: map[...]`, `The order in patch list:
/// ... doesn't match $setElementOrder list: ...`).
Result<json::Value> apply_strategic_merge_patch(json::Value original, const json::Value& patch,
                                                const Node* schema);

/// The patch media types of a PATCH request.
enum class PatchType : std::uint8_t {
  kJson,       ///< application/json-patch+json
  kMerge,      ///< application/merge-patch+json
  kStrategic,  ///< application/strategic-merge-patch+json
  kApply,      ///< application/apply-patch+yaml (server-side apply)
};

/// The PatchType of a Content-Type header value (parameters such as "; charset=utf-8" are ignored,
/// as upstream strips everything from the first ';'), or nullopt (upstream answers 415).
std::optional<PatchType> patch_type_from_content_type(std::string_view content_type) noexcept;
/// The media type string of `type`.
std::string_view patch_content_type(PatchType type) noexcept;

/// The request-level patch: parses `body` and applies it to `current` (the live object, an object)
/// as kube-apiserver's PATCH handler does for JSON, merge and strategic merge patches, including
/// the result check that the patched document is still an object. `schema` is used by strategic
/// merge patch only. Errors are the Status upstream returns:
/// - JSON Patch: kBadRequest with the decoding error for a body that is not an array of objects;
///   kTooLarge "Request entity too large: The allowed maximum operations in a JSON patch is 10000,
///   got N"; kInvalid "the server rejected our request due to an error in our request" for any
///   operation that fails (upstream keeps the detail to itself; `apply_json_patch` gives it).
/// - Merge patch: kBadRequest "Invalid JSON Patch" for a body that is invalid JSON, null or
///   a scalar.
/// - Strategic merge patch: kBadRequest for a body that is not a JSON object and for malformed
///   directives; kInvalid "the server rejected our request due to an error in our request" for
///   lists of lists; kInternal with upstream's text for other merge errors.
/// - A patched document that is not an object: kInvalid with a "patch" field cause, as
///   upstream's decode reports it.
/// - kApply is not handled here (see managed_fields.hpp): kInternal.
Result<json::Value> apply_patch_body(PatchType type, const json::Value& current,
                                     std::string_view body, const Node* schema,
                                     const JsonPatchLimits& limits = {});

/// Decodes a server-side apply body (YAML; kubectl sends JSON, which is YAML) into the applied
/// configuration. Errors: kBadRequest "error decoding YAML: ..." when it is not valid YAML or not a
/// mapping.
Result<json::Value> parse_apply_patch(std::string_view body);

/// The PatchOptions checks upstream runs before any patch (ValidatePatchOptions): an apply patch
/// needs a field manager; `force` is only for apply patches; a field manager is at most 128
/// printable characters. Errors: kInvalid `PatchOptions.meta.k8s.io "" is invalid: ...` with field
/// causes.
Result<void> validate_patch_options(PatchType type, std::string_view field_manager,
                                    bool force_given);

/// The manager recorded for a write: `field_manager` when given, else the User-Agent up to its
/// first '/', without unprintable characters, cut at 128 bytes (upstream's managerOrUserAgent:
/// kubectl's "kubectl/v1.32.5 (linux/amd64) kubernetes/..." becomes "kubectl").
std::string manager_or_user_agent(std::string_view field_manager, std::string_view user_agent);

}  // namespace skiff::registry
