// SPDX-License-Identifier: Apache-2.0
#include "namespace_finalizer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/base/log.hpp"
#include "skiff/registry/registry.hpp"

namespace skiff::apiserver {

using boost::asio::awaitable;

namespace {
constexpr std::string_view kComponent = "namespaces";

registry::ResourceTypePtr find_type(const registry::CatalogSnapshot& snap, std::string_view group,
                                    std::string_view version, std::string_view plural) {
  const registry::ResourceType* found = snap.find(group, version, plural);
  for (const auto& t : snap.types()) {
    if (t.get() == found) {
      return t;
    }
  }
  return nullptr;
}

// Types whose objects live in a namespace and are stored (one served version per resource).
std::vector<registry::ResourceTypePtr> namespaced_stored(const registry::CatalogSnapshot& snap) {
  std::vector<registry::ResourceTypePtr> out;
  std::vector<std::string> prefixes;
  for (const auto& t : snap.types()) {
    if (!t->namespaced || !t->has_verb("list") || !t->has_verb("delete")) {
      continue;
    }
    if (std::find(prefixes.begin(), prefixes.end(), t->storage_prefix) != prefixes.end()) {
      continue;  // another version of a resource already covered
    }
    prefixes.push_back(t->storage_prefix);
    out.push_back(t);
  }
  return out;
}
}  // namespace

NamespaceFinalizer::NamespaceFinalizer(registry::Registry& registry,
                                       std::chrono::milliseconds retry)
    : registry_(registry), retry_(retry) {}

awaitable<bool> NamespaceFinalizer::sweep() {
  auto snap = registry_.catalog().snapshot();
  auto namespaces = find_type(*snap, "", "v1", "namespaces");
  // Options are named locals throughout: GCC 12 destroys braced temporaries passed to a coroutine
  // inside co_await twice.
  registry::ListOptions everything;
  auto listed = co_await registry_.list(namespaces, "", everything);
  if (!listed) {
    log::warn(kComponent, "listing namespaces: {}", listed.error().message);
    co_return true;
  }
  bool waiting = false;
  for (const auto& ns : listed->items) {
    const json::Value& meta = ns["metadata"];
    if (meta.get("deletionTimestamp") == nullptr || ns["spec"]["finalizers"].size() == 0) {
      continue;
    }
    std::string name(meta.string_or("name"));
    bool empty = true;
    for (const auto& type : namespaced_stored(*snap)) {
      registry::ListOptions all;
      registry::DeleteOptions plain;
      auto removed = co_await registry_.remove_collection(type, name, all, plain);
      if (!removed) {
        log::warn(kComponent, "deleting {} in {}: {}", type->plural, name, removed.error().message);
        empty = false;
        continue;
      }
      registry::ListOptions one;
      one.limit = 1;
      auto left = co_await registry_.list(type, name, one);
      if (!left || !left->items.empty()) {
        empty = false;
      }
    }
    if (!empty) {
      waiting = true;
      continue;
    }
    json::Value finalized = ns;
    finalized["spec"]["finalizers"] = json::Array{};
    registry::WriteOptions wo;
    wo.field_manager = "skiff-namespace-controller";
    auto done = co_await registry_.update(namespaces, "", name, "finalize", std::move(finalized), wo);
    if (!done && done.error().reason != Reason::kNotFound) {
      log::warn(kComponent, "finalizing {}: {}", name, done.error().message);
      waiting = true;
    } else if (done) {
      log::info(kComponent, "namespace {} emptied and finalized", name);
    }
  }
  co_return waiting;
}

awaitable<void> NamespaceFinalizer::run() {
  namespace asio = boost::asio;
  auto snap = registry_.catalog().snapshot();
  auto namespaces = find_type(*snap, "", "v1", "namespaces");
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    // Watch namespaces; any change (or the retry timer while something waits) triggers a sweep.
    registry::WatchOptions wo;
    wo.resource_version = std::to_string(registry_.current_revision());
    auto stream = co_await registry_.watch(namespaces, "", wo);
    bool waiting = co_await sweep();
    while (stream) {
      // Events, or the retry time passed (an empty batch): either way, sweep.
      auto events = co_await (*stream)->next(std::chrono::steady_clock::now() +
                                             (waiting ? retry_ : std::chrono::hours(1)));
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        co_return;
      }
      if (!events) {
        if (events.error().reason == Reason::kCancelled) {
          co_return;
        }
        break;  // expired: watch again from now
      }
      waiting = co_await sweep();
    }
    if (!stream) {
      timer.expires_after(retry_);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        co_return;
      }
    }
  }
}

}  // namespace skiff::apiserver
