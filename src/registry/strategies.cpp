// SPDX-License-Identifier: Apache-2.0
#include "strategies.hpp"

#include "crd.hpp"

namespace skiff::registry {

const Strategy& strategy_for(const GroupVersionKind& gvk) {
  if (gvk.group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition") {
    return detail::crd_strategy();
  }
  return default_strategy();
}

}  // namespace skiff::registry
