// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/schema.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "skiff/base/log.hpp"

#include "schema_impl.hpp"

namespace skiff::registry {

const Field* Node::field(std::string_view field_name) const noexcept {
  for (const Field& f : fields) {
    if (!f.inlined && f.name == field_name) {
      return &f;
    }
  }
  return nullptr;
}

const Field* Node::proto_field(std::int32_t number) const noexcept {
  if (number == 0) {
    return nullptr;
  }
  for (const Field& f : fields) {
    if (f.proto_number == number) {
      return &f;
    }
  }
  return nullptr;
}

std::string api_version(const GroupVersionKind& gvk) {
  if (gvk.group.empty()) {
    return gvk.version;
  }
  return gvk.group + "/" + gvk.version;
}

GroupVersionKind parse_api_version(std::string_view api_version, std::string_view kind) {
  GroupVersionKind gvk;
  auto slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    gvk.version = std::string(api_version);
  } else {
    gvk.group = std::string(api_version.substr(0, slash));
    gvk.version = std::string(api_version.substr(slash + 1));
  }
  gvk.kind = std::string(kind);
  return gvk;
}

std::string gvk_key(std::string_view group, std::string_view version, std::string_view kind) {
  std::string key;
  key.reserve(group.size() + version.size() + kind.size() + 2);
  key.append(group).append("/").append(version).append("/").append(kind);
  return key;
}

void Schema::Impl::index(const Node& node) {
  if (!node.name.empty()) {
    by_name.emplace(node.name, &node);
  }
  for (const GroupVersionKind& gvk : node.gvks) {
    if (by_gvk.emplace(gvk_key(gvk.group, gvk.version, gvk.kind), &node).second) {
      kinds.push_back(gvk);
    }
  }
}

Schema::Schema() : impl_(std::make_unique<Impl>()) {}
Schema::Schema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Schema::~Schema() = default;
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;

const Node* Schema::find(std::string_view name) const noexcept {
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? nullptr : it->second;
}

const Node* Schema::find_kind(const GroupVersionKind& gvk) const noexcept {
  auto it = impl_->by_gvk.find(gvk_key(gvk.group, gvk.version, gvk.kind));
  return it == impl_->by_gvk.end() ? nullptr : it->second;
}

std::vector<const Node*> Schema::named() const {
  std::vector<const Node*> out;
  out.reserve(impl_->by_name.size());
  for (const auto& [name, node] : impl_->by_name) {
    out.push_back(node);
  }
  std::sort(out.begin(), out.end(), [](const Node* a, const Node* b) { return a->name < b->name; });
  return out;
}

std::vector<GroupVersionKind> Schema::kinds() const {
  return impl_->kinds;
}

const Node* Schema::root() const noexcept {
  return impl_->root;
}

std::size_t Schema::size() const noexcept {
  return impl_->nodes.size();
}

namespace {

// The embedded data is ours and checked by the tests; a failure to read it is a broken build, not
// an input error, so it aborts with a message rather than returning an error to a request.
[[noreturn]] void corrupt(std::string_view what) {
  log::error("registry", "embedded schema data is corrupt: {}", what);
  std::abort();
}

Kind parse_kind(std::string_view k) {
  static constexpr std::pair<std::string_view, Kind> kKinds[] = {
      {"object", Kind::kObject},
      {"map", Kind::kMap},
      {"array", Kind::kArray},
      {"string", Kind::kString},
      {"integer", Kind::kInteger},
      {"number", Kind::kNumber},
      {"boolean", Kind::kBoolean},
      {"bytes", Kind::kBytes},
      {"int-or-string", Kind::kIntOrString},
      {"quantity", Kind::kQuantity},
      {"time", Kind::kTime},
      {"micro-time", Kind::kMicroTime},
      {"duration", Kind::kDuration},
      {"any", Kind::kAny},
  };
  for (const auto& [name, kind] : kKinds) {
    if (name == k) {
      return kind;
    }
  }
  corrupt("unknown kind " + std::string(k));
}

ListType parse_list_type(std::string_view v) {
  if (v == "atomic") {
    return ListType::kAtomic;
  }
  if (v == "set") {
    return ListType::kSet;
  }
  if (v == "map") {
    return ListType::kMap;
  }
  corrupt("unknown list type " + std::string(v));
}

MapType parse_map_type(std::string_view v) {
  if (v == "atomic") {
    return MapType::kAtomic;
  }
  if (v == "granular") {
    return MapType::kGranular;
  }
  corrupt("unknown map type " + std::string(v));
}

ProtoShape parse_shape(std::string_view v) {
  if (v == "wrapped") {
    return ProtoShape::kWrappedArray;
  }
  if (v == "or-array") {
    return ProtoShape::kSchemaOrArray;
  }
  if (v == "or-bool") {
    return ProtoShape::kSchemaOrBool;
  }
  if (v == "or-string-array") {
    return ProtoShape::kSchemaOrStringArray;
  }
  corrupt("unknown protobuf shape " + std::string(v));
}

const std::string& string_at(const json::Value& v, std::string_view what) {
  if (!v.is_string()) {
    corrupt(what);
  }
  return v.as_string();
}

Schema::Impl* load_builtin_impl() {
  std::string_view text(reinterpret_cast<const char*>(data::kBuiltinSchema),
                        data::kBuiltinSchemaSize);
  auto doc = json::parse(text);
  if (!doc) {
    corrupt(doc.error().message);
  }
  const json::Value* format = doc->get("format");
  if (format == nullptr || !format->is_int() || format->as_int() != 1) {
    corrupt("unsupported format version");
  }
  const json::Value* list = doc->get("nodes");
  if (list == nullptr || !list->is_array()) {
    corrupt("no nodes");
  }
  const json::Array& entries = list->as_array();
  auto impl = std::make_unique<Schema::Impl>();
  // Two passes: create every node first so that fields can point at any of them.
  std::vector<Node*> nodes;
  nodes.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    nodes.push_back(&impl->add());
  }
  auto node_at = [&](const json::Value& v) -> const Node* {
    if (!v.is_int() || v.as_int() < 0 || static_cast<std::size_t>(v.as_int()) >= nodes.size()) {
      corrupt("bad node index");
    }
    return nodes[static_cast<std::size_t>(v.as_int())];
  };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json::Value& e = entries[i];
    if (!e.is_object()) {
      corrupt("node is not an object");
    }
    Node& n = *nodes[i];
    for (const json::Member& m : e.as_object()) {
      const std::string& key = m.key;
      const json::Value& v = m.value;
      if (key == "k") {
        n.kind = parse_kind(string_at(v, "kind"));
      } else if (key == "n") {
        n.name = string_at(v, "name");
      } else if (key == "fmt") {
        n.format = string_at(v, "format");
      } else if (key == "f") {
        if (!v.is_array()) {
          corrupt("fields");
        }
        n.fields.reserve(v.size());
        for (const json::Value& fv : v.as_array()) {
          if (!fv.is_array() || fv.size() != 4 || !fv.as_array()[2].is_int() ||
              !fv.as_array()[3].is_int()) {
            corrupt("field entry");
          }
          const json::Array& fa = fv.as_array();
          Field& f = n.fields.emplace_back();
          f.name = string_at(fa[0], "field name");
          f.node = node_at(fa[1]);
          f.proto_number = static_cast<std::int32_t>(fa[2].as_int());
          f.required = (fa[3].as_int() & 1) != 0;
          f.inlined = (fa[3].as_int() & 2) != 0;
          f.omit_empty = (fa[3].as_int() & 4) != 0;
          f.pointer = (fa[3].as_int() & 8) != 0;
        }
      } else if (key == "i") {
        n.items = node_at(v);
      } else if (key == "lt") {
        n.list_type = parse_list_type(string_at(v, "list type"));
      } else if (key == "lk") {
        if (!v.is_array()) {
          corrupt("list map keys");
        }
        for (const json::Value& k : v.as_array()) {
          n.list_map_keys.push_back(string_at(k, "list map key"));
        }
      } else if (key == "mt") {
        n.map_type = parse_map_type(string_at(v, "map type"));
      } else if (key == "ps") {
        n.patch_strategy = string_at(v, "patch strategy");
      } else if (key == "pk") {
        n.patch_merge_key = string_at(v, "patch merge key");
      } else if (key == "d") {
        n.default_value = v;
      } else if (key == "e") {
        if (!v.is_array()) {
          corrupt("enum");
        }
        n.enum_values = v.as_array();
      } else if (key == "nl") {
        n.nullable = true;
      } else if (key == "r") {
        n.refines = node_at(v);
      } else if (key == "w") {
        n.proto_shape = parse_shape(string_at(v, "protobuf shape"));
      } else if (key == "g") {
        if (!v.is_array()) {
          corrupt("gvks");
        }
        for (const json::Value& g : v.as_array()) {
          if (!g.is_array() || g.size() != 3) {
            corrupt("gvk");
          }
          n.gvks.push_back({string_at(g.as_array()[0], "group"),
                            string_at(g.as_array()[1], "version"),
                            string_at(g.as_array()[2], "kind")});
        }
      } else {
        corrupt("unknown node key " + key);
      }
    }
    if ((n.kind == Kind::kArray || n.kind == Kind::kMap) && n.items == nullptr) {
      corrupt("array or map without items: " + n.name);
    }
    if (n.kind == Kind::kAny) {
      n.preserve_unknown_fields = true;
    }
  }
  for (const Node* n : nodes) {
    impl->index(*n);
  }
  return impl.release();
}

}  // namespace

const Schema& Schema::builtin() {
  // Built on first use and never destroyed: CRD schemas and long-lived caches point into it, and
  // tearing it down at exit would only race with them.
  static const Schema* const instance = [] {
    auto* schema = new Schema(std::unique_ptr<Impl>(load_builtin_impl()));
#if defined(__GLIBC__)
    // The parsed data document is gone; give its pages back rather than keep them in the heap
    // (measured: most of the load's peak, see src/registry/data/README.md).
    malloc_trim(0);
#endif
    return schema;
  }();
  return *instance;
}

}  // namespace skiff::registry
