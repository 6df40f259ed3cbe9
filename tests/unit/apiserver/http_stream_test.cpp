// SPDX-License-Identifier: Apache-2.0
// Streamed (chunked) responses, client disconnects, upgrades and the shutdown sequence.
#include <atomic>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/async/event.hpp"

#include "http/server.hpp"
#include "http_test_util.hpp"
#include "process.hpp"
#include "skiff_test.hpp"

namespace asio = boost::asio;
namespace http = skiff::apiserver::http;
using namespace std::chrono_literals;
using skiff::async::Event;
using skiff::testing::curl;
using skiff::testing::eventually;
using skiff::testing::RawClient;
using skiff::testing::Signal;
using skiff::testing::TestServer;
using skiff::testing::url;

namespace {

// What a stream handler saw, for the test thread to check.
struct StreamProbe {
  Signal started;                      // the stream head went out
  Signal finished;                     // the handler returned
  std::atomic<bool> cancelled{false};  // its wait ended by cancellation
  std::atomic<bool> gone{false};       // client_gone() when it ended
  std::atomic<int> cancel_type{0};     // the cancellation type its state saw
};

asio::awaitable<void> stepped_body(std::vector<std::unique_ptr<Event>>* release, Event* hold,
                                   StreamProbe* probe, http::ResponseWriter& w);

// Streams "event-<i>\n" for i in 1..n, each only after `release[i-1]` is set; then waits on `hold`
// (never set unless a test does) before ending the stream.
http::Handler stepped_stream(std::vector<std::unique_ptr<Event>>* release, Event* hold,
                             StreamProbe* probe) {
  return [=](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    struct Done {
      StreamProbe* p;
      ~Done() { p->finished.notify(); }
    } done{probe};
    // A cancellation shows up either as an aborted wait (below) or, if it arrived while the handler
    // was between awaits, as operation_aborted thrown by its next co_await.
    try {
      co_await stepped_body(release, hold, probe, w);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::operation_aborted) {
        throw;
      }
      probe->cancelled = true;
      probe->gone = w.client_gone();
    }
    if (probe->cancelled) {
      auto state = co_await asio::this_coro::cancellation_state;
      probe->cancel_type = static_cast<int>(state.cancelled());
    }
  };
}

asio::awaitable<void> stepped_body(std::vector<std::unique_ptr<Event>>* release, Event* hold,
                                   StreamProbe* probe, http::ResponseWriter& w) {
  {
    if (!co_await w.start_stream(200, {{"Content-Type", "application/json"}})) {
      co_return;
    }
    probe->started.notify();
    for (std::size_t i = 0; i < release->size(); ++i) {
      auto [ec] = co_await (*release)[i]->async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        probe->cancelled = true;
        probe->gone = w.client_gone();
        co_return;
      }
      if (!co_await w.write_chunk("event-" + std::to_string(i + 1) + "\n")) {
        probe->gone = true;
        co_return;
      }
    }
    auto [ec] = co_await hold->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      probe->cancelled = true;
      probe->gone = w.client_gone();
      co_return;
    }
    co_await w.end_stream();
  }
}

std::vector<std::unique_ptr<Event>> events(int n) {
  std::vector<std::unique_ptr<Event>> v;
  for (int i = 0; i < n; ++i) {
    v.push_back(std::make_unique<Event>());
  }
  return v;
}

}  // namespace

TEST_CASE("stream chunks reach curl one by one, before the stream ends",
          "[apiserver][http][stream]") {
  auto release = events(3);
  Event hold;
  StreamProbe probe;
  TestServer server(skiff::testing::tls_options(), stepped_stream(&release, &hold, &probe));
  skiff::testing::TempDir dir;
  const auto& certs = skiff::testing::test_certs();
  const std::string out_file = dir.file("out");
  // curl -N: no client-side buffering; its output file shows what arrived so far.
  skiff::testing::Process curl_proc({skiff::testing::find_program("curl"), "-sS", "-N", "--cacert",
                                     certs.ca_crt, "-o", out_file, url(server.port(), "/watch")},
                                    dir.file("curl"));
  REQUIRE(probe.started.wait());
  for (int i = 1; i <= 3; ++i) {
    const std::string line = "event-" + std::to_string(i) + "\n";
    release[i - 1]->set();
    REQUIRE(eventually(
        [&] { return skiff::testing::read_file(out_file).find(line) != std::string::npos; }));
    // Nothing beyond what was released has arrived.
    REQUIRE(skiff::testing::read_file(out_file).find("event-" + std::to_string(i + 1)) ==
            std::string::npos);
  }
  REQUIRE(curl_proc.running());  // the stream is still open
  hold.set();
  REQUIRE(curl_proc.wait_for(10s) == std::optional<int>(0));
  REQUIRE(skiff::testing::read_file(out_file) == "event-1\nevent-2\nevent-3\n");
}

TEST_CASE("stream framing: chunked, one chunk per write, terminated", "[apiserver][http][stream]") {
  auto release = events(2);
  Event hold;
  StreamProbe probe;
  TestServer server(skiff::testing::tls_options(), stepped_stream(&release, &hold, &probe));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /watch HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
  REQUIRE(
      c.read_until([](const std::string& d) { return d.find("\r\n\r\n") != std::string::npos; }));
  REQUIRE(c.data().find("Transfer-Encoding: chunked") != std::string::npos);
  REQUIRE(c.data().find("Content-Encoding") == std::string::npos);  // streams are never gzipped
  release[0]->set();
  REQUIRE(c.read_until(
      [](const std::string& d) { return d.find("8\r\nevent-1\n\r\n") != std::string::npos; }));
  release[1]->set();
  REQUIRE(c.read_until(
      [](const std::string& d) { return d.find("8\r\nevent-2\n\r\n") != std::string::npos; }));
  hold.set();
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->chunked);
  REQUIRE(r->body == "event-1\nevent-2\n");
  REQUIRE(probe.finished.wait());
  // Keep-alive after a finished stream: the connection serves the next request.
  REQUIRE_FALSE(c.closed());
}

TEST_CASE("a client that disconnects mid-stream is noticed while the stream idles",
          "[apiserver][http][stream]") {
  auto release = events(1);
  Event hold;  // never set: the handler idles like a quiet watch
  StreamProbe probe;
  TestServer server(skiff::testing::tls_options(), stepped_stream(&release, &hold, &probe));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  release[0]->set();
  REQUIRE(
      c.read_until([](const std::string& d) { return d.find("event-1") != std::string::npos; }));
  c.close();
  // Bounded (not timed): the handler's wait is cancelled because the server reads the socket.
  REQUIRE(probe.finished.wait(10s));
  REQUIRE(probe.cancelled);
  REQUIRE(probe.gone);
  REQUIRE(probe.cancel_type == static_cast<int>(asio::cancellation_type::terminal));
  REQUIRE(eventually([&] { return server.server().connection_count() == 0; }));
}

TEST_CASE("a client that stops reading a stream is cut off after the write timeout",
          "[apiserver][http][stream]") {
  StreamProbe probe;
  auto handler = [&probe](http::Request& req, http::ResponseWriter& w) -> asio::awaitable<void> {
    if (req.path != "/flood") {
      co_await w.send(200, {{"Content-Type", "text/plain"}}, "ok");
      co_return;
    }
    if (co_await w.start_stream(200, {{"Content-Type", "application/octet-stream"}})) {
      probe.started.notify();
      // Until a write fails: the client reads nothing, so the socket buffers fill and stay full.
      while (co_await w.write_chunk(std::string(64 * 1024, 'x'))) {
      }
      probe.gone = w.client_gone();
    }
    probe.finished.notify();
  };
  auto options = skiff::testing::tls_options();
  options.write_timeout = 300ms;
  TestServer server(options, handler);
  RawClient stuck(server.port());
  REQUIRE(stuck.connect());
  REQUIRE(stuck.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(probe.started.wait(10s));
  REQUIRE(probe.finished.wait(30s));
  REQUIRE(probe.gone);
  // Other clients are still served.
  RawClient other(server.port());
  REQUIRE(other.connect());
  REQUIRE(other.send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto res = other.read_response();
  REQUIRE(res.has_value());
  REQUIRE(res->status == 200);
  REQUIRE(res->body == "ok");
}

TEST_CASE("curl killed mid-stream is noticed too", "[apiserver][http][stream]") {
  auto release = events(1);
  Event hold;
  StreamProbe probe;
  TestServer server(skiff::testing::tls_options(), stepped_stream(&release, &hold, &probe));
  skiff::testing::TempDir dir;
  const auto& certs = skiff::testing::test_certs();
  skiff::testing::Process curl_proc({skiff::testing::find_program("curl"), "-sS", "-N", "--cacert",
                                     certs.ca_crt, url(server.port(), "/watch")},
                                    dir.file("curl"));
  REQUIRE(probe.started.wait());
  release[0]->set();
  REQUIRE(eventually([&] { return curl_proc.stdout_text().find("event-1") != std::string::npos; }));
  curl_proc.signal(SIGKILL);
  REQUIRE(curl_proc.wait_for(10s).has_value());
  REQUIRE(probe.finished.wait(10s));
  REQUIRE(probe.cancelled);
  REQUIRE(probe.gone);
}

TEST_CASE(
    "graceful shutdown ends an idle stream with its terminating chunk and lets in-flight "
    "requests complete",
    "[apiserver][http][stream]") {
  auto release = events(1);
  Event hold;  // never set: only the shutdown ends this stream
  StreamProbe probe;
  Event slow_release;
  Signal slow_started;
  auto stream = stepped_stream(&release, &hold, &probe);
  http::Handler handler = [&](http::Request& req,
                              http::ResponseWriter& w) -> asio::awaitable<void> {
    if (req.path == "/quick") {
      co_await w.send(200, {{"Content-Type", "text/plain"}}, "quick");
      co_return;
    }
    if (req.path == "/slow") {
      slow_started.notify();
      co_await slow_release.wait();  // a complete response still being computed at shutdown
      co_await w.send(200, {{"Content-Type", "text/plain"}}, "slow done");
      co_return;
    }
    co_await stream(req, w);
  };
  // A grace period longer than any wait below: everything must end by the graceful path.
  auto options = skiff::testing::tls_options();
  options.shutdown_grace = 120s;
  TestServer server(options, handler);

  RawClient watch(server.port());
  REQUIRE(watch.connect());
  REQUIRE(watch.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  release[0]->set();
  REQUIRE(watch.read_until(
      [](const std::string& d) { return d.find("event-1") != std::string::npos; }));

  RawClient slow(server.port());
  REQUIRE(slow.connect());
  REQUIRE(slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(slow_started.wait());

  RawClient idle(server.port());  // keep-alive, between requests
  REQUIRE(idle.connect());
  REQUIRE(idle.send("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(idle.read_response().has_value());

  server.shutdown();

  // The stream: handler cancelled with total cancellation, then the terminating chunk, then close.
  auto r = watch.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->chunked);
  REQUIRE(r->body == "event-1\n");
  REQUIRE(probe.finished.wait());
  REQUIRE(probe.cancelled);
  REQUIRE_FALSE(probe.gone);
  REQUIRE(probe.cancel_type == static_cast<int>(asio::cancellation_type::total));
  REQUIRE(watch.read_until_closed());

  // New connections are refused once the listener closed.
  REQUIRE(eventually([&] {
    RawClient late(server.port());
    return !late.connect(1s);
  }));

  // The in-flight complete response is still delivered, with Connection: close.
  REQUIRE_FALSE(server.stopped());
  slow_release.set();
  auto s = slow.read_response();
  REQUIRE(s.has_value());
  REQUIRE(s->status == 200);
  REQUIRE(s->body == "slow done");
  REQUIRE(s->header("connection") == std::optional<std::string>("close"));
  REQUIRE(slow.read_until_closed());

  REQUIRE(idle.read_until_closed());
  REQUIRE(server.stop());
}

TEST_CASE("shutdown is bounded: a handler that ignores the grace period is cancelled outright",
          "[apiserver][http][stream]") {
  Event never;
  std::atomic<bool> aborted{false};
  Signal started;
  auto options = skiff::testing::tls_options();
  options.shutdown_grace = 200ms;
  http::Handler handler = [&](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    started.notify();
    auto [ec] = co_await never.async_wait(asio::as_tuple(asio::use_awaitable));
    aborted = ec == asio::error::operation_aborted;
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await w.send(200, {}, "too late");
  };
  TestServer server(options, handler);
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(started.wait());
  REQUIRE(server.stop(20s));
  REQUIRE(aborted);
  REQUIRE(c.read_until_closed());
  REQUIRE(c.data().find("too late") == std::string::npos);
}

TEST_CASE("shutdown before run and shutdown of an idle server return promptly",
          "[apiserver][http]") {
  auto handler = [](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    co_await w.send(200, {}, "");
  };
  {
    TestServer server(skiff::testing::tls_options(), handler);
    REQUIRE(server.stop());
  }
  auto s = http::HttpServer::start(skiff::testing::plain_options(), handler);
  REQUIRE(s.has_value());
  (*s)->shutdown();
  asio::io_context ctx;
  bool done = false;
  asio::co_spawn(ctx, (*s)->run(), [&](std::exception_ptr) { done = true; });
  ctx.run_for(10s);
  REQUIRE(done);
}

TEST_CASE("an upgraded connection is handed to the handler as a byte stream",
          "[apiserver][http][stream]") {
  http::Handler handler = [](http::Request& req, http::ResponseWriter& w) -> asio::awaitable<void> {
    if (!req.headers.get("Upgrade")) {
      co_await w.send(400, {}, "upgrade required");
      co_return;
    }
    auto* s = co_await w.upgrade({{"Upgrade", "echo"}, {"Connection", "Upgrade"}});
    if (s == nullptr) {
      co_return;
    }
    // Echo upper-cased until the client closes.
    char buf[256];
    while (true) {
      const auto n = co_await s->read_some(std::span<char>(buf, sizeof(buf)));
      if (n == 0) {
        co_return;
      }
      std::string out(buf, n);
      for (auto& ch : out) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      if (!co_await s->write(out)) {
        co_return;
      }
    }
  };
  auto options = skiff::testing::tls_options();
  options.shutdown_grace = 120s;  // the shutdown below must not need the terminal fallback
  TestServer server(options, handler);
  RawClient c(server.port());
  REQUIRE(c.connect());
  // "early" arrives in the same write as the request: it must reach the handler first.
  REQUIRE(
      c.send("GET /exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly"));
  REQUIRE(c.read_until([](const std::string& d) { return d.find("EARLY") != std::string::npos; }));
  REQUIRE(c.data().rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
  REQUIRE(c.data().find("Upgrade: echo") != std::string::npos);
  REQUIRE(c.send("more bytes"));
  REQUIRE(
      c.read_until([](const std::string& d) { return d.find("MORE BYTES") != std::string::npos; }));
  c.close();
  REQUIRE(eventually([&] { return server.server().connection_count() == 0; }));

  // A graceful shutdown ends an idle upgraded stream: the handler's read is cancelled.
  RawClient idle(server.port());
  REQUIRE(idle.connect());
  REQUIRE(
      idle.send("GET /exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"));
  REQUIRE(idle.read_until(
      [](const std::string& d) { return d.find("\r\n\r\n") != std::string::npos; }));
  REQUIRE(server.stop());
  REQUIRE(idle.read_until_closed());
}

TEST_CASE("an HTTP/1.0 stream is delimited by closing the connection",
          "[apiserver][http][stream]") {
  auto release = events(1);
  Event hold;
  StreamProbe probe;
  TestServer server(skiff::testing::tls_options(), stepped_stream(&release, &hold, &probe));
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /watch HTTP/1.0\r\n\r\n"));
  release[0]->set();
  REQUIRE(
      c.read_until([](const std::string& d) { return d.find("event-1\n") != std::string::npos; }));
  hold.set();
  REQUIRE(c.read_until_closed());
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE_FALSE(r->chunked);
  REQUIRE(r->body == "event-1\n");
}

TEST_CASE("a handler failing mid-stream breaks the stream instead of ending it cleanly",
          "[apiserver][http][stream]") {
  http::Handler handler = [](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    co_await w.start_stream(200, {{"Content-Type", "text/plain"}});
    co_await w.write_chunk("partial\n");
    throw std::runtime_error("storage failed");
  };
  TestServer server(skiff::testing::tls_options(), handler);
  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(c.read_until_closed());
  REQUIRE(c.data().find("partial\n") != std::string::npos);
  REQUIRE(c.data().find("\r\n0\r\n\r\n") == std::string::npos);  // no terminating chunk
}

TEST_CASE("a compressible stream is one gzip member when the client accepts gzip",
          "[apiserver][http][stream]") {
  // 40 pieces of 16 KiB of varied text: enough for zlib to emit blocks before the end.
  auto piece = [](int i) {
    std::string s;
    for (int n = 0; s.size() < 16 * 1024; ++n) {
      s += "{\"piece\":" + std::to_string(i) + ",\"n\":" + std::to_string(n * 7919 % 10007) + "}";
    }
    return s;
  };
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    expected += piece(i);
  }
  http::Handler handler = [&](http::Request& req,
                              http::ResponseWriter& w) -> asio::awaitable<void> {
    const auto coding = req.path == "/list" ? http::StreamCoding::kGzipIfAccepted
                                            : http::StreamCoding::kIdentity;
    if (!co_await w.start_stream(200, {{"Content-Type", "application/json"}}, coding)) {
      co_return;
    }
    for (int i = 0; i < 40; ++i) {
      if (!co_await w.write_chunk(piece(i))) {
        co_return;
      }
    }
    co_await w.end_stream();
  };
  TestServer server(skiff::testing::tls_options(), handler);

  RawClient c(server.port());
  REQUIRE(c.connect());
  REQUIRE(c.send("GET /list HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
  auto r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE(r->chunked);
  REQUIRE(r->header("content-encoding") == "gzip");
  REQUIRE(r->header("vary") == "Accept-Encoding");
  REQUIRE(r->body.size() < expected.size() / 2);
  REQUIRE(skiff::testing::gunzip(r->body) == expected);

  // The same connection, not accepting gzip: identity. A stream that is not compressible (a
  // watch) stays identity even when gzip is offered.
  REQUIRE(c.send("GET /list HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE_FALSE(r->header("content-encoding").has_value());
  REQUIRE(r->body == expected);
  REQUIRE(c.send("GET /watch HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
  r = c.read_response();
  REQUIRE(r.has_value());
  REQUIRE_FALSE(r->header("content-encoding").has_value());
  REQUIRE(r->body == expected);

  // HTTP/1.0: the gzip member ends where the connection closes.
  RawClient old(server.port());
  REQUIRE(old.connect());
  REQUIRE(old.send("GET /list HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n"));
  REQUIRE(old.read_until_closed());
  r = old.read_response();
  REQUIRE(r.has_value());
  REQUIRE_FALSE(r->chunked);
  REQUIRE(skiff::testing::gunzip(r->body) == expected);

  // curl decodes it.
  std::string out;
  REQUIRE(curl("--compressed " + url(server.port(), "/list"), &out) == 0);
  REQUIRE(out == expected);
}
