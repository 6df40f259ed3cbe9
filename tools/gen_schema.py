#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates Skiff's built-in schema facts (src/registry/data/builtin_schema.json).

Reads the Kubernetes API's Go type declarations and generated.proto files straight out of read-only
git snapshots of k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver (one tag for all
three) and writes our own compact data file holding only schema facts: type names, JSON field names,
protobuf field numbers, JSON kinds and formats, list/map/struct semantics, patch strategies, explicit
defaults, enum values, required fields and the group-version-kinds each top-level type is served as.
No descriptions, comments or code are carried over.

Usage: tools/gen_schema.py [--api DIR] [--apimachinery DIR] [--apiextensions DIR] [--tag TAG] [-o OUT]

The output is deterministic (same inputs, same bytes), so it can be committed and diffed. Python 3
standard library only.

Data format (version 1), one JSON object:
  {"format": 1, "source": {...}, "nodes": [NODE, ...]}
NODE is an object with these keys (absent = default):
  "k"   kind: object map array string integer number boolean bytes int-or-string quantity time
        micro-time duration any
  "n"   definition name (named nodes only), e.g. "io.k8s.api.core.v1.Pod"
  "fmt" OpenAPI format ("int32", "int64", "double", "byte", "date-time")
  "f"   object fields: [[json_name, node_index, proto_number, flags], ...] with flags bit 1 =
        required, bit 2 = inlined (protobuf-only embedded struct whose members are listed inline),
        bit 4 = omitempty (Go JSON drops the zero value), bit 8 = pointer (Go *T: presence is
        meaningful, a zero value is kept)
  "i"   items / values node index (array, map)
  "lt"  x-kubernetes-list-type; "lk" list-map keys; "mt" map-type / struct-type
  "ps"  patch strategy; "pk" patch merge key
  "d"   default value; "e" enum values; "nl" nullable (1)
  "g"   group-version-kinds: [[group, version, kind], ...]
  "r"   on an anonymous copy of a named node with field-level attributes: the named node's index
  "w"   protobuf shape when it is not the plain one for the kind: "wrapped" (a message whose
        `repeated items = 1` is the JSON array), "or-array", "or-bool", "or-string-array"
        (apiextensions JSONSchemaPropsOr* unions)
Nodes refer to each other by index; anonymous nodes (array/map wrappers made for a field, scalars
with field-specific defaults or enums) are shared when identical.
"""

import argparse
import json
import re
import subprocess
import sys
from collections import OrderedDict

# --- inputs -------------------------------------------------------------------------------------

DEFAULT_TAG = "v0.32.5"
MIRRORS = {
    "k8s.io/api": "/work/.mirror/kubernetes+api/repo",
    "k8s.io/apimachinery": "/work/.mirror/kubernetes+apimachinery/repo",
    "k8s.io/apiextensions-apiserver": "/work/.mirror/kubernetes+apiextensions-apiserver/repo",
}

# Group-versions whose registered kinds (register.go addKnownTypes) are roots of the closure.
API_PACKAGES = [
    "k8s.io/api/core/v1",
    "k8s.io/api/apps/v1",
    "k8s.io/api/batch/v1",
    "k8s.io/api/autoscaling/v1",
    "k8s.io/api/autoscaling/v2",
    "k8s.io/api/coordination/v1",
    "k8s.io/api/discovery/v1",
    "k8s.io/api/events/v1",
    "k8s.io/api/networking/v1",
    "k8s.io/api/policy/v1",
    "k8s.io/api/rbac/v1",
    "k8s.io/api/storage/v1",
    "k8s.io/api/scheduling/v1",
    "k8s.io/api/node/v1",
    "k8s.io/api/certificates/v1",
    "k8s.io/api/admissionregistration/v1",
    "k8s.io/api/authentication/v1",
    "k8s.io/api/authorization/v1",
    "k8s.io/api/flowcontrol/v1",
    "k8s.io/api/admission/v1",
    "k8s.io/api/apidiscovery/v2",
    "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1",
]

# Groups whose types we describe but that are not REST APIs (no option types registered there).
NOT_SERVED = {"k8s.io/api/apidiscovery/v2"}

META = "k8s.io/apimachinery/pkg/apis/meta/v1"
RUNTIME = "k8s.io/apimachinery/pkg/runtime"
RESOURCE = "k8s.io/apimachinery/pkg/api/resource"
INTSTR = "k8s.io/apimachinery/pkg/util/intstr"
APIEXT = "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

# meta/v1 registration (register.go): AddToGroupVersion puts the option types and WatchEvent into
# every served group-version, the "unversioned" types into {"" v1}; AddMetaToScheme registers the
# meta.k8s.io/v1 kinds. Transcribed here because it is code, not a list of AddKnownTypes calls.
META_PER_GROUP_VERSION = ["ListOptions", "GetOptions", "DeleteOptions", "CreateOptions",
                          "UpdateOptions", "PatchOptions", "WatchEvent"]
META_UNVERSIONED = ["Status", "APIVersions", "APIGroupList", "APIGroup", "APIResourceList"]
META_KINDS = ["Table", "TableOptions", "PartialObjectMetadata", "PartialObjectMetadataList"]
# Further meta/v1 types callers look up by name (not kinds themselves).
META_EXTRA_ROOTS = ["ObjectMeta", "ListMeta", "LabelSelector", "Condition", "ManagedFieldsEntry",
                    "OwnerReference", "StatusDetails", "StatusCause", "Preconditions",
                    "ApplyOptions", "RootPaths", "GroupVersionKind", "GroupVersionResource",
                    "GroupKind", "GroupResource", "List", "ServerAddressByClientCIDR",
                    "GroupVersionForDiscovery", "APIResource", "FieldSelectorRequirement"]
EXTRA_ROOTS = [(RUNTIME, "RawExtension"), (RUNTIME, "Unknown"), (RESOURCE, "Quantity"),
               (INTSTR, "IntOrString"), (META, "Time"), (META, "MicroTime"), (META, "Duration"),
               (META, "FieldsV1")]

# Types whose JSON form is not their Go struct (custom marshallers): (package, name) -> node kind,
# OpenAPI format, protobuf shape.
SPECIAL = {
    (META, "Time"): ("time", "date-time", None),
    (META, "MicroTime"): ("micro-time", "date-time", None),
    (META, "Duration"): ("duration", None, None),
    (META, "FieldsV1"): ("any", None, None),
    (RUNTIME, "RawExtension"): ("any", None, None),
    (RESOURCE, "Quantity"): ("quantity", None, None),
    (INTSTR, "IntOrString"): ("int-or-string", "int-or-string", None),
    (APIEXT, "JSON"): ("any", None, None),
    (APIEXT, "JSONSchemaPropsOrArray"): ("any", None, "or-array"),
    (APIEXT, "JSONSchemaPropsOrBool"): ("any", None, "or-bool"),
    (APIEXT, "JSONSchemaPropsOrStringArray"): ("any", None, "or-string-array"),
}

BUILTIN = {
    "string": ("string", None),
    "bool": ("boolean", None),
    "int32": ("integer", "int32"),
    "int64": ("integer", "int64"),
    "int": ("integer", "int32"),
    "uint16": ("integer", "int32"),
    "uint32": ("integer", "int64"),
    "float64": ("number", "double"),
    "float32": ("number", "float"),
    "byte": ("integer", "int32"),
}


class GenError(Exception):
    pass


def git(repo_dir, *args):
    return subprocess.run(["git", "-C", repo_dir, *args], check=True, capture_output=True,
                          text=True).stdout


def split_module(pkg):
    for mod in sorted(MIRRORS, key=len, reverse=True):
        if pkg == mod or pkg.startswith(mod + "/"):
            return mod, pkg[len(mod) + 1:]
    raise GenError(f"no snapshot holds package {pkg}")


def definition_name(pkg, name):
    """OpenAPI definition name: k8s.io/api/core/v1 + Pod -> io.k8s.api.core.v1.Pod."""
    if not pkg.startswith("k8s.io/"):
        raise GenError(f"unexpected package {pkg}")
    return "io.k8s." + pkg[len("k8s.io/"):].replace("/", ".") + "." + name


# --- Go declarations ----------------------------------------------------------------------------

MARKER = re.compile(r"^\s*//\s*\+([A-Za-z0-9_:.\-]+)(?:=(.*?))?\s*$")
TAG_PAIR = re.compile(r'(\w+):"((?:[^"\\]|\\.)*)"')


def markers(comment_lines):
    """+key=value markers of a comment block, as {key: [values]}."""
    out = {}
    for line in comment_lines:
        m = MARKER.match(line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2) if m.group(2) is not None else "")
    return out


class GoField:
    def __init__(self, name, type_expr, tags, comments, embedded):
        self.name = name
        self.type_expr = type_expr
        self.tags = tags
        self.markers = markers(comments)
        self.embedded = embedded


class GoPackage:
    def __init__(self, path):
        self.path = path
        self.structs = {}       # name -> [GoField]
        self.struct_markers = {}
        self.named = {}         # name -> (type_expr, markers) for non-struct named types
        self.consts = {}        # name -> (type, value)
        self.imports = {}       # alias -> path (union over files; API packages use one alias each)
        self.group_name = None
        self.version = None
        self.known_types = []   # kinds from addKnownTypes
        self.broken = {}        # struct name -> why it could not be parsed


def strip_line_comment(line):
    """The code part of a line (outside strings / backtick tags)."""
    out, i, quote = [], 0, None
    while i < len(line):
        c = line[i]
        if quote:
            out.append(c)
            if c == "\\" and quote == '"':
                out.append(line[i + 1] if i + 1 < len(line) else "")
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"`'":
            quote = c
            out.append(c)
        elif line.startswith("//", i):
            break
        else:
            out.append(c)
        i += 1
    return "".join(out)


def remove_block_comments(text):
    # Only block comments that open a line (license headers): "/*" also occurs inside // comments.
    return re.sub(r"^[ \t]*/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S | re.M)


def parse_go_file(pkg, text):
    lines = remove_block_comments(text).split("\n")
    comments = []       # closest comment block
    prev_comments = []  # the block before it (gengo's "second closest" comment lines)
    blank_run = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("//"):
            if blank_run:
                prev_comments, comments = comments, []
                blank_run = 0
            comments.append(stripped)
            i += 1
            continue
        if not stripped:
            blank_run += 1
            i += 1
            continue
        doc = comments if not blank_run else []
        second = prev_comments if not blank_run else comments
        if line.startswith("import"):
            i = parse_imports(pkg, lines, i)
        elif line.startswith("type "):
            i = parse_type_decl(pkg, lines, i, doc + second)
        elif line.startswith("const "):
            i = parse_const_decl(pkg, lines, i)
        elif line.startswith("func ") or line.startswith("var "):
            i = skip_block(lines, i)
        else:
            i += 1
        comments, prev_comments, blank_run = [], [], 0


def skip_block(lines, i):
    depth = 0
    opened = False
    while i < len(lines):
        code = strip_line_comment(lines[i])
        for c in code:
            if c in "({[":
                depth += 1
                opened = True
            elif c in ")}]":
                depth -= 1
        i += 1
        if depth <= 0 and (opened or not code.rstrip().endswith(("(", "{", "=", ","))):
            return i
    return i


IMPORT_LINE = re.compile(r'^\s*(?:(\w+)\s+)?"([^"]+)"')


def parse_imports(pkg, lines, i):
    def add(m):
        alias, path = m.group(1), m.group(2)
        if alias in ("_", "."):
            return
        pkg.imports[alias or path.rsplit("/", 1)[-1]] = path
    first = lines[i][len("import"):].strip()
    if first.startswith("("):
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(")"):
            m = IMPORT_LINE.match(lines[i])
            if m:
                add(m)
            i += 1
        return i + 1
    m = IMPORT_LINE.match(first)
    if m:
        add(m)
    return i + 1


CONST_LINE = re.compile(r'^\s*(\w+)\s+([\w.]+)\s*=\s*(.+?)\s*$')


def parse_const_value(expr):
    expr = expr.strip()
    if expr.startswith('"') and expr.endswith('"'):
        return json.loads(expr)
    if expr.startswith("`") and expr.endswith("`"):
        return expr[1:-1]
    if re.fullmatch(r"-?\d+", expr):
        return int(expr)
    return None


def parse_const_decl(pkg, lines, i):
    first = lines[i][len("const"):].strip()
    if not first.startswith("("):
        m = CONST_LINE.match(strip_line_comment(first))
        if m:
            value = parse_const_value(m.group(3))
            if value is not None:
                pkg.consts[m.group(1)] = (m.group(2), value)
        return i + 1
    i += 1
    while i < len(lines) and not lines[i].startswith(")"):
        m = CONST_LINE.match(strip_line_comment(lines[i]))
        if m:
            value = parse_const_value(m.group(3))
            if value is not None:
                pkg.consts[m.group(1)] = (m.group(2), value)
        i += 1
    return i + 1


FIELD_LINE = re.compile(r"^\s*(\w+)\s+([^\s`]+)\s*(`[^`]*`)?\s*$")
EMBED_LINE = re.compile(r"^\s*(\*?[\w.]+)\s*(`[^`]*`)?\s*$")


def parse_tags(tag):
    if not tag:
        return {}
    return {k: v for k, v in TAG_PAIR.findall(tag[1:-1])}


def parse_type_decl(pkg, lines, i, doc):
    code = strip_line_comment(lines[i]).rstrip()
    m = re.match(r"^type\s+(\w+)\s+struct\s*\{\s*(\})?$", code)
    if m:
        name = m.group(1)
        fields = []
        pkg.struct_markers[name] = markers(doc)
        if m.group(2):
            pkg.structs[name] = fields
            return i + 1
        i += 1
        field_comments = []
        while i < len(lines) and not lines[i].startswith("}"):
            raw = lines[i]
            stripped = raw.strip()
            if stripped.startswith("//"):
                field_comments.append(stripped)
                i += 1
                continue
            if not stripped:
                i += 1
                continue
            code = strip_line_comment(raw).rstrip()
            fm = FIELD_LINE.match(code)
            em = EMBED_LINE.match(code)
            if fm and not code.strip().endswith("{"):
                fields.append(GoField(fm.group(1), fm.group(2), parse_tags(fm.group(3)),
                                      field_comments, False))
            elif em:
                type_expr = em.group(1)
                fields.append(GoField(type_expr.lstrip("*").rsplit(".", 1)[-1], type_expr,
                                      parse_tags(em.group(2)), field_comments, True))
            else:
                # Not an API struct (function-typed members and the like): remember why, fail
                # only if something refers to it.
                pkg.broken[name] = f"{pkg.path}.{name}: cannot parse struct line {raw!r}"
            field_comments = []
            i += 1
        pkg.structs[name] = fields
        return i + 1
    m = re.match(r"^type\s+(\w+)\s+(=\s*)?(\S+)$", code)
    if m:
        pkg.named[m.group(1)] = (m.group(3), markers(doc))
        return i + 1
    if code.endswith("{"):  # interfaces and the like
        return skip_block(lines, i)
    return i + 1


KNOWN_TYPE = re.compile(r"&(\w+(?:\.\w+)?)\{\}")


def parse_register(pkg, text):
    m = re.search(r'const GroupName\s*=\s*"([^"]*)"', text)
    if m:
        pkg.group_name = m.group(1)
    m = re.search(r'SchemeGroupVersion\s*=\s*schema\.GroupVersion\{Group:\s*GroupName,\s*'
                  r'Version:\s*"([^"]+)"\}', text)
    if m:
        pkg.version = m.group(1)
    for call in re.finditer(r"scheme\.AddKnownTypes\(SchemeGroupVersion,(.*?)\n\t\)", text, re.S):
        for t in KNOWN_TYPE.findall(call.group(1)):
            pkg.known_types.append(t)
    for t in re.findall(r"scheme\.AddKnownTypes\(SchemeGroupVersion,\s*(&[\w.]+\{\})\)", text):
        pkg.known_types.extend(KNOWN_TYPE.findall(t))


# --- proto declarations -------------------------------------------------------------------------

PROTO_FIELD = re.compile(
    r"^\s*(optional|repeated|required)?\s*(map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")


def parse_proto(text):
    """{message name: {number: (label, type, name)}} for top-level messages."""
    messages = {}
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    current = None
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("//"):
            continue
        m = re.match(r"^message\s+(\w+)\s*\{", line)
        if m:
            current = messages.setdefault(m.group(1), {})
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is not None:
            fm = PROTO_FIELD.match(line)
            if fm:
                label = "map" if fm.group(3) else (fm.group(1) or "optional")
                ptype = fm.group(4) if fm.group(3) else fm.group(2)
                current[int(fm.group(6))] = (label, ptype, fm.group(5))
    return package, messages


# --- loading ------------------------------------------------------------------------------------

class Universe:
    def __init__(self, tag):
        self.tag = tag
        self.packages = {}
        self.protos = {}  # go package -> {message: fields}
        self.proto_packages = {}

    def package(self, path):
        if path in self.packages:
            return self.packages[path]
        mod, sub = split_module(path)
        repo = MIRRORS[mod]
        pkg = GoPackage(path)
        names = git(repo, "ls-tree", "--name-only", self.tag, sub + "/").split()
        for f in names:
            base = f.rsplit("/", 1)[-1]
            if not base.endswith(".go") or base.endswith("_test.go") or base.startswith("zz_generated") \
                    or base in ("generated.pb.go",) or base.endswith("_swagger_doc_generated.go") \
                    or base.endswith("_fuzz.go"):
                continue
            text = git(repo, "show", f"{self.tag}:{f}")
            parse_go_file(pkg, text)
            if base == "register.go":
                parse_register(pkg, text)
        if sub + "/generated.proto" in names:
            package, messages = parse_proto(git(repo, "show", f"{self.tag}:{sub}/generated.proto"))
            self.protos[path] = messages
            self.proto_packages[path] = package
        self.packages[path] = pkg
        return pkg

    def resolve_alias(self, pkg, alias):
        if alias not in pkg.imports:
            raise GenError(f"{pkg.path}: unknown import alias {alias}")
        return pkg.imports[alias]


# --- building nodes -----------------------------------------------------------------------------

class Builder:
    def __init__(self, universe):
        self.u = universe
        self.named = OrderedDict()   # definition name -> node dict (filled later)
        self.pending = []            # (pkg path, type name) to build
        self.anon = {}               # canonical key -> index
        self.nodes = []              # final node list (named first, then anonymous)
        self.index = {}              # definition name -> index
        self.origin = {}             # definition name -> (pkg path, type name)
        self.warnings = []

    # A reference to a named struct node (built lazily): returns its definition name.
    def ref(self, pkg_path, name):
        dname = definition_name(pkg_path, name)
        if dname not in self.origin:
            self.origin[dname] = (pkg_path, name)
            self.pending.append(dname)
        return dname

    def anon_node(self, node):
        key = json.dumps(node, sort_keys=True)
        if key not in self.anon:
            self.anon[key] = node
        return ("anon", key)

    def run(self):
        while self.pending:
            dname = self.pending.pop(0)
            pkg_path, name = self.origin[dname]
            self.named[dname] = self.build_named(pkg_path, name)

    def build_named(self, pkg_path, name):
        pkg = self.u.package(pkg_path)
        special = SPECIAL.get((pkg_path, name))
        if special:
            kind, fmt, shape = special
            node = {"k": kind}
            if fmt:
                node["fmt"] = fmt
            if shape:
                node["w"] = shape
                # The union's protobuf members, for the decoder (JSON walkers ignore fields of
                # kind any).
                node["f"] = self.proto_only_fields(pkg, name)
            return node
        if name not in pkg.structs and name in pkg.named:
            # `type List metav1.List`: the same struct under another name
            pkg, name = self.resolve_struct(pkg, pkg.named[name][0])
        if name not in pkg.structs:
            raise GenError(f"{pkg_path}.{name} is not a struct")
        if name in pkg.broken:
            raise GenError(pkg.broken[name])
        node = {"k": "object"}
        sm = pkg.struct_markers.get(name, {})
        if "structType" in sm:
            node["mt"] = sm["structType"][-1]
        message = self.u.protos.get(pkg.path, {}).get(name)
        if message is not None:
            numbers = {proto_number(gf) for gf in pkg.structs[name]} - {0}
            if numbers != set(message):
                raise GenError(f"{pkg_path}.{name}: Go protobuf tags {sorted(numbers)} differ from "
                               f"generated.proto {sorted(message)}")
        fields = []
        self.add_struct_fields(pkg, name, fields, top=True)
        seen = set()
        for f in fields:
            if f[3] & 2:
                continue
            if f[0] in seen:
                raise GenError(f"{pkg_path}.{name}: duplicate JSON field {f[0]}")
            seen.add(f[0])
        node["f"] = fields
        return node

    def proto_only_fields(self, pkg, name):
        out = []
        for gf in pkg.structs[name]:
            num = proto_number(gf)
            t = self.type_of(pkg, gf.type_expr, gf, None)
            out.append([gf.name[0].lower() + gf.name[1:], t, num, 0])
        return out

    def add_struct_fields(self, pkg, struct_name, out, top, inlined_from=None):
        messages = self.u.protos.get(pkg.path, {})
        message = messages.get(struct_name)
        for gf in pkg.structs[struct_name]:
            json_tag = gf.tags.get("json")
            if json_tag is None:
                if gf.embedded:
                    json_tag = ",inline"
                else:
                    json_tag = gf.name
            if json_tag == "-" or json_tag.startswith("-,"):
                continue
            parts = json_tag.split(",")
            json_name, opts = parts[0], parts[1:]
            num = proto_number(gf)
            if num and message is not None:
                pf = message.get(num)
                expected = gf.tags["protobuf"].split(",")
                pname = next((p[5:] for p in expected if p.startswith("name=")), None)
                if pf is None or (pname is not None and pf[2] != pname):
                    raise GenError(f"{pkg.path}.{struct_name}.{gf.name}: protobuf tag {num} does not "
                                   f"match generated.proto ({pf})")
            if inlined_from is not None:
                num = 0  # members of an inlined struct belong to its own message
            if gf.embedded and ("inline" in opts or (not json_name and gf.tags.get("json") is None)):
                epkg, ename = self.resolve_struct(pkg, gf.type_expr)
                if num:
                    out.append([proto_name(gf), ("named", self.ref(epkg.path, ename)), num, 2])
                self.add_struct_fields(epkg, ename, out, top=False, inlined_from=struct_name)
                continue
            if not json_name:
                json_name = gf.name
            t = self.field_type(pkg, gf)
            flags = 0
            optional = "omitempty" in opts or "optional" in gf.markers
            if not optional:
                flags |= 1
            if "omitempty" in opts:
                flags |= 4
            if gf.type_expr.startswith("*"):
                flags |= 8
            out.append([json_name, t, num, flags])

    def resolve_struct(self, pkg, type_expr):
        t = type_expr.lstrip("*")
        if "." in t:
            alias, name = t.split(".", 1)
            return self.u.package(self.u.resolve_alias(pkg, alias)), name
        return pkg, t

    def is_struct_alias(self, pkg, underlying):
        if underlying.startswith(("[]", "map[", "*")) or underlying in BUILTIN:
            return False
        try:
            upkg, uname = self.resolve_struct(pkg, underlying)
        except GenError:
            return False
        return uname in upkg.structs

    def resolve_go_type(self, pkg, name):
        """(package, local name) of a possibly qualified Go type name."""
        if "." in name:
            alias, local = name.split(".", 1)
            return self.u.package(self.u.resolve_alias(pkg, alias)), local
        return pkg, name

    def field_type(self, pkg, gf):
        m = gf.markers
        attrs = {}
        if "listType" in m:
            attrs["lt"] = m["listType"][-1]
        if "listMapKey" in m:
            attrs["lk"] = m["listMapKey"]
        if "mapType" in m:
            attrs["mt"] = m["mapType"][-1]
        if "structType" in m:
            attrs["mt"] = m["structType"][-1]
        ps = gf.tags.get("patchStrategy") or (m.get("patchStrategy") or [None])[-1]
        pk = gf.tags.get("patchMergeKey") or (m.get("patchMergeKey") or [None])[-1]
        if ps:
            attrs["ps"] = ps
        if pk:
            attrs["pk"] = pk
        if "nullable" in m:
            attrs["nl"] = 1
        if "default" in m:
            attrs["d"] = self.default_value(pkg, m["default"][-1], gf)
        return self.type_of(pkg, gf.type_expr, gf, attrs)

    def default_value(self, pkg, text, gf):
        text = text.strip()
        rm = re.fullmatch(r"ref\(([\w.]+)\)", text)
        if rm:
            cpkg, cname = self.resolve_go_type(pkg, rm.group(1))
            if cname not in cpkg.consts:
                raise GenError(f"{pkg.path}: default ref {text} not found")
            return cpkg.consts[cname][1]
        try:
            return json.loads(text)
        except ValueError as exc:
            raise GenError(f"{pkg.path} field {gf.name}: bad default {text!r}") from exc

    def enum_values(self, pkg, type_name):
        """Values of a +enum string type: the typed constants of its package."""
        vals = [v for (t, v) in pkg.consts.values() if t == type_name]
        return sorted(set(vals), key=lambda v: (str(type(v)), v))

    def type_of(self, pkg, expr, gf, attrs):
        """Node reference for a Go type expression. attrs: x-kubernetes attributes of the field
        that apply to the outermost node (None for no field context)."""
        attrs = dict(attrs or {})
        expr = expr.lstrip("*")
        if expr == "[]byte":
            return self.finish_scalar({"k": "bytes", "fmt": "byte"}, attrs)
        if expr.startswith("[]"):
            items = self.type_of(pkg, expr[2:], gf, None)
            node = {"k": "array", "i": items}
            node.update(attrs)
            return self.anon_node(node)
        if expr.startswith("map["):
            depth, j = 0, 3
            while True:
                if expr[j] == "[":
                    depth += 1
                elif expr[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            values = self.type_of(pkg, expr[j + 1:], gf, None)
            node = {"k": "map", "i": values}
            node.update(attrs)
            return self.anon_node(node)
        if expr in ("interface{}", "any"):
            return self.finish_scalar({"k": "any"}, attrs)
        if expr in BUILTIN:
            kind, fmt = BUILTIN[expr]
            node = {"k": kind}
            if fmt:
                node["fmt"] = fmt
            return self.finish_scalar(node, attrs)
        tpkg, tname = self.resolve_go_type(pkg, expr)
        if (tpkg.path, tname) in SPECIAL:
            dname = self.ref(tpkg.path, tname)
            return self.refine(dname, attrs)
        if tname in tpkg.structs or (tname in tpkg.named and
                                     self.is_struct_alias(tpkg, tpkg.named[tname][0])):
            dname = self.ref(tpkg.path, tname)
            return self.refine(dname, attrs)
        if tname in tpkg.named:
            underlying, tm = tpkg.named[tname]
            if underlying.startswith("[]") and underlying != "[]byte" and \
                    tname in self.u.protos.get(tpkg.path, {}):
                # A named slice with its own protobuf message (`repeated items = 1`): a plain
                # JSON array on the wire of JSON, a wrapper message in protobuf.
                items = self.type_of(tpkg, underlying[2:], gf, None)
                node = {"k": "array", "i": items, "w": "wrapped"}
                node.update(attrs)
                return self.anon_node(node)
            if "enum" in tm and underlying == "string":
                values = self.enum_values(tpkg, tname)
                if values:
                    attrs["e"] = values
            return self.type_of(tpkg, underlying, gf, attrs)
        raise GenError(f"{pkg.path}: cannot resolve Go type {expr}")

    def finish_scalar(self, node, attrs):
        for k in ("lt", "lk", "ps", "pk", "mt"):
            if k in attrs and node["k"] not in ("array", "map", "object"):
                # patch markers on scalars mean nothing; upstream ignores them too
                attrs.pop(k)
        node.update(attrs)
        return self.anon_node(node)

    def refine(self, dname, attrs):
        """A named node, or an anonymous copy carrying field-specific attributes."""
        # List markers on a struct-typed field (meta/v1 Status.details has one) mean nothing.
        attrs = {k: v for k, v in attrs.items() if k not in ("lt", "lk")}
        if not attrs:
            return ("named", dname)
        # A struct-typed field with its own markers (e.g. +structType on the field, a default):
        # an anonymous node with the named node's content plus the field's attributes.
        return ("refined", dname, json.dumps(attrs, sort_keys=True))

    # --- output ---------------------------------------------------------------------------------

    def emit(self):
        names = sorted(self.named)
        for i, n in enumerate(names):
            self.index[n] = i
        out_nodes = [None] * len(names)
        anon_index = {}
        refined_index = {}
        extra = []

        def resolve(ref):
            if isinstance(ref, int):
                return ref
            if ref[0] == "named":
                return self.index[ref[1]]
            if ref[0] == "anon":
                key = ref[1]
                if key in anon_index:
                    return anon_index[key]
                node = dict(self.anon[key])
                conv = convert(node)
                ckey = json.dumps(conv, sort_keys=True)
                if ckey in anon_index:
                    anon_index[key] = anon_index[ckey]
                    return anon_index[key]
                idx = len(names) + len(extra)
                extra.append(conv)
                anon_index[key] = idx
                anon_index[ckey] = idx
                return idx
            if ref[0] == "refined":
                key = (ref[1], ref[2])
                if key in refined_index:
                    return refined_index[key]
                base = convert(dict(self.named[ref[1]]))
                base.pop("g", None)
                base.update(json.loads(ref[2]))
                base["r"] = self.index[ref[1]]
                idx = len(names) + len(extra)
                extra.append(base)
                refined_index[key] = idx
                return idx
            raise GenError(f"bad ref {ref}")

        def convert(node):
            node = dict(node)
            if "i" in node:
                node["i"] = resolve(node["i"])
            if "f" in node:
                node["f"] = [[f[0], resolve(f[1]), f[2], f[3]] for f in node["f"]]
            return node

        for n in names:
            node = convert(self.named[n])
            out = {"n": n}
            out.update(node)
            out_nodes[self.index[n]] = out
        return out_nodes + extra


def proto_name(gf):
    for p in gf.tags.get("protobuf", "").split(","):
        if p.startswith("name="):
            return p[5:]
    return gf.name[0].lower() + gf.name[1:]


def proto_number(gf):
    tag = gf.tags.get("protobuf")
    if not tag or tag == "-":
        return 0
    parts = tag.split(",")
    return int(parts[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api", default=MIRRORS["k8s.io/api"])
    ap.add_argument("--apimachinery", default=MIRRORS["k8s.io/apimachinery"])
    ap.add_argument("--apiextensions", default=MIRRORS["k8s.io/apiextensions-apiserver"])
    ap.add_argument("--tag", default=DEFAULT_TAG)
    ap.add_argument("-o", "--output", default="src/registry/data/builtin_schema.json")
    args = ap.parse_args()
    MIRRORS["k8s.io/api"] = args.api
    MIRRORS["k8s.io/apimachinery"] = args.apimachinery
    MIRRORS["k8s.io/apiextensions-apiserver"] = args.apiextensions

    u = Universe(args.tag)
    b = Builder(u)
    gvks = {}  # definition name -> [[g, v, k]]
    served = []  # group-versions that get the meta/v1 option types (metav1.AddToGroupVersion)
    for path in API_PACKAGES:
        pkg = u.package(path)
        if pkg.group_name is None or pkg.version is None:
            raise GenError(f"{path}: no GroupName/SchemeGroupVersion in register.go")
        if path not in NOT_SERVED:
            served.append((pkg.group_name, pkg.version))
        for t in pkg.known_types:
            tpkg, tname = b.resolve_go_type(pkg, t)
            dname = b.ref(tpkg.path, tname)
            gvks.setdefault(dname, []).append([pkg.group_name, pkg.version, tname])
    meta = u.package(META)
    all_gvs = sorted(set(served) | {("meta.k8s.io", "v1")})
    for kind in META_PER_GROUP_VERSION:
        dname = b.ref(META, kind)
        for g, v in all_gvs:
            gvks.setdefault(dname, []).append([g, v, kind])
    for kind in META_UNVERSIONED:
        gvks.setdefault(b.ref(META, kind), []).append(["", "v1", kind])
    for kind in META_KINDS:
        gvks.setdefault(b.ref(META, kind), []).append(["meta.k8s.io", "v1", kind])
    for name in META_EXTRA_ROOTS:
        b.ref(META, name)
    for p, name in EXTRA_ROOTS:
        b.ref(p, name)
    b.run()
    for dname, lst in gvks.items():
        uniq = []
        for g in lst:
            if g not in uniq:
                uniq.append(g)
        b.named[dname]["g"] = uniq
    nodes = b.emit()

    source = OrderedDict()
    for mod in ("k8s.io/api", "k8s.io/apimachinery", "k8s.io/apiextensions-apiserver"):
        source[mod] = {"tag": args.tag,
                       "commit": git(MIRRORS[mod], "rev-parse", args.tag + "^{commit}").strip()}
    doc = OrderedDict([("format", 1), ("source", source), ("nodes", nodes)])
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    # One node per line keeps diffs of regenerated data readable.
    text = text.replace(',{"n":', ',\n{"n":').replace('},{"k":', '},\n{"k":')
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    named = sum(1 for n in nodes if "n" in n)
    print(f"wrote {args.output}: {len(nodes)} nodes ({named} named), {len(text)} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except GenError as e:
        print(f"gen_schema: {e}", file=sys.stderr)
        sys.exit(1)
