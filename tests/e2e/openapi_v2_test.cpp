// SPDX-License-Identifier: Apache-2.0
// kubectl 1.27 and 1.28 against `skiff server`: both load `/openapi/v2` in protobuf before
// validating (`apply`, `create -f` with the default --validate=strict) and for `explain`, so these
// commands fail with a bare NotFound unless the server publishes the gnostic document and
// kube-openapi can build its models from it. Each command runs with a fresh cache dir.

#include <fstream>
#include <string>

#include "e2e_util.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::KubeServer;
using skiff::testing::kubectl;
using skiff::testing::kubectl_version_binary;
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

std::string deployment(const std::string& name, int replicas, const std::string& image,
                       const std::string& extra_container_field = {}) {
  return "apiVersion: apps/v1\n"
         "kind: Deployment\n"
         "metadata:\n"
         "  name: " + name + "\n"
         "spec:\n"
         "  replicas: " + std::to_string(replicas) + "\n"
         "  selector:\n"
         "    matchLabels:\n"
         "      app: " + name + "\n"
         "  template:\n"
         "    metadata:\n"
         "      labels:\n"
         "        app: " + name + "\n"
         "    spec:\n"
         "      containers:\n"
         "      - name: web\n"
         "        image: " + image + "\n" + extra_container_field;
}

// The installed kubectl binaries of the versions that read OpenAPI v2 (empty entries skipped).
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

}  // namespace

TEST_CASE("kubectl 1.27/1.28 apply -f and create -f validate against /openapi/v2",
          "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string name = "web-" + std::to_string(minor);
    std::string file = dir.file(name + ".yaml");

    write_file(file, deployment(name, 1, "nginx:1.25"));
    CHECK(ok(server, bin, "apply -f " + file).find("deployment.apps/" + name + " created") !=
          std::string::npos);
    // A changed manifest is a strategic-merge PATCH computed from the v2 models.
    write_file(file, deployment(name, 3, "nginx:1.26"));
    CHECK(ok(server, bin, "apply -f " + file).find("deployment.apps/" + name + " configured") !=
          std::string::npos);
    CHECK(ok(server, bin, "get deployment " + name +
                              " -o jsonpath={.spec.replicas}/{.spec.template.spec.containers[0].image}") ==
          "3/nginx:1.26");
    CHECK(ok(server, bin, "apply -f " + file).find("deployment.apps/" + name + " unchanged") !=
          std::string::npos);

    std::string cm = dir.file("cm.yaml");
    write_file(cm, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-" + std::to_string(minor) +
                       "\ndata:\n  k: v\n");
    CHECK(ok(server, bin, "create -f " + cm).find("configmap/cm-" + std::to_string(minor) + " created") !=
          std::string::npos);
    Run again = run(server, bin, "create -f " + cm);
    INFO(again.out);
    CHECK(again.status != 0);
    CHECK(again.out.find("AlreadyExists") != std::string::npos);
    // Without validation nothing is downloaded-or-fail: the same command works either way.
    CHECK(ok(server, bin, "apply --validate=false -f " + file).find("unchanged") != std::string::npos);
  }
}

TEST_CASE("kubectl 1.27/1.28 reject a manifest with an unknown field as against upstream",
          "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string name = "bad-" + std::to_string(minor);
    std::string file = dir.file(name + ".yaml");
    write_file(file, deployment(name, 1, "nginx:1.25", "        imagePullPolicyy: Always\n"));
    for (const char* verb : {"apply -f ", "create -f "}) {
      Run r = run(server, bin, verb + file);
      INFO(verb << " -> " << r.out);
      CHECK(r.status != 0);
      // The PATCH operation declares fieldValidation, so kubectl leaves strict validation to the
      // server (as it does against upstream): BadRequest naming the field.
      CHECK(r.out.find("unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"") !=
            std::string::npos);
      CHECK(r.out.find("failed to download openapi") == std::string::npos);
    }
    Run get = run(server, bin, "get deployment " + name);
    CHECK(get.status != 0);
    CHECK(get.out.find("NotFound") != std::string::npos);
    // --validate=false: the field is dropped and the object created.
    CHECK(ok(server, bin, "apply --validate=false -f " + file).find("created") != std::string::npos);
  }
}

TEST_CASE("kubectl 1.27/1.28 explain reads its models from /openapi/v2", "[e2e][openapi]") {
  TempDir dir;
  KubeServer server(dir);
  for (const auto& [minor, bin] : v2_clients()) {
    INFO("kubectl 1." << minor);
    std::string replicas = ok(server, bin, "explain deployment.spec.replicas --output=plaintext-openapiv2");
    CHECK(replicas.find("KIND:") != std::string::npos);
    CHECK(replicas.find("Deployment") != std::string::npos);
    CHECK(replicas.find("replicas") != std::string::npos);
    CHECK(replicas.find("<integer>") != std::string::npos);

    std::string containers = ok(server, bin, "explain pods.spec.containers --output=plaintext-openapiv2");
    CHECK(containers.find("<[]Object>") != std::string::npos);
    CHECK(containers.find("FIELDS:") != std::string::npos);
    for (const char* field : {"image", "imagePullPolicy", "livenessProbe", "volumeMounts"}) {
      INFO(field);
      CHECK(containers.find(field) != std::string::npos);
    }
    // `name` is required in Container.
    CHECK(containers.find("-required-") != std::string::npos);

    Run unknown = run(server, bin, "explain pods.spec.nosuchfield --output=plaintext-openapiv2");
    CHECK(unknown.status != 0);
    CHECK(unknown.out.find("nosuchfield") != std::string::npos);
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
  CHECK(ok(server, first, "create -f " + crd).find("created") != std::string::npos);
  REQUIRE(skiff::testing::eventually(
      [&] { return run(server, first, "get crontabs").status == 0; }, std::chrono::seconds(20),
      std::chrono::milliseconds(200)));
  for (const auto& [minor, bin] : clients) {
    INFO("kubectl 1." << minor);
    std::string cr = dir.file("cr.yaml");
    std::string name = "tab-" + std::to_string(minor);
    write_file(cr, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: " + name +
                       "\nspec:\n  cronSpec: '* * * * */5'\n  replicas: 2\n");
    CHECK(ok(server, bin, "apply -f " + cr).find("crontab.stable.example.com/" + name + " created") !=
          std::string::npos);
    std::string spec = ok(server, bin, "explain crontabs.spec --output=plaintext-openapiv2");
    CHECK(spec.find("cronSpec") != std::string::npos);
    CHECK(spec.find("when the job runs") != std::string::npos);
  }
}
