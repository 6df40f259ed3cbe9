// SPDX-License-Identifier: Apache-2.0
#pragma once

// The registry's view of the helpers it builds on (api selectors and metadata utilities, patch and
// apply, structural schema operations), in one place so their exact signatures matter to one file
// (private to src/registry).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::registry::detail {

/// A parsed label + field selection for one resource type.
class Selection {
 public:
  /// Errors: kBadRequest for unparsable selectors and unsupported field labels (upstream's texts).
  static Result<Selection> make(const ResourceType& type, std::string_view label_selector,
                                std::string_view field_selector);
  Selection();
  ~Selection();
  Selection(Selection&&) noexcept;
  Selection& operator=(Selection&&) noexcept;

  bool matches(const json::Value& object) const;
  /// True when nothing is filtered.
  bool everything() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const ResourceType* type_ = nullptr;
};

/// A metav1.LabelSelector object as a selector string in upstream's canonical form
/// ("app=web,tier in (a,b)"); empty for a null or empty selector.
std::string selector_string(const json::Value& label_selector);

std::string new_uid();
/// RFC 3339, seconds precision, UTC ("2026-12-02T10:00:00Z").
std::string format_time(TimePoint t);
/// RFC 3339 with microseconds (managedFields times use seconds; events use micro).
std::string format_micro_time(TimePoint t);
/// Validates a resource's metadata the generic way (name by the kind's rule, generateName, labels,
/// annotations, finalizers? ownerReferences).
std::vector<FieldCause> validate_object_meta(const ResourceType& type, const json::Value& object);

// Patches. Errors as upstream: kBadRequest for unparsable patches, kInvalid/kConflict where the
// patch cannot apply (e.g. a failed JSON Patch test).
Result<json::Value> json_patch(const json::Value& document, std::string_view patch);
Result<json::Value> merge_patch(const json::Value& document, std::string_view patch);
Result<json::Value> strategic_merge_patch(const json::Value& document, std::string_view patch,
                                          const Node* schema);

/// The top-level field the strategy of `type` resets at `subresource` (upstream's GetResetFields):
/// "status" on the main resource and "spec" on /status of a kind with a status subresource, else
/// "".
std::string_view reset_field(const ResourceType& type, std::string_view subresource);
/// Server-side apply of `config` by `manager` onto `live` (nullptr: create) at `subresource` (""
/// or "status"). `reset` (see reset_field; "" for none) is owned by nobody through this endpoint
/// and never conflicts. Conflicts: kConflict with causes (unless force).
Result<json::Value> server_side_apply(const json::Value* live, const json::Value& config,
                                      const Node* schema, std::string_view manager,
                                      std::string_view api_version, bool force, TimePoint now,
                                      std::string_view subresource = {},
                                      std::string_view reset = {});
/// Records the fields an update/create changed as owned by `manager` (operation Update) in
/// object.metadata.managedFields.
void record_update(const json::Value* old, json::Value& object, const Node* schema,
                   std::string_view manager, std::string_view api_version, TimePoint now,
                   std::string_view subresource = {});

/// Unknown-field paths of `object` against `schema` ("spec.foo").
std::vector<std::string> unknown_fields(const json::Value& object, const Node* schema);
/// What Go's typed JSON decoding rejects (a string where an integer belongs): kBadRequest.
Result<void> check_value_types(const json::Value& object, const Node* schema);
/// CRDs: drop unknown fields; apply structural defaults; value validation causes (with the CEL
/// rules; `old` is an update's previous object, for transition rules).
void prune(json::Value& object, const Node* schema);
void apply_schema_defaults(json::Value& object, const Node* schema);
std::vector<FieldCause> validate_schema_values(const json::Value& object, const Node* schema,
                                               const json::Value* old = nullptr);

}  // namespace skiff::registry::detail
