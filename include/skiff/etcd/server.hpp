// SPDX-License-Identifier: Apache-2.0
#pragma once

// etcd: serves the etcd v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster, plus grpc.health.v1) over
// Skiff's embedded kv::Store, so that etcd clients — Debian's `etcdctl`, the Go client, kube-apiserver —
// can use Skiff's store as if it were a single-member etcd cluster. Semantics, error codes and texts
// follow etcd 3.4/3.5 (see docs/etcd-compatibility.md for the known differences). gRPC and protobuf
// stay inside src/etcd; this header exposes only plain types.
//
// Threads: gRPC's callback API runs every handler on gRPC's own threads. Reads call the store inline;
// writes are queued to the store's writer thread and the response is sent from the store callback, so no
// thread waits for a commit. Watch events are pulled from kv::Watcher::poll by a small pool of "pump"
// threads the server owns (woken by the store's notify callback), one outgoing write in flight per
// stream; a slow client simply makes its watchers lag (it is never dropped silently).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "skiff/base/error.hpp"
#include "skiff/kv/store.hpp"

namespace skiff::etcd {

/// How the server presents itself. A plain aggregate; `cli/` fills it from flags.
struct ServerOptions {
  /// host:port to listen on (plaintext gRPC). Port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:2379";
  /// Reported in every response header and in MemberList/Status. Should be stable across restarts and
  /// non-zero (etcdctl prints them; `endpoint status` compares leader with member_id).
  std::uint64_t cluster_id = 0x5ca1ab1e0000c1d5ULL;
  std::uint64_t member_id = 0x5ca1ab1e0000d1e0ULL;
  /// Member name shown by `etcdctl member list`.
  std::string name = "skiff";
  /// Maintenance.Status version. kube-apiserver uses RequestWatchProgress only for >= 3.4.25 (and not
  /// 3.5.0–3.5.7); the default "3.5.13" claims that support, which this server implements (progress
  /// responses never precede the events of their revision, never go backwards, never report 0).
  std::string version = "3.5.13";
  /// Idle time after which a watcher created with progress_notify gets a header-only response.
  std::chrono::milliseconds progress_notify_interval = std::chrono::seconds(5);
  /// Threads that poll watchers and build watch responses.
  int watch_threads = 2;
};

/// A running etcd v3 gRPC endpoint.
///
/// Ownership: the server borrows `store`, which must outlive it (destroy the Server, or call shutdown(),
/// before the Store). Thread safety: port() and shutdown() may be called from any thread; shutdown() is
/// idempotent and the destructor calls it.
class Server {
 public:
  /// Binds `options.listen` and starts serving. Errors: kUnavailable "cannot listen on ADDR: ..." when the
  /// address cannot be bound (in use, not a local address, malformed); kInternal if gRPC fails to start.
  static Result<std::unique_ptr<Server>> start(kv::Store& store, ServerOptions options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The port actually bound (useful when `listen` ended in ":0").
  int port() const;

  /// Stops accepting RPCs, cancels every watch and lease keep-alive stream (they end with status
  /// Unavailable "etcdserver: server stopped"), lets unary RPCs already handed to the store complete, and
  /// returns once every RPC has finished and the watchers are destroyed. Blocks; never call it from a gRPC
  /// or store callback.
  void shutdown();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::etcd
