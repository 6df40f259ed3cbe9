// SPDX-License-Identifier: Apache-2.0
#pragma once

// meta.k8s.io Table responses (private to src/apiserver): column definitions from the catalog, cells
// from the kind's Strategy (built-ins) or the CRD's additionalPrinterColumns (JSONPath), and each
// row's object as PartialObjectMetadata, the full object, or nothing (includeObject).

#include <cstdint>
#include <string>
#include <string_view>

#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::apiserver {

enum class IncludeObject : std::uint8_t { kNone, kMetadata, kObject };

/// Parses includeObject (default Metadata). Errors only by returning false.
bool parse_include_object(std::string_view value, IncludeObject& out);

/// The row for one object.
json::Value table_row(const registry::ResourceType& type, const json::Value& object,
                      IncludeObject include, registry::TimePoint now);

/// A Table of `items` (list metadata: resourceVersion, continue, remainingItemCount).
/// `with_columns` false leaves out columnDefinitions (watch events after the first).
json::Value make_table(const registry::ResourceType& type, const json::Array& items,
                       IncludeObject include, registry::TimePoint now, std::string_view version,
                       const json::Value& list_metadata, bool with_columns);

/// The value at a JSONPath as kubectl's custom columns and CRD printer columns write them
/// (".spec.replicas", ".status.conditions[0].type", ".metadata.labels.app"); null if absent.
/// The Table of one autoscaling/v1 Scale (the scale subresource): Name, Desired, Available, Age.
json::Value make_scale_table(const json::Value& scale, IncludeObject include, registry::TimePoint now,
                             std::string_view version);

json::Value json_path_value(const json::Value& object, std::string_view path);

}  // namespace skiff::apiserver
