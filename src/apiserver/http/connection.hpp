// SPDX-License-Identifier: Apache-2.0
#pragma once

// One accepted connection: TLS handshake, the request loop, the ResponseWriter and UpgradedStream
// the handler sees. Private to the HTTP server; the only Beast user.

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server.hpp"

namespace skiff::apiserver::http {

struct TlsContext;

/// What every connection of one server shares; immutable once the server started.
struct ConnectionContext {
  HttpServerOptions options;  ///< error_body always set
  Handler handler;
  std::shared_ptr<TlsContext> tls;  ///< null: plain TCP
};

/// Serves `socket` until the connection closes. Runs on the socket's executor (a strand of its
/// own). Cancellation (TaskGroup children admit it): `total` = finish gracefully (see server.hpp),
/// `terminal` = close now and cancel the handler. Never throws.
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<const ConnectionContext> context);

}  // namespace skiff::apiserver::http
