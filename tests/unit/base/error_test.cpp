// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/error.hpp"

#include "skiff/base/log.hpp"
#include "skiff_test.hpp"

namespace {

skiff::Result<int> half(int n) {
  if (n % 2 != 0) {
    return skiff::errors::bad_request("odd");
  }
  return n / 2;
}

}  // namespace

TEST_CASE("a Result carries either a value or an Error with its reason", "[base]") {
  auto ok = half(4);
  REQUIRE(ok.has_value());
  CHECK(*ok == 2);
  auto bad = half(3);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().reason == skiff::Reason::kBadRequest);
  CHECK(bad.error().message == "odd");
  CHECK_THROWS_AS(bad.value(), skiff::Exception);
}

TEST_CASE("reason names use Kubernetes' StatusReason spelling", "[base]") {
  CHECK(skiff::reason_name(skiff::Reason::kNotFound) == "NotFound");
  CHECK(skiff::reason_name(skiff::Reason::kAlreadyExists) == "AlreadyExists");
  CHECK(skiff::reason_name(skiff::Reason::kTooLarge) == "RequestEntityTooLarge");
}

TEST_CASE("log levels parse from their flag spelling and reject others", "[base]") {
  skiff::log::Level level{};
  CHECK(skiff::log::parse_level("debug", level));
  CHECK(level == skiff::log::Level::kDebug);
  CHECK(skiff::log::parse_level("error", level));
  CHECK(level == skiff::log::Level::kError);
  CHECK_FALSE(skiff::log::parse_level("loud", level));
}
