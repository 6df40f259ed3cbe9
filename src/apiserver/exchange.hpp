// SPDX-License-Identifier: Apache-2.0
#pragma once

// The request/response pair the API handlers see (private to src/apiserver), independent of the
// HTTP transport: the transport fills an ApiRequest and implements ApiResponder. Tests drive the
// handlers through these types directly, and the HTTP server adapts its own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace skiff::apiserver {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ApiRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< percent-decoded, no query
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded, in order, repeats kept
  HeaderList headers;  ///< as received; names compared case-insensitively
  std::string body;
  std::string remote;  ///< peer address, for logs
  std::string host;    ///< Host header or the bound address
  bool authenticated = false;
  std::string user;
  std::vector<std::string> groups;

  /// The first header named `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  /// The first query parameter `name`, or nullopt.
  std::optional<std::string_view> param(std::string_view name) const;
  /// Every value of query parameter `name`.
  std::vector<std::string> params(std::string_view name) const;
};

/// How a handler answers. One of: a complete response, or a stream (start, chunks, end).
class ApiResponder {
 public:
  virtual ~ApiResponder() = default;
  /// Sends a complete response; false if the client is gone.
  virtual boost::asio::awaitable<bool> send(int status, HeaderList headers, std::string body) = 0;
  /// Starts a chunked response; false if the client is gone. `compressible`: a large body made in
  /// pieces (a list), gzip'd when the client accepts it; never for a watch, whose events must
  /// arrive as written.
  virtual boost::asio::awaitable<bool> start_stream(int status, HeaderList headers,
                                                    bool compressible) = 0;
  boost::asio::awaitable<bool> start_stream(int status, HeaderList headers) {
    return start_stream(status, std::move(headers), false);
  }
  /// Writes and flushes one chunk; false if the client is gone.
  virtual boost::asio::awaitable<bool> write_chunk(std::string data) = 0;
  virtual boost::asio::awaitable<void> end_stream() = 0;
};

}  // namespace skiff::apiserver
