// SPDX-License-Identifier: Apache-2.0
//
// etcd_bench: a load generator for any etcd v3 gRPC endpoint (Debian's etcd, `skiff server
// --etcd-listen`). It runs the selected phases one after the other on one channel and prints one
// JSON document with the results (also written to --out). Point it only at a dedicated endpoint: it
// deletes everything under --prefix first.
//
// Phases (--phases, comma-separated; default all, in this order):
//   seqput     N sequential Puts, 1 KiB values, keys <prefix>seq/%08d        ops/s, p50/p90/p99/max
//   pipeput    N Puts with --inflight outstanding (async API, one thread)     ops/s, latency
//   txncreate  kube-apiserver create Txn (mod_revision(k)==0 ? put), sequential and --inflight
//   txncas     kube-apiserver CAS update Txn (mod_revision(k)==r ? put : range k), sequential and
//   --inflight range      full / keys_only / count_only / single key / pages of 500 over
//   --range-keys keys watch      one watch on a prefix, sequential Puts: Put start -> event
//   received, Put ack -> event fanout     --fanout-watchers watchers on one prefix over
//   --fanout-streams streams; one Put per round:
//              time until every watcher received it
// After each phase: VmRSS/VmHWM of --pid, bytes under --data-dir, and Maintenance.Status.
//
// Every call has a deadline and every wait a timeout, so a stuck server ends the run with errors in
// the JSON instead of hanging it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench_util.hpp"
#include "rpc.grpc.pb.h"

namespace skiff::bench {
namespace {

namespace pb = etcdserverpb;

constexpr auto kCallTimeout = std::chrono::seconds(60);
constexpr auto kEventTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxErrors = 20;  // a phase stops after this many failed calls

struct Options {
  std::string endpoint = "127.0.0.1:2379";
  std::string prefix = "/bench/";
  std::vector<std::string> phases;
  int pid = 0;
  std::string data_dir;
  std::string label;
  std::string out;
  std::size_t n = 10000;  // seqput / pipeput
  std::size_t value_size = 1024;
  std::size_t inflight = 64;
  std::size_t txn_n = 2000;  // per txn variant
  std::size_t range_keys = 10000;
  std::size_t range_runs = 20;
  std::size_t page = 500;
  std::size_t watch_puts = 2000;
  std::size_t fanout_watchers = 1000;
  std::size_t fanout_streams = 10;
  std::size_t fanout_rounds = 50;
  bool clean = true;
};

std::chrono::system_clock::time_point call_deadline() {
  return std::chrono::system_clock::now() + kCallTimeout;
}

/// Counts failed calls of one phase and keeps the first message.
struct ErrorLog {
  std::size_t count = 0;
  std::string first;

  void add(const std::string& what) {
    if (count++ == 0) {
      first = what;
    }
  }
  void add(const grpc::Status& status) {
    add("grpc code " + std::to_string(static_cast<int>(status.error_code())) + ": " +
        status.error_message());
  }
  bool too_many() const { return count >= kMaxErrors; }
  void into(Json& j) const {
    j.set("errors", count);
    if (count > 0) {
      j.set("first_error", first);
    }
  }
};

/// One outstanding unary call of the pipelined runner.
template <class Response>
struct AsyncCall {
  grpc::ClientContext context;
  Response response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
  Clock::time_point start;
  std::size_t index = 0;
};

struct PipelineResult {
  std::vector<double> latencies_ms;
  double wall_s = 0;
  ErrorLog errors;
};

/// Issues `total` unary calls with at most `inflight` outstanding, all from this thread over one
/// CompletionQueue (gRPC's async API): `start(index, context, cq)` starts call `index` and returns
/// its reader; `check(index, response)` says whether the answer is the expected one. Calls complete
/// in any order; each call's latency is start -> completion.
template <class Response, class Start, class Check>
PipelineResult run_pipelined(std::size_t total, std::size_t inflight, Start start, Check check) {
  PipelineResult result;
  result.latencies_ms.reserve(total);
  grpc::CompletionQueue cq;
  std::size_t issued = 0;
  std::size_t completed = 0;
  auto issue = [&] {
    auto call = std::make_unique<AsyncCall<Response>>();
    call->index = issued++;
    call->context.set_deadline(call_deadline());
    call->start = Clock::now();
    call->reader = start(call->index, &call->context, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    call.release();  // owned by the completion queue until its tag comes back
  };
  const auto t0 = Clock::now();
  while (issued < total && issued < inflight) {
    issue();
  }
  while (completed < issued) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) {
      break;
    }
    std::unique_ptr<AsyncCall<Response>> call(static_cast<AsyncCall<Response>*>(tag));
    const auto now = Clock::now();
    ++completed;
    result.latencies_ms.push_back(elapsed_ms(call->start, now));
    if (!call->status.ok()) {
      result.errors.add(call->status);
    } else if (!check(call->index, call->response)) {
      result.errors.add("unexpected response to call " + std::to_string(call->index));
    }
    if (issued < total && !result.errors.too_many()) {
      issue();
    }
  }
  result.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

Json pipeline_json(const PipelineResult& r, std::size_t inflight) {
  Json j = summarize(r.latencies_ms, r.wall_s);
  j.set("inflight", inflight);
  r.errors.into(j);
  return j;
}

/// Timing of one watch round: a Put, and when its event reached the first and the last watcher.
struct WatchRound {
  Clock::time_point put_start;
  Clock::time_point put_ack;
  std::atomic<std::int64_t> first_ns{0};  // steady-clock ns of the first receipt, 0 = none yet
  std::atomic<std::int64_t> last_ns{0};   // ... of the receipt that completed the round
  std::atomic<std::size_t> received{0};
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double ms_since(Clock::time_point from, std::int64_t ns) {
  return elapsed_ms(from, Clock::time_point(std::chrono::nanoseconds(ns)));
}

class Bench {
 public:
  explicit Bench(Options options)
      : options_(std::move(options)), value_(make_value(options_.value_size)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    args.SetMaxSendMessageSize(256 << 20);
    channel_ =
        grpc::CreateCustomChannel(options_.endpoint, grpc::InsecureChannelCredentials(), args);
    kv_ = pb::KV::NewStub(channel_);
    watch_ = pb::Watch::NewStub(channel_);
    maintenance_ = pb::Maintenance::NewStub(channel_);
  }

  Json run() {
    Json result = Json::object();
    result.set("tool", "etcd_bench");
    result.set("label", options_.label);
    result.set("endpoint", options_.endpoint);
    Json opts = Json::object();
    opts.set("n", options_.n)
        .set("value_size", options_.value_size)
        .set("inflight", options_.inflight);
    opts.set("txn_n", options_.txn_n)
        .set("range_keys", options_.range_keys)
        .set("range_runs", options_.range_runs);
    opts.set("watch_puts", options_.watch_puts).set("fanout_watchers", options_.fanout_watchers);
    opts.set("fanout_streams", options_.fanout_streams)
        .set("fanout_rounds", options_.fanout_rounds);
    result.set("options", opts);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      result.set("error", "cannot connect to " + options_.endpoint);
      return result;
    }
    result.set("before", sample());
    if (options_.clean) {
      clean_prefix();
    }
    Json phases = Json::object();
    for (const auto& phase : options_.phases) {
      std::fprintf(stderr, "etcd_bench: %s %s\n", options_.label.c_str(), phase.c_str());
      Json j;
      if (phase == "seqput") {
        j = seqput();
      } else if (phase == "pipeput") {
        j = pipeput();
      } else if (phase == "txncreate") {
        j = txncreate();
      } else if (phase == "txncas") {
        j = txncas();
      } else if (phase == "range") {
        j = range();
      } else if (phase == "watch") {
        j = watch_latency();
      } else if (phase == "fanout") {
        j = fanout();
      } else {
        j = Json::object().set("error", "unknown phase");
      }
      j.set("after", sample());
      phases.set(phase, std::move(j));
    }
    result.set("phases", std::move(phases));
    return result;
  }

 private:
  static std::string make_value(std::size_t size) {
    std::string v(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
      v[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    }
    return v;
  }

  // ---- probes

  Json sample() {
    Json j = Json::object();
    j.set("process", rss_sample(options_.pid));
    j.set("client_cpu_s", self_cpu_seconds());
    // The box is shared (2 cores, other builds): the 1-minute load average says whether a phase
    // ran undisturbed (this process and the server alone add about 1-2).
    if (double load = 0; (std::ifstream("/proc/loadavg") >> load)) j.set("loadavg_1m", load);
    j.set("data_dir", disk_sample(options_.data_dir));
    grpc::ClientContext ctx;
    ctx.set_deadline(call_deadline());
    pb::StatusResponse resp;
    auto st = maintenance_->Status(&ctx, pb::StatusRequest(), &resp);
    if (st.ok()) {
      j.set("revision", resp.header().revision());
      j.set("db_size", resp.dbsize());
      j.set("db_size_in_use", resp.dbsizeinuse());
      j.set("version", resp.version());
    } else {
      j.set("status_error", st.error_message());
    }
    return j;
  }

  void clean_prefix() {
    grpc::ClientContext ctx;
    ctx.set_deadline(call_deadline());
    pb::DeleteRangeRequest req;
    req.set_key(options_.prefix);
    req.set_range_end(prefix_range_end(options_.prefix));
    pb::DeleteRangeResponse resp;
    auto st = kv_->DeleteRange(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "etcd_bench: cleaning %s failed: %s\n", options_.prefix.c_str(),
                   st.error_message().c_str());
    }
  }

  // ---- sequential and pipelined writes

  grpc::Status put(const std::string& key, pb::PutResponse& resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(call_deadline());
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value_);
    return kv_->Put(&ctx, req, &resp);
  }

  Json seqput() {
    const std::string prefix = options_.prefix + "seq/";
    std::vector<double> lat;
    lat.reserve(options_.n);
    ErrorLog errors;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < options_.n && !errors.too_many(); ++i) {
      pb::PutResponse resp;
      const auto s = Clock::now();
      auto st = put(indexed_key(prefix, i), resp);
      lat.push_back(elapsed_ms(s, Clock::now()));
      if (!st.ok()) {
        errors.add(st);
      }
    }
    Json j = summarize(lat, std::chrono::duration<double>(Clock::now() - t0).count());
    errors.into(j);
    return j;
  }

  PipelineResult pipelined_puts(const std::string& prefix, std::size_t total) {
    return run_pipelined<pb::PutResponse>(
        total, options_.inflight,
        [&](std::size_t i, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          pb::PutRequest req;
          req.set_key(indexed_key(prefix, i));
          req.set_value(value_);
          return kv_->AsyncPut(ctx, req, cq);
        },
        [](std::size_t, const pb::PutResponse& resp) { return resp.header().revision() > 0; });
  }

  Json pipeput() {
    return pipeline_json(pipelined_puts(options_.prefix + "pipe/", options_.n), options_.inflight);
  }

  // ---- kube-apiserver-shaped transactions

  /// apiserver create: IF mod_revision(key) == 0 THEN put(key).
  pb::TxnRequest create_txn(const std::string& key) const {
    pb::TxnRequest req;
    auto* cmp = req.add_compare();
    cmp->set_key(key);
    cmp->set_target(pb::Compare::MOD);
    cmp->set_result(pb::Compare::EQUAL);
    cmp->set_mod_revision(0);
    auto* put = req.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value_);
    return req;
  }

  /// apiserver update (GuaranteedUpdate): IF mod_revision(key) == rev THEN put(key) ELSE
  /// range(key).
  pb::TxnRequest cas_txn(const std::string& key, std::int64_t rev) const {
    pb::TxnRequest req;
    auto* cmp = req.add_compare();
    cmp->set_key(key);
    cmp->set_target(pb::Compare::MOD);
    cmp->set_result(pb::Compare::EQUAL);
    cmp->set_mod_revision(rev);
    auto* put = req.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value_);
    req.add_failure()->mutable_request_range()->set_key(key);
    return req;
  }

  /// Sequential txns; `make(i)` builds txn i; `mods[i]` receives the revision it wrote.
  template <class Make>
  Json sequential_txns(std::size_t total, Make make, std::vector<std::int64_t>& mods) {
    std::vector<double> lat;
    lat.reserve(total);
    ErrorLog errors;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < total && !errors.too_many(); ++i) {
      const pb::TxnRequest req = make(i);
      grpc::ClientContext ctx;
      ctx.set_deadline(call_deadline());
      pb::TxnResponse resp;
      const auto s = Clock::now();
      auto st = kv_->Txn(&ctx, req, &resp);
      lat.push_back(elapsed_ms(s, Clock::now()));
      if (!st.ok()) {
        errors.add(st);
      } else if (!resp.succeeded()) {
        errors.add("txn " + std::to_string(i) + " did not succeed");
      } else {
        mods[i] = resp.header().revision();
      }
    }
    Json j = summarize(lat, std::chrono::duration<double>(Clock::now() - t0).count());
    errors.into(j);
    return j;
  }

  template <class Make>
  Json pipelined_txns(std::size_t total, Make make, std::vector<std::int64_t>& mods) {
    auto r = run_pipelined<pb::TxnResponse>(
        total, options_.inflight,
        [&](std::size_t i, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return kv_->AsyncTxn(ctx, make(i), cq);
        },
        [&](std::size_t i, const pb::TxnResponse& resp) {
          mods[i] = resp.header().revision();
          return resp.succeeded();
        });
    return pipeline_json(r, options_.inflight);
  }

  Json txncreate() {
    const std::string seq_prefix = options_.prefix + "txn/";
    const std::string pipe_prefix = options_.prefix + "txnp/";
    seq_mods_.assign(options_.txn_n, 0);
    pipe_mods_.assign(options_.txn_n, 0);
    Json j = Json::object();
    j.set("sequential",
          sequential_txns(
              options_.txn_n, [&](std::size_t i) { return create_txn(indexed_key(seq_prefix, i)); },
              seq_mods_));
    j.set("pipelined",
          pipelined_txns(
              options_.txn_n,
              [&](std::size_t i) { return create_txn(indexed_key(pipe_prefix, i)); }, pipe_mods_));
    return j;
  }

  Json txncas() {
    const std::string seq_prefix = options_.prefix + "txn/";
    const std::string pipe_prefix = options_.prefix + "txnp/";
    Json j = Json::object();
    if (seq_mods_.size() != options_.txn_n) {
      // Run on its own: create the keys first (not measured).
      Json created = txncreate();
      j.set("setup", std::move(created));
    }
    std::vector<std::int64_t> seq_next(options_.txn_n, 0);
    std::vector<std::int64_t> pipe_next(options_.txn_n, 0);
    j.set("sequential",
          sequential_txns(
              options_.txn_n,
              [&](std::size_t i) { return cas_txn(indexed_key(seq_prefix, i), seq_mods_[i]); },
              seq_next));
    j.set("pipelined",
          pipelined_txns(
              options_.txn_n,
              [&](std::size_t i) { return cas_txn(indexed_key(pipe_prefix, i), pipe_mods_[i]); },
              pipe_next));
    seq_mods_ = std::move(seq_next);
    pipe_mods_ = std::move(pipe_next);
    return j;
  }

  // ---- reads

  template <class Prepare>
  Json timed_ranges(std::size_t runs, Prepare prepare) {
    std::vector<double> lat;
    ErrorLog errors;
    std::int64_t count = 0;
    std::size_t kvs = 0;
    std::size_t bytes = 0;
    for (std::size_t r = 0; r < runs && !errors.too_many(); ++r) {
      pb::RangeRequest req;
      prepare(r, req);
      grpc::ClientContext ctx;
      ctx.set_deadline(call_deadline());
      pb::RangeResponse resp;
      const auto s = Clock::now();
      auto st = kv_->Range(&ctx, req, &resp);
      lat.push_back(elapsed_ms(s, Clock::now()));
      if (!st.ok()) {
        errors.add(st);
        continue;
      }
      count = resp.count();
      kvs = static_cast<std::size_t>(resp.kvs_size());
      bytes = resp.ByteSizeLong();
    }
    Json j = summarize(lat);
    j.set("count", count).set("kvs", kvs).set("response_bytes", bytes);
    errors.into(j);
    return j;
  }

  Json range() {
    const std::string prefix = options_.prefix + "seq/";
    const std::string end = prefix_range_end(prefix);
    Json j = Json::object();
    // Make sure the prefix holds range_keys keys (seqput may have written fewer, or not run).
    {
      pb::RangeRequest req;
      req.set_key(prefix);
      req.set_range_end(end);
      req.set_count_only(true);
      grpc::ClientContext ctx;
      ctx.set_deadline(call_deadline());
      pb::RangeResponse resp;
      if (kv_->Range(&ctx, req, &resp).ok() &&
          static_cast<std::size_t>(resp.count()) < options_.range_keys) {
        j.set("fill",
              pipeline_json(pipelined_puts(prefix, options_.range_keys), options_.inflight));
      }
    }
    const std::size_t runs = options_.range_runs;
    j.set("full", timed_ranges(runs, [&](std::size_t, pb::RangeRequest& req) {
            req.set_key(prefix);
            req.set_range_end(end);
          }));
    j.set("keys_only", timed_ranges(runs, [&](std::size_t, pb::RangeRequest& req) {
            req.set_key(prefix);
            req.set_range_end(end);
            req.set_keys_only(true);
          }));
    j.set("count_only", timed_ranges(runs, [&](std::size_t, pb::RangeRequest& req) {
            req.set_key(prefix);
            req.set_range_end(end);
            req.set_count_only(true);
          }));
    j.set("single_key", timed_ranges(runs * 50, [&](std::size_t r, pb::RangeRequest& req) {
            req.set_key(indexed_key(prefix, (r * 7919) % options_.range_keys));
          }));
    j.set("paginated", paginated_list(prefix, end, std::max<std::size_t>(1, runs / 2)));
    return j;
  }

  /// kube-apiserver list: pages of `page` keys, all pinned to the first page's revision.
  Json paginated_list(const std::string& prefix, const std::string& end, std::size_t runs) {
    std::vector<double> lat;
    ErrorLog errors;
    std::size_t pages = 0;
    std::size_t got = 0;
    for (std::size_t r = 0; r < runs && !errors.too_many(); ++r) {
      const auto s = Clock::now();
      std::string key = prefix;
      std::int64_t rev = 0;
      pages = 0;
      got = 0;
      // Bounded: at most range_keys / page + 2 pages.
      for (std::size_t p = 0; p < options_.range_keys / options_.page + 2; ++p) {
        pb::RangeRequest req;
        req.set_key(key);
        req.set_range_end(end);
        req.set_limit(static_cast<std::int64_t>(options_.page));
        req.set_revision(rev);
        grpc::ClientContext ctx;
        ctx.set_deadline(call_deadline());
        pb::RangeResponse resp;
        auto st = kv_->Range(&ctx, req, &resp);
        if (!st.ok()) {
          errors.add(st);
          break;
        }
        ++pages;
        got += static_cast<std::size_t>(resp.kvs_size());
        if (rev == 0) {
          rev = resp.header().revision();
        }
        if (!resp.more() || resp.kvs_size() == 0) {
          break;
        }
        key = resp.kvs(resp.kvs_size() - 1).key() + std::string(1, '\0');
      }
      lat.push_back(elapsed_ms(s, Clock::now()));
    }
    Json j = summarize(lat);
    j.set("page", options_.page).set("pages", pages).set("kvs", got);
    errors.into(j);
    return j;
  }

  // ---- watch

  /// `watchers` watches on `prefix`, spread round-robin over `streams` Watch streams, then `rounds`
  /// sequential Puts of `prefix`%08d (round index); waits for each round to reach every watcher
  /// before the next Put (at most kEventTimeout). Fills `rounds_out` and returns setup facts /
  /// errors.
  Json watch_rounds(const std::string& prefix, std::size_t streams, std::size_t watchers,
                    std::size_t rounds, std::vector<std::unique_ptr<WatchRound>>& rounds_out) {
    Json j = Json::object();
    ErrorLog errors;
    rounds_out.clear();
    for (std::size_t r = 0; r < rounds; ++r) {
      rounds_out.push_back(std::make_unique<WatchRound>());
    }
    std::mutex mu;
    std::condition_variable cv;
    std::size_t created = 0;
    std::size_t done_rounds = 0;

    struct Stream {
      grpc::ClientContext context;
      std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> rw;
      std::thread reader;
    };
    std::vector<std::unique_ptr<Stream>> all;
    const std::string end = prefix_range_end(prefix);
    for (std::size_t s = 0; s < streams; ++s) {
      auto stream = std::make_unique<Stream>();
      stream->context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
      stream->rw = watch_->Watch(&stream->context);
      Stream* raw = stream.get();
      stream->reader = std::thread([&, raw] {
        pb::WatchResponse resp;
        while (raw->rw->Read(&resp)) {
          const auto t = now_ns();
          if (resp.created()) {
            std::lock_guard lock(mu);
            ++created;
            cv.notify_all();
          }
          for (const auto& ev : resp.events()) {
            const std::string& key = ev.kv().key();
            if (key.size() <= prefix.size()) {
              continue;
            }
            const std::size_t r = std::strtoull(key.c_str() + prefix.size(), nullptr, 10);
            if (r >= rounds_out.size()) {
              continue;
            }
            WatchRound& round = *rounds_out[r];
            const std::size_t got = round.received.fetch_add(1) + 1;
            if (got == 1) {
              round.first_ns.store(t);
            }
            if (got == watchers) {
              round.last_ns.store(t);
              std::lock_guard lock(mu);
              ++done_rounds;
              cv.notify_all();
            }
          }
        }
      });
      all.push_back(std::move(stream));
    }
    // Create the watchers round-robin over the streams.
    const auto setup_start = Clock::now();
    for (std::size_t w = 0; w < watchers; ++w) {
      pb::WatchRequest req;
      auto* create = req.mutable_create_request();
      create->set_key(prefix);
      create->set_range_end(end);
      if (!all[w % streams]->rw->Write(req)) {
        errors.add("watch create write failed");
        break;
      }
    }
    bool ready = false;
    {
      std::unique_lock lock(mu);
      ready = cv.wait_for(lock, std::chrono::seconds(60), [&] { return created >= watchers; });
    }
    j.set("watchers", watchers).set("streams", streams);
    j.set("setup_ms", elapsed_ms(setup_start, Clock::now()));
    if (!ready) {
      errors.add("only " + std::to_string(created) + " of " + std::to_string(watchers) +
                 " watchers created");
    }
    std::size_t missed = 0;
    for (std::size_t r = 0; ready && r < rounds && !errors.too_many(); ++r) {
      WatchRound& round = *rounds_out[r];
      pb::PutResponse resp;
      round.put_start = Clock::now();
      auto st = put(indexed_key(prefix, r), resp);
      round.put_ack = Clock::now();
      if (!st.ok()) {
        errors.add(st);
        continue;
      }
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, kEventTimeout, [&] { return round.last_ns.load() != 0; })) {
        ++missed;
        errors.add("round " + std::to_string(r) + ": " + std::to_string(round.received.load()) +
                   " of " + std::to_string(watchers) + " events within the timeout");
      }
    }
    j.set("rounds_incomplete", missed);
    for (auto& stream : all) {
      stream->context.TryCancel();
    }
    for (auto& stream : all) {
      if (stream->reader.joinable()) {
        stream->reader.join();
      }
      stream->rw->Finish();
    }
    errors.into(j);
    return j;
  }

  Json watch_latency() {
    std::vector<std::unique_ptr<WatchRound>> rounds;
    Json j = watch_rounds(options_.prefix + "watch/", 1, 1, options_.watch_puts, rounds);
    std::vector<double> start_to_event;
    std::vector<double> ack_to_event;
    std::vector<double> put;
    for (const auto& r : rounds) {
      if (r->last_ns.load() == 0) {
        continue;
      }
      start_to_event.push_back(ms_since(r->put_start, r->last_ns.load()));
      ack_to_event.push_back(ms_since(r->put_ack, r->last_ns.load()));
      put.push_back(elapsed_ms(r->put_start, r->put_ack));
    }
    j.set("put_start_to_event", summarize(start_to_event));
    j.set("put_ack_to_event", summarize(ack_to_event));
    j.set("put", summarize(put));
    return j;
  }

  Json fanout() {
    std::vector<std::unique_ptr<WatchRound>> rounds;
    Json j = watch_rounds(options_.prefix + "fan/", options_.fanout_streams,
                          options_.fanout_watchers, options_.fanout_rounds, rounds);
    std::vector<double> all_received;
    std::vector<double> first_received;
    for (const auto& r : rounds) {
      if (r->last_ns.load() == 0) {
        continue;
      }
      all_received.push_back(ms_since(r->put_start, r->last_ns.load()));
      first_received.push_back(ms_since(r->put_start, r->first_ns.load()));
    }
    j.set("put_start_to_all", summarize(all_received));
    j.set("put_start_to_first", summarize(first_received));
    return j;
  }

  Options options_;
  std::string value_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Watch::Stub> watch_;
  std::unique_ptr<pb::Maintenance::Stub> maintenance_;
  std::vector<std::int64_t> seq_mods_;   // txn/ keys: mod_revision after the last txn phase
  std::vector<std::int64_t> pipe_mods_;  // txnp/ keys
};

constexpr const char* kUsage =
    "usage: etcd_bench --endpoint HOST:PORT [--phases "
    "seqput,pipeput,txncreate,txncas,range,watch,fanout]\n"
    "                  [--pid SERVER_PID] [--data-dir DIR] [--label NAME] [--out FILE] [--prefix "
    "/bench/]\n"
    "                  [--n 10000] [--value-size 1024] [--inflight 64] [--txn-n 2000]\n"
    "                  [--range-keys 10000] [--range-runs 20] [--page 500] [--watch-puts 2000]\n"
    "                  [--fanout-watchers 1000] [--fanout-streams 10] [--fanout-rounds 50] "
    "[--no-clean]\n";

int run_main(int argc, char** argv) {
  Options o;
  try {
    Args args(argc, argv);
    if (args.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    o.endpoint = args.str("endpoint", o.endpoint);
    o.prefix = args.str("prefix", o.prefix);
    o.phases = split_list(args.str("phases", "seqput,pipeput,txncreate,txncas,range,watch,fanout"));
    o.pid = static_cast<int>(args.num("pid", 0));
    o.data_dir = args.str("data-dir", "");
    o.label = args.str("label", "");
    o.out = args.str("out", "");
    o.n = static_cast<std::size_t>(args.num("n", 10000));
    o.value_size = static_cast<std::size_t>(args.num("value-size", 1024));
    o.inflight = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("inflight", 64)));
    o.txn_n = static_cast<std::size_t>(args.num("txn-n", 2000));
    o.range_keys =
        static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("range-keys", 10000)));
    o.range_runs = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("range-runs", 20)));
    o.page = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("page", 500)));
    o.watch_puts = static_cast<std::size_t>(args.num("watch-puts", 2000));
    o.fanout_watchers =
        static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("fanout-watchers", 1000)));
    o.fanout_streams =
        static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("fanout-streams", 10)));
    o.fanout_rounds = static_cast<std::size_t>(args.num("fanout-rounds", 50));
    o.clean = !args.flag("no-clean");
    args.reject_unknown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "etcd_bench: %s\n%s", e.what(), kUsage);
    return 2;
  }
  Bench bench(o);
  const std::string doc = bench.run().dump() + "\n";
  std::fputs(doc.c_str(), stdout);
  if (!o.out.empty()) {
    std::ofstream(o.out) << doc;
  }
  return 0;
}

}  // namespace
}  // namespace skiff::bench

int main(int argc, char** argv) {
  return skiff::bench::run_main(argc, argv);
}
