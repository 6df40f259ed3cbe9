// SPDX-License-Identifier: Apache-2.0
#pragma once

// OpenAPI documents (private to src/apiserver), generated from the catalog and the schemas and
// rebuilt when the catalog changes (CRDs): `/openapi/v3` (the index of group-version documents, each
// with a content hash) and `/openapi/v3/<api|apis/g>/<v>` (paths with their operations, whose PATCH
// operations declare fieldValidation as kubectl checks, and components.schemas with
// x-kubernetes-group-version-kind), plus `/openapi/v2`.
//
// Threads: serve() may be called from any thread; documents are built lazily under a mutex.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "skiff/registry/catalog.hpp"

#include "exchange.hpp"

namespace skiff::apiserver {

struct OpenApiResponse {
  int code = 404;
  HeaderList headers;
  std::string body;
};

class OpenApiCache {
 public:
  explicit OpenApiCache(registry::Catalog& catalog);

  /// Answers a GET of `path` (under /openapi/). `hash` is the ?hash= parameter: when it names the
  /// current document, the answer may be cached forever.
  OpenApiResponse serve(std::string_view path, std::string_view hash, std::string_view accept);

  /// The v3 document of one group-version ("api/v1", "apis/apps/v1"), or null (tests).
  json::Value document(std::string_view group_version_path);

 private:
  struct Doc {
    std::string body;
    std::string hash;
  };
  void rebuild_locked();

  registry::Catalog& catalog_;
  std::mutex mu_;
  std::uint64_t generation_ = 0;
  std::map<std::string, Doc, std::less<>> docs_;  // by "api/v1", "apis/apps/v1"
  Doc root_;
  Doc v2_;
};

}  // namespace skiff::apiserver
