// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/quantity.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <ranges>

namespace skiff::api {
namespace {

__extension__ using I128 = __int128;
__extension__ using U128 = unsigned __int128;

constexpr std::size_t kMaxDigits = 38;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

constexpr U128 pow10u(std::size_t n) {
  U128 r = 1;
  for (std::size_t i = 0; i < n; ++i) {
    r *= 10;
  }
  return r;
}

constexpr U128 kTen38 = pow10u(kMaxDigits);

U128 magnitude(I128 v) {
  return v < 0 ? U128(0) - static_cast<U128>(v) : static_cast<U128>(v);
}

std::size_t digit_count(U128 v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

std::string to_decimal(U128 v) {
  if (v == 0) {
    return "0";
  }
  std::string out;
  while (v > 0) {
    out += static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

int count_trailing_zero_bits(U128 v) {
  const auto lo = static_cast<std::uint64_t>(v);
  if (lo != 0) {
    return __builtin_ctzll(lo);
  }
  return 64 + __builtin_ctzll(static_cast<std::uint64_t>(v >> 64));
}

// --- decimal digit strings (most significant first) for the exact slow paths ------------------

void strip_leading_zeros(std::string& d) {
  const auto i = d.find_first_not_of('0');
  if (i == std::string::npos) {
    d.clear();
  } else {
    d.erase(0, i);
  }
}

void strip_trailing_zeros(std::string& d, std::int64_t& exp) {
  while (!d.empty() && d.back() == '0') {
    d.pop_back();
    ++exp;
  }
}

void mul_small(std::string& d, unsigned m) {
  unsigned carry = 0;
  for (char& c : std::ranges::reverse_view(d)) {
    const unsigned v = static_cast<unsigned>(c - '0') * m + carry;
    c = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    d.insert(d.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

void div_small(std::string& d, unsigned m) {
  std::string out;
  unsigned rem = 0;
  for (const char c : d) {
    const unsigned cur = rem * 10 + static_cast<unsigned>(c - '0');
    out += static_cast<char>('0' + cur / m);
    rem = cur % m;
  }
  strip_leading_zeros(out);
  d = out.empty() ? "0" : out;
}

void increment(std::string& d) {
  for (char& c : std::ranges::reverse_view(d)) {
    if (c != '9') {
      ++c;
      return;
    }
    c = '0';
  }
  d.insert(d.begin(), '1');
}

enum class Rounding { kUp, kNearest };

// Drops the last k digits (exp grows by k): kUp rounds away from zero when anything non-zero is
// dropped (upstream's inf.RoundUp), kNearest rounds half away from zero.
void drop_digits(std::string& d, std::int64_t& exp, std::uint64_t k, Rounding mode) {
  if (k == 0) {
    return;
  }
  exp += static_cast<std::int64_t>(k);
  if (k > d.size()) {
    const bool nonzero = d.find_first_not_of('0') != std::string::npos;
    d = (mode == Rounding::kUp && nonzero) ? "1" : "";
    return;
  }
  const std::string_view dropped = std::string_view(d).substr(d.size() - k);
  const bool up = mode == Rounding::kUp ? dropped.find_first_not_of('0') != std::string_view::npos
                                        : dropped.front() >= '5';
  d.resize(d.size() - k);
  if (up) {
    increment(d);
  }
}

U128 digits_to_u128(std::string_view d) {
  U128 v = 0;
  for (const char c : d) {
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// Fits any digit string into at most 38 significant digits (rounding to nearest) and returns the
// signed mantissa; exp is adjusted.
I128 to_mantissa(std::string digits, std::int64_t& exp, bool negative) {
  strip_leading_zeros(digits);
  strip_trailing_zeros(digits, exp);
  if (digits.size() > kMaxDigits) {
    drop_digits(digits, exp, digits.size() - kMaxDigits, Rounding::kNearest);
    strip_trailing_zeros(digits, exp);
  }
  if (digits.empty()) {
    exp = 0;
    return 0;
  }
  const auto m = static_cast<I128>(digits_to_u128(digits));
  return negative ? -m : m;
}

// a - b for digit strings of equal length with a >= b.
std::string sub_strings(const std::string& a, const std::string& b) {
  std::string out(a.size(), '0');
  int borrow = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    const int v = (a[i] - '0') - (b[i] - '0') - borrow;
    borrow = v < 0 ? 1 : 0;
    out[i] = static_cast<char>('0' + (v + 10) % 10);
  }
  return out;
}

std::string add_strings(const std::string& a, const std::string& b) {
  std::string out(a.size(), '0');
  int carry = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    const int v = (a[i] - '0') + (b[i] - '0') + carry;
    carry = v / 10;
    out[i] = static_cast<char>('0' + v % 10);
  }
  if (carry > 0) {
    out.insert(out.begin(), '1');
  }
  return out;
}

Error format_error() {
  return errors::bad_request(
      "quantities must match the regular expression "
      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
}
Error suffix_error() {
  return errors::bad_request("unable to parse quantity's suffix");
}
Error numeric_error() {
  return errors::bad_request("unable to parse numeric part of quantity");
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_suffix_char(char c) {
  return std::string_view("eEinumkKMGTP").find(c) != std::string_view::npos;
}

// The pieces of upstream's parseQuantityString scanner.
struct Scanned {
  bool positive = true;
  std::string_view value;  ///< sign and number, as upstream passes to inf.Dec
  std::string_view num;    ///< integer digits without leading zeros ("0" when none)
  std::string_view denom;  ///< fraction digits
  std::string_view suffix;
};

bool scan(std::string_view str, Scanned& out) {
  std::size_t pos = 0;
  const std::size_t end = str.size();
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    out.positive = str[0] != '-';
    ++pos;
  }
  std::size_t i = pos;
  while (i < end && str[i] == '0') {
    ++i;
  }
  if (i >= end) {  // only zeros (or nothing) after the sign
    out.num = "0";
    out.value = "0";
    return true;
  }
  pos = i;
  while (i < end && is_digit(str[i])) {
    ++i;
  }
  out.num = str.substr(pos, i - pos);
  if (out.num.empty()) {
    out.num = "0";
  }
  if (i >= end) {
    out.value = str;
    return true;
  }
  pos = i;
  if (str[pos] == '.') {
    ++pos;
    i = pos;
    while (i < end && is_digit(str[i])) {
      ++i;
    }
    out.denom = str.substr(pos, i - pos);
    if (i >= end) {
      out.value = str;
      return true;
    }
    pos = i;
  }
  out.value = str.substr(0, pos);
  const std::size_t suffix_start = pos;
  i = pos;
  while (i < end && is_suffix_char(str[i])) {
    ++i;
  }
  if (i < end && (str[i] == '-' || str[i] == '+')) {
    ++i;
  }
  while (i < end && is_digit(str[i])) {
    ++i;
  }
  if (i < end) {
    return false;
  }
  out.suffix = str.substr(suffix_start);
  return true;
}

struct Suffix {
  int base = 10;
  std::int32_t exponent = 0;
  QuantityFormat format = QuantityFormat::kDecimalSI;
};

bool interpret(std::string_view s, Suffix& out) {
  static constexpr std::array<std::pair<std::string_view, std::int32_t>, 10> kDecimal = {
      {{"", 0},
       {"n", -9},
       {"u", -6},
       {"m", -3},
       {"k", 3},
       {"M", 6},
       {"G", 9},
       {"T", 12},
       {"P", 15},
       {"E", 18}}};
  static constexpr std::array<std::pair<std::string_view, std::int32_t>, 6> kBinary = {
      {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}}};
  for (const auto& [text, exp] : kDecimal) {
    if (s == text) {
      out = {10, exp, QuantityFormat::kDecimalSI};
      return true;
    }
  }
  for (const auto& [text, exp] : kBinary) {
    if (s == text) {
      out = {2, exp, QuantityFormat::kBinarySI};
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    // strconv.ParseInt(s[1:], 10, 64), then truncated to int32 as upstream does.
    std::string_view n = s.substr(1);
    const bool neg = n.front() == '-';
    if (n.front() == '+' || n.front() == '-') {
      n.remove_prefix(1);
    }
    if (n.empty() || !std::all_of(n.begin(), n.end(), is_digit)) {
      return false;
    }
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    const std::uint64_t limit = (std::uint64_t{1} << 63) - (neg ? 0 : 1);  // int64 range
    if (ec != std::errc() || ptr != n.data() + n.size() || v > limit) {
      return false;
    }
    const std::uint64_t bits = neg ? ~v + 1 : v;
    out = {10, static_cast<std::int32_t>(static_cast<std::uint32_t>(bits)),
           QuantityFormat::kDecimalExponent};
    return true;
  }
  return false;
}

}  // namespace

std::string_view quantity_format_name(QuantityFormat format) noexcept {
  switch (format) {
    case QuantityFormat::kDecimalExponent:
      return "DecimalExponent";
    case QuantityFormat::kBinarySI:
      return "BinarySI";
    case QuantityFormat::kDecimalSI:
      return "DecimalSI";
  }
  return "";
}

Quantity::Quantity(Mantissa mantissa, std::int64_t exponent, QuantityFormat format)
    : mantissa_(mantissa), exponent_(exponent), format_(format) {
  normalize();
}

void Quantity::normalize() noexcept {
  if (mantissa_ == 0) {
    exponent_ = 0;
    return;
  }
  while (mantissa_ % 10 == 0) {
    mantissa_ /= 10;
    ++exponent_;
  }
}

Result<Quantity> Quantity::parse(std::string_view text) {
  if (text.empty()) {
    return format_error();
  }
  if (text == "0") {
    Quantity q;
    q.text_ = "0";
    return q;
  }
  Scanned s;
  if (!scan(text, s)) {
    return format_error();
  }
  Suffix suffix;
  if (!interpret(s.suffix, suffix)) {
    return suffix_error();
  }

  // Whether upstream takes its int64 fast path and keeps the text as the canonical string.
  const auto nlen = static_cast<std::int64_t>(s.num.size());
  const auto dlen = static_cast<std::int64_t>(s.denom.size());
  std::string shifted(s.num);
  shifted += s.denom;
  bool fast = false;
  bool keep_text = false;
  if (suffix.format == QuantityFormat::kBinarySI) {
    const std::int64_t precision =
        (suffix.exponent >= 0 && dlen == 0) ? 15 - nlen - (suffix.exponent * 3 / 10) - 1 : -1;
    fast = precision >= 0;
    if (fast) {
      const std::uint64_t v = digits_to_u128(shifted) & 0xFFFFFFFFFFFFFFFFULL;
      keep_text = suffix.exponent % 10 == 0 && (v & 0x07) != 0;
    }
  } else {
    const std::int64_t precision = 18 - (nlen + dlen);
    // int32 arithmetic, as upstream.
    const auto scale = static_cast<std::int32_t>(static_cast<std::uint32_t>(suffix.exponent) -
                                                 static_cast<std::uint32_t>(dlen));
    fast = precision >= 0 && scale >= -9;
    keep_text = fast && scale % 3 == 0 &&
                !(shifted.size() >= 3 && shifted.compare(shifted.size() - 3, 3, "000") == 0) &&
                shifted[0] != '0';
  }
  if (!fast && std::none_of(s.value.begin(), s.value.end(), is_digit)) {
    return numeric_error();  // inf.Dec rejects a number without digits
  }

  // The exact value: digits * 10^exp (times 2^exponent for binary suffixes).
  std::string digits = shifted;
  strip_leading_zeros(digits);
  std::int64_t exp = -dlen;
  if (suffix.base == 10) {
    exp += suffix.exponent;
  } else {
    for (std::int32_t k = 0; k < suffix.exponent / 10 && !digits.empty(); ++k) {
      mul_small(digits, 1024);
    }
  }
  if (!digits.empty() && exp < -9) {
    drop_digits(digits, exp, static_cast<std::uint64_t>(-9 - exp), Rounding::kUp);  // up to nano
  }
  QuantityFormat format = suffix.format;
  I128 mantissa = to_mantissa(std::move(digits), exp, false);
  if (format == QuantityFormat::kBinarySI && mantissa != 0) {
    // Cap at 2^63-1, and values below one print as DecimalSI.
    const auto m = static_cast<U128>(mantissa);
    bool above_max = false;
    if (exp >= 0) {
      above_max = digit_count(m) + static_cast<std::size_t>(exp) > 19 ||
                  m * pow10u(static_cast<std::size_t>(exp)) > static_cast<U128>(kInt64Max);
    } else if (exp > -20) {
      above_max = m > static_cast<U128>(kInt64Max) * pow10u(static_cast<std::size_t>(-exp));
    }
    if (above_max) {
      mantissa = kInt64Max;
      exp = 0;
    } else if (exp < 0 && static_cast<std::int64_t>(digit_count(m)) + exp <= 0) {
      format = QuantityFormat::kDecimalSI;
    }
  }
  Quantity q(s.positive ? mantissa : -mantissa, exp, format);
  if (keep_text) {
    q.text_ = std::string(text);
  }
  return q;
}

Result<Quantity> Quantity::from_json(const json::Value& value) {
  switch (value.type()) {
    case json::Type::kNull:
      return Quantity();
    case json::Type::kString: {
      std::string_view s = value.as_string();
      const auto blank = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
      };
      while (!s.empty() && blank(s.front())) {
        s.remove_prefix(1);
      }
      while (!s.empty() && blank(s.back())) {
        s.remove_suffix(1);
      }
      return parse(s);
    }
    case json::Type::kInt:
      return parse(std::to_string(value.as_int()));
    case json::Type::kDouble: {
      std::array<char, 64> buf{};
      auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value.as_double());
      if (ec != std::errc()) {
        return format_error();
      }
      return parse(std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())));
    }
    default:
      return format_error();
  }
}

Quantity Quantity::from_int(std::int64_t value, QuantityFormat format) {
  return {value, 0, format};
}

Quantity Quantity::from_milli(std::int64_t value, QuantityFormat format) {
  return {value, -3, format};
}

Quantity Quantity::from_scaled(std::int64_t value, std::int32_t scale, QuantityFormat format) {
  return {value, scale, format};
}

void Quantity::set_format(QuantityFormat format) {
  format_ = format;
  text_.clear();
}

std::int64_t Quantity::scaled_value(std::int32_t scale) const noexcept {
  if (mantissa_ == 0) {
    return 0;
  }
  const bool neg = mantissa_ < 0;
  const U128 mag = magnitude(mantissa_);
  const std::int64_t shift = exponent_ - scale;
  U128 result = 0;
  bool saturated = false;
  if (shift >= 0) {
    if (digit_count(mag) + static_cast<std::uint64_t>(shift) > 20) {
      saturated = true;
    } else {
      result = mag * pow10u(static_cast<std::size_t>(shift));
    }
  } else {
    const auto k = static_cast<std::uint64_t>(-shift);
    if (k > kMaxDigits) {
      result = 1;  // a non-zero fraction rounds away from zero to one
    } else {
      const U128 divisor = pow10u(static_cast<std::size_t>(k));
      result = mag / divisor + (mag % divisor != 0 ? 1 : 0);
    }
  }
  const U128 limit = neg ? (U128(1) << 63) : static_cast<U128>(kInt64Max);
  if (saturated || result > limit) {
    return neg ? std::numeric_limits<std::int64_t>::min() : kInt64Max;
  }
  return neg ? static_cast<std::int64_t>(U128(0) - result) : static_cast<std::int64_t>(result);
}

std::optional<std::int64_t> Quantity::as_int64() const noexcept {
  if (mantissa_ == 0) {
    return 0;
  }
  if (exponent_ < 0 || exponent_ > 19) {
    return std::nullopt;
  }
  const std::int64_t v = scaled_value(0);
  if ((v == kInt64Max || v == std::numeric_limits<std::int64_t>::min()) &&
      compare(from_int(v)) != 0) {
    return std::nullopt;
  }
  return v;
}

double Quantity::as_approximate_double() const noexcept {
  return static_cast<double>(mantissa_) * std::pow(10.0, static_cast<double>(exponent_));
}

int Quantity::compare(const Quantity& other) const noexcept {
  const int sa = sign();
  const int sb = other.sign();
  if (sa != sb) {
    return sa < sb ? -1 : 1;
  }
  if (sa == 0) {
    return 0;
  }
  const U128 ma = magnitude(mantissa_);
  const U128 mb = magnitude(other.mantissa_);
  const std::int64_t msd_a = exponent_ + static_cast<std::int64_t>(digit_count(ma));
  const std::int64_t msd_b = other.exponent_ + static_cast<std::int64_t>(digit_count(mb));
  int mag_cmp = 0;
  if (msd_a != msd_b) {
    mag_cmp = msd_a < msd_b ? -1 : 1;
  } else {
    // Same leading position: the exponents differ by less than 38, so aligning fits.
    U128 a = ma;
    U128 b = mb;
    if (exponent_ > other.exponent_) {
      a *= pow10u(static_cast<std::size_t>(exponent_ - other.exponent_));
    } else {
      b *= pow10u(static_cast<std::size_t>(other.exponent_ - exponent_));
    }
    mag_cmp = a == b ? 0 : (a < b ? -1 : 1);
  }
  return sa > 0 ? mag_cmp : -mag_cmp;
}

void Quantity::add_signed(const Quantity& other, bool subtract) {
  text_.clear();
  if (mantissa_ == 0) {
    format_ = other.format_;
  }
  if (other.mantissa_ == 0) {
    return;
  }
  const I128 b = subtract ? -other.mantissa_ : other.mantissa_;
  if (mantissa_ == 0) {
    mantissa_ = b;
    exponent_ = other.exponent_;
    return;
  }
  const std::int64_t lo = std::min(exponent_, other.exponent_);
  const U128 ma = magnitude(mantissa_);
  const U128 mb = magnitude(b);
  const std::int64_t shift_a = exponent_ - lo;
  const std::int64_t shift_b = other.exponent_ - lo;
  // Fast path: both operands aligned stay below 10^38 and so does the sum.
  if (static_cast<std::int64_t>(digit_count(ma)) + shift_a <=
          static_cast<std::int64_t>(kMaxDigits) &&
      static_cast<std::int64_t>(digit_count(mb)) + shift_b <=
          static_cast<std::int64_t>(kMaxDigits)) {
    const I128 a1 = mantissa_ * static_cast<I128>(pow10u(static_cast<std::size_t>(shift_a)));
    const I128 b1 = b * static_cast<I128>(pow10u(static_cast<std::size_t>(shift_b)));
    I128 sum = 0;
    if (!__builtin_add_overflow(a1, b1, &sum) && magnitude(sum) < kTen38) {
      mantissa_ = sum;
      exponent_ = lo;
      normalize();
      return;
    }
  }
  // Slow path: exact decimal strings, then rounded to 38 digits. An operand far below the other's
  // last representable digit cannot change the rounded result.
  const std::int64_t msd_a = exponent_ + static_cast<std::int64_t>(digit_count(ma));
  const std::int64_t msd_b = other.exponent_ + static_cast<std::int64_t>(digit_count(mb));
  if (msd_b < msd_a - 40) {
    return;
  }
  if (msd_a < msd_b - 40) {
    mantissa_ = b;
    exponent_ = other.exponent_;
    return;
  }
  std::string da = to_decimal(ma) + std::string(static_cast<std::size_t>(shift_a), '0');
  std::string db = to_decimal(mb) + std::string(static_cast<std::size_t>(shift_b), '0');
  const std::size_t width = std::max(da.size(), db.size());
  da.insert(0, width - da.size(), '0');
  db.insert(0, width - db.size(), '0');
  const bool neg_a = mantissa_ < 0;
  const bool neg_b = b < 0;
  std::string result;
  bool negative = false;
  if (neg_a == neg_b) {
    result = add_strings(da, db);
    negative = neg_a;
  } else if (da >= db) {
    result = sub_strings(da, db);
    negative = neg_a;
  } else {
    result = sub_strings(db, da);
    negative = neg_b;
  }
  std::int64_t exp = lo;
  mantissa_ = to_mantissa(std::move(result), exp, negative);
  exponent_ = exp;
  normalize();
}

Quantity& Quantity::operator+=(const Quantity& other) {
  add_signed(other, false);
  return *this;
}

Quantity& Quantity::operator-=(const Quantity& other) {
  add_signed(other, true);
  return *this;
}

Quantity Quantity::operator-() const {
  Quantity q = *this;
  q.mantissa_ = -q.mantissa_;
  q.text_.clear();
  return q;
}

std::string Quantity::to_string() const {
  return text_.empty() ? canonical_string() : text_;
}

std::string Quantity::canonical_string() const {
  if (mantissa_ == 0) {
    return "0";
  }
  const U128 mag = magnitude(mantissa_);
  const std::string sign = mantissa_ < 0 ? "-" : "";
  QuantityFormat format = format_;
  if (format == QuantityFormat::kBinarySI) {
    const bool small = compare(from_int(1024)) < 0 && compare(from_int(-1024)) > 0;
    if (small || exponent_ < 0) {
      format = QuantityFormat::kDecimalSI;  // below 1Ki or fractional: no rounding, DecimalSI
    } else {
      // value = mag * 10^e; its factors of 1024 give the suffix.
      const std::int64_t twos = count_trailing_zero_bits(mag) + exponent_;
      const std::int64_t k = twos / 10;
      if (k <= 6) {  // then e < 70: the integer has at most 108 digits
        static constexpr std::array<std::string_view, 7> kSuffix = {"",   "Ki", "Mi", "Gi",
                                                                    "Ti", "Pi", "Ei"};
        std::string digits =
            to_decimal(mag) + std::string(static_cast<std::size_t>(exponent_), '0');
        for (std::int64_t i = 0; i < k; ++i) {
          div_small(digits, 1024);
        }
        return sign + digits + std::string(kSuffix[static_cast<std::size_t>(k)]);
      }
      format = QuantityFormat::kDecimalSI;  // beyond Ei (upstream would drop the suffix)
    }
  }
  // The exponent goes down to a multiple of three; the mantissa takes the zeros.
  std::int64_t e = exponent_;
  const std::int64_t r = ((e % 3) + 3) % 3;
  e -= r;
  const std::string digits = to_decimal(mag) + std::string(static_cast<std::size_t>(r), '0');
  if (format == QuantityFormat::kDecimalExponent) {
    return e == 0 ? sign + digits : sign + digits + "e" + std::to_string(e);
  }
  static constexpr std::array<std::string_view, 10> kDecimalSuffix = {"n", "u", "m", "",  "k",
                                                                      "M", "G", "T", "P", "E"};
  if (e >= -9 && e <= 18) {
    return sign + digits + std::string(kDecimalSuffix[static_cast<std::size_t>((e + 9) / 3)]);
  }
  return sign + digits + "e" + std::to_string(e);  // no SI suffix (upstream would drop it)
}

}  // namespace skiff::api
