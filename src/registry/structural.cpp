// SPDX-License-Identifier: Apache-2.0
// Strict field detection, built-in type checking, pruning, defaulting and CRD value validation.
// The behaviour follows upstream's apiextensions-apiserver (pruning, defaulting, listtype and
// kube-openapi validation as wired there) and sigs.k8s.io/json's strict decoding; the messages use
// their wording so kubectl output looks familiar.
#include "skiff/registry/structural.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "cel.hpp"
#include "structural_regex.hpp"

namespace skiff::registry {
namespace {

// --- paths --------------------------------------------------------------------------------------

// A path under construction: push a member or an index, pop back to a saved length.
class Path {
public:
  explicit Path(std::string_view root) : text_(root) {}
  std::size_t mark() const { return text_.size(); }
  void reset(std::size_t m) { text_.resize(m); }
  void member(std::string_view key) {
    if (!text_.empty()) {
      text_ += '.';
    }
    text_.append(key);
  }
  void index(std::size_t i) { text_.append("[").append(std::to_string(i)).append("]"); }
  const std::string& str() const { return text_; }

private:
  std::string text_;
};

// --- unknown fields -----------------------------------------------------------------------------

void walk_unknown(const Node& node, const json::Value& value, Path& path,
                  std::vector<std::string>& out) {
  switch (node.kind) {
    case Kind::kObject: {
      if (!value.is_object()) {
        return;
      }
      for (const json::Member& m : value.as_object()) {
        std::size_t mark = path.mark();
        path.member(m.key);
        if (const Field* f = node.field(m.key); f != nullptr) {
          walk_unknown(*f->node, m.value, path, out);
        } else if (!node.preserve_unknown_fields) {
          out.push_back(path.str());
        }
        path.reset(mark);
      }
      return;
    }
    case Kind::kMap:
      if (!value.is_object()) {
        return;
      }
      for (const json::Member& m : value.as_object()) {
        std::size_t mark = path.mark();
        path.member(m.key);
        walk_unknown(*node.items, m.value, path, out);
        path.reset(mark);
      }
      return;
    case Kind::kArray:
      if (!value.is_array()) {
        return;
      }
      for (std::size_t i = 0; i < value.as_array().size(); ++i) {
        std::size_t mark = path.mark();
        path.index(i);
        walk_unknown(*node.items, value.as_array()[i], path, out);
        path.reset(mark);
      }
      return;
    default:
      return;
  }
}

// --- Go-style value text ------------------------------------------------------------------------

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
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
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

// Go's %v for float64: shortest digits, exponent form below 1e-4 and from 1e6.
std::string go_float(double d) {
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::isinf(d)) {
    return d > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci is like "-1.2345e+06": split mantissa digits and exponent.
  bool neg = !sci.empty() && sci[0] == '-';
  std::string mant = sci.substr(neg ? 1 : 0, sci.find('e') - (neg ? 1 : 0));
  int exp = std::stoi(sci.substr(sci.find('e') + 1));
  std::string digits;
  for (char c : mant) {
    if (c != '.') {
      digits += c;
    }
  }
  std::string out = neg ? "-" : "";
  // strconv's 'g' with the shortest precision switches to the exponent form from 1e6 (Go prints
  // 1e+06 for %v).
  if (exp < -4 || exp >= 6) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += "." + digits.substr(1);
    }
    out += fmt::format("e{}{:02}", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out;
  }
  if (exp < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    return out;
  }
  auto point = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= point) {
    out += digits + std::string(point - digits.size(), '0');
  } else {
    out += digits.substr(0, point) + "." + digits.substr(point);
  }
  return out;
}

// %#v of a value held in an interface{} (inside maps and slices).
std::string go_sharp(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "interface {}(nil)";
    case json::Type::kBool:
      return v.as_bool() ? "true" : "false";
    case json::Type::kInt:
      return std::to_string(v.as_int());
    case json::Type::kDouble:
      return go_float(v.as_double());
    case json::Type::kString:
      return go_quote(v.as_string());
    case json::Type::kArray: {
      std::string out = "[]interface {}{";
      bool first = true;
      for (const json::Value& e : v.as_array()) {
        out += first ? "" : ", ";
        first = false;
        out += go_sharp(e);
      }
      return out + "}";
    }
    case json::Type::kObject: {
      // fmt prints map keys sorted.
      std::vector<const json::Member*> members;
      for (const json::Member& m : v.as_object()) {
        members.push_back(&m);
      }
      std::sort(members.begin(), members.end(),
                [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
      std::string out = "map[string]interface {}{";
      bool first = true;
      for (const json::Member* m : members) {
        out += first ? "" : ", ";
        first = false;
        out += go_quote(m->key) + ":" + go_sharp(m->value);
      }
      return out + "}";
    }
  }
  return {};
}

// JSON type names as kube-openapi reports the actual type of a value.
std::string_view openapi_type_of(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "null";
    case json::Type::kBool:
      return "boolean";
    case json::Type::kInt:
      return "integer";
    case json::Type::kDouble:
      return v.is_integral() ? "integer" : "number";
    case json::Type::kString:
      return "string";
    case json::Type::kArray:
      return "array";
    case json::Type::kObject:
      return "object";
  }
  return "null";
}

// --- field causes in upstream's wording ----------------------------------------------------------

class Causes {
public:
  Causes(std::vector<FieldCause>& out, std::string_view root) : out_(out), root_(root) {}

  void required(const std::string& path) { add("FieldValueRequired", path, "Required value"); }
  // Upstream shows a missing (null) value as "" (kubeOpenAPIResultToFieldErrors).
  void invalid(const std::string& path, const json::Value& value, std::string_view detail) {
    add("FieldValueInvalid", path, "Invalid value: " + shown(value) + ": " + std::string(detail));
  }
  void type_invalid(const std::string& path, const json::Value& value, std::string_view detail) {
    add("FieldValueTypeInvalid", path,
        "Invalid value: " + shown(value) + ": " + std::string(detail));
  }
  void not_supported(const std::string& path, const json::Value& value,
                     const std::vector<json::Value>& allowed) {
    std::string detail = "supported values: ";
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0) {
        detail += ", ";
      }
      // Non-string enum values are shown as their JSON text, then quoted like the strings.
      detail +=
          go_quote(allowed[i].is_string() ? allowed[i].as_string() : json::serialize(allowed[i]));
    }
    add("FieldValueNotSupported", path,
        "Unsupported value: " + go_value_text(value) + ": " + detail);
  }
  void too_long(const std::string& path, std::int64_t max) {
    add("FieldValueTooLong", path, fmt::format("Too long: may not be more than {} bytes", max));
  }
  void too_many(const std::string& path, std::int64_t actual, std::int64_t max) {
    add("FieldValueTooMany", path,
        fmt::format("Too many: {}: must have at most {} items", actual, max));
  }
  void duplicate(const std::string& path, const json::Value& value) {
    add("FieldValueDuplicate", path, "Duplicate value: " + go_value_text(value));
  }
  // A failed x-kubernetes-validations rule with its `reason` (FieldValueInvalid when empty).
  void rule_failed(const std::string& path, std::string_view reason, const json::Value& type,
                   const std::string& message) {
    if (reason == "FieldValueForbidden") {
      add("FieldValueForbidden", path, "Forbidden: " + message);
    } else if (reason == "FieldValueRequired") {
      add("FieldValueRequired", path, "Required value: " + message);
    } else if (reason == "FieldValueDuplicate") {
      add("FieldValueDuplicate", path, "Duplicate value: " + go_quote(message));
    } else {
      invalid(path, type, message);
    }
  }
  static std::string shown(const json::Value& v) {
    return v.is_null() ? std::string("\"\"") : go_value_text(v);
  }
  std::size_t size() const { return out_.size(); }
  void truncate(std::size_t n) { out_.resize(n); }

private:
  // `path` is relative to the validated value; the cause's field carries the root prefix too.
  void add(std::string type, const std::string& path, std::string message) {
    std::string field = root_;
    if (!path.empty()) {
      if (!field.empty() && path.front() != '[') {
        field += '.';
      }
      field += path;
    }
    out_.push_back({std::move(type), std::move(message), std::move(field)});
  }
  std::vector<FieldCause>& out_;
  std::string root_;
};

// --- formats (CRD strings) ----------------------------------------------------------------------

bool is_digits(std::string_view s, std::size_t n) {
  if (s.size() < n) {
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

// RFC 3339 date-time ("2006-01-02T15:04:05Z", fractions and offsets allowed; 't'/'z' too).
bool valid_date_time(std::string_view s) {
  if (!is_digits(s, 4) || s.size() < 20 || s[4] != '-' || !is_digits(s.substr(5), 2) ||
      s[7] != '-' || !is_digits(s.substr(8), 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !is_digits(s.substr(11), 2) || s[13] != ':' || !is_digits(s.substr(14), 2) || s[16] != ':' ||
      !is_digits(s.substr(17), 2)) {
    return false;
  }
  int month = (s[5] - '0') * 10 + (s[6] - '0');
  int day = (s[8] - '0') * 10 + (s[9] - '0');
  int hour = (s[11] - '0') * 10 + (s[12] - '0');
  int minute = (s[14] - '0') * 10 + (s[15] - '0');
  int second = (s[17] - '0') * 10 + (s[18] - '0');
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    return i + 1 == s.size();
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    std::string_view off = s.substr(i + 1);
    return off.size() == 5 && is_digits(off, 2) && off[2] == ':' && is_digits(off.substr(3), 2);
  }
  return false;
}

bool valid_date(std::string_view s) {
  return s.size() == 10 && is_digits(s, 4) && s[4] == '-' && is_digits(s.substr(5), 2) &&
         s[7] == '-' && is_digits(s.substr(8), 2);
}

bool valid_base64(std::string_view s) {
  if (s.size() % 4 != 0) {
    return false;
  }
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
    if (c == '=') {
      ++pad;
      if (i + 2 < s.size()) {
        return false;
      }
    } else if (!alpha || pad > 0) {
      return false;
    }
  }
  return pad <= 2;
}

bool valid_uuid(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string_view::npos) {
      j = s.size();
    }
    std::string_view p = s.substr(i, j - i);
    if (p.empty() || p.size() > 3 || !is_digits(p, p.size()) || (p.size() > 1 && p[0] == '0')) {
      return false;
    }
    if (std::stoi(std::string(p)) > 255) {
      return false;
    }
    ++parts;
    i = j + 1;
    if (j == s.size()) {
      break;
    }
  }
  return parts == 4;
}

bool valid_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) {
    return false;
  }
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == s.size()) {
      return true;
    }
  }
  while (i < s.size()) {
    std::size_t j = s.find(':', i);
    std::string_view part = s.substr(i, j == std::string_view::npos ? s.size() - i : j - i);
    if (part.find('.') != std::string_view::npos) {
      // Embedded IPv4 tail.
      if (j != std::string_view::npos || !valid_ipv4(part)) {
        return false;
      }
      groups += 2;
      break;
    }
    if (part.empty() || part.size() > 4) {
      return false;
    }
    for (char c : part) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) {
        return false;
      }
    }
    ++groups;
    if (j == std::string_view::npos) {
      break;
    }
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (compressed) {
        return false;
      }
      compressed = true;
      i = j + 2;
      if (i == s.size()) {
        break;
      }
    } else {
      i = j + 1;
      if (i == s.size()) {
        return false;
      }
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string_view::npos) {
      j = s.size();
    }
    std::string_view label = s.substr(i, j - i);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    if (j == s.size()) {
      break;
    }
    i = j + 1;
  }
  return true;
}

// Go duration text ("1h2m", "1.5s", "300ms").
bool valid_go_duration(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  std::size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    ++i;
  }
  if (s.substr(i) == "0") {
    return true;
  }
  if (i == s.size()) {
    return false;
  }
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
      ++i;
    }
    if (i == start) {
      return false;
    }
    std::size_t ustart = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') {
      ++i;
    }
    std::string_view unit = s.substr(ustart, i - ustart);
    if (unit != "ns" && unit != "us" && unit != "\xc2\xb5s" && unit != "\xce\xbcs" &&
        unit != "ms" && unit != "s" && unit != "m" && unit != "h") {
      return false;
    }
  }
  return true;
}

// resource.ParseQuantity's checks, in its order: the overall syntax
// `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`, then the numeric part, then the suffix. Returns
// the error text, or empty when the quantity parses.
std::string quantity_error(std::string_view s) {
  static constexpr std::string_view kFormat =
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    ++i;
  }
  std::size_t start = i;
  int points = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
    points += s[i] == '.' ? 1 : 0;
    ++i;
  }
  if (i == start) {
    return std::string(kFormat);
  }
  std::string_view suffix = s.substr(i);
  std::size_t j = 0;
  while (j < suffix.size() &&
         std::string_view("eEinumkKMGTP").find(suffix[j]) != std::string_view::npos) {
    ++j;
  }
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) {
    ++j;
  }
  while (j < suffix.size() && suffix[j] >= '0' && suffix[j] <= '9') {
    ++j;
  }
  if (j != suffix.size()) {
    return std::string(kFormat);
  }
  if (points > 1 || i - start == static_cast<std::size_t>(points)) {
    return "unable to parse numeric part of quantity";
  }
  static constexpr std::string_view kSuffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                                   "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (std::string_view k : kSuffixes) {
    if (suffix == k) {
      return {};
    }
  }
  // Decimal exponent: e/E followed by an optional sign and digits.
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e = suffix.substr(1);
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      e.remove_prefix(1);
    }
    if (!e.empty() && is_digits(e, e.size())) {
      return {};
    }
  }
  return "unable to parse quantity's suffix";
}

// Formats CRD validation understands (kube-openapi's registry, the ones seen in practice).
// Unknown formats are accepted, as upstream does.
bool check_format(std::string_view format, std::string_view s) {
  if (format == "date-time" || format == "datetime") {
    return valid_date_time(s);
  }
  if (format == "date") {
    return valid_date(s);
  }
  if (format == "byte") {
    return valid_base64(s);
  }
  if (format == "uuid" || format == "uuid3" || format == "uuid4" || format == "uuid5") {
    return valid_uuid(s);
  }
  if (format == "ipv4") {
    return valid_ipv4(s);
  }
  if (format == "ipv6") {
    return valid_ipv6(s);
  }
  if (format == "cidr") {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) {
      return false;
    }
    std::string_view ip = s.substr(0, slash);
    std::string_view bits = s.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || !is_digits(bits, bits.size())) {
      return false;
    }
    int n = std::stoi(std::string(bits));
    return (valid_ipv4(ip) && n <= 32) || (valid_ipv6(ip) && n <= 128);
  }
  if (format == "hostname") {
    return valid_hostname(s);
  }
  if (format == "duration") {
    return valid_go_duration(s);
  }
  if (format == "email") {
    auto at = s.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos;
  }
  if (format == "uri") {
    auto colon = s.find(':');
    return colon != std::string_view::npos && colon > 0 &&
           std::isalpha(static_cast<unsigned char>(s[0]));
  }
  return true;
}

// --- value validation ---------------------------------------------------------------------------

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
      ++n;
    }
  }
  return n;
}

// Compiled patterns, cached per pattern text and thread (bounded: cleared when it grows past a
// thousand patterns). A pattern that does not compile matches nothing; from_openapi_v3 rejects
// those beforehand.
const detail::Regex* compiled(const std::string& pattern) {
  static thread_local std::map<std::string, std::optional<detail::Regex>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() > 1000) {
      cache.clear();
    }
    it = cache.emplace(pattern, detail::Regex::compile(pattern, nullptr)).first;
  }
  return it->second ? &*it->second : nullptr;
}

bool matches_type(const Node& n, const json::Value& v) {
  switch (n.kind) {
    case Kind::kObject:
    case Kind::kMap:
      return v.is_object();
    case Kind::kArray:
      return v.is_array();
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kTime:
    case Kind::kMicroTime:
    case Kind::kDuration:
      return v.is_string();
    case Kind::kInteger:
      return v.is_integral();
    case Kind::kNumber:
      return v.is_number();
    case Kind::kBoolean:
      return v.is_bool();
    case Kind::kIntOrString:
      return v.is_integral() || v.is_string();
    case Kind::kQuantity:
      return v.is_string() || v.is_number();
    case Kind::kAny:
      return true;
  }
  return true;
}

std::string_view openapi_type_name(const Node& n) {
  switch (n.kind) {
    case Kind::kObject:
    case Kind::kMap:
      return "object";
    case Kind::kArray:
      return "array";
    case Kind::kInteger:
      return "integer";
    case Kind::kNumber:
      return "number";
    case Kind::kBoolean:
      return "boolean";
    case Kind::kIntOrString:
      return "integer,string";
    default:
      return "string";
  }
}

void validate_node(const Node& n, const json::Value& v, const json::Value* old, Path& path,
                   Causes& causes);

bool is_object_meta(const Node& n) {
  constexpr std::string_view kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
  return n.name == kObjectMeta || (n.refines != nullptr && n.refines->name == kObjectMeta);
}

// The body of kube-openapi's messages names the path relative to the object ("spec.size in body
// ..."); the field of the cause is the same path.
std::string in_body(const Path& path) {
  return path.str().empty() ? std::string("in body") : path.str() + " in body";
}

// The junctors. Upstream reports a failed anyOf/oneOf/not with one composite message naming the
// path in quotes (and no value); the branches' own errors are not shown.
void validate_junctors(const Node& n, const json::Value& v, const json::Value* old, Path& path,
                       Causes& causes) {
  for (const Node* sub : n.all_of) {
    validate_node(*sub, v, old, path, causes);
  }
  auto passes = [&](const Node& sub) {
    std::size_t before = causes.size();
    validate_node(sub, v, old, path, causes);
    bool ok = causes.size() == before;
    causes.truncate(before);
    return ok;
  };
  std::string quoted = go_quote(path.str());
  if (!n.any_of.empty() && std::none_of(n.any_of.begin(), n.any_of.end(),
                                        [&](const Node* sub) { return passes(*sub); })) {
    causes.invalid(path.str(), json::Value(),
                   quoted + " must validate at least one schema (anyOf)");
  }
  if (!n.one_of.empty()) {
    auto valid = std::count_if(n.one_of.begin(), n.one_of.end(),
                               [&](const Node* sub) { return passes(*sub); });
    if (valid != 1) {
      causes.invalid(path.str(), json::Value(),
                     quoted + " must validate one and only one schema (oneOf). " +
                         (valid == 0 ? std::string("Found none valid")
                                     : fmt::format("Found {} valid alternatives", valid)));
    }
  }
  if (n.not_node != nullptr && passes(*n.not_node)) {
    causes.invalid(path.str(), json::Value(), quoted + " must not validate the schema (not)");
  }
}

void validate_list_type(const Node& n, const json::Array& items, Path& path, Causes& causes) {
  if (n.list_type == ListType::kSet) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (items[i] == items[j]) {
          std::size_t mark = path.mark();
          path.index(i);
          causes.duplicate(path.str(), items[i]);
          path.reset(mark);
          break;
        }
      }
    }
  } else if (n.list_type == ListType::kMap && !n.list_map_keys.empty()) {
    std::vector<json::Value> keys;
    for (const json::Value& item : items) {
      json::Object k;
      if (item.is_object()) {
        for (const std::string& key : n.list_map_keys) {
          if (const json::Value* kv = item.get(key); kv != nullptr) {
            k.set(key, *kv);
          } else if (const Field* f = n.items->field(key); f != nullptr && f->node->default_value) {
            k.set(key, *f->node->default_value);
          }
        }
      }
      keys.emplace_back(std::move(k));
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (keys[i] == keys[j]) {
          std::size_t mark = path.mark();
          path.index(i);
          causes.duplicate(path.str(), keys[i]);
          path.reset(mark);
          break;
        }
      }
    }
  }
}

// CEL sees a schema's number fields as doubles, while JSON text gives whole numbers as ints: the
// value the rules see is retyped along the schema.
json::Value cel_typed(const Node& n, const json::Value& v) {
  if (n.kind == Kind::kNumber && v.is_int()) {
    return json::Value(static_cast<double>(v.as_int()));
  }
  if (v.is_array() && n.items != nullptr) {
    json::Array out;
    out.reserve(v.as_array().size());
    for (const json::Value& item : v.as_array()) {
      out.push_back(cel_typed(*n.items, item));
    }
    return out;
  }
  if (v.is_object() && (n.kind == Kind::kObject || (n.kind == Kind::kMap && n.items != nullptr))) {
    json::Object out;
    out.reserve(v.as_object().size());
    for (const json::Member& m : v.as_object()) {
      const Node* sub = n.kind == Kind::kMap ? n.items : nullptr;
      if (sub == nullptr) {
        const Field* f = n.field(m.key);
        sub = f != nullptr ? f->node : nullptr;
      }
      out.append_new(m.key, sub != nullptr ? cel_typed(*sub, m.value) : m.value);
    }
    return out;
  }
  return v;
}

// The old value at the same place, for transition rules: object members and map values by key,
// items of a listType=map list by their key fields (upstream's correlation); nothing else.
const json::Value* old_member(const json::Value* old, std::string_view key) {
  return old != nullptr && old->is_object() ? old->as_object().find(key) : nullptr;
}

const json::Value* old_list_item(const Node& n, const json::Value* old, const json::Value& item) {
  if (old == nullptr || !old->is_array() || n.list_type != ListType::kMap ||
      n.list_map_keys.empty() || !item.is_object()) {
    return nullptr;
  }
  for (const json::Value& o : old->as_array()) {
    if (!o.is_object()) {
      continue;
    }
    bool same = std::all_of(n.list_map_keys.begin(), n.list_map_keys.end(), [&](const auto& k) {
      const json::Value* a = item.as_object().find(k);
      const json::Value* b = o.as_object().find(k);
      return (a == nullptr && b == nullptr) || (a != nullptr && b != nullptr && *a == *b);
    });
    if (same) {
      return &o;
    }
  }
  return nullptr;
}

// x-kubernetes-validations at one node, upstream's wording: `<path>: Invalid value: "object":
// <message>` (the schema type as the value), `failed rule: <rule>` without a message, and
// `<error> evaluating rule: <rule>` when evaluation fails.
void validate_rules(const Node& n, const json::Value& v, const json::Value* old, Path& path,
                    Causes& causes) {
  std::optional<json::Value> self;
  std::optional<json::Value> old_self;
  const json::Value type_shown{std::string(openapi_type_name(n))};
  for (const ValidationRule& r : n.validations) {
    if (r.transition && old == nullptr) {
      continue;  // a transition rule needs the old value (creates, uncorrelated items)
    }
    if (!self) {
      self = cel_typed(n, v);
    }
    if (old != nullptr && !old_self) {
      old_self = cel_typed(n, *old);
    }
    cel::Bindings bindings;
    bindings.self = &*self;
    bindings.old_self = old != nullptr ? &*old_self : nullptr;
    std::string field = path.str();
    if (!r.field_path.empty()) {
      field += field.empty() && r.field_path.front() == '.' ? r.field_path.substr(1) : r.field_path;
    }
    auto result = cel::evaluate(*r.program, bindings);
    if (!result) {
      causes.invalid(field, type_shown, result.error().message + " evaluating rule: " + r.rule);
      continue;
    }
    if (!result->is_bool()) {
      causes.invalid(field, type_shown, "rule did not evaluate to a bool: " + r.rule);
      continue;
    }
    if (result->as_bool()) {
      continue;
    }
    std::string message = r.message.empty() ? "failed rule: " + r.rule : r.message;
    if (r.message_program != nullptr) {
      // A messageExpression that fails or gives no string falls back to the message (upstream).
      if (auto m = cel::evaluate(*r.message_program, bindings);
          m && m->is_string() && !m->as_string().empty()) {
        message = m->as_string();
      }
    }
    causes.rule_failed(field, r.reason, type_shown, message);
  }
}

void validate_node(const Node& n, const json::Value& v, const json::Value* old, Path& path,
                   Causes& causes) {
  if (!n.transition_rules_below) {
    old = nullptr;  // nothing below can use it: no correlation work (list items are a scan each)
  }
  if (v.is_null()) {
    // kube-openapi: null passes nullable schemas and schemas without a type.
    if (!n.nullable && n.kind != Kind::kAny && n.kind != Kind::kIntOrString) {
      causes.type_invalid(
          path.str(), v,
          fmt::format("{} must be of type {}: \"null\"", in_body(path), openapi_type_name(n)));
    }
    return;
  }
  if (!matches_type(n, v)) {
    causes.type_invalid(path.str(), v,
                        fmt::format("{} must be of type {}: \"{}\"", in_body(path),
                                    openapi_type_name(n), openapi_type_of(v)));
    return;
  }
  if (!n.enum_values.empty()) {
    bool found = std::any_of(n.enum_values.begin(), n.enum_values.end(),
                             [&](const json::Value& e) { return e == v; });
    if (!found) {
      causes.not_supported(path.str(), v, n.enum_values);
    }
  }
  if (v.is_string()) {
    const std::string& s = v.as_string();
    std::size_t len = utf8_length(s);
    if (n.max_length && static_cast<std::int64_t>(len) > *n.max_length) {
      causes.too_long(path.str(), *n.max_length);
    }
    if (n.min_length && static_cast<std::int64_t>(len) < *n.min_length) {
      causes.invalid(
          path.str(), v,
          fmt::format("{} should be at least {} chars long", in_body(path), *n.min_length));
    }
    if (n.pattern) {
      const detail::Regex* re = compiled(*n.pattern);
      if (re == nullptr || !re->search(s)) {
        causes.invalid(path.str(), v,
                       fmt::format("{} should match '{}'", in_body(path), *n.pattern));
      }
    }
    if (!n.format.empty() && n.kind == Kind::kString && !check_format(n.format, s)) {
      causes.type_invalid(
          path.str(), v,
          fmt::format("{} must be of type {}: {}", in_body(path), n.format, go_quote(s)));
    }
  }
  if (v.is_number() && n.kind != Kind::kQuantity) {
    double d = v.as_double();
    if (n.minimum) {
      bool bad = n.exclusive_minimum ? d <= *n.minimum : d < *n.minimum;
      if (bad) {
        causes.invalid(
            path.str(), v,
            fmt::format("{} should be greater than {}{}", in_body(path),
                        n.exclusive_minimum ? "" : "or equal to ", go_float(*n.minimum)));
      }
    }
    if (n.maximum) {
      bool bad = n.exclusive_maximum ? d >= *n.maximum : d > *n.maximum;
      if (bad) {
        causes.invalid(
            path.str(), v,
            fmt::format("{} should be less than {}{}", in_body(path),
                        n.exclusive_maximum ? "" : "or equal to ", go_float(*n.maximum)));
      }
    }
    if (n.multiple_of && *n.multiple_of != 0) {
      double q = d / *n.multiple_of;
      if (std::abs(q - std::round(q)) > 1e-9) {
        causes.invalid(
            path.str(), v,
            fmt::format("{} should be a multiple of {}", in_body(path), go_float(*n.multiple_of)));
      }
    }
  }
  if (v.is_array()) {
    const json::Array& items = v.as_array();
    auto size = static_cast<std::int64_t>(items.size());
    if (n.max_items && size > *n.max_items) {
      causes.too_many(path.str(), size, *n.max_items);
    }
    if (n.min_items && size < *n.min_items) {
      causes.invalid(path.str(), v,
                     fmt::format("{} should have at least {} items", in_body(path), *n.min_items));
    }
    if (n.unique_items) {
      bool dup = false;
      for (std::size_t i = 0; i < items.size() && !dup; ++i) {
        for (std::size_t j = 0; j < i && !dup; ++j) {
          dup = items[i] == items[j];
        }
      }
      if (dup) {
        causes.invalid(path.str(), v, in_body(path) + " shouldn't contain duplicates");
      }
    }
    if (n.items != nullptr) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        std::size_t mark = path.mark();
        path.index(i);
        validate_node(*n.items, items[i], old_list_item(n, old, items[i]), path, causes);
        path.reset(mark);
      }
      if (n.kind == Kind::kArray) {
        validate_list_type(n, items, path, causes);
      }
    }
  }
  if (v.is_object()) {
    const json::Object& obj = v.as_object();
    auto size = static_cast<std::int64_t>(obj.size());
    if (n.max_properties && size > *n.max_properties) {
      causes.too_many(path.str(), size, *n.max_properties);
    }
    if (n.min_properties && size < *n.min_properties) {
      causes.invalid(
          path.str(), v,
          fmt::format("{} should have at least {} properties", in_body(path), *n.min_properties));
    }
    if (n.kind == Kind::kObject || n.kind == Kind::kAny) {
      // A resource's metadata is ObjectMeta's business (validated as metadata, not by the CRD's
      // schema), except name and generateName, which a CRD may constrain.
      bool object_meta = is_object_meta(n);
      for (const Field& f : n.fields) {
        if (f.inlined || (object_meta && f.name != "name" && f.name != "generateName")) {
          continue;
        }
        std::size_t mark = path.mark();
        path.member(f.name);
        if (const json::Value* mv = obj.find(f.name); mv != nullptr) {
          validate_node(*f.node, *mv, old_member(old, f.name), path, causes);
        } else if (f.required) {
          causes.required(path.str());
        }
        path.reset(mark);
      }
    } else if (n.kind == Kind::kMap) {
      for (const json::Member& m : obj) {
        std::size_t mark = path.mark();
        path.member(m.key);
        validate_node(*n.items, m.value, old_member(old, m.key), path, causes);
        path.reset(mark);
      }
    }
  }
  validate_junctors(n, v, old, path, causes);
  if (!n.validations.empty()) {
    validate_rules(n, v, old, path, causes);
  }
}

// --- pruning ------------------------------------------------------------------------------------

bool is_meta_field(std::string_view k) {
  return k == "apiVersion" || k == "kind" || k == "metadata";
}

void prune_value(const Node* n, json::Value& v, Path& path, bool embedded_meta,
                 std::vector<std::string>& out);

void prune_object(const Node& n, json::Object& obj, Path& path, bool embedded_meta,
                  std::vector<std::string>& out) {
  bool embedded = embedded_meta || n.embedded_resource;
  for (auto it = obj.begin(); it != obj.end();) {
    std::size_t mark = path.mark();
    path.member(it->key);
    const Field* f = n.kind == Kind::kObject || n.kind == Kind::kAny ? n.field(it->key) : nullptr;
    if (f != nullptr) {
      // apiVersion/kind of a resource are strings the schema may not list; metadata is pruned to
      // ObjectMeta by its node.
      prune_value(f->node, it->value, path, false, out);
      ++it;
    } else if (n.kind == Kind::kMap) {
      prune_value(n.items, it->value, path, false, out);
      ++it;
    } else if ((embedded && is_meta_field(it->key)) || n.preserve_unknown_fields) {
      ++it;  // a resource's own apiVersion/kind/metadata, or a member the schema keeps unchecked
    } else {
      out.push_back(path.str());
      it = obj.erase(it);
    }
    path.reset(mark);
  }
}

void prune_value(const Node* n, json::Value& v, Path& path, bool embedded_meta,
                 std::vector<std::string>& out) {
  if (n == nullptr) {
    return;
  }
  if (v.is_object()) {
    if (n->kind == Kind::kObject || n->kind == Kind::kMap ||
        (n->kind == Kind::kAny && !n->fields.empty())) {
      prune_object(*n, v.as_object(), path, embedded_meta, out);
    }
    return;
  }
  if (v.is_array() && n->kind == Kind::kArray) {
    json::Array& items = v.as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::size_t mark = path.mark();
      path.index(i);
      prune_value(n->items, items[i], path, false, out);
      path.reset(mark);
    }
  }
}

// --- defaulting ---------------------------------------------------------------------------------

const Node* member_schema(const Node& n, std::string_view key) {
  if (n.kind == Kind::kObject) {
    const Field* f = n.field(key);
    return f != nullptr ? f->node : nullptr;
  }
  if (n.kind == Kind::kMap) {
    return n.items;
  }
  return nullptr;
}

bool non_nullable_null(const json::Value& v, const Node* s) {
  return v.is_null() && s != nullptr && !s->nullable;
}

void prune_nulls(const Node* s, json::Value& v) {
  if (v.is_object()) {
    json::Object& obj = v.as_object();
    for (auto it = obj.begin(); it != obj.end();) {
      const Node* child = s != nullptr ? member_schema(*s, it->key) : nullptr;
      if (non_nullable_null(it->value, child) && !child->default_value) {
        it = obj.erase(it);
      } else {
        prune_nulls(child, it->value);
        ++it;
      }
    }
  } else if (v.is_array()) {
    const Node* items = s != nullptr && s->kind == Kind::kArray ? s->items : nullptr;
    for (json::Value& e : v.as_array()) {
      prune_nulls(items, e);
    }
  }
}

void default_value(const Node* s, json::Value& v) {
  if (s == nullptr) {
    return;
  }
  if (v.is_object()) {
    json::Object& obj = v.as_object();
    if (s->kind == Kind::kObject) {
      for (const Field& f : s->fields) {
        if (f.inlined || !f.node->default_value) {
          continue;
        }
        json::Value* existing = obj.find(f.name);
        if (existing == nullptr) {
          obj.set(f.name, *f.node->default_value);
        } else if (non_nullable_null(*existing, f.node)) {
          *existing = *f.node->default_value;
        }
      }
      for (json::Member& m : obj) {
        if (const Field* f = s->field(m.key); f != nullptr) {
          default_value(f->node, m.value);
        }
      }
    } else if (s->kind == Kind::kMap) {
      for (json::Member& m : obj) {
        if (non_nullable_null(m.value, s->items) && s->items->default_value) {
          m.value = *s->items->default_value;
        }
        default_value(s->items, m.value);
      }
    }
  } else if (v.is_array() && s->kind == Kind::kArray) {
    for (json::Value& e : v.as_array()) {
      if (non_nullable_null(e, s->items) && s->items->default_value) {
        e = *s->items->default_value;
      }
      default_value(s->items, e);
    }
  }
}

// --- built-in type checking ---------------------------------------------------------------------

std::string short_name(const Node& n) {
  const Node& base = n.refines != nullptr ? *n.refines : n;
  std::string_view name = base.name;
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::string(name);
  }
  std::string_view type = name.substr(dot + 1);
  std::string_view pkg = name.substr(0, dot);
  auto pdot = pkg.rfind('.');
  return std::string(pkg.substr(pdot == std::string_view::npos ? 0 : pdot + 1))
      .append(".")
      .append(type);
}

std::string go_type(const Node& n) {
  switch (n.kind) {
    case Kind::kObject:
      return n.name.empty() && n.refines == nullptr ? "struct" : short_name(n);
    case Kind::kMap:
      return "map[string]" + go_type(*n.items);
    case Kind::kArray:
      return "[]" + go_type(*n.items);
    case Kind::kString:
      return "string";
    case Kind::kInteger:
      return n.format == "int32" ? "int32" : "int64";
    case Kind::kNumber:
      return "float64";
    case Kind::kBoolean:
      return "bool";
    case Kind::kBytes:
      return "[]uint8";
    case Kind::kIntOrString:
      return "intstr.IntOrString";
    case Kind::kQuantity:
      return "resource.Quantity";
    case Kind::kTime:
      return "v1.Time";
    case Kind::kMicroTime:
      return "v1.MicroTime";
    case Kind::kDuration:
      return "v1.Duration";
    case Kind::kAny:
      return "interface {}";
  }
  return "interface {}";
}

std::string_view go_json_type(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return "null";
    case json::Type::kBool:
      return "bool";
    case json::Type::kInt:
    case json::Type::kDouble:
      return "number";
    case json::Type::kString:
      return "string";
    case json::Type::kArray:
      return "array";
    case json::Type::kObject:
      return "object";
  }
  return "null";
}

struct TypeContext {
  std::vector<std::string> stack;  // JSON field names from the root (no indices, as Go's)
  std::string struct_name;         // innermost Go struct
  std::optional<Error> error;

  void mismatch(const std::string& value_desc, const Node& target) {
    if (error) {
      return;
    }
    std::string field;
    for (const std::string& s : stack) {
      field += field.empty() ? s : "." + s;
    }
    std::string msg = "json: cannot unmarshal " + value_desc;
    if (!struct_name.empty() && !field.empty()) {
      msg += " into Go struct field " + struct_name + "." + field;
    } else {
      msg += " into Go value";
    }
    msg += " of type " + go_type(target);
    error = errors::bad_request(msg);
  }
  void fail(const std::string& msg) {
    if (!error) {
      error = errors::bad_request(msg);
    }
  }
};

std::string number_text(const json::Value& v) {
  return v.is_int() ? std::to_string(v.as_int()) : go_float(v.as_double());
}

void check_value(const Node& n, const json::Value& v, TypeContext& ctx);

void check_rfc3339(const std::string& s, TypeContext& ctx) {
  if (!valid_date_time(s)) {
    ctx.fail(
        fmt::format("parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as "
                    "\"2006\"",
                    go_quote(s), go_quote(s)));
  }
}

void check_value(const Node& n, const json::Value& v, TypeContext& ctx) {
  if (ctx.error || v.is_null()) {
    return;
  }
  switch (n.kind) {
    case Kind::kObject: {
      if (!v.is_object()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
        return;
      }
      std::string saved = ctx.struct_name;
      ctx.struct_name = short_name(n);
      if (auto dot = ctx.struct_name.find('.'); dot != std::string::npos) {
        ctx.struct_name = ctx.struct_name.substr(dot + 1);
      }
      for (const json::Member& m : v.as_object()) {
        if (const Field* f = n.field(m.key); f != nullptr) {
          ctx.stack.push_back(m.key);
          check_value(*f->node, m.value, ctx);
          ctx.stack.pop_back();
        }
      }
      ctx.struct_name = saved;
      return;
    }
    case Kind::kMap:
      if (!v.is_object()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
        return;
      }
      for (const json::Member& m : v.as_object()) {
        check_value(*n.items, m.value, ctx);
      }
      return;
    case Kind::kArray:
      if (!v.is_array()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
        return;
      }
      for (const json::Value& e : v.as_array()) {
        check_value(*n.items, e, ctx);
      }
      return;
    case Kind::kString:
      if (!v.is_string()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
      }
      return;
    case Kind::kInteger: {
      if (!v.is_number()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
        return;
      }
      bool fits = v.is_integral();
      if (fits && n.format == "int32") {
        std::int64_t i = v.as_int();
        fits = i >= INT32_MIN && i <= INT32_MAX;
      }
      if (!fits) {
        ctx.mismatch("number " + number_text(v), n);
      }
      return;
    }
    case Kind::kNumber:
      if (!v.is_number()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
      }
      return;
    case Kind::kBoolean:
      if (!v.is_bool()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
      }
      return;
    case Kind::kBytes:
      if (!v.is_string()) {
        ctx.mismatch(std::string(go_json_type(v)), n);
      } else if (!valid_base64(v.as_string())) {
        // Go reports the offset of the first bad byte; we report the start of the bad quantum.
        const std::string& s = v.as_string();
        std::size_t bad = 0;
        while (
            bad < s.size() && s[bad] != '=' &&
            (std::isalnum(static_cast<unsigned char>(s[bad])) || s[bad] == '+' || s[bad] == '/')) {
          ++bad;
        }
        ctx.fail(fmt::format("illegal base64 data at input byte {}", bad));
      }
      return;
    case Kind::kIntOrString:
      if (v.is_string()) {
        return;
      }
      if (!v.is_number()) {
        ctx.fail(
            fmt::format("json: cannot unmarshal {} into Go value of type int32", go_json_type(v)));
      } else if (!v.is_integral() || v.as_int() < INT32_MIN || v.as_int() > INT32_MAX) {
        ctx.fail("json: cannot unmarshal number " + number_text(v) +
                 " into Go value of type int32");
      }
      return;
    case Kind::kQuantity:
      if (v.is_number()) {
        return;
      }
      if (!v.is_string()) {
        ctx.fail(quantity_error(json::serialize(v)));
      } else if (std::string e = quantity_error(v.as_string()); !e.empty()) {
        ctx.fail(e);
      }
      return;
    case Kind::kTime:
    case Kind::kMicroTime:
      if (!v.is_string()) {
        ctx.fail(
            fmt::format("json: cannot unmarshal {} into Go value of type string", go_json_type(v)));
      } else {
        check_rfc3339(v.as_string(), ctx);
      }
      return;
    case Kind::kDuration:
      if (!v.is_string()) {
        ctx.fail(
            fmt::format("json: cannot unmarshal {} into Go value of type string", go_json_type(v)));
      } else if (!valid_go_duration(v.as_string())) {
        ctx.fail("time: invalid duration " + go_quote(v.as_string()));
      }
      return;
    case Kind::kAny:
      return;
  }
}

}  // namespace

// --- public -------------------------------------------------------------------------------------

std::vector<std::string> unknown_fields(const Node& node, const json::Value& value) {
  std::vector<std::string> out;
  Path path("");
  walk_unknown(node, value, path, out);
  return out;
}

std::string unknown_field_message(std::string_view path) {
  return "unknown field " + go_quote(path);
}

std::string duplicate_field_message(std::string_view path) {
  return "duplicate field " + go_quote(path);
}

Error strict_decoding_error(std::string_view prefix, const std::vector<std::string>& unknown,
                            const std::vector<std::string>& duplicates) {
  std::string msg(prefix);
  msg += "strict decoding error: ";
  bool first = true;
  for (const std::string& d : duplicates) {
    msg += first ? "" : ", ";
    first = false;
    msg += duplicate_field_message(d);
  }
  for (const std::string& u : unknown) {
    msg += first ? "" : ", ";
    first = false;
    msg += unknown_field_message(u);
  }
  return errors::bad_request(msg);
}

Result<void> check_types(const Node& node, const json::Value& value) {
  TypeContext ctx;
  check_value(node, value, ctx);
  if (ctx.error) {
    return *ctx.error;
  }
  return {};
}

std::vector<std::string> prune(const Node& node, json::Value& value, bool is_resource_root) {
  std::vector<std::string> out;
  Path path("");
  prune_value(&node, value, path, is_resource_root, out);
  std::sort(out.begin(), out.end());
  return out;
}

void apply_defaults(const Node& node, json::Value& value) {
  prune_nulls(&node, value);
  default_value(&node, value);
}

std::vector<FieldCause> validate_value(const Node& node, const json::Value& value,
                                       std::string_view root_path, const json::Value* old) {
  std::vector<FieldCause> out;
  Causes causes(out, root_path);
  Path path("");
  validate_node(node, value, old, path, causes);
  return out;
}

Error invalid_error(std::string_view qualified_kind, std::string_view name,
                    std::vector<FieldCause> causes) {
  std::string msg = fmt::format("{} {} is invalid", qualified_kind, go_quote(name));
  // Aggregate formatting: one error as is, several in brackets, identical ones once.
  std::vector<std::string> texts;
  for (const FieldCause& c : causes) {
    std::string t = c.field.empty() ? c.message : c.field + ": " + c.message;
    if (std::find(texts.begin(), texts.end(), t) == texts.end()) {
      texts.push_back(std::move(t));
    }
  }
  if (texts.size() == 1) {
    msg += ": " + texts[0];
  } else if (texts.size() > 1) {
    msg += ": [";
    for (std::size_t i = 0; i < texts.size(); ++i) {
      msg += (i > 0 ? ", " : "") + texts[i];
    }
    msg += "]";
  }
  Error e = errors::make(Reason::kInvalid, msg);
  e.causes = std::move(causes);
  return e;
}

std::string go_value_text(const json::Value& value) {
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
    default:
      return go_sharp(value);
  }
}

}  // namespace skiff::registry
