// SPDX-License-Identifier: Apache-2.0
#pragma once

// One Watch RPC: a bidirectional stream carrying any number of watchers. Internal to src/etcd.
//
// Threads and ordering:
//  - gRPC threads run OnReadDone/OnWriteDone/OnCancel/OnDone; create/cancel requests are handled inline
//    (the `created` response is queued before the watcher becomes visible to the pump, so it always
//    precedes the watcher's events);
//  - the store's writer thread only runs the watchers' notify callback, which marks the watcher dirty and
//    asks the hub for a pump (never blocks);
//  - one pump at a time per stream, on a hub thread, polls dirty watchers (kv::Watcher::poll may read
//    SQLite) and queues responses. It stops polling while the outgoing queue holds kHighWater bytes and
//    resumes when writes drain it, so a slow client makes its watchers lag instead of being dropped.
//  - exactly one StartWrite is in flight; the queue is the stream's only output path.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include <grpcpp/support/server_callback.h>

#include "rpc.pb.h"
#include "shared.hpp"

namespace skiff::etcd {

class WatchStream final : public grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>,
                          public Stoppable,
                          public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(Shared& shared, Hub& hub);
  ~WatchStream() override;

  /// Registers with the hub and starts reading; keeps itself alive until OnDone.
  void start();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void stop() override;
  void tick() override;

 private:
  struct Entry;

  void handle_create(const etcdserverpb::WatchCreateRequest& request);
  void handle_cancel(std::int64_t id);
  void request_pump();
  void run_pump();
  bool pump_once();
  bool poll_entry(const std::shared_ptr<Entry>& entry);
  void answer_progress();
  void send_progress_notifications();
  void enqueue_locked(etcdserverpb::WatchResponse&& response);
  void write_locked();
  void finish_locked(const grpc::Status& status);
  etcdserverpb::WatchResponse make_response(std::int64_t revision, std::int64_t id) const;
  static void destroy_watcher(const std::shared_ptr<Entry>& entry);

  Shared& shared_;
  Hub& hub_;

  std::mutex mu_;  // guards everything below up to the pump section
  std::map<std::int64_t, std::shared_ptr<Entry>> entries_;
  std::int64_t next_id_ = 0;
  std::deque<etcdserverpb::WatchResponse> out_;
  std::size_t out_bytes_ = 0;
  bool writing_ = false;
  bool finishing_ = false;  // Finish wanted (sent once no write is in flight)
  bool finished_ = false;   // Finish called
  bool done_ = false;       // OnDone ran
  bool pump_on_drain_ = false;
  bool progress_requested_ = false;
  bool tick_due_ = false;
  std::int64_t last_progress_revision_ = 0;
  std::int64_t progress_floor_ = 0;  // store revision when the pending progress request came (mu_)
  grpc::Status final_status_;
  etcdserverpb::WatchRequest request_;  // read buffer (one read in flight)

  std::mutex sched_mu_;  // guards the pump scheduling flags
  bool pump_queued_ = false;
  bool pump_running_ = false;
  bool pump_again_ = false;

  std::shared_ptr<WatchStream> self_;  // set by start(), reset in OnDone
};

}  // namespace skiff::etcd
