// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/yaml.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace skiff::yaml {
namespace {

// An alias may point at a large subtree; expanding many of them multiplies the output ("billion
// laughs"). Bound the number of nodes a document may expand to, and its depth.
constexpr std::size_t kMaxNodes = 1'000'000;
constexpr int kMaxDepth = 256;

bool is_null_scalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool parse_bool(const std::string& s, bool& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

bool parse_int(const std::string& s, std::int64_t& out) {
  std::string_view v = s;
  bool neg = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) {
    return false;
  }
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    base = 8;
    v.remove_prefix(2);
  }
  for (char c : v) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c < static_cast<char>('0' + base));
    if (!ok) {
      return false;
    }
  }
  std::string digits(v);
  errno = 0;
  char* end = nullptr;
  unsigned long long u = std::strtoull(digits.c_str(), &end, base);
  if (errno != 0 || end == digits.c_str() || *end != '\0') {
    return false;
  }
  if (neg) {
    if (u > 9223372036854775808ULL) {
      return false;
    }
    out = u == 9223372036854775808ULL ? INT64_MIN : -static_cast<std::int64_t>(u);
  } else {
    if (u > 9223372036854775807ULL) {
      return false;
    }
    out = static_cast<std::int64_t>(u);
  }
  return true;
}

bool parse_float(const std::string& s, double& out) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "-.inf" || s == ".nan" ||
      s == ".NaN" || s == ".NAN") {
    return false;  // not representable in JSON: keep as string
  }
  // YAML floats: [-+]? digits [. digits] [e[-+]digits], or starting with '.'.
  bool digit = false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') {
      return false;
    }
  }
  if (!digit) {
    return false;
  }
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size()) {
    return false;
  }
  out = d;
  return true;
}

struct Converter {
  std::size_t nodes = 0;

  Result<json::Value> convert(const YAML::Node& node, int depth) {
    if (++nodes > kMaxNodes) {
      return errors::bad_request("yaml: document expands to too many nodes");
    }
    if (depth > kMaxDepth) {
      return errors::bad_request("yaml: document nests too deeply");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json::Value();
      case YAML::NodeType::Scalar:
        return scalar(node);
      case YAML::NodeType::Sequence: {
        json::Array arr;
        arr.reserve(node.size());
        for (const auto& item : node) {
          auto v = convert(item, depth + 1);
          if (!v) {
            return v.error();
          }
          arr.push_back(std::move(*v));
        }
        return json::Value(std::move(arr));
      }
      case YAML::NodeType::Map: {
        json::Object obj;
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            return errors::bad_request("yaml: mapping keys must be scalars");
          }
          auto v = convert(kv.second, depth + 1);
          if (!v) {
            return v.error();
          }
          obj.set(kv.first.Scalar(), std::move(*v));
        }
        return json::Value(std::move(obj));
      }
    }
    return json::Value();
  }

  static json::Value scalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    // yaml-cpp tags quoted and explicitly-typed scalars with "!" / the tag; plain ones with "?".
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") {
      return json::Value(s);
    }
    if (tag != "?" && !tag.empty()) {
      // Other explicit tags (!!int, !!bool, ...): resolve by content like a plain scalar.
    }
    if (is_null_scalar(s)) {
      return json::Value();
    }
    bool b = false;
    if (parse_bool(s, b)) {
      return json::Value(b);
    }
    std::int64_t i = 0;
    if (parse_int(s, i)) {
      return json::Value(i);
    }
    double d = 0;
    if (parse_float(s, d)) {
      return json::Value(d);
    }
    return json::Value(s);
  }
};

void emit(YAML::Emitter& out, const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      out << YAML::Null;
      break;
    case json::Type::kBool:
      out << (v.as_bool() ? "true" : "false");
      break;
    case json::Type::kInt:
      out << v.as_int();
      break;
    case json::Type::kDouble:
      out << json::serialize(v);
      break;
    case json::Type::kString: {
      // Quote strings that would otherwise read back as another type.
      const std::string& s = v.as_string();
      json::Value back = Converter::scalar(YAML::Node(s));
      if (!back.is_string() || s.empty()) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case json::Type::kArray:
      if (v.as_array().empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& e : v.as_array()) {
        emit(out, e);
      }
      out << YAML::EndSeq;
      break;
    case json::Type::kObject:
      if (v.as_object().empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& m : v.as_object()) {
        out << YAML::Key << m.key << YAML::Value;
        emit(out, m.value);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

Result<json::Value> parse(std::string_view text) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    Converter c;
    return c.convert(node, 0);
  } catch (const YAML::Exception& e) {
    return errors::bad_request(fmt::format("yaml: line {}, column {}: {}", e.mark.line + 1,
                                           e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return errors::bad_request(fmt::format("yaml: {}", e.what()));
  }
}

std::string serialize(const json::Value& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') {
    s.push_back('\n');
  }
  return s;
}

}  // namespace skiff::yaml
