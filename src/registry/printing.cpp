// SPDX-License-Identifier: Apache-2.0
#include "printing.hpp"

#include "skiff/api/time.hpp"

namespace skiff::registry {

PrinterColumn name_column() {
  return {"Name", "string", "name", "The object's name, unique within its namespace.", 0, ""};
}

PrinterColumn age_column() {
  return {"Age", "string", "", "Time since the object was created.", 0, ""};
}

std::string age_since(std::string_view timestamp, TimePoint now) {
  if (timestamp.empty()) {
    return "<unknown>";
  }
  auto t = api::parse_rfc3339(timestamp);
  if (!t) {
    return "<unknown>";
  }
  return api::translate_timestamp_since(*t, api::to_timestamp(now));
}

json::Value age_cell(const json::Value& object, TimePoint now) {
  return json::Value(age_since(object["metadata"].string_or("creationTimestamp"), now));
}

}  // namespace skiff::registry
