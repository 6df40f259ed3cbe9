// SPDX-License-Identifier: Apache-2.0
// The pure helpers of the HTTP core: target decoding, Accept-Encoding, gzip, Status bodies,
// Headers.

#include "http/gzip.hpp"
#include "http/types.hpp"
#include "http/url.hpp"
#include "http_test_util.hpp"
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
  REQUIRE(skiff::testing::gunzip(gz) == data);
  REQUIRE(skiff::testing::gunzip(gz.substr(0, gz.size() - 4)) == std::nullopt);  // no trailer
  REQUIRE(http::gzip_compress("").size() > 0);
}

TEST_CASE("GzipWriter writes one gzip member in pieces", "[apiserver][http]") {
  std::string data;
  http::GzipWriter w;
  std::string gz;
  std::size_t before_finish = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string piece = "{\"item\":" + std::to_string(i * 7919 % 100003) + "},";
    data += piece;
    w.write(piece, gz);
  }
  before_finish = gz.size();
  w.finish(gz);
  // zlib emitted blocks along the way (a stream is not held to the end), and the whole member
  // inflates to exactly what was written.
  REQUIRE(before_finish > 0);
  REQUIRE(gz.size() > before_finish);
  REQUIRE(gz.size() < data.size() / 2);
  REQUIRE(skiff::testing::gunzip(gz) == data);
  REQUIRE_THROWS_AS(w.write("x", gz), std::logic_error);

  // No input at all is still a valid, empty member.
  http::GzipWriter empty;
  std::string e;
  empty.finish(e);
  REQUIRE(skiff::testing::gunzip(e) == std::string());
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
