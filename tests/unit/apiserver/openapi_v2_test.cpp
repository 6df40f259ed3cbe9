// SPDX-License-Identifier: Apache-2.0
// `/openapi/v2`: the protobuf wire writer, the swagger 2.0 document of the whole API and its
// gnostic protobuf encoding, decoded back here by a small reader of our own (and by Debian's
// `protoc --decode_raw`), checked against the v3 documents it is built from and against the rules
// kubectl 1.27/1.28 apply to it (kube-openapi's model parser, the fieldValidation verifier).
#include "openapi_v2.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "skiff/base/yaml.hpp"
#include "skiff/registry/catalog.hpp"

#include "openapi.hpp"
#include "proto_writer.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::apiserver::kSwaggerProtobuf;
using skiff::apiserver::kSwaggerProtobufOld;
using skiff::apiserver::OpenApiCache;
using skiff::apiserver::OpenApiRequest;
using skiff::apiserver::OpenApiResponse;
using skiff::apiserver::ProtoWriter;
using skiff::apiserver::SwaggerFormat;
namespace json = skiff::json;
namespace registry = skiff::registry;

// ---- a protobuf reader, written from the wire format (independent of ProtoWriter) ----

struct WireField {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t varint = 0;  // wire 0; wire 1 and 5: the raw bits
  std::string_view bytes;    // wire 2
};

bool read_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (in.empty()) {
      return false;
    }
    auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && b > 1) {
      return false;
    }
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      return true;
    }
  }
  return false;
}

// Splits one message into its fields; false on malformed input.
bool parse_fields(std::string_view in, std::vector<WireField>& out) {
  while (!in.empty()) {
    std::uint64_t key = 0;
    if (!read_varint(in, key) || (key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) {
      return false;
    }
    WireField f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<std::uint32_t>(key & 7);
    switch (f.wire) {
      case 0:
        if (!read_varint(in, f.varint)) {
          return false;
        }
        break;
      case 1:
      case 5: {
        std::size_t n = f.wire == 1 ? 8 : 4;
        if (in.size() < n) {
          return false;
        }
        for (std::size_t i = 0; i < n; ++i) {
          f.varint |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
        }
        in.remove_prefix(n);
        break;
      }
      case 2: {
        std::uint64_t len = 0;
        if (!read_varint(in, len) || len > in.size()) {
          return false;
        }
        f.bytes = in.substr(0, len);
        in.remove_prefix(len);
        break;
      }
      default:
        return false;
    }
    out.push_back(f);
  }
  return true;
}

// One decoded message with typed accessors; the bytes it views must outlive it.
class Msg {
public:
  Msg() = default;
  // Parsed in the body: fields_ must exist before parse_fields() fills it.
  explicit Msg(std::string_view data) { ok_ = parse_fields(data, fields_); }
  bool ok() const { return ok_; }
  const std::vector<WireField>& fields() const { return fields_; }

  std::vector<std::string_view> all(std::uint32_t n) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields_) {
      if (f.number == n && f.wire == 2) {
        out.push_back(f.bytes);
      }
    }
    return out;
  }
  std::vector<Msg> messages(std::uint32_t n) const {
    std::vector<Msg> out;
    for (std::string_view b : all(n)) {
      out.emplace_back(b);
    }
    return out;
  }
  bool has(std::uint32_t n) const {
    for (const auto& f : fields_) {
      if (f.number == n) {
        return true;
      }
    }
    return false;
  }
  Msg msg(std::uint32_t n) const {
    auto a = all(n);
    return a.empty() ? Msg() : Msg(a.back());
  }
  std::string str(std::uint32_t n) const {
    auto a = all(n);
    return a.empty() ? std::string() : std::string(a.back());
  }
  std::vector<std::string> strs(std::uint32_t n) const {
    std::vector<std::string> out;
    for (std::string_view b : all(n)) {
      out.emplace_back(b);
    }
    return out;
  }
  std::uint64_t varint(std::uint32_t n) const {
    std::uint64_t v = 0;
    for (const auto& f : fields_) {
      if (f.number == n && f.wire == 0) {
        v = f.varint;
      }
    }
    return v;
  }

private:
  bool ok_ = true;
  std::vector<WireField> fields_;
};

// gnostic's repeated Named* {1 name, 2 value} entries in field `n`, in order.
std::vector<std::pair<std::string, Msg>> named(const Msg& m, std::uint32_t n) {
  std::vector<std::pair<std::string, Msg>> out;
  for (const Msg& e : m.messages(n)) {
    out.emplace_back(e.str(1), e.msg(2));
  }
  return out;
}

// The vendor extensions in field `n`: name -> Any.yaml (Any {2 yaml}).
std::map<std::string, std::string> extensions(const Msg& m, std::uint32_t n) {
  std::map<std::string, std::string> out;
  for (auto& [name, any] : named(m, n)) {
    out[name] = any.str(2);
  }
  return out;
}

json::Value yaml_value(const std::string& text) {
  auto v = skiff::yaml::parse(text);
  INFO(text);
  REQUIRE(v.has_value());
  return *v;
}

std::string header(const OpenApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

json::Value parse_json(const std::string& text) {
  auto v = json::parse(text);
  REQUIRE(v.has_value());
  return *v;
}

// zlib's own reading of a gzip member (independent of the server's compressor); empty on error.
std::string gunzip(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return {};
  }
  std::string out;
  char buf[1 << 16];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

// gnostic field numbers used below (openapiv2/OpenAPIv2.proto).
namespace f {
constexpr std::uint32_t kDocSwagger = 1, kDocInfo = 2, kDocPaths = 8, kDocDefinitions = 9;
constexpr std::uint32_t kPathsPath = 2;
constexpr std::uint32_t kItemGet = 2, kItemPut = 3, kItemPost = 4, kItemDelete = 5, kItemPatch = 8,
                        kItemParameters = 9;
constexpr std::uint32_t kOpTags = 1, kOpId = 5, kOpProduces = 6, kOpConsumes = 7, kOpParameters = 8,
                        kOpResponses = 9, kOpVendor = 13;
constexpr std::uint32_t kSchemaRef = 1, kSchemaDefault = 5, kSchemaRequired = 19, kSchemaEnum = 20,
                        kSchemaAdditional = 21, kSchemaType = 22, kSchemaItems = 23,
                        kSchemaAllOf = 24, kSchemaProperties = 25, kSchemaVendor = 31;
}  // namespace f

// A decoded non-body or body parameter.
struct Param {
  bool body = false;
  std::string in, name, type;
  bool required = false;
  Msg schema;
};

std::vector<Param> parameters(const Msg& holder, std::uint32_t n) {
  std::vector<Param> out;
  for (const Msg& item : holder.messages(n)) {
    // ParametersItem {1 Parameter, 2 JsonReference}; Parameter {1 Body, 2 NonBody}.
    REQUIRE(item.has(1));
    Msg p = item.msg(1);
    Param r;
    if (p.has(1)) {
      Msg b = p.msg(1);
      r.body = true;
      r.name = b.str(2);
      r.in = b.str(3);
      r.required = b.varint(4) != 0;
      r.schema = b.msg(5);
    } else {
      Msg nb = p.msg(2);
      // NonBodyParameter {1 header, 2 formData, 3 query, 4 path}.
      REQUIRE(nb.fields().size() == 1);
      std::uint32_t which = nb.fields()[0].number;
      Msg sub = nb.msg(which);
      r.required = sub.varint(1) != 0;
      r.in = sub.str(2);
      r.name = sub.str(4);
      r.type = sub.str(which == 2 || which == 3 ? 6 : 5);
      CHECK(r.in == (which == 3   ? "query"
                     : which == 4 ? "path"
                     : which == 1 ? "header"
                                  : "formData"));
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct Fetched {
  OpenApiResponse response;
  std::shared_ptr<std::string> body;  // keeps the bytes Msg views alive
  Msg doc;
};

Fetched fetch_proto(OpenApiCache& cache) {
  Fetched out;
  out.response = cache.serve("/openapi/v2", "", kSwaggerProtobuf);
  REQUIRE(out.response.code == 200);
  out.body = std::make_shared<std::string>(out.response.body);
  out.doc = Msg(*out.body);
  REQUIRE(out.doc.ok());
  return out;
}

// Every v3 group-version document, by "api/v1" etc.
std::map<std::string, json::Value> v3_documents(OpenApiCache& cache) {
  json::Value index = parse_json(cache.serve("/openapi/v3", "", "application/json").body);
  std::map<std::string, json::Value> out;
  for (const auto& m : index["paths"].as_object()) {
    out[m.key] = cache.document(m.key);
  }
  return out;
}

// Walks a Schema message and every schema inside it.
void walk_schema(const Msg& s, const std::function<void(const Msg&)>& fn) {
  REQUIRE(s.ok());
  fn(s);
  for (const Msg& ap : s.messages(f::kSchemaAdditional)) {
    if (ap.has(1)) {
      walk_schema(ap.msg(1), fn);
    }
  }
  for (const Msg& items : s.messages(f::kSchemaItems)) {
    for (const Msg& e : items.messages(1)) {
      walk_schema(e, fn);
    }
  }
  for (const Msg& e : s.messages(f::kSchemaAllOf)) {
    walk_schema(e, fn);
  }
  for (const Msg& props : s.messages(f::kSchemaProperties)) {
    for (auto& [name, sub] : named(props, 1)) {
      INFO("property " << name);
      walk_schema(sub, fn);
    }
  }
}

std::shared_ptr<const registry::ResourceType> crontab_type() {
  json::Value schema = parse_json(R"({"type":"object","properties":{
      "spec":{"type":"object","properties":{
          "cronSpec":{"type":"string","default":"* * * * */5"},
          "replicas":{"type":"integer","minimum":1,"maximum":10},
          "mode":{"type":"string","enum":["on","off","yes"]},
          "ports":{"type":"array","items":{"type":"object","required":["name"],
                            "properties":{"name":{"type":"string"}}},
                   "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"]},
          "extra":{"x-kubernetes-preserve-unknown-fields":true,"type":"object"}}},
      "status":{"type":"object","properties":{"ok":{"type":"boolean"}}}}})");
  registry::GroupVersionKind gvk{"stable.example.com", "v1", "CronTab"};
  auto converted =
      registry::Schema::from_openapi_v3(schema, gvk, "spec.versions[0].schema.openAPIV3Schema");
  INFO((converted.has_value() ? std::string() : converted.error().message));
  REQUIRE(converted.has_value());
  auto t = std::make_shared<registry::ResourceType>();
  t->gvk = gvk;
  t->plural = "crontabs";
  t->singular = "crontab";
  t->list_kind = "CronTabList";
  t->verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  t->subresources.push_back({"status", gvk, {"get", "patch", "update"}});
  t->custom_schema = std::make_shared<const registry::Schema>(std::move(*converted));
  t->schema = t->custom_schema->root();
  t->custom = true;
  t->has_status = true;
  t->storage_prefix = "/registry/stable.example.com/crontabs/";
  t->storage_version = "v1";
  return t;
}

}  // namespace

TEST_CASE("ProtoWriter writes minimal varints, little-endian doubles and nested lengths",
          "[apiserver][openapi]") {
  auto varint = [](std::uint64_t v) {
    std::string s;
    ProtoWriter::append_varint(s, v);
    return s;
  };
  CHECK(varint(0) == std::string("\x00", 1));
  CHECK(varint(1) == "\x01");
  CHECK(varint(127) == "\x7f");
  CHECK(varint(128) == "\x80\x01");
  CHECK(varint(300) == "\xac\x02");
  CHECK(varint(~std::uint64_t{0}) == "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
  for (int bits = 0; bits < 64; ++bits) {
    for (std::uint64_t v : {(std::uint64_t{1} << bits) - 1, std::uint64_t{1} << bits}) {
      std::string s = varint(v);
      CHECK(s.size() == ProtoWriter::varint_size(v));
      std::string_view in = s;
      std::uint64_t back = 0;
      REQUIRE(read_varint(in, back));
      CHECK(back == v);
      CHECK(in.empty());
    }
  }

  ProtoWriter w;
  w.int64_field(1, -1);
  w.double_field(2, 1.5);
  w.bool_field(3, true);
  w.string_if_set(4, "");
  w.bool_if_set(5, false);
  CHECK(w.data() == std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
                                "\x11\x00\x00\x00\x00\x00\x00\xf8\x3f"
                                "\x18\x01",
                                22));

  // Bodies around the one-byte length boundary, three levels deep.
  for (std::size_t n : {0, 1, 124, 125, 126, 127, 128, 200, 16381, 16384, 70000}) {
    ProtoWriter nested;
    auto outer = nested.begin_message(7);
    auto middle = nested.begin_message(8);
    auto inner = nested.begin_message(9);
    nested.bytes_field(1, std::string(n, 'x'));
    nested.end_message(inner);
    nested.end_message(middle);
    nested.varint_field(2, 5);
    nested.end_message(outer);
    std::string bytes = nested.take();
    // Sizes with minimal length varints.
    std::size_t leaf = 1 + ProtoWriter::varint_size(n) + n;
    std::size_t l9 = 1 + ProtoWriter::varint_size(leaf) + leaf;
    std::size_t l8 = 1 + ProtoWriter::varint_size(l9) + l9 + 2;
    CHECK(bytes.size() == 1 + ProtoWriter::varint_size(l8) + l8);
    Msg top(bytes);
    REQUIRE(top.ok());
    Msg o = top.msg(7);
    REQUIRE(o.ok());
    CHECK(o.varint(2) == 5);
    CHECK(o.msg(8).msg(9).str(1) == std::string(n, 'x'));
    CHECK(nested.size() == 0);
  }

  // protoc's own reading of a small message.
  if (!skiff::testing::find_program("protoc").empty()) {
    ProtoWriter p;
    auto m = p.begin_message(1);
    p.bytes_field(2, "abc");
    p.end_message(m);
    p.varint_field(3, 150);
    skiff::testing::TempDir dir;
    std::ofstream(dir.file("m.pb"), std::ios::binary) << p.data();
    std::string out;
    REQUIRE(skiff::testing::run_command("protoc --decode_raw < " + dir.file("m.pb"), &out) == 0);
    CHECK(out == "1 {\n  2: \"abc\"\n}\n3: 150\n");
  }
}

TEST_CASE(
    "the v2 protobuf document has every v3 path and operation, PATCH with GVK and fieldValidation",
    "[apiserver][openapi]") {
  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  Fetched got = fetch_proto(cache);
  CHECK(header(got.response, "Content-Type") == kSwaggerProtobufOld);
  const Msg& doc = got.doc;
  CHECK(doc.str(f::kDocSwagger) == "2.0");
  CHECK(doc.msg(f::kDocInfo).str(1) == "Kubernetes");
  CHECK(doc.msg(f::kDocInfo).str(2).starts_with("v1.32"));

  std::map<std::string, Msg> paths;
  for (auto& [name, item] : named(doc.msg(f::kDocPaths), f::kPathsPath)) {
    REQUIRE(item.ok());
    CHECK(paths.emplace(name, item).second);
  }
  for (const char* p :
       {"/api/v1/namespaces/{namespace}/pods", "/api/v1/namespaces/{namespace}/pods/{name}",
        "/api/v1/namespaces/{namespace}/pods/{name}/status", "/api/v1/namespaces/{name}",
        "/api/v1/pods", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"}) {
    INFO(p);
    CHECK(paths.count(p) == 1);
  }

  // Exactly the v3 documents' paths and operations, with the same GVKs and actions.
  std::size_t v3_paths = 0;
  const std::pair<const char*, std::uint32_t> methods[] = {{"get", f::kItemGet},
                                                           {"put", f::kItemPut},
                                                           {"post", f::kItemPost},
                                                           {"delete", f::kItemDelete},
                                                           {"patch", f::kItemPatch}};
  for (const auto& [gv, v3] : v3_documents(cache)) {
    for (const auto& path : v3["paths"].as_object()) {
      ++v3_paths;
      INFO(gv << " " << path.key);
      auto it = paths.find(path.key);
      REQUIRE(it != paths.end());
      const Msg& item = it->second;
      for (auto [method, number] : methods) {
        const json::Value* op3 = path.value.get(method);
        INFO(method);
        REQUIRE((op3 != nullptr) == item.has(number));
        if (op3 == nullptr) {
          continue;
        }
        Msg op = item.msg(number);
        CHECK(op.str(f::kOpId) == (*op3)["operationId"].as_string());
        CHECK(op.strs(f::kOpTags).size() == 1);
        auto ext = extensions(op, f::kOpVendor);
        CHECK(yaml_value(ext["x-kubernetes-action"]) == (*op3)["x-kubernetes-action"]);
        CHECK(yaml_value(ext["x-kubernetes-group-version-kind"]) ==
              (*op3)["x-kubernetes-group-version-kind"]);
        auto params = parameters(op, f::kOpParameters);
        CHECK(params.size() == (*op3)["parameters"].size() + (op3->get("requestBody") ? 1 : 0));
        CHECK(Msg(op.all(f::kOpResponses).at(0)).messages(1).size() == (*op3)["responses"].size());
        if (std::string(method) == "patch") {
          bool field_validation = false;
          for (const Param& p : params) {
            field_validation = field_validation || (p.name == "fieldValidation" &&
                                                    p.in == "query" && p.type == "string");
          }
          CHECK(field_validation);
          REQUIRE(!params.empty());
          CHECK(params[0].body);
          CHECK(params[0].in == "body");
          CHECK(params[0].required);
          CHECK(params[0].schema.str(f::kSchemaRef) ==
                "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
          auto consumes = op.strs(f::kOpConsumes);
          CHECK(std::count(consumes.begin(), consumes.end(),
                           "application/strategic-merge-patch+json") == 1);
          CHECK(std::count(consumes.begin(), consumes.end(), "application/apply-patch+yaml") == 1);
        }
        CHECK(!op.strs(f::kOpProduces).empty());
      }
      auto item_params = parameters(item, f::kItemParameters);
      CHECK(item_params.size() == path.value["parameters"].size());
      for (const Param& p : item_params) {
        CHECK(!p.body);
        CHECK(p.type == "string");
        CHECK(p.required == (p.in == "path"));
      }
    }
  }
  CHECK(paths.size() == v3_paths);

  // kubectl 1.27/1.28's query-parameter verifier: the first PATCH operation (in document order)
  // whose GVK extension names the kind must declare fieldValidation, for every served kind.
  std::vector<std::pair<std::string, Msg>> ordered = named(doc.msg(f::kDocPaths), f::kPathsPath);
  auto snap = catalog.snapshot();
  std::size_t kinds = 0;
  for (const auto& t : snap->types()) {
    if (!t->has_verb("patch")) {
      continue;
    }
    ++kinds;
    INFO(t->gvk.group << "/" << t->gvk.version << " " << t->gvk.kind);
    bool found = false;
    for (const auto& [name, item] : ordered) {
      if (!item.has(f::kItemPatch)) {
        continue;
      }
      Msg op = item.msg(f::kItemPatch);
      json::Value gvk = yaml_value(extensions(op, f::kOpVendor)["x-kubernetes-group-version-kind"]);
      if (gvk.string_or("group") != t->gvk.group || gvk.string_or("version") != t->gvk.version ||
          gvk.string_or("kind") != t->gvk.kind) {
        continue;
      }
      for (const Param& p : parameters(op, f::kOpParameters)) {
        found = found || (p.name == "fieldValidation" && p.in == "query");
      }
      break;
    }
    CHECK(found);
  }
  CHECK(kinds > 40);
}

TEST_CASE("v2 definitions: every $ref resolves and kube-openapi's model rules hold",
          "[apiserver][openapi]") {
  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  Fetched got = fetch_proto(cache);
  std::map<std::string, Msg> defs;
  for (auto& [name, schema] : named(got.doc.msg(f::kDocDefinitions), 1)) {
    CHECK(defs.emplace(name, schema).second);
  }
  json::Value as_json = parse_json(cache.serve("/openapi/v2", "", "application/json").body);
  CHECK(defs.size() == as_json["definitions"].size());
  CHECK(defs.size() > 300);

  std::set<std::string> refs;
  std::size_t schemas = 0;
  for (const auto& [name, def] : defs) {
    INFO("definition " << name);
    walk_schema(def, [&](const Msg& s) {
      ++schemas;
      // What kube-openapi's NewOpenAPIData rejects (which fails every kubectl command that loads
      // the document): a $ref with a type or properties, several types, an array without exactly
      // one item schema, an unknown type, a default that is not YAML.
      std::vector<std::string> types = s.msg(f::kSchemaType).strs(1);
      CHECK(types.size() <= 1);
      if (s.has(f::kSchemaRef)) {
        refs.insert(s.str(f::kSchemaRef));
        CHECK(types.empty());
        CHECK(named(s.msg(f::kSchemaProperties), 1).empty());
      }
      if (!types.empty()) {
        const std::set<std::string> known{"object",  "array",  "string",
                                          "integer", "number", "boolean"};
        CHECK(known.count(types[0]) == 1);
        if (types[0] == "array") {
          CHECK(s.msg(f::kSchemaItems).messages(1).size() == 1);
        }
      }
      for (const Msg& d : s.messages(f::kSchemaDefault)) {
        std::ignore = yaml_value(d.str(2));
      }
      for (const Msg& e : s.messages(f::kSchemaEnum)) {
        std::ignore = yaml_value(e.str(2));
      }
      for (const auto& [ext, text] : extensions(s, f::kSchemaVendor)) {
        INFO(ext);
        CHECK(ext.starts_with("x-"));
        std::ignore = yaml_value(text);
      }
    });
  }
  CHECK(schemas > defs.size());
  // References from operations (body and response schemas) too.
  for (auto& [path, item] : named(got.doc.msg(f::kDocPaths), f::kPathsPath)) {
    for (std::uint32_t m :
         {f::kItemGet, f::kItemPut, f::kItemPost, f::kItemDelete, f::kItemPatch}) {
      if (!item.has(m)) {
        continue;
      }
      Msg op = item.msg(m);
      for (const Param& p : parameters(op, f::kOpParameters)) {
        if (p.body) {
          refs.insert(p.schema.str(f::kSchemaRef));
        }
      }
      for (auto& [code, value] : named(op.msg(f::kOpResponses), 1)) {
        // ResponseValue {1 Response {2 SchemaItem {1 Schema}}}.
        Msg schema = value.msg(1).msg(2).msg(1);
        if (schema.has(f::kSchemaRef)) {
          refs.insert(schema.str(f::kSchemaRef));
        }
      }
    }
  }
  CHECK(refs.size() > 100);
  for (const std::string& ref : refs) {
    INFO(ref);
    REQUIRE(ref.starts_with("#/definitions/"));
    CHECK(defs.count(ref.substr(14)) == 1);
  }

  // Every served kind has its definition, carrying its GVK as kubectl explain looks it up.
  auto snap = catalog.snapshot();
  for (const auto& t : snap->types()) {
    REQUIRE(t->schema != nullptr);
    INFO(t->schema->name);
    auto it = defs.find(t->schema->name);
    REQUIRE(it != defs.end());
    json::Value gvks =
        yaml_value(extensions(it->second, f::kSchemaVendor)["x-kubernetes-group-version-kind"]);
    REQUIRE(gvks.is_array());
    bool listed = false;
    for (const json::Value& g : gvks.as_array()) {
      REQUIRE(g["group"].is_string());  // "" for the core group: quoted, not null
      listed = listed ||
               (g["group"].as_string() == t->gvk.group &&
                g["version"].as_string() == t->gvk.version && g["kind"].as_string() == t->gvk.kind);
    }
    CHECK(listed);
  }
  CHECK(extensions(defs.at("io.k8s.api.apps.v1.Deployment"),
                   f::kSchemaVendor)["x-kubernetes-group-version-kind"] ==
        "- group: apps\n  kind: Deployment\n  version: v1\n");

  // The strategic-merge metadata apply reads from the v2 models: PodSpec.containers.
  const Msg& pod_spec = defs.at("io.k8s.api.core.v1.PodSpec");
  std::map<std::string, Msg> props;
  for (auto& [name, s] : named(pod_spec.msg(f::kSchemaProperties), 1)) {
    props.emplace(name, s);
  }
  REQUIRE(props.count("containers") == 1);
  const Msg& containers = props.at("containers");
  CHECK(containers.msg(f::kSchemaType).strs(1) == std::vector<std::string>{"array"});
  CHECK(containers.msg(f::kSchemaItems).messages(1).at(0).str(f::kSchemaRef) ==
        "#/definitions/io.k8s.api.core.v1.Container");
  auto ext = extensions(containers, f::kSchemaVendor);
  CHECK(yaml_value(ext["x-kubernetes-patch-merge-key"]) == json::Value("name"));
  CHECK(yaml_value(ext["x-kubernetes-patch-strategy"]) == json::Value("merge"));
  auto required = defs.at("io.k8s.api.core.v1.Container").strs(f::kSchemaRequired);
  CHECK(required == std::vector<std::string>{"name"});
}

TEST_CASE("/openapi/v2 JSON and protobuf are two encodings of one swagger 2.0 document",
          "[apiserver][openapi]") {
  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  Fetched got = fetch_proto(cache);
  OpenApiResponse js = cache.serve("/openapi/v2", "", "application/json");
  REQUIRE(js.code == 200);
  CHECK(header(js, "Content-Type") == "application/json");
  for (const auto* r : {&js, &got.response}) {
    CHECK(header(*r, "Vary") == "Accept");
    CHECK(header(*r, "Cache-Control") == "no-cache, private");
    std::string etag = header(*r, "Etag");
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    CHECK(etag.back() == '"');
  }
  CHECK(header(js, "Etag") == header(got.response, "Etag"));
  CHECK(js.body.find("#/components/") == std::string::npos);
  CHECK(js.body.find("\"requestBody\"") == std::string::npos);

  json::Value doc = parse_json(js.body);
  CHECK(doc["swagger"] == json::Value("2.0"));
  CHECK(doc["paths"].size() == named(got.doc.msg(f::kDocPaths), f::kPathsPath).size());
  CHECK(doc["definitions"].size() == named(got.doc.msg(f::kDocDefinitions), 1).size());
  CHECK(doc.get_path({"securityDefinitions", "BearerToken", "type"})->as_string() == "apiKey");

  // swagger 2.0 parameter shapes on one PATCH operation.
  const json::Value* patch =
      doc.get_path({"paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch"});
  REQUIRE(patch != nullptr);
  CHECK((*patch)["x-kubernetes-action"] == json::Value("patch"));
  CHECK((*patch)["x-kubernetes-group-version-kind"] ==
        parse_json(R"({"group":"apps","version":"v1","kind":"Deployment"})"));
  const json::Array& params = (*patch)["parameters"].as_array();
  REQUIRE(!params.empty());
  CHECK(params[0] == parse_json(R"({"name":"body","in":"body","required":true,
      "schema":{"$ref":"#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}})"));
  bool field_validation = false;
  for (const json::Value& p : params) {
    if (p["in"] != json::Value("body")) {
      CHECK(p.get("schema") == nullptr);
      CHECK(p["type"].is_string());
    }
    field_validation = field_validation || p["name"] == json::Value("fieldValidation");
  }
  CHECK(field_validation);
  CHECK((*patch)["responses"]["200"]["schema"] ==
        parse_json(R"({"$ref":"#/definitions/io.k8s.api.apps.v1.Deployment"})"));
  CHECK((*patch)["schemes"] == parse_json(R"(["https"])"));

  // Debian's protoc reads the whole message (no wire-format error anywhere in it).
  if (!skiff::testing::find_program("protoc").empty()) {
    skiff::testing::TempDir dir;
    std::ofstream(dir.file("doc.pb"), std::ios::binary) << got.response.body;
    std::string out;
    REQUIRE(skiff::testing::run_command("protoc --decode_raw < " + dir.file("doc.pb"), &out) == 0);
    CHECK(out.find("\"x-kubernetes-group-version-kind\"") != std::string::npos);
    CHECK(out.find("\"fieldValidation\"") != std::string::npos);
  }
}

TEST_CASE("/openapi/v2 negotiates JSON or protobuf from Accept", "[apiserver][openapi]") {
  using skiff::apiserver::negotiate_swagger;
  CHECK(negotiate_swagger("").format == SwaggerFormat::kJson);
  CHECK(negotiate_swagger("*/*").format == SwaggerFormat::kJson);
  CHECK(negotiate_swagger("application/*").format == SwaggerFormat::kJson);
  CHECK(negotiate_swagger("application/json, */*").format == SwaggerFormat::kJson);
  auto pb = negotiate_swagger(kSwaggerProtobuf);
  CHECK(pb.format == SwaggerFormat::kProtobuf);
  CHECK(pb.content_type == kSwaggerProtobufOld);
  auto old = negotiate_swagger(std::string(kSwaggerProtobufOld) + ";q=0.9");
  CHECK(old.format == SwaggerFormat::kProtobuf);
  CHECK(old.content_type == kSwaggerProtobufOld);
  CHECK(negotiate_swagger("application/json;q=0.5, " + std::string(kSwaggerProtobuf)).format ==
        SwaggerFormat::kProtobuf);
  CHECK(negotiate_swagger("*/*;q=0.1, APPLICATION/COM.GITHUB.PROTO-OPENAPI.SPEC.V2@V1.0+PROTOBUF")
            .format == SwaggerFormat::kProtobuf);
  CHECK(negotiate_swagger("text/html").format == SwaggerFormat::kNone);
  CHECK(negotiate_swagger("application/yaml, text/*").format == SwaggerFormat::kNone);
  CHECK(negotiate_swagger("application/json;q=0").format == SwaggerFormat::kNone);
  // Garbage is not acceptable, and never a crash.
  for (const char* bad :
       {",,,", ";;;", "/", "application/json;q=abc", "a/b;q=", "*/*;q=-1", "\x01\xff/"}) {
    INFO(bad);
    CHECK(negotiate_swagger(bad).format != SwaggerFormat::kProtobuf);
  }

  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  OpenApiResponse pbr = cache.serve("/openapi/v2", "", kSwaggerProtobuf);
  CHECK(header(pbr, "Content-Type") == kSwaggerProtobufOld);
  CHECK(cache.serve("/openapi/v2/", "", "application/json").body ==
        cache.serve("/openapi/v2", "", "application/json").body);
  // Upstream stopped serving the pre-1.14 name long ago.
  CHECK(cache.serve("/swagger-2.0.0.pb-v1", "", kSwaggerProtobuf).code == 404);
  CHECK(cache.serve("/openapi/v2", "", "text/html").code == 406);
  CHECK(cache.serve("/openapi/v2/extra", "", "application/json").code == 404);
}

TEST_CASE("a custom resource added to the catalog appears in /openapi/v2 after the rebuild",
          "[apiserver][openapi]") {
  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  OpenApiResponse before = cache.serve("/openapi/v2", "", kSwaggerProtobuf);
  auto t = crontab_type();
  REQUIRE(catalog.set_custom("stable.example.com", "crontabs", {t}).has_value());

  Fetched got = fetch_proto(cache);
  CHECK(header(got.response, "Etag") != header(before, "Etag"));
  std::map<std::string, Msg> paths;
  for (auto& [name, item] : named(got.doc.msg(f::kDocPaths), f::kPathsPath)) {
    paths.emplace(name, item);
  }
  const std::string item_path =
      "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}";
  REQUIRE(paths.count(item_path) == 1);
  REQUIRE(paths.count(item_path + "/status") == 1);
  REQUIRE(paths.count("/apis/stable.example.com/v1/crontabs") == 1);
  Msg patch = paths.at(item_path).msg(f::kItemPatch);
  CHECK(yaml_value(extensions(patch, f::kOpVendor)["x-kubernetes-group-version-kind"]) ==
        parse_json(R"({"group":"stable.example.com","version":"v1","kind":"CronTab"})"));
  // kubectl's client-side apply picks its patch type from these: no strategic merge for custom
  // resources (the server answers 415 to one), on the resource and on its status.
  for (const std::string& p : {item_path, item_path + "/status"}) {
    INFO(p);
    auto consumes = paths.at(p).msg(f::kItemPatch).strs(f::kOpConsumes);
    std::sort(consumes.begin(), consumes.end());
    CHECK(consumes == std::vector<std::string>{"application/apply-patch+yaml",
                                               "application/json-patch+json",
                                               "application/merge-patch+json"});
  }

  std::map<std::string, Msg> defs;
  for (auto& [name, schema] : named(got.doc.msg(f::kDocDefinitions), 1)) {
    defs.emplace(name, schema);
  }
  const std::string def = t->schema->name;
  REQUIRE(defs.count(def) == 1);
  // The list definition the list operations answer with, synthesized as upstream publishes it.
  REQUIRE(defs.count(def + "List") == 1);
  const Msg& list = defs.at(def + "List");
  CHECK(list.strs(f::kSchemaRequired) == std::vector<std::string>{"items"});
  CHECK(yaml_value(extensions(list, f::kSchemaVendor)["x-kubernetes-group-version-kind"]) ==
        parse_json(R"([{"group":"stable.example.com","kind":"CronTabList","version":"v1"}])"));
  std::set<std::string> refs;
  for (const auto& [name, d] : defs) {
    walk_schema(d, [&](const Msg& s) {
      if (s.has(f::kSchemaRef)) {
        refs.insert(s.str(f::kSchemaRef).substr(14));
      }
    });
  }
  CHECK(refs.count(def) == 1);
  for (const std::string& r : refs) {
    INFO(r);
    CHECK(defs.count(r) == 1);
  }
  // The CRD's enum strings that YAML 1.1 would read as booleans stay strings.
  json::Value js = parse_json(cache.serve("/openapi/v2", "", "application/json").body);
  const json::Value* mode =
      js.get_path({"definitions", def, "properties", "spec", "properties", "mode"});
  REQUIRE(mode != nullptr);
  CHECK((*mode)["enum"] == parse_json(R"(["on","off","yes"])"));
  std::vector<std::string> enum_yaml;
  walk_schema(defs.at(def), [&](const Msg& s) {
    for (const Msg& e : s.messages(f::kSchemaEnum)) {
      enum_yaml.push_back(e.str(2));
    }
  });
  CHECK(enum_yaml == std::vector<std::string>{"\"on\"\n", "\"off\"\n", "\"yes\"\n"});

  REQUIRE(catalog.remove_custom("stable.example.com", "crontabs"));
  OpenApiResponse after = cache.serve("/openapi/v2", "", kSwaggerProtobuf);
  CHECK(after.body == before.body);
  CHECK(header(after, "Etag") == header(before, "Etag"));
}

TEST_CASE("the gnostic encoder skips malformed swagger JSON and still writes valid protobuf",
          "[apiserver][openapi]") {
  using skiff::apiserver::encode_openapi_v2_protobuf;
  CHECK(encode_openapi_v2_protobuf(json::Value("not a document")).empty());
  CHECK(encode_openapi_v2_protobuf(json::Value()).empty());
  for (
      const char* text : {
          R"({"swagger":2,"info":3,"paths":"x","definitions":[1,2],"security":{},"tags":"t"})",
          R"({"paths":{"/a":{"get":{"parameters":[1,"x",{"in":5},{"$ref":7}],"responses":[]},
               "parameters":{"a":1},"patch":null}},"securityDefinitions":{"s":{"type":"oauth2"},"t":5}})",
          R"({"definitions":{"a":{"type":7,"items":"no","properties":{"b":null,"c":{"items":[1,{}]}},
               "additionalProperties":"x","enum":"e","required":[1,"r"],"default":{"k":[null]},
               "x-kubernetes-list-map-keys":[[]]}}})",
      }) {
    INFO(text);
    std::string bytes = encode_openapi_v2_protobuf(parse_json(text));
    Msg m(bytes);
    CHECK(m.ok());
  }
  // What is well-formed survives next to what is not.
  std::string bytes = encode_openapi_v2_protobuf(
      parse_json(R"({"swagger":"2.0","paths":5,"definitions":{"a":{"type":"string"},"b":3}})"));
  Msg m(bytes);
  REQUIRE(m.ok());
  CHECK(m.str(f::kDocSwagger) == "2.0");
  auto defs = named(m.msg(f::kDocDefinitions), 1);
  REQUIRE(defs.size() == 1);
  CHECK(defs[0].first == "a");
  CHECK(defs[0].second.msg(f::kSchemaType).strs(1) == std::vector<std::string>{"string"});
  // additionalProperties false is a set oneof member, not an absent one.
  std::string ap_bytes = encode_openapi_v2_protobuf(
      parse_json(R"({"definitions":{"m":{"type":"object","additionalProperties":false}}})"));
  Msg ap(ap_bytes);  // views ap_bytes
  Msg item = named(ap.msg(f::kDocDefinitions), 1).at(0).second.msg(f::kSchemaAdditional);
  CHECK(item.has(2));
  CHECK(item.varint(2) == 0);
}

TEST_CASE("vendor extension YAML reads back as the same value, YAML 1.1 words quoted",
          "[apiserver][openapi]") {
  using skiff::apiserver::openapi_v2_yaml;
  for (
      const char* text : {
          R"("apps")",
          R"("")",
          R"("yes")",
          R"("No")",
          R"("on")",
          R"("OFF")",
          R"("y")",
          R"("null")",
          R"("~")",
          R"("true")",
          R"("1")",
          R"("1.5")",
          R"("0x1F")",
          R"("1e3")",
          R"("a b")",
          R"("a: b")",
          R"("- x")",
          R"("#c")",
          R"("x\"y\\z")",
          R"("line\nbreak")",
          R"("tab\tx")",
          R"("\u0001\u007f")",
          R"("ünï")",
          R"(" lead")",
          R"("merge,retainKeys")",
          R"("*")",
          "42",
          "-7",
          "1.25",
          "true",
          "false",
          "null",
          "[]",
          "{}",
          R"(["a",["b",[]],{"k":"v","l":[1]}])",
          R"({"group":"","kind":"Pod","list":[1,2],"nested":{"a":{"b":[]},"c":[{"d":{"e":"f"}}]}})",
      }) {
    json::Value v = parse_json(text);
    std::string y = openapi_v2_yaml(v);
    INFO(text << " -> " << y);
    CHECK(y.ends_with("\n"));
    CHECK(yaml_value(y) == v);
  }
  CHECK(openapi_v2_yaml(json::Value("yes")) == "\"yes\"\n");
  CHECK(openapi_v2_yaml(json::Value("atomic")) == "atomic\n");
  CHECK(openapi_v2_yaml(parse_json(R"({"group":"","kind":"Pod","version":"v1"})")) ==
        "group: \"\"\nkind: Pod\nversion: v1\n");
  CHECK(openapi_v2_yaml(parse_json(R"([{"group":"apps","kind":"Deployment","version":"v1"}])")) ==
        "- group: apps\n  kind: Deployment\n  version: v1\n");
  CHECK(openapi_v2_yaml(parse_json(R"(["name","port"])")) == "- name\n- port\n");
}

TEST_CASE("/openapi/v2 answers If-None-Match with 304 and gzip from the per-generation cache",
          "[apiserver][openapi]") {
  registry::Catalog catalog;
  OpenApiCache cache(catalog);
  for (std::string_view accept : {std::string_view("application/json"), kSwaggerProtobuf}) {
    INFO(accept);
    OpenApiResponse full = cache.serve("/openapi/v2", "", accept);
    REQUIRE(full.code == 200);
    std::string etag = header(full, "Etag");
    REQUIRE(etag.size() > 2);
    CHECK(header(full, "Content-Encoding").empty());

    OpenApiRequest req{"/openapi/v2", "", accept, "", etag};
    OpenApiResponse same = cache.serve(req);
    CHECK(same.code == 304);
    CHECK(same.body.empty());
    CHECK(header(same, "Etag") == etag);
    CHECK(header(same, "Vary") == "Accept");
    // A list, a weak tag and `*` match too (RFC 9110 weak comparison, as http.ServeContent).
    for (std::string inm : {"\"nope\", " + etag, "W/" + etag, std::string("*")}) {
      INFO(inm);
      req.if_none_match = inm;
      CHECK(cache.serve(req).code == 304);
    }
    for (std::string inm :
         {std::string("\"nope\""), std::string(",, ,"), etag.substr(1), std::string("W/")}) {
      INFO(inm);
      req.if_none_match = inm;
      OpenApiResponse r = cache.serve(req);
      CHECK(r.code == 200);
      CHECK(r.body == full.body);
    }

    req.if_none_match = "";
    req.accept_encoding = "deflate, gzip;q=0.5";
    OpenApiResponse gz = cache.serve(req);
    REQUIRE(gz.code == 200);
    CHECK(header(gz, "Content-Encoding") == "gzip");
    CHECK(header(gz, "Etag") == etag);
    CHECK(gz.body.size() < full.body.size() / 4);
    CHECK(gunzip(gz.body) == full.body);
    CHECK(cache.serve(req).body == gz.body);  // the cached member, not a new compression
    req.accept_encoding = "gzip;q=0, identity";
    OpenApiResponse plain = cache.serve(req);
    CHECK(header(plain, "Content-Encoding").empty());
    CHECK(plain.body == full.body);
  }

  // A new catalog generation: the old ETag no longer matches, and the gzip is of the new bytes.
  OpenApiRequest req{"/openapi/v2", "", kSwaggerProtobuf, "gzip", ""};
  OpenApiResponse old_gz = cache.serve(req);
  std::string old_etag = header(old_gz, "Etag");
  REQUIRE(catalog.set_custom("stable.example.com", "crontabs", {crontab_type()}).has_value());
  req.if_none_match = old_etag;
  OpenApiResponse fresh = cache.serve(req);
  REQUIRE(fresh.code == 200);
  CHECK(header(fresh, "Etag") != old_etag);
  std::string body = gunzip(fresh.body);
  CHECK(body == cache.serve("/openapi/v2", "", kSwaggerProtobuf).body);
  CHECK(body.find("com.example.stable.v1.CronTab") != std::string::npos);
  CHECK(gunzip(old_gz.body).find("com.example.stable.v1.CronTab") == std::string::npos);

  // The v3 documents share the conditional handling.
  OpenApiResponse v3 = cache.serve("/openapi/v3/apis/apps/v1", "", "application/json");
  REQUIRE(v3.code == 200);
  OpenApiRequest v3req{"/openapi/v3/apis/apps/v1", "", "application/json", "", header(v3, "Etag")};
  CHECK(cache.serve(v3req).code == 304);
}

TEST_CASE("every $ref of the v3 documents resolves in their own components (the PATCH body too)",
          "[apiserver][openapi]") {
  registry::Catalog catalog;
  REQUIRE(catalog.set_custom("stable.example.com", "crontabs", {crontab_type()}).has_value());
  OpenApiCache cache(catalog);
  std::function<void(const json::Value&, std::set<std::string>&)> refs_of =
      [&](const json::Value& v, std::set<std::string>& out) {
        if (v.is_object()) {
          for (const auto& m : v.as_object()) {
            if (m.key == "$ref" && m.value.is_string()) {
              out.insert(m.value.as_string());
            } else {
              refs_of(m.value, out);
            }
          }
        } else if (v.is_array()) {
          for (const auto& e : v.as_array()) {
            refs_of(e, out);
          }
        }
      };
  auto docs = v3_documents(cache);
  CHECK(docs.count("apis/stable.example.com/v1") == 1);
  for (const auto& [gv, doc] : docs) {
    INFO(gv);
    std::set<std::string> refs;
    refs_of(doc, refs);
    if (gv == "apis/apps/v1" || gv == "apis/stable.example.com/v1") {
      CHECK(refs.count("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch") == 1);
    }
    for (const std::string& r : refs) {
      INFO(r);
      REQUIRE(r.starts_with("#/components/schemas/"));
      CHECK(doc["components"]["schemas"].get(r.substr(21)) != nullptr);
    }
  }
}
