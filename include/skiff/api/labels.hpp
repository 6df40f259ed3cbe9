// SPDX-License-Identifier: Apache-2.0
#pragma once

// labels: label selectors (k8s.io/apimachinery/pkg/labels), in their three sources:
// - the string form of `?labelSelector=` and `kubectl -l`: `k=v`, `k==v`, `k!=v`,
//   `k in (a,b)`, `k notin (a)`, `k`, `!k`, `k>1`, `k<1`, joined by ',' (AND); blanks around
//   tokens are ignored; the empty string selects everything;
// - a metav1.LabelSelector object (`matchLabels` + `matchExpressions` with In / NotIn / Exists /
//   DoesNotExist), as Deployments, ReplicaSets, Jobs, ... carry;
// - a plain map of labels (a Service's `spec.selector`), matching exactly those pairs.
//
// Requirements are kept sorted by key (stably), so to_string() is upstream's canonical text — the
// form kubectl shows in `get -o wide` SELECTOR columns and Scale `status.selector` carries, e.g.
// `app=web,tier in (back,front),!canary`.
//
// A selector is an immutable value; matches() is const and thread-safe.
//
// Errors (all kBadRequest; the API server returns them as 400 with this text):
// - syntax: `found ',', expected: !, identifier, or 'end of string'`,
//   `found 'b', expected: ',' or 'end of string'`, `found '(' expected: '('`... (upstream's texts);
// - an invalid key or value inside a requirement: `unable to parse requirement: <nil>: Invalid
//   value: "k_": name part must consist of alphanumeric characters, ...` (key) or
//   `unable to parse requirement: values[0][k]: Invalid value: "a b": a valid label must be ...`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::api {

/// selection.Operator.
enum class SelectorOperator : std::uint8_t {
  kIn,
  kNotIn,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kExists,
  kDoesNotExist,
  kGreaterThan,
  kLessThan,
};

/// Upstream's spelling: "in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt".
std::string_view selector_operator_name(SelectorOperator op) noexcept;

/// One `key op values` term.
class LabelRequirement {
public:
  /// labels.NewRequirement: validates the key (qualified name), the number of values for the
  /// operator, that gt/lt values are integers, and every value (label value). Errors: kBadRequest
  /// with upstream's aggregate text, e.g. `values: Invalid value: []string{}: for 'in', 'notin'
  /// operators, values set can't be empty` or `key: Invalid value: "a b": name part ...`.
  static Result<LabelRequirement> make(std::string key, SelectorOperator op,
                                       std::vector<std::string> values);

  const std::string& key() const noexcept { return key_; }
  SelectorOperator op() const noexcept { return op_; }
  /// The values as given (the string parser gives them sorted and de-duplicated).
  const std::vector<std::string>& values() const noexcept { return values_; }

  /// Whether a labels map (a JSON object of strings; null means no labels) satisfies the term:
  /// In/=/== need the key with one of the values; NotIn/!= accept a missing key; gt/lt need an
  /// integer value compared numerically.
  bool matches(const json::Value& labels) const;
  /// "key=value", "key in (a,b)" (values sorted), "!key", "key>1", ...
  std::string to_string() const;

  bool operator==(const LabelRequirement&) const = default;

private:
  friend class LabelSelector;

  LabelRequirement(std::string key, SelectorOperator op, std::vector<std::string> values)
      : key_(std::move(key)), op_(op), values_(std::move(values)) {}
  /// NewRequirement's validation; `nil_values` renders empty values as upstream's nil slice.
  static std::vector<FieldCause> check(std::string_view key, SelectorOperator op,
                                       const std::vector<std::string>& values, bool nil_values);

  std::string key_;
  SelectorOperator op_ = SelectorOperator::kExists;
  std::vector<std::string> values_;
};

/// An AND of requirements, or the special "nothing" selector.
class LabelSelector {
public:
  /// Selects everything (labels.Everything()).
  LabelSelector() = default;

  static LabelSelector everything() { return {}; }
  /// Selects nothing (labels.Nothing()): what a null metav1.LabelSelector converts to.
  static LabelSelector nothing();

  /// labels.Parse of the string form; "" is everything.
  static Result<LabelSelector> parse(std::string_view text);

  /// metav1.LabelSelectorAsSelector of a LabelSelector JSON value:
  /// - null (or a missing selector) -> nothing();
  /// - `{}` (no matchLabels and no matchExpressions) -> everything();
  /// - otherwise one `=` requirement per matchLabels pair and one In/NotIn/Exists/DoesNotExist
  ///   requirement per expression, validated as LabelRequirement::make.
  /// Errors: kBadRequest; an unknown operator gives `"Foo" is not a valid label selector operator`;
  /// a selector that is neither null nor an object is rejected (schema validation normally
  /// catches it first).
  static Result<LabelSelector> from_label_selector(const json::Value& selector);

  /// labels.SelectorFromSet of a labels map, without validation (a Service's spec.selector); an
  /// empty or null map is everything().
  static LabelSelector from_set(const json::Value& labels);

  /// labels.SelectorFromValidatedSet's validating sibling: like from_set but each pair is checked
  /// as LabelRequirement::make.
  static Result<LabelSelector> from_set_validated(const json::Value& labels);

  /// True when every requirement matches `labels` (a JSON object; null = no labels). nothing()
  /// matches nothing.
  bool matches(const json::Value& labels) const;

  /// True for everything() (no requirements); false for nothing().
  bool empty() const noexcept { return !nothing_ && requirements_.empty(); }
  bool is_nothing() const noexcept { return nothing_; }

  /// The requirements, sorted by key.
  const std::vector<LabelRequirement>& requirements() const noexcept { return requirements_; }

  /// The canonical text: requirements joined by ','; "" for everything() and nothing().
  std::string to_string() const;

  /// The value the selector demands for `label` when its first requirement on that key is `=`,
  /// `==` or a one-value `in` (used to index lookups); nullopt otherwise.
  std::optional<std::string> requires_exact_match(std::string_view label) const;

  /// A copy with one more requirement (kept sorted). Adding to nothing() stays nothing().
  LabelSelector add(LabelRequirement requirement) const;

private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

}  // namespace skiff::api
