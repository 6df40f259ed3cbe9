// SPDX-License-Identifier: Apache-2.0
#pragma once

// fields: field selectors (k8s.io/apimachinery/pkg/fields), the `?fieldSelector=` /
// `kubectl --field-selector` filter: `a=b`, `a==b`, `a!=b`, joined by ',' (AND). In values, '\'
// escapes ',', '=' and '\' itself; keys are taken literally up to the first operator. The empty
// string selects everything. Terms are kept in upstream's order (sorted by their text).
//
// Which field labels exist is the caller's business (each kind supports its own, such as
// `metadata.name`, `status.phase`, `spec.nodeName`): check_supported() gives the API server's
// `field label not supported: X` error, and matches() reads the object's field values through a
// caller-provided getter.
//
// A selector is an immutable value; matches() is const and thread-safe given a thread-safe getter.
//
// Errors (kBadRequest, upstream's texts): `invalid selector: 'a'; can't understand 'a'`,
// `invalid field selector: invalid escape sequence: \x`, and
// `invalid field selector: unescaped character in value: 61` (upstream prints the character's
// code).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"

namespace skiff::api {

enum class FieldOperator : std::uint8_t { kEquals, kNotEquals };

/// One term. `==` parses as kEquals (upstream keeps no difference).
struct FieldRequirement {
  std::string field;
  FieldOperator op = FieldOperator::kEquals;
  std::string value;  ///< unescaped

  bool operator==(const FieldRequirement&) const = default;
};

/// Reads a field of the object being matched: its value, or nullopt when the object has no such
/// field (which compares as the empty string, as upstream's fields.Set does).
using FieldGetter = std::function<std::optional<std::string>(std::string_view field)>;

class FieldSelector {
public:
  /// Selects everything.
  FieldSelector() = default;

  static FieldSelector everything() { return {}; }
  /// Selects nothing (fields.Nothing()).
  static FieldSelector nothing();
  /// fields.OneTermEqualSelector.
  static FieldSelector one_term_equals(std::string field, std::string value);

  /// fields.ParseSelector.
  static Result<FieldSelector> parse(std::string_view text);

  const std::vector<FieldRequirement>& requirements() const noexcept { return requirements_; }
  bool empty() const noexcept { return !nothing_ && requirements_.empty(); }
  bool is_nothing() const noexcept { return nothing_; }

  /// kBadRequest `field label not supported: <field>` for the first term whose field `supported`
  /// rejects (what the API server answers for a field its kind does not index).
  Result<void> check_supported(const std::function<bool(std::string_view field)>& supported) const;

  /// True when every term holds: `=` needs get(field) (missing = "") to equal the value, `!=` to
  /// differ. nothing() matches nothing.
  bool matches(const FieldGetter& get) const;

  /// The value an `=` term demands for `field`, if any (first such term).
  std::optional<std::string> requires_exact_match(std::string_view field) const;

  /// Canonical text: terms joined by ',', values escaped ("a=b,c!=d\,e").
  std::string to_string() const;

private:
  std::vector<FieldRequirement> requirements_;
  bool nothing_ = false;
};

/// Escapes '\', ',' and '=' with a backslash (fields.EscapeValue).
std::string escape_field_value(std::string_view value);
/// The inverse (fields.UnescapeValue); errors as listed above.
Result<std::string> unescape_field_value(std::string_view value);

}  // namespace skiff::api
