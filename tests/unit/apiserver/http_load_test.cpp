// SPDX-License-Identifier: Apache-2.0
// Many concurrent TLS connections, all in flight at the same time.
#include <atomic>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "skiff/async/event.hpp"

#include "http/server.hpp"
#include "http_test_util.hpp"
#include "skiff_test.hpp"

namespace asio = boost::asio;
namespace http = skiff::apiserver::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// One client: connect, handshake, GET /n/<i>, read the response; returns its body ("" on failure).
asio::awaitable<std::string> fetch(asio::ssl::context& ssl, std::uint16_t port, int i) {
  auto ex = co_await asio::this_coro::executor;
  asio::ssl::stream<tcp::socket> s(ex, ssl);
  co_await s.next_layer().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                        asio::use_awaitable);
  co_await s.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  const std::string req = "GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
  std::string data;
  const auto head_end = co_await asio::async_read_until(s, asio::dynamic_buffer(data), "\r\n\r\n",
                                                        asio::use_awaitable);
  const auto cl = data.find("Content-Length: ");
  if (data.rfind("HTTP/1.1 200", 0) != 0 || cl == std::string::npos) {
    co_return "";
  }
  const std::size_t length = std::stoul(data.substr(cl + 16));
  if (data.size() < head_end + length) {
    co_await asio::async_read(s, asio::dynamic_buffer(data),
                              asio::transfer_exactly(head_end + length - data.size()),
                              asio::use_awaitable);
  }
  co_return data.substr(head_end, length);
}

}  // namespace

TEST_CASE("200 concurrent connections are served at the same time", "[apiserver][http][load]") {
  constexpr int kClients = 200;
  std::atomic<int> in_flight{0};
  skiff::async::Event all_in;
  http::Handler handler = [&](http::Request& req,
                              http::ResponseWriter& w) -> asio::awaitable<void> {
    // Every handler waits until all 200 requests are being handled at once.
    if (++in_flight == kClients) {
      all_in.set();
    }
    co_await all_in.wait();
    co_await w.send(200, {{"Content-Type", "text/plain"}}, req.path.substr(3));
  };
  skiff::testing::TestServer server(skiff::testing::tls_options(), handler);

  asio::io_context ctx;
  asio::ssl::context ssl(asio::ssl::context::tls_client);
  ssl.load_verify_file(skiff::testing::test_certs().ca_crt);
  ssl.set_verify_mode(asio::ssl::verify_peer);
  std::vector<std::string> bodies(kClients);
  std::atomic<int> finished{0};
  for (int i = 0; i < kClients; ++i) {
    asio::co_spawn(ctx, fetch(ssl, server.port(), i),
                   [&, i](std::exception_ptr e, std::string body) {
                     if (!e) {
                       bodies[i] = std::move(body);
                     }
                     ++finished;
                   });
  }
  ctx.run_for(60s);
  REQUIRE(finished == kClients);
  REQUIRE(all_in.is_set());
  for (int i = 0; i < kClients; ++i) {
    INFO("client " << i);
    REQUIRE(bodies[i] == std::to_string(i));
  }
  REQUIRE(
      skiff::testing::eventually([&] { return server.server().connection_count() <= kClients; }));
  REQUIRE(server.stop());
}
