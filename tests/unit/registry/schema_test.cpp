// SPDX-License-Identifier: Apache-2.0
// The generated built-in schema data: completeness and the facts other modules rely on.
#include "skiff/registry/schema.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "registry_test_util.hpp"

using skiff::registry::Field;
using skiff::registry::GroupVersionKind;
using skiff::registry::Kind;
using skiff::registry::ListType;
using skiff::registry::MapType;
using skiff::registry::Node;
using skiff::registry::ProtoShape;
using skiff::registry::Schema;

namespace {

const Node& named(std::string_view name) {
  const Node* n = Schema::builtin().find(name);
  INFO("looking up " << name);
  REQUIRE(n != nullptr);
  return *n;
}

const Field& field(const Node& n, std::string_view name) {
  const Field* f = n.field(name);
  INFO(n.name << " has no field " << name);
  REQUIRE(f != nullptr);
  return *f;
}

}  // namespace

TEST_CASE("every kind of the served group-versions is found by its GVK", "[registry][schema]") {
  const Schema& s = Schema::builtin();
  const std::vector<GroupVersionKind> kinds = {
      {"", "v1", "Pod"},
      {"", "v1", "PodList"},
      {"", "v1", "Service"},
      {"", "v1", "Namespace"},
      {"", "v1", "Node"},
      {"", "v1", "ConfigMap"},
      {"", "v1", "Secret"},
      {"", "v1", "Event"},
      {"", "v1", "ServiceAccount"},
      {"", "v1", "Endpoints"},
      {"", "v1", "PersistentVolume"},
      {"", "v1", "PersistentVolumeClaim"},
      {"", "v1", "ReplicationController"},
      {"", "v1", "ResourceQuota"},
      {"", "v1", "LimitRange"},
      {"", "v1", "Binding"},
      {"", "v1", "PodTemplate"},
      {"", "v1", "ComponentStatus"},
      {"", "v1", "Status"},
      {"", "v1", "List"},
      {"apps", "v1", "Deployment"},
      {"apps", "v1", "ReplicaSet"},
      {"apps", "v1", "StatefulSet"},
      {"apps", "v1", "DaemonSet"},
      {"apps", "v1", "ControllerRevision"},
      {"batch", "v1", "Job"},
      {"batch", "v1", "CronJob"},
      {"autoscaling", "v1", "HorizontalPodAutoscaler"},
      {"autoscaling", "v1", "Scale"},
      {"autoscaling", "v2", "HorizontalPodAutoscaler"},
      {"coordination.k8s.io", "v1", "Lease"},
      {"discovery.k8s.io", "v1", "EndpointSlice"},
      {"events.k8s.io", "v1", "Event"},
      {"networking.k8s.io", "v1", "Ingress"},
      {"networking.k8s.io", "v1", "IngressClass"},
      {"networking.k8s.io", "v1", "NetworkPolicy"},
      {"policy", "v1", "PodDisruptionBudget"},
      {"policy", "v1", "Eviction"},
      {"rbac.authorization.k8s.io", "v1", "Role"},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding"},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole"},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"},
      {"storage.k8s.io", "v1", "StorageClass"},
      {"storage.k8s.io", "v1", "CSIDriver"},
      {"storage.k8s.io", "v1", "VolumeAttachment"},
      {"scheduling.k8s.io", "v1", "PriorityClass"},
      {"node.k8s.io", "v1", "RuntimeClass"},
      {"certificates.k8s.io", "v1", "CertificateSigningRequest"},
      {"admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"},
      {"admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"},
      {"admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"},
      {"authentication.k8s.io", "v1", "TokenRequest"},
      {"authentication.k8s.io", "v1", "TokenReview"},
      {"authentication.k8s.io", "v1", "SelfSubjectReview"},
      {"authorization.k8s.io", "v1", "SelfSubjectAccessReview"},
      {"authorization.k8s.io", "v1", "SelfSubjectRulesReview"},
      {"authorization.k8s.io", "v1", "SubjectAccessReview"},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinitionList"},
      {"meta.k8s.io", "v1", "Table"},
      {"meta.k8s.io", "v1", "PartialObjectMetadata"},
      {"meta.k8s.io", "v1", "PartialObjectMetadataList"},
      {"meta.k8s.io", "v1", "DeleteOptions"},
      {"", "v1", "DeleteOptions"},
      {"apps", "v1", "DeleteOptions"},
      {"", "v1", "WatchEvent"},
      {"", "v1", "APIResourceList"},
      {"", "v1", "APIGroupList"},
  };
  for (const GroupVersionKind& gvk : kinds) {
    INFO(gvk.group << "/" << gvk.version << " " << gvk.kind);
    const Node* n = s.find_kind(gvk);
    REQUIRE(n != nullptr);
    CHECK(n->kind == Kind::kObject);
    CHECK(std::find(n->gvks.begin(), n->gvks.end(), gvk) != n->gvks.end());
  }
  CHECK(s.find_kind({"apps", "v1", "Pod"}) == nullptr);
  CHECK(s.find_kind({"", "v2", "Pod"}) == nullptr);
  CHECK(s.find_kind({"", "v1", "Deployment"}) == nullptr);
  CHECK(s.find_kind({"apps", "v1", "Deployment"})->name == "io.k8s.api.apps.v1.Deployment");
  CHECK(s.find_kind({"events.k8s.io", "v1", "Event"})->name == "io.k8s.api.events.v1.Event");
  CHECK(s.find_kind({"", "v1", "Event"})->name == "io.k8s.api.core.v1.Event");
  CHECK(s.find_kind({"", "v1", "List"})->name == "io.k8s.api.core.v1.List");
  CHECK(s.kinds().size() > 150);
  CHECK(s.root() == nullptr);
}

TEST_CASE("built-in nodes carry list, map and patch semantics", "[registry][schema]") {
  const Node& pod_spec = named("io.k8s.api.core.v1.PodSpec");
  const Node& containers = *field(pod_spec, "containers").node;
  CHECK(containers.kind == Kind::kArray);
  CHECK(containers.items == &named("io.k8s.api.core.v1.Container"));
  CHECK(containers.patch_merge_key == "name");
  CHECK(containers.patch_strategy == "merge");
  CHECK(containers.list_type == ListType::kMap);
  CHECK(containers.list_map_keys == std::vector<std::string>{"name"});
  CHECK(field(pod_spec, "containers").required);
  CHECK(field(pod_spec, "containers").proto_number == 2);
  CHECK(field(pod_spec, "volumes").node->patch_strategy == "merge,retainKeys");

  const Node& container = named("io.k8s.api.core.v1.Container");
  const Node& ports = *field(container, "ports").node;
  CHECK(ports.list_map_keys == std::vector<std::string>{"containerPort", "protocol"});
  CHECK(ports.patch_merge_key == "containerPort");
  CHECK(field(container, "name").required);
  CHECK_FALSE(field(container, "image").required);
  CHECK(field(container, "image").omit_empty);
  CHECK(field(container, "imagePullPolicy").node->enum_values.size() == 3);

  const Node& port = named("io.k8s.api.core.v1.ContainerPort");
  const Node& protocol = *field(port, "protocol").node;
  REQUIRE(protocol.default_value);
  CHECK(*protocol.default_value == skiff::json::Value("TCP"));
  CHECK(protocol.enum_values == std::vector<skiff::json::Value>{"SCTP", "TCP", "UDP"});
  CHECK(field(port, "containerPort").node->format == "int32");

  const Node& meta = named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  const Node& labels = *field(meta, "labels").node;
  CHECK(labels.kind == Kind::kMap);
  CHECK(labels.items->kind == Kind::kString);
  CHECK(field(meta, "creationTimestamp").node->kind == Kind::kTime);
  CHECK(field(meta, "finalizers").node->list_type == ListType::kSet);
  CHECK(field(meta, "ownerReferences").node->patch_merge_key == "uid");

  CHECK(field(pod_spec, "nodeSelector").node->map_type == MapType::kAtomic);
  CHECK(named("io.k8s.api.core.v1.ObjectReference").map_type == MapType::kAtomic);
  // A field-level +structType on a named struct: a refined copy pointing back at it.
  const Node& claim_ref = *field(named("io.k8s.api.core.v1.PersistentVolumeSpec"), "claimRef").node;
  CHECK(claim_ref.map_type == MapType::kGranular);
  CHECK(claim_ref.refines == &named("io.k8s.api.core.v1.ObjectReference"));
  CHECK(claim_ref.field("uid") != nullptr);
  const Node& strategy = *field(named("io.k8s.api.apps.v1.DeploymentSpec"), "strategy").node;
  CHECK(strategy.patch_strategy == "retainKeys");
  CHECK(strategy.refines == &named("io.k8s.api.apps.v1.DeploymentStrategy"));
}

TEST_CASE("inlined structs, type meta, bytes and wrapper arrays are modelled for JSON and protobuf",
          "[registry][schema]") {
  const Node& volume = named("io.k8s.api.core.v1.Volume");
  // JSON view: emptyDir inline; protobuf: field 2 is the inlined VolumeSource.
  CHECK(field(volume, "emptyDir").node == &named("io.k8s.api.core.v1.EmptyDirVolumeSource"));
  CHECK(field(volume, "emptyDir").proto_number == 0);
  const Field* source = volume.proto_field(2);
  REQUIRE(source != nullptr);
  CHECK(source->inlined);
  CHECK(source->node == &named("io.k8s.api.core.v1.VolumeSource"));
  CHECK(volume.field(source->name) == nullptr);  // not part of the JSON view
  CHECK(volume.proto_field(1)->name == "name");

  const Node& secret = named("io.k8s.api.core.v1.Secret");
  CHECK(field(secret, "data").node->kind == Kind::kMap);
  CHECK(field(secret, "data").node->items->kind == Kind::kBytes);
  CHECK(field(secret, "stringData").node->items->kind == Kind::kString);

  const Node& deployment = named("io.k8s.api.apps.v1.Deployment");
  CHECK(field(deployment, "apiVersion").node->kind == Kind::kString);
  CHECK(field(deployment, "apiVersion").proto_number == 0);
  CHECK(field(deployment, "kind").proto_number == 0);
  CHECK(field(deployment, "metadata").proto_number == 1);
  CHECK(field(named("io.k8s.api.apps.v1.DeploymentSpec"), "replicas").pointer);

  const Node& verbs =
      *field(named("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource"), "verbs").node;
  CHECK(verbs.kind == Kind::kArray);
  CHECK(verbs.proto_shape == ProtoShape::kWrappedArray);
  for (std::string_view name : {"io.k8s.api.authentication.v1.UserInfo",
                                "io.k8s.api.authorization.v1.SubjectAccessReviewSpec",
                                "io.k8s.api.certificates.v1.CertificateSigningRequestSpec"}) {
    INFO(name);
    const Node& extra = *field(named(name), "extra").node;
    CHECK(extra.kind == Kind::kMap);
    CHECK(extra.items->proto_shape == ProtoShape::kWrappedArray);
    CHECK(extra.items->items->kind == Kind::kString);
  }

  CHECK(named("io.k8s.apimachinery.pkg.api.resource.Quantity").kind == Kind::kQuantity);
  CHECK(named("io.k8s.apimachinery.pkg.util.intstr.IntOrString").kind == Kind::kIntOrString);
  CHECK(named("io.k8s.apimachinery.pkg.runtime.RawExtension").kind == Kind::kAny);
  CHECK(named("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime").kind == Kind::kMicroTime);
  CHECK(named("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1").kind == Kind::kAny);
  const Node& unknown = named("io.k8s.apimachinery.pkg.runtime.Unknown");
  CHECK(unknown.proto_field(1)->inlined);
  CHECK(field(named("io.k8s.apimachinery.pkg.apis.meta.v1.TableRow"), "cells").node->items->kind ==
        Kind::kAny);
  CHECK(field(named("io.k8s.api.core.v1.ServicePort"), "targetPort").node ==
        &named("io.k8s.apimachinery.pkg.util.intstr.IntOrString"));
  CHECK(field(named("io.k8s.api.core.v1.ResourceRequirements"), "limits").node->items ==
        &named("io.k8s.apimachinery.pkg.api.resource.Quantity"));
}

TEST_CASE("the apiextensions JSONSchemaProps recursion resolves", "[registry][schema]") {
  const Node& props =
      named("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps");
  CHECK(field(props, "properties").node->kind == Kind::kMap);
  CHECK(field(props, "properties").node->items == &props);
  CHECK(field(props, "not").node == &props);
  CHECK(field(props, "allOf").node->items == &props);
  CHECK(field(props, "$ref").proto_number == 3);
  CHECK(field(props, "x-kubernetes-preserve-unknown-fields").proto_number == 38);
  CHECK(field(props, "default").node->kind == Kind::kAny);
  const Node& items = *field(props, "items").node;
  CHECK(items.proto_shape == ProtoShape::kSchemaOrArray);
  CHECK(items.proto_field(1)->node == &props);
  CHECK(items.proto_field(2)->node->items == &props);
  CHECK(field(props, "additionalProperties").node->proto_shape == ProtoShape::kSchemaOrBool);
  CHECK(field(props, "dependencies").node->items->proto_shape == ProtoShape::kSchemaOrStringArray);
  const Node& crd = named(
      "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion");
  CHECK(field(*field(crd, "schema").node, "openAPIV3Schema").node == &props);
}

TEST_CASE("every reference in the built-in schema points at a node of the same schema",
          "[registry][schema]") {
  const Schema& s = Schema::builtin();
  std::vector<const Node*> all = s.named();
  REQUIRE(all.size() > 500);
  CHECK(std::is_sorted(all.begin(), all.end(),
                       [](const Node* a, const Node* b) { return a->name < b->name; }));
  std::set<const Node*> seen;
  std::vector<const Node*> todo(all.begin(), all.end());
  while (!todo.empty()) {
    const Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) {
      continue;
    }
    INFO(n->name);
    if (!n->name.empty()) {
      CHECK(s.find(n->name) == n);
    }
    if (n->kind == Kind::kArray || n->kind == Kind::kMap) {
      REQUIRE(n->items != nullptr);
      todo.push_back(n->items);
    }
    std::set<std::string> names;
    std::set<std::int32_t> numbers;
    for (const Field& f : n->fields) {
      REQUIRE(f.node != nullptr);
      todo.push_back(f.node);
      if (!f.inlined) {
        CHECK(names.insert(f.name).second);
      }
      if (f.proto_number != 0) {
        CHECK(numbers.insert(f.proto_number).second);
      }
    }
  }
  CHECK(seen.size() <= s.size());
}

TEST_CASE("the built-in schema loads once and is shared by every thread", "[registry][schema]") {
  std::vector<const Schema*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &Schema::builtin(); });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const Schema* s : seen) {
    CHECK(s == &Schema::builtin());
  }
  CHECK(skiff::registry::api_version({"", "v1", "Pod"}) == "v1");
  CHECK(skiff::registry::api_version({"apps", "v1", "Deployment"}) == "apps/v1");
  CHECK(skiff::registry::parse_api_version("rbac.authorization.k8s.io/v1", "Role") ==
        GroupVersionKind{"rbac.authorization.k8s.io", "v1", "Role"});
  CHECK(skiff::registry::parse_api_version("v1", "Pod") == GroupVersionKind{"", "v1", "Pod"});
}
