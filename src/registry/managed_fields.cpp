// SPDX-License-Identifier: Apache-2.0
// metadata.managedFields and server-side apply: k8s.io/apimachinery's managedfields chain
// (version check, last-applied handoff, skip-non-applied, manager cap, manager identifiers, times,
// meta stripping) over structured-merge-diff's Updater.

#include "skiff/registry/managed_fields.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "managed_fields_internal.hpp"
#include "patch_internal.hpp"

namespace skiff::registry {
namespace {

using json::Value;
namespace chr = std::chrono;

constexpr std::string_view kApply = "Apply";
constexpr std::string_view kUpdate = "Update";
constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
constexpr std::size_t kTotalAnnotationSizeLimit = std::size_t{256} * 1024;

// ---- times ----

std::string format_time(chr::sys_seconds t) {
  const auto days = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{days};
  const chr::hh_mm_ss<chr::seconds> hms{t - days};
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf.data();
}

// RFC 3339 ("2006-01-02T15:04:05Z07:00", optional fraction), as metav1.Time decodes it.
std::optional<chr::sys_seconds> parse_time(std::string_view s) {
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  int sec = 0;
  int used = 0;
  const std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) !=
          6 ||
      used != 19) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      ++i;
    }
    rest.remove_prefix(i);
  }
  int offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    const int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = (rest[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const chr::year_month_day ymd{chr::year{y}, chr::month{mo}, chr::day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  return chr::sys_days{ymd} + chr::hours{h} + chr::minutes{mi} + chr::seconds{sec} -
         chr::seconds{offset};
}

std::int64_t unix_seconds(const std::optional<chr::sys_seconds>& t) {
  return t ? t->time_since_epoch().count() : 0;
}

// ---- manager identifiers ----

// The key upstream gives each manager in its ManagedFields map: the entry's JSON without
// fieldsType, fieldsV1 and time, and without apiVersion for Apply (one Apply entry per manager).
struct ManagerId {
  std::string manager;
  std::string operation;
  std::string api_version;  // empty for Apply
  std::string subresource;

  std::string key() const {
    std::string out = "{";
    bool first = true;
    auto add = [&](std::string_view name, const std::string& v) {
      if (v.empty()) {
        return;
      }
      out += first ? "" : ",";
      first = false;
      detail::go_json_to(Value(std::string(name)), out);
      out.push_back(':');
      detail::go_json_to(Value(v), out);
    };
    add("manager", manager);
    add("operation", operation);
    add("apiVersion", api_version);
    add("subresource", subresource);
    out.push_back('}');
    return out;
  }

  // printManager.
  std::string display() const {
    std::string s = detail::go_quote(manager);
    if (!subresource.empty()) {
      s += " with subresource " + detail::go_quote(subresource);
    }
    if (operation == kUpdate) {
      s += " using " + api_version;
    }
    return s;
  }
};

struct VersionedSet {
  FieldSet set;
  std::string api_version;
  bool applied = false;
};

// upstream's Managed: field sets and times by manager identifier.
struct Managed {
  std::map<std::string, VersionedSet> fields;
  std::map<std::string, std::optional<chr::sys_seconds>> times;
  std::map<std::string, ManagerId> ids;

  void put(const ManagerId& id, VersionedSet vs) {
    const std::string k = id.key();
    ids[k] = id;
    fields[k] = std::move(vs);
  }
  void erase(const std::string& k) {
    fields.erase(k);
    times.erase(k);
    ids.erase(k);
  }
};

Result<ManagedFieldsEntry> decode_entry(const Value& e, std::size_t i) {
  if (!e.is_object()) {
    return errors::bad_request("managed fields entry " + std::to_string(i) + " is not an object");
  }
  auto str = [&](std::string_view name, std::string& out) -> Result<void> {
    const Value* v = e.get(name);
    if (v == nullptr || v->is_null()) {
      return {};
    }
    if (!v->is_string()) {
      return errors::bad_request("managed fields entry " + std::to_string(i) + ": " +
                                 std::string(name) + " must be a string");
    }
    out = v->as_string();
    return {};
  };
  ManagedFieldsEntry out;
  std::string fields_type;
  std::string time;
  for (const auto& r : {str("manager", out.manager), str("operation", out.operation),
                        str("apiVersion", out.api_version), str("fieldsType", fields_type),
                        str("time", time), str("subresource", out.subresource)}) {
    if (!r) {
      return r.error();
    }
  }
  if (out.operation != kApply && out.operation != kUpdate) {
    return errors::bad_request("operation must be `Apply` or `Update`");
  }
  if (out.api_version.empty()) {
    return errors::bad_request("apiVersion must not be empty");
  }
  if (fields_type.empty()) {
    return errors::bad_request("missing fieldsType in managed fields entry " + std::to_string(i));
  }
  if (fields_type != "FieldsV1") {
    return errors::bad_request("invalid fieldsType " + detail::go_quote(fields_type) +
                               " in managed fields entry " + std::to_string(i));
  }
  if (!time.empty()) {
    out.time = parse_time(time);
    if (!out.time) {
      return errors::bad_request("managed fields entry " + std::to_string(i) + ": invalid time " +
                                 detail::go_quote(time));
    }
  }
  if (const Value* f = e.get("fieldsV1"); f != nullptr && !f->is_null()) {
    auto set = FieldSet::from_fields_v1(*f);
    if (!set) {
      return errors::bad_request("error decoding versioned set from entry " + std::to_string(i) +
                                 ": error decoding set: " + set.error().message);
    }
    out.fields = std::move(*set);
  }
  return out;
}

ManagerId id_of(const ManagedFieldsEntry& e) {
  return ManagerId{e.manager, e.operation, e.operation == kApply ? std::string() : e.api_version,
                   e.subresource};
}

Result<Managed> decode(const Value* managed_fields) {
  Managed m;
  if (managed_fields == nullptr) {
    return m;
  }
  auto entries = decode_managed_fields(*managed_fields);
  if (!entries) {
    return entries.error();
  }
  for (auto& e : *entries) {
    const ManagerId id = id_of(e);
    const std::string k = id.key();
    m.times[k] = e.time;
    m.put(id, VersionedSet{std::move(e.fields), e.api_version, e.operation == kApply});
  }
  return m;
}

Value encode(const Managed& m) {
  std::vector<ManagedFieldsEntry> entries;
  for (const auto& [k, vs] : m.fields) {
    const ManagerId& id = m.ids.at(k);
    ManagedFieldsEntry e;
    e.manager = id.manager;
    e.operation = vs.applied ? std::string(kApply) : id.operation;
    e.api_version = vs.api_version;
    e.subresource = id.subresource;
    if (auto t = m.times.find(k); t != m.times.end()) {
      e.time = t->second;
    }
    e.fields = vs.set;
    entries.push_back(std::move(e));
  }
  return encode_managed_fields(std::move(entries));
}

// The object's metadata, created when missing; nullptr when the object or its metadata is not an
// object (such a write fails validation later; ownership is simply not recorded).
Value* metadata_of(Value& object) {
  if (!object.is_object()) {
    return nullptr;
  }
  Value* meta = object.get("metadata");
  if (meta == nullptr) {
    return &object.as_object().set("metadata", Value::object());
  }
  return meta->is_object() ? meta : nullptr;
}

const Value* managed_fields_of(const Value& object) {
  return object.get_path({"metadata", "managedFields"});
}

bool has_uid(const Value& object) {
  return !object["metadata"].string_or("uid").empty();
}

// isResetManagedFields: `[]`, or `[{}]` (a single zero entry).
bool is_reset(const Value* mf) {
  if (mf == nullptr || !mf->is_array()) {
    return false;
  }
  const auto& a = mf->as_array();
  if (a.empty()) {
    return true;
  }
  if (a.size() != 1 || !a[0].is_object()) {
    return false;
  }
  for (const auto& m : a[0].as_object()) {
    const bool zero = m.value.is_null() || (m.value.is_string() && m.value.as_string().empty());
    if (!zero) {
      return false;
    }
  }
  return true;
}

// The server-set metadata no manager owns (stripMetaManager).
const FieldSet& strip_set() {
  static const FieldSet s = [] {
    FieldSet f;
    f.insert(make_path({"apiVersion"}));
    f.insert(make_path({"kind"}));
    f.insert(make_path({"metadata"}));
    for (const char* n : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                          "clusterName", "generation", "managedFields", "resourceVersion"}) {
      f.insert(make_path({"metadata", n}));
    }
    return f;
  }();
  return s;
}

void strip_meta(Managed& m, const std::string& k) {
  auto it = m.fields.find(k);
  if (it == m.fields.end()) {
    return;
  }
  it->second.set = it->second.set.difference(strip_set());
  if (it->second.set.empty()) {
    m.erase(k);
  }
}

Value without_managed_fields(Value object) {
  strip_managed_fields(object);
  return object;
}

std::string gvk_string(const GroupVersionKind& gvk) {
  return gvk.group + "/" + gvk.version + ", Kind=" + gvk.kind;
}

std::string group_version(const GroupVersionKind& gvk) {
  return gvk.group.empty() ? gvk.version : gvk.group + "/" + gvk.version;
}

GroupVersionKind gvk_of(const Value& object) {
  GroupVersionKind gvk;
  const std::string_view api_version = object.string_or("apiVersion");
  const auto slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    gvk.version = std::string(api_version);
  } else {
    gvk.group = std::string(api_version.substr(0, slash));
    gvk.version = std::string(api_version.substr(slash + 1));
  }
  gvk.kind = std::string(object.string_or("kind"));
  return gvk;
}

struct Conflict {
  std::string manager;  // identifier
  FieldPath path;
};

Error conflict_error(const std::vector<Conflict>& conflicts, const Managed& m) {
  auto display = [&](const std::string& k) {
    auto it = m.ids.find(k);
    return it != m.ids.end() ? it->second.display() : detail::go_quote(k);
  };
  std::string message;
  if (conflicts.size() == 1) {
    message = "Apply failed with 1 conflict: conflict with " + display(conflicts[0].manager) +
              ": " + path_to_string(conflicts[0].path);
  } else {
    std::vector<std::string> lines;
    std::string current;
    for (const auto& c : conflicts) {
      if (c.manager != current) {
        lines.push_back("conflicts with " + display(c.manager) + ":");
        current = c.manager;
      }
      lines.push_back("- " + path_to_string(c.path));
    }
    message = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
    for (std::size_t i = 0; i < lines.size(); ++i) {
      message += (i ? "\n" : "") + lines[i];
    }
  }
  Error e = errors::make(Reason::kConflict, std::move(message));
  for (const auto& c : conflicts) {
    e.causes.push_back(FieldCause{"FieldManagerConflict", "conflict with " + display(c.manager),
                                  path_to_string(c.path)});
  }
  return e;
}

// The outcome of one pass of the apply chain.
struct ApplyOutcome {
  Value object;
  Managed managed;
  std::vector<Conflict> conflicts;  // set when the apply was refused
};

}  // namespace

// ---- public entry encoding ----

Result<std::vector<ManagedFieldsEntry>> decode_managed_fields(const json::Value& managed_fields) {
  std::vector<ManagedFieldsEntry> out;
  if (managed_fields.is_null()) {
    return out;
  }
  if (!managed_fields.is_array()) {
    return errors::bad_request("metadata.managedFields must be a list");
  }
  const auto& a = managed_fields.as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto e = decode_entry(a[i], i);
    if (!e) {
      return e.error();
    }
    out.push_back(std::move(*e));
  }
  return out;
}

json::Value encode_managed_fields(std::vector<ManagedFieldsEntry> entries) {
  if (entries.empty()) {
    return {};
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& p, const auto& q) {
    if (p.operation != q.operation) {
      return p.operation < q.operation;
    }
    if (unix_seconds(p.time) != unix_seconds(q.time)) {
      return unix_seconds(p.time) < unix_seconds(q.time);
    }
    if (p.manager != q.manager) {
      return p.manager < q.manager;
    }
    if (p.api_version != q.api_version) {
      return p.api_version < q.api_version;
    }
    return p.subresource < q.subresource;
  });
  json::Array out;
  for (const auto& e : entries) {
    json::Object o;
    if (!e.manager.empty()) {
      o.set("manager", e.manager);
    }
    o.set("operation", e.operation);
    o.set("apiVersion", e.api_version);
    if (e.time) {
      o.set("time", format_time(*e.time));
    }
    o.set("fieldsType", "FieldsV1");
    o.set("fieldsV1", e.fields.to_fields_v1());
    if (!e.subresource.empty()) {
      o.set("subresource", e.subresource);
    }
    out.emplace_back(std::move(o));
  }
  return {std::move(out)};
}

Result<void> validate_managed_fields(const json::Value& managed_fields) {
  auto d = decode_managed_fields(managed_fields);
  if (!d) {
    return d.error();
  }
  return {};
}

std::vector<FieldCause> validate_managed_fields_entries(const json::Value& managed_fields,
                                                        std::string_view field_path) {
  std::vector<FieldCause> causes;
  if (!managed_fields.is_array()) {
    return causes;
  }
  const auto& a = managed_fields.as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string base = std::string(field_path) + "[" + std::to_string(i) + "]";
    const Value& e = a[i];
    const std::string operation(e.string_or("operation"));
    if (operation != kApply && operation != kUpdate) {
      causes.push_back(
          {"FieldValueInvalid",
           "Invalid value: " + detail::go_quote(operation) + ": must be `Apply` or `Update`",
           base + ".operation"});
    }
    const std::string fields_type(e.string_or("fieldsType"));
    if (!fields_type.empty() && fields_type != "FieldsV1") {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + detail::go_quote(fields_type) + ": must be `FieldsV1`",
                        base + ".fieldsType"});
    }
    const std::string_view manager = e.string_or("manager");
    if (manager.size() > 128) {
      causes.push_back(
          {"FieldValueTooLong", "Too long: may not be more than 128 bytes", base + ".manager"});
    }
    for (std::size_t p = 0; p < manager.size(); ++p) {
      const auto c = static_cast<unsigned char>(manager[p]);
      if (c < 0x20 || c == 0x7F) {
        std::array<char, 80> buf{};
        std::snprintf(buf.data(), buf.size(), ": invalid character U+%04X (at position %zu)", c, p);
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: " + detail::go_quote(manager) + buf.data(),
                          base + ".manager"});
      }
    }
    if (e.string_or("subresource").size() > 256) {
      causes.push_back(
          {"FieldValueTooLong", "Too long: may not be more than 256 bytes", base + ".subresource"});
    }
  }
  return causes;
}

bool strip_managed_fields(json::Value& object) {
  json::Value* meta = object.get("metadata");
  if (meta == nullptr || !meta->is_object()) {
    return false;
  }
  return meta->as_object().erase("managedFields");
}

Result<FieldSet> field_set_of(const Node* schema, const json::Value& object) {
  if (auto err = detail::validate_typed(schema, object, true); !err.empty()) {
    return errors::make(Reason::kInvalid, err);
  }
  return detail::to_field_set_typed(schema, object);
}

// ---- FieldManager ----

namespace {

class Engine {
public:
  Engine(const Node* schema, const FieldManagerOptions& options)
      : schema_(schema), options_(options), api_version_(group_version(options.gvk)) {
    for (const auto& p : options.reset_fields) {
      reset_.insert(p);
    }
  }

  // Updater.Update for `id` plus the stripMeta and managedFieldsUpdater steps: fields the write
  // changed leave every manager and join `id`'s entry (stamped `now`), if there are any.
  void update(const Value& live, const Value& updated, Managed& managed, const ManagerId& id,
              chr::sys_seconds now) const {
    detail::Comparison cmp = detail::compare_typed(schema_, live, updated);
    cmp.exclude(reset_);
    const FieldSet changed = cmp.modified.union_with(cmp.added);
    for (auto it = managed.fields.begin(); it != managed.fields.end();) {
      auto& vs = it->second;
      vs.set = vs.set.difference(vs.set.intersection(changed)).difference(cmp.removed);
      if (vs.set.empty()) {
        managed.times.erase(it->first);
        managed.ids.erase(it->first);
        it = managed.fields.erase(it);
      } else {
        ++it;
      }
    }
    FieldSet op = changed.recursive_difference(reset_).difference(strip_set());
    if (op.empty()) {
      return;
    }
    const std::string k = id.key();
    if (auto prev = managed.fields.find(k); prev != managed.fields.end()) {
      op = op.union_with(prev->second.set);
    }
    managed.put(id, VersionedSet{std::move(op), api_version_, false});
    managed.times[k] = now;
  }

  // capManagersManager.
  void cap(Managed& managed) const {
    std::vector<std::string> updaters;
    for (const auto& [k, vs] : managed.fields) {
      if (!vs.applied) {
        updaters.push_back(k);
      }
    }
    if (updaters.size() <= options_.max_update_managers) {
      return;
    }
    auto seconds = [&](const std::string& k) {
      auto t = managed.times.find(k);
      return t == managed.times.end() ? std::int64_t{0} : unix_seconds(t->second);
    };
    std::sort(updaters.begin(), updaters.end(), [&](const std::string& a, const std::string& b) {
      if (seconds(a) != seconds(b)) {
        return seconds(a) < seconds(b);
      }
      return a < b;
    });
    std::map<std::string, std::string> first_by_version;
    std::size_t length = updaters.size();
    for (std::size_t i = 0; i < updaters.size() && length > options_.max_update_managers; ++i) {
      const std::string& k = updaters[i];
      const VersionedSet vs = managed.fields.at(k);
      const auto time = managed.times.count(k) ? managed.times.at(k) : std::nullopt;
      const ManagerId bucket{"ancient-changes", std::string(kUpdate), vs.api_version, ""};
      const std::string bk = bucket.key();
      auto first = first_by_version.find(vs.api_version);
      if (first == first_by_version.end()) {
        first_by_version[vs.api_version] = k;
        continue;
      }
      if (managed.fields.count(bk) == 0) {
        VersionedSet moved = managed.fields.at(first->second);
        const auto moved_time =
            managed.times.count(first->second) ? managed.times.at(first->second) : std::nullopt;
        managed.erase(first->second);
        managed.put(bucket, std::move(moved));
        managed.times[bk] = moved_time;
      }
      VersionedSet merged{vs.set.union_with(managed.fields.at(bk).set), vs.api_version, vs.applied};
      managed.put(bucket, std::move(merged));
      managed.erase(k);
      --length;
      managed.times[bk] = time;
    }
  }

  // The apply chain below the last-applied handling.
  ApplyOutcome apply(const Value& live, const Value& config, Managed managed, const ManagerId& id,
                     bool force, chr::sys_seconds now) const {
    ApplyOutcome out;
    if (managed.fields.empty()) {
      // skipNonAppliedManager: the fields an untracked object already has belong to
      // "before-first-apply".
      update(
          options_.empty_object, live, managed,
          ManagerId{"before-first-apply", std::string(kUpdate), api_version_, options_.subresource},
          now);
      cap(managed);
    }
    const std::string k = id.key();
    Value merged = detail::merge_typed(schema_, live, config);
    std::optional<FieldSet> last;
    if (auto it = managed.fields.find(k); it != managed.fields.end()) {
      last = it->second.set;
    }
    FieldSet applied = detail::to_field_set_typed(schema_, config).recursive_difference(reset_);
    managed.put(id, VersionedSet{std::move(applied), api_version_, true});
    if (last && !last->empty()) {
      merged = prune(merged, managed, *last);
    }
    detail::Comparison cmp = detail::compare_typed(schema_, live, merged);
    cmp.exclude(reset_);
    const FieldSet changed = cmp.modified.union_with(cmp.added);
    std::map<std::string, FieldSet> conflicts;
    for (const auto& [mk, vs] : managed.fields) {
      if (mk == k) {
        continue;
      }
      FieldSet c = vs.set.intersection(changed);
      if (!c.empty()) {
        conflicts[mk] = std::move(c);
      }
    }
    if (!force && !conflicts.empty()) {
      for (const auto& [mk, set] : conflicts) {
        set.for_each([&](const FieldPath& p) { out.conflicts.push_back(Conflict{mk, p}); });
      }
      out.managed = std::move(managed);
      return out;
    }
    for (auto it = managed.fields.begin(); it != managed.fields.end();) {
      if (it->first != k) {
        auto& vs = it->second;
        if (auto c = conflicts.find(it->first); c != conflicts.end()) {
          vs.set = vs.set.difference(c->second);
        }
        vs.set = vs.set.difference(cmp.removed);
      }
      if (it->second.set.empty()) {
        managed.times.erase(it->first);
        managed.ids.erase(it->first);
        it = managed.fields.erase(it);
      } else {
        ++it;
      }
    }
    strip_meta(managed, k);
    if (live == merged) {
      out.object = live;  // nothing changed: the entry may still have, its time does not
    } else {
      if (managed.fields.count(k) != 0) {
        managed.times[k] = now;
      }
      out.object = std::move(merged);
    }
    out.managed = std::move(managed);
    return out;
  }

  const Node* schema() const { return schema_; }
  const std::string& api_version() const { return api_version_; }

private:
  // Updater.prune: what `last` owned and nobody owns any more leaves the merged object.
  Value prune(const Value& merged, const Managed& managed, const FieldSet& last) const {
    using detail::ensure_named_fields_are_members;
    using detail::remove_items_typed;
    using detail::to_field_set_typed;
    const FieldSet last_e = ensure_named_fields_are_members(last, schema_);
    Value pruned = remove_items_typed(schema_, merged, last_e);
    FieldSet owned;
    for (const auto& [mk, vs] : managed.fields) {
      owned = owned.union_with(vs.set);
    }
    const FieldSet merged_e =
        ensure_named_fields_are_members(to_field_set_typed(schema_, merged), schema_);
    FieldSet pruned_e =
        ensure_named_fields_are_members(to_field_set_typed(schema_, pruned), schema_);
    pruned = remove_items_typed(
        schema_, merged,
        merged_e.difference(pruned_e.union_with(ensure_named_fields_are_members(owned, schema_))));
    pruned_e = ensure_named_fields_are_members(to_field_set_typed(schema_, pruned), schema_);
    return remove_items_typed(schema_, merged, merged_e.difference(pruned_e).intersection(last_e));
  }

  const Node* schema_;
  const FieldManagerOptions& options_;
  std::string api_version_;
  FieldSet reset_;
};

std::string object_gvknn(const Value& object, const GroupVersionKind& gvk) {
  const Value& meta = object["metadata"];
  const std::string ns(meta.string_or("namespace"));
  const std::string name(meta.string_or("name"));
  return ns + "/" + name + "; " + gvk_string(gvk);
}

// lastAppliedManager.allowedConflictsFromLastApplied: fields the last-applied annotation set that
// the live object still holds unchanged.
std::optional<FieldSet> allowed_from_last_applied(const Engine& engine, const Value& live) {
  const Value* annotation = live.get_path({"metadata", "annotations"});
  if (annotation == nullptr || !annotation->is_object()) {
    return std::nullopt;
  }
  const Value* text = annotation->get(kLastApplied);
  if (text == nullptr || !text->is_string() || text->as_string().empty()) {
    return std::nullopt;
  }
  auto last_applied = json::parse(text->as_string());
  if (!last_applied || !last_applied->is_object() ||
      last_applied->string_or("apiVersion") != engine.api_version()) {
    return std::nullopt;
  }
  if (!detail::validate_typed(engine.schema(), *last_applied, false).empty() ||
      !detail::validate_typed(engine.schema(), live, false).empty()) {
    return std::nullopt;
  }
  const FieldSet set = detail::to_field_set_typed(engine.schema(), *last_applied);
  const detail::Comparison cmp = detail::compare_typed(engine.schema(), *last_applied, live);
  return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
}

// SetLastApplied: the annotation becomes the configuration without it (encoding/json's form, with
// its trailing newline), unless that makes the annotations too large.
void set_last_applied(Value& object, const Value& config) {
  Value copy = config;
  if (Value* annotations = copy.get_path({"metadata", "annotations"});
      annotations != nullptr && annotations->is_object()) {
    annotations->as_object().erase(kLastApplied);
  }
  std::string text = detail::go_json(copy) + "\n";
  Value* meta = metadata_of(object);
  if (meta == nullptr) {
    return;
  }
  Value* existing = meta->get("annotations");
  if (existing != nullptr && !existing->is_object() && !existing->is_null()) {
    return;
  }
  Value& annotations = meta->as_object().set(
      "annotations",
      existing != nullptr && existing->is_object() ? std::move(*existing) : Value::object());
  annotations.as_object().set(kLastApplied, Value(std::move(text)));
  std::size_t total = 0;
  for (const auto& m : annotations.as_object()) {
    total += m.key.size() + (m.value.is_string() ? m.value.as_string().size() : 0);
  }
  if (total > kTotalAnnotationSizeLimit) {
    annotations.as_object().erase(kLastApplied);
  }
}

bool has_last_applied(const Value& object) {
  const Value* a = object.get_path({"metadata", "annotations"});
  if (a == nullptr) {
    return false;
  }
  const Value* v = a->get(kLastApplied);
  return v != nullptr && v->is_string() && !v->as_string().empty();
}

Value finish(Value object, const Managed& managed, const Node* schema) {
  strip_managed_fields(object);
  detail::strip_typed_nulls(schema, object);
  Value encoded = encode(managed);
  if (Value* meta = metadata_of(object); meta != nullptr && !encoded.is_null()) {
    meta->as_object().set("managedFields", std::move(encoded));
  }
  return object;
}

}  // namespace

FieldManager::FieldManager(const Node* schema, FieldManagerOptions options)
    : schema_(schema), options_(std::move(options)) {}

json::Value FieldManager::update(const json::Value* live, json::Value updated,
                                 std::string_view manager,
                                 std::chrono::system_clock::time_point now) const {
  const Engine engine(schema_, options_);
  const auto now_s = chr::floor<chr::seconds>(now);
  // decodeLiveOrNew
  const Value* live_mf = live != nullptr ? managed_fields_of(*live) : nullptr;
  auto from_live = [&] {
    auto m = decode(live_mf);
    return m ? std::move(*m) : Managed{};
  };
  Managed managed;
  if (!options_.subresource.empty()) {
    managed = from_live();
  } else if (const Value* new_mf = managed_fields_of(updated); is_reset(new_mf)) {
    managed = Managed{};
  } else {
    auto m = decode(new_mf);
    managed = m && !m->fields.empty() ? std::move(*m) : from_live();
  }
  strip_managed_fields(updated);
  // skipNonAppliedManager: an existing object without entries stays untracked.
  if (managed.fields.empty() && live != nullptr && has_uid(*live)) {
    return updated;
  }
  const Value live_object = live != nullptr ? without_managed_fields(*live) : options_.empty_object;
  const ManagerId id{manager.empty() ? std::string("unknown") : std::string(manager),
                     std::string(kUpdate), engine.api_version(), options_.subresource};
  engine.update(live_object, updated, managed, id, now_s);
  engine.cap(managed);
  Value encoded = encode(managed);
  if (Value* meta = metadata_of(updated); meta != nullptr && !encoded.is_null()) {
    meta->as_object().set("managedFields", std::move(encoded));
  }
  return updated;
}

Result<json::Value> FieldManager::apply(const json::Value* live, const json::Value& config,
                                        std::string_view manager_name, bool force,
                                        std::chrono::system_clock::time_point now) const {
  auto managed = decode(live != nullptr ? managed_fields_of(*live) : nullptr);
  if (!managed) {
    return errors::internal("failed to decode managed fields: " + managed.error().message);
  }
  // versionCheckManager
  const GroupVersionKind config_gvk = config.is_object() ? gvk_of(config) : GroupVersionKind{};
  if (!(config_gvk == options_.gvk)) {
    return errors::bad_request("invalid object type: " + gvk_string(config_gvk));
  }
  const Engine engine(schema_, options_);
  const auto now_s = chr::floor<chr::seconds>(now);
  if (const Value* mf = managed_fields_of(config); mf != nullptr && mf->is_array()) {
    return errors::bad_request("metadata.managedFields must be nil");
  }
  const Value live_object = live != nullptr ? without_managed_fields(*live) : options_.empty_object;
  if (auto err = detail::validate_typed(schema_, config, false); !err.empty()) {
    return errors::internal("failed to create typed patch object (" +
                            object_gvknn(config, config_gvk) + "): " + err);
  }
  const std::string manager(manager_name);
  const ManagerId id{manager, std::string(kApply), "", options_.subresource};
  ApplyOutcome outcome = engine.apply(live_object, config, *managed, id, force, now_s);
  if (!outcome.conflicts.empty() && manager == "kubectl" && live != nullptr) {
    // lastAppliedManager: conflicts with what client-side apply set and nobody changed since are
    // taken over.
    if (auto allowed = allowed_from_last_applied(engine, *live)) {
      std::vector<Conflict> remaining;
      for (const auto& c : outcome.conflicts) {
        if (!allowed->has(c.path)) {
          remaining.push_back(c);
        }
      }
      if (remaining.empty()) {
        outcome = engine.apply(live_object, config, *managed, id, true, now_s);
      } else {
        outcome.conflicts = std::move(remaining);
      }
    }
  }
  if (!outcome.conflicts.empty()) {
    return conflict_error(outcome.conflicts, outcome.managed);
  }
  Value result = finish(std::move(outcome.object), outcome.managed, schema_);
  // lastAppliedUpdater
  if (manager == "kubectl" && has_last_applied(result)) {
    set_last_applied(result, config);
  }
  return result;
}

namespace {

GroupVersionKind endpoint_gvk(const Node* schema, std::string_view api_version,
                              std::initializer_list<const json::Value*> objects) {
  GroupVersionKind gvk;
  const auto slash = api_version.find('/');
  if (slash != std::string_view::npos) {
    gvk.group = std::string(api_version.substr(0, slash));
    gvk.version = std::string(api_version.substr(slash + 1));
  } else {
    gvk.version = std::string(api_version);
  }
  if (schema != nullptr) {
    for (const auto& g : schema->gvks) {
      if (g.group == gvk.group && g.version == gvk.version) {
        gvk.kind = g.kind;
        return gvk;
      }
    }
  }
  for (const json::Value* o : objects) {
    if (o != nullptr && !o->string_or("kind").empty()) {
      gvk.kind = std::string(o->string_or("kind"));
      break;
    }
  }
  return gvk;
}

}  // namespace

json::Value record_update(const json::Value* live, json::Value updated, const Node* schema,
                          std::string_view manager, std::string_view api_version,
                          std::chrono::system_clock::time_point now, std::string_view subresource) {
  FieldManagerOptions options;
  options.gvk = endpoint_gvk(schema, api_version, {&updated, live});
  options.subresource = std::string(subresource);
  return FieldManager(schema, std::move(options)).update(live, std::move(updated), manager, now);
}

Result<json::Value> server_side_apply(const json::Value* live, const json::Value& config,
                                      const Node* schema, std::string_view manager,
                                      std::string_view api_version, bool force,
                                      std::chrono::system_clock::time_point now,
                                      std::string_view subresource,
                                      std::vector<FieldPath> reset_fields) {
  FieldManagerOptions options;
  options.gvk = endpoint_gvk(schema, api_version, {live, &config});
  options.subresource = std::string(subresource);
  options.reset_fields = std::move(reset_fields);
  return FieldManager(schema, std::move(options)).apply(live, config, manager, force, now);
}

}  // namespace skiff::registry
