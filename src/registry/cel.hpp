// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to the registry module: the Common Expression Language subset that CRD
// `x-kubernetes-validations` rules (and their `messageExpression`s) are written in. Upstream
// compiles rules with cel-go against a type derived from the structural schema; Skiff evaluates
// them dynamically over the JSON tree, with CEL's runtime semantics (cel-spec langdef.md).
//
// Contract:
// - compile() parses once; a Program is immutable and may be shared (shared_ptr<const Program>)
//   and evaluated from any thread at the same time. evaluate() is pure: it reads the bindings
//   (which must outlive the call) and returns a fresh value.
// - Bad input never crashes or hangs: the source length, the nesting depth of the expression and
//   the work done per evaluation are bounded (constants below). Evaluation recursion follows the
//   expression's own depth only; deep JSON is walked iteratively.
// - Errors are kInvalid. Compile errors read like cel-go's
//   "ERROR: <input>:1:9: Syntax error: ...\n | self.x >\n | ........^" (1-based line:column, the
//   column counted in code points); evaluation errors are cel-go's runtime texts ("no such key: x",
//   "division by zero", "integer overflow", ...).
//
// Supported: literals (int, hex, uint, double, strings in all quote forms with escapes, raw
// strings, bytes, bool, null), lists and maps, the CEL operators with CEL precedence, `self` and
// `oldSelf`, the macros has/all/exists/exists_one/map/filter, the standard functions (size,
// contains, startsWith, endsWith, matches, type conversions, type, dyn) and the Kubernetes string
// and list extensions (lowerAscii, upperAscii, trim, split, join, indexOf, lastIndexOf, replace,
// substring, charAt, reverse, isSorted, sum, min, max).
// Kubernetes' field rules: a member holding null reads as absent through field selection and
// has() ("null valued fields are treated as absent"); a field name written in Kubernetes' escaped
// spelling (`a__dash__b`, `__dot__`, `__slash__`, `__underscores__`, `__if__` for a keyword) also
// finds the property it stands for, and keywords work as plain field names too (`self.if`).
// Without a schema, values are typed by their JSON form (1 is an int, 1.5 a double).
// Not supported: protobuf messages, timestamps and durations, optionals (`?.`), the
// url/quantity/ip/regex libraries, static type checking (type errors surface at evaluation).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::registry::cel {

/// Longest accepted source, in bytes.
inline constexpr std::size_t kMaxSourceSize = 100 * 1024;
/// Deepest accepted nesting (parentheses, operands, calls), as cel-go's parser recursion limit.
inline constexpr int kMaxNesting = 250;
/// Default evaluation budget: one step per expression node evaluated, plus steps proportional to
/// the data touched by size-dependent operations (equality, concatenation, string search).
inline constexpr std::uint64_t kDefaultStepLimit = 10'000'000;

/// A compiled expression. Immutable; share it as shared_ptr<const Program>.
class Program;

/// Parses `source`. Errors: kInvalid, message in cel-go's shape with the position and a caret
/// line; an unknown identifier or function is reported here ("undeclared reference to 'x' (in
/// container '')"), as are reserved words used as names and invalid literal regexes.
Result<std::shared_ptr<const Program>> compile(std::string_view source);

/// The variables a rule sees. Both values must outlive evaluate().
struct Bindings {
  const json::Value* self = nullptr;      ///< the value the rule is attached to
  const json::Value* old_self = nullptr;  ///< the previous value (transition rules); null = unbound
};

struct EvalOptions {
  /// Steps before "operation cancelled: actual cost limit exceeded".
  std::uint64_t step_limit = kDefaultStepLimit;
};

/// Evaluates `program`. The CEL result comes back as JSON: bools, numbers (a uint as int when it
/// fits, else double), strings (bytes as their raw content, types as their names), lists as
/// arrays, maps as objects (non-string keys in their string form). Errors: kInvalid with cel-go's
/// runtime texts: "no such key: foo", "no matching overload for '_+_' applied to '(string, int)'",
/// "division by zero", "modulus by zero", "integer overflow", "index out of bounds: 3",
/// "no such attribute: oldSelf" (an unbound variable), "operation cancelled: actual cost limit
/// exceeded".
Result<json::Value> evaluate(const Program& program, const Bindings& bindings,
                             const EvalOptions& options = {});

/// True when the expression references `oldSelf` (a transition rule).
bool uses_old_self(const Program& program);

/// The source the program was compiled from.
std::string_view source(const Program& program);

}  // namespace skiff::registry::cel
