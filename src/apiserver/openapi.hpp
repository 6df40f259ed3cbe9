// SPDX-License-Identifier: Apache-2.0
#pragma once

// OpenAPI documents (private to src/apiserver), generated from the catalog and the schemas and
// rebuilt when the catalog changes (CRDs): `/openapi/v3` (the index of group-version documents, each
// with a content hash) and `/openapi/v3/<api|apis/g>/<v>` (paths with their operations, whose PATCH
// operations declare fieldValidation as kubectl checks, and components.schemas with
// x-kubernetes-group-version-kind), plus `/openapi/v2`: the swagger 2.0 document of the whole API
// in JSON or gnostic protobuf (openapi_v2.hpp), built from the same paths in the same rebuild.
//
// Each document is built once per catalog generation (the first request after a change rebuilds
// them all) and kept as bytes, with its gzip made on the first request that accepts it; requests
// copy the cached bytes and never re-serialize. `If-None-Match` naming the current ETag: 304.
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

/// What serve() reads of a GET: the path, the ?hash= parameter and three headers.
struct OpenApiRequest {
  std::string_view path;             ///< under /openapi/
  std::string_view hash;             ///< ?hash=
  std::string_view accept;           ///< picks JSON or protobuf for /openapi/v2
  std::string_view accept_encoding;  ///< gzip: the cached compressed bytes, Content-Encoding set
  std::string_view if_none_match;    ///< the current ETag (or `*`) in it: 304, no body
};

class OpenApiCache {
 public:
  explicit OpenApiCache(registry::Catalog& catalog);

  /// Answers a GET of `path` (under /openapi/). `hash` is the ?hash=
  /// parameter: when it names the current v3 document, the answer may be cached forever. `accept`
  /// picks the representation of /openapi/v2 (JSON or protobuf; code 406 when neither is
  /// acceptable); the v3 documents are JSON whatever it says.
  OpenApiResponse serve(std::string_view path, std::string_view hash, std::string_view accept) {
    return serve(OpenApiRequest{path, hash, accept, {}, {}});
  }
  /// The same with the conditional and compression headers: code 304 when `if_none_match` names
  /// the document's ETag; a gzip body (Content-Encoding: gzip) when `accept_encoding` allows it and
  /// the document is large enough to gain from it.
  OpenApiResponse serve(const OpenApiRequest& req);

  /// The v3 document of one group-version ("api/v1", "apis/apps/v1"), or null (tests).
  json::Value document(std::string_view group_version_path);

 private:
  struct Doc {
    std::string body;
    std::string hash;
    std::string gzip;  // of body, made on first use
  };
  // The response carrying `d` (headers already in `out`), after If-None-Match and Accept-Encoding.
  void answer_locked(Doc& d, const OpenApiRequest& req, OpenApiResponse& out);
  void rebuild_locked();

  registry::Catalog& catalog_;
  std::mutex mu_;
  std::uint64_t generation_ = 0;
  std::map<std::string, Doc, std::less<>> docs_;  // by "api/v1", "apis/apps/v1"
  Doc root_;
  Doc v2_json_;   // hash: of the JSON, also the protobuf's ETag (upstream shares it; Vary: Accept)
  Doc v2_proto_;
};

}  // namespace skiff::apiserver
