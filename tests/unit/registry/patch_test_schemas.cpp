// SPDX-License-Identifier: Apache-2.0
#include "patch_test_schemas.hpp"

#include <stdexcept>

namespace skiff::testing {

using registry::Kind;
using registry::ListType;
using registry::MapType;
using registry::Node;

Node* SchemaBuilder::node(Kind kind, std::string name) {
  nodes_.emplace_back();
  nodes_.back().kind = kind;
  nodes_.back().name = std::move(name);
  return &nodes_.back();
}

Node* SchemaBuilder::object(std::string name) {
  return node(Kind::kObject, std::move(name));
}

void SchemaBuilder::field(Node* object, std::string name, const Node* type) {
  registry::Field f;
  f.name = std::move(name);
  f.node = type;
  object->fields.push_back(std::move(f));
}

Node* SchemaBuilder::map(const Node* values, MapType type) {
  Node* n = node(Kind::kMap);
  n->items = values;
  n->map_type = type;
  return n;
}

Node* SchemaBuilder::list(const Node* items, ListType type, std::vector<std::string> keys,
                          std::string strategy, std::string merge_key) {
  Node* n = node(Kind::kArray);
  n->items = items;
  n->list_type = type;
  n->list_map_keys = std::move(keys);
  n->patch_strategy = std::move(strategy);
  n->patch_merge_key = std::move(merge_key);
  return n;
}

namespace {

void build(TestSchemas& s) {
  auto& b = s.b;
  auto* str = b.string();
  auto* integer = b.integer();
  auto* boolean = b.boolean();

  // strategicpatch's MergeItem / RetainKeysMergeItem (struct tags as in upstream's test).
  Node* merge_item = b.object("MergeItem");
  Node* retain_item = b.object("RetainKeysMergeItem");
  auto* merging_list = b.list(merge_item, ListType::kUnset, {}, "merge", "name");
  auto* int_merging = b.list(integer, ListType::kUnset, {}, "merge");
  auto* simple_map = b.map(str);
  SchemaBuilder::field(merge_item, "name", str);
  SchemaBuilder::field(merge_item, "value", str);
  SchemaBuilder::field(merge_item, "other", str);
  SchemaBuilder::field(merge_item, "mergingList", merging_list);
  SchemaBuilder::field(merge_item, "nonMergingList", b.list(merge_item));
  SchemaBuilder::field(merge_item, "mergingIntList", int_merging);
  SchemaBuilder::field(merge_item, "nonMergingIntList", b.list(integer));
  // mergeItemPtr carries "merge" on a map field: maps merge anyway.
  Node* merge_item_ptr = b.object("MergeItemPtr");
  merge_item_ptr->patch_strategy = "merge";
  merge_item_ptr->patch_merge_key = "name";
  SchemaBuilder::field(merge_item, "mergeItemPtr", merge_item_ptr);
  SchemaBuilder::field(merge_item, "simpleMap", simple_map);
  Node* replacing = b.any();
  replacing->patch_strategy = "replace";
  SchemaBuilder::field(merge_item, "replacingItem", replacing);
  Node* retain_map = b.object("RetainKeysMergeItem(field)");
  SchemaBuilder::field(retain_item, "name", str);
  SchemaBuilder::field(retain_item, "value", str);
  SchemaBuilder::field(retain_item, "other", str);
  SchemaBuilder::field(retain_item, "simpleMap", simple_map);
  SchemaBuilder::field(retain_item, "mergingIntList", int_merging);
  SchemaBuilder::field(retain_item, "mergingList", merging_list);
  SchemaBuilder::field(retain_item, "nonMergingList", b.list(merge_item));
  *retain_map = *retain_item;
  retain_map->patch_strategy = "retainKeys";
  SchemaBuilder::field(merge_item, "retainKeysMap", retain_map);
  SchemaBuilder::field(merge_item, "retainKeysMergingList",
                       b.list(merge_item, ListType::kUnset, {}, "merge,retainKeys", "name"));
  merge_item_ptr->fields = merge_item->fields;  // the same struct behind a tagged pointer field
  s.merge_item = merge_item;

  // metav1.ObjectMeta (the fields the tests touch).
  Node* owner_ref = b.object("OwnerReference");
  for (const char* f : {"apiVersion", "kind", "name", "uid"}) {
    SchemaBuilder::field(owner_ref, f, str);
  }
  SchemaBuilder::field(owner_ref, "controller", boolean);
  Node* mf_entry = b.object("ManagedFieldsEntry");
  for (const char* f : {"manager", "operation", "apiVersion", "fieldsType", "subresource"}) {
    SchemaBuilder::field(mf_entry, f, str);
  }
  SchemaBuilder::field(mf_entry, "time", b.node(Kind::kTime));
  SchemaBuilder::field(mf_entry, "fieldsV1", b.any());
  Node* meta = b.object("ObjectMeta");
  for (const char* f :
       {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"}) {
    SchemaBuilder::field(meta, f, str);
  }
  SchemaBuilder::field(meta, "generation", integer);
  SchemaBuilder::field(meta, "creationTimestamp", b.node(Kind::kTime));
  SchemaBuilder::field(meta, "deletionTimestamp", b.node(Kind::kTime));
  SchemaBuilder::field(meta, "labels", b.map(str));
  SchemaBuilder::field(meta, "annotations", b.map(str));
  SchemaBuilder::field(meta, "ownerReferences",
                       b.list(owner_ref, ListType::kMap, {"uid"}, "merge", "uid"));
  SchemaBuilder::field(meta, "finalizers", b.list(str, ListType::kSet, {}, "merge"));
  SchemaBuilder::field(meta, "managedFields", b.list(mf_entry, ListType::kAtomic));

  // core/v1 containers and pod spec.
  Node* port = b.object("ContainerPort");
  SchemaBuilder::field(port, "name", str);
  SchemaBuilder::field(port, "hostPort", integer);
  SchemaBuilder::field(port, "containerPort", integer);
  Node* protocol = b.string();
  protocol->default_value = json::Value("TCP");
  SchemaBuilder::field(port, "protocol", protocol);
  Node* env = b.object("EnvVar");
  SchemaBuilder::field(env, "name", str);
  SchemaBuilder::field(env, "value", str);
  SchemaBuilder::field(env, "valueFrom", b.any());
  Node* mount = b.object("VolumeMount");
  SchemaBuilder::field(mount, "name", str);
  SchemaBuilder::field(mount, "readOnly", boolean);
  SchemaBuilder::field(mount, "mountPath", str);
  Node* resources = b.object("ResourceRequirements");
  SchemaBuilder::field(resources, "limits", b.map(b.node(Kind::kQuantity)));
  SchemaBuilder::field(resources, "requests", b.map(b.node(Kind::kQuantity)));
  Node* container = b.object("Container");
  SchemaBuilder::field(container, "name", str);
  SchemaBuilder::field(container, "image", str);
  SchemaBuilder::field(container, "command", b.list(str, ListType::kAtomic));
  SchemaBuilder::field(container, "args", b.list(str, ListType::kAtomic));
  SchemaBuilder::field(
      container, "ports",
      b.list(port, ListType::kMap, {"containerPort", "protocol"}, "merge", "containerPort"));
  SchemaBuilder::field(container, "env", b.list(env, ListType::kMap, {"name"}, "merge", "name"));
  SchemaBuilder::field(container, "resources", resources);
  SchemaBuilder::field(container, "volumeMounts",
                       b.list(mount, ListType::kMap, {"mountPath"}, "merge", "mountPath"));
  SchemaBuilder::field(container, "terminationMessagePath", str);
  SchemaBuilder::field(container, "terminationMessagePolicy", str);
  SchemaBuilder::field(container, "imagePullPolicy", str);
  Node* host_path = b.object("HostPathVolumeSource");
  SchemaBuilder::field(host_path, "path", str);
  SchemaBuilder::field(host_path, "type", str);
  Node* empty_dir = b.object("EmptyDirVolumeSource");
  SchemaBuilder::field(empty_dir, "medium", str);
  SchemaBuilder::field(empty_dir, "sizeLimit", b.node(Kind::kQuantity));
  Node* config_map_vol = b.object("ConfigMapVolumeSource");
  SchemaBuilder::field(config_map_vol, "name", str);
  SchemaBuilder::field(config_map_vol, "items", b.list(b.any(), ListType::kAtomic));
  Node* volume = b.object("Volume");
  SchemaBuilder::field(volume, "name", str);
  SchemaBuilder::field(volume, "hostPath", host_path);
  SchemaBuilder::field(volume, "emptyDir", empty_dir);
  SchemaBuilder::field(volume, "configMap", config_map_vol);
  Node* toleration = b.object("Toleration");
  for (const char* f : {"key", "operator", "value", "effect"}) {
    SchemaBuilder::field(toleration, f, str);
  }
  Node* pod_spec = b.object("PodSpec");
  SchemaBuilder::field(pod_spec, "volumes",
                       b.list(volume, ListType::kMap, {"name"}, "merge,retainKeys", "name"));
  SchemaBuilder::field(pod_spec, "initContainers",
                       b.list(container, ListType::kMap, {"name"}, "merge", "name"));
  SchemaBuilder::field(pod_spec, "containers",
                       b.list(container, ListType::kMap, {"name"}, "merge", "name"));
  SchemaBuilder::field(pod_spec, "restartPolicy", str);
  SchemaBuilder::field(pod_spec, "terminationGracePeriodSeconds", integer);
  SchemaBuilder::field(pod_spec, "dnsPolicy", str);
  SchemaBuilder::field(pod_spec, "nodeSelector", b.map(str, MapType::kAtomic));
  SchemaBuilder::field(pod_spec, "nodeName", str);
  SchemaBuilder::field(pod_spec, "schedulerName", str);
  SchemaBuilder::field(pod_spec, "tolerations", b.list(toleration, ListType::kAtomic));
  SchemaBuilder::field(pod_spec, "affinity", b.any());
  Node* pod_security = b.object("PodSecurityContext");
  SchemaBuilder::field(pod_security, "runAsUser", integer);
  SchemaBuilder::field(pod_security, "runAsNonRoot", boolean);
  SchemaBuilder::field(pod_spec, "securityContext", pod_security);
  Node* pod_status = b.object("PodStatus");
  SchemaBuilder::field(pod_status, "phase", str);
  SchemaBuilder::field(pod_status, "podIP", str);

  Node* pod = b.object("io.k8s.api.core.v1.Pod");
  pod->gvks = {{"", "v1", "Pod"}};
  SchemaBuilder::field(pod, "apiVersion", str);
  SchemaBuilder::field(pod, "kind", str);
  SchemaBuilder::field(pod, "metadata", meta);
  SchemaBuilder::field(pod, "spec", pod_spec);
  SchemaBuilder::field(pod, "status", pod_status);
  s.pod = pod;

  // apps/v1 Deployment.
  Node* label_selector = b.object("LabelSelector");
  label_selector->map_type = MapType::kAtomic;
  SchemaBuilder::field(label_selector, "matchLabels", b.map(str));
  SchemaBuilder::field(label_selector, "matchExpressions", b.list(b.any(), ListType::kAtomic));
  Node* template_spec = b.object("PodTemplateSpec");
  SchemaBuilder::field(template_spec, "metadata", meta);
  SchemaBuilder::field(template_spec, "spec", pod_spec);
  Node* rolling = b.object("RollingUpdateDeployment");
  SchemaBuilder::field(rolling, "maxUnavailable", b.node(Kind::kIntOrString));
  SchemaBuilder::field(rolling, "maxSurge", b.node(Kind::kIntOrString));
  Node* strategy = b.object("DeploymentStrategy");
  strategy->patch_strategy = "retainKeys";
  SchemaBuilder::field(strategy, "type", str);
  SchemaBuilder::field(strategy, "rollingUpdate", rolling);
  Node* dep_spec = b.object("DeploymentSpec");
  SchemaBuilder::field(dep_spec, "replicas", integer);
  SchemaBuilder::field(dep_spec, "selector", label_selector);
  SchemaBuilder::field(dep_spec, "template", template_spec);
  SchemaBuilder::field(dep_spec, "strategy", strategy);
  SchemaBuilder::field(dep_spec, "minReadySeconds", integer);
  SchemaBuilder::field(dep_spec, "revisionHistoryLimit", integer);
  SchemaBuilder::field(dep_spec, "paused", boolean);
  SchemaBuilder::field(dep_spec, "progressDeadlineSeconds", integer);
  Node* condition = b.object("DeploymentCondition");
  for (const char* f : {"type", "status", "reason", "message"}) {
    SchemaBuilder::field(condition, f, str);
  }
  Node* dep_status = b.object("DeploymentStatus");
  SchemaBuilder::field(dep_status, "observedGeneration", integer);
  SchemaBuilder::field(dep_status, "replicas", integer);
  SchemaBuilder::field(dep_status, "readyReplicas", integer);
  SchemaBuilder::field(dep_status, "conditions",
                       b.list(condition, ListType::kMap, {"type"}, "merge", "type"));
  Node* deployment = b.object("io.k8s.api.apps.v1.Deployment");
  deployment->gvks = {{"apps", "v1", "Deployment"}};
  SchemaBuilder::field(deployment, "apiVersion", str);
  SchemaBuilder::field(deployment, "kind", str);
  SchemaBuilder::field(deployment, "metadata", meta);
  SchemaBuilder::field(deployment, "spec", dep_spec);
  SchemaBuilder::field(deployment, "status", dep_status);
  s.deployment = deployment;

  // core/v1 Node (cordon / uncordon).
  Node* taint = b.object("Taint");
  for (const char* f : {"key", "value", "effect"}) {
    SchemaBuilder::field(taint, f, str);
  }
  Node* node_spec = b.object("NodeSpec");
  SchemaBuilder::field(node_spec, "podCIDR", str);
  SchemaBuilder::field(node_spec, "unschedulable", boolean);
  SchemaBuilder::field(node_spec, "taints", b.list(taint, ListType::kAtomic));
  Node* node = b.object("io.k8s.api.core.v1.Node");
  node->gvks = {{"", "v1", "Node"}};
  SchemaBuilder::field(node, "apiVersion", str);
  SchemaBuilder::field(node, "kind", str);
  SchemaBuilder::field(node, "metadata", meta);
  SchemaBuilder::field(node, "spec", node_spec);
  s.node = node;

  // A custom resource whose spec preserves anything.
  Node* widget_status = b.object("WidgetStatus");
  SchemaBuilder::field(widget_status, "ready", boolean);
  Node* widget = b.object("example.com/v1 Widget");
  widget->gvks = {{"example.com", "v1", "Widget"}};
  SchemaBuilder::field(widget, "apiVersion", str);
  SchemaBuilder::field(widget, "kind", str);
  SchemaBuilder::field(widget, "metadata", meta);
  SchemaBuilder::field(widget, "spec", b.any());
  SchemaBuilder::field(widget, "status", widget_status);
  s.widget = widget;

  // autoscaling/v1 Scale.
  Node* scale_spec = b.object("ScaleSpec");
  SchemaBuilder::field(scale_spec, "replicas", integer);
  Node* scale = b.object("io.k8s.api.autoscaling.v1.Scale");
  SchemaBuilder::field(scale, "apiVersion", str);
  SchemaBuilder::field(scale, "kind", str);
  SchemaBuilder::field(scale, "metadata", meta);
  SchemaBuilder::field(scale, "spec", scale_spec);
  s.scale = scale;
}

}  // namespace

const TestSchemas& schemas() {
  static const TestSchemas* s = [] {
    auto* t = new TestSchemas();  // NOLINT(cppcoreguidelines-owning-memory): lives for the test run
    build(*t);
    return t;
  }();
  return *s;
}

json::Value js(std::string_view text) {
  auto v = json::parse(text);
  if (!v) {
    throw std::runtime_error("bad test JSON: " + v.error().message + " in " + std::string(text));
  }
  return std::move(*v);
}

}  // namespace skiff::testing
