// SPDX-License-Identifier: Apache-2.0
// The HTTP server with complete responses: keep-alive, decoding, identity, gzip, limits, malformed
// input, handler failures, HTTP/1.0, Expect, pipelining, timeouts and start-up errors. Clients:
// curl and a raw TLS client that sends exact bytes.

#include <mutex>
#include <stdexcept>

#include "http/server.hpp"
#include "http_test_util.hpp"
#include "skiff_test.hpp"

namespace http = skiff::apiserver::http;
using namespace std::chrono_literals;
using skiff::testing::curl;
using skiff::testing::RawClient;
using skiff::testing::TestServer;
using skiff::testing::url;

namespace {

// Records every request the handler saw (copied: the Request dies with the exchange).
class Recorder {
public:
  void add(const http::Request& r) {
    std::lock_guard lock(mutex_);
    requests_.push_back(r);
  }
  std::vector<http::Request> all() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

private:
  mutable std::mutex mutex_;
  std::vector<http::Request> requests_;
};

std::string big_text(std::size_t n) {
  std::string s;
  while (s.size() < n) {
    s += R"({"kind":"Pod","metadata":{"name":"web-)" + std::to_string(s.size()) + R"("}},)";
  }
  s.resize(n);
  return s;
}

// One handler for the whole file, routed by path.
http::Handler test_handler(Recorder* rec) {
  return [rec](http::Request& req, http::ResponseWriter& w) -> boost::asio::awaitable<void> {
    rec->add(req);
    if (req.path == "/boom") {
      throw std::runtime_error("boom");
    }
    if (req.path == "/silent") {
      co_return;
    }
    if (req.path == "/big") {
      co_await w.send(200, {{"Content-Type", "application/json"}}, big_text(256 * 1024));
      co_return;
    }
    if (req.path == "/small") {
      co_await w.send(200, {{"Content-Type", "application/json"}}, big_text(500));
      co_return;
    }
    if (req.path == "/threshold") {
      // Exactly upstream's 128 KiB gzip threshold: not compressed.
      co_await w.send(200, {{"Content-Type", "application/json"}}, big_text(128 * 1024));
      co_return;
    }
    if (req.path == "/warnings") {
      co_await w.send(200,
                      {{"Content-Type", "text/plain"},
                       {"Warning", "299 - \"first\""},
                       {"Warning", "299 - \"second\""},
                       {"X-Bad", "a\r\nInjected: yes"}},
                      "ok");
      co_return;
    }
    if (req.path == "/nocontent") {
      co_await w.send(204, {}, "ignored");
      co_return;
    }
    if (req.path == "/whoami") {
      std::string groups;
      for (const auto& g : req.peer.groups) {
        groups += g + ";";
      }
      co_await w.send(200, {{"Content-Type", "text/plain"}},
                      std::string(req.peer.authenticated ? "authenticated" : "anonymous") +
                          " user=" + req.peer.user + " groups=" + groups);
      co_return;
    }
    // Default: echo the body size and the connection's remote address.
    co_await w.send(200, {{"Content-Type", "text/plain"}},
                    "len=" + std::to_string(req.body.size()) + " from=" + req.remote_address);
  };
}

std::string request(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("several requests share one keep-alive connection", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));

  // curl reuses the connection for URLs given in one invocation; the handler sees one remote port.
  std::string out;
  REQUIRE(curl(url(server.port(), "/a") + " " + url(server.port(), "/b") + " " +
                   url(server.port(), "/c"),
               &out) == 0);
  auto reqs = rec.all();
  REQUIRE(reqs.size() == 3);
  REQUIRE(reqs[0].remote_address == reqs[1].remote_address);
  REQUIRE(reqs[1].remote_address == reqs[2].remote_address);
  REQUIRE(reqs[0].tls);

  // The raw client: three request/response rounds on one connection, none closed.
  RawClient c(server.port());
  REQUIRE(c.connect());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.send(request("/round")));
    auto r = c.read_response();
    REQUIRE(r.has_value());
    REQUIRE(r->status == 200);
    REQUIRE_FALSE(r->header("connection") == std::optional<std::string>("close"));
  }
  REQUIRE_FALSE(c.closed());
}

TEST_CASE("path and query are percent-decoded, repeats and order kept", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  REQUIRE(curl("'" +
               url(server.port(),
                   "/api/v1/namespaces/a%2Fb/pods?labelSelector=app%3Dweb%2Ctier%21%3Dfe"
                   "&x=1&x=2&empty=&flag&sp=a+b%20c&%E2%9C%93=ok") +
               "' -o /dev/null") == 0);
  auto reqs = rec.all();
  REQUIRE(reqs.size() == 1);
  const auto& r = reqs[0];
  REQUIRE(r.method == "GET");
  REQUIRE(r.raw_path == "/api/v1/namespaces/a%2Fb/pods");
  REQUIRE(r.path == "/api/v1/namespaces/a/b/pods");
  REQUIRE(r.target.rfind("/api/v1/namespaces/a%2Fb/pods?labelSelector=", 0) == 0);
  using Q = std::vector<std::pair<std::string, std::string>>;
  REQUIRE(r.query == Q{{"labelSelector", "app=web,tier!=fe"},
                       {"x", "1"},
                       {"x", "2"},
                       {"empty", ""},
                       {"flag", ""},
                       {"sp", "a b c"},
                       {"\xE2\x9C\x93", "ok"}});
  REQUIRE(r.query_param("x") == std::optional<std::string_view>("1"));
  REQUIRE(r.query_params("x") == std::vector<std::string_view>{"1", "2"});
  REQUIRE_FALSE(r.query_param("missing").has_value());
  // Headers are case-insensitive.
  REQUIRE(r.headers.get("user-agent").has_value());
  REQUIRE(r.headers.get("USER-AGENT") == r.headers.get("User-Agent"));
}

TEST_CASE("the client certificate gives user and groups; no or an unknown certificate is anonymous",
          "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  const auto& certs = skiff::testing::test_certs();
  std::string out;
  REQUIRE(curl("--cert " + certs.client_crt + " --key " + certs.client_key + " " +
                   url(server.port(), "/whoami"),
               &out) == 0);
  REQUIRE(out == "authenticated user=alice groups=dev;ops;");

  REQUIRE(curl(url(server.port(), "/whoami"), &out) == 0);
  REQUIRE(out == "anonymous user= groups=");

  // Signed by a CA the server does not trust: served, but anonymous (as Kubernetes does).
  REQUIRE(curl("--cert " + certs.rogue_crt + " --key " + certs.rogue_key + " " +
                   url(server.port(), "/whoami"),
               &out) == 0);
  REQUIRE(out == "anonymous user= groups=");

  // The raw client with a certificate agrees.
  RawClient c(server.port(), {.tls = true, .client_cert = true});
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/whoami")));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->body == "authenticated user=alice groups=dev;ops;");
}

TEST_CASE("plain TCP serves requests, always anonymous", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::plain_options(), test_handler(&rec));
  REQUIRE_FALSE(server.server().tls());
  std::string out;
  REQUIRE(curl(url(server.port(), "/whoami", false), &out) == 0);
  REQUIRE(out == "anonymous user= groups=");
  REQUIRE_FALSE(rec.all().at(0).tls);
}

TEST_CASE("large responses are gzip-compressed when the client accepts gzip", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  skiff::testing::TempDir dir;
  const std::string expected = big_text(256 * 1024);
  std::string out;

  // curl --compressed decodes it: the content is intact.
  REQUIRE(curl("--compressed " + url(server.port(), "/big"), &out) == 0);
  REQUIRE(out == expected);

  // The raw bytes really are gzip, with the headers that say so.
  const std::string body_file = dir.file("body.gz");
  REQUIRE(curl("-H 'Accept-Encoding: gzip' -D - -o " + body_file + " " + url(server.port(), "/big"),
               &out) == 0);
  REQUIRE(out.find("Content-Encoding: gzip\r\n") != std::string::npos);
  REQUIRE(out.find("Vary: Accept-Encoding\r\n") != std::string::npos);
  const std::string raw = skiff::testing::read_file(body_file);
  REQUIRE(raw.size() > 2);
  REQUIRE(static_cast<unsigned char>(raw[0]) == 0x1f);
  REQUIRE(static_cast<unsigned char>(raw[1]) == 0x8b);
  REQUIRE(raw.size() < expected.size());
  REQUIRE(skiff::testing::gunzip(raw) == expected);

  // Not for small bodies, not without Accept-Encoding, not when q=0 refuses it.
  REQUIRE(curl("-H 'Accept-Encoding: gzip' -D - -o /dev/null " + url(server.port(), "/small"),
               &out) == 0);
  REQUIRE(out.find("Content-Encoding") == std::string::npos);
  REQUIRE(curl("-H 'Accept-Encoding: gzip' -D - -o " + body_file + " " +
                   url(server.port(), "/threshold"),
               &out) == 0);
  REQUIRE(out.find("Content-Encoding") == std::string::npos);
  REQUIRE(skiff::testing::read_file(body_file) == big_text(128 * 1024));
  REQUIRE(curl("-D - -o " + body_file + " " + url(server.port(), "/big"), &out) == 0);
  REQUIRE(out.find("Content-Encoding") == std::string::npos);
  REQUIRE(skiff::testing::read_file(body_file) == expected);
  REQUIRE(curl("-H 'Accept-Encoding: gzip;q=0, identity' -D - -o /dev/null " +
                   url(server.port(), "/big"),
               &out) == 0);
  REQUIRE(out.find("Content-Encoding") == std::string::npos);
}

TEST_CASE("a body over 3 MiB gets 413 with a Status; exactly 3 MiB is accepted",
          "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  skiff::testing::TempDir dir;
  const std::string limit_file = dir.file("limit");
  const std::string over_file = dir.file("over");
  skiff::testing::write_file(limit_file, std::string(3u << 20, 'x'));
  skiff::testing::write_file(over_file, std::string((3u << 20) + 1, 'x'));
  std::string out;

  REQUIRE(curl("--data-binary @" + limit_file + " " + url(server.port(), "/upload"), &out) == 0);
  REQUIRE(out.rfind("len=3145728 ", 0) == 0);

  REQUIRE(
      curl("-w '\\n%{http_code}' --data-binary @" + over_file + " " + url(server.port(), "/upload"),
           &out) == 0);
  REQUIRE(out ==
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
          R"("message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge",)"
          R"("code":413})"
          "\n413");
  REQUIRE(rec.size() == 1);  // the handler never saw the oversized request

  // A chunked body that grows past the limit: 413 too, and the connection closes.
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "100000\r\n" + std::string(1u << 20, 'y') + "\r\n";
  for (int i = 0; i < 4 && !c.closed(); ++i) {
    if (!c.send(chunk)) {
      break;  // the server may already have answered and closed
    }
  }
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 413);
  REQUIRE(r->header("connection") == std::optional<std::string>("close"));
  REQUIRE(rec.size() == 1);
}

TEST_CASE("413 bodies can be shaped by the caller", "[apiserver][http]") {
  Recorder rec;
  auto options = skiff::testing::tls_options();
  options.max_body_bytes = 10;
  options.error_body = [](const http::ServerError& e) {
    return http::ErrorBody{"text/plain", std::string(e.reason) + ": " + std::string(e.message)};
  };
  TestServer server(options, test_handler(&rec));
  std::string out;
  REQUIRE(curl("-D - --data-binary 01234567890 " + url(server.port(), "/upload"), &out) == 0);
  REQUIRE(out.find("HTTP/1.1 413") != std::string::npos);
  REQUIRE(out.find("Content-Type: text/plain") != std::string::npos);
  REQUIRE(out.find("RequestEntityTooLarge: Request entity too large: limit is 10") !=
          std::string::npos);
}

TEST_CASE("an oversized request head gets 431 and the connection closes", "[apiserver][http]") {
  Recorder rec;
  auto options = skiff::testing::tls_options();
  options.max_header_bytes = 16 * 1024;
  TestServer server(options, test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/x", "X-Filler: " + std::string(32 * 1024, 'f') + "\r\n")));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 431);
  REQUIRE(r->body.find(R"("code":431)") != std::string::npos);
  REQUIRE(c.read_until_closed());
  REQUIRE(rec.size() == 0);

  // A head just under the limit is fine.
  RawClient ok(server.port());
  REQUIRE(ok.connect());
  REQUIRE(ok.send(request("/x", "X-Filler: " + std::string(8 * 1024, 'f') + "\r\n")));
  auto r2 = ok.read_response();
  REQUIRE(r2.has_value());
  REQUIRE(r2->status == 200);
}

TEST_CASE("a malformed request gets 400 and a close, and the server keeps serving others",
          "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET no-slash HTTP/1.1\r\nHost: x\r\n\r\n")}) {
    RawClient c(server.port());
    REQUIRE(c.connect());
    REQUIRE(c.send(garbage));
    auto r = c.read_response();
    INFO(garbage);
    REQUIRE(r.has_value());
    REQUIRE(r->status == 400);
    REQUIRE(r->body.find(R"("reason":"BadRequest")") != std::string::npos);
    REQUIRE(c.read_until_closed());
  }
  REQUIRE(rec.size() == 0);
  std::string out;
  REQUIRE(curl(url(server.port(), "/still-fine"), &out) == 0);
  REQUIRE(out.rfind("len=0", 0) == 0);

  // Not even TLS: the handshake fails, the server does not care.
  RawClient plain(server.port(), {.tls = false});
  REQUIRE(plain.connect());
  REQUIRE(plain.send(request("/")));
  REQUIRE(plain.read_until_closed());
  REQUIRE(curl(url(server.port(), "/still-fine"), &out) == 0);
}

TEST_CASE("a throwing or silent handler yields 500 and the connection stays usable",
          "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/boom")));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 500);
  REQUIRE(r->header("content-type") == std::optional<std::string>("application/json"));
  REQUIRE(r->body ==
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
          R"("message":"Internal error occurred: boom","reason":"InternalError","code":500})");
  REQUIRE(c.send(request("/silent")));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 500);
  REQUIRE(r->body.find("did not send a response") != std::string::npos);
  REQUIRE(c.send(request("/after")));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 200);
  REQUIRE_FALSE(c.closed());
}

TEST_CASE("response headers may repeat; line breaks cannot be injected; 204 has no body",
          "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/warnings")));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->headers.count("warning") == 2);
  REQUIRE(r->headers.count("injected") == 0);
  REQUIRE(r->headers.count("x-bad") == 0);
  REQUIRE(r->header("date").has_value());
  REQUIRE(c.send(request("/nocontent")));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 204);
  REQUIRE_FALSE(r->header("content-length").has_value());
  // HEAD: the head of the GET response, with its length, and no body.
  REQUIRE(c.send("HEAD /small HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = c.read_response(true);
  REQUIRE(r.has_value());
  REQUIRE(r->header("content-length") == std::optional<std::string>("500"));
  // The next response follows directly: nothing of a body was sent.
  REQUIRE(c.send(request("/after")));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->body.rfind("len=0", 0) == 0);
}

TEST_CASE("HTTP/1.0 clients are served and their connection closes", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  std::string out;
  REQUIRE(curl("--http1.0 -i " + url(server.port(), "/old"), &out) == 0);
  REQUIRE(out.rfind("HTTP/1.0 200", 0) == 0);
  REQUIRE(rec.all().at(0).version == 10);

  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /old HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->version == 10);
  REQUIRE(c.read_until_closed());

  // HTTP/1.0 with keep-alive asked for keeps the connection.
  RawClient k(server.port());
  REQUIRE(k.connect());
  REQUIRE(k.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = k.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->header("connection") == std::optional<std::string>("keep-alive"));
  REQUIRE(k.send("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  REQUIRE(k.read_response().has_value());
}

TEST_CASE("Connection: close is honoured", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/bye", "Connection: close\r\n")));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->header("connection") == std::optional<std::string>("close"));
  REQUIRE(c.read_until_closed());
}

TEST_CASE("Expect: 100-continue gets an interim 100 before the body is sent", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(
      c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto cont = c.read_response();
  REQUIRE(cont.has_value());
  REQUIRE(cont->status == 100);
  REQUIRE(rec.size() == 0);
  REQUIRE(c.send("hello"));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 200);
  REQUIRE(r->body.rfind("len=5", 0) == 0);

  // Over the limit: 413 at once, no 100, the body is never sent.
  RawClient big(server.port());
  REQUIRE(big.connect());
  REQUIRE(
      big.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
               "Expect: 100-continue\r\n\r\n"));
  r = big.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->status == 413);
}

TEST_CASE("pipelined requests are answered in order", "[apiserver][http]") {
  Recorder rec;
  TestServer server(skiff::testing::tls_options(), test_handler(&rec));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send(request("/first") +
                 "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
                 request("/boom") + request("/fourth")));
  auto r1 = c.read_response();
  auto r2 = c.read_response();
  auto r3 = c.read_response();
  auto r4 = c.read_response();
  REQUIRE((r1 && r2 && r3 && r4));
  REQUIRE(r1->body.rfind("len=0", 0) == 0);
  REQUIRE(r2->body.rfind("len=3", 0) == 0);
  REQUIRE(r3->status == 500);
  REQUIRE(r4->status == 200);
  auto reqs = rec.all();
  REQUIRE(reqs.size() == 4);
  REQUIRE(reqs[0].path == "/first");
  REQUIRE(reqs[1].path == "/second");
  REQUIRE(reqs[1].body == "abc");
  REQUIRE(reqs[3].path == "/fourth");
}

TEST_CASE("a request head that trickles in too slowly is cut off (slowloris)",
          "[apiserver][http]") {
  Recorder rec;
  auto options = skiff::testing::tls_options();
  options.header_timeout = 300ms;
  options.idle_timeout = 300ms;
  options.body_timeout = 300ms;
  TestServer server(options, test_handler(&rec));

  RawClient slow(server.port());
  REQUIRE(slow.connect());
  REQUIRE(slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n"));  // never finished
  REQUIRE(slow.read_until_closed(10s));
  REQUIRE(rec.size() == 0);

  // An idle keep-alive connection is closed after the idle timeout.
  RawClient idle(server.port());
  REQUIRE(idle.connect());
  REQUIRE(idle.send(request("/once")));
  REQUIRE(idle.read_response().has_value());
  REQUIRE(idle.read_until_closed(10s));

  // A body that stops short of its Content-Length is cut off after the body timeout.
  RawClient stalled(server.port());
  REQUIRE(stalled.connect());
  REQUIRE(stalled.send("POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  REQUIRE(stalled.read_until_closed(10s));
  REQUIRE(rec.size() == 1);  // only /once reached the handler

  // A connection that never even starts TLS is closed too.
  RawClient silent(server.port(), {.tls = false});
  REQUIRE(silent.connect());
  REQUIRE(silent.read_until_closed(10s));
}

TEST_CASE("start reports unusable options and busy ports", "[apiserver][http]") {
  auto handler = [](http::Request&, http::ResponseWriter& w) -> boost::asio::awaitable<void> {
    co_await w.send(200, {}, "");
  };
  auto options = skiff::testing::tls_options();
  options.private_key_pem = "not a key";
  auto r = http::HttpServer::start(options, handler);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kInvalid);

  options = skiff::testing::tls_options();
  options.cert_chain_pem = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n";
  r = http::HttpServer::start(options, handler);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kInvalid);

  options = skiff::testing::tls_options();
  options.client_ca_pem = "garbage";
  r = http::HttpServer::start(options, handler);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kInvalid);

  options = skiff::testing::plain_options();
  options.bind_address = "not-an-address";
  r = http::HttpServer::start(options, handler);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kInvalid);

  TestServer first(skiff::testing::plain_options(), handler);
  options = skiff::testing::plain_options();
  options.port = first.port();
  r = http::HttpServer::start(options, handler);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().reason == skiff::Reason::kUnavailable);
}

TEST_CASE("the server listens on IPv6 too", "[apiserver][http]") {
  Recorder rec;
  auto options = skiff::testing::tls_options();
  options.bind_address = "::1";
  auto s = http::HttpServer::start(options, test_handler(&rec));
  if (!s.has_value()) {
    WARN("no IPv6 loopback here: " << s.error().message);
    return;
  }
  s->reset();
  TestServer server(options, test_handler(&rec));
  std::string out;
  REQUIRE(curl("-g 'https://[::1]:" + std::to_string(server.port()) + "/v6'", &out) == 0);
  REQUIRE(out.find("from=[::1]:") != std::string::npos);
}
