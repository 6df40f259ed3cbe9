// SPDX-License-Identifier: Apache-2.0
//
// Raw gRPC tests of the shim for what etcdctl cannot drive: the watch protocol details (ids, ordering,
// progress requests and notifications, fragmentation, slow consumers, cancellation), headers, limits,
// lease keep-alive streams, health and shutdown. The client uses Skiff's generated etcd stubs.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "harness.hpp"
#include "rpc.grpc.pb.h"

namespace {

using namespace std::chrono_literals;
using skiff::etcd::testing::Shim;

std::shared_ptr<grpc::Channel> channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

/// A Watch stream with a reader thread (started on demand) and a queue of responses.
class WatchClient {
 public:
  explicit WatchClient(const std::shared_ptr<grpc::Channel>& ch, bool read_now = true)
      : stub_(etcdserverpb::Watch::NewStub(ch)), stream_(stub_->Watch(&context_)) {
    if (read_now) start_reading();
  }
  ~WatchClient() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  void start_reading() {
    reader_ = std::thread([this] {
      etcdserverpb::WatchResponse response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mu_);
        queue_.push_back(response);
        cv_.notify_all();
      }
      std::lock_guard lock(mu_);
      closed_ = true;
      status_ = stream_->Finish();
      cv_.notify_all();
    });
  }

  void create(const std::string& key, const std::string& range_end = {}, std::int64_t start = 0,
              std::int64_t id = 0, bool prev_kv = false, bool progress_notify = false, bool fragment = false) {
    etcdserverpb::WatchRequest request;
    auto* c = request.mutable_create_request();
    c->set_key(key);
    c->set_range_end(range_end);
    c->set_start_revision(start);
    c->set_watch_id(id);
    c->set_prev_kv(prev_kv);
    c->set_progress_notify(progress_notify);
    c->set_fragment(fragment);
    REQUIRE(stream_->Write(request));
  }
  void cancel(std::int64_t id) {
    etcdserverpb::WatchRequest request;
    request.mutable_cancel_request()->set_watch_id(id);
    REQUIRE(stream_->Write(request));
  }
  void progress() {
    etcdserverpb::WatchRequest request;
    request.mutable_progress_request();
    REQUIRE(stream_->Write(request));
  }

  std::optional<etcdserverpb::WatchResponse> next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; })) return std::nullopt;
    if (queue_.empty()) return std::nullopt;
    auto response = std::move(queue_.front());
    queue_.pop_front();
    return response;
  }
  bool closed(std::chrono::milliseconds timeout, grpc::Status* status) {
    std::unique_lock lock(mu_);
    const bool ok = cv_.wait_for(lock, timeout, [this] { return closed_; });
    if (ok && status != nullptr) *status = status_;
    return ok;
  }

 private:
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<etcdserverpb::WatchResponse> queue_;
  bool closed_ = false;
  grpc::Status status_;
  std::thread reader_;
};

struct Kv {
  explicit Kv(const std::shared_ptr<grpc::Channel>& ch) : stub(etcdserverpb::KV::NewStub(ch)) {}

  grpc::Status put(const std::string& key, const std::string& value, etcdserverpb::PutResponse* out = nullptr) {
    grpc::ClientContext context;
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    auto status = stub->Put(&context, request, &response);
    if (out != nullptr) *out = response;
    return status;
  }
  std::int64_t put_rev(const std::string& key, const std::string& value) {
    etcdserverpb::PutResponse response;
    REQUIRE(put(key, value, &response).ok());
    return response.header().revision();
  }

  std::unique_ptr<etcdserverpb::KV::Stub> stub;
};

}  // namespace

TEST_CASE("headers and unary basics over raw gRPC", "[etcd][grpc]") {
  skiff::etcd::ServerOptions options;
  options.cluster_id = 111;
  options.member_id = 222;
  Shim shim(options);
  auto ch = channel(shim.endpoint());
  Kv kv(ch);

  grpc::ClientContext c1;
  etcdserverpb::RangeRequest range;
  range.set_key("nothing");
  etcdserverpb::RangeResponse range_response;
  REQUIRE(kv.stub->Range(&c1, range, &range_response).ok());
  CHECK(range_response.header().cluster_id() == 111);
  CHECK(range_response.header().member_id() == 222);
  CHECK(range_response.header().revision() == 1);
  CHECK(range_response.header().raft_term() >= 1);

  etcdserverpb::PutResponse put_response;
  REQUIRE(kv.put("a", "1", &put_response).ok());
  CHECK(put_response.header().revision() == 2);
  CHECK(put_response.header().member_id() == 222);

  SECTION("txn inner headers carry only the revision; nested txn an empty header") {
    grpc::ClientContext c;
    etcdserverpb::TxnRequest txn;
    txn.add_success()->mutable_request_put()->set_key("b");
    txn.add_success()->mutable_request_range()->set_key("a");
    auto* nested = txn.add_success()->mutable_request_txn();
    nested->add_success()->mutable_request_range()->set_key("b");
    etcdserverpb::TxnResponse response;
    REQUIRE(kv.stub->Txn(&c, txn, &response).ok());
    CHECK(response.succeeded());
    CHECK(response.header().revision() == 3);
    CHECK(response.header().cluster_id() == 111);
    REQUIRE(response.responses_size() == 3);
    CHECK(response.responses(0).response_put().header().revision() == 3);
    CHECK(response.responses(0).response_put().header().cluster_id() == 0);
    CHECK(response.responses(1).response_range().header().revision() == 3);
    CHECK(response.responses(1).response_range().kvs_size() == 1);
    const auto& inner = response.responses(2).response_txn();
    CHECK(inner.has_header());
    CHECK(inner.header().revision() == 0);
    CHECK(inner.header().cluster_id() == 0);
    REQUIRE(inner.responses_size() == 1);
    CHECK(inner.responses(0).response_range().header().revision() == 3);
  }

  SECTION("empty RequestOp -> key not found") {
    grpc::ClientContext c;
    etcdserverpb::TxnRequest txn;
    txn.add_success();
    etcdserverpb::TxnResponse response;
    auto status = kv.stub->Txn(&c, txn, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "etcdserver: key not found");
  }

  SECTION("error codes and texts") {
    grpc::ClientContext c;
    etcdserverpb::RangeRequest r;
    r.set_key("a");
    r.set_revision(99);
    etcdserverpb::RangeResponse response;
    auto status = kv.stub->Range(&c, r, &response);
    CHECK(status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
    CHECK(status.error_message() == "etcdserver: mvcc: required revision is a future revision");

    grpc::ClientContext c2;
    etcdserverpb::RangeRequest empty;
    status = kv.stub->Range(&c2, empty, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "etcdserver: key is not provided");
  }

  SECTION("request size limits") {
    auto status = kv.put("big", std::string(1400 * 1024, 'x'));
    CHECK(status.ok());
    status = kv.put("big", std::string(1600 * 1024, 'x'));
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "etcdserver: request is too large");
    status = kv.put("big", std::string(2200 * 1024, 'x'));
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }

  SECTION("large responses are not capped") {
    for (int i = 0; i < 6; ++i) REQUIRE(kv.put("large/" + std::to_string(i), std::string(1000 * 1024, 'y')).ok());
    grpc::ClientContext c;
    etcdserverpb::RangeRequest r;
    r.set_key("large/");
    r.set_range_end("large0");
    etcdserverpb::RangeResponse response;
    REQUIRE(kv.stub->Range(&c, r, &response).ok());
    CHECK(response.kvs_size() == 6);
  }

  SECTION("maintenance and cluster") {
    auto maintenance = etcdserverpb::Maintenance::NewStub(ch);
    grpc::ClientContext c;
    etcdserverpb::StatusResponse status;
    REQUIRE(maintenance->Status(&c, etcdserverpb::StatusRequest(), &status).ok());
    CHECK(status.leader() == 222);
    CHECK(status.dbsize() > 0);
    CHECK(status.header().revision() == 2);
    CHECK(status.version() == options.version);

    grpc::ClientContext c2;
    etcdserverpb::AlarmResponse alarms;
    REQUIRE(maintenance->Alarm(&c2, etcdserverpb::AlarmRequest(), &alarms).ok());
    CHECK(alarms.alarms_size() == 0);

    grpc::ClientContext c3;
    etcdserverpb::SnapshotResponse snapshot;
    auto reader = maintenance->Snapshot(&c3, etcdserverpb::SnapshotRequest());
    CHECK_FALSE(reader->Read(&snapshot));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::UNIMPLEMENTED);

    auto cluster = etcdserverpb::Cluster::NewStub(ch);
    grpc::ClientContext c4;
    etcdserverpb::MemberListResponse members;
    REQUIRE(cluster->MemberList(&c4, etcdserverpb::MemberListRequest(), &members).ok());
    REQUIRE(members.members_size() == 1);
    CHECK(members.members(0).id() == 222);
    CHECK(members.members(0).clienturls(0) == "http://" + shim.endpoint());
  }

  SECTION("grpc health reports SERVING") {
    grpc::ClientContext c;
    // grpc.health.v1.HealthCheckRequest{service=""} is the empty message.
    grpc::Slice empty;
    grpc::ByteBuffer request(&empty, 1);
    grpc::GenericStub generic(ch);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    generic.UnaryCall(&c, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        std::lock_guard lock(mu);
                        status = s;
                        done = true;
                        cv.notify_all();
                      });
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return done; }));
    REQUIRE(status.ok());
    std::vector<grpc::Slice> slices;
    REQUIRE(response.Dump(&slices).ok());
    std::string bytes;
    for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    CHECK(bytes == std::string("\x08\x01", 2));  // status: SERVING
  }
}

TEST_CASE("watch create/cancel protocol", "[etcd][grpc]") {
  Shim shim;
  auto ch = channel(shim.endpoint());
  Kv kv(ch);
  WatchClient w(ch);

  w.create("a");
  w.create("b");
  w.create("c", "", 0, 7);
  w.create("d", "", 0, 7);           // duplicate explicit id
  w.create("z", "a");                // key >= range_end
  w.create("e", "", -1);             // negative start revision
  w.create("", "");                  // empty key: treated as "\0"

  auto r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK_FALSE(r->canceled());
  CHECK(r->watch_id() == 0);
  CHECK(r->header().revision() == 1);
  r = w.next();
  REQUIRE(r);
  CHECK(r->watch_id() == 1);
  r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK(r->watch_id() == 7);
  r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK(r->canceled());
  CHECK(r->watch_id() == -1);
  CHECK(r->cancel_reason() == "mvcc: duplicate watch ID provided on the WatchStream");
  r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK(r->canceled());
  CHECK(r->watch_id() == -1);
  CHECK(r->cancel_reason() == "mvcc: watcher range is empty");
  r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK(r->canceled());
  CHECK(r->watch_id() == -1);
  CHECK(r->cancel_reason() == "etcdserver: mvcc: required revision has been compacted");
  r = w.next();
  REQUIRE(r);
  CHECK(r->created());
  CHECK_FALSE(r->canceled());
  CHECK(r->watch_id() == 2);

  // Cancel of an unknown id: no answer (the next response is the progress one).
  w.cancel(99);
  w.cancel(1);
  r = w.next();
  REQUIRE(r);
  CHECK(r->canceled());
  CHECK(r->watch_id() == 1);
  w.progress();
  r = w.next();
  REQUIRE(r);
  CHECK(r->watch_id() == -1);
  CHECK(r->events_size() == 0);
  CHECK(r->header().revision() == 1);

  // No events for the cancelled watcher; the others see theirs. Watcher 2 (empty key = "\0", no range
  // end) watches the single key "\0".
  kv.put_rev("b", "x");
  kv.put_rev("a", "x");
  r = w.next();
  REQUIRE(r);
  CHECK(r->watch_id() == 0);
  REQUIRE(r->events_size() == 1);
  CHECK(r->events(0).kv().key() == "a");
  CHECK(r->header().revision() == 3);
  CHECK_FALSE(w.next(300ms));
}

TEST_CASE("watch events, replay, compaction", "[etcd][grpc]") {
  Shim shim;
  auto ch = channel(shim.endpoint());
  Kv kv(ch);

  for (int i = 0; i < 5; ++i) kv.put_rev("k" + std::to_string(i % 2), "v" + std::to_string(i));  // revs 2..6

  SECTION("live: one response per revision, header = its revision; txn events share one response") {
    WatchClient w(ch);
    w.create("k", "l", 0, 0, true);
    REQUIRE(w.next());  // created
    auto txn_stub = etcdserverpb::KV::NewStub(ch);
    grpc::ClientContext c;
    etcdserverpb::TxnRequest txn;
    for (const char* key : {"k0", "k1", "k2"}) {
      auto* put = txn.add_success()->mutable_request_put();
      put->set_key(key);
      put->set_value("t");
    }
    etcdserverpb::TxnResponse txn_response;
    REQUIRE(txn_stub->Txn(&c, txn, &txn_response).ok());
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->header().revision() == 7);
    REQUIRE(r->events_size() == 3);
    CHECK(r->events(0).kv().key() == "k0");
    CHECK(r->events(2).kv().key() == "k2");
    CHECK(r->events(0).has_prev_kv());
    CHECK_FALSE(r->events(2).has_prev_kv());  // a creation has no prev_kv
    CHECK(r->events(1).kv().mod_revision() == 7);
  }

  SECTION("replay then live without gap or duplicate") {
    WatchClient w(ch);
    w.create("k", "l", 3);
    REQUIRE(w.next());  // created
    std::vector<std::int64_t> revisions;
    std::thread writer([&] {
      for (int i = 0; i < 20; ++i) kv.put_rev("k" + std::to_string(i % 3), "w");
    });
    while (revisions.size() < 24) {
      auto r = w.next();
      REQUIRE(r);
      for (const auto& e : r->events()) revisions.push_back(e.kv().mod_revision());
    }
    writer.join();
    for (std::size_t i = 0; i < revisions.size(); ++i) CHECK(revisions[i] == static_cast<std::int64_t>(i) + 3);
  }

  SECTION("start below the compaction point: created, then canceled with compact_revision") {
    grpc::ClientContext c;
    etcdserverpb::CompactionRequest compact;
    compact.set_revision(4);
    etcdserverpb::CompactionResponse compact_response;
    REQUIRE(kv.stub->Compact(&c, compact, &compact_response).ok());
    WatchClient w(ch);
    w.create("k", "l", 2);
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->created());
    const auto id = r->watch_id();
    r = w.next();
    REQUIRE(r);
    CHECK(r->canceled());
    CHECK(r->watch_id() == id);
    CHECK(r->compact_revision() == 4);
    CHECK(r->events_size() == 0);
    // Equal to the compaction point is fine.
    w.create("k", "l", 4);
    r = w.next();
    REQUIRE(r);
    CHECK(r->created());
    CHECK_FALSE(r->canceled());
    r = w.next();
    REQUIRE(r);
    REQUIRE(r->events_size() == 3);
    CHECK(r->events(0).kv().mod_revision() == 4);
  }
}

TEST_CASE("watch progress requests and notifications", "[etcd][grpc]") {
  skiff::etcd::ServerOptions options;
  options.progress_notify_interval = 200ms;
  Shim shim(options);
  auto ch = channel(shim.endpoint());
  Kv kv(ch);

  SECTION("a progress response follows every earlier event and never goes backwards") {
    WatchClient w(ch);
    w.create("p", "q");
    w.create("x");  // a second, idle watcher on the stream
    REQUIRE(w.next());
    REQUIRE(w.next());
    std::int64_t last_progress = 0;
    for (int round = 0; round < 20; ++round) {
      std::int64_t last_put = 0;
      for (int i = 0; i < 10; ++i) last_put = kv.put_rev("p" + std::to_string(i), std::to_string(round));
      w.progress();
      std::int64_t last_event = 0;
      for (;;) {
        auto r = w.next();
        REQUIRE(r);
        if (r->watch_id() == -1) {
          CHECK(r->events_size() == 0);
          CHECK(r->header().revision() >= last_progress);
          CHECK(r->header().revision() == last_put);  // everything delivered and nothing newer written
          CHECK(last_event == last_put);              // all events arrived before the progress
          last_progress = r->header().revision();
          break;
        }
        for (const auto& e : r->events()) {
          CHECK(e.kv().mod_revision() > last_event);
          last_event = e.kv().mod_revision();
        }
      }
    }
  }

  SECTION("progress on an empty stream reports the current revision") {
    kv.put_rev("a", "1");
    WatchClient w(ch);
    w.progress();
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->watch_id() == -1);
    CHECK(r->header().revision() == 2);
  }

  SECTION("idle watchers with progress_notify get header-only responses") {
    WatchClient w(ch);
    w.create("n", "", 0, 0, false, true);
    w.create("m");  // without progress_notify: never notified
    REQUIRE(w.next());
    REQUIRE(w.next());
    kv.put_rev("n", "1");
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->events_size() == 1);
    r = w.next(2s);
    REQUIRE(r);
    CHECK(r->watch_id() == 0);
    CHECK(r->events_size() == 0);
    CHECK_FALSE(r->created());
    CHECK_FALSE(r->canceled());
    CHECK(r->header().revision() == 2);
    r = w.next(2s);
    REQUIRE(r);
    CHECK(r->watch_id() == 0);
  }
}

TEST_CASE("watch fragmentation and slow consumers", "[etcd][grpc]") {
  Shim shim;
  auto ch = channel(shim.endpoint());
  Kv kv(ch);
  const std::string value(600 * 1024, 'f');
  for (int i = 0; i < 4; ++i) kv.put_rev("f" + std::to_string(i), value);  // revs 2..5

  SECTION("fragment=true splits a > 2 MiB replay") {
    WatchClient w(ch);
    w.create("f", "g", 2, 0, false, false, true);
    REQUIRE(w.next());
    int events = 0;
    int pieces = 0;
    for (;;) {
      auto r = w.next();
      REQUIRE(r);
      ++pieces;
      CHECK(r->ByteSizeLong() <= 2u * 1024 * 1024);
      events += r->events_size();
      if (!r->fragment()) break;
    }
    CHECK(events == 4);
    CHECK(pieces >= 2);
  }

  SECTION("without fragment one large message") {
    WatchClient w(ch);
    w.create("f", "g", 2);
    REQUIRE(w.next());
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->events_size() == 4);
    CHECK_FALSE(r->fragment());
  }

  SECTION("a client that does not read gets every event once it resumes") {
    WatchClient w(ch, false);
    w.create("s", "t");
    std::this_thread::sleep_for(200ms);
    const std::string chunk(20 * 1024, 's');
    std::int64_t last = 0;
    for (int i = 0; i < 1000; ++i) last = kv.put_rev("s" + std::to_string(i % 50), chunk);  // ~20 MB
    w.start_reading();
    auto r = w.next();
    REQUIRE(r);
    CHECK(r->created());
    std::int64_t expected = 6;
    while (expected <= last) {
      r = w.next(10s);
      REQUIRE(r);
      for (const auto& e : r->events()) {
        REQUIRE(e.kv().mod_revision() == expected);
        ++expected;
      }
    }
  }
}

TEST_CASE("lease keep-alive stream", "[etcd][grpc]") {
  Shim shim;
  auto ch = channel(shim.endpoint());
  auto lease = etcdserverpb::Lease::NewStub(ch);
  grpc::ClientContext c;
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(30);
  grant.set_id(4242);
  etcdserverpb::LeaseGrantResponse granted;
  REQUIRE(lease->LeaseGrant(&c, grant, &granted).ok());
  CHECK(granted.id() == 4242);
  CHECK(granted.ttl() == 30);

  grpc::ClientContext c2;
  etcdserverpb::LeaseGrantResponse again;
  auto status = lease->LeaseGrant(&c2, grant, &again);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(status.error_message() == "etcdserver: lease already exists");

  grpc::ClientContext c3;
  auto stream = lease->LeaseKeepAlive(&c3);
  for (std::int64_t id : {4242, 1, 4242}) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(id);
    REQUIRE(stream->Write(request));
  }
  etcdserverpb::LeaseKeepAliveResponse response;
  REQUIRE(stream->Read(&response));
  CHECK(response.id() == 4242);
  CHECK(response.ttl() == 30);
  REQUIRE(stream->Read(&response));
  CHECK(response.id() == 1);
  CHECK(response.ttl() == 0);
  REQUIRE(stream->Read(&response));
  CHECK(response.id() == 4242);
  CHECK(response.header().member_id() != 0);
  // Half-close: the server ends the RPC with OK (etcd does the same).
  stream->WritesDone();
  CHECK_FALSE(stream->Read(&response));
  CHECK(stream->Finish().ok());

  grpc::ClientContext c4;
  etcdserverpb::LeaseTimeToLiveRequest ttl_request;
  ttl_request.set_id(77);
  etcdserverpb::LeaseTimeToLiveResponse ttl;
  REQUIRE(lease->LeaseTimeToLive(&c4, ttl_request, &ttl).ok());
  CHECK(ttl.ttl() == -1);
}

TEST_CASE("server start errors and shutdown with open streams", "[etcd][grpc]") {
  Shim shim;

  SECTION("bind failure") {
    skiff::etcd::ServerOptions options;
    options.listen = shim.endpoint();
    auto second = skiff::etcd::Server::start(shim.store(), options);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().reason == skiff::Reason::kUnavailable);
    CHECK(second.error().message.rfind("cannot listen on " + shim.endpoint(), 0) == 0);
  }

  SECTION("shutdown ends watch and keep-alive streams") {
    auto ch = channel(shim.endpoint());
    WatchClient w(ch);
    w.create("a");
    REQUIRE(w.next());
    auto lease = etcdserverpb::Lease::NewStub(ch);
    grpc::ClientContext c;
    auto keepalive = lease->LeaseKeepAlive(&c);
    const auto started = std::chrono::steady_clock::now();
    shim.server().shutdown();
    CHECK(std::chrono::steady_clock::now() - started < 4s);
    grpc::Status status;
    REQUIRE(w.closed(5s, &status));
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    shim.server().shutdown();  // idempotent
  }
}

TEST_CASE("probe: print watch responses for a create (SKIFF_PROBE_ENDPOINT)", "[.probe]") {
  const char* endpoint = std::getenv("SKIFF_PROBE_ENDPOINT");
  if (endpoint == nullptr) return;
  const char* start = std::getenv("SKIFF_PROBE_START");
  auto ch = channel(endpoint);
  WatchClient w(ch);
  w.create("wa", "", start ? std::atoll(start) : -1);
  while (auto r = w.next(3000ms)) WARN(r->DebugString());
}

TEST_CASE("serve: run a shim for manual probing (SKIFF_SERVE_SECONDS)", "[.serve]") {
  const char* seconds = std::getenv("SKIFF_SERVE_SECONDS");
  Shim shim;
  std::printf("endpoint %s\n", shim.endpoint().c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds ? std::atoi(seconds) : 30));
}
