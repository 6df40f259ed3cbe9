// SPDX-License-Identifier: Apache-2.0
#include "watch.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "convert.hpp"
#include "skiff/base/log.hpp"

namespace skiff::etcd {

namespace {

using Clock = std::chrono::steady_clock;

/// Stop polling while this many bytes wait to be written; resume below kLowWater.
constexpr std::size_t kHighWater = 8u << 20;
constexpr std::size_t kLowWater = 2u << 20;
/// Bytes asked of one poll(): a replay batch (one response unless fragmenting) is about this big.
constexpr std::size_t kPollBytes = 4u << 20;
/// Per-event framing overhead (tag + length varint) when sizing fragments.
constexpr std::size_t kEventOverhead = 8;
/// Header, watch id and flags of a WatchResponse, generously.
constexpr std::size_t kResponseOverhead = 64;

constexpr std::string_view kReasonDuplicate = "mvcc: duplicate watch ID provided on the WatchStream";
constexpr std::string_view kReasonEmptyRange = "mvcc: watcher range is empty";
constexpr std::string_view kReasonNegativeStart = "etcdserver: mvcc: required revision has been compacted";

}  // namespace

struct WatchStream::Entry {
  std::int64_t id = 0;
  bool fragment = false;
  bool progress_notify = false;
  std::atomic<bool> dirty{true};  // set by notify; the pump polls dirty entries

  std::mutex mu;  // guards the fields below (poll vs. cancel/destroy)
  std::unique_ptr<kv::Watcher> watcher;
  bool replaying = false;  // still replaying history: batch responses, header = current revision
  Clock::time_point last_sent;
};

WatchStream::WatchStream(Shared& shared, Hub& hub) : shared_(shared), hub_(hub) {}

WatchStream::~WatchStream() = default;

void WatchStream::start() {
  self_ = shared_from_this();
  if (!hub_.add(self_)) {
    std::lock_guard lock(mu_);
    finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
    return;
  }
  std::lock_guard lock(mu_);
  if (!finishing_) StartRead(&request_);
}

etcdserverpb::WatchResponse WatchStream::make_response(std::int64_t revision, std::int64_t id) const {
  etcdserverpb::WatchResponse response;
  shared_.fill(response.mutable_header(), revision);
  response.set_watch_id(id);
  return response;
}

// ---------------------------------------------------------------------------------------------------
// gRPC reactions

void WatchStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed (or the RPC is going away). etcd keeps sending until the stream is
    // cancelled, so do nothing here: OnCancel or stop() ends the RPC.
    return;
  }
  switch (request_.request_union_case()) {
    case etcdserverpb::WatchRequest::kCreateRequest:
      handle_create(request_.create_request());
      break;
    case etcdserverpb::WatchRequest::kCancelRequest:
      handle_cancel(request_.cancel_request().watch_id());
      break;
    case etcdserverpb::WatchRequest::kProgressRequest: {
      std::lock_guard lock(mu_);
      progress_requested_ = true;
      // Writes acknowledged before this request must be covered by the answer: a watcher whose
      // next_revision() predates them (a pump already past its dirty marking) is polled again
      // on the re-run rather than announced stale.
      progress_floor_ = std::max(progress_floor_, shared_.store.current_revision());
      break;
    }
    default:
      break;  // an empty request: etcd ignores it
  }
  if (request_.has_progress_request()) request_pump();
  std::lock_guard lock(mu_);
  if (!finishing_) StartRead(&request_);
}

void WatchStream::OnWriteDone(bool ok) {
  bool pump = false;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!out_.empty()) {
      out_bytes_ -= std::min(out_bytes_, static_cast<std::size_t>(out_.front().ByteSizeLong()));
      out_.pop_front();
    }
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "etcdserver: request canceled"));
      return;
    }
    if (finishing_) {
      finish_locked(final_status_);
      return;
    }
    write_locked();
    if (pump_on_drain_ && out_bytes_ < kLowWater) {
      pump_on_drain_ = false;
      pump = true;
    }
  }
  if (pump) request_pump();
}

void WatchStream::OnCancel() {
  std::lock_guard lock(mu_);
  finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "etcdserver: request canceled"));
}

void WatchStream::stop() {
  std::lock_guard lock(mu_);
  finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
}

void WatchStream::tick() {
  {
    std::lock_guard lock(mu_);
    if (finishing_) return;
    tick_due_ = true;
  }
  request_pump();
}

void WatchStream::OnDone() {
  std::map<std::int64_t, std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    done_ = true;
    entries.swap(entries_);
    out_.clear();
  }
  // Outside mu_: a watcher's destructor may wait for its notify callback, which takes sched_mu_ only.
  for (auto& [id, entry] : entries) destroy_watcher(entry);
  hub_.remove(this);
  auto self = std::move(self_);  // may be the last reference: nothing touches `this` afterwards
}

void WatchStream::destroy_watcher(const std::shared_ptr<Entry>& entry) {
  std::unique_ptr<kv::Watcher> watcher;
  {
    std::lock_guard lock(entry->mu);
    watcher = std::move(entry->watcher);
  }
  watcher.reset();
}

// ---------------------------------------------------------------------------------------------------
// Output queue (mu_ held)

void WatchStream::enqueue_locked(etcdserverpb::WatchResponse&& response) {
  if (finishing_ || done_) return;
  out_bytes_ += response.ByteSizeLong();
  out_.push_back(std::move(response));
}

void WatchStream::write_locked() {
  if (writing_ || finished_ || finishing_ || out_.empty()) return;
  writing_ = true;
  StartWrite(&out_.front());  // deque: the reference stays valid until popped in OnWriteDone
}

void WatchStream::finish_locked(const grpc::Status& status) {
  if (!finishing_) {
    finishing_ = true;
    final_status_ = status;
  }
  if (!writing_ && !finished_) {
    finished_ = true;
    Finish(final_status_);
  }
}

// ---------------------------------------------------------------------------------------------------
// Create / cancel (gRPC thread, one request at a time)

void WatchStream::handle_create(const etcdserverpb::WatchCreateRequest& request) {
  auto reject = [this](std::string_view reason) {
    std::lock_guard lock(mu_);
    auto response = make_response(shared_.store.current_revision(), -1);
    response.set_created(true);
    response.set_canceled(true);
    response.set_cancel_reason(std::string(reason));
    enqueue_locked(std::move(response));
    write_locked();
  };

  kv::WatchOptions options;
  options.key = request.key().empty() ? std::string(1, '\0') : request.key();
  options.range_end = request.range_end();
  options.start_revision = request.start_revision();
  options.prev_kv = request.prev_kv();
  for (int filter : request.filters()) {
    if (filter == etcdserverpb::WatchCreateRequest::NOPUT) options.filter_put = true;
    if (filter == etcdserverpb::WatchCreateRequest::NODELETE) options.filter_delete = true;
  }

  if (options.start_revision < 0) {
    // etcd 3.6's answer. (Debian's 3.4.23 treats a negative start like 0; older notes saw a compacted
    // cancel. etcdctl 3.4 reports this one as "watch was canceled (...compacted)".)
    reject(kReasonNegativeStart);
    return;
  }
  const bool from_key = options.range_end.size() == 1 && options.range_end[0] == '\0';
  if (!options.range_end.empty() && !from_key && options.key >= options.range_end) {
    reject(kReasonEmptyRange);
    return;
  }

  std::int64_t id = request.watch_id();
  {
    std::lock_guard lock(mu_);
    if (finishing_) return;
    if (id == 0) {
      while (entries_.contains(next_id_)) ++next_id_;
      id = next_id_++;
    } else if (entries_.contains(id)) {
      id = -1;
    }
  }
  if (id == -1) {
    reject(kReasonDuplicate);
    return;
  }
  const std::int64_t current = shared_.store.current_revision();
  auto entry = std::make_shared<Entry>();
  entry->id = id;
  entry->fragment = request.fragment();
  entry->progress_notify = request.progress_notify();
  entry->replaying = options.start_revision > 0 && options.start_revision <= current;
  entry->last_sent = Clock::now();

  // The entry outlives its watcher (destroy_watcher runs while a shared_ptr is held) and the stream
  // outlives every watcher (OnDone destroys them before dropping self_), so raw pointers are safe here.
  Entry* raw = entry.get();
  auto watcher = shared_.store.watch(std::move(options), [raw, this] {
    raw->dirty.store(true);
    request_pump();
  });
  if (!watcher) {
    reject(watcher.error().message);
    return;
  }
  entry->watcher = std::move(*watcher);
  {
    std::lock_guard lock(mu_);
    if (!finishing_) {
      auto response = make_response(shared_.store.current_revision(), id);
      response.set_created(true);
      enqueue_locked(std::move(response));
      entries_.emplace(id, entry);
      write_locked();
      entry.reset();
    }
  }
  if (entry) {
    destroy_watcher(entry);  // the stream is ending
    return;
  }
  request_pump();
}

void WatchStream::handle_cancel(std::int64_t id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;  // unknown id: etcd answers nothing
    entry = std::move(it->second);
    entries_.erase(it);
    auto response = make_response(shared_.store.current_revision(), id);
    response.set_canceled(true);
    enqueue_locked(std::move(response));
    write_locked();
  }
  destroy_watcher(entry);
}

// ---------------------------------------------------------------------------------------------------
// Pump (hub threads, one at a time per stream)

void WatchStream::request_pump() {
  std::lock_guard lock(sched_mu_);
  if (pump_running_) {
    pump_again_ = true;
    return;
  }
  if (pump_queued_) return;
  pump_queued_ = true;
  hub_.post([self = shared_from_this()] { self->run_pump(); });
}

void WatchStream::run_pump() {
  {
    std::lock_guard lock(sched_mu_);
    pump_queued_ = false;
    pump_running_ = true;
    pump_again_ = false;
  }
  for (;;) {
    // Progress answers need every watcher's next_revision() to be fresh: an idle watcher is never
    // notified, so poll it once (an empty poll moves it to the current revision). A request that
    // arrives while the pass runs finds idle watchers polled at an older revision: answer_progress
    // then stays below its floor and the re-run this request asked for answers (see OnReadDone).
    {
      std::lock_guard lock(mu_);
      for (auto& [id, entry] : entries_) {
        if (progress_requested_ || (tick_due_ && entry->progress_notify)) {
          entry->dirty.store(true);
        }
      }
    }
    while (pump_once()) {
    }
    // Stopped by back-pressure: watchers may still hold committed events, so a progress answer now
    // would name a revision below the current one. The drain re-runs the pump, which answers then.
    bool starved = false;
    {
      std::lock_guard lock(mu_);
      starved = pump_on_drain_;
    }
    if (!starved) {
      answer_progress();
    }
    send_progress_notifications();
    std::lock_guard lock(sched_mu_);
    if (!pump_again_) {
      pump_running_ = false;
      return;
    }
    pump_again_ = false;
  }
}

bool WatchStream::pump_once() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    if (finishing_ || done_) return false;
    if (out_bytes_ >= kHighWater) {
      pump_on_drain_ = true;
      return false;
    }
    entries.reserve(entries_.size());
    for (auto& [id, entry] : entries_) entries.push_back(entry);
  }
  bool polled = false;
  for (auto& entry : entries) {
    if (!entry->dirty.exchange(false)) continue;
    polled = true;
    if (!poll_entry(entry)) return false;
  }
  return polled;
}

namespace {

/// Appends `events` as one response, or as fragments of at most kMaxReceiveBytes when the watcher asked
/// for fragmentation and there are at least two events (etcd's rule).
void emit(std::vector<mvccpb::Event>& events, bool fragment, etcdserverpb::WatchResponse&& base,
          std::vector<etcdserverpb::WatchResponse>& out) {
  std::size_t total = kResponseOverhead;
  std::vector<std::size_t> sizes;
  sizes.reserve(events.size());
  for (const auto& event : events) {
    sizes.push_back(event.ByteSizeLong() + kEventOverhead);
    total += sizes.back();
  }
  if (!fragment || events.size() < 2 || total <= kMaxReceiveBytes) {
    auto& response = out.emplace_back(std::move(base));
    response.mutable_events()->Reserve(static_cast<int>(events.size()));
    for (auto& event : events) *response.add_events() = std::move(event);
    return;
  }
  std::size_t i = 0;
  while (i < events.size()) {
    auto& response = out.emplace_back(base);
    std::size_t size = kResponseOverhead;
    while (i < events.size() && (response.events_size() == 0 || size + sizes[i] <= kMaxReceiveBytes)) {
      size += sizes[i];
      *response.add_events() = std::move(events[i]);
      ++i;
    }
    response.set_fragment(i < events.size());
  }
}

}  // namespace

bool WatchStream::poll_entry(const std::shared_ptr<Entry>& entry) {
  std::vector<etcdserverpb::WatchResponse> responses;
  bool drop = false;
  {
    std::lock_guard lock(entry->mu);
    if (!entry->watcher) return true;
    auto polled = entry->watcher->poll(kPollBytes);
    if (!polled) {
      drop = true;
      auto& response = responses.emplace_back();
      response.set_watch_id(entry->id);
      response.set_canceled(true);
      if (polled.error().reason == Reason::kGone) {
        // etcd sends the compaction cancel with a header revision of 0; clients key on compact_revision.
        shared_.fill(response.mutable_header(), 0);
        response.set_compact_revision(std::max<std::int64_t>(shared_.store.compact_revision(), 1));
      } else {
        shared_.fill(response.mutable_header(), shared_.store.current_revision());
        response.set_cancel_reason("etcdserver: " + polled.error().message);
        log::warn("etcd", "watch {} canceled: {}", entry->id, polled.error().message);
      }
    } else if (polled->empty()) {
      entry->replaying = false;
    } else {
      entry->dirty.store(true);  // maybe more: poll again until empty
      entry->last_sent = Clock::now();
      auto& events = *polled;
      if (entry->replaying) {
        // History replay: one batch of many revisions, header = the current revision (as etcd does for
        // unsynced watchers).
        const std::int64_t current = shared_.store.current_revision();
        std::vector<mvccpb::Event> converted(events.size());
        for (std::size_t i = 0; i < events.size(); ++i) to_proto(std::move(events[i]), &converted[i]);
        emit(converted, entry->fragment, make_response(current, entry->id), responses);
        if (entry->watcher->next_revision() > current) entry->replaying = false;
      } else {
        // Live delivery: one response per revision, header = that revision.
        std::size_t i = 0;
        while (i < events.size()) {
          const std::int64_t revision = events[i].kv.mod_revision;
          std::vector<mvccpb::Event> converted;
          while (i < events.size() && events[i].kv.mod_revision == revision) {
            to_proto(std::move(events[i]), &converted.emplace_back());
            ++i;
          }
          emit(converted, entry->fragment, make_response(revision, entry->id), responses);
        }
      }
    }
  }
  bool budget_left = true;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(entry->id);
    if (it != entries_.end() && it->second == entry) {  // not cancelled meanwhile
      for (auto& response : responses) enqueue_locked(std::move(response));
      if (drop) entries_.erase(it);
      write_locked();
    }
    if (out_bytes_ >= kHighWater) {
      pump_on_drain_ = true;
      budget_left = false;
    }
  }
  if (drop) destroy_watcher(entry);
  return budget_left;
}

void WatchStream::answer_progress() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    if (!progress_requested_ || finishing_) return;
    for (auto& [id, entry] : entries_) entries.push_back(entry);
  }
  // Every watcher has delivered (queued, and the queue is written in order) all events below its
  // next_revision(); the minimum is safe to announce for the whole stream.
  std::int64_t revision = std::numeric_limits<std::int64_t>::max();
  for (auto& entry : entries) {
    std::lock_guard lock(entry->mu);
    if (entry->watcher) revision = std::min(revision, entry->watcher->next_revision() - 1);
  }
  revision = std::min(revision, shared_.store.current_revision());
  std::lock_guard lock(mu_);
  if (!progress_requested_) return;
  if (revision < std::max<std::int64_t>({1, last_progress_revision_, progress_floor_})) {
    return;  // a watcher lags or was not polled since the request: answered on a later pump run
  }
  progress_requested_ = false;
  last_progress_revision_ = revision;
  enqueue_locked(make_response(revision, -1));
  write_locked();
}

void WatchStream::send_progress_notifications() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    if (!tick_due_ || finishing_) return;
    tick_due_ = false;
    for (auto& [id, entry] : entries_) {
      if (entry->progress_notify) entries.push_back(entry);
    }
  }
  const auto now = Clock::now();
  const auto interval = shared_.options.progress_notify_interval;
  for (auto& entry : entries) {
    std::int64_t revision = 0;
    {
      std::lock_guard lock(entry->mu);
      if (!entry->watcher || entry->dirty.load() || now - entry->last_sent < interval) continue;
      revision = std::min(entry->watcher->next_revision() - 1, shared_.store.current_revision());
      entry->last_sent = now;
    }
    if (revision < 1) continue;
    std::lock_guard lock(mu_);
    auto it = entries_.find(entry->id);
    if (it == entries_.end() || it->second != entry) continue;
    enqueue_locked(make_response(revision, entry->id));
    write_locked();
  }
}

}  // namespace skiff::etcd
