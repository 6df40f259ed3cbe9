// SPDX-License-Identifier: Apache-2.0
// Strategic merge patch, applied as k8s.io/apimachinery strategicpatch's StrategicMergeMapPatch
// does on the server (MergeParallelList and IgnoreUnmatchedNulls both on). The structure follows
// upstream's algorithm step by step because clients depend on its exact results, list order
// included; messages are upstream's, with Go's %v forms of the values involved.

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/registry/managed_fields.hpp"
#include "skiff/registry/patch.hpp"
#include "skiff/registry/schema.hpp"

#include "patch_internal.hpp"

namespace skiff::registry {
namespace {

using json::Array;
using json::Object;
using json::Value;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kDelete = "delete";
constexpr std::string_view kReplace = "replace";
constexpr std::string_view kMerge = "merge";
constexpr std::string_view kRetainKeysStrategy = "retainKeys";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

// The mergepatch sentinels and their HTTP mapping (interpretStrategicMergePatchError).
Error bad_request(std::string_view m) {
  return errors::make(Reason::kBadRequest, std::string(m));
}
Error internal(std::string m) {
  return errors::make(Reason::kInternal, std::move(m));
}
Error err_bad_format_primitive_list() {
  return bad_request("invalid patch format of primitive list");
}
Error err_bad_format_retain_keys() {
  return bad_request("invalid patch format of retainKeys");
}
Error err_bad_format_set_element_order() {
  return bad_request("invalid patch format of setElementOrder list");
}
Error err_no_list_of_lists() {
  return errors::make(Reason::kInvalid, "lists of lists are not supported");
}

// reflect.TypeOf(v).String() of the decoded value.
std::string go_type(const Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "%!s(<nil>)";
    case json::Type::kBool:
      return "bool";
    case json::Type::kInt:
      return "int64";
    case json::Type::kDouble:
      return "float64";
    case json::Type::kString:
      return "string";
    case json::Type::kArray:
      return "[]interface {}";
    case json::Type::kObject:
      return "map[string]interface {}";
  }
  return "?";
}

Error err_bad_arg_type(std::string_view expected, const Value& actual) {
  return internal("expected a " + std::string(expected) + ", but received a " + go_type(actual));
}
constexpr std::string_view kSliceType = "[]interface {}";
constexpr std::string_view kMapType = "map[string]interface {}";

Error err_no_merge_key(const Value& m, std::string_view key) {
  return internal("map: " + detail::go_format(m) +
                  " does not contain declared merge key: " + std::string(key));
}

// fmt's %s of a directive value.
std::string go_s(const Value& v) {
  if (v.is_string()) {
    return v.as_string();
  }
  if (v.is_object() || v.is_array()) {
    return detail::go_format(v);
  }
  if (v.is_null()) {
    return "%!s(<nil>)";
  }
  return "%!s(" + go_type(v) + "=" + detail::go_format(v) + ")";
}

Error err_bad_patch_type(const Value& directive, const Value& map) {
  return internal("unknown patch type: " + go_s(directive) + " in map: " + detail::go_format(map));
}

bool is_directive(const Value& v, std::string_view name) {
  return v.is_string() && v.as_string() == name;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The patch metadata of one field: its strategies (x-kubernetes-patch-strategy split on ',') and
// merge key, and the node to descend into.
struct Meta {
  const Node* node = nullptr;  // the field's type (maps) or element type (slices)
  std::vector<std::string> strategies;
  std::string merge_key;
};

std::vector<std::string> split_strategies(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) {
    return out;
  }
  std::size_t start = 0;
  while (true) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

// LookupPatchMetadataForStruct: the member `key` of `schema`. Unknown members and members of kAny
// content have no metadata (JSON merge semantics), where upstream's typed lookup would fail.
Meta lookup_struct(const Node* schema, std::string_view key) {
  Meta meta;
  if (schema == nullptr) {
    return meta;
  }
  const Node* field_node = nullptr;
  if (schema->kind == Kind::kObject) {
    if (const Field* f = detail::find_field(schema, key)) {
      field_node = f->node;
    }
  } else if (schema->kind == Kind::kMap) {
    meta.node = schema->items;  // map values carry no tags
    return meta;
  }
  if (field_node == nullptr) {
    return meta;
  }
  meta.node = field_node;
  meta.strategies = split_strategies(field_node->patch_strategy);
  meta.merge_key = field_node->patch_merge_key;
  return meta;
}

// LookupPatchMetadataForSlice: like lookup_struct, descending to the element type.
Meta lookup_slice(const Node* schema, std::string_view key) {
  Meta meta = lookup_struct(schema, key);
  if (meta.node != nullptr && meta.node->kind == Kind::kArray) {
    meta.node = meta.node->items;
  }
  // Otherwise the node itself is the element type, as upstream's lookup treats a pointer-typed
  // field used as a list.
  return meta;
}

// extractRetainKeysPatchStrategy: the strategy besides retainKeys.
Result<std::string> other_strategy(const std::vector<std::string>& strategies) {
  auto unexpected = [&] {
    std::string list = "[";
    for (std::size_t i = 0; i < strategies.size(); ++i) {
      list += (i ? " " : "") + strategies[i];
    }
    return internal("unexpected patch strategy: " + list + "]");
  };
  switch (strategies.size()) {
    case 0:
      return std::string();
    case 1:
      return strategies[0] == kRetainKeysStrategy ? std::string() : strategies[0];
    case 2:
      if (strategies[0] == kRetainKeysStrategy) {
        return strategies[1];
      }
      if (strategies[1] == kRetainKeysStrategy) {
        return strategies[0];
      }
      return unexpected();
    default:
      return unexpected();
  }
}

// extractKey: "<prefix>/<key>" -> key.
Result<std::string> extract_key(std::string_view s, std::string_view prefix) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos || s.substr(0, slash) != prefix) {
    if (prefix == kDeleteFromPrimitiveListPrefix) {
      return err_bad_format_primitive_list();
    }
    return err_bad_format_set_element_order();
  }
  return std::string(s.substr(slash + 1));
}

// discardNullValuesFromPatch: drops null members of maps anywhere below (null list items stay).
void discard_nulls(Value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto it = o.begin(); it != o.end();) {
      if (it->value.is_null()) {
        it = o.erase(it);
      } else {
        discard_nulls(it->value);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) {
      discard_nulls(item);
    }
  }
}

// removeDirectives: a map carrying "$patch" disappears (and so does a list item that is one).
bool remove_directives(Value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    if (o.contains(kDirectiveMarker)) {
      return false;
    }
    for (auto it = o.begin(); it != o.end();) {
      if (!remove_directives(it->value)) {
        it = o.erase(it);
      } else {
        ++it;
      }
    }
  } else if (v.is_array()) {
    auto& a = v.as_array();
    Array kept;
    kept.reserve(a.size());
    for (auto& item : a) {
      if (remove_directives(item)) {
        kept.push_back(std::move(item));
      }
    }
    a = std::move(kept);
  }
  return true;
}

// Upstream decodes the merged map into the typed object, which drops the directive keys that may
// remain in values taken whole from the patch; the JSON tree has no such decoding step, so drop
// them here.
void strip_directive_keys(Value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto it = o.begin(); it != o.end();) {
      if (it->key == kDirectiveMarker || it->key == kRetainKeysDirective ||
          starts_with(it->key, std::string(kSetElementOrderPrefix) + "/") ||
          starts_with(it->key, std::string(kDeleteFromPrimitiveListPrefix) + "/")) {
        it = o.erase(it);
      } else {
        strip_directive_keys(it->value);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) {
      strip_directive_keys(item);
    }
  }
}

// A value set from the patch where the original has nothing to merge with.
std::optional<Value> take_from_patch(Value v) {
  discard_nulls(v);
  if (!remove_directives(v)) {
    return std::nullopt;
  }
  strip_directive_keys(v);
  return v;
}

// The element "kind" of upstream's sliceElementType (Go types: int64 and float64 differ).
enum class ElemKind { kMap, kScalar };

Result<ElemKind> slice_element_kind(std::initializer_list<const Array*> slices) {
  std::optional<json::Type> prev;
  for (const Array* s : slices) {
    if (s == nullptr) {
      continue;
    }
    for (const auto& v : *s) {
      if (v.is_null()) {
        return internal("list elements must not be null");
      }
      if (!prev) {
        prev = v.type();
        if (v.is_array()) {
          return err_no_list_of_lists();
        }
      } else if (*prev != v.type()) {
        std::string all = "[";
        bool first = true;
        for (const Array* t : slices) {
          all += first ? "" : " ";
          first = false;
          all += t == nullptr ? "[]" : detail::go_format(Value(*t));
        }
        return internal("list element types are not identical: " + all + "]");
      }
    }
  }
  if (!prev) {
    return internal("no elements in any of the given slices");
  }
  return *prev == json::Type::kObject ? ElemKind::kMap : ElemKind::kScalar;
}

// The merge key value of a map item, or null (Go's nil for a missing key or a non-map).
const Value& key_of(const Value& item, const std::string& merge_key) {
  static const Value null_value;
  if (!item.is_object()) {
    return null_value;
  }
  const Value* v = item.as_object().find(merge_key);
  return v != nullptr ? *v : null_value;
}

// The first position of each item of a list (by merge key for maps, by value otherwise), so that
// upstream's linear index() lookups cost a logarithm here: lists may have many thousand items.
// PathElement::value orders JSON values consistently with their equality (1 and 1.0 are one key).
class Positions {
public:
  Positions(const Array& l, std::string merge_key, ElemKind kind)
      : key_(std::move(merge_key)), kind_(kind) {
    for (std::size_t i = 0; i < l.size(); ++i) {
      first_.emplace(PathElement::value(kind == ElemKind::kMap ? key_of(l[i], key_) : l[i]),
                     static_cast<int>(i));
    }
  }
  // index(): the position of `v`, or -1.
  int of(const Value& v) const {
    auto it = first_.find(PathElement::value(kind_ == ElemKind::kMap ? key_of(v, key_) : v));
    return it == first_.end() ? -1 : it->second;
  }

private:
  std::string key_;
  ElemKind kind_;
  std::map<PathElement, int> first_;
};

// findMapInSliceBasedOnKeyValue.
Result<int> find_map_by_key(const Array& l, const std::string& key, const Value& value) {
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (!l[i].is_object()) {
      return internal("value for key " + std::to_string(i) + " is not a map");
    }
    const Value* v = l[i].as_object().find(key);
    if (v != nullptr && *v == value) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<void> validate_merge_key_in_lists(const std::string& merge_key,
                                         std::initializer_list<const Array*> lists) {
  for (const Array* l : lists) {
    for (const auto& item : *l) {
      if (!item.is_object()) {
        return err_bad_arg_type(kMapType, item);
      }
      if (!item.as_object().contains(merge_key)) {
        return err_no_merge_key(item, merge_key);
      }
    }
  }
  return {};
}

// extractToDeleteItems.
Result<std::pair<Array, Array>> split_delete_items(Array l) {
  std::pair<Array, Array> out;
  for (auto& v : l) {
    if (!v.is_object()) {
      return err_bad_arg_type(kMapType, v);
    }
    const Value* d = v.as_object().find(kDirectiveMarker);
    if (d != nullptr && is_directive(*d, kDelete)) {
      out.second.push_back(std::move(v));
    } else {
      out.first.push_back(std::move(v));
    }
  }
  return out;
}

// normalizeSliceOrder: `to_sort` in the order of `order` (stable), delete directives last. Every
// item is found in `order` on the paths that reach here with well-formed input; others sort last.
Result<Array> normalize_slice_order(Array to_sort, const Array& order, const std::string& merge_key,
                                    ElemKind kind) {
  Array to_delete;
  if (kind == ElemKind::kMap) {
    if (auto r = validate_merge_key_in_lists(merge_key, {&to_sort, &order}); !r) {
      return r.error();
    }
    auto split = split_delete_items(std::move(to_sort));
    if (!split) {
      return split.error();
    }
    to_sort = std::move(split->first);
    to_delete = std::move(split->second);
  }
  std::vector<std::pair<int, std::size_t>> keys;
  keys.reserve(to_sort.size());
  const Positions positions(order, merge_key, kind);
  for (std::size_t i = 0; i < to_sort.size(); ++i) {
    const int idx = positions.of(to_sort[i]);
    keys.emplace_back(idx < 0 ? INT_MAX : idx, i);
  }
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Array out;
  out.reserve(to_sort.size() + to_delete.size());
  for (const auto& k : keys) {
    out.push_back(std::move(to_sort[k.second]));
  }
  for (auto& d : to_delete) {
    out.push_back(std::move(d));
  }
  return out;
}

// mergeSortedSlice: interleaves server-only items (`left`) into patch items (`right`), keeping both
// relative orders; a left item goes first when both are in `server_order` and it comes earlier
// there.
Array merge_sorted_slice(Array left, Array right, const Array& server_order,
                         const std::string& merge_key, ElemKind kind) {
  const std::size_t size = left.size() + right.size();
  Array out;
  out.reserve(size);
  std::size_t i = 0;
  std::size_t j = 0;
  const Positions positions(server_order, merge_key, kind);
  for (std::size_t k = 0; k < size; ++k) {
    if (i >= left.size() && j < right.size()) {
      out.push_back(std::move(right[j++]));
    } else if (j >= right.size() && i < left.size()) {
      out.push_back(std::move(left[i++]));
    } else {
      const int li = positions.of(left[i]);
      const int ri = positions.of(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(std::move(left[i++]));
      } else {
        out.push_back(std::move(right[j++]));
      }
    }
  }
  return out;
}

// normalizeElementOrder.
Result<Array> normalize_element_order(Array patch, Array server_only, const Array& patch_order,
                                      const Array& server_order, const std::string& merge_key,
                                      ElemKind kind) {
  auto p = normalize_slice_order(std::move(patch), patch_order, merge_key, kind);
  if (!p) {
    return p.error();
  }
  auto s = normalize_slice_order(std::move(server_only), server_order, merge_key, kind);
  if (!s) {
    return s.error();
  }
  return merge_sorted_slice(std::move(*s), std::move(*p), server_order, merge_key, kind);
}

// partitionPrimitivesByPresentInList / partitionMapsByPresentInList.
Result<std::pair<Array, Array>> partition(Array merged, const Array& by,
                                          const std::string& merge_key) {
  std::pair<Array, Array> out;
  // Indexed lookups, except when `by` holds a non-map: then the linear search reports it as
  // upstream.
  const bool all_maps =
      std::all_of(by.begin(), by.end(), [](const Value& v) { return v.is_object(); });
  std::optional<Positions> positions;
  if (merge_key.empty()) {
    positions.emplace(by, merge_key, ElemKind::kScalar);
  } else if (all_maps) {
    positions.emplace(by, merge_key, ElemKind::kMap);
  }
  for (auto& v : merged) {
    bool present = false;
    if (merge_key.empty()) {
      present = positions->of(v) >= 0;
    } else {
      if (!v.is_object()) {
        return err_bad_arg_type(kMapType, v);
      }
      const Value* key = v.as_object().find(merge_key);
      if (key == nullptr) {
        return err_no_merge_key(v, merge_key);
      }
      if (positions) {
        // A map lacking the key never matches a present one; key_of(null) stands for "missing".
        present = positions->of(v) >= 0 &&
                  by[static_cast<std::size_t>(positions->of(v))].as_object().contains(merge_key);
      } else {
        auto found = find_map_by_key(by, merge_key, *key);
        if (!found) {
          return found.error();
        }
        present = *found >= 0;
      }
    }
    (present ? out.first : out.second).push_back(std::move(v));
  }
  return out;
}

// mergeKeyValueEqual.
Result<bool> merge_key_value_equal(const Value& left, const Value& right, const std::string& key) {
  if (key.empty()) {
    return left == right;
  }
  if (!left.is_object()) {
    return err_bad_arg_type(kMapType, left);
  }
  if (!right.is_object()) {
    return err_bad_arg_type(kMapType, right);
  }
  const Value* l = left.as_object().find(key);
  if (l == nullptr) {
    return err_no_merge_key(left, key);
  }
  const Value* r = right.as_object().find(key);
  if (r == nullptr) {
    return err_no_merge_key(right, key);
  }
  return *l == *r;
}

bool has_directive_marker(const Value& v) {
  return v.is_object() && v.as_object().contains(kDirectiveMarker);
}

// validatePatchWithSetOrderList: the patch list's items appear in the $setElementOrder list, in its
// relative order.
Result<void> validate_set_order(const Array& patch_list, const Array& order,
                                const std::string& key) {
  if (order.empty() || patch_list.empty()) {
    return {};
  }
  Array non_delete;
  if (!key.empty()) {
    auto split = split_delete_items(patch_list);
    if (!split) {
      return split.error();
    }
    non_delete = std::move(split->first);
  } else {
    non_delete = patch_list;
  }
  std::size_t pi = 0;
  std::size_t oi = 0;
  while (pi < non_delete.size() && oi < order.size()) {
    if (has_directive_marker(non_delete[pi])) {
      ++pi;
      continue;
    }
    auto eq = merge_key_value_equal(non_delete[pi], order[oi], key);
    if (!eq) {
      return eq.error();
    }
    if (*eq) {
      ++pi;
    }
    ++oi;
  }
  if (pi < non_delete.size() && oi >= order.size()) {
    return internal("The order in patch list:\n" + detail::go_format(Value(patch_list)) +
                    "\n doesn't match $setElementOrder list:\n" + detail::go_format(Value(order)) +
                    "\n");
  }
  return {};
}

std::string schema_name(const Node* elem) {
  if (elem == nullptr) {
    return "interface";
  }
  return elem->kind == Kind::kMap ? "map" : "struct";
}

class Merger {
public:
  // mergeMap. `original` is an object or null; `patch` an object.
  Result<Value> merge_map(Value original, Value patch, const Node* schema) {
    if (++depth_ > kMaxDepth) {
      return internal("strategic merge patch nests too deeply");
    }
    auto result = merge_map_inner(std::move(original), std::move(patch), schema);
    --depth_;
    return result;
  }

private:
  static constexpr int kMaxDepth = 1000;

  Result<Value> merge_map_inner(Value original_v, Value patch_v, const Node* schema) {
    auto& patch = patch_v.as_object();
    if (const Value* directive = patch.find(kDirectiveMarker)) {
      if (is_directive(*directive, kReplace)) {
        patch.erase(kDirectiveMarker);
        // Nested directives of a replacing map are processed against nothing, the way the typed
        // decoding upstream ends up treating them.
        return merge_map(Value::object(), std::move(patch_v), schema);
      }
      if (is_directive(*directive, kDelete)) {
        return Value::object();
      }
      return err_bad_patch_type(*directive, patch_v);
    }
    if (!original_v.is_object()) {
      original_v = Value::object();
    }
    auto& original = original_v.as_object();
    if (auto r = apply_retain_keys(original, patch); !r) {
      return r.error();
    }
    if (auto r = merge_set_element_order(original, patch, schema); !r) {
      return r.error();
    }
    for (auto& member : patch) {
      std::string key = member.key;
      Value& patch_value = member.value;
      bool delete_list = false;
      if (starts_with(key, kDeleteFromPrimitiveListPrefix)) {
        auto k = extract_key(key, kDeleteFromPrimitiveListPrefix);
        if (!k) {
          return k.error();
        }
        key = std::move(*k);
        delete_list = true;
      }
      if (patch_value.is_null()) {
        original.erase(key);
        continue;
      }
      Value* cur = original.find(key);
      if (cur == nullptr || cur->type() != patch_value.type()) {
        if (!delete_list) {
          if (auto taken = take_from_patch(std::move(patch_value))) {
            original.set(key, std::move(*taken));
          } else {
            original.erase(key);
          }
        }
        continue;
      }
      if (cur->is_object()) {
        const Meta meta = lookup_struct(schema, key);
        auto strategy = other_strategy(meta.strategies);
        if (!strategy) {
          return strategy.error();
        }
        if (*strategy == kReplace) {
          *cur = std::move(patch_value);
          continue;
        }
        auto merged = merge_map(std::move(*cur), std::move(patch_value), meta.node);
        if (!merged) {
          return merged.error();
        }
        *original.find(key) = std::move(*merged);
      } else if (cur->is_array()) {
        const Meta meta = lookup_slice(schema, key);
        auto strategy = other_strategy(meta.strategies);
        if (!strategy) {
          return strategy.error();
        }
        auto merged =
            merge_slice_handler(std::move(cur->as_array()), std::move(patch_value.as_array()),
                                meta.node, *strategy, meta.merge_key, delete_list);
        if (!merged) {
          return merged.error();
        }
        *original.find(key) = Value(std::move(*merged));
      } else {
        *cur = std::move(patch_value);
      }
    }
    return original_v;
  }

  // applyRetainKeysDirective.
  static Result<void> apply_retain_keys(Object& original, Object& patch) {
    const Value* retain = patch.find(kRetainKeysDirective);
    if (retain == nullptr) {
      return {};
    }
    Value list = *retain;
    patch.erase(kRetainKeysDirective);
    if (!list.is_array()) {
      return err_bad_format_retain_keys();
    }
    const auto& keys = list.as_array();
    auto retained = [&](std::string_view k) {
      return std::any_of(keys.begin(), keys.end(),
                         [&](const Value& v) { return v.is_string() && v.as_string() == k; });
    };
    for (const auto& m : patch) {
      if (m.value.is_null() || starts_with(m.key, kDeleteFromPrimitiveListPrefix) ||
          starts_with(m.key, kSetElementOrderPrefix)) {
        continue;
      }
      if (!retained(m.key)) {
        return err_bad_format_retain_keys();
      }
    }
    for (auto it = original.begin(); it != original.end();) {
      if (!retained(it->key)) {
        it = original.erase(it);
      } else {
        ++it;
      }
    }
    return {};
  }

  // mergePatchIntoOriginal: each $setElementOrder/<list> with its list, merged and put in order.
  Result<void> merge_set_element_order(Object& original, Object& patch, const Node* schema) {
    std::vector<std::string> directive_keys;
    for (const auto& m : patch) {
      if (starts_with(m.key, kSetElementOrderPrefix)) {
        directive_keys.push_back(m.key);
      }
    }
    for (const auto& directive_key : directive_keys) {
      Value order_v = *patch.find(directive_key);
      patch.erase(directive_key);
      if (!order_v.is_array()) {
        return err_bad_arg_type(kSliceType, order_v);
      }
      const Array& order = order_v.as_array();
      auto key = extract_key(directive_key, kSetElementOrderPrefix);
      if (!key) {
        return key.error();
      }
      const Value* original_list = original.find(*key);
      const Value* patch_list = patch.find(*key);
      if (original_list != nullptr && !original_list->is_array()) {
        return err_bad_arg_type(kSliceType, *original_list);
      }
      if (patch_list != nullptr && !patch_list->is_array()) {
        return err_bad_arg_type(kSliceType, *patch_list);
      }
      const Meta meta = lookup_slice(schema, *key);
      auto strategy = other_strategy(meta.strategies);
      if (!strategy) {
        return strategy.error();
      }
      const Array empty;
      const Array& original_items = original_list != nullptr ? original_list->as_array() : empty;
      const Array& patch_items = patch_list != nullptr ? patch_list->as_array() : empty;
      if (auto r = validate_set_order(patch_items, order, meta.merge_key); !r) {
        return r.error();
      }
      Array merged;
      Array server_view = original_items;  // the original as Go's shared slice leaves it
      if (original_list != nullptr && patch_list == nullptr) {
        merged = original_items;
      } else if (original_list == nullptr && patch_list != nullptr) {
        merged = std::move(take_from_patch(*patch_list)->as_array());
      } else if (original_list != nullptr && patch_list != nullptr) {
        auto m = merge_slice_handler(original_items, patch_items, meta.node, *strategy,
                                     meta.merge_key, false, &server_view);
        if (!m) {
          return m.error();
        }
        merged = std::move(*m);
      } else {
        continue;
      }
      auto parts = partition(std::move(merged), order, meta.merge_key);
      if (!parts) {
        return parts.error();
      }
      auto kind = slice_element_kind({&server_view, &patch_items});
      if (!kind) {
        return kind.error();
      }
      auto both = normalize_element_order(std::move(parts->first), std::move(parts->second), order,
                                          server_view, meta.merge_key, *kind);
      if (!both) {
        return both.error();
      }
      original.set(*key, Value(std::move(*both)));
      patch.erase(*key);
    }
    return {};
  }

  // mergeSliceHandler. `view`: see merge_slice.
  Result<Array> merge_slice_handler(Array original, Array patch, const Node* elem,
                                    const std::string& strategy, const std::string& merge_key,
                                    bool delete_list, Array* view = nullptr) {
    if (strategy == kMerge || delete_list) {
      return merge_slice(std::move(original), std::move(patch), elem, merge_key, delete_list, view);
    }
    // Replaced wholesale; what typed decoding would drop goes here too.
    Value v(std::move(patch));
    discard_nulls(v);
    strip_directive_keys(v);
    return std::move(v.as_array());
  }

  // mergeSlice. Upstream works on Go slices that share their backing array with the caller's copy
  // of the original list: deleting items compacts that array in place and appending reuses the
  // freed slots until its capacity (the original length: the server's lists come from the
  // unstructured converter, which allocates exactly) runs out. mergePatchIntoOriginal then orders
  // the result by that mutated array, and clients see the consequences in the result's order. When
  // `view` is given (a copy of `original`), it receives the same writes.
  Result<Array> merge_slice(Array original, Array patch, const Node* elem,
                            const std::string& merge_key, bool delete_list, Array* view) {
    if (original.empty() && patch.empty()) {
      return original;
    }
    auto kind = slice_element_kind({&original, &patch});
    if (!kind) {
      return kind.error();
    }
    if (*kind == ElemKind::kScalar) {
      if (delete_list) {
        Array kept;
        for (auto& v : original) {
          if (std::find(patch.begin(), patch.end(), v) == patch.end()) {
            kept.push_back(std::move(v));
          }
        }
        return kept;
      }
      Array merged;
      for (auto* src : {&original, &patch}) {
        for (const auto& v : *src) {
          if (std::find(merged.begin(), merged.end(), v) == merged.end()) {
            merged.push_back(v);
          }
        }
      }
      auto parts = partition(std::move(merged), patch, merge_key);
      if (!parts) {
        return parts.error();
      }
      return normalize_element_order(std::move(parts->first), std::move(parts->second), patch,
                                     original, merge_key, *kind);
    }
    if (merge_key.empty()) {
      return internal("cannot merge lists without merge key for " + schema_name(elem));
    }
    const std::size_t capacity = original.size();
    Array backing = std::move(original);
    std::size_t live = capacity;
    // mergeSliceWithSpecialElements: `$patch: delete` items compact the live prefix in place (the
    // last slot keeps a stale copy, as Go's append(s[:i], s[i+1:]...) leaves it); `$patch: replace`
    // makes the remaining plain items the whole list.
    Array plain;
    bool replace = false;
    for (auto& v : patch) {
      const Value* directive = v.as_object().find(kDirectiveMarker);
      if (directive == nullptr) {
        plain.push_back(std::move(v));
        continue;
      }
      if (is_directive(*directive, kDelete)) {
        const Value* key = v.as_object().find(merge_key);
        if (key == nullptr) {
          return err_no_merge_key(v, merge_key);
        }
        while (true) {
          const Array live_items(backing.begin(),
                                 backing.begin() + static_cast<std::ptrdiff_t>(live));
          auto found = find_map_by_key(live_items, merge_key, *key);
          if (!found) {
            return found.error();
          }
          if (*found < 0) {
            break;
          }
          for (auto j = static_cast<std::size_t>(*found); j + 1 < live; ++j) {
            backing[j] = backing[j + 1];
          }
          --live;
        }
      } else if (is_directive(*directive, kReplace)) {
        replace = true;
      } else if (is_directive(*directive, kMerge)) {
        return internal("merging lists cannot yet be specified in the patch");
      } else {
        return err_bad_patch_type(*directive, v);
      }
    }
    Array work;
    Array server_order;
    std::vector<bool> from_patch;
    if (replace) {
      work = std::move(plain);
      plain.clear();
      from_patch.assign(work.size(), true);
    } else {
      work.assign(backing.begin(), backing.begin() + static_cast<std::ptrdiff_t>(live));
      from_patch.assign(work.size(), false);
    }
    // mergeSliceWithoutSpecialElements: a plain item merges into the item with its key, or is
    // appended (into a freed slot of the shared array while there is one).
    bool reallocated = replace;
    // findMapInSliceBasedOnKeyValue over `work`, indexed (every item is a map here).
    std::map<PathElement, std::size_t> by_key;
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (const Value* k = work[i].as_object().find(merge_key)) {
        by_key.emplace(PathElement::value(*k), i);
      }
    }
    for (const auto& v : plain) {
      const Value* key = v.as_object().find(merge_key);
      if (key == nullptr) {
        return err_no_merge_key(v, merge_key);
      }
      auto found = by_key.find(PathElement::value(*key));
      if (found != by_key.end()) {
        const auto i = found->second;
        auto merged = merge_map(std::move(work[i]), v, elem);
        if (!merged) {
          return merged.error();
        }
        work[i] = std::move(*merged);
        continue;
      }
      by_key.emplace(PathElement::value(*key), work.size());
      work.push_back(v);
      from_patch.push_back(true);
      if (!reallocated) {
        if (work.size() <= capacity) {
          backing[work.size() - 1] = v;
        } else {
          reallocated = true;
        }
      }
    }
    // Items that come straight from the patch are decoded against nothing, so that their own
    // nested directives and nulls are handled.
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (from_patch[i]) {
        auto cleaned = merge_map(Value::object(), std::move(work[i]), elem);
        if (!cleaned) {
          return cleaned.error();
        }
        work[i] = std::move(*cleaned);
      }
    }
    if (replace) {
      server_order = work;
    } else {
      server_order.assign(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(live));
    }
    if (view != nullptr) {
      *view = std::move(backing);
    }
    auto parts = partition(std::move(work), plain, merge_key);
    if (!parts) {
      return parts.error();
    }
    return normalize_element_order(std::move(parts->first), std::move(parts->second), plain,
                                   server_order, merge_key, *kind);
  }

  int depth_ = 0;
};

}  // namespace

Result<json::Value> apply_strategic_merge_patch(json::Value original, const json::Value& patch,
                                                const Node* schema) {
  if (patch.is_null()) {
    return original;  // upstream decodes a null patch into an empty map
  }
  if (!patch.is_object()) {
    return errors::bad_request("json: cannot unmarshal " +
                               std::string(json::type_name(patch.type())) +
                               " into Go value of type map[string]interface {}");
  }
  if (!original.is_object()) {
    return errors::make(Reason::kBadRequest, "invalid JSON document");
  }
  Merger merger;
  return merger.merge_map(std::move(original), patch, schema);
}

}  // namespace skiff::registry
