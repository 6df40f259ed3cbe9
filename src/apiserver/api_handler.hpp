// SPDX-License-Identifier: Apache-2.0
#pragma once

// ApiHandler: every Kubernetes API request, after the transport (private to src/apiserver):
// authentication gate, discovery, OpenAPI, resource verbs over the registry with content
// negotiation (JSON, YAML, Table, PartialObjectMetadata; JSON/YAML/protobuf bodies), watch streams,
// and the review APIs.
//
// Executors: handle() runs on the connection's strand and may be cancelled (client gone, server
// shutdown); a watch then ends its stream. The handler itself is thread-safe (no mutable state but
// the caches, which lock).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/registry.hpp"

#include "exchange.hpp"

namespace skiff::apiserver {

struct HandlerOptions {
  std::string git_version = "v1.32.5+skiff";
  std::string git_commit = "unknown";
  std::string build_date = "1970-01-01T00:00:00Z";
  /// Signs service-account token claims (a JSON object) into a JWT; unset: TokenRequest answers
  /// 503.
  std::function<Result<std::string>(const json::Value& claims)> sign_token;
  /// Verifies a JWT and returns its claims (TokenReview); unset: tokens are never authenticated.
  std::function<Result<json::Value>(std::string_view token)> verify_token;
  std::string service_account_issuer = "https://kubernetes.default.svc.cluster.local";
  /// Longest watch when the client gives no timeoutSeconds (upstream: 30–60 min, randomised).
  std::chrono::seconds max_watch = std::chrono::minutes(30);
  /// Idle time after which a watch with allowWatchBookmarks gets a BOOKMARK.
  std::chrono::milliseconds bookmark_interval = std::chrono::seconds(60);
};

class ApiHandler {
 public:
  ApiHandler(registry::Registry& registry, HandlerOptions options);
  ~ApiHandler();
  ApiHandler(const ApiHandler&) = delete;
  ApiHandler& operator=(const ApiHandler&) = delete;

  /// Serves one request. Never throws for bad input (answers a Status); a bug surfaces as an
  /// exception the transport turns into 500.
  boost::asio::awaitable<void> handle(const ApiRequest& request, ApiResponder& responder);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::apiserver
