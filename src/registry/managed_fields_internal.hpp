// SPDX-License-Identifier: Apache-2.0
#pragma once

// The schema-driven walkers of server-side apply (structured-merge-diff's typed package) over JSON
// trees. `root` is the object's schema node; nullptr or kAny content is "deduced" (maps granular,
// lists atomic, everything else a leaf). Live and updated objects are walked leniently (members the
// schema does not declare are deduced, values of the wrong type are leaves); apply configurations
// are validated first with validate_typed, which reports what upstream's typed conversion reports.

#include <string>

#include "skiff/base/json.hpp"
#include "skiff/registry/managed_fields.hpp"

namespace skiff::registry::detail {

/// What changed from lhs to rhs (upstream's typed.Comparison).
struct Comparison {
  FieldSet removed;
  FieldSet modified;
  FieldSet added;

  bool same() const { return removed.empty() && modified.empty() && added.empty(); }
  /// Drops every path at or below `exclude`'s members (upstream's exclude filter).
  void exclude(const FieldSet& exclude);
};

/// Upstream's ValidationErrors text for `object` against `root` ("" when it fits): undeclared
/// fields, wrong JSON types, list items without their keys, and (unless allow_duplicates) duplicate
/// keys.
std::string validate_typed(const Node* root, const json::Value& object, bool allow_duplicates);

FieldSet to_field_set_typed(const Node* root, const json::Value& object);
Comparison compare_typed(const Node* root, const json::Value& lhs, const json::Value& rhs);
/// lhs with rhs merged in (rhs wins at leaves; lists merge by list type, maps by map type).
json::Value merge_typed(const Node* root, const json::Value& lhs, const json::Value& rhs);
/// `object` without the paths of `remove` (a container emptied by removal becomes null, as
/// upstream).
json::Value remove_items_typed(const Node* root, const json::Value& object, const FieldSet& remove);
/// Upstream's EnsureNamedFieldsAreMembers: struct fields that only appear as parents become
/// members.
FieldSet ensure_named_fields_are_members(const FieldSet& set, const Node* root);
/// What upstream's typed decoding does to the merged result: null struct members disappear, null
/// items of typed object lists become empty objects. Map values and deduced content are left alone.
void strip_typed_nulls(const Node* root, json::Value& object);

}  // namespace skiff::registry::detail
