// SPDX-License-Identifier: Apache-2.0
#pragma once

// The Kubernetes API part of `skiff server` (private to src/cli): catalog, registry, cluster PKI,
// admin kubeconfig and the HTTPS server, started over an open store and stopped in reverse.

#include <memory>

#include "skiff/base/error.hpp"
#include "skiff/cli/server_config.hpp"

namespace skiff::kv {
class Store;
}

namespace skiff::cli {

class KubeApi {
 public:
  /// Starts everything; the log line "Kubernetes API listening on https://HOST:PORT" marks
  /// readiness. Errors: start-up failures with a message to print (kUnavailable, kInvalid).
  static Result<std::unique_ptr<KubeApi>> start(const ServerConfig& config, kv::Store& store);
  ~KubeApi();
  /// Stops serving (blocking, graceful).
  void shutdown();

  struct Impl;

 private:
  explicit KubeApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::cli
