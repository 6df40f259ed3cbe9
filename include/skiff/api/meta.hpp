// SPDX-License-Identifier: Apache-2.0
#pragma once

// meta: ObjectMeta accessors over generic objects (json::Value), the way upstream code uses
// metav1.Object's getters and setters, plus UIDs, generated names and "namespace/name" keys.
//
// Reads never fail and never modify: a missing `metadata`, a missing field or a field of the wrong
// JSON type reads as empty ("" / 0 / no labels / no timestamp). Writes create `metadata` and the
// maps/lists they need, and replace a member of the wrong type. Setting an empty label or
// annotation map keeps `{}`; removing the last entry leaves `{}` too (as upstream's maps do).
//
// The returned string_views point into the object: they are valid until it is modified or
// destroyed. Functions are thread-compatible (the object is the caller's); new_uid() and
// generate_name() are thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/api/time.hpp"
#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::api {

/// The object's `metadata`, or a null value when it has none.
const json::Value& get_metadata(const json::Value& object) noexcept;
/// The object's `metadata`, created as `{}` when missing or not an object.
json::Value& mutable_metadata(json::Value& object);

std::string_view get_api_version(const json::Value& object) noexcept;
std::string_view get_kind(const json::Value& object) noexcept;

std::string_view get_name(const json::Value& object) noexcept;
void set_name(json::Value& object, std::string_view name);
std::string_view get_namespace(const json::Value& object) noexcept;
/// An empty namespace removes the member (cluster-scoped objects carry none).
void set_namespace(json::Value& object, std::string_view ns);
std::string_view get_generate_name(const json::Value& object) noexcept;
void set_generate_name(json::Value& object, std::string_view prefix);
std::string_view get_uid(const json::Value& object) noexcept;
void set_uid(json::Value& object, std::string_view uid);
std::string_view get_resource_version(const json::Value& object) noexcept;
/// An empty resourceVersion removes the member.
void set_resource_version(json::Value& object, std::string_view resource_version);
/// 0 when absent.
std::int64_t get_generation(const json::Value& object) noexcept;
void set_generation(json::Value& object, std::int64_t generation);

/// The labels map (`{...}`), or a null value when there is none. Suitable for
/// LabelSelector::matches().
const json::Value& get_labels(const json::Value& object) noexcept;
/// A label's value; nullopt when absent (an empty value is a present label).
std::optional<std::string_view> get_label(const json::Value& object, std::string_view key) noexcept;
void set_label(json::Value& object, std::string_view key, std::string_view value);
/// True when the label was there.
bool remove_label(json::Value& object, std::string_view key);

const json::Value& get_annotations(const json::Value& object) noexcept;
std::optional<std::string_view> get_annotation(const json::Value& object,
                                               std::string_view key) noexcept;
void set_annotation(json::Value& object, std::string_view key, std::string_view value);
bool remove_annotation(json::Value& object, std::string_view key);

/// The finalizer names in order (non-string entries skipped).
std::vector<std::string_view> get_finalizers(const json::Value& object);
bool has_finalizer(const json::Value& object, std::string_view finalizer) noexcept;
/// Appends the finalizer unless present; true when it was added.
bool add_finalizer(json::Value& object, std::string_view finalizer);
/// Removes every occurrence; true when one was removed. The list member is dropped when it empties.
bool remove_finalizer(json::Value& object, std::string_view finalizer);

/// metav1.OwnerReference.
struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;

  json::Value to_json() const;
  bool operator==(const OwnerReference&) const = default;
};

/// Parsed ownerReferences (entries that are not objects are skipped).
std::vector<OwnerReference> get_owner_references(const json::Value& object);
/// The reference with controller=true (metav1.GetControllerOf), if any.
std::optional<OwnerReference> get_controller_of(const json::Value& object);
/// Replaces the list (an empty list removes the member).
void set_owner_references(json::Value& object, const std::vector<OwnerReference>& references);
/// True when some reference has this uid.
bool is_owned_by(const json::Value& object, std::string_view owner_uid) noexcept;

/// Parsed timestamps; nullopt when absent or not RFC 3339.
std::optional<Timestamp> get_creation_timestamp(const json::Value& object);
void set_creation_timestamp(json::Value& object, Timestamp t);
std::optional<Timestamp> get_deletion_timestamp(const json::Value& object);
/// Sets it (RFC 3339 seconds); nullopt removes it.
void set_deletion_timestamp(json::Value& object, std::optional<Timestamp> t);
std::optional<std::int64_t> get_deletion_grace_period_seconds(const json::Value& object) noexcept;

/// The managedFields list, or a null value.
const json::Value& get_managed_fields(const json::Value& object) noexcept;
void set_managed_fields(json::Value& object, json::Value managed_fields);

/// A random (version 4) UUID in canonical text form, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string new_uid();

/// Longest generateName prefix kept before the random suffix (63 - 5).
inline constexpr std::size_t kMaxGeneratedNameLength = 58;
/// names.SimpleNameGenerator: the prefix cut to 58 bytes, then 5 random characters from
/// "bcdfghjklmnpqrstvwxz2456789".
std::string generate_name(std::string_view base);

/// "namespace/name", or "name" for a cluster-scoped object (cache.MetaNamespaceKeyFunc).
std::string object_key(std::string_view ns, std::string_view name);
std::string object_key(const json::Value& object);
/// The inverse: {"", name} or {namespace, name}. kBadRequest `unexpected key format: "a/b/c"` for
/// more than one '/'.
Result<std::pair<std::string, std::string>> split_object_key(std::string_view key);

}  // namespace skiff::api
