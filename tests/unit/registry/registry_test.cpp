// SPDX-License-Identifier: Apache-2.0
// The REST storage over a real kv::Store (SQLite file in a temp dir): Kubernetes semantics of
// create/get/list/update/patch/delete/watch, resourceVersion, selectors, pagination, finalizers,
// subresources, Service allocation and CRDs.

#include "skiff/registry/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "skiff/base/base64.hpp"
#include "skiff/kv/store.hpp"
#include "run_async.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::Reason;
using skiff::json::Object;
using skiff::json::Value;
using skiff::registry::ResourceTypePtr;
namespace registry = skiff::registry;
namespace json = skiff::json;

Value parse(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return std::move(*v);
}

struct Fixture {
  skiff::testing::TempDir dir;
  std::unique_ptr<skiff::kv::Store> store;
  registry::Catalog catalog;
  std::unique_ptr<registry::Registry> reg;
  boost::asio::io_context ctx;

  Fixture() {
    skiff::kv::StoreOptions o;
    o.path = dir.file("db/state.db");
    o.sync_full = false;
    o.auto_compaction = false;
    auto s = skiff::kv::Store::open(o);
    REQUIRE(s);
    store = std::move(*s);
    reg = std::make_unique<registry::Registry>(*store, catalog);
    auto ns = run(reg->ensure_system_namespaces());
    REQUIRE(ns);
  }
  ~Fixture() {
    reg.reset();
    store.reset();
  }

  template <class T>
  T run(boost::asio::awaitable<T> a) {
    return skiff::testing::run_async(ctx, std::move(a));
  }

  ResourceTypePtr type(std::string_view group, std::string_view version, std::string_view plural) {
    auto snap = catalog.snapshot();
    for (const auto& t : snap->types()) {
      if (t->gvk.group == group && t->gvk.version == version && t->plural == plural) {
        return t;
      }
    }
    FAIL("no type " << group << "/" << version << "/" << plural);
    return nullptr;
  }

  Value create(ResourceTypePtr t, std::string ns, Value obj) {
    registry::WriteOptions o;
    o.field_manager = "test";
    auto r = run(reg->create(t, std::move(ns), std::move(obj), o));
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r);
    return std::move(r->object);
  }
};

Value configmap(std::string_view name, std::string_view labels = "{}") {
  return parse(fmt::format(R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{}","labels":{}}},"data":{{"k":"v"}}}})",
                           name, labels));
}

std::int64_t rv_of(const Value& obj) {
  return std::stoll(std::string(obj["metadata"].string_or("resourceVersion", "0")));
}

}  // namespace

TEST_CASE("create sets server metadata and get returns the stored object", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value created = f.create(cms, "default", configmap("a"));
  const Value& meta = created["metadata"];
  CHECK(meta.string_or("uid").size() == 36);
  CHECK(meta.string_or("creationTimestamp").ends_with("Z"));
  CHECK(meta.string_or("namespace") == "default");
  CHECK(rv_of(created) == f.store->current_revision());

  auto got = f.run(f.reg->get(cms, "default", "a", "", {}));
  REQUIRE(got);
  CHECK(*got == created);

  auto again = f.run(f.reg->create(cms, "default", configmap("a"), {}));
  REQUIRE_FALSE(again);
  CHECK(again.error().reason == Reason::kAlreadyExists);
  CHECK(again.error().message == "configmaps \"a\" already exists");

  auto missing = f.run(f.reg->get(cms, "default", "nope", "", {}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == Reason::kNotFound);
  CHECK(missing.error().message == "configmaps \"nope\" not found");
  CHECK(missing.error().kind == "configmaps");
}

TEST_CASE("create checks the namespace, the kind and the name", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  auto no_ns = f.run(f.reg->create(cms, "ghost", configmap("a"), {}));
  REQUIRE_FALSE(no_ns);
  CHECK(no_ns.error().reason == Reason::kNotFound);
  CHECK(no_ns.error().message == "namespaces \"ghost\" not found");

  auto wrong_kind = f.run(f.reg->create(
      cms, "default", parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}})"), {}));
  REQUIRE_FALSE(wrong_kind);
  CHECK(wrong_kind.error().reason == Reason::kBadRequest);

  auto mismatch = f.run(f.reg->create(
      cms, "default",
      parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}})"),
      {}));
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message ==
        "the namespace of the provided object does not match the namespace sent on the request");

  auto bad_name = f.run(f.reg->create(cms, "default", configmap("Bad_Name"), {}));
  REQUIRE_FALSE(bad_name);
  CHECK(bad_name.error().reason == Reason::kInvalid);
  CHECK(bad_name.error().message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""));

  auto no_name = f.run(f.reg->create(
      cms, "default", parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{}})"), {}));
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().reason == Reason::kInvalid);
  CHECK(no_name.error().message.find("name or generateName is required") != std::string::npos);

  Value generated = f.create(
      cms, "default",
      parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}})"));
  std::string name(generated["metadata"].string_or("name"));
  CHECK(name.size() == 9);
  CHECK(name.starts_with("gen-"));
}

TEST_CASE("updates are optimistic: a stale resourceVersion is a conflict", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value v1 = f.create(cms, "default", configmap("a"));
  Value edit = v1;
  edit["data"]["k"] = "v2";
  auto v2 = f.run(f.reg->update(cms, "default", "a", "", edit, {}));
  REQUIRE(v2);
  CHECK(rv_of(v2->object) > rv_of(v1));
  CHECK(v2->object["metadata"]["uid"] == v1["metadata"]["uid"]);

  // The same body again carries the old resourceVersion.
  auto stale = f.run(f.reg->update(cms, "default", "a", "", edit, {}));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().reason == Reason::kConflict);
  CHECK(stale.error().message ==
        "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please "
        "apply your changes to the latest version and try again");

  // An unchanged object is not written again: the resourceVersion stays.
  auto same = f.run(f.reg->update(cms, "default", "a", "", v2->object, {}));
  REQUIRE(same);
  CHECK(rv_of(same->object) == rv_of(v2->object));

  // The name in the body must match the URL.
  Value other = v2->object;
  other["metadata"]["name"] = "b";
  auto renamed = f.run(f.reg->update(cms, "default", "a", "", other, {}));
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().reason == Reason::kBadRequest);
}

TEST_CASE("patches of all three non-apply types apply to the current object", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  // (A label to start with: an empty labels map is not stored, and a JSON patch cannot add under
  // a missing parent.)
  f.create(cms, "default", configmap("a", R"({"app":"a"})"));
  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  auto m = f.run(f.reg->patch(cms, "default", "a", "", R"({"data":{"n":"1","k":null}})", merge, {}));
  REQUIRE(m);
  CHECK(m->object["data"] == parse(R"({"n":"1"})"));

  registry::PatchOptions jp;
  jp.type = registry::PatchType::kJson;
  auto j = f.run(f.reg->patch(cms, "default", "a", "",
                              R"([{"op":"add","path":"/metadata/labels/x","value":"y"}])", jp, {}));
  REQUIRE(j);
  CHECK(j->object["metadata"]["labels"]["x"] == Value("y"));

  registry::PatchOptions smp;
  smp.type = registry::PatchType::kStrategic;
  auto s = f.run(f.reg->patch(cms, "default", "a", "", R"({"data":{"z":"9"}})", smp, {}));
  REQUIRE(s);
  CHECK(s->object["data"] == parse(R"({"n":"1","z":"9"})"));

  auto stale = f.run(f.reg->patch(cms, "default", "a", "",
                                  R"({"metadata":{"resourceVersion":"1"},"data":{"q":"1"}})", merge,
                                  {}));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().reason == Reason::kConflict);

  auto missing = f.run(f.reg->patch(cms, "default", "zz", "", "{}", merge, {}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == Reason::kNotFound);
}

TEST_CASE("list filters by label and field selectors and pages at one revision", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  for (int i = 0; i < 7; ++i) {
    f.create(cms, "default",
             configmap(fmt::format("c{}", i), i % 2 == 0 ? R"({"even":"yes"})" : R"({"even":"no"})"));
  }
  f.create(cms, "kube-system", configmap("other"));

  auto all = f.run(f.reg->list(cms, "", {}));
  REQUIRE(all);
  CHECK(all->items.size() == 8);
  CHECK(all->revision == f.store->current_revision());

  registry::ListOptions even;
  even.label_selector = "even=yes";
  auto e = f.run(f.reg->list(cms, "default", even));
  REQUIRE(e);
  CHECK(e->items.size() == 4);

  registry::ListOptions by_name;
  by_name.field_selector = "metadata.name=c3";
  auto n = f.run(f.reg->list(cms, "default", by_name));
  REQUIRE(n);
  REQUIRE(n->items.size() == 1);
  CHECK(n->items[0]["metadata"]["name"] == Value("c3"));

  registry::ListOptions bad_field;
  bad_field.field_selector = "spec.nothing=x";
  auto bf = f.run(f.reg->list(cms, "default", bad_field));
  REQUIRE_FALSE(bf);
  CHECK(bf.error().reason == Reason::kBadRequest);
  CHECK(bf.error().message == "field label not supported: spec.nothing");

  // Pages of 3: a write between pages does not show up (the list is pinned to its revision).
  registry::ListOptions page;
  page.limit = 3;
  auto p1 = f.run(f.reg->list(cms, "default", page));
  REQUIRE(p1);
  CHECK(p1->items.size() == 3);
  REQUIRE_FALSE(p1->continue_token.empty());
  REQUIRE(p1->remaining_item_count);
  CHECK(*p1->remaining_item_count == 4);
  f.create(cms, "default", configmap("c9"));
  std::vector<std::string> names;
  for (const auto& item : p1->items) {
    names.emplace_back(item["metadata"].string_or("name"));
  }
  std::string token = p1->continue_token;
  while (!token.empty()) {
    registry::ListOptions next;
    next.limit = 3;
    next.continue_token = token;
    auto p = f.run(f.reg->list(cms, "default", next));
    REQUIRE(p);
    CHECK(p->revision == p1->revision);
    for (const auto& item : p->items) {
      names.emplace_back(item["metadata"].string_or("name"));
    }
    token = p->continue_token;
  }
  CHECK(names == std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5", "c6"});

  registry::ListOptions garbage;
  garbage.continue_token = "not-a-token";
  auto g = f.run(f.reg->list(cms, "default", garbage));
  REQUIRE_FALSE(g);
  CHECK(g.error().reason == Reason::kBadRequest);

  // After compaction past the token's revision, the token has expired.
  REQUIRE(f.store->compact_sync(f.store->current_revision()));
  registry::ListOptions old;
  old.continue_token = p1->continue_token;
  auto expired = f.run(f.reg->list(cms, "default", old));
  REQUIRE_FALSE(expired);
  CHECK(expired.error().reason == Reason::kGone);
}

TEST_CASE("list honours resourceVersion and resourceVersionMatch", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value a = f.create(cms, "default", configmap("a"));
  f.create(cms, "default", configmap("b"));

  registry::ListOptions exact;
  exact.resource_version = std::to_string(rv_of(a));
  exact.resource_version_match = "Exact";
  auto at = f.run(f.reg->list(cms, "default", exact));
  REQUIRE(at);
  CHECK(at->items.size() == 1);
  CHECK(at->revision == rv_of(a));

  registry::ListOptions future;
  future.resource_version = std::to_string(f.store->current_revision() + 100);
  auto fut = f.run(f.reg->list(cms, "default", future));
  REQUIRE_FALSE(fut);
  CHECK(fut.error().reason == Reason::kTimeout);

  registry::ListOptions zero;
  zero.resource_version = "0";
  auto z = f.run(f.reg->list(cms, "default", zero));
  REQUIRE(z);
  CHECK(z->items.size() == 2);
}

TEST_CASE("delete waits for finalizers and a final update completes it", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  f.create(cms, "default",
           parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f","finalizers":["example.com/keep"]}})"));
  auto marked = f.run(f.reg->remove(cms, "default", "f", {}));
  REQUIRE(marked);
  CHECK_FALSE(marked->finished);
  CHECK(marked->object["metadata"].get("deletionTimestamp") != nullptr);

  // Still readable while finalizers remain; removing the last one deletes the object.
  auto got = f.run(f.reg->get(cms, "default", "f", "", {}));
  REQUIRE(got);
  Value done = *got;
  done["metadata"]["finalizers"] = json::Array{};
  auto updated = f.run(f.reg->update(cms, "default", "f", "", done, {}));
  REQUIRE(updated);
  auto gone = f.run(f.reg->get(cms, "default", "f", "", {}));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().reason == Reason::kNotFound);

  f.create(cms, "default", configmap("p"));
  registry::DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "nope";
  auto pre = f.run(f.reg->remove(cms, "default", "p", wrong_uid));
  REQUIRE_FALSE(pre);
  CHECK(pre.error().reason == Reason::kConflict);
  CHECK(pre.error().message.find("Precondition failed: UID in precondition: nope") !=
        std::string::npos);
  auto removed = f.run(f.reg->remove(cms, "default", "p", {}));
  REQUIRE(removed);
  CHECK(removed->finished);
}

TEST_CASE("dry run answers what would be stored without storing it", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  registry::WriteOptions dry;
  dry.dry_run = true;
  std::int64_t before = f.store->current_revision();
  auto r = f.run(f.reg->create(cms, "default", configmap("d"), dry));
  REQUIRE(r);
  CHECK(r->object["metadata"]["name"] == Value("d"));
  CHECK(f.store->current_revision() == before);
  auto got = f.run(f.reg->get(cms, "default", "d", "", {}));
  CHECK_FALSE(got);
}

TEST_CASE("strict field validation rejects unknown fields, warn reports them", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value body = configmap("s");
  body["bogus"] = 1;
  registry::WriteOptions strict;
  strict.field_validation = registry::FieldValidation::kStrict;
  auto r = f.run(f.reg->create(cms, "default", body, strict));
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == Reason::kBadRequest);
  CHECK(r.error().message.find("strict decoding error: unknown field \"bogus\"") !=
        std::string::npos);

  registry::WriteOptions warn;
  warn.field_validation = registry::FieldValidation::kWarn;
  auto w = f.run(f.reg->create(cms, "default", body, warn));
  REQUIRE(w);
  REQUIRE(w->warnings.size() == 1);
  CHECK(w->warnings[0] == "unknown field \"bogus\"");

  Value typed = configmap("t");
  typed["data"]["k"] = 5;
  auto t = f.run(f.reg->create(cms, "default", typed, warn));
  REQUIRE_FALSE(t);
  CHECK(t.error().reason == Reason::kBadRequest);
}

TEST_CASE("watch replays after a resourceVersion and follows selectors", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value a = f.create(cms, "default", configmap("a", R"({"app":"x"})"));

  // From "now" (the list revision): only later changes.
  registry::WatchOptions from;
  from.resource_version = std::to_string(rv_of(a));
  from.label_selector = "app=x";
  auto w = f.run(f.reg->watch(cms, "default", from));
  REQUIRE(w);
  auto& stream = *w;

  Value b = f.create(cms, "default", configmap("b", R"({"app":"x"})"));
  Value c = f.create(cms, "default", configmap("c", R"({"app":"y"})"));  // filtered out
  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  REQUIRE(f.run(f.reg->patch(cms, "default", "a", "", R"({"metadata":{"labels":{"app":"z"}}})",
                             merge, {})));  // leaves the selection: DELETED
  REQUIRE(f.run(f.reg->patch(cms, "default", "c", "", R"({"metadata":{"labels":{"app":"x"}}})",
                             merge, {})));  // enters it: ADDED
  REQUIRE(f.run(f.reg->remove(cms, "default", "b", {})));

  std::vector<std::pair<registry::WatchEvent::Type, std::string>> seen;
  while (seen.size() < 4) {
    auto events = f.run(stream->next());
    REQUIRE(events);
    for (auto& ev : *events) {
      seen.emplace_back(ev.type, std::string(ev.object["metadata"].string_or("name")));
      CHECK(rv_of(ev.object) == ev.revision);
    }
  }
  using T = registry::WatchEvent::Type;
  CHECK(seen == std::vector<std::pair<T, std::string>>{
                    {T::kAdded, "b"}, {T::kDeleted, "a"}, {T::kAdded, "c"}, {T::kDeleted, "b"}});
  CHECK(stream->progress_revision() == f.store->current_revision());

  // A time limit ends a quiet wait with an empty batch; a change before the limit is delivered.
  auto quiet =
      f.run(stream->next(std::chrono::steady_clock::now() + std::chrono::milliseconds(30)));
  REQUIRE(quiet);
  CHECK(quiet->empty());
  f.create(cms, "default", configmap("d", R"({"app":"x"})"));
  auto changed = f.run(stream->next(std::chrono::steady_clock::now() + std::chrono::hours(1)));
  REQUIRE(changed);
  REQUIRE(changed->size() == 1);
  CHECK(changed->front().object["metadata"].string_or("name") == "d");

  // resourceVersion 0: the current state as ADDED first.
  registry::WatchOptions initial;
  initial.resource_version = "0";
  auto w0 = f.run(f.reg->watch(cms, "default", initial));
  REQUIRE(w0);
  auto first = f.run((*w0)->next());
  REQUIRE(first);
  CHECK(first->size() == 3);
  for (const auto& ev : *first) {
    CHECK(ev.type == T::kAdded);
  }

  // A compacted resourceVersion cannot be watched.
  REQUIRE(f.store->compact_sync(f.store->current_revision()));
  registry::WatchOptions old;
  old.resource_version = std::to_string(rv_of(a));
  auto expired = f.run(f.reg->watch(cms, "default", old));
  REQUIRE_FALSE(expired);
  CHECK(expired.error().reason == Reason::kExpired);
}

TEST_CASE("watch events as JSON text equal the parsed events, and selectors keep parsed objects",
          "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  f.create(cms, "default", configmap("a", R"({"app":"x"})"));
  auto open = [&](std::string field_selector, std::string label_selector, bool text) {
    registry::WatchOptions o;
    o.resource_version = "0";
    o.field_selector = std::move(field_selector);
    o.label_selector = std::move(label_selector);
    o.json_text = text;
    auto w = f.run(f.reg->watch(cms, "default", o));
    REQUIRE(w);
    return std::move(*w);
  };
  auto all_parsed = open("", "", false);
  auto all_text = open("", "", true);
  auto one_text = open("metadata.name=a", "", true);
  auto labelled = open("", "app=x", true);  // a selector needs the object: no text

  f.create(cms, "default", configmap("b"));
  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  REQUIRE(f.run(f.reg->patch(cms, "default", "a", "", R"({"data":{"k":"changed"}})", merge, {})));
  REQUIRE(f.run(f.reg->remove(cms, "default", "a", {})));

  using T = registry::WatchEvent::Type;
  auto drain = [&](registry::WatchStream& w, std::size_t n) {
    std::vector<registry::WatchEvent> out;
    while (out.size() < n) {
      auto events = f.run(w.next());
      REQUIRE(events);
      for (auto& ev : *events) {
        out.push_back(std::move(ev));
      }
    }
    return out;
  };
  auto parsed = drain(*all_parsed, 4);  // ADDED a, ADDED b, MODIFIED a, DELETED a
  auto text = drain(*all_text, 4);
  REQUIRE(text.size() == parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    INFO("event " << i);
    CHECK(parsed[i].raw.empty());
    CHECK(text[i].object.is_null());
    CHECK(text[i].type == parsed[i].type);
    CHECK(text[i].revision == parsed[i].revision);
    auto reparsed = json::parse(text[i].raw);
    REQUIRE(reparsed);
    CHECK(*reparsed == parsed[i].object);
  }
  CHECK(parsed[2].type == T::kModified);
  CHECK(parsed[3].type == T::kDeleted);

  auto one = drain(*one_text, 3);  // ADDED a, MODIFIED a, DELETED a
  REQUIRE(one.size() == 3);
  CHECK(one[0].type == T::kAdded);
  CHECK(one[1].type == T::kModified);
  CHECK(one[2].type == T::kDeleted);
  for (const auto& ev : one) {
    auto reparsed = json::parse(ev.raw);
    REQUIRE(reparsed);
    CHECK((*reparsed)["metadata"]["name"] == Value("a"));
    CHECK(rv_of(*reparsed) == ev.revision);
  }

  auto selected = drain(*labelled, 3);  // ADDED a, MODIFIED a, DELETED a (b has no label)
  REQUIRE(selected.size() == 3);
  for (const auto& ev : selected) {
    CHECK(ev.raw.empty());
    CHECK(ev.object["metadata"]["name"] == Value("a"));
  }
}

TEST_CASE("status and scale subresources change only their part", "[registry]") {
  Fixture f;
  auto deployments = f.type("apps", "v1", "deployments");
  Value d = f.create(deployments, "default", parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}},
    "status":{"replicas":99}})"));
  CHECK(d.get("status") == nullptr);  // status is not settable on create

  Value st = d;
  st["status"] = Object{{"replicas", 2}, {"readyReplicas", 1}};
  st["spec"]["replicas"] = 5;  // ignored through /status
  auto s = f.run(f.reg->update(deployments, "default", "web", "status", st, {}));
  REQUIRE(s);
  CHECK(s->object["status"]["readyReplicas"] == Value(1));
  CHECK(s->object["spec"]["replicas"] == Value(2));

  Value main = s->object;
  main["status"] = Object{{"replicas", 0}};  // ignored on the main resource
  main["spec"]["replicas"] = 3;
  auto m = f.run(f.reg->update(deployments, "default", "web", "", main, {}));
  REQUIRE(m);
  CHECK(m->object["spec"]["replicas"] == Value(3));
  CHECK(m->object["status"]["readyReplicas"] == Value(1));

  auto scale = f.run(f.reg->get(deployments, "default", "web", "scale", {}));
  REQUIRE(scale);
  CHECK((*scale)["kind"] == Value("Scale"));
  CHECK((*scale)["apiVersion"] == Value("autoscaling/v1"));
  CHECK((*scale)["spec"]["replicas"] == Value(3));
  CHECK((*scale)["status"]["selector"] == Value("app=web"));

  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  auto scaled = f.run(f.reg->patch(deployments, "default", "web", "scale",
                                   R"({"spec":{"replicas":7}})", merge, {}));
  REQUIRE(scaled);
  CHECK(scaled->object["spec"]["replicas"] == Value(7));
  auto after = f.run(f.reg->get(deployments, "default", "web", "", {}));
  REQUIRE(after);
  CHECK((*after)["spec"]["replicas"] == Value(7));
}

TEST_CASE("services get unique cluster IPs and node ports from their ranges", "[registry]") {
  Fixture f;
  auto services = f.type("", "v1", "services");
  auto svc = [](std::string_view name, std::string_view extra,
                std::string_view ports = R"([{"port":80}])") {
    return parse(fmt::format(R"({{"apiVersion":"v1","kind":"Service","metadata":{{"name":"{}"}},
      "spec":{{"ports":{}{}}}}})",
                             name, ports, extra));
  };
  Value a = f.create(services, "default", svc("a", ""));
  Value b = f.create(services, "default", svc("b", R"(,"type":"NodePort")"));
  std::string ip_a(a["spec"].string_or("clusterIP"));
  std::string ip_b(b["spec"].string_or("clusterIP"));
  CHECK(ip_a.starts_with("10.43."));
  CHECK(ip_a != ip_b);
  CHECK(ip_a != "10.43.0.1");  // the kubernetes service's address
  std::int64_t port = b["spec"]["ports"].as_array()[0].int_or("nodePort");
  CHECK(port >= 30000);
  CHECK(port <= 32767);

  auto taken = f.run(f.reg->create(services, "default",
                                   svc("c", fmt::format(R"(,"clusterIP":"{}")", ip_a)), {}));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().reason == Reason::kInvalid);
  CHECK(taken.error().message.find("provided IP is already allocated") != std::string::npos);

  auto port_taken = f.run(f.reg->create(
      services, "default",
      svc("d", R"(,"type":"NodePort")", fmt::format(R"([{{"port":81,"nodePort":{}}}])", port)),
      {}));
  REQUIRE_FALSE(port_taken);
  CHECK(port_taken.error().message.find("provided port is already allocated") != std::string::npos);

  auto out_of_range = f.run(f.reg->create(services, "default", svc("e", R"(,"clusterIP":"10.99.0.5")"), {}));
  REQUIRE_FALSE(out_of_range);
  CHECK(out_of_range.error().message.find("is not in the valid range") != std::string::npos);

  // Deleting a service frees its address for the next one that asks for it.
  REQUIRE(f.run(f.reg->remove(services, "default", "a", {})));
  Value again = f.create(services, "default", svc("f", fmt::format(R"(,"clusterIP":"{}")", ip_a)));
  CHECK(again["spec"]["clusterIP"] == Value(ip_a));
}

TEST_CASE("a CRD serves its resource and deleting it deletes the objects", "[registry]") {
  Fixture f;
  auto crds = f.type("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  Value crd = f.create(crds, "", parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced",
      "names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wd"]},
      "versions":[{"name":"v1","served":true,"storage":true,
        "subresources":{"status":{}},
        "schema":{"openAPIV3Schema":{"type":"object","properties":{
          "spec":{"type":"object","properties":{"size":{"type":"integer","minimum":1,"default":3},
                                                 "color":{"type":"string"}}},
          "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}}]}})"));
  CHECK(crd["status"]["acceptedNames"]["kind"] == Value("Widget"));

  auto widgets = f.type("example.com", "v1", "widgets");
  REQUIRE(widgets);
  CHECK(widgets->custom);
  Value w = f.create(widgets, "default", parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
    "metadata":{"name":"w1"},"spec":{"color":"red","unknown":"dropped"}})"));
  CHECK(w["spec"]["size"] == Value(3));              // defaulted
  CHECK(w["spec"].get("unknown") == nullptr);         // pruned
  CHECK(w["metadata"]["generation"] == Value(1));

  auto bad = f.run(f.reg->create(widgets, "default", parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
    "metadata":{"name":"w2"},"spec":{"size":0}})"), {}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == Reason::kInvalid);
  CHECK(bad.error().message.find("spec.size") != std::string::npos);

  Value edit = w;
  edit["spec"]["color"] = "blue";
  auto edited = f.run(f.reg->update(widgets, "default", "w1", "", edit, {}));
  REQUIRE(edited);
  CHECK(edited->object["metadata"]["generation"] == Value(2));

  REQUIRE(f.run(f.reg->remove(crds, "", "widgets.example.com", {})));
  CHECK(f.catalog.snapshot()->find("example.com", "v1", "widgets") == nullptr);
  skiff::kv::RangeRequest left;
  left.key = "/registry/example.com/widgets/";
  left.range_end = skiff::kv::prefix_end(left.key);
  left.count_only = true;
  auto r = f.store->range(left);
  REQUIRE(r);
  CHECK(r->count == 0);
}

TEST_CASE("the system namespaces exist after start", "[registry]") {
  Fixture f;
  auto namespaces = f.type("", "v1", "namespaces");
  auto list = f.run(f.reg->list(namespaces, "", {}));
  REQUIRE(list);
  std::vector<std::string> names;
  for (const auto& ns : list->items) {
    names.emplace_back(ns["metadata"].string_or("name"));
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"default", "kube-node-lease", "kube-public", "kube-system"});
  // Idempotent on restart.
  REQUIRE(f.run(f.reg->ensure_system_namespaces()));
}

TEST_CASE("versions of one resource convert: HPA v1/v2 and core/events.k8s.io Events", "[registry]") {
  Fixture f;
  auto hpa_v1 = f.type("autoscaling", "v1", "horizontalpodautoscalers");
  auto hpa_v2 = f.type("autoscaling", "v2", "horizontalpodautoscalers");
  f.create(hpa_v1, "default", parse(R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
    "minReplicas":1,"maxReplicas":5,"targetCPUUtilizationPercentage":70}})"));
  auto as_v2 = f.run(f.reg->get(hpa_v2, "default", "h", "", {}));
  REQUIRE(as_v2);
  CHECK((*as_v2)["apiVersion"] == Value("autoscaling/v2"));
  CHECK((*as_v2)["spec"].get("targetCPUUtilizationPercentage") == nullptr);
  CHECK((*as_v2)["spec"]["metrics"] == parse(R"([{"type":"Resource","resource":{"name":"cpu",
    "target":{"type":"Utilization","averageUtilization":70}}}])"));
  auto as_v1 = f.run(f.reg->get(hpa_v1, "default", "h", "", {}));
  REQUIRE(as_v1);
  CHECK((*as_v1)["spec"]["targetCPUUtilizationPercentage"] == Value(70));
  CHECK((*as_v1)["spec"].get("metrics") == nullptr);

  auto core_events = f.type("", "v1", "events");
  auto new_events = f.type("events.k8s.io", "v1", "events");
  f.create(new_events, "default", parse(R"({"apiVersion":"events.k8s.io/v1","kind":"Event",
    "metadata":{"name":"e1"},"eventTime":"2026-01-02T03:04:05.000000Z","reason":"Started",
    "note":"started container","type":"Normal","action":"Start",
    "reportingController":"kubelet","reportingInstance":"node1",
    "regarding":{"kind":"Pod","namespace":"default","name":"p"}})"));
  auto core = f.run(f.reg->get(core_events, "default", "e1", "", {}));
  REQUIRE(core);
  CHECK((*core)["apiVersion"] == Value("v1"));
  CHECK((*core)["message"] == Value("started container"));
  CHECK((*core)["involvedObject"]["name"] == Value("p"));
  CHECK((*core)["reportingComponent"] == Value("kubelet"));
  registry::ListOptions by_object;
  by_object.field_selector = "involvedObject.name=p";
  auto listed = f.run(f.reg->list(core_events, "default", by_object));
  REQUIRE(listed);
  CHECK(listed->items.size() == 1);
  auto back = f.run(f.reg->get(new_events, "default", "e1", "", {}));
  REQUIRE(back);
  CHECK((*back)["note"] == Value("started container"));
  CHECK((*back)["regarding"]["name"] == Value("p"));
}

TEST_CASE("JSON text of gets and lists equals the parsed objects, also across conversions",
          "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  f.create(cms, "default", configmap("a", R"({"x":"1"})"));
  f.create(cms, "default", configmap("b"));
  f.create(cms, "kube-system", configmap("c"));
  auto hpa_v1 = f.type("autoscaling", "v1", "horizontalpodautoscalers");
  auto hpa_v2 = f.type("autoscaling", "v2", "horizontalpodautoscalers");
  f.create(hpa_v1, "default", parse(R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
    "minReplicas":1,"maxReplicas":5,"targetCPUUtilizationPercentage":70}})"));
  auto new_events = f.type("events.k8s.io", "v1", "events");
  f.create(new_events, "default", parse(R"({"apiVersion":"events.k8s.io/v1","kind":"Event",
    "metadata":{"name":"e1"},"eventTime":"2026-01-02T03:04:05.000000Z","reason":"Started",
    "note":"n","type":"Normal","action":"Start","reportingController":"kubelet",
    "reportingInstance":"node1","regarding":{"kind":"Pod","namespace":"default","name":"p"}})"));

  // Served as stored (configmaps), converted (HPA v1 of a v2-stored object), renamed (events).
  for (auto [type, name] : {std::pair{cms, "a"}, std::pair{hpa_v1, "h"}, std::pair{hpa_v2, "h"},
                            std::pair{new_events, "e1"}}) {
    auto parsed = f.run(f.reg->get(type, "default", name, "", {}));
    REQUIRE(parsed);
    auto text = f.run(f.reg->get_json(type, "default", name, {}));
    REQUIRE(text);
    CHECK(parse(*text) == *parsed);
  }
  auto missing = f.run(f.reg->get_json(cms, "default", "nope", {}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == Reason::kNotFound);

  for (auto [type, ns] : {std::pair{cms, ""}, std::pair{cms, "default"}, std::pair{hpa_v1, ""},
                          std::pair{new_events, "default"}}) {
    registry::ListOptions plain;
    auto parsed = f.run(f.reg->list(type, ns, plain));
    REQUIRE(parsed);
    registry::ListOptions text_options;
    text_options.json_text = true;
    auto text = f.run(f.reg->list(type, ns, text_options));
    REQUIRE(text);
    REQUIRE(text->raw);
    CHECK(text->items.empty());
    CHECK(text->raw_items.size() == parsed->items.size());
    std::string joined;
    for (std::size_t i = 0; i < text->raw_items.size(); ++i) {
      joined += i > 0 ? "," : "";
      REQUIRE(text->raw_items.append_json(i, joined));
    }
    CHECK(parse("[" + joined + "]") == Value(parsed->items));
    CHECK(text->revision == parsed->revision);
  }

  // Pages keep their count and token; a selector turns the text form off.
  registry::ListOptions page;
  page.json_text = true;
  page.limit = 2;
  auto p1 = f.run(f.reg->list(cms, "", page));
  REQUIRE(p1);
  CHECK(p1->raw_items.size() == 2);
  REQUIRE_FALSE(p1->continue_token.empty());
  REQUIRE(p1->remaining_item_count);
  CHECK(*p1->remaining_item_count == 1);
  registry::ListOptions selected;
  selected.json_text = true;
  selected.label_selector = "x=1";
  auto s = f.run(f.reg->list(cms, "default", selected));
  REQUIRE(s);
  CHECK_FALSE(s->raw);
  REQUIRE(s->items.size() == 1);
  CHECK(s->items[0]["metadata"]["name"] == Value("a"));
}

// The fixes the real-client e2e tests (tests/e2e) exposed, at the registry level.

TEST_CASE("empty metadata maps and lists are not stored", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value body = configmap("empty");
  body["metadata"]["annotations"] = Object{};
  body["metadata"]["finalizers"] = json::Array{};
  Value created = f.create(cms, "default", body);
  CHECK(created["metadata"].get("labels") == nullptr);
  CHECK(created["metadata"].get("annotations") == nullptr);
  CHECK(created["metadata"].get("finalizers") == nullptr);

  // Removing the last label (kubectl label x k-) leaves no `labels: {}` behind.
  f.create(cms, "default", configmap("one", R"({"k":"v"})"));
  registry::PatchOptions merge;
  merge.type = registry::PatchType::kMerge;
  auto r = f.run(f.reg->patch(cms, "default", "one", "", R"({"metadata":{"labels":{"k":null}}})",
                              merge, {}));
  REQUIRE(r);
  CHECK(r->object["metadata"].get("labels") == nullptr);
  auto stored = f.run(f.reg->get(cms, "default", "one", "", {}));
  REQUIRE(stored);
  CHECK((*stored)["metadata"].get("labels") == nullptr);
}

TEST_CASE("a built-in kind's body may leave out kind and apiVersion", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value created = f.create(cms, "default", parse(R"({"metadata":{"name":"bare"},"data":{"a":"b"}})"));
  CHECK(created["kind"] == Value("ConfigMap"));
  CHECK(created["apiVersion"] == Value("v1"));
  auto deployments = f.type("apps", "v1", "deployments");
  Value d = f.create(deployments, "default", parse(R"({"metadata":{"name":"web"},
    "spec":{"selector":{"matchLabels":{"app":"web"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})"));
  CHECK(d["kind"] == Value("Deployment"));
  CHECK(d["apiVersion"] == Value("apps/v1"));
  // An update too.
  Value update = parse(R"({"metadata":{"name":"bare"},"data":{"a":"c"}})");
  auto u = f.run(f.reg->update(cms, "default", "bare", "", update, {}));
  REQUIRE(u);
  CHECK(u->object["kind"] == Value("ConfigMap"));
}

TEST_CASE("a body of another kind is refused in upstream's words", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  auto r = f.run(f.reg->create(
      cms, "default", parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}})"), {}));
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == Reason::kBadRequest);
  CHECK(r.error().message ==
        "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to "
        "(core.ConfigMap): unknown conversion");
  auto deployments = f.type("apps", "v1", "deployments");
  auto d = f.run(f.reg->create(
      deployments, "default",
      parse(R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"}})"), {}));
  REQUIRE_FALSE(d);
  CHECK(d.error().message ==
        "StatefulSet in version \"v1\" cannot be handled as a Deployment: converting "
        "(v1.StatefulSet) to (apps.Deployment): unknown conversion");
  auto unknown = f.run(f.reg->create(
      cms, "default", parse(R"({"apiVersion":"v7","kind":"Gadget","metadata":{"name":"g"}})"), {}));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message ==
        "Gadget in version \"v7\" cannot be handled as a ConfigMap: no kind \"Gadget\" is "
        "registered for version \"v7\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"");
  // The right kind in a version that is not served for it.
  auto version = f.run(f.reg->create(
      cms, "default", parse(R"({"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"c"}})"),
      {}));
  REQUIRE_FALSE(version);
  CHECK(version.error().reason == Reason::kBadRequest);
}

TEST_CASE("unknown fields of a built-in kind are dropped unless validation is strict",
          "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  for (auto mode : {registry::FieldValidation::kWarn, registry::FieldValidation::kIgnore}) {
    Value body = configmap(mode == registry::FieldValidation::kWarn ? "warn" : "ignore");
    body["spec"] = Object{{"x", 1}};
    body["metadata"]["bogus"] = "y";
    registry::WriteOptions o;
    o.field_validation = mode;
    auto r = f.run(f.reg->create(cms, "default", body, o));
    REQUIRE(r);
    CHECK(r->warnings.size() == (mode == registry::FieldValidation::kWarn ? 2u : 0u));
    CHECK(r->object.get("spec") == nullptr);
    CHECK(r->object["metadata"].get("bogus") == nullptr);
    CHECK(r->object["data"]["k"] == Value("v"));
  }
}

TEST_CASE("server-side apply records one Apply entry and no Update entry of its manager",
          "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  registry::PatchOptions apply;
  apply.type = registry::PatchType::kApply;
  registry::WriteOptions o;
  o.field_manager = "kubectl";
  const std::string body =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"a":"1"}})";
  auto created = f.run(f.reg->patch(cms, "default", "ssa", "", body, apply, o));
  REQUIRE(created);
  auto changed = f.run(f.reg->patch(
      cms, "default", "ssa", "",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"a":"2"}})", apply,
      o));
  REQUIRE(changed);
  CHECK(changed->object["data"]["a"] == Value("2"));
  const auto& mf = changed->object["metadata"]["managedFields"];
  REQUIRE(mf.size() == 1);
  CHECK(mf.as_array().at(0)["manager"] == Value("kubectl"));
  CHECK(mf.as_array().at(0)["operation"] == Value("Apply"));
  CHECK(mf.as_array().at(0).get_path({"fieldsV1", "f:data", "f:a"}) != nullptr);
}

TEST_CASE("server-side apply owns status only through /status and spec only through the main "
          "resource", "[registry]") {
  Fixture f;
  auto deployments = f.type("apps", "v1", "deployments");
  registry::PatchOptions apply;
  apply.type = registry::PatchType::kApply;
  registry::WriteOptions user;
  user.field_manager = "user";
  const std::string spec = R"("spec":{"replicas":2,"selector":{"matchLabels":{"app":"w"}},
    "template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}})";
  auto entry_of = [](const Value& object, std::string_view manager) -> const Value* {
    for (const auto& e : object["metadata"]["managedFields"].as_array()) {
      if (e["manager"] == Value(std::string(manager))) {
        return &e;
      }
    }
    return nullptr;
  };
  // Created by apply with a status: the status is dropped and not owned.
  auto created = f.run(f.reg->patch(
      deployments, "default", "w", "",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},)" + spec +
          R"(,"status":{"replicas":7}})",
      apply, user));
  REQUIRE(created);
  CHECK(created->object["status"].get("replicas") == nullptr);
  const Value* mine = entry_of(created->object, "user");
  REQUIRE(mine != nullptr);
  CHECK(mine->get_path({"fieldsV1", "f:spec", "f:replicas"}) != nullptr);
  CHECK(mine->get_path({"fieldsV1", "f:status"}) == nullptr);

  // A controller applies status through /status: its entry names the subresource and owns only
  // status; the spec in its config is ignored.
  registry::WriteOptions ctrl;
  ctrl.field_manager = "ctrl";
  auto status = f.run(f.reg->patch(
      deployments, "default", "w", "status",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},"spec":{"replicas":9},"status":{"replicas":2}})",
      apply, ctrl));
  REQUIRE(status);
  CHECK(status->object["status"]["replicas"] == Value(2));
  CHECK(status->object["spec"]["replicas"] == Value(2));
  const Value* theirs = entry_of(status->object, "ctrl");
  REQUIRE(theirs != nullptr);
  CHECK((*theirs)["subresource"] == Value("status"));
  CHECK(theirs->get_path({"fieldsV1", "f:status", "f:replicas"}) != nullptr);
  CHECK(theirs->get_path({"fieldsV1", "f:spec"}) == nullptr);

  // The user re-applies with another status: no conflict with "ctrl" (reset fields never
  // conflict), status unchanged, still not owned by the user.
  auto again = f.run(f.reg->patch(
      deployments, "default", "w", "",
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},)" + spec +
          R"(,"status":{"replicas":5}})",
      apply, user));
  REQUIRE(again);
  CHECK(again->object["status"]["replicas"] == Value(2));
  mine = entry_of(again->object, "user");
  REQUIRE(mine != nullptr);
  CHECK(mine->get_path({"fieldsV1", "f:status"}) == nullptr);
  theirs = entry_of(again->object, "ctrl");
  REQUIRE(theirs != nullptr);
  CHECK(theirs->get_path({"fieldsV1", "f:status", "f:replicas"}) != nullptr);
}

TEST_CASE("a Scale without spec.replicas scales to 0", "[registry]") {
  Fixture f;
  auto deployments = f.type("apps", "v1", "deployments");
  f.create(deployments, "default", parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})"));
  // kubectl scale --replicas=0 PUTs a Scale whose spec is empty (replicas is omitempty).
  auto r = f.run(f.reg->update(
      deployments, "default", "web", "scale",
      parse(R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{}})"),
      {}));
  REQUIRE(r);
  auto d = f.run(f.reg->get(deployments, "default", "web", "", {}));
  REQUIRE(d);
  CHECK((*d)["spec"]["replicas"] == Value(0));
  auto bad = f.run(f.reg->update(
      deployments, "default", "web", "scale",
      parse(R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":"two"}})"),
      {}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == Reason::kBadRequest);
  auto negative = f.run(f.reg->update(
      deployments, "default", "web", "scale",
      parse(R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":-1}})"),
      {}));
  REQUIRE_FALSE(negative);
  CHECK(negative.error().reason == Reason::kInvalid);
  CHECK(negative.error().message ==
        "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater "
        "than or equal to 0");
}

TEST_CASE("marking an object for deletion adds nothing to it", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value body = configmap("held");
  body["metadata"]["finalizers"] = json::Array{Value("example.com/hold")};
  f.create(cms, "default", body);
  auto marked = f.run(f.reg->remove(cms, "default", "held", {}));
  REQUIRE(marked);
  CHECK_FALSE(marked->finished);
  CHECK(marked->object["metadata"].get("deletionTimestamp") != nullptr);
  // (A ConfigMap has no spec; `"spec": null` was added and then warned about on every update.)
  CHECK(marked->object.get("spec") == nullptr);
  auto stored = f.run(f.reg->get(cms, "default", "held", "", {}));
  REQUIRE(stored);
  CHECK(stored->get("spec") == nullptr);
  registry::PatchOptions jp;
  jp.type = registry::PatchType::kJson;
  auto released = f.run(f.reg->patch(cms, "default", "held", "",
                                     R"([{"op":"remove","path":"/metadata/finalizers"}])", jp, {}));
  REQUIRE(released);
  CHECK(released->warnings.empty());
  CHECK_FALSE(f.run(f.reg->get(cms, "default", "held", "", {})));
}

TEST_CASE("a deprecated CRD version carries its warning text", "[registry]") {
  Fixture f;
  auto crds = f.type("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  auto crd = [](std::string_view warning) {
    return parse(fmt::format(R"({{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{{"name":"gizmos.mv.dev"}},
      "spec":{{"group":"mv.dev","scope":"Namespaced",
        "names":{{"plural":"gizmos","singular":"gizmo","kind":"Gizmo"}},
        "versions":[
          {{"name":"v1alpha1","served":true,"storage":false,"deprecated":true,
            "schema":{{"openAPIV3Schema":{{"type":"object"}}}}}},
          {{"name":"v1beta1","served":true,"storage":false,"deprecated":true{},
            "schema":{{"openAPIV3Schema":{{"type":"object"}}}}}},
          {{"name":"v1","served":true,"storage":true,
            "schema":{{"openAPIV3Schema":{{"type":"object"}}}}}},
          {{"name":"v2","served":false,"storage":false,
            "schema":{{"openAPIV3Schema":{{"type":"object"}}}}}}]}}}})",
                             warning));
  };
  Value created = f.create(crds, "", crd(R"(,"deprecationWarning":"v1beta1 gizmos are old")"));
  CHECK(f.type("mv.dev", "v1", "gizmos")->deprecation_warning.empty());
  CHECK(f.type("mv.dev", "v1beta1", "gizmos")->deprecation_warning == "v1beta1 gizmos are old");
  // Upstream's default names the newest served version that is not deprecated (v2 is not served).
  CHECK(f.type("mv.dev", "v1alpha1", "gizmos")->deprecation_warning ==
        "mv.dev/v1alpha1 Gizmo is deprecated; use mv.dev/v1 Gizmo");
  Value update = crd("");
  update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"];
  REQUIRE(f.run(f.reg->update(crds, "", "gizmos.mv.dev", "", update, {})));
  CHECK(f.type("mv.dev", "v1beta1", "gizmos")->deprecation_warning ==
        "mv.dev/v1beta1 Gizmo is deprecated; use mv.dev/v1 Gizmo");
}

TEST_CASE("a CSR names its requester and /approval changes only its conditions", "[registry]") {
  Fixture f;
  auto csrs = f.type("certificates.k8s.io", "v1", "certificatesigningrequests");
  const std::string request =
      skiff::base64::encode("-----BEGIN CERTIFICATE REQUEST-----\nMII=\n-----END CERTIFICATE REQUEST-----\n");
  Value body = parse(fmt::format(R"({{"apiVersion":"certificates.k8s.io/v1",
    "kind":"CertificateSigningRequest","metadata":{{"name":"alice"}},
    "spec":{{"request":"{}","signerName":"kubernetes.io/kube-apiserver-client",
      "usages":["client auth"],"username":"forged","groups":["system:masters"]}},
    "status":{{"conditions":[{{"type":"Approved","status":"True"}}]}}}})",
                                 request));
  registry::WriteOptions o;
  o.user.name = "system:admin";
  o.user.groups = {"system:masters", "system:authenticated"};
  auto created = f.run(f.reg->create(csrs, "", body, o));
  REQUIRE(created);
  // The requester comes from the request, never the body; nothing is pre-approved.
  CHECK(created->object["spec"]["username"] == Value("system:admin"));
  CHECK(created->object["spec"]["groups"] == parse(R"(["system:masters","system:authenticated"])"));
  CHECK(created->object.get_path({"status", "conditions"}) == nullptr);

  Value approve = created->object;
  approve["status"] = parse(R"({"conditions":[{"type":"Approved","status":"True",
    "reason":"KubectlApprove","message":"approved"}],"certificate":"Zm9v"})");
  approve["spec"]["signerName"] = "example.com/other";  // ignored through /approval
  auto approved = f.run(f.reg->update(csrs, "", "alice", "approval", approve, o));
  REQUIRE(approved);
  const Value& cond = approved->object["status"]["conditions"].as_array().at(0);
  CHECK(cond["type"] == Value("Approved"));
  CHECK(!cond.string_or("lastUpdateTime").empty());
  CHECK(!cond.string_or("lastTransitionTime").empty());
  CHECK(approved->object["status"].get("certificate") == nullptr);
  CHECK(approved->object["spec"]["signerName"] == Value("kubernetes.io/kube-apiserver-client"));
  const Value& mf = approved->object["metadata"]["managedFields"];
  bool approval_entry = false;
  for (const auto& m : mf.as_array()) {
    approval_entry = approval_entry || m["subresource"] == Value("approval");
  }
  CHECK(approval_entry);

  // Approved and Denied together are refused, as is a condition that is not "True".
  Value both = approved->object;
  both["status"]["conditions"].as_array().push_back(parse(R"({"type":"Denied","status":"True"})"));
  auto refused = f.run(f.reg->update(csrs, "", "alice", "approval", both, o));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().reason == Reason::kInvalid);
  CHECK(refused.error().message.find("status.conditions[1].type: Invalid value: \"Denied\": "
                                     "Approved and Denied conditions are mutually exclusive") !=
        std::string::npos);
  Value unsure = approved->object;
  unsure["status"]["conditions"].as_array().at(0)["status"] = "False";
  auto not_true = f.run(f.reg->update(csrs, "", "alice", "approval", unsure, o));
  REQUIRE_FALSE(not_true);
  CHECK(not_true.error().message.find("status.conditions[0].status: Unsupported value: \"False\"") !=
        std::string::npos);
}

TEST_CASE("a resourceVersion ahead of the store is a 504 client-go recognizes", "[registry]") {
  Fixture f;
  auto cms = f.type("", "v1", "configmaps");
  Value a = f.create(cms, "default", configmap("a"));
  const std::int64_t ahead = rv_of(a) + 1000;
  auto check_error = [&](const skiff::Error& e) {
    CHECK(e.reason == Reason::kTimeout);
    CHECK(e.message == fmt::format("Timeout: Too large resource version: {}, current: {}", ahead,
                                   rv_of(a)));
    REQUIRE(e.causes.size() == 1);
    CHECK(e.causes[0].type == "ResourceVersionTooLarge");
    CHECK(e.causes[0].message == "Too large resource version");
  };
  registry::ListOptions not_older;
  not_older.resource_version = std::to_string(ahead);
  auto l = f.run(f.reg->list(cms, "default", not_older));
  REQUIRE_FALSE(l);
  check_error(l.error());
  registry::ListOptions exact = not_older;
  exact.resource_version_match = "Exact";
  auto x = f.run(f.reg->list(cms, "default", exact));
  REQUIRE_FALSE(x);
  check_error(x.error());
  registry::WatchOptions from;
  from.resource_version = std::to_string(ahead);
  auto w = f.run(f.reg->watch(cms, "default", from));
  REQUIRE_FALSE(w);
  check_error(w.error());
}
