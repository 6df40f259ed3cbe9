// SPDX-License-Identifier: Apache-2.0
#include "strategies.hpp"

#include "crd.hpp"
#include "strategy_util.hpp"

namespace skiff::registry {

// Kind -> strategy: each group's table lives in its strategy_<group>.cpp; kinds a table does not
// name keep the default strategy (Name/Age table, no special rules).
const Strategy& strategy_for(const GroupVersionKind& gvk) {
  const Strategy* s = nullptr;
  const std::string& group = gvk.group;
  if (group.empty()) {
    s = strategies::core_strategy(gvk.kind);
  } else if (group == "apps") {
    s = strategies::apps_strategy(gvk.kind);
  } else if (group == "batch") {
    s = strategies::batch_strategy(gvk.kind);
  } else if (group == "networking.k8s.io") {
    s = strategies::networking_strategy(gvk.kind);
  } else if (group == "rbac.authorization.k8s.io") {
    s = strategies::rbac_strategy(gvk.kind);
  } else if (group == "storage.k8s.io") {
    s = strategies::storage_strategy(gvk.kind);
  } else if (group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition") {
    return detail::crd_strategy();
  } else {
    s = strategies::misc_strategy(group, gvk.version, gvk.kind);
  }
  return s != nullptr ? *s : default_strategy();
}

}  // namespace skiff::registry
