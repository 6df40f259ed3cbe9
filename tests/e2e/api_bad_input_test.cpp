// SPDX-License-Identifier: Apache-2.0
// Bad requests to the built `skiff server` over real HTTPS (curl with the admin client
// certificate from the data dir's PKI): malformed bodies in every accepted encoding, mismatched
// kinds and versions, strict and warned unknown fields, oversized bodies, invalid names, conflicts,
// unsupported media types, unknown resources, wrong methods and missing credentials. Each answer is
// a metav1.Status with upstream's code and reason, and the server keeps serving afterwards.

#include <fstream>
#include <regex>
#include <sstream>

#include "e2e_util.hpp"
#include "skiff/base/json.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::contains;
using skiff::testing::KubeServer;
using skiff::testing::slurp;
using skiff::testing::TempDir;

struct Reply {
  int code = 0;
  std::string headers;
  std::string body;
  skiff::json::Value status;  // the parsed body when it is JSON

  std::string header(const std::string& name) const {
    std::smatch m;
    std::regex re("(^|\n)" + name + ": ([^\r\n]*)", std::regex::icase);
    return std::regex_search(headers, m, re) ? std::string(m[2]) : std::string();
  }
  std::vector<std::string> header_values(const std::string& name) const {
    std::vector<std::string> out;
    std::regex re("(^|\n)" + name + ": ([^\r\n]*)", std::regex::icase);
    for (auto it = std::sregex_iterator(headers.begin(), headers.end(), re);
         it != std::sregex_iterator(); ++it) {
      out.push_back((*it)[2]);
    }
    return out;
  }
};

struct Api {
  TempDir dir;
  KubeServer server{dir};

  std::string tls(const std::string& file) const { return server.data_dir() + "/server/tls/" + file; }

  // One request with curl; `cert` = present the admin client certificate.
  Reply call(const std::string& method, const std::string& path, const std::string& content_type = {},
             const std::string& body = {}, bool cert = true, const std::string& extra = {}) const {
    TempDir scratch;
    std::string args = "curl -sS --max-time 30 --cacert " + tls("server-ca.crt") + " -X " + method +
                       " -o " + scratch.file("body") + " -D " + scratch.file("headers") +
                       " -w '%{http_code}'";
    if (cert) {
      args += " --cert " + tls("client-admin.crt") + " --key " + tls("client-admin.key");
    }
    if (!content_type.empty()) {
      args += " -H 'Content-Type: " + content_type + "'";
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      std::ofstream(scratch.file("request"), std::ios::binary) << body;
      args += " --data-binary @" + scratch.file("request");
    }
    args += " " + extra + " '" + server.url() + path + "'";
    Reply r;
    std::string code;
    int rc = skiff::testing::run_command(args, &code);
    INFO(args);
    REQUIRE(rc == 0);
    r.code = std::stoi(code);
    r.headers = slurp(scratch.file("headers"));
    r.body = slurp(scratch.file("body"));
    if (auto parsed = skiff::json::parse(r.body)) {
      r.status = std::move(*parsed);
    }
    return r;
  }
};

Api& api() {
  static Api a;
  return a;
}

const std::string kConfigMaps = "/api/v1/namespaces/default/configmaps";

// The reply is a Failure Status with this code and reason; returns its message.
std::string expect_status(const Reply& r, int code, const std::string& reason) {
  INFO("HTTP " << r.code << "\n" << r.headers << r.body);
  CHECK(r.code == code);
  CHECK(r.header("Content-Type") == "application/json");
  REQUIRE(r.status.is_object());
  CHECK(r.status.string_or("kind") == "Status");
  CHECK(r.status.string_or("apiVersion") == "v1");
  CHECK(r.status.string_or("status") == "Failure");
  CHECK(r.status.string_or("reason") == reason);
  CHECK(r.status["code"].as_int() == code);
  return std::string(r.status.string_or("message"));
}

std::string config_map(const std::string& name, const std::string& extra = {}) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + R"("})" + extra +
         "}";
}

}  // namespace

TEST_CASE("malformed JSON, YAML and protobuf bodies are 400 BadRequest", "[e2e][api]") {
  auto& a = api();
  std::string msg = expect_status(
      a.call("POST", kConfigMaps, "application/json", R"({"apiVersion":"v1","kind":"ConfigMap",)"),
      400, "BadRequest");
  CHECK(!msg.empty());
  expect_status(a.call("POST", kConfigMaps, "application/json", "[1,2,3]"), 400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/json", "\"just a string\""), 400,
                "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/json", std::string("\xff\xfe{", 3)), 400,
                "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/yaml", "kind: ConfigMap\nmetadata: [a\n"),
                400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/yaml", "- a\n- b\n"), 400, "BadRequest");
  // Protobuf: no "k8s\0" magic, the magic then garbage, and a truncated envelope.
  expect_status(a.call("POST", kConfigMaps, "application/vnd.kubernetes.protobuf", "not protobuf"),
                400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/vnd.kubernetes.protobuf",
                       std::string("k8s\0\xff\xff\xff\xff\x0f", 9)),
                400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/vnd.kubernetes.protobuf",
                       std::string("k8s\0\x0a\x0f\x0a\x02v1", 10)),
                400, "BadRequest");
  // Malformed patch bodies of every patch type.
  a.call("POST", kConfigMaps, "application/json", config_map("patchme"));
  const std::string item = kConfigMaps + "/patchme";
  expect_status(a.call("PATCH", item, "application/merge-patch+json", "{oops"), 400, "BadRequest");
  expect_status(a.call("PATCH", item, "application/strategic-merge-patch+json", "{oops"), 400,
                "BadRequest");
  expect_status(a.call("PATCH", item, "application/json-patch+json", R"({"op":"add"})"), 400,
                "BadRequest");
  expect_status(a.call("PATCH", item + "?fieldManager=t", "application/apply-patch+yaml",
                       "metadata: [unclosed"),
                400, "BadRequest");
}

TEST_CASE("pathological bodies are refused without crashing or hanging the server", "[e2e][api]") {
  auto& a = api();
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += s;
    }
    return out;
  };
  // Deep nesting in every decoder: JSON arrays and objects, YAML flow and block collections.
  CHECK(contains(expect_status(a.call("POST", kConfigMaps, "application/json",
                                      repeat("[", 100000) + repeat("]", 100000)),
                               400, "BadRequest"),
                 "nesting"));
  expect_status(a.call("POST", kConfigMaps, "application/json",
                       repeat("{\"a\":", 50000) + "1" + repeat("}", 50000)),
                400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps, "application/yaml",
                       "a: " + repeat("[", 20000) + repeat("]", 20000) + "\n"),
                400, "BadRequest");
  std::string block;
  for (int i = 0; i < 2000; ++i) {
    block += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  }
  expect_status(a.call("POST", kConfigMaps, "application/yaml", block + std::string(2000, ' ') + "b\n"),
                400, "BadRequest");
  // A YAML alias bomb (9^12 nodes once expanded) is refused, not expanded.
  std::string bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n";
  std::string prev = "a";
  for (int i = 1; i < 12; ++i) {
    std::string name = "l" + std::to_string(i);
    bomb += name + ": &" + name + " [" + repeat("*" + prev + ",", 8) + "*" + prev + "]\n";
    prev = name;
  }
  bomb += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n";
  CHECK(contains(expect_status(a.call("POST", kConfigMaps, "application/yaml", bomb), 400,
                               "BadRequest"),
                 "too many nodes"));
  // Deeply nested patches of each type.
  // (With data: a JSON patch adding under a missing parent is 422 Invalid, as upstream.)
  a.call("POST", kConfigMaps, "application/json", config_map("deep", R"(,"data":{"a":"b"})"));
  const std::string deep_item = kConfigMaps + "/deep";
  expect_status(a.call("PATCH", deep_item, "application/merge-patch+json",
                       "{\"data\":" + repeat("{\"a\":", 500) + "1" + repeat("}", 500) + "}"),
                400, "BadRequest");
  expect_status(a.call("PATCH", deep_item, "application/strategic-merge-patch+json",
                       "{\"metadata\":{\"labels\":" + repeat("{\"a\":", 500) + "1" +
                           repeat("}", 500) + "}}"),
                400, "BadRequest");
  expect_status(a.call("PATCH", deep_item, "application/json-patch+json",
                       "[{\"op\":\"add\",\"path\":\"/data/b\",\"value\":" + repeat("[", 500) +
                           repeat("]", 500) + "}]"),
                400, "BadRequest");
  CHECK(a.call("GET", "/readyz").code == 200);
  CHECK(a.server.process().running());
}

TEST_CASE("a body of another kind or version than the path is 400 BadRequest", "[e2e][api]") {
  auto& a = api();
  std::string secret = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}})";
  CHECK(expect_status(a.call("POST", kConfigMaps, "application/json", secret), 400, "BadRequest") ==
        "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to "
        "(core.ConfigMap): unknown conversion");
  std::string deployment = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}})";
  CHECK(expect_status(a.call("POST", kConfigMaps, "application/json", deployment), 400,
                      "BadRequest") ==
        "Deployment in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Deployment) "
        "to (core.ConfigMap): unknown conversion");
  std::string wrong_group = R"({"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"c"}})";
  CHECK(expect_status(a.call("POST", kConfigMaps, "application/json", wrong_group), 400,
                      "BadRequest") ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: no kind \"ConfigMap\" is "
        "registered for version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"");
  // The same checks on update.
  a.call("POST", kConfigMaps, "application/json", config_map("target"));
  expect_status(a.call("PUT", kConfigMaps + "/target", "application/json",
                       R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"target"}})"),
                400, "BadRequest");
  // A name or namespace in the body that contradicts the URL.
  CHECK(contains(expect_status(a.call("PUT", kConfigMaps + "/target", "application/json",
                                      config_map("other")),
                               400, "BadRequest"),
                 "does not match the name on the URL"));
  CHECK(expect_status(a.call("POST", kConfigMaps, "application/json",
                             R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n","namespace":"kube-system"}})"),
                      400, "BadRequest") ==
        "the namespace of the provided object does not match the namespace sent on the request");
  // A body without kind and apiVersion takes the endpoint's (upstream decodes with defaults).
  auto defaulted = a.call("POST", kConfigMaps, "application/json", R"({"metadata":{"name":"bare"}})");
  CHECK(defaulted.code == 201);
  CHECK(defaulted.status.string_or("kind") == "ConfigMap");
  CHECK(defaulted.status.string_or("apiVersion") == "v1");
}

TEST_CASE("unknown and duplicate fields follow fieldValidation", "[e2e][api]") {
  auto& a = api();
  const std::string body = config_map("strict", R"(,"data":{"a":"b"},"spec":{"x":1},"dta":{})");
  std::string msg = expect_status(
      a.call("POST", kConfigMaps + "?fieldValidation=Strict", "application/json", body), 400,
      "BadRequest");
  CHECK(msg ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
        "unknown field \"spec\", unknown field \"dta\"");
  // Duplicate fields are reported the same way.
  std::string dup = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"}})";
  CHECK(contains(expect_status(a.call("POST", kConfigMaps + "?fieldValidation=Strict",
                                      "application/json", dup),
                               400, "BadRequest"),
                 "strict decoding error: duplicate field \"metadata.name\""));
  // Warn (also the default): created, with one Warning header per problem.
  auto warned = a.call("POST", kConfigMaps + "?fieldValidation=Warn", "application/json", body);
  INFO(warned.headers << warned.body);
  CHECK(warned.code == 201);
  auto warnings = warned.header_values("Warning");
  CHECK(warnings == std::vector<std::string>{"299 - \"unknown field \\\"spec\\\"\"",
                                             "299 - \"unknown field \\\"dta\\\"\""});
  CHECK(warned.status["data"].string_or("a") == "b");
  // A typed decode drops what the kind does not have.
  CHECK(warned.status.get("spec") == nullptr);
  CHECK(warned.status.get("dta") == nullptr);
  auto defaulted = a.call("POST", kConfigMaps, "application/json",
                          config_map("warn-default", R"(,"spec":{})"));
  CHECK(defaulted.code == 201);
  CHECK(defaulted.header_values("Warning").size() == 1);
  // Ignore: created, silently dropped.
  auto ignored = a.call("POST", kConfigMaps + "?fieldValidation=Ignore", "application/json",
                        config_map("ignored", R"(,"spec":{})"));
  CHECK(ignored.code == 201);
  CHECK(ignored.header("Warning").empty());
  // Strict on patches and updates too; an unknown fieldValidation value is refused.
  CHECK(contains(expect_status(a.call("PATCH", kConfigMaps + "/ignored?fieldValidation=Strict",
                                      "application/merge-patch+json", R"({"bogus":1})"),
                               400, "BadRequest"),
                 "strict decoding error: unknown field \"bogus\""));
  CHECK(contains(expect_status(a.call("PUT", kConfigMaps + "/ignored?fieldValidation=Strict",
                                      "application/json", config_map("ignored", R"(,"x":1)")),
                               400, "BadRequest"),
                 "strict decoding error: unknown field \"x\""));
  CHECK(contains(expect_status(a.call("POST", kConfigMaps + "?fieldValidation=Sometimes",
                                      "application/json", config_map("never")),
                               400, "BadRequest"),
                 "fieldValidation"));
  // A mistyped value is a decoding error whatever fieldValidation says.
  expect_status(a.call("POST", kConfigMaps + "?fieldValidation=Ignore", "application/json",
                       config_map("typed", R"(,"data":{"a":5})")),
                400, "BadRequest");
}

TEST_CASE("bodies over 3 MiB are 413 RequestEntityTooLarge", "[e2e][api]") {
  auto& a = api();
  std::string big = config_map("big", ",\"data\":{\"a\":\"" + std::string(3 * 1024 * 1024 + 10, 'x') +
                                          "\"}");
  std::string msg = expect_status(a.call("POST", kConfigMaps, "application/json", big), 413,
                                  "RequestEntityTooLarge");
  CHECK(msg == "Request entity too large: limit is 3145728");
  // Just under the limit is fine as far as the transport goes (the ConfigMap is then too big for
  // upstream's 1 MiB data limit: 422).
  std::string under = config_map("under", ",\"data\":{\"a\":\"" + std::string(2 * 1024 * 1024, 'x') +
                                              "\"}");
  auto r = a.call("POST", kConfigMaps, "application/json", under);
  CHECK(r.code != 413);
}

TEST_CASE("invalid names are 422 Invalid with upstream's message and causes", "[e2e][api]") {
  auto& a = api();
  auto r = a.call("POST", kConfigMaps, "application/json", config_map("Bad_Name"));
  std::string msg = expect_status(r, 422, "Invalid");
  const std::string detail =
      "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
      "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
      "(e.g. 'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  CHECK(msg == "ConfigMap \"Bad_Name\" is invalid: metadata.name: " + detail);
  const auto& details = r.status["details"];
  CHECK(details.string_or("name") == "Bad_Name");
  CHECK(details.string_or("kind") == "ConfigMap");
  CHECK(details.get("group") == nullptr);
  REQUIRE(details["causes"].size() == 1);
  const auto& cause = details["causes"].as_array().at(0);
  CHECK(cause.string_or("reason") == "FieldValueInvalid");
  CHECK(cause.string_or("message") == detail);
  CHECK(cause.string_or("field") == "metadata.name");

  // A namespace name is a DNS label (a valid subdomain with dots gets the shorter message); a
  // missing name is required.
  auto ns = a.call("POST", "/api/v1/namespaces", "application/json",
                   R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a.b"}})");
  CHECK(expect_status(ns, 422, "Invalid") ==
        "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots");
  auto ns2 = a.call("POST", "/api/v1/namespaces", "application/json",
                    R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a_b"}})");
  CHECK(contains(expect_status(ns2, 422, "Invalid"),
                 "Namespace \"a_b\" is invalid: metadata.name: Invalid value: \"a_b\": a lowercase "
                 "RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
  auto unnamed = a.call("POST", kConfigMaps, "application/json",
                        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{}})");
  CHECK(expect_status(unnamed, 422, "Invalid") ==
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");
  // Several causes at once (a Deployment missing its selector and containers).
  auto dep = a.call("POST", "/apis/apps/v1/namespaces/default/deployments", "application/json",
                    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},)"
                    R"("spec":{"replicas":-1,"template":{"spec":{"containers":[]}}}})");
  expect_status(dep, 422, "Invalid");
  CHECK(dep.status["details"].string_or("group") == "apps");
  CHECK(dep.status["details"].string_or("kind") == "Deployment");
  CHECK(dep.status["details"]["causes"].size() >= 3);
  bool replicas_cause = false;
  for (const auto& c : dep.status["details"]["causes"].as_array()) {
    replicas_cause = replicas_cause || (c.string_or("field") == "spec.replicas" &&
                                        c.string_or("message") ==
                                            "Invalid value: -1: must be greater than or equal to 0");
  }
  CHECK(replicas_cause);
}

TEST_CASE("conflicting writes are 409 Conflict or AlreadyExists", "[e2e][api]") {
  auto& a = api();
  auto created = a.call("POST", kConfigMaps, "application/json", config_map("racy"));
  REQUIRE(created.code == 201);
  std::string rv(created.status["metadata"].string_or("resourceVersion"));
  auto dup = a.call("POST", kConfigMaps, "application/json", config_map("racy"));
  CHECK(expect_status(dup, 409, "AlreadyExists") == "configmaps \"racy\" already exists");
  CHECK(dup.status["details"].string_or("name") == "racy");
  CHECK(dup.status["details"].string_or("kind") == "configmaps");

  std::string update = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"racy",)"
                       R"("resourceVersion":")" + rv + R"("},"data":{"v":"1"}})";
  CHECK(a.call("PUT", kConfigMaps + "/racy", "application/json", update).code == 200);
  auto stale = a.call("PUT", kConfigMaps + "/racy", "application/json", update);
  CHECK(expect_status(stale, 409, "Conflict") ==
        "Operation cannot be fulfilled on configmaps \"racy\": the object has been modified; "
        "please apply your changes to the latest version and try again");
  // A patch carrying the stale resourceVersion is a precondition that fails the same way.
  auto patch = a.call("PATCH", kConfigMaps + "/racy", "application/merge-patch+json",
                      R"({"metadata":{"resourceVersion":")" + rv + R"("},"data":{"v":"2"}})");
  expect_status(patch, 409, "Conflict");
  // A delete precondition on a stale resourceVersion or a wrong uid.
  auto del = a.call("DELETE", kConfigMaps + "/racy", "application/json",
                    R"({"preconditions":{"resourceVersion":")" + rv + R"("}})");
  CHECK(contains(expect_status(del, 409, "Conflict"),
                 "Operation cannot be fulfilled on configmaps \"racy\": Precondition failed"));
  // Server-side apply conflicts name the other manager.
  std::string applied = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"racy"},)"
                        R"("data":{"v":"mine"}})";
  auto conflict = a.call("PATCH", kConfigMaps + "/racy?fieldManager=me",
                         "application/apply-patch+yaml", applied);
  CHECK(contains(expect_status(conflict, 409, "Conflict"), "Apply failed with 1 conflict"));
  REQUIRE(conflict.status["details"]["causes"].size() == 1);
  CHECK(conflict.status["details"]["causes"].as_array().at(0).string_or("field") == ".data.v");
  CHECK(a.call("PATCH", kConfigMaps + "/racy?fieldManager=me&force=true",
               "application/apply-patch+yaml", applied)
            .code == 200);
}

TEST_CASE("unsupported media types are 415 and unacceptable ones 406", "[e2e][api]") {
  auto& a = api();
  CHECK(contains(expect_status(a.call("POST", kConfigMaps, "text/plain", config_map("t")), 415,
                               "UnsupportedMediaType"),
                 "the body of the request was in an unknown format - accepted media types include: "
                 "application/json, application/yaml, application/vnd.kubernetes.protobuf"));
  a.call("POST", kConfigMaps, "application/json", config_map("media"));
  CHECK(contains(expect_status(a.call("PATCH", kConfigMaps + "/media", "application/json",
                                      R"({"data":{}})"),
                               415, "UnsupportedMediaType"),
                 "application/strategic-merge-patch+json"));
  CHECK(a.call("GET", kConfigMaps + "/media", {}, {}, true, "-H 'Accept: image/png'").code == 406);
}

TEST_CASE("unknown paths and resources are 404, wrong methods 405", "[e2e][api]") {
  auto& a = api();
  const std::string nf = "the server could not find the requested resource";
  CHECK(expect_status(a.call("GET", "/api/v1/frobnicators"), 404, "NotFound") == nf);
  CHECK(expect_status(a.call("GET", "/apis/nosuch.example.com/v1/things"), 404, "NotFound") == nf);
  CHECK(expect_status(a.call("GET", "/apis/apps/v9/deployments"), 404, "NotFound") == nf);
  CHECK(expect_status(a.call("GET", "/totally/elsewhere"), 404, "NotFound") == nf);
  CHECK(expect_status(a.call("GET", "/api/v1/namespaces/default/pods/p/nosuchsub"), 404,
                      "NotFound") == nf);
  // Cluster-scoped kinds have no namespaced path.
  CHECK(expect_status(a.call("GET", "/api/v1/namespaces/default/nodes"), 404, "NotFound") == nf);
  // A missing object is NotFound with details.
  auto missing = a.call("GET", kConfigMaps + "/ghost");
  CHECK(expect_status(missing, 404, "NotFound") == "configmaps \"ghost\" not found");
  CHECK(missing.status["details"].string_or("kind") == "configmaps");
  auto missing_ns = a.call("POST", "/api/v1/namespaces/no-such-ns/configmaps", "application/json",
                           config_map("x"));
  CHECK(expect_status(missing_ns, 404, "NotFound") == "namespaces \"no-such-ns\" not found");

  const std::string na = "the server does not allow this method on the requested resource";
  CHECK(expect_status(a.call("PUT", kConfigMaps, "application/json", config_map("x")), 405,
                      "MethodNotAllowed") == na);
  CHECK(expect_status(a.call("POST", kConfigMaps + "/named", "application/json", config_map("named")),
                      405, "MethodNotAllowed") == na);
  CHECK(expect_status(a.call("DELETE", "/api/v1"), 405, "MethodNotAllowed") == na);
  // Reviews are create-only.
  CHECK(expect_status(a.call("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), 405,
                      "MethodNotAllowed") == na);
}

TEST_CASE("bad query parameters are 400 BadRequest", "[e2e][api]") {
  auto& a = api();
  expect_status(a.call("GET", kConfigMaps + "?limit=lots"), 400, "BadRequest");
  CHECK(contains(expect_status(a.call("GET", kConfigMaps + "?labelSelector=a%3D%3D%3Db"), 400,
                               "BadRequest"),
                 "unable to parse requirement"));
  CHECK(contains(expect_status(a.call("GET", kConfigMaps + "?fieldSelector=data.a%3Db"), 400,
                               "BadRequest"),
                 "field label not supported: data.a"));
  expect_status(a.call("GET", kConfigMaps + "?watch=true&timeoutSeconds=-4"), 400, "BadRequest");
  expect_status(a.call("POST", kConfigMaps + "?dryRun=Some", "application/json", config_map("d")),
                400, "BadRequest");
  expect_status(a.call("GET", kConfigMaps + "?continue=not-a-token&limit=1"), 400, "BadRequest");
  // A resourceVersion from the future: 504 Timeout with the cause client-go's reflector checks.
  auto ahead = a.call("GET", kConfigMaps + "?resourceVersion=999999999");
  CHECK(contains(expect_status(ahead, 504, "Timeout"),
                 "Timeout: Too large resource version: 999999999, current: "));
  REQUIRE(ahead.status["details"]["causes"].size() == 1);
  CHECK(ahead.status["details"]["causes"].as_array().at(0).string_or("reason") ==
        "ResourceVersionTooLarge");
  expect_status(a.call("GET", kConfigMaps + "?watch=true&resourceVersion=999999999"), 504,
                "Timeout");
}

TEST_CASE("requests without a client certificate are 401 except the open paths", "[e2e][api]") {
  auto& a = api();
  auto r = a.call("GET", kConfigMaps, {}, {}, false);
  CHECK(expect_status(r, 401, "Unauthorized") == "Unauthorized");
  expect_status(a.call("POST", kConfigMaps, "application/json", config_map("anon"), false), 401,
                "Unauthorized");
  expect_status(a.call("GET", "/api", {}, {}, false), 401, "Unauthorized");
  expect_status(a.call("GET", "/openapi/v3", {}, {}, false), 401, "Unauthorized");
  // A bearer token that is not a valid service-account token authenticates nobody.
  expect_status(a.call("GET", kConfigMaps, {}, {}, false, "-H 'Authorization: Bearer not.a.jwt'"),
                401, "Unauthorized");
  for (const char* open : {"/healthz", "/livez", "/readyz"}) {
    auto h = a.call("GET", open, {}, {}, false);
    CHECK(h.code == 200);
    CHECK(h.body == "ok");
  }
  auto v = a.call("GET", "/version", {}, {}, false);
  CHECK(v.code == 200);
  CHECK(v.status.string_or("gitVersion") == "v1.32.5+skiff");
  // The anonymous create above wrote nothing.
  expect_status(a.call("GET", kConfigMaps + "/anon"), 404, "NotFound");
}

TEST_CASE("after all the bad requests the server still serves normal ones", "[e2e][api]") {
  auto& a = api();
  auto created = a.call("POST", kConfigMaps, "application/json",
                        config_map("still-fine", R"(,"data":{"ok":"yes"})"));
  CHECK(created.code == 201);
  auto got = a.call("GET", kConfigMaps + "/still-fine");
  CHECK(got.code == 200);
  CHECK(got.status["data"].string_or("ok") == "yes");
  auto list = a.call("GET", kConfigMaps + "?labelSelector=nothing%3Dhere");
  CHECK(list.code == 200);
  CHECK(list.status.string_or("kind") == "ConfigMapList");
  CHECK(a.call("GET", "/readyz").code == 200);
  CHECK(a.server.process().running());
  CHECK(a.server.process().stderr_text().find("terminate called") == std::string::npos);
}
