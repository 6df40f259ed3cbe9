// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private helpers shared by the patch and managed-fields code: Go's text forms (upstream's error
// messages embed fmt's %v / %q output and encoding/json output, and clients compare some of them
// byte for byte), and schema lookups that need nothing but schema.hpp's inline data.

#include <string>
#include <string_view>

#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry::detail {

/// fmt's %v of the value Go would hold after decoding this JSON into interface{}:
/// `map[a:1 b:[x y]]` (keys sorted), `<nil>`, floats in %g's shortest form (`1e+06`).
std::string go_format(const json::Value& value);
void go_format_to(const json::Value& value, std::string& out);
/// fmt's %q of a string (strconv.Quote).
std::string go_quote(std::string_view s);
/// strconv.FormatFloat(f, 'g', -1, 64), i.e. fmt's %v of a float64.
std::string go_format_float(double d);

/// encoding/json's Marshal of the decoded value: object keys sorted, HTML characters escaped
/// (`\u003c`), floats as Go writes them.
std::string go_json(const json::Value& value);
void go_json_to(const json::Value& value, std::string& out);

/// The JSON-view field `name` of an object node (inlined protobuf markers skipped), or nullptr.
/// Kept here rather than calling Node::field() so this module needs only schema.hpp's inline data.
const Field* find_field(const Node* node, std::string_view name) noexcept;

/// The Status text upstream uses for every 422 built with NewGenericServerResponse.
inline constexpr std::string_view kGenericInvalidMessage =
    "the server rejected our request due to an error in our request";

}  // namespace skiff::registry::detail
