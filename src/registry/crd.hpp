// SPDX-License-Identifier: Apache-2.0
#pragma once

// CustomResourceDefinitions (private to src/registry): turning a CRD object into the resource types
// it serves, keeping the catalog in step with the CRDs in the store, and the CRD kind's own
// strategy (validation of names, versions and structural schemas; status conditions).

#include <string>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/registry.hpp"

namespace skiff::kv {
class Store;
}

namespace skiff::registry::detail {

/// The served resource types of a CRD (one per served version), in preference order. Errors:
/// kInvalid causes for anything that keeps the CRD from being served (bad names, no storage
/// version, non-structural schemas).
Result<std::vector<ResourceTypePtr>> crd_types(const json::Value& crd);

/// Publishes the CRD's types in the catalog (or removes them when the CRD no longer serves any).
/// Errors from crd_types are logged, not returned: the stored CRD stays as it is.
void sync_crd(Catalog& catalog, const json::Value& crd);
/// Removes the CRD's types from the catalog.
void drop_crd(Catalog& catalog, const json::Value& crd);
/// Loads every stored CRD into the catalog (at start).
Result<void> load_crds(kv::Store& store, Catalog& catalog);

/// The strategy of apiextensions.k8s.io/v1 CustomResourceDefinition.
const Strategy& crd_strategy();

/// kube-aware version ordering (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other names
/// alphabetically): true when `a` is preferred over `b`.
bool version_preferred(std::string_view a, std::string_view b);

}  // namespace skiff::registry::detail
