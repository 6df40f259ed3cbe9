// SPDX-License-Identifier: Apache-2.0
#pragma once

// The per-kind strategies of the built-in types (private to src/registry). Each group's strategies
// live in strategy_<group>.cpp; strategy_for() maps a served kind to its strategy (the default one
// for kinds without special rules).

#include "skiff/registry/catalog.hpp"

namespace skiff::registry {

const Strategy& strategy_for(const GroupVersionKind& gvk);

}  // namespace skiff::registry
