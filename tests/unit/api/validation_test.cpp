// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/validation.hpp"

#include <string>
#include <vector>

#include "skiff_test.hpp"

namespace skiff::api {
namespace {

json::Value parse_json(std::string_view text) {
  auto v = json::parse(text);
  REQUIRE(v);
  return *v;
}

std::vector<std::string> lines(const std::vector<FieldCause>& causes) {
  std::vector<std::string> out;
  out.reserve(causes.size());
  for (const auto& c : causes) {
    out.push_back(to_string(c));
  }
  return out;
}

const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kDns1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const std::string kNamePartMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

using Msgs = std::vector<std::string>;

TEST_CASE("DNS names are checked with upstream's messages", "[api][validation]") {
  struct Case {
    std::string value;
    Msgs subdomain;
    Msgs label;
    Msgs dns1035;
  };
  const std::string l63(63, 'a');
  const std::string l64(64, 'a');
  const std::string s253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(61, 'd');
  const std::vector<Case> cases = {
      {"a", {}, {}, {}},
      {"ab-c", {}, {}, {}},
      {"0", {}, {}, {kDns1035Msg}},
      {"1abc", {}, {}, {kDns1035Msg}},
      {"a.b", {}, {"must not contain dots"}, {kDns1035Msg}},
      {"example.com", {}, {"must not contain dots"}, {kDns1035Msg}},
      {"Foo", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"-a", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"a-", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"a..b", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {".a", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"a_b", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"a b", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {"caf\xC3\xA9", {kSubdomainMsg}, {kLabelMsg}, {kDns1035Msg}},
      {l63, {}, {}, {}},
      {l64, {}, {"must be no more than 63 characters"}, {"must be no more than 63 characters"}},
      {s253,
       {},
       {"must be no more than 63 characters", "must not contain dots"},
       {"must be no more than 63 characters", kDns1035Msg}},
      {s253 + "d",
       {"must be no more than 253 characters"},
       {"must be no more than 63 characters", "must not contain dots"},
       {"must be no more than 63 characters", kDns1035Msg}},
  };
  for (const auto& c : cases) {
    INFO(c.value);
    CHECK(is_dns1123_subdomain(c.value) == c.subdomain);
    CHECK(is_dns1123_label(c.value) == c.label);
    CHECK(is_dns1035_label(c.value) == c.dns1035);
  }
}

TEST_CASE("qualified names and label values follow upstream", "[api][validation]") {
  struct Case {
    std::string value;
    Msgs msgs;
  };
  const std::vector<Case> qualified = {
      {"simple", {}},
      {"now-with-dashes", {}},
      {"1-starts-with-num", {}},
      {"1234", {}},
      {"simple/simple", {}},
      {"now-with-dashes/simple", {}},
      {"now-with-dashes/now-with-dashes", {}},
      {"now.with.dots/simple", {}},
      {"now-with.dashes-and.dots/simple", {}},
      {"1-num.2-num/3-num", {}},
      {"1234/5678", {}},
      {"1.2.3.4/5678", {}},
      {"Uppercase_Is_OK_123", {}},
      {"example.com/Uppercase_Is_OK_123", {}},
      {"requests.storage-foo", {}},
      {std::string(63, 'a'), {}},
      {std::string(253, 'a') + "/" + std::string(63, 'b'), {}},
      {"", {"name part must be non-empty", "name part " + kNamePartMsg.substr(10)}},
      {"a/", {"name part must be non-empty", "name part " + kNamePartMsg.substr(10)}},
      {"/a", {"prefix part must be non-empty"}},
      {"nospecialchars%^=@", {kNamePartMsg}},
      {"cantendwithadash-", {kNamePartMsg}},
      {"-cantstartwithadash-", {kNamePartMsg}},
      {"only/one/slash",
       {"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex "
        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')"}},
      {"Example.com/abc", {"prefix part " + kSubdomainMsg}},
      {"example_com/user", {"prefix part " + kSubdomainMsg}},
      {std::string(64, 'a'), {"name part must be no more than 63 characters"}},
      {std::string(254, 'a') + "/abc", {"prefix part must be no more than 253 characters"}},
  };
  for (const auto& c : qualified) {
    INFO(c.value);
    CHECK(is_qualified_name(c.value) == c.msgs);
  }
  const std::vector<Case> values = {
      {"", {}},
      {"simple", {}},
      {"now-with-dashes", {}},
      {"1-starts-with-num", {}},
      {"end-with-num-1", {}},
      {"1234", {}},
      {std::string(63, 'a'), {}},
      {"nospecialchars%^=@", {kLabelValueMsg}},
      {"Tama-nui-te-r\xC4\x81", {kLabelValueMsg}},
      {"-starts-with-dash", {kLabelValueMsg}},
      {"ends-with-dash-", {kLabelValueMsg}},
      {".starts.with.dot", {kLabelValueMsg}},
      {"ends.with.dot.", {kLabelValueMsg}},
      {std::string(64, 'a'), {"must be no more than 63 characters"}},
      {std::string(64, '-'), {"must be no more than 63 characters", kLabelValueMsg}},
  };
  for (const auto& c : values) {
    INFO(c.value);
    CHECK(is_valid_label_value(c.value) == c.msgs);
  }
}

TEST_CASE("path segment names, percents and generateName prefixes", "[api][validation]") {
  CHECK(is_valid_path_segment_name("ok-name").empty());
  CHECK(is_valid_path_segment_name(".") == Msgs{"may not be '.'"});
  CHECK(is_valid_path_segment_name("..") == Msgs{"may not be '..'"});
  CHECK(is_valid_path_segment_name("a/b%c") == Msgs{"may not contain '/'", "may not contain '%'"});
  CHECK(is_valid_path_segment_name("...").empty());
  CHECK(is_valid_path_segment_prefix(".").empty());
  CHECK(is_valid_path_segment_prefix("a%") == Msgs{"may not contain '%'"});
  CHECK(name_is_path_segment("..", false) == Msgs{"may not be '..'"});
  CHECK(name_is_path_segment("..", true).empty());
  CHECK(name_is_path_segment("system:kube-proxy", false).empty());

  CHECK(is_valid_percent("50%").empty());
  CHECK(is_valid_percent("0%").empty());
  const Msgs percent_msg = {
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
      "'93%', regex used for validation is '[0-9]+%')"};
  CHECK(is_valid_percent("50") == percent_msg);
  CHECK(is_valid_percent("%") == percent_msg);
  CHECK(is_valid_percent("-5%") == percent_msg);
  CHECK(is_valid_percent("5.5%") == percent_msg);

  // A generateName may end in '-' (upstream masks its last two characters to "a").
  CHECK(name_is_dns_subdomain("web-", true).empty());
  CHECK(name_is_dns_subdomain("web-", false) == Msgs{kSubdomainMsg});
  CHECK(name_is_dns_label("web-", true).empty());
  CHECK(name_is_dns1035_label("web-", true).empty());
  CHECK(name_is_dns_subdomain("a-", true).empty());
  CHECK(name_is_dns_subdomain("-", true) == Msgs{kSubdomainMsg});
  CHECK(name_is_dns_subdomain("Web-", true) == Msgs{kSubdomainMsg});
  CHECK(name_is_dns_subdomain("web", true).empty());
  CHECK(name_is_dns1035_label("1-", true).empty());  // masked to "a"
  CHECK(name_is_dns1035_label("1a-", true) == Msgs{kDns1035Msg});
}

TEST_CASE("field errors render like field.Error", "[api][validation]") {
  CHECK(to_string(field_invalid("metadata.name", "Foo", "bad")) ==
        "metadata.name: Invalid value: \"Foo\": bad");
  CHECK(field_invalid("metadata.name", "Foo", "bad").type == "FieldValueInvalid");
  CHECK(field_invalid("metadata.name", "Foo", "bad").message == "Invalid value: \"Foo\": bad");
  CHECK(field_invalid("metadata.name", "Foo", "bad").field == "metadata.name");
  CHECK(to_string(field_invalid("spec.replicas", -1, "must be greater than or equal to 0")) ==
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
  CHECK(to_string(field_invalid("x", true, "")) == "x: Invalid value: true");
  CHECK(to_string(field_invalid("x", json::Value(), "d")) == "x: Invalid value: null: d");
  CHECK(to_string(field_type_invalid("x", "s", "must be an integer")) ==
        "x: Invalid value: \"s\": must be an integer");
  CHECK(field_type_invalid("x", "s", "d").type == "FieldValueTypeInvalid");
  CHECK(to_string(field_required("metadata.name", "name or generateName is required")) ==
        "metadata.name: Required value: name or generateName is required");
  CHECK(to_string(field_required("metadata.namespace")) == "metadata.namespace: Required value");
  CHECK(to_string(field_forbidden("metadata.namespace", "not allowed on this type")) ==
        "metadata.namespace: Forbidden: not allowed on this type");
  CHECK(to_string(field_too_long("metadata.annotations", 262144)) ==
        "metadata.annotations: Too long: may not be more than 262144 bytes");
  CHECK(to_string(field_too_long("x", -1)) == "x: Too long: value is too long");
  CHECK(to_string(field_too_many("spec.containers", 5, 3)) ==
        "spec.containers: Too many: 5: must have at most 3 items");
  CHECK(to_string(field_too_many("spec.containers", -1, -1)) ==
        "spec.containers: Too many: has too many items");
  CHECK(to_string(field_not_supported("spec.restartPolicy", "Sometimes",
                                      {"Always", "Never", "OnFailure"})) ==
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
        "\"Never\", \"OnFailure\"");
  CHECK(to_string(field_not_supported("x", "y", {})) == "x: Unsupported value: \"y\"");
  CHECK(field_not_supported("x", "y", {}).type == "FieldValueNotSupported");
  CHECK(to_string(field_duplicate("spec.ports[1].name", "http")) ==
        "spec.ports[1].name: Duplicate value: \"http\"");
  CHECK(to_string(field_not_found("spec.x", "y")) == "spec.x: Not found: \"y\"");
  CHECK(to_string(field_internal_error("spec", "boom")) == "spec: Internal error: boom");
  CHECK(field_child("", "metadata") == "metadata");
  CHECK(field_child("metadata", "name") == "metadata.name");
  CHECK(field_index("spec.containers", 2) == "spec.containers[2]");
  CHECK(field_key("metadata.labels", "app") == "metadata.labels[app]");
  CHECK(field_child(field_index("spec.containers", 0), "image") == "spec.containers[0].image");
}

TEST_CASE("bad values print as Go's %q and %v", "[api][validation]") {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> quotes = {
      {"", "\"\""},
      {"abc", "\"abc\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {"\n\t\r\a\b\f\v", "\"\\n\\t\\r\\a\\b\\f\\v\""},
      {std::string("\x01\x1f\x7f", 3), "\"\\x01\\x1f\\x7f\""},
      {std::string("\0", 1), "\"\\x00\""},
      {"caf\xC3\xA9", "\"caf\xC3\xA9\""},
      {"\xE6\x97\xA5\xE6\x9C\xAC", "\"\xE6\x97\xA5\xE6\x9C\xAC\""},
      {"\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},
      {"\xff", "\"\\xff\""},
      {"a\xC3", "\"a\\xc3\""},
      {"\xC2\xA0", "\"\\u00a0\""},
      {"\xC2\x85", "\"\\u0085\""},
      {"\xE2\x80\x8B", "\"\\u200b\""},
      {"\xEF\xBB\xBF", "\"\\ufeff\""},
  };
  for (const auto& c : quotes) {
    INFO(c.out);
    CHECK(go_quote(c.in) == c.out);
  }
  CHECK(render_bad_value(json::Value(42)) == "42");
  CHECK(render_bad_value(json::Value(-7)) == "-7");
  CHECK(render_bad_value(json::Value(false)) == "false");
  CHECK(render_bad_value(json::Value()) == "null");
  CHECK(render_bad_value(json::Value(1.5)) == "1.5");
  CHECK(render_bad_value(json::Value(0.0001)) == "0.0001");
  CHECK(render_bad_value(json::Value(0.00001)) == "1e-05");
  CHECK(render_bad_value(json::Value(123456.0)) == "123456");
  CHECK(render_bad_value(json::Value(1e6)) == "1e+06");
  CHECK(render_bad_value(json::Value(-2.5e100)) == "-2.5e+100");
  CHECK(render_bad_value(parse_json(R"(["a","b"])")) == "[]string{\"a\", \"b\"}");
  CHECK(render_bad_value(json::Value::array()) == "[]string{}");
  CHECK(render_bad_value(parse_json(R"({"a":1})")) == "{\"a\":1}");
  CHECK(render_bad_value(parse_json(R"([1,"b"])")) == "[1,\"b\"]");
}

TEST_CASE("aggregate messages and the 422 Invalid error", "[api][validation]") {
  const FieldCause name = field_invalid("metadata.name", "Foo", kSubdomainMsg);
  const FieldCause replicas =
      field_invalid("spec.replicas", -1, "must be greater than or equal to 0");
  CHECK(aggregate_message({}).empty());
  CHECK(aggregate_message({name}) == "metadata.name: Invalid value: \"Foo\": " + kSubdomainMsg);
  CHECK(aggregate_message({name, replicas, name}) ==
        "[metadata.name: Invalid value: \"Foo\": " + kSubdomainMsg +
            ", spec.replicas: Invalid value: -1: must be greater than or equal to 0]");
  CHECK(aggregate_message({name, name}) ==
        "metadata.name: Invalid value: \"Foo\": " + kSubdomainMsg);

  const Error pod = invalid_error("Pod", "", "Foo", {name});
  CHECK(pod.reason == Reason::kInvalid);
  CHECK(pod.message ==
        "Pod \"Foo\" is invalid: metadata.name: Invalid value: \"Foo\": " + kSubdomainMsg);
  REQUIRE(pod.causes.size() == 1);
  CHECK(pod.causes[0].field == "metadata.name");
  CHECK(pod.causes[0].type == "FieldValueInvalid");

  const Error deploy = invalid_error("Deployment", "apps", "web", {name, replicas});
  CHECK(deploy.message ==
        "Deployment.apps \"web\" is invalid: [metadata.name: Invalid value: \"Foo\": " +
            kSubdomainMsg +
            ", spec.replicas: Invalid value: -1: must be greater than or equal to 0]");
  CHECK(deploy.causes.size() == 2);
  CHECK(invalid_error("ConfigMap", "", "x", {}).message == "ConfigMap \"x\" is invalid");
}

TEST_CASE("ObjectMeta validation on create", "[api][validation]") {
  struct Case {
    const char* meta;
    bool namespaced;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({"name": "web", "namespace": "default"})", true, {}},
      {R"({"name": "Foo", "namespace": "default"})",
       true,
       {"metadata.name: Invalid value: \"Foo\": " + kSubdomainMsg}},
      {R"({"namespace": "default"})",
       true,
       {"metadata.name: Required value: name or generateName is required"}},
      {R"({"generateName": "web-", "name": "web-x7k2p", "namespace": "default"})", true, {}},
      {R"({"generateName": "Web-", "name": "web-x7k2p", "namespace": "default"})",
       true,
       {"metadata.generateName: Invalid value: \"Web-\": " + kSubdomainMsg}},
      {R"({"name": "web"})", true, {"metadata.namespace: Required value"}},
      {R"({"name": "web", "namespace": "Bad_NS"})",
       true,
       {"metadata.namespace: Invalid value: \"Bad_NS\": " + kLabelMsg}},
      {R"({"name": "web", "namespace": "a.b"})",
       true,
       {"metadata.namespace: Invalid value: \"a.b\": must not contain dots"}},
      {R"({"name": "node-1", "namespace": "default"})",
       false,
       {"metadata.namespace: Forbidden: not allowed on this type"}},
      {R"({"name": "node-1"})", false, {}},
      {R"({"name": "web", "namespace": "default", "generation": -1})",
       true,
       {"metadata.generation: Invalid value: -1: must be greater than or equal to 0"}},
      {R"({"name": "web", "namespace": "default", "labels": {"app": "web", "a b": "x", "ok": "x y"}})",
       true,
       {"metadata.labels: Invalid value: \"a b\": " + kNamePartMsg,
        "metadata.labels: Invalid value: \"x y\": " + kLabelValueMsg}},
      {R"({"name": "web", "namespace": "default", "annotations": {"Example.com/Note": "x", "a b": "y"}})",
       true,
       {"metadata.annotations: Invalid value: \"a b\": " + kNamePartMsg}},
      {R"({"name": "web", "namespace": "default", "finalizers": ["kubernetes", "example.com/cleanup", "a b"]})",
       true,
       {"metadata.finalizers: Invalid value: \"a b\": " + kNamePartMsg}},
      {R"({"name": "web", "namespace": "default", "finalizers": ["orphan", "foregroundDeletion"]})",
       true,
       {"metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: "
        "finalizer "
        "orphan and foregroundDeletion cannot be both set"}},
      {R"({"name": "web", "namespace": "default", "ownerReferences": [{}]})",
       true,
       {"metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty",
        "metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty",
        "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty",
        "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"}},
      {R"({"name": "web", "namespace": "default", "ownerReferences": [
           {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
           {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": true}]})",
       true,
       {"metadata.ownerReferences: Invalid value: "
        "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
        "\"name\":\"a\",\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"apps/v1\",\"kind\":"
        "\"ReplicaSet\",\"name\":\"b\",\"uid\":\"2\",\"controller\":true}]: Only one reference can "
        "have Controller set to true. Found \"true\" in references for ReplicaSet/a and "
        "ReplicaSet/b"}},
      {R"({"name": "web", "namespace": "default", "ownerReferences": [
           {"apiVersion": "apps/", "kind": "ReplicaSet", "name": "a", "uid": "1"}]})",
       true,
       {"metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be "
        "empty"}},
      {R"({"name": "web", "namespace": "default", "ownerReferences": [
           {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "1"}]})",
       true,
       {"metadata.ownerReferences: Invalid value: "
        "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":"
        "\"e\",\"uid\":\"1\"}: /v1, Kind=Event is disallowed from being an owner"}},
      {R"({"name": "web", "namespace": "default", "managedFields": [
           {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1"},
           {"manager": "a\u0007b", "operation": "Patch", "fieldsType": "FieldsV2"}]})",
       true,
       {"metadata.managedFields[1].operation: Invalid value: \"Patch\": must be `Apply` or "
        "`Update`",
        "metadata.managedFields[1].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`",
        "metadata.managedFields[1].manager: Invalid value: \"a\\ab\": invalid character U+0007 (at "
        "position 1)"}},
  };
  for (const auto& c : cases) {
    INFO(c.meta);
    CHECK(lines(validate_object_meta(parse_json(c.meta), c.namespaced, name_is_dns_subdomain)) ==
          c.want);
  }
  // The path prefix is the caller's (embedded templates).
  CHECK(lines(validate_object_meta(parse_json(R"({"name": "x", "labels": {"a": "-"}})"), false,
                                   name_is_dns_label, "spec.template.metadata")) ==
        std::vector<std::string>{"spec.template.metadata.labels: Invalid value: \"-\": " +
                                 kLabelValueMsg});
  // A long manager name.
  json::Value meta = parse_json(R"({"name": "x", "managedFields": [{"operation": "Update"}]})");
  meta["managedFields"].as_array()[0]["manager"] = json::Value(std::string(129, 'm'));
  CHECK(lines(validate_object_meta(meta, false, name_is_dns_subdomain)) ==
        std::vector<std::string>{
            "metadata.managedFields[0].manager: Too long: may not be more than 128 bytes"});
}

TEST_CASE("annotations may total at most 256 KiB", "[api][validation]") {
  json::Value annotations = json::Value::object();
  annotations["a"] = json::Value(std::string(kTotalAnnotationSizeLimit - 2, 'x'));
  CHECK(validate_annotations(annotations, "metadata.annotations").empty());
  annotations["b"] = json::Value("");
  CHECK(validate_annotations(annotations, "metadata.annotations").empty());  // exactly the limit
  annotations["c"] = json::Value("");
  CHECK(lines(validate_annotations(annotations, "metadata.annotations")) ==
        std::vector<std::string>{
            "metadata.annotations: Too long: may not be more than 262144 bytes"});
}

TEST_CASE("ObjectMeta validation on update", "[api][validation]") {
  const json::Value old_meta = parse_json(R"({"name": "web", "namespace": "default", "uid": "u1",
      "resourceVersion": "5", "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z",
      "finalizers": ["a"]})");
  struct Case {
    const char* meta;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "5",
          "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z"})",
       {}},
      {R"({"name": "web", "namespace": "default", "uid": "u1", "generation": 2,
          "creationTimestamp": "2024-01-01T00:00:00Z"})",
       {"metadata.resourceVersion: Invalid value: \"\": must be specified for an update"}},
      {R"({"name": "web2", "namespace": "other", "uid": "u2", "resourceVersion": "5", "generation": 1,
          "creationTimestamp": "2024-01-02T00:00:00Z"})",
       {"metadata.generation: Invalid value: 1: must not be decremented",
        "metadata.name: Invalid value: \"web2\": field is immutable",
        "metadata.namespace: Invalid value: \"other\": field is immutable",
        "metadata.uid: Invalid value: \"u2\": field is immutable",
        "metadata.creationTimestamp: Invalid value: 2024-01-02 00:00:00 +0000 UTC: field is "
        "immutable"}},
      {R"({"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "5",
          "generation": 2, "creationTimestamp": "2024-01-01T01:00:00+01:00",
          "deletionTimestamp": "2024-02-01T00:00:00Z", "deletionGracePeriodSeconds": 30})",
       {"metadata.deletionTimestamp: Invalid value: 2024-02-01 00:00:00 +0000 UTC: field is "
        "immutable",
        "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"}},
  };
  for (const auto& c : cases) {
    INFO(c.meta);
    CHECK(lines(validate_object_meta_update(parse_json(c.meta), old_meta)) == c.want);
  }
  // Once deleting, no finalizer may be added.
  json::Value deleting = old_meta;
  deleting["deletionTimestamp"] = json::Value("2024-02-01T00:00:00Z");
  json::Value updated = deleting;
  updated["finalizers"] = parse_json(R"(["a", "c", "b"])");
  CHECK(lines(validate_object_meta_update(updated, deleting)) ==
        std::vector<std::string>{
            "metadata.finalizers: Forbidden: no new finalizers can be added if the "
            "object is being deleted, found new finalizers []string{\"b\", \"c\"}"});
  updated["finalizers"] = json::Value::array();
  CHECK(validate_object_meta_update(updated, deleting).empty());
}

TEST_CASE("LabelSelector validation as in Deployments and ReplicaSets", "[api][validation]") {
  struct Case {
    const char* selector;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({"matchLabels": {"app": "web"}})", {}},
      {"null", {}},
      {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
       {"spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is "
        "'In' or 'NotIn'"}},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
       {"spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` "
        "is "
        "'Exists' or 'DoesNotExist'"}},
      {R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})",
       {"spec.selector.matchExpressions[0].operator: Invalid value: \"Foo\": not a valid selector "
        "operator"}},
      {R"({"matchExpressions": [{"key": "a b", "operator": "NotIn", "values": ["ok", "x y"]}]})",
       {"spec.selector.matchExpressions[0].key: Invalid value: \"a b\": " + kNamePartMsg,
        "spec.selector.matchExpressions[0].values[1]: Invalid value: \"x y\": " + kLabelValueMsg}},
      {R"({"matchLabels": {"app": "-"}})",
       {"spec.selector.matchLabels: Invalid value: \"-\": " + kLabelValueMsg}},
  };
  for (const auto& c : cases) {
    INFO(c.selector);
    CHECK(lines(validate_label_selector(parse_json(c.selector), "spec.selector")) == c.want);
  }
  CHECK(validate_label_selector(
            parse_json(
                R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x y"]}]})"),
            "spec.selector", true)
            .empty());
}

TEST_CASE("int-or-percent values scale like Deployment surge and unavailability",
          "[api][validation]") {
  struct Case {
    json::Value value;
    std::int64_t total;
    std::int64_t up;
    std::int64_t down;
  };
  const std::vector<Case> cases = {
      {json::Value("25%"), 10, 3, 2},  {json::Value("25%"), 4, 1, 1},
      {json::Value("25%"), 1, 1, 0},   {json::Value("0%"), 10, 0, 0},
      {json::Value("100%"), 7, 7, 7},  {json::Value("33%"), 3, 1, 0},
      {json::Value("50%"), 0, 0, 0},   {json::Value("200%"), 3, 6, 6},
      {json::Value("+10%"), 10, 1, 1}, {json::Value("-15%"), 10, -1, -2},
      {json::Value(5), 10, 5, 5},      {json::Value(0), 10, 0, 0},
      {json::Value(-1), 10, -1, -1},
  };
  for (const auto& c : cases) {
    INFO(json::serialize(c.value) << " of " << c.total);
    CHECK(scaled_value_from_int_or_percent(c.value, c.total, true).value() == c.up);
    CHECK(scaled_value_from_int_or_percent(c.value, c.total, false).value() == c.down);
  }
  struct Bad {
    json::Value value;
    const char* message;
  };
  const std::vector<Bad> bad = {
      {json::Value(), "nil value for IntOrString"},
      {json::Value("25"),
       "invalid value for IntOrString: invalid type: string is not a percentage"},
      {json::Value(""), "invalid value for IntOrString: invalid type: string is not a percentage"},
      {json::Value("x%"),
       "invalid value for IntOrString: invalid value \"x%\": strconv.Atoi: parsing \"x\": invalid "
       "syntax"},
      {json::Value("%"),
       "invalid value for IntOrString: invalid value \"%\": strconv.Atoi: parsing \"\": invalid "
       "syntax"},
      {json::Value("1.5%"),
       "invalid value for IntOrString: invalid value \"1.5%\": strconv.Atoi: parsing \"1.5\": "
       "invalid syntax"},
      {json::Value("99999999999999999999%"),
       "invalid value for IntOrString: invalid value \"99999999999999999999%\": strconv.Atoi: "
       "parsing "
       "\"99999999999999999999\": value out of range"},
      {json::Value(true),
       "invalid value for IntOrString: invalid type: neither int nor percentage"},
      {json::Value(1.5), "invalid value for IntOrString: invalid type: neither int nor percentage"},
  };
  CHECK(int_or_percent_value(json::Value("25%")).value().value == 25);
  CHECK(int_or_percent_value(json::Value("25%")).value().is_percent);
  CHECK_FALSE(int_or_percent_value(json::Value(7)).value().is_percent);
  CHECK(int_or_percent_value(json::Value("7")).error().message ==
        "invalid type: string is not a percentage");
  CHECK(int_or_percent_value(json::Value()).error().message ==
        "invalid type: neither int nor percentage");
  for (const auto& b : bad) {
    INFO(json::serialize(b.value));
    auto r = scaled_value_from_int_or_percent(b.value, 10, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kBadRequest);
    CHECK(r.error().message == b.message);
  }
}

}  // namespace
}  // namespace skiff::api
