// SPDX-License-Identifier: Apache-2.0
// RFC 7386 JSON merge patch.

#include <utility>

#include "skiff/registry/patch.hpp"

namespace skiff::registry {

json::Value apply_merge_patch(json::Value target, const json::Value& patch) {
  if (!patch.is_object()) {
    return patch;
  }
  if (!target.is_object()) {
    target = json::Value::object();
  }
  auto& obj = target.as_object();
  for (const auto& m : patch.as_object()) {
    if (m.value.is_null()) {
      obj.erase(m.key);
      continue;
    }
    json::Value* cur = obj.find(m.key);
    if (cur == nullptr) {
      obj.set(m.key, apply_merge_patch(json::Value(), m.value));
    } else {
      *cur = apply_merge_patch(std::move(*cur), m.value);
    }
  }
  return target;
}

}  // namespace skiff::registry
