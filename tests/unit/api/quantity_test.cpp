// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/quantity.hpp"

#include <random>
#include <string>
#include <vector>

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

using F = QuantityFormat;

Quantity must_parse(std::string_view text) {
  auto q = Quantity::parse(text);
  INFO("parsing " << text);
  REQUIRE(q);
  return *q;
}

constexpr std::string_view kFormatError =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// Input -> exact value (mantissa * 10^exponent) and format family, from upstream's
// TestQuantityParse table.
struct ParseCase {
  const char* input;
  std::int64_t mantissa;
  std::int32_t exponent;
  F format;
};

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

const std::vector<ParseCase> kParseCases = {
    {"0", 0, 0, F::kDecimalSI},
    {"0n", 0, 0, F::kDecimalSI},
    {"0u", 0, 0, F::kDecimalSI},
    {"0m", 0, 0, F::kDecimalSI},
    {"0Ki", 0, 0, F::kBinarySI},
    {"0k", 0, 0, F::kDecimalSI},
    {"0Mi", 0, 0, F::kBinarySI},
    {"0M", 0, 0, F::kDecimalSI},
    {"0Gi", 0, 0, F::kBinarySI},
    {"0G", 0, 0, F::kDecimalSI},
    {"0Ti", 0, 0, F::kBinarySI},
    {"0T", 0, 0, F::kDecimalSI},
    {"1", 1, 0, F::kDecimalSI},
    {"1Ki", 1024, 0, F::kBinarySI},
    {"8Ki", 8LL * 1024, 0, F::kBinarySI},
    {"7Mi", 7LL * 1024 * 1024, 0, F::kBinarySI},
    {"6Gi", 6LL * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"5Ti", 5LL * 1024 * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"4Pi", 4LL * 1024 * 1024 * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"3Ei", 3LL * 1024 * 1024 * 1024 * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"10Ti", 10LL * 1024 * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"100Ti", 100LL * 1024 * 1024 * 1024 * 1024, 0, F::kBinarySI},
    {"5n", 5, -9, F::kDecimalSI},
    {"4u", 4, -6, F::kDecimalSI},
    {"3m", 3, -3, F::kDecimalSI},
    {"9", 9, 0, F::kDecimalSI},
    {"8k", 8, 3, F::kDecimalSI},
    {"50k", 5, 4, F::kDecimalSI},
    {"7M", 7, 6, F::kDecimalSI},
    {"6G", 6, 9, F::kDecimalSI},
    {"5T", 5, 12, F::kDecimalSI},
    {"40T", 4, 13, F::kDecimalSI},
    {"300T", 3, 14, F::kDecimalSI},
    {"2P", 2, 15, F::kDecimalSI},
    {"1E", 1, 18, F::kDecimalSI},
    {"1E-3", 1, -3, F::kDecimalExponent},
    {"1e3", 1, 3, F::kDecimalExponent},
    {"1E6", 1, 6, F::kDecimalExponent},
    {"1e9", 1, 9, F::kDecimalExponent},
    {"1E12", 1, 12, F::kDecimalExponent},
    {"1e15", 1, 15, F::kDecimalExponent},
    {"1E18", 1, 18, F::kDecimalExponent},
    {"1e14", 1, 14, F::kDecimalExponent},
    {"1e13", 1, 13, F::kDecimalExponent},
    {"100.035k", 100035, 0, F::kDecimalSI},
    {"0.001", 1, -3, F::kDecimalSI},
    {"0.0005k", 5, -1, F::kDecimalSI},
    {"0.005", 5, -3, F::kDecimalSI},
    {"0.05", 5, -2, F::kDecimalSI},
    {"0.5", 5, -1, F::kDecimalSI},
    {"0.00050k", 5, -1, F::kDecimalSI},
    {"0.00500", 5, -3, F::kDecimalSI},
    {"0.05000", 5, -2, F::kDecimalSI},
    {"0.50000", 5, -1, F::kDecimalSI},
    {"0.5e0", 5, -1, F::kDecimalExponent},
    {"0.5e-1", 5, -2, F::kDecimalExponent},
    {"0.5e-2", 5, -3, F::kDecimalExponent},
    {"10.035M", 10035, 3, F::kDecimalSI},
    {"1.2e3", 12, 2, F::kDecimalExponent},
    {"1.3E+6", 13, 5, F::kDecimalExponent},
    {"1.40e9", 14, 8, F::kDecimalExponent},
    {"1.53E12", 153, 10, F::kDecimalExponent},
    {"1.6e15", 16, 14, F::kDecimalExponent},
    {"1.7E18", 17, 17, F::kDecimalExponent},
    {"9.01", 901, -2, F::kDecimalSI},
    {"8.1k", 81, 2, F::kDecimalSI},
    {"7.123456M", 7123456, 0, F::kDecimalSI},
    {"6.987654321G", 6987654321, 0, F::kDecimalSI},
    {"5.444T", 5444, 9, F::kDecimalSI},
    {"40.1T", 401, 11, F::kDecimalSI},
    {"300.2T", 3002, 11, F::kDecimalSI},
    {"2.5P", 25, 14, F::kDecimalSI},
    {"1.01E", 101, 16, F::kDecimalSI},
    // things that saturate or round
    {"3.001n", 4, -9, F::kDecimalSI},
    {"1.1E-9", 2, -9, F::kDecimalExponent},
    {"0.0000000001", 1, -9, F::kDecimalSI},
    {"0.0000000005", 1, -9, F::kDecimalSI},
    {"0.00000000050", 1, -9, F::kDecimalSI},
    {"0.5e-9", 1, -9, F::kDecimalExponent},
    {"0.9n", 1, -9, F::kDecimalSI},
    {"0.00000012345", 124, -9, F::kDecimalSI},
    {"0.00000012354", 124, -9, F::kDecimalSI},
    {"9Ei", kMaxInt64, 0, F::kBinarySI},
    {"9223372036854775807Ki", kMaxInt64, 0, F::kBinarySI},
    {"12E", 12, 18, F::kDecimalSI},
    // fractional binary values
    {"100.035Ki", 10243584, -2, F::kBinarySI},
    {"0.5Mi", 512LL * 1024, 0, F::kBinarySI},
    {"0.05Gi", 536870912, -1, F::kBinarySI},
    {"0.025Ti", 274877906944, -1, F::kBinarySI},
    // things written by trolls
    {"0.000000000001Ki", 2, -9, F::kDecimalSI},  // rounds up, changes format
    {".001", 1, -3, F::kDecimalSI},
    {".0001k", 100, -3, F::kDecimalSI},
    {"1.", 1, 0, F::kDecimalSI},
    {"1.G", 1, 9, F::kDecimalSI},
};

TEST_CASE("quantities parse to upstream's exact values and formats", "[api][quantity]") {
  for (const auto& c : kParseCases) {
    INFO(c.input);
    const Quantity want = Quantity::from_scaled(c.mantissa, c.exponent, c.format);
    const Quantity got = must_parse(c.input);
    CHECK(got.compare(want) == 0);
    CHECK(got.format() == c.format);
    // The negative and explicitly positive spellings parse to the negation and the same value.
    const Quantity neg = must_parse(std::string("-") + c.input);
    CHECK(neg.compare(-want) == 0);
    CHECK(neg.format() == c.format);
    const Quantity pos = must_parse(std::string("+") + c.input);
    CHECK(pos.compare(want) == 0);
    CHECK(pos.format() == c.format);
  }
}

TEST_CASE("malformed quantities are rejected with upstream's messages", "[api][quantity]") {
  struct Bad {
    const char* input;
    std::string_view message;
  };
  const std::vector<Bad> cases = {
      {"", kFormatError},
      {"1.1.M", kFormatError},
      {"1+1.0M", kFormatError},
      {"0.1am", kFormatError},
      {"aoeu", kFormatError},
      {" 1", kFormatError},
      {"1 ", kFormatError},
      {"1Gi ", kFormatError},
      {"--1", "unable to parse quantity's suffix"},  // upstream scans "-1" as the suffix
      {"1e3.5", kFormatError},
      {"1,5", kFormatError},
      {"0.1mi", "unable to parse quantity's suffix"},
      {".5i", "unable to parse quantity's suffix"},
      {"1i", "unable to parse quantity's suffix"},
      {"-3.01i", "unable to parse quantity's suffix"},
      {"-3.01e-", "unable to parse quantity's suffix"},
      {"1e", "unable to parse quantity's suffix"},
      {"1KiB", kFormatError},
      {"1kk", "unable to parse quantity's suffix"},
      {"1e99999999999999999999", "unable to parse quantity's suffix"},
      {".e-20", "unable to parse numeric part of quantity"},
      {"-e-20", "unable to parse numeric part of quantity"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    auto q = Quantity::parse(c.input);
    REQUIRE_FALSE(q);
    CHECK(q.error().reason == Reason::kBadRequest);
    CHECK(q.error().message == c.message);
  }
}

TEST_CASE("odd but accepted quantity spellings parse as upstream does", "[api][quantity]") {
  // Upstream's scanner accepts a bare sign, a bare point and a bare suffix as zero.
  for (const char* zero : {"-", "+", ".", "-.", "Ki", "m", "00", "-0", "0.0", "e3"}) {
    INFO(zero);
    CHECK(must_parse(zero).is_zero());
    CHECK(must_parse(zero).to_string() == "0");
  }
}

// Canonical forms: upstream's TestQuantityString (value, format -> text) plus the alternate
// spellings that must print the same, and TestQuantityParseEmit.
TEST_CASE("quantities print in upstream's canonical form", "[api][quantity]") {
  struct Case {
    Quantity in;
    const char* expect;
    const char* alternate;
  };
  const std::vector<Case> cases = {
      {Quantity::from_scaled(1024LL * 1024 * 1024, 0, F::kBinarySI), "1Gi", "1024Mi"},
      {Quantity::from_scaled(300LL * 1024 * 1024, 0, F::kBinarySI), "300Mi", "307200Ki"},
      {Quantity::from_scaled(6LL * 1024, 0, F::kBinarySI), "6Ki", ""},
      {Quantity::from_scaled(1001LL * 1024 * 1024 * 1024, 0, F::kBinarySI), "1001Gi", "1025024Mi"},
      {Quantity::from_scaled(1024LL * 1024 * 1024 * 1024, 0, F::kBinarySI), "1Ti", "1024Gi"},
      {Quantity::from_scaled(5, 0, F::kBinarySI), "5", "5000m"},
      {Quantity::from_scaled(500, -3, F::kBinarySI), "500m", "0.5"},
      {Quantity::from_scaled(1, 9, F::kDecimalSI), "1G", "1000M"},
      {Quantity::from_scaled(1000, 6, F::kDecimalSI), "1G", "0.001T"},
      {Quantity::from_scaled(1000000, 3, F::kDecimalSI), "1G", ""},
      {Quantity::from_scaled(1000000000, 0, F::kDecimalSI), "1G", ""},
      {Quantity::from_scaled(1, -3, F::kDecimalSI), "1m", "1000u"},
      {Quantity::from_scaled(80, -3, F::kDecimalSI), "80m", ""},
      {Quantity::from_scaled(1080, -3, F::kDecimalSI), "1080m", "1.08"},
      {Quantity::from_scaled(108, -2, F::kDecimalSI), "1080m", "1080000000n"},
      {Quantity::from_scaled(10800, -4, F::kDecimalSI), "1080m", ""},
      {Quantity::from_scaled(300, 6, F::kDecimalSI), "300M", ""},
      {Quantity::from_scaled(1, 12, F::kDecimalSI), "1T", ""},
      {Quantity::from_scaled(1234567, 6, F::kDecimalSI), "1234567M", ""},
      {Quantity::from_scaled(1234567, -3, F::kBinarySI), "1234567m", ""},
      {Quantity::from_scaled(3, 3, F::kDecimalSI), "3k", ""},
      {Quantity::from_scaled(1025, 0, F::kBinarySI), "1025", ""},
      {Quantity::from_scaled(0, 0, F::kDecimalSI), "0", ""},
      {Quantity::from_scaled(0, 0, F::kBinarySI), "0", ""},
      {Quantity::from_scaled(1, 9, F::kDecimalExponent), "1e9", ".001e12"},
      {Quantity::from_scaled(1, -3, F::kDecimalExponent), "1e-3", "0.001e0"},
      {Quantity::from_scaled(1, -9, F::kDecimalExponent), "1e-9", "1000e-12"},
      {Quantity::from_scaled(80, -3, F::kDecimalExponent), "80e-3", ""},
      {Quantity::from_scaled(300, 6, F::kDecimalExponent), "300e6", ""},
      {Quantity::from_scaled(1, 12, F::kDecimalExponent), "1e12", ""},
      {Quantity::from_scaled(1, 3, F::kDecimalExponent), "1e3", ""},
      {Quantity::from_scaled(3, 3, F::kDecimalExponent), "3e3", ""},
      {Quantity::from_scaled(0, 0, F::kDecimalExponent), "0", "00"},
      {Quantity::from_scaled(1, -9, F::kDecimalSI), "1n", ""},
      {Quantity::from_scaled(80, -9, F::kDecimalSI), "80n", ""},
      {Quantity::from_scaled(1080, -9, F::kDecimalSI), "1080n", ""},
      {Quantity::from_scaled(108, -8, F::kDecimalSI), "1080n", ""},
      {Quantity::from_scaled(10800, -10, F::kDecimalSI), "1080n", ""},
      {Quantity::from_scaled(1, -6, F::kDecimalSI), "1u", ""},
      {Quantity::from_scaled(80, -6, F::kDecimalSI), "80u", ""},
      {Quantity::from_scaled(1080, -6, F::kDecimalSI), "1080u", ""},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    CHECK(c.in.to_string() == c.expect);
    // The canonical text parses back to itself, kept verbatim.
    CHECK(must_parse(c.expect).to_string() == c.expect);
    if (std::string_view(c.alternate).empty()) {
      continue;
    }
    INFO("alternate " << c.alternate);
    CHECK(must_parse(c.alternate).to_string() == c.expect);
    if (!c.in.is_zero()) {
      CHECK((-c.in).to_string() == std::string("-") + c.expect);
    }
  }
}

TEST_CASE("parsed quantities are re-emitted canonically", "[api][quantity]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::vector<Case> cases = {
      // upstream's TestQuantityParseEmit
      {"1Ki", "1Ki"},
      {"1Mi", "1Mi"},
      {"1Gi", "1Gi"},
      {"1024Mi", "1Gi"},
      {"1000M", "1G"},
      {".001Ki", "1024m"},
      {".000001Ki", "1024u"},
      {".000000001Ki", "1024n"},
      {".000000000001Ki", "2n"},
      // the forms the API server stores for common requests
      {"1000m", "1"},
      {"1500m", "1500m"},
      {"1.5", "1500m"},
      {"0.1", "100m"},
      {"0.5", "500m"},
      {"1.0", "1"},
      {"1.50", "1500m"},
      {"2.000", "2"},
      {"1000", "1k"},
      {"10000", "10k"},
      {"1024", "1024"},
      {"1000k", "1M"},
      {"1000000n", "1m"},
      {"1500000n", "1500u"},
      {"0.5m", "500u"},
      {"0.0001m", "100n"},
      {"0.00001m", "10n"},
      {"0.000000001m", "1n"},
      {"0.1n", "1n"},
      {"1.5Gi", "1536Mi"},
      {"-1.5Gi", "-1536Mi"},
      {"0.5Gi", "512Mi"},
      {"2048Ki", "2Mi"},
      {"1536Ki", "1536Ki"},
      {"1000Mi", "1000Mi"},
      {"1024Ki", "1Mi"},
      {"1048576Ki", "1Gi"},
      {"1Pi", "1Pi"},
      {"1024Pi", "1Ei"},
      {"8Ei", "9223372036854775807"},
      {"16Ei", "9223372036854775807"},
      {"0.5Ki", "512"},
      {"1.5Ki", "1536"},
      {"100.035Ki", "102435840m"},
      {"1.1Ki", "1126400m"},
      {"1.01E", "1010P"},
      {"1.5e3", "1500"},
      {"1.5E3", "1500"},
      {"1e4", "10e3"},
      {"1e-4", "100e-6"},
      {"120e5", "12e6"},
      {"0e3", "0"},
      {"1E-10", "1e-9"},
      {"99999999999999999999", "99999999999999999999"},
      {"1234567890123456789012", "1234567890123456789012"},
      {"123456789012345678901234567890k", "123456789012345678901234567890k"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(must_parse(c.in).to_string() == c.out);
  }
}

TEST_CASE("a parsed text already in canonical form is kept verbatim, as upstream",
          "[api][quantity]") {
  struct Case {
    const char* in;
    const char* canonical;  // what a modification (or set_format) prints instead
  };
  const std::vector<Case> cases = {
      {"100m", "100m"},     {"1Gi", "1Gi"},         {"1e3", "1e3"},     {"1E3", "1e3"},
      {"12e6", "12e6"},     {"1e-3", "1e-3"},       {"1e0", "1"},       {"1e+3", "1e3"},
      {"+1", "1"},          {"+1Ki", "1Ki"},        {"01", "1"},        {"007m", "7m"},
      {"1.500", "1500m"},   {"1.230", "1230m"},     {"1.500k", "1500"}, {"-5", "-5"},
      {"1025Ki", "1025Ki"}, {"100.035k", "100035"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    const Quantity q = must_parse(c.in);
    CHECK(q.to_string() == c.in);
    CHECK(q.canonical_string() == c.canonical);
    CHECK(q.to_json() == json::Value(c.in));
    // Any arithmetic forgets the text, as upstream clears its cached string.
    Quantity copy = q;
    copy += Quantity();
    CHECK(copy.to_string() == c.canonical);
  }
}

TEST_CASE("quantity format changes re-print the value", "[api][quantity]") {
  Quantity q = must_parse("1Gi");
  q.set_format(F::kDecimalSI);
  CHECK(q.to_string() == "1073741824");
  q.set_format(F::kDecimalExponent);
  CHECK(q.to_string() == "1073741824");
  Quantity k = must_parse("1k");
  k.set_format(F::kBinarySI);
  CHECK(k.to_string() == "1k");  // below 1024: printed as DecimalSI
  k.set_format(F::kDecimalExponent);
  CHECK(k.to_string() == "1e3");
}

TEST_CASE("quantity value and milli_value round away from zero", "[api][quantity]") {
  struct Case {
    const char* in;
    std::int64_t value;
    std::int64_t milli;
  };
  const std::vector<Case> cases = {
      {"0", 0, 0},
      {"1", 1, 1000},
      {"100m", 1, 100},
      {"1.1", 2, 1100},
      {"-1.1", -2, -1100},
      {"0.1m", 1, 1},
      {"1n", 1, 1},
      {"-1n", -1, -1},
      {"1.5", 2, 1500},
      {"1Gi", 1073741824, 1073741824000},
      {"1.5Gi", 1610612736, 1610612736000},
      {"500u", 1, 1},
      {"2k", 2000, 2000000},
      {"1e3", 1000, 1000000},
      {"9223372036854775807", kMaxInt64, kMaxInt64},  // milli saturates
      {"100E", kMaxInt64, kMaxInt64},
      {"-100E", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::min()},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    const Quantity q = must_parse(c.in);
    CHECK(q.value() == c.value);
    CHECK(q.milli_value() == c.milli);
  }
}

TEST_CASE("scaled_value converts between decimal scales", "[api][quantity]") {
  // upstream's TestScaledValue: NewScaledQuantity(1, from).ScaledValue(to)
  struct Case {
    std::int32_t from;
    std::int32_t to;
    std::int64_t expected;
  };
  const std::vector<Case> cases = {
      {-9, -9, 1}, {-9, -6, 1},    {-9, -3, 1},         {-9, 0, 1},        {-6, -9, 1000},
      {-6, -6, 1}, {-6, -3, 1},    {-6, 0, 1},          {-3, -9, 1000000}, {-3, -6, 1000},
      {-3, -3, 1}, {-3, 0, 1},     {0, -9, 1000000000}, {0, -6, 1000000},  {0, -3, 1000},
      {0, 0, 1},   {2, -2, 10000},
  };
  for (const auto& c : cases) {
    INFO(c.from << " -> " << c.to);
    CHECK(Quantity::from_scaled(1, c.from).scaled_value(c.to) == c.expected);
  }
}

TEST_CASE("constructed quantities print like upstream's NewQuantity family", "[api][quantity]") {
  CHECK(Quantity::from_milli(1, F::kDecimalSI).to_string() == "1m");
  CHECK(Quantity::from_milli(1000, F::kDecimalSI).to_string() == "1");
  CHECK(Quantity::from_milli(1234000, F::kDecimalSI).to_string() == "1234");
  CHECK(Quantity::from_milli(1024, F::kBinarySI).to_string() == "1024m");
  CHECK(Quantity::from_milli(1000000, F::kDecimalExponent).to_string() == "1e3");
  CHECK(Quantity::from_milli(1024LL * 1024, F::kBinarySI).to_string() == "1048576m");
  CHECK(Quantity::from_int(1).to_string() == "1");
  CHECK(Quantity::from_int(1000).to_string() == "1k");
  CHECK(Quantity::from_int(1234000).to_string() == "1234k");
  CHECK(Quantity::from_int(1024, F::kBinarySI).to_string() == "1Ki");
  CHECK(Quantity::from_int(1000000, F::kDecimalExponent).to_string() == "1e6");
  CHECK(Quantity::from_int(1024LL * 1024, F::kBinarySI).to_string() == "1Mi");
  const std::vector<std::tuple<std::int64_t, std::int32_t, const char*>> scaled = {
      {1, -9, "1n"}, {1000, -9, "1u"}, {1, -6, "1u"}, {1000, -6, "1m"},
      {1, -3, "1m"}, {1000, -3, "1"},  {1, 0, "1"},   {0, -9, "0"},
      {0, -6, "0"},  {0, -3, "0"},     {0, 0, "0"},
  };
  for (const auto& [v, scale, text] : scaled) {
    INFO(text);
    const Quantity q = Quantity::from_scaled(v, scale);
    CHECK(q.to_string() == text);
    CHECK(must_parse(text).scaled_value(scale) == v);
  }
}

TEST_CASE("quantities compare by value across formats and scales", "[api][quantity]") {
  CHECK(must_parse("0").compare(must_parse("0")) == 0);
  CHECK(must_parse("100m").compare(must_parse("50m")) == 1);
  CHECK(must_parse("50m").compare(must_parse("100m")) == -1);
  CHECK(must_parse("10000T").compare(must_parse("100Gi")) == 1);
  CHECK(must_parse("1Ki") == must_parse("1024"));
  CHECK(must_parse("1k") < must_parse("1Ki"));
  CHECK(must_parse("-1") < must_parse("0"));
  CHECK(must_parse("1e3") == must_parse("1k"));
  // upstream's TestQuantityCmpInt64AndDec
  struct Case {
    std::int64_t av;
    std::int32_t as;
    std::int64_t bv;
    std::int32_t bs;
    int cmp;
  };
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const std::int64_t e18 = 1000000000000000000;
  const std::vector<Case> cases = {
      {901, -2, 901, -2, 0},      {90, -1, 901, -2, -1},
      {901, -2, 900, -2, 1},      {0, 0, 0, 0, 0},
      {0, 1, 0, -1, 0},           {0, -1, 0, 1, 0},
      {800, -3, 1, 0, -1},        {800, -3, 79, -2, 1},
      {kMaxInt64, 0, 1, -1, 1},   {kMaxInt64, 1, 1, 0, 1},
      {kMaxInt64, 1, 1, 1, 1},    {kMaxInt64, 1, 0, 1, 1},
      {kMaxInt64, -16, 1, 3, -1}, {min, 0, 0, 0, -1},
      {min, -18, -1, 0, -1},      {min, -19, -1, 0, 1},
      {e18, -17, 1, 1, 0},        {e18, -17, -10, 0, 1},
      {-e18, -17, -10, 0, 0},     {e18, -17, 1, 0, 1},
      {e18 + 1, -17, 1, 1, 1},    {e18 - 1, -17, 1, 1, -1},
  };
  for (const auto& c : cases) {
    INFO(c.av << "e" << c.as << " vs " << c.bv << "e" << c.bs);
    const Quantity a = Quantity::from_scaled(c.av, c.as);
    const Quantity b = Quantity::from_scaled(c.bv, c.bs);
    CHECK(a.compare(b) == c.cmp);
    CHECK(b.compare(a) == -c.cmp);
  }
}

TEST_CASE("quantity arithmetic is exact and keeps the format", "[api][quantity]") {
  SECTION("upstream's Add and Sub tables") {
    CHECK((Quantity::from_int(10) + Quantity::from_scaled(1, 1)).compare(Quantity::from_int(20)) ==
          0);
    Quantity a = Quantity::from_int(10);
    a += Quantity::from_int(1, F::kBinarySI);
    CHECK(a == Quantity::from_int(11));
    CHECK(a.format() == F::kDecimalSI);
    Quantity b = Quantity::from_int(10, F::kBinarySI);
    b += Quantity::from_int(1);
    CHECK(b.format() == F::kBinarySI);
    CHECK((Quantity::from_int(10) - Quantity::from_scaled(1, 1)).is_zero());
    CHECK((Quantity() - Quantity::from_int(50)) == Quantity::from_int(-50));
    CHECK((Quantity::from_int(50) - Quantity()) == Quantity::from_int(50));
  }
  SECTION("adding to or from zero keeps the suffix") {
    for (const char* text : {"100m", "1Gi"}) {
      INFO(text);
      const Quantity v = must_parse(text);
      CHECK((v + Quantity()).to_string() == text);
      CHECK((Quantity() + v).to_string() == text);
      CHECK((v - Quantity()).to_string() == text);
      CHECK((Quantity() - v).to_string() == (-v).to_string());
    }
  }
  SECTION("decimal fractions add exactly") {
    CHECK(must_parse("0.1") + must_parse("0.2") == must_parse("0.3"));
    CHECK((must_parse("100m") + must_parse("900m")).to_string() == "1");
    CHECK((must_parse("1Gi") + must_parse("512Mi")).to_string() == "1536Mi");
    CHECK((must_parse("1Gi") - must_parse("1Mi")).to_string() == "1023Mi");
    CHECK((must_parse("250m") + must_parse("250m") + must_parse("500m")).to_string() == "1");
    CHECK((must_parse("1Mi") + must_parse("1n")).to_string() == "1048576000000001n");
  }
  SECTION("random additions and subtractions cancel, within and across scales") {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> dist(0, kMaxInt64);
    for (std::int32_t k = -10; k <= 10; ++k) {
      Quantity q;
      std::vector<std::int64_t> order;
      for (int i = 0; i < 100; ++i) {
        order.push_back(dist(rng));
        q += Quantity::from_scaled(order.back(), k);
      }
      for (const auto v : order) {
        q -= Quantity::from_scaled(v, k);
      }
      CHECK(q.is_zero());
    }
    // Upstream spreads scales over -10..9 (inf.Dec is unbounded); the exact sums here need at most
    // 38 digits, so the scales span -5..4 (19 digits + 9 + carries).
    Quantity q;
    std::vector<std::int64_t> order;
    for (int i = 0; i < 100; ++i) {
      order.push_back(dist(rng));
      q += Quantity::from_scaled(order.back(), static_cast<std::int32_t>(order.back() % 10 - 5));
    }
    for (const auto v : order) {
      q -= Quantity::from_scaled(v, static_cast<std::int32_t>(v % 10 - 5));
    }
    CHECK(q.is_zero());
  }
  SECTION("double negation is the identity") {
    for (const auto& c : kParseCases) {
      const Quantity q = must_parse(c.input);
      CHECK(-(-q) == q);
    }
  }
  SECTION("beyond 38 significant digits results round to nearest (documented approximation)") {
    const Quantity big = must_parse("1e100");
    const Quantity one = must_parse("1");
    CHECK((big + one) == big);
    CHECK((big + one - one) == big);
    CHECK(must_parse("1234567890123456789012345678901234567890").to_string() ==
          "1234567890123456789012345678901234567900");
    // Exact while the result fits: 38 nines.
    const Quantity nines = must_parse("1e38") - one;
    CHECK(nines.to_string() == "99999999999999999999999999999999999999");
  }
}

TEST_CASE("quantity printing keeps the value where upstream would drop the suffix",
          "[api][quantity]") {
  // Upstream prints these as "1" and "100" (the suffix lookup fails); Skiff keeps the value.
  CHECK(must_parse("1000E").to_string() == "1e21");
  CHECK(Quantity::from_scaled(1, -10).to_string() == "100e-12");
  Quantity two_to_70 = Quantity::from_int(0, F::kBinarySI);
  for (int i = 0; i < 256; ++i) {
    two_to_70 += must_parse("4Ei");  // 2^62 each
  }
  CHECK(two_to_70.format() == F::kBinarySI);
  CHECK(two_to_70.to_string() == "1180591620717411303424");  // upstream: "1" (no suffix past Ei)
  CHECK((must_parse("512Ei") + must_parse("512Ei")).to_string() == "18446744073709551614");
}

TEST_CASE("quantities decode from JSON strings, numbers and null", "[api][quantity]") {
  struct Case {
    json::Value in;
    const char* out;
  };
  const std::vector<Case> cases = {
      {json::Value(" 1"), "1"},      {json::Value("1 "), "1"},    {json::Value(1), "1"},
      {json::Value(10), "10"},       {json::Value(-1), "-1"},     {json::Value(0.5), "500m"},
      {json::Value(1e-05), "10e-6"}, {json::Value(nullptr), "0"}, {json::Value("\t2Gi\n"), "2Gi"},
  };
  for (const auto& c : cases) {
    INFO(json::serialize(c.in));
    auto q = Quantity::from_json(c.in);
    REQUIRE(q);
    CHECK(q->to_string() == c.out);
  }
  for (const json::Value& bad : {json::Value(true), json::Value::array(), json::Value("abc")}) {
    auto q = Quantity::from_json(bad);
    REQUIRE_FALSE(q);
    CHECK(q.error().message == kFormatError);
  }
}

TEST_CASE("quantity helpers: as_int64, approximate double, format names", "[api][quantity]") {
  CHECK(must_parse("1Gi").as_int64() == std::optional<std::int64_t>(1073741824));
  CHECK(must_parse("1000m").as_int64() == std::optional<std::int64_t>(1));
  CHECK_FALSE(must_parse("1500m").as_int64().has_value());
  CHECK_FALSE(must_parse("100E").as_int64().has_value());
  CHECK(must_parse("9223372036854775807").as_int64() == std::optional<std::int64_t>(kMaxInt64));
  CHECK(must_parse("2Ki").as_approximate_double() == 2048.0);
  CHECK(must_parse("1.1Ki").as_approximate_double() == Approx(1126.4));
  CHECK(must_parse("1Mi").as_approximate_double() == 1048576.0);
  CHECK(quantity_format_name(F::kBinarySI) == "BinarySI");
  CHECK(quantity_format_name(F::kDecimalSI) == "DecimalSI");
  CHECK(quantity_format_name(F::kDecimalExponent) == "DecimalExponent");
}

}  // namespace
}  // namespace skiff::api
