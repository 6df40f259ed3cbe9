// SPDX-License-Identifier: Apache-2.0
// etcd's request semantics, written against View so the same code serves the writer (over a batch's
// overlay) and read-only txns on a caller's thread (over the shared state, with no overlay).
// Nothing here touches SQLite or locks; historical reads come in through Executor::HistoryReader.
#include "exec.hpp"

#include <algorithm>

namespace skiff::kv {

// Intervals are normalised to half-open [begin, end) (or unbounded) so every consumer - the
// in-memory maps, SQL `key >= ? AND key < ?`, watch filters - applies one rule. std::string
// compares bytes as unsigned char (char_traits<char>::compare is memcmp), which is exactly etcd's
// key order.
KeyInterval make_interval(std::string_view key, std::string_view range_end) {
  KeyInterval out;
  out.begin = std::string(key);
  if (range_end.empty()) {
    // The smallest key greater than `key` is key + "\0".
    out.end = out.begin;
    out.end.push_back('\0');
  } else if (range_end == std::string_view("\0", 1)) {
    out.unbounded = true;
  } else {
    out.end = std::string(range_end);
    out.empty = out.begin >= out.end;
  }
  return out;
}

// --- View
// -----------------------------------------------------------------------------------------

// The overlay holds every key the current batch touched: an engaged optional is the key's new
// version, an empty one a deletion. Lookups consult it first so later requests of a batch see
// earlier ones.
const Entry* View::get(std::string_view key) const {
  if (auto it = overlay_.find(key); it != overlay_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  auto it = base_.find(key);
  return it != base_.end() ? &it->second : nullptr;
}

bool View::lease_exists(std::int64_t id) const {
  return lease(id).has_value();
}

std::optional<LeaseRow> View::lease(std::int64_t id) const {
  if (auto it = lease_overlay_.find(id); it != lease_overlay_.end()) {
    return it->second;
  }
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    return std::nullopt;
  }
  return it->second.row;
}

std::vector<std::string> View::lease_keys(std::int64_t id) const {
  std::set<std::string, std::less<>> keys;
  // Committed attachments still valid in this view, plus keys attached by the pending batch.
  if (auto it = leases_.find(id); it != leases_.end()) {
    for (const auto& key : it->second.keys) {
      const Entry* entry = get(key);
      if (entry != nullptr && entry->kv.lease == id) {
        keys.insert(key);
      }
    }
  }
  for (const auto& [key, entry] : overlay_) {
    if (entry && entry->kv.lease == id) {
      keys.insert(key);
    }
  }
  return {keys.begin(), keys.end()};
}

// Each write records what the overlay held for the key before (nothing, or an entry), so a request
// that fails half-way can be undone without disturbing the requests before it in the same batch.
void View::write(const std::string& key, std::optional<Entry> entry, UndoLog* undo) {
  auto it = overlay_.find(key);
  if (undo != nullptr) {
    if (it == overlay_.end()) {
      undo->keys.emplace_back(key, std::nullopt);
    } else {
      undo->keys.emplace_back(key, it->second);
    }
  }
  if (it == overlay_.end()) {
    overlay_.emplace(key, std::move(entry));
  } else {
    it->second = std::move(entry);
  }
}

void View::set_lease(std::int64_t id, std::optional<LeaseRow> row, UndoLog* undo) {
  auto it = lease_overlay_.find(id);
  if (undo != nullptr) {
    if (it == lease_overlay_.end()) {
      undo->leases.emplace_back(id, std::nullopt);
    } else {
      undo->leases.emplace_back(id, it->second);
    }
  }
  lease_overlay_[id] = row;
}

// Replays the log backwards: a key written twice by one request returns to its state before the
// first.
void View::undo(UndoLog& log) {
  for (auto it = log.keys.rbegin(); it != log.keys.rend(); ++it) {
    if (it->second) {
      overlay_[it->first] = std::move(*it->second);
    } else {
      overlay_.erase(it->first);
    }
  }
  for (auto it = log.leases.rbegin(); it != log.leases.rend(); ++it) {
    if (it->second) {
      lease_overlay_[it->first] = *it->second;
    } else {
      lease_overlay_.erase(it->first);
    }
  }
  log.keys.clear();
  log.leases.clear();
}

// --- Range shaping
// ----------------------------------------------------------------------------------

namespace {

std::int64_t numeric_field(const KeyValue& kv, SortTarget target) {
  switch (target) {
    case SortTarget::kVersion:
      return kv.version;
    case SortTarget::kCreate:
      return kv.create_revision;
    case SortTarget::kMod:
      return kv.mod_revision;
    case SortTarget::kKey:
    case SortTarget::kValue:
      break;
  }
  return 0;
}

bool less_by(const KeyValue& a, const KeyValue& b, SortTarget target) {
  switch (target) {
    case SortTarget::kKey:
      return a.key < b.key;
    case SortTarget::kValue:
      return a.value < b.value;
    default:
      return numeric_field(a, target) < numeric_field(b, target);
  }
}

}  // namespace

RangeResponse build_range(
    const RangeRequest& request,
    const std::function<void(const std::function<void(const KeyValue&)>&)>& for_each,
    std::int64_t header_revision) {
  RangeResponse response;
  response.revision = header_revision;

  SortOrder order = request.sort_order;
  if (request.sort_target != SortTarget::kKey && order == SortOrder::kNone) {
    order = SortOrder::kAscend;  // etcd: a target other than KEY implies ascending
  }
  const bool key_ascending =
      request.sort_target == SortTarget::kKey && order != SortOrder::kDescend;
  const bool filtered = request.min_mod_revision != 0 || request.max_mod_revision != 0 ||
                        request.min_create_revision != 0 || request.max_create_revision != 0;
  // Without sorting or filters the first limit+1 keys decide `more`; otherwise etcd reads the whole
  // interval, filters and sorts, then truncates.
  const bool stop_early = key_ascending && !filtered && request.limit > 0;
  const auto keep = static_cast<std::size_t>(request.limit) + 1;

  // Pointers into the caller's storage (the map, the overlay or a vector it owns), valid for the
  // duration of this call; only what is finally returned is copied.
  std::vector<const KeyValue*> picked;
  std::int64_t count = 0;
  for_each([&](const KeyValue& kv) {
    ++count;
    if (request.count_only) {
      return;
    }
    if ((request.min_mod_revision != 0 && kv.mod_revision < request.min_mod_revision) ||
        (request.max_mod_revision != 0 && kv.mod_revision > request.max_mod_revision) ||
        (request.min_create_revision != 0 && kv.create_revision < request.min_create_revision) ||
        (request.max_create_revision != 0 && kv.create_revision > request.max_create_revision)) {
      return;
    }
    if (stop_early && picked.size() >= keep) {
      return;
    }
    picked.push_back(&kv);
  });
  response.count = count;
  if (request.count_only) {
    return response;
  }

  // Keys arrive in ascending order, so a stable sort keeps key order among equal sort values, which
  // makes results deterministic where etcd's unstable sort is not.
  if (!key_ascending) {
    SortTarget target = request.sort_target;
    if (order == SortOrder::kDescend) {
      std::stable_sort(
          picked.begin(), picked.end(),
          [target](const KeyValue* a, const KeyValue* b) { return less_by(*b, *a, target); });
    } else {
      std::stable_sort(
          picked.begin(), picked.end(),
          [target](const KeyValue* a, const KeyValue* b) { return less_by(*a, *b, target); });
    }
  }
  if (request.limit > 0 && picked.size() > static_cast<std::size_t>(request.limit)) {
    picked.resize(static_cast<std::size_t>(request.limit));
    response.more = true;
  }
  response.kvs.reserve(picked.size());
  for (const KeyValue* kv : picked) {
    if (request.keys_only) {
      KeyValue copy;
      copy.key = kv->key;
      copy.create_revision = kv->create_revision;
      copy.mod_revision = kv->mod_revision;
      copy.version = kv->version;
      copy.lease = kv->lease;
      response.kvs.push_back(std::move(copy));
    } else {
      response.kvs.push_back(*kv);
    }
  }
  return response;
}

// --- Validation
// ---------------------------------------------------------------------------------------

std::optional<Error> validate_range(const RangeRequest& request) {
  if (request.key.empty()) {
    return errors::bad_request(kErrKeyNotProvided);
  }
  return std::nullopt;
}

std::optional<Error> validate_put(const PutRequest& request) {
  if (request.key.empty()) {
    return errors::bad_request(kErrKeyNotProvided);
  }
  if (request.ignore_value && !request.value.empty()) {
    return errors::bad_request(kErrValueProvided);
  }
  if (request.ignore_lease && request.lease != 0) {
    return errors::bad_request(kErrLeaseProvided);
  }
  return std::nullopt;
}

std::optional<Error> validate_delete(const DeleteRangeRequest& request) {
  if (request.key.empty()) {
    return errors::bad_request(kErrKeyNotProvided);
  }
  return std::nullopt;
}

namespace {

// etcd's checkTxnRequest: limits and the per-op static checks, recursively; a nested txn gets the
// same per-level limit.
std::optional<Error> validate_ops(const TxnRequest& request) {
  if (request.compare.size() > kMaxTxnOps || request.success.size() > kMaxTxnOps ||
      request.failure.size() > kMaxTxnOps) {
    return errors::bad_request(kErrTooManyOps);
  }
  for (const auto& compare : request.compare) {
    if (compare.key.empty()) {
      return errors::bad_request(kErrKeyNotProvided);
    }
  }
  for (const auto* branch : {&request.success, &request.failure}) {
    for (const auto& op : *branch) {
      std::optional<Error> error;
      if (const auto* r = std::get_if<RangeRequest>(&op.op)) {
        error = validate_range(*r);
      } else if (const auto* p = std::get_if<PutRequest>(&op.op)) {
        error = validate_put(*p);
      } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op.op)) {
        error = validate_delete(*d);
      } else if (const auto* t = std::get_if<TxnRequest>(&op.op)) {
        error = validate_ops(*t);
      }
      if (error) {
        return error;
      }
    }
  }
  return std::nullopt;
}

struct WriteSet {
  std::set<std::string, std::less<>> puts;
  std::vector<KeyInterval> deletes;

  bool deleted(std::string_view key) const {
    return std::any_of(deletes.begin(), deletes.end(),
                       [&](const KeyInterval& interval) { return interval.contains(key); });
  }
};

// etcd's duplicate-key rule: within one branch (nested txns included) a key is put at most once and
// no put falls inside a deleted interval; the two branches of a nested txn exclude each other, so
// they may put the same key.
std::optional<Error> collect_writes(const std::vector<RequestOp>& ops, WriteSet& out) {
  for (const auto& op : ops) {
    if (const auto* d = std::get_if<DeleteRangeRequest>(&op.op)) {
      out.deletes.push_back(make_interval(d->key, d->range_end));
    }
  }
  // This level's deletes are collected first, so a put in a nested txn that falls inside them is
  // caught too; nested deletes then join the set before this level's own puts are checked.
  for (const auto& op : ops) {
    const auto* t = std::get_if<TxnRequest>(&op.op);
    if (t == nullptr) {
      continue;
    }
    WriteSet then_set;
    WriteSet else_set;
    if (auto error = collect_writes(t->success, then_set)) {
      return error;
    }
    if (auto error = collect_writes(t->failure, else_set)) {
      return error;
    }
    for (const auto& key : then_set.puts) {
      if (out.puts.count(key) != 0 || out.deleted(key)) {
        return errors::bad_request(kErrDuplicateKey);
      }
      out.puts.insert(key);
    }
    for (const auto& key : else_set.puts) {
      bool shared_with_then = then_set.puts.count(key) != 0;
      if ((out.puts.count(key) != 0 && !shared_with_then) || out.deleted(key)) {
        return errors::bad_request(kErrDuplicateKey);
      }
      out.puts.insert(key);
    }
    out.deletes.insert(out.deletes.end(), then_set.deletes.begin(), then_set.deletes.end());
    out.deletes.insert(out.deletes.end(), else_set.deletes.begin(), else_set.deletes.end());
  }
  for (const auto& op : ops) {
    const auto* p = std::get_if<PutRequest>(&op.op);
    if (p == nullptr) {
      continue;
    }
    if (out.puts.count(p->key) != 0 || out.deleted(p->key)) {
      return errors::bad_request(kErrDuplicateKey);
    }
    out.puts.insert(p->key);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> validate_txn(const TxnRequest& request) {
  if (auto error = validate_ops(request)) {
    return error;
  }
  WriteSet success;
  if (auto error = collect_writes(request.success, success)) {
    return error;
  }
  WriteSet failure;
  return collect_writes(request.failure, failure);
}

// --- Compares
// -------------------------------------------------------------------------------------------

namespace {

bool holds(CompareResult result, int cmp) {
  switch (result) {
    case CompareResult::kEqual:
      return cmp == 0;
    case CompareResult::kGreater:
      return cmp > 0;
    case CompareResult::kLess:
      return cmp < 0;
    case CompareResult::kNotEqual:
      return cmp != 0;
  }
  return false;
}

// One compare against one version. Values compare bytewise like keys; numeric targets as int64.
bool compare_kv(const Compare& compare, const KeyValue& kv) {
  if (compare.target == CompareTarget::kValue) {
    int cmp = kv.value.compare(compare.value);
    return holds(compare.result, cmp < 0 ? -1 : (cmp > 0 ? 1 : 0));
  }
  std::int64_t actual = 0;
  switch (compare.target) {
    case CompareTarget::kVersion:
      actual = kv.version;
      break;
    case CompareTarget::kCreate:
      actual = kv.create_revision;
      break;
    case CompareTarget::kMod:
      actual = kv.mod_revision;
      break;
    case CompareTarget::kLease:
      actual = kv.lease;
      break;
    case CompareTarget::kValue:
      break;
  }
  return holds(compare.result, actual < compare.number ? -1 : (actual > compare.number ? 1 : 0));
}

void path_into(const TxnRequest& request, const View& view, std::vector<bool>& path) {
  bool ok = std::all_of(request.compare.begin(), request.compare.end(),
                        [&](const Compare& c) { return evaluate_compare(c, view); });
  path.push_back(ok);
  for (const auto& op : ok ? request.success : request.failure) {
    if (const auto* t = std::get_if<TxnRequest>(&op.op)) {
      path_into(*t, view, path);
    }
  }
}

bool writes_at(const TxnRequest& request, const std::vector<bool>& path, std::size_t& index) {
  bool ok = path.at(index++);
  bool writes = false;
  for (const auto& op : ok ? request.success : request.failure) {
    if (std::holds_alternative<PutRequest>(op.op) ||
        std::holds_alternative<DeleteRangeRequest>(op.op)) {
      writes = true;
    } else if (const auto* t = std::get_if<TxnRequest>(&op.op)) {
      // Keep walking so `index` stays aligned with the pre-order path.
      writes = writes_at(*t, path, index) || writes;
    }
  }
  return writes;
}

}  // namespace

// etcd's applyCompare: a range compare must hold for every key, and an empty range behaves like one
// missing key.
bool evaluate_compare(const Compare& compare, const View& view) {
  if (compare.range_end.empty()) {
    const Entry* entry = view.get(compare.key);
    if (entry == nullptr) {
      // A missing key compares as a zero KeyValue, except that a value compare always fails.
      return compare.target != CompareTarget::kValue && compare_kv(compare, KeyValue{});
    }
    return compare_kv(compare, entry->kv);
  }
  bool any = false;
  bool all = true;
  view.for_each(make_interval(compare.key, compare.range_end), [&](const Entry& entry) {
    any = true;
    if (all && !compare_kv(compare, entry.kv)) {
      all = false;
    }
  });
  if (!any) {
    return compare.target != CompareTarget::kValue && compare_kv(compare, KeyValue{});
  }
  return all;
}

std::vector<bool> txn_path(const TxnRequest& request, const View& view) {
  std::vector<bool> path;
  path_into(request, view, path);
  return path;
}

bool txn_writes(const TxnRequest& request, const std::vector<bool>& path) {
  std::size_t index = 0;
  return writes_at(request, path, index);
}

// --- Executor
// -----------------------------------------------------------------------------------------

// A put always creates a new version at the request's revision, even with an identical value (etcd
// bumps the revision and the version). The change remembers the replaced version (prev) and where
// its history row lives (prev_sub) for prev_kv and compaction; a creation has none.
Result<PutResponse> Executor::put(const PutRequest& request) {
  if (auto error = validate_put(request)) {
    return *error;
  }
  const Entry* current = view_.get(request.key);
  if ((request.ignore_value || request.ignore_lease) && current == nullptr) {
    return errors::bad_request(kErrKeyNotFound);
  }
  std::int64_t lease = request.ignore_lease ? current->kv.lease : request.lease;
  if (lease != 0 && !view_.lease_exists(lease)) {
    return errors::not_found(kErrLeaseNotFound);
  }
  const std::int64_t rev = new_revision();
  Change change;
  change.sub = static_cast<std::int64_t>(changes_.size());
  change.kv.key = request.key;
  change.kv.mod_revision = rev;
  change.kv.lease = lease;
  if (current != nullptr) {
    change.kv.create_revision = current->kv.create_revision;
    change.kv.version = current->kv.version + 1;
    change.kv.value = request.ignore_value ? current->kv.value : request.value;
    change.prev = current->kv;
    change.prev_sub = current->sub;
  } else {
    change.kv.create_revision = rev;
    change.kv.version = 1;
    change.kv.value = request.value;
  }
  PutResponse response;
  response.revision = rev;
  if (request.prev_kv && change.prev) {
    response.prev_kv = change.prev;
  }
  view_.write(request.key, Entry{change.kv, change.sub}, &undo_);
  changes_.push_back(std::move(change));
  return response;
}

void Executor::remove_key(const Entry& entry) {
  Change change;
  change.sub = static_cast<std::int64_t>(changes_.size());
  change.deleted = true;
  change.kv.key = entry.kv.key;
  change.kv.mod_revision = new_revision();
  change.prev = entry.kv;
  change.prev_sub = entry.sub;
  std::string key = entry.kv.key;  // `entry` may live in the overlay being written
  changes_.push_back(std::move(change));
  view_.write(key, std::nullopt, &undo_);
}

// Copies the doomed entries first: writing tombstones into the overlay while iterating the merged
// view would invalidate the iteration.
Result<DeleteRangeResponse> Executor::delete_range(const DeleteRangeRequest& request) {
  if (auto error = validate_delete(request)) {
    return *error;
  }
  std::vector<Entry> doomed;
  view_.for_each(make_interval(request.key, request.range_end),
                 [&](const Entry& entry) { doomed.push_back(entry); });
  DeleteRangeResponse response;
  response.deleted = static_cast<std::int64_t>(doomed.size());
  for (auto& entry : doomed) {
    remove_key(entry);
    if (request.prev_kv) {
      response.prev_kvs.push_back(std::move(entry.kv));
    }
  }
  response.revision = header_revision();
  return response;
}

// A range inside a txn: revision rules as for Store::range, except that "current" is the txn's own
// revision once it has written (etcd's storeTxnWrite.Range), so later ops read the earlier ones.
Result<RangeResponse> Executor::range(const RangeRequest& request) {
  if (auto error = validate_range(request)) {
    return *error;
  }
  // Inside a txn the "current" revision includes the txn's own earlier writes.
  const std::int64_t current = header_revision();
  std::int64_t rev = request.revision;
  if (rev > current) {
    return errors::out_of_range(kErrFutureRev);
  }
  if (rev <= 0) {
    rev = current;
  }
  if (rev < compact_revision_) {
    return errors::gone(kErrCompacted);
  }
  KeyInterval interval = make_interval(request.key, request.range_end);
  if (rev == current) {
    return build_range(
        request,
        [&](const std::function<void(const KeyValue&)>& fn) {
          view_.for_each(interval, [&](const Entry& entry) { fn(entry.kv); });
        },
        current);
  }
  auto kvs = history_(interval, rev);
  if (!kvs) {
    return kvs.error();
  }
  return build_range(
      request,
      [&](const std::function<void(const KeyValue&)>& fn) {
        for (const auto& kv : *kvs) {
          fn(kv);
        }
      },
      current);
}

Result<TxnResponse> Executor::txn(const TxnRequest& request, const std::vector<bool>& path) {
  if (auto error = validate_txn(request)) {
    return *error;
  }
  std::size_t index = 0;
  auto response = run_txn(request, path, index);
  if (!response) {
    return response;
  }
  response->revision = header_revision();
  return response;
}

// Runs the branch chosen in `path` (pre-order, one entry per txn level actually executed). Any
// error aborts the whole request; the caller undoes the view.
Result<TxnResponse> Executor::run_txn(const TxnRequest& request, const std::vector<bool>& path,
                                      std::size_t& index) {
  TxnResponse response;
  response.succeeded = path.at(index++);
  const auto& ops = response.succeeded ? request.success : request.failure;
  response.responses.reserve(ops.size());
  for (const auto& op : ops) {
    ResponseOp out;
    if (const auto* r = std::get_if<RangeRequest>(&op.op)) {
      auto result = range(*r);
      if (!result) {
        return result.error();
      }
      out.op = std::move(*result);
    } else if (const auto* p = std::get_if<PutRequest>(&op.op)) {
      auto result = put(*p);
      if (!result) {
        return result.error();
      }
      out.op = std::move(*result);
    } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op.op)) {
      auto result = delete_range(*d);
      if (!result) {
        return result.error();
      }
      out.op = std::move(*result);
    } else if (const auto* t = std::get_if<TxnRequest>(&op.op)) {
      auto result = run_txn(*t, path, index);
      if (!result) {
        return result.error();
      }
      result->revision = 0;  // a nested TxnResponse carries an empty header in etcd
      out.op = std::move(*result);
    }
    response.responses.push_back(std::move(out));
  }
  return response;
}

// Revoke (and expiry) deletes every key attached to the lease at one revision, in key order as etcd
// does, then drops the lease. A lease without keys takes no revision.
Result<std::int64_t> Executor::revoke(std::int64_t lease) {
  if (!view_.lease_exists(lease)) {
    return errors::not_found(kErrLeaseNotFound);
  }
  for (const auto& key : view_.lease_keys(lease)) {
    if (const Entry* entry = view_.get(key)) {
      Entry copy = *entry;
      remove_key(copy);
    }
  }
  view_.set_lease(lease, std::nullopt, &undo_);
  return header_revision();
}

}  // namespace skiff::kv
