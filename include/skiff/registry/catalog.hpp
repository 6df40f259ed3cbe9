// SPDX-License-Identifier: Apache-2.0
#pragma once

// catalog: the one table that defines every resource type the API server serves. Each entry names
// the type (group, version, kind, plural, singular, scope, short names, categories, verbs,
// subresources), points at its schema node and at its Strategy (the per-kind behaviour: defaulting,
// validation, what an update may change, field selectors, table printing), and says where its objects
// are stored. Routes, discovery, OpenAPI, tables and the REST storage all read it. Built-in kinds are
// registered at start; CRDs are added and removed at run time, and readers see a consistent
// snapshot.
//
// Threads: Catalog is thread-safe. `snapshot()` returns an immutable view that stays valid while held
// (hold it for one request); `add_custom`/`remove_custom` publish a new snapshot and bump
// `generation()`, which discovery and OpenAPI use to rebuild their documents.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/schema.hpp"

namespace skiff::registry {

/// A subresource as discovery lists it (`pods/status`, `deployments/scale`, `pods/log`).
struct SubresourceInfo {
  std::string name;
  GroupVersionKind kind;  ///< response kind; its group/version differ for Scale, Eviction, TokenRequest
  std::vector<std::string> verbs;
};

/// A Table column (meta.k8s.io/v1 TableColumnDefinition).
struct PrinterColumn {
  std::string name;         ///< "Name", "Ready", "Age"
  std::string type;         ///< "string", "integer", "number", "boolean", "date"
  std::string format;       ///< "name" for the Name column, else usually empty
  std::string description;
  int priority = 0;         ///< 0 = shown by default, >0 = with `-o wide`
  std::string json_path;    ///< CRD additionalPrinterColumns: the JSONPath; empty for built-ins
};

/// The time a Strategy computes with (creation timestamps, table ages).
using TimePoint = std::chrono::system_clock::time_point;

/// Per-kind behaviour. The registry does what is common to every kind (server-set metadata,
/// generation, clearing status on create and keeping it on update for kinds with a status
/// subresource, generic ObjectMeta validation); a Strategy adds the kind's own rules. The default
/// implementation is a kind without special rules (Name/Age table, no field labels). Implementations
/// are stateless and thread-safe. Methods receive whole objects as JSON trees (apiVersion/kind set,
/// metadata present).
class Strategy {
 public:
  virtual ~Strategy() = default;

  /// Upstream's SetDefaults_* for the kind: fills absent fields. Called for creates and updates, after
  /// decoding and before validation. An empty struct where the field would be absent (as protobuf
  /// bodies produce) counts as absent.
  virtual void apply_defaults(json::Value& object) const;

  /// Whether metadata.generation is tracked (set to 1 on create, bumped when anything outside
  /// metadata and status changes). Upstream: workloads, services? no; default false.
  virtual bool tracks_generation() const;

  /// PrepareForCreate beyond the generic steps (e.g. a Namespace gets phase Active).
  virtual void prepare_for_create(json::Value& object) const;

  /// PrepareForUpdate of the main resource beyond the generic steps.
  virtual void prepare_for_update(json::Value& object, const json::Value& old) const;

  /// Validation of a new object (upstream ValidateX): field causes worded like upstream. The generic
  /// ObjectMeta checks (name format, labels, annotations) are done by the caller; this adds the kind's
  /// own rules.
  virtual std::vector<FieldCause> validate(const json::Value& object) const;

  /// Validation of an update: `validate(object)` plus immutability rules against `old`.
  virtual std::vector<FieldCause> validate_update(const json::Value& object,
                                                  const json::Value& old) const;

  /// Field selector labels this kind supports beyond metadata.name and metadata.namespace.
  virtual std::vector<std::string> field_labels() const;

  /// The value of a supported field label for `object`, or nullopt when `label` is unsupported.
  /// metadata.name and metadata.namespace are handled by the caller.
  virtual std::optional<std::string> field_value(const json::Value& object,
                                                 std::string_view label) const;

  /// The kind's Table columns (upstream's printer column definitions). Default: Name, Age.
  virtual std::vector<PrinterColumn> columns() const;

  /// One Table row's cells for `object`, matching columns(): strings (ages pre-formatted like
  /// kubectl's "5m10s"), integers for integer columns.
  virtual json::Array cells(const json::Value& object, TimePoint now) const;

  /// True when DELETE only marks the object (deletionTimestamp) and something else (kubelet)
  /// completes it, given the request's effective grace period. Pods with a node: true; default false.
  virtual bool graceful_delete(const json::Value& object, std::int64_t grace_period_seconds) const;
};

/// The shared default strategy.
const Strategy& default_strategy();

/// How a CRD declares its scale subresource (JSON paths into the custom resource).
struct ScalePaths {
  std::string spec_replicas;    ///< e.g. ".spec.replicas"
  std::string status_replicas;  ///< e.g. ".status.replicas"
  std::string label_selector;   ///< optional, e.g. ".status.selector"
};

/// One served group-version-resource.
struct ResourceType {
  GroupVersionKind gvk;        ///< served group, version and kind
  std::string plural;          ///< "deployments"
  std::string singular;        ///< "deployment"
  std::string list_kind;       ///< "DeploymentList"
  bool namespaced = true;
  std::vector<std::string> short_names;  ///< "deploy"
  std::vector<std::string> categories;   ///< "all"
  std::vector<std::string> verbs;        ///< discovery verbs of the main resource
  std::vector<SubresourceInfo> subresources;
  /// Table columns: CRD additionalPrinterColumns, else the strategy's columns().
  std::vector<PrinterColumn> columns;

  /// The schema of the served kind (built-ins: a node of Schema::builtin(); CRDs: root of
  /// `custom_schema`).
  const Node* schema = nullptr;
  std::shared_ptr<const Schema> custom_schema;
  const Strategy* strategy = &default_strategy();

  /// Where objects live in kv, shared by every version of one resource: "/registry/deployments/"
  /// (objects at "<prefix><namespace>/<name>", cluster-scoped ones at "<prefix><name>").
  std::string storage_prefix;
  /// The version objects are stored at. Other served versions convert on read and write.
  std::string storage_version;

  bool custom = false;           ///< defined by a CRD
  bool has_status = false;       ///< a status subresource splits status from the main resource
  std::optional<ScalePaths> scale;  ///< CRD scale subresource; built-ins with scale use their strategy
  /// Discovery order within the group: lower first; the first version listed is the preferred one.
  int version_priority = 0;
  /// A CRD version marked deprecated: the text of the Warning header every request to it gets
  /// (its deprecationWarning, else upstream's default). Empty: not deprecated.
  std::string deprecation_warning;

  std::string group_version() const {
    return gvk.group.empty() ? gvk.version : gvk.group + "/" + gvk.version;
  }
  bool has_verb(std::string_view verb) const;
  const SubresourceInfo* subresource(std::string_view name) const;
};

/// A consistent set of resource types (one catalog generation).
class CatalogSnapshot {
 public:
  explicit CatalogSnapshot(std::vector<std::shared_ptr<const ResourceType>> types,
                           std::uint64_t generation);

  /// By group, version and plural (URLs name resources by plural).
  const ResourceType* find(std::string_view group, std::string_view version,
                           std::string_view plural) const noexcept;
  /// By served kind.
  const ResourceType* find_kind(const GroupVersionKind& gvk) const noexcept;
  /// Every type, in discovery order (groups in registration order, versions by priority).
  const std::vector<std::shared_ptr<const ResourceType>>& types() const noexcept { return types_; }
  /// Distinct groups in discovery order ("" first), each with its versions in preference order.
  struct GroupVersions {
    std::string group;
    std::vector<std::string> versions;
  };
  const std::vector<GroupVersions>& groups() const noexcept { return groups_; }
  std::uint64_t generation() const noexcept { return generation_; }

 private:
  std::vector<std::shared_ptr<const ResourceType>> types_;
  std::vector<GroupVersions> groups_;
  std::uint64_t generation_ = 0;
};

/// The live catalog.
class Catalog {
 public:
  /// A catalog holding every built-in type (see builtin_types()).
  Catalog();
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  std::shared_ptr<const CatalogSnapshot> snapshot() const;
  std::uint64_t generation() const;

  /// Adds or replaces the types of one custom resource (all served versions of one CRD, identified by
  /// group + plural). Errors: kAlreadyExists if the group+plural or a kind clashes with a built-in.
  Result<void> set_custom(std::string group, std::string plural,
                          std::vector<std::shared_ptr<const ResourceType>> versions);
  /// Removes a custom resource's types; false if absent.
  bool remove_custom(std::string_view group, std::string_view plural);

  /// Calls `fn` (without locks held, on the thread that changed the catalog) after every change.
  void on_change(std::function<void()> fn);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The built-in resource types, in discovery order.
std::vector<std::shared_ptr<const ResourceType>> builtin_types();

}  // namespace skiff::registry
