// SPDX-License-Identifier: Apache-2.0
#include "skiff/api/meta.hpp"

#include <algorithm>
#include <array>
#include <random>

#include "skiff/api/validation.hpp"

namespace skiff::api {
namespace {

const json::Value kNull;

const json::Value& member(const json::Value& object, std::string_view key) noexcept {
  const json::Value* v = get_metadata(object).get(key);
  return v != nullptr ? *v : kNull;
}

std::string_view meta_string(const json::Value& object, std::string_view key) noexcept {
  return get_metadata(object).string_or(key);
}

void set_meta_string(json::Value& object, std::string_view key, std::string_view value) {
  mutable_metadata(object).as_object().set(key, json::Value(value));
}

// The map member of metadata, created (or replaced when of another type) for writing.
json::Object& mutable_map(json::Value& object, std::string_view key) {
  json::Value& v = mutable_metadata(object).as_object()[key];
  if (!v.is_object()) {
    v = json::Value::object();
  }
  return v.as_object();
}

std::optional<std::string_view> map_lookup(const json::Value& map, std::string_view key) noexcept {
  const json::Value* v = map.get(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string_view(v->as_string());
}

bool map_remove(json::Value& object, std::string_view map_key, std::string_view key) {
  json::Value* meta = object.get("metadata");
  if (meta == nullptr) {
    return false;
  }
  json::Value* map = meta->get(map_key);
  if (map == nullptr || !map->is_object()) {
    return false;
  }
  return map->as_object().erase(key);
}

std::optional<Timestamp> meta_timestamp(const json::Value& object, std::string_view key) {
  const json::Value& v = member(object, key);
  if (!v.is_string()) {
    return std::nullopt;
  }
  auto parsed = parse_rfc3339(v.as_string());
  if (!parsed) {
    return std::nullopt;
  }
  return *parsed;
}

OwnerReference parse_owner_reference(const json::Value& ref) {
  OwnerReference out;
  out.api_version = std::string(ref.string_or("apiVersion"));
  out.kind = std::string(ref.string_or("kind"));
  out.name = std::string(ref.string_or("name"));
  out.uid = std::string(ref.string_or("uid"));
  out.controller = ref.bool_or("controller");
  out.block_owner_deletion = ref.bool_or("blockOwnerDeletion");
  return out;
}

// One engine per thread, seeded from the OS: UIDs need uniqueness, not secrecy, and this keeps
// new_uid() lock-free.
std::mt19937_64& engine() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::array<std::uint32_t, 8> seed{};
    for (auto& s : seed) {
      s = rd();
    }
    std::seed_seq seq(seed.begin(), seed.end());
    return std::mt19937_64(seq);
  }();
  return rng;
}

}  // namespace

const json::Value& get_metadata(const json::Value& object) noexcept {
  const json::Value* meta = object.get("metadata");
  return meta != nullptr ? *meta : kNull;
}

json::Value& mutable_metadata(json::Value& object) {
  if (!object.is_object()) {
    object = json::Value::object();
  }
  json::Value& meta = object.as_object()["metadata"];
  if (!meta.is_object()) {
    meta = json::Value::object();
  }
  return meta;
}

std::string_view get_api_version(const json::Value& object) noexcept {
  return object.string_or("apiVersion");
}
std::string_view get_kind(const json::Value& object) noexcept {
  return object.string_or("kind");
}

std::string_view get_name(const json::Value& object) noexcept {
  return meta_string(object, "name");
}
void set_name(json::Value& object, std::string_view name) {
  set_meta_string(object, "name", name);
}

std::string_view get_namespace(const json::Value& object) noexcept {
  return meta_string(object, "namespace");
}
void set_namespace(json::Value& object, std::string_view ns) {
  if (ns.empty()) {
    mutable_metadata(object).as_object().erase("namespace");
    return;
  }
  set_meta_string(object, "namespace", ns);
}

std::string_view get_generate_name(const json::Value& object) noexcept {
  return meta_string(object, "generateName");
}
void set_generate_name(json::Value& object, std::string_view prefix) {
  set_meta_string(object, "generateName", prefix);
}

std::string_view get_uid(const json::Value& object) noexcept {
  return meta_string(object, "uid");
}
void set_uid(json::Value& object, std::string_view uid) {
  set_meta_string(object, "uid", uid);
}

std::string_view get_resource_version(const json::Value& object) noexcept {
  return meta_string(object, "resourceVersion");
}
void set_resource_version(json::Value& object, std::string_view resource_version) {
  if (resource_version.empty()) {
    mutable_metadata(object).as_object().erase("resourceVersion");
    return;
  }
  set_meta_string(object, "resourceVersion", resource_version);
}

std::int64_t get_generation(const json::Value& object) noexcept {
  return get_metadata(object).int_or("generation");
}
void set_generation(json::Value& object, std::int64_t generation) {
  mutable_metadata(object).as_object().set("generation", json::Value(generation));
}

const json::Value& get_labels(const json::Value& object) noexcept {
  return member(object, "labels");
}
std::optional<std::string_view> get_label(const json::Value& object,
                                          std::string_view key) noexcept {
  return map_lookup(get_labels(object), key);
}
void set_label(json::Value& object, std::string_view key, std::string_view value) {
  mutable_map(object, "labels").set(key, json::Value(value));
}
bool remove_label(json::Value& object, std::string_view key) {
  return map_remove(object, "labels", key);
}

const json::Value& get_annotations(const json::Value& object) noexcept {
  return member(object, "annotations");
}
std::optional<std::string_view> get_annotation(const json::Value& object,
                                               std::string_view key) noexcept {
  return map_lookup(get_annotations(object), key);
}
void set_annotation(json::Value& object, std::string_view key, std::string_view value) {
  mutable_map(object, "annotations").set(key, json::Value(value));
}
bool remove_annotation(json::Value& object, std::string_view key) {
  return map_remove(object, "annotations", key);
}

std::vector<std::string_view> get_finalizers(const json::Value& object) {
  std::vector<std::string_view> out;
  const json::Value& list = member(object, "finalizers");
  if (list.is_array()) {
    for (const auto& f : list.as_array()) {
      if (f.is_string()) {
        out.emplace_back(f.as_string());
      }
    }
  }
  return out;
}

bool has_finalizer(const json::Value& object, std::string_view finalizer) noexcept {
  const json::Value& list = member(object, "finalizers");
  if (!list.is_array()) {
    return false;
  }
  return std::any_of(list.as_array().begin(), list.as_array().end(), [&](const json::Value& f) {
    return f.is_string() && f.as_string() == finalizer;
  });
}

bool add_finalizer(json::Value& object, std::string_view finalizer) {
  if (has_finalizer(object, finalizer)) {
    return false;
  }
  json::Value& list = mutable_metadata(object).as_object()["finalizers"];
  if (!list.is_array()) {
    list = json::Value::array();
  }
  list.as_array().emplace_back(finalizer);
  return true;
}

bool remove_finalizer(json::Value& object, std::string_view finalizer) {
  json::Value* meta = object.get("metadata");
  json::Value* list = meta != nullptr ? meta->get("finalizers") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return false;
  }
  auto& items = list->as_array();
  const auto old_size = items.size();
  std::erase_if(items,
                [&](const json::Value& f) { return f.is_string() && f.as_string() == finalizer; });
  const bool removed = items.size() != old_size;
  if (items.empty()) {
    meta->as_object().erase("finalizers");
  }
  return removed;
}

json::Value OwnerReference::to_json() const {
  json::Object out{{"apiVersion", api_version}, {"kind", kind}, {"name", name}, {"uid", uid}};
  if (controller) {
    out.set("controller", true);
  }
  if (block_owner_deletion) {
    out.set("blockOwnerDeletion", true);
  }
  return {std::move(out)};
}

std::vector<OwnerReference> get_owner_references(const json::Value& object) {
  std::vector<OwnerReference> out;
  const json::Value& list = member(object, "ownerReferences");
  if (list.is_array()) {
    for (const auto& ref : list.as_array()) {
      if (ref.is_object()) {
        out.push_back(parse_owner_reference(ref));
      }
    }
  }
  return out;
}

std::optional<OwnerReference> get_controller_of(const json::Value& object) {
  const json::Value& list = member(object, "ownerReferences");
  if (list.is_array()) {
    for (const auto& ref : list.as_array()) {
      if (ref.is_object() && ref.bool_or("controller")) {
        return parse_owner_reference(ref);
      }
    }
  }
  return std::nullopt;
}

void set_owner_references(json::Value& object, const std::vector<OwnerReference>& references) {
  if (references.empty()) {
    mutable_metadata(object).as_object().erase("ownerReferences");
    return;
  }
  json::Array list;
  list.reserve(references.size());
  for (const auto& ref : references) {
    list.push_back(ref.to_json());
  }
  mutable_metadata(object).as_object().set("ownerReferences", json::Value(std::move(list)));
}

bool is_owned_by(const json::Value& object, std::string_view owner_uid) noexcept {
  const json::Value& list = member(object, "ownerReferences");
  if (!list.is_array()) {
    return false;
  }
  return std::any_of(list.as_array().begin(), list.as_array().end(),
                     [&](const json::Value& ref) { return ref.string_or("uid") == owner_uid; });
}

std::optional<Timestamp> get_creation_timestamp(const json::Value& object) {
  return meta_timestamp(object, "creationTimestamp");
}
void set_creation_timestamp(json::Value& object, Timestamp t) {
  set_meta_string(object, "creationTimestamp", format_rfc3339(t));
}
std::optional<Timestamp> get_deletion_timestamp(const json::Value& object) {
  return meta_timestamp(object, "deletionTimestamp");
}
void set_deletion_timestamp(json::Value& object, std::optional<Timestamp> t) {
  if (!t) {
    mutable_metadata(object).as_object().erase("deletionTimestamp");
    return;
  }
  set_meta_string(object, "deletionTimestamp", format_rfc3339(*t));
}
std::optional<std::int64_t> get_deletion_grace_period_seconds(const json::Value& object) noexcept {
  const json::Value& v = member(object, "deletionGracePeriodSeconds");
  if (!v.is_integral()) {
    return std::nullopt;
  }
  return v.as_int();
}

const json::Value& get_managed_fields(const json::Value& object) noexcept {
  return member(object, "managedFields");
}
void set_managed_fields(json::Value& object, json::Value managed_fields) {
  if (managed_fields.is_null() ||
      (managed_fields.is_array() && managed_fields.as_array().empty())) {
    mutable_metadata(object).as_object().erase("managedFields");
    return;
  }
  mutable_metadata(object).as_object().set("managedFields", std::move(managed_fields));
}

std::string new_uid() {
  auto& rng = engine();
  const std::uint64_t hi = rng();
  const std::uint64_t lo = rng();
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 8; ++i) {
    b[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xF];
  }
  return out;
}

std::string generate_name(std::string_view base) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(base.substr(0, std::min(base.size(), kMaxGeneratedNameLength)));
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  auto& rng = engine();
  for (int i = 0; i < 5; ++i) {
    out += kAlphabet[pick(rng)];
  }
  return out;
}

std::string object_key(std::string_view ns, std::string_view name) {
  if (ns.empty()) {
    return std::string(name);
  }
  std::string out;
  out.reserve(ns.size() + 1 + name.size());
  out += ns;
  out += '/';
  out += name;
  return out;
}

std::string object_key(const json::Value& object) {
  return object_key(get_namespace(object), get_name(object));
}

Result<std::pair<std::string, std::string>> split_object_key(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) {
    return std::pair<std::string, std::string>{std::string(), std::string(key)};
  }
  if (key.find('/', slash + 1) != std::string_view::npos) {
    return errors::bad_request("unexpected key format: " + go_quote(key));
  }
  return std::pair<std::string, std::string>{std::string(key.substr(0, slash)),
                                             std::string(key.substr(slash + 1))};
}

}  // namespace skiff::api
