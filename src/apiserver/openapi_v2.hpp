// SPDX-License-Identifier: Apache-2.0
#pragma once

// openapi_v2 (private to src/apiserver): the swagger 2.0 document of the whole API, as upstream
// serves it at `/openapi/v2`, in JSON and in the protobuf form kubectl 1.27/1.28 read
// (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`: gnostic's `openapi.v2.Document`,
// which client-go's discovery `OpenAPISchema()` unmarshals and kube-openapi turns into the models
// behind client-side validation, `explain` and apply's strategic-merge metadata).
//
// The paths are the v3 builder's (openapi.cpp), converted operation by operation to swagger 2.0
// shapes, so both documents always list the same paths and operations: query and path parameters
// carry `type` instead of a `schema`, a request body becomes the `body` parameter with a `schema`,
// responses carry `schema`, media types move to `consumes`/`produces`, `$ref`s point at
// `#/definitions/`. `x-kubernetes-action`, `x-kubernetes-group-version-kind` and the PATCH
// operations' `fieldValidation` parameter (what kubectl's query-parameter verifier looks for) come
// along unchanged. `definitions` is openapi_v2_definitions() over every group-version's roots, plus
// a list definition for each custom resource (the schema model has none; upstream publishes
// `<kind>List` for CRDs too).
//
// Threads: plain values and pure functions, used under OpenApiCache's mutex.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::apiserver {

/// Collects the group-versions of one catalog generation into one swagger 2.0 document.
class SwaggerBuilder {
public:
  /// `version` is the server's gitVersion, shown as info.version.
  explicit SwaggerBuilder(std::string version);

  /// Adds one group-version: its OpenAPI v3 `paths` object as built for `/openapi/v3/<gv>` (read,
  /// not kept) and the definition roots of that document.
  void add_group_version(const json::Object& v3_paths,
                         const std::vector<const registry::Node*>& roots);

  /// The document: swagger, info, paths, definitions, securityDefinitions, security.
  json::Value build() &&;

private:
  std::string version_;
  json::Object paths_;
  std::vector<const registry::Node*> roots_;
};

/// Adds the `<definition>List` definitions that operations in `paths` refer to (`$ref`s starting
/// with `ref_prefix`: "#/definitions/" or "#/components/schemas/") and `definitions` lacks while it
/// has the item: custom resources' lists, which the schema model has no node for. Shaped as
/// upstream publishes them (apiVersion, items required, kind, metadata: ListMeta, which the caller
/// makes sure is among the definitions).
void add_list_definitions(json::Object& definitions, const json::Object& paths,
                          std::string_view ref_prefix);

/// Adds `io.k8s.apimachinery.pkg.apis.meta.v1.Patch` (the PATCH operations' body: upstream names an
/// empty struct, which the schema data has no node for) to `definitions` unless it is there. Used
/// for the v2 definitions and the v3 components.schemas alike.
void add_patch_definition(json::Object& definitions);

/// The swagger 2.0 document `swagger` (JSON as SwaggerBuilder builds it, or any swagger 2.0 JSON)
/// encoded as gnostic's `openapi.v2.Document` protobuf message. Members the message has no field
/// for are left out; `x-*` members become vendor_extension entries whose value is the YAML text of
/// the JSON value. Never fails: malformed parts (a string where an object belongs) are skipped.
std::string encode_openapi_v2_protobuf(const json::Value& swagger);

/// The protobuf media type kubectl asks for, and its older spelling (the only one answered with).
inline constexpr std::string_view kSwaggerProtobuf =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
inline constexpr std::string_view kSwaggerProtobufOld =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The representations of `/openapi/v2`.
enum class SwaggerFormat : std::uint8_t { kNone, kJson, kProtobuf };

struct SwaggerNegotiated {
  SwaggerFormat format = SwaggerFormat::kNone;  ///< kNone: nothing acceptable (406)
  std::string_view content_type;                ///< what to send as Content-Type
};

/// Picks the representation for an Accept header as upstream's OpenAPI handler does: clauses by
/// q-value (then specificity), the first one matching `application/json`,
/// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` or its older spelling
/// `application/com.github.proto-openapi.spec.v2.v1.0+protobuf` wins; wildcards and an empty
/// header mean JSON. The protobuf Content-Type is always the `.v1.0` spelling, as upstream answers:
/// the `@` of the other is a MIME tspecial, and client-go fails on a Content-Type carrying it.
SwaggerNegotiated negotiate_swagger(std::string_view accept);

/// The YAML text gnostic stores in an `Any` for `value` (block style, strings quoted whenever a
/// YAML 1.1 reader could take them for something else, ending in a newline). Exposed for tests.
std::string openapi_v2_yaml(const json::Value& value);

}  // namespace skiff::apiserver
