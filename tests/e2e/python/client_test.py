# SPDX-License-Identifier: Apache-2.0
"""Debian's python3-kubernetes client against a running `skiff server`.

Usage: client_test.py KUBECONFIG

Loads the kubeconfig the server wrote, then drives ConfigMaps and a Deployment through the client
library: create, list (with pagination), watch from the list's resourceVersion, strategic-merge,
merge and JSON patches, replace, delete, and the ApiException statuses of a 404 and two 409s.
Prints one line per check and exits non-zero (with a traceback) on the first failure.
"""

import json
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "python"


def check(what, cond, detail=""):
    if not cond:
        raise AssertionError(f"{what}: {detail}")
    print(f"ok - {what}")


def expect_api_error(what, status, reason, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        body = json.loads(e.body)
        check(f"{what}: status {status}", e.status == status, f"got {e.status}: {e.body}")
        check(f"{what}: a Status with reason {reason}",
              body.get("kind") == "Status" and body.get("reason") == reason and
              body.get("code") == status, e.body)
        return body
    raise AssertionError(f"{what}: no ApiException")


def with_content_type(api, content_type, fn, *args, **kwargs):
    """Calls fn with the generated client's Content-Type choice overridden (the v22 client has no
    per-call content type; for a dict body it sends a strategic merge patch)."""
    original = api.api_client.select_header_content_type
    api.api_client.select_header_content_type = lambda types: content_type
    try:
        return fn(*args, **kwargs)
    finally:
        api.api_client.select_header_content_type = original


def configmaps(core):
    meta = client.V1ObjectMeta
    core.create_namespace(client.V1Namespace(metadata=meta(name=NS)))
    ns = core.read_namespace(NS)
    check("namespace created and defaulted", ns.status.phase == "Active", ns.status)

    for name in ("a1", "a2", "a3"):
        cm = core.create_namespaced_config_map(
            NS, client.V1ConfigMap(metadata=meta(name=name, labels={"app": "py"}),
                                   data={"k": name}))
        check(f"create {name}", cm.metadata.resource_version and cm.metadata.uid, cm.metadata)

    listed = core.list_namespaced_config_map(NS, label_selector="app=py")
    names = [c.metadata.name for c in listed.items]
    check("list with a label selector", names == ["a1", "a2", "a3"], names)
    check("list carries a resourceVersion", listed.metadata.resource_version.isdigit(),
          listed.metadata)

    page = core.list_namespaced_config_map(NS, limit=2)
    check("first page", len(page.items) == 2 and page.metadata._continue, page.metadata)
    rest = core.list_namespaced_config_map(NS, limit=2, _continue=page.metadata._continue)
    check("second page", [c.metadata.name for c in rest.items] == ["a3"] and
          not rest.metadata._continue, rest.metadata)

    # Watch from the list's resourceVersion: exactly the later changes, in order.
    events = []
    ready = threading.Event()

    def run_watch():
        w = watch.Watch()
        ready.set()
        for ev in w.stream(core.list_namespaced_config_map, NS,
                           resource_version=listed.metadata.resource_version,
                           timeout_seconds=30):
            obj = ev["object"]
            events.append((ev["type"], obj.metadata.name, dict(obj.data or {})))
            if ev["type"] == "DELETED" and obj.metadata.name == "b":
                w.stop()

    watcher = threading.Thread(target=run_watch)
    watcher.start()
    ready.wait(10)

    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta(name="b"),
                                                             data={"x": "1"}))
    # Strategic merge patch (the client's choice for a dict body).
    patched = core.patch_namespaced_config_map("b", NS, {"data": {"y": "2"}})
    check("strategic merge patch merges", patched.data == {"x": "1", "y": "2"}, patched.data)
    # JSON merge patch: null deletes a key.
    patched = with_content_type(core, "application/merge-patch+json",
                                core.patch_namespaced_config_map, "b", NS,
                                {"data": {"x": None}})
    check("merge patch deletes with null", patched.data == {"y": "2"}, patched.data)
    # JSON patch (a list body).
    patched = core.patch_namespaced_config_map(
        "b", NS, [{"op": "add", "path": "/data/z", "value": "3"}])
    check("JSON patch adds", patched.data == {"y": "2", "z": "3"}, patched.data)
    # Server-side apply through the generic client (the v22 client sends a non-JSON content type
    # only for a pre-serialized body; YAML accepts the JSON text).
    applied = with_content_type(core, "application/apply-patch+yaml",
                                core.patch_namespaced_config_map, "b", NS,
                                json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "b"}, "data": {"w": "4"}}),
                                field_manager="python")
    check("server-side apply adds its field", applied.data.get("w") == "4", applied.data)
    managers = sorted((m.manager, m.operation) for m in applied.metadata.managed_fields)
    check("managedFields name the appliers", ("python", "Apply") in managers, managers)

    current = core.read_namespaced_config_map("b", NS)
    stale_rv = current.metadata.resource_version
    current.data["v"] = "5"
    replaced = core.replace_namespaced_config_map("b", NS, current)
    check("replace bumps the resourceVersion", replaced.metadata.resource_version != stale_rv)
    current.metadata.resource_version = stale_rv
    body = expect_api_error("replace with a stale resourceVersion", 409, "Conflict",
                            core.replace_namespaced_config_map, "b", NS, current)
    check("conflict message", "the object has been modified" in body["message"], body)

    status = core.delete_namespaced_config_map("b", NS)
    check("delete answers a Success Status", status.status == "Success", status)

    watcher.join(30)
    check("watch stream ended after the DELETED event", not watcher.is_alive())
    kinds = [(t, n) for t, n, _ in events]
    check("watch events from the list's resourceVersion",
          kinds == [("ADDED", "b"), ("MODIFIED", "b"), ("MODIFIED", "b"), ("MODIFIED", "b"),
                    ("MODIFIED", "b"), ("MODIFIED", "b"), ("DELETED", "b")], kinds)
    check("watch events carry the objects", events[1][2] == {"x": "1", "y": "2"}, events)

    expect_api_error("read a missing ConfigMap", 404, "NotFound",
                     core.read_namespaced_config_map, "b", NS)
    body = expect_api_error("create a duplicate", 409, "AlreadyExists",
                            core.create_namespaced_config_map, NS,
                            client.V1ConfigMap(metadata=meta(name="a1")))
    check("AlreadyExists details", body["details"] == {"name": "a1", "kind": "configmaps"},
          body)
    body = expect_api_error("create with an invalid name", 422, "Invalid",
                            core.create_namespaced_config_map, NS,
                            client.V1ConfigMap(metadata=meta(name="Not_Valid")))
    check("Invalid causes name the field",
          body["details"]["causes"][0]["field"] == "metadata.name", body)
    expect_api_error("a namespace that does not exist", 404, "NotFound",
                     core.create_namespaced_config_map, "no-such-ns",
                     client.V1ConfigMap(metadata=meta(name="x")))

    core.delete_collection_namespaced_config_map(NS, label_selector="app=py")
    left = core.list_namespaced_config_map(NS, label_selector="app=py")
    check("deletecollection removed the selection", left.items == [], left.items)


def deployment(apps):
    container = client.V1Container(name="web", image="nginx:1.25",
                                   ports=[client.V1ContainerPort(container_port=80)])
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[container]))))
    # An AppsV1Api watch from the (empty) list's resourceVersion sees this deployment's life.
    before = apps.list_namespaced_deployment(NS)
    dep_events = []

    def run_watch():
        w = watch.Watch()
        for ev in w.stream(apps.list_namespaced_deployment, NS,
                           resource_version=before.metadata.resource_version, timeout_seconds=30):
            dep_events.append((ev["type"], ev["object"].metadata.name, ev["object"].spec.replicas))
            if ev["type"] == "DELETED":
                w.stop()

    watcher = threading.Thread(target=run_watch)
    watcher.start()

    created = apps.create_namespaced_deployment(NS, dep)
    check("deployment created with defaults",
          created.spec.strategy.type == "RollingUpdate" and
          created.spec.revision_history_limit == 10 and
          created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent" and
          created.metadata.generation == 1, created.spec)

    listed = apps.list_namespaced_deployment(NS)
    check("deployment listed", [d.metadata.name for d in listed.items] == ["web"])

    patched = apps.patch_namespaced_deployment(
        "web", NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}})
    c = patched.spec.template.spec.containers
    check("strategic merge patch merges containers by name",
          len(c) == 1 and c[0].image == "nginx:1.26" and c[0].ports[0].container_port == 80 and
          patched.metadata.generation == 2, c)
    patched = with_content_type(apps, "application/merge-patch+json",
                                apps.patch_namespaced_deployment, "web", NS,
                                {"spec": {"replicas": 4}})
    check("merge patch sets replicas", patched.spec.replicas == 4)
    scale = apps.read_namespaced_deployment_scale("web", NS)
    check("scale subresource", scale.spec.replicas == 4 and scale.status.selector == "app=web",
          scale)
    scale.spec.replicas = 1
    scaled = apps.replace_namespaced_deployment_scale("web", NS, scale)
    check("scale replaced", scaled.spec.replicas == 1)
    check("deployment follows its scale", apps.read_namespaced_deployment("web", NS).spec.replicas
          == 1)
    body = expect_api_error("invalid deployment patch", 422, "Invalid",
                            apps.patch_namespaced_deployment, "web", NS,
                            {"spec": {"replicas": -1}})
    check("validation message", "spec.replicas: Invalid value: -1" in body["message"], body)

    apps.delete_namespaced_deployment("web", NS, propagation_policy="Background")
    expect_api_error("deleted deployment is gone", 404, "NotFound",
                     apps.read_namespaced_deployment, "web", NS)
    watcher.join(30)
    check("deployment watch ended after DELETED", not watcher.is_alive())
    types = [t for t, _, _ in dep_events]
    check("deployment watch saw ADDED, MODIFIED and DELETED",
          types[0] == "ADDED" and types[-1] == "DELETED" and "MODIFIED" in types and
          all(n == "web" for _, n, _ in dep_events), dep_events)
    check("deployment watch objects follow the replicas",
          [r for _, _, r in dep_events] == [2, 2, 4, 1, 1], dep_events)


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    version = client.VersionApi().get_code()
    check("server version", version.git_version == "v1.32.5+skiff" and version.minor == "32",
          version)
    configmaps(core)
    deployment(apps)
    print("all checks passed")


if __name__ == "__main__":
    main()
