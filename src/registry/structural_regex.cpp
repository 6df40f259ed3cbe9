// SPDX-License-Identifier: Apache-2.0
// A linear-time RE2-syntax matcher for CRD patterns (see structural_regex.hpp for why).
#include "structural_regex.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "utf8.hpp"

namespace skiff::registry::detail {
namespace {

constexpr std::size_t kMaxProgram = 50000;  // instructions, after expanding counted repeats
constexpr int kMaxRepeat = 1000;            // Go's limit for {n,m}
constexpr int kMaxNesting = 500;

bool is_word(std::uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::uint32_t fold(std::uint32_t c) {
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct Ast {
  enum Type {
    kEmpty,
    kLiteral,
    kAny,
    kClass,
    kBegin,
    kEnd,
    kWordB,
    kNotWordB,
    kConcat,
    kAlt,
    kRepeat
  };
  Type type = kEmpty;
  std::uint32_t c = 0;
  std::vector<Regex::Range> ranges;
  bool negated = false;
  int min = 0;
  int max = 0;  // -1: unbounded
  std::vector<std::unique_ptr<Ast>> kids;
};

using AstPtr = std::unique_ptr<Ast>;

AstPtr make(Ast::Type t) {
  auto a = std::make_unique<Ast>();
  a->type = t;
  return a;
}

void add_perl_class(char k, std::vector<Regex::Range>& r, bool& negated) {
  switch (k) {
    case 'd':
    case 'D':
      r.push_back({'0', '9'});
      break;
    case 'w':
    case 'W':
      r.push_back({'0', '9'});
      r.push_back({'A', 'Z'});
      r.push_back({'_', '_'});
      r.push_back({'a', 'z'});
      break;
    case 's':
    case 'S':
      r.push_back({'\t', '\n'});
      r.push_back({'\f', '\r'});
      r.push_back({' ', ' '});
      break;
    default:
      break;
  }
  negated = k == 'D' || k == 'W' || k == 'S';
}

// Ranges not covered by `r` (for negated perl classes inside brackets, e.g. [\D]).
std::vector<Regex::Range> complement(std::vector<Regex::Range> r) {
  std::sort(r.begin(), r.end(),
            [](const Regex::Range& a, const Regex::Range& b) { return a.lo < b.lo; });
  std::vector<Regex::Range> out;
  std::uint32_t next = 0;
  for (const auto& x : r) {
    if (x.lo > next) {
      out.push_back({next, x.lo - 1});
    }
    next = std::max(next, x.hi + 1);
  }
  if (next <= 0x10ffff) {
    out.push_back({next, 0x10ffff});
  }
  return out;
}

class Parser {
public:
  Parser(std::string_view pattern, std::string* error)
      : text_(pattern), p_(decode(pattern)), error_(error) {}

  AstPtr parse(bool& fold_case, bool& dot_nl) {
    // A leading flag group applies to the whole pattern.
    while (at("(?") && pos_ + 3 < p_.size() && (p_[pos_ + 2] == 'i' || p_[pos_ + 2] == 's')) {
      std::size_t j = pos_ + 2;
      bool fi = false;
      bool fs = false;
      while (j < p_.size() && (p_[j] == 'i' || p_[j] == 's')) {
        fi = fi || p_[j] == 'i';
        fs = fs || p_[j] == 's';
        ++j;
      }
      if (j < p_.size() && p_[j] == ')') {
        fold_case = fold_case || fi;
        dot_nl = dot_nl || fs;
        pos_ = j + 1;
      } else {
        break;
      }
    }
    dot_nl_ = dot_nl;
    AstPtr a = alternation(0);
    if (a && pos_ < p_.size()) {
      // Only a stray ')' stops the top level.
      return fail("unexpected ): `" + std::string(text_) + "`");
    }
    return a;
  }

private:
  bool at(std::string_view s) const {
    if (pos_ + s.size() > p_.size()) {
      return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (p_[pos_ + i] != static_cast<unsigned char>(s[i])) {
        return false;
      }
    }
    return true;
  }

  AstPtr fail(std::string msg) {
    if (error_ != nullptr && error_->empty()) {
      *error_ = "error parsing regexp: " + std::move(msg);
    }
    return nullptr;
  }

  std::string rest_from(std::size_t start) const {
    std::string out;
    for (std::size_t i = start; i < p_.size(); ++i) {
      std::uint32_t c = p_[i];
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
      } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
      } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
      }
    }
    return out;
  }

  AstPtr alternation(int depth) {
    if (depth > kMaxNesting) {
      return fail("expression nests too deeply");
    }
    auto alt = make(Ast::kAlt);
    while (true) {
      AstPtr c = concat(depth);
      if (!c) {
        return nullptr;
      }
      alt->kids.push_back(std::move(c));
      if (pos_ < p_.size() && p_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (alt->kids.size() == 1) {
      return std::move(alt->kids[0]);
    }
    return alt;
  }

  AstPtr concat(int depth) {
    auto cat = make(Ast::kConcat);
    while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      std::size_t atom_start = pos_;
      AstPtr a = atom(depth);
      if (!a) {
        return nullptr;
      }
      // Quantifiers.
      bool quantified = false;
      while (pos_ < p_.size()) {
        std::uint32_t q = p_[pos_];
        int min = 0;
        int max = 0;
        std::size_t qstart = pos_;
        if (q == '*') {
          min = 0, max = -1;
          ++pos_;
        } else if (q == '+') {
          min = 1, max = -1;
          ++pos_;
        } else if (q == '?') {
          min = 0, max = 1;
          ++pos_;
        } else if (q == '{' && parse_count(min, max)) {
          if (min > kMaxRepeat || max > kMaxRepeat || (max >= 0 && max < min)) {
            return fail("invalid repeat count: `" + rest_from(qstart).substr(0, pos_ - qstart) +
                        "`");
          }
        } else {
          break;
        }
        if (quantified) {
          return fail("invalid nested repetition operator: `" +
                      rest_from(atom_start).substr(0, pos_ - atom_start) + "`");
        }
        if (a->type == Ast::kBegin || a->type == Ast::kEnd || a->type == Ast::kEmpty) {
          // Go accepts ^* etc.; repetition of an empty-width assertion is the assertion.
        }
        if (pos_ < p_.size() && p_[pos_] == '?') {
          ++pos_;  // lazy: same language
        }
        auto r = make(Ast::kRepeat);
        r->min = min;
        r->max = max;
        r->kids.push_back(std::move(a));
        a = std::move(r);
        quantified = true;
      }
      cat->kids.push_back(std::move(a));
    }
    if (cat->kids.size() == 1) {
      return std::move(cat->kids[0]);
    }
    if (cat->kids.empty()) {
      return make(Ast::kEmpty);
    }
    return cat;
  }

  // `{n}`, `{n,}`, `{n,m}`; leaves pos_ unchanged (and returns false) when it is not a count, in
  // which case `{` is a literal, as in Go.
  bool parse_count(int& min, int& max) {
    std::size_t i = pos_ + 1;
    auto number = [&](int& out) {
      std::size_t start = i;
      long v = 0;
      while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
        v = std::min<long>(v * 10 + (p_[i] - '0'), 100000);
        ++i;
      }
      out = static_cast<int>(v);
      return i > start;
    };
    if (!number(min)) {
      return false;
    }
    if (i < p_.size() && p_[i] == '}') {
      max = min;
    } else if (i < p_.size() && p_[i] == ',') {
      ++i;
      if (i < p_.size() && p_[i] == '}') {
        max = -1;
      } else if (!number(max) || i >= p_.size() || p_[i] != '}') {
        return false;
      }
    } else {
      return false;
    }
    pos_ = i + 1;
    return true;
  }

  AstPtr atom(int depth) {
    std::uint32_t c = p_[pos_];
    switch (c) {
      case '*':
      case '+':
      case '?':
        return fail("missing argument to repetition operator: `" +
                    std::string(1, static_cast<char>(c)) + "`");
      case '(': {
        std::size_t open = pos_;
        ++pos_;
        if (pos_ < p_.size() && p_[pos_] == '?') {
          if (at("?:")) {
            pos_ += 2;
          } else if (at("?P<") || at("?<")) {
            while (pos_ < p_.size() && p_[pos_] != '>') {
              ++pos_;
            }
            if (pos_ >= p_.size()) {
              return fail("invalid named capture: `" + rest_from(open) + "`");
            }
            ++pos_;
          } else {
            return fail("invalid or unsupported Perl syntax: `" + rest_from(open).substr(0, 3) +
                        "`");
          }
        }
        AstPtr inner = alternation(depth + 1);
        if (!inner) {
          return nullptr;
        }
        if (pos_ >= p_.size() || p_[pos_] != ')') {
          return fail("missing closing ): `" + std::string(text_) + "`");
        }
        ++pos_;
        return inner;
      }
      case '[':
        return char_class();
      case '.': {
        ++pos_;
        auto a = make(Ast::kAny);
        a->negated = !dot_nl_;  // negated: does not match \n
        return a;
      }
      case '^':
        ++pos_;
        return make(Ast::kBegin);
      case '$':
        ++pos_;
        return make(Ast::kEnd);
      case '\\':
        return escape();
      default: {
        ++pos_;
        auto a = make(Ast::kLiteral);
        a->c = c;
        return a;
      }
    }
  }

  // One escape outside a class: a literal, a perl class or an assertion.
  AstPtr escape() {
    std::size_t start = pos_;
    ++pos_;
    if (pos_ >= p_.size()) {
      return fail("trailing backslash at end of expression: ``");
    }
    std::uint32_t e = p_[pos_++];
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S': {
        auto a = make(Ast::kClass);
        add_perl_class(static_cast<char>(e), a->ranges, a->negated);
        return a;
      }
      case 'b':
        return make(Ast::kWordB);
      case 'B':
        return make(Ast::kNotWordB);
      case 'A':
        return make(Ast::kBegin);
      case 'z':
        return make(Ast::kEnd);
      default: {
        std::uint32_t lit = 0;
        if (!escaped_literal(e, lit)) {
          return fail("invalid escape sequence: `" + rest_from(start).substr(0, 2) + "`");
        }
        auto a = make(Ast::kLiteral);
        a->c = lit;
        return a;
      }
    }
  }

  // Escapes that stand for one character: punctuation, \n \t \r \f \v \a, \xHH, \x{H...}, \0oo.
  bool escaped_literal(std::uint32_t e, std::uint32_t& out) {
    switch (e) {
      case 'n':
        out = '\n';
        return true;
      case 't':
        out = '\t';
        return true;
      case 'r':
        out = '\r';
        return true;
      case 'f':
        out = '\f';
        return true;
      case 'v':
        out = '\v';
        return true;
      case 'a':
        out = 7;
        return true;
      case 'x': {
        auto hex = [](std::uint32_t h) -> int {
          if (h >= '0' && h <= '9') {
            return static_cast<int>(h - '0');
          }
          if (h >= 'a' && h <= 'f') {
            return static_cast<int>(h - 'a' + 10);
          }
          if (h >= 'A' && h <= 'F') {
            return static_cast<int>(h - 'A' + 10);
          }
          return -1;
        };
        if (pos_ < p_.size() && p_[pos_] == '{') {
          ++pos_;
          std::uint32_t v = 0;
          std::size_t digits = 0;
          while (pos_ < p_.size() && hex(p_[pos_]) >= 0 && digits < 8) {
            v = v * 16 + static_cast<std::uint32_t>(hex(p_[pos_++]));
            ++digits;
          }
          if (digits == 0 || pos_ >= p_.size() || p_[pos_] != '}' || v > 0x10ffff) {
            return false;
          }
          ++pos_;
          out = v;
          return true;
        }
        if (pos_ + 1 < p_.size() && hex(p_[pos_]) >= 0 && hex(p_[pos_ + 1]) >= 0) {
          out = static_cast<std::uint32_t>(hex(p_[pos_]) * 16 + hex(p_[pos_ + 1]));
          pos_ += 2;
          return true;
        }
        return false;
      }
      default:
        // Go allows escaping any ASCII punctuation.
        if (e < 0x80 && !is_word(e) && e > ' ') {
          out = e;
          return true;
        }
        return false;
    }
  }

  AstPtr char_class() {
    std::size_t start = pos_;
    ++pos_;
    auto a = make(Ast::kClass);
    if (pos_ < p_.size() && p_[pos_] == '^') {
      a->negated = true;
      ++pos_;
    }
    bool first = true;
    while (pos_ < p_.size() && (p_[pos_] != ']' || first)) {
      first = false;
      // [:alpha:] and friends.
      if (at("[:")) {
        std::size_t close = pos_ + 2;
        while (close + 1 < p_.size() && !(p_[close] == ':' && p_[close + 1] == ']')) {
          ++close;
        }
        if (close + 1 < p_.size()) {
          std::string name = rest_from(pos_ + 2).substr(0, close - pos_ - 2);
          if (!posix_class(name, a->ranges)) {
            return fail("invalid character class range: `" +
                        rest_from(pos_).substr(0, close + 2 - pos_) + "`");
          }
          pos_ = close + 2;
          continue;
        }
      }
      std::uint32_t lo = 0;
      std::size_t item = pos_;
      if (p_[pos_] == '\\') {
        ++pos_;
        if (pos_ >= p_.size()) {
          break;
        }
        std::uint32_t e = p_[pos_++];
        if (e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 's' || e == 'S') {
          std::vector<Regex::Range> r;
          bool neg = false;
          add_perl_class(static_cast<char>(e), r, neg);
          if (neg) {
            r = complement(std::move(r));
          }
          a->ranges.insert(a->ranges.end(), r.begin(), r.end());
          continue;
        }
        if (!escaped_literal(e, lo)) {
          return fail("invalid escape sequence: `" + rest_from(item).substr(0, 2) + "`");
        }
      } else {
        lo = p_[pos_++];
      }
      std::uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (p_[pos_] == '\\') {
          ++pos_;
          if (pos_ >= p_.size() || !escaped_literal(p_[pos_++], hi)) {
            return fail("invalid escape sequence: `" + rest_from(item) + "`");
          }
        } else {
          hi = p_[pos_++];
        }
        if (hi < lo) {
          return fail("invalid character class range: `" + rest_from(item).substr(0, pos_ - item) +
                      "`");
        }
      }
      a->ranges.push_back({lo, hi});
    }
    if (pos_ >= p_.size()) {
      return fail("missing closing ]: `" + rest_from(start) + "`");
    }
    ++pos_;
    return a;
  }

  static bool posix_class(const std::string& name, std::vector<Regex::Range>& r) {
    if (name == "alpha") {
      r.push_back({'A', 'Z'});
      r.push_back({'a', 'z'});
    } else if (name == "digit") {
      r.push_back({'0', '9'});
    } else if (name == "alnum") {
      r.push_back({'0', '9'});
      r.push_back({'A', 'Z'});
      r.push_back({'a', 'z'});
    } else if (name == "upper") {
      r.push_back({'A', 'Z'});
    } else if (name == "lower") {
      r.push_back({'a', 'z'});
    } else if (name == "space") {
      r.push_back({'\t', '\r'});
      r.push_back({' ', ' '});
    } else if (name == "xdigit") {
      r.push_back({'0', '9'});
      r.push_back({'A', 'F'});
      r.push_back({'a', 'f'});
    } else if (name == "punct") {
      r.push_back({'!', '/'});
      r.push_back({':', '@'});
      r.push_back({'[', '`'});
      r.push_back({'{', '~'});
    } else if (name == "word") {
      r.push_back({'0', '9'});
      r.push_back({'A', 'Z'});
      r.push_back({'_', '_'});
      r.push_back({'a', 'z'});
    } else if (name == "print") {
      r.push_back({' ', '~'});
    } else if (name == "cntrl") {
      r.push_back({0, 31});
      r.push_back({127, 127});
    } else if (name == "blank") {
      r.push_back({'\t', '\t'});
      r.push_back({' ', ' '});
    } else if (name == "graph") {
      r.push_back({'!', '~'});
    } else if (name == "ascii") {
      r.push_back({0, 127});
    } else {
      return false;
    }
    return true;
  }

  std::string_view text_;
  std::vector<std::uint32_t> p_;
  std::size_t pos_ = 0;
  std::string* error_;
  bool dot_nl_ = false;
};

}  // namespace

class RegexCompiler {
public:
  explicit RegexCompiler(Regex& re) : re_(re) {}

  bool emit(const Ast& a, int depth) {
    if (re_.prog_.size() > kMaxProgram || depth > kMaxNesting) {
      return false;
    }
    using I = Regex::Inst;
    switch (a.type) {
      case Ast::kEmpty:
        return true;
      case Ast::kLiteral: {
        I i;
        i.op = I::kChar;
        i.c = re_.fold_case_ ? fold(a.c) : a.c;
        re_.prog_.push_back(i);
        return true;
      }
      case Ast::kAny: {
        I i;
        i.op = a.negated ? I::kAnyNotNl : I::kAny;
        re_.prog_.push_back(i);
        return true;
      }
      case Ast::kClass: {
        I i;
        i.op = I::kClass;
        i.x = static_cast<int>(re_.classes_.size());
        i.negated = a.negated;
        re_.classes_.push_back(a.ranges);
        re_.prog_.push_back(i);
        return true;
      }
      case Ast::kBegin:
      case Ast::kEnd:
      case Ast::kWordB:
      case Ast::kNotWordB: {
        I i;
        i.op = a.type == Ast::kBegin   ? I::kBegin
               : a.type == Ast::kEnd   ? I::kEnd
               : a.type == Ast::kWordB ? I::kWordBoundary
                                       : I::kNotWordBoundary;
        re_.prog_.push_back(i);
        return true;
      }
      case Ast::kConcat:
        for (const auto& k : a.kids) {
          if (!emit(*k, depth + 1)) {
            return false;
          }
        }
        return true;
      case Ast::kAlt: {
        // split L1, next; L1: a; jmp end; next: split L2, next2; ...
        std::vector<std::size_t> jumps;
        for (std::size_t k = 0; k < a.kids.size(); ++k) {
          if (k + 1 < a.kids.size()) {
            std::size_t split = re_.prog_.size();
            re_.prog_.push_back(I{I::kSplit});
            re_.prog_[split].x = static_cast<int>(split + 1);
            if (!emit(*a.kids[k], depth + 1)) {
              return false;
            }
            jumps.push_back(re_.prog_.size());
            re_.prog_.push_back(I{I::kJmp});
            re_.prog_[split].y = static_cast<int>(re_.prog_.size());
          } else if (!emit(*a.kids[k], depth + 1)) {
            return false;
          }
        }
        for (std::size_t j : jumps) {
          re_.prog_[j].x = static_cast<int>(re_.prog_.size());
        }
        return true;
      }
      case Ast::kRepeat: {
        const Ast& body = *a.kids[0];
        for (int k = 0; k < a.min; ++k) {
          if (!emit(body, depth + 1)) {
            return false;
          }
        }
        if (a.max < 0) {
          // L: split body, out; body; jmp L
          std::size_t split = re_.prog_.size();
          re_.prog_.push_back(I{I::kSplit});
          re_.prog_[split].x = static_cast<int>(split + 1);
          if (!emit(body, depth + 1)) {
            return false;
          }
          I jmp{I::kJmp};
          jmp.x = static_cast<int>(split);
          re_.prog_.push_back(jmp);
          re_.prog_[split].y = static_cast<int>(re_.prog_.size());
          return true;
        }
        // (max - min) nested optional copies: split body, out ... all exits to the end.
        std::vector<std::size_t> splits;
        for (int k = a.min; k < a.max; ++k) {
          std::size_t split = re_.prog_.size();
          re_.prog_.push_back(I{I::kSplit});
          re_.prog_[split].x = static_cast<int>(split + 1);
          splits.push_back(split);
          if (!emit(body, depth + 1)) {
            return false;
          }
        }
        for (std::size_t s : splits) {
          re_.prog_[s].y = static_cast<int>(re_.prog_.size());
        }
        return true;
      }
    }
    return false;
  }

private:
  Regex& re_;
};

std::optional<Regex> Regex::compile(std::string_view pattern, std::string* error) {
  std::string local;
  std::string* err = error != nullptr ? error : &local;
  err->clear();
  Regex re;
  bool dot_nl = false;
  Parser parser(pattern, err);
  AstPtr ast = parser.parse(re.fold_case_, dot_nl);
  if (!ast) {
    return std::nullopt;
  }
  RegexCompiler compiler(re);
  if (!compiler.emit(*ast, 0)) {
    *err = "error parsing regexp: expression too large";
    return std::nullopt;
  }
  re.prog_.push_back(Inst{Inst::kMatch});
  return re;
}

bool Regex::search(std::string_view text) const {
  const std::vector<std::uint32_t> t = decode(text);
  const std::size_t n = prog_.size();
  // Sparse sets of program counters, with a generation stamp per list.
  std::vector<int> clist;
  std::vector<int> nlist;
  std::vector<std::size_t> mark(n, static_cast<std::size_t>(-1));
  std::vector<int> stack;
  clist.reserve(n);
  nlist.reserve(n);
  std::size_t generation = 0;

  auto class_match = [&](const Inst& in, std::uint32_t c) {
    const auto& ranges = classes_[static_cast<std::size_t>(in.x)];
    auto contains = [&](std::uint32_t x) {
      return std::any_of(ranges.begin(), ranges.end(),
                         [x](const Range& r) { return x >= r.lo && x <= r.hi; });
    };
    bool hit = contains(c);
    if (!hit && fold_case_ && c < 0x80) {
      std::uint32_t lower = fold(c);
      std::uint32_t upper = lower >= 'a' && lower <= 'z' ? lower - 32 : lower;
      hit = contains(lower) || contains(upper);
    }
    return hit != in.negated;
  };

  // Follows empty transitions from pc at position i; returns true on reaching Match.
  auto add = [&](std::vector<int>& list, int start, std::size_t i) {
    stack.clear();
    stack.push_back(start);
    while (!stack.empty()) {
      int pc = stack.back();
      stack.pop_back();
      auto upc = static_cast<std::size_t>(pc);
      if (mark[upc] == generation) {
        continue;
      }
      mark[upc] = generation;
      const Inst& in = prog_[upc];
      switch (in.op) {
        case Inst::kJmp:
          stack.push_back(in.x);
          break;
        case Inst::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Inst::kBegin:
          if (i == 0) {
            stack.push_back(pc + 1);
          }
          break;
        case Inst::kEnd:
          if (i == t.size()) {
            stack.push_back(pc + 1);
          }
          break;
        case Inst::kWordBoundary:
        case Inst::kNotWordBoundary: {
          bool before = i > 0 && is_word(t[i - 1]);
          bool after = i < t.size() && is_word(t[i]);
          if ((before != after) == (in.op == Inst::kWordBoundary)) {
            stack.push_back(pc + 1);
          }
          break;
        }
        case Inst::kMatch:
          return true;
        default:
          list.push_back(pc);
          break;
      }
    }
    return false;
  };

  for (std::size_t i = 0;; ++i) {
    // Unanchored search: a new thread starts at every position (same generation as the
    // threads carried over, so duplicates are dropped).
    if (add(clist, 0, i)) {
      return true;
    }
    if (i == t.size()) {
      return false;
    }
    ++generation;
    nlist.clear();
    std::uint32_t c = t[i];
    std::uint32_t cf = fold_case_ ? fold(c) : c;
    for (int pc : clist) {
      const Inst& in = prog_[static_cast<std::size_t>(pc)];
      bool ok = false;
      switch (in.op) {
        case Inst::kChar:
          ok = in.c == cf;
          break;
        case Inst::kAny:
          ok = true;
          break;
        case Inst::kAnyNotNl:
          ok = c != '\n';
          break;
        case Inst::kClass:
          ok = class_match(in, c);
          break;
        default:
          break;
      }
      if (ok && add(nlist, pc + 1, i + 1)) {
        return true;
      }
    }
    std::swap(clist, nlist);
  }
}

}  // namespace skiff::registry::detail
