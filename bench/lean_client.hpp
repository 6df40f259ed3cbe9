// SPDX-License-Identifier: Apache-2.0
#pragma once

// A lean HTTPS/1.1 client for api_bench's reads: plain sockets and OpenSSL, keep-alive, responses
// framed by Content-Length or chunked coding. It sends the same requests as the Beast client at a
// fraction of its CPU (Beast over Asio SSL costs ~50 µs per small GET and ~100 ms per 25 MB list
// here), so on a box whose two cores the client shares with the server the figures say more about
// the server. Two forms: LeanConnection (blocking, one request at a time: lists and their pages)
// and lean_gets() (closed loop over many connections on one thread with epoll).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace skiff::bench {

struct LeanEndpoint {
  std::string host = "127.0.0.1";  ///< IPv4 literal
  std::uint16_t port = 0;
  ssl_ctx_st* tls = nullptr;       ///< client context: CA and client certificate loaded
};

struct LeanReply {
  int status = 0;             ///< 0: transport failure (see error)
  std::string body;           ///< as received (still compressed when gzipped)
  std::size_t wire_body = 0;  ///< body bytes as received
  bool gzipped = false;
  std::string error;
};

/// One keep-alive connection used by one thread; connects on first use and after a failure.
class LeanConnection {
public:
  explicit LeanConnection(LeanEndpoint endpoint);
  ~LeanConnection();
  LeanConnection(const LeanConnection&) = delete;
  LeanConnection& operator=(const LeanConnection&) = delete;

  /// GET `target` and read the whole response (blocking, no time limit beyond the socket's 60 s).
  LeanReply get(const std::string& target, const std::string& accept, bool gzip);

private:
  struct State;
  std::unique_ptr<State> s_;
};

struct LeanGetOptions {
  LeanEndpoint endpoint;
  std::size_t connections = 64;
  std::size_t total = 0;  ///< requests over all connections
  bool gzip = false;      ///< send Accept-Encoding: gzip
  int want_status = 200;
  std::function<std::string(std::size_t)> target;  ///< request i's target
  std::chrono::seconds timeout{600};               ///< the whole run
};

struct LeanGetResult {
  std::vector<double> latencies_ms;  ///< one per successful request
  double wall_s = 0;
  std::size_t body_bytes = 0;
  std::vector<std::string> errors;  ///< at most a few hundred
};

/// Runs `options.total` GETs, `options.connections` at a time; blocks until done or timed out.
LeanGetResult lean_gets(const LeanGetOptions& options);

}  // namespace skiff::bench
