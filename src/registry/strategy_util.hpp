// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers shared by the built-in strategies (private to src/registry): reading and defaulting
// fields of generic objects the way upstream's typed Go code sees them, the pod template rules
// every workload kind reuses (defaults, validation), the printers' formatting helpers, and the
// per-group strategy tables that strategies.cpp dispatches to.
//
// "Unset" follows upstream's Go view of a JSON field: a missing member, null, an empty string
// (Go's "" zero value) and an empty object (a protobuf body's empty struct where a pointer would
// be nil) all read as unset. Everything here is pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/api/validation.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

namespace skiff::registry::strategies {

using Causes = std::vector<FieldCause>;

// ---- reading ----------------------------------------------------------------------------------

/// Missing, null, "" or {}.
bool unset(const json::Value* v) noexcept;
/// unset(), or a zero number, false, or an empty array (Go's zero values).
bool zero(const json::Value* v) noexcept;
/// The member as a string ("" unless it is one).
std::string str(const json::Value& object, std::string_view key);
/// The member as an integer (`fallback` unless it is an integral number).
std::int64_t num(const json::Value& object, std::string_view key, std::int64_t fallback = 0);
/// The member as an array (a shared empty array unless it is one).
const json::Array& arr(const json::Value& object, std::string_view key);
/// Appends `more` to `out`.
void append(Causes& out, Causes more);

// ---- defaulting -------------------------------------------------------------------------------

/// The member as an object: created (or replaced when not an object) as {}.
json::Value& obj(json::Value& parent, std::string_view key);
/// Sets `key` when unset().
void set_default(json::Value& object, std::string_view key, json::Value value);
/// Sets `key` when zero() (upstream's `if x == 0` defaults).
void set_default_if_zero(json::Value& object, std::string_view key, json::Value value);
/// SetDefaults_ResourceList: quantities rounded up to milli precision, written canonically only
/// when rounding changed them.
void default_resource_list(json::Value* list);

/// SetDefaults_PodSpec and the generated defaults of everything a pod spec contains (containers,
/// probes, ports, env, volumes). `is_pod` adds SetDefaults_Pod's rules (requests from limits,
/// enableServiceLinks, host-network ports), which upstream applies to Pods but not to templates.
void default_pod_spec(json::Value& spec, bool is_pod);
/// A PodTemplateSpec's defaults (its spec, when present).
void default_pod_template(json::Value& template_spec);
/// SetDefaults_PersistentVolumeClaimSpec (volumeMode Filesystem, resource lists).
void default_pvc_spec(json::Value& spec);

// ---- validation -------------------------------------------------------------------------------

/// Which variant of the pod rules applies.
struct PodSpecOptions {
  bool is_template = false;  ///< a workload's template (no nodeName/ephemeral containers rules)
};

/// ValidatePodSpec: volumes, containers, init containers, policies, node selector, tolerations,
/// names, security context basics.
Causes validate_pod_spec(const json::Value& spec, const std::string& path,
                         const PodSpecOptions& options = {});
/// ValidatePodTemplateSpec: template labels and annotations, then the spec.
Causes validate_pod_template(const json::Value& template_spec, const std::string& path);
/// ValidateResourceRequirements-style checks of a container's resources.
Causes validate_resources(const json::Value& resources, const std::string& path);
/// ValidateTolerations.
Causes validate_tolerations(const json::Value& tolerations, const std::string& path);
/// validation.IsValidPortName's messages.
std::vector<std::string> port_name_errors(std::string_view name);
/// validation.IsValidPortNum's messages ("must be between 1 and 65535, inclusive").
std::vector<std::string> port_num_errors(std::int64_t port);
/// ValidatePortNumOrName (an IntOrString port).
Causes validate_port_num_or_name(const json::Value& port, const std::string& path);
/// Labels selector required, valid and non-empty (the workloads' shared selector rules); returns
/// the parsed selector when it converts.
Causes validate_required_selector(const json::Value& selector, const std::string& path,
                                  std::string_view kind_word);
/// IsConfigMapKey's messages.
std::vector<std::string> config_map_key_errors(std::string_view key);
/// Go's %#v of a map[string]string ("map[string]string{\"a\":\"b\"}"; nil prints as
/// "map[string]string(nil)"), how upstream renders a labels map as a bad value.
std::string go_string_map(const json::Value& labels);
/// "must be between <lo> and <hi>, inclusive".
std::string inclusive_range_error(std::int64_t lo, std::int64_t hi);
/// A cause "<path>: Invalid value: <value>: must be greater than or equal to 0" when negative and
/// the member is an integer.
Causes nonnegative(const json::Value& object, std::string_view key, const std::string& path);

/// getIntOrPercentValue: a valid "N%" gives N, an integer itself, anything else 0.
std::int64_t int_or_percent(const json::Value& v);
/// ValidatePositiveIntOrPercent.
Causes positive_int_or_percent(const json::Value& v, const std::string& path);
/// IsNotMoreThan100Percent.
Causes not_more_than_100(const json::Value& v, const std::string& path);
/// robfig/cron ParseStandard's error for a CronJob schedule, or nullopt when it parses.
std::optional<std::string> cron_schedule_error(std::string_view schedule);

// ---- printing ---------------------------------------------------------------------------------

/// labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty.
std::string format_labels(const json::Value& labels);
/// metav1.FormatLabelSelector: the selector's string form, "<none>" when empty or nil,
/// "<error>" when it does not convert.
std::string format_label_selector(const json::Value& selector);
/// LabelSelectorAsSelector(s).String(): "" for nil/empty, "<invalid>" when it does not convert.
std::string selector_string_or_invalid(const json::Value& selector);
/// layoutContainerCells: container names and images joined by ','.
std::pair<std::string, std::string> container_cells(const json::Value& containers);
/// A column definition (description kept short; kubectl does not show it).
PrinterColumn column(std::string name, std::string type, int priority = 0,
                     std::string description = {}, std::string format = {});
/// The integer cell upstream prints for an int32/int64 field (0 when absent).
json::Value int_cell(const json::Value& object, std::string_view key);
/// "True"/"False" for a bool, "<unset>" when absent (printBoolPtr).
std::string bool_ptr_text(const json::Value* value);
/// An IntOrString's String(): the number or the string.
std::string int_or_string_text(const json::Value& value);
/// loadBalancerStatusStringer over status.loadBalancer.ingress (IPs else hostnames, sorted and
/// de-duplicated, joined by ','); upstream clips it only for non-wide output, and server-side
/// tables are wide.
std::string load_balancer_text(const json::Value& load_balancer);
/// The human age of an RFC 3339 (or micro) timestamp member, "<unknown>" when unset.
std::string age_of(const json::Value& object, std::string_view key, TimePoint now);
/// True when some condition of `conditions` has this type and status "True".
bool condition_true(const json::Value& conditions, std::string_view type);
/// The Name cell.
json::Value name_cell(const json::Value& object);
/// Upstream's default table convertor (storage without a printer: LimitRange, Role,
/// ClusterRole): Name and "Created At" (type date, the RFC 3339 creation time).
std::vector<PrinterColumn> default_created_at_columns();
json::Array default_created_at_cells(const json::Value& object);

// ---- base64 ----------------------------------------------------------------------------------

/// Standard base64 with padding (how []byte fields travel in JSON).
std::string base64_encode(std::string_view data);
/// Go's base64.StdEncoding.DecodeString; the error text is Go's ("illegal base64 data at input
/// byte 4").
std::optional<std::string> base64_decode(std::string_view text, std::string* error = nullptr);

// ---- group tables -----------------------------------------------------------------------------
// Each returns the strategy for a kind of its group/version, or nullptr for kinds without special
// rules there.

const Strategy& pod_strategy();
/// Core Events and events.k8s.io Events share one strategy family; `events_api` selects the
/// events.k8s.io/v1 field names.
const Strategy& event_strategy(bool events_api);
const Strategy* core_strategy(std::string_view kind);
const Strategy* apps_strategy(std::string_view kind);
const Strategy* batch_strategy(std::string_view kind);
const Strategy* networking_strategy(std::string_view kind);
const Strategy* rbac_strategy(std::string_view kind);
const Strategy* storage_strategy(std::string_view kind);
const Strategy* misc_strategy(std::string_view group, std::string_view version,
                              std::string_view kind);

}  // namespace skiff::registry::strategies
