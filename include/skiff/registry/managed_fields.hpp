// SPDX-License-Identifier: Apache-2.0
#pragma once

// managed_fields: field ownership (`metadata.managedFields`) and server-side apply, as
// kube-apiserver 1.32 does them with sigs.k8s.io/structured-merge-diff v4 and k8s.io/apimachinery's
// managedfields package.
//
// Every write records which manager set which fields:
// - `FieldManager::update` runs for creates, updates and JSON/merge/strategic patches: the fields
//   the write changed become the writing manager's (operation "Update"), and other managers lose
//   them.
// - `FieldManager::apply` runs for `application/apply-patch+yaml`: the applied configuration is
//   merged into the live object following the schema's list types (atomic / set / map by keys) and
//   map types (granular / atomic; kAny content is "deduced": its maps are granular, its lists
//   atomic); fields the manager applied before and no longer applies are removed unless another
//   manager owns them; a field another manager owns with a different value is a conflict unless
//   `force`.
//
// Field sets use upstream's data model and encoding (FieldsV1): a tree of path elements
// `f:<field>`, `k:{"name":"web"}` (list-map keys, compact JSON, names sorted), `v:<json>` (set
// items), `i:<index>`, with `.` marking a node that is itself a member. The encoding is
// byte-compatible with upstream's, so managedFields written by Skiff read back in kubectl and
// client libraries as usual.
//
// Not modelled (Skiff serves one version per kind, and its schemas do not change under stored
// objects): conversion of field sets between API versions and ReconcileFieldSetWithSchema. Entries
// recorded under another apiVersion are compared as if recorded under the served one.
//
// Everything here is pure (no I/O, no clock reads: callers pass `now`), immutable after
// construction and safe to share between threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry {

/// One step of a field path: a struct/map member, a list item by its key fields, a set item by
/// value, or a list index (structured-merge-diff's PathElement). Ordered as upstream orders them
/// (fields, then keys, then values, then indices), which is also their order in FieldsV1.
class PathElement {
public:
  enum class Kind : std::uint8_t { kField, kKey, kValue, kIndex };
  /// Key fields of a list-map item, sorted by name.
  using KeyFields = std::vector<std::pair<std::string, json::Value>>;

  static PathElement field(std::string name);
  /// Sorts `fields` by name.
  static PathElement key(KeyFields fields);
  static PathElement value(json::Value value);
  static PathElement index(std::int64_t index);

  Kind kind() const noexcept { return kind_; }
  /// The member name (kField) — empty for other kinds.
  const std::string& field_name() const noexcept { return name_; }
  const KeyFields& key_fields() const noexcept { return key_; }
  /// The set item (kValue) — null for other kinds.
  const json::Value& item_value() const noexcept { return value_; }
  std::int64_t list_index() const noexcept { return index_; }

  /// <0, 0, >0 as upstream's PathElement.Compare.
  int compare(const PathElement& other) const;
  bool operator==(const PathElement& other) const { return compare(other) == 0; }
  bool operator<(const PathElement& other) const { return compare(other) < 0; }

  /// Upstream's display form (used in conflict messages): `.spec`, `[name="web"]`,
  /// `[containerPort=80,protocol="TCP"]`, `[="a"]`, `[0]`.
  std::string to_string() const;
  /// The FieldsV1 key: `f:spec`, `k:{"name":"web"}`, `v:"a"`, `i:0`.
  std::string serialize() const;
  /// Parses a FieldsV1 key. Errors: kBadRequest for a malformed key; an unknown prefix letter is
  /// reported as kNotFound so that FieldsV1 decoding can skip it as upstream does.
  static Result<PathElement> deserialize(std::string_view key);

private:
  Kind kind_ = Kind::kField;
  std::string name_;
  KeyFields key_;
  json::Value value_;
  std::int64_t index_ = 0;
};

using FieldPath = std::vector<PathElement>;

/// A path in upstream's display form: `.spec.template.spec.containers[name="web"].image`.
std::string path_to_string(const FieldPath& path);
/// A path of member names: make_path({"spec", "replicas"}).
FieldPath make_path(std::initializer_list<std::string_view> field_names);

/// A set of field paths (structured-merge-diff's fieldpath.Set): `members` are paths ending here,
/// `children` the sub-sets below each element; both kept sorted. A value type; copies are deep.
class FieldSet {
public:
  struct Child;

  FieldSet();
  ~FieldSet();
  FieldSet(const FieldSet& other);
  FieldSet(FieldSet&& other) noexcept;
  FieldSet& operator=(const FieldSet& other);
  FieldSet& operator=(FieldSet&& other) noexcept;

  /// Adds `path` (an empty path is ignored).
  void insert(const FieldPath& path);
  bool has(const FieldPath& path) const;
  /// No member anywhere in the tree.
  bool empty() const noexcept;
  /// Number of paths in the set.
  std::size_t size() const noexcept;

  /// Set algebra with upstream's semantics: `difference` removes exact paths only (a removed member
  /// keeps its children); `recursive_difference` also drops everything below a member of `other`.
  FieldSet union_with(const FieldSet& other) const;
  FieldSet intersection(const FieldSet& other) const;
  FieldSet difference(const FieldSet& other) const;
  FieldSet recursive_difference(const FieldSet& other) const;
  /// The paths with nothing below them.
  FieldSet leaves() const;

  /// The sub-set below `element`, or nullptr.
  const FieldSet* child(const PathElement& element) const;
  /// The sub-set below `element`, created if missing.
  FieldSet& descend(const PathElement& element);
  const std::vector<PathElement>& members() const noexcept { return members_; }
  const std::vector<Child>& children() const noexcept { return children_; }

  /// Every path, members before children at each level, each group in element order (upstream's
  /// Iterate order).
  void for_each(const std::function<void(const FieldPath&)>& fn) const;
  std::vector<FieldPath> paths() const;

  /// The FieldsV1 JSON object (`{"f:spec":{"f:replicas":{}}}`).
  json::Value to_fields_v1() const;
  /// Parses FieldsV1; keys of unknown kinds are skipped as upstream does. Errors: kBadRequest when
  /// the value is not an object tree or a key is malformed.
  static Result<FieldSet> from_fields_v1(const json::Value& fields_v1);

  bool operator==(const FieldSet& other) const;

private:
  void for_each_prefix(FieldPath& prefix, const std::function<void(const FieldPath&)>& fn) const;

  std::vector<PathElement> members_;
  std::vector<Child> children_;
};

struct FieldSet::Child {
  PathElement element;
  FieldSet set;
};

/// The set of fields `object` holds under `schema` (structured-merge-diff's ToFieldSet): leaves,
/// list items (as members, with their fields below), set items, map entries; atomic lists and maps
/// are single leaves. Errors: kInvalid when `object` does not fit `schema` (message in upstream's
/// wording, e.g. `.spec.foo: field not declared in schema`).
Result<FieldSet> field_set_of(const Node* schema, const json::Value& object);

/// One decoded `metadata.managedFields` entry.
struct ManagedFieldsEntry {
  std::string manager;
  std::string operation;  ///< "Apply" or "Update"
  std::string api_version;
  /// Seconds precision, as metav1.Time; nullopt when the entry has no time.
  std::optional<std::chrono::sys_seconds> time;
  std::string subresource;
  FieldSet fields;
};

/// Decodes `metadata.managedFields` (null or absent: no entries) as upstream's DecodeManagedFields.
/// Errors (kBadRequest; upstream's text): an operation other than Apply/Update ("operation must be
/// `Apply` or `Update`"), an empty apiVersion, a missing or unknown fieldsType, malformed fieldsV1,
/// an entry that is not an object.
Result<std::vector<ManagedFieldsEntry>> decode_managed_fields(const json::Value& managed_fields);

/// Encodes entries as upstream does: sorted by operation, time, manager, apiVersion, subresource;
/// fieldsType FieldsV1; time as RFC 3339 (`2024-05-01T10:00:00Z`). No entries: null (the caller
/// then omits `metadata.managedFields`).
json::Value encode_managed_fields(std::vector<ManagedFieldsEntry> entries);

/// The managedFields validity rule run after mutating admission (upstream's
/// managedfields.ValidateManagedFields, i.e. a successful decode). On failure the apiserver
/// restores the entries from before admission and adds the warning
/// `kManagedFieldsAfterAdmissionWarning` followed by the error message.
Result<void> validate_managed_fields(const json::Value& managed_fields);
inline constexpr std::string_view kManagedFieldsAfterAdmissionWarning =
    ".metadata.managedFields was in an invalid state after admission; this could be caused by an "
    "outdated mutating admission controller; please fix your requests: ";

/// ObjectMeta validation of managedFields (upstream's ValidateManagedFields in meta/v1/validation),
/// for the registry's validation of every write: operation Apply or Update, fieldsType empty or
/// FieldsV1, manager at most 128 printable characters, subresource at most 256 characters. Causes
/// carry paths under `field_path` (e.g. "metadata.managedFields").
std::vector<FieldCause> validate_managed_fields_entries(const json::Value& managed_fields,
                                                        std::string_view field_path);

/// Removes `metadata.managedFields` from `object`; true if there was something to remove.
/// Upstream's size guard: when storage rejects a create, update or non-apply patch as too large,
/// the apiserver retries the same write once with managedFields removed (never for apply, whose
/// ownership data is the point of the request).
bool strip_managed_fields(json::Value& object);

/// How one endpoint records ownership.
struct FieldManagerOptions {
  /// The kind served at the endpoint; its group/version is the apiVersion recorded in entries.
  GroupVersionKind gvk;
  /// "" for the main resource, "status", "scale", ...: recorded in entries, and (as upstream) a
  /// request to a subresource never supplies managedFields of its own.
  std::string subresource;
  /// Fields the endpoint's strategy resets (e.g. {"status"} on the main resource): changes there
  /// are owned by nobody.
  std::vector<FieldPath> reset_fields;
  /// Update managers beyond this are folded, oldest first, into "ancient-changes" (upstream: 10).
  std::size_t max_update_managers = 10;
  /// The "empty object" a create is compared against: upstream compares with the kind's Go zero
  /// value, whose non-pointer structs are present as {} and non-omitempty fields as null; that
  /// decides where FieldsV1 has "." markers. Callers that know the zero shape pass it; `{}`
  /// otherwise.
  json::Value empty_object = json::Value::object();
};

/// Records ownership for writes to one endpoint and performs server-side apply. Holds `schema` (the
/// root node of the kind; must outlive the FieldManager; nullptr treats everything as kAny).
class FieldManager {
public:
  FieldManager(const Node* schema, FieldManagerOptions options);

  /// Sets `updated`'s managedFields for a create (`live` null), update or non-apply patch by
  /// `manager` (see manager_or_user_agent), as upstream's FieldManager.UpdateNoErrors:
  /// - the starting entries are `updated`'s own managedFields when it carries valid, non-empty ones
  ///   (main resource only), none when it carries `[]` or `[{}]` (the documented way to reset
  ///   them), else `live`'s (invalid request entries are silently ignored);
  /// - an existing object without entries stays untracked (entries are started by creates and
  ///   applies);
  /// - fields added or changed by the write move to `manager` (operation Update, this endpoint's
  ///   apiVersion and subresource, time `now`), merged into that manager's existing entry; removed
  ///   fields leave every manager; entries left empty disappear; apiVersion, kind and server-set
  ///   metadata are never owned; update managers are capped.
  /// Never fails: should the objects not fit the schema, the result carries no managedFields
  /// (upstream logs and does the same).
  json::Value update(const json::Value* live, json::Value updated, std::string_view manager,
                     std::chrono::system_clock::time_point now) const;

  /// Server-side apply of `config` by `manager` onto `live` (null: create from the apply). Returns
  /// the object to store, with managedFields updated (when nothing changes, the live object with
  /// its entries: the manager's entry may still change). The caller defaults and validates the
  /// result. Mirrors upstream's apply chain, including the client-side-apply handoff for manager
  /// "kubectl": conflicts on fields the last-applied annotation set and the live object still holds
  /// are taken over, and an existing last-applied annotation is rewritten from `config`. Errors:
  /// - kBadRequest `invalid object type: apps/v1, Kind=Deployment` when config's apiVersion/kind
  ///   are not the endpoint's; `metadata.managedFields must be nil` when the config sets them;
  /// - kConflict "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using
  ///   apps/v1: .spec.replicas" (several: "Apply failed with N conflicts: conflicts with ..."), one
  ///   FieldCause per conflict (type "FieldManagerConflict", message `conflict with "<manager>"
  ///   using <apiVersion>`, field `.spec.replicas`), unless `force`, which takes the fields over;
  /// - kInternal with upstream's text when config does not fit the schema ("failed to create
  ///   typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.foo: field not declared in
  ///   schema", also for wrong JSON types and duplicate list keys) or live's managedFields cannot
  ///   be decoded.
  /// The live object itself is walked leniently (upstream would refuse one its schema cannot type):
  /// members the schema does not declare are treated as kAny content.
  Result<json::Value> apply(const json::Value* live, const json::Value& config,
                            std::string_view manager, bool force,
                            std::chrono::system_clock::time_point now) const;

  const FieldManagerOptions& options() const noexcept { return options_; }

private:
  const Node* schema_;
  FieldManagerOptions options_;
};

/// FieldManager(schema, {gvk, subresource}).update(...) for callers without per-endpoint options:
/// the kind is the first of schema->gvks served under `api_version` ("apps/v1"), else `updated`'s.
json::Value record_update(const json::Value* live, json::Value updated, const Node* schema,
                          std::string_view manager, std::string_view api_version,
                          std::chrono::system_clock::time_point now,
                          std::string_view subresource = {});

/// FieldManager(schema, {gvk, subresource, reset_fields}).apply(...) likewise (the kind from
/// schema->gvks, else from `live`, else from `config`).
Result<json::Value> server_side_apply(const json::Value* live, const json::Value& config,
                                      const Node* schema, std::string_view manager,
                                      std::string_view api_version, bool force,
                                      std::chrono::system_clock::time_point now,
                                      std::string_view subresource = {},
                                      std::vector<FieldPath> reset_fields = {});

}  // namespace skiff::registry
