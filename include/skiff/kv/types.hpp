// SPDX-License-Identifier: Apache-2.0
#pragma once

// The revisioned key-value model Skiff stores every object in: etcd v3 MVCC semantics (one global revision
// per write request; per-key create_revision, mod_revision and version; tombstones; historical reads until
// compaction). These are plain value types with no third-party dependency: the etcd gRPC shim converts
// them to and from protobuf, the apiserver uses them directly.
//
// Keys and values are byte strings (NUL and 0xFF allowed), ordered bytewise (memcmp). Range intervals follow
// etcd: an empty `range_end` means the single key `key`; `range_end == "\0"` means every key >= `key`; `key
// == "\0"` with `range_end == "\0"` means all keys; otherwise the half-open interval [key, range_end).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace skiff::kv {

/// One version of one key. A tombstone (in a DELETE event) has only `key` and `mod_revision` set.
struct KeyValue {
  std::string key;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::string value;
  std::int64_t lease = 0;

  bool operator==(const KeyValue&) const = default;
};

enum class SortOrder : std::uint8_t { kNone, kAscend, kDescend };
enum class SortTarget : std::uint8_t { kKey, kVersion, kCreate, kMod, kValue };

/// etcd RangeRequest. `revision <= 0` reads the latest state.
struct RangeRequest {
  std::string key;
  std::string range_end;
  std::int64_t limit = 0;  ///< 0 = unlimited
  std::int64_t revision = 0;
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;
  bool count_only = false;
  std::int64_t min_mod_revision = 0;  ///< 0 = no bound, likewise the other three
  std::int64_t max_mod_revision = 0;
  std::int64_t min_create_revision = 0;
  std::int64_t max_create_revision = 0;
};

/// `revision` is the response header's revision: the store's current revision when served (inside a Txn:
/// the revision the op observed).
struct RangeResponse {
  std::int64_t revision = 0;
  std::vector<KeyValue> kvs;
  bool more = false;        ///< further keys exist in the interval beyond `limit`
  std::int64_t count = 0;   ///< keys in the interval at that revision, ignoring limit and filters
};

struct PutRequest {
  std::string key;
  std::string value;
  std::int64_t lease = 0;  ///< 0 detaches the key from any lease (unless ignore_lease)
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct PutResponse {
  std::int64_t revision = 0;  ///< the revision this put created
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteRangeResponse {
  std::int64_t revision = 0;  ///< the new revision, or the current one if nothing was deleted
  std::int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;  ///< only when requested
};

enum class CompareResult : std::uint8_t { kEqual, kGreater, kLess, kNotEqual };
enum class CompareTarget : std::uint8_t { kVersion, kCreate, kMod, kValue, kLease };

/// One Txn guard. Numeric targets read `number`; kValue reads `value`. On a missing key numeric targets
/// compare against 0 and a kValue compare is false. With `range_end` the compare must hold for every key
/// in the interval.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  std::int64_t number = 0;
  std::string value;
};

struct RequestOp;
struct ResponseOp;

/// All compares are evaluated against one snapshot; the chosen branch runs atomically at one new revision
/// (only if it writes). At most kMaxTxnOps ops per branch.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct TxnResponse {
  std::int64_t revision = 0;  ///< new revision if anything was written, else current
  bool succeeded = false;
  std::vector<ResponseOp> responses;  ///< one per op of the chosen branch, in order
};

struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> op;
};

struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse> op;
};

inline constexpr std::size_t kMaxTxnOps = 128;

struct CompactResponse {
  std::int64_t revision = 0;  ///< current revision
};

/// Watch event. PUT carries the full kv; DELETE carries the tombstone form (key + mod_revision).
struct Event {
  enum class Type : std::uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;  ///< the version just before; never for a creation
};

struct WatchOptions {
  std::string key;        ///< empty is treated as "\0"
  std::string range_end;  ///< interval rules as in Range
  std::int64_t start_revision = 0;  ///< 0 = only changes after the current revision; else inclusive
  bool prev_kv = false;
  bool filter_put = false;     ///< drop PUT events
  bool filter_delete = false;  ///< drop DELETE events
};

struct LeaseGrantResponse {
  std::int64_t revision = 0;
  std::int64_t id = 0;
  std::int64_t ttl = 0;  ///< granted TTL in seconds, after raising to the minimum
};

struct LeaseTimeToLiveResponse {
  std::int64_t revision = 0;
  std::int64_t id = 0;
  std::int64_t ttl = -1;  ///< remaining seconds; -1 if the lease does not exist
  std::int64_t granted_ttl = 0;
  std::vector<std::string> keys;  ///< only when asked for
};

/// What Maintenance.Status reports about the store.
struct StoreStatus {
  std::int64_t revision = 0;
  std::int64_t compact_revision = 0;
  std::int64_t db_size = 0;         ///< bytes of the database file(s)
  std::int64_t db_size_in_use = 0;  ///< bytes of pages in use
  std::int64_t keys = 0;            ///< live keys
};

/// Longest lease TTL etcd accepts, in seconds.
inline constexpr std::int64_t kMaxLeaseTtl = 9'000'000'000;

/// etcd's prefix end for `prefix`: last byte + 1, trailing 0xFF bytes dropped; "\0" if none is left.
std::string prefix_end(std::string_view prefix);

}  // namespace skiff::kv
