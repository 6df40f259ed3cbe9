// SPDX-License-Identifier: Apache-2.0
// Go's text forms of decoded JSON values, as upstream's error messages and encodings contain them.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "patch_internal.hpp"

namespace skiff::registry::detail {
namespace {

// Shortest decimal digits that round-trip `d` (> 0, finite), and the decimal point position: the
// value is 0.<digits> * 10^dp, as Go's strconv keeps them.
void shortest_digits(double d, std::string& digits, int& dp) {
  std::array<char, 40> buf{};
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf.data(), buf.size(), "%.*e", precision - 1, d);
    if (std::strtod(buf.data(), nullptr) == d || precision == 17) {
      break;
    }
  }
  // buf is "d.ddde[+-]XX".
  const std::string_view s(buf.data());
  const auto e = s.find('e');
  digits.clear();
  for (const char c : s.substr(0, e)) {
    if (c != '.') {
      digits.push_back(c);
    }
  }
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
  }
  dp = std::atoi(buf.data() + e + 1) + 1;
}

void append_exponent_form(const std::string& digits, int dp, std::string& out) {
  out.push_back(digits[0]);
  if (digits.size() > 1) {
    out.push_back('.');
    out.append(digits, 1, std::string::npos);
  }
  const int exp = dp - 1;
  out.push_back('e');
  out.push_back(exp < 0 ? '-' : '+');
  const int a = std::abs(exp);
  if (a < 10) {
    out.push_back('0');
  }
  out += std::to_string(a);
}

void append_fixed_form(const std::string& digits, int dp, std::string& out) {
  const int nd = static_cast<int>(digits.size());
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-dp), '0');
    out += digits;
    return;
  }
  if (dp >= nd) {
    out += digits;
    out.append(static_cast<std::size_t>(dp - nd), '0');
    return;
  }
  out.append(digits, 0, static_cast<std::size_t>(dp));
  out.push_back('.');
  out.append(digits, static_cast<std::size_t>(dp), std::string::npos);
}

bool append_special(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "NaN";
    return true;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "+Inf" : "-Inf";
    return true;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0" : "0";
    return true;
  }
  return false;
}

// Decodes one UTF-8 sequence at s[i]; returns its length (0 for an invalid byte) and the code
// point.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

void append_hex(unsigned value, int width, std::string& out) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 0xF]);
  }
}

}  // namespace

std::string go_format_float(double d) {
  std::string out;
  if (append_special(d, out)) {
    return out;
  }
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  std::string digits;
  int dp = 0;
  shortest_digits(d, digits, dp);
  // %g with the shortest precision switches to the exponent form when the exponent is < -4 or >= 6
  // (the precision strconv uses for that decision when it picks the digits itself).
  const int exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    append_exponent_form(digits, dp, out);
  } else {
    append_fixed_form(digits, dp, out);
  }
  return out;
}

std::string go_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += "\\x";
      append_hex(static_cast<unsigned char>(s[i]), 2, out);
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          out += "\\x";
          append_hex(static_cast<unsigned>(cp), 2, out);
        } else if (cp >= 0x80 && cp < 0xA0) {
          out += "\\u";
          append_hex(static_cast<unsigned>(cp), 4, out);
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  out.push_back('"');
  return out;
}

void go_format_to(const json::Value& value, std::string& out) {
  switch (value.type()) {
    case json::Type::kNull:
      out += "<nil>";
      return;
    case json::Type::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case json::Type::kInt:
      out += std::to_string(value.as_int());
      return;
    case json::Type::kDouble:
      out += go_format_float(value.as_double());
      return;
    case json::Type::kString:
      out += value.as_string();
      return;
    case json::Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) {
          out.push_back(' ');
        }
        first = false;
        go_format_to(item, out);
      }
      out.push_back(']');
      return;
    }
    case json::Type::kObject: {
      // fmt prints maps with their keys sorted.
      std::vector<const json::Member*> members;
      for (const auto& m : value.as_object()) {
        members.push_back(&m);
      }
      std::sort(members.begin(), members.end(),
                [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
      out += "map[";
      bool first = true;
      for (const auto* m : members) {
        if (!first) {
          out.push_back(' ');
        }
        first = false;
        out += m->key;
        out.push_back(':');
        go_format_to(m->value, out);
      }
      out.push_back(']');
      return;
    }
  }
}

std::string go_format(const json::Value& value) {
  std::string out;
  go_format_to(value, out);
  return out;
}

namespace {

void go_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += "\\ufffd";  // encoding/json replaces invalid UTF-8
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '<':
      case '>':
      case '&':
      case 0x2028:
      case 0x2029:
        out += "\\u";
        append_hex(static_cast<unsigned>(cp), 4, out);
        break;
      default:
        if (cp < 0x20) {
          out += "\\u";
          append_hex(static_cast<unsigned>(cp), 4, out);
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  out.push_back('"');
}

void go_json_float(double d, std::string& out) {
  if (std::isnan(d) || std::isinf(d) || d == 0) {
    out += "0";  // encoding/json refuses NaN/Inf; JSON input cannot produce them anyway
    return;
  }
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  std::string digits;
  int dp = 0;
  shortest_digits(d, digits, dp);
  if (d < 1e-6 || d >= 1e21) {
    // Go writes e-07 as e-7.
    std::string e;
    append_exponent_form(digits, dp, e);
    const auto n = e.size();
    if (n >= 4 && e[n - 4] == 'e' && e[n - 3] == '-' && e[n - 2] == '0') {
      e.erase(n - 2, 1);
    }
    out += e;
    return;
  }
  append_fixed_form(digits, dp, out);
}

}  // namespace

void go_json_to(const json::Value& value, std::string& out) {
  switch (value.type()) {
    case json::Type::kNull:
      out += "null";
      return;
    case json::Type::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case json::Type::kInt:
      out += std::to_string(value.as_int());
      return;
    case json::Type::kDouble:
      go_json_float(value.as_double(), out);
      return;
    case json::Type::kString:
      go_json_string(value.as_string(), out);
      return;
    case json::Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        go_json_to(item, out);
      }
      out.push_back(']');
      return;
    }
    case json::Type::kObject: {
      std::vector<const json::Member*> members;
      for (const auto& m : value.as_object()) {
        members.push_back(&m);
      }
      std::sort(members.begin(), members.end(),
                [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
      out.push_back('{');
      bool first = true;
      for (const auto* m : members) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        go_json_string(m->key, out);
        out.push_back(':');
        go_json_to(m->value, out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string go_json(const json::Value& value) {
  std::string out;
  go_json_to(value, out);
  return out;
}

const Field* find_field(const Node* node, std::string_view name) noexcept {
  if (node == nullptr || node->kind != Kind::kObject) {
    return nullptr;
  }
  for (const auto& f : node->fields) {
    if (!f.inlined && f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace skiff::registry::detail
