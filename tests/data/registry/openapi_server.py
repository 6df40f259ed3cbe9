#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake API server that serves just discovery and OpenAPI v3, for `kubectl explain` tests.

Usage: openapi_server.py DIR
DIR holds resources.json ({"apps/v1": [{"name": "deployments", "kind": "Deployment",
"namespaced": true}], "v1": [...]}) and openapi/<gv with / as __>.json (the OpenAPI v3 document
of each group-version, e.g. openapi/apis__apps__v1.json, openapi/api__v1.json). The server binds
127.0.0.1 port 0 and writes the port to DIR/port once it listens; it runs until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
with open(os.path.join(DIR, "resources.json"), encoding="utf-8") as f:
    RESOURCES = json.load(f)


def gv_path(gv):
    return "api/v1" if gv == "v1" else "apis/" + gv


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0].strip("/")
        if path == "version":
            return self.reply(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.5"})
        if path == "api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "apis":
            groups = []
            for gv in RESOURCES:
                if gv == "v1":
                    continue
                g, v = gv.split("/")
                groups.append({"name": g, "versions": [{"groupVersion": gv, "version": v}],
                               "preferredVersion": {"groupVersion": gv, "version": v}})
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        for gv, resources in RESOURCES.items():
            if path == gv_path(gv):
                res = [dict(r, singularName="", verbs=["get", "list", "create", "patch"])
                       for r in resources]
                return self.reply(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                        "groupVersion": gv, "resources": res})
        if path == "openapi/v3":
            paths = {gv_path(gv): {"serverRelativeURL": "/openapi/v3/" + gv_path(gv) + "?hash=1"}
                     for gv in RESOURCES}
            return self.reply(200, {"paths": paths})
        if path.startswith("openapi/v3/"):
            name = path[len("openapi/v3/"):].replace("/", "__") + ".json"
            file = os.path.join(DIR, "openapi", name)
            if os.path.exists(file):
                with open(file, "rb") as f:
                    return self.reply(200, f.read())
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "NotFound", "code": 404,
                         "message": "the server could not find the requested resource"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(DIR, "port.tmp"), "w", encoding="utf-8") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
