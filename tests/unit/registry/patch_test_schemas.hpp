// SPDX-License-Identifier: Apache-2.0
#pragma once

// Hand-built schema graphs for the patch and apply tests (the generated built-in schema is not
// needed): upstream's strategicpatch MergeItem test type, and Pod-, Deployment-, Node- and
// custom-resource-like shapes with the list types, merge keys and strategies of the real API
// (containers by name, ports by [containerPort, protocol] with protocol defaulting to TCP, env and
// volumes by name, finalizers as a merging set, labels as a granular map, an atomic selector, a
// retainKeys strategy, kAny subtrees).

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::testing {

/// Owns the nodes of one test schema; pointers stay valid for its lifetime.
class SchemaBuilder {
public:
  using Node = registry::Node;

  Node* node(registry::Kind kind, std::string name = {});
  Node* string() { return node(registry::Kind::kString); }
  Node* integer() { return node(registry::Kind::kInteger); }
  Node* boolean() { return node(registry::Kind::kBoolean); }
  Node* any() { return node(registry::Kind::kAny); }
  /// A kObject node; add fields with field().
  Node* object(std::string name = {});
  static void field(Node* object, std::string name, const Node* type);
  /// A kMap of `values`.
  Node* map(const Node* values, registry::MapType type = registry::MapType::kUnset);
  /// A kArray of `items` with the given SSA list type and SMP strategy.
  Node* list(const Node* items, registry::ListType type = registry::ListType::kUnset,
             std::vector<std::string> keys = {}, std::string strategy = {},
             std::string merge_key = {});

private:
  std::deque<Node> nodes_;
};

/// The schemas every test uses, built once.
struct TestSchemas {
  SchemaBuilder b;
  const registry::Node* merge_item = nullptr;  ///< upstream's strategicpatch MergeItem
  const registry::Node* deployment = nullptr;  ///< apps/v1 Deployment-like
  const registry::Node* pod = nullptr;         ///< v1 Pod-like
  const registry::Node* node = nullptr;        ///< v1 Node-like
  const registry::Node* widget = nullptr;      ///< a custom resource: spec is kAny, status granular
  const registry::Node* scale = nullptr;       ///< autoscaling/v1 Scale
};

const TestSchemas& schemas();

/// Parses JSON or fails the test.
json::Value js(std::string_view text);

}  // namespace skiff::testing
