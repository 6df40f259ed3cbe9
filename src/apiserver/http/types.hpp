// SPDX-License-Identifier: Apache-2.0
#pragma once

// The handler-facing side of the API server's HTTP core: a plain Request, a ResponseWriter for
// complete, streamed (chunked) and upgraded responses, and the Handler signature. Routing and REST
// handlers are written against these types only; Beast, Asio SSL and OpenSSL stay inside
// src/apiserver/http/*.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace skiff::apiserver::http {

/// An ordered list of header fields. Names compare case-insensitively; a name may repeat (several
/// `Warning` fields, several `Accept` lines) and the order is kept as given.
class Headers {
public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  /// `w.send(200, {{"Content-Type", "application/json"}, {"Warning", "..."}}, body)`. Up to eight
  /// fields this way (add() for more); fields with an empty name are skipped. Deliberately not an
  /// initializer_list: GCC 12 rejects ("array used as initializer") an initializer_list temporary
  /// inside a co_await expression, which is exactly where handlers build headers.
  Headers(Field f1, Field f2 = {}, Field f3 = {}, Field f4 = {}, Field f5 = {},  // NOLINT
          Field f6 = {}, Field f7 = {}, Field f8 = {});

  /// Appends a field (never replaces: use set() for that).
  void add(std::string name, std::string value);
  /// Removes every field called `name`, then appends one.
  void set(std::string name, std::string value);
  /// Removes every field called `name`; returns how many there were.
  std::size_t erase(std::string_view name);

  /// The first field called `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  /// Every field called `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  const std::vector<Field>& fields() const { return fields_; }
  /// Moves the fields out (the Headers are left empty).
  std::vector<Field> release() { return std::exchange(fields_, {}); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

private:
  std::vector<Field> fields_;
};

/// True if `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Who is at the other end of the TLS connection, from the client certificate verified against
/// HttpServerOptions::client_ca_pem during the handshake (Kubernetes' x509 client-certificate
/// authentication: user = subject CN, groups = subject O values).
struct PeerIdentity {
  /// True only if the client presented a certificate and it verified against the client CA. A
  /// missing or unverifiable certificate leaves the connection anonymous (the request is still
  /// served).
  bool authenticated = false;
  std::string user;                 ///< subject CommonName (the last CN, as Go reads it)
  std::vector<std::string> groups;  ///< subject Organization values, in order
};

/// One HTTP request, fully read (head and body) before the handler runs.
struct Request {
  std::string method;    ///< as sent, e.g. "GET"
  std::string target;    ///< the raw request-target, e.g. "/api/v1/namespaces/a%2Fb/pods?watch=1"
  std::string path;      ///< target's path, percent-decoded, e.g. "/api/v1/namespaces/a/b/pods"
  std::string raw_path;  ///< target's path as sent (still encoded)
  /// Query parameters, percent- and '+'-decoded, in order, repeats kept ("a=1&a=2" gives two).
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string body;            ///< the decoded body (chunked transfer coding removed)
  unsigned version = 11;       ///< 10 for HTTP/1.0, 11 for HTTP/1.1
  std::string remote_address;  ///< "ip:port" ("[v6]:port" for IPv6)
  bool tls = false;            ///< arrived over TLS
  PeerIdentity peer;           ///< always anonymous on plain TCP

  /// The first value of query parameter `name`, if present.
  std::optional<std::string_view> query_param(std::string_view name) const;
  /// Every value of query parameter `name`, in order.
  std::vector<std::string_view> query_params(std::string_view name) const;
};

/// The byte stream of a connection after a handler answered `101 Switching Protocols` (WebSocket,
/// SPDY). Owned by the connection; valid until the handler's coroutine returns. Runs on the
/// connection's strand; one read_some and one write may be pending at a time.
class UpgradedStream {
public:
  virtual ~UpgradedStream() = default;
  /// Reads at least one byte into `buffer` (bytes the client sent right after the upgrade request
  /// come first). Returns 0 at end of stream or on any error. `buffer` must stay valid until it
  /// completes.
  virtual boost::asio::awaitable<std::size_t> read_some(std::span<char> buffer) = 0;
  /// Writes all of `data`. False if the connection broke.
  virtual boost::asio::awaitable<bool> write(std::string data) = 0;
  /// Closes the connection (pending operations complete with an error).
  virtual void close() = 0;
};

/// The content coding of a streamed response (ResponseWriter::start_stream).
enum class StreamCoding : std::uint8_t { kIdentity, kGzipIfAccepted };

/// Sends the response to one Request. Owned by the connection; valid until the handler's coroutine
/// returns. Use exactly one of: send(); start_stream() + write_chunk()* + end_stream(); upgrade().
///
/// Every method runs on the connection's strand (where the handler runs) and must not be called
/// concurrently with another method of the same writer. Awaitables return false once the client has
/// gone away or the connection broke (write error, write timeout); then the handler should return.
///
/// @par Cancellation
/// The handler's coroutine is cancelled
/// - with `terminal` when the client goes away during a stream or upgrade (the connection keeps
///   reading while a stream is open, so an idle watch notices a closed socket at once);
/// - with `total` when the server shuts down gracefully and the response is a stream or an upgrade
///   (a complete response in progress is allowed to finish); the server then ends the stream itself
///   with the terminating chunk;
/// - with `terminal` when the shutdown grace period is over.
/// Its cancellation state admits `total` (the server resets it before calling the handler), so any
/// awaited Asio operation aborts; after that, further awaits throw `operation_aborted` unless the
/// handler calls `this_coro::throw_if_cancelled(false)`.
class ResponseWriter {
public:
  virtual ~ResponseWriter() = default;

  /// Sends a complete response with Content-Length. The body is gzip-compressed
  /// (`Content-Encoding: gzip`, `Vary: Accept-Encoding`) when the request accepts gzip, the body is
  /// larger than HttpServerOptions::gzip_min_bytes and `headers` carry no Content-Encoding. The
  /// server adds Date, Content-Length and Connection; `headers` should carry Content-Type. For
  /// HEAD, only the head is sent. False if the client went away.
  virtual boost::asio::awaitable<bool> send(int status, Headers headers, std::string body) = 0;

  /// Sends the head of a streamed response (`Transfer-Encoding: chunked`; for an HTTP/1.0 client
  /// the body is instead delimited by closing the connection). With StreamCoding::kGzipIfAccepted
  /// the body is one gzip member (`Content-Encoding: gzip`, `Vary: Accept-Encoding`) when the
  /// request accepts gzip and `headers` carry no Content-Encoding: for a large body made in pieces
  /// (a list), not for a stream whose chunks must arrive as written (a watch).
  virtual boost::asio::awaitable<bool> start_stream(int status, Headers headers,
                                                    StreamCoding coding) = 0;
  boost::asio::awaitable<bool> start_stream(int status, Headers headers) {
    return start_stream(status, std::move(headers), StreamCoding::kIdentity);
  }
  /// Sends one chunk and flushes it to the socket before returning (nothing is buffered; in a gzip
  /// stream zlib may hold it until a later chunk or end_stream()). An empty `data` sends nothing
  /// (it would end the stream).
  virtual boost::asio::awaitable<bool> write_chunk(std::string data) = 0;
  /// Sends the terminating chunk. The server calls it itself if the handler returns without it.
  virtual boost::asio::awaitable<bool> end_stream() = 0;

  /// Sends `101 Switching Protocols` with `headers` (e.g. Upgrade, Connection,
  /// Sec-WebSocket-Accept) and hands the connection's byte stream to the handler, or nullptr if the
  /// write failed. The connection closes when the handler returns.
  virtual boost::asio::awaitable<UpgradedStream*> upgrade(Headers headers) = 0;

  /// True once the client has gone away (detected by a failed write, or by the read the connection
  /// keeps running during a stream).
  virtual bool client_gone() const = 0;
  /// True once a response head (any of the three kinds) has been sent.
  virtual bool started() const = 0;
};

/// Serves every request of the server; the routing layer lives behind it. Called on the
/// connection's strand with references that stay valid until the returned awaitable completes. A
/// handler that throws before sending gets a 500 metav1.Status (the connection stays usable); one
/// that returns without sending anything gets a 500 too; one that throws mid-stream gets its
/// connection closed without the terminating chunk, so the client sees the stream as broken.
using Handler = std::function<boost::asio::awaitable<void>(Request&, ResponseWriter&)>;

/// The body of a Kubernetes metav1.Status failure:
/// `{"kind":"Status","apiVersion":"v1","metadata":{},
/// "status":"Failure","message":...,"reason":...,"code":...}` (message JSON-escaped).
std::string status_json(int code, std::string_view reason, std::string_view message);

}  // namespace skiff::apiserver::http
