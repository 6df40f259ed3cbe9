// SPDX-License-Identifier: Apache-2.0
#pragma once

// Table printing helpers shared by the built-in strategies (private to src/registry): the common
// columns and cells the way upstream's printers fill them.

#include <string>

#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::registry {

PrinterColumn name_column();
PrinterColumn age_column();
/// The Age cell: time since metadata.creationTimestamp, kubectl-style ("5m10s"), or "<unknown>".
json::Value age_cell(const json::Value& object, TimePoint now);
/// Time since an RFC 3339 timestamp, kubectl-style; "<unknown>" if unparsable/absent.
std::string age_since(std::string_view timestamp, TimePoint now);

}  // namespace skiff::registry
