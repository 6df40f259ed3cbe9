// SPDX-License-Identifier: Apache-2.0
#pragma once

// TLS setup for the HTTP server (Asio SSL over OpenSSL): the server context built from PEM options,
// and the client identity read from a verified peer certificate. Included only by the server's .cpp
// files.

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "skiff/base/error.hpp"

#include "server.hpp"

namespace skiff::apiserver::http {

struct TlsContext {
  explicit TlsContext(boost::asio::ssl::context c) : ssl(std::move(c)) {}
  boost::asio::ssl::context ssl;
};

/// Builds the server context: TLS 1.2+, the certificate chain and key, ALPN "http/1.1", and, with a
/// client CA, a client-certificate request whose verification result is recorded, not enforced.
/// Errors: kInvalid (unreadable PEM, key not matching the certificate).
Result<std::shared_ptr<TlsContext>> make_tls_context(const HttpServerOptions& options);

/// The identity of a handshaken connection: authenticated only if a peer certificate was presented
/// and verified against the client CA.
PeerIdentity peer_identity(SSL* ssl);

}  // namespace skiff::apiserver::http
