// SPDX-License-Identifier: Apache-2.0
// Data-driven strategy cases: every JSON file under tests/data/registry/strategies holds upstream's
// expectations as data (defaulted objects, validation messages, Table cells, field selector
// values), and this runner checks the built-in strategies against them.
#include <filesystem>
#include <string>
#include <vector>

#include "skiff/api/time.hpp"
#include "skiff/api/validation.hpp"

#include "registry_test_util.hpp"
#include "strategies.hpp"

namespace {

using skiff::json::Value;
using skiff::registry::GroupVersionKind;
using skiff::registry::Strategy;
using skiff::registry::TimePoint;
using skiff::testing::json_diff;
using skiff::testing::parse_json;
using skiff::testing::read_file;

const Strategy& strategy_of(const Value& object) {
  std::string api_version(object.string_or("apiVersion"));
  GroupVersionKind gvk;
  auto slash = api_version.find('/');
  if (slash == std::string::npos) {
    gvk.version = api_version;
  } else {
    gvk.group = api_version.substr(0, slash);
    gvk.version = api_version.substr(slash + 1);
  }
  gvk.kind = std::string(object.string_or("kind"));
  return skiff::registry::strategy_for(gvk);
}

TimePoint time_of(const Value& c) {
  auto t = skiff::api::parse_rfc3339(c.string_or("now", "2024-05-01T12:00:00Z"));
  REQUIRE(t);
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
}

std::vector<std::string> files() {
  std::vector<std::string> out;
  for (const auto& e :
       std::filesystem::directory_iterator(skiff::testing::registry_data_path("strategies"))) {
    if (e.path().extension() == ".json") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Value lines_of(const std::vector<skiff::FieldCause>& causes) {
  skiff::json::Array out;
  for (const auto& c : causes) {
    out.emplace_back(skiff::api::to_string(c));
  }
  return Value(std::move(out));
}

// Members of `want` that `got` lacks or holds differently (objects compared member by member, so
// `want` may leave out what the test does not care about, such as generated timestamps).
std::string subset_diff(const Value& want, const Value& got, const std::string& path) {
  if (want.is_object() && got.is_object()) {
    std::string out;
    for (const auto& m : want.as_object()) {
      const Value* g = got.get(m.key);
      if (g == nullptr) {
        out += path + "." + m.key + ": missing\n";
      } else {
        out += subset_diff(m.value, *g, path + "." + m.key);
      }
    }
    return out;
  }
  return json_diff(want, got).empty() ? ""
                                      : path + ": " + skiff::json::serialize(got) + " vs " +
                                            skiff::json::serialize(want) + "\n";
}

}  // namespace

TEST_CASE("strategy cases from test data") {
  std::size_t checked = 0;
  for (const std::string& file : files()) {
    Value doc = parse_json(read_file(file));
    for (const Value& c : doc["defaults"].as_array()) {
      INFO(file << " defaults: " << c.string_or("name"));
      Value object = c["input"];
      strategy_of(object).apply_defaults(object);
      CHECK(json_diff(object, c["expected"]) == "");
      // Defaulting is idempotent (creates and updates default again).
      Value again = object;
      strategy_of(again).apply_defaults(again);
      CHECK(json_diff(again, object) == "");
      ++checked;
    }
    for (const Value& c : doc["create"].as_array()) {
      INFO(file << " create: " << c.string_or("name"));
      Value object = c["input"];
      const Strategy& s = strategy_of(object);
      s.prepare_for_create(object);
      s.apply_defaults(object);
      CHECK(subset_diff(c["expected"], object, "") == "");
      if (const Value* g = c.get("generation")) {
        CHECK(s.tracks_generation() == g->as_bool());
      }
      ++checked;
    }
    for (const Value& c : doc["validate"].as_array()) {
      INFO(file << " validate: " << c.string_or("name"));
      Value object = c["object"];
      const Strategy& s = strategy_of(object);
      if (c.bool_or("default", true)) {
        s.apply_defaults(object);
      }
      std::vector<skiff::FieldCause> causes;
      if (const Value* old = c.get("old")) {
        Value before = *old;
        s.apply_defaults(before);
        s.prepare_for_update(object, before);
        causes = s.validate_update(object, before);
      } else {
        causes = s.validate(object);
      }
      CHECK(json_diff(lines_of(causes), c["causes"]) == "");
      ++checked;
    }
    for (const Value& c : doc["cells"].as_array()) {
      INFO(file << " cells: " << c.string_or("name"));
      const Value& object = c["object"];
      const Strategy& s = strategy_of(object);
      Value cells(s.cells(object, time_of(c)));
      CHECK(cells.size() == s.columns().size());
      if (const Value* first = c.get("first")) {
        // Only the default (non-wide) columns are given.
        skiff::json::Array head(cells.as_array().begin(),
                                cells.as_array().begin() + static_cast<std::ptrdiff_t>(std::min(
                                                               first->size(), cells.size())));
        CHECK(json_diff(Value(head), *first) == "");
      } else {
        CHECK(json_diff(cells, c["cells"]) == "");
      }
      ++checked;
    }
    for (const Value& c : doc["columns"].as_array()) {
      INFO(file << " columns: " << c.string_or("apiVersion") << " " << c.string_or("kind"));
      const Strategy& s = strategy_of(c);
      skiff::json::Array got;
      for (const auto& col : s.columns()) {
        skiff::json::Array one{Value(col.name), Value(col.type), Value(col.priority)};
        if (!col.format.empty()) {
          one.emplace_back(col.format);
        }
        got.emplace_back(std::move(one));
      }
      CHECK(json_diff(Value(got), c["columns"]) == "");
      ++checked;
    }
    for (const Value& c : doc["fields"].as_array()) {
      INFO(file << " fields: " << c.string_or("name"));
      const Value& object = c["object"];
      const Strategy& s = strategy_of(object);
      std::vector<std::string> labels = s.field_labels();
      Value got = Value::object();
      for (const auto& l : labels) {
        auto v = s.field_value(object, l);
        REQUIRE(v.has_value());
        got[l] = *v;
      }
      CHECK(json_diff(got, c["values"]) == "");
      CHECK_FALSE(s.field_value(object, "no.such.field").has_value());
      ++checked;
    }
  }
  CHECK(checked > 0);
}
