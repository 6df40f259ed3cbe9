// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers shared by the registry tests: test-data files, JSON parsing that fails the test loudly,
// and a JSON diff that names paths (so a failed comparison says where).

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "skiff/base/json.hpp"

#include "skiff_test.hpp"

namespace skiff::testing {

inline std::string registry_data_path(const std::string& name) {
  return std::string(SKIFF_REGISTRY_TEST_DATA) + "/" + name;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline json::Value parse_json(std::string_view text) {
  auto v = json::parse(text);
  INFO("parsing " << text);
  REQUIRE(v);
  return std::move(*v);
}

/// Differences between two JSON values as "path: a vs b" lines (empty when equal).
inline void json_diff(const json::Value& a, const json::Value& b, const std::string& path,
                      std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    for (const json::Member& m : a.as_object()) {
      const json::Value* other = b.get(m.key);
      if (other == nullptr) {
        out.push_back(path + "." + m.key + ": only in first: " + json::serialize(m.value));
      } else {
        json_diff(m.value, *other, path + "." + m.key, out);
      }
    }
    for (const json::Member& m : b.as_object()) {
      if (a.get(m.key) == nullptr) {
        out.push_back(path + "." + m.key + ": only in second: " + json::serialize(m.value));
      }
    }
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      json_diff(a.as_array()[i], b.as_array()[i], path + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (!(a == b)) {
    out.push_back(path + ": " + json::serialize(a) + " vs " + json::serialize(b));
  }
}

inline std::string json_diff(const json::Value& a, const json::Value& b) {
  std::vector<std::string> lines;
  json_diff(a, b, "", lines);
  std::string out;
  for (const std::string& l : lines) {
    out += l + "\n";
  }
  return out;
}

}  // namespace skiff::testing
