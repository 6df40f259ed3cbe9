// SPDX-License-Identifier: Apache-2.0
#include "skiff/etcd/server.hpp"

#include <climits>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include <absl/synchronization/mutex.h>
#include <boost/crc.hpp>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "convert.hpp"
#include "rpc.grpc.pb.h"
#include "shared.hpp"
#include "skiff/base/log.hpp"
#include "watch.hpp"

namespace skiff::etcd {

namespace {

grpc::Status unimplemented(std::string_view what) {
  return {grpc::StatusCode::UNIMPLEMENTED, std::string(what) + " is not implemented by skiff"};
}

grpc::Status key_not_provided() {
  return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
}

/// Writes from gRPC threads commit on the calling thread when the writer is idle (kv::CommitOn): a
/// client that writes one request at a time then costs no thread hand-offs. The gRPC callback
/// threads may block for that commit's fsync; under load requests queue to the writer as before.
constexpr kv::CommitOn kCommitOn = kv::CommitOn::kCallerIfIdle;

/// Finishes `reactor` with an OK status after `fill` ran, or with the mapped error.
template <class T, class Fill>
auto finisher(grpc::ServerUnaryReactor* reactor, Fill fill) {
  return [reactor, fill = std::move(fill)](Result<T> result) mutable {
    if (!result) {
      reactor->Finish(to_status(result.error()));
      return;
    }
    fill(std::move(*result));
    reactor->Finish(grpc::Status::OK);
  };
}

// ---------------------------------------------------------------------------------------------------
// KV

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  explicit KvService(Shared& shared) : shared_(shared) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* context, const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override {
    auto* reactor = context->DefaultReactor();
    if (request->key().empty()) {
      reactor->Finish(key_not_provided());
      return reactor;
    }
    auto result = shared_.store.range(from_proto(*request));
    if (!result) {
      reactor->Finish(to_status(result.error()));
      return reactor;
    }
    to_proto(std::move(*result), response);
    shared_.fill(response->mutable_header(), response->header().revision());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context, const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    auto* reactor = context->DefaultReactor();
    if (request->ByteSizeLong() > kMaxRequestBytes) {
      reactor->Finish(too_large_status());
      return reactor;
    }
    if (request->key().empty()) {
      reactor->Finish(key_not_provided());
      return reactor;
    }
    shared_.store.put(from_proto(*request), finisher<kv::PutResponse>(reactor, [this, response](kv::PutResponse r) {
                        to_proto(std::move(r), response);
                        shared_.fill(response->mutable_header(), response->header().revision());
                      }),
                      kCommitOn);
    return reactor;
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* context,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override {
    auto* reactor = context->DefaultReactor();
    if (request->ByteSizeLong() > kMaxRequestBytes) {
      reactor->Finish(too_large_status());
      return reactor;
    }
    if (request->key().empty()) {
      reactor->Finish(key_not_provided());
      return reactor;
    }
    shared_.store.delete_range(from_proto(*request),
                               finisher<kv::DeleteRangeResponse>(reactor, [this, response](kv::DeleteRangeResponse r) {
                                 to_proto(std::move(r), response);
                                 shared_.fill(response->mutable_header(), response->header().revision());
                               }),
                               kCommitOn);
    return reactor;
  }

  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* context, const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override {
    auto* reactor = context->DefaultReactor();
    if (request->ByteSizeLong() > kMaxRequestBytes) {
      reactor->Finish(too_large_status());
      return reactor;
    }
    if (has_empty_op(*request)) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key not found"));
      return reactor;
    }
    shared_.store.txn(from_proto(*request), finisher<kv::TxnResponse>(reactor, [this, response](kv::TxnResponse r) {
                        to_proto(std::move(r), response, false);
                        shared_.fill(response->mutable_header(), response->header().revision());
                      }),
                      kCommitOn);
    return reactor;
  }

  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* context,
                                    const etcdserverpb::CompactionRequest* request,
                                    etcdserverpb::CompactionResponse* response) override {
    auto* reactor = context->DefaultReactor();
    // physical=true: kv's compaction is complete for readers once the point is recorded (reads below it
    // fail at once), which is what "physical" promises a client.
    shared_.store.compact(request->revision(),
                          finisher<kv::CompactResponse>(reactor, [this, response](kv::CompactResponse r) {
                            shared_.fill(response->mutable_header(), r.revision);
                          }));
    return reactor;
  }

 private:
  Shared& shared_;
};

// ---------------------------------------------------------------------------------------------------
// Watch

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  WatchService(Shared& shared, Hub& hub) : shared_(shared), hub_(hub) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* /*context*/) override {
    auto stream = std::make_shared<WatchStream>(shared_, hub_);
    stream->start();
    return stream.get();
  }

 private:
  Shared& shared_;
  Hub& hub_;
};

// ---------------------------------------------------------------------------------------------------
// Lease

/// LeaseKeepAlive: each request is answered (in order) from the store's callback on the writer thread.
class KeepAliveStream final
    : public grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>,
      public Stoppable,
      public std::enable_shared_from_this<KeepAliveStream> {
 public:
  KeepAliveStream(Shared& shared, Hub& hub) : shared_(shared), hub_(hub) {}

  void start() {
    self_ = shared_from_this();
    std::lock_guard lock(mu_);
    if (!hub_.add(self_)) {
      finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed: like etcd, end the RPC with OK once the pending answers are written.
      std::lock_guard lock(mu_);
      eof_ = true;
      if (pending_ == 0) finish_locked(grpc::Status::OK);
      return;
    }
    const std::int64_t id = request_.id();
    {
      std::lock_guard lock(mu_);
      ++pending_;
    }
    shared_.store.lease_keep_alive(id, [self = shared_from_this(), id](Result<std::int64_t> ttl) {
      self->answer(id, std::move(ttl));
    });
    std::lock_guard lock(mu_);
    if (!finishing_) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!out_.empty()) out_.pop_front();
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "etcdserver: request canceled"));
      return;
    }
    if (finishing_) {
      finish_locked(final_status_);
      return;
    }
    write_locked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "etcdserver: request canceled"));
  }

  void OnDone() override {
    hub_.remove(this);
    std::shared_ptr<KeepAliveStream> self;
    std::lock_guard lock(mu_);
    done_ = true;
    out_.clear();
    self = std::move(self_);  // pending store callbacks may still hold a reference
  }

  void stop() override {
    std::lock_guard lock(mu_);
    finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
  }

 private:
  void answer(std::int64_t id, Result<std::int64_t> ttl) {
    std::lock_guard lock(mu_);
    --pending_;
    if (finishing_ || done_) return;
    if (!ttl) {
      finish_locked(to_status(ttl.error()));
      return;
    }
    auto& response = out_.emplace_back();
    shared_.fill(response.mutable_header(), shared_.store.current_revision());
    response.set_id(id);
    response.set_ttl(*ttl);
    write_locked();
    if (eof_ && pending_ == 0) finish_locked(grpc::Status::OK);
  }

  void write_locked() {
    if (writing_ || finishing_ || out_.empty()) return;
    writing_ = true;
    StartWrite(&out_.front());
  }

  void finish_locked(const grpc::Status& status) {
    if (!finishing_) {
      finishing_ = true;
      final_status_ = status;
    }
    if (!writing_ && !finished_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  Shared& shared_;
  Hub& hub_;
  std::mutex mu_;
  std::deque<etcdserverpb::LeaseKeepAliveResponse> out_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  bool done_ = false;
  bool eof_ = false;
  int pending_ = 0;  // requests handed to the store, not answered yet
  grpc::Status final_status_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  std::shared_ptr<KeepAliveStream> self_;
};

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  LeaseService(Shared& shared, Hub& hub) : shared_(shared), hub_(hub) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* context,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override {
    auto* reactor = context->DefaultReactor();
    shared_.store.lease_grant(request->id(), request->ttl(),
                              finisher<kv::LeaseGrantResponse>(reactor, [this, response](kv::LeaseGrantResponse r) {
                                shared_.fill(response->mutable_header(), r.revision);
                                response->set_id(r.id);
                                response->set_ttl(r.ttl);
                              }));
    return reactor;
  }

  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override {
    auto* reactor = context->DefaultReactor();
    shared_.store.lease_revoke(request->id(), finisher<std::int64_t>(reactor, [this, response](std::int64_t rev) {
                                 shared_.fill(response->mutable_header(), rev);
                               }));
    return reactor;
  }

  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* /*context*/) override {
    auto stream = std::make_shared<KeepAliveStream>(shared_, hub_);
    stream->start();
    return stream.get();
  }

  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* context,
                                            const etcdserverpb::LeaseTimeToLiveRequest* request,
                                            etcdserverpb::LeaseTimeToLiveResponse* response) override {
    auto* reactor = context->DefaultReactor();
    auto r = shared_.store.lease_time_to_live(request->id(), request->keys());
    shared_.fill(response->mutable_header(), r.revision);
    response->set_id(request->id());
    response->set_ttl(r.ttl);
    response->set_grantedttl(r.granted_ttl);
    for (auto& key : r.keys) response->add_keys(std::move(key));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseLeasesRequest* /*request*/,
                                        etcdserverpb::LeaseLeasesResponse* response) override {
    auto* reactor = context->DefaultReactor();
    const std::int64_t revision = shared_.store.current_revision();
    for (std::int64_t id : shared_.store.lease_list()) response->add_leases()->set_id(id);
    shared_.fill(response->mutable_header(), revision);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  Shared& shared_;
  Hub& hub_;
};

// ---------------------------------------------------------------------------------------------------
// Maintenance

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(Shared& shared) : shared_(shared) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context, const etcdserverpb::AlarmRequest* /*request*/,
                                  etcdserverpb::AlarmResponse* response) override {
    // No alarms are ever raised (quota errors are returned per request); ACTIVATE/DEACTIVATE are no-ops.
    auto* reactor = context->DefaultReactor();
    shared_.fill(response->mutable_header(), shared_.store.current_revision());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* /*request*/,
                                   etcdserverpb::StatusResponse* response) override {
    auto* reactor = context->DefaultReactor();
    const auto status = shared_.store.status();
    shared_.fill(response->mutable_header(), status.revision);
    response->set_version(shared_.options.version);
    response->set_dbsize(status.db_size);
    response->set_dbsizeinuse(status.db_size_in_use);
    response->set_leader(shared_.options.member_id);
    // No raft log: the revision is the closest analogue of an applied index.
    response->set_raftindex(static_cast<std::uint64_t>(status.revision));
    response->set_raftappliedindex(static_cast<std::uint64_t>(status.revision));
    response->set_raftterm(kRaftTerm);
    response->set_islearner(false);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* context,
                                       const etcdserverpb::DefragmentRequest* /*request*/,
                                       etcdserverpb::DefragmentResponse* response) override {
    auto* reactor = context->DefaultReactor();
    shared_.store.defragment(finisher<std::int64_t>(reactor, [this, response](std::int64_t) {
      shared_.fill(response->mutable_header(), shared_.store.current_revision());
    }));
    return reactor;
  }

  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* context, const etcdserverpb::HashRequest* /*request*/,
                                 etcdserverpb::HashResponse* response) override {
    auto* reactor = context->DefaultReactor();
    std::int64_t revision = 0;
    auto hash = hash_at(0, &revision);
    if (!hash) {
      reactor->Finish(to_status(hash.error()));
      return reactor;
    }
    shared_.fill(response->mutable_header(), revision);
    response->set_hash(*hash);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* context, const etcdserverpb::HashKVRequest* request,
                                   etcdserverpb::HashKVResponse* response) override {
    auto* reactor = context->DefaultReactor();
    std::int64_t revision = 0;
    auto hash = hash_at(request->revision(), &revision);
    if (!hash) {
      reactor->Finish(to_status(hash.error()));
      return reactor;
    }
    shared_.fill(response->mutable_header(), revision);
    response->set_hash(*hash);
    // etcd reports -1 while nothing has been compacted.
    const std::int64_t compacted = shared_.store.compact_revision();
    response->set_compact_revision(compacted > 0 ? compacted : -1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MoveLeaderRequest* /*request*/,
                                       etcdserverpb::MoveLeaderResponse* /*response*/) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(unimplemented("MoveLeader"));
    return reactor;
  }

  grpc::ServerUnaryReactor* Downgrade(grpc::CallbackServerContext* context,
                                      const etcdserverpb::DowngradeRequest* /*request*/,
                                      etcdserverpb::DowngradeResponse* /*response*/) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(unimplemented("Downgrade"));
    return reactor;
  }

 private:
  /// CRC-32 over every live key at `revision` (0 = latest): key, value and the three revisions of each.
  /// Not etcd's hash (which covers its bbolt pages), but stable for equal contents.
  Result<std::uint32_t> hash_at(std::int64_t revision, std::int64_t* header_revision) const {
    kv::RangeRequest request;
    request.key = std::string(1, '\0');
    request.range_end = std::string(1, '\0');
    request.revision = revision;
    auto result = shared_.store.range(request);
    if (!result) return result.error();
    boost::crc_32_type crc;
    for (const auto& kv : result->kvs) {
      crc.process_bytes(kv.key.data(), kv.key.size());
      crc.process_bytes(kv.value.data(), kv.value.size());
      for (std::int64_t n : {kv.create_revision, kv.mod_revision, kv.version}) crc.process_bytes(&n, sizeof n);
    }
    *header_revision = result->revision;
    return static_cast<std::uint32_t>(crc.checksum());
  }

  Shared& shared_;
};

// ---------------------------------------------------------------------------------------------------
// Cluster

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit ClusterService(Shared& shared) : shared_(shared) {}

  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MemberListRequest* /*request*/,
                                       etcdserverpb::MemberListResponse* response) override {
    auto* reactor = context->DefaultReactor();
    // etcd's cluster service leaves the header revision at 0; do the same.
    shared_.fill(response->mutable_header(), 0);
    auto* member = response->add_members();
    member->set_id(shared_.options.member_id);
    member->set_name(shared_.options.name);
    member->add_peerurls("http://localhost:2380");
    member->add_clienturls("http://" + client_address());
    member->set_islearner(false);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* context,
                                      const etcdserverpb::MemberAddRequest* /*request*/,
                                      etcdserverpb::MemberAddResponse* /*response*/) override {
    return finish_unimplemented(context, "MemberAdd");
  }
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberRemoveRequest* /*request*/,
                                         etcdserverpb::MemberRemoveResponse* /*response*/) override {
    return finish_unimplemented(context, "MemberRemove");
  }
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberUpdateRequest* /*request*/,
                                         etcdserverpb::MemberUpdateResponse* /*response*/) override {
    return finish_unimplemented(context, "MemberUpdate");
  }
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* context,
                                          const etcdserverpb::MemberPromoteRequest* /*request*/,
                                          etcdserverpb::MemberPromoteResponse* /*response*/) override {
    return finish_unimplemented(context, "MemberPromote");
  }

 private:
  static grpc::ServerUnaryReactor* finish_unimplemented(grpc::CallbackServerContext* context, std::string_view what) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(unimplemented(what));
    return reactor;
  }

  /// The listen address with the bound port substituted (listen may end in ":0").
  std::string client_address() const {
    const auto& listen = shared_.options.listen;
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return listen;
    return listen.substr(0, colon + 1) + std::to_string(shared_.port);
  }

  Shared& shared_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Server

struct Server::Impl {
  Impl(kv::Store& store, ServerOptions options)
      : shared(store, std::move(options)),
        hub(shared.options.watch_threads,
            std::clamp(shared.options.progress_notify_interval / 4, std::chrono::milliseconds(10),
                       std::chrono::milliseconds(1000))),
        kv(shared),
        watch(shared, hub),
        lease(shared, hub),
        maintenance(shared),
        cluster(shared) {}

  Shared shared;
  Hub hub;
  KvService kv;
  WatchService watch;
  LeaseService lease;
  MaintenanceService maintenance;
  ClusterService cluster;
  std::mutex shutdown_mu;
  bool stopped = false;
  std::unique_ptr<grpc::Server> server;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { shutdown(); }

Result<std::unique_ptr<Server>> Server::start(kv::Store& store, ServerOptions options) {
  auto impl = std::make_unique<Impl>(store, std::move(options));
  const std::string listen = impl->shared.options.listen;

  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock detector on: every
  // lock of gRPC's mutexes then updates a global lock graph (2-3 % of the server's CPU under load,
  // `GraphCycles::GetId` in perf). It is a debugging aid; production servers run without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxReceiveBytes));
  builder.SetMaxSendMessageSize(INT_MAX);
  // etcd's keepalive enforcement: pings at least 5 s apart are fine, also without active calls.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default, which would let a second server share the port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&impl->kv);
  builder.RegisterService(&impl->watch);
  builder.RegisterService(&impl->lease);
  builder.RegisterService(&impl->maintenance);
  builder.RegisterService(&impl->cluster);
  impl->server = builder.BuildAndStart();
  if (!impl->server || port == 0) {
    impl->hub.stop_threads();
    if (impl->server) impl->server->Shutdown();
    return errors::unavailable("cannot listen on " + listen +
                               ": bind failed (address in use, not local, or malformed)");
  }
  impl->shared.port = port;
  if (auto* health = impl->server->GetHealthCheckService()) health->SetServingStatus(true);
  log::info("etcd", "serving etcd v3 gRPC on {} (port {})", listen, port);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->shared.port; }

void Server::shutdown() {
  std::lock_guard lock(impl_->shutdown_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (auto* health = impl_->server->GetHealthCheckService()) health->SetServingStatus(false);
  impl_->hub.stop_streams();
  // Unary RPCs already in the store finish from its callbacks; anything else still open after the
  // deadline is cancelled. Shutdown returns once every RPC has completed (OnDone ran).
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->hub.stop_threads();
}

}  // namespace skiff::etcd
