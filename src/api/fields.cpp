// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/fields.hpp"

#include <algorithm>

namespace skiff::api {
namespace {

// Commas not preceded by an escaping backslash separate terms; the backslashes stay in the terms.
std::vector<std::string_view> split_terms(std::string_view selector) {
  std::vector<std::string_view> terms;
  if (selector.empty()) {
    return terms;
  }
  std::size_t start = 0;
  bool in_slash = false;
  for (std::size_t i = 0; i < selector.size(); ++i) {
    const char c = selector[i];
    if (in_slash) {
      in_slash = false;
    } else if (c == '\\') {
      in_slash = true;
    } else if (c == ',') {
      terms.push_back(selector.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(selector.substr(start));
  return terms;
}

// The first operator occurrence splits the term; "!=" and "==" are tried before "=".
bool split_term(std::string_view term, std::string_view& lhs, FieldOperator& op,
                std::string_view& rhs) {
  for (std::size_t i = 0; i < term.size(); ++i) {
    const std::string_view rest = term.substr(i);
    for (const std::string_view candidate : {"!=", "==", "="}) {
      if (rest.substr(0, candidate.size()) == candidate) {
        lhs = term.substr(0, i);
        op = candidate == "!=" ? FieldOperator::kNotEquals : FieldOperator::kEquals;
        rhs = rest.substr(candidate.size());
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string escape_field_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == ',' || c == '=') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Result<std::string> unescape_field_value(std::string_view value) {
  if (value.find_first_of("\\,=") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out;
  out.reserve(value.size());
  bool in_slash = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_slash) {
      if (c == '\\' || c == ',' || c == '=') {
        out += c;
      } else {
        // Upstream names the whole rune after the backslash.
        std::size_t len = 1;
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0xF0) {
          len = 4;
        } else if (b >= 0xE0) {
          len = 3;
        } else if (b >= 0xC0) {
          len = 2;
        }
        return errors::bad_request("invalid field selector: invalid escape sequence: \\" +
                                   std::string(value.substr(i, len)));
      }
      in_slash = false;
      continue;
    }
    if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      return errors::bad_request("invalid field selector: unescaped character in value: " +
                                 std::to_string(static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  if (in_slash) {
    return errors::bad_request("invalid field selector: invalid escape sequence: \\");
  }
  return out;
}

FieldSelector FieldSelector::nothing() {
  FieldSelector s;
  s.nothing_ = true;
  return s;
}

FieldSelector FieldSelector::one_term_equals(std::string field, std::string value) {
  FieldSelector s;
  s.requirements_.push_back({std::move(field), FieldOperator::kEquals, std::move(value)});
  return s;
}

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  auto parts = split_terms(text);
  std::sort(parts.begin(), parts.end());
  FieldSelector s;
  for (const std::string_view part : parts) {
    if (part.empty()) {
      continue;
    }
    std::string_view lhs;
    std::string_view rhs;
    FieldOperator op{};
    if (!split_term(part, lhs, op, rhs)) {
      return errors::bad_request("invalid selector: '" + std::string(text) +
                                 "'; can't understand '" + std::string(part) + "'");
    }
    auto value = unescape_field_value(rhs);
    if (!value) {
      return value.error();
    }
    s.requirements_.push_back({std::string(lhs), op, std::move(*value)});
  }
  return s;
}

Result<void> FieldSelector::check_supported(
    const std::function<bool(std::string_view field)>& supported) const {
  for (const auto& r : requirements_) {
    if (!supported(r.field)) {
      return errors::bad_request("field label not supported: " + r.field);
    }
  }
  return {};
}

bool FieldSelector::matches(const FieldGetter& get) const {
  if (nothing_) {
    return false;
  }
  for (const auto& r : requirements_) {
    const std::string actual = get(r.field).value_or(std::string());
    const bool equal = actual == r.value;
    if (equal != (r.op == FieldOperator::kEquals)) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> FieldSelector::requires_exact_match(std::string_view field) const {
  for (const auto& r : requirements_) {
    if (r.op == FieldOperator::kEquals && r.field == field) {
      return r.value;
    }
  }
  return std::nullopt;
}

std::string FieldSelector::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    const auto& r = requirements_[i];
    out += r.field;
    out += r.op == FieldOperator::kEquals ? "=" : "!=";
    out += escape_field_value(r.value);
  }
  return out;
}

}  // namespace skiff::api
