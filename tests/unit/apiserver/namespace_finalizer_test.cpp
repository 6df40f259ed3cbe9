// SPDX-License-Identifier: Apache-2.0
// The namespace finalizer over a real registry and store: a deleted namespace's content is deleted,
// objects with finalizers are waited for, and the namespace goes once it is empty.

#include "namespace_finalizer.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "skiff/kv/store.hpp"
#include "skiff/registry/registry.hpp"
#include "run_async.hpp"
#include "skiff_test.hpp"

namespace {

namespace registry = skiff::registry;
namespace json = skiff::json;

registry::ResourceTypePtr type_of(registry::Catalog& catalog, std::string_view group,
                                  std::string_view plural) {
  auto snap = catalog.snapshot();
  for (const auto& t : snap->types()) {
    if (t->gvk.group == group && t->plural == plural) {
      return t;
    }
  }
  return nullptr;
}

json::Value parse(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return std::move(*v);
}

}  // namespace

TEST_CASE("a deleted namespace is emptied, waits for finalizers, then goes", "[apiserver]") {
  skiff::testing::TempDir dir;
  skiff::kv::StoreOptions o;
  o.path = dir.file("db/state.db");
  o.sync_full = false;
  auto store = skiff::kv::Store::open(o);
  REQUIRE(store);
  registry::Catalog catalog;
  registry::Registry reg(**store, catalog);
  boost::asio::io_context io;
  auto run = [&](auto a) { return skiff::testing::run_async(io, std::move(a)); };
  REQUIRE(run(reg.ensure_system_namespaces()));

  auto namespaces = type_of(catalog, "", "namespaces");
  auto configmaps = type_of(catalog, "", "configmaps");
  registry::WriteOptions wo;
  wo.field_manager = "test";
  REQUIRE(run(reg.create(namespaces, "",
                         parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}})"),
                         wo)));
  REQUIRE(run(reg.create(configmaps, "x",
                         parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})"),
                         wo)));
  REQUIRE(run(reg.create(configmaps, "x", parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"held","finalizers":["example.com/hold"]}})"),
                         wo)));
  registry::DeleteOptions del;
  auto marked = run(reg.remove(namespaces, "", "x", del));
  REQUIRE(marked);
  CHECK_FALSE(marked->finished);
  CHECK(marked->object["status"]["phase"] == json::Value("Terminating"));

  skiff::apiserver::NamespaceFinalizer finalizer(reg, std::chrono::milliseconds(20));
  boost::asio::cancellation_signal stop;
  bool finished = false;
  boost::asio::co_spawn(io, finalizer.run(),
                        boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                          finished = true;
                          CHECK_FALSE(e);
                        }));
  registry::GetOptions get;
  auto exists = [&](const registry::ResourceTypePtr& t, const char* ns, const char* name) {
    return static_cast<bool>(run(reg.get(t, ns, name, "", get)));
  };
  // Poll by running the io_context: the plain config map goes, the held one is only marked.
  auto drive_until = [&](const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(10));
    }
    return pred();
  };
  // One pass deletes the objects one after another: wait for both outcomes.
  auto held_marked = [&] {
    auto h = run(reg.get(configmaps, "x", "held", "", get));
    return h && (*h)["metadata"].get("deletionTimestamp") != nullptr;
  };
  REQUIRE(drive_until([&] { return !exists(configmaps, "x", "a") && held_marked(); }));
  auto held = run(reg.get(configmaps, "x", "held", "", get));
  REQUIRE(held);
  CHECK(exists(namespaces, "", "x"));

  // Releasing the finalizer deletes the object; then the namespace is finalized and gone.
  json::Value released = *held;
  released["metadata"]["finalizers"] = json::Array{};
  REQUIRE(run(reg.update(configmaps, "x", "held", "", released, wo)));
  REQUIRE(drive_until([&] { return !exists(namespaces, "", "x"); }));

  stop.emit(boost::asio::cancellation_type::terminal);
  REQUIRE(drive_until([&] { return finished; }));
}
