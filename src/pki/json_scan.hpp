// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to src/pki: just enough JSON (RFC 8259) for JWS. pki treats claims as opaque text and the
// JSON library belongs to base, so this scanner only validates a document and reads the top-level
// string members of an object (a JWS header's "alg"). Nesting is bounded so hostile input cannot
// exhaust the stack.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::pki::detail {

/// A JSON object's top-level members: name -> decoded string value, or nullopt for a non-string
/// value.
using JsonMembers = std::map<std::string, std::optional<std::string>, std::less<>>;

/// Parses `text` as exactly one JSON object (surrounding whitespace allowed). Returns nullopt when
/// it is not valid JSON, not an object, nested deeper than 64 levels, or repeats a top-level member
/// name (a JWS header with two "alg" members is ambiguous, RFC 7515 §4).
std::optional<JsonMembers> scan_json_object(std::string_view text);

}  // namespace skiff::pki::detail
