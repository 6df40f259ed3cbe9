// SPDX-License-Identifier: Apache-2.0
#pragma once

// Conversions between the etcd protobuf messages and kv's plain types, and kv errors -> gRPC status.
// Internal to src/etcd.

#include <cstdint>

#include <grpcpp/support/status.h>

#include "kv.pb.h"
#include "rpc.pb.h"
#include "skiff/base/error.hpp"
#include "skiff/kv/types.hpp"

namespace skiff::etcd {

/// etcd's --max-request-bytes default: larger requests fail with "request is too large".
inline constexpr std::size_t kMaxRequestBytes = 1536u * 1024u;
/// gRPC receive limit: the request limit plus 512 KiB of overhead (etcd's formula).
inline constexpr std::size_t kMaxReceiveBytes = kMaxRequestBytes + 512u * 1024u;

/// kv error -> gRPC status with etcd's code and "etcdserver: <text>" message.
grpc::Status to_status(const Error& error);
/// InvalidArgument "etcdserver: request is too large".
grpc::Status too_large_status();

/// True if a branch (at any nesting level) holds a RequestOp with nothing set: etcd rejects that with
/// InvalidArgument "etcdserver: key not found".
bool has_empty_op(const etcdserverpb::TxnRequest& txn);

kv::RangeRequest from_proto(const etcdserverpb::RangeRequest& in);
kv::PutRequest from_proto(const etcdserverpb::PutRequest& in);
kv::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& in);
kv::TxnRequest from_proto(const etcdserverpb::TxnRequest& in);

void to_proto(const kv::KeyValue& in, mvccpb::KeyValue* out);
/// Fills everything but the header's cluster/member/term (the caller sets the header).
void to_proto(kv::RangeResponse&& in, etcdserverpb::RangeResponse* out);
void to_proto(kv::PutResponse&& in, etcdserverpb::PutResponse* out);
void to_proto(kv::DeleteRangeResponse&& in, etcdserverpb::DeleteRangeResponse* out);
/// Inner responses get a header holding only their revision; nested TxnResponses an empty header.
void to_proto(kv::TxnResponse&& in, etcdserverpb::TxnResponse* out, bool nested);
void to_proto(kv::Event&& in, mvccpb::Event* out);

}  // namespace skiff::etcd
