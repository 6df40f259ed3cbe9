// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to the registry module: the storage behind a Schema, shared by the built-in loader
// (schema.cpp) and the CRD converter (structural.cpp).

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "skiff/registry/schema.hpp"

namespace skiff::registry {

struct Schema::Impl {
  /// Owned nodes; a deque so that pointers stay valid while nodes are added.
  std::deque<Node> nodes;
  /// Named nodes by definition name (keys view the nodes' own names).
  std::unordered_map<std::string_view, const Node*> by_name;
  /// Kinds by "group/version/kind".
  std::unordered_map<std::string, const Node*> by_gvk;
  std::vector<GroupVersionKind> kinds;
  const Node* root = nullptr;

  Node& add() { return nodes.emplace_back(); }
  void index(const Node& node);
};

/// "group/version/kind", the by_gvk key.
std::string gvk_key(std::string_view group, std::string_view version, std::string_view kind);

namespace data {
/// The embedded src/registry/data/builtin_schema.json (generated .cpp, see meson.build).
extern const unsigned char kBuiltinSchema[];
extern const std::size_t kBuiltinSchemaSize;
}  // namespace data

}  // namespace skiff::registry
