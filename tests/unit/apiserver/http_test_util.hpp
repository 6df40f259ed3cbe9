// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared pieces of the HTTP server tests: certificates made by the real `openssl` CLI, a running
// server, a raw TLS/TCP client that sends exact bytes and reads with deadlines, a tiny HTTP
// response parser for what that client reads, and curl.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "http/server.hpp"
#include "skiff_test.hpp"

namespace skiff::testing {

/// A CA, a server certificate for 127.0.0.1 / ::1 / localhost, a client certificate
/// (CN=alice, O=dev, O=ops) from that CA, and one (CN=mallory, O=evil) from an unrelated CA.
/// Generated once per test binary with the openssl CLI.
struct TestCerts {
  std::string dir;
  std::string ca_crt, server_crt, server_key, client_crt, client_key, rogue_crt, rogue_key;
  std::string ca_pem, server_crt_pem, server_key_pem;
};
const TestCerts& test_certs();

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);

/// Options for a TLS server on 127.0.0.1:0 with the test certificates and client CA.
apiserver::http::HttpServerOptions tls_options();
/// Options for a plain-TCP server on 127.0.0.1:0.
apiserver::http::HttpServerOptions plain_options();

/// An HttpServer whose run() is awaited on a thread of the test; stop() = shutdown() + wait.
class TestServer {
public:
  TestServer(apiserver::http::HttpServerOptions options, apiserver::http::Handler handler);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return server_->port(); }
  apiserver::http::HttpServer& server() { return *server_; }
  /// Begins the graceful shutdown without waiting.
  void shutdown() { server_->shutdown(); }
  /// True once run() returned.
  bool stopped() const { return stopped_; }
  /// shutdown() and wait (bounded) for run() to return; false if it did not.
  bool stop(std::chrono::milliseconds limit = std::chrono::seconds(20));

private:
  std::unique_ptr<apiserver::http::HttpServer> server_;
  std::atomic<bool> stopped_{false};
  std::thread runner_;
};

/// One parsed HTTP response.
struct ParsedResponse {
  unsigned version = 11;
  int status = 0;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;                                 // de-chunked
  bool chunked = false;
  std::optional<std::string> header(const std::string& lower_name) const;
};
/// Takes one complete response off the front of `buffer`; nullopt if it is not complete yet.
/// `eof` says the connection has closed (ends a body without length). `head` = response to HEAD.
std::optional<ParsedResponse> take_response(std::string& buffer, bool eof = false,
                                            bool head = false);

/// A blocking client over a private io_context: exact bytes out, reads with deadlines.
class RawClient {
public:
  struct Options {
    bool tls = true;
    bool client_cert = false;  ///< present alice's certificate
  };
  RawClient(std::uint16_t port, Options options);
  explicit RawClient(std::uint16_t port) : RawClient(port, Options{}) {}
  ~RawClient();

  /// TCP connect (+ TLS handshake). False on failure.
  bool connect(std::chrono::milliseconds limit = std::chrono::seconds(10));
  bool send(const std::string& bytes, std::chrono::milliseconds limit = std::chrono::seconds(10));
  /// Reads until `pred(data())` holds, the peer closes, or `limit` passes; returns pred's value.
  bool read_until(const std::function<bool(const std::string&)>& pred,
                  std::chrono::milliseconds limit = std::chrono::seconds(10));
  /// Reads until the peer closes (true) or `limit` passes (false).
  bool read_until_closed(std::chrono::milliseconds limit = std::chrono::seconds(10));
  /// Reads one complete response.
  std::optional<ParsedResponse> read_response(
      bool head = false, std::chrono::milliseconds limit = std::chrono::seconds(10));
  std::string& data() { return data_; }
  bool closed() const { return closed_; }
  /// Closes the TCP socket abruptly (no TLS close_notify).
  void close();

private:
  bool read_some(std::chrono::steady_clock::time_point deadline);
  boost::asio::ip::tcp::socket& socket();

  std::uint16_t port_;
  Options options_;
  boost::asio::io_context ctx_;
  boost::asio::ssl::context ssl_ctx_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  std::optional<boost::asio::ip::tcp::socket> plain_;
  std::string data_;
  bool closed_ = false;
};

/// Runs curl with `args` (a shell fragment) against the test CA; returns the exit status and fills
/// `out` with stdout.
int curl(const std::string& args, std::string* out = nullptr);

/// The content of one gzip member, or nullopt if `in` is not one (truncated, corrupt).
std::optional<std::string> gunzip(const std::string& in);

/// https://127.0.0.1:<port><path>
std::string url(std::uint16_t port, const std::string& path, bool tls = true);

/// A thread-safe latch tests use as an explicit signal between a handler and the test thread.
class Signal {
public:
  void notify();
  bool wait(std::chrono::milliseconds limit = std::chrono::seconds(10));
  bool is_set() const;

private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace skiff::testing
