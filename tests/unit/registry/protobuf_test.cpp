// SPDX-License-Identifier: Apache-2.0
// Protobuf request bodies: real ones captured from kubectl 1.32 (tests/data/registry/kubectl, see
// capture_kubectl.py there) must decode to the JSON kubectl 1.31 sends for the same command;
// hand-built bodies cover the special types and malformed input.
#include "skiff/registry/protobuf.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "skiff/registry/schema.hpp"

#include "registry_test_util.hpp"

using skiff::Reason;
using skiff::json::Value;
using skiff::registry::decode_protobuf_body;
using skiff::registry::decode_protobuf_message;
using skiff::registry::parse_protobuf_envelope;
using skiff::registry::Schema;
using skiff::testing::json_diff;
using skiff::testing::parse_json;
using skiff::testing::read_file;
using skiff::testing::registry_data_path;

namespace {

// A minimal protobuf writer for hand-built messages.
class Pb {
public:
  Pb& varint(std::uint64_t v) {
    while (v >= 0x80) {
      b_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    b_ += static_cast<char>(v);
    return *this;
  }
  Pb& tag(int number, int wire) { return varint((static_cast<std::uint64_t>(number) << 3) | wire); }
  Pb& num(int number, std::int64_t v) {
    return tag(number, 0).varint(static_cast<std::uint64_t>(v));
  }
  Pb& str(int number, std::string_view s) {
    tag(number, 2).varint(s.size());
    b_ += s;
    return *this;
  }
  Pb& msg(int number, const Pb& m) { return str(number, m.b_); }
  Pb& dbl(int number, double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof d);
    tag(number, 1);
    for (int i = 0; i < 8; ++i) {
      b_ += static_cast<char>((bits >> (8 * i)) & 0xff);
    }
    return *this;
  }
  Pb& raw(std::string_view s) {
    b_ += s;
    return *this;
  }
  const std::string& bytes() const { return b_; }

private:
  std::string b_;
};

std::string body(std::string_view api_version, std::string_view kind, const Pb& raw) {
  Pb env;
  env.msg(1, Pb().str(1, api_version).str(2, kind)).str(2, raw.bytes()).str(3, "").str(4, "");
  return std::string("k8s\0", 4) + env.bytes();
}

Value decode_ok(const std::string& b) {
  auto r = decode_protobuf_body(b);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  return r->object;
}

std::string decode_error(const std::string& b) {
  auto r = decode_protobuf_body(b);
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == Reason::kBadRequest);
  return r.error().message;
}

// The value at a path, failing the test (not crashing) when it is missing.
const Value& at(const Value& v, std::initializer_list<std::string_view> path) {
  const Value* p = v.get_path(path);
  INFO("path missing in " << skiff::json::serialize(v));
  REQUIRE(p != nullptr);
  return *p;
}

// JSON's `null` means "not set"; the protobuf form has no way to say null.
void drop_nulls(Value& v) {
  if (v.is_object()) {
    auto& obj = v.as_object();
    for (auto it = obj.begin(); it != obj.end();) {
      if (it->value.is_null()) {
        it = obj.erase(it);
      } else {
        drop_nulls(it->value);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (Value& e : v.as_array()) {
      drop_nulls(e);
    }
  }
}

}  // namespace

TEST_CASE("every captured kubectl 1.32 protobuf body decodes to the JSON kubectl 1.31 sends",
          "[registry][protobuf]") {
  Value index = parse_json(read_file(registry_data_path("kubectl/index.json")));
  REQUIRE(index.size() >= 20);
  int compared = 0;
  for (const auto& [name, versions] : index.as_object()) {
    if (versions.get("1.32") == nullptr || versions.get("1.31") == nullptr) {
      continue;
    }
    INFO("case " << name);
    CHECK(versions["1.32"].string_or("content_type") == "application/vnd.kubernetes.protobuf");
    CHECK(versions["1.31"].string_or("content_type") == "application/json");
    std::string pb = read_file(registry_data_path("kubectl/" + name + ".1.32.pb"));
    Value decoded = decode_ok(pb);
    Value expected = parse_json(read_file(registry_data_path("kubectl/" + name + ".1.31.json")));
    drop_nulls(expected);
    INFO("decoded: " << skiff::json::serialize(decoded));
    INFO("differences:\n" << json_diff(decoded, expected));
    CHECK(decoded == expected);
    ++compared;
  }
  CHECK(compared >= 20);
}

TEST_CASE("protobuf decoding keeps present zero values of pointer fields only",
          "[registry][protobuf]") {
  // kubectl create deployment --replicas=0: spec.replicas is *int32, so 0 must survive, while
  // minReadySeconds (int32, omitempty) and metadata.generation (int64, omitempty) are dropped
  // although gogo writes them.
  Value d = decode_ok(read_file(registry_data_path("kubectl/deployment_zero.1.32.pb")));
  REQUIRE(d.get_path({"spec", "replicas"}) != nullptr);
  CHECK(at(d, {"spec", "replicas"}) == Value(0));
  CHECK(d.get_path({"spec", "minReadySeconds"}) == nullptr);
  CHECK(d.get_path({"metadata", "generation"}) == nullptr);
  CHECK(d.get_path({"metadata", "creationTimestamp"}) == nullptr);
  CHECK(d["apiVersion"] == Value("apps/v1"));
  CHECK(d["kind"] == Value("Deployment"));
  // The object-only entry point gives the same JSON.
  auto plain = skiff::registry::decode_protobuf(
      read_file(registry_data_path("kubectl/deployment_zero.1.32.pb")));
  REQUIRE(plain);
  CHECK(*plain == d);
  CHECK_FALSE(skiff::registry::decode_protobuf("nope"));
  // The raw envelope of the same body.
  auto env =
      parse_protobuf_envelope(read_file(registry_data_path("kubectl/deployment_zero.1.32.pb")));
  REQUIRE(env);
  CHECK(env->api_version == "apps/v1");
  CHECK(env->kind == "Deployment");
  CHECK(env->content_type.empty());
  CHECK_FALSE(env->raw.empty());
}

TEST_CASE("protobuf time, micro time, duration, quantity and int-or-string become their JSON forms",
          "[registry][protobuf]") {
  // core/v1 Event: metadata.creationTimestamp (Time), deletionTimestamp (empty Time: omitted),
  // eventTime (MicroTime), count (int32).
  Pb meta;
  meta.str(1, "ev").msg(8, Pb().num(1, 1704164645)).msg(9, Pb());
  Pb event;
  event.msg(1, meta).msg(10, Pb().num(1, 1704164645).num(2, 123456789)).num(8, 0);
  Value e = decode_ok(body("v1", "Event", event));
  REQUIRE(e.get_path({"metadata", "creationTimestamp"}) != nullptr);
  CHECK(at(e, {"metadata", "creationTimestamp"}).as_string() == "2024-01-02T03:04:05Z");
  CHECK(e.get_path({"metadata", "deletionTimestamp"}) == nullptr);
  CHECK(e["eventTime"] == Value("2024-01-02T03:04:05.123456Z"));
  // count is int32 without omitempty... it is `json:"count,omitempty"`: a zero is dropped.
  CHECK(e.get("count") == nullptr);

  // A Time message with seconds 0 is the epoch, not the zero time.
  Value epoch = decode_ok(body("v1", "Event", Pb().msg(1, Pb().msg(8, Pb().num(1, 0)))));
  REQUIRE(epoch.get_path({"metadata", "creationTimestamp"}) != nullptr);
  CHECK(at(epoch, {"metadata", "creationTimestamp"}).as_string() == "1970-01-01T00:00:00Z");

  const Schema& s = Schema::builtin();
  const auto* duration = s.find("io.k8s.apimachinery.pkg.apis.meta.v1.Duration");
  REQUIRE(duration != nullptr);
  auto dur = [&](std::int64_t ns) {
    auto r = decode_protobuf_message(Pb().num(1, ns).bytes(), *duration);
    REQUIRE(r);
    return r->as_string();
  };
  CHECK(dur(3723500000000) == "1h2m3.5s");
  CHECK(dur(0) == "0s");
  CHECK(dur(1500) == "1.5\xc2\xb5s");
  CHECK(dur(300000000) == "300ms");
  CHECK(dur(-90000000000) == "-1m30s");

  // Quantities in a ResourceQuota's spec.hard map, int-or-string in a PDB and a Service port.
  Pb quota;
  quota.msg(2, Pb().msg(1, Pb().str(1, "cpu").msg(2, Pb().str(1, "250m")))
                   .msg(1, Pb().str(1, "pods").msg(2, Pb())));
  Value q = decode_ok(body("v1", "ResourceQuota", quota));
  CHECK(at(q, {"spec", "hard", "cpu"}) == Value("250m"));
  CHECK(at(q, {"spec", "hard", "pods"}) == Value("0"));

  Pb pdb;
  pdb.msg(2, Pb().msg(1, Pb().num(1, 1).str(3, "25%")).msg(3, Pb().num(1, 0).num(2, 2)));
  Value p = decode_ok(body("policy/v1", "PodDisruptionBudget", pdb));
  CHECK(at(p, {"spec", "minAvailable"}) == Value("25%"));
  CHECK(at(p, {"spec", "maxUnavailable"}) == Value(2));
}

TEST_CASE("protobuf bytes, maps, wrapper arrays, inlined structs, packed repeats and raw JSON",
          "[registry][protobuf]") {
  // Secret.data is map<string, bytes>: base64 in JSON.
  Pb secret;
  secret.msg(2, Pb().str(1, "bin").str(2, std::string("\x00\xff\x10", 3)));
  Value s = decode_ok(body("v1", "Secret", secret));
  CHECK(at(s, {"data", "bin"}) == Value("AP8Q"));

  // SubjectAccessReview.spec.extra is map<string, ExtraValue>; ExtraValue is a wrapper message
  // whose `repeated string items = 1` is a plain JSON array.
  Pb extra_value;
  extra_value.str(1, "a").str(1, "b");
  Pb sar;
  sar.msg(2, Pb().str(3, "alice").msg(5, Pb().str(1, "scopes").msg(2, extra_value)));
  Value r = decode_ok(body("authorization.k8s.io/v1", "SubjectAccessReview", sar));
  CHECK(at(r, {"spec", "extra", "scopes"}) == parse_json(R"(["a","b"])"));

  // Pod volumes: Volume field 2 is the inlined VolumeSource; its emptyDir (2) shows in the
  // Volume object. supplementalGroups (int64) arrives packed once and unpacked once.
  Pb volume;
  volume.str(1, "scratch").msg(2, Pb().msg(2, Pb().str(1, "Memory")));
  Pb packed;
  packed.varint(1).varint(2).varint(300);
  Pb security;
  security.tag(4, 2).varint(packed.bytes().size()).raw(packed.bytes()).num(4, 7);
  Pb pod_spec;
  pod_spec.msg(1, volume).msg(14, security).num(99, 5);  // 99: unknown, skipped
  Value pod = decode_ok(body("v1", "Pod", Pb().msg(2, pod_spec)));
  CHECK(pod["spec"]["volumes"] ==
        parse_json(R"([{"name":"scratch","emptyDir":{"medium":"Memory"}}])"));
  CHECK(pod["spec"]["securityContext"]["supplementalGroups"] == parse_json("[1,2,300,7]"));

  // ControllerRevision.data is a RawExtension: the embedded JSON document.
  Pb rev;
  rev.msg(2, Pb().str(1, R"({"spec":{"template":{"x":1}}})")).num(3, 4);
  Value cr = decode_ok(body("apps/v1", "ControllerRevision", rev));
  CHECK(cr["data"] == parse_json(R"({"spec":{"template":{"x":1}}})"));
  CHECK(cr["revision"] == Value(4));

  // Negative int32 travels as a 10-byte varint.
  Pb neg;
  neg.msg(2, Pb().num(1, -3));
  Value dep = decode_ok(body("apps/v1", "Deployment", neg));
  CHECK(at(dep, {"spec", "replicas"}) == Value(-3));

  // Invalid UTF-8 is replaced, as Go's JSON encoder does.
  Value bad = decode_ok(body("v1", "Namespace",
                             Pb().msg(1, Pb().str(1,
                                                  "a\xff"
                                                  "b"))));
  CHECK(at(bad, {"metadata", "name"}) == Value("a\xef\xbf\xbd"
                                               "b"));
}

TEST_CASE("meta.k8s.io DeleteOptions decode with apiVersion v1 and meta.k8s.io/v1",
          "[registry][protobuf]") {
  // drain's fallback pod DELETE: gracePeriodSeconds is *int64 (0 kept), propagationPolicy,
  // dryRun.
  Pb opts;
  opts.num(1, 0).str(4, "Background").str(5, "All");
  for (std::string_view api_version : {"v1", "meta.k8s.io/v1", "apps/v1"}) {
    INFO(api_version);
    auto r = decode_protobuf_body(body(api_version, "DeleteOptions", opts));
    REQUIRE(r);
    CHECK(r->gvk.kind == "DeleteOptions");
    CHECK(r->object == parse_json(std::string(R"({"apiVersion":")") + std::string(api_version) +
                                  R"(","kind":"DeleteOptions","gracePeriodSeconds":0,)"
                                  R"("propagationPolicy":"Background","dryRun":["All"]})"));
  }
}

TEST_CASE("CRD schemas decode with their JSONSchemaPropsOr* unions", "[registry][protobuf]") {
  // properties.spec: {type: object, additionalProperties: {type: string}},
  // properties.tags: {type: array, items: {type: string}}, properties.open:
  // {additionalProperties: false}, default {"a":1} (apiextensions JSON).
  Pb string_schema;
  string_schema.str(5, "string");
  Pb spec_schema;
  spec_schema.str(5, "object").msg(30, Pb().msg(2, string_schema));
  Pb tags;
  tags.str(5, "array").msg(24, Pb().msg(1, string_schema));
  Pb open;
  open.str(5, "object").msg(30, Pb().num(1, 0)).msg(8, Pb().str(1, R"({"a":1})"));
  Pb root;
  root.str(5, "object")
      .msg(29, Pb().str(1, "spec").msg(2, spec_schema))
      .msg(29, Pb().str(1, "tags").msg(2, tags))
      .msg(29, Pb().str(1, "open").msg(2, open));
  Pb version;
  version.str(1, "v1").num(2, 1).num(3, 1).msg(4, Pb().msg(1, root));
  Pb crd;
  crd.msg(1, Pb().str(1, "widgets.example.com"))
      .msg(2, Pb().str(1, "example.com")
                  .msg(3, Pb().str(1, "widgets").str(4, "Widget"))
                  .str(4, "Namespaced")
                  .msg(7, version));
  Value v = decode_ok(body("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd));
  const Value* schema = v.get_path({"spec", "versions"});
  REQUIRE(schema != nullptr);
  const Value& s = schema->as_array().at(0)["schema"]["openAPIV3Schema"];
  CHECK(s == parse_json(R"({"type":"object","properties":{
      "spec":{"type":"object","additionalProperties":{"type":"string"}},
      "tags":{"type":"array","items":{"type":"string"}},
      "open":{"type":"object","additionalProperties":false,"default":{"a":1}}}})"));
  CHECK(v["spec"]["names"] == parse_json(R"({"plural":"widgets","kind":"Widget"})"));
}

TEST_CASE("malformed protobuf bodies are rejected with a clear message", "[registry][protobuf]") {
  std::string good = body("v1", "Namespace", Pb().msg(1, Pb().str(1, "ok")));
  REQUIRE(decode_protobuf_body(good));

  CHECK(decode_error("").find("magic") != std::string::npos);
  CHECK(decode_error("{\"kind\":\"Namespace\"}").find("magic") != std::string::npos);
  CHECK(decode_error(std::string("k8s\0", 4)).find("no kind") != std::string::npos);
  // A varint that never ends.
  CHECK(decode_error(std::string("k8s\0\x0a\x80\x80", 7)).find("truncated varint") !=
        std::string::npos);
  // A length past the end of the body.
  CHECK(decode_error(std::string("k8s\0\x0a\x7f\x0a", 7)).find("past the end") !=
        std::string::npos);
  // An 11-byte varint (in an unknown envelope field, which is skipped).
  CHECK(
      decode_error(std::string("k8s\0\x28", 5) + std::string(10, '\xff') + "\x01").find("varint") !=
      std::string::npos);
  // Unknown kinds and versions.
  CHECK(decode_error(body("v1", "Frobnicator", Pb())) ==
        "no kind \"Frobnicator\" is registered for version \"v1\"");
  CHECK(decode_error(body("apps/v9", "Deployment", Pb())).find("no kind") != std::string::npos);
  // A wrong wire type for a known field (metadata as a varint), with its path.
  CHECK(decode_error(body("v1", "Namespace", Pb().num(1, 5))) ==
        "protobuf: wrong wire type 0 for message field at metadata");
  // Truncation inside a nested message names where.
  std::string nested = Pb().msg(1, Pb().raw("\x0a\x05"
                                            "ab"))
                           .bytes();
  CHECK(decode_error(body("v1", "Namespace", Pb().raw(nested))).find("at metadata") !=
        std::string::npos);
  // Compressed or foreign content inside the envelope.
  Pb gz;
  gz.msg(1, Pb().str(1, "v1").str(2, "Namespace")).str(2, "").str(3, "gzip");
  CHECK(decode_error(std::string("k8s\0", 4) + gz.bytes()).find("contentEncoding") !=
        std::string::npos);
  // Embedded JSON that does not parse.
  Pb rev;
  rev.msg(2, Pb().str(1, "{not json"));
  CHECK(decode_error(body("apps/v1", "ControllerRevision", rev)).find("embedded JSON") !=
        std::string::npos);
  // Every prefix of a real body fails cleanly or decodes (never crashes).
  std::string real = read_file(registry_data_path("kubectl/deployment.1.32.pb"));
  for (std::size_t n = 0; n < real.size(); ++n) {
    (void)decode_protobuf_body(real.substr(0, n));
  }
}

TEST_CASE("deeply nested protobuf messages hit the depth limit instead of the stack",
          "[registry][protobuf]") {
  // JSONSchemaProps.not (28) nested 100000 deep inside a CRD: a nesting bomb of ~300 KB.
  std::string inner;
  for (int i = 0; i < 100000; ++i) {
    Pb wrap;
    wrap.str(28, inner);
    inner = wrap.bytes();
  }
  Pb version;
  version.str(1, "v1").msg(4, Pb().str(1, inner));
  Pb crd;
  crd.msg(2, Pb().msg(7, version));
  std::string msg = decode_error(body("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd));
  CHECK(msg.find("nested deeper than 256") != std::string::npos);

  // The limit is an option.
  skiff::registry::ProtobufOptions shallow;
  shallow.max_depth = 2;
  auto r =
      decode_protobuf_body(body("v1", "Namespace", Pb().msg(1, Pb().msg(13, Pb().str(1, "x")))),
                           Schema::builtin(), shallow);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("nested deeper than 2") != std::string::npos);
}
