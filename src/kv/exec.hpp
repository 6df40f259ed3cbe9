// SPDX-License-Identifier: Apache-2.0
#pragma once

// The request semantics of the store, independent of threads and transactions: key intervals, the
// layered view a write batch works on, request validation, Range result shaping, Txn compares, and
// the Executor that runs one request's ops against a View (recording the changes the writer then
// persists). Private to src/kv.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "skiff/kv/store.hpp"

namespace skiff::kv {

/// A half-open key interval [begin, end) in bytewise order, or [begin, +inf) when `unbounded`.
struct KeyInterval {
  std::string begin;
  std::string end;
  bool unbounded = false;
  bool empty = false;

  bool contains(std::string_view key) const {
    return !empty && key >= std::string_view(begin) && (unbounded || key < std::string_view(end));
  }
  /// One key only (range_end was empty).
  bool single() const {
    return !unbounded && end.size() == begin.size() + 1 && end.back() == '\0' &&
           std::string_view(end).substr(0, begin.size()) == begin;
  }
};

/// etcd's interval rules (see types.hpp).
KeyInterval make_interval(std::string_view key, std::string_view range_end);

/// A live key in memory: its newest version plus the `sub` of that history row (for prev links).
struct Entry {
  KeyValue kv;
  std::int64_t sub = 0;
};
using KeyMap = std::map<std::string, Entry, std::less<>>;

/// What a lease persists (ttl in seconds, absolute deadline in ms since the epoch).
struct LeaseRow {
  std::int64_t ttl = 0;
  std::int64_t deadline_ms = 0;
};

/// A lease in memory: the persisted row plus the live keys attached to it (derived from the keys).
struct LeaseState {
  LeaseRow row;
  std::set<std::string, std::less<>> keys;
};
using LeaseMap = std::unordered_map<std::int64_t, LeaseState>;

/// The committed state (`base`, `leases`) seen through the pending changes of the current write
/// batch. The writer owns the overlays; readers build a View with empty overlays over the shared
/// state.
class View {
public:
  View(const KeyMap& base, const LeaseMap& leases) : base_(base), leases_(leases) {}

  const Entry* get(std::string_view key) const;
  /// Calls fn(const Entry&) for every live key in the interval, in key order.
  template <class Fn>
  void for_each(const KeyInterval& interval, Fn&& fn) const;

  bool lease_exists(std::int64_t id) const;
  std::optional<LeaseRow> lease(std::int64_t id) const;
  /// Keys attached to the lease in this view, sorted.
  std::vector<std::string> lease_keys(std::int64_t id) const;

  /// Undo information for one request: the overlay entries it replaced.
  struct UndoLog {
    std::vector<std::pair<std::string, std::optional<std::optional<Entry>>>> keys;
    std::vector<std::pair<std::int64_t, std::optional<std::optional<LeaseRow>>>> leases;
  };
  void write(const std::string& key, std::optional<Entry> entry, UndoLog* undo);
  void set_lease(std::int64_t id, std::optional<LeaseRow> row, UndoLog* undo);
  void undo(UndoLog& log);
  void clear() {
    overlay_.clear();
    lease_overlay_.clear();
  }

  const std::map<std::string, std::optional<Entry>, std::less<>>& overlay() const {
    return overlay_;
  }
  /// For the writer's publish step, which moves the entries out just before clear().
  std::map<std::string, std::optional<Entry>, std::less<>>& mutable_overlay() { return overlay_; }
  const std::map<std::int64_t, std::optional<LeaseRow>>& lease_overlay() const {
    return lease_overlay_;
  }

private:
  const KeyMap& base_;
  const LeaseMap& leases_;
  std::map<std::string, std::optional<Entry>, std::less<>> overlay_;
  std::map<std::int64_t, std::optional<LeaseRow>> lease_overlay_;
};

template <class Fn>
void View::for_each(const KeyInterval& interval, Fn&& fn) const {
  if (interval.empty) {
    return;
  }
  auto in_range = [&](const std::string& key) {
    return interval.unbounded || key < interval.end;
  };
  auto bi = base_.lower_bound(interval.begin);
  auto oi = overlay_.lower_bound(interval.begin);
  while (true) {
    bool base_ok = bi != base_.end() && in_range(bi->first);
    bool over_ok = oi != overlay_.end() && in_range(oi->first);
    if (!base_ok && !over_ok) {
      return;
    }
    // The overlay shadows the base for equal keys.
    if (over_ok && (!base_ok || oi->first <= bi->first)) {
      if (base_ok && oi->first == bi->first) {
        ++bi;
      }
      if (oi->second) {
        fn(*oi->second);
      }
      ++oi;
    } else {
      fn(bi->second);
      ++bi;
    }
  }
}

/// Shapes a Range answer from the live keys of the interval (given in key order by `for_each`):
/// count, filters, sort, limit, more, keys_only, count_only as etcd does.
RangeResponse build_range(
    const RangeRequest& request,
    const std::function<void(const std::function<void(const KeyValue&)>&)>& for_each,
    std::int64_t header_revision);

/// Static checks (no state needed). Return the etcd error for a malformed request.
std::optional<Error> validate_range(const RangeRequest& request);
std::optional<Error> validate_put(const PutRequest& request);
std::optional<Error> validate_delete(const DeleteRangeRequest& request);
std::optional<Error> validate_txn(const TxnRequest& request);

/// Whether a Compare holds in `view` (range compares: for every key, or for a zero KeyValue if
/// none).
bool evaluate_compare(const Compare& compare, const View& view);

/// The branch decisions of a Txn and its nested Txns, in execution (pre-)order, all evaluated
/// against the same snapshot as etcd does.
std::vector<bool> txn_path(const TxnRequest& request, const View& view);
/// Whether the branches chosen by `path` contain a Put or DeleteRange.
bool txn_writes(const TxnRequest& request, const std::vector<bool>& path);

/// One change a write request made: the new version (or a tombstone) and the version it replaced.
struct Change {
  KeyValue kv;  ///< tombstone form for deletes
  std::int64_t sub = 0;
  bool deleted = false;
  std::optional<KeyValue> prev;
  std::int64_t prev_sub = 0;
};

/// Runs one request against a View at revision `begin_revision + 1`. On error the caller calls
/// rollback() to undo what the request already wrote to the view.
class Executor {
public:
  /// Reads the live keys of an interval at an older revision (from SQLite).
  using HistoryReader = std::function<Result<std::vector<KeyValue>>(const KeyInterval& interval,
                                                                    std::int64_t revision)>;

  Executor(View& view, std::int64_t begin_revision, std::int64_t compact_revision,
           HistoryReader history, std::int64_t now_ms)
      : view_(view),
        begin_revision_(begin_revision),
        compact_revision_(compact_revision),
        history_(std::move(history)),
        now_ms_(now_ms) {}

  Result<PutResponse> put(const PutRequest& request);
  Result<DeleteRangeResponse> delete_range(const DeleteRangeRequest& request);
  Result<RangeResponse> range(const RangeRequest& request);
  /// `path` from txn_path() (computed on the same view before any op ran).
  Result<TxnResponse> txn(const TxnRequest& request, const std::vector<bool>& path);
  /// Deletes the keys attached to a lease (one revision) and removes the lease.
  Result<std::int64_t> revoke(std::int64_t lease);

  void rollback() { view_.undo(undo_); }
  View::UndoLog& undo_log() { return undo_; }

  bool changed() const { return !changes_.empty(); }
  std::int64_t new_revision() const { return begin_revision_ + 1; }
  /// The header revision: the new one if something changed, else the current one.
  std::int64_t header_revision() const { return changed() ? new_revision() : begin_revision_; }
  std::vector<Change>& changes() { return changes_; }
  const std::vector<Change>& changes() const { return changes_; }

private:
  Result<TxnResponse> run_txn(const TxnRequest& request, const std::vector<bool>& path,
                              std::size_t& index);
  void remove_key(const Entry& entry);

  View& view_;
  std::int64_t begin_revision_;
  std::int64_t compact_revision_;
  HistoryReader history_;
  std::int64_t now_ms_;
  View::UndoLog undo_;
  std::vector<Change> changes_;
};

}  // namespace skiff::kv
