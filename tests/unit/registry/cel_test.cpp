// SPDX-License-Identifier: Apache-2.0
// The CEL subset behind CRD x-kubernetes-validations: CEL's runtime semantics (precedence,
// heterogeneous numbers, error absorption, macros), the Kubernetes string and list extensions,
// cel-go's error texts, and the limits that keep hostile rules from crashing or hanging.
#include "cel.hpp"

#include <string>
#include <thread>
#include <vector>

#include "skiff/base/json.hpp"

#include "skiff_test.hpp"

namespace cel = skiff::registry::cel;
namespace json = skiff::json;

namespace {

json::Value parse_json(std::string_view text) {
  auto v = json::parse(text);
  INFO(text);
  REQUIRE(v);
  return *v;
}

// Compiles and evaluates; a compile error comes back as the error.
skiff::Result<json::Value> run(std::string_view expr, std::string_view self_json = "null",
                               const char* old_json = nullptr, cel::EvalOptions options = {}) {
  auto program = cel::compile(expr);
  if (!program) {
    return program.error();
  }
  json::Value self = parse_json(self_json);
  json::Value old_self = old_json != nullptr ? parse_json(old_json) : json::Value();
  cel::Bindings bindings{&self, old_json != nullptr ? &old_self : nullptr};
  return cel::evaluate(**program, bindings, options);
}

std::string error_of(std::string_view expr, std::string_view self_json = "null",
                     const char* old_json = nullptr) {
  auto r = run(expr, self_json, old_json);
  INFO(expr << " => " << (r ? json::serialize(*r) : std::string()));
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == skiff::Reason::kInvalid);
  return r.error().message;
}

std::string compile_error(std::string_view expr) {
  auto program = cel::compile(expr);
  INFO(expr);
  REQUIRE_FALSE(program);
  CHECK(program.error().reason == skiff::Reason::kInvalid);
  return program.error().message;
}

struct Case {
  const char* expr;
  const char* self;
  const char* expected;  // JSON
};

void check_cases(const std::vector<Case>& cases, const char* old_self = nullptr) {
  for (const Case& c : cases) {
    auto r = run(c.expr, c.self, old_self);
    INFO(c.expr << " on " << c.self << ": " << (r ? json::serialize(*r) : r.error().message));
    REQUIRE(r);
    json::Value expected = parse_json(c.expected);
    CHECK(*r == expected);
    if (expected.is_number()) {
      CHECK(r->type() == expected.type());  // 2 and 2.0 are equal JSON, but not the same CEL type
    }
  }
}

const char* const kDoc = R"({
  "name": "web-1", "replicas": 3, "ratio": 0.5, "flag": true, "nothing": null,
  "tags": ["a", "b", "c"], "ports": [80, 443],
  "labels": {"app": "web", "tier": "front"},
  "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "redis"}]},
  "pattern": "^web-[0-9]+$",
  "a-b": 1, "if": 2, "x.y": 3, "p/q": 4, "u__v": 5, "namespace": 6
})";

}  // namespace

TEST_CASE("literals", "[registry][cel]") {
  check_cases({
      {"1", "null", "1"},
      {"0x1F", "null", "31"},
      {"1u", "null", "1"},
      {"0x10u", "null", "16"},
      {"1.5", "null", "1.5"},
      {"1e3", "null", "1000.0"},
      {".5", "null", "0.5"},
      {"-2.5e-1", "null", "-0.25"},
      {"-9223372036854775808", "null", "-9223372036854775808"},
      {"9223372036854775807", "null", "9223372036854775807"},
      {"18446744073709551615u == 18446744073709551615u", "null", "true"},
      {"'single'", "null", R"("single")"},
      {R"("double")", "null", R"("double")"},
      {R"('''tri'ple
line''')",
       "null", R"("tri'ple\nline")"},
      {R"("""a"b""")", "null", R"("a\"b")"},
      {R"(r'\n\d')", "null", R"("\\n\\d")"},
      {R"(R"\t")", "null", R"("\\t")"},
      {R"('a\tb\n\\\'\"')", "null", R"("a\tb\n\\'\"")"},
      {R"('\x41\u00e9\101\U0001F600')", "null", "\"A\u00e9A\U0001F600\""},
      {R"(b'abc')", "null", R"("abc")"},
      {R"(size(b'\xff\377'))", "null", "2"},
      {R"(size('\xff'))", "null", "1"},  // a code point in a string, a byte in bytes
      {"true", "null", "true"},
      {"false", "null", "false"},
      {"null", "null", "null"},
      {"[1, 'a', true, null]", "null", R"([1, "a", true, null])"},
      {"[1, 2,]", "null", "[1, 2]"},
      {"[]", "null", "[]"},
      {"{'a': 1, 2: 'b', true: false}", "null", R"({"a": 1, "2": "b", "true": false})"},
      {"{'a': 1,}", "null", R"({"a": 1})"},
      {"{}", "null", "{}"},
      {"// a comment\n1 // another", "null", "1"},
  });
}

TEST_CASE("variables, selection and indexing", "[registry][cel]") {
  check_cases({
      {"self", "5", "5"},
      {"self.name", kDoc, R"("web-1")"},
      {"self.labels.app", kDoc, R"("web")"},
      {"self['labels']['tier']", kDoc, R"("front")"},
      {"self.tags[1]", kDoc, R"("b")"},
      {"self.tags[1u]", kDoc, R"("b")"},
      {"self.tags[2.0]", kDoc, R"("c")"},
      {"self.spec.containers[1].image", kDoc, R"("redis")"},
      {"{'a': {'b': [10, 20]}}.a.b[1]", "null", "20"},
      {"{1: 'one'}[1u]", "null", R"("one")"},
      {"{1: 'one'}[1.0]", "null", R"("one")"},
      {"self['nothing']", kDoc, "null"},  // index reads the member; selection treats null as absent
      {".self.replicas", kDoc, "3"},
      {"self.labels", kDoc, R"({"app": "web", "tier": "front"})"},
      // Kubernetes' escaped property names, and keywords as plain field names.
      {"self.a__dash__b", kDoc, "1"},
      {"self.__if__", kDoc, "2"},
      {"self.if", kDoc, "2"},
      {"self.x__dot__y", kDoc, "3"},
      {"self.p__slash__q", kDoc, "4"},
      {"self.u__underscores__v", kDoc, "5"},
      {"self.__namespace__ + self.namespace", kDoc, "12"},
  });
}

TEST_CASE("operators and precedence", "[registry][cel]") {
  check_cases({
      {"1 + 2 * 3", "null", "7"},
      {"(1 + 2) * 3", "null", "9"},
      {"10 - 4 - 3", "null", "3"},
      {"100 / 10 / 5", "null", "2"},
      {"2 * 3 % 4", "null", "2"},
      {"7 % 3", "null", "1"},
      {"-7 / 2", "null", "-3"},  // truncates toward zero
      {"-7 % 3", "null", "-1"},
      {"1 - -1", "null", "2"},
      {"-self", "4", "-4"},
      {"--self", "4", "4"},
      {"-(-5)", "null", "5"},
      {"- - 5", "null", "5"},
      {"-1.5 * 2.0", "null", "-3.0"},
      {"3u - 1u", "null", "2"},
      {"5u / 2u + 5u % 2u", "null", "3"},
      {"3u * 2u", "null", "6"},
      {"1.5 + 2.5", "null", "4.0"},
      {"1.0 / 4.0 - 0.5", "null", "-0.25"},
      {"1.0 / 0.0 > 1e308", "null", "true"},
      {"'ab' + 'cd'", "null", R"("abcd")"},
      {"[1] + [2, 3]", "null", "[1, 2, 3]"},
      {"self.tags + ['d']", kDoc, R"(["a", "b", "c", "d"])"},
      {"2 * 3 == 6", "null", "true"},
      {"1 < 2 == true", "null", "true"},  // relations share one level, left to right
      {"1 + 2 < 4 && 'a' + 'b' == 'ab'", "null", "true"},
      {"true || false && false", "null", "true"},  // && binds tighter than ||
      {"(true || false) && false", "null", "false"},
      {"!true || true", "null", "true"},
      {"!false", "null", "true"},
      {"!!true", "null", "true"},
      {"!!!true", "null", "false"},
      {"false ? 1 : 2", "null", "2"},
      {"true ? 1 : false ? 2 : 3", "null", "1"},
      {"false ? 1 : false ? 2 : 3", "null", "3"},
      {"1 < 2 ? 'yes' : 'no'", "null", R"("yes")"},
      {"true && true && true && false", "null", "false"},
      {"false || false || true", "null", "true"},
      {"1 != 2", "null", "true"},
      {"2 <= 2 && 2 >= 2 && 3 > 2", "null", "true"},
      {"'a' < 'b' && 'abc' < 'abd' && 'B' < 'a' && 'ab' < 'abc'", "null", "true"},
      {"'\u00e9' > 'z'", "null", "true"},  // code point order
      {"false < true", "null", "true"},
      {"b'a' < b'b'", "null", "true"},
      {"2 in [1, 2]", "null", "true"},
      {"3 in [1, 2]", "null", "false"},
      {"3 in []", "null", "false"},
      {"'app' in self.labels", kDoc, "true"},
      {"'web' in self.labels", kDoc, "false"},
      {"[1, 2] in [[1, 2], [3]]", "null", "true"},
      {"1 in {1: 'x'}", "null", "true"},
  });
}

TEST_CASE("numbers compare across int, uint and double", "[registry][cel]") {
  check_cases({
      {"1 == 1.0", "null", "true"},
      {"1 == 1u", "null", "true"},
      {"1u == 1.0", "null", "true"},
      {"1 == 1.0 && 1.0 == 1u", "null", "true"},
      {"1 != 2.0", "null", "true"},
      {"1 < 1.5", "null", "true"},
      {"2u > 1", "null", "true"},
      {"-1 < 0u", "null", "true"},
      {"1.5 <= 2u", "null", "true"},
      {"9223372036854775807 < 9223372036854775808.0", "null", "true"},
      {"18446744073709551615u > 9223372036854775807", "null", "true"},
      {"2.0 in [1, 2]", "null", "true"},
      {"[1, 2] == [1.0, 2u]", "null", "true"},
      {"{'a': 1} == {'a': 1.0}", "null", "true"},
      {"{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", "null", "true"},
      {"{'a': [1, {'b': 2}]} == {'a': [1, {'b': 2}]}", "null", "true"},
      {"{'a': [1, {'b': 2}]} == {'a': [1, {'b': 3}]}", "null", "false"},
      {"[1] == [1, 2]", "null", "false"},
      {"1 == 'a'", "null", "false"},  // heterogeneous equality: false, not an error
      {"[1] == {'a': 1}", "null", "false"},
      {"null == null", "null", "true"},
      {"self.nothing == null || true", kDoc, "true"},
      {"0.0 / 0.0 == 0.0 / 0.0", "null", "false"},
      {"0.0 / 0.0 < 1.0 || 0.0 / 0.0 >= 1.0", "null", "false"},  // NaN is unordered
      {"self.ratio < self.replicas", kDoc, "true"},
      {"self.replicas == 3.0", kDoc, "true"},
  });
}

TEST_CASE("errors are absorbed by && and || in either order", "[registry][cel]") {
  check_cases({
      {"false && 1 / 0 == 1", "null", "false"},
      {"1 / 0 == 1 && false", "null", "false"},
      {"true || 1 / 0 == 1", "null", "true"},
      {"1 / 0 == 1 || true", "null", "true"},
      {"self.missing == 1 || self.flag", kDoc, "true"},
      {"self.missing == 1 && !self.flag", kDoc, "false"},
      {"1 && false", "null", "false"},    // a non-bool operand is an error, absorbed too
      {"true ? 1 : 1 / 0", "null", "1"},  // ?: evaluates only the chosen branch
      {"false ? 1 / 0 : 2", "null", "2"},
      {"self.flag ? self.name : self.missing", kDoc, R"("web-1")"},
  });
  CHECK(error_of("true && 1 / 0 == 1") == "division by zero");
  CHECK(error_of("1 / 0 == 1 || false") == "division by zero");
  CHECK(error_of("self.missing == 1 && self.flag", kDoc) == "no such key: missing");
  CHECK(error_of("1 / 0 == 1 || self.nope", kDoc) == "division by zero");  // the first error
}

TEST_CASE("macros over lists and maps", "[registry][cel]") {
  check_cases({
      {"[1, 2, 3].all(x, x > 0)", "null", "true"},
      {"[1, 2, 3].all(x, x > 1)", "null", "false"},
      {"[].all(x, false)", "null", "true"},
      {"[1, 2, 3].exists(x, x == 2)", "null", "true"},
      {"[1, 2, 3].exists(x, x == 5)", "null", "false"},
      {"[].exists(x, true)", "null", "false"},
      {"[1, 2, 3].exists_one(x, x > 2)", "null", "true"},
      {"[1, 2, 3].exists_one(x, x > 1)", "null", "false"},
      {"[1, 2, 3].map(x, x * 2)", "null", "[2, 4, 6]"},
      {"[1, 2, 3].map(x, x > 1, x * 10)", "null", "[20, 30]"},
      {"[1, 2, 3, 4].filter(x, x % 2 == 0)", "null", "[2, 4]"},
      {"self.tags.map(t, t + t)", kDoc, R"(["aa", "bb", "cc"])"},
      {"self.spec.containers.all(c, c.image.size() > 0)", kDoc, "true"},
      {"self.spec.containers.map(c, c.name)", kDoc, R"(["a", "b"])"},
      {"self.spec.containers.exists(c, c.image.startsWith('nginx'))", kDoc, "true"},
      // Over maps, the variable ranges over the keys.
      {"self.labels.all(k, k.size() >= 3)", kDoc, "true"},
      {"self.labels.exists(k, self.labels[k] == 'front')", kDoc, "true"},
      {"self.labels.exists_one(k, k.startsWith('t'))", kDoc, "true"},
      {"self.labels.map(k, self.labels[k])", kDoc, R"(["web", "front"])"},
      {"self.labels.filter(k, self.labels[k] == 'web')", kDoc, R"(["app"])"},
      {"{'a': 1, 'b': 2}.map(k, k > 'a', k)", "null", R"(["b"])"},
      // Nesting and shadowing.
      {"[[1, 2], [3]].all(l, l.all(x, x > 0))", "null", "true"},
      {"[1, 2].map(x, [3, 4].map(y, x * y))", "null", "[[3, 4], [6, 8]]"},
      {"[1, 2].map(x, [10].map(y, x + y)[0])", "null", "[11, 12]"},
      {"[1, 2].all(x, [3].all(x, x == 3))", "null", "true"},
      {"[1].map(x, [2].map(x, x))", "null", "[[2]]"},
      {"[1, 2].map(x, [x].map(x, x * 10)[0] + x)", "null", "[11, 22]"},
      {"[1].all(self, self == 1)", "5", "true"},
      {"[1, 2, 3].filter(x, x > 1).map(x, x * x).exists(x, x == 9)", "null", "true"},
      // Errors inside all/exists are absorbed when another element decides.
      {"[0, -1].all(x, 1 / x > 0)", "null", "false"},
      {"[-1, 0].all(x, 1 / x > 0)", "null", "false"},
      {"[0, 1].exists(x, 1 / x > 0)", "null", "true"},
      {"[1, 0].exists(x, 1 / x > 0)", "null", "true"},
      // has()
      {"has(self.name)", kDoc, "true"},
      {"has(self.nope)", kDoc, "false"},
      {"has(self.nothing)", kDoc, "false"},  // null-valued fields count as absent
      {"has(self.labels.app) && !has(self.labels.zone)", kDoc, "true"},
      {"has(self.a__dash__b)", kDoc, "true"},
      {"has({'a': 1}.a)", "null", "true"},
  });
  CHECK(error_of("[0, 1].all(x, 1 / x > 0)") == "division by zero");
  CHECK(error_of("[0, -1].exists(x, 1 / x > 0)") == "division by zero");
  CHECK(error_of("[0, 1].exists_one(x, 1 / x > 0)") == "division by zero");
  CHECK(error_of("[0, 1].map(x, 1 / x)") == "division by zero");
  CHECK(error_of("[1].all(x, x)") == "no matching overload for 'all' applied to '(int)'");
  CHECK(error_of("1.all(x, true)") ==
        "expression of type 'int' cannot be range of a comprehension (must be list, map, or "
        "dynamic)");
  CHECK(error_of("has(self.name.x)", kDoc) == "type 'string' does not support field selection");
}

TEST_CASE("standard functions and conversions", "[registry][cel]") {
  check_cases({
      {"size('h\u00e9llo')", "null", "5"},
      {"'h\u00e9llo'.size()", "null", "5"},
      {"size([1, 2])", "null", "2"},
      {"{'a': 1}.size()", "null", "1"},
      {"size(b'ab')", "null", "2"},
      {"size(self.labels) + self.tags.size()", kDoc, "5"},
      {"'hello'.contains('ell')", "null", "true"},
      {"'hello'.contains('')", "null", "true"},
      {"'hello'.startsWith('he')", "null", "true"},
      {"'hello'.endsWith('lo')", "null", "true"},
      {"'hello'.endsWith('x')", "null", "false"},
      {"'abc123'.matches('^[a-z]+[0-9]+$')", "null", "true"},
      {"matches('abc', 'b')", "null", "true"},  // search semantics: unanchored
      {"'abc'.matches('^b')", "null", "false"},
      {"self.name.matches(self.pattern)", kDoc, "true"},
      {"'x'.matches(self.pattern)", kDoc, "false"},
      {"int('42') + int('-7')", "null", "35"},
      {"int(3.9)", "null", "3"},
      {"int(-3.9)", "null", "-3"},
      {"int(5u)", "null", "5"},
      {"uint(5)", "null", "5"},
      {"uint('7') == 7u", "null", "true"},
      {"double(2)", "null", "2.0"},
      {"double('1.5')", "null", "1.5"},
      {"double(3u)", "null", "3.0"},
      {"string(42)", "null", R"("42")"},
      {"string(-1)", "null", R"("-1")"},
      {"string(5u)", "null", R"("5")"},
      {"string(1.5)", "null", R"("1.5")"},
      {"string(100.0)", "null", R"("100")"},
      {"string(1e6)", "null", R"("1e+06")"},
      {"string(0.0001)", "null", R"("0.0001")"},
      {"string(0.00001)", "null", R"("1e-05")"},
      {"string(true)", "null", R"("true")"},
      {"string(b'abc')", "null", R"("abc")"},
      {"string('s')", "null", R"("s")"},
      {"bytes('ab') == b'ab'", "null", "true"},
      {"bool('true') && !bool('0') && bool('T')", "null", "true"},
      {"type(1) == int && type(1u) == uint && type(1.0) == double", "null", "true"},
      {"type('a') == string && type(b'') == bytes && type(true) == bool", "null", "true"},
      {"type([]) == list && type({}) == map && type(null) == null_type", "null", "true"},
      {"type(int) == type", "null", "true"},
      {"type(self.labels) == map && type(self.tags) == list", kDoc, "true"},
      {"type(1) == string", "null", "false"},
      {"type(1)", "null", R"("int")"},
      {"dyn(1) + 1", "null", "2"},
  });
  CHECK(error_of("int('abc')") == R"(strconv.ParseInt: parsing "abc": invalid syntax)");
  CHECK(error_of("int('99999999999999999999')") ==
        R"(strconv.ParseInt: parsing "99999999999999999999": value out of range)");
  CHECK(error_of("double('x')") == R"(strconv.ParseFloat: parsing "x": invalid syntax)");
  CHECK(error_of("bool('yes')") == R"(strconv.ParseBool: parsing "yes": invalid syntax)");
  CHECK(error_of("uint(-1)") == "unsigned integer overflow");
  CHECK(error_of("int(1e19)") == "integer overflow");
  CHECK(error_of("int(18446744073709551615u)") == "integer overflow");
  CHECK(error_of("'x'.matches(self)", R"("(")") == "error parsing regexp: missing closing ): `(`");
}

TEST_CASE("Kubernetes string and list extensions", "[registry][cel]") {
  check_cases({
      {"'HeLLo'.lowerAscii()", "null", R"("hello")"},
      {"'hello \u00e9'.upperAscii()", "null", "\"HELLO \u00e9\""},
      {"'  a b \\t\\n'.trim()", "null", R"("a b")"},
      {"'\u00a0x\u3000'.trim()", "null", R"("x")"},
      {"'a,b,,c'.split(',')", "null", R"(["a", "b", "", "c"])"},
      {"'a,b,c'.split(',', 2)", "null", R"(["a", "b,c"])"},
      {"'a,b'.split(',', 0)", "null", "[]"},
      {"'abc'.split('')", "null", R"(["a", "b", "c"])"},
      {"''.split(',')", "null", R"([""])"},
      {"['a', 'b'].join('-')", "null", R"("a-b")"},
      {"['a', 'b'].join()", "null", R"("ab")"},
      {"[].join(',')", "null", R"("")"},
      {"self.tags.join(', ')", kDoc, R"("a, b, c")"},
      {"'hello'.indexOf('l')", "null", "2"},
      {"'hello'.indexOf('l', 3)", "null", "3"},
      {"'hello'.indexOf('z')", "null", "-1"},
      {"'hello'.indexOf('')", "null", "0"},
      {"'h\u00e9llo'.indexOf('l')", "null", "2"},  // in code points
      {"'hello'.lastIndexOf('l')", "null", "3"},
      {"'hello'.lastIndexOf('l', 2)", "null", "2"},
      {"'hello'.lastIndexOf('')", "null", "5"},
      {"'hello'.lastIndexOf('x')", "null", "-1"},
      {"'a-b-c'.replace('-', '+')", "null", R"("a+b+c")"},
      {"'a-b-c'.replace('-', '+', 1)", "null", R"("a+b-c")"},
      {"'abc'.replace('', '-')", "null", R"("-a-b-c-")"},
      {"'hello'.substring(1)", "null", R"("ello")"},
      {"'hello'.substring(1, 3)", "null", R"("el")"},
      {"'h\u00e9llo'.substring(1, 2)", "null", "\"\u00e9\""},
      {"'hello'.substring(5)", "null", R"("")"},
      {"'hello'.charAt(1)", "null", R"("e")"},
      {"'hello'.charAt(5)", "null", R"("")"},
      {"'abc'.reverse()", "null", R"("cba")"},
      {"[1, 2, 3].isSorted()", "null", "true"},
      {"[3, 1].isSorted()", "null", "false"},
      {"['a', 'b', 'b'].isSorted()", "null", "true"},
      {"[].isSorted()", "null", "true"},
      {"[1, 2, 3].sum()", "null", "6"},
      {"[1.5, 2.5].sum()", "null", "4.0"},
      {"[].sum()", "null", "0"},
      {"self.ports.sum()", kDoc, "523"},
      {"[3, 1, 2].min()", "null", "1"},
      {"[3, 1, 2].max()", "null", "3"},
      {"['b', 'a'].min()", "null", R"("a")"},
      {"[1, 2, 1].indexOf(1)", "null", "0"},
      {"[1, 2, 1].lastIndexOf(1)", "null", "2"},
      {"[1, 2].indexOf(3)", "null", "-1"},
      {"[[1], [2]].indexOf([2])", "null", "1"},
  });
  CHECK(error_of("[].min()") == "min called on empty list");
  CHECK(error_of("[1, 'a'].max()") == "no matching overload for 'max' applied to '(int, string)'");
  CHECK(error_of("[1, 'a'].sum()") == "no matching overload for '_+_' applied to '(int, string)'");
  CHECK(error_of("'abc'.substring(2, 1)") == "invalid substring range. start: 2, end: 1");
  CHECK(error_of("'abc'.substring(4)") == "index out of range: 4");
  CHECK(error_of("'abc'.charAt(4)") == "index out of range: 4");
  CHECK(error_of("'abc'.indexOf('a', 9)") == "index out of range: 9");
  CHECK(error_of("[1, 2].join()") == "join: list element 0 is a int, not a string");
}

TEST_CASE("transition rules see oldSelf", "[registry][cel]") {
  const char* old_doc = R"({"replicas": 2, "name": "web-1"})";
  const char* new_doc = R"({"replicas": 3, "name": "web-1"})";
  check_cases({{"self == oldSelf", old_doc, "true"},
               {"self.name == oldSelf.name", new_doc, "true"},
               {"self.replicas >= oldSelf.replicas", new_doc, "true"},
               {"self == oldSelf", new_doc, "false"}},
              old_doc);
  auto transition = cel::compile("self.replicas >= oldSelf.replicas");
  REQUIRE(transition);
  CHECK(cel::uses_old_self(**transition));
  CHECK(cel::source(**transition) == "self.replicas >= oldSelf.replicas");
  auto plain = cel::compile("self.replicas >= 0");
  REQUIRE(plain);
  CHECK_FALSE(cel::uses_old_self(**plain));
  auto shadowed = cel::compile("self.all(oldSelf, oldSelf > 0)");
  REQUIRE(shadowed);
  CHECK_FALSE(cel::uses_old_self(**shadowed));
  // Unbound oldSelf (a create, not an update).
  CHECK(error_of("self == oldSelf", new_doc) == "no such attribute: oldSelf");
  // The same JSON node on both sides, and separately built deep equal values.
  json::Value a = parse_json(new_doc);
  auto same = cel::compile("self == oldSelf");
  REQUIRE(same);
  auto r = cel::evaluate(**same, {&a, &a});
  REQUIRE(r);
  CHECK(*r == json::Value(true));
}

TEST_CASE("evaluation errors carry cel-go's texts", "[registry][cel]") {
  CHECK(error_of("self.nope", kDoc) == "no such key: nope");
  CHECK(error_of("self.nothing", kDoc) == "no such key: nothing");
  CHECK(error_of("self['nope']", kDoc) == "no such key: nope");
  CHECK(error_of("self.labels.nope.x", kDoc) == "no such key: nope");
  CHECK(error_of("self.name.x", kDoc) == "type 'string' does not support field selection");
  CHECK(error_of("{1: 2}[3]") == "no such key: 3");
  CHECK(error_of("'a' + 1") == "no matching overload for '_+_' applied to '(string, int)'");
  CHECK(error_of("1 + 1.0") == "no matching overload for '_+_' applied to '(int, double)'");
  CHECK(error_of("1u + 1") == "no matching overload for '_+_' applied to '(uint, int)'");
  CHECK(error_of("1 < 'a'") == "no matching overload for '_<_' applied to '(int, string)'");
  CHECK(error_of("[1] < [2]") == "no matching overload for '_<_' applied to '(list, list)'");
  CHECK(error_of("-'a'") == "no matching overload for '-_' applied to '(string)'");
  CHECK(error_of("-1u") == "no matching overload for '-_' applied to '(uint)'");
  CHECK(error_of("!1") == "no matching overload for '!_' applied to '(int)'");
  CHECK(error_of("1.5 % 1.0") == "no matching overload for '_%_' applied to '(double, double)'");
  CHECK(error_of("1 in 'abc'") == "no matching overload for '@in' applied to '(int, string)'");
  CHECK(error_of("'abc'.contains(1)") ==
        "no matching overload for 'contains' applied to 'string.(int)'");
  CHECK(error_of("size(1)") == "no matching overload for 'size' applied to '(int)'");
  CHECK(error_of("[1].startsWith('a')") ==
        "no matching overload for 'startsWith' applied to 'list.(string)'");
  CHECK(error_of("'a'['b']") == "no matching overload for '_[_]' applied to '(string, string)'");
  CHECK(error_of("[1]['a']") == "no matching overload for '_[_]' applied to '(list, string)'");
  CHECK(error_of("1 ? 2 : 3").find("no matching overload for '_?_:_'") == 0);
  CHECK(error_of("1 / 0") == "division by zero");
  CHECK(error_of("1u / 0u") == "division by zero");
  CHECK(error_of("1 % 0") == "modulus by zero");
  CHECK(error_of("1u % 0u") == "modulus by zero");
  CHECK(error_of("9223372036854775807 + 1") == "integer overflow");
  CHECK(error_of("-9223372036854775808 - 1") == "integer overflow");
  CHECK(error_of("9223372036854775807 * 2") == "integer overflow");
  CHECK(error_of("-9223372036854775808 / -1") == "integer overflow");
  CHECK(error_of("-9223372036854775808 % -1") == "integer overflow");
  CHECK(error_of("-(-9223372036854775808)") == "integer overflow");
  CHECK(error_of("0u - 1u") == "unsigned integer overflow");
  CHECK(error_of("[1, 2, 3][3]") == "index out of bounds: 3");
  CHECK(error_of("[1][-1]") == "index out of bounds: -1");
  CHECK(error_of("self.tags[5]", kDoc) == "index out of bounds: 5");
  CHECK(error_of("{'a': 1, 'a': 2}") == "Failed with repeated key: a");
  CHECK(error_of("{[1]: 2}") == "unsupported key type: list");
  CHECK(error_of("string(b'\\xff')") == "invalid UTF-8 in bytes, cannot convert to string");
  // Unbound self.
  auto program = cel::compile("self");
  REQUIRE(program);
  auto r = cel::evaluate(**program, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "no such attribute: self");
}

TEST_CASE("compile errors read like cel-go's", "[registry][cel]") {
  CHECK(compile_error("self.x >") ==
        "ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', "
        "'.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, "
        "IDENTIFIER}\n | self.x >\n | ........^");
  CHECK(compile_error("x") ==
        "ERROR: <input>:1:1: undeclared reference to 'x' (in container '')\n | x\n | ^");
  CHECK(compile_error("self.a ==\n  foo.bar") ==
        "ERROR: <input>:2:3: undeclared reference to 'foo' (in container '')\n |   foo.bar\n"
        " | ..^");
  CHECK(compile_error("'\u00e9' + x") ==
        "ERROR: <input>:1:7: undeclared reference to 'x' (in container '')\n | '\u00e9' + x\n"
        " | ......^");  // the column counts code points
  CHECK(compile_error("1 2") ==
        "ERROR: <input>:1:3: Syntax error: mismatched input '2' expecting <EOF>\n | 1 2\n"
        " | ..^");
  CHECK(compile_error("(1") ==
        "ERROR: <input>:1:3: Syntax error: mismatched input '<EOF>' expecting ')'\n | (1\n"
        " | ..^");
  CHECK(compile_error("if") == "ERROR: <input>:1:1: reserved identifier: if\n | if\n | ^");
  CHECK(compile_error("foo(1)").find("ERROR: <input>:1:1: undeclared reference to 'foo'") == 0);
  CHECK(compile_error("self.bar(1)").find("ERROR: <input>:1:6: undeclared reference to 'bar'") ==
        0);
  CHECK(compile_error("[1].all(1, true)").find("argument must be a simple name") !=
        std::string::npos);
  CHECK(compile_error("has(self)").find("invalid argument to has() macro") != std::string::npos);
  CHECK(compile_error("'abc").find("Syntax error: token recognition error at: ''abc'") !=
        std::string::npos);
  CHECK(compile_error("1 # 2").find("1:3: Syntax error: token recognition error at: '#'") !=
        std::string::npos);
  CHECK(compile_error("'a'.matches('(')")
            .find("1:13: error parsing regexp: missing closing ): `(`") != std::string::npos);
  CHECK(compile_error("99999999999999999999").find("invalid int literal") != std::string::npos);
  CHECK(compile_error("9223372036854775808").find("invalid int literal") != std::string::npos);
  CHECK(compile_error("1e999").find("invalid double literal") != std::string::npos);
  CHECK(compile_error("'\\q'").find("invalid escape sequence") != std::string::npos);
  CHECK(compile_error("b'\\u0041'").find("invalid escape sequence") != std::string::npos);
  CHECK(compile_error("-!true").find("Syntax error: mismatched input '!'") != std::string::npos);
  CHECK(compile_error("").find("1:1: Syntax error: mismatched input '<EOF>'") != std::string::npos);
  CHECK(compile_error("self.").find("expecting IDENTIFIER") != std::string::npos);
  CHECK(compile_error("a + 1").find("undeclared reference to 'a'") != std::string::npos);
  CHECK(compile_error("self = 1").find("token recognition error at: '='") != std::string::npos);
  CHECK(compile_error("self.x.all(y)").find("undeclared reference to 'y'") != std::string::npos);
  CHECK(compile_error("[1].all(x, true, false)").find("undeclared reference to 'all'") !=
        std::string::npos);
  CHECK(compile_error("[1].map(x, x").find("expecting {')', ','}") != std::string::npos);
  CHECK(compile_error("[1].all(x, x) && x").find("undeclared reference to 'x'") !=
        std::string::npos);  // the variable's scope ends with its macro
}

TEST_CASE("limits: bad input neither crashes nor hangs", "[registry][cel]") {
  // Nesting far past the limit is a syntax error, not a stack overflow.
  std::string parens = std::string(10000, '(') + "1" + std::string(10000, ')');
  CHECK(compile_error(parens).find("Syntax error: expression recursion limit exceeded: 250") !=
        std::string::npos);
  CHECK(compile_error(std::string(10000, '[') + std::string(10000, ']'))
            .find("recursion limit exceeded") != std::string::npos);
  CHECK(compile_error("self" + std::string(10000, '.') + "a").find("expecting IDENTIFIER") !=
        std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) {
    chain += " + 1";
  }
  CHECK(compile_error(chain).find("recursion limit exceeded") != std::string::npos);
  std::string members = "self";
  for (int i = 0; i < 5000; ++i) {
    members += ".a";
  }
  CHECK(compile_error(members).find("recursion limit exceeded") != std::string::npos);
  // Within the limit everything works; long && / || chains are flat.
  std::string nested = std::string(200, '(') + "1" + std::string(200, ')');
  check_cases({{nested.c_str(), "null", "1"}});
  std::string conj = "true";
  for (int i = 0; i < 5000; ++i) {
    conj += " && true";
  }
  check_cases({{conj.c_str(), "null", "true"}});
  check_cases({{(std::string(10001, '!') + "true").c_str(), "null", "false"}});
  check_cases({{(std::string(9999, '-') + "1").c_str(), "null", "-1"}});
  // Source length.
  std::string huge = "'" + std::string(cel::kMaxSourceSize, 'a') + "'";
  CHECK(compile_error(huge).find("exceeds limit") != std::string::npos);

  // The step budget stops runaway evaluation.
  std::string list = "[";
  for (int i = 0; i < 1000; ++i) {
    list += (i > 0 ? "," : "") + std::to_string(i);
  }
  list += "]";
  auto r = run("self.all(x, self.all(y, self.all(z, x + y + z >= 0)))", list);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "operation cancelled: actual cost limit exceeded");
  r = run(list + ".all(x, " + list + ".all(y, " + list + ".all(z, true)))");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "operation cancelled: actual cost limit exceeded");
  // A budget exhaustion is not absorbed by || (it is not a CEL error value).
  r = run("true || self.all(x, self.all(y, self.all(z, true)))", list);
  REQUIRE(r);  // short-circuit: the loop never runs
  r = run("self.all(x, self.all(y, self.all(z, true))) || true", list);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "operation cancelled: actual cost limit exceeded");
  cel::EvalOptions small;
  small.step_limit = 10;
  r = run("[1, 2, 3].map(x, x * 2)", "null", nullptr, small);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "operation cancelled: actual cost limit exceeded");
  r = run("self.all(x, self.all(y, true))", list);  // a million steps: within the default
  REQUIRE(r);
  CHECK(*r == json::Value(true));
  // Size-dependent work is charged: a long string searched against a heavy pattern.
  std::string text(4000000, 'a');
  auto program = cel::compile("self.matches('^(a{100}){10}b$')");
  REQUIRE(program);
  json::Value self = text;
  auto m = cel::evaluate(**program, {&self});
  REQUIRE_FALSE(m);
  CHECK(m.error().message == "operation cancelled: actual cost limit exceeded");

  // Deep JSON on both sides of == is walked without recursion (5000 levels: deeper than any
  // expression, shallow enough for json::Value's own recursive destructor).
  auto deep = [] {
    json::Value v = 1;
    for (int i = 0; i < 5000; ++i) {
      json::Array a;
      a.push_back(std::move(v));
      json::Object o;
      o.append_new("a", json::Value(std::move(a)));
      v = json::Value(std::move(o));
    }
    return v;
  };
  json::Value d1 = deep();
  json::Value d2 = deep();
  auto eq = cel::compile("self == oldSelf && [self] == [oldSelf]");
  REQUIRE(eq);
  auto er = cel::evaluate(**eq, {&d1, &d2});
  REQUIRE(er);
  CHECK(*er == json::Value(true));
}

TEST_CASE("a compiled program is shared across threads", "[registry][cel]") {
  auto program = cel::compile(
      "self.spec.containers.all(c, c.name.matches('^[a-z]+$')) && self.tags.join('') == 'abc'");
  REQUIRE(program);
  json::Value doc = parse_json(kDoc);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto r = cel::evaluate(**program, {&doc});
        ok[static_cast<std::size_t>(t)] += r && *r == json::Value(true) ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(ok == std::vector<int>(4, 500));
}
