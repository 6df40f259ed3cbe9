// SPDX-License-Identifier: Apache-2.0
#include "glue.hpp"

#include <fmt/format.h>

#include "skiff/api/fields.hpp"
#include "skiff/api/labels.hpp"
#include "skiff/api/meta.hpp"
#include "skiff/api/time.hpp"
#include "skiff/api/validation.hpp"
#include "skiff/registry/managed_fields.hpp"
#include "skiff/registry/patch.hpp"
#include "skiff/registry/structural.hpp"

namespace skiff::registry::detail {

// ---- selection ----

struct Selection::Impl {
  api::LabelSelector labels;
  api::FieldSelector fields;
};

Selection::Selection() : impl_(std::make_unique<Impl>()) {}
Selection::~Selection() = default;
Selection::Selection(Selection&&) noexcept = default;
Selection& Selection::operator=(Selection&&) noexcept = default;

Result<Selection> Selection::make(const ResourceType& type, std::string_view label_selector,
                                  std::string_view field_selector) {
  Selection s;
  s.type_ = &type;
  auto labels = api::LabelSelector::parse(label_selector);
  if (!labels) {
    return labels.error();
  }
  s.impl_->labels = std::move(*labels);
  auto fields = api::FieldSelector::parse(field_selector);
  if (!fields) {
    return fields.error();
  }
  std::vector<std::string> supported = type.strategy->field_labels();
  auto ok = fields->check_supported([&](std::string_view field) {
    return field == "metadata.name" || field == "metadata.namespace" ||
           std::find(supported.begin(), supported.end(), field) != supported.end();
  });
  if (!ok) {
    return ok.error();
  }
  s.impl_->fields = std::move(*fields);
  return s;
}

bool Selection::matches(const json::Value& object) const {
  const json::Value& meta = object["metadata"];
  if (!impl_->labels.matches(meta["labels"])) {
    return false;
  }
  if (impl_->fields.empty()) {
    return true;
  }
  return impl_->fields.matches([&](std::string_view field) -> std::optional<std::string> {
    if (field == "metadata.name") {
      return std::string(meta.string_or("name"));
    }
    if (field == "metadata.namespace") {
      return std::string(meta.string_or("namespace"));
    }
    return type_->strategy->field_value(object, field);
  });
}

bool Selection::everything() const noexcept {
  return impl_->labels.empty() && impl_->fields.empty();
}

std::string selector_string(const json::Value& label_selector) {
  auto s = api::LabelSelector::from_label_selector(label_selector);
  return s ? s->to_string() : std::string();
}

// ---- metadata ----

std::string new_uid() { return api::new_uid(); }

std::string format_time(TimePoint t) { return api::format_rfc3339(api::to_timestamp(t)); }

std::string format_micro_time(TimePoint t) {
  return api::format_rfc3339_micro(api::to_timestamp(t));
}

std::vector<FieldCause> validate_object_meta(const ResourceType& type, const json::Value& object) {
  // Most kinds take DNS-1123 subdomain names; these take labels or path segments (upstream's
  // per-kind ValidateNameFunc).
  api::NameValidator name_rule = api::name_is_dns_subdomain;
  const std::string& kind = type.gvk.kind;
  if (!type.custom && type.gvk.group.empty() && (kind == "Namespace" || kind == "Service")) {
    name_rule = kind == "Service" ? api::name_is_dns1035_label : api::name_is_dns_label;
  } else if (!type.custom && type.gvk.group == "rbac.authorization.k8s.io") {
    name_rule = api::name_is_path_segment;
  } else if (!type.custom && type.gvk.group.empty() && kind == "Node") {
    name_rule = api::name_is_dns_subdomain;
  }
  return api::validate_object_meta(object["metadata"], type.namespaced, name_rule);
}

// ---- patches ----

Result<json::Value> json_patch(const json::Value& document, std::string_view patch) {
  return apply_patch_body(PatchType::kJson, document, patch, nullptr);
}

Result<json::Value> merge_patch(const json::Value& document, std::string_view patch) {
  return apply_patch_body(PatchType::kMerge, document, patch, nullptr);
}

Result<json::Value> strategic_merge_patch(const json::Value& document, std::string_view patch,
                                          const Node* schema) {
  return apply_patch_body(PatchType::kStrategic, document, patch, schema);
}

// ---- apply and managed fields ----

std::string_view reset_field(const ResourceType& type, std::string_view subresource) {
  if (!type.has_status) {
    return {};
  }
  if (subresource.empty()) {
    return "status";
  }
  return subresource == "status" ? "spec" : std::string_view();
}

Result<json::Value> server_side_apply(const json::Value* live, const json::Value& config,
                                      const Node* schema, std::string_view manager,
                                      std::string_view api_version, bool force, TimePoint now,
                                      std::string_view subresource, std::string_view reset) {
  std::vector<FieldPath> reset_fields;
  if (!reset.empty()) {
    reset_fields.push_back(make_path({reset}));
  }
  return registry::server_side_apply(live, config, schema, manager, api_version, force, now,
                                     subresource, std::move(reset_fields));
}

void record_update(const json::Value* old, json::Value& object, const Node* schema,
                   std::string_view manager, std::string_view api_version, TimePoint now,
                   std::string_view subresource) {
  object = registry::record_update(old, std::move(object), schema, manager, api_version, now,
                                   subresource);
}

// ---- structural ----

std::vector<std::string> unknown_fields(const json::Value& object, const Node* schema) {
  if (schema == nullptr) {
    return {};
  }
  return registry::unknown_fields(*schema, object);
}

void prune(json::Value& object, const Node* schema) {
  if (schema != nullptr) {
    std::ignore = registry::prune(*schema, object, true);
  }
}

void apply_schema_defaults(json::Value& object, const Node* schema) {
  if (schema != nullptr) {
    registry::apply_defaults(*schema, object);
  }
}

std::vector<FieldCause> validate_schema_values(const json::Value& object, const Node* schema,
                                               const json::Value* old) {
  if (schema == nullptr) {
    return {};
  }
  return registry::validate_value(*schema, object, {}, old);
}

Result<void> check_value_types(const json::Value& object, const Node* schema) {
  if (schema == nullptr) {
    return {};
  }
  return registry::check_types(*schema, object);
}

}  // namespace skiff::registry::detail
