// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/time.hpp"

#include <string>
#include <vector>

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): test literals

Timestamp ts(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int us = 0) {
  return std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(mo) /
                               std::chrono::day(d)) +
         std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s) +
         std::chrono::microseconds(us);
}

constexpr std::string_view kLayout = "\"2006-01-02T15:04:05Z07:00\"";
constexpr std::string_view kMicroLayout = "\"2006-01-02T15:04:05.000000Z07:00\"";

TEST_CASE("RFC 3339 output is UTC with Z, seconds or microseconds", "[api][time]") {
  CHECK(format_rfc3339(ts(2024, 5, 1, 12, 0, 0)) == "2024-05-01T12:00:00Z");
  CHECK(format_rfc3339(ts(2024, 5, 1, 12, 0, 0, 999999)) == "2024-05-01T12:00:00Z");  // truncated
  CHECK(format_rfc3339(ts(1970, 1, 1)) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(ts(1969, 12, 31, 23, 59, 59, 500000)) == "1969-12-31T23:59:59Z");
  CHECK(format_rfc3339(ts(1, 1, 1)) == "0001-01-01T00:00:00Z");
  CHECK(format_rfc3339(ts(2000, 2, 29, 23, 59, 59)) == "2000-02-29T23:59:59Z");
  CHECK(format_rfc3339_micro(ts(2024, 5, 1, 12, 0, 0, 123456)) == "2024-05-01T12:00:00.123456Z");
  CHECK(format_rfc3339_micro(ts(2024, 5, 1, 12, 0, 0)) == "2024-05-01T12:00:00.000000Z");
  CHECK(format_rfc3339_micro(ts(2024, 5, 1, 12, 0, 0, 7)) == "2024-05-01T12:00:00.000007Z");
  CHECK(format_go_time_string(ts(2024, 5, 1, 12, 0, 0)) == "2024-05-01 12:00:00 +0000 UTC");
  CHECK(format_go_time_string(ts(2024, 5, 1, 12, 0, 0, 120000)) ==
        "2024-05-01 12:00:00.12 +0000 UTC");
  CHECK(to_timestamp(std::chrono::system_clock::time_point(std::chrono::nanoseconds(1999))) ==
        Timestamp(std::chrono::microseconds(1)));
}

TEST_CASE("RFC 3339 input accepts offsets and fractions as Go's time.Parse", "[api][time]") {
  struct Case {
    const char* in;
    Timestamp want;
  };
  const std::vector<Case> cases = {
      {"2024-05-01T12:00:00Z", ts(2024, 5, 1, 12)},
      {"2024-05-01T14:30:00+02:30", ts(2024, 5, 1, 12)},
      {"2024-05-01T07:00:00-05:00", ts(2024, 5, 1, 12)},
      {"2024-05-01T00:30:00+01:00", ts(2024, 4, 30, 23, 30)},
      {"2024-05-01T12:00:00.5Z", ts(2024, 5, 1, 12, 0, 0, 500000)},
      {"2024-05-01T12:00:00,25Z", ts(2024, 5, 1, 12, 0, 0, 250000)},
      {"2024-05-01T12:00:00.123456789Z", ts(2024, 5, 1, 12, 0, 0, 123456)},
      {"2024-05-01T12:00:00.1234567891234Z", ts(2024, 5, 1, 12, 0, 0, 123456)},
      {"2024-05-01T1:00:00Z", ts(2024, 5, 1, 1)},  // Go's hour field takes one digit too
      {"2000-02-29T00:00:00Z", ts(2000, 2, 29)},
      {"0001-01-01T00:00:00Z", ts(1, 1, 1)},
      {"9999-12-31T23:59:59Z", ts(9999, 12, 31, 23, 59, 59)},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto t = parse_rfc3339(c.in);
    REQUIRE(t);
    CHECK(*t == c.want);
  }
  // Round trip.
  const Timestamp t = ts(2023, 11, 5, 8, 9, 10);
  CHECK(parse_rfc3339(format_rfc3339(t)).value() == t);
  const Timestamp tm = ts(2023, 11, 5, 8, 9, 10, 654321);
  CHECK(parse_rfc3339_micro(format_rfc3339_micro(tm)).value() == tm);
}

TEST_CASE("malformed RFC 3339 text gets Go's parse errors", "[api][time]") {
  struct Case {
    const char* in;
    std::string message;
  };
  const std::string p = "parsing time ";
  const std::vector<Case> cases = {
      {"", p + "\"\" as " + std::string(kLayout) + ": cannot parse \"\" as \"2006\""},
      {"x", p + "\"x\" as " + std::string(kLayout) + ": cannot parse \"x\" as \"2006\""},
      {"2024", p + "\"2024\" as " + std::string(kLayout) + ": cannot parse \"\" as \"-\""},
      {"2024-5-01T00:00:00Z", p + "\"2024-5-01T00:00:00Z\" as " + std::string(kLayout) +
                                  ": cannot parse \"5-01T00:00:00Z\" as \"01\""},
      {"2024-13-01T00:00:00Z", p + "\"2024-13-01T00:00:00Z\": month out of range"},
      {"2024-00-01T00:00:00Z", p + "\"2024-00-01T00:00:00Z\": month out of range"},
      {"2023-02-29T00:00:00Z", p + "\"2023-02-29T00:00:00Z\": day out of range"},
      {"2024-04-31T00:00:00Z", p + "\"2024-04-31T00:00:00Z\": day out of range"},
      {"2024-05-01T24:00:00Z", p + "\"2024-05-01T24:00:00Z\": hour out of range"},
      {"2024-05-01T00:60:00Z", p + "\"2024-05-01T00:60:00Z\": minute out of range"},
      {"2024-05-01T00:00:60Z", p + "\"2024-05-01T00:00:60Z\": second out of range"},
      {"2024-05-01 00:00:00Z", p + "\"2024-05-01 00:00:00Z\" as " + std::string(kLayout) +
                                   ": cannot parse \" 00:00:00Z\" as \"T\""},
      {"2024-05-01T00:00:00", p + "\"2024-05-01T00:00:00\" as " + std::string(kLayout) +
                                  ": cannot parse \"\" as \"Z07:00\""},
      {"2024-05-01T00:00:00z", p + "\"2024-05-01T00:00:00z\" as " + std::string(kLayout) +
                                   ": cannot parse \"z\" as \"Z07:00\""},
      {"2024-05-01T00:00:00+0100", p + "\"2024-05-01T00:00:00+0100\" as " + std::string(kLayout) +
                                       ": cannot parse \"+0100\" as \"Z07:00\""},
      {"2024-05-01T00:00:00+25:00",
       p + "\"2024-05-01T00:00:00+25:00\": time zone offset hour out of range"},
      {"2024-05-01T00:00:00Zjunk", p + "\"2024-05-01T00:00:00Zjunk\": extra text: \"junk\""},
      {"2024-05-01T00:00:00\xff", p + "\"2024-05-01T00:00:00\\xff\" as " + std::string(kLayout) +
                                      ": cannot parse \"\\xff\" as \"Z07:00\""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto t = parse_rfc3339(c.in);
    REQUIRE_FALSE(t);
    CHECK(t.error().reason == Reason::kBadRequest);
    CHECK(t.error().message == c.message);
  }
}

TEST_CASE("MicroTime needs exactly six fractional digits", "[api][time]") {
  auto ok = parse_rfc3339_micro("2024-05-01T12:00:00.000001+01:00");
  REQUIRE(ok);
  CHECK(*ok == ts(2024, 5, 1, 11, 0, 0, 1));
  const std::string p = "parsing time ";
  struct Case {
    const char* in;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"2024-05-01T12:00:00Z", p + "\"2024-05-01T12:00:00Z\" as " + std::string(kMicroLayout) +
                                   ": cannot parse \"Z\" as \".000000\""},
      {"2024-05-01T12:00:00.123Z", p + "\"2024-05-01T12:00:00.123Z\" as " +
                                       std::string(kMicroLayout) +
                                       ": cannot parse \".123Z\" as \".000000\""},
      {"2024-05-01T12:00:00.1234567Z", p + "\"2024-05-01T12:00:00.1234567Z\" as " +
                                           std::string(kMicroLayout) +
                                           ": cannot parse \"7Z\" as \"Z07:00\""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto t = parse_rfc3339_micro(c.in);
    REQUIRE_FALSE(t);
    CHECK(t.error().message == c.message);
  }
}

TEST_CASE("Go durations print like time.Duration.String()", "[api][time]") {
  struct Case {
    GoDuration d;
    const char* out;
  };
  const std::vector<Case> cases = {
      {0ns, "0s"},
      {1ns, "1ns"},
      {1100ns, "1.1\xC2\xB5s"},
      {2200us, "2.2ms"},
      {300ms, "300ms"},
      {1s, "1s"},
      {3500ms, "3.5s"},
      {60s, "1m0s"},
      {61s, "1m1s"},
      {1h, "1h0m0s"},
      {1h + 2min + 3500ms, "1h2m3.5s"},
      {-2s, "-2s"},
      {-1ns, "-1ns"},
      {4000h, "4000h0m0s"},
      {GoDuration(std::numeric_limits<std::int64_t>::max()), "2562047h47m16.854775807s"},
      {GoDuration(std::numeric_limits<std::int64_t>::min()), "-2562047h47m16.854775808s"},
  };
  for (const auto& c : cases) {
    INFO(c.out);
    CHECK(format_duration(c.d) == c.out);
  }
}

TEST_CASE("Go durations parse like time.ParseDuration", "[api][time]") {
  struct Case {
    const char* in;
    GoDuration want;
  };
  const std::vector<Case> cases = {
      {"0", 0ns},
      {"5s", 5s},
      {"30s", 30s},
      {"1478s", 1478s},
      {"-5s", -5s},
      {"+5s", 5s},
      {"-0", 0ns},
      {"+0", 0ns},
      {"5.0s", 5s},
      {"5.6s", 5600ms},
      {"5.s", 5s},
      {".5s", 500ms},
      {"1.0s", 1s},
      {"1.00s", 1s},
      {"1.004s", 1004ms},
      {"1.0040s", 1004ms},
      {"100.00100s", 100001ms},
      {"10ns", 10ns},
      {"11us", 11us},
      {"12\xC2\xB5s", 12us},
      {"12\xCE\xBCs", 12us},
      {"13ms", 13ms},
      {"14s", 14s},
      {"15m", 15min},
      {"16h", 16h},
      {"3h30m", 3h + 30min},
      {"10.5s4m", 4min + 10500ms},
      {"-2m3.4s", -(2min + 3400ms)},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"39h9m14.425s", 39h + 9min + 14425ms},
      {"52763797000ns", 52763797000ns},
      {"0.3333333333333333333h", 20min},
      {"9007199254740993ns", GoDuration(9007199254740993)},
      {"9223372036854775807ns", GoDuration(std::numeric_limits<std::int64_t>::max())},
      {"-9223372036854775808ns", GoDuration(std::numeric_limits<std::int64_t>::min())},
      {"0.100000000000000000000h", 6min},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto d = parse_duration(c.in);
    REQUIRE(d);
    CHECK(*d == c.want);
  }
  struct Bad {
    const char* in;
    const char* message;
  };
  const std::vector<Bad> bad = {
      {"", "time: invalid duration \"\""},
      {"3", "time: missing unit in duration \"3\""},
      {"-", "time: invalid duration \"-\""},
      {"s", "time: invalid duration \"s\""},
      {".", "time: invalid duration \".\""},
      {"-.", "time: invalid duration \"-.\""},
      {".s", "time: invalid duration \".s\""},
      {"+.s", "time: invalid duration \"+.s\""},
      {"1d", "time: unknown unit \"d\" in duration \"1d\""},
      {"1.5x2s", "time: unknown unit \"x\" in duration \"1.5x2s\""},
      {"\x85\x85", "time: invalid duration \"\\x85\\x85\""},
      {"\xff"
       "ff",
       "time: invalid duration \"\\xffff\""},
      {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
      {"9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\""},
      {"-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\""},
      {"3000000h", "time: invalid duration \"3000000h\""},
  };
  for (const auto& b : bad) {
    INFO(b.in);
    auto d = parse_duration(b.in);
    REQUIRE_FALSE(d);
    CHECK(d.error().message == b.message);
  }
  // Round trip of printed durations.
  for (const GoDuration d :
       {GoDuration(0), GoDuration(1h + 2min + 3500ms), GoDuration(1100ns), GoDuration(-90min)}) {
    CHECK(parse_duration(format_duration(d)).value() == d);
  }
}

TEST_CASE("human_duration matches kubectl's AGE column at every boundary", "[api][time]") {
  struct Case {
    GoDuration d;
    const char* want;
  };
  constexpr auto kDay = 24h;
  constexpr auto kYear = 365 * kDay;
  const std::vector<Case> cases = {
      // upstream TestHumanDuration
      {1s, "1s"},
      {70s, "70s"},
      {190s, "3m10s"},
      {70min, "70m"},
      {47h, "47h"},
      {49h, "2d1h"},
      {(8 * 24 + 2) * 1h, "8d"},
      {(367 * 24) * 1h, "367d"},
      {(365 * 2 * 24 + 25) * 1h, "2y1d"},
      {(365 * 8 * 24 + 2) * 1h, "8y"},
      // upstream TestHumanDurationBoundaries
      {-2s, "<invalid>"},
      {-2s + 1ns, "0s"},
      {0s, "0s"},
      {1s - 1ms, "0s"},
      {59s, "59s"},
      {2min - 1ms, "119s"},
      {2min, "2m"},
      {2min + 1s, "2m1s"},
      {5min + 10s, "5m10s"},
      {10min - 1ms, "9m59s"},
      {10min, "10m"},
      {10min + 1s, "10m"},
      {3h - 1ms, "179m"},
      {3h, "3h"},
      {3h + 1min, "3h1m"},
      {3h + 5min, "3h5m"},
      {8h - 1ms, "7h59m"},
      {8h, "8h"},
      {8h + 59min, "8h"},
      {2 * kDay - 1ms, "47h"},
      {2 * kDay, "2d"},
      {2 * kDay + 1h, "2d1h"},
      {2 * kDay + 3h, "2d3h"},
      {8 * kDay - 1ms, "7d23h"},
      {8 * kDay, "8d"},
      {8 * kDay + 23h, "8d"},
      {400 * kDay, "400d"},
      {2 * kYear - 1ms, "729d"},
      {2 * kYear, "2y"},
      {2 * kYear + 23h, "2y"},
      {2 * kYear + 23h + 59min, "2y"},
      {2 * kYear + kDay - 1ms, "2y"},
      {2 * kYear + kDay, "2y1d"},
      {3 * kYear, "3y"},
      {3 * kYear + 45 * kDay, "3y45d"},
      {7 * kYear, "7y"},
      {8 * kYear - 1ms, "7y364d"},
      {8 * kYear, "8y"},
      {8 * kYear + 364 * kDay, "8y"},
      {9 * kYear, "9y"},
  };
  for (const auto& c : cases) {
    INFO(c.want << " at " << c.d.count() << "ns");
    CHECK(human_duration(c.d) == c.want);
  }
}

TEST_CASE("short_human_duration keeps one unit", "[api][time]") {
  struct Case {
    GoDuration d;
    const char* want;
  };
  constexpr auto kDay = 24h;
  const std::vector<Case> cases = {
      {-2s, "<invalid>"},         {-2s + 1ns, "0s"},  {0s, "0s"},
      {1s - 1ms, "0s"},           {1s, "1s"},         {2s - 1ms, "1s"},
      {1min - 1ms, "59s"},        {1min, "1m"},       {2min - 1ms, "1m"},
      {1h - 1ms, "59m"},          {1h, "1h"},         {2h - 1ms, "1h"},
      {kDay - 1ms, "23h"},        {kDay, "1d"},       {2 * kDay - 1ms, "1d"},
      {365 * kDay - 1ms, "364d"}, {365 * kDay, "1y"}, {2 * 365 * kDay - 1ms, "1y"},
      {2 * 365 * kDay, "2y"},
  };
  for (const auto& c : cases) {
    INFO(c.want);
    CHECK(short_human_duration(c.d) == c.want);
  }
}

TEST_CASE("table timestamps show the age since the injected now", "[api][time]") {
  const Timestamp now = ts(2024, 5, 1, 12);
  CHECK(translate_timestamp_since(std::nullopt, now) == "<unknown>");
  CHECK(translate_timestamp_since(now, now) == "0s");
  CHECK(translate_timestamp_since(now - std::chrono::minutes(5) - std::chrono::seconds(10), now) ==
        "5m10s");
  CHECK(translate_timestamp_since(ts(2024, 4, 29, 9), now) == "2d3h");
  CHECK(translate_timestamp_since(now + std::chrono::seconds(1), now) == "0s");  // clock skew
  CHECK(translate_timestamp_since(now + std::chrono::seconds(5), now) == "<invalid>");
  // Go's zero time is "unset"; differences beyond time.Duration's range saturate (~292 years).
  CHECK(translate_timestamp_since(kGoZeroTime, now) == "<unknown>");
  CHECK(translate_timestamp_since(parse_rfc3339("0001-01-01T00:00:01Z").value(), now) == "292y");
  CHECK(translate_timestamp_since(ts(9999, 1, 1), now) == "<invalid>");
  CHECK(format_rfc3339(kGoZeroTime) == "0001-01-01T00:00:00Z");
}

}  // namespace
}  // namespace skiff::api
