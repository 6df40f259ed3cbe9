// SPDX-License-Identifier: Apache-2.0
#pragma once

// Registry::Impl: the shared state and steps of the REST verbs (private to src/registry). The verbs
// are split over registry.cpp (get/create/update/patch), delete.cpp, list.cpp, watch.cpp and
// scale.cpp.

#include <cstdint>
#include <optional>
#include <string>

#include "skiff/kv/store.hpp"
#include "skiff/registry/registry.hpp"

#include "allocator.hpp"

namespace skiff::registry {

struct Registry::Impl {
  Impl(kv::Store& store, Catalog& catalog, RegistryOptions options);

  kv::Store& store;
  Catalog& catalog;
  RegistryOptions options;
  detail::ServiceRanges ranges;

  static bool is_service(const ResourceType& type) {
    return !type.custom && type.gvk.group.empty() && type.gvk.kind == "Service";
  }
  /// Service IP/port claims for a create (`old` null) or update; other kinds get none.
  Result<detail::Allocation> allocate(const ResourceType& type, json::Value& object,
                                      const json::Value* old) const;

  TimePoint options_now() const;
  /// A built-in kind of `group`.
  static bool is_kind(const ResourceType& type, std::string_view group, std::string_view kind);
  /// The apiextensions CustomResourceDefinition type (its writes update the catalog).
  static bool is_crd(const ResourceType& type);
  /// Deletes every object of a CRD's resource (in one revision), before the CRD itself goes.
  boost::asio::awaitable<Result<void>> purge_custom_objects(const json::Value& crd);
  static std::string manager_for(const WriteOptions& options);

  /// The live kv entry at `key`, if any.
  Result<std::optional<kv::KeyValue>> read(const std::string& key) const;
  /// The stored entry of one object (kNotFound worded for the type).
  Result<kv::KeyValue> read_entry(const ResourceType& type, std::string_view ns,
                                  std::string_view name) const;
  /// The served object (kNotFound worded for the type); its mod_revision into `mod_revision`.
  Result<json::Value> read_object(const ResourceType& type, std::string_view ns,
                                  std::string_view name, std::int64_t* mod_revision) const;
  /// The namespace exists (and, when creating, is not terminating).
  Result<void> check_namespace(const ResourceType& type, std::string_view ns, bool creating) const;
  /// apiVersion/kind of a body fit the type (any served version of the same resource).
  Result<void> check_type_meta(const ResourceType& type, const json::Value& object) const;
  /// fieldValidation: the warnings for Warn, or `strict_error` set for Strict. Under Warn and
  /// Ignore the unknown fields of a built-in kind are dropped from `object`.
  std::vector<std::string> check_fields(const ResourceType& type, json::Value& object,
                                        const WriteOptions& options,
                                        Result<void>& strict_error) const;
  /// Defaults, pruning (CRDs) and validation of a new or updated object.
  Result<void> admit(const ResourceType& type, json::Value& object, const json::Value* old) const;

  boost::asio::awaitable<Result<WriteResult>> create(ResourceTypePtr type, std::string ns,
                                                     json::Value object, WriteOptions options,
                                                     bool from_apply);
  /// The common tail of PUT and PATCH: `object` replaces `old` (stored at `old_revision`).
  /// `from_apply`: `object` is a server-side apply result whose managedFields are already final
  /// (no Update entry is recorded for the writer).
  boost::asio::awaitable<Result<WriteResult>> store_update(ResourceTypePtr type, std::string ns,
                                                           std::string name, json::Value object,
                                                           const json::Value& old,
                                                           std::int64_t old_revision,
                                                           WriteOptions options,
                                                           std::string subresource,
                                                           bool from_apply = false);
  /// Deletes `key` if still at `mod_revision`; false when it changed (or vanished) meanwhile.
  boost::asio::awaitable<Result<bool>> delete_at(const ResourceType& type, std::string key,
                                                 std::int64_t mod_revision,
                                                 std::vector<kv::RequestOp> extra_ops = {});
  boost::asio::awaitable<Result<DeleteResult>> remove(ResourceTypePtr type, std::string ns,
                                                      std::string name, DeleteOptions options);

  /// Server-side apply of a missing object: creates it from the configuration.
  boost::asio::awaitable<Result<WriteResult>> apply_create(ResourceTypePtr type, std::string ns,
                                                           std::string name, std::string body,
                                                           PatchOptions patch,
                                                           WriteOptions options);
  /// The apply body (YAML or JSON) as an object, checked against the URL.
  Result<json::Value> parse_apply_body(const ResourceType& type, std::string_view body,
                                       std::string_view name, std::string_view ns) const;

  /// autoscaling/v1 Scale view of an object with a scale subresource.
  Result<json::Value> to_scale(const ResourceType& type, const json::Value& object) const;
  boost::asio::awaitable<Result<WriteResult>> update_scale(ResourceTypePtr type, std::string ns,
                                                           std::string name, json::Value scale,
                                                           WriteOptions options);
};

}  // namespace skiff::registry
