// SPDX-License-Identifier: Apache-2.0
// DELETE of one object and of a collection: preconditions, finalizers, graceful deletion.

#include <fmt/format.h>

#include "crd.hpp"
#include "glue.hpp"
#include "kv_async.hpp"
#include "objects.hpp"
#include "registry_impl.hpp"

namespace skiff::registry {

using boost::asio::awaitable;

namespace {

constexpr int kDeleteRetries = 5;

// Why an object must wait instead of being removed now.
enum class Pending : std::uint8_t { kNone, kFinalizers, kNamespace, kGraceful };

Pending pending_reason(const ResourceType& type, const json::Value& object,
                       std::int64_t grace_seconds) {
  const json::Value& meta = object["metadata"];
  if (meta["finalizers"].size() > 0) {
    return Pending::kFinalizers;
  }
  if (!type.custom && type.gvk.group.empty() && type.gvk.kind == "Namespace" &&
      object["spec"]["finalizers"].size() > 0) {
    return Pending::kNamespace;
  }
  if (type.strategy->graceful_delete(object, grace_seconds)) {
    return Pending::kGraceful;
  }
  return Pending::kNone;
}

}  // namespace

awaitable<Result<DeleteResult>> Registry::Impl::remove(ResourceTypePtr type, std::string ns,
                                                       std::string name, DeleteOptions options) {
  for (int attempt = 0;; ++attempt) {
    std::int64_t current = 0;
    auto object = read_object(*type, ns, name, &current);
    if (!object) {
      co_return object.error();
    }
    const json::Value& meta = (*object)["metadata"];
    if (options.precondition_uid && *options.precondition_uid != meta.string_or("uid")) {
      co_return detail::conflict(
          *type, name,
          fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                      *options.precondition_uid, meta.string_or("uid")));
    }
    if (options.precondition_resource_version &&
        *options.precondition_resource_version != meta.string_or("resourceVersion")) {
      co_return detail::conflict(
          *type, name,
          fmt::format("Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in "
                      "object meta: {}",
                      *options.precondition_resource_version, meta.string_or("resourceVersion")));
    }
    // Read through a const reference: a non-const operator[] would add `"spec": null` to kinds
    // without a spec (a ConfigMap marked for deletion then kept it, and warned about it later).
    const json::Value& stored = *object;
    std::int64_t grace = options.grace_period_seconds.value_or(
        stored["spec"].int_or("terminationGracePeriodSeconds", 30));
    if (grace < 0) {
      grace = 0;
    }
    Pending pending = pending_reason(*type, *object, grace);
    std::string key = detail::object_key(*type, ns, name);
    if (pending == Pending::kNone) {
      if (options.dry_run) {
        co_return DeleteResult{std::move(*object), true};
      }
      if (is_crd(*type)) {
        // Upstream's CRD finalizer deletes every custom object before the CRD goes; here the
        // deletion happens inline, objects first.
        if (auto purged = co_await purge_custom_objects(*object); !purged) {
          co_return purged.error();
        }
      }
      // A named local, not a conditional temporary: GCC 12 destroys temporaries of a ?: inside a
      // co_await argument twice.
      std::vector<kv::RequestOp> releases;
      if (is_service(*type)) {
        releases = detail::release_service(*object);
      }
      auto deleted = co_await delete_at(*type, key, current, std::move(releases));
      if (!deleted) {
        co_return deleted.error();
      }
      if (*deleted) {
        if (is_crd(*type)) {
          detail::drop_crd(catalog, *object);
        }
        co_return DeleteResult{std::move(*object), true};
      }
      if (attempt + 1 >= kDeleteRetries) {
        co_return detail::modified(*type, name);
      }
      continue;
    }

    // Mark for deletion: deletionTimestamp (now, or now + grace for graceful deletion) and the
    // grace period; a namespace also turns Terminating. An object already marked stays as it is
    // unless a shorter grace period is asked for (upstream allows shortening, never lengthening).
    json::Value marked = *object;
    json::Value& mmeta = marked["metadata"];
    bool already = mmeta.get("deletionTimestamp") != nullptr;
    std::int64_t effective = pending == Pending::kGraceful ? grace : 0;
    if (already) {
      std::int64_t had = mmeta.int_or("deletionGracePeriodSeconds", 0);
      if (pending != Pending::kGraceful || effective >= had) {
        co_return DeleteResult{std::move(*object), false};
      }
    }
    mmeta["deletionTimestamp"] =
        detail::format_time(options_now() + std::chrono::seconds(effective));
    mmeta["deletionGracePeriodSeconds"] = effective;
    if (pending == Pending::kNamespace) {
      marked["status"]["phase"] = "Terminating";
    }
    if (options.dry_run) {
      co_return DeleteResult{std::move(marked), false};
    }
    kv::TxnRequest txn;
    txn.compare.push_back(
        kv::Compare{kv::CompareResult::kEqual, kv::CompareTarget::kMod, key, {}, current, {}});
    kv::PutRequest put;
    put.key = key;
    put.value = detail::encode_for_storage(*type, marked);
    txn.success.push_back(kv::RequestOp{std::move(put)});
    auto committed = co_await detail::txn(store, std::move(txn));
    if (!committed) {
      co_return committed.error();
    }
    if (committed->succeeded) {
      marked["metadata"]["resourceVersion"] = std::to_string(committed->revision);
      co_return DeleteResult{std::move(marked), false};
    }
    if (attempt + 1 >= kDeleteRetries) {
      co_return detail::modified(*type, name);
    }
  }
}

awaitable<Result<ListResult>> Registry::remove_collection(ResourceTypePtr type, std::string ns,
                                                          ListOptions selection,
                                                          DeleteOptions options) {
  selection.limit = 0;
  selection.continue_token.clear();
  auto listed = co_await list(type, ns, selection);
  if (!listed) {
    co_return listed.error();
  }
  ListResult out;
  out.revision = listed->revision;
  for (auto& item : listed->items) {
    const json::Value& meta = item["metadata"];
    auto removed = co_await impl_->remove(type, std::string(meta.string_or("namespace")),
                                          std::string(meta.string_or("name")), options);
    if (!removed) {
      if (removed.error().reason == Reason::kNotFound) {
        continue;  // deleted by someone else meanwhile
      }
      co_return removed.error();
    }
    out.items.push_back(std::move(removed->object));
  }
  co_return out;
}

}  // namespace skiff::registry
