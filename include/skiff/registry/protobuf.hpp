// SPDX-License-Identifier: Apache-2.0
#pragma once

// protobuf: decoding of Kubernetes' protobuf encoding (`Content-Type:
// application/vnd.kubernetes.protobuf`) into the JSON the same object would have had. kubectl
// 1.32+ sends typed-client writes this way (`create <generator>`, `auth can-i`, `create token`,
// drain's pod DELETE); see /work/shared/notes/kubectl.md §9. Only decoding exists: every
// protobuf-preferring request accepts JSON replies.
//
// A body is the 4-byte magic "k8s\0" followed by a runtime.Unknown message {1 typeMeta{1
// apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}; `raw` is the object's own message,
// decoded with the schema of the kind named by typeMeta. The wire reader is our own (varint,
// fixed32/64, length-delimited, packed and unpacked repeated scalars, maps as entry messages with
// key = 1 and value = 2, unknown fields skipped). Kubernetes' special types become their JSON
// forms: Time/MicroTime {seconds, nanos} → RFC 3339 UTC (the zero time is left out, as JSON's
// `null`), Duration → Go duration text, Quantity → its string, IntOrString → int or string,
// RawExtension/FieldsV1/apiextensions JSON raw bytes → the embedded JSON, bytes → base64, wrapper
// messages (metav1.Verbs, ExtraValue) → plain arrays, inlined structs (Volume.volumeSource) merged
// into the parent.
//
// proto2 presence decides what appears: absent fields are absent, present ones are kept — except
// that a zero scalar in a non-pointer `omitempty` field is dropped, because Go's JSON encoder would
// drop it (gogo marshals every non-pointer scalar, so kubectl's bodies carry `generation: 0` and
// empty strings that the JSON form of the same object never shows). Pointer fields keep zero values
// (`replicas: 0` survives); empty repeated and map fields are left out.
//
// Thread safety: free functions, no shared state; any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry {

/// The media type of Kubernetes protobuf bodies.
inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";
/// The 4-byte prefix of every body.
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};

struct ProtobufOptions {
  /// Deeper message nesting is an error (protects the stack against crafted bodies). Also bounds
  /// JSON embedded in RawExtension fields.
  std::size_t max_depth = 256;
};

/// The runtime.Unknown envelope of a body. `raw` views the caller's buffer.
struct ProtobufEnvelope {
  std::string api_version;
  std::string kind;
  std::string_view raw;
  std::string content_encoding;
  std::string content_type;
};

/// A decoded body: the kind it named and the object in its JSON form, with `apiVersion` and `kind`
/// set (first, as kubectl's JSON has them).
struct DecodedObject {
  GroupVersionKind gvk;
  json::Value object;
};

/// Reads the magic and the envelope. Errors: kBadRequest (wrong magic, malformed envelope, missing
/// kind).
Result<ProtobufEnvelope> parse_protobuf_envelope(std::string_view body);

/// Decodes a whole request body with the kinds of `schema` (default: the built-ins). meta.k8s.io
/// kinds are found whether typeMeta says "v1", "meta.k8s.io/v1" or "<group>/<version>" (upstream
/// registers the option types in every group-version). Errors: kBadRequest with a message naming
/// the problem — wrong magic, truncated varint, length past the end, wrong wire type for a known
/// field, nesting deeper than options.max_depth, embedded JSON that does not parse, a compressed
/// or non-protobuf contentEncoding/contentType, or an unknown kind (`no kind "X" is registered for
/// version "g/v"`).
Result<DecodedObject> decode_protobuf_body(std::string_view body,
                                           const Schema& schema = Schema::builtin(),
                                           const ProtobufOptions& options = {});

/// decode_protobuf_body() when only the object is wanted (the apiserver's body decoding).
Result<json::Value> decode_protobuf(std::string_view body, const Schema& schema = Schema::builtin(),
                                    const ProtobufOptions& options = {});

/// Decodes one message of type `node` (no magic, no envelope) into its JSON form. `node` is a
/// kObject (or a special kind); apiVersion/kind are not added. Errors as decode_protobuf_body.
Result<json::Value> decode_protobuf_message(std::string_view message, const Node& node,
                                            const ProtobufOptions& options = {});

}  // namespace skiff::registry
