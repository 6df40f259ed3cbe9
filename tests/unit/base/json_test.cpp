// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/json.hpp"

#include <string>

#include "skiff/base/base64.hpp"
#include "skiff/base/yaml.hpp"
#include "skiff_test.hpp"

using skiff::json::Array;
using skiff::json::Object;
using skiff::json::Value;

TEST_CASE("json round-trips documents and keeps member order", "[base][json]") {
  auto v = skiff::json::parse(R"( {"b":1,"a":[true,null,"x\"y",-5,2.5],"c":{"z":{}} } )");
  REQUIRE(v);
  CHECK(skiff::json::serialize(*v) == R"({"b":1,"a":[true,null,"x\"y",-5,2.5],"c":{"z":{}}})");
  CHECK((*v)["a"].as_array().size() == 5);
  CHECK((*v)["a"].as_array()[3].as_int() == -5);
  CHECK((*v)["a"].as_array()[4].as_double() == 2.5);
  CHECK((*v)["missing"].is_null());
  CHECK(v->get_path({"c", "z"})->is_object());
  CHECK(v->get_path({"c", "y"}) == nullptr);
}

TEST_CASE("json numbers: int64 range, large values and integral doubles", "[base][json]") {
  auto v = skiff::json::parse(R"([9223372036854775807,-9223372036854775808,18446744073709551615,1e3,0.1])");
  REQUIRE(v);
  const auto& a = v->as_array();
  CHECK(a[0].is_int());
  CHECK(a[0].as_int() == INT64_MAX);
  CHECK(a[1].as_int() == INT64_MIN);
  CHECK(a[2].is_double());
  CHECK(a[3].is_double());
  CHECK(a[3].is_integral());
  CHECK(a[3].as_int() == 1000);
  CHECK(skiff::json::serialize(a[3]) == "1000");
  CHECK(skiff::json::serialize(a[4]) == "0.1");
  CHECK(Value(1) == Value(1.0));
  CHECK_FALSE(Value(1) == Value("1"));
}

TEST_CASE("json equality ignores member order", "[base][json]") {
  auto a = skiff::json::parse(R"({"x":1,"y":{"p":[1,2],"q":null}})");
  auto b = skiff::json::parse(R"({"y":{"q":null,"p":[1,2]},"x":1})");
  auto c = skiff::json::parse(R"({"y":{"q":null,"p":[2,1]},"x":1})");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(*a == *b);
  CHECK_FALSE(*a == *c);
}

TEST_CASE("json rejects malformed input with a clear error", "[base][json]") {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "nul", "\"\xff\"", "{'a':1}",
                          "[1] [2]"}) {
    auto v = skiff::json::parse(bad);
    INFO(bad);
    REQUIRE_FALSE(v);
    CHECK(v.error().reason == skiff::Reason::kBadRequest);
    CHECK(v.error().message.find("invalid JSON at offset") == 0);
  }
}

TEST_CASE("json bounds nesting depth instead of overflowing the stack", "[base][json]") {
  std::string deep(100000, '[');
  auto v = skiff::json::parse(deep);
  REQUIRE_FALSE(v);
  CHECK(v.error().message.find("nesting deeper than") != std::string::npos);
  std::string ok = std::string(100, '[') + std::string(100, ']');
  CHECK(skiff::json::parse(ok));
}

TEST_CASE("json reports duplicate keys with their field paths", "[base][json]") {
  const char* doc = R"({"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"image":"x"},{"image":"y","image":"z"}]}})";
  auto strict = skiff::json::parse(doc);
  REQUIRE_FALSE(strict);
  CHECK(strict.error().message.find("duplicate key \"name\"") != std::string::npos);

  std::vector<std::string> dups;
  skiff::json::ParseOptions options;
  options.duplicates = &dups;
  auto v = skiff::json::parse(doc, options);
  REQUIRE(v);
  CHECK(dups == std::vector<std::string>{"metadata.name", "spec.containers[1].image"});
  CHECK((*v)["metadata"]["name"].as_string() == "b");  // last wins
  CHECK((*v)["spec"]["containers"].as_array()[1]["image"].as_string() == "z");
}

TEST_CASE("json detects duplicates in large objects too", "[base][json]") {
  std::string doc = "{";
  for (int i = 0; i < 100; ++i) {
    doc += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  doc += "\"k42\":0}";
  std::vector<std::string> dups;
  skiff::json::ParseOptions options;
  options.duplicates = &dups;
  auto v = skiff::json::parse(doc, options);
  REQUIRE(v);
  CHECK(dups == std::vector<std::string>{"k42"});
  CHECK(v->size() == 100);
}

TEST_CASE("json object editing", "[base][json]") {
  Value v;
  v["metadata"]["name"] = "web";
  v["metadata"]["labels"]["app"] = "x";
  v["spec"] = Object{{"replicas", 3}};
  CHECK(skiff::json::serialize(v) ==
        R"({"metadata":{"name":"web","labels":{"app":"x"}},"spec":{"replicas":3}})");
  CHECK(v["metadata"].as_object().erase("labels"));
  CHECK_FALSE(v["metadata"].as_object().erase("labels"));
  CHECK(v.string_or("nope", "dflt") == "dflt");
  CHECK(v["spec"].int_or("replicas") == 3);
  CHECK(skiff::json::quote("a\"b\n") == R"("a\"b\n")");
  CHECK(skiff::json::serialize_pretty(v) ==
        "{\n  \"metadata\": {\n    \"name\": \"web\"\n  },\n  \"spec\": {\n    \"replicas\": 3\n  }\n}");
}

TEST_CASE("yaml parses Kubernetes manifests into the same values as JSON", "[base][yaml]") {
  auto y = skiff::yaml::parse(R"(
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {app: "web", tier: '1'}
data:
  quoted: "true"
  number: "42"
  empty: ""
spec:
  replicas: 3
  ratio: 0.5
  on: true
  hex: 0x10
  nothing: ~
  blank:
  list: [a, 2, false]
)");
  REQUIRE(y);
  auto j = skiff::json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"app":"web","tier":"1"}},
    "data":{"quoted":"true","number":"42","empty":""},
    "spec":{"replicas":3,"ratio":0.5,"on":true,"hex":16,"nothing":null,"blank":null,"list":["a",2,false]}})");
  REQUIRE(j);
  CHECK(*y == *j);
  CHECK((*y)["spec"]["replicas"].is_int());
}

TEST_CASE("yaml errors name the position and never crash", "[base][yaml]") {
  auto bad = skiff::yaml::parse("a: [1, 2\nb: c");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == skiff::Reason::kBadRequest);
  CHECK(bad.error().message.find("yaml: line") == 0);

  // Nine levels of ten aliases each would expand to 10^9 nodes.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 9; ++k) {
      bomb += ", " + prev;
    }
    bomb += "]\n";
  }
  auto expanded = skiff::yaml::parse(bomb);
  REQUIRE_FALSE(expanded);
  CHECK(expanded.error().message.find("too many nodes") != std::string::npos);
}

TEST_CASE("yaml output reads back to the same value", "[base][yaml]") {
  auto v = skiff::json::parse(
      R"({"a":"true","b":true,"c":"","d":[],"e":{},"f":[1,"2",{"g":null}],"h":"x: y","i":1.5})");
  REQUIRE(v);
  std::string text = skiff::yaml::serialize(*v);
  auto back = skiff::yaml::parse(text);
  REQUIRE(back);
  INFO(text);
  CHECK(*back == *v);
}

TEST_CASE("base64 encodes and decodes both alphabets strictly", "[base][base64]") {
  CHECK(skiff::base64::encode("") == "");
  CHECK(skiff::base64::encode("f") == "Zg==");
  CHECK(skiff::base64::encode("fo") == "Zm8=");
  CHECK(skiff::base64::encode("foo") == "Zm9v");
  CHECK(skiff::base64::encode("foobar") == "Zm9vYmFy");
  CHECK(skiff::base64::encode_url("\xfb\xff") == "-_8");
  CHECK(skiff::base64::decode("Zm9vYg==") == std::optional<std::string>("foob"));
  CHECK(skiff::base64::decode_url("-_8") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(skiff::base64::decode("Zm9vYg"));    // padding required
  CHECK_FALSE(skiff::base64::decode("Zm9v*g=="));  // bad character
  CHECK_FALSE(skiff::base64::decode("Zh=="));      // non-canonical trailing bits
  CHECK_FALSE(skiff::base64::decode_url("A"));
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  CHECK(skiff::base64::decode(skiff::base64::encode(all)) == std::optional<std::string>(all));
  CHECK(skiff::base64::decode_url(skiff::base64::encode_url(all)) == std::optional<std::string>(all));
}

TEST_CASE("json parses very wide objects in linear time", "[base][json]") {
  // 200k members: a quadratic member lookup per key would take minutes here.
  std::string doc = "{";
  for (int i = 0; i < 200000; ++i) {
    doc += "\"key" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  doc.back() = '}';
  auto v = skiff::json::parse(doc);
  REQUIRE(v);
  CHECK(v->size() == 200000);
  CHECK((*v)["key199999"].as_int() == 199999);
}

TEST_CASE("json strings: control characters, quotes and backslashes are escaped, UTF-8 is kept",
          "[base][json]") {
  std::string all;
  for (int c = 0; c < 0x80; ++c) {
    all.push_back(static_cast<char>(c));
  }
  all += "\xc3\xa9\xe2\x82\xac";  // é €
  std::string expected = "\"";
  for (int c = 0; c < 0x80; ++c) {
    switch (c) {
      case '\b': expected += "\\b"; break;
      case '\t': expected += "\\t"; break;
      case '\n': expected += "\\n"; break;
      case '\f': expected += "\\f"; break;
      case '\r': expected += "\\r"; break;
      case '"': expected += "\\\""; break;
      case '\\': expected += "\\\\"; break;
      default:
        if (c < 0x20) {
          expected += "\\u00";
          expected.push_back("0123456789ABCDEF"[c >> 4]);
          expected.push_back("0123456789ABCDEF"[c & 0xF]);
        } else {
          expected.push_back(static_cast<char>(c));
        }
    }
  }
  expected += "\xc3\xa9\xe2\x82\xac\"";
  CHECK(skiff::json::quote(all) == expected);
  // Keys and values are written alike, in compact and pretty output, and read back unchanged.
  Value doc = Object{{all, all}, {"k", Array{all, 1}}};
  std::string text = skiff::json::serialize(doc);
  CHECK(text == "{" + expected + ":" + expected + ",\"k\":[" + expected + ",1]}");
  auto back = skiff::json::parse(text);
  REQUIRE(back);
  CHECK(*back == doc);
  auto pretty = skiff::json::parse(skiff::json::serialize_pretty(doc));
  REQUIRE(pretty);
  CHECK(*pretty == doc);
}
