// SPDX-License-Identifier: Apache-2.0
// A small CEL interpreter for CRD validation rules (see cel.hpp for the contract): a lexer, a
// recursive-descent parser that resolves names and expands macros at compile time, and a
// tree-walking evaluator whose values borrow the bound JSON instead of copying it.
#include "cel.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "structural_regex.hpp"
#include "utf8.hpp"

namespace skiff::registry::cel {
namespace {

using detail::decode;
using detail::next_code_point;
using detail::Regex;

// ---------------------------------------------------------------------------------------------
// UTF-8. CEL strings are sequences of code points: size(), indexOf() and friends count them.

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::string encode(std::span<const std::uint32_t> cps) {
  std::string out;
  out.reserve(cps.size());
  for (auto cp : cps) {
    append_utf8(out, cp);
  }
  return out;
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    next_code_point(s, i);
  }
  return n;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t at = i;
    if (next_code_point(s, i) == 0xfffd && s.substr(at, 3) != "\xef\xbf\xbd") {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Values. A Val is small and cheap to copy: strings, lists and maps either point into the bound
// JSON or the program's literals (both outlive an evaluation), or share an owned payload.

enum class Kind : std::uint8_t {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kType,
  kError
};

constexpr std::array<std::string_view, 11> kKindNames = {"null_type", "bool",   "int",   "uint",
                                                         "double",    "string", "bytes", "list",
                                                         "map",       "type",   "error"};

struct Val {
  Kind kind = Kind::kNull;
  bool json = false;  // kList/kMap: p is a json::Array / json::Object rather than ValList / ValMap
  union {
    std::int64_t i = 0;  // kInt; kType: the Kind it names
    bool b;
    std::uint64_t u;
    double d;
    const void* p;  // kString/kBytes/kError: std::string; kList/kMap: see `json`
  };
  std::shared_ptr<const void> hold;  // owns *p when the payload was built during evaluation
};

using ValList = std::vector<Val>;
using ValMap = std::vector<std::pair<Val, Val>>;

std::string_view kind_name(Kind kind) {
  return kKindNames[static_cast<std::size_t>(kind)];
}

Val make_bool(bool v) {
  Val r;
  r.kind = Kind::kBool;
  r.b = v;
  return r;
}

Val make_int(std::int64_t v) {
  Val r;
  r.kind = Kind::kInt;
  r.i = v;
  return r;
}

Val make_uint(std::uint64_t v) {
  Val r;
  r.kind = Kind::kUint;
  r.u = v;
  return r;
}

Val make_double(double v) {
  Val r;
  r.kind = Kind::kDouble;
  r.d = v;
  return r;
}

Val make_type(Kind k) {
  Val r;
  r.kind = Kind::kType;
  r.i = static_cast<std::int64_t>(k);
  return r;
}

// A string that lives at least as long as the evaluation (bound JSON, program literal).
Val borrow_text(const std::string& s, Kind kind = Kind::kString) {
  Val r;
  r.kind = kind;
  r.p = &s;
  return r;
}

Val make_text(std::string s, Kind kind = Kind::kString) {
  auto owned = std::make_shared<const std::string>(std::move(s));
  Val r;
  r.kind = kind;
  r.p = owned.get();
  r.hold = std::move(owned);
  return r;
}

Val make_error(std::string message) {
  return make_text(std::move(message), Kind::kError);
}

Val make_list(ValList items) {
  auto owned = std::make_shared<const ValList>(std::move(items));
  Val r;
  r.kind = Kind::kList;
  r.p = owned.get();
  r.hold = std::move(owned);
  return r;
}

Val make_map(ValMap entries) {
  auto owned = std::make_shared<const ValMap>(std::move(entries));
  Val r;
  r.kind = Kind::kMap;
  r.p = owned.get();
  r.hold = std::move(owned);
  return r;
}

Val from_json(const json::Value& v) {
  Val r;
  switch (v.type()) {
    case json::Type::kNull:
      return r;
    case json::Type::kBool:
      return make_bool(v.as_bool());
    case json::Type::kInt:
      return make_int(v.as_int());
    case json::Type::kDouble:
      return make_double(v.as_double());
    case json::Type::kString:
      return borrow_text(v.as_string());
    case json::Type::kArray:
      r.kind = Kind::kList;
      r.json = true;
      r.p = &v.as_array();
      return r;
    case json::Type::kObject:
      r.kind = Kind::kMap;
      r.json = true;
      r.p = &v.as_object();
      return r;
  }
  return r;
}

const std::string& text(const Val& v) {
  return *static_cast<const std::string*>(v.p);
}
const json::Array& json_array(const Val& v) {
  return *static_cast<const json::Array*>(v.p);
}
const ValList& own_list(const Val& v) {
  return *static_cast<const ValList*>(v.p);
}
const json::Object& json_object(const Val& v) {
  return *static_cast<const json::Object*>(v.p);
}
const ValMap& own_map(const Val& v) {
  return *static_cast<const ValMap*>(v.p);
}

bool is_error(const Val& v) {
  return v.kind == Kind::kError;
}
bool is_number(const Val& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kUint || v.kind == Kind::kDouble;
}
bool is_text(const Val& v) {
  return v.kind == Kind::kString || v.kind == Kind::kBytes;
}

std::size_t list_size(const Val& v) {
  return v.json ? json_array(v).size() : own_list(v).size();
}
Val list_at(const Val& v, std::size_t i) {
  return v.json ? from_json(json_array(v)[i]) : own_list(v)[i];
}
std::size_t map_size(const Val& v) {
  return v.json ? json_object(v).size() : own_map(v).size();
}
Val map_key(const Val& v, std::size_t i) {
  if (v.json) {
    return borrow_text((json_object(v).begin() + static_cast<std::ptrdiff_t>(i))->key);
  }
  return own_map(v)[i].first;
}
Val map_value(const Val& v, std::size_t i) {
  if (v.json) {
    return from_json((json_object(v).begin() + static_cast<std::ptrdiff_t>(i))->value);
  }
  return own_map(v)[i].second;
}

// Ordering of numbers across int, uint and double, exact (no rounding through double).
// Returns -1, 0 or 1, or 2 when unordered (NaN).
constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

int cmp_int_double(std::int64_t a, double b) {
  if (std::isnan(b)) {
    return 2;
  }
  if (b >= kTwo63) {
    return -1;
  }
  if (b < -kTwo63) {
    return 1;
  }
  double t = std::trunc(b);
  auto bi = static_cast<std::int64_t>(t);
  if (a != bi) {
    return a < bi ? -1 : 1;
  }
  return b > t ? -1 : b < t ? 1 : 0;
}

int cmp_uint_double(std::uint64_t a, double b) {
  if (std::isnan(b)) {
    return 2;
  }
  if (b < 0) {
    return 1;
  }
  if (b >= kTwo64) {
    return -1;
  }
  double t = std::trunc(b);
  auto bu = static_cast<std::uint64_t>(t);
  if (a != bu) {
    return a < bu ? -1 : 1;
  }
  return b > t ? -1 : 0;
}

int cmp_int_uint(std::int64_t a, std::uint64_t b) {
  if (a < 0) {
    return -1;
  }
  auto au = static_cast<std::uint64_t>(a);
  return au < b ? -1 : au > b ? 1 : 0;
}

template <class T>
int cmp3(T a, T b) {
  return a < b ? -1 : b < a ? 1 : 0;
}

int cmp_numbers(const Val& a, const Val& b) {
  switch (a.kind) {
    case Kind::kInt:
      return b.kind == Kind::kInt    ? cmp3(a.i, b.i)
             : b.kind == Kind::kUint ? cmp_int_uint(a.i, b.u)
                                     : cmp_int_double(a.i, b.d);
    case Kind::kUint:
      if (b.kind == Kind::kUint) {
        return cmp3(a.u, b.u);
      }
      if (b.kind == Kind::kInt) {
        return -cmp_int_uint(b.i, a.u);
      }
      return cmp_uint_double(a.u, b.d);
    default: {
      if (b.kind == Kind::kDouble) {
        if (std::isnan(a.d) || std::isnan(b.d)) {
          return 2;
        }
        return cmp3(a.d, b.d);
      }
      int c = b.kind == Kind::kInt ? cmp_int_double(b.i, a.d) : cmp_uint_double(b.u, a.d);
      return c == 2 ? 2 : -c;
    }
  }
}

constexpr int kUnordered = 2;
constexpr int kIncomparable = 3;

// CEL's ordering (<, <=, >, >=): numbers across types, strings and bytes by code point / byte,
// bools false < true. kIncomparable for any other pair (no matching overload).
int order(const Val& a, const Val& b) {
  if (is_number(a) && is_number(b)) {
    return cmp_numbers(a, b);
  }
  if (a.kind != b.kind) {
    return kIncomparable;
  }
  switch (a.kind) {
    case Kind::kString:
    case Kind::kBytes: {
      int c = text(a).compare(text(b));
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Kind::kBool:
      return cmp3(static_cast<int>(a.b), static_cast<int>(b.b));
    default:
      return kIncomparable;
  }
}

// Equality of map keys and of scalars: heterogeneous for numbers, false across other kinds.
bool scalar_equal(const Val& a, const Val& b) {
  if (is_number(a) && is_number(b)) {
    return cmp_numbers(a, b) == 0;
  }
  if (a.kind != b.kind) {
    return false;
  }
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kString:
    case Kind::kBytes:
      return text(a) == text(b);
    case Kind::kType:
      return a.i == b.i;
    default:
      return false;
  }
}

bool is_container(const Val& v) {
  return v.kind == Kind::kList || v.kind == Kind::kMap;
}

// How a value is shown inside messages ("no such key: x", "index out of bounds: 3").
std::string describe(const Val& v) {
  switch (v.kind) {
    case Kind::kString:
    case Kind::kBytes:
      return text(v);
    case Kind::kInt:
      return std::to_string(v.i);
    case Kind::kUint:
      return std::to_string(v.u);
    case Kind::kBool:
      return v.b ? "true" : "false";
    case Kind::kDouble: {
      std::array<char, 32> buf{};
      auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v.d);
      return {buf.data(), res.ptr};
    }
    default:
      return std::string(kind_name(v.kind));
  }
}

// Go's %g for float64, which cel-go's string(double) uses: the shortest round-trip digits, in
// exponent form when the decimal exponent is < -4 or >= 6 (Go's rule for the shortest form).
std::string format_double(double d) {
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::isinf(d)) {
    return d > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 40> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::scientific);
  std::string_view s(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
  std::string out;
  if (s.front() == '-') {
    out.push_back('-');
    s.remove_prefix(1);
  }
  auto e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') {
      digits.push_back(c);
    }
  }
  int exp = 0;
  std::string_view exp_text = s.substr(e + 1);
  bool exp_negative = exp_text.front() == '-';
  exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  if (exp_negative) {
    exp = -exp;
  }
  auto nd = static_cast<int>(digits.size());
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (nd > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    int a = std::abs(exp);
    if (a < 10) {
      out.push_back('0');
    }
    out += std::to_string(a);
    return out;
  }
  int dp = exp + 1;  // digits before the decimal point
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-dp), '0');
    out += digits;
  } else if (dp >= nd) {
    out += digits;
    out.append(static_cast<std::size_t>(dp - nd), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(dp));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(dp));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The compiled form: a flat node array; children come before their parents.

enum class NodeKind : std::uint8_t {
  kLiteral,
  kSelf,
  kOldSelf,
  kLocal,  // a macro's loop variable
  kSelect,
  kHas,
  kIndex,
  kCall,
  kList,
  kMap,  // args: key, value, key, value, ...
  kAnd,  // n-ary, so long && chains neither deepen the tree nor the evaluator's stack
  kOr,
  kCond,
  kNot,
  kNeg,
  kBinary,
  kAll,  // comprehensions: args[0] is the range, slot the loop variable
  kExists,
  kExistsOne,
  kTransform,  // map(x, t) or map(x, p, t)
  kFilter
};

enum class BinOp : std::uint8_t { kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe, kIn };

constexpr std::array<std::string_view, 12> kBinOpNames = {
    "_+_", "_-_", "_*_", "_/_", "_%_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in"};

enum class Fn : std::uint8_t {
  kSize,
  kContains,
  kStartsWith,
  kEndsWith,
  kMatches,
  kInt,
  kUint,
  kDouble,
  kString,
  kBool,
  kBytes,
  kType,
  kDyn,
  kLowerAscii,
  kUpperAscii,
  kTrim,
  kSplit,
  kJoin,
  kIndexOf,
  kLastIndexOf,
  kReplace,
  kSubstring,
  kCharAt,
  kReverse,
  kIsSorted,
  kSum,
  kMin,
  kMax
};

struct FnName {
  std::string_view name;
  Fn fn;
};

constexpr std::array<FnName, 28> kFunctions = {{
    {"size", Fn::kSize},
    {"contains", Fn::kContains},
    {"startsWith", Fn::kStartsWith},
    {"endsWith", Fn::kEndsWith},
    {"matches", Fn::kMatches},
    {"int", Fn::kInt},
    {"uint", Fn::kUint},
    {"double", Fn::kDouble},
    {"string", Fn::kString},
    {"bool", Fn::kBool},
    {"bytes", Fn::kBytes},
    {"type", Fn::kType},
    {"dyn", Fn::kDyn},
    {"lowerAscii", Fn::kLowerAscii},
    {"upperAscii", Fn::kUpperAscii},
    {"trim", Fn::kTrim},
    {"split", Fn::kSplit},
    {"join", Fn::kJoin},
    {"indexOf", Fn::kIndexOf},
    {"lastIndexOf", Fn::kLastIndexOf},
    {"replace", Fn::kReplace},
    {"substring", Fn::kSubstring},
    {"charAt", Fn::kCharAt},
    {"reverse", Fn::kReverse},
    {"isSorted", Fn::kIsSorted},
    {"sum", Fn::kSum},
    {"min", Fn::kMin},
    {"max", Fn::kMax},
}};

std::optional<Fn> find_function(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (f.name == name) {
      return f.fn;
    }
  }
  return std::nullopt;
}

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  std::uint8_t op = 0;    // BinOp for kBinary, Fn for kCall
  bool receiver = false;  // kCall: args[0] is the receiver (x.f(y))
  int slot = -1;          // kLocal and comprehensions: the loop variable's slot
  int depth = 1;
  std::uint32_t pos = 0;  // source offset, for compile errors
  std::vector<int> args;
  std::string name;      // kSelect/kHas: the field; kCall: the function
  std::string alt_name;  // kSelect/kHas: Kubernetes' unescaped spelling, when it differs
  Val literal;           // kLiteral
  std::shared_ptr<const Regex> regex;  // matches() with a literal pattern, compiled once
  std::uint64_t regex_weight = 0;
};

}  // namespace

class Program {
public:
  std::string source;
  std::vector<Node> nodes;
  int root = -1;
  int slots = 0;
  bool uses_old_self = false;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok : std::uint8_t {
  kEof,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kIdent,
  kTrue,
  kFalse,
  kNull,
  kIn,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kDot,
  kComma,
  kColon,
  kQuestion,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kNot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr
};

struct Token {
  Tok kind = Tok::kEof;
  std::uint32_t pos = 0;
  std::uint32_t end = 0;
  bool overflow = false;  // kInt/kUint: the digits do not fit 64 bits
  std::uint64_t u = 0;    // kInt (magnitude) and kUint
  double d = 0;           // kDouble
  std::string text;       // kString/kBytes: the decoded value; kIdent: the name
};

struct SyntaxError {
  std::size_t pos = 0;
  std::string message;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}
bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}

class Lexer {
public:
  explicit Lexer(std::string_view src) : src_(src) {}

  bool run(std::vector<Token>& out, SyntaxError& err) {
    while (true) {
      skip_space();
      Token t;
      t.pos = static_cast<std::uint32_t>(i_);
      if (i_ >= src_.size()) {
        t.end = t.pos;
        out.push_back(std::move(t));
        return true;
      }
      if (!lex_one(t, err)) {
        return false;
      }
      t.end = static_cast<std::uint32_t>(i_);
      out.push_back(std::move(t));
    }
  }

private:
  char at(std::size_t k) const { return i_ + k < src_.size() ? src_[i_ + k] : '\0'; }

  void skip_space() {
    while (i_ < src_.size()) {
      char c = src_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i_;
      } else if (c == '/' && at(1) == '/') {
        while (i_ < src_.size() && src_[i_] != '\n') {
          ++i_;
        }
      } else {
        return;
      }
    }
  }

  bool recognition_error(std::size_t pos, SyntaxError& err) {
    std::size_t j = pos;
    next_code_point(src_, j);
    err = {pos, "Syntax error: token recognition error at: '" +
                    std::string(src_.substr(pos, j - pos)) + "'"};
    return false;
  }

  bool lex_one(Token& t, SyntaxError& err) {
    char c = src_[i_];
    if (is_digit(c) || (c == '.' && is_digit(at(1)))) {
      return lex_number(t, err);
    }
    if (c == '\'' || c == '"') {
      return lex_string(t, false, false, err);
    }
    if (is_ident_start(c)) {
      std::size_t start = i_;
      while (i_ < src_.size() && is_ident_char(src_[i_])) {
        ++i_;
      }
      std::string_view word = src_.substr(start, i_ - start);
      if (i_ < src_.size() && (src_[i_] == '\'' || src_[i_] == '"') && word.size() <= 2) {
        // String prefixes: r (raw), b (bytes), in either order and case.
        bool raw = false;
        bool bytes = false;
        bool prefix = true;
        for (char p : word) {
          char l = static_cast<char>(p | 0x20);
          if (l == 'r' && !raw) {
            raw = true;
          } else if (l == 'b' && !bytes) {
            bytes = true;
          } else {
            prefix = false;
          }
        }
        if (prefix) {
          return lex_string(t, raw, bytes, err);
        }
      }
      t.text = std::string(word);
      t.kind = word == "true"    ? Tok::kTrue
               : word == "false" ? Tok::kFalse
               : word == "null"  ? Tok::kNull
               : word == "in"    ? Tok::kIn
                                 : Tok::kIdent;
      return true;
    }
    struct Op {
      std::string_view text;
      Tok tok;
    };
    static constexpr std::array<Op, 24> kOps = {{
        {"==", Tok::kEq},      {"!=", Tok::kNe},      {"<=", Tok::kLe},      {">=", Tok::kGe},
        {"&&", Tok::kAnd},     {"||", Tok::kOr},      {"<", Tok::kLt},       {">", Tok::kGt},
        {"!", Tok::kNot},      {"+", Tok::kPlus},     {"-", Tok::kMinus},    {"*", Tok::kStar},
        {"/", Tok::kSlash},    {"%", Tok::kPercent},  {"?", Tok::kQuestion}, {":", Tok::kColon},
        {",", Tok::kComma},    {".", Tok::kDot},      {"(", Tok::kLParen},   {")", Tok::kRParen},
        {"[", Tok::kLBracket}, {"]", Tok::kRBracket}, {"{", Tok::kLBrace},   {"}", Tok::kRBrace},
    }};
    for (const auto& op : kOps) {
      if (src_.substr(i_, op.text.size()) == op.text) {
        t.kind = op.tok;
        i_ += op.text.size();
        return true;
      }
    }
    return recognition_error(i_, err);
  }

  bool lex_number(Token& t, SyntaxError& err) {
    std::size_t start = i_;
    bool overflow = false;
    std::uint64_t value = 0;
    auto accumulate = [&](std::uint64_t base, int digit) {
      if (value >
          (std::numeric_limits<std::uint64_t>::max() - static_cast<unsigned>(digit)) / base) {
        overflow = true;
      }
      value = value * base + static_cast<unsigned>(digit);
    };
    if (src_[i_] == '0' && (at(1) == 'x' || at(1) == 'X') && is_hex(at(2))) {
      i_ += 2;
      while (i_ < src_.size() && is_hex(src_[i_])) {
        accumulate(16, hex_value(src_[i_++]));
      }
    } else {
      bool is_float = false;
      while (i_ < src_.size() && is_digit(src_[i_])) {
        accumulate(10, src_[i_++] - '0');
      }
      if (at(0) == '.' && is_digit(at(1))) {
        is_float = true;
        ++i_;
        while (i_ < src_.size() && is_digit(src_[i_])) {
          ++i_;
        }
      }
      if (at(0) == 'e' || at(0) == 'E') {
        std::size_t j = 1;
        if (at(j) == '+' || at(j) == '-') {
          ++j;
        }
        if (is_digit(at(j))) {
          is_float = true;
          i_ += j;
          while (i_ < src_.size() && is_digit(src_[i_])) {
            ++i_;
          }
        }
      }
      if (is_float) {
        std::string digits(src_.substr(start, i_ - start));
        errno = 0;
        char* end = nullptr;
        double d = std::strtod(digits.c_str(), &end);
        if (errno == ERANGE && std::isinf(d)) {
          err = {start, "invalid double literal"};
          return false;
        }
        t.kind = Tok::kDouble;
        t.d = d;
        return true;
      }
    }
    t.kind = Tok::kInt;
    if (at(0) == 'u' || at(0) == 'U') {
      ++i_;
      t.kind = Tok::kUint;
    }
    t.u = value;
    t.overflow = overflow;
    return true;
  }

  // One string or bytes literal in any quote form; `i_` is at the opening quote.
  bool lex_string(Token& t, bool raw, bool bytes, SyntaxError& err) {
    std::size_t start = i_;
    char q = src_[i_];
    bool triple = at(1) == q && at(2) == q;
    i_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (i_ >= src_.size()) {
        err = {start, "Syntax error: token recognition error at: '" +
                          std::string(src_.substr(start, 40)) + "'"};
        return false;
      }
      char c = src_[i_];
      if (c == q && (!triple || (at(1) == q && at(2) == q))) {
        i_ += triple ? 3 : 1;
        break;
      }
      if (!triple && (c == '\n' || c == '\r')) {
        err = {start, "Syntax error: token recognition error at: '" +
                          std::string(src_.substr(start, i_ - start)) + "'"};
        return false;
      }
      if (c != '\\' || raw) {
        out.push_back(c);
        ++i_;
        continue;
      }
      if (!lex_escape(out, bytes, err)) {
        return false;
      }
    }
    t.kind = bytes ? Tok::kBytes : Tok::kString;
    t.text = std::move(out);
    return true;
  }

  bool lex_escape(std::string& out, bool bytes, SyntaxError& err) {
    std::size_t start = i_;
    char e = at(1);
    auto bad = [&]() {
      err = {start,
             "Syntax error: invalid escape sequence '" +
                 std::string(src_.substr(start, std::min<std::size_t>(2, src_.size() - start))) +
                 "'"};
      return false;
    };
    auto code = [&](std::uint32_t v) {
      if (bytes && v < 256) {
        out.push_back(static_cast<char>(v));
      } else {
        append_utf8(out, v);
      }
    };
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '\\':
      case '\'':
      case '"':
      case '`':
      case '?':
        out.push_back(e);
        break;
      case 'x':
      case 'X':
      case 'u':
      case 'U': {
        std::size_t n = e == 'u' ? 4 : e == 'U' ? 8 : 2;
        if ((e == 'u' || e == 'U') && bytes) {
          return bad();
        }
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < n; ++k) {
          if (!is_hex(at(2 + k))) {
            return bad();
          }
          v = v * 16 + static_cast<std::uint32_t>(hex_value(at(2 + k)));
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
          return bad();
        }
        code(v);
        i_ += 2 + n;
        return true;
      }
      default:
        if (e >= '0' && e <= '3' && at(2) >= '0' && at(2) <= '7' && at(3) >= '0' && at(3) <= '7') {
          code(static_cast<std::uint32_t>((e - '0') * 64 + (at(2) - '0') * 8 + (at(3) - '0')));
          i_ += 4;
          return true;
        }
        return bad();
    }
    i_ += 2;
    return true;
  }

  std::string_view src_;
  std::size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser: CEL's grammar by precedence climbing. Names are resolved here (undeclared identifiers
// and functions are compile errors), macros are expanded into comprehension nodes, and literal
// regexes are compiled once.

constexpr std::array<std::string_view, 17> kReservedWords = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",   "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};

bool is_reserved(std::string_view name) {
  return std::find(kReservedWords.begin(), kReservedWords.end(), name) != kReservedWords.end();
}

constexpr std::array<std::pair<std::string_view, Kind>, 10> kTypeNames = {{
    {"null_type", Kind::kNull},
    {"bool", Kind::kBool},
    {"int", Kind::kInt},
    {"uint", Kind::kUint},
    {"double", Kind::kDouble},
    {"string", Kind::kString},
    {"bytes", Kind::kBytes},
    {"list", Kind::kList},
    {"map", Kind::kMap},
    {"type", Kind::kType},
}};

// Kubernetes exposes property names that are not CEL identifiers, or are CEL keywords, under an
// escaped spelling (apiextensions' escaping rules); this undoes it.
std::string unescape_field(std::string_view name) {
  if (name.size() > 4 && name.starts_with("__") && name.ends_with("__")) {
    std::string_view inner = name.substr(2, name.size() - 4);
    if (is_reserved(inner) || inner == "true" || inner == "false" || inner == "null" ||
        inner == "in") {
      return std::string(inner);
    }
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kEscapes = {{
      {"__underscores__", "__"},
      {"__dot__", "."},
      {"__dash__", "-"},
      {"__slash__", "/"},
  }};
  std::string out;
  std::size_t i = 0;
  while (i < name.size()) {
    bool replaced = false;
    for (const auto& [from, to] : kEscapes) {
      if (name.substr(i).starts_with(from)) {
        out += to;
        i += from.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out.push_back(name[i++]);
    }
  }
  return out;
}

// A rough cost per text byte of running a pattern: its length plus the counted repeats it
// expands (the NFA the matcher simulates grows with both).
std::uint64_t regex_weight(std::string_view pattern) {
  std::uint64_t weight = pattern.size() + 1;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      std::uint64_t n = 0;
      for (std::size_t j = i + 1; j < pattern.size() && (is_digit(pattern[j]) || pattern[j] == ',');
           ++j) {
        if (is_digit(pattern[j])) {
          n = std::min<std::uint64_t>(n * 10 + static_cast<unsigned>(pattern[j] - '0'), 100000);
        }
      }
      weight += n;
    }
  }
  return weight;
}

constexpr std::string_view kExpectingExpression =
    "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, "
    "BYTES, IDENTIFIER}";

// The recursive-descent functions keep only indices and small vectors in their frames; nodes and
// messages are built in out-of-line helpers, so a nesting level costs about 1.3 KiB of stack
// (some 350 KiB at kMaxNesting nested calls).
#define SKIFF_CEL_NOINLINE [[gnu::noinline]]

class Parser {
public:
  Parser(std::string_view src, std::vector<Token> tokens, Program& program)
      : src_(src), tokens_(std::move(tokens)), program_(program) {}

  bool parse() {
    int root = parse_expr();
    if (root < 0) {
      return false;
    }
    if (peek().kind != Tok::kEof) {
      mismatched("<EOF>");
      return false;
    }
    program_.root = root;
    return true;
  }

  const SyntaxError& error() const { return error_; }

private:
  struct Scope {
    std::string name;
    int slot;
  };

  const Token& peek(std::size_t k = 0) const {
    return tokens_[std::min(next_ + k, tokens_.size() - 1)];
  }
  const Token& advance() {
    const Token& t = tokens_[next_];
    if (next_ + 1 < tokens_.size()) {
      ++next_;
    }
    return t;
  }
  const Node& node(int id) const { return program_.nodes[static_cast<std::size_t>(id)]; }

  // ---- out-of-line helpers: errors

  SKIFF_CEL_NOINLINE int fail(std::size_t pos, std::string message) {
    if (error_.message.empty()) {
      error_ = {pos, std::move(message)};
    }
    return -1;
  }

  // ANTLR's wording, as cel-go reports it, about the next token.
  SKIFF_CEL_NOINLINE int mismatched(std::string_view expecting) {
    const Token& t = peek();
    std::string shown =
        t.kind == Tok::kEof ? "<EOF>" : std::string(src_.substr(t.pos, t.end - t.pos));
    return fail(t.pos, "Syntax error: mismatched input '" + shown + "' expecting " +
                           std::string(expecting));
  }

  bool expect(Tok kind, std::string_view expecting) {
    if (peek().kind != kind) {
      mismatched(expecting);
      return false;
    }
    advance();
    return true;
  }

  SKIFF_CEL_NOINLINE int recursion_error(std::size_t pos) {
    return fail(
        pos, "Syntax error: expression recursion limit exceeded: " + std::to_string(kMaxNesting));
  }

  SKIFF_CEL_NOINLINE int undeclared(std::size_t pos, std::string_view name) {
    return fail(pos, "undeclared reference to '" + std::string(name) + "' (in container '')");
  }

  SKIFF_CEL_NOINLINE int reserved(std::size_t pos, std::string_view name) {
    return fail(pos, "reserved identifier: " + std::string(name));
  }

  // ---- out-of-line helpers: nodes

  SKIFF_CEL_NOINLINE int add(Node node) {
    int depth = 1;
    for (int a : node.args) {
      depth = std::max(depth, program_.nodes[static_cast<std::size_t>(a)].depth + 1);
    }
    // The evaluator recurses along the tree: bounding its depth bounds the stack.
    if (depth > kMaxNesting) {
      return recursion_error(node.pos);
    }
    node.depth = depth;
    program_.nodes.push_back(std::move(node));
    return static_cast<int>(program_.nodes.size() - 1);
  }

  SKIFF_CEL_NOINLINE int add(NodeKind kind, std::uint32_t pos, std::vector<int> args,
                             std::uint8_t op = 0, int slot = -1) {
    Node n;
    n.kind = kind;
    n.pos = pos;
    n.args = std::move(args);
    n.op = op;
    n.slot = slot;
    return add(std::move(n));
  }

  SKIFF_CEL_NOINLINE int literal(std::uint32_t pos, Val v) {
    Node n;
    n.pos = pos;
    n.literal = std::move(v);
    return add(std::move(n));
  }

  int binary(BinOp op, std::uint32_t pos, int left, int right) {
    return add(NodeKind::kBinary, pos, {left, right}, static_cast<std::uint8_t>(op));
  }

  SKIFF_CEL_NOINLINE int select(std::uint32_t pos, int operand, std::string_view field) {
    Node n;
    n.kind = NodeKind::kSelect;
    n.pos = pos;
    n.args = {operand};
    n.name = std::string(field);
    if (field.find("__") != std::string_view::npos) {
      std::string alt = unescape_field(field);
      if (alt != field) {
        n.alt_name = std::move(alt);
      }
    }
    return add(std::move(n));
  }

  // A parsed call that is not a comprehension: has(), or a known function.
  SKIFF_CEL_NOINLINE int call(std::string_view name, std::uint32_t pos, bool receiver,
                              std::vector<int> args, std::optional<NodeKind> macro) {
    std::size_t argc = args.size() - (receiver ? 1 : 0);
    if (macro && (argc == 2 || (argc == 3 && *macro == NodeKind::kTransform))) {
      return fail(node(args[1]).pos, "argument must be a simple name");
    }
    if (!receiver && name == "has" && argc == 1) {
      if (node(args[0]).kind != NodeKind::kSelect) {
        return fail(pos, "invalid argument to has() macro");
      }
      Node n = node(args[0]);
      n.kind = NodeKind::kHas;
      return add(std::move(n));
    }
    if (is_reserved(name)) {
      return reserved(pos, name);
    }
    auto fn = find_function(name);
    if (!fn) {
      return undeclared(pos, name);
    }
    Node n;
    n.kind = NodeKind::kCall;
    n.pos = pos;
    n.args = std::move(args);
    n.op = static_cast<std::uint8_t>(*fn);
    n.receiver = receiver;
    n.name = std::string(name);
    if (*fn == Fn::kMatches && n.args.size() == 2 && node(n.args[1]).kind == NodeKind::kLiteral &&
        node(n.args[1]).literal.kind == Kind::kString) {
      // Compiled once here, as Kubernetes' regex optimization does; a bad pattern is a compile
      // error rather than a failure of every evaluation.
      const std::string& pattern = text(node(n.args[1]).literal);
      std::string error;
      auto re = Regex::compile(pattern, &error);
      if (!re) {
        return fail(node(n.args[1]).pos, error);
      }
      n.regex = std::make_shared<const Regex>(std::move(*re));
      n.regex_weight = regex_weight(pattern);
    }
    return add(std::move(n));
  }

  SKIFF_CEL_NOINLINE int ident(const Token& t, bool root_only) {
    const std::string& name = t.text;
    if (is_reserved(name)) {
      return reserved(t.pos, name);
    }
    if (!root_only) {
      for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
        if (it->name == name) {
          return add(NodeKind::kLocal, t.pos, {}, 0, it->slot);
        }
      }
    }
    if (name == "self") {
      return add(NodeKind::kSelf, t.pos, {});
    }
    if (name == "oldSelf") {
      program_.uses_old_self = true;
      return add(NodeKind::kOldSelf, t.pos, {});
    }
    for (const auto& [type_name, kind] : kTypeNames) {
      if (type_name == name) {
        return literal(t.pos, make_type(kind));
      }
    }
    return undeclared(t.pos, name);
  }

  SKIFF_CEL_NOINLINE int number(const Token& t, bool negative, std::uint32_t pos) {
    switch (t.kind) {
      case Tok::kDouble:
        return literal(pos, make_double(negative ? -t.d : t.d));
      case Tok::kUint:
        if (t.overflow) {
          return fail(pos, "invalid uint literal");
        }
        return literal(pos, make_uint(t.u));
      default: {
        constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        if (t.overflow || t.u > kMax + (negative ? 1 : 0)) {
          return fail(pos, "invalid int literal");
        }
        // Two's complement: -(2^63) is the one value whose magnitude does not fit int64.
        auto v = negative ? static_cast<std::int64_t>(0 - t.u) : static_cast<std::int64_t>(t.u);
        return literal(pos, make_int(v));
      }
    }
  }

  SKIFF_CEL_NOINLINE int string_literal(const Token& t) {
    return literal(t.pos, make_text(t.text, t.kind == Tok::kBytes ? Kind::kBytes : Kind::kString));
  }

  static std::optional<NodeKind> macro_kind(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, NodeKind>, 5> kMacros = {{
        {"all", NodeKind::kAll},
        {"exists", NodeKind::kExists},
        {"exists_one", NodeKind::kExistsOne},
        {"map", NodeKind::kTransform},
        {"filter", NodeKind::kFilter},
    }};
    for (const auto& [macro, kind] : kMacros) {
      if (macro == name) {
        return kind;
      }
    }
    return std::nullopt;
  }

  static bool is_field_token(Tok t) {
    return t == Tok::kIdent || t == Tok::kTrue || t == Tok::kFalse || t == Tok::kNull ||
           t == Tok::kIn;
  }

  bool minus_literal(std::size_t k) const {
    return peek(k).kind == Tok::kMinus &&
           (peek(k + 1).kind == Tok::kInt || peek(k + 1).kind == Tok::kDouble);
  }

  std::string_view token_text(const Token& t) const { return src_.substr(t.pos, t.end - t.pos); }

  // ---- the grammar, by precedence

  int parse_expr() {
    if (++depth_ > kMaxNesting) {
      return recursion_error(peek().pos);
    }
    int cond = parse_logical(Tok::kOr);
    if (cond >= 0 && peek().kind == Tok::kQuestion) {
      std::uint32_t pos = advance().pos;
      int then = parse_logical(Tok::kOr);
      if (then < 0 || !expect(Tok::kColon, "':'")) {
        return -1;
      }
      int otherwise = parse_expr();
      if (otherwise < 0) {
        return -1;
      }
      cond = add(NodeKind::kCond, pos, {cond, then, otherwise});
    }
    --depth_;
    return cond;
  }

  // `||` over `&&` chains, `&&` over relations; both n-ary.
  int parse_logical(Tok op) {
    int first = op == Tok::kOr ? parse_logical(Tok::kAnd) : parse_relation();
    if (first < 0 || peek().kind != op) {
      return first;
    }
    std::uint32_t pos = peek().pos;
    std::vector<int> args = {first};
    while (peek().kind == op) {
      advance();
      int next = op == Tok::kOr ? parse_logical(Tok::kAnd) : parse_relation();
      if (next < 0) {
        return -1;
      }
      args.push_back(next);
    }
    return add(op == Tok::kOr ? NodeKind::kOr : NodeKind::kAnd, pos, std::move(args));
  }

  int parse_relation() {
    int left = parse_additive();
    while (left >= 0) {
      BinOp op{};
      switch (peek().kind) {
        case Tok::kLt:
          op = BinOp::kLt;
          break;
        case Tok::kLe:
          op = BinOp::kLe;
          break;
        case Tok::kGt:
          op = BinOp::kGt;
          break;
        case Tok::kGe:
          op = BinOp::kGe;
          break;
        case Tok::kEq:
          op = BinOp::kEq;
          break;
        case Tok::kNe:
          op = BinOp::kNe;
          break;
        case Tok::kIn:
          op = BinOp::kIn;
          break;
        default:
          return left;
      }
      std::uint32_t pos = advance().pos;
      int right = parse_additive();
      if (right < 0) {
        return -1;
      }
      left = binary(op, pos, left, right);
    }
    return left;
  }

  int parse_additive() {
    int left = parse_multiplicative();
    while (left >= 0 && (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus)) {
      BinOp op = peek().kind == Tok::kPlus ? BinOp::kAdd : BinOp::kSub;
      std::uint32_t pos = advance().pos;
      int right = parse_multiplicative();
      if (right < 0) {
        return -1;
      }
      left = binary(op, pos, left, right);
    }
    return left;
  }

  int parse_multiplicative() {
    int left = parse_unary();
    while (left >= 0 && (peek().kind == Tok::kStar || peek().kind == Tok::kSlash ||
                         peek().kind == Tok::kPercent)) {
      BinOp op = peek().kind == Tok::kStar    ? BinOp::kMul
                 : peek().kind == Tok::kSlash ? BinOp::kDiv
                                              : BinOp::kMod;
      std::uint32_t pos = advance().pos;
      int right = parse_unary();
      if (right < 0) {
        return -1;
      }
      left = binary(op, pos, left, right);
    }
    return left;
  }

  // CEL's grammar: a run of '!' or a run of '-' before a member expression (not mixed); as in
  // cel-go, an even run cancels out. A '-' right before a number is part of the literal.
  int parse_unary() {
    Tok k = peek().kind;
    if (k != Tok::kNot && (k != Tok::kMinus || minus_literal(0))) {
      return parse_member();
    }
    std::uint32_t pos = peek().pos;
    std::size_t count = 0;
    while (peek().kind == k && !(k == Tok::kMinus && minus_literal(0))) {
      advance();
      ++count;
    }
    int operand = parse_member();
    if (operand < 0 || count % 2 == 0) {
      return operand;
    }
    return add(k == Tok::kNot ? NodeKind::kNot : NodeKind::kNeg, pos, {operand});
  }

  int parse_member() {
    int e = parse_primary();
    while (e >= 0) {
      if (peek().kind == Tok::kDot) {
        advance();
        if (!is_field_token(peek().kind)) {
          return mismatched("IDENTIFIER");
        }
        const Token& name = advance();
        if (peek().kind == Tok::kLParen) {
          advance();
          e = parse_call(token_text(name), name.pos, e);
        } else {
          e = select(name.pos, e, token_text(name));
        }
      } else if (peek().kind == Tok::kLBracket) {
        std::uint32_t pos = advance().pos;
        int index = parse_expr();
        if (index < 0 || !expect(Tok::kRBracket, "']'")) {
          return -1;
        }
        e = add(NodeKind::kIndex, pos, {e, index});
      } else {
        break;
      }
    }
    return e;
  }

  // Arguments after '(' up to and including ')'.
  bool parse_args(std::vector<int>& args) {
    if (peek().kind == Tok::kRParen) {
      advance();
      return true;
    }
    while (true) {
      int a = parse_expr();
      if (a < 0) {
        return false;
      }
      args.push_back(a);
      if (peek().kind != Tok::kComma) {
        return expect(Tok::kRParen, "{')', ','}");
      }
      advance();
    }
  }

  // A call after its '(': `receiver` < 0 for a global call. A comprehension macro's variable is
  // in scope while its remaining arguments are parsed.
  int parse_call(std::string_view name, std::uint32_t pos, int receiver) {
    auto macro = receiver >= 0 ? macro_kind(name) : std::nullopt;
    std::vector<int> args;
    if (receiver >= 0) {
      args.push_back(receiver);
    }
    if (!macro || peek().kind != Tok::kIdent || peek(1).kind != Tok::kComma) {
      if (!parse_args(args)) {
        return -1;
      }
      return call(name, pos, receiver >= 0, std::move(args), macro);
    }
    const Token& var = advance();
    if (is_reserved(var.text)) {
      return reserved(var.pos, var.text);
    }
    advance();  // ','
    int slot = program_.slots++;
    scopes_.push_back({var.text, slot});
    bool ok = parse_args(args);
    scopes_.pop_back();
    if (!ok) {
      return -1;
    }
    // args: the range and the rest (the variable is the slot).
    if (!(args.size() == 2 || (args.size() == 3 && *macro == NodeKind::kTransform))) {
      return undeclared(pos, name);
    }
    int id = add(*macro, pos, std::move(args), 0, slot);
    if (id >= 0) {
      program_.nodes.back().name = std::string(name);  // for messages
    }
    return id;
  }

  int parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kDot:
      case Tok::kIdent: {
        bool root_only = t.kind == Tok::kDot;
        if (root_only) {
          advance();
          if (peek().kind != Tok::kIdent) {
            return mismatched("IDENTIFIER");
          }
        }
        const Token& id = advance();
        if (peek().kind == Tok::kLParen) {
          advance();
          return parse_call(id.text, id.pos, -1);
        }
        return ident(id, root_only);
      }
      case Tok::kLParen: {
        advance();
        int e = parse_expr();
        if (e < 0 || !expect(Tok::kRParen, "')'")) {
          return -1;
        }
        return e;
      }
      case Tok::kLBracket:
        return parse_list();
      case Tok::kLBrace:
        return parse_map();
      case Tok::kMinus: {
        std::uint32_t pos = advance().pos;
        return number(advance(), true, pos);
      }
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble:
        return number(advance(), false, t.pos);
      case Tok::kString:
      case Tok::kBytes:
        return string_literal(advance());
      case Tok::kTrue:
      case Tok::kFalse:
        return literal(advance().pos, make_bool(t.kind == Tok::kTrue));
      case Tok::kNull:
        return literal(advance().pos, Val{});
      default:
        return mismatched(kExpectingExpression);
    }
  }

  int parse_list() {
    std::uint32_t pos = advance().pos;
    std::vector<int> items;
    while (peek().kind != Tok::kRBracket) {
      int e = parse_expr();
      if (e < 0) {
        return -1;
      }
      items.push_back(e);
      if (peek().kind != Tok::kComma) {
        break;
      }
      advance();  // a trailing comma is allowed
    }
    if (!expect(Tok::kRBracket, "{']', ','}")) {
      return -1;
    }
    return add(NodeKind::kList, pos, std::move(items));
  }

  int parse_map() {
    std::uint32_t pos = advance().pos;
    std::vector<int> entries;
    while (peek().kind != Tok::kRBrace) {
      int key = parse_expr();
      if (key < 0 || !expect(Tok::kColon, "':'")) {
        return -1;
      }
      int value = parse_expr();
      if (value < 0) {
        return -1;
      }
      entries.push_back(key);
      entries.push_back(value);
      if (peek().kind != Tok::kComma) {
        break;
      }
      advance();
    }
    if (!expect(Tok::kRBrace, "{'}', ','}")) {
      return -1;
    }
    return add(NodeKind::kMap, pos, std::move(entries));
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  std::size_t next_ = 0;
  Program& program_;
  std::vector<Scope> scopes_;
  int depth_ = 0;
  SyntaxError error_;
};

#undef SKIFF_CEL_NOINLINE

// cel-go's display form: position, message, the source line and a caret under the column.
std::string format_compile_error(std::string_view src, std::size_t pos, std::string_view message) {
  pos = std::min(pos, src.size());
  std::size_t line_start = 0;
  int line = 1;
  for (std::size_t k = 0; k < pos; ++k) {
    if (src[k] == '\n') {
      ++line;
      line_start = k + 1;
    }
  }
  std::size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) {
    line_end = src.size();
  }
  std::string snippet(src.substr(line_start, line_end - line_start));
  if (!snippet.empty() && snippet.back() == '\r') {
    snippet.pop_back();
  }
  std::replace(snippet.begin(), snippet.end(), '\t', ' ');
  std::size_t column = count_code_points(src.substr(line_start, pos - line_start));
  std::string out = "ERROR: <input>:" + std::to_string(line) + ":" + std::to_string(column + 1) +
                    ": " + std::string(message) + "\n | " + snippet + "\n | ";
  out.append(column, '.');
  out.push_back('^');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluator. Errors are values (kError) so that && / || / all / exists can absorb them, as CEL
// requires; exhausting the step budget sets a flag that every later step honours, and the caller
// reports it whatever value comes back.

std::string signature(const Val* receiver, std::span<const Val> args) {
  std::string out;
  if (receiver != nullptr) {
    out += kind_name(receiver->kind);
    out += '.';
  }
  out += '(';
  for (std::size_t k = 0; k < args.size(); ++k) {
    if (k > 0) {
      out += ", ";
    }
    out += kind_name(args[k].kind);
  }
  out += ')';
  return out;
}

Val no_overload(std::string_view fn, const Val* receiver, std::span<const Val> args) {
  return make_error("no matching overload for '" + std::string(fn) + "' applied to '" +
                    signature(receiver, args) + "'");
}

Val no_overload(std::string_view fn, std::initializer_list<Val> args) {
  return no_overload(fn, nullptr, std::span<const Val>(args.begin(), args.size()));
}

Val integer_overflow() {
  return make_error("integer overflow");
}
Val uint_overflow() {
  return make_error("unsigned integer overflow");
}
Val index_error(std::int64_t i) {
  return make_error("index out of range: " + std::to_string(i));
}

// Go's strconv error texts, which cel-go's conversions pass through.
Val parse_error(std::string_view fn, std::string_view input, bool range) {
  return make_error("strconv." + std::string(fn) + ": parsing \"" + std::string(input) +
                    "\": " + (range ? "value out of range" : "invalid syntax"));
}

Val parse_int(std::string_view s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return parse_error("ParseInt", s, false);
  }
  std::uint64_t magnitude = 0;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (res.ec != std::errc() || magnitude > kMax + (negative ? 1 : 0)) {
    return parse_error("ParseInt", s, true);
  }
  return make_int(negative ? static_cast<std::int64_t>(0 - magnitude)
                           : static_cast<std::int64_t>(magnitude));
}

Val parse_uint(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) {
    return parse_error("ParseUint", s, false);
  }
  std::uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc()) {
    return parse_error("ParseUint", s, true);
  }
  return make_uint(v);
}

Val parse_double(std::string_view s) {
  std::string copy(s);
  if (copy.empty() || std::isspace(static_cast<unsigned char>(copy[0])) != 0 ||
      copy.find('(') != std::string::npos) {
    return parse_error("ParseFloat", s, false);
  }
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) {
    return parse_error("ParseFloat", s, false);
  }
  if (errno == ERANGE && std::isinf(d)) {
    return parse_error("ParseFloat", s, true);
  }
  return make_double(d);
}

Val parse_bool(std::string_view s) {
  static constexpr std::array<std::string_view, 6> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::array<std::string_view, 6> kFalse = {"0",     "f",     "F",
                                                             "FALSE", "false", "False"};
  if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) {
    return make_bool(true);
  }
  if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) {
    return make_bool(false);
  }
  return parse_error("ParseBool", s, false);
}

// Go's unicode.IsSpace, which strings.TrimSpace (behind trim()) uses.
bool is_space(std::uint32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200a;
  }
}

// Index of `sub` in `s` at or after `from` (code points), or -1.
std::int64_t find_code_points(const std::vector<std::uint32_t>& s,
                              const std::vector<std::uint32_t>& sub, std::size_t from) {
  if (sub.size() > s.size()) {
    return -1;
  }
  for (std::size_t i = from; i + sub.size() <= s.size(); ++i) {
    if (std::equal(sub.begin(), sub.end(), s.begin() + static_cast<std::ptrdiff_t>(i))) {
      return static_cast<std::int64_t>(i);
    }
  }
  return -1;
}

// Index of the last `sub` in `s` starting at or before `from`, or -1.
std::int64_t rfind_code_points(const std::vector<std::uint32_t>& s,
                               const std::vector<std::uint32_t>& sub, std::size_t from) {
  if (sub.size() > s.size()) {
    return -1;
  }
  std::size_t i = std::min(from, s.size() - sub.size());
  while (true) {
    if (std::equal(sub.begin(), sub.end(), s.begin() + static_cast<std::ptrdiff_t>(i))) {
      return static_cast<std::int64_t>(i);
    }
    if (i == 0) {
      return -1;
    }
    --i;
  }
}

// A list position from an int, a uint or an integral double (CEL's heterogeneous indexing).
std::optional<std::int64_t> index_value(const Val& k) {
  switch (k.kind) {
    case Kind::kInt:
      return k.i;
    case Kind::kUint:
      return k.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(k.u);
    case Kind::kDouble:
      if (k.d == std::trunc(k.d) && k.d >= -kTwo63 && k.d < kTwo63) {
        return static_cast<std::int64_t>(k.d);
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

class Evaluator {
public:
  Evaluator(const Program& program, const Bindings& bindings, std::uint64_t limit)
      : program_(program),
        bindings_(bindings),
        locals_(static_cast<std::size_t>(program.slots)),
        limit_(limit) {}

  bool exhausted() const { return exhausted_; }

  Val eval(int id) {
    if (!charge(1)) {
      return cost_error();
    }
    const Node& n = program_.nodes[static_cast<std::size_t>(id)];
    switch (n.kind) {
      case NodeKind::kLiteral:
        return literal(n.literal);
      case NodeKind::kSelf:
        return variable(bindings_.self, "self");
      case NodeKind::kOldSelf:
        return variable(bindings_.old_self, "oldSelf");
      case NodeKind::kLocal:
        return locals_[static_cast<std::size_t>(n.slot)];
      case NodeKind::kSelect:
      case NodeKind::kHas:
        return eval_select(n);
      case NodeKind::kIndex:
        return eval_index(n);
      case NodeKind::kCall:
        return eval_call(n);
      case NodeKind::kList:
        return eval_list(n);
      case NodeKind::kMap:
        return eval_map(n);
      case NodeKind::kAnd:
      case NodeKind::kOr:
        return eval_logical(n);
      case NodeKind::kCond:
        return eval_cond(n);
      case NodeKind::kNot:
      case NodeKind::kNeg:
        return eval_unary(n);
      case NodeKind::kBinary:
        return eval_binary(n);
      default:
        return eval_comprehension(n);
    }
  }

private:
  bool charge(std::uint64_t steps) {
    steps_ += steps;
    if (steps_ > limit_) {
      exhausted_ = true;
    }
    return !exhausted_;
  }

  static Val cost_error() { return make_error("operation cancelled: actual cost limit exceeded"); }

  // Literal strings are borrowed from the program rather than sharing its payload: the program
  // outlives the evaluation, and borrowing avoids reference-count traffic across threads.
  static Val literal(const Val& v) {
    if (v.kind == Kind::kString || v.kind == Kind::kBytes) {
      return borrow_text(text(v), v.kind);
    }
    return v;
  }

  static Val variable(const json::Value* value, std::string_view name) {
    if (value == nullptr) {
      return make_error("no such attribute: " + std::string(name));
    }
    return from_json(*value);
  }

  // Map lookup; JSON objects find by string key only. Charges for the linear search.
  std::optional<Val> map_find(const Val& m, const Val& key) {
    if (m.json) {
      const auto& obj = json_object(m);
      charge(1 + obj.size() / 16);
      if (key.kind != Kind::kString) {
        return std::nullopt;
      }
      const json::Value* v = obj.find(text(key));
      if (v == nullptr) {
        return std::nullopt;
      }
      return from_json(*v);
    }
    const auto& entries = own_map(m);
    charge(1 + entries.size() / 16);
    for (const auto& [k, v] : entries) {
      if (scalar_equal(k, key)) {
        return v;
      }
    }
    return std::nullopt;
  }

  // Field selection: a null member of a JSON object reads as absent (Kubernetes' rule for
  // nullable properties), and a missing name is retried in its unescaped spelling.
  std::optional<Val> field(const Val& m, const Node& n) {
    for (const std::string* name : {&n.name, &n.alt_name}) {
      if (name->empty()) {
        continue;
      }
      auto v = map_find(m, borrow_text(*name));
      if (v && !(m.json && v->kind == Kind::kNull)) {
        return v;
      }
    }
    return std::nullopt;
  }

  Val eval_select(const Node& n) {
    Val operand = eval(n.args[0]);
    if (is_error(operand)) {
      return operand;
    }
    if (operand.kind != Kind::kMap) {
      if (operand.kind == Kind::kNull) {
        return make_error("no such key: " + n.name);
      }
      return make_error("type '" + std::string(kind_name(operand.kind)) +
                        "' does not support field selection");
    }
    auto v = field(operand, n);
    if (n.kind == NodeKind::kHas) {
      return make_bool(v.has_value());
    }
    if (!v) {
      return make_error("no such key: " + n.name);
    }
    return *v;
  }

  Val eval_index(const Node& n) {
    Val container = eval(n.args[0]);
    if (is_error(container)) {
      return container;
    }
    Val key = eval(n.args[1]);
    if (is_error(key)) {
      return key;
    }
    if (container.kind == Kind::kList) {
      auto i = index_value(key);
      if (!i) {
        return no_overload("_[_]", {container, key});
      }
      if (*i < 0 || static_cast<std::uint64_t>(*i) >= list_size(container)) {
        return make_error("index out of bounds: " + std::to_string(*i));
      }
      return list_at(container, static_cast<std::size_t>(*i));
    }
    if (container.kind == Kind::kMap) {
      if (is_container(key) || key.kind == Kind::kNull || key.kind == Kind::kType) {
        return no_overload("_[_]", {container, key});
      }
      auto v = map_find(container, key);
      if (!v) {
        return make_error("no such key: " + describe(key));
      }
      return *v;
    }
    return no_overload("_[_]", {container, key});
  }

  Val eval_list(const Node& n) {
    ValList items;
    items.reserve(n.args.size());
    for (int a : n.args) {
      Val v = eval(a);
      if (is_error(v)) {
        return v;
      }
      items.push_back(std::move(v));
    }
    return make_list(std::move(items));
  }

  Val eval_map(const Node& n) {
    ValMap entries;
    entries.reserve(n.args.size() / 2);
    for (std::size_t k = 0; k + 1 < n.args.size(); k += 2) {
      Val key = eval(n.args[k]);
      if (is_error(key)) {
        return key;
      }
      Val value = eval(n.args[k + 1]);
      if (is_error(value)) {
        return value;
      }
      if (key.kind != Kind::kString && key.kind != Kind::kInt && key.kind != Kind::kUint &&
          key.kind != Kind::kBool) {
        return make_error("unsupported key type: " + std::string(kind_name(key.kind)));
      }
      if (!charge(1 + entries.size() / 16)) {
        return cost_error();
      }
      for (const auto& entry : entries) {
        if (scalar_equal(entry.first, key)) {
          return make_error("Failed with repeated key: " + describe(key));
        }
      }
      entries.emplace_back(std::move(key), std::move(value));
    }
    return make_map(std::move(entries));
  }

  // && and || are commutative: a deciding operand (false for &&, true for ||) wins over errors
  // on either side; otherwise the first error is the result.
  Val eval_logical(const Node& n) {
    bool is_and = n.kind == NodeKind::kAnd;
    std::optional<Val> error;
    for (int a : n.args) {
      Val v = eval(a);
      if (v.kind == Kind::kBool) {
        if (v.b != is_and) {
          return v;
        }
        continue;
      }
      if (!error) {
        error = is_error(v) ? v : no_overload(is_and ? "_&&_" : "_||_", {make_bool(is_and), v});
      }
    }
    if (error) {
      return *error;
    }
    return make_bool(is_and);
  }

  Val eval_cond(const Node& n) {
    Val cond = eval(n.args[0]);
    if (is_error(cond)) {
      return cond;
    }
    if (cond.kind != Kind::kBool) {
      return make_error("no matching overload for '_?_:_' applied to '(" +
                        std::string(kind_name(cond.kind)) + ", ...)'");
    }
    return eval(n.args[cond.b ? 1 : 2]);
  }

  Val eval_unary(const Node& n) {
    Val v = eval(n.args[0]);
    if (is_error(v)) {
      return v;
    }
    if (n.kind == NodeKind::kNot) {
      if (v.kind != Kind::kBool) {
        return no_overload("!_", {v});
      }
      return make_bool(!v.b);
    }
    if (v.kind == Kind::kInt) {
      if (v.i == std::numeric_limits<std::int64_t>::min()) {
        return integer_overflow();
      }
      return make_int(-v.i);
    }
    if (v.kind == Kind::kDouble) {
      return make_double(-v.d);
    }
    return no_overload("-_", {v});
  }

  // Deep equality, walked with an explicit stack so nesting in the data cannot exhaust the C++
  // stack. Kinds that differ are unequal (CEL's heterogeneous equality), numbers compare by value.
  bool equal(const Val& a, const Val& b) {
    if (!is_container(a) || !is_container(b)) {
      return scalar_equal(a, b);
    }
    std::vector<std::pair<Val, Val>> work;
    work.emplace_back(a, b);
    while (!work.empty()) {
      auto [x, y] = std::move(work.back());
      work.pop_back();
      if (!charge(1)) {
        return false;
      }
      if (!is_container(x) || !is_container(y)) {
        if (!scalar_equal(x, y)) {
          return false;
        }
        continue;
      }
      if (x.kind != y.kind) {
        return false;
      }
      if (x.json && y.json && x.p == y.p) {
        continue;  // the same JSON node (self == oldSelf on an unchanged object)
      }
      if (x.kind == Kind::kList) {
        std::size_t size = list_size(x);
        if (size != list_size(y)) {
          return false;
        }
        for (std::size_t k = 0; k < size; ++k) {
          work.emplace_back(list_at(x, k), list_at(y, k));
        }
        continue;
      }
      std::size_t size = map_size(x);
      if (size != map_size(y)) {
        return false;
      }
      for (std::size_t k = 0; k < size; ++k) {
        auto other = map_find(y, map_key(x, k));
        if (!other) {
          return false;
        }
        work.emplace_back(map_value(x, k), std::move(*other));
      }
    }
    return true;
  }

  Val contains(const Val& element, const Val& container) {
    if (container.kind == Kind::kList) {
      std::size_t size = list_size(container);
      for (std::size_t k = 0; k < size; ++k) {
        if (!charge(1)) {
          return cost_error();
        }
        if (equal(element, list_at(container, k))) {
          return make_bool(true);
        }
      }
      return make_bool(false);
    }
    if (container.kind == Kind::kMap) {
      if (is_container(element)) {
        return make_bool(false);
      }
      return make_bool(map_find(container, element).has_value());
    }
    return no_overload("@in", {element, container});
  }

  Val concat_text(const Val& a, const Val& b) {
    if (!charge((text(a).size() + text(b).size()) / 16)) {
      return cost_error();
    }
    return make_text(text(a) + text(b), a.kind);
  }

  Val concat_lists(const Val& a, const Val& b) {
    std::size_t na = list_size(a);
    std::size_t nb = list_size(b);
    if (!charge(na + nb)) {
      return cost_error();
    }
    ValList items;
    items.reserve(na + nb);
    for (std::size_t k = 0; k < na; ++k) {
      items.push_back(list_at(a, k));
    }
    for (std::size_t k = 0; k < nb; ++k) {
      items.push_back(list_at(b, k));
    }
    return make_list(std::move(items));
  }

  static Val arithmetic(BinOp op, const Val& a, const Val& b) {
    std::string_view name = kBinOpNames[static_cast<std::size_t>(op)];
    if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
      std::int64_t r = 0;
      switch (op) {
        case BinOp::kAdd:
          return __builtin_add_overflow(a.i, b.i, &r) ? integer_overflow() : make_int(r);
        case BinOp::kSub:
          return __builtin_sub_overflow(a.i, b.i, &r) ? integer_overflow() : make_int(r);
        case BinOp::kMul:
          return __builtin_mul_overflow(a.i, b.i, &r) ? integer_overflow() : make_int(r);
        case BinOp::kDiv:
        case BinOp::kMod:
          if (b.i == 0) {
            return make_error(op == BinOp::kDiv ? "division by zero" : "modulus by zero");
          }
          if (a.i == std::numeric_limits<std::int64_t>::min() && b.i == -1) {
            return integer_overflow();
          }
          return make_int(op == BinOp::kDiv ? a.i / b.i : a.i % b.i);
        default:
          break;
      }
    }
    if (a.kind == Kind::kUint && b.kind == Kind::kUint) {
      std::uint64_t r = 0;
      switch (op) {
        case BinOp::kAdd:
          return __builtin_add_overflow(a.u, b.u, &r) ? uint_overflow() : make_uint(r);
        case BinOp::kSub:
          return __builtin_sub_overflow(a.u, b.u, &r) ? uint_overflow() : make_uint(r);
        case BinOp::kMul:
          return __builtin_mul_overflow(a.u, b.u, &r) ? uint_overflow() : make_uint(r);
        case BinOp::kDiv:
        case BinOp::kMod:
          if (b.u == 0) {
            return make_error(op == BinOp::kDiv ? "division by zero" : "modulus by zero");
          }
          return make_uint(op == BinOp::kDiv ? a.u / b.u : a.u % b.u);
        default:
          break;
      }
    }
    if (a.kind == Kind::kDouble && b.kind == Kind::kDouble) {
      switch (op) {
        case BinOp::kAdd:
          return make_double(a.d + b.d);
        case BinOp::kSub:
          return make_double(a.d - b.d);
        case BinOp::kMul:
          return make_double(a.d * b.d);
        case BinOp::kDiv:
          return make_double(a.d / b.d);  // IEEE: division by zero is an infinity, not an error
        default:
          break;
      }
    }
    return no_overload(name, {a, b});
  }

  Val eval_binary(const Node& n) {
    Val a = eval(n.args[0]);
    if (is_error(a)) {
      return a;
    }
    Val b = eval(n.args[1]);
    if (is_error(b)) {
      return b;
    }
    auto op = static_cast<BinOp>(n.op);
    switch (op) {
      case BinOp::kEq:
        return make_bool(equal(a, b));
      case BinOp::kNe:
        return make_bool(!equal(a, b));
      case BinOp::kLt:
      case BinOp::kLe:
      case BinOp::kGt:
      case BinOp::kGe: {
        int c = order(a, b);
        if (c == kIncomparable) {
          return no_overload(kBinOpNames[n.op], {a, b});
        }
        if (c == kUnordered) {
          return make_bool(false);
        }
        bool r = op == BinOp::kLt   ? c < 0
                 : op == BinOp::kLe ? c <= 0
                 : op == BinOp::kGt ? c > 0
                                    : c >= 0;
        return make_bool(r);
      }
      case BinOp::kIn:
        return contains(a, b);
      case BinOp::kAdd:
        if (is_text(a) && a.kind == b.kind) {
          return concat_text(a, b);
        }
        if (a.kind == Kind::kList && b.kind == Kind::kList) {
          return concat_lists(a, b);
        }
        return arithmetic(op, a, b);
      default:
        return arithmetic(op, a, b);
    }
  }

  Val eval_comprehension(const Node& n) {
    Val range = eval(n.args[0]);
    if (is_error(range)) {
      return range;
    }
    if (!is_container(range)) {
      return make_error("expression of type '" + std::string(kind_name(range.kind)) +
                        "' cannot be range of a comprehension (must be list, map, or dynamic)");
    }
    bool over_map = range.kind == Kind::kMap;
    std::size_t count = over_map ? map_size(range) : list_size(range);
    auto& var = locals_[static_cast<std::size_t>(n.slot)];
    std::optional<Val> error;
    std::int64_t matched = 0;
    ValList out;
    for (std::size_t k = 0; k < count; ++k) {
      if (!charge(1)) {
        return cost_error();
      }
      var = over_map ? map_key(range, k) : list_at(range, k);
      if (n.kind == NodeKind::kTransform && n.args.size() == 2) {
        Val t = eval(n.args[1]);
        if (is_error(t)) {
          return t;
        }
        out.push_back(std::move(t));
        continue;
      }
      Val p = eval(n.args[1]);
      if (p.kind != Kind::kBool) {
        Val e = is_error(p) ? p : no_overload(n.name, {p});
        if (n.kind == NodeKind::kAll || n.kind == NodeKind::kExists) {
          if (!error) {
            error = std::move(e);  // absorbed if a later element decides the result
          }
          continue;
        }
        return e;
      }
      switch (n.kind) {
        case NodeKind::kAll:
          if (!p.b) {
            return make_bool(false);
          }
          break;
        case NodeKind::kExists:
          if (p.b) {
            return make_bool(true);
          }
          break;
        case NodeKind::kExistsOne:
          matched += p.b ? 1 : 0;
          break;
        case NodeKind::kFilter:
          if (p.b) {
            out.push_back(var);
          }
          break;
        default: {  // map(x, p, t)
          if (p.b) {
            Val t = eval(n.args[2]);
            if (is_error(t)) {
              return t;
            }
            out.push_back(std::move(t));
          }
          break;
        }
      }
    }
    switch (n.kind) {
      case NodeKind::kAll:
        return error ? *error : make_bool(true);
      case NodeKind::kExists:
        return error ? *error : make_bool(false);
      case NodeKind::kExistsOne:
        return make_bool(matched == 1);
      default:
        return make_list(std::move(out));
    }
  }

  Val eval_call(const Node& n) {
    std::vector<Val> vals;
    vals.reserve(n.args.size());
    for (int a : n.args) {
      Val v = eval(a);
      if (is_error(v)) {
        return v;
      }
      vals.push_back(std::move(v));
    }
    const Val* receiver = n.receiver ? vals.data() : nullptr;
    std::span<const Val> args(vals);
    if (n.receiver) {
      args = args.subspan(1);
    }
    return call(n, receiver, args);
  }

  Val call(const Node& n, const Val* receiver, std::span<const Val> args) {
    auto fn = static_cast<Fn>(n.op);
    auto fail = [&]() {
      return no_overload(n.name, receiver, args);
    };
    // Functions that take one value either way: size(x) and x.size().
    if (fn == Fn::kSize) {
      const Val* x = receiver != nullptr ? (args.empty() ? receiver : nullptr)
                                         : (args.size() == 1 ? args.data() : nullptr);
      if (x == nullptr) {
        return fail();
      }
      switch (x->kind) {
        case Kind::kString:
          charge(text(*x).size() / 16);
          return make_int(static_cast<std::int64_t>(count_code_points(text(*x))));
        case Kind::kBytes:
          return make_int(static_cast<std::int64_t>(text(*x).size()));
        case Kind::kList:
          return make_int(static_cast<std::int64_t>(list_size(*x)));
        case Kind::kMap:
          return make_int(static_cast<std::int64_t>(map_size(*x)));
        default:
          return fail();
      }
    }
    if (fn == Fn::kMatches) {
      const Val* s = receiver != nullptr ? receiver : (args.size() == 2 ? args.data() : nullptr);
      const Val* pattern = receiver != nullptr ? (args.size() == 1 ? args.data() : nullptr)
                                               : (args.size() == 2 ? &args[1] : nullptr);
      if (s == nullptr || pattern == nullptr || s->kind != Kind::kString ||
          pattern->kind != Kind::kString) {
        return fail();
      }
      return matches(n, text(*s), text(*pattern));
    }
    if (receiver == nullptr) {
      if (args.size() != 1) {
        return fail();
      }
      return convert(fn, args[0], fail);
    }
    if (receiver->kind == Kind::kString) {
      return string_function(fn, text(*receiver), args, fail);
    }
    if (receiver->kind == Kind::kList) {
      return list_function(fn, *receiver, args, fail);
    }
    return fail();
  }

  Val matches(const Node& n, std::string_view s, const std::string& pattern) {
    // A literal pattern was compiled with the program; others are compiled per call (a program
    // is immutable, so there is no cache to share between threads).
    const Regex* re = n.regex.get();
    std::uint64_t weight = n.regex_weight;
    std::optional<Regex> compiled;
    if (re == nullptr) {
      std::string error;
      compiled = Regex::compile(pattern, &error);
      if (!compiled) {
        return make_error(error);
      }
      re = &*compiled;
      weight = regex_weight(pattern);
      charge(pattern.size());
    }
    // The matcher is linear in text × pattern; charge that up front so a huge text against a
    // large pattern is refused instead of run.
    std::uint64_t cost =
        s.size() > limit_ ? limit_ : s.size() * std::min<std::uint64_t>(weight, 1 << 20) / 32;
    if (!charge(1 + cost)) {
      return cost_error();
    }
    return make_bool(re->search(s));
  }

  template <class Fail>
  Val convert(Fn fn, const Val& x, Fail fail) {
    switch (fn) {
      case Fn::kInt:
        switch (x.kind) {
          case Kind::kInt:
            return x;
          case Kind::kUint:
            if (x.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
              return integer_overflow();
            }
            return make_int(static_cast<std::int64_t>(x.u));
          case Kind::kDouble:
            if (!(x.d >= -kTwo63 && x.d < kTwo63)) {  // NaN fails too
              return integer_overflow();
            }
            return make_int(static_cast<std::int64_t>(std::trunc(x.d)));
          case Kind::kString:
            return parse_int(text(x));
          default:
            return fail();
        }
      case Fn::kUint:
        switch (x.kind) {
          case Kind::kUint:
            return x;
          case Kind::kInt:
            if (x.i < 0) {
              return uint_overflow();
            }
            return make_uint(static_cast<std::uint64_t>(x.i));
          case Kind::kDouble:
            if (!(x.d > -1.0 && x.d < kTwo64)) {
              return uint_overflow();
            }
            return make_uint(static_cast<std::uint64_t>(std::trunc(x.d)));
          case Kind::kString:
            return parse_uint(text(x));
          default:
            return fail();
        }
      case Fn::kDouble:
        switch (x.kind) {
          case Kind::kDouble:
            return x;
          case Kind::kInt:
            return make_double(static_cast<double>(x.i));
          case Kind::kUint:
            return make_double(static_cast<double>(x.u));
          case Kind::kString:
            return parse_double(text(x));
          default:
            return fail();
        }
      case Fn::kString:
        switch (x.kind) {
          case Kind::kString:
            return x;
          case Kind::kBytes:
            if (!valid_utf8(text(x))) {
              return make_error("invalid UTF-8 in bytes, cannot convert to string");
            }
            return borrow_or_copy(x, Kind::kString);
          case Kind::kInt:
          case Kind::kUint:
          case Kind::kBool:
            return make_text(describe(x));
          case Kind::kDouble:
            return make_text(format_double(x.d));
          default:
            return fail();
        }
      case Fn::kBool:
        if (x.kind == Kind::kBool) {
          return x;
        }
        if (x.kind == Kind::kString) {
          return parse_bool(text(x));
        }
        return fail();
      case Fn::kBytes:
        if (is_text(x)) {
          return borrow_or_copy(x, Kind::kBytes);
        }
        return fail();
      case Fn::kType:
        return make_type(x.kind);
      case Fn::kDyn:
        return x;
      default:
        return fail();
    }
  }

  // The same text under another kind, keeping whatever keeps it alive.
  static Val borrow_or_copy(const Val& x, Kind kind) {
    Val r = x;
    r.kind = kind;
    return r;
  }

  template <class Fail>
  Val string_function(Fn fn, const std::string& s, std::span<const Val> args, Fail fail) {
    auto arg_is = [&](std::size_t k, Kind kind) {
      return args.size() > k && args[k].kind == kind;
    };
    if (!charge(1 + s.size() / 16)) {
      return cost_error();
    }
    switch (fn) {
      case Fn::kContains:
      case Fn::kStartsWith:
      case Fn::kEndsWith: {
        if (args.size() != 1 || !arg_is(0, Kind::kString)) {
          return fail();
        }
        const std::string& t = text(args[0]);
        bool r = fn == Fn::kContains     ? s.find(t) != std::string::npos
                 : fn == Fn::kStartsWith ? std::string_view(s).starts_with(t)
                                         : std::string_view(s).ends_with(t);
        return make_bool(r);
      }
      case Fn::kLowerAscii:
      case Fn::kUpperAscii: {
        if (!args.empty()) {
          return fail();
        }
        std::string out = s;
        for (char& c : out) {
          if (fn == Fn::kLowerAscii && c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + 32);
          } else if (fn == Fn::kUpperAscii && c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 32);
          }
        }
        return make_text(std::move(out));
      }
      case Fn::kTrim: {
        if (!args.empty()) {
          return fail();
        }
        auto cps = decode(s);
        std::size_t b = 0;
        std::size_t e = cps.size();
        while (b < e && is_space(cps[b])) {
          ++b;
        }
        while (e > b && is_space(cps[e - 1])) {
          --e;
        }
        return make_text(encode(std::span(cps).subspan(b, e - b)));
      }
      case Fn::kReverse: {
        if (!args.empty()) {
          return fail();
        }
        auto cps = decode(s);
        std::reverse(cps.begin(), cps.end());
        return make_text(encode(cps));
      }
      case Fn::kCharAt: {
        if (args.size() != 1 || !arg_is(0, Kind::kInt)) {
          return fail();
        }
        auto cps = decode(s);
        std::int64_t i = args[0].i;
        if (i < 0 || static_cast<std::size_t>(i) > cps.size()) {
          return index_error(i);
        }
        if (static_cast<std::size_t>(i) == cps.size()) {
          return make_text("");
        }
        return make_text(encode(std::span(cps).subspan(static_cast<std::size_t>(i), 1)));
      }
      case Fn::kIndexOf:
      case Fn::kLastIndexOf:
        return string_index_of(fn, s, args, fail);
      case Fn::kSubstring: {
        if (args.empty() || args.size() > 2 || !arg_is(0, Kind::kInt) ||
            (args.size() == 2 && !arg_is(1, Kind::kInt))) {
          return fail();
        }
        auto cps = decode(s);
        auto size = static_cast<std::int64_t>(cps.size());
        std::int64_t start = args[0].i;
        std::int64_t end = args.size() == 2 ? args[1].i : size;
        if (args.size() == 1 && (start < 0 || start > size)) {
          return index_error(start);
        }
        if (start > end) {
          return make_error("invalid substring range. start: " + std::to_string(start) +
                            ", end: " + std::to_string(end));
        }
        if (start < 0 || start > size) {
          return index_error(start);
        }
        if (end < 0 || end > size) {
          return index_error(end);
        }
        return make_text(encode(std::span(cps).subspan(static_cast<std::size_t>(start),
                                                       static_cast<std::size_t>(end - start))));
      }
      case Fn::kReplace:
        return string_replace(s, args, fail);
      case Fn::kSplit:
        return string_split(s, args, fail);
      default:
        return fail();
    }
  }

  template <class Fail>
  Val string_index_of(Fn fn, const std::string& s, std::span<const Val> args, Fail fail) {
    if (args.empty() || args.size() > 2 || args[0].kind != Kind::kString ||
        (args.size() == 2 && args[1].kind != Kind::kInt)) {
      return fail();
    }
    auto cps = decode(s);
    auto sub = decode(text(args[0]));
    auto size = static_cast<std::int64_t>(cps.size());
    bool last = fn == Fn::kLastIndexOf;
    std::int64_t from = args.size() == 2 ? args[1].i : (last ? size : 0);
    if (sub.empty()) {
      return make_int(from);
    }
    if (args.size() == 2 && (from < 0 || from > size)) {
      return index_error(from);
    }
    charge(cps.size() * (sub.size() / 16 + 1) / 16);
    auto at = static_cast<std::size_t>(from);
    return make_int(last ? rfind_code_points(cps, sub, at) : find_code_points(cps, sub, at));
  }

  // Go's strings.Replace: n < 0 replaces all; an empty `from` matches before every code point.
  template <class Fail>
  Val string_replace(const std::string& s, std::span<const Val> args, Fail fail) {
    if (args.size() < 2 || args.size() > 3 || args[0].kind != Kind::kString ||
        args[1].kind != Kind::kString || (args.size() == 3 && args[2].kind != Kind::kInt)) {
      return fail();
    }
    const std::string& from = text(args[0]);
    const std::string& to = text(args[1]);
    std::int64_t limit = args.size() == 3 ? args[2].i : -1;
    std::string out;
    std::size_t i = 0;
    std::int64_t done = 0;
    while (limit < 0 || done < limit) {
      if (from.empty()) {
        if (done > 0) {
          if (i >= s.size()) {
            break;
          }
          std::size_t j = i;
          next_code_point(s, j);
          out.append(s, i, j - i);
          i = j;
        }
        out += to;
        ++done;
      } else {
        std::size_t at = s.find(from, i);
        if (at == std::string::npos) {
          break;
        }
        out.append(s, i, at - i);
        out += to;
        i = at + from.size();
        ++done;
      }
      if (!charge(1 + to.size() / 16)) {
        return cost_error();
      }
    }
    out.append(s, std::min(i, s.size()));
    return make_text(std::move(out));
  }

  // Go's strings.SplitN: n == 0 gives no pieces, n < 0 all of them, n > 0 at most n with the
  // rest in the last; an empty separator splits into code points.
  template <class Fail>
  Val string_split(const std::string& s, std::span<const Val> args, Fail fail) {
    if (args.empty() || args.size() > 2 || args[0].kind != Kind::kString ||
        (args.size() == 2 && args[1].kind != Kind::kInt)) {
      return fail();
    }
    const std::string& sep = text(args[0]);
    std::int64_t n = args.size() == 2 ? args[1].i : -1;
    ValList out;
    if (n == 0) {
      return make_list(std::move(out));
    }
    std::size_t i = 0;
    while (n < 0 || static_cast<std::int64_t>(out.size()) + 1 < n) {
      if (!charge(1)) {
        return cost_error();
      }
      if (sep.empty()) {
        if (i >= s.size()) {
          break;
        }
        std::size_t j = i;
        next_code_point(s, j);
        out.push_back(make_text(s.substr(i, j - i)));
        i = j;
        continue;
      }
      std::size_t at = s.find(sep, i);
      if (at == std::string::npos) {
        break;
      }
      out.push_back(make_text(s.substr(i, at - i)));
      i = at + sep.size();
    }
    if (!sep.empty() || i < s.size()) {
      out.push_back(make_text(s.substr(std::min(i, s.size()))));
    }
    return make_list(std::move(out));
  }

  template <class Fail>
  Val list_function(Fn fn, const Val& list, std::span<const Val> args, Fail fail) {
    std::size_t size = list_size(list);
    if (!charge(1 + size)) {
      return cost_error();
    }
    switch (fn) {
      case Fn::kJoin: {
        if (args.size() > 1 || (args.size() == 1 && args[0].kind != Kind::kString)) {
          return fail();
        }
        std::string out;
        for (std::size_t k = 0; k < size; ++k) {
          Val v = list_at(list, k);
          if (v.kind != Kind::kString) {
            return make_error("join: list element " + std::to_string(k) + " is a " +
                              std::string(kind_name(v.kind)) + ", not a string");
          }
          if (k > 0 && !args.empty()) {
            out += text(args[0]);
          }
          out += text(v);
          if (!charge(text(v).size() / 16)) {
            return cost_error();
          }
        }
        return make_text(std::move(out));
      }
      case Fn::kIndexOf:
      case Fn::kLastIndexOf: {
        if (args.size() != 1) {
          return fail();
        }
        for (std::size_t k = 0; k < size; ++k) {
          std::size_t at = fn == Fn::kIndexOf ? k : size - 1 - k;
          if (equal(list_at(list, at), args[0])) {
            return make_int(static_cast<std::int64_t>(at));
          }
          if (exhausted_) {
            return cost_error();
          }
        }
        return make_int(-1);
      }
      case Fn::kIsSorted: {
        if (!args.empty()) {
          return fail();
        }
        for (std::size_t k = 1; k < size; ++k) {
          Val a = list_at(list, k - 1);
          Val b = list_at(list, k);
          int c = order(a, b);
          if (c == kIncomparable) {
            return no_overload("isSorted", {a, b});
          }
          if (c == 1) {
            return make_bool(false);
          }
        }
        return make_bool(true);
      }
      case Fn::kSum: {
        if (!args.empty()) {
          return fail();
        }
        if (size == 0) {
          return make_int(0);
        }
        Val total = list_at(list, 0);
        if (!is_number(total)) {
          return no_overload("sum", {total});
        }
        for (std::size_t k = 1; k < size; ++k) {
          total = arithmetic(BinOp::kAdd, total, list_at(list, k));
          if (is_error(total)) {
            return total;
          }
        }
        return total;
      }
      case Fn::kMin:
      case Fn::kMax: {
        if (!args.empty()) {
          return fail();
        }
        if (size == 0) {
          return make_error(std::string(fn == Fn::kMin ? "min" : "max") + " called on empty list");
        }
        Val best = list_at(list, 0);
        for (std::size_t k = 1; k < size; ++k) {
          Val v = list_at(list, k);
          int c = order(v, best);
          if (c == kIncomparable) {
            return no_overload(fn == Fn::kMin ? "min" : "max", {best, v});
          }
          if ((fn == Fn::kMin && c == -1) || (fn == Fn::kMax && c == 1)) {
            best = v;
          }
        }
        return best;
      }
      default:
        return fail();
    }
  }

  const Program& program_;
  const Bindings& bindings_;
  std::vector<Val> locals_;
  std::uint64_t steps_ = 0;
  std::uint64_t limit_;
  bool exhausted_ = false;
};

// The result as JSON. Owned lists and maps nest at most as deep as the expression that built
// them, so recursion here is bounded by the expression's depth (JSON parts are copied whole).
json::Value to_json(const Val& v) {
  switch (v.kind) {
    case Kind::kNull:
    case Kind::kError:
      return nullptr;
    case Kind::kBool:
      return v.b;
    case Kind::kInt:
      return static_cast<long long>(v.i);
    case Kind::kUint:
      if (v.u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<long long>(v.u);
      }
      return static_cast<double>(v.u);
    case Kind::kDouble:
      return v.d;
    case Kind::kString:
    case Kind::kBytes:
      return text(v);
    case Kind::kType:
      return std::string(kind_name(static_cast<Kind>(v.i)));
    case Kind::kList: {
      if (v.json) {
        return json_array(v);
      }
      json::Array out;
      out.reserve(own_list(v).size());
      for (const auto& item : own_list(v)) {
        out.push_back(to_json(item));
      }
      return out;
    }
    case Kind::kMap: {
      if (v.json) {
        return json_object(v);
      }
      json::Object out;
      for (const auto& [key, value] : own_map(v)) {
        out.set(describe(key), to_json(value));
      }
      return out;
    }
  }
  return nullptr;
}

Error invalid(std::string message) {
  return errors::make(Reason::kInvalid, std::move(message));
}

}  // namespace

Result<std::shared_ptr<const Program>> compile(std::string_view source) {
  if (source.size() > kMaxSourceSize) {
    return invalid("expression size exceeds limit: size: " + std::to_string(source.size()) +
                   " bytes, limit " + std::to_string(kMaxSourceSize));
  }
  auto program = std::make_shared<Program>();
  program->source = std::string(source);
  std::string_view src = program->source;
  std::vector<Token> tokens;
  SyntaxError error;
  if (!Lexer(src).run(tokens, error)) {
    return invalid(format_compile_error(src, error.pos, error.message));
  }
  Parser parser(src, std::move(tokens), *program);
  if (!parser.parse()) {
    return invalid(format_compile_error(src, parser.error().pos, parser.error().message));
  }
  return std::shared_ptr<const Program>(std::move(program));
}

Result<json::Value> evaluate(const Program& program, const Bindings& bindings,
                             const EvalOptions& options) {
  Evaluator evaluator(program, bindings, options.step_limit);
  Val result = evaluator.eval(program.root);
  if (evaluator.exhausted()) {
    return invalid("operation cancelled: actual cost limit exceeded");
  }
  if (is_error(result)) {
    return invalid(text(result));
  }
  return to_json(result);
}

bool uses_old_self(const Program& program) {
  return program.uses_old_self;
}

std::string_view source(const Program& program) {
  return program.source;
}

}  // namespace skiff::registry::cel
