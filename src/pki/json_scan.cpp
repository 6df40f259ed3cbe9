// SPDX-License-Identifier: Apache-2.0
#include "json_scan.hpp"

#include <cstdint>

namespace skiff::pki::detail {

namespace {

constexpr int kMaxDepth = 64;

class Scanner {
public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::optional<JsonMembers> top_object() {
    skip_space();
    JsonMembers members;
    if (!object(0, &members)) {
      return std::nullopt;
    }
    skip_space();
    if (pos_ != text_.size()) {
      return std::nullopt;
    }
    return members;
  }

private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    return true;
  }

  // Members go to `members` only for the top-level object.
  bool object(int depth, JsonMembers* members) {
    if (depth >= kMaxDepth || peek() != '{') {
      return false;
    }
    ++pos_;
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      std::string name;
      if (!string(&name)) {
        return false;
      }
      skip_space();
      if (peek() != ':') {
        return false;
      }
      ++pos_;
      skip_space();
      std::optional<std::string> member_value;
      if (peek() == '"') {
        std::string s;
        if (!string(&s)) {
          return false;
        }
        member_value = std::move(s);
      } else if (!value(depth + 1)) {
        return false;
      }
      if (members != nullptr &&
          !members->emplace(std::move(name), std::move(member_value)).second) {
        return false;
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    if (depth >= kMaxDepth) {
      return false;
    }
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      if (!value(depth + 1)) {
        return false;
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool value(int depth) {
    switch (peek()) {
      case '{':
        return object(depth, nullptr);
      case '[':
        return array(depth);
      case '"':
        return string(nullptr);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool digits() {
    std::size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      ++pos_;
    }
    return pos_ > start;
  }

  bool number() {
    if (peek() == '-') {
      ++pos_;
    }
    if (peek() == '0') {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    if (peek() == '.') {
      ++pos_;
      if (!digits()) {
        return false;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') {
        ++pos_;
      }
      if (!digits()) {
        return false;
      }
    }
    return true;
  }

  bool hex4(std::uint32_t* out) {
    if (pos_ + 4 > text_.size()) {
      return false;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      v <<= 4U;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    *out = v;
    return true;
  }

  static void append_utf8(std::string* out, std::uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0U | (cp >> 6U));
      *out += static_cast<char>(0x80U | (cp & 0x3FU));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0U | (cp >> 12U));
      *out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
      *out += static_cast<char>(0x80U | (cp & 0x3FU));
    } else {
      *out += static_cast<char>(0xF0U | (cp >> 18U));
      *out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
      *out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
      *out += static_cast<char>(0x80U | (cp & 0x3FU));
    }
  }

  // Decodes into `out` when given; validates either way.
  bool string(std::string* out) {
    if (peek() != '"') {
      return false;
    }
    ++pos_;
    while (!at_end()) {
      char c = text_[pos_++];
      if (c == '"') {
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      if (c != '\\') {
        if (out != nullptr) {
          *out += c;
        }
        continue;
      }
      if (at_end()) {
        return false;
      }
      char e = text_[pos_++];
      char plain = '\0';
      switch (e) {
        case '"':
          plain = '"';
          break;
        case '\\':
          plain = '\\';
          break;
        case '/':
          plain = '/';
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(&cp)) {
            return false;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (!literal("\\u") || !hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10U) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          if (out != nullptr) {
            append_utf8(out, cp);
          }
          continue;
        }
        default:
          return false;
      }
      if (out != nullptr) {
        *out += plain;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<JsonMembers> scan_json_object(std::string_view text) {
  return Scanner(text).top_object();
}

}  // namespace skiff::pki::detail
