// SPDX-License-Identifier: Apache-2.0
#include "convert.hpp"

#include <string>
#include <utility>

#include "skiff/kv/store.hpp"

namespace skiff::etcd {

namespace {

grpc::StatusCode code_for(const Error& error) {
  switch (error.reason) {
    case Reason::kGone:
    case Reason::kExpired:
    case Reason::kOutOfRange:
      return grpc::StatusCode::OUT_OF_RANGE;
    case Reason::kBadRequest:
    case Reason::kInvalid:
    case Reason::kTooLarge:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Reason::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Reason::kAlreadyExists:
    case Reason::kConflict:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Reason::kTooManyRequests:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Reason::kUnavailable:
    case Reason::kTimeout:
      return grpc::StatusCode::UNAVAILABLE;
    case Reason::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case Reason::kForbidden:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Reason::kUnauthorized:
      return grpc::StatusCode::UNAUTHENTICATED;
    case Reason::kInternal:
      break;
  }
  return grpc::StatusCode::INTERNAL;
}

kv::SortOrder sort_order(etcdserverpb::RangeRequest::SortOrder order) {
  switch (order) {
    case etcdserverpb::RangeRequest::ASCEND:
      return kv::SortOrder::kAscend;
    case etcdserverpb::RangeRequest::DESCEND:
      return kv::SortOrder::kDescend;
    default:
      return kv::SortOrder::kNone;  // etcd 3.4/3.5 ignore unknown values
  }
}

kv::SortTarget sort_target(etcdserverpb::RangeRequest::SortTarget target) {
  switch (target) {
    case etcdserverpb::RangeRequest::VERSION:
      return kv::SortTarget::kVersion;
    case etcdserverpb::RangeRequest::CREATE:
      return kv::SortTarget::kCreate;
    case etcdserverpb::RangeRequest::MOD:
      return kv::SortTarget::kMod;
    case etcdserverpb::RangeRequest::VALUE:
      return kv::SortTarget::kValue;
    default:
      return kv::SortTarget::kKey;
  }
}

kv::Compare compare_from_proto(const etcdserverpb::Compare& in) {
  kv::Compare out;
  switch (in.result()) {
    case etcdserverpb::Compare::GREATER:
      out.result = kv::CompareResult::kGreater;
      break;
    case etcdserverpb::Compare::LESS:
      out.result = kv::CompareResult::kLess;
      break;
    case etcdserverpb::Compare::NOT_EQUAL:
      out.result = kv::CompareResult::kNotEqual;
      break;
    default:
      out.result = kv::CompareResult::kEqual;
      break;
  }
  switch (in.target()) {
    case etcdserverpb::Compare::CREATE:
      out.target = kv::CompareTarget::kCreate;
      out.number = in.create_revision();
      break;
    case etcdserverpb::Compare::MOD:
      out.target = kv::CompareTarget::kMod;
      out.number = in.mod_revision();
      break;
    case etcdserverpb::Compare::VALUE:
      out.target = kv::CompareTarget::kValue;
      out.value = in.value();
      break;
    case etcdserverpb::Compare::LEASE:
      out.target = kv::CompareTarget::kLease;
      out.number = in.lease();
      break;
    default:
      out.target = kv::CompareTarget::kVersion;
      out.number = in.version();
      break;
  }
  out.key = in.key();
  out.range_end = in.range_end();
  return out;
}

kv::RequestOp op_from_proto(const etcdserverpb::RequestOp& in) {
  kv::RequestOp out;
  switch (in.request_case()) {
    case etcdserverpb::RequestOp::kRequestRange:
      out.op = etcd::from_proto(in.request_range());
      break;
    case etcdserverpb::RequestOp::kRequestPut:
      out.op = etcd::from_proto(in.request_put());
      break;
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      out.op = etcd::from_proto(in.request_delete_range());
      break;
    case etcdserverpb::RequestOp::kRequestTxn:
      out.op = etcd::from_proto(in.request_txn());
      break;
    default:
      // Empty RequestOps are rejected before conversion (has_empty_op).
      out.op = kv::RangeRequest{};
      break;
  }
  return out;
}

void inner_header(etcdserverpb::ResponseHeader* header, std::int64_t revision) {
  header->Clear();
  header->set_revision(revision);
}

}  // namespace

grpc::Status to_status(const Error& error) {
  return {code_for(error), "etcdserver: " + error.message};
}

bool has_empty_op(const etcdserverpb::TxnRequest& txn) {
  for (const auto* list : {&txn.success(), &txn.failure()}) {
    for (const auto& op : *list) {
      if (op.request_case() == etcdserverpb::RequestOp::REQUEST_NOT_SET) return true;
      if (op.has_request_txn() && has_empty_op(op.request_txn())) return true;
    }
  }
  return false;
}

grpc::Status too_large_status() {
  return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large"};
}

kv::RangeRequest from_proto(const etcdserverpb::RangeRequest& in) {
  kv::RangeRequest out;
  out.key = in.key();
  out.range_end = in.range_end();
  out.limit = in.limit();
  out.revision = in.revision();
  out.sort_order = sort_order(in.sort_order());
  out.sort_target = sort_target(in.sort_target());
  out.keys_only = in.keys_only();
  out.count_only = in.count_only();
  out.min_mod_revision = in.min_mod_revision();
  out.max_mod_revision = in.max_mod_revision();
  out.min_create_revision = in.min_create_revision();
  out.max_create_revision = in.max_create_revision();
  return out;
}

kv::PutRequest from_proto(const etcdserverpb::PutRequest& in) {
  kv::PutRequest out;
  out.key = in.key();
  out.value = in.value();
  out.lease = in.lease();
  out.prev_kv = in.prev_kv();
  out.ignore_value = in.ignore_value();
  out.ignore_lease = in.ignore_lease();
  return out;
}

kv::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& in) {
  kv::DeleteRangeRequest out;
  out.key = in.key();
  out.range_end = in.range_end();
  out.prev_kv = in.prev_kv();
  return out;
}

kv::TxnRequest from_proto(const etcdserverpb::TxnRequest& in) {
  kv::TxnRequest out;
  out.compare.reserve(static_cast<std::size_t>(in.compare_size()));
  for (const auto& c : in.compare()) out.compare.push_back(compare_from_proto(c));
  out.success.reserve(static_cast<std::size_t>(in.success_size()));
  for (const auto& op : in.success()) out.success.push_back(op_from_proto(op));
  out.failure.reserve(static_cast<std::size_t>(in.failure_size()));
  for (const auto& op : in.failure()) out.failure.push_back(op_from_proto(op));
  return out;
}

void to_proto(const kv::KeyValue& in, mvccpb::KeyValue* out) {
  out->set_key(in.key);
  out->set_create_revision(in.create_revision);
  out->set_mod_revision(in.mod_revision);
  out->set_version(in.version);
  out->set_value(in.value);
  out->set_lease(in.lease);
}

namespace {
void move_kv(kv::KeyValue&& in, mvccpb::KeyValue* out) {
  out->set_key(std::move(in.key));
  out->set_create_revision(in.create_revision);
  out->set_mod_revision(in.mod_revision);
  out->set_version(in.version);
  out->set_value(std::move(in.value));
  out->set_lease(in.lease);
}
}  // namespace

void to_proto(kv::RangeResponse&& in, etcdserverpb::RangeResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  out->mutable_kvs()->Reserve(static_cast<int>(in.kvs.size()));
  for (auto& kv : in.kvs) move_kv(std::move(kv), out->add_kvs());
  out->set_more(in.more);
  out->set_count(in.count);
}

void to_proto(kv::PutResponse&& in, etcdserverpb::PutResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  if (in.prev_kv) move_kv(std::move(*in.prev_kv), out->mutable_prev_kv());
}

void to_proto(kv::DeleteRangeResponse&& in, etcdserverpb::DeleteRangeResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  out->set_deleted(in.deleted);
  for (auto& kv : in.prev_kvs) move_kv(std::move(kv), out->add_prev_kvs());
}

void to_proto(kv::TxnResponse&& in, etcdserverpb::TxnResponse* out, bool nested) {
  if (nested) {
    out->mutable_header()->Clear();
  } else {
    out->mutable_header()->set_revision(in.revision);
  }
  out->set_succeeded(in.succeeded);
  for (auto& r : in.responses) {
    auto* op = out->add_responses();
    std::visit(
        [op](auto&& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, kv::RangeResponse>) {
            auto* rr = op->mutable_response_range();
            to_proto(std::move(v), rr);
            inner_header(rr->mutable_header(), rr->header().revision());
          } else if constexpr (std::is_same_v<T, kv::PutResponse>) {
            auto* pr = op->mutable_response_put();
            to_proto(std::move(v), pr);
            inner_header(pr->mutable_header(), pr->header().revision());
          } else if constexpr (std::is_same_v<T, kv::DeleteRangeResponse>) {
            auto* dr = op->mutable_response_delete_range();
            to_proto(std::move(v), dr);
            inner_header(dr->mutable_header(), dr->header().revision());
          } else {
            to_proto(std::move(v), op->mutable_response_txn(), true);
          }
        },
        std::move(r.op));
  }
}

void to_proto(kv::Event&& in, mvccpb::Event* out) {
  out->set_type(in.type == kv::Event::Type::kDelete ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
  move_kv(std::move(in.kv), out->mutable_kv());
  if (in.prev_kv) move_kv(std::move(*in.prev_kv), out->mutable_prev_kv());
}

}  // namespace skiff::etcd
