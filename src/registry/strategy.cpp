// SPDX-License-Identifier: Apache-2.0
#include <string>

#include "skiff/registry/catalog.hpp"

#include "printing.hpp"
#include "strategies.hpp"

namespace skiff::registry {

void Strategy::apply_defaults(json::Value&) const {}

bool Strategy::tracks_generation() const { return false; }

void Strategy::prepare_for_create(json::Value&) const {}

void Strategy::prepare_for_update(json::Value&, const json::Value&) const {}

std::vector<FieldCause> Strategy::validate(const json::Value&) const { return {}; }

std::vector<FieldCause> Strategy::validate_update(const json::Value& object,
                                                  const json::Value&) const {
  return validate(object);
}

std::vector<std::string> Strategy::field_labels() const { return {}; }

std::optional<std::string> Strategy::field_value(const json::Value&, std::string_view) const {
  return std::nullopt;
}

std::vector<PrinterColumn> Strategy::columns() const {
  return {name_column(), age_column()};
}

json::Array Strategy::cells(const json::Value& object, TimePoint now) const {
  return {json::Value(object["metadata"].string_or("name")), age_cell(object, now)};
}

bool Strategy::graceful_delete(const json::Value&, std::int64_t) const { return false; }

const Strategy& default_strategy() {
  static const Strategy kDefault;
  return kDefault;
}

}  // namespace skiff::registry
