// SPDX-License-Identifier: Apache-2.0
// WATCH: a kv::Watcher on the collection's key range, events decoded to served objects, selectors
// applied to both sides of each change (an object that stops matching is DELETED for the watcher,
// one that starts matching is ADDED, as upstream's watch cache does).

#include <atomic>
#include <deque>
#include <limits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/kv/store.hpp"

#include "glue.hpp"
#include "objects.hpp"
#include "registry_impl.hpp"

namespace skiff::registry {

using boost::asio::awaitable;

namespace {

constexpr std::string_view kComponent = "registry";
// Events handed out per next(): bounds the memory one slow watcher pins.
constexpr std::size_t kPollBytes = 4u << 20;
constexpr std::size_t kInitialBatch = 500;

// Shared between the watch (on its executor) and kv's notify (on the committing thread).
struct WakeState {
  explicit WakeState(boost::asio::any_io_executor ex) : executor(ex), timer(ex) {}
  boost::asio::any_io_executor executor;
  boost::asio::steady_timer timer;  // touched only on `executor`
  std::atomic<bool> pending{false};
};

class Stream final : public WatchStream {
 public:
  /// `raw`: events as JSON text, nothing filtered (the kv watch range is the whole selection);
  /// `raw_prefix` is served_json_prefix() of the type then.
  Stream(ResourceTypePtr type, detail::Selection selection, std::shared_ptr<WakeState> wake,
         bool raw, std::string raw_prefix)
      : type_(std::move(type)),
        selection_(std::move(selection)),
        wake_(std::move(wake)),
        raw_(raw),
        raw_prefix_(std::move(raw_prefix)) {}

  ~Stream() override {
    // Unregister first: kv waits for a running notify, after which nothing references wake_.
    watcher_.reset();
  }

  void start(std::unique_ptr<kv::Watcher> watcher, std::deque<WatchEvent> initial,
             std::int64_t revision) {
    watcher_ = std::move(watcher);
    initial_ = std::move(initial);
    progress_ = revision;
  }

  awaitable<Result<std::vector<WatchEvent>>> next(
      std::chrono::steady_clock::time_point until) override {
    if (!initial_.empty()) {
      std::vector<WatchEvent> out;
      while (!initial_.empty() && out.size() < kInitialBatch) {
        out.push_back(std::move(initial_.front()));
        initial_.pop_front();
      }
      co_return out;
    }
    while (true) {
      wake_->pending.store(false);
      auto polled = watcher_->poll(kPollBytes);
      if (!polled) {
        if (polled.error().reason == Reason::kGone) {
          co_return errors::make(Reason::kExpired, "The resourceVersion for the provided watch is "
                                                   "too old.");
        }
        co_return polled.error();
      }
      std::vector<WatchEvent> out;
      for (auto& ev : *polled) {
        convert(ev, out);
      }
      progress_ = watcher_->next_revision() - 1;
      if (!out.empty()) {
        co_return out;
      }
      if (wake_->pending.load()) {
        continue;
      }
      // The timer doubles as the time limit: kv's notify cancels it (a wake-up), expiry is `until`.
      wake_->timer.expires_at(until);
      auto [ec] =
          co_await wake_->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      auto state = co_await boost::asio::this_coro::cancellation_state;
      if (state.cancelled() != boost::asio::cancellation_type::none) {
        co_return errors::cancelled("watch cancelled");
      }
      if (!ec && !wake_->pending.load()) {
        co_return std::vector<WatchEvent>{};
      }
    }
  }

  std::int64_t progress_revision() const override { return progress_; }

 private:
  void convert(kv::Event& ev, std::vector<WatchEvent>& out) {
    if (raw_) {
      convert_raw(ev, out);
      return;
    }
    std::optional<json::Value> current;
    std::optional<json::Value> previous;
    if (ev.type == kv::Event::Type::kPut) {
      auto obj = detail::decode_stored(*type_, ev.kv.value, ev.kv.mod_revision);
      if (!obj) {
        log::warn(kComponent, "watch: skipping undecodable {}: {}", ev.kv.key, obj.error().message);
        return;
      }
      current = std::move(*obj);
    }
    if (ev.prev_kv) {
      // A deleted object is reported at the deletion's revision (upstream does the same).
      std::int64_t rev = ev.type == kv::Event::Type::kDelete ? ev.kv.mod_revision
                                                             : ev.prev_kv->mod_revision;
      auto obj = detail::decode_stored(*type_, ev.prev_kv->value, rev);
      if (obj) {
        previous = std::move(*obj);
      }
    }
    bool now_matches = current && selection_.matches(*current);
    bool was_matching = previous && selection_.matches(*previous);
    WatchEvent out_ev;
    out_ev.revision = ev.kv.mod_revision;
    if (ev.type == kv::Event::Type::kDelete) {
      if (!was_matching) {
        return;
      }
      out_ev.type = WatchEvent::Type::kDeleted;
      out_ev.object = std::move(*previous);
    } else if (now_matches && was_matching) {
      out_ev.type = WatchEvent::Type::kModified;
      out_ev.object = std::move(*current);
    } else if (now_matches) {
      out_ev.type = WatchEvent::Type::kAdded;
      out_ev.object = std::move(*current);
    } else if (was_matching) {
      out_ev.type = WatchEvent::Type::kDeleted;
      out_ev.object = std::move(*current);  // its new state, which no longer matches
    } else {
      return;
    }
    out.push_back(std::move(out_ev));
  }

  // Unfiltered: a put is MODIFIED when the key had a value, a delete reports the last value at the
  // deletion's revision (as convert()).
  void convert_raw(kv::Event& ev, std::vector<WatchEvent>& out) {
    WatchEvent out_ev;
    out_ev.revision = ev.kv.mod_revision;
    Result<void> ok;
    if (ev.type == kv::Event::Type::kDelete) {
      if (!ev.prev_kv) {
        return;
      }
      out_ev.type = WatchEvent::Type::kDeleted;
      ok = detail::stored_to_json(*type_, raw_prefix_, ev.prev_kv->value, ev.kv.mod_revision,
                                  out_ev.raw);
    } else {
      out_ev.type = ev.prev_kv ? WatchEvent::Type::kModified : WatchEvent::Type::kAdded;
      ok = detail::stored_to_json(*type_, raw_prefix_, ev.kv.value, ev.kv.mod_revision,
                                  out_ev.raw);
    }
    if (!ok) {
      log::warn(kComponent, "watch: skipping undecodable {}: {}", ev.kv.key, ok.error().message);
      return;
    }
    out.push_back(std::move(out_ev));
  }

  ResourceTypePtr type_;
  detail::Selection selection_;
  std::shared_ptr<WakeState> wake_;
  bool raw_ = false;
  std::string raw_prefix_;
  std::unique_ptr<kv::Watcher> watcher_;
  std::deque<WatchEvent> initial_;
  std::int64_t progress_ = 0;
};

// metadata.name=X alone (with a namespace for namespaced kinds): watch just that key.
std::optional<std::string> single_name(std::string_view field_selector) {
  constexpr std::string_view kName = "metadata.name=";
  if (field_selector.rfind(kName, 0) != 0) {
    return std::nullopt;
  }
  std::string_view rest = field_selector.substr(kName.size());
  if (rest.empty() || rest.find_first_of(",=!\\") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(rest);
}

}  // namespace

awaitable<Result<std::unique_ptr<WatchStream>>> Registry::watch(ResourceTypePtr type,
                                                               std::string ns,
                                                               WatchOptions options) {
  kv::Store& store = impl_->store;
  auto selection = detail::Selection::make(*type, options.label_selector, options.field_selector);
  if (!selection) {
    co_return selection.error();
  }
  std::int64_t from = 0;  // last revision the client has seen; events start after it
  bool initial_state = true;
  if (options.resource_version && !options.resource_version->empty() &&
      *options.resource_version != "0") {
    auto rv = detail::parse_resource_version(*options.resource_version);
    if (!rv) {
      co_return errors::bad_request(rv.error().message);
    }
    from = *rv;
    initial_state = options.send_initial_events;
    if (from > store.current_revision()) {
      Error e = detail::too_large_resource_version(from, store.current_revision());
      co_return e;
    }
    if (from < store.compact_revision()) {
      co_return errors::make(Reason::kExpired,
                             fmt::format("too old resource version: {} ({})", from,
                                         store.compact_revision()));
    }
  }

  std::string key = detail::collection_prefix(*type, ns);
  std::string end = kv::prefix_end(key);
  bool unfiltered = selection->everything();
  if (auto name = single_name(options.field_selector); name && (!type->namespaced || !ns.empty())) {
    key = detail::object_key(*type, ns, *name);
    end.clear();
    unfiltered = options.label_selector.empty();  // the key is the whole field selector
  }
  const bool raw = options.json_text && unfiltered;
  const std::string raw_prefix = raw ? detail::served_json_prefix(*type) : std::string();

  std::deque<WatchEvent> initial;
  if (initial_state) {
    // The current state as synthetic ADDED events, then changes after the revision it was read at.
    kv::RangeRequest req;
    req.key = key;
    req.range_end = end;
    req.revision = from;
    auto r = store.range(req);
    if (!r) {
      co_return r.error();
    }
    from = from > 0 ? from : r->revision;
    for (auto& kv : r->kvs) {
      if (raw) {
        WatchEvent ev{WatchEvent::Type::kAdded, json::Value(), {}, kv.mod_revision};
        if (detail::stored_to_json(*type, raw_prefix, kv.value, kv.mod_revision, ev.raw)) {
          initial.push_back(std::move(ev));
        }
        continue;
      }
      auto obj = detail::decode_stored(*type, kv.value, kv.mod_revision);
      if (obj && selection->matches(*obj)) {
        initial.push_back(
            WatchEvent{WatchEvent::Type::kAdded, std::move(*obj), {}, kv.mod_revision});
      }
    }
  }

  auto ex = co_await boost::asio::this_coro::executor;
  auto wake = std::make_shared<WakeState>(ex);
  auto stream = std::make_unique<Stream>(type, std::move(*selection), wake, raw, raw_prefix);
  kv::WatchOptions wo;
  wo.key = key;
  wo.range_end = end;
  wo.start_revision = from + 1;
  wo.prev_kv = true;
  std::weak_ptr<WakeState> weak = wake;
  auto watcher = store.watch(wo, [weak] {
    auto w = weak.lock();
    if (!w) {
      return;
    }
    if (!w->pending.exchange(true)) {
      boost::asio::post(w->executor, [w] { w->timer.cancel(); });
    }
  });
  if (!watcher) {
    co_return watcher.error();
  }
  stream->start(std::move(*watcher), std::move(initial), from);
  co_return std::unique_ptr<WatchStream>(std::move(stream));
}

}  // namespace skiff::registry
