// SPDX-License-Identifier: Apache-2.0
#pragma once

// registry: the REST storage behind every resource, over kv::Store. It turns API verbs into kv
// reads and compare-and-swap transactions with Kubernetes semantics: resourceVersion = the kv
// revision of the object's last write (optimistic concurrency: a stale one is 409 Conflict),
// server-set metadata (uid, creationTimestamp, generation, generateName), the per-kind Strategy
// (defaults, validation, status/spec split), selectors and pagination, finalizers and graceful
// deletion, dry runs, and watches that replay from any retained revision.
//
// Objects are stored as compact JSON at `<storage_prefix><namespace>/<name>` without
// metadata.resourceVersion (the kv mod_revision is the resourceVersion, set on every read).
//
// Executors: every coroutine runs on the caller's executor (an HTTP connection's strand, a
// controller's strand) and resumes there after kv writes complete; callers need no locking. Reads
// never block on writers. Cancellation: an operation cancelled while its kv write is in flight still
// completes that write (kv cannot retract it); the coroutine then ends with kCancelled.
//
// Errors are Kubernetes-shaped (Reason + message worded like kube-apiserver):
// kNotFound `pods "x" not found`; kAlreadyExists `pods "x" already exists`; kConflict `Operation
// cannot be fulfilled on pods "x": the object has been modified; please apply your changes to the
// latest version and try again`; kInvalid `Pod "x" is invalid: [...]` with causes; kBadRequest;
// kGone (expired continue token or compacted resourceVersion); kTimeout (resourceVersion too large);
// kUnavailable / kTooManyRequests from the store.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"
#include "skiff/registry/patch.hpp"

namespace skiff::kv {
class Store;
}

namespace skiff::registry {

using ResourceTypePtr = std::shared_ptr<const ResourceType>;

/// Who asks (the authenticated user), for managedFields and, later, admission.
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::string uid;
};

/// fieldValidation: what to do with unknown or duplicate fields in a request body.
enum class FieldValidation : std::uint8_t { kIgnore, kWarn, kStrict };

/// Options shared by create, update and patch.
struct WriteOptions {
  bool dry_run = false;                 ///< dryRun=All: run everything, persist nothing
  std::string field_manager;            ///< managedFields manager; empty: derived by the caller
  FieldValidation field_validation = FieldValidation::kWarn;
  /// Fields reported by the decoder (duplicates) that validation should report too, as paths.
  std::vector<std::string> duplicate_fields;
  UserInfo user;
};

/// A write's outcome: the stored (or would-be) object and the warnings to send as `Warning` headers.
struct WriteResult {
  json::Value object;
  bool created = false;  ///< PATCH (apply) and PUT may create: 201 instead of 200
  std::vector<std::string> warnings;
};

struct GetOptions {
  std::optional<std::string> resource_version;  ///< "" / "0" / N (N = at least N, as upstream)
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t limit = 0;      ///< 0 = everything
  std::string continue_token;  ///< from a previous page
  std::optional<std::string> resource_version;
  std::string resource_version_match;  ///< "", "NotOlderThan", "Exact"
  /// The caller serializes the items as JSON: without selectors the result then carries them as
  /// stored text in `raw_items` (no parse per item) and `items` stays empty.
  bool json_text = false;
};

/// A list's items as the stored texts, turned into JSON on demand (ListOptions::json_text), so a
/// large list can be written out in pieces instead of being held twice. Self-contained: it owns
/// the texts and keeps the type alive.
class RawItems {
public:
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  /// Bytes of stored text: about the size of the JSON.
  std::size_t stored_bytes() const { return stored_bytes_; }
  /// Appends item `i`'s JSON (metadata.resourceVersion set) to `out`. Errors: kInternal for a
  /// stored value that does not decode.
  Result<void> append_json(std::size_t i, std::string& out) const;

private:
  friend class Registry;
  struct Item {
    std::string value;
    std::int64_t revision = 0;
  };
  ResourceTypePtr type_;
  std::string prefix_;  // the served JSON prefix that lets an item be spliced instead of parsed
  std::vector<Item> items_;
  std::size_t stored_bytes_ = 0;
};

struct ListResult {
  json::Array items;                 ///< full objects, resourceVersion set
  RawItems raw_items;                ///< instead, with `raw`
  bool raw = false;
  std::int64_t revision = 0;         ///< the list's resourceVersion
  std::string continue_token;        ///< empty on the last page
  std::optional<std::int64_t> remaining_item_count;
};

struct PatchOptions {
  PatchType type = PatchType::kMerge;
  bool force = false;  ///< server-side apply: take over conflicting fields
};

struct DeleteOptions {
  std::optional<std::int64_t> grace_period_seconds;
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::string propagation_policy;  ///< Orphan / Background / Foreground; accepted, GC is elsewhere
  bool dry_run = false;
};

struct DeleteResult {
  json::Value object;    ///< the object as deleted, or as marked for deletion
  bool finished = true;  ///< false when only marked (finalizers pending or graceful deletion)
};

struct WatchOptions {
  std::optional<std::string> resource_version;  ///< none or "0": synthetic ADDED first
  std::string label_selector;
  std::string field_selector;
  bool send_initial_events = false;  ///< sendInitialEvents=true (with resourceVersionMatch)
  /// The caller serializes events as JSON: when nothing is filtered (no selector, or only
  /// metadata.name) events carry the object's JSON text in `raw` and `object` stays null, so a
  /// change fanned out to many watchers is not parsed and re-serialized for each.
  bool json_text = false;
};

struct WatchEvent {
  enum class Type : std::uint8_t { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  json::Value object;
  std::string raw;  ///< instead of `object` (WatchOptions::json_text): the object's JSON text
  std::int64_t revision = 0;
};

/// One watch. Created by Registry::watch on the caller's executor; use it only there.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  /// The next events, in revision order. Waits until there are some, or until `until` has passed
  /// (then the batch is empty: a caller's bookmark or deadline is due, without racing a timer).
  /// Errors: kGone when the watch cannot continue (compacted: send an ERROR event with 410
  /// Expired), kCancelled.
  virtual boost::asio::awaitable<Result<std::vector<WatchEvent>>> next(
      std::chrono::steady_clock::time_point until) = 0;
  /// The next events, never empty: next() with no time limit.
  boost::asio::awaitable<Result<std::vector<WatchEvent>>> next() {
    return next(std::chrono::steady_clock::time_point::max());
  }
  /// Every revision below this has been delivered: the resourceVersion for a BOOKMARK.
  virtual std::int64_t progress_revision() const = 0;
};

struct RegistryOptions {
  /// The clock for creationTimestamp/deletionTimestamp/managedFields times and table ages.
  std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
  /// continue tokens older than the compaction point answer 410 (as upstream).
  /// Service ClusterIP range (first address is the kubernetes service).
  std::string service_cidr = "10.43.0.0/16";
  int node_port_min = 30000;
  int node_port_max = 32767;
  /// Conflict retries for PATCH's read-modify-write loop (upstream retries on conflict too).
  int patch_retries = 5;
};

/// The REST storage. Thread-safe; borrows `store` and `catalog`, which must outlive it.
class Registry {
 public:
  Registry(kv::Store& store, Catalog& catalog, RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Catalog& catalog() noexcept;
  kv::Store& store() noexcept;
  /// The store's latest revision (a resourceVersion to watch from "now").
  std::int64_t current_revision() const;
  const RegistryOptions& options() const noexcept;

  /// GET of one object (`subresource` "status" or "" return the object; "scale" an autoscaling/v1
  /// Scale).
  boost::asio::awaitable<Result<json::Value>> get(ResourceTypePtr type, std::string ns,
                                                  std::string name, std::string subresource,
                                                  GetOptions options);
  /// The same object (main resource or "status") as JSON text, for callers that only serialize
  /// it: objects stored in the served version are not parsed. Errors as get().
  boost::asio::awaitable<Result<std::string>> get_json(ResourceTypePtr type, std::string ns,
                                                       std::string name, GetOptions options);

  boost::asio::awaitable<Result<ListResult>> list(ResourceTypePtr type, std::string ns,
                                                  ListOptions options);

  /// POST. `ns` must equal the body's namespace if that is set (else kBadRequest, as upstream).
  boost::asio::awaitable<Result<WriteResult>> create(ResourceTypePtr type, std::string ns,
                                                     json::Value object, WriteOptions options);

  /// PUT of the object or of a subresource ("status", "scale"). The body's resourceVersion, if set,
  /// is the precondition.
  boost::asio::awaitable<Result<WriteResult>> update(ResourceTypePtr type, std::string ns,
                                                     std::string name, std::string subresource,
                                                     json::Value object, WriteOptions options);

  /// PATCH (four types) of the object or a subresource; apply creates a missing object.
  boost::asio::awaitable<Result<WriteResult>> patch(ResourceTypePtr type, std::string ns,
                                                    std::string name, std::string subresource,
                                                    std::string body, PatchOptions patch,
                                                    WriteOptions options);

  boost::asio::awaitable<Result<DeleteResult>> remove(ResourceTypePtr type, std::string ns,
                                                      std::string name, DeleteOptions options);

  /// DELETE on a collection: deletes every object matching `selection`; returns what was deleted.
  boost::asio::awaitable<Result<ListResult>> remove_collection(ResourceTypePtr type, std::string ns,
                                                               ListOptions selection,
                                                               DeleteOptions options);

  /// Starts a watch. Errors (immediate): kBadRequest for bad selectors, kGone for a compacted
  /// resourceVersion, kTimeout for one too far in the future.
  boost::asio::awaitable<Result<std::unique_ptr<WatchStream>>> watch(ResourceTypePtr type,
                                                                     std::string ns,
                                                                     WatchOptions options);

  /// Creates the namespaces every cluster has (default, kube-system, kube-public, kube-node-lease)
  /// when missing. Called once at start.
  boost::asio::awaitable<Result<void>> ensure_system_namespaces();

  /// Publishes every stored CustomResourceDefinition in the catalog (once at start, before serving).
  /// Errors: those of reading the store.
  Result<void> load_custom_resources();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::registry
