// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/fields.hpp"

#include <map>
#include <string>
#include <vector>

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

FieldSelector must_parse(std::string_view text) {
  auto s = FieldSelector::parse(text);
  INFO("selector " << text);
  REQUIRE(s);
  return *s;
}

FieldGetter getter(std::map<std::string, std::string, std::less<>> fields) {
  return [fields = std::move(fields)](std::string_view f) -> std::optional<std::string> {
    auto it = fields.find(f);
    if (it == fields.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

TEST_CASE("field selectors parse and print as upstream", "[api][fields]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::vector<Case> cases = {
      {"x=a,y=b,z=c", "x=a,y=b,z=c"},
      {"", ""},
      {"x!=a,y=b", "x!=a,y=b"},
      {R"(x=a||y\=b)", R"(x=a||y\=b)"},
      {R"(x=a\=\=b)", R"(x=a\=\=b)"},
      {"x=a,a=x", "a=x,x=a"},
      {"a=x,x=a", "a=x,x=a"},
      {"b==value", "b=value"},
      {"a=a,", "a=a"},
      {",a=a", "a=a"},
      // terms sort by their text: '2' < '='
      {R"(k=\,,k2=v2)", R"(k2=v2,k=\,)"},
      {R"(k=\\,k2=v2)", R"(k2=v2,k=\\)"},
      {R"(k=\\\,,k2=v2)", R"(k2=v2,k=\\\,)"},
      {"metadata.name=web-0,status.phase!=Running", "metadata.name=web-0,status.phase!=Running"},
      {"spec.nodeName=", "spec.nodeName="},
      {"\xED\x95\xA8=\xEC\x88\x98,\xEB\xAA\xA9=\xEB\xA1\x9D",
       "\xEB\xAA\xA9=\xEB\xA1\x9D,\xED\x95\xA8=\xEC\x88\x98"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(must_parse(c.in).to_string() == c.out);
  }
  const FieldSelector s = must_parse(R"(b==x\,y,a!=1)");
  REQUIRE(s.requirements().size() == 2);
  CHECK(s.requirements()[0] == FieldRequirement{"a", FieldOperator::kNotEquals, "1"});
  CHECK(s.requirements()[1] == FieldRequirement{"b", FieldOperator::kEquals, "x,y"});
}

TEST_CASE("malformed field selectors get upstream's errors", "[api][fields]") {
  struct Case {
    const char* in;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"x=a||y=b", "invalid field selector: unescaped character in value: 61"},
      {"x==a==b", "invalid field selector: unescaped character in value: 61"},
      {"x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"},
      {"x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"},
      {"x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"},
      {"x", "invalid selector: 'x'; can't understand 'x'"},
      {R"(k=\)", R"(invalid field selector: invalid escape sequence: \)"},
      {R"(k=\\\)", R"(invalid field selector: invalid escape sequence: \)"},
      {R"(k=\a)", R"(invalid field selector: invalid escape sequence: \a)"},
      {"k=a=b", "invalid field selector: unescaped character in value: 61"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto s = FieldSelector::parse(c.in);
    REQUIRE_FALSE(s);
    CHECK(s.error().reason == Reason::kBadRequest);
    CHECK(s.error().message == c.message);
  }
}

TEST_CASE("field values escape and unescape", "[api][fields]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},       {"a", "a"},        {"=", R"(\=)"},
      {",", R"(\,)"}, {R"(\)", R"(\\)"}, {R"(\=\,\)", R"(\\\=\\\,\\)"},
  };
  for (const auto& [plain, escaped] : cases) {
    INFO(plain);
    CHECK(escape_field_value(plain) == escaped);
    CHECK(unescape_field_value(escaped).value() == plain);
  }
  for (const char* bad : {R"(\)", R"(\\\)", R"(\a)", "a,b", "a=b"}) {
    INFO(bad);
    CHECK_FALSE(unescape_field_value(bad));
  }
}

TEST_CASE("field selectors match through the caller's getter", "[api][fields]") {
  struct Case {
    const char* selector;
    std::map<std::string, std::string, std::less<>> fields;
    bool match;
  };
  const std::map<std::string, std::string, std::less<>> fieldset = {
      {"foo", "bar"}, {"baz", "blah"}, {"complex", R"(=value\,\)"}};
  const std::vector<Case> cases = {
      {"", {{"x", "y"}}, true},
      {"x=y", {{"x", "y"}}, true},
      {"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
      {"notin=in", {{"notin", "in"}}, true},
      {"x=y", {{"x", "z"}}, false},
      {"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
      {"foo=bar", fieldset, true},
      {"baz=blah", fieldset, true},
      {"foo=bar,baz=blah", fieldset, true},
      {R"(foo=bar,baz=blah,complex=\=value\\\,\\)", fieldset, true},
      {"foo=blah", fieldset, false},
      {"baz=bar", fieldset, false},
      {"foo=bar,foobar=bar,baz=blah", fieldset, false},
      // a missing field reads as ""
      {"spec.nodeName=", {}, true},
      {"spec.nodeName!=", {}, false},
      {"spec.nodeName!=node-1", {}, true},
  };
  for (const auto& c : cases) {
    INFO(c.selector);
    CHECK(must_parse(c.selector).matches(getter(c.fields)) == c.match);
  }
  CHECK(FieldSelector::one_term_equals("x", "y").matches(getter({{"x", "y"}})));
  CHECK_FALSE(FieldSelector::one_term_equals("x", "y").matches(getter({{"x", "z"}})));
  CHECK_FALSE(FieldSelector::nothing().matches(getter({})));
  CHECK(FieldSelector::nothing().is_nothing());
  CHECK_FALSE(FieldSelector::nothing().empty());
  CHECK(FieldSelector::everything().empty());
  CHECK(FieldSelector::everything().matches(getter({{"x", "y"}})));
}

TEST_CASE("unsupported field labels are reported as the API server does", "[api][fields]") {
  const auto pods = [](std::string_view f) {
    return f == "metadata.name" || f == "metadata.namespace" || f == "spec.nodeName" ||
           f == "status.phase";
  };
  CHECK(must_parse("spec.nodeName=n1,status.phase=Running").check_supported(pods));
  auto bad = must_parse("status.phase=Running,spec.foo=x,spec.bar=y").check_supported(pods);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == Reason::kBadRequest);
  CHECK(bad.error().message == "field label not supported: spec.bar");  // terms are sorted
  CHECK(must_parse("").check_supported(pods));
}

TEST_CASE("field selectors report exact-match requirements", "[api][fields]") {
  const FieldSelector s = must_parse("spec.nodeName=node-1,status.phase!=Failed,metadata.name=");
  CHECK(s.requires_exact_match("spec.nodeName") == std::optional<std::string>("node-1"));
  CHECK(s.requires_exact_match("metadata.name") == std::optional<std::string>(""));
  CHECK_FALSE(s.requires_exact_match("status.phase"));
  CHECK_FALSE(s.requires_exact_match("test"));
  CHECK_FALSE(FieldSelector().requires_exact_match("test"));
}

}  // namespace
}  // namespace skiff::api
