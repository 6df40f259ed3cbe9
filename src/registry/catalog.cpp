// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/catalog.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "strategies.hpp"

namespace skiff::registry {

bool ResourceType::has_verb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

const SubresourceInfo* ResourceType::subresource(std::string_view name) const {
  for (const auto& s : subresources) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

// ---- snapshot ----

CatalogSnapshot::CatalogSnapshot(std::vector<std::shared_ptr<const ResourceType>> types,
                                 std::uint64_t generation)
    : types_(std::move(types)), generation_(generation) {
  // Groups in first-seen order; within a group, versions by priority (stable for equal ones).
  for (const auto& t : types_) {
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const GroupVersions& g) { return g.group == t->gvk.group; });
    if (it == groups_.end()) {
      groups_.push_back({t->gvk.group, {}});
      it = groups_.end() - 1;
    }
    if (std::find(it->versions.begin(), it->versions.end(), t->gvk.version) == it->versions.end()) {
      it->versions.push_back(t->gvk.version);
    }
  }
  for (auto& g : groups_) {
    std::stable_sort(g.versions.begin(), g.versions.end(),
                     [&](const std::string& a, const std::string& b) {
                       auto prio = [&](const std::string& v) {
                         int best = 1 << 30;
                         for (const auto& t : types_) {
                           if (t->gvk.group == g.group && t->gvk.version == v) {
                             best = std::min(best, t->version_priority);
                           }
                         }
                         return best;
                       };
                       return prio(a) < prio(b);
                     });
  }
}

const ResourceType* CatalogSnapshot::find(std::string_view group, std::string_view version,
                                          std::string_view plural) const noexcept {
  for (const auto& t : types_) {
    if (t->plural == plural && t->gvk.version == version && t->gvk.group == group) {
      return t.get();
    }
  }
  return nullptr;
}

const ResourceType* CatalogSnapshot::find_kind(const GroupVersionKind& gvk) const noexcept {
  for (const auto& t : types_) {
    if (t->gvk == gvk) {
      return t.get();
    }
  }
  return nullptr;
}

// ---- catalog ----

struct Catalog::State {
  mutable std::mutex mu;
  std::vector<std::shared_ptr<const ResourceType>> builtin;
  // CRDs by "group/plural", in creation order.
  std::vector<std::pair<std::string, std::vector<std::shared_ptr<const ResourceType>>>> custom;
  std::shared_ptr<const CatalogSnapshot> current;
  std::uint64_t generation = 1;
  std::vector<std::function<void()>> listeners;

  void publish() {
    std::vector<std::shared_ptr<const ResourceType>> all = builtin;
    for (const auto& [key, versions] : custom) {
      all.insert(all.end(), versions.begin(), versions.end());
    }
    current = std::make_shared<const CatalogSnapshot>(std::move(all), generation);
  }
};

Catalog::Catalog() : state_(std::make_unique<State>()) {
  state_->builtin = builtin_types();
  state_->publish();
}

Catalog::~Catalog() = default;

std::shared_ptr<const CatalogSnapshot> Catalog::snapshot() const {
  std::lock_guard lock(state_->mu);
  return state_->current;
}

std::uint64_t Catalog::generation() const {
  std::lock_guard lock(state_->mu);
  return state_->generation;
}

Result<void> Catalog::set_custom(std::string group, std::string plural,
                                 std::vector<std::shared_ptr<const ResourceType>> versions) {
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(state_->mu);
    for (const auto& b : state_->builtin) {
      if (b->gvk.group == group && b->plural == plural) {
        return errors::already_exists(
            fmt::format("{}.{} is served by a built-in type", plural, group));
      }
    }
    std::string key = group + "/" + plural;
    auto it = std::find_if(state_->custom.begin(), state_->custom.end(),
                           [&](const auto& e) { return e.first == key; });
    if (it == state_->custom.end()) {
      state_->custom.emplace_back(std::move(key), std::move(versions));
    } else {
      it->second = std::move(versions);
    }
    ++state_->generation;
    state_->publish();
    listeners = state_->listeners;
  }
  for (auto& fn : listeners) {
    fn();
  }
  return {};
}

bool Catalog::remove_custom(std::string_view group, std::string_view plural) {
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(state_->mu);
    std::string key = fmt::format("{}/{}", group, plural);
    auto it = std::find_if(state_->custom.begin(), state_->custom.end(),
                           [&](const auto& e) { return e.first == key; });
    if (it == state_->custom.end()) {
      return false;
    }
    state_->custom.erase(it);
    ++state_->generation;
    state_->publish();
    listeners = state_->listeners;
  }
  for (auto& fn : listeners) {
    fn();
  }
  return true;
}

void Catalog::on_change(std::function<void()> fn) {
  std::lock_guard lock(state_->mu);
  state_->listeners.push_back(std::move(fn));
}

// ---- built-in types ----

namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kNoCollectionVerbs = {"create", "delete", "get",   "list",
                                                     "patch",  "update", "watch"};
const std::vector<std::string> kCreateOnly = {"create"};
const std::vector<std::string> kGetPatchUpdate = {"get", "patch", "update"};

// Upstream's Go package name for a group, used in OpenAPI definition names.
std::string schema_package(std::string_view group) {
  static const std::unordered_map<std::string_view, std::string_view> kPackages = {
      {"", "core"},
      {"apps", "apps"},
      {"batch", "batch"},
      {"autoscaling", "autoscaling"},
      {"coordination.k8s.io", "coordination"},
      {"discovery.k8s.io", "discovery"},
      {"events.k8s.io", "events"},
      {"networking.k8s.io", "networking"},
      {"policy", "policy"},
      {"rbac.authorization.k8s.io", "rbac"},
      {"storage.k8s.io", "storage"},
      {"scheduling.k8s.io", "scheduling"},
      {"node.k8s.io", "node"},
      {"certificates.k8s.io", "certificates"},
      {"admissionregistration.k8s.io", "admissionregistration"},
      {"authentication.k8s.io", "authentication"},
      {"authorization.k8s.io", "authorization"},
  };
  auto it = kPackages.find(group);
  return it == kPackages.end() ? std::string(group) : std::string(it->second);
}

std::string definition_name(const GroupVersionKind& gvk) {
  if (gvk.group == "apiextensions.k8s.io") {
    return fmt::format("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{}.{}", gvk.version,
                       gvk.kind);
  }
  return fmt::format("io.k8s.api.{}.{}.{}", schema_package(gvk.group), gvk.version, gvk.kind);
}

struct Builder {
  std::vector<std::shared_ptr<const ResourceType>> out;

  ResourceType& add(std::string group, std::string version, std::string kind, std::string plural,
                    bool namespaced, std::vector<std::string> short_names = {},
                    const std::vector<std::string>& verbs = kAllVerbs) {
    auto t = std::make_shared<ResourceType>();
    t->gvk = {std::move(group), std::move(version), std::move(kind)};
    t->plural = std::move(plural);
    t->singular = t->gvk.kind;
    std::transform(t->singular.begin(), t->singular.end(), t->singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->list_kind = t->gvk.kind + "List";
    t->namespaced = namespaced;
    t->short_names = std::move(short_names);
    t->verbs = verbs;
    // Built-ins live under /registry/<resource>/ as upstream's (CRDs under /registry/<group>/...).
    t->storage_prefix = "/registry/" + t->plural + "/";
    t->storage_version = t->gvk.version;
    t->schema = Schema::builtin().find(definition_name(t->gvk));
    t->strategy = &strategy_for(t->gvk);
    out.push_back(t);
    return *t;
  }

  // The type just added, for adjustments.
  ResourceType& last() { return const_cast<ResourceType&>(*out.back()); }
};

void status(ResourceType& t) {
  t.has_status = true;
  t.subresources.push_back({"status", t.gvk, kGetPatchUpdate});
}

void scale(ResourceType& t) {
  t.subresources.push_back({"scale", {"autoscaling", "v1", "Scale"}, kGetPatchUpdate});
}

}  // namespace

std::vector<std::shared_ptr<const ResourceType>> builtin_types() {
  Builder b;
  const std::vector<std::string> all = {"all"};
  const std::vector<std::string> api_extensions = {"api-extensions"};

  // core/v1 (discovery lists resources alphabetically within a group-version).
  b.add("", "v1", "Binding", "bindings", true, {}, kCreateOnly);
  b.add("", "v1", "ConfigMap", "configmaps", true, {"cm"});
  {
    auto& t = b.add("", "v1", "Endpoints", "endpoints", true, {"ep"});
    t.singular = "endpoints";
  }
  b.add("", "v1", "Event", "events", true, {"ev"});
  b.add("", "v1", "LimitRange", "limitranges", true, {"limits"});
  {
    auto& t = b.add("", "v1", "Namespace", "namespaces", false, {"ns"}, kNoCollectionVerbs);
    t.subresources.push_back({"finalize", t.gvk, {"update"}});
    status(t);
  }
  {
    auto& t = b.add("", "v1", "Node", "nodes", false, {"no"});
    t.storage_prefix = "/registry/minions/";
    t.subresources.push_back({"proxy", {"", "v1", "NodeProxyOptions"},
                              {"create", "delete", "get", "patch", "update"}});
    status(t);
  }
  {
    auto& t = b.add("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"});
    status(t);
  }
  {
    auto& t = b.add("", "v1", "PersistentVolume", "persistentvolumes", false, {"pv"});
    status(t);
  }
  {
    auto& t = b.add("", "v1", "Pod", "pods", true, {"po"});
    t.categories = all;
    t.subresources.push_back({"attach", {"", "v1", "PodAttachOptions"}, {"create", "get"}});
    t.subresources.push_back({"binding", {"", "v1", "Binding"}, kCreateOnly});
    t.subresources.push_back({"ephemeralcontainers", t.gvk, kGetPatchUpdate});
    t.subresources.push_back({"eviction", {"policy", "v1", "Eviction"}, kCreateOnly});
    t.subresources.push_back({"exec", {"", "v1", "PodExecOptions"}, {"create", "get"}});
    t.subresources.push_back({"log", t.gvk, {"get"}});
    t.subresources.push_back(
        {"portforward", {"", "v1", "PodPortForwardOptions"}, {"create", "get"}});
    t.subresources.push_back({"proxy", {"", "v1", "PodProxyOptions"},
                              {"create", "delete", "get", "patch", "update"}});
    status(t);
  }
  b.add("", "v1", "PodTemplate", "podtemplates", true);
  {
    auto& t = b.add("", "v1", "ReplicationController", "replicationcontrollers", true, {"rc"});
    t.categories = all;
    scale(t);
    status(t);
  }
  {
    auto& t = b.add("", "v1", "ResourceQuota", "resourcequotas", true, {"quota"});
    status(t);
  }
  b.add("", "v1", "Secret", "secrets", true);
  {
    auto& t = b.add("", "v1", "ServiceAccount", "serviceaccounts", true, {"sa"});
    t.subresources.push_back(
        {"token", {"authentication.k8s.io", "v1", "TokenRequest"}, kCreateOnly});
  }
  {
    auto& t = b.add("", "v1", "Service", "services", true, {"svc"});
    t.categories = all;
    t.storage_prefix = "/registry/services/specs/";
    t.subresources.push_back({"proxy", {"", "v1", "ServiceProxyOptions"},
                              {"create", "delete", "get", "patch", "update"}});
    status(t);
  }

  // apps/v1
  b.add("apps", "v1", "ControllerRevision", "controllerrevisions", true);
  {
    auto& t = b.add("apps", "v1", "DaemonSet", "daemonsets", true, {"ds"});
    t.categories = all;
    status(t);
  }
  {
    auto& t = b.add("apps", "v1", "Deployment", "deployments", true, {"deploy"});
    t.categories = all;
    scale(t);
    status(t);
  }
  {
    auto& t = b.add("apps", "v1", "ReplicaSet", "replicasets", true, {"rs"});
    t.categories = all;
    scale(t);
    status(t);
  }
  {
    auto& t = b.add("apps", "v1", "StatefulSet", "statefulsets", true, {"sts"});
    t.categories = all;
    scale(t);
    status(t);
  }

  // autoscaling: v2 is preferred; both versions share one storage (stored as v2).
  {
    auto& t = b.add("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true,
                    {"hpa"});
    t.categories = all;
    t.version_priority = 0;
    status(t);
  }
  {
    auto& t = b.add("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true,
                    {"hpa"});
    t.categories = all;
    t.version_priority = 1;
    t.storage_version = "v2";
    status(t);
  }

  // batch/v1
  {
    auto& t = b.add("batch", "v1", "CronJob", "cronjobs", true, {"cj"});
    t.categories = all;
    status(t);
  }
  {
    auto& t = b.add("batch", "v1", "Job", "jobs", true);
    t.categories = all;
    status(t);
  }

  // certificates.k8s.io/v1
  {
    auto& t = b.add("certificates.k8s.io", "v1", "CertificateSigningRequest",
                    "certificatesigningrequests", false, {"csr"});
    t.subresources.push_back({"approval", t.gvk, kGetPatchUpdate});
    status(t);
  }

  b.add("coordination.k8s.io", "v1", "Lease", "leases", true);
  b.add("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true);
  {
    // events.k8s.io/v1 Events are core Events seen through another version (shared storage).
    auto& t = b.add("events.k8s.io", "v1", "Event", "events", true, {"ev"});
    t.storage_prefix = "/registry/events/";
  }

  // networking.k8s.io/v1
  b.add("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false);
  {
    auto& t = b.add("networking.k8s.io", "v1", "Ingress", "ingresses", true, {"ing"});
    t.storage_prefix = "/registry/ingress/";
    status(t);
  }
  b.add("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, {"netpol"});

  b.add("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false);

  {
    auto& t = b.add("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {"pdb"});
    status(t);
  }

  b.add("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false);
  b.add("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false);
  b.add("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true);
  b.add("rbac.authorization.k8s.io", "v1", "Role", "roles", true);

  b.add("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, {"pc"});

  b.add("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false);
  b.add("storage.k8s.io", "v1", "CSINode", "csinodes", false);
  b.add("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, {"sc"});
  {
    auto& t = b.add("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false);
    status(t);
  }

  {
    auto& t = b.add("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
                    "mutatingwebhookconfigurations", false);
    t.categories = api_extensions;
  }
  {
    auto& t = b.add("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
                    "validatingwebhookconfigurations", false);
    t.categories = api_extensions;
  }

  {
    auto& t = b.add("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                    "customresourcedefinitions", false, {"crd", "crds"});
    t.categories = api_extensions;
    status(t);
  }

  // Review APIs: create-only, never stored.
  b.add("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false, {},
        kCreateOnly);
  b.add("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, {}, kCreateOnly);
  b.add("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", true,
        {}, kCreateOnly);
  b.add("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false,
        {}, kCreateOnly);
  b.add("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false,
        {}, kCreateOnly);
  b.add("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, {},
        kCreateOnly);

  for (auto& t : b.out) {
    auto& m = const_cast<ResourceType&>(*t);
    m.columns = m.strategy->columns();
  }
  return std::move(b.out);
}

}  // namespace skiff::registry
