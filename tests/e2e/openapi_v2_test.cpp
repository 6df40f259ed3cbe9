// SPDX-License-Identifier: Apache-2.0
// `/openapi/v2` against its real readers. kubectl 1.27 and 1.28 load it in protobuf (gnostic's
// openapi.v2.Document) before validating (`apply`, `create -f`, `edit` with the default
// --validate=strict), for client-side apply's strategic-merge metadata, and for
// `explain --output=plaintext-openapiv2`; each fails outright unless kube-openapi can build its
// models from the document. curl checks the HTTP side (negotiation, ETag/304, gzip). Each kubectl
// command runs with a fresh cache dir; tests skip with a WARN when their client is missing.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "e2e_util.hpp"
#include "skiff_test.hpp"
#include <sys/stat.h>

namespace {

using skiff::testing::contains;
using skiff::testing::find_program;
using skiff::testing::kubectl;
using skiff::testing::kubectl_version_binary;
using skiff::testing::KubeServer;
using skiff::testing::run_command;
using skiff::testing::TempDir;

struct Run {
  int status;
  std::string out;
};

Run run(const KubeServer& server, const std::string& bin, const std::string& args,
        const std::string& stdin_data = {}) {
  Run r{};
  r.status = kubectl(server.kubeconfig(), args, &r.out, stdin_data, bin);
  return r;
}

// kubectl that must succeed; returns its output.
std::string ok(const KubeServer& server, const std::string& bin, const std::string& args,
               const std::string& stdin_data = {}) {
  Run r = run(server, bin, args, stdin_data);
  INFO(bin << " " << args << " -> " << r.out);
  REQUIRE(r.status == 0);
  return r.out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One container of a Deployment manifest: name, image and optional extra lines (8-space indent).
struct Container {
  std::string name;
  std::string image;
  std::string extra;
};

std::string deployment(const std::string& name, int replicas,
                       const std::vector<Container>& containers, const std::string& indent = "") {
  std::string out =
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata:\n"
      "  name: " +
      name +
      "\n"
      "spec:\n"
      "  replicas: " +
      std::to_string(replicas) +
      "\n"
      "  selector:\n"
      "    matchLabels:\n"
      "      app: " +
      name +
      "\n"
      "  template:\n"
      "    metadata:\n"
      "      labels:\n"
      "        app: " +
      name +
      "\n"
      "    spec:\n"
      "      containers:\n";
  for (const Container& c : containers) {
    out += "      - name: " + c.name + "\n        image: " + c.image + "\n" + c.extra;
  }
  if (indent.empty()) {
    return out;
  }
  // Re-indented as an item of a List.
  std::string shifted;
  bool first = true;
  for (std::size_t at = 0; at < out.size();) {
    std::size_t nl = out.find('\n', at);
    shifted += (first ? "- " : indent) + out.substr(at, nl - at) + "\n";
    first = false;
    at = nl + 1;
  }
  return shifted;
}

// The installed kubectl binaries of the versions that read OpenAPI v2 (missing ones skipped).
std::vector<std::pair<int, std::string>> v2_clients() {
  std::vector<std::pair<int, std::string>> out;
  for (int minor : {27, 28}) {
    std::string bin = kubectl_version_binary(minor);
    if (bin.empty()) {
      WARN("kubectl 1." << minor << " is not installed; skipped");
      continue;
    }
    out.emplace_back(minor, bin);
  }
  return out;
}

// "name=image;" for each container of a Deployment, sorted.
std::set<std::string> containers_of(const KubeServer& server, const std::string& bin,
                                    const std::string& name) {
  std::string out = ok(server, bin,
                       "get deployment " + name +
                           " -o jsonpath='{range .spec.template.spec.containers[*]}"
                           "{.name}={.image}:{.ports[*].containerPort};{end}'");
  std::set<std::string> set;
  for (std::size_t at = 0; at < out.size();) {
    std::size_t semi = out.find(';', at);
    if (semi == std::string::npos) {
      break;
    }
    set.insert(out.substr(at, semi - at));
    at = semi + 1;
  }
  return set;
}

// The Request Body lines kubectl -v=8 logs for its PATCH requests.
std::string patch_bodies(const std::string& log) {
  std::string out;
  for (std::size_t at = 0; at < log.size();) {
    std::size_t nl = log.find('\n', at);
    std::string line = log.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (std::size_t b = line.find("Request Body: "); b != std::string::npos) {
      out += line.substr(b + 14) + "\n";
    }
    if (nl == std::string::npos) {
      break;
    }
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("/openapi/v2 over HTTPS: JSON or protobuf by Accept, ETag and 304, gzip",
          "[e2e][openapi]") {
  if (find_program("curl").empty()) {
    WARN("curl is not installed; skipped");
    return;
  }
  TempDir dir;
  KubeServer server(dir);
  std::string tls = dir.file("data") + "/server/tls/";
  std::string curl = "curl -sS --cacert " + tls + "server-ca.crt --cert " + tls +
                     "client-admin.crt --key " + tls + "client-admin.key -D " +
                     dir.file("headers") + " -o " + dir.file("body") + " -w '%{http_code}' ";
  auto get = [&](const std::string& headers) {
    std::filesystem::remove(dir.file("body"));  // curl writes no file for a 304
    std::string code;
    INFO(headers);
    REQUIRE(run_command(curl + headers + " " + server.url() + "/openapi/v2", &code) == 0);
    return code;
  };
  auto header = [&](const std::string& name) {
    std::string h = read_file(dir.file("headers"));
    std::string lower = h;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::size_t at = lower.find("\n" + name + ": ");
    if (at == std::string::npos) {
      return std::string();
    }
    at += name.size() + 3;
    return h.substr(at, h.find('\r', at) - at);
  };
  const std::string proto =
      "-H 'Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf'";

  CHECK(get(proto) == "200");
  CHECK(header("content-type") == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  std::string etag = header("etag");
  CHECK(etag.size() > 2);
  std::string pb = read_file(dir.file("body"));
  CHECK(pb.size() > 100000);
  if (!find_program("protoc").empty()) {
    std::string decoded;
    REQUIRE(run_command("protoc --decode_raw < " + dir.file("body"), &decoded) == 0);
    CHECK(contains(decoded, "1: \"2.0\""));
    CHECK(contains(decoded, "\"io.k8s.api.apps.v1.Deployment\""));
  }

  CHECK(get(proto + " -H 'If-None-Match: " + etag + "'") == "304");
  CHECK(read_file(dir.file("body")).empty());
  CHECK(header("etag") == etag);
  CHECK(get(proto + " -H 'If-None-Match: \"stale\"'") == "200");

  CHECK(get(proto + " --compressed") == "200");
  CHECK(header("content-encoding") == "gzip");
  CHECK(read_file(dir.file("body")) == pb);  // curl inflated it

  CHECK(get("-H 'Accept: application/json'") == "200");
  CHECK(header("content-type") == "application/json");
  CHECK(header("etag") == etag);  // one document, two encodings (Vary: Accept)
  std::string js = read_file(dir.file("body"));
  CHECK(js.starts_with("{\"swagger\":\"2.0\""));
  CHECK(contains(js, "\"x-kubernetes-patch-merge-key\":\"name\""));
  CHECK(contains(js, "\"x-kubernetes-action\":\"patch\""));

  CHECK(get("-H 'Accept: text/html'") == "406");
}

TEST_CASE("kubectl 1.27/1.28 apply: create, then a strategic merge of containers by name",
          "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string name = "web-" + std::to_string(minor);
    std::string file = dir.file(name + ".yaml");
    const std::string port80 = "        ports:\n        - containerPort: 80\n";

    write_file(file,
               deployment(name, 1, {{"web", "nginx:1.25", port80}, {"log", "busybox:1.36", ""}}));
    std::string created = ok(server, bin, "apply -f " + file + " -v=6");
    CHECK(contains(created, "deployment.apps/" + name + " created"));
    CHECK(contains(created, "/openapi/v2?timeout=30s 200 OK"));
    // A container added by someone else: not in last-applied, so apply must leave it alone.
    ok(server, bin,
       "patch deployment " + name +
           " -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\","
           "\"image\":\"envoy:1\"}]}}}}'");

    // The new manifest changes web (image, one more port), drops log and scales.
    write_file(
        file,
        deployment(name, 3, {{"web", "nginx:1.26", port80 + "        - containerPort: 443\n"}}));
    // The patch computed from the /openapi/v2 models must be the one kubectl's compiled-in types
    // give (--openapi-patch=false), checked on the server without changing anything.
    std::string from_openapi =
        patch_bodies(ok(server, bin, "apply -f " + file + " --dry-run=server -v=8"));
    std::string from_types = patch_bodies(
        ok(server, bin, "apply -f " + file + " --dry-run=server --openapi-patch=false -v=8"));
    INFO(from_openapi);
    CHECK(contains(from_openapi, "\"$setElementOrder/containers\":[{\"name\":\"web\"}]"));
    CHECK(contains(from_openapi, "{\"$patch\":\"delete\",\"name\":\"log\"}"));
    CHECK(from_openapi == from_types);

    std::string configured = ok(server, bin, "apply -f " + file);
    CHECK(contains(configured, "deployment.apps/" + name + " configured"));
    CHECK(!contains(configured, "error calculating patch from openapi spec"));
    CHECK(ok(server, bin, "get deployment " + name + " -o jsonpath={.spec.replicas}") == "3");
    CHECK(containers_of(server, bin, name) ==
          std::set<std::string>{"sidecar=envoy:1:", "web=nginx:1.26:80 443"});

    // Without the sidecar an identical manifest is a no-op.
    std::string plain = "plain-" + std::to_string(minor);
    std::string plain_file = dir.file(plain + ".yaml");
    write_file(plain_file, deployment(plain, 1, {{"web", "nginx:1.25", port80}}));
    CHECK(contains(ok(server, bin, "apply -f " + plain_file), "created"));
    CHECK(contains(ok(server, bin, "apply -f " + plain_file),
                   "deployment.apps/" + plain + " unchanged"));
  }
}

TEST_CASE(
    "kubectl 1.27/1.28 create -f: client-side validation from the v2 models, server-side where "
    "declared",
    "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  const std::string typo = "        imagePullPolicyy: Always\n";
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string m = std::to_string(minor);

    // A List is never validated by the server (kubectl's verifier says so for v1 List): kubectl
    // checks each item against the v2 models itself.
    std::string list = dir.file("list-" + m + ".yaml");
    write_file(list, "apiVersion: v1\nkind: List\nitems:\n" +
                         deployment("listed-" + m, 1, {{"web", "nginx", typo}}, "  "));
    Run r = run(server, bin, "create -f " + list);
    INFO(r.out);
    CHECK(r.status != 0);
    CHECK(contains(
        r.out,
        "error validating data: ValidationError(Deployment.spec.template.spec."
        "containers[0]): unknown field \"imagePullPolicyy\" in io.k8s.api.core.v1.Container"));
    // Types and required fields come from the models as well.
    write_file(
        list,
        "apiVersion: v1\nkind: List\nitems:\n" +
            deployment("listed-" + m, 1,
                       {{"web", "nginx", "        ports:\n        - containerPort: eighty\n"}},
                       "  "));
    r = run(server, bin, "create -f " + list);
    INFO(r.out);
    CHECK(r.status != 0);
    CHECK(
        contains(r.out,
                 "invalid type for io.k8s.api.core.v1.ContainerPort.containerPort: got \"string\", "
                 "expected \"integer\""));
    CHECK(run(server, bin, "get deployment listed-" + m).status != 0);

    // A kind without a PATCH operation (no fieldValidation declared): client-side as well.
    std::string review = dir.file("review-" + m + ".yaml");
    write_file(
        review,
        "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: t\n  tokn: x\n");
    r = run(server, bin, "create -f " + review);
    INFO(r.out);
    CHECK(r.status != 0);
    CHECK(contains(r.out,
                   "ValidationError(TokenReview.spec): unknown field \"tokn\" in "
                   "io.k8s.api.authentication.v1.TokenReviewSpec"));

    // A Deployment's PATCH declares fieldValidation, so kubectl leaves strict validation to the
    // server (as against upstream): BadRequest naming the field, nothing created.
    std::string file = dir.file("bad-" + m + ".yaml");
    write_file(file, deployment("bad-" + m, 1, {{"web", "nginx:1.25", typo}}));
    for (const char* verb : {"apply -f ", "create -f "}) {
      r = run(server, bin, verb + file);
      INFO(verb << " -> " << r.out);
      CHECK(r.status != 0);
      CHECK(contains(r.out, "unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""));
      CHECK(!contains(r.out, "failed to download openapi"));
    }
    CHECK(run(server, bin, "get deployment bad-" + m).status != 0);
    // --validate=false: the field is dropped and the object created.
    CHECK(contains(ok(server, bin, "create --validate=false -f " + file), "created"));
  }
}

TEST_CASE("kubectl 1.27/1.28 explain --output=plaintext-openapiv2 reads the v2 models",
          "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string containers =
        ok(server, bin,
           "explain deployment.spec.template.spec.containers --output=plaintext-openapiv2");
    CHECK(contains(containers, "KIND:     Deployment"));
    CHECK(contains(containers, "VERSION:  apps/v1"));
    CHECK(contains(containers, "RESOURCE: containers <[]Object>"));
    CHECK(contains(containers, "FIELDS:"));
    for (const char* field :
         {"args\t<[]string>", "env\t<[]Object>", "image\t<string>", "livenessProbe\t<Object>",
          "name\t<string> -required-", "ports\t<[]Object>", "resources\t<Object>",
          "volumeMounts\t<[]Object>"}) {
      INFO(field);
      CHECK(contains(containers, field));
    }

    std::string replicas =
        ok(server, bin, "explain deployment.spec.replicas --output=plaintext-openapiv2");
    CHECK(contains(replicas, "FIELD:    replicas <integer>"));

    Run unknown = run(server, bin, "explain pods.spec.nosuchfield --output=plaintext-openapiv2");
    CHECK(unknown.status != 0);
    CHECK(contains(unknown.out, "field \"nosuchfield\" does not exist"));
  }
}

TEST_CASE("kubectl 1.27/1.28 edit with a scripted editor", "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  // The editor kubectl runs on its temporary file: scale to 4 and change the image.
  std::string editor = dir.file("editor.sh");
  write_file(editor,
             "#!/bin/sh\nsed -i -e 's/replicas: 1$/replicas: 4/' -e 's/image: nginx:1.25$/image: "
             "nginx:1.27/' \"$1\"\n");
  REQUIRE(::chmod(editor.c_str(), 0755) == 0);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string name = "edited-" + std::to_string(minor);
    std::string file = dir.file(name + ".yaml");
    write_file(file, deployment(name, 1, {{"web", "nginx:1.25", ""}}));
    CHECK(contains(ok(server, bin, "create -f " + file), "created"));
    std::string out =
        ok(server, "KUBE_EDITOR=" + editor + " " + bin, "edit deployment " + name + " -v=6");
    CHECK(contains(out, "deployment.apps/" + name + " edited"));
    CHECK(contains(out, "/openapi/v2?timeout=30s 200 OK"));
    CHECK(ok(server, bin,
             "get deployment " + name +
                 " -o jsonpath={.spec.replicas}/{.spec.template.spec.containers[0].image}") ==
          "4/nginx:1.27");
  }
}

TEST_CASE("kubectl 1.27/1.28 see a new CRD in /openapi/v2 (apply and explain its kind)",
          "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  auto clients = v2_clients();
  if (clients.empty()) {
    return;
  }
  std::string crd = dir.file("crd.yaml");
  write_file(crd, R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec:
                type: string
                description: when the job runs
              replicas:
                type: integer
)");
  const std::string& first = clients.front().second;
  CHECK(contains(ok(server, first, "create -f " + crd), "created"));
  auto created = std::chrono::steady_clock::now();
  REQUIRE(skiff::testing::eventually(
      [&] {
        Run doc = run(server, first, "get --raw /openapi/v2");
        return doc.status == 0 && contains(doc.out, "\"com.example.stable.v1.CronTab\":{");
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50)));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  created);
  WARN("the CRD's kind was in /openapi/v2 " << ms.count()
                                            << " ms after kubectl create returned "
                                               "(including kubectl start-ups)");
  for (const auto& [minor, bin] : clients) {
    INFO("kubectl 1." << minor);
    std::string cr = dir.file("cr.yaml");
    std::string name = "tab-" + std::to_string(minor);
    write_file(cr, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: " + name +
                       "\nspec:\n  cronSpec: '* * * * */5'\n  replicas: 2\n");
    CHECK(contains(ok(server, bin, "apply -f " + cr),
                   "crontab.stable.example.com/" + name + " created"));
    write_file(cr, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: " + name +
                       "\nspec:\n  cronSpec: '* * * * */5'\n  replicas: 3\n");
    CHECK(contains(ok(server, bin, "apply -f " + cr),
                   "crontab.stable.example.com/" + name + " configured"));
    CHECK(ok(server, bin, "get crontab " + name + " -o jsonpath={.spec.replicas}") == "3");

    std::string spec = ok(server, bin, "explain crontabs.spec --output=plaintext-openapiv2");
    CHECK(contains(spec, "KIND:     CronTab"));
    CHECK(contains(spec, "VERSION:  stable.example.com/v1"));
    CHECK(contains(spec, "cronSpec\t<string>"));
    CHECK(contains(spec, "when the job runs"));
    CHECK(contains(spec, "replicas\t<integer>"));
  }
}
