// SPDX-License-Identifier: Apache-2.0
#pragma once

// HttpServer: the API server's HTTP/1.1 listener (TLS, or plain TCP for tests) on Beast and Asio
// SSL. It reads requests, hands each to one Handler (types.hpp) and writes what the handler sends:
// complete responses (gzip when the client allows it), chunked streams (watch), or an upgraded byte
// stream.
//
// Threads and strands: the server runs on an io_context — its own, run by `io_threads` threads, or
// the executor passed to start(). The acceptor has a strand; every connection gets its own strand,
// and its handler calls run on it, so a handler needs no locking for connection state and never
// runs concurrently with itself for the same connection. Requests on one connection are served
// strictly in order (HTTP/1.1 pipelining is safe: the next request is read only after the previous
// response).
//
// Lifecycle (STYLE.md §8–§9): start() binds and listens (connections queue in the backlog); run()
// accepts and serves until shutdown() or until run()'s awaiting coroutine is cancelled, and returns
// only after every connection finished. Shutdown is graceful: stop accepting; close idle keep-alive
// connections; let complete responses in flight finish (their connections then close); cancel
// handlers of streams and upgrades with `total` cancellation and end each stream with its
// terminating chunk; after `shutdown_grace`, cancel everything left with `terminal` cancellation
// and close its socket.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "skiff/async/executor.hpp"
#include "skiff/base/error.hpp"

#include "types.hpp"

namespace skiff::apiserver::http {

/// A response the server makes up itself (malformed request, limits, handler failure).
struct ServerError {
  int status = 500;          ///< 400, 413, 431, 500
  std::string_view reason;   ///< metav1.Status reason, e.g. "RequestEntityTooLarge"
  std::string_view message;  ///< e.g. "Request entity too large: limit is 3145728"
};

/// What to send for a ServerError.
struct ErrorBody {
  std::string content_type;
  std::string body;
};

struct HttpServerOptions {
  /// Address to bind: an IPv4 or IPv6 literal. "0.0.0.0" = all IPv4 interfaces, "::" = all
  /// interfaces (dual-stack where the OS allows it).
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 0;  ///< 0 = let the OS pick (read it back from HttpServer::port())

  /// TLS: the server certificate chain (leaf first) and its private key, PEM. Both empty = plain
  /// TCP (tests and local sockets only: kubectl sends no credentials over plain HTTP).
  std::string cert_chain_pem;
  std::string private_key_pem;
  /// PEM bundle of CAs for client certificates. Empty: no client certificate is requested. Set: one
  /// is requested but not required; a presented certificate that verifies makes the connection
  /// authenticated (PeerIdentity), one that does not verify leaves it anonymous (Kubernetes' x509
  /// authenticator: the handshake succeeds, authentication later says 401).
  std::string client_ca_pem;

  /// Largest request body accepted; bigger bodies get 413 (the connection then closes).
  std::size_t max_body_bytes = 3u << 20;
  /// Largest request head (request line + header fields); bigger heads get 431.
  std::size_t max_header_bytes = 1u << 20;
  /// A request head (and the TLS handshake) must arrive within this time after its first byte
  /// (slowloris protection); the connection is closed otherwise.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(32);
  /// A keep-alive connection with no new request for this long is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(90);
  /// A request body must arrive within this time after its head.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(60);
  /// Each write (a response, one chunk) must complete within this time, or the client is considered
  /// gone (a watch client that stopped reading).
  std::chrono::milliseconds write_timeout = std::chrono::seconds(60);
  /// When closing a connection after a response, wait at most this long for the client to finish
  /// (TLS close_notify, unread request bytes), so the response is not lost to a TCP reset.
  std::chrono::milliseconds linger_timeout = std::chrono::seconds(1);
  /// How long graceful shutdown waits for responses in flight before cancelling them outright.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);

  /// Complete responses with a body larger than this are gzip-compressed if the client allows it.
  /// Upstream's threshold (128 KiB): Go clients, kubectl among them, always offer gzip, and
  /// compressing a single object costs more CPU than sending it over loopback or a LAN saves.
  std::size_t gzip_min_bytes = std::size_t{128} * 1024;

  /// Threads running the server's own io_context (start() without an executor). Default 2.
  unsigned io_threads = 2;

  /// Shapes the body of server-made error responses. Default: a metav1.Status JSON (status_json()),
  /// e.g. for 413 `{"kind":"Status",...,"message":"Request entity too large: limit is 3145728",
  /// "reason":"RequestEntityTooLarge","code":413}`.
  std::function<ErrorBody(const ServerError&)> error_body;
};

/// The HTTP server. Create with start(); see the file comment for threads and lifecycle.
class HttpServer {
public:
  /// Binds and listens, on an io_context of its own run by `options.io_threads` threads.
  /// Errors: kInvalid for unusable options (bad address, unreadable certificate/key/CA PEM, a key
  /// that does not match the certificate), kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, Handler handler);
  /// The same on `executor` (its context is run by the caller; `io_threads` is ignored).
  /// Connections get strands over it.
  static Result<std::unique_ptr<HttpServer>> start(async::Executor executor,
                                                   HttpServerOptions options, Handler handler);

  /// Requires run() to have returned (or never started). Stops the own threads, if any.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the chosen one when options.port was 0).
  std::uint16_t port() const;
  /// True when serving TLS.
  bool tls() const;

  /// Accepts and serves until shutdown() is called or the awaiting coroutine is cancelled (any
  /// type: both start the graceful shutdown described above); returns after every connection has
  /// finished. May be awaited from any executor, once.
  boost::asio::awaitable<void> run();

  /// Starts the graceful shutdown. Any thread, any time (also before run(): run() then returns at
  /// once); idempotent; does not wait.
  void shutdown();

  /// Open connections (tests and metrics).
  std::size_t connection_count() const;

  struct Impl;

private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::apiserver::http
