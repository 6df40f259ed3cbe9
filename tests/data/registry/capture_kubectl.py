#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Records the request bodies real kubectl binaries send, as test data for the protobuf decoder.

Runs a tiny HTTP server on 127.0.0.1 (port 0) that answers just enough of the API for the
commands below (legacy discovery, a plausible object for every write), points kubectl.1.32
(protobuf bodies) and kubectl.1.31 (JSON bodies) at it, and saves each write's body as
kubectl/<case>.1.32.pb and kubectl/<case>.1.31.json next to this script, plus kubectl/index.json
listing what was captured (method, path, content type).

Usage: tests/data/registry/capture_kubectl.py [--kubectl-dir /usr/lib/google-cloud-sdk/bin]
Re-run it only to refresh the data; the tests read the saved files.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (case, kubectl arguments). Generators and auth commands kubectl 1.32 sends as protobuf.
CASES = [
    ("namespace", ["create", "namespace", "demo"]),
    ("deployment", ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3",
                    "--port=80"]),
    ("deployment_zero", ["create", "deployment", "idle", "--image=nginx", "--replicas=0"]),
    ("configmap", ["create", "configmap", "settings", "--from-literal=a=1",
                   "--from-literal=greeting=hello world"]),
    ("secret", ["create", "secret", "generic", "creds", "--from-literal=password=hunter2",
                "--from-literal=empty="]),
    ("service", ["create", "service", "clusterip", "api", "--tcp=80:8080", "--tcp=443:https"]),
    ("job", ["create", "job", "once", "--image=busybox", "--", "echo", "hi"]),
    ("cronjob", ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"]),
    ("role", ["create", "role", "reader", "--verb=get,list,watch", "--resource=pods,deployments.apps"]),
    ("rolebinding", ["create", "rolebinding", "read", "--role=reader", "--user=alice",
                     "--serviceaccount=default:robot"]),
    ("clusterrole", ["create", "clusterrole", "viewer",
                     "--aggregation-rule=rbac.example.com/aggregate=true"]),
    ("clusterrole_urls", ["create", "clusterrole", "health", "--verb=get",
                          "--non-resource-url=/healthz,/livez"]),
    ("serviceaccount", ["create", "serviceaccount", "robot"]),
    ("quota", ["create", "quota", "small", "--hard=cpu=1500m,memory=1Gi,pods=2",
               "--scopes=NotBestEffort"]),
    ("pdb", ["create", "poddisruptionbudget", "keep", "--selector=app=web", "--min-available=50%"]),
    ("pdb_int", ["create", "poddisruptionbudget", "keep2", "--selector=app=web",
                 "--max-unavailable=1"]),
    ("ingress", ["create", "ingress", "site", "--class=default",
                 "--rule=example.com/api*=api:80,tls=site-cert"]),
    ("priorityclass", ["create", "priorityclass", "high", "--value=1000",
                       "--description=important", "--preemption-policy=Never"]),
    ("token", ["create", "token", "robot", "--duration=1h", "--audience=api"]),
    ("can_i", ["auth", "can-i", "create", "deployments.apps", "--subresource=scale"]),
    ("can_i_list", ["auth", "can-i", "--list"]),
    ("whoami", ["auth", "whoami"]),
]

# Plausible replies for writes, by the last path segment(s).
REPLIES = {
    "namespaces": ("v1", "Namespace"),
    "deployments": ("apps/v1", "Deployment"),
    "configmaps": ("v1", "ConfigMap"),
    "secrets": ("v1", "Secret"),
    "services": ("v1", "Service"),
    "jobs": ("batch/v1", "Job"),
    "cronjobs": ("batch/v1", "CronJob"),
    "roles": ("rbac.authorization.k8s.io/v1", "Role"),
    "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    "clusterroles": ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    "serviceaccounts": ("v1", "ServiceAccount"),
    "resourcequotas": ("v1", "ResourceQuota"),
    "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudget"),
    "ingresses": ("networking.k8s.io/v1", "Ingress"),
    "priorityclasses": ("scheduling.k8s.io/v1", "PriorityClass"),
}

GROUPS = {
    "apps": ["deployments"],
    "batch": ["jobs", "cronjobs"],
    "rbac.authorization.k8s.io": ["roles", "rolebindings", "clusterroles"],
    "policy": ["poddisruptionbudgets"],
    "networking.k8s.io": ["ingresses"],
    "scheduling.k8s.io": ["priorityclasses"],
    "authorization.k8s.io": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    "authentication.k8s.io": ["selfsubjectreviews"],
}

KINDS = {"deployments": "Deployment", "jobs": "Job", "cronjobs": "CronJob", "roles": "Role",
         "rolebindings": "RoleBinding", "clusterroles": "ClusterRole",
         "poddisruptionbudgets": "PodDisruptionBudget", "ingresses": "Ingress",
         "priorityclasses": "PriorityClass", "selfsubjectaccessreviews": "SelfSubjectAccessReview",
         "selfsubjectrulesreviews": "SelfSubjectRulesReview",
         "selfsubjectreviews": "SelfSubjectReview"}


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    records = []

    def log_message(self, *args):  # quiet
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            groups = [{"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                       "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}}
                      for g in GROUPS]
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if path == "/api/v1":
            res = [{"name": r, "singularName": "", "namespaced": r != "namespaces",
                    "kind": k, "verbs": ["create", "get", "list"]}
                   for r, (_, k) in REPLIES.items() if "/" not in REPLIES[r][0]]
            res.append({"name": "pods", "singularName": "", "namespaced": True, "kind": "Pod",
                        "verbs": ["create", "get", "list"]})
            return self.reply(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                    "groupVersion": "v1", "resources": res})
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "apis" and parts[1] in GROUPS:
            res = [{"name": r, "singularName": "", "namespaced": not r.startswith(("cluster", "priority", "self")),
                    "kind": KINDS[r], "verbs": ["create", "get", "list"]} for r in GROUPS[parts[1]]]
            return self.reply(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                    "groupVersion": parts[1] + "/" + parts[2], "resources": res})
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "NotFound", "code": 404,
                         "message": "the server could not find the requested resource"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path = self.path.split("?")[0]
        Recorder.records.append({"method": "POST", "url": self.path,
                                 "content_type": self.headers.get("Content-Type", ""),
                                 "body": body})
        last = path.rstrip("/").split("/")[-1]
        if last == "selfsubjectaccessreviews":
            return self.reply(201, {"kind": "SelfSubjectAccessReview",
                                    "apiVersion": "authorization.k8s.io/v1",
                                    "metadata": {}, "spec": {}, "status": {"allowed": True}})
        if last == "selfsubjectrulesreviews":
            return self.reply(201, {"kind": "SelfSubjectRulesReview",
                                    "apiVersion": "authorization.k8s.io/v1", "metadata": {},
                                    "spec": {}, "status": {"resourceRules": [],
                                                           "nonResourceRules": [],
                                                           "incomplete": False}})
        if last == "selfsubjectreviews":
            return self.reply(201, {"kind": "SelfSubjectReview",
                                    "apiVersion": "authentication.k8s.io/v1", "metadata": {},
                                    "status": {"userInfo": {"username": "admin"}}})
        if last == "token":
            return self.reply(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                    "metadata": {}, "spec": {"audiences": ["api"]},
                                    "status": {"token": "t0ken",
                                               "expirationTimestamp": "2030-01-01T00:00:00Z"}})
        api_version, kind = REPLIES.get(last, ("v1", "Status"))
        self.reply(201, {"kind": kind, "apiVersion": api_version,
                         "metadata": {"name": "x", "namespace": "default", "uid": "u1",
                                      "resourceVersion": "1",
                                      "creationTimestamp": "2024-01-02T03:04:05Z"}})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kubectl-dir", default="/usr/lib/google-cloud-sdk/bin")
    args = ap.parse_args()
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kubectl")
    os.makedirs(out_dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    index = {}
    for version, ext in (("1.32", "pb"), ("1.31", "json")):
        binary = os.path.join(args.kubectl_dir, "kubectl." + version)
        for case, argv in CASES:
            Recorder.records = []
            with tempfile.TemporaryDirectory() as cache:
                run = subprocess.run([binary, "--server", url, "--cache-dir", cache, *argv],
                                     capture_output=True, text=True, timeout=60)
            writes = Recorder.records
            if run.returncode != 0 or len(writes) != 1:
                print(f"{case} ({version}): exit {run.returncode}, {len(writes)} writes: "
                      f"{run.stderr.strip()}", file=sys.stderr)
                continue
            rec = writes[0]
            with open(os.path.join(out_dir, f"{case}.{version}.{ext}"), "wb") as f:
                f.write(rec["body"])
            index.setdefault(case, {})[version] = {"url": rec["url"],
                                                   "content_type": rec["content_type"],
                                                   "args": argv}
    server.shutdown()
    with open(os.path.join(out_dir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"captured {len(index)} cases into {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
