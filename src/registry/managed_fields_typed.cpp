// SPDX-License-Identifier: Apache-2.0
// structured-merge-diff's typed walkers (ToFieldSet, Compare, Merge, RemoveItems, validation) over
// json::Value trees typed by schema Nodes. The walkers follow upstream's rules node by node because
// the field sets they produce are stored in managedFields and compared with other servers' output.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "managed_fields_internal.hpp"
#include "patch_internal.hpp"

namespace skiff::registry::detail {
namespace {

using json::Value;

// ---- schema atoms ----

enum class AtomType : std::uint8_t { kScalar, kList, kMap };

// What a node means for one value: upstream's schema.Atom after deduceAtom.
struct Atom {
  AtomType type = AtomType::kScalar;
  const Node* node = nullptr;  // the list or map node; nullptr for deduced content
  bool atomic = false;
  bool associative = false;  // lists: set or map
  std::vector<std::string> keys;

  bool same_as(const Atom& o) const {
    return type == o.type && node == o.node && atomic == o.atomic && associative == o.associative &&
           keys == o.keys;
  }
};

bool deduced(const Node* n) {
  return n == nullptr || n->kind == Kind::kAny;
}

// List semantics: x-kubernetes-list-type, falling back (as kube-openapi's schema conversion does)
// to the patch strategy: "merge" with a merge key is a map keyed by it, "merge" alone a set.
void list_semantics(const Node* n, Atom& a) {
  switch (n->list_type) {
    case ListType::kAtomic:
      a.atomic = true;
      return;
    case ListType::kSet:
      a.associative = true;
      return;
    case ListType::kMap:
      a.associative = true;
      a.keys = n->list_map_keys;
      return;
    case ListType::kUnset:
      break;
  }
  if (n->patch_strategy == "merge" || n->patch_strategy == "merge,retainKeys") {
    a.associative = true;
    if (!n->patch_merge_key.empty()) {
      a.keys = {n->patch_merge_key};
    }
    return;
  }
  a.atomic = true;
}

Atom atom_for(const Node* n, const Value& v) {
  Atom a;
  if (deduced(n)) {
    if (v.is_object() || v.is_null()) {
      a.type = AtomType::kMap;
    } else if (v.is_array()) {
      a.type = AtomType::kList;
      a.atomic = true;
    }
    return a;
  }
  switch (n->kind) {
    case Kind::kObject:
    case Kind::kMap:
      if (v.is_object() || v.is_null()) {
        a.type = AtomType::kMap;
        a.node = n;
        a.atomic = n->map_type == MapType::kAtomic;
      }
      return a;
    case Kind::kArray:
      if (v.is_array() || v.is_null()) {
        a.type = AtomType::kList;
        a.node = n;
        list_semantics(n, a);
      }
      return a;
    default:
      return a;
  }
}

// The type of member `key` of a map atom. `declared`: a struct field (upstream's FindField);
// `known`: the schema accounts for the key (declared, map value, preserved unknown or deduced).
struct Member {
  const Node* node = nullptr;
  bool declared = false;
  bool known = true;
};

Member member_of(const Atom& map, std::string_view key) {
  Member m;
  if (map.node == nullptr) {
    return m;
  }
  if (map.node->kind == Kind::kMap) {
    m.node = map.node->items;
    return m;
  }
  if (const Field* f = find_field(map.node, key)) {
    m.node = f->node;
    m.declared = true;
    return m;
  }
  m.known = map.node->preserve_unknown_fields;
  return m;
}

const Node* element_of(const Atom& list) {
  return list.node != nullptr ? list.node->items : nullptr;
}

// listItemToPathElement.
Result<PathElement> item_element(const Atom& list, const Value& item) {
  if (!list.keys.empty()) {
    if (item.is_null()) {
      return errors::make(Reason::kInvalid,
                          "associative list with keys may not have a null element");
    }
    if (!item.is_object()) {
      return errors::make(Reason::kInvalid,
                          "associative list with keys may not have non-map elements");
    }
    PathElement::KeyFields fields;
    const Node* elem = element_of(list);
    for (const auto& key : list.keys) {
      if (const Value* v = item.as_object().find(key)) {
        fields.emplace_back(key, *v);
        continue;
      }
      const Field* f = find_field(elem, key);
      if (f != nullptr && f->node != nullptr && f->node->default_value) {
        fields.emplace_back(key, *f->node->default_value);
        continue;
      }
      return errors::make(Reason::kInvalid,
                          "associative list with keys has an element that omits key field " +
                              go_quote(key) + " (and doesn't have default value)");
    }
    return PathElement::key(std::move(fields));
  }
  if (item.is_object()) {
    return errors::make(Reason::kInvalid,
                        "associative list without keys has an element that's a map type");
  }
  if (item.is_array()) {
    return errors::make(Reason::kInvalid, "not supported: associative list with lists as elements");
  }
  if (item.is_null()) {
    return errors::make(Reason::kInvalid,
                        "associative list without keys has an element that's an explicit null");
  }
  return PathElement::value(item);
}

// Collects paths and builds the set in sorted order, so every insertion appends.
class PathCollector {
public:
  void insert(const FieldPath& p) {
    if (!p.empty()) {
      paths_.push_back(p);
    }
  }
  FieldSet build() {
    std::sort(paths_.begin(), paths_.end(), [](const FieldPath& a, const FieldPath& b) {
      return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
    });
    FieldSet out;
    for (const auto& p : paths_) {
      out.insert(p);
    }
    paths_.clear();
    return out;
  }

private:
  std::vector<FieldPath> paths_;
};

FieldPath with(const FieldPath& path, const PathElement& pe) {
  FieldPath p = path;
  p.push_back(pe);
  return p;
}

// ---- validation ----

// fmt's %v of upstream's value.Value wrapper (&{...}) and %#v forms, for type errors.
std::string wrapped(const Value& v) {
  return "&{" + go_format(v) + "}";
}
std::string go_sharp(const Value& v) {
  switch (v.type()) {
    case json::Type::kString:
      return go_quote(v.as_string());
    case json::Type::kNull:
      return "interface {}(nil)";
    case json::Type::kArray:
      return "[]interface {}{...}";
    case json::Type::kObject:
      return "map[string]interface {}{...}";
    default:
      return go_format(v);
  }
}
std::string go_type_of(const Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "<nil>";
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

class Validator {
public:
  explicit Validator(bool allow_duplicates) : allow_duplicates_(allow_duplicates) {}

  void validate(const Node* n, const Value& v, const std::string& path) {
    if (errors_.size() >= 100) {
      return;
    }
    if (v.is_null()) {
      return;
    }
    if (deduced(n)) {
      if (v.is_object()) {
        Atom a;
        a.type = AtomType::kMap;
        visit_map(a, v, path);
      }
      return;  // deduced lists are atomic and scalars are anything
    }
    switch (n->kind) {
      case Kind::kObject:
      case Kind::kMap:
        if (!v.is_object()) {
          add(path, "expected map, got " + wrapped(v));
          return;
        }
        visit_map(atom_for(n, v), v, path);
        return;
      case Kind::kArray:
        if (!v.is_array()) {
          add(path, "expected list, got " + wrapped(v));
          return;
        }
        visit_list(atom_for(n, v), v, path);
        return;
      case Kind::kString:
      case Kind::kBytes:
        if (!v.is_string()) {
          add(path, "expected string, got &value.valueUnstructured{Value:" + go_sharp(v) + "}");
        }
        return;
      case Kind::kInteger:
      case Kind::kNumber:
        if (!v.is_number()) {
          add(path, "expected numeric (int or float), got " + go_type_of(v));
        }
        return;
      case Kind::kBoolean:
        if (!v.is_bool()) {
          add(path, "expected boolean, got " + wrapped(v));
        }
        return;
      default:
        if (v.is_object() || v.is_array()) {
          add(path, "expected any scalar, got " + wrapped(v));
        }
        return;
    }
  }

  std::string text() const {
    if (errors_.empty()) {
      return {};
    }
    if (errors_.size() == 1) {
      return errors_[0];
    }
    std::string out = "errors:";
    for (const auto& e : errors_) {
      out += "\n  " + e;
    }
    return out;
  }

private:
  void add(const std::string& path, std::string message) {
    errors_.push_back(path.empty() ? std::move(message) : path + ": " + message);
  }

  void visit_map(const Atom& a, const Value& v, const std::string& path) {
    for (const auto& m : v.as_object()) {
      const Member member = member_of(a, m.key);
      const std::string child = path + "." + m.key;
      if (!member.known) {
        add(child, "field not declared in schema");
        return;  // upstream stops at the first undeclared member of a map
      }
      validate(member.node, m.value, child);
    }
  }

  void visit_list(const Atom& a, const Value& v, const std::string& path) {
    const auto& items = v.as_array();
    std::set<PathElement> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      PathElement pe = PathElement::index(static_cast<std::int64_t>(i));
      if (a.associative) {
        auto r = item_element(a, items[i]);
        if (!r) {
          add(path, "element " + std::to_string(i) + ": " + r.error().message);
          return;
        }
        pe = std::move(*r);
        if (!seen.insert(pe).second && !allow_duplicates_) {
          add(path, "duplicate entries for key " + pe.to_string());
        }
      }
      validate(element_of(a), items[i], path + pe.to_string());
    }
  }

  bool allow_duplicates_;
  std::vector<std::string> errors_;
};

// ---- ToFieldSet ----

void tfs(const Node* n, const Value& v, FieldPath& path, PathCollector& out);

void tfs_list(const Atom& a, const Value& v, FieldPath& path, PathCollector& out) {
  const auto& items = v.as_array();
  std::vector<std::optional<PathElement>> pes;
  pes.reserve(items.size());
  for (const auto& item : items) {
    auto r = item_element(a, item);
    pes.push_back(r ? std::optional<PathElement>(std::move(*r)) : std::nullopt);
  }
  // Duplicated keys are recorded as the item only, without descending (upstream's duplicates rule).
  std::set<PathElement> seen;
  std::set<PathElement> duplicates;
  for (const auto& pe : pes) {
    if (!pe) {
      continue;
    }
    if (!seen.insert(*pe).second && duplicates.insert(*pe).second) {
      out.insert(with(path, *pe));
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!pes[i] || duplicates.count(*pes[i]) != 0) {
      continue;
    }
    path.push_back(*pes[i]);
    tfs(element_of(a), items[i], path, out);
    out.insert(path);
    path.pop_back();
  }
}

void tfs(const Node* n, const Value& v, FieldPath& path, PathCollector& out) {
  const Atom a = atom_for(n, v);
  switch (a.type) {
    case AtomType::kScalar:
      out.insert(path);
      return;
    case AtomType::kList:
      if (a.atomic) {
        out.insert(path);
        return;
      }
      if (v.is_array()) {
        tfs_list(a, v, path, out);
      }
      return;
    case AtomType::kMap:
      if (a.atomic) {
        out.insert(path);
        return;
      }
      if (!v.is_object()) {
        return;
      }
      for (const auto& m : v.as_object()) {
        const Member member = member_of(a, m.key);
        path.push_back(PathElement::field(m.key));
        tfs(member.node, m.value, path, out);
        if (m.value.is_null() || (m.value.is_object() && m.value.as_object().empty()) ||
            !member.declared) {
          out.insert(path);
        }
        path.pop_back();
      }
      return;
  }
}

// ---- Compare ----

class Comparer {
public:
  Comparison result() {
    Comparison c;
    c.removed = c_.removed.build();
    c.modified = c_.modified.build();
    c.added = c_.added.build();
    return c;
  }

  void compare(const Node* n, const Value* lhs, const Value* rhs, FieldPath& path) {
    bool in_leaf = false;
    const Atom al = lhs != nullptr ? atom_for(n, *lhs) : Atom{};
    const Atom ar = rhs != nullptr ? atom_for(n, *rhs) : Atom{};
    if (rhs == nullptr) {
      handle(al, lhs, rhs, path, in_leaf);
    } else if (lhs == nullptr || al.same_as(ar)) {
      handle(ar, lhs, rhs, path, in_leaf);
    } else {
      bool other_leaf = in_leaf;
      handle(al, lhs, rhs, path, other_leaf);
      handle(ar, lhs, rhs, path, in_leaf);
    }
    if (!in_leaf) {
      if (lhs == nullptr) {
        c_.added.insert(path);
      } else if (rhs == nullptr) {
        c_.removed.insert(path);
      }
    }
  }

private:
  void leaf(const Value* lhs, const Value* rhs, const FieldPath& path, bool& in_leaf) {
    if (in_leaf) {
      return;
    }
    in_leaf = true;
    if (lhs == nullptr) {
      c_.added.insert(path);
    } else if (rhs == nullptr) {
      c_.removed.insert(path);
    } else if (!(*lhs == *rhs)) {
      c_.modified.insert(path);
    }
  }

  void handle(const Atom& a, const Value* lhs, const Value* rhs, FieldPath& path, bool& in_leaf) {
    switch (a.type) {
      case AtomType::kScalar:
        leaf(lhs, rhs, path, in_leaf);
        return;
      case AtomType::kList: {
        const json::Array* l = lhs != nullptr && lhs->is_array() ? &lhs->as_array() : nullptr;
        const json::Array* r = rhs != nullptr && rhs->is_array() ? &rhs->as_array() : nullptr;
        const bool empty = (l == nullptr || l->empty()) && (r == nullptr || r->empty());
        if (a.atomic || empty) {
          leaf(lhs, rhs, path, in_leaf);
          return;
        }
        visit_list(a, l, r, path);
        return;
      }
      case AtomType::kMap: {
        const json::Object* l = lhs != nullptr && lhs->is_object() ? &lhs->as_object() : nullptr;
        const json::Object* r = rhs != nullptr && rhs->is_object() ? &rhs->as_object() : nullptr;
        const bool empty = (l == nullptr || l->empty()) && (r == nullptr || r->empty());
        if (a.atomic || empty) {
          leaf(lhs, rhs, path, in_leaf);
          return;
        }
        if (l != nullptr) {
          for (const auto& m : *l) {
            const Value* other = r != nullptr ? r->find(m.key) : nullptr;
            descend_member(a, m.key, &m.value, other, path);
          }
        }
        if (r != nullptr) {
          for (const auto& m : *r) {
            if (l == nullptr || l->find(m.key) == nullptr) {
              descend_member(a, m.key, nullptr, &m.value, path);
            }
          }
        }
        return;
      }
    }
  }

  void descend_member(const Atom& a, const std::string& key, const Value* l, const Value* r,
                      FieldPath& path) {
    path.push_back(PathElement::field(key));
    compare(member_of(a, key).node, l, r, path);
    path.pop_back();
  }

  struct Group {
    PathElement pe;
    std::vector<const Value*> lhs;
    std::vector<const Value*> rhs;
  };

  void visit_list(const Atom& a, const json::Array* l, const json::Array* r, FieldPath& path) {
    std::vector<Group> groups;
    std::map<PathElement, std::size_t> index;
    auto group_of = [&](const PathElement& pe) -> Group& {
      auto [it, added] = index.emplace(pe, groups.size());
      if (added) {
        groups.push_back(Group{pe, {}, {}});
      }
      return groups[it->second];
    };
    for (const json::Array* list : {l, r}) {
      if (list == nullptr) {
        continue;
      }
      for (const auto& item : *list) {
        auto pe = item_element(a, item);
        if (!pe) {
          continue;
        }
        Group& g = group_of(*pe);
        (list == l ? g.lhs : g.rhs).push_back(&item);
      }
    }
    const Node* elem = element_of(a);
    for (const auto& g : groups) {
      path.push_back(g.pe);
      if (g.lhs.size() <= 1 && g.rhs.size() <= 1) {
        compare(elem, g.lhs.empty() ? nullptr : g.lhs[0], g.rhs.empty() ? nullptr : g.rhs[0], path);
      } else if (g.lhs.size() >= 2 && g.rhs.size() >= 2) {
        bool equal = g.lhs.size() == g.rhs.size();
        for (std::size_t i = 0; equal && i < g.lhs.size(); ++i) {
          equal = *g.lhs[i] == *g.rhs[i];
        }
        if (!equal) {
          c_.modified.insert(path);
        }
      } else if (g.lhs.size() >= 2) {
        if (!g.rhs.empty()) {
          compare(elem, nullptr, g.rhs[0], path);
        }
        c_.removed.insert(path);
      } else {
        if (!g.lhs.empty()) {
          compare(elem, g.lhs[0], nullptr, path);
        }
        c_.added.insert(path);
      }
      path.pop_back();
    }
  }

  struct Collected {
    PathCollector removed;
    PathCollector modified;
    PathCollector added;
  };
  Collected c_;
};

// ---- Merge ----

std::optional<Value> merge(const Node* n, const Value* lhs, const Value* rhs);

std::optional<Value> merge_list(const Atom& a, const json::Array* lhs, const json::Array* rhs) {
  // Index both sides (upstream's indexListPathElements; the live side may hold duplicates).
  using Observed = std::map<PathElement, const Value*>;
  auto index = [&](const json::Array* list, std::vector<PathElement>& pes, Observed& observed,
                   std::vector<std::size_t>& positions) {
    if (list == nullptr) {
      return;
    }
    static const Value null_value;
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto pe = item_element(a, (*list)[i]);
      if (!pe) {
        continue;
      }
      auto [it, added] = observed.emplace(*pe, &(*list)[i]);
      if (!added) {
        it->second = &null_value;  // a duplicated key merges as null
      }
      pes.push_back(std::move(*pe));
      positions.push_back(i);
    }
  };
  std::vector<PathElement> lhs_pes;
  std::vector<PathElement> rhs_pes;
  Observed observed_lhs;
  Observed observed_rhs;
  std::vector<std::size_t> lhs_pos;
  std::vector<std::size_t> rhs_pos;
  index(rhs, rhs_pes, observed_rhs, rhs_pos);
  index(lhs, lhs_pes, observed_lhs, lhs_pos);
  auto get = [](const Observed& obs, const PathElement& pe) -> const Value* {
    auto it = obs.find(pe);
    return it == obs.end() ? nullptr : it->second;
  };
  auto has = [](const Observed& obs, const PathElement& pe) {
    return obs.count(pe) != 0;
  };
  // The order of items present on both sides follows the right-hand side.
  std::vector<const PathElement*> shared;
  for (const auto& pe : rhs_pes) {
    if (has(observed_lhs, pe)) {
      shared.push_back(&pe);
    }
  }
  std::size_t next_shared_i = 0;
  auto next_shared = [&]() -> const PathElement* {
    return next_shared_i < shared.size() ? shared[next_shared_i] : nullptr;
  };
  std::set<PathElement> merged_rhs;
  json::Array out;
  const Node* elem = element_of(a);
  auto emit = [&](const PathElement&, const Value* l, const Value* r) {
    if (auto v = merge(elem, l, r)) {
      out.push_back(std::move(*v));
    }
  };
  std::size_t li = 0;
  std::size_t ri = 0;
  while (li < lhs_pes.size() || ri < rhs_pes.size()) {
    if (li < lhs_pes.size() && ri < rhs_pes.size()) {
      const PathElement& pe = lhs_pes[li];
      if (pe == rhs_pes[ri]) {
        merged_rhs.insert(pe);
        emit(pe, get(observed_lhs, pe), get(observed_rhs, pe));
        ++li;
        ++ri;
        ++next_shared_i;
        continue;
      }
      if (has(observed_rhs, pe) && next_shared() != nullptr && !(*next_shared() == pe)) {
        ++li;
        continue;
      }
    }
    if (li < lhs_pes.size()) {
      const PathElement& pe = lhs_pes[li];
      if (!has(observed_rhs, pe)) {
        emit(pe, &(*lhs)[lhs_pos[li]], nullptr);
        ++li;
        continue;
      }
      if (merged_rhs.count(pe) != 0) {
        ++li;
      }
    }
    if (ri < rhs_pes.size()) {
      const PathElement& pe = rhs_pes[ri];
      merged_rhs.insert(pe);
      emit(pe, get(observed_lhs, pe), get(observed_rhs, pe));
      ++ri;
      if (next_shared() != nullptr && *next_shared() == pe) {
        ++next_shared_i;
      }
    }
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return Value(std::move(out));
}

std::optional<Value> merge(const Node* n, const Value* lhs, const Value* rhs) {
  const Atom al = lhs != nullptr ? atom_for(n, *lhs) : Atom{};
  const Atom ar = rhs != nullptr ? atom_for(n, *rhs) : Atom{};
  // When the two sides have different shapes upstream also walks the left one, without effect on
  // the result.
  const Atom& a = rhs == nullptr ? al : ar;
  auto keep_rhs = [&]() -> std::optional<Value> {
    if (rhs != nullptr) {
      return *rhs;
    }
    if (lhs != nullptr) {
      return *lhs;
    }
    return std::nullopt;
  };
  switch (a.type) {
    case AtomType::kScalar:
      return keep_rhs();
    case AtomType::kList: {
      const json::Array* l = lhs != nullptr && lhs->is_array() ? &lhs->as_array() : nullptr;
      const json::Array* r = rhs != nullptr && rhs->is_array() ? &rhs->as_array() : nullptr;
      const bool empty = (l == nullptr || l->empty()) && (r == nullptr || r->empty());
      if (a.atomic || empty) {
        return keep_rhs();
      }
      return merge_list(a, l, r);
    }
    case AtomType::kMap: {
      const json::Object* l = lhs != nullptr && lhs->is_object() ? &lhs->as_object() : nullptr;
      const json::Object* r = rhs != nullptr && rhs->is_object() ? &rhs->as_object() : nullptr;
      const bool empty = (l == nullptr || l->empty()) && (r == nullptr || r->empty());
      if (a.atomic || empty) {
        return keep_rhs();
      }
      json::Object out;
      // The live object's member order, then the configuration's new members.
      if (l != nullptr) {
        for (const auto& m : *l) {
          const Value* other = r != nullptr ? r->find(m.key) : nullptr;
          if (auto v = merge(member_of(a, m.key).node, &m.value, other)) {
            out.set(m.key, std::move(*v));
          }
        }
      }
      if (r != nullptr) {
        for (const auto& m : *r) {
          if (l != nullptr && l->find(m.key) != nullptr) {
            continue;
          }
          if (auto v = merge(member_of(a, m.key).node, nullptr, &m.value)) {
            out.set(m.key, std::move(*v));
          }
        }
      }
      if (out.empty()) {
        return std::nullopt;
      }
      return Value(std::move(out));
    }
  }
  return std::nullopt;
}

// ---- RemoveItems ----

Value remove_items(const Node* n, const Value& v, const FieldSet& remove) {
  const Atom a = atom_for(n, v);
  switch (a.type) {
    case AtomType::kScalar:
      return v;
    case AtomType::kList: {
      if (!v.is_array()) {
        return v;
      }
      const auto& items = v.as_array();
      if (items.empty() || a.atomic) {
        return {};
      }
      json::Array out;
      for (const auto& item : items) {
        auto pe = item_element(a, item);
        if (!pe) {
          out.push_back(item);
          continue;
        }
        if (remove.has(FieldPath{*pe})) {
          continue;
        }
        const FieldSet* sub = remove.child(*pe);
        if (sub != nullptr && !sub->empty()) {
          out.push_back(remove_items(element_of(a), item, *sub));
        } else {
          out.push_back(item);
        }
      }
      return out.empty() ? Value() : Value(std::move(out));
    }
    case AtomType::kMap: {
      if (!v.is_object()) {
        return v;
      }
      const auto& obj = v.as_object();
      if (obj.empty() || a.atomic) {
        return {};
      }
      json::Object out;
      for (const auto& m : obj) {
        const PathElement pe = PathElement::field(m.key);
        if (remove.has(FieldPath{pe})) {
          continue;
        }
        const FieldSet* sub = remove.child(pe);
        if (sub != nullptr && !sub->empty()) {
          out.set(m.key, remove_items(member_of(a, m.key).node, m.value, *sub));
        } else {
          out.set(m.key, m.value);
        }
      }
      return out.empty() ? Value() : Value(std::move(out));
    }
  }
  return v;
}

// ---- EnsureNamedFieldsAreMembers ----

// `node` is the type at this level; `opaque` marks a level upstream cannot resolve (below a set
// value or an index), where nothing is promoted.
FieldSet enfam(const FieldSet& s, const Node* node, bool opaque) {
  FieldSet out;
  for (const auto& m : s.members()) {
    out.insert(FieldPath{m});
  }
  const bool is_struct = !opaque && node != nullptr && node->kind == Kind::kObject;
  const bool is_map =
      !opaque && (deduced(node) || node->kind == Kind::kObject || node->kind == Kind::kMap);
  const bool is_list = !opaque && (deduced(node) || node->kind == Kind::kArray);
  for (const auto& c : s.children()) {
    const Node* child_node = nullptr;
    bool child_opaque = true;
    if (c.element.kind() == PathElement::Kind::kField && is_map) {
      if (is_struct) {
        if (const Field* f = find_field(node, c.element.field_name())) {
          out.insert(FieldPath{c.element});
          child_node = f->node;
          child_opaque = false;
        } else {
          child_opaque = !node->preserve_unknown_fields;
        }
      } else {
        child_node = deduced(node) ? nullptr : node->items;
        child_opaque = false;
      }
    } else if (c.element.kind() == PathElement::Kind::kKey && is_list) {
      child_node = deduced(node) ? nullptr : node->items;
      child_opaque = false;
    }
    const FieldSet sub = enfam(c.set, child_node, child_opaque);
    if (!sub.empty()) {
      out.descend(c.element) = out.descend(c.element).union_with(sub);
    }
  }
  return out;
}

// ---- typed decoding of the result ----

void strip_nulls(const Node* n, Value& v) {
  if (deduced(n)) {
    return;
  }
  if (v.is_object() && (n->kind == Kind::kObject || n->kind == Kind::kMap)) {
    auto& o = v.as_object();
    for (auto it = o.begin(); it != o.end();) {
      // Struct members only: a null struct field is an unset one, while a null map value is a
      // value (typed decoding would store the zero value under the key).
      const Node* child = nullptr;
      bool typed = true;
      bool member = false;
      if (n->kind == Kind::kMap) {
        child = n->items;
      } else if (const Field* f = find_field(n, it->key)) {
        child = f->node;
        member = true;
      } else {
        typed = false;  // preserved or unknown: left as it is
      }
      if (member && it->value.is_null()) {
        it = o.erase(it);
        continue;
      }
      if (typed) {
        strip_nulls(child, it->value);
      }
      ++it;
    }
  } else if (v.is_array() && n->kind == Kind::kArray) {
    const Node* elem = n->items;
    for (auto& item : v.as_array()) {
      if (item.is_null() && elem != nullptr && elem->kind == Kind::kObject) {
        item = Value::object();
      } else {
        strip_nulls(elem, item);
      }
    }
  }
}

}  // namespace

void Comparison::exclude(const FieldSet& exclude) {
  if (exclude.empty()) {
    return;
  }
  removed = removed.recursive_difference(exclude);
  modified = modified.recursive_difference(exclude);
  added = added.recursive_difference(exclude);
}

std::string validate_typed(const Node* root, const json::Value& object, bool allow_duplicates) {
  Validator v(allow_duplicates);
  v.validate(root, object, "");
  return v.text();
}

FieldSet to_field_set_typed(const Node* root, const json::Value& object) {
  PathCollector out;
  FieldPath path;
  tfs(root, object, path, out);
  return out.build();
}

Comparison compare_typed(const Node* root, const json::Value& lhs, const json::Value& rhs) {
  Comparer comparer;
  FieldPath path;
  comparer.compare(root, &lhs, &rhs, path);
  return comparer.result();
}

json::Value merge_typed(const Node* root, const json::Value& lhs, const json::Value& rhs) {
  auto v = merge(root, &lhs, &rhs);
  return v ? std::move(*v) : json::Value::object();
}

json::Value remove_items_typed(const Node* root, const json::Value& object,
                               const FieldSet& remove) {
  const json::Value out = remove_items(root, object, remove);
  return out.is_null() ? json::Value::object() : out;
}

FieldSet ensure_named_fields_are_members(const FieldSet& set, const Node* root) {
  return enfam(set, root, false);
}

void strip_typed_nulls(const Node* root, json::Value& object) {
  strip_nulls(root, object);
}

}  // namespace skiff::registry::detail
