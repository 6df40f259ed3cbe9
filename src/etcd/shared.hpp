// SPDX-License-Identifier: Apache-2.0
#pragma once

// State every service of the etcd server shares, and the registry of long-lived streams that shutdown()
// must end. Internal to src/etcd.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rpc.pb.h"
#include "skiff/etcd/server.hpp"
#include "skiff/kv/store.hpp"

namespace skiff::etcd {

/// A stream the server must be able to end (watch, lease keep-alive).
class Stoppable {
 public:
  virtual ~Stoppable() = default;
  /// Ends the stream with Unavailable "etcdserver: server stopped". Any thread; idempotent.
  virtual void stop() = 0;
  /// Periodic timer (progress notifications). Runs on the hub's timer thread; must not block.
  virtual void tick() {}
};

/// Raft term reported in headers and Status: a single member that never changes leader.
inline constexpr std::uint64_t kRaftTerm = 2;

/// Shared context. Lives (inside Server::Impl) longer than every RPC.
struct Shared {
  Shared(kv::Store& s, ServerOptions o) : store(s), options(std::move(o)) {}

  kv::Store& store;
  ServerOptions options;
  int port = 0;

  void fill(etcdserverpb::ResponseHeader* header, std::int64_t revision) const {
    header->set_cluster_id(options.cluster_id);
    header->set_member_id(options.member_id);
    header->set_revision(revision);
    header->set_raft_term(kRaftTerm);
  }
};

/// Runs watch pumps on a few threads and ticks registered streams; keeps the registry of open streams.
class Hub {
 public:
  Hub(int threads, std::chrono::milliseconds tick);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  /// Queues `work` for a pump thread. Any thread (also the store's writer thread): never blocks beyond a
  /// short lock. After stop_threads() the work is dropped.
  void post(std::function<void()> work);

  /// Registers an open stream; false if the server is stopping (the caller ends the stream at once).
  bool add(const std::shared_ptr<Stoppable>& stream);
  void remove(const Stoppable* stream);
  /// Refuses new streams and stops every registered one.
  void stop_streams();
  /// Joins the threads (call after every RPC finished).
  void stop_threads();

 private:
  void worker();
  void timer();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_streams_ = false;
  bool stopping_threads_ = false;
  std::map<const Stoppable*, std::weak_ptr<Stoppable>> streams_;
  std::chrono::milliseconds tick_;
  std::vector<std::thread> threads_;  // last: they use everything above
};

}  // namespace skiff::etcd
