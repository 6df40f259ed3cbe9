// SPDX-License-Identifier: Apache-2.0
#pragma once

// Stored-object plumbing shared by the registry's verbs (private to src/registry): kv keys, the
// stored encoding, version conversion, and Kubernetes-worded errors.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/kv/types.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::registry::detail {

/// "<prefix><ns>/<name>" or "<prefix><name>" for cluster-scoped types.
std::string object_key(const ResourceType& type, std::string_view ns, std::string_view name);
/// The key prefix of a collection: one namespace, or all of them when `ns` is empty.
std::string collection_prefix(const ResourceType& type, std::string_view ns);

/// "deployments.apps", "pods": how upstream names a resource in messages.
std::string qualified_resource(const ResourceType& type);
/// "Deployment.apps", "Pod": how upstream names a kind in Invalid messages.
std::string qualified_kind(const ResourceType& type);

Error not_found(const ResourceType& type, std::string_view name);
Error already_exists(const ResourceType& type, std::string_view name);
/// 409 "Operation cannot be fulfilled on <res> "<name>": <why>".
Error conflict(const ResourceType& type, std::string_view name, std::string_view why);
/// The usual conflict: the object has been modified.
Error modified(const ResourceType& type, std::string_view name);
/// 422 "<Kind> "<name>" is invalid: <causes>".
Error invalid(const ResourceType& type, std::string_view name, std::vector<FieldCause> causes);
/// 400 BadRequest.
Error bad_request(std::string message);
/// 504 for a resourceVersion the store has not reached, as upstream's storage words it: the
/// ResourceVersionTooLarge cause is what client-go's IsTooLargeResourceVersion looks for.
Error too_large_resource_version(std::int64_t wanted, std::int64_t current);
/// "field: message" joined the way upstream's aggregate prints it: one cause alone, several as
/// "[a, b]".
std::string join_causes(const std::vector<FieldCause>& causes);

/// The stored form: converted to the storage version, metadata.resourceVersion removed, members
/// apiVersion, kind, metadata first (a later fast path splices the resourceVersion in after the
/// "metadata":{ prefix).
std::string encode_for_storage(const ResourceType& type, json::Value object);

/// The served form of a stored kv entry: parsed, converted to `type`'s version, resourceVersion =
/// `revision` (the entry's mod_revision, or the deletion revision for a DELETED watch event).
Result<json::Value> decode_stored(const ResourceType& type, std::string_view value,
                                  std::int64_t revision);

/// The start every stored object of `type` has when it is already in the served form (apiVersion
/// and kind of `type`, then metadata): `{"apiVersion":"v1","kind":"ConfigMap","metadata":{`.
/// Empty for kinds whose stored form always needs a conversion (events).
std::string served_json_prefix(const ResourceType& type);

/// decode_stored() then serialize, without parsing when `value` starts with `prefix` (non-empty):
/// the resourceVersion is spliced in as metadata's first member. Same JSON members either way
/// (their order within metadata differs, which JSON does not define).
/// Appends the text to `out`.
Result<void> stored_to_json(const ResourceType& type, const std::string& prefix,
                            std::string_view value, std::int64_t revision, std::string& out);

/// Converts `object` (any served version of the type's resource) to `version` of it. Same-shape
/// versions only change apiVersion.
void convert_version(const ResourceType& type, json::Value& object, std::string_view version);

/// Converts a served object into its stored form (storage version; events.k8s.io Events are stored
/// as core/v1 Events) and back.
void to_storage_form(const ResourceType& type, json::Value& object);
void from_storage_form(const ResourceType& type, json::Value& object);

/// metadata.resourceVersion as a revision: 0 when absent; kBadRequest when not a number.
Result<std::int64_t> parse_resource_version(std::string_view rv);

}  // namespace skiff::registry::detail
