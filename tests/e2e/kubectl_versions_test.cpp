// SPDX-License-Identifier: Apache-2.0
// The core kubectl commands with other client versions against one `skiff server`: 1.27 (aggregated
// discovery v2beta1, JSON bodies, OpenAPI v2 for validation), 1.30 (JSON bodies, OpenAPI v3) and 1.33
// (protobuf bodies). Each version works in its own namespace; a version that is not installed is
// skipped with a message.

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "e2e_util.hpp"
#include "skiff/base/json.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::BackgroundKubectl;
using skiff::testing::columns;
using skiff::testing::contains;
using skiff::testing::e2e_data;
using skiff::testing::Kubectl;
using skiff::testing::KubeServer;
using skiff::testing::lines;
using skiff::testing::replace_all;
using skiff::testing::slurp;
using skiff::testing::TempDir;

struct Cluster {
  TempDir dir;
  KubeServer server{dir};
};

Cluster& cluster() {
  static Cluster c;
  return c;
}

// kubectl 1.27 and 1.28 validate `apply`, `create -f` and `apply --server-side` against
// /openapi/v2 in protobuf: the core case runs those commands with --validate=false for them, and
// the [openapi-v2] case (with tests/e2e/openapi_v2_test.cpp) checks them with validation.
bool needs_openapi_v2(int minor) {
  return minor <= 28;
}

// replace, diff and edit of deployment `web` (in `n`, " -n ns") now at `replicas` replicas: a
// replace to 4 (and, with `stale`, a replace of the copy it replaced is a conflict), diff of the
// live object (no change) and of a change, then a scripted edit to 5.
void replace_diff_edit(const Kubectl& k, const std::string& n, int replicas, bool stale) {
  std::string live = k.ok("get deployment web -o yaml" + n);
  CHECK(k.ok("replace -f -", replace_all(live, "replicas: " + std::to_string(replicas),
                                         "replicas: 4")) == "deployment.apps/web replaced\n");
  if (stale) {
    CHECK(contains(k.fails("replace -f -", live), "the object has been modified"));
  }
  std::string current = k.ok("get deployment web -o yaml" + n);
  CHECK(k.run("diff -f -", current).status == 0);
  CHECK(k.run("diff -f -", replace_all(current, "replicas: 4", "replicas: 6")).status == 1);
  TempDir dir;
  std::string ed = dir.file("ed.sh");
  std::ofstream(ed) << "#!/bin/sh\nsed -i -e 's/replicas: 4/replicas: 5/' \"$1\"\n";
  std::filesystem::permissions(ed, std::filesystem::perms::owner_all);
  CHECK(k.ok("edit deployment web" + n, {}, "KUBE_EDITOR=" + ed) == "deployment.apps/web edited\n");
  CHECK(k.ok("get deployment web -o jsonpath='{.spec.replicas}'" + n) == "5");
}

}  // namespace

TEST_CASE("core kubectl commands work with kubectl 1.27, 1.30 and 1.33", "[e2e][kubectl]") {
  const int minor = GENERATE(27, 30, 33);
  const std::string binary = skiff::testing::kubectl_version_binary(minor);
  if (binary.empty()) {
    WARN("kubectl 1." << minor << " is not installed: skipping");
    return;
  }
  INFO("kubectl 1." << minor << " (" << binary << ")");
  const Kubectl k(cluster().server.kubeconfig(), binary);
  const std::string ns = "v1-" + std::to_string(minor);
  const std::string n = " -n " + ns;
  const std::string validate = needs_openapi_v2(minor) ? " --validate=false" : "";

  // (1.27 prints version.Info structs by default; the JSON form is the same for every version.)
  auto version = skiff::json::parse(k.ok("version -o json"));
  REQUIRE(version);
  CHECK((*version)["clientVersion"].string_or("minor") == std::to_string(minor));
  CHECK((*version)["serverVersion"].string_or("gitVersion") == "v1.32.5+skiff");
  CHECK(contains(k.ok("version"), "v1.32.5+skiff"));

  // create: a generator (JSON body before 1.32, protobuf from 1.32) and -f.
  CHECK(k.ok("create namespace " + ns) == "namespace/" + ns + " created\n");
  CHECK(k.ok("create deployment gen --image=nginx:1.25" + n) == "deployment.apps/gen created\n");
  CHECK(k.ok("create -f " + e2e_data("configmap.yaml") + validate + n) ==
        "configmap/settings created\n");

  // get: tables, -A, selectors, -o yaml/json/jsonpath.
  std::string table = k.ok("get configmaps" + n);
  CHECK(columns(lines(table).at(0)) == std::vector<std::string>{"NAME", "DATA", "AGE"});
  bool found = false;
  for (const auto& line : lines(table)) {
    auto cols = columns(line);
    found = found || (cols.size() == 3 && cols[0] == "settings" && cols[1] == "2");
  }
  CHECK(found);
  CHECK(k.ok("get deployments -A -l app=gen --field-selector metadata.namespace=" + ns +
             " -o name") == "deployment.apps/gen\n");
  CHECK(k.ok("get configmap settings -o jsonpath='{.data.colour}'" + n) == "blue");
  CHECK(contains(k.ok("get deployment gen -o yaml" + n), "image: nginx:1.25"));
  auto json = skiff::json::parse(k.ok("get namespace " + ns + " -o json"));
  REQUIRE(json);
  CHECK((*json)["status"].string_or("phase") == "Active");
  CHECK(contains(k.fails("get configmap ghost" + n),
                 "Error from server (NotFound): configmaps \"ghost\" not found"));

  // Client-side apply: created, unchanged, configured.
  const std::string dep = slurp(e2e_data("deployment.yaml"));
  CHECK(k.ok("apply -f -" + validate + n, dep) == "deployment.apps/web created\n");
  CHECK(k.ok("apply -f -" + validate + n, dep) == "deployment.apps/web unchanged\n");
  CHECK(k.ok("apply -f -" + validate + n, replace_all(dep, "nginx:1.25", "nginx:1.26")) ==
        "deployment.apps/web configured\n");
  CHECK(k.ok("get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}'" + n) ==
        "nginx:1.26");

  // Server-side apply (--validate=false for every version here; validation has its own checks).
  const std::string cm = replace_all(slurp(e2e_data("configmap.yaml")), "name: settings",
                                     "name: applied");
  CHECK(k.ok("apply --server-side --validate=false -f -" + n, cm) ==
        "configmap/applied serverside-applied\n");
  CHECK(k.ok("apply --server-side --validate=false -f -" + n,
             replace_all(cm, "colour: blue", "colour: teal")) ==
        "configmap/applied serverside-applied\n");
  CHECK(k.ok("get configmap applied -o jsonpath='{.data.colour}'" + n) == "teal");

  // patch: the three types.
  CHECK(k.ok("patch configmap applied -p '{\"data\":{\"smp\":\"1\"}}'" + n) ==
        "configmap/applied patched\n");
  CHECK(k.ok("patch configmap applied --type=merge -p '{\"data\":{\"merge\":\"2\"}}'" + n) ==
        "configmap/applied patched\n");
  CHECK(k.ok("patch configmap applied --type=json "
             "-p '[{\"op\":\"add\",\"path\":\"/data/json\",\"value\":\"3\"}]'" + n) ==
        "configmap/applied patched\n");
  CHECK(k.ok("get configmap applied -o jsonpath='{.data.smp}{.data.merge}{.data.json}'" + n) ==
        "123");

  // label, annotate, scale (a JSON or protobuf PUT of the Scale).
  CHECK(k.ok("label deployment web tier=back --overwrite" + n) == "deployment.apps/web labeled\n");
  CHECK(k.ok("get deployment web -o jsonpath='{.metadata.labels.tier}'" + n) == "back");
  k.ok("annotate deployment web note=v1-" + std::to_string(minor) + n);
  CHECK(k.ok("get deployment web -o jsonpath='{.metadata.annotations.note}'" + n) ==
        "v1-" + std::to_string(minor));
  CHECK(k.ok("scale deployment web --replicas=3" + n) == "deployment.apps/web scaled\n");
  CHECK(k.ok("get deployment web -o jsonpath='{.spec.replicas}'" + n) == "3");
  // replace, diff and edit read OpenAPI v2 before 1.29 (checked in the [openapi-v2] case).
  if (!needs_openapi_v2(minor)) {
    replace_diff_edit(k, n, 3, true);
  }

  // get -w: the list, then a change.
  {
    BackgroundKubectl watch(k, "get configmaps -w" + n);
    REQUIRE(watch.wait_for([](const std::string& out) { return contains(out, "settings"); }));
    REQUIRE(watch.wait_for_watch());
    k.ok("create configmap watched --from-literal=a=b" + n);
    bool seen = watch.wait_for([](const std::string& out) { return contains(out, "watched"); });
    INFO(watch.out() << watch.err());
    CHECK(seen);
  }

  // describe.
  std::string described = k.ok("describe deployment web" + n);
  CHECK(std::regex_search(described, std::regex("Name: +web\n")));
  CHECK(std::regex_search(described, std::regex("Image: +nginx:1.26\n")));
  CHECK(std::regex_search(described, std::regex("StrategyType: +RollingUpdate\n")));
  std::string cm_described = k.ok("describe configmap applied" + n);
  CHECK(std::regex_search(cm_described, std::regex("Name: +applied\n")));
  CHECK(contains(cm_described, "teal"));

  // delete waits for the object to be gone.
  CHECK(k.ok("delete deployment web" + n) == "deployment.apps \"web\" deleted\n");
  CHECK(contains(k.fails("get deployment web" + n), "NotFound"));
  CHECK(k.ok("delete -f " + e2e_data("configmap.yaml") + n) == "configmap \"settings\" deleted\n");
  CHECK(k.ok("delete configmaps --all" + n) ==
        "configmap \"applied\" deleted\nconfigmap \"watched\" deleted\n");
}

// kubectl 1.27 validates apply and create -f against /openapi/v2 (protobuf) and reads it for
// explain; without it every such command fails with a bare NotFound. Skipped (with a warning) while
// the server answers 404 there, so it starts running once /openapi/v2 is served.
TEST_CASE("kubectl 1.27 apply, create -f and explain with OpenAPI v2 validation",
          "[e2e][kubectl][openapi-v2]") {
  const std::string binary = skiff::testing::kubectl_version_binary(27);
  if (binary.empty()) {
    WARN("kubectl 1.27 is not installed: skipping");
    return;
  }
  const Kubectl k(cluster().server.kubeconfig(), binary);
  auto probe = k.run("get --raw /openapi/v2");
  if (probe.status != 0 && contains(probe.err, "NotFound")) {
    WARN("the server does not serve /openapi/v2 yet: skipping kubectl 1.27 validation checks");
    return;
  }
  INFO(probe.err);
  REQUIRE(probe.status == 0);
  const std::string n = " -n validating";
  k.ok("create namespace validating");
  CHECK(k.ok("apply -f " + e2e_data("deployment.yaml") + n) == "deployment.apps/web created\n");
  CHECK(k.ok("apply -f " + e2e_data("deployment.yaml") + n) == "deployment.apps/web unchanged\n");
  CHECK(k.ok("create -f " + e2e_data("configmap.yaml") + n) == "configmap/settings created\n");
  // Client-side validation rejects an unknown field before anything is sent.
  std::string bad = replace_all(slurp(e2e_data("deployment.yaml")), "  replicas: 2\n",
                                "  replicas: 2\n  replica: 5\n");
  CHECK(contains(k.fails("apply -f -" + n, bad), "replica"));
  std::string explained = k.ok("explain deployment.spec.replicas");
  CHECK(std::regex_search(explained, std::regex("FIELD: +replicas +<integer>")));
  CHECK(std::regex_search(k.ok("explain deployment"), std::regex("KIND: +Deployment")));
  // replace, diff and edit read /openapi/v2 too in 1.27.
  replace_diff_edit(k, n, 2, false);
  // A `kind: List` file is validated against /openapi/v2 by every kubectl version (1.32 here).
  const Kubectl current_kubectl(cluster().server.kubeconfig());
  CHECK(current_kubectl.ok("create -f -" + n,
                           "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
                           "  metadata: {name: l1}\n- apiVersion: v1\n  kind: Secret\n"
                           "  metadata: {name: l2}\n  stringData: {k: v}\n") ==
        "configmap/l1 created\nsecret/l2 created\n");
  CHECK(k.ok("delete namespace validating --wait=false") == "namespace \"validating\" deleted\n");
}
