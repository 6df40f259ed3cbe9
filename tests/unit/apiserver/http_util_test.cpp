// SPDX-License-Identifier: Apache-2.0
// The pure helpers of the HTTP core: target decoding, Accept-Encoding, gzip, Status bodies,
// Headers.
#include <zlib.h>

#include "http/gzip.hpp"
#include "http/types.hpp"
#include "http/url.hpp"
#include "skiff_test.hpp"

namespace http = skiff::apiserver::http;

TEST_CASE("request targets are split and decoded", "[apiserver][http]") {
  auto t = http::parse_target("/a%20b/c%2Fd?x=%41&y=1+2&&z");
  REQUIRE(t.has_value());
  REQUIRE(t->raw_path == "/a%20b/c%2Fd");
  REQUIRE(t->path == "/a b/c/d");
  using Q = std::vector<std::pair<std::string, std::string>>;
  REQUIRE(t->query == Q{{"x", "A"}, {"y", "1 2"}, {"z", ""}});

  auto abs = http::parse_target("https://example.com:6443/api?watch=1");
  REQUIRE(abs.has_value());
  REQUIRE(abs->path == "/api");
  REQUIRE(abs->query == Q{{"watch", "1"}});
  auto bare = http::parse_target("http://example.com");
  REQUIRE(bare.has_value());
  REQUIRE(bare->path == "/");
  REQUIRE(http::parse_target("*")->path == "*");

  // '+' is literal in the path.
  REQUIRE(http::parse_target("/a+b")->path == "/a+b");

  for (const char* bad : {"", "relative", "/%", "/%4", "/%zz", "/ok?x=%g0"}) {
    INFO(bad);
    auto r = http::parse_target(bad);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error().reason == skiff::Reason::kBadRequest);
  }
}

TEST_CASE("Accept-Encoding decides whether gzip is allowed", "[apiserver][http]") {
  REQUIRE(http::accepts_gzip("gzip"));
  REQUIRE(http::accepts_gzip("GZIP"));
  REQUIRE(http::accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
  REQUIRE(http::accepts_gzip("br, *"));
  REQUIRE(http::accepts_gzip("x-gzip"));
  REQUIRE_FALSE(http::accepts_gzip(""));
  REQUIRE_FALSE(http::accepts_gzip("identity"));
  REQUIRE_FALSE(http::accepts_gzip("gzip;q=0"));
  REQUIRE_FALSE(http::accepts_gzip("gzip; q=0.0, *"));  // explicitly refused beats the wildcard
  REQUIRE_FALSE(http::accepts_gzip("*;q=0"));
}

TEST_CASE("gzip_compress produces a gzip member that inflates back", "[apiserver][http]") {
  std::string data;
  for (int i = 0; i < 5000; ++i) {
    data += "line " + std::to_string(i) + "\n";
  }
  const auto gz = http::gzip_compress(data);
  REQUIRE(gz.size() < data.size());
  REQUIRE(static_cast<unsigned char>(gz[0]) == 0x1f);
  REQUIRE(static_cast<unsigned char>(gz[1]) == 0x8b);
  std::string out(data.size(), '\0');
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(inflate(&zs, Z_FINISH) == Z_STREAM_END);
  inflateEnd(&zs);
  REQUIRE(out == data);
  REQUIRE(http::gzip_compress("").size() > 0);
}

TEST_CASE("status_json builds a metav1.Status with an escaped message", "[apiserver][http]") {
  REQUIRE(http::status_json(413, "RequestEntityTooLarge", "the request is too large") ==
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
          R"("message":"the request is too large","reason":"RequestEntityTooLarge","code":413})");
  REQUIRE(http::status_json(500, "InternalError", "a \"quoted\"\nline\\\x01") ==
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
          R"("message":"a \"quoted\"\nline\\\u0001","reason":"InternalError","code":500})");
}

TEST_CASE("Headers keep order and repeats and compare names case-insensitively",
          "[apiserver][http]") {
  http::Headers h{{"Warning", "one"}, {"Content-Type", "text/plain"}};
  h.add("warning", "two");
  REQUIRE(h.get("WARNING") == std::optional<std::string_view>("one"));
  REQUIRE(h.get_all("Warning") == std::vector<std::string_view>{"one", "two"});
  REQUIRE(h.size() == 3);
  h.set("content-type", "application/json");
  REQUIRE(h.get_all("Content-Type") == std::vector<std::string_view>{"application/json"});
  REQUIRE(h.erase("warning") == 2);
  REQUIRE_FALSE(h.contains("Warning"));
  REQUIRE(http::iequals("Accept-Encoding", "accept-encoding"));
  REQUIRE_FALSE(http::iequals("Accept", "Accept-Encoding"));
}
