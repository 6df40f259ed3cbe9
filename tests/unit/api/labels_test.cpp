// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/labels.hpp"

#include <string>
#include <vector>

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

json::Value labels_of(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  json::Object obj;
  for (const auto& [k, v] : pairs) {
    obj.set(k, json::Value(v));
  }
  return json::Value(std::move(obj));
}

json::Value parse_json(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return *v;
}

LabelSelector must_parse(std::string_view text) {
  auto s = LabelSelector::parse(text);
  INFO("selector " << text);
  REQUIRE(s);
  return *s;
}

const std::string kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const std::string kNamePartMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

TEST_CASE("label selector strings round-trip to upstream's canonical text", "[api][labels]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::vector<Case> cases = {
      // upstream TestSelectorParse good strings (spaces removed in the canonical text)
      {"x=a,y=b,z=c", "x=a,y=b,z=c"},
      {"", ""},
      {"x!=a,y=b", "x!=a,y=b"},
      {"x=", "x="},
      {"x= ", "x="},
      {"x=,z= ", "x=,z="},
      {"x= ,z= ", "x=,z="},
      {"!x", "!x"},
      {"x>1", "x>1"},
      {"x>1,z<5", "x>1,z<5"},
      // upstream TestSetSelectorParser
      {"\rx", "x"},
      {"this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"},
      {"this-is-another-dns.domain.com/key-with-dash in (so,what)",
       "this-is-another-dns.domain.com/key-with-dash in (so,what)"},
      {"0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
       "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"},
      {"foo  in\t (abc)", "foo in (abc)"},
      {"x notin\n (abc)", "x notin (abc)"},
      {"x  notin\t\t\t(abc,def)", "x notin (abc,def)"},
      {"x in (abc,def)", "x in (abc,def)"},
      {"x in (abc,)", "x in (,abc)"},
      {"x in ()", "x in ()"},
      {"x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"},
      {"x,y in (a)", "x,y in (a)"},
      {"x=a", "x=a"},
      {"x<7", "x<7"},
      {"x=a,y!=b", "x=a,y!=b"},
      {"x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"},
      {"x notin ( )", "x notin ()"},
      {"x notin (, a)", "x notin (,a)"},
      {"a ", "a"},
      {"a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"},
      // more
      {"x==a", "x==a"},
      {"notin=in", "notin=in"},
      {"in in (in)", "in in (in)"},
      {"x=a,a=x", "a=x,x=a"},
      {"a=x,x=a", "a=x,x=a"},
      {"z!=a,z", "z!=a,z"},
      {"b,a=1", "a=1,b"},
      {"  app = web ,  tier in ( front , back ) , !canary ",
       "app=web,!canary,tier in (back,front)"},
      {"x in (b,a,b)", "x in (a,b)"},
      {"example.com/app=v1.2_3-x", "example.com/app=v1.2_3-x"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(must_parse(c.in).to_string() == c.out);
  }
  // Upstream's lexer stops at a NUL byte.
  CHECK(must_parse(std::string_view("a\0b", 3)).to_string() == "a");
}

TEST_CASE("label selector syntax errors carry upstream's messages", "[api][labels]") {
  struct Case {
    std::string in;
    std::string message;
  };
  const std::string wrap = "unable to parse requirement: ";
  const std::vector<Case> cases = {
      {"x=a||y=b", wrap + "values[0][x]: Invalid value: \"a||y\": " + kLabelValueMsg},
      {"x==a==b", "found '==', expected: ',' or 'end of string'"},
      {"!x=a", "found '=', expected: ',' or 'end of string'"},
      {"x<a", wrap + "values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be "
                     "an integer"},
      {"x>-1", wrap + "values[0][x]: Invalid value: \"-1\": " + kLabelValueMsg},
      {"x,,y", "found ',', expected: identifier after ','"},
      {",x,y", "found ',', expected: !, identifier, or 'end of string'"},
      {"x nott in (y)", wrap + "found 'nott', expected: in, notin, =, ==, !=, gt, lt"},
      {"a in (xyz),", "found '', expected: identifier after ','"},
      {"a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"},
      {"a in (xyz abc)", wrap + "found 'abc', expected: ',' or ')'"},
      {"a notin(", wrap + "found '', expected: ',', ')' or identifier"},
      {"a (", wrap + "found '(', expected: in, notin, =, ==, !=, gt, lt"},
      {"(", "found '(', expected: !, identifier, or 'end of string'"},
      {")", "found ')', expected: !, identifier, or 'end of string'"},
      {"x in y", wrap + "found 'y' expected: '('"},
      {"x in (a,b", wrap + "found '', expected: ',' or ')'"},
      {"x in (a=b)", wrap + "found '=', expected: ',' or ')'"},
      {"x in (=)", wrap + "found '=', expected: ',', ')' or identifier"},
      {"x=(a)", wrap + "found '(', expected: identifier"},
      {"a b", wrap + "found 'b', expected: in, notin, =, ==, !=, gt, lt"},
      {"x=a b", "found 'b', expected: ',' or 'end of string'"},
      {"!", wrap + "found '', expected: identifier"},
      {"!!x", wrap + "found '!', expected: identifier"},
      {"k_", wrap + "<nil>: Invalid value: \"k_\": " + kNamePartMsg},
      {"Example.com/x=1",
       wrap + "<nil>: Invalid value: \"Example.com/x\": prefix part a lowercase RFC 1123 subdomain "
              "must consist of lower case alphanumeric characters, '-' or '.', and must start and "
              "end with an alphanumeric character (e.g. 'example.com', regex used for validation "
              "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"a/b/c", wrap + "<nil>: Invalid value: \"a/b/c\": a qualified name must consist of "
                       "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                       "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                       "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
                       "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
      {"/x", wrap + "<nil>: Invalid value: \"/x\": prefix part must be non-empty"},
      {std::string(64, 'k'), wrap + "<nil>: Invalid value: \"" + std::string(64, 'k') +
                                 "\": name part must be no more than 63 characters"},
      {"x=" + std::string(64, 'v'), wrap + "values[0][x]: Invalid value: \"" +
                                        std::string(64, 'v') +
                                        "\": must be no more than 63 characters"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto s = LabelSelector::parse(c.in);
    REQUIRE_FALSE(s);
    CHECK(s.error().reason == Reason::kBadRequest);
    CHECK(s.error().message == c.message);
  }
}

TEST_CASE("label selectors match label maps as upstream", "[api][labels]") {
  struct Case {
    const char* selector;
    json::Value labels;
    bool match;
  };
  const json::Value set = labels_of({{"foo", "bar"}, {"baz", "blah"}});
  const std::vector<Case> cases = {
      {"", labels_of({{"x", "y"}}), true},
      {"x=y", labels_of({{"x", "y"}}), true},
      {"x=y,z=w", labels_of({{"x", "y"}, {"z", "w"}}), true},
      {"x!=y,z!=w", labels_of({{"x", "z"}, {"z", "a"}}), true},
      {"notin=in", labels_of({{"notin", "in"}}), true},
      {"x", labels_of({{"x", "z"}}), true},
      {"!x", labels_of({{"y", "z"}}), true},
      {"x>1", labels_of({{"x", "2"}}), true},
      {"x<1", labels_of({{"x", "0"}}), true},
      {"x=z", labels_of({}), false},
      {"x=y", labels_of({{"x", "z"}}), false},
      {"x=y,z=w", labels_of({{"x", "w"}, {"z", "w"}}), false},
      {"x!=y,z!=w", labels_of({{"x", "z"}, {"z", "w"}}), false},
      {"x", labels_of({{"y", "z"}}), false},
      {"!x", labels_of({{"x", "z"}}), false},
      {"x>1", labels_of({{"x", "0"}}), false},
      {"x<1", labels_of({{"x", "2"}}), false},
      {"x>1", labels_of({{"x", "v2"}}), false},
      {"x>1", labels_of({}), false},
      {"foo=bar", set, true},
      {"baz=blah", set, true},
      {"foo=bar,baz=blah", set, true},
      {"foo=blah", set, false},
      {"baz=bar", set, false},
      {"foo=bar,foobar=bar,baz=blah", set, false},
      {"x in (foo),y notin (alpha)", labels_of({{"x", "foo"}, {"y", "baz"}}), true},
      {"x in (foo),y in (alpha)", labels_of({{"x", "foo"}, {"y", "baz"}}), false},
      {"x notin (),y", labels_of({{"y", ""}}), true},
      {"!x,y", labels_of({{"y", ""}}), true},
      {"x notin (),!y", labels_of({{"y", ""}}), false},
      {"x in ()", labels_of({{"y", "baz"}}), false},
      {"x in ()", labels_of({{"x", ""}}), true},
      {"x=", labels_of({{"x", ""}}), true},
      {"x!=a", labels_of({}), true},
      {"x notin (a)", labels_of({}), true},
      {"x", json::Value(), false},
      {"!x", json::Value(), true},
      {"", json::Value(), true},
  };
  for (const auto& c : cases) {
    INFO(c.selector << " on " << json::serialize(c.labels));
    CHECK(must_parse(c.selector).matches(c.labels) == c.match);
  }
  // A non-string label value counts as absent.
  CHECK_FALSE(must_parse("x").matches(parse_json(R"({"x": 1})")));
}

TEST_CASE("metav1.LabelSelector converts as LabelSelectorAsSelector", "[api][labels]") {
  SECTION("null selects nothing, {} everything") {
    auto nothing = LabelSelector::from_label_selector(json::Value());
    REQUIRE(nothing);
    CHECK(nothing->is_nothing());
    CHECK_FALSE(nothing->empty());
    CHECK_FALSE(nothing->matches(labels_of({})));
    CHECK(nothing->to_string().empty());
    for (const char* empty : {"{}", R"({"matchLabels": {}})", R"({"matchExpressions": []})",
                              R"({"matchLabels": {}, "matchExpressions": []})"}) {
      INFO(empty);
      auto everything = LabelSelector::from_label_selector(parse_json(empty));
      REQUIRE(everything);
      CHECK(everything->empty());
      CHECK(everything->matches(labels_of({{"a", "b"}})));
      CHECK(everything->matches(json::Value()));
    }
  }
  SECTION("a Deployment selector prints like kubectl -o wide") {
    auto s = LabelSelector::from_label_selector(parse_json(R"({
        "matchLabels": {"app": "web", "env": "prod"},
        "matchExpressions": [
          {"key": "tier", "operator": "In", "values": ["front", "back"]},
          {"key": "canary", "operator": "DoesNotExist"},
          {"key": "track", "operator": "NotIn", "values": ["beta"]},
          {"key": "app", "operator": "Exists"}
        ]})"));
    REQUIRE(s);
    CHECK(s->to_string() == "app=web,app,!canary,env=prod,tier in (back,front),track notin (beta)");
    CHECK(s->matches(labels_of({{"app", "web"}, {"env", "prod"}, {"tier", "back"}})));
    CHECK_FALSE(s->matches(labels_of({{"app", "web"}, {"env", "prod"}, {"tier", "mid"}})));
    CHECK_FALSE(s->matches(
        labels_of({{"app", "web"}, {"env", "prod"}, {"tier", "back"}, {"canary", "1"}})));
    CHECK_FALSE(s->matches(
        labels_of({{"app", "web"}, {"env", "prod"}, {"tier", "back"}, {"track", "beta"}})));
    CHECK(s->requires_exact_match("app") == std::optional<std::string>("web"));
  }
  SECTION("a plain matchLabels selector equals the Scale status.selector form") {
    auto s = LabelSelector::from_label_selector(parse_json(R"({"matchLabels": {"run": "nginx"}})"));
    REQUIRE(s);
    CHECK(s->to_string() == "run=nginx");
  }
  SECTION("invalid selectors are rejected with upstream's texts") {
    struct Case {
      const char* in;
      std::string message;
    };
    const std::vector<Case> cases = {
        {R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})",
         "\"Foo\" is not a valid label selector operator"},
        {R"({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]})",
         "\"in\" is not a valid label selector operator"},
        {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
         "empty"},
        {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
         "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not "
         "exist"},
        {R"({"matchExpressions": [{"key": "a b", "operator": "Exists"}]})",
         "key: Invalid value: \"a b\": " + kNamePartMsg},
        {R"({"matchLabels": {"app": "a b"}})",
         "values[0][app]: Invalid value: \"a b\": " + kLabelValueMsg},
        {R"("app=web")", "a label selector must be an object, not string"},
        {R"({"matchExpressions": [{"key": "a b", "operator": "NotIn"}]})",
         "[key: Invalid value: \"a b\": " + kNamePartMsg +
             ", values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
             "can't be empty]"},
    };
    for (const auto& c : cases) {
      INFO(c.in);
      auto s = LabelSelector::from_label_selector(parse_json(c.in));
      REQUIRE_FALSE(s);
      CHECK(s.error().reason == Reason::kBadRequest);
      CHECK(s.error().message == c.message);
    }
  }
}

TEST_CASE("label requirements validate like NewRequirement", "[api][labels]") {
  using Op = SelectorOperator;
  struct Case {
    std::string key;
    Op op;
    std::vector<std::string> values;
    std::string error;  // empty: valid
  };
  const std::string a254(254, 'a');
  const std::vector<Case> cases = {
      {"x1",
       Op::kIn,
       {},
       "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"},
      {"x2",
       Op::kNotIn,
       {},
       "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"},
      {"x3", Op::kIn, {"foo"}, ""},
      {"x4", Op::kNotIn, {"foo"}, ""},
      {"x5",
       Op::kEquals,
       {"bar", "foo"},
       "values: Invalid value: []string{\"bar\", \"foo\"}: exact-match compatibility requires one "
       "single value"},
      {"x6", Op::kExists, {}, ""},
      {"x7", Op::kDoesNotExist, {}, ""},
      {"x8",
       Op::kExists,
       {"foo"},
       "values: Invalid value: []string{\"foo\"}: values set must be empty for exists and does not "
       "exist"},
      {"x11", Op::kGreaterThan, {"1"}, ""},
      {"x12", Op::kLessThan, {"6"}, ""},
      {"x13",
       Op::kGreaterThan,
       {},
       "values: Invalid value: []string{}: for 'Gt', 'Lt' operators, exactly one value is "
       "required"},
      {"x14",
       Op::kGreaterThan,
       {"bar"},
       "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer"},
      {"x15",
       Op::kLessThan,
       {"bar"},
       "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer"},
      {a254,
       Op::kExists,
       {},
       "key: Invalid value: \"" + a254 + "\": name part must be no more than 63 characters"},
      {"x16",
       Op::kEquals,
       {a254},
       "values[0][x16]: Invalid value: \"" + a254 + "\": must be no more than 63 characters"},
      {"x17", Op::kEquals, {"a b"}, "values[0][x17]: Invalid value: \"a b\": " + kLabelValueMsg},
      {"x18", Op::kNotEquals, {""}, ""},
  };
  for (const auto& c : cases) {
    INFO(c.key);
    auto r = LabelRequirement::make(c.key, c.op, c.values);
    if (c.error.empty()) {
      CHECK(r);
    } else {
      REQUIRE_FALSE(r);
      CHECK(r.error().message == c.error);
    }
  }
  auto r = LabelRequirement::make("x", Op::kIn, {"b", "a"});
  REQUIRE(r);
  CHECK(r->to_string() == "x in (a,b)");
  CHECK(r->values() == std::vector<std::string>{"b", "a"});  // kept as given
  CHECK(selector_operator_name(Op::kNotIn) == "notin");
  CHECK(selector_operator_name(Op::kDoesNotExist) == "!");
  CHECK(selector_operator_name(Op::kGreaterThan) == "gt");
}

TEST_CASE("label selectors from sets, exact matches and additions", "[api][labels]") {
  const LabelSelector from_set =
      LabelSelector::from_set(labels_of({{"tier", "db"}, {"app", "web"}}));
  CHECK(from_set.to_string() == "app=web,tier=db");
  CHECK(from_set.matches(labels_of({{"app", "web"}, {"tier", "db"}, {"x", "y"}})));
  CHECK_FALSE(from_set.matches(labels_of({{"app", "web"}})));
  CHECK(LabelSelector::from_set(json::Value()).empty());
  CHECK(LabelSelector::from_set(labels_of({})).empty());
  CHECK(LabelSelector::from_set(labels_of({{"foo", "=blah"}}))
            .matches(labels_of({{"foo", "=blah"}})));
  CHECK_FALSE(LabelSelector::from_set_validated(labels_of({{"foo", "=blah"}})));
  CHECK(LabelSelector::from_set_validated(labels_of({{"a", "b"}})).value().to_string() == "a=b");

  const LabelSelector s = must_parse("x=a,y in (b),z in (c,d),w!=e,v==f");
  CHECK(s.requires_exact_match("x") == std::optional<std::string>("a"));
  CHECK(s.requires_exact_match("y") == std::optional<std::string>("b"));
  CHECK(s.requires_exact_match("v") == std::optional<std::string>("f"));
  CHECK_FALSE(s.requires_exact_match("z"));
  CHECK_FALSE(s.requires_exact_match("w"));
  CHECK_FALSE(s.requires_exact_match("u"));

  auto extra = LabelRequirement::make("b", SelectorOperator::kExists, {});
  REQUIRE(extra);
  CHECK(must_parse("a=1,c=3").add(*extra).to_string() == "a=1,b,c=3");
  CHECK(LabelSelector::nothing().add(*extra).is_nothing());
  CHECK(LabelSelector::everything().add(*extra).to_string() == "b");
  CHECK(LabelSelector().empty());
  CHECK(must_parse("").empty());
  CHECK_FALSE(must_parse("a").empty());
}

}  // namespace
}  // namespace skiff::api
