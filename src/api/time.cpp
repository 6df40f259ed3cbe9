// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/time.hpp"

#include <array>
#include <cstdio>
#include <limits>
#include <vector>

namespace skiff::api {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr std::string_view kLayoutRfc3339 = "2006-01-02T15:04:05Z07:00";
constexpr std::string_view kLayoutRfc3339Micro = "2006-01-02T15:04:05.000000Z07:00";

// The time package's own quote(): bytes outside printable ASCII become \xNN, '"' and '\' are
// escaped. (Different from strconv.Quote, and used in every time error message.)
std::string time_quote(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c < 0x20) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += ch;
    }
  }
  out += '"';
  return out;
}

bool digit_at(std::string_view s, std::size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Go's getnum: one or two digits (exactly two when fixed).
bool getnum(std::string_view& s, bool fixed, int& out) {
  if (!digit_at(s, 0)) {
    return false;
  }
  if (!digit_at(s, 1)) {
    if (fixed) {
      return false;
    }
    out = s[0] - '0';
    s.remove_prefix(1);
    return true;
  }
  out = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return true;
}

// Go's time-package atoi: optional sign, then only digits.
bool go_atoi(std::string_view s, std::int64_t& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return false;
  }
  std::int64_t x = 0;
  for (const char c : s) {
    if (c < '0' || c > '9' || x > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
      return false;
    }
    x = x * 10 + (c - '0');
  }
  out = neg ? -x : x;
  return true;
}

// Go's parseNanoseconds over value[0:nbytes] (value[0] is the separator).
bool parse_nanoseconds(std::string_view value, std::size_t nbytes, std::int64_t& ns,
                       bool& range_error) {
  if (value.empty() || (value[0] != '.' && value[0] != ',')) {
    return false;
  }
  if (nbytes > 10) {
    nbytes = 10;
  }
  if (!go_atoi(value.substr(1, nbytes - 1), ns)) {
    return false;
  }
  if (ns < 0) {
    range_error = true;
    return true;
  }
  for (std::size_t i = nbytes; i < 10; ++i) {
    ns *= 10;
  }
  return true;
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in(int month, std::int64_t year) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap(year)) {
    return 29;
  }
  return kDays[static_cast<std::size_t>(month - 1)];
}

// One step of the layout: a literal separator or a Go std chunk.
enum class Elem { kLiteral, kYear, kMonth, kDay, kHour, kMinute, kSecond, kFrac6, kZone };
struct Step {
  Elem elem;
  std::string_view text;
};

constexpr std::array<Step, 12> kStepsRfc3339 = {{{Elem::kYear, "2006"},
                                                 {Elem::kLiteral, "-"},
                                                 {Elem::kMonth, "01"},
                                                 {Elem::kLiteral, "-"},
                                                 {Elem::kDay, "02"},
                                                 {Elem::kLiteral, "T"},
                                                 {Elem::kHour, "15"},
                                                 {Elem::kLiteral, ":"},
                                                 {Elem::kMinute, "04"},
                                                 {Elem::kLiteral, ":"},
                                                 {Elem::kSecond, "05"},
                                                 {Elem::kZone, "Z07:00"}}};
constexpr std::array<Step, 13> kStepsRfc3339Micro = {{{Elem::kYear, "2006"},
                                                      {Elem::kLiteral, "-"},
                                                      {Elem::kMonth, "01"},
                                                      {Elem::kLiteral, "-"},
                                                      {Elem::kDay, "02"},
                                                      {Elem::kLiteral, "T"},
                                                      {Elem::kHour, "15"},
                                                      {Elem::kLiteral, ":"},
                                                      {Elem::kMinute, "04"},
                                                      {Elem::kLiteral, ":"},
                                                      {Elem::kSecond, "05"},
                                                      {Elem::kFrac6, ".000000"},
                                                      {Elem::kZone, "Z07:00"}}};

// Go's time.Parse for the two layouts above, with its error texts.
template <std::size_t N>
Result<Timestamp> go_parse(std::string_view text, std::string_view layout,
                           const std::array<Step, N>& steps) {
  const auto cannot_parse = [&](std::string_view value_elem, std::string_view layout_elem) {
    return errors::bad_request("parsing time " + time_quote(text) + " as " + time_quote(layout) +
                               ": cannot parse " + time_quote(value_elem) + " as " +
                               time_quote(layout_elem));
  };
  const auto out_of_range = [&](std::string_view what) {
    return errors::bad_request("parsing time " + time_quote(text) + ": " + std::string(what) +
                               " out of range");
  };
  std::string_view value = text;
  std::int64_t year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::int64_t nsec = 0;
  std::int64_t zone_offset = 0;
  const bool layout_has_fraction = N == kStepsRfc3339Micro.size();
  for (const Step& step : steps) {
    const std::string_view hold = value;
    bool ok = true;
    std::string_view range;
    switch (step.elem) {
      case Elem::kLiteral:
        if (value.empty() || value[0] != step.text[0]) {
          return cannot_parse(value, step.text);
        }
        value.remove_prefix(1);
        continue;
      case Elem::kYear:
        if (value.size() < 4 || !digit_at(value, 0)) {
          ok = false;
          break;
        }
        ok = go_atoi(value.substr(0, 4), year);
        value.remove_prefix(4);
        break;
      case Elem::kMonth:
        ok = getnum(value, true, month);
        if (ok && (month <= 0 || month > 12)) {
          range = "month";
        }
        break;
      case Elem::kDay:
        ok = getnum(value, true, day);
        break;
      case Elem::kHour:
        ok = getnum(value, false, hour);
        if (ok && hour >= 24) {
          range = "hour";
        }
        break;
      case Elem::kMinute:
        ok = getnum(value, true, minute);
        if (ok && minute >= 60) {
          range = "minute";
        }
        break;
      case Elem::kSecond: {
        ok = getnum(value, true, second);
        if (!ok) {
          break;
        }
        if (second >= 60) {
          range = "second";
          break;
        }
        // A fraction the layout does not mention is still accepted after the seconds.
        if (!layout_has_fraction && value.size() >= 2 && (value[0] == '.' || value[0] == ',') &&
            digit_at(value, 1)) {
          std::size_t n = 2;
          while (digit_at(value, n)) {
            ++n;
          }
          bool range_error = false;
          ok = parse_nanoseconds(value, n, nsec, range_error);
          if (range_error) {
            range = "fractional second";
          }
          value.remove_prefix(n);
        }
        break;
      }
      case Elem::kFrac6: {
        constexpr std::size_t kDigits = 7;  // separator + six digits, exactly
        if (value.size() < kDigits) {
          ok = false;
          break;
        }
        bool range_error = false;
        ok = parse_nanoseconds(value, kDigits, nsec, range_error);
        if (range_error) {
          range = "fractional second";
        }
        value.remove_prefix(kDigits);
        break;
      }
      case Elem::kZone: {
        if (!value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          break;
        }
        if (value.size() < 6 || value[3] != ':') {
          ok = false;
          break;
        }
        std::string_view hh = value.substr(1, 2);
        std::string_view mm = value.substr(4, 2);
        const char sign = value[0];
        value.remove_prefix(6);
        int zh = 0;
        int zm = 0;
        ok = getnum(hh, true, zh) && getnum(mm, true, zm);
        if (zh > 24) {
          range = "time zone offset hour";
        }
        if (zm > 60) {
          range = "time zone offset minute";
        }
        zone_offset = (static_cast<std::int64_t>(zh) * 60 + zm) * 60;
        if (sign == '-') {
          zone_offset = -zone_offset;
        } else if (sign != '+') {
          ok = false;
        }
        break;
      }
    }
    if (!range.empty()) {
      return out_of_range(range);
    }
    if (!ok) {
      return cannot_parse(hold, step.text);
    }
  }
  if (!value.empty()) {
    return errors::bad_request("parsing time " + time_quote(text) +
                               ": extra text: " + time_quote(value));
  }
  if (day < 1 || day > days_in(month, year)) {
    return errors::bad_request("parsing time " + time_quote(text) + ": day out of range");
  }
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(year)),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  const auto date = std::chrono::sys_days(ymd);
  Timestamp t = std::chrono::time_point_cast<microseconds>(date) + std::chrono::hours(hour) +
                std::chrono::minutes(minute) + seconds(second) + microseconds(nsec / 1000) -
                seconds(zone_offset);
  return t;
}

void append_2(std::string& out, unsigned v) {
  out += static_cast<char>('0' + (v / 10) % 10);
  out += static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DD", "HH:MM:SS" pieces of a UTC instant; returns the sub-second microseconds.
std::int64_t civil(Timestamp t, std::string& date, std::string& clock) {
  const auto day_point = floor<days>(t);
  const std::chrono::year_month_day ymd{day_point};
  const std::chrono::hh_mm_ss<microseconds> hms{t - day_point};
  std::array<char, 16> buf{};
  const int y = static_cast<int>(ymd.year());
  std::snprintf(buf.data(), buf.size(), y < 0 ? "%05d" : "%04d", y);
  date = buf.data();
  date += '-';
  append_2(date, static_cast<unsigned>(ymd.month()));
  date += '-';
  append_2(date, static_cast<unsigned>(ymd.day()));
  append_2(clock, static_cast<unsigned>(hms.hours().count()));
  clock += ':';
  append_2(clock, static_cast<unsigned>(hms.minutes().count()));
  clock += ':';
  append_2(clock, static_cast<unsigned>(hms.seconds().count()));
  return hms.subseconds().count();
}

// Go's fmtFrac: the fraction of v / 10^prec without trailing zeros (nothing when zero); v becomes
// the integer part.
void fmt_frac(std::string& out_reversed, std::uint64_t& v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    const auto digit = static_cast<char>(v % 10);
    print = print || digit != 0;
    if (print) {
      out_reversed += static_cast<char>('0' + digit);
    }
    v /= 10;
  }
  if (print) {
    out_reversed += '.';
  }
}

void fmt_int(std::string& out_reversed, std::uint64_t v) {
  if (v == 0) {
    out_reversed += '0';
    return;
  }
  while (v > 0) {
    out_reversed += static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

std::string format_rfc3339(Timestamp t) {
  std::string date;
  std::string clock;
  civil(t, date, clock);
  return date + "T" + clock + "Z";
}

std::string format_rfc3339_micro(Timestamp t) {
  std::string date;
  std::string clock;
  const std::int64_t micros = civil(t, date, clock);
  std::array<char, 16> frac{};
  std::snprintf(frac.data(), frac.size(), ".%06lld", static_cast<long long>(micros));
  return date + "T" + clock + frac.data() + "Z";
}

std::string format_go_time_string(Timestamp t) {
  std::string date;
  std::string clock;
  const std::int64_t micros = civil(t, date, clock);
  std::string out = date + " " + clock;
  if (micros != 0) {
    std::array<char, 16> frac{};
    std::snprintf(frac.data(), frac.size(), ".%06lld", static_cast<long long>(micros));
    std::string f = frac.data();
    while (f.back() == '0') {
      f.pop_back();
    }
    out += f;
  }
  return out + " +0000 UTC";
}

Result<Timestamp> parse_rfc3339(std::string_view text) {
  return go_parse(text, kLayoutRfc3339, kStepsRfc3339);
}

Result<Timestamp> parse_rfc3339_micro(std::string_view text) {
  return go_parse(text, kLayoutRfc3339Micro, kStepsRfc3339Micro);
}

std::string format_duration(GoDuration d) {
  const std::int64_t count = d.count();
  auto u = static_cast<std::uint64_t>(count);
  const bool neg = count < 0;
  if (neg) {
    u = ~u + 1;  // two's complement magnitude, also right for the minimum value
  }
  std::string r;  // built back to front, as Go does
  constexpr std::uint64_t kSecond = 1000000000;
  if (u < kSecond) {
    if (u == 0) {
      return "0s";
    }
    int prec = 0;
    r += 's';
    if (u < 1000) {
      prec = 0;
      r += 'n';
    } else if (u < 1000000) {
      prec = 3;
      r += "\xB5\xC2";  // "µ" (U+00B5) reversed
    } else {
      prec = 6;
      r += 'm';
    }
    fmt_frac(r, u, prec);
    fmt_int(r, u);
  } else {
    r += 's';
    fmt_frac(r, u, 9);
    fmt_int(r, u % 60);
    u /= 60;
    if (u > 0) {
      r += 'm';
      fmt_int(r, u % 60);
      u /= 60;
      if (u > 0) {
        r += 'h';
        fmt_int(r, u);
      }
    }
  }
  if (neg) {
    r += '-';
  }
  return {r.rbegin(), r.rend()};
}

Result<GoDuration> parse_duration(std::string_view text) {
  const std::string_view orig = text;
  const auto invalid = [&] {
    return errors::bad_request("time: invalid duration " + time_quote(orig));
  };
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return GoDuration(0);
  }
  if (s.empty()) {
    return invalid();
  }
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) {
      return invalid();
    }
    // [0-9]*
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (v > kLimit / 10) {
        return invalid();
      }
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (v > kLimit) {
        return invalid();
      }
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // (\.[0-9]*)?
    std::uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      std::size_t j = 0;
      for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
        if (overflow) {
          continue;
        }
        if (f > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        const std::uint64_t y = f * 10 + static_cast<std::uint64_t>(s[j] - '0');
        if (y > kLimit) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) {
      return invalid();
    }
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) {
      ++u;
    }
    if (u == 0) {
      return errors::bad_request("time: missing unit in duration " + time_quote(orig));
    }
    const std::string_view unit_text = s.substr(0, u);
    s.remove_prefix(u);
    std::uint64_t unit = 0;
    if (unit_text == "ns") {
      unit = 1;
    } else if (unit_text == "us" || unit_text == "\xC2\xB5s" || unit_text == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_text == "ms") {
      unit = 1000000;
    } else if (unit_text == "s") {
      unit = 1000000000;
    } else if (unit_text == "m") {
      unit = 60ULL * 1000000000;
    } else if (unit_text == "h") {
      unit = 3600ULL * 1000000000;
    } else {
      return errors::bad_request("time: unknown unit " + time_quote(unit_text) + " in duration " +
                                 time_quote(orig));
    }
    if (v > kLimit / unit) {
      return invalid();
    }
    v *= unit;
    if (f > 0) {
      // Go computes the fraction in float64 (nanosecond-accurate for any fraction of an hour).
      v += static_cast<std::uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kLimit) {
        return invalid();
      }
    }
    total += v;
    if (total > kLimit) {
      return invalid();
    }
  }
  if (neg) {
    return GoDuration(static_cast<std::int64_t>(~total + 1));
  }
  if (total > kLimit - 1) {
    return invalid();
  }
  return GoDuration(static_cast<std::int64_t>(total));
}

std::string human_duration(GoDuration d) {
  const std::int64_t secs = d.count() / 1000000000;  // truncation toward zero, as int(d.Seconds())
  if (secs < -1) {
    return "<invalid>";
  }
  if (secs < 0) {
    return "0s";
  }
  if (secs < std::int64_t{60} * 2) {
    return std::to_string(secs) + "s";
  }
  const std::int64_t minutes = secs / 60;
  if (minutes < 10) {
    const std::int64_t s = secs % 60;
    if (s == 0) {
      return std::to_string(minutes) + "m";
    }
    return std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < std::int64_t{60} * 3) {
    return std::to_string(minutes) + "m";
  }
  const std::int64_t hours = secs / 3600;
  if (hours < 8) {
    const std::int64_t m = minutes % 60;
    if (m == 0) {
      return std::to_string(hours) + "h";
    }
    return std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) {
    return std::to_string(hours) + "h";
  }
  if (hours < std::int64_t{24} * 8) {
    const std::int64_t h = hours % 24;
    if (h == 0) {
      return std::to_string(hours / 24) + "d";
    }
    return std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < std::int64_t{24} * 365 * 2) {
    return std::to_string(hours / 24) + "d";
  }
  if (hours < std::int64_t{24} * 365 * 8) {
    const std::int64_t dy = (hours / 24) % 365;
    if (dy == 0) {
      return std::to_string(hours / 24 / 365) + "y";
    }
    return std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string short_human_duration(GoDuration d) {
  const std::int64_t secs = d.count() / 1000000000;
  if (secs < -1) {
    return "<invalid>";
  }
  if (secs < 0) {
    return "0s";
  }
  if (secs < 60) {
    return std::to_string(secs) + "s";
  }
  const std::int64_t minutes = secs / 60;
  if (minutes < 60) {
    return std::to_string(minutes) + "m";
  }
  const std::int64_t hours = secs / 3600;
  if (hours < 24) {
    return std::to_string(hours) + "h";
  }
  if (hours < std::int64_t{24} * 365) {
    return std::to_string(hours / 24) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string translate_timestamp_since(std::optional<Timestamp> t, Timestamp now) {
  if (!t || *t == kGoZeroTime) {
    return "<unknown>";
  }
  const microseconds diff = now - *t;  // int64 microseconds cover every RFC 3339 year
  constexpr std::int64_t kMaxMicros = std::numeric_limits<std::int64_t>::max() / 1000;
  if (diff.count() > kMaxMicros) {
    return human_duration(GoDuration::max());
  }
  if (diff.count() < -kMaxMicros) {
    return human_duration(GoDuration::min());
  }
  return human_duration(std::chrono::duration_cast<nanoseconds>(diff));
}

}  // namespace skiff::api
