// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to the registry module: the regular expressions of CRD `pattern`s. Upstream evaluates
// them with Go's regexp (RE2 syntax, linear time). std::regex is neither: it backtracks
// recursively and overflows the stack on inputs of a few ten thousand characters, which a custom
// resource can easily carry. This is a small RE2-syntax matcher compiled to an NFA and run as a
// Thompson simulation over UTF-8 code points: time O(text × pattern), memory O(pattern), no
// recursion over the text.
//
// Supported: literals, `.`, `[...]` classes with ranges, negation, escapes and [:posix:] names,
// `\d \D \w \W \s \S \b \B \A \z`, `^ $`, groups `( )`, `(?: )`, `(?P<n> )`, `(?<n> )`,
// alternation, `* + ? {n} {n,} {n,m}` (lazy forms accepted), a leading `(?i)` / `(?s)` flag
// group. Not supported (reported as errors): backreferences, lookaround, Unicode classes `\p`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::registry::detail {

class Regex {
public:
  /// Compiles `pattern`; on failure returns nullopt and sets `error` in Go's wording
  /// ("error parsing regexp: missing closing ): `(a`").
  static std::optional<Regex> compile(std::string_view pattern, std::string* error);
  /// True when the pattern matches anywhere in `text` (Go's MatchString, as kube-openapi uses).
  bool search(std::string_view text) const;

  struct Range {
    std::uint32_t lo;
    std::uint32_t hi;
  };
  struct Inst {
    enum Op : std::uint8_t {
      kChar,
      kAny,
      kAnyNotNl,
      kClass,
      kSplit,
      kJmp,
      kMatch,
      kBegin,
      kEnd,
      kWordBoundary,
      kNotWordBoundary
    };
    Op op = kMatch;
    std::uint32_t c = 0;   // kChar
    int x = 0;             // kSplit/kJmp target, kClass index
    int y = 0;             // kSplit second target
    bool negated = false;  // kClass
  };

private:
  std::vector<Inst> prog_;
  std::vector<std::vector<Range>> classes_;
  bool fold_case_ = false;
  friend class RegexCompiler;
};

}  // namespace skiff::registry::detail
