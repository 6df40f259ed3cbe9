// SPDX-License-Identifier: Apache-2.0
// Field paths and field sets with structured-merge-diff's ordering, algebra and FieldsV1 encoding.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/registry/managed_fields.hpp"

#include "patch_internal.hpp"

namespace skiff::registry {
namespace {

int cmp_int(std::int64_t a, std::int64_t b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}
int cmp_double(double a, double b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}
int cmp_str(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// structured-merge-diff's value.Compare: numbers (ints and floats together), then strings,
// booleans, lists, maps, and null last.
int compare_values(const json::Value& l, const json::Value& r);

int rank(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kInt:
    case json::Type::kDouble:
      return 0;
    case json::Type::kString:
      return 1;
    case json::Type::kBool:
      return 2;
    case json::Type::kArray:
      return 3;
    case json::Type::kObject:
      return 4;
    case json::Type::kNull:
      return 5;
  }
  return 6;
}

int compare_values(const json::Value& l, const json::Value& r) {
  const int rl = rank(l);
  const int rr = rank(r);
  if (rl != rr) {
    return rl < rr ? -1 : 1;
  }
  switch (l.type()) {
    case json::Type::kInt:
    case json::Type::kDouble:
      if (l.is_int() && r.is_int()) {
        return cmp_int(l.as_int(), r.as_int());
      }
      return cmp_double(l.as_double(), r.as_double());
    case json::Type::kString:
      return cmp_str(l.as_string(), r.as_string());
    case json::Type::kBool:
      return l.as_bool() == r.as_bool() ? 0 : (l.as_bool() ? 1 : -1);
    case json::Type::kArray: {
      const auto& a = l.as_array();
      const auto& b = r.as_array();
      for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (const int c = compare_values(a[i], b[i]); c != 0) {
          return c;
        }
      }
      return cmp_int(static_cast<std::int64_t>(a.size()), static_cast<std::int64_t>(b.size()));
    }
    case json::Type::kObject: {
      std::vector<const json::Member*> a;
      std::vector<const json::Member*> b;
      for (const auto& m : l.as_object()) {
        a.push_back(&m);
      }
      for (const auto& m : r.as_object()) {
        b.push_back(&m);
      }
      auto by_key = [](const json::Member* x, const json::Member* y) {
        return x->key < y->key;
      };
      std::sort(a.begin(), a.end(), by_key);
      std::sort(b.begin(), b.end(), by_key);
      for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (const int c = cmp_str(a[i]->key, b[i]->key); c != 0) {
          return c;
        }
        if (const int c = compare_values(a[i]->value, b[i]->value); c != 0) {
          return c;
        }
      }
      return cmp_int(static_cast<std::int64_t>(a.size()), static_cast<std::int64_t>(b.size()));
    }
    case json::Type::kNull:
      return 0;
  }
  return 0;
}

// value.ToString, used by PathElement.String.
void value_to_string(const json::Value& v, std::string& out) {
  switch (v.type()) {
    case json::Type::kNull:
      out += "null";
      return;
    case json::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case json::Type::kInt:
      out += std::to_string(v.as_int());
      return;
    case json::Type::kDouble:
      out += detail::go_format_float(v.as_double());
      return;
    case json::Type::kString:
      out += detail::go_quote(v.as_string());
      return;
    case json::Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.as_array()) {
        out += first ? "" : ",";
        first = false;
        value_to_string(item, out);
      }
      out.push_back(']');
      return;
    }
    case json::Type::kObject:
      for (const auto& m : v.as_object()) {
        out += m.key + "=";
        value_to_string(m.value, out);
      }
      return;
  }
}

template <class T, class Less>
std::size_t lower(const std::vector<T>& v, const PathElement& pe, Less less) {
  return static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), pe, less) - v.begin());
}

const auto kChildLess = [](const FieldSet::Child& c, const PathElement& pe) {
  return c.element < pe;
};
const auto kMemberLess = [](const PathElement& a, const PathElement& b) {
  return a < b;
};

bool has_member(const std::vector<PathElement>& members, const PathElement& pe) {
  auto i = lower(members, pe, kMemberLess);
  return i < members.size() && members[i] == pe;
}

}  // namespace

// ---- PathElement ----

PathElement PathElement::field(std::string name) {
  PathElement pe;
  pe.kind_ = Kind::kField;
  pe.name_ = std::move(name);
  return pe;
}

PathElement PathElement::key(KeyFields fields) {
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PathElement pe;
  pe.kind_ = Kind::kKey;
  pe.key_ = std::move(fields);
  return pe;
}

PathElement PathElement::value(json::Value value) {
  PathElement pe;
  pe.kind_ = Kind::kValue;
  pe.value_ = std::move(value);
  return pe;
}

PathElement PathElement::index(std::int64_t index) {
  PathElement pe;
  pe.kind_ = Kind::kIndex;
  pe.index_ = index;
  return pe;
}

int PathElement::compare(const PathElement& other) const {
  if (kind_ != other.kind_) {
    return kind_ < other.kind_ ? -1 : 1;
  }
  switch (kind_) {
    case Kind::kField:
      return cmp_str(name_, other.name_);
    case Kind::kKey: {
      for (std::size_t i = 0;; ++i) {
        if (i >= key_.size() && i >= other.key_.size()) {
          return 0;
        }
        if (i >= key_.size()) {
          return -1;
        }
        if (i >= other.key_.size()) {
          return 1;
        }
        if (const int c = cmp_str(key_[i].first, other.key_[i].first); c != 0) {
          return c;
        }
        if (const int c = compare_values(key_[i].second, other.key_[i].second); c != 0) {
          return c;
        }
      }
    }
    case Kind::kValue:
      return compare_values(value_, other.value_);
    case Kind::kIndex:
      return cmp_int(index_, other.index_);
  }
  return 0;
}

std::string PathElement::to_string() const {
  std::string out;
  switch (kind_) {
    case Kind::kField:
      return "." + name_;
    case Kind::kKey:
      out.push_back('[');
      for (std::size_t i = 0; i < key_.size(); ++i) {
        out += (i ? "," : "") + key_[i].first + "=";
        value_to_string(key_[i].second, out);
      }
      out.push_back(']');
      return out;
    case Kind::kValue:
      out = "[=";
      value_to_string(value_, out);
      out.push_back(']');
      return out;
    case Kind::kIndex:
      return "[" + std::to_string(index_) + "]";
  }
  return "{{invalid path element}}";
}

std::string PathElement::serialize() const {
  std::string out;
  switch (kind_) {
    case Kind::kField:
      return "f:" + name_;
    case Kind::kKey: {
      out = "k:{";
      for (std::size_t i = 0; i < key_.size(); ++i) {
        out += i ? "," : "";
        detail::go_json_to(json::Value(key_[i].first), out);
        out.push_back(':');
        detail::go_json_to(key_[i].second, out);
      }
      out.push_back('}');
      return out;
    }
    case Kind::kValue:
      out = "v:";
      detail::go_json_to(value_, out);
      return out;
    case Kind::kIndex:
      return "i:" + std::to_string(index_);
  }
  return out;
}

Result<PathElement> PathElement::deserialize(std::string_view key) {
  if (key.size() < 2) {
    return errors::bad_request("key must be 2 characters long: " + std::string(key));
  }
  if (key[1] != ':') {
    return errors::bad_request("missing colon: " + std::string(key));
  }
  const std::string_view rest = key.substr(2);
  switch (key[0]) {
    case 'f':
      return field(std::string(rest));
    case 'v': {
      auto v = json::parse(rest);
      if (!v) {
        return errors::bad_request("parsing key as path element: " + v.error().message);
      }
      return value(std::move(*v));
    }
    case 'k': {
      auto v = json::parse(rest);
      if (!v || !v->is_object()) {
        return errors::bad_request("parsing key as path element: " +
                                   (v ? std::string("key is not an object") : v.error().message));
      }
      KeyFields fields;
      for (auto& m : v->as_object()) {
        fields.emplace_back(m.key, std::move(m.value));
      }
      return PathElement::key(std::move(fields));
    }
    case 'i': {
      std::int64_t i = 0;
      bool negative = false;
      std::string_view digits = rest;
      if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
      }
      if (digits.empty() || digits.size() > 18) {
        return errors::bad_request("parsing key as path element: bad index " + std::string(rest));
      }
      for (const char c : digits) {
        if (c < '0' || c > '9') {
          return errors::bad_request("parsing key as path element: bad index " + std::string(rest));
        }
        i = i * 10 + (c - '0');
      }
      return index(negative ? -i : i);
    }
    default:
      return errors::not_found("unknown path element type");
  }
}

std::string path_to_string(const FieldPath& path) {
  std::string out;
  for (const auto& pe : path) {
    out += pe.to_string();
  }
  return out;
}

FieldPath make_path(std::initializer_list<std::string_view> field_names) {
  FieldPath p;
  for (auto n : field_names) {
    p.push_back(PathElement::field(std::string(n)));
  }
  return p;
}

// ---- FieldSet ----

FieldSet::FieldSet() = default;
FieldSet::~FieldSet() = default;
FieldSet::FieldSet(const FieldSet& other) = default;
FieldSet::FieldSet(FieldSet&& other) noexcept = default;
FieldSet& FieldSet::operator=(const FieldSet& other) = default;
FieldSet& FieldSet::operator=(FieldSet&& other) noexcept = default;

FieldSet& FieldSet::descend(const PathElement& element) {
  // Paths mostly arrive in order (walkers sort them): appending is the common case.
  if (children_.empty() || children_.back().element < element) {
    children_.push_back(Child{element, FieldSet()});
    return children_.back().set;
  }
  auto i = lower(children_, element, kChildLess);
  if (i < children_.size() && children_[i].element == element) {
    return children_[i].set;
  }
  children_.insert(children_.begin() + static_cast<std::ptrdiff_t>(i), Child{element, FieldSet()});
  return children_[i].set;
}

const FieldSet* FieldSet::child(const PathElement& element) const {
  auto i = lower(children_, element, kChildLess);
  if (i < children_.size() && children_[i].element == element) {
    return &children_[i].set;
  }
  return nullptr;
}

void FieldSet::insert(const FieldPath& path) {
  if (path.empty()) {
    return;
  }
  FieldSet* s = this;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    s = &s->descend(path[i]);
  }
  auto& m = s->members_;
  if (m.empty() || m.back() < path.back()) {
    m.push_back(path.back());
    return;
  }
  auto i = lower(m, path.back(), kMemberLess);
  if (i == m.size() || !(m[i] == path.back())) {
    m.insert(m.begin() + static_cast<std::ptrdiff_t>(i), path.back());
  }
}

bool FieldSet::has(const FieldPath& path) const {
  if (path.empty()) {
    return false;
  }
  const FieldSet* s = this;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    s = s->child(path[i]);
    if (s == nullptr) {
      return false;
    }
  }
  return has_member(s->members_, path.back());
}

bool FieldSet::empty() const noexcept {
  if (!members_.empty()) {
    return false;
  }
  return std::all_of(children_.begin(), children_.end(),
                     [](const Child& c) { return c.set.empty(); });
}

std::size_t FieldSet::size() const noexcept {
  std::size_t n = members_.size();
  for (const auto& c : children_) {
    n += c.set.size();
  }
  return n;
}

FieldSet FieldSet::union_with(const FieldSet& other) const {
  FieldSet out;
  std::set_union(members_.begin(), members_.end(), other.members_.begin(), other.members_.end(),
                 std::back_inserter(out.members_), kMemberLess);
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < children_.size() || j < other.children_.size()) {
    if (j >= other.children_.size() ||
        (i < children_.size() && children_[i].element < other.children_[j].element)) {
      out.children_.push_back(children_[i++]);
    } else if (i >= children_.size() || other.children_[j].element < children_[i].element) {
      out.children_.push_back(other.children_[j++]);
    } else {
      out.children_.push_back(
          Child{children_[i].element, children_[i].set.union_with(other.children_[j].set)});
      ++i;
      ++j;
    }
  }
  return out;
}

FieldSet FieldSet::intersection(const FieldSet& other) const {
  FieldSet out;
  std::set_intersection(members_.begin(), members_.end(), other.members_.begin(),
                        other.members_.end(), std::back_inserter(out.members_), kMemberLess);
  for (const auto& c : children_) {
    if (const FieldSet* o = other.child(c.element)) {
      FieldSet r = c.set.intersection(*o);
      if (!r.empty()) {
        out.children_.push_back(Child{c.element, std::move(r)});
      }
    }
  }
  return out;
}

FieldSet FieldSet::difference(const FieldSet& other) const {
  FieldSet out;
  std::set_difference(members_.begin(), members_.end(), other.members_.begin(),
                      other.members_.end(), std::back_inserter(out.members_), kMemberLess);
  for (const auto& c : children_) {
    if (const FieldSet* o = other.child(c.element)) {
      FieldSet r = c.set.difference(*o);
      if (!r.empty()) {
        out.children_.push_back(Child{c.element, std::move(r)});
      }
    } else if (!c.set.empty()) {
      out.children_.push_back(c);
    }
  }
  return out;
}

FieldSet FieldSet::recursive_difference(const FieldSet& other) const {
  FieldSet out;
  std::set_difference(members_.begin(), members_.end(), other.members_.begin(),
                      other.members_.end(), std::back_inserter(out.members_), kMemberLess);
  for (const auto& c : children_) {
    if (has_member(other.members_, c.element)) {
      continue;  // everything below a removed member goes with it
    }
    if (const FieldSet* o = other.child(c.element)) {
      FieldSet r = c.set.recursive_difference(*o);
      if (!r.empty()) {
        out.children_.push_back(Child{c.element, std::move(r)});
      }
    } else if (!c.set.empty()) {
      out.children_.push_back(c);
    }
  }
  return out;
}

FieldSet FieldSet::leaves() const {
  FieldSet out;
  for (const auto& m : members_) {
    if (child(m) == nullptr) {
      out.members_.push_back(m);
    }
  }
  for (const auto& c : children_) {
    FieldSet l = c.set.leaves();
    if (!l.empty()) {
      out.children_.push_back(Child{c.element, std::move(l)});
    }
  }
  return out;
}

void FieldSet::for_each_prefix(FieldPath& prefix,
                               const std::function<void(const FieldPath&)>& fn) const {
  for (const auto& m : members_) {
    prefix.push_back(m);
    fn(prefix);
    prefix.pop_back();
  }
  for (const auto& c : children_) {
    prefix.push_back(c.element);
    c.set.for_each_prefix(prefix, fn);
    prefix.pop_back();
  }
}

void FieldSet::for_each(const std::function<void(const FieldPath&)>& fn) const {
  FieldPath prefix;
  for_each_prefix(prefix, fn);
}

std::vector<FieldPath> FieldSet::paths() const {
  std::vector<FieldPath> out;
  for_each([&](const FieldPath& p) { out.push_back(p); });
  return out;
}

namespace {

// emitContentsV1: members and children merged in element order; an element that is both a member
// and has children gets "." first inside its object.
void emit_v1(const FieldSet& s, bool include_self, json::Object& out) {
  if (include_self && !(s.members().empty() && s.children().empty())) {
    out.set(".", json::Value::object());
  }
  const auto& members = s.members();
  const auto& children = s.children();
  std::size_t mi = 0;
  std::size_t ci = 0;
  while (mi < members.size() || ci < children.size()) {
    int c = 0;
    if (mi >= members.size()) {
      c = 1;
    } else if (ci >= children.size()) {
      c = -1;
    } else {
      c = members[mi].compare(children[ci].element);
    }
    if (c < 0) {
      out.set(members[mi].serialize(), json::Value::object());
      ++mi;
      continue;
    }
    json::Object inner;
    emit_v1(children[ci].set, c == 0, inner);
    out.set(children[ci].element.serialize(), json::Value(std::move(inner)));
    if (c == 0) {
      ++mi;
    }
    ++ci;
  }
}

// readIterV1: (children, is_member).
Result<bool> read_v1(const json::Value& v, FieldSet& into, int depth) {
  if (!v.is_object()) {
    return errors::bad_request("FieldsV1: expected an object, got " +
                               std::string(json::type_name(v.type())));
  }
  if (depth > 200) {
    return errors::bad_request("FieldsV1: nested too deeply");
  }
  bool is_member = false;
  bool has_children = false;
  for (const auto& m : v.as_object()) {
    if (m.key == ".") {
      is_member = true;
      continue;
    }
    auto pe = PathElement::deserialize(m.key);
    if (!pe) {
      if (pe.error().reason == Reason::kNotFound) {
        continue;  // unknown element kinds are skipped
      }
      return pe.error();
    }
    FieldSet grandchildren;
    auto child_is_member = read_v1(m.value, grandchildren, depth + 1);
    if (!child_is_member) {
      return child_is_member.error();
    }
    if (*child_is_member) {
      into.insert(FieldPath{*pe});
      has_children = true;
    }
    if (!grandchildren.empty()) {
      FieldSet& c = into.descend(*pe);
      c = c.union_with(grandchildren);
      has_children = true;
    }
  }
  return is_member || !has_children;
}

}  // namespace

json::Value FieldSet::to_fields_v1() const {
  json::Object out;
  emit_v1(*this, false, out);
  return {std::move(out)};
}

Result<FieldSet> FieldSet::from_fields_v1(const json::Value& fields_v1) {
  FieldSet s;
  auto r = read_v1(fields_v1, s, 0);
  if (!r) {
    return r.error();
  }
  return s;
}

bool FieldSet::operator==(const FieldSet& other) const {
  if (members_.size() != other.members_.size() || children_.size() != other.children_.size()) {
    return false;
  }
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!(members_[i] == other.members_[i])) {
      return false;
    }
  }
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (!(children_[i].element == other.children_[i].element) ||
        !(children_[i].set == other.children_[i].set)) {
      return false;
    }
  }
  return true;
}

}  // namespace skiff::registry
