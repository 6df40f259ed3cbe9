// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/labels.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "skiff/api/validation.hpp"

namespace skiff::api {
namespace {

std::string join_messages(const std::vector<std::string>& msgs) {
  std::string joined;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (i > 0) {
      joined += "; ";
    }
    joined += msgs[i];
  }
  return joined;
}

// --- lexer (the token set and longest-match rules of upstream's labels.Lexer) ---------------

enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Tok tok;
  std::string literal;
};

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_special(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '>':
    case '<':
      return true;
    default:
      return false;
  }
}

Tok literal_token(std::string_view s) {
  if (s == ")") {
    return Tok::kClosedPar;
  }
  if (s == ",") {
    return Tok::kComma;
  }
  if (s == "!") {
    return Tok::kDoesNotExist;
  }
  if (s == "==") {
    return Tok::kDoubleEquals;
  }
  if (s == "=") {
    return Tok::kEquals;
  }
  if (s == ">") {
    return Tok::kGreaterThan;
  }
  if (s == "in") {
    return Tok::kIn;
  }
  if (s == "<") {
    return Tok::kLessThan;
  }
  if (s == "!=") {
    return Tok::kNotEquals;
  }
  if (s == "notin") {
    return Tok::kNotIn;
  }
  if (s == "(") {
    return Tok::kOpenPar;
  }
  return Tok::kError;
}

// Upstream reads a NUL byte as the end of the input; so do we.
std::vector<Item> scan(std::string_view s) {
  std::vector<Item> items;
  std::size_t pos = 0;
  const auto at = [&](std::size_t i) {
    return i < s.size() ? s[i] : '\0';
  };
  while (true) {
    while (is_whitespace(at(pos))) {
      ++pos;
    }
    const char ch = at(pos);
    if (ch == '\0') {
      items.push_back({Tok::kEnd, ""});
      return items;
    }
    if (is_special(ch)) {
      // The longest run of special characters that still forms a token.
      std::string buffer;
      Item last{Tok::kError, ""};
      while (is_special(at(pos))) {
        buffer += at(pos);
        const Tok t = literal_token(buffer);
        if (t != Tok::kError) {
          last = {t, buffer};
          ++pos;
        } else if (last.tok != Tok::kError) {
          break;
        } else {
          ++pos;
        }
      }
      if (last.tok == Tok::kError) {
        items.push_back({Tok::kError, "error expected: keyword found '" + buffer + "'"});
      } else {
        items.push_back(std::move(last));
      }
      continue;
    }
    std::string buffer;
    while (at(pos) != '\0' && !is_special(at(pos)) && !is_whitespace(at(pos))) {
      buffer += at(pos);
      ++pos;
    }
    const Tok t = literal_token(buffer);
    items.push_back({t == Tok::kError ? Tok::kIdentifier : t, std::move(buffer)});
  }
}

// --- parser --------------------------------------------------------------------------------------

enum class Context { kKeyAndOperator, kValues };

// A parse failure carries upstream's message; the caller decides whether it is wrapped in
// "unable to parse requirement: ".
struct ParseError {
  std::string message;
};

class Parser {
public:
  explicit Parser(std::string_view text) : items_(scan(text)) {}

  Result<std::vector<LabelRequirement>> parse();

private:
  std::pair<Tok, const std::string&> lookahead(Context ctx) const {
    const Item& item = items_[position_];
    return {adjust(item.tok, ctx), item.literal};
  }
  std::pair<Tok, const std::string&> consume(Context ctx) {
    const Item& item = items_[position_];
    if (position_ + 1 < items_.size()) {
      ++position_;
    }
    return {adjust(item.tok, ctx), item.literal};
  }
  // In a value position "in" and "notin" are plain identifiers.
  static Tok adjust(Tok t, Context ctx) {
    if (ctx == Context::kValues && (t == Tok::kIn || t == Tok::kNotIn)) {
      return Tok::kIdentifier;
    }
    return t;
  }

  Result<LabelRequirement> parse_requirement();
  bool parse_values(std::set<std::string>& out, std::string& error);
  bool parse_identifiers_list(std::set<std::string>& out, std::string& error);
  bool parse_exact_value(std::set<std::string>& out, std::string& error);

  std::vector<Item> items_;
  std::size_t position_ = 0;
};

Result<std::vector<LabelRequirement>> Parser::parse() {
  std::vector<LabelRequirement> requirements;
  while (true) {
    auto [tok, lit] = lookahead(Context::kValues);
    switch (tok) {
      case Tok::kIdentifier:
      case Tok::kDoesNotExist: {
        auto r = parse_requirement();
        if (!r) {
          return errors::bad_request("unable to parse requirement: " + r.error().message);
        }
        requirements.push_back(std::move(*r));
        auto [t, l] = consume(Context::kValues);
        if (t == Tok::kEnd) {
          return requirements;
        }
        if (t == Tok::kComma) {
          auto [t2, l2] = lookahead(Context::kValues);
          if (t2 != Tok::kIdentifier && t2 != Tok::kDoesNotExist) {
            return errors::bad_request("found '" + l2 + "', expected: identifier after ','");
          }
          break;
        }
        return errors::bad_request("found '" + l + "', expected: ',' or 'end of string'");
      }
      case Tok::kEnd:
        return requirements;
      default:
        return errors::bad_request("found '" + lit +
                                   "', expected: !, identifier, or 'end of string'");
    }
  }
}

Result<LabelRequirement> Parser::parse_requirement() {
  // Key, with the operator inferred for the unary forms.
  bool does_not_exist = false;
  auto [tok, literal] = consume(Context::kValues);
  std::string key = literal;
  if (tok == Tok::kDoesNotExist) {
    does_not_exist = true;
    auto [t2, l2] = consume(Context::kValues);
    tok = t2;
    key = l2;
  }
  if (tok != Tok::kIdentifier) {
    return errors::bad_request("found '" + key + "', expected: identifier");
  }
  if (auto msgs = is_qualified_name(key); !msgs.empty()) {
    // Upstream validates with a nil field path here, which prints as "<nil>".
    return errors::bad_request(to_string(field_invalid("<nil>", key, join_messages(msgs))));
  }
  auto [next, next_lit] = lookahead(Context::kValues);
  if (does_not_exist) {
    return LabelRequirement::make(std::move(key), SelectorOperator::kDoesNotExist, {});
  }
  if (next == Tok::kEnd || next == Tok::kComma) {
    return LabelRequirement::make(std::move(key), SelectorOperator::kExists, {});
  }

  SelectorOperator op{};
  auto [op_tok, op_lit] = consume(Context::kKeyAndOperator);
  switch (op_tok) {
    case Tok::kIn:
      op = SelectorOperator::kIn;
      break;
    case Tok::kEquals:
      op = SelectorOperator::kEquals;
      break;
    case Tok::kDoubleEquals:
      op = SelectorOperator::kDoubleEquals;
      break;
    case Tok::kGreaterThan:
      op = SelectorOperator::kGreaterThan;
      break;
    case Tok::kLessThan:
      op = SelectorOperator::kLessThan;
      break;
    case Tok::kNotIn:
      op = SelectorOperator::kNotIn;
      break;
    case Tok::kNotEquals:
      op = SelectorOperator::kNotEquals;
      break;
    default:
      return errors::bad_request("found '" + op_lit + "', expected: in, notin, =, ==, !=, gt, lt");
  }
  std::set<std::string> values;  // sorted and de-duplicated, as upstream's sets.String
  std::string error;
  const bool ok = (op == SelectorOperator::kIn || op == SelectorOperator::kNotIn)
                      ? parse_values(values, error)
                      : parse_exact_value(values, error);
  if (!ok) {
    return errors::bad_request(error);
  }
  return LabelRequirement::make(std::move(key), op,
                                std::vector<std::string>(values.begin(), values.end()));
}

bool Parser::parse_values(std::set<std::string>& out, std::string& error) {
  auto [tok, lit] = consume(Context::kValues);
  if (tok != Tok::kOpenPar) {
    error = "found '" + lit + "' expected: '('";
    return false;
  }
  auto [next, next_lit] = lookahead(Context::kValues);
  switch (next) {
    case Tok::kIdentifier:
    case Tok::kComma: {
      const std::string first_lit = next_lit;
      if (!parse_identifiers_list(out, error)) {
        return false;
      }
      if (consume(Context::kValues).first != Tok::kClosedPar) {
        error = "found '" + first_lit + "', expected: ')'";
        return false;
      }
      return true;
    }
    case Tok::kClosedPar:
      consume(Context::kValues);
      out.insert("");
      return true;
    default:
      error = "found '" + next_lit + "', expected: ',', ')' or identifier";
      return false;
  }
}

bool Parser::parse_identifiers_list(std::set<std::string>& out, std::string& error) {
  while (true) {
    auto [tok, lit] = consume(Context::kValues);
    switch (tok) {
      case Tok::kIdentifier: {
        out.insert(lit);
        auto [t2, l2] = lookahead(Context::kValues);
        if (t2 == Tok::kComma) {
          continue;
        }
        if (t2 == Tok::kClosedPar) {
          return true;
        }
        error = "found '" + l2 + "', expected: ',' or ')'";
        return false;
      }
      case Tok::kComma: {
        if (out.empty()) {
          out.insert("");  // "(,"
        }
        auto [t2, l2] = lookahead(Context::kValues);
        if (t2 == Tok::kClosedPar) {
          out.insert("");  // ",)"
          return true;
        }
        if (t2 == Tok::kComma) {
          consume(Context::kValues);
          out.insert("");  // ",,"
        }
        continue;
      }
      default:
        error = "found '" + lit + "', expected: ',', or identifier";
        return false;
    }
  }
}

bool Parser::parse_exact_value(std::set<std::string>& out, std::string& error) {
  auto [next, next_lit] = lookahead(Context::kValues);
  if (next == Tok::kEnd || next == Tok::kComma) {
    out.insert("");
    return true;
  }
  auto [tok, lit] = consume(Context::kValues);
  if (tok == Tok::kIdentifier) {
    out.insert(lit);
    return true;
  }
  error = "found '" + lit + "', expected: identifier";
  return false;
}

// strconv.ParseInt(s, 10, 64).
std::optional<std::int64_t> parse_int64(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  std::string_view digits = s;
  if (digits.front() == '+' || digits.front() == '-') {
    digits.remove_prefix(1);
  }
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  const char* first = s.data() + (s.front() == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::string_view> label_value(const json::Value& labels, std::string_view key) {
  const json::Value* v = labels.get(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string_view(v->as_string());
}

std::string render_values(const std::vector<std::string>& values, bool nil_when_empty) {
  if (values.empty() && nil_when_empty) {
    return "[]string(nil)";
  }
  json::Array arr;
  for (const auto& v : values) {
    arr.emplace_back(v);
  }
  return render_bad_value(json::Value(std::move(arr)));
}

void stable_sort_by_key(std::vector<LabelRequirement>& reqs) {
  std::stable_sort(
      reqs.begin(), reqs.end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key() < b.key(); });
}

}  // namespace

// NewRequirement's checks, in upstream's order. `nil_values` says upstream's values slice is nil
// in that call (LabelSelectorAsSelector with no values), which prints as []string(nil).
std::vector<FieldCause> LabelRequirement::check(std::string_view key, SelectorOperator op,
                                                const std::vector<std::string>& values,
                                                bool nil_values) {
  std::vector<FieldCause> errs;
  if (auto msgs = is_qualified_name(key); !msgs.empty()) {
    errs.push_back(field_invalid("key", key, join_messages(msgs)));
  }
  const std::string rendered = render_values(values, nil_values);
  switch (op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      if (values.empty()) {
        errs.push_back(field_invalid_rendered(
            "values", rendered, "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
    case SelectorOperator::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(field_invalid_rendered(
            "values", rendered, "exact-match compatibility requires one single value"));
      }
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(field_invalid_rendered(
            "values", rendered, "values set must be empty for exists and does not exist"));
      }
      break;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan:
      if (values.size() != 1) {
        errs.push_back(field_invalid_rendered(
            "values", rendered, "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (!parse_int64(values[i])) {
          errs.push_back(field_invalid(field_index("values", i), values[i],
                                       "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto msgs = is_valid_label_value(values[i]); !msgs.empty()) {
      errs.push_back(
          field_invalid(field_key(field_index("values", i), key), values[i], join_messages(msgs)));
    }
  }
  return errs;
}

Result<LabelRequirement> LabelRequirement::make(std::string key, SelectorOperator op,
                                                std::vector<std::string> values) {
  if (auto errs = check(key, op, values, false); !errs.empty()) {
    return errors::bad_request(aggregate_message(errs));
  }
  return LabelRequirement(std::move(key), op, std::move(values));
}

std::string_view selector_operator_name(SelectorOperator op) noexcept {
  switch (op) {
    case SelectorOperator::kIn:
      return "in";
    case SelectorOperator::kNotIn:
      return "notin";
    case SelectorOperator::kEquals:
      return "=";
    case SelectorOperator::kDoubleEquals:
      return "==";
    case SelectorOperator::kNotEquals:
      return "!=";
    case SelectorOperator::kExists:
      return "exists";
    case SelectorOperator::kDoesNotExist:
      return "!";
    case SelectorOperator::kGreaterThan:
      return "gt";
    case SelectorOperator::kLessThan:
      return "lt";
  }
  return "";
}

bool LabelRequirement::matches(const json::Value& labels) const {
  const auto value = label_value(labels, key_);
  const auto has_value = [&](std::string_view v) {
    return std::find(values_.begin(), values_.end(), v) != values_.end();
  };
  switch (op_) {
    case SelectorOperator::kIn:
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
      return value && has_value(*value);
    case SelectorOperator::kNotIn:
    case SelectorOperator::kNotEquals:
      return !value || !has_value(*value);
    case SelectorOperator::kExists:
      return value.has_value();
    case SelectorOperator::kDoesNotExist:
      return !value.has_value();
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan: {
      if (!value || values_.size() != 1) {
        return false;
      }
      const auto have = parse_int64(*value);
      const auto want = parse_int64(values_.front());
      if (!have || !want) {
        return false;
      }
      return op_ == SelectorOperator::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string LabelRequirement::to_string() const {
  std::string out;
  if (op_ == SelectorOperator::kDoesNotExist) {
    out += '!';
  }
  out += key_;
  switch (op_) {
    case SelectorOperator::kEquals:
      out += "=";
      break;
    case SelectorOperator::kDoubleEquals:
      out += "==";
      break;
    case SelectorOperator::kNotEquals:
      out += "!=";
      break;
    case SelectorOperator::kIn:
      out += " in ";
      break;
    case SelectorOperator::kNotIn:
      out += " notin ";
      break;
    case SelectorOperator::kGreaterThan:
      out += ">";
      break;
    case SelectorOperator::kLessThan:
      out += "<";
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      return out;
  }
  const bool set_based = op_ == SelectorOperator::kIn || op_ == SelectorOperator::kNotIn;
  if (set_based) {
    out += '(';
  }
  // Values are printed sorted (not de-duplicated), without changing the requirement.
  std::vector<std::string_view> sorted(values_.begin(), values_.end());
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += sorted[i];
  }
  if (set_based) {
    out += ')';
  }
  return out;
}

LabelSelector LabelSelector::nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  Parser parser(text);
  auto reqs = parser.parse();
  if (!reqs) {
    return reqs.error();
  }
  LabelSelector s;
  s.requirements_ = std::move(*reqs);
  stable_sort_by_key(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::from_label_selector(const json::Value& selector) {
  if (selector.is_null()) {
    return nothing();
  }
  if (!selector.is_object()) {
    return errors::bad_request("a label selector must be an object, not " +
                               std::string(json::type_name(selector.type())));
  }
  const json::Value& match_labels = selector["matchLabels"];
  const json::Value& match_expressions = selector["matchExpressions"];
  const std::size_t n_labels = match_labels.is_object() ? match_labels.size() : 0;
  const std::size_t n_exprs = match_expressions.is_array() ? match_expressions.size() : 0;
  if (n_labels + n_exprs == 0) {
    return everything();
  }
  std::vector<LabelRequirement> reqs;
  reqs.reserve(n_labels + n_exprs);
  if (n_labels > 0) {
    // Upstream walks a Go map (no order) and then sorts by key; sort the pairs first so equal
    // keys never arise here and the result is deterministic.
    std::vector<const json::Member*> pairs;
    for (const auto& m : match_labels.as_object()) {
      if (m.value.is_string()) {
        pairs.push_back(&m);
      }
    }
    std::sort(pairs.begin(), pairs.end(),
              [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
    for (const json::Member* m : pairs) {
      auto r = LabelRequirement::make(m->key, SelectorOperator::kEquals, {m->value.as_string()});
      if (!r) {
        return r.error();
      }
      reqs.push_back(std::move(*r));
    }
  }
  if (n_exprs > 0) {
    for (const auto& expr : match_expressions.as_array()) {
      const std::string_view op_text = expr.string_or("operator");
      SelectorOperator op{};
      if (op_text == "In") {
        op = SelectorOperator::kIn;
      } else if (op_text == "NotIn") {
        op = SelectorOperator::kNotIn;
      } else if (op_text == "Exists") {
        op = SelectorOperator::kExists;
      } else if (op_text == "DoesNotExist") {
        op = SelectorOperator::kDoesNotExist;
      } else {
        return errors::bad_request(go_quote(op_text) + " is not a valid label selector operator");
      }
      std::vector<std::string> values;
      const json::Value& vals = expr["values"];
      if (vals.is_array()) {
        for (const auto& v : vals.as_array()) {
          if (v.is_string()) {
            values.push_back(v.as_string());
          }
        }
      }
      std::string key(expr.string_or("key"));
      if (auto errs = LabelRequirement::check(key, op, values, true); !errs.empty()) {
        return errors::bad_request(aggregate_message(errs));
      }
      reqs.push_back(LabelRequirement(std::move(key), op, std::move(values)));
    }
  }
  LabelSelector s;
  s.requirements_ = std::move(reqs);
  stable_sort_by_key(s.requirements_);
  return s;
}

LabelSelector LabelSelector::from_set(const json::Value& labels) {
  LabelSelector s;
  if (!labels.is_object()) {
    return s;
  }
  for (const auto& [key, value] : labels.as_object()) {
    if (value.is_string()) {
      s.requirements_.push_back(
          LabelRequirement(key, SelectorOperator::kEquals, {value.as_string()}));
    }
  }
  stable_sort_by_key(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::from_set_validated(const json::Value& labels) {
  LabelSelector s;
  if (!labels.is_object()) {
    return s;
  }
  for (const auto& [key, value] : labels.as_object()) {
    if (!value.is_string()) {
      continue;
    }
    auto r = LabelRequirement::make(key, SelectorOperator::kEquals, {value.as_string()});
    if (!r) {
      return r.error();
    }
    s.requirements_.push_back(std::move(*r));
  }
  stable_sort_by_key(s.requirements_);
  return s;
}

bool LabelSelector::matches(const json::Value& labels) const {
  if (nothing_) {
    return false;
  }
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const LabelRequirement& r) { return r.matches(labels); });
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += requirements_[i].to_string();
  }
  return out;
}

std::optional<std::string> LabelSelector::requires_exact_match(std::string_view label) const {
  for (const auto& r : requirements_) {
    if (r.key() != label) {
      continue;
    }
    switch (r.op()) {
      case SelectorOperator::kEquals:
      case SelectorOperator::kDoubleEquals:
      case SelectorOperator::kIn:
        if (r.values().size() == 1) {
          return r.values().front();
        }
        break;
      default:
        break;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

LabelSelector LabelSelector::add(LabelRequirement requirement) const {
  LabelSelector s = *this;
  if (s.nothing_) {
    return s;
  }
  s.requirements_.push_back(std::move(requirement));
  stable_sort_by_key(s.requirements_);
  return s;
}

}  // namespace skiff::api
