// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/validation.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

#include "skiff/api/time.hpp"

namespace skiff::api {
namespace {

// --- character classes behind upstream's regular expressions --------------------------------

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matches_dns1123_label(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

// dns1123 label ( \. dns1123 label )*
bool matches_dns1123_subdomain(std::string_view s) {
  while (true) {
    const auto dot = s.find('.');
    if (!matches_dns1123_label(s.substr(0, dot))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    s.remove_prefix(dot + 1);
  }
}

// [a-z]([-a-z0-9]*[a-z0-9])?
bool matches_dns1035_label(std::string_view s) {
  return matches_dns1123_label(s) && s.front() >= 'a' && s.front() <= 'z';
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool matches_qualified_name_part(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1035LabelErrMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character";
constexpr std::string_view kPercentFmt = "[0-9]+%";
constexpr std::string_view kPercentErrMsg =
    "a valid percent string must be a numeric string followed by an ending '%'";

// --- Go-style value printing ------------------------------------------------------------------

// Decodes one UTF-8 sequence at s[i]; returns the code point and its length, or {-1, 1} for an
// invalid byte (Go's RuneError with width 1).
std::pair<std::int32_t, std::size_t> decode_utf8(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return {b0, 1};
  }
  std::size_t len = 0;
  std::int32_t cp = 0;
  std::int32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {-1, 1};
  }
  if (i + len > s.size()) {
    return {-1, 1};
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return {-1, 1};
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {-1, 1};
  }
  return {cp, len};
}

// Approximation of Go's unicode.IsPrint for non-ASCII code points (see the header).
bool is_printable_non_ascii(std::int32_t cp) {
  if (cp < 0xA0 || cp == 0xA0 || cp == 0xAD || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) ||
      (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 ||
      cp == 0xFEFF || (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
      (cp & 0xFFFE) == 0xFFFE || cp >= 0xF0000) {
    return false;
  }
  return true;
}

void append_hex(std::string& out, std::uint32_t value, int digits) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 0xF]);
  }
}

// Go's %v of a float64 (strconv 'g' with the shortest digits, whose exponent threshold is then 6):
// %e form when the decimal exponent is below -4 or at least 6 ("1e+06"), else plain decimal.
std::string go_float(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  if (ec != std::errc()) {
    return "NaN";
  }
  // "-d.ddde+XX": split sign, digits and exponent.
  std::string_view sci(buf.data(), static_cast<std::size_t>(end - buf.data()));
  std::string out;
  if (sci.front() == '-') {
    out = "-";
    sci.remove_prefix(1);
  }
  const auto e_pos = sci.find('e');
  std::string digits;
  for (const char c : sci.substr(0, e_pos)) {
    if (c != '.') {
      digits += c;
    }
  }
  int exp = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exp);
  if (exp < -4 || exp >= 6) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += exp < 0 ? "e-" : "e+";
    const int mag = exp < 0 ? -exp : exp;
    if (mag < 10) {
      out += '0';
    }
    out += std::to_string(mag);
    return out;
  }
  if (exp < 0) {
    return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  }
  const auto int_len = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_len) {
    return out + digits + std::string(int_len - digits.size(), '0');
  }
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string error_body(std::string_view type, const std::string* rendered_value,
                       std::string_view detail) {
  std::string s;
  if (type == kFieldValueInvalid || type == kFieldValueTypeInvalid) {
    s = "Invalid value";
  } else if (type == kFieldValueRequired) {
    s = "Required value";
  } else if (type == kFieldValueNotFound) {
    s = "Not found";
  } else if (type == kFieldValueDuplicate) {
    s = "Duplicate value";
  } else if (type == kFieldValueNotSupported) {
    s = "Unsupported value";
  } else if (type == kFieldValueForbidden) {
    s = "Forbidden";
  } else if (type == kFieldValueTooLong) {
    s = "Too long";
  } else if (type == kFieldValueTooMany) {
    s = "Too many";
  } else {
    s = "Internal error";
  }
  if (rendered_value != nullptr) {
    s += ": ";
    s += *rendered_value;
  }
  if (!detail.empty()) {
    s += ": ";
    s += detail;
  }
  return s;
}

FieldCause make_cause(std::string_view type, std::string path, const std::string* rendered,
                      std::string_view detail) {
  return FieldCause{std::string(type), error_body(type, rendered, detail), std::move(path)};
}

void append(std::vector<FieldCause>& to, std::vector<FieldCause> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// maskTrailingDash: upstream replaces the final two characters by "a" when the name ends in '-'
// (so "ab-" is checked as "aa"); transcribed as is, because it decides which prefixes pass.
std::string mask_trailing_dash(std::string_view name) {
  if (name.size() > 1 && name.back() == '-') {
    return std::string(name.substr(0, name.size() - 2)) + "a";
  }
  return std::string(name);
}

// How upstream prints a metav1.Time (its time.Time String(), in the server's UTC zone).
std::string render_time(const json::Value& value) {
  if (!value.is_string()) {
    return render_bad_value(value);
  }
  auto parsed = parse_rfc3339(value.as_string());
  if (!parsed) {
    return render_bad_value(value);
  }
  return format_go_time_string(*parsed);
}

bool is_go_printable(std::int32_t cp) {
  if (cp < 0x80) {
    return cp >= 0x20 && cp < 0x7F;
  }
  return is_printable_non_ascii(cp);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string field_child(std::string_view path, std::string_view name) {
  if (path.empty()) {
    return std::string(name);
  }
  std::string out(path);
  out += '.';
  out += name;
  return out;
}

std::string field_index(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string field_key(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '[';
  out += key;
  out += ']';
  return out;
}

FieldCause field_invalid(std::string path, const json::Value& bad_value, std::string_view detail) {
  const std::string rendered = render_bad_value(bad_value);
  return make_cause(kFieldValueInvalid, std::move(path), &rendered, detail);
}

FieldCause field_invalid_rendered(std::string path, std::string_view rendered_value,
                                  std::string_view detail) {
  const std::string rendered(rendered_value);
  return make_cause(kFieldValueInvalid, std::move(path), &rendered, detail);
}

FieldCause field_type_invalid(std::string path, const json::Value& bad_value,
                              std::string_view detail) {
  const std::string rendered = render_bad_value(bad_value);
  return make_cause(kFieldValueTypeInvalid, std::move(path), &rendered, detail);
}

FieldCause field_required(std::string path, std::string_view detail) {
  return make_cause(kFieldValueRequired, std::move(path), nullptr, detail);
}

FieldCause field_forbidden(std::string path, std::string_view detail) {
  return make_cause(kFieldValueForbidden, std::move(path), nullptr, detail);
}

FieldCause field_too_long(std::string path, std::int64_t max_length) {
  const std::string detail = max_length >= 0
                                 ? "may not be more than " + std::to_string(max_length) + " bytes"
                                 : std::string("value is too long");
  return make_cause(kFieldValueTooLong, std::move(path), nullptr, detail);
}

FieldCause field_too_many(std::string path, std::int64_t actual, std::int64_t max_items) {
  const std::string detail = max_items >= 0
                                 ? "must have at most " + std::to_string(max_items) + " items"
                                 : std::string("has too many items");
  if (actual < 0) {
    return make_cause(kFieldValueTooMany, std::move(path), nullptr, detail);
  }
  const std::string rendered = std::to_string(actual);
  return make_cause(kFieldValueTooMany, std::move(path), &rendered, detail);
}

FieldCause field_not_supported(std::string path, const json::Value& bad_value,
                               const std::vector<std::string>& valid_values) {
  std::string detail;
  if (!valid_values.empty()) {
    detail = "supported values: ";
    for (std::size_t i = 0; i < valid_values.size(); ++i) {
      if (i > 0) {
        detail += ", ";
      }
      detail += go_quote(valid_values[i]);
    }
  }
  const std::string rendered = render_bad_value(bad_value);
  return make_cause(kFieldValueNotSupported, std::move(path), &rendered, detail);
}

FieldCause field_duplicate(std::string path, const json::Value& bad_value) {
  const std::string rendered = render_bad_value(bad_value);
  return make_cause(kFieldValueDuplicate, std::move(path), &rendered, {});
}

FieldCause field_not_found(std::string path, const json::Value& bad_value) {
  const std::string rendered = render_bad_value(bad_value);
  return make_cause(kFieldValueNotFound, std::move(path), &rendered, {});
}

FieldCause field_internal_error(std::string path, std::string_view detail) {
  return make_cause(kInternalError, std::move(path), nullptr, detail);
}

std::string to_string(const FieldCause& cause) {
  return cause.field + ": " + cause.message;
}

std::string aggregate_message(const std::vector<FieldCause>& causes) {
  std::vector<std::string> lines;
  std::set<std::string> seen;
  for (const auto& cause : causes) {
    std::string line = to_string(cause);
    if (seen.insert(line).second) {
      lines.push_back(std::move(line));
    }
  }
  if (lines.empty()) {
    return {};
  }
  if (lines.size() == 1) {
    return lines.front();
  }
  std::string out = "[";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += lines[i];
  }
  out += "]";
  return out;
}

Error invalid_error(std::string_view kind, std::string_view group, std::string_view name,
                    std::vector<FieldCause> causes) {
  std::string qualified(kind);
  if (!group.empty()) {
    qualified += '.';
    qualified += group;
  }
  std::string message = qualified + " " + go_quote(name) + " is invalid";
  const std::string agg = aggregate_message(causes);
  if (!agg.empty()) {
    message += ": " + agg;
  }
  Error error = errors::make(Reason::kInvalid, std::move(message));
  error.causes = std::move(causes);
  return error;
}

std::string go_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, len] = decode_utf8(text, i);
    if (cp < 0) {
      out += "\\x";
      append_hex(out, static_cast<unsigned char>(text[i]), 2);
      i += 1;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (is_go_printable(cp)) {
      out.append(text.substr(i, len));
    } else {
      switch (cp) {
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
            append_hex(out, static_cast<std::uint32_t>(cp), 2);
          } else if (cp < 0x10000) {
            out += "\\u";
            append_hex(out, static_cast<std::uint32_t>(cp), 4);
          } else {
            out += "\\U";
            append_hex(out, static_cast<std::uint32_t>(cp), 8);
          }
      }
    }
    i += len;
  }
  out.push_back('"');
  return out;
}

std::string render_bad_value(const json::Value& value) {
  switch (value.type()) {
    case json::Type::kNull:
      return "null";
    case json::Type::kBool:
      return value.as_bool() ? "true" : "false";
    case json::Type::kInt:
      return std::to_string(value.as_int());
    case json::Type::kDouble:
      return go_float(value.as_double());
    case json::Type::kString:
      return go_quote(value.as_string());
    case json::Type::kArray: {
      const auto& items = value.as_array();
      if (std::all_of(items.begin(), items.end(),
                      [](const json::Value& v) { return v.is_string(); })) {
        std::string out = "[]string{";
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i > 0) {
            out += ", ";
          }
          out += go_quote(items[i].as_string());
        }
        out += "}";
        return out;
      }
      return json::serialize(value);
    }
    case json::Type::kObject:
      return json::serialize(value);
  }
  return json::serialize(value);
}

// ---------------------------------------------------------------------------------------------

std::string max_len_error(std::size_t length) {
  return "must be no more than " + std::to_string(length) + " characters";
}

std::string empty_error() {
  return "must be non-empty";
}

std::string regex_error(std::string_view msg, std::string_view fmt,
                        const std::vector<std::string_view>& examples) {
  std::string out(msg);
  if (examples.empty()) {
    out += " (regex used for validation is '";
    out += fmt;
    out += "')";
    return out;
  }
  // Upstream's spacing, including the double space before each " or ".
  out += " (e.g. ";
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) {
      out += " or ";
    }
    out += "'";
    out += examples[i];
    out += "', ";
  }
  out += "regex used for validation is '";
  out += fmt;
  out += "')";
  return out;
}

std::vector<std::string> is_dns1123_label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123LabelMaxLength) {
    errs.push_back(max_len_error(kDns1123LabelMaxLength));
  }
  if (!matches_dns1123_label(value)) {
    if (matches_dns1123_subdomain(value)) {
      errs.emplace_back("must not contain dots");
    } else {
      errs.push_back(regex_error(kDns1123LabelErrMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> is_dns1123_subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123SubdomainMaxLength) {
    errs.push_back(max_len_error(kDns1123SubdomainMaxLength));
  }
  if (!matches_dns1123_subdomain(value)) {
    errs.push_back(regex_error(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> is_dns1035_label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1035LabelMaxLength) {
    errs.push_back(max_len_error(kDns1035LabelMaxLength));
  }
  if (!matches_dns1035_label(value)) {
    errs.push_back(regex_error(kDns1035LabelErrMsg, kDns1035LabelFmt, {"my-name", "abc-123"}));
  }
  return errs;
}

std::vector<std::string> is_qualified_name(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  const auto slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back(
          "a qualified name " +
          regex_error(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part " + empty_error());
    } else {
      for (auto& msg : is_dns1123_subdomain(prefix)) {
        errs.push_back("prefix part " + msg);
      }
    }
  }
  if (name.empty()) {
    errs.push_back("name part " + empty_error());
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + max_len_error(kQualifiedNameMaxLength));
  }
  if (!matches_qualified_name_part(name)) {
    errs.push_back("name part " + regex_error(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                              {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> is_valid_label_value(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) {
    errs.push_back(max_len_error(kLabelValueMaxLength));
  }
  if (!value.empty() && !matches_qualified_name_part(value)) {
    errs.push_back(
        regex_error(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> is_valid_path_segment_name(std::string_view value) {
  if (value == "." || value == "..") {
    return {"may not be '" + std::string(value) + "'"};
  }
  return is_valid_path_segment_prefix(value);
}

std::vector<std::string> is_valid_path_segment_prefix(std::string_view value) {
  std::vector<std::string> errs;
  if (value.find('/') != std::string_view::npos) {
    errs.emplace_back("may not contain '/'");
  }
  if (value.find('%') != std::string_view::npos) {
    errs.emplace_back("may not contain '%'");
  }
  return errs;
}

std::vector<std::string> is_valid_percent(std::string_view value) {
  const bool ok = value.size() >= 2 && value.back() == '%' &&
                  std::all_of(value.begin(), value.end() - 1, is_digit);
  if (!ok) {
    return {regex_error(kPercentErrMsg, kPercentFmt, {"1%", "93%"})};
  }
  return {};
}

std::vector<std::string> name_is_dns_subdomain(std::string_view name, bool prefix) {
  return prefix ? is_dns1123_subdomain(mask_trailing_dash(name)) : is_dns1123_subdomain(name);
}

std::vector<std::string> name_is_dns_label(std::string_view name, bool prefix) {
  return prefix ? is_dns1123_label(mask_trailing_dash(name)) : is_dns1123_label(name);
}

std::vector<std::string> name_is_dns1035_label(std::string_view name, bool prefix) {
  return prefix ? is_dns1035_label(mask_trailing_dash(name)) : is_dns1035_label(name);
}

std::vector<std::string> name_is_path_segment(std::string_view name, bool prefix) {
  return prefix ? is_valid_path_segment_prefix(name) : is_valid_path_segment_name(name);
}

// ---------------------------------------------------------------------------------------------

std::vector<FieldCause> validate_label_name(std::string_view name, std::string_view path) {
  std::vector<FieldCause> errs;
  for (const auto& msg : is_qualified_name(name)) {
    errs.push_back(field_invalid(std::string(path), name, msg));
  }
  return errs;
}

std::vector<FieldCause> validate_labels(const json::Value& labels, std::string_view path) {
  std::vector<FieldCause> errs;
  if (!labels.is_object()) {
    return errs;
  }
  for (const auto& [key, value] : labels.as_object()) {
    append(errs, validate_label_name(key, path));
    if (value.is_string()) {
      for (const auto& msg : is_valid_label_value(value.as_string())) {
        errs.push_back(field_invalid(std::string(path), value, msg));
      }
    }
  }
  return errs;
}

std::vector<FieldCause> validate_annotations(const json::Value& annotations,
                                             std::string_view path) {
  std::vector<FieldCause> errs;
  if (!annotations.is_object()) {
    return errs;
  }
  std::size_t total = 0;
  for (const auto& [key, value] : annotations.as_object()) {
    // Keys follow the qualified-name rule, but case does not matter.
    for (const auto& msg : is_qualified_name(lower_ascii(key))) {
      errs.push_back(field_invalid(std::string(path), key, msg));
    }
    total += key.size() + (value.is_string() ? value.as_string().size() : 0);
  }
  if (total > kTotalAnnotationSizeLimit) {
    errs.push_back(
        field_too_long(std::string(path), static_cast<std::int64_t>(kTotalAnnotationSizeLimit)));
  }
  return errs;
}

std::vector<FieldCause> validate_finalizers(const json::Value& finalizers, std::string_view path) {
  std::vector<FieldCause> errs;
  if (!finalizers.is_array()) {
    return errs;
  }
  bool orphan = false;
  bool foreground = false;
  for (const auto& f : finalizers.as_array()) {
    if (!f.is_string()) {
      continue;
    }
    for (const auto& msg : is_qualified_name(f.as_string())) {
      errs.push_back(field_invalid(std::string(path), f, msg));
    }
    orphan = orphan || f.as_string() == "orphan";
    foreground = foreground || f.as_string() == "foregroundDeletion";
  }
  if (orphan && foreground) {
    errs.push_back(field_invalid(std::string(path), finalizers,
                                 "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

std::vector<FieldCause> validate_owner_references(const json::Value& owner_references,
                                                  std::string_view path) {
  std::vector<FieldCause> errs;
  if (!owner_references.is_array()) {
    return errs;
  }
  std::string first_controller;
  for (const auto& ref : owner_references.as_array()) {
    const std::string_view api_version = ref.string_or("apiVersion");
    const std::string_view kind = ref.string_or("kind");
    // schema.FromAPIVersionAndKind: "v1" is the core group; "group/version"; more slashes parse
    // as nothing at all.
    std::string_view group;
    std::string_view version;
    const auto slash = api_version.find('/');
    if (slash == std::string_view::npos) {
      version = api_version;
    } else if (api_version.find('/', slash + 1) == std::string_view::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    if (version.empty()) {
      errs.push_back(
          field_invalid(field_child(path, "apiVersion"), api_version, "version must not be empty"));
    }
    if (kind.empty()) {
      errs.push_back(field_invalid(field_child(path, "kind"), kind, "kind must not be empty"));
    }
    if (ref.string_or("name").empty()) {
      errs.push_back(field_invalid(field_child(path, "name"), ref.string_or("name"),
                                   "name must not be empty"));
    }
    if (ref.string_or("uid").empty()) {
      errs.push_back(
          field_invalid(field_child(path, "uid"), ref.string_or("uid"), "uid must not be empty"));
    }
    if (group.empty() && version == "v1" && kind == "Event") {
      errs.push_back(field_invalid(std::string(path), ref,
                                   "/v1, Kind=Event is disallowed from being an owner"));
    }
    if (ref.bool_or("controller")) {
      std::string current = std::string(kind) + "/" + std::string(ref.string_or("name"));
      if (!first_controller.empty()) {
        std::string detail =
            "Only one reference can have Controller set to true. Found \"true\" in references for ";
        detail += first_controller;
        detail += " and ";
        detail += current;
        errs.push_back(field_invalid(std::string(path), owner_references, detail));
      } else {
        first_controller = std::move(current);
      }
    }
  }
  return errs;
}

std::vector<FieldCause> validate_managed_fields(const json::Value& managed_fields,
                                                std::string_view path) {
  std::vector<FieldCause> errs;
  if (!managed_fields.is_array()) {
    return errs;
  }
  const auto& entries = managed_fields.as_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& entry = entries[i];
    const std::string entry_path = field_index(path, i);
    const std::string_view operation = entry.string_or("operation");
    if (operation != "Apply" && operation != "Update") {
      errs.push_back(field_invalid(field_child(entry_path, "operation"), operation,
                                   "must be `Apply` or `Update`"));
    }
    const std::string_view fields_type = entry.string_or("fieldsType");
    if (!fields_type.empty() && fields_type != "FieldsV1") {
      errs.push_back(
          field_invalid(field_child(entry_path, "fieldsType"), fields_type, "must be `FieldsV1`"));
    }
    const std::string_view manager = entry.string_or("manager");
    const std::string manager_path = field_child(entry_path, "manager");
    if (manager.size() > 128) {
      errs.push_back(field_too_long(manager_path, 128));
    }
    for (std::size_t pos = 0; pos < manager.size();) {
      auto [cp, len] = decode_utf8(manager, pos);
      const std::int32_t rune = cp < 0 ? 0xFFFD : cp;  // Go's range yields U+FFFD for bad bytes
      if (!is_go_printable(rune) && rune != 0xFFFD) {
        std::array<char, 16> buf{};
        std::snprintf(buf.data(), buf.size(), "U+%04X", static_cast<unsigned>(rune));
        errs.push_back(field_invalid(manager_path, manager,
                                     "invalid character " + std::string(buf.data()) +
                                         " (at position " + std::to_string(pos) + ")"));
      }
      pos += len;
    }
    if (entry.string_or("subresource").size() > 256) {
      errs.push_back(field_too_long(field_child(entry_path, "subresource"), 256));
    }
  }
  return errs;
}

std::vector<FieldCause> validate_label_selector(const json::Value& selector, std::string_view path,
                                                bool allow_invalid_label_value) {
  std::vector<FieldCause> errs;
  if (!selector.is_object()) {
    return errs;
  }
  append(errs, validate_labels(selector["matchLabels"], field_child(path, "matchLabels")));
  const json::Value& exprs = selector["matchExpressions"];
  if (!exprs.is_array()) {
    return errs;
  }
  const std::string exprs_path = field_child(path, "matchExpressions");
  for (std::size_t i = 0; i < exprs.as_array().size(); ++i) {
    const json::Value& expr = exprs.as_array()[i];
    const std::string expr_path = field_index(exprs_path, i);
    const std::string_view op = expr.string_or("operator");
    const json::Value& values = expr["values"];
    const std::size_t n_values = values.is_array() ? values.as_array().size() : 0;
    if (op == "In" || op == "NotIn") {
      if (n_values == 0) {
        errs.push_back(field_required(field_child(expr_path, "values"),
                                      "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (n_values > 0) {
        errs.push_back(
            field_forbidden(field_child(expr_path, "values"),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
    } else {
      errs.push_back(
          field_invalid(field_child(expr_path, "operator"), op, "not a valid selector operator"));
    }
    append(errs, validate_label_name(expr.string_or("key"), field_child(expr_path, "key")));
    if (!allow_invalid_label_value && n_values > 0) {
      for (std::size_t j = 0; j < n_values; ++j) {
        const json::Value& v = values.as_array()[j];
        if (!v.is_string()) {
          continue;
        }
        for (const auto& msg : is_valid_label_value(v.as_string())) {
          errs.push_back(field_invalid(field_index(field_child(expr_path, "values"), j), v, msg));
        }
      }
    }
  }
  return errs;
}

std::vector<FieldCause> validate_nonnegative_field(std::int64_t value, std::string_view path) {
  if (value < 0) {
    return {field_invalid(std::string(path), value, "must be greater than or equal to 0")};
  }
  return {};
}

std::vector<FieldCause> validate_immutable_field(const json::Value& new_value,
                                                 const json::Value& old_value,
                                                 std::string_view path) {
  if (new_value == old_value) {
    return {};
  }
  return {field_invalid(std::string(path), new_value, "field is immutable")};
}

std::vector<FieldCause> validate_object_meta(const json::Value& meta, bool requires_namespace,
                                             const NameValidator& name_validator,
                                             std::string_view path) {
  std::vector<FieldCause> errs;
  const std::string_view generate_name = meta.string_or("generateName");
  if (!generate_name.empty()) {
    for (const auto& msg : name_validator(generate_name, true)) {
      errs.push_back(field_invalid(field_child(path, "generateName"), generate_name, msg));
    }
  }
  const std::string_view name = meta.string_or("name");
  if (name.empty()) {
    errs.push_back(field_required(field_child(path, "name"), "name or generateName is required"));
  } else {
    for (const auto& msg : name_validator(name, false)) {
      errs.push_back(field_invalid(field_child(path, "name"), name, msg));
    }
  }
  const std::string_view ns = meta.string_or("namespace");
  if (requires_namespace) {
    if (ns.empty()) {
      errs.push_back(field_required(field_child(path, "namespace")));
    } else {
      for (const auto& msg : name_is_dns_label(ns, false)) {
        errs.push_back(field_invalid(field_child(path, "namespace"), ns, msg));
      }
    }
  } else if (!ns.empty()) {
    errs.push_back(field_forbidden(field_child(path, "namespace"), "not allowed on this type"));
  }
  append(errs,
         validate_nonnegative_field(meta.int_or("generation"), field_child(path, "generation")));
  append(errs, validate_labels(meta["labels"], field_child(path, "labels")));
  append(errs, validate_annotations(meta["annotations"], field_child(path, "annotations")));
  append(errs,
         validate_owner_references(meta["ownerReferences"], field_child(path, "ownerReferences")));
  append(errs, validate_finalizers(meta["finalizers"], field_child(path, "finalizers")));
  append(errs, validate_managed_fields(meta["managedFields"], field_child(path, "managedFields")));
  return errs;
}

std::vector<FieldCause> validate_object_meta_update(const json::Value& new_meta,
                                                    const json::Value& old_meta,
                                                    std::string_view path) {
  std::vector<FieldCause> errs;
  if (!old_meta["deletionTimestamp"].is_null()) {
    std::set<std::string> old_finalizers;
    if (old_meta["finalizers"].is_array()) {
      for (const auto& f : old_meta["finalizers"].as_array()) {
        if (f.is_string()) {
          old_finalizers.insert(f.as_string());
        }
      }
    }
    std::set<std::string> extra;  // sorted, as upstream's sets.String.List()
    if (new_meta["finalizers"].is_array()) {
      for (const auto& f : new_meta["finalizers"].as_array()) {
        if (f.is_string() && old_finalizers.count(f.as_string()) == 0) {
          extra.insert(f.as_string());
        }
      }
    }
    if (!extra.empty()) {
      json::Array list;
      for (const auto& f : extra) {
        list.emplace_back(f);
      }
      errs.push_back(field_forbidden(
          field_child(path, "finalizers"),
          "no new finalizers can be added if the object is being deleted, found new finalizers " +
              render_bad_value(json::Value(std::move(list)))));
    }
  }
  if (new_meta.string_or("resourceVersion").empty()) {
    errs.push_back(field_invalid(field_child(path, "resourceVersion"),
                                 new_meta.string_or("resourceVersion"),
                                 "must be specified for an update"));
  }
  if (new_meta.int_or("generation") < old_meta.int_or("generation")) {
    errs.push_back(field_invalid(field_child(path, "generation"), new_meta.int_or("generation"),
                                 "must not be decremented"));
  }
  for (const char* key : {"name", "namespace", "uid"}) {
    const json::Value new_value(new_meta.string_or(key));
    const json::Value old_value(old_meta.string_or(key));
    append(errs, validate_immutable_field(new_value, old_value, field_child(path, key)));
  }
  // Timestamps compare as instants and print as Go's time.Time String().
  for (const char* key : {"creationTimestamp", "deletionTimestamp"}) {
    const json::Value& new_value = new_meta[key];
    const json::Value& old_value = old_meta[key];
    bool same = new_value == old_value;
    if (!same && new_value.is_string() && old_value.is_string()) {
      auto a = parse_rfc3339(new_value.as_string());
      auto b = parse_rfc3339(old_value.as_string());
      same = a && b &&
             std::chrono::floor<std::chrono::seconds>(*a) ==
                 std::chrono::floor<std::chrono::seconds>(*b);
    }
    if (!same) {
      std::string rendered;
      if (new_value.is_null()) {
        rendered =
            std::string(key) == "creationTimestamp" ? "0001-01-01 00:00:00 +0000 UTC" : "null";
      } else {
        rendered = render_time(new_value);
      }
      errs.push_back(
          field_invalid_rendered(field_child(path, key), rendered, "field is immutable"));
    }
  }
  append(errs, validate_immutable_field(new_meta["deletionGracePeriodSeconds"],
                                        old_meta["deletionGracePeriodSeconds"],
                                        field_child(path, "deletionGracePeriodSeconds")));
  append(errs, validate_labels(new_meta["labels"], field_child(path, "labels")));
  append(errs, validate_annotations(new_meta["annotations"], field_child(path, "annotations")));
  append(errs, validate_owner_references(new_meta["ownerReferences"],
                                         field_child(path, "ownerReferences")));
  append(errs,
         validate_managed_fields(new_meta["managedFields"], field_child(path, "managedFields")));
  return errs;
}

// ---------------------------------------------------------------------------------------------

Result<IntOrPercent> int_or_percent_value(const json::Value& int_or_percent) {
  if (int_or_percent.is_integral()) {
    return IntOrPercent{int_or_percent.as_int(), false};
  }
  if (!int_or_percent.is_string()) {
    return errors::bad_request("invalid type: neither int nor percentage");
  }
  const std::string& text = int_or_percent.as_string();
  if (text.empty() || text.back() != '%') {
    return errors::bad_request("invalid type: string is not a percentage");
  }
  // strconv.Atoi: optional sign, decimal digits, int64 range.
  const std::string_view digits(text.data(), text.size() - 1);
  std::string_view body = digits;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    body.remove_prefix(1);
  }
  const auto atoi_error = [&](std::string_view what) {
    return errors::bad_request("invalid value " + go_quote(text) + ": strconv.Atoi: parsing " +
                               go_quote(digits) + ": " + std::string(what));
  };
  if (body.empty() || !std::all_of(body.begin(), body.end(), is_digit)) {
    return atoi_error("invalid syntax");
  }
  std::int64_t percent = 0;
  const char* first = digits.data() + (digits.front() == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, digits.data() + digits.size(), percent);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return atoi_error("value out of range");
  }
  return IntOrPercent{percent, true};
}

Result<std::int64_t> scaled_value_from_int_or_percent(const json::Value& int_or_percent,
                                                      std::int64_t total, bool round_up) {
  if (int_or_percent.is_null()) {
    return errors::bad_request("nil value for IntOrString");
  }
  auto parsed = int_or_percent_value(int_or_percent);
  if (!parsed) {
    return errors::bad_request("invalid value for IntOrString: " + parsed.error().message);
  }
  if (!parsed->is_percent) {
    return parsed->value;
  }
  const std::int64_t percent = parsed->value;
  // Exact ceil/floor of percent * total / 100.
  __extension__ using Wide = __int128;
  const Wide product = static_cast<Wide>(percent) * total;
  Wide quotient = product / 100;
  const Wide remainder = product % 100;
  if (remainder != 0) {
    const bool positive = product > 0;
    if (round_up && positive) {
      quotient += 1;
    } else if (!round_up && !positive) {
      quotient -= 1;
    }
  }
  if (quotient > std::numeric_limits<std::int64_t>::max() ||
      quotient < std::numeric_limits<std::int64_t>::min()) {
    return errors::bad_request("invalid value for IntOrString: scaled value out of range");
  }
  return static_cast<std::int64_t>(quotient);
}

}  // namespace skiff::api
