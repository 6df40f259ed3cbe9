// SPDX-License-Identifier: Apache-2.0
// The RE2-syntax matcher behind CRD `pattern`s: Go's match semantics, Go's error texts, and linear
// time on long inputs (std::regex overflows the stack on these).
#include "structural_regex.hpp"

#include <string>
#include <vector>

#include "skiff_test.hpp"

using skiff::registry::detail::Regex;

namespace {

bool matches(std::string_view pattern, std::string_view text) {
  std::string error;
  auto re = Regex::compile(pattern, &error);
  INFO(pattern << ": " << error);
  REQUIRE(re);
  return re->search(text);
}

std::string compile_error(std::string_view pattern) {
  std::string error;
  auto re = Regex::compile(pattern, &error);
  INFO(pattern);
  REQUIRE_FALSE(re);
  return error;
}

}  // namespace

TEST_CASE("CRD patterns match as Go's regexp.MatchString does", "[registry][regex]") {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "my-name-1", true},
      {"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "-bad", false},
      {"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "", false},
      {"abc", "xxabcxx", true},  // unanchored search
      {"^abc", "xxabc", false},
      {"abc$", "abcx", false},
      {"a|b|c", "zzc", true},
      {"^(foo|bar)+$", "foobarfoo", true},
      {"^(foo|bar)+$", "foobaz", false},
      {"^\\d{3}-\\d{4}$", "555-1234", true},
      {"^\\d{3}-\\d{4}$", "555-123", false},
      {"^a{2,3}$", "aaaa", false},
      {"^a{2,}$", "aaaaaaa", true},
      {"^a{0}b$", "b", true},
      {"^[^abc]+$", "xyz", true},
      {"^[^abc]+$", "xaz", false},
      {"^\\w+@\\w+\\.com$", "me@example.com", true},
      {"^\\S+$", "no spaces", false},
      {"^[\\d.]+$", "1.2.3", true},
      {"^[\\D]+$", "abc", true},
      {"^[[:alpha:]]+$", "Hello", true},
      {"^[[:digit:]]+$", "12a", false},
      {"^.$", "\xc3\xa9", true},  // one code point
      {"^..$", "\xc3\xa9", false},
      {"^[\xc3\xa0-\xc3\xbf]$", "\xc3\xa9", true},
      {"a.c", "a\nc", false},
      {"(?s)a.c", "a\nc", true},
      {"(?i)^hello$", "HeLLo", true},
      {"(?i)^[a-z]+$", "ABC", true},
      {"\\bword\\b", "a word here", true},
      {"\\bword\\b", "swordfish", false},
      {"^(?:ab)*$", "ababab", true},
      {"^(?P<name>x+)y$", "xxy", true},
      {"^a*?b$", "aab", true},
      {"^(a*)*$", "aaaa", true},  // empty loops terminate
      {"^(a|)+$", "", true},
      {"^\\$\\{[A-Z_]+\\}$", "${HOME_DIR}", true},
      {"^\\x41\\x{1F600}$", "A\xf0\x9f\x98\x80", true},
      {"^x{,3}$", "x{,3}", true},  // not a count: literal, as in Go
      {"^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$", "1h30m", true},
      {"^(Ki|Mi|Gi)$", "Ti", false},
      {"\\Aab\\z", "ab", true},
  };
  for (const Case& c : cases) {
    INFO(c.pattern << " on " << c.text);
    CHECK(matches(c.pattern, c.text) == c.match);
  }
}

TEST_CASE("invalid CRD patterns fail with Go's messages", "[registry][regex]") {
  CHECK(compile_error("(unclosed") == "error parsing regexp: missing closing ): `(unclosed`");
  CHECK(compile_error("a)") == "error parsing regexp: unexpected ): `a)`");
  CHECK(compile_error("[abc") == "error parsing regexp: missing closing ]: `[abc`");
  CHECK(compile_error("*a") ==
        "error parsing regexp: missing argument to repetition operator: `*`");
  CHECK(compile_error("a**") == "error parsing regexp: invalid nested repetition operator: `a**`");
  CHECK(compile_error("\\q") == "error parsing regexp: invalid escape sequence: `\\q`");
  CHECK(compile_error("[z-a]") == "error parsing regexp: invalid character class range: `z-a`");
  CHECK(compile_error("a{1001}") == "error parsing regexp: invalid repeat count: `{1001}`");
  CHECK(compile_error("(?=x)") ==
        "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
  CHECK(compile_error("((a{1000}){1000}){1000}").find("too large") != std::string::npos);
  std::string deep(600, '(');
  CHECK(compile_error(deep + "a" + std::string(600, ')')).find("nests too deeply") !=
        std::string::npos);
}

TEST_CASE("patterns run in linear time and bounded stack on long inputs", "[registry][regex]") {
  // std::regex crashes on these sizes; a million characters must simply work.
  std::string long_text(1000000, 'a');
  CHECK(matches("^[a-z0-9.-]+$", long_text));
  CHECK(matches("^(a|b)*$", long_text));
  CHECK_FALSE(matches("^(a|b)*c$", long_text));
  // The classic exponential-backtracking case is linear here.
  CHECK_FALSE(matches("^(a+)+$", std::string(100000, 'a') + "!"));
}
