// SPDX-License-Identifier: Apache-2.0
// kubectl 1.32 (the dispatcher picks it for a v1.32 server) against the built `skiff server`: every
// everyday command a user types, asserted on what kubectl prints and returns. One server serves the
// whole file; each test case works in its own namespace so the cases stay independent.

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "e2e_util.hpp"
#include "skiff/base/base64.hpp"
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
using namespace std::chrono_literals;

struct Cluster {
  TempDir dir;
  KubeServer server{dir};
  Kubectl k{server.kubeconfig()};
};

// One server for every test case of this file (started on first use, stopped at exit).
Cluster& cluster() {
  static Cluster c;
  return c;
}

const Kubectl& kc() { return cluster().k; }

// `kubectl get <what> -o jsonpath=<path>` (namespace in `what` as "-n ns ...").
std::string jsonpath(const std::string& what, const std::string& path) {
  return kc().ok("get " + what + " -o jsonpath='" + path + "'");
}

// The line of a table whose first column is `first` (empty if none).
std::vector<std::string> row(const std::string& table, const std::string& first, std::size_t col = 0) {
  for (const auto& line : lines(table)) {
    auto cols = columns(line);
    if (cols.size() > col && cols[col] == first) {
      return cols;
    }
  }
  return {};
}

void create_namespace(const std::string& ns) {
  CHECK(kc().ok("create namespace " + ns) == "namespace/" + ns + " created\n");
}

skiff::json::Value parse_json(const std::string& text) {
  auto v = skiff::json::parse(text);
  INFO(text);
  REQUIRE(v);
  return std::move(*v);
}

}  // namespace

TEST_CASE("kubectl version, api-resources and api-versions describe a v1.32 server",
          "[e2e][kubectl]") {
  std::string version = kc().ok("version");
  CHECK(contains(version, "Server Version: v1.32.5+skiff"));
  const auto vj = parse_json(kc().ok("version -o json"));
  CHECK(vj["serverVersion"].string_or("gitVersion") == "v1.32.5+skiff");
  CHECK(vj["serverVersion"].string_or("major") == "1");
  CHECK(vj["serverVersion"].string_or("minor") == "32");

  std::string resources = kc().ok("api-resources");
  CHECK(columns(lines(resources).at(0)) ==
        std::vector<std::string>{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"});
  CHECK(row(resources, "deployments") ==
        std::vector<std::string>{"deployments", "deploy", "apps/v1", "true", "Deployment"});
  CHECK(row(resources, "pods") == std::vector<std::string>{"pods", "po", "v1", "true", "Pod"});
  CHECK(row(resources, "namespaces") ==
        std::vector<std::string>{"namespaces", "ns", "v1", "false", "Namespace"});
  CHECK(row(resources, "customresourcedefinitions") ==
        std::vector<std::string>{"customresourcedefinitions", "crd,crds", "apiextensions.k8s.io/v1",
                                 "false", "CustomResourceDefinition"});
  CHECK(row(resources, "selfsubjectaccessreviews") ==
        std::vector<std::string>{"selfsubjectaccessreviews", "authorization.k8s.io/v1", "false",
                                 "SelfSubjectAccessReview"});

  std::string apps = kc().ok("api-resources --api-group=apps -o name");
  for (const char* r : {"deployments.apps", "replicasets.apps", "statefulsets.apps",
                        "daemonsets.apps", "controllerrevisions.apps"}) {
    CHECK(contains(apps, std::string(r) + "\n"));
  }
  std::string cluster_scoped = kc().ok("api-resources --namespaced=false -o name");
  CHECK(contains(cluster_scoped, "nodes\n"));
  CHECK(!contains(cluster_scoped, "pods\n"));
  std::string wide = kc().ok("api-resources -o wide");
  auto deploy = row(wide, "deployments");
  REQUIRE(deploy.size() >= 6);
  CHECK(deploy[5] == "create,delete,deletecollection,get,list,patch,update,watch");

  std::string versions = kc().ok("api-versions");
  for (const char* gv : {"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
                         "apiextensions.k8s.io/v1", "rbac.authorization.k8s.io/v1",
                         "networking.k8s.io/v1", "policy/v1", "coordination.k8s.io/v1"}) {
    INFO(gv);
    CHECK(contains("\n" + versions, "\n" + std::string(gv) + "\n"));
  }
}

TEST_CASE("kubectl create generators (protobuf bodies) create what they say", "[e2e][kubectl]") {
  const std::string ns = "gen";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  CHECK(kc().ok("create deployment web --image=nginx:1.25 --replicas=2 --port=80" + n) ==
        "deployment.apps/web created\n");
  CHECK(jsonpath("deployment web" + n,
                 "{.spec.replicas} {.spec.selector.matchLabels.app} "
                 "{.spec.template.spec.containers[0].image} "
                 "{.spec.template.spec.containers[0].ports[0].containerPort} {.spec.strategy.type} "
                 "{.spec.revisionHistoryLimit} {.metadata.generation}") ==
        "2 web nginx:1.25 80 RollingUpdate 10 1");

  // (The typed clients really send protobuf: -v=8 logs the request headers.)
  auto traced = kc().run("create configmap cfg --from-literal=colour=blue --from-literal=size=9 -v=8" + n);
  CHECK(traced.status == 0);
  CHECK(traced.out == "configmap/cfg created\n");
  CHECK(contains(traced.err, "Content-Type: application/vnd.kubernetes.protobuf"));
  CHECK(jsonpath("configmap cfg" + n, "{.data.colour} {.data.size}") == "blue 9");

  CHECK(kc().ok("create secret generic sec --from-literal=password=s3cret" + n) ==
        "secret/sec created\n");
  CHECK(jsonpath("secret sec" + n, "{.type} {.data.password}") ==
        "Opaque " + skiff::base64::encode("s3cret"));

  CHECK(kc().ok("create service clusterip api --tcp=80:8080" + n) == "service/api created\n");
  const auto svc = parse_json(kc().ok("get service api -o json" + n));
  CHECK(svc["spec"].string_or("type") == "ClusterIP");
  CHECK(svc["spec"]["ports"].as_array().at(0)["port"].as_int() == 80);
  CHECK(svc["spec"]["ports"].as_array().at(0)["targetPort"].as_int() == 8080);
  CHECK(svc["spec"]["ports"].as_array().at(0).string_or("protocol") == "TCP");
  CHECK(std::regex_match(std::string(svc["spec"].string_or("clusterIP")),
                         std::regex(R"(10\.43\.\d+\.\d+)")));
  CHECK(kc().ok("create service nodeport np --tcp=80:80" + n) == "service/np created\n");
  auto node_port = jsonpath("service np" + n, "{.spec.ports[0].nodePort}");
  CHECK(std::stoi(node_port) >= 30000);
  CHECK(std::stoi(node_port) <= 32767);

  CHECK(kc().ok("create job once --image=busybox:1.36" + n + " -- echo hello") ==
        "job.batch/once created\n");
  CHECK(jsonpath("job once" + n,
                 "{.spec.template.spec.containers[0].command[*]} {.spec.template.spec.restartPolicy} "
                 "{.spec.backoffLimit} {.spec.completions}") == "echo hello Never 6 1");

  // More typed-client generators, each a protobuf POST.
  CHECK(kc().ok("create serviceaccount robot" + n) == "serviceaccount/robot created\n");
  CHECK(kc().ok("create role reader --verb=get,list --resource=pods" + n) ==
        "role.rbac.authorization.k8s.io/reader created\n");
  CHECK(kc().ok("create rolebinding reader --role=reader --serviceaccount=gen:robot" + n) ==
        "rolebinding.rbac.authorization.k8s.io/reader created\n");
  CHECK(jsonpath("rolebinding reader" + n, "{.roleRef.kind}/{.roleRef.name} {.subjects[0].kind}") ==
        "Role/reader ServiceAccount");
  CHECK(kc().ok("create quota q --hard=pods=10" + n) == "resourcequota/q created\n");
  CHECK(kc().ok("create poddisruptionbudget pdb --selector=app=web --min-available=1" + n) ==
        "poddisruptionbudget.policy/pdb created\n");
  CHECK(kc().ok("create ingress ing --rule=example.com/=api:80" + n) ==
        "ingress.networking.k8s.io/ing created\n");
  CHECK(kc().ok("create cronjob nightly --image=busybox:1.36 --schedule='0 3 * * *'" + n +
                " -- date") == "cronjob.batch/nightly created\n");

  // Server-side dry run persists nothing; a second create is AlreadyExists.
  CHECK(kc().ok("create configmap dry --from-literal=a=b --dry-run=server" + n) ==
        "configmap/dry created (server dry run)\n");
  CHECK(contains(kc().fails("get configmap dry" + n),
                 "Error from server (NotFound): configmaps \"dry\" not found"));
  CHECK(contains(kc().fails("create deployment web --image=nginx" + n),
                 "error: failed to create deployment: deployments.apps \"web\" already exists"));
  // An invalid name is refused by the server with upstream's wording.
  CHECK(contains(kc().fails("create configmap Bad_Name" + n),
                 "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
  // -o yaml prints the created object as the server returned it.
  auto yaml = kc().ok("create configmap shown --from-literal=x=y -o yaml" + n);
  CHECK(contains(yaml, "kind: ConfigMap"));
  CHECK(contains(yaml, "  uid: "));
  CHECK(contains(yaml, "  resourceVersion: \""));
}

TEST_CASE("create -f and client-side apply create, configure and leave unchanged",
          "[e2e][kubectl]") {
  const std::string ns = "csa";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  const std::string manifest = slurp(e2e_data("deployment.yaml"));

  CHECK(kc().ok("create -f " + e2e_data("configmap.yaml") + n) == "configmap/settings created\n");
  CHECK(contains(kc().fails("create -f " + e2e_data("configmap.yaml") + n),
                 "Error from server (AlreadyExists): error when creating"));

  CHECK(kc().ok("apply -f -" + n, manifest) == "deployment.apps/web created\n");
  const auto live = parse_json(kc().ok("get deployment web -o json" + n));
  std::string last_applied(
      live["metadata"]["annotations"].string_or("kubectl.kubernetes.io/last-applied-configuration"));
  const auto last = parse_json(last_applied);
  CHECK(last["metadata"].string_or("namespace") == ns);
  CHECK(last["spec"]["replicas"].as_int() == 2);
  std::string rv(live["metadata"].string_or("resourceVersion"));

  CHECK(kc().ok("apply -f -" + n, manifest) == "deployment.apps/web unchanged\n");
  CHECK(jsonpath("deployment web" + n, "{.metadata.resourceVersion}") == rv);

  // A changed image and replica count, a dropped label and a dropped env var: the three-way patch
  // updates the first two and removes what the previous apply had set.
  std::string changed = replace_all(manifest, "nginx:1.25", "nginx:1.26");
  changed = replace_all(changed, "replicas: 2", "replicas: 3");
  changed = replace_all(changed, "    tier: front\n", "");
  changed = replace_all(changed, "        env:\n        - name: MODE\n          value: blue\n", "");
  REQUIRE(changed != manifest);
  CHECK(kc().ok("apply -f -" + n, changed) == "deployment.apps/web configured\n");
  CHECK(jsonpath("deployment web" + n,
                 "{.spec.replicas} {.spec.template.spec.containers[0].image} "
                 "{.metadata.labels.tier}|{.spec.template.spec.containers[0].env}|"
                 "{.metadata.generation}") == "3 nginx:1.26 ||2");
  // A label another writer added survives (it was never in last-applied).
  kc().ok("label deployment web owner=ops" + n);
  CHECK(kc().ok("apply -f -" + n, replace_all(changed, "replicas: 3", "replicas: 4")) ==
        "deployment.apps/web configured\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas} {.metadata.labels.owner}") == "4 ops");

  // Several objects in one file.
  std::string multi = kc().ok("apply -f " + e2e_data("multi.yaml") + n);
  CHECK(multi == "configmap/multi-a created\nservice/multi-svc created\n");
  CHECK(kc().ok("apply -f " + e2e_data("multi.yaml") + n) ==
        "configmap/multi-a unchanged\nservice/multi-svc unchanged\n");

  // Strict validation (the default) rejects an unknown field; --validate=false drops it.
  std::string bad = replace_all(manifest, "  replicas: 2\n", "  replicas: 2\n  replica: 5\n");
  bad = replace_all(bad, "name: web\n  labels", "name: web-bad\n  labels");
  std::string err = kc().fails("apply -f -" + n, bad);
  CHECK(contains(err, "strict decoding error: unknown field \"spec.replica\""));
  CHECK(kc().ok("apply --validate=false -f -" + n, bad) == "deployment.apps/web-bad created\n");
  // apply --dry-run=server changes nothing.
  CHECK(kc().ok("apply --dry-run=server -f -" + n, replace_all(changed, "replicas: 3", "replicas: 9")) ==
        "deployment.apps/web configured (server dry run)\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "4");
}

TEST_CASE("server-side apply creates, updates, detects conflicts and can force them",
          "[e2e][kubectl]") {
  const std::string ns = "ssa";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  const std::string cm = slurp(e2e_data("configmap.yaml"));

  CHECK(kc().ok("apply --server-side -f -" + n, cm) == "configmap/settings serverside-applied\n");
  auto managers = jsonpath("configmap settings --show-managed-fields" + n,
                           "{range .metadata.managedFields[*]}{.manager}:{.operation};{end}");
  CHECK(managers == "kubectl:Apply;");
  std::string rv = jsonpath("configmap settings" + n, "{.metadata.resourceVersion}");

  // Re-applying the same manifest is a no-op: the object is not rewritten.
  CHECK(kc().ok("apply --server-side -f -" + n, cm) == "configmap/settings serverside-applied\n");
  CHECK(jsonpath("configmap settings" + n, "{.metadata.resourceVersion}") == rv);

  // A changed value and a removed key: the applier owns both, so the key goes away.
  std::string changed = replace_all(cm, "colour: blue", "colour: green");
  changed = replace_all(changed, "  size: large\n", "");
  CHECK(kc().ok("apply --server-side -f -" + n, changed) ==
        "configmap/settings serverside-applied\n");
  CHECK(jsonpath("configmap settings" + n, "{.data.colour}|{.data.size}") == "green|");

  // Another manager setting the same field to another value conflicts.
  std::string theirs = replace_all(changed, "colour: green", "colour: red");
  auto conflict = kc().run("apply --server-side --field-manager=other -f -" + n, theirs);
  INFO(conflict.text());
  CHECK(conflict.status == 1);
  // An Apply manager is named without "using <apiVersion>" (upstream prints that for Update
  // managers only).
  CHECK(contains(conflict.err,
                 "Apply failed with 1 conflict: conflict with \"kubectl\": .data.colour"));
  CHECK(contains(conflict.err, "--force-conflicts"));
  CHECK(jsonpath("configmap settings" + n, "{.data.colour}") == "green");
  // The same value is shared ownership, not a conflict.
  CHECK(kc().ok("apply --server-side --field-manager=sharer -f -" + n, changed) ==
        "configmap/settings serverside-applied\n");
  // Forcing takes the field over.
  CHECK(kc().ok("apply --server-side --force-conflicts --field-manager=other -f -" + n, theirs) ==
        "configmap/settings serverside-applied\n");
  CHECK(jsonpath("configmap settings" + n, "{.data.colour}") == "red");
  std::string fields =
      kc().ok("get configmap settings --show-managed-fields -o json" + n);
  const auto obj = parse_json(fields);
  bool other_owns_colour = false;
  bool kubectl_owns_colour = false;
  for (const auto& mf : obj["metadata"]["managedFields"].as_array()) {
    const auto* data = mf.get_path({"fieldsV1", "f:data"});
    bool owns = data != nullptr && data->get("f:colour") != nullptr;
    if (mf.string_or("manager") == "other") {
      other_owns_colour = owns;
    } else if (mf.string_or("manager") == "kubectl") {
      kubectl_owns_colour = owns;
    }
  }
  CHECK(other_owns_colour);
  CHECK(!kubectl_owns_colour);

  // A Deployment first applied client-side moves to server-side apply without a conflict (the
  // fields in last-applied belong to the client-side applier).
  const std::string dep = slurp(e2e_data("deployment.yaml"));
  CHECK(kc().ok("apply -f -" + n, dep) == "deployment.apps/web created\n");
  CHECK(kc().ok("apply --server-side -f -" + n, replace_all(dep, "replicas: 2", "replicas: 3")) ==
        "deployment.apps/web serverside-applied\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "3");
  // Server-side apply of a new Deployment defaults it like a create.
  std::string dep2 = replace_all(dep, "name: web\n  labels", "name: web2\n  labels");
  CHECK(kc().ok("apply --server-side -f -" + n, dep2) == "deployment.apps/web2 serverside-applied\n");
  CHECK(jsonpath("deployment web2" + n,
                 "{.spec.strategy.type} {.spec.template.spec.containers[0].imagePullPolicy}") ==
        "RollingUpdate IfNotPresent");
}

TEST_CASE("kubectl get prints tables, objects, selections and sorts", "[e2e][kubectl]") {
  create_namespace("get-a");
  create_namespace("get-b");
  const std::string dep = slurp(e2e_data("deployment.yaml"));
  auto make = [&](const std::string& name, int replicas, const std::string& tier,
                  const std::string& ns) {
    std::string m = replace_all(dep, "name: web\n  labels", "name: " + name + "\n  labels");
    m = replace_all(m, "replicas: 2", "replicas: " + std::to_string(replicas));
    m = replace_all(m, "tier: front", "tier: " + tier + "\n    case: get");
    kc().ok("create -f - -n " + ns, m);
  };
  make("alpha", 3, "front", "get-a");
  make("bravo", 1, "back", "get-a");
  make("charlie", 2, "front", "get-a");
  make("delta", 5, "back", "get-b");

  std::string table = kc().ok("get deployments -n get-a");
  auto header = columns(lines(table).at(0));
  CHECK(header == std::vector<std::string>{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"});
  REQUIRE(lines(table).size() == 4);
  auto alpha = row(table, "alpha");
  REQUIRE(alpha.size() == 5);
  CHECK(alpha[1] == "0/3");
  CHECK(std::regex_match(alpha[4], std::regex(R"(\d+s)")));

  std::string wide = kc().ok("get deployments -n get-a -o wide");
  CHECK(columns(lines(wide).at(0)) ==
        std::vector<std::string>{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS",
                                 "IMAGES", "SELECTOR"});
  auto alpha_wide = row(wide, "alpha");
  REQUIRE(alpha_wide.size() == 8);
  CHECK(alpha_wide[5] == "web");
  CHECK(alpha_wide[6] == "nginx:1.25");
  CHECK(alpha_wide[7] == "app=web");

  std::string yaml = kc().ok("get deployment alpha -n get-a -o yaml");
  CHECK(contains(yaml, "apiVersion: apps/v1\nkind: Deployment\n"));
  CHECK(contains(yaml, "  name: alpha\n  namespace: get-a\n"));
  CHECK(!contains(yaml, "managedFields"));
  const auto list = parse_json(kc().ok("get deployments -n get-a -o json"));
  CHECK(list.string_or("kind") == "List");
  REQUIRE(list["items"].as_array().size() == 3);
  CHECK(list["items"].as_array().at(0).string_or("kind") == "Deployment");
  CHECK(list["items"].as_array().at(0)["metadata"].string_or("name") == "alpha");

  CHECK(jsonpath("deployments -n get-a", "{.items[*].metadata.name}") == "alpha bravo charlie");
  CHECK(jsonpath("deployments -n get-a",
                 "{range .items[*]}{.metadata.name}={.spec.replicas}{\"\\n\"}{end}") ==
        "alpha=3\nbravo=1\ncharlie=2\n");
  CHECK(kc().ok("get deployments -n get-a -o custom-columns=NAME:.metadata.name,"
                "REPLICAS:.spec.replicas,TIER:.metadata.labels.tier") ==
        "NAME      REPLICAS   TIER\nalpha     3          front\nbravo     1          back\n"
        "charlie   2          front\n");
  CHECK(kc().ok("get deployments -n get-a -o name") ==
        "deployment.apps/alpha\ndeployment.apps/bravo\ndeployment.apps/charlie\n");

  // -A shows the namespace of each row (taken from rows[].object.metadata).
  std::string all = kc().ok("get deployments -A -l case=get");
  CHECK(columns(lines(all).at(0)).at(0) == "NAMESPACE");
  CHECK(row(all, "delta", 1).at(0) == "get-b");
  CHECK(row(all, "alpha", 1).at(0) == "get-a");

  CHECK(kc().ok("get deployments -n get-a -l tier=front -o name") ==
        "deployment.apps/alpha\ndeployment.apps/charlie\n");
  CHECK(kc().ok("get deployments -n get-a -l 'tier!=front' -o name") == "deployment.apps/bravo\n");
  CHECK(kc().ok("get deployments -A -l 'tier in (back),case=get' -o name") ==
        "deployment.apps/bravo\ndeployment.apps/delta\n");
  CHECK(kc().ok("get deployments -n get-a -l '!tier' -o name").empty());
  CHECK(kc().ok("get deployments -n get-a --field-selector metadata.name=bravo -o name") ==
        "deployment.apps/bravo\n");
  CHECK(kc().ok("get deployments -A -l case=get --field-selector metadata.namespace=get-b -o name") ==
        "deployment.apps/delta\n");
  auto unsupported = kc().fails("get deployments -n get-a --field-selector spec.paused=true");
  CHECK(contains(unsupported, "field label not supported: spec.paused"));

  std::string labels = kc().ok("get deployments -n get-a --show-labels");
  CHECK(columns(lines(labels).at(0)).back() == "LABELS");
  CHECK(row(labels, "bravo").back() == "app=web,case=get,tier=back");
  std::string label_col = kc().ok("get deployments -n get-a -L tier");
  CHECK(columns(lines(label_col).at(0)).back() == "TIER");
  CHECK(row(label_col, "charlie").back() == "front");

  std::string sorted = kc().ok("get deployments -A -l case=get --sort-by=.spec.replicas -o name");
  CHECK(sorted ==
        "deployment.apps/bravo\ndeployment.apps/charlie\ndeployment.apps/alpha\n"
        "deployment.apps/delta\n");
  std::string sorted_table = kc().ok("get deployments -n get-a --sort-by=.spec.replicas");
  auto sorted_lines = lines(sorted_table);
  REQUIRE(sorted_lines.size() == 4);
  CHECK(columns(sorted_lines[1]).at(0) == "bravo");
  CHECK(columns(sorted_lines[3]).at(0) == "alpha");

  // Pagination: kubectl follows continue tokens.
  CHECK(kc().ok("get deployments -A -l case=get --chunk-size=1 -o name") ==
        "deployment.apps/alpha\ndeployment.apps/bravo\ndeployment.apps/charlie\n"
        "deployment.apps/delta\n");
  // Several kinds, one object of each, and a kind/name pair.
  std::string mixed = kc().ok("get deployment/charlie deployment/alpha -n get-a -o name");
  CHECK(mixed == "deployment.apps/charlie\ndeployment.apps/alpha\n");
  std::string many = kc().ok("get deployments,namespaces -o name -n get-b");
  CHECK(contains(many, "deployment.apps/delta\n"));
  CHECK(contains(many, "namespace/get-b\n"));

  auto none = kc().run("get configmaps -n get-a -l nothing=here");
  CHECK(none.status == 0);
  CHECK(none.out.empty());
  CHECK(contains(none.err, "No resources found in get-a namespace."));
  CHECK(contains(kc().fails("get deployment nope -n get-a"),
                 "Error from server (NotFound): deployments.apps \"nope\" not found"));
  CHECK(contains(kc().fails("get frobnicators"),
                 "the server doesn't have a resource type \"frobnicators\""));
  CHECK(kc().ok("get --raw /healthz") == "ok");
}

TEST_CASE("kubectl get -w prints the list, then each change as it happens", "[e2e][kubectl]") {
  const std::string ns = "watch";
  create_namespace(ns);
  kc().ok("create configmap first --from-literal=a=1 -n " + ns);
  {
    BackgroundKubectl watch(kc(), "get configmaps -n " + ns + " -w --output-watch-events");
    // The header and the listed state come first, then kubectl watches from the list's
    // resourceVersion.
    REQUIRE(watch.wait_for([](const std::string& out) { return contains(out, "first"); }));
    REQUIRE(watch.wait_for_watch());
    kc().ok("create configmap second --from-literal=a=1 --from-literal=b=2 -n " + ns);
    kc().ok("label configmap second seen=yes -n " + ns);
    kc().ok("delete configmap second -n " + ns);
    bool all = watch.wait_for([](const std::string& out) {
      return std::regex_search(out, std::regex("DELETED +second"));
    });
    INFO(watch.out() << watch.err());
    REQUIRE(all);
    auto out = lines(watch.out());
    std::vector<std::string> events;
    for (const auto& line : out) {
      auto cols = columns(line);
      if (cols.size() >= 2) {
        events.push_back(cols[0] + " " + cols[1]);
      }
    }
    // The listed object is printed as ADDED (kubectl's watch output), then the live changes.
    CHECK(events == std::vector<std::string>{"EVENT NAME", "ADDED first", "ADDED second",
                                             "MODIFIED second", "DELETED second"});
    auto added = columns(out.at(2));
    REQUIRE(added.size() >= 3);
    CHECK(added[2] == "2");  // the DATA column of the Table row
  }
  {
    // get NAME -w: the current object, then its changes only (a field-selected watch).
    // kubectl watches from resourceVersion 0 and drops the synthetic ADDED, so a change is only
    // seen once the watch is established.
    BackgroundKubectl watch(kc(), "get configmap first -n " + ns + " -w -o name");
    REQUIRE(watch.wait_for_lines(1));
    REQUIRE(watch.wait_for_watch());
    kc().ok("create configmap noise -n " + ns);
    kc().ok("annotate configmap first note=hi -n " + ns);
    REQUIRE(watch.wait_for_lines(2));
    CHECK(watch.out() == "configmap/first\nconfigmap/first\n");
  }
  {
    // A label-selected watch sees only matching objects; -o json prints full objects.
    BackgroundKubectl watch(kc(), "get configmaps -n " + ns + " -l team=a -w --watch-only -o json");
    REQUIRE(watch.wait_for_watch());
    kc().ok("create configmap other -n " + ns);
    std::string labelled = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: picked\n"
                           "  labels: {team: a}\ndata: {k: v}\n";
    kc().ok("create -f - -n " + ns, labelled);
    REQUIRE(watch.wait_for([](const std::string& out) { return contains(out, "\"picked\""); }));
    CHECK(!contains(watch.out(), "\"other\""));
    CHECK(contains(watch.out(), "\"kind\": \"ConfigMap\""));
  }
}

TEST_CASE("kubectl describe shows deployments, pods and namespaces with their events",
          "[e2e][kubectl]") {
  const std::string ns = "desc";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);
  kc().ok("create -f " + e2e_data("pod.yaml") + n);
  std::string uid = jsonpath("deployment web" + n, "{.metadata.uid}");
  std::string pod_uid = jsonpath("pod box" + n, "{.metadata.uid}");
  auto event = [&](const std::string& name, const std::string& kind, const std::string& obj,
                   const std::string& obj_uid, const std::string& type, const std::string& reason,
                   const std::string& message) {
    return "apiVersion: v1\nkind: Event\nmetadata:\n  name: " + name +
           "\ninvolvedObject:\n  kind: " + kind + "\n  name: " + obj + "\n  namespace: " + ns +
           "\n  uid: " + obj_uid + "\nreason: " + reason + "\nmessage: " + message +
           "\ntype: " + type +
           "\nsource:\n  component: e2e-test\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\n"
           "lastTimestamp: \"2026-01-01T00:00:00Z\"\ncount: 1\n";
  };
  kc().ok("create -f -" + n, event("web.1", "Deployment", "web", uid, "Normal", "ScalingReplicaSet",
                                   "Scaled up replica set web-1 to 2"));
  kc().ok("create -f -" + n, event("box.1", "Pod", "box", pod_uid, "Warning", "BackOff",
                                   "Back-off restarting failed container"));
  // Same name, other uid (an earlier object of that name): describe must not show it.
  kc().ok("create -f -" + n, event("box.old", "Pod", "box", "00000000-0000-0000-0000-000000000000",
                                   "Normal", "Ancient", "from a previous pod"));

  std::string d = kc().ok("describe deployment web" + n);
  CHECK(std::regex_search(d, std::regex("Name: +web\n")));
  CHECK(std::regex_search(d, std::regex("Namespace: +desc\n")));
  CHECK(std::regex_search(d, std::regex("Labels: +app=web\n +tier=front\n")));
  CHECK(std::regex_search(d, std::regex("Selector: +app=web\n")));
  CHECK(std::regex_search(
      d, std::regex("Replicas: +2 desired \\| 0 updated \\| 0 total \\| 0 available \\| 0 "
                    "unavailable\n")));
  CHECK(std::regex_search(d, std::regex("StrategyType: +RollingUpdate\n")));
  CHECK(std::regex_search(d, std::regex("RollingUpdateStrategy: +25% max unavailable, 25% max surge")));
  CHECK(std::regex_search(d, std::regex("Image: +nginx:1.25\n")));
  CHECK(std::regex_search(d, std::regex("MODE: +blue\n")));
  CHECK(std::regex_search(
      d, std::regex("Normal +ScalingReplicaSet +\\S+ +e2e-test +Scaled up replica set web-1 to 2")));

  std::string p = kc().ok("describe pod box" + n);
  CHECK(std::regex_search(p, std::regex("Name: +box\n")));
  CHECK(std::regex_search(p, std::regex("Status: +Pending\n")));
  CHECK(std::regex_search(p, std::regex("Image: +busybox:1.36\n")));
  CHECK(std::regex_search(p, std::regex("Command:\n +sleep\n +3600\n")));
  CHECK(std::regex_search(p, std::regex("QoS Class: +BestEffort\n")));
  CHECK(std::regex_search(
      p, std::regex("Warning +BackOff +\\S+ +e2e-test +Back-off restarting failed container")));
  CHECK(!contains(p, "Ancient"));

  kc().ok("create quota pods --hard=pods=4" + n);
  std::string nsd = kc().ok("describe namespace " + ns);
  CHECK(std::regex_search(nsd, std::regex("Name: +desc\n")));
  CHECK(std::regex_search(nsd, std::regex("Labels: +kubernetes.io/metadata.name=desc\n")));
  CHECK(std::regex_search(nsd, std::regex("Status: +Active\n")));
  CHECK(std::regex_search(nsd, std::regex("Resource Quotas\n +Name: +pods\n")));
  CHECK(contains(nsd, "No LimitRange resource."));

  // describe by label selector describes every match; a missing object is NotFound.
  kc().ok("create configmap d1 -n " + ns);
  std::string many = kc().ok("describe configmaps" + n);
  CHECK(std::regex_search(many, std::regex("Name: +d1\n")));
  CHECK(contains(kc().fails("describe deployment nope" + n),
                 "Error from server (NotFound): deployments.apps \"nope\" not found"));
}

TEST_CASE("kubectl edit applies a scripted editor's change", "[e2e][kubectl]") {
  const std::string ns = "edit";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);
  TempDir dir;
  auto editor = [&](const std::string& name, const std::string& script) {
    std::string path = dir.file(name);
    std::ofstream(path) << "#!/bin/sh\nset -e\n" << script << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return "KUBE_EDITOR=" + path;
  };
  std::string bump = editor("bump.sh",
                            "sed -i -e 's/image: nginx:1.25/image: nginx:1.27/' "
                            "-e 's/replicas: 2/replicas: 4/' \"$1\"");
  CHECK(kc().ok("edit deployment web" + n, {}, bump) == "deployment.apps/web edited\n");
  CHECK(jsonpath("deployment web" + n,
                 "{.spec.replicas} {.spec.template.spec.containers[0].image} "
                 "{.spec.template.spec.containers[0].env[0].value}") == "4 nginx:1.27 blue");
  // The edit was a strategic merge patch by field manager kubectl-edit.
  CHECK(contains(jsonpath("deployment web --show-managed-fields" + n,
                          "{.metadata.managedFields[*].manager}"),
                 "kubectl-edit"));

  std::string noop = editor("noop.sh", "true");
  auto cancelled = kc().run("edit deployment web" + n, {}, noop);
  CHECK(cancelled.status == 0);
  CHECK(contains(cancelled.text(), "Edit cancelled, no changes made."));

  // An invalid edit is refused by the server; the object stays as it was.
  std::string invalid = editor("invalid.sh", "sed -i -e 's/replicas: 4/replicas: -3/' \"$1\"");
  auto refused = kc().run("edit deployment web" + n, {}, invalid);
  INFO(refused.text());
  CHECK(refused.status == 1);
  CHECK(contains(refused.text(), "error: deployments.apps \"web\" is invalid"));
  // kubectl keeps the rejected edit with the server's causes as a comment header.
  std::smatch copy;
  REQUIRE(std::regex_search(refused.err, copy,
                            std::regex("A copy of your changes has been stored to \"([^\"]+)\"")));
  std::string saved = slurp(copy[1]);
  std::filesystem::remove(std::string(copy[1]));
  CHECK(contains(saved, "# deployments.apps \"web\" was not valid:\n"));
  CHECK(contains(saved,
                 "# * spec.replicas: Invalid value: -3: must be greater than or equal to 0\n"));
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "4");

  // Editing a ConfigMap in JSON (-o json is both the editing and the output format).
  kc().ok("create configmap plain --from-literal=k=v" + n);
  std::string json_edit = editor("json.sh", "sed -i -e 's/\"k\": \"v\"/\"k\": \"w\"/' \"$1\"");
  const auto edited = parse_json(kc().ok("edit configmap plain -o json" + n, {}, json_edit));
  CHECK(edited["data"].string_or("k") == "w");
  CHECK(jsonpath("configmap plain" + n, "{.data.k}") == "w");
}

TEST_CASE("kubectl patch with strategic, merge and JSON patches", "[e2e][kubectl]") {
  const std::string ns = "patch";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);

  // Strategic merge (the default): containers merge by name, so the env list is kept.
  CHECK(kc().ok("patch deployment web" + n +
                " -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
                "\"image\":\"nginx:1.26\"}]}}}}'") == "deployment.apps/web patched\n");
  CHECK(jsonpath("deployment web" + n,
                 "{.spec.template.spec.containers[0].image} "
                 "{.spec.template.spec.containers[0].env[0].name} {.metadata.generation}") ==
        "nginx:1.26 MODE 2");
  // Adding a second container by merge key.
  kc().ok("patch deployment web" + n +
          " -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"side\","
          "\"image\":\"busybox:1.36\"}]}}}}'");
  std::string names = jsonpath("deployment web" + n, "{.spec.template.spec.containers[*].name}");
  CHECK((names == "side web" || names == "web side"));
  // $patch: delete removes one element by key.
  kc().ok("patch deployment web" + n +
          " -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"side\","
          "\"$patch\":\"delete\"}]}}}}'");
  CHECK(jsonpath("deployment web" + n, "{.spec.template.spec.containers[*].name}") == "web");
  // The same patch again changes nothing.
  CHECK(kc().ok("patch deployment web" + n +
                " -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
                "\"image\":\"nginx:1.26\"}]}}}}'") == "deployment.apps/web patched (no change)\n");

  // JSON merge patch replaces lists wholesale and deletes keys with null.
  CHECK(kc().ok("patch deployment web" + n +
                " --type=merge -p '{\"metadata\":{\"labels\":{\"tier\":null,\"merged\":\"yes\"}},"
                "\"spec\":{\"replicas\":5}}'") == "deployment.apps/web patched\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas} {.metadata.labels}") ==
        "5 {\"app\":\"web\",\"merged\":\"yes\"}");

  // JSON patch (RFC 6902): replace, add, and a failing test operation.
  CHECK(kc().ok("patch deployment web" + n +
                " --type=json -p '[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":6},"
                "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"a\":\"b\"}}]'") ==
        "deployment.apps/web patched\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas} {.metadata.annotations.a}") == "6 b");
  auto failed = kc().run("patch deployment web" + n +
                         " --type=json -p '[{\"op\":\"test\",\"path\":\"/spec/replicas\","
                         "\"value\":1}]'");
  CHECK(failed.status == 1);
  CHECK(contains(failed.err, "The request is invalid"));
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "6");
  // Patches that break validation, or name no object, fail with the server's reason.
  CHECK(contains(kc().fails("patch deployment web" + n + " -p '{\"spec\":{\"replicas\":-1}}'"),
                 "spec.replicas: Invalid value: -1: must be greater than or equal to 0"));
  CHECK(contains(kc().fails("patch deployment nope" + n + " -p '{\"spec\":{\"replicas\":1}}'"),
                 "Error from server (NotFound): deployments.apps \"nope\" not found"));
  CHECK(contains(kc().fails("patch deployment web" + n + " --type=json -p '{\"not\":\"a list\"}'"),
                 "Error from server (BadRequest)"));
  // --dry-run=server shows the result and keeps the object.
  CHECK(kc().ok("patch deployment web" + n +
                " --dry-run=server --type=merge -p '{\"spec\":{\"replicas\":9}}' "
                "-o jsonpath='{.spec.replicas}'") == "9");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "6");
}

TEST_CASE("kubectl label and annotate add, overwrite and remove", "[e2e][kubectl]") {
  const std::string ns = "label";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create configmap one" + n);
  kc().ok("create configmap two" + n);

  CHECK(kc().ok("label configmap one colour=red" + n) == "configmap/one labeled\n");
  auto refused = kc().run("label configmap one colour=blue" + n);
  CHECK(refused.status == 1);
  CHECK(contains(refused.err, "'colour' already has a value (red), and --overwrite is false"));
  CHECK(kc().ok("label configmap one colour=blue --overwrite" + n) == "configmap/one labeled\n");
  CHECK(jsonpath("configmap one" + n, "{.metadata.labels.colour}") == "blue");
  CHECK(kc().ok("label configmap one --list" + n) == "colour=blue\n");
  CHECK(kc().ok("label configmap one colour-" + n) == "configmap/one unlabeled\n");
  CHECK(jsonpath("configmap one" + n, "{.metadata.labels}").empty());
  CHECK(contains(kc().fails("label configmap one 'bad key!=x'" + n),
                 "The ConfigMap \"one\" is invalid: metadata.labels: Invalid value: \"bad key!\": "
                 "name part must consist of alphanumeric characters"));
  // Several objects at once, with a selector.
  CHECK(kc().ok("label configmaps --all batch=1" + n) ==
        "configmap/one labeled\nconfigmap/two labeled\n");
  CHECK(kc().ok("get configmaps -l batch=1 -o name" + n) == "configmap/one\nconfigmap/two\n");
  // A label value kubectl itself rejects.
  CHECK(contains(kc().fails("label configmap one 'x=-bad-'" + n), "invalid label value: \"x=-bad-\""));

  CHECK(kc().ok("annotate configmap one note='first note'" + n) == "configmap/one annotated\n");
  CHECK(contains(kc().fails("annotate configmap one note=second" + n),
                 "--overwrite is false but found the following declared annotation(s): 'note' "
                 "already has a value (first note)"));
  CHECK(kc().ok("annotate configmap one note=second --overwrite" + n) ==
        "configmap/one annotated\n");
  CHECK(jsonpath("configmap one" + n, "{.metadata.annotations.note}") == "second");
  CHECK(kc().ok("annotate configmap one note-" + n) == "configmap/one annotated\n");
  CHECK(jsonpath("configmap one" + n, "{.metadata.annotations}").empty());
  // label/annotate with a resourceVersion precondition that is stale conflicts.
  auto stale = kc().run("label configmap one x=y --resource-version=1" + n);
  CHECK(stale.status == 1);
  CHECK(contains(stale.err, "Operation cannot be fulfilled on configmaps \"one\": the object has "
                            "been modified; please apply your changes to the latest version and "
                            "try again"));
}

TEST_CASE("kubectl scale sets replicas through the scale subresource", "[e2e][kubectl]") {
  const std::string ns = "scale";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);
  CHECK(kc().ok("scale deployment web --replicas=5" + n) == "deployment.apps/web scaled\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas} {.metadata.generation}") == "5 2");
  const auto scale = parse_json(kc().ok("get --raw /apis/apps/v1/namespaces/scale/deployments/web/scale"));
  CHECK(scale.string_or("kind") == "Scale");
  CHECK(scale.string_or("apiVersion") == "autoscaling/v1");
  CHECK(scale["spec"]["replicas"].as_int() == 5);
  CHECK(scale["status"].string_or("selector") == "app=web");
  // --current-replicas is a precondition kubectl checks.
  CHECK(contains(kc().fails("scale deployment web --current-replicas=2 --replicas=1" + n),
                 "Expected replicas to be 2, was 5"));
  CHECK(kc().ok("scale deployment web --current-replicas=5 --replicas=0" + n) ==
        "deployment.apps/web scaled\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "0");
  // get --subresource: status prints like the object, scale has its own columns.
  kc().ok("scale deployment web --replicas=4" + n);
  std::string status_table = kc().ok("get deployment web --subresource=status" + n);
  CHECK(columns(lines(status_table).at(0)) ==
        std::vector<std::string>{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"});
  CHECK(row(status_table, "web").at(1) == "0/4");
  std::string scale_table = kc().ok("get deployment web --subresource=scale" + n);
  CHECK(columns(lines(scale_table).at(0)) ==
        std::vector<std::string>{"NAME", "DESIRED", "AVAILABLE", "AGE"});
  auto scale_row = row(scale_table, "web");
  REQUIRE(scale_row.size() == 4);
  CHECK(scale_row[1] == "4");
  CHECK(scale_row[2] == "0");
  // Other scalable kinds, and a kind without a scale subresource.
  kc().ok("create -f -" + n,
          replace_all(replace_all(slurp(e2e_data("deployment.yaml")), "kind: Deployment",
                                  "kind: StatefulSet"),
                      "spec:\n  replicas", "spec:\n  serviceName: web\n  replicas"));
  CHECK(kc().ok("scale statefulset web --replicas=3" + n) == "statefulset.apps/web scaled\n");
  CHECK(jsonpath("statefulset web" + n, "{.spec.replicas}") == "3");
  kc().ok("create configmap unscalable" + n);
  CHECK(kc().run("scale configmap unscalable --replicas=2" + n).status != 0);
  CHECK(contains(kc().fails("scale deployment --replicas=-1 web" + n),
                 "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to "
                 "0"));
}

TEST_CASE("kubectl replace writes the whole object and a stale resourceVersion conflicts",
          "[e2e][kubectl]") {
  const std::string ns = "replace";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);
  std::string live = kc().ok("get deployment web -o yaml" + n);
  std::string edited = replace_all(live, "replicas: 2", "replicas: 7");
  REQUIRE(edited != live);
  CHECK(kc().ok("replace -f -", edited) == "deployment.apps/web replaced\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "7");
  // The same file again carries the old resourceVersion.
  auto stale = kc().run("replace -f -", edited);
  CHECK(stale.status == 1);
  CHECK(contains(stale.err,
                 "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be "
                 "fulfilled on deployments.apps \"web\": the object has been modified; please apply "
                 "your changes to the latest version and try again"));
  // Without a resourceVersion the replace is unconditional.
  std::string manifest = replace_all(slurp(e2e_data("deployment.yaml")), "replicas: 2", "replicas: 1");
  CHECK(kc().ok("replace -f -" + n, manifest) == "deployment.apps/web replaced\n");
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas} {.metadata.labels.tier}") == "1 front");
  // --force deletes and re-creates: a new uid.
  std::string uid = jsonpath("deployment web" + n, "{.metadata.uid}");
  auto forced = kc().ok("replace --force -f -" + n, manifest);
  CHECK(contains(forced, "deployment.apps \"web\" deleted"));
  CHECK(contains(forced, "deployment.apps/web replaced"));
  CHECK(jsonpath("deployment web" + n, "{.metadata.uid}") != uid);
  // Replacing something that does not exist is NotFound.
  CHECK(contains(kc().fails("replace -f -" + n,
                            replace_all(manifest, "name: web\n  labels", "name: ghost\n  labels")),
                 "Error from server (NotFound): error when replacing \"STDIN\": "
                 "deployments.apps \"ghost\" not found"));
}

TEST_CASE("kubectl diff exits 0 when nothing would change and 1 when something would",
          "[e2e][kubectl]") {
  const std::string ns = "diff";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  const std::string manifest = slurp(e2e_data("deployment.yaml"));
  kc().ok("apply -f -" + n, manifest);

  auto same = kc().run("diff -f -" + n, manifest);
  INFO(same.text());
  CHECK(same.status == 0);
  CHECK(same.out.empty());

  auto changed = kc().run("diff -f -" + n, replace_all(manifest, "replicas: 2", "replicas: 3"));
  INFO(changed.text());
  CHECK(changed.status == 1);
  CHECK(contains(changed.out, "-  replicas: 2\n"));
  CHECK(contains(changed.out, "+  replicas: 3\n"));
  // The server's generation bump on a spec change shows up too (diff is a server-side dry run).
  CHECK(contains(changed.out, "-  generation: 1\n"));
  CHECK(contains(changed.out, "+  generation: 2\n"));
  // Nothing was persisted.
  CHECK(jsonpath("deployment web" + n, "{.spec.replicas}") == "2");

  auto created = kc().run("diff -f -" + n,
                          replace_all(manifest, "name: web\n  labels", "name: fresh\n  labels"));
  CHECK(created.status == 1);
  CHECK(contains(created.out, "+  name: fresh\n"));
  CHECK(contains(kc().fails("get deployment fresh" + n), "NotFound"));

  auto ssa = kc().run("diff --server-side -f -" + n,
                      replace_all(manifest, "nginx:1.25", "nginx:1.28"));
  CHECK(ssa.status == 1);
  CHECK(contains(ssa.out, "+        image: nginx:1.28\n"));
}

TEST_CASE("kubectl delete waits until the objects are gone", "[e2e][kubectl]") {
  const std::string ns = "delete";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("deployment.yaml") + n);
  CHECK(kc().ok("delete deployment web" + n) == "deployment.apps \"web\" deleted\n");
  CHECK(contains(kc().fails("get deployment web" + n), "NotFound"));

  kc().ok("create -f " + e2e_data("multi.yaml") + n);
  CHECK(kc().ok("delete -f " + e2e_data("multi.yaml") + n) ==
        "configmap \"multi-a\" deleted\nservice \"multi-svc\" deleted\n");
  CHECK(kc().ok("get configmaps,services -o name" + n).empty());

  for (const char* name : {"c1", "c2", "c3"}) {
    kc().ok(std::string("create configmap ") + name + n);
  }
  kc().ok("label configmap c3 keep=yes" + n);
  CHECK(kc().ok("delete configmaps -l '!keep'" + n) ==
        "configmap \"c1\" deleted\nconfigmap \"c2\" deleted\n");
  CHECK(kc().ok("get configmaps -o name" + n) == "configmap/c3\n");
  CHECK(kc().ok("delete configmaps --all" + n) == "configmap \"c3\" deleted\n");
  CHECK(kc().ok("get configmaps -o name" + n).empty());

  // A pod that is on no node goes at once; one bound to a node waits for its kubelet (graceful
  // deletion) until it is force-deleted.
  kc().ok("create -f " + e2e_data("pod.yaml") + n);
  CHECK(kc().ok("delete pod box" + n) == "pod \"box\" deleted\n");
  CHECK(contains(kc().fails("get pod box" + n), "NotFound"));
  std::string bound = replace_all(slurp(e2e_data("pod.yaml")), "spec:\n", "spec:\n  nodeName: far-away\n");
  kc().ok("create -f -" + n, bound);
  CHECK(kc().ok("delete pod box --wait=false" + n) == "pod \"box\" deleted\n");
  CHECK(jsonpath("pod box" + n, "{.metadata.deletionGracePeriodSeconds}") == "30");
  CHECK(!jsonpath("pod box" + n, "{.metadata.deletionTimestamp}").empty());
  auto forced = kc().run("delete pod box --grace-period=0 --force" + n);
  CHECK(forced.status == 0);
  CHECK(contains(forced.out, "pod \"box\" force deleted"));
  CHECK(contains(kc().fails("get pod box" + n), "NotFound"));

  // An object with a finalizer is only marked; releasing the finalizer completes the deletion
  // (and the marked object gained no fields: no warning on the release).
  kc().ok("create -f -" + n, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n"
                             "  finalizers: [e2e.skiff.dev/hold]\n");
  CHECK(kc().ok("delete configmap held --wait=false" + n) == "configmap \"held\" deleted\n");
  CHECK(!jsonpath("configmap held" + n, "{.metadata.deletionTimestamp}").empty());
  CHECK(!contains(kc().ok("get configmap held -o json" + n), "\"spec\""));
  auto released = kc().run("patch configmap held --type=json "
                           "-p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'" + n);
  CHECK(released.status == 0);
  CHECK(released.out == "configmap/held patched\n");
  CHECK(released.err.empty());
  CHECK(contains(kc().fails("get configmap held" + n), "NotFound"));

  auto missing = kc().run("delete configmap ghost" + n);
  CHECK(missing.status == 1);
  CHECK(contains(missing.err, "Error from server (NotFound): configmaps \"ghost\" not found"));
  CHECK(kc().run("delete configmap ghost --ignore-not-found" + n).status == 0);
  // --dry-run=server keeps the object.
  kc().ok("create configmap kept" + n);
  CHECK(kc().ok("delete configmap kept --dry-run=server" + n) ==
        "configmap \"kept\" deleted (server dry run)\n");
  CHECK(kc().ok("get configmap kept -o name" + n) == "configmap/kept\n");
}

TEST_CASE("kubectl explain shows built-in fields, nested fields and errors", "[e2e][kubectl]") {
  std::string deploy = kc().ok("explain deployments");
  CHECK(std::regex_search(deploy, std::regex("GROUP: +apps\n")));
  CHECK(std::regex_search(deploy, std::regex("KIND: +Deployment\n")));
  CHECK(std::regex_search(deploy, std::regex("VERSION: +v1\n")));
  CHECK(std::regex_search(deploy, std::regex("\n  spec\t<DeploymentSpec>\n")));
  CHECK(std::regex_search(deploy, std::regex("\n  status\t<DeploymentStatus>\n")));
  std::string port =
      kc().ok("explain deployment.spec.template.spec.containers.ports.containerPort");
  CHECK(std::regex_search(port, std::regex("KIND: +Deployment\n")));
  CHECK(std::regex_search(port, std::regex("FIELD: +containerPort <integer>\n")));
  std::string containers = kc().ok("explain pods.spec.containers");
  CHECK(std::regex_search(containers, std::regex("FIELD: +containers <\\[\\]Container>\n")));
  CHECK(std::regex_search(containers, std::regex("\n  name\t<string> -required-\n")));
  CHECK(std::regex_search(containers, std::regex("\n  image\t<string>\n")));
  std::string strategy = kc().ok("explain deployment.spec.strategy.type");
  CHECK(contains(strategy, "Recreate"));
  CHECK(contains(strategy, "RollingUpdate"));
  std::string recursive = kc().ok("explain services.spec --recursive");
  CHECK(std::regex_search(recursive, std::regex("\n    targetPort\t<IntOrString>\n")));
  std::string cm = kc().ok("explain configmap --api-version=v1");
  CHECK(std::regex_search(cm, std::regex("\n  data\t<map\\[string\\]string>\n")));
  CHECK(contains(kc().fails("explain deployments.spec.nosuch"),
                 "field \"nosuch\" does not exist"));
  CHECK(contains(kc().fails("explain frobnicators"),
                 "the server doesn't have a resource type \"frobnicators\""));
}

TEST_CASE("a CustomResourceDefinition and its objects through kubectl", "[e2e][kubectl][crd]") {
  const std::string ns = "crd";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  CHECK(kc().ok("apply -f " + e2e_data("widget-crd.yaml")) ==
        "customresourcedefinition.apiextensions.k8s.io/widgets.e2e.skiff.dev created\n");
  CHECK(kc().ok("wait --for=condition=Established crd/widgets.e2e.skiff.dev --timeout=20s") ==
        "customresourcedefinition.apiextensions.k8s.io/widgets.e2e.skiff.dev condition met\n");
  // The new kind is in discovery with its short names and category.
  std::string resources = kc().ok("api-resources --api-group=e2e.skiff.dev");
  CHECK(row(resources, "widgets") ==
        std::vector<std::string>{"widgets", "wd,wdg", "e2e.skiff.dev/v1", "true", "Widget"});
  CHECK(contains(kc().ok("api-versions"), "e2e.skiff.dev/v1\n"));
  std::string crds = kc().ok("get crd");
  CHECK(row(crds, "widgets.e2e.skiff.dev").size() == 2);

  const std::string widget = slurp(e2e_data("widget.yaml"));
  CHECK(kc().ok("apply -f -" + n, widget) == "widget.e2e.skiff.dev/w1 created\n");
  CHECK(kc().ok("apply -f -" + n, widget) == "widget.e2e.skiff.dev/w1 unchanged\n");
  // Printer columns (the priority-1 column only with -o wide), the schema default, short names.
  std::string table = kc().ok("get wd" + n);
  CHECK(columns(lines(table).at(0)) ==
        std::vector<std::string>{"NAME", "SIZE", "REPLICAS", "PHASE", "AGE"});
  auto w1 = row(table, "w1");
  REQUIRE(w1.size() == 4);  // PHASE is empty
  CHECK(w1[1] == "small");
  CHECK(w1[2] == "1");
  std::string wide = kc().ok("get widgets -o wide" + n);
  CHECK(columns(lines(wide).at(0)) ==
        std::vector<std::string>{"NAME", "SIZE", "REPLICAS", "PHASE", "BOLT", "AGE"});
  CHECK(row(wide, "w1").at(3) == "m4");
  CHECK(kc().ok("get wdg -o name" + n) == "widget.e2e.skiff.dev/w1\n");
  CHECK(kc().ok("get widget.e2e.skiff.dev/w1 -o name" + n) == "widget.e2e.skiff.dev/w1\n");
  CHECK(contains(kc().ok("get all" + n), "widget.e2e.skiff.dev/w1"));
  CHECK(kc().ok("get wd -A -l colour=red -o name") == "widget.e2e.skiff.dev/w1\n");
  CHECK(kc().ok("get wd --field-selector metadata.name=w1 -o name" + n) ==
        "widget.e2e.skiff.dev/w1\n");

  // The schema validates: an enum violation and an unknown field.
  auto invalid = kc().run("apply -f -" + n, replace_all(widget, "replicas: 1", "replicas: 1\n  size: huge"));
  CHECK(invalid.status == 1);
  CHECK(contains(invalid.err, "spec.size: Unsupported value: \"huge\": supported values: "
                              "\"small\", \"large\""));
  CHECK(contains(kc().fails("apply -f -" + n, replace_all(widget, "bolt: m4", "bolt: m4\n    nut: m5")),
                 "unknown field \"spec.parts.nut\""));

  // Client-side apply with a change, then the status subresource and the scale subresource.
  CHECK(kc().ok("apply -f -" + n, replace_all(widget, "bolt: m4", "bolt: m6")) ==
        "widget.e2e.skiff.dev/w1 configured\n");
  CHECK(kc().ok("patch wd w1 --subresource=status --type=merge "
                "-p '{\"status\":{\"phase\":\"Ready\",\"replicas\":1,\"selector\":\"app=w1\"}}'" +
                n) == "widget.e2e.skiff.dev/w1 patched\n");
  // Status is ignored on the main resource and spec on the status subresource.
  kc().ok("patch wd w1 --type=merge -p '{\"status\":{\"phase\":\"Hacked\"}}'" + n);
  kc().ok("patch wd w1 --subresource=status --type=merge -p '{\"spec\":{\"replicas\":9}}'" + n);
  CHECK(jsonpath("wd w1" + n, "{.status.phase} {.spec.replicas} {.metadata.generation}") ==
        "Ready 1 2");
  CHECK(row(kc().ok("get wd" + n), "w1").at(3) == "Ready");
  CHECK(kc().ok("scale wd w1 --replicas=3" + n) == "widget.e2e.skiff.dev/w1 scaled\n");
  CHECK(jsonpath("wd w1" + n, "{.spec.replicas}") == "3");
  const auto scale = parse_json(
      kc().ok("get --raw /apis/e2e.skiff.dev/v1/namespaces/crd/widgets/w1/scale"));
  CHECK(scale.string_or("kind") == "Scale");
  CHECK(scale["spec"]["replicas"].as_int() == 3);
  CHECK(scale["status"]["replicas"].as_int() == 1);
  CHECK(scale["status"].string_or("selector") == "app=w1");

  // Patches: merge and JSON (strategic merge is not defined for custom resources).
  CHECK(kc().ok("patch wd w1 --type=merge -p '{\"spec\":{\"size\":\"large\"}}'" + n) ==
        "widget.e2e.skiff.dev/w1 patched\n");
  CHECK(kc().ok("patch wd w1 --type=json "
                "-p '[{\"op\":\"add\",\"path\":\"/spec/parts/count\",\"value\":4}]'" + n) ==
        "widget.e2e.skiff.dev/w1 patched\n");
  CHECK(jsonpath("wd w1" + n, "{.spec.size} {.spec.parts.count}") == "large 4");
  CHECK(contains(kc().fails("patch wd w1 -p '{\"spec\":{\"size\":\"small\"}}'" + n),
                 "is not supported by e2e.skiff.dev/v1, Kind=Widget"));
  // Label, annotate, edit, replace, diff.
  CHECK(kc().ok("label wd w1 colour=blue --overwrite" + n) == "widget.e2e.skiff.dev/w1 labeled\n");
  CHECK(kc().ok("annotate wd w1 note=x" + n) == "widget.e2e.skiff.dev/w1 annotated\n");
  TempDir dir;
  std::string ed = dir.file("ed.sh");
  std::ofstream(ed) << "#!/bin/sh\nsed -i -e 's/bolt: m6/bolt: m8/' \"$1\"\n";
  std::filesystem::permissions(ed, std::filesystem::perms::owner_all);
  CHECK(kc().ok("edit wd w1" + n, {}, "KUBE_EDITOR=" + ed) == "widget.e2e.skiff.dev/w1 edited\n");
  CHECK(jsonpath("wd w1" + n, "{.spec.parts.bolt} {.metadata.labels.colour}") == "m8 blue");
  std::string live = kc().ok("get wd w1 -o yaml" + n);
  CHECK(kc().ok("replace -f -", replace_all(live, "count: 4", "count: 5")) ==
        "widget.e2e.skiff.dev/w1 replaced\n");
  CHECK(contains(kc().fails("replace -f -", replace_all(live, "count: 4", "count: 6")),
                 "Operation cannot be fulfilled on widgets.e2e.skiff.dev \"w1\": the object has "
                 "been modified"));
  std::string current = kc().ok("get wd w1 -o yaml" + n);
  CHECK(kc().run("diff -f -", current).status == 0);
  CHECK(kc().run("diff -f -", replace_all(current, "count: 5", "count: 7")).status == 1);
  CHECK(kc().ok("apply --server-side --force-conflicts -f -" + n,
                replace_all(widget, "name: w1", "name: w2")) ==
        "widget.e2e.skiff.dev/w2 serverside-applied\n");

  // explain reads the CRD's schema, nested fields included.
  std::string ex = kc().ok("explain widgets.spec.parts");
  CHECK(std::regex_search(ex, std::regex("GROUP: +e2e.skiff.dev\n")));
  CHECK(std::regex_search(ex, std::regex("KIND: +Widget\n")));
  CHECK(std::regex_search(ex, std::regex("FIELD: +parts <Object>\n")));
  CHECK(contains(ex, "The parts the widget is made of."));
  CHECK(std::regex_search(ex, std::regex("\n  bolt\t<string>\n +The bolt size, e.g. m4.\n")));
  CHECK(contains(kc().ok("explain widget"), "A widget built by the e2e tests."));

  // A watch on the custom resource sees the deletion; deleting the CRD deletes the objects.
  CHECK(kc().ok("delete wd w2" + n) == "widget.e2e.skiff.dev \"w2\" deleted\n");
  CHECK(kc().ok("get wd -o name" + n) == "widget.e2e.skiff.dev/w1\n");
  CHECK(kc().ok("delete -f " + e2e_data("widget-crd.yaml")) ==
        "customresourcedefinition.apiextensions.k8s.io \"widgets.e2e.skiff.dev\" deleted\n");
  CHECK(contains(kc().fails("get wd" + n), "the server doesn't have a resource type \"wd\""));
  kc().ok("apply -f " + e2e_data("widget-crd.yaml"));
  kc().ok("wait --for=condition=Established crd/widgets.e2e.skiff.dev --timeout=20s");
  auto empty = kc().run("get widgets -A");
  CHECK(empty.status == 0);
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "No resources found"));
  kc().ok("delete crd widgets.e2e.skiff.dev");

  // A CRD with a deprecated version: every request to it is warned about, the other is not, and
  // both versions read the same objects.
  const std::string gizmos =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
      "metadata: {name: gizmos.e2e.skiff.dev}\n"
      "spec:\n  group: e2e.skiff.dev\n  scope: Namespaced\n"
      "  names: {plural: gizmos, singular: gizmo, kind: Gizmo}\n  versions:\n"
      "  - name: v1beta1\n    served: true\n    storage: false\n    deprecated: true\n"
      "    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
      "  - name: v1\n    served: true\n    storage: true\n"
      "    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";
  kc().ok("apply -f -", gizmos);
  kc().ok("wait --for=condition=Established crd/gizmos.e2e.skiff.dev --timeout=20s");
  auto old_version = kc().run("apply -f -" + n, "apiVersion: e2e.skiff.dev/v1beta1\nkind: Gizmo\n"
                                                "metadata: {name: g1}\nspec: {x: 1}\n");
  CHECK(old_version.status == 0);
  CHECK(old_version.out == "gizmo.e2e.skiff.dev/g1 created\n");
  const std::string warning =
      "Warning: e2e.skiff.dev/v1beta1 Gizmo is deprecated; use e2e.skiff.dev/v1 Gizmo\n";
  CHECK(contains(old_version.err, warning));
  auto read_old = kc().run("get gizmos.v1beta1.e2e.skiff.dev g1 -o jsonpath='{.apiVersion}'" + n);
  CHECK(read_old.out == "e2e.skiff.dev/v1beta1");
  CHECK(contains(read_old.err, warning));
  auto read_new = kc().run("get gizmos.v1.e2e.skiff.dev g1 -o jsonpath='{.apiVersion} {.spec.x}'" + n);
  CHECK(read_new.out == "e2e.skiff.dev/v1 1");
  CHECK(read_new.err.empty());
  kc().ok("delete crd gizmos.e2e.skiff.dev");
}

TEST_CASE("kubectl auth can-i, auth whoami, create token and certificate approve",
          "[e2e][kubectl]") {
  const std::string ns = "auth";
  create_namespace(ns);
  auto yes = kc().run("auth can-i create deployments -n " + ns);
  CHECK(yes.status == 0);
  CHECK(yes.out == "yes\n");
  CHECK(kc().ok("auth can-i '*' '*' --all-namespaces") == "yes\n");
  CHECK(kc().ok("auth can-i get pods/log") == "yes\n");
  std::string list = kc().ok("auth can-i --list -n " + ns);
  CHECK(columns(lines(list).at(0)) ==
        std::vector<std::string>{"Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"});
  CHECK(contains(list, "*.*"));

  std::string who = kc().ok("auth whoami");
  CHECK(std::regex_search(who, std::regex("Username +system:admin\n")));
  CHECK(std::regex_search(who, std::regex("Groups +\\[system:masters system:authenticated\\]\n")));
  const auto whoj = parse_json(kc().ok("auth whoami -o json"));
  CHECK(whoj.string_or("kind") == "SelfSubjectReview");
  CHECK(whoj["status"]["userInfo"].string_or("username") == "system:admin");

  kc().ok("create serviceaccount robot -n " + ns);
  std::string token = kc().ok("create token robot --audience=e2e --duration=15m -n " + ns);
  while (!token.empty() && token.back() == '\n') {
    token.pop_back();
  }
  auto parts = std::vector<std::string>{};
  for (std::size_t start = 0;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  REQUIRE(parts.size() == 3);
  auto payload = skiff::base64::decode_url(parts[1]);
  REQUIRE(payload);
  const auto claims = parse_json(*payload);
  CHECK(claims.string_or("sub") == "system:serviceaccount:auth:robot");
  CHECK(claims["aud"].as_array().at(0).as_string() == "e2e");
  CHECK(claims["exp"].as_int() - claims["iat"].as_int() == 15 * 60);
  CHECK(contains(kc().fails("create token ghost -n " + ns),
                 "error: failed to create token: serviceaccounts \"ghost\" not found"));

  // A CertificateSigningRequest names its requester; kubectl certificate approve goes through the
  // /approval subresource.
  TempDir dir;
  std::string ignored;
  if (skiff::testing::run_command("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                                  "-nodes -subj /CN=alice/O=dev -keyout " + dir.file("alice.key") +
                                  " -out " + dir.file("alice.csr") + " 2>&1",
                                  &ignored) != 0) {
    WARN("openssl cannot make a CSR: skipping the CertificateSigningRequest checks\n" << ignored);
    return;
  }
  kc().ok("create -f -",
          "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\n"
          "metadata: {name: alice}\nspec:\n  request: " +
              skiff::base64::encode(slurp(dir.file("alice.csr"))) +
              "\n  signerName: kubernetes.io/kube-apiserver-client\n  usages: [client auth]\n"
              "  expirationSeconds: 3600\n  username: forged\n");
  std::string csrs = kc().ok("get csr");
  CHECK(columns(lines(csrs).at(0)) ==
        std::vector<std::string>{"NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION",
                                 "CONDITION"});
  auto alice = row(csrs, "alice");
  REQUIRE(alice.size() == 6);
  CHECK(alice[2] == "kubernetes.io/kube-apiserver-client");
  CHECK(alice[3] == "system:admin");
  CHECK(alice[4] == "60m");
  CHECK(alice[5] == "Pending");
  CHECK(kc().ok("certificate approve alice") ==
        "certificatesigningrequest.certificates.k8s.io/alice approved\n");
  CHECK(row(kc().ok("get csr alice"), "alice").at(5) == "Approved");
  CHECK(jsonpath("csr alice", "{.status.conditions[0].reason} {.spec.username}") ==
        "KubectlApprove system:admin");
  CHECK(contains(kc().fails("certificate deny alice"),
                 "certificate signing request \"alice\" is already Approved"));
  kc().ok("delete csr alice");
}

TEST_CASE("kubectl cordon and uncordon a node", "[e2e][kubectl]") {
  CHECK(kc().ok("create -f " + e2e_data("node.yaml")) == "node/e2e-node created\n");
  CHECK(kc().ok("cordon e2e-node") == "node/e2e-node cordoned\n");
  CHECK(jsonpath("node e2e-node", "{.spec.unschedulable}") == "true");
  CHECK(contains(row(kc().ok("get nodes"), "e2e-node").at(1), "SchedulingDisabled"));
  CHECK(kc().ok("cordon e2e-node") == "node/e2e-node already cordoned\n");
  CHECK(kc().ok("uncordon e2e-node") == "node/e2e-node uncordoned\n");
  CHECK(jsonpath("node e2e-node", "{.spec.unschedulable}").empty());
  CHECK(kc().ok("uncordon e2e-node") == "node/e2e-node already uncordoned\n");
  CHECK(!contains(row(kc().ok("get nodes"), "e2e-node").at(1), "SchedulingDisabled"));
  CHECK(contains(kc().fails("cordon ghost-node"), "nodes \"ghost-node\" not found"));
  kc().ok("delete node e2e-node");
}

TEST_CASE("kubectl get events lists events and filters them by field", "[e2e][kubectl]") {
  const std::string ns = "events";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  kc().ok("create -f " + e2e_data("pod.yaml") + n);
  std::string uid = jsonpath("pod box" + n, "{.metadata.uid}");
  auto event = [&](const std::string& name, const std::string& type, const std::string& reason,
                   const std::string& when) {
    return "apiVersion: v1\nkind: Event\nmetadata:\n  name: " + name +
           "\ninvolvedObject:\n  apiVersion: v1\n  kind: Pod\n  name: box\n  namespace: " + ns +
           "\n  uid: " + uid +
           "\nreason: " + reason + "\nmessage: " + reason + " happened\ntype: " + type +
           "\nsource:\n  component: kubelet\n  host: node-1\nfirstTimestamp: \"" + when +
           "\"\nlastTimestamp: \"" + when + "\"\ncount: 2\n";
  };
  kc().ok("create -f -" + n, event("box.a", "Normal", "Pulled", "2026-01-01T00:00:00Z"));
  kc().ok("create -f -" + n, event("box.b", "Warning", "Failed", "2026-01-02T00:00:00Z"));
  std::string table = kc().ok("get events" + n);
  CHECK(columns(lines(table).at(0)) ==
        std::vector<std::string>{"LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"});
  CHECK(std::regex_search(table, std::regex("Warning +Failed +pod/box +Failed happened\n")));
  CHECK(std::regex_search(table, std::regex("Normal +Pulled +pod/box +Pulled happened\n")));
  CHECK(kc().ok("get events --field-selector type=Warning -o name" + n) == "event/box.b\n");
  CHECK(kc().ok("get events --field-selector involvedObject.name=box,reason=Pulled -o name" + n) ==
        "event/box.a\n");
  CHECK(kc().ok("get events --field-selector involvedObject.kind=Pod,involvedObject.uid=" + uid +
                " -o name" + n) == "event/box.a\nevent/box.b\n");
  CHECK(kc().ok("get events --sort-by=.lastTimestamp -o name" + n) == "event/box.a\nevent/box.b\n");
  std::string wide = kc().ok("get events -o wide" + n);
  CHECK(std::regex_search(wide, std::regex("kubelet, node-1")));
  // kubectl events (the newer command) reads the same list.
  std::string events = kc().ok("events --for pod/box" + n);
  CHECK(contains(events, "Failed happened"));
  CHECK(contains(events, "Pulled happened"));
  std::string described = kc().ok("describe pod box" + n);
  CHECK(std::regex_search(described, std::regex("Warning +Failed +\\S+ \\(x2 over \\S+\\) +kubelet +Failed happened")));
}

TEST_CASE("a list over 1 MiB streams in pieces, gzip'd when asked, and reads back whole",
          "[e2e][kubectl]") {
  const std::string ns = "biglist";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  // 24 ConfigMaps of 64 KiB: 1.5 MiB of stored text, past the server's 1 MiB streaming threshold.
  auto blob = [](int i) {
    std::string v;
    for (int j = 0; v.size() < 64 * 1024; ++j) {
      v += "v" + std::to_string(i) + "-" + std::to_string(j * 7919 % 100003) + ".";
    }
    return v;
  };
  std::string yaml;
  for (int i = 0; i < 24; ++i) {
    yaml += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big-" + std::to_string(i) +
            "\ndata:\n  blob: " + blob(i) + "\n";
  }
  kc().ok("create -f -" + n, yaml);

  // What kubectl reads (it offers gzip on every request): every object, whole.
  auto by_name = [](const skiff::json::Value& list) {
    std::map<std::string, std::pair<std::string, std::string>> out;  // name -> (rv, blob)
    for (const auto& item : list["items"].as_array()) {
      std::string name(item["metadata"]["name"].as_string());
      if (name.starts_with("big-")) {
        out[name] = {std::string(item["metadata"]["resourceVersion"].as_string()),
                     std::string(item["data"]["blob"].as_string())};
      }
    }
    return out;
  };
  auto listed = by_name(parse_json(kc().ok("get cm -o json" + n)));
  REQUIRE(listed.size() == 24);
  for (int i = 0; i < 24; ++i) {
    CHECK(listed["big-" + std::to_string(i)].second == blob(i));
  }
  auto raw = parse_json(kc().ok("get --raw /api/v1/namespaces/" + ns + "/configmaps"));
  CHECK(raw["kind"] == skiff::json::Value("ConfigMapList"));
  CHECK(!raw["metadata"]["resourceVersion"].as_string().empty());
  CHECK(by_name(raw) == listed);

  // On the wire: chunked, and gzip only for a client that accepts it.
  const Cluster& c = cluster();
  const std::string tls = c.server.data_dir() + "/server/tls/";
  TempDir scratch;
  auto curl = [&](const std::string& extra) {
    std::string ignored;
    const std::string cmd = "curl -sS --max-time 30 --cacert " + tls + "server-ca.crt --cert " +
                            tls + "client-admin.crt --key " + tls + "client-admin.key -D " +
                            scratch.file("headers") + " -o " + scratch.file("body") + " " + extra +
                            " '" + c.server.url() + "/api/v1/namespaces/" + ns + "/configmaps'";
    REQUIRE(skiff::testing::run_command(cmd, &ignored) == 0);
    return std::pair{slurp(scratch.file("headers")), slurp(scratch.file("body"))};
  };
  auto has = [](const std::string& headers, const std::string& field) {
    return std::regex_search(headers, std::regex("(^|\n)" + field + "\r?\n", std::regex::icase));
  };
  auto [gz_headers, gz_body] = curl("--compressed");
  CHECK(has(gz_headers, "Transfer-Encoding: chunked"));
  CHECK(has(gz_headers, "Content-Encoding: gzip"));
  CHECK(by_name(parse_json(gz_body)) == listed);
  auto [plain_headers, plain_body] = curl("");
  CHECK(has(plain_headers, "Transfer-Encoding: chunked"));
  CHECK(!contains(plain_headers, "gzip"));
  CHECK(by_name(parse_json(plain_body)) == listed);
}

TEST_CASE("a CRD's x-kubernetes-validations rules are enforced on create and update",
          "[e2e][kubectl][crd][cel]") {
  const std::string ns = "celrules";
  create_namespace(ns);
  const std::string n = " -n " + ns;
  const std::string crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.e2e.skiff.dev
spec:
  group: e2e.skiff.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
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
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.replicas
              message: minReplicas must not exceed replicas
            - rule: self.tier == oldSelf.tier
              message: tier is immutable
            properties:
              replicas: {type: integer}
              minReplicas: {type: integer}
              tier: {type: string}
)";
  CHECK(kc().ok("apply -f -", crd) ==
        "customresourcedefinition.apiextensions.k8s.io/gadgets.e2e.skiff.dev created\n");
  kc().ok("wait --for=condition=Established crd/gadgets.e2e.skiff.dev --timeout=20s");
  auto gadget = [](int replicas, int min, const std::string& tier) {
    return "apiVersion: e2e.skiff.dev/v1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n"
           "  replicas: " + std::to_string(replicas) + "\n  minReplicas: " + std::to_string(min) +
           "\n  tier: " + tier + "\n";
  };
  std::string refused = kc().fails("apply -f -" + n, gadget(1, 2, "gold"));
  CHECK(contains(refused, R"("g1" is invalid: spec: Invalid value: "object": minReplicas must )"
                          "not exceed replicas"));
  CHECK(kc().ok("apply -f -" + n, gadget(3, 2, "gold")) == "gadget.e2e.skiff.dev/g1 created\n");
  // The transition rule compares with the stored object.
  CHECK(contains(kc().fails("apply -f -" + n, gadget(3, 2, "silver")), "tier is immutable"));
  CHECK(kc().ok("apply -f -" + n, gadget(4, 2, "gold")) == "gadget.e2e.skiff.dev/g1 configured\n");
  // A rule that does not compile keeps the CRD out.
  std::string bad = replace_all(replace_all(crd, "gadgets", "widgetz"), "Gadget", "Widgetz");
  bad = replace_all(bad, "gadget", "widgetz");
  bad = replace_all(bad, "self.tier == oldSelf.tier", "self.tier ==");
  std::string rejected = kc().fails("apply -f -", bad);
  CHECK(contains(rejected, "x-kubernetes-validations[1].rule: Invalid value: "));
  CHECK(contains(rejected, "compilation failed: ERROR: <input>:1:"));
  kc().ok("delete crd gadgets.e2e.skiff.dev");
}
