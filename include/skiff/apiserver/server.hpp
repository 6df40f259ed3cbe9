// SPDX-License-Identifier: Apache-2.0
#pragma once

// apiserver: the Kubernetes API over HTTPS, what kubectl and client libraries talk to. It serves
// discovery, OpenAPI, every resource of the registry's catalog (built-ins and CRDs) with the REST
// verbs, watch streams, Tables and the review APIs, and authenticates clients by their TLS
// certificates (the admin certificate is CN system:admin, O system:masters). Beast and OpenSSL stay
// inside src/apiserver.
//
// Threads: the server owns an io_context run by `io_threads` threads; every connection runs on a
// strand of it. start() returns once the port is bound; shutdown() blocks until every connection
// (watches included) has ended.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::registry {
class Registry;
}

namespace skiff::apiserver {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;  ///< 0 picks a free port (see Server::port())
  std::string cert_chain_pem;   ///< serving certificate (and its CA)
  std::string private_key_pem;
  std::string client_ca_pem;    ///< clients presenting a certificate signed by it are authenticated
  unsigned io_threads = 2;
  std::string git_version = "v1.32.5+skiff";  ///< /version (kubectl picks its client by the minor)
  std::string git_commit = "unknown";
  std::string build_date = "1970-01-01T00:00:00Z";
  /// Service-account tokens: sign claims into a JWT / verify one back into its claims. Optional.
  std::function<Result<std::string>(const json::Value& claims)> sign_token;
  std::function<Result<json::Value>(std::string_view token)> verify_token;
};

/// A running API server. Borrows `registry`, which must outlive it.
class Server {
 public:
  /// Binds and starts serving. Errors: kUnavailable when the address cannot be bound, kInvalid for
  /// unusable certificates.
  static Result<std::unique_ptr<Server>> start(registry::Registry& registry, ServerOptions options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port.
  int port() const;

  /// Stops accepting, ends watch streams cleanly, lets in-flight requests finish (bounded grace),
  /// and returns when everything has stopped. Idempotent; the destructor calls it. Never call it from
  /// one of the server's own threads.
  void shutdown();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::apiserver
