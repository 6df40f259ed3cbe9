// SPDX-License-Identifier: Apache-2.0
// structured-merge-diff's merge fixtures (operation sequences with the expected object, ownership
// and conflicts), transcribed as data and replayed through FieldManager. Their schemas are built as
// Node graphs from the fixtures' own type descriptions.
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "skiff/registry/managed_fields.hpp"

#include "patch_test_schemas.hpp"
#include "skiff_test.hpp"

using skiff::json::Value;
using skiff::registry::FieldManager;
using skiff::registry::FieldManagerOptions;
using skiff::registry::FieldPath;
using skiff::registry::FieldSet;
using skiff::registry::Kind;
using skiff::registry::ListType;
using skiff::registry::MapType;
using skiff::registry::Node;
using skiff::registry::PathElement;
using skiff::testing::js;

namespace {

// A Node graph for one fixture schema (structured-merge-diff's schema language).
class FixtureSchema {
public:
  explicit FixtureSchema(const Value& schema, std::string_view root) {
    if (schema.is_null()) {
      return;  // deduced
    }
    for (const auto& t : schema["types"].as_array()) {
      named_[t["name"].as_string()] = make();
    }
    for (const auto& t : schema["types"].as_array()) {
      fill(named_.at(t["name"].as_string()), t);
    }
    root_ = named_.at(std::string(root));
    // the replay adds apiVersion and kind (FieldManager checks them); stripped from ownership
    // anyway
    for (const char* f : {"apiVersion", "kind"}) {
      if (root_->kind == Kind::kObject && !has(root_, f)) {
        skiff::registry::Field field;
        field.name = f;
        field.node = scalar("string");
        root_->fields.push_back(field);
      }
    }
  }

  const Node* root() const { return root_; }

private:
  static bool has(const Node* n, std::string_view f) {
    for (const auto& x : n->fields) {
      if (x.name == f) {
        return true;
      }
    }
    return false;
  }

  Node* make() {
    nodes_.emplace_back();
    return &nodes_.back();
  }

  Node* scalar(const std::string& s) {
    Node* n = make();
    n->kind = s == "string"    ? Kind::kString
              : s == "numeric" ? Kind::kNumber
              : s == "boolean" ? Kind::kBoolean
                               : Kind::kIntOrString;
    return n;
  }

  Node* ref(const Value& type) {
    if (const Value* name = type.get("namedType")) {
      if (name->as_string().rfind("__untyped", 0) == 0) {
        Node* n = make();
        n->kind = Kind::kAny;
        return n;
      }
      return named_.at(name->as_string());
    }
    Node* n = make();
    fill(n, type);
    return n;
  }

  void fill(Node* n, const Value& atom) {
    if (const Value* s = atom.get("scalar")) {
      *n = *scalar(s->as_string());
      return;
    }
    if (const Value* l = atom.get("list")) {
      n->kind = Kind::kArray;
      n->items = ref((*l)["elementType"]);
      const std::string_view rel = l->string_or("elementRelationship", "atomic");
      if (rel == "atomic") {
        n->list_type = ListType::kAtomic;
      } else if (const Value* keys = l->get("keys"); keys != nullptr && keys->size() > 0) {
        n->list_type = ListType::kMap;
        for (const auto& k : keys->as_array()) {
          n->list_map_keys.push_back(k.as_string());
        }
      } else {
        n->list_type = ListType::kSet;
      }
      return;
    }
    const Value& m = atom["map"];
    const bool atomic = m.string_or("elementRelationship") == "atomic";
    if (const Value* fields = m.get("fields"); fields != nullptr && fields->size() > 0) {
      n->kind = Kind::kObject;
      n->map_type = atomic ? MapType::kAtomic : MapType::kUnset;
      n->preserve_unknown_fields = m.get("elementType") != nullptr;
      for (const auto& f : fields->as_array()) {
        skiff::registry::Field field;
        field.name = f["name"].as_string();
        const Node* type = ref(f["type"]);
        if (const Value* d = f.get("default")) {
          Node* copy = make();
          *copy = *type;
          copy->default_value = *d;
          type = copy;
        }
        field.node = type;
        n->fields.push_back(field);
      }
      return;
    }
    n->kind = Kind::kMap;
    n->map_type = atomic ? MapType::kAtomic : MapType::kUnset;
    n->items = m.get("elementType") != nullptr ? ref(m["elementType"]) : nullptr;
  }

  std::deque<Node> nodes_;
  std::map<std::string, Node*> named_;
  Node* root_ = nullptr;
};

Value load(const std::string& name) {
  std::ifstream in(std::string(SKIFF_PATCH_TEST_DATA) + "/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return js(ss.str());
}

FieldPath to_path(const Value& elements) {
  FieldPath p;
  for (const auto& e : elements.as_array()) {
    if (const Value* f = e.get("f")) {
      p.push_back(PathElement::field(f->as_string()));
    } else if (const Value* k = e.get("k")) {
      PathElement::KeyFields fields;
      for (const auto& m : k->as_object()) {
        fields.emplace_back(m.key, m.value);
      }
      p.push_back(PathElement::key(std::move(fields)));
    } else if (const Value* v = e.get("v")) {
      p.push_back(PathElement::value(*v));
    } else {
      p.push_back(PathElement::index(e["i"].as_int()));
    }
  }
  return p;
}

// Drops null object members (the replay's objects, like upstream's typed ones, carry none).
void drop_nulls(Value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto it = o.begin(); it != o.end();) {
      if (it->value.is_null()) {
        it = o.erase(it);
      } else {
        drop_nulls(it->value);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& i : v.as_array()) {
      drop_nulls(i);
    }
  }
}

Value typed_object(const Value& object, const std::string& version) {
  Value o = object.is_null() ? Value::object() : object;
  o["apiVersion"] = version;
  o["kind"] = "T";
  return o;
}

}  // namespace

TEST_CASE("apply replays structured-merge-diff's merge fixtures", "[registry][apply][fixtures]") {
  const Value data = load("smd_merge_fixtures.json");
  int replayed = 0;
  for (const auto& c : data["cases"].as_array()) {
    const std::string name = c["test"].as_string() + "/" + c["name"].as_string();
    INFO(name);
    FixtureSchema schema(c["schema"], c.string_or("root"));
    std::optional<Value> live;
    int step = 0;
    for (const auto& op : c["ops"].as_array()) {
      INFO("operation " << step++ << ": " << skiff::json::serialize(op));
      const std::string version = op["apiVersion"].as_string();
      FieldManagerOptions o;
      o.gvk = {"", version, "T"};
      const FieldManager fm(schema.root(), o);
      const Value object = typed_object(op["object"], version);
      const auto now =
          std::chrono::system_clock::time_point(std::chrono::seconds(1714557600 + step));
      if (op["op"].as_string() == "update") {
        live = fm.update(live ? &*live : nullptr, object, op["manager"].as_string(), now);
        continue;
      }
      const bool force = op["op"].as_string() == "force-apply";
      auto r = fm.apply(live ? &*live : nullptr, object, op["manager"].as_string(), force, now);
      if (const Value* conflicts = op.get("conflicts")) {
        REQUIRE_FALSE(r);
        std::set<std::string> want;
        for (const auto& x : conflicts->as_array()) {
          want.insert(x["manager"].as_string() + " " +
                      skiff::registry::path_to_string(to_path(x["path"])));
        }
        std::set<std::string> got;
        for (const auto& cause : r.error().causes) {
          // "conflict with \"<manager>\"..." -> <manager>
          const auto first = cause.message.find('"');
          const auto second = cause.message.find('"', first + 1);
          got.insert(cause.message.substr(first + 1, second - first - 1) + " " + cause.field);
        }
        CHECK(got == want);
        continue;
      }
      if (!r) {
        FAIL(r.error().message);
      }
      live = *r;
    }
    if (const Value* expected = c.get("object"); expected != nullptr && live) {
      Value got = *live;
      got.as_object().erase("apiVersion");
      got.as_object().erase("kind");
      got.as_object().erase("metadata");
      Value want = expected->is_null() ? Value::object() : *expected;
      drop_nulls(got);
      drop_nulls(want);
      INFO("expected object: " << skiff::json::serialize(want));
      INFO("got object:      " << skiff::json::serialize(got));
      CHECK(got == want);
    }
    if (const Value* managed = c.get("managed")) {
      std::map<std::string, std::string> want;
      for (const auto& m : managed->as_object()) {
        FieldSet s;
        for (const auto& p : m.value["paths"].as_array()) {
          s.insert(to_path(p));
        }
        want[m.key] = skiff::json::serialize(s.to_fields_v1());
      }
      std::map<std::string, std::string> got;
      if (live) {
        const Value& entries = (*live)["metadata"]["managedFields"];
        if (entries.is_array()) {
          for (const auto& e : entries.as_array()) {
            got[e["manager"].as_string()] = skiff::json::serialize(e["fieldsV1"]);
          }
        }
      }
      CHECK(got == want);
    }
    ++replayed;
  }
  CHECK(replayed == static_cast<int>(data["cases"].size()));
}
