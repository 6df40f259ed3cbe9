// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/registry.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/kv/store.hpp"
#include "skiff/registry/structural.hpp"

#include "crd.hpp"
#include "glue.hpp"
#include "kv_async.hpp"
#include "objects.hpp"
#include "registry_impl.hpp"

namespace skiff::registry {

using boost::asio::awaitable;
using detail::object_key;

namespace {

constexpr std::string_view kComponent = "registry";

// generateName suffixes use upstream's alphabet (no vowels, no confusable digits).
std::string random_suffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s(5, ' ');
  for (auto& c : s) {
    c = kAlphabet[rng() % kAlphabet.size()];
  }
  return s;
}

json::Value& metadata_of(json::Value& object) {
  json::Value& meta = object["metadata"];
  if (!meta.is_object()) {
    meta = json::Value::object();
  }
  return meta;
}

bool spec_changed(const json::Value& a, const json::Value& b) {
  // Everything but metadata and status counts as spec (upstream compares Spec; for kinds without a
  // spec field, e.g. ConfigMap data, generation is not tracked anyway).
  const json::Object& ao = a.as_object();
  const json::Object& bo = b.as_object();
  auto relevant = [](const std::string& key) {
    return key != "metadata" && key != "status" && key != "apiVersion" && key != "kind";
  };
  std::size_t na = 0;
  for (const auto& m : ao) {
    if (!relevant(m.key)) {
      continue;
    }
    ++na;
    const json::Value* other = bo.find(m.key);
    if (other == nullptr || !(*other == m.value)) {
      return true;
    }
  }
  std::size_t nb = 0;
  for (const auto& m : bo) {
    nb += relevant(m.key) ? 1 : 0;
  }
  return na != nb;
}

// Equal apart from resourceVersion and managedFields times: an update that changes nothing is not
// written (upstream skips the storage write too, keeping the resourceVersion).
bool same_object(const json::Value& a, const json::Value& b) {
  json::Value x = a;
  json::Value y = b;
  for (json::Value* v : {&x, &y}) {
    if (auto* meta = v->get("metadata"); meta != nullptr && meta->is_object()) {
      meta->as_object().erase("resourceVersion");
      meta->as_object().erase("managedFields");
    }
  }
  return x == y;
}

// ObjectMeta's collections are `omitempty` upstream, so an object never keeps an empty (or null)
// labels or annotations map, finalizers or ownerReferences list: `kubectl label x k-` on the last
// label leaves no `labels: {}` behind (custom resources too: their metadata is coerced through
// ObjectMeta).
void drop_empty_metadata(json::Value& object) {
  json::Value* meta = object.get("metadata");
  if (meta == nullptr || !meta->is_object()) {
    return;
  }
  for (const char* k : {"labels", "annotations", "finalizers", "ownerReferences"}) {
    const json::Value* v = meta->get(k);
    if (v != nullptr && (v->is_null() || ((v->is_object() || v->is_array()) && v->empty()))) {
      meta->as_object().erase(k);
    }
  }
}

// Built-in kinds decode with the endpoint's group, version and kind as defaults (upstream's JSON
// and protobuf serializers fill a missing kind or apiVersion from the request scope), so clients
// such as python3-kubernetes may leave them out. Custom resources decode as unstructured objects,
// which upstream requires to name both.
void default_type_meta(const ResourceType& type, json::Value& object) {
  if (type.custom || !object.is_object()) {
    return;
  }
  if (object.string_or("kind").empty()) {
    object["kind"] = type.gvk.kind;
  }
  if (object.string_or("apiVersion").empty()) {
    object["apiVersion"] = type.group_version();
  }
}

// A CertificateSigningRequest names who asked for it: upstream's PrepareForCreate replaces any
// client-set username, uid, groups and extra with the requesting user's.
void set_requester(json::Value& csr, const UserInfo& user) {
  json::Value& spec = csr["spec"];
  if (!spec.is_object()) {
    return;
  }
  auto& fields = spec.as_object();
  for (const char* k : {"username", "uid", "groups", "extra"}) {
    fields.erase(k);
  }
  if (!user.name.empty()) {
    spec["username"] = user.name;
  }
  if (!user.uid.empty()) {
    spec["uid"] = user.uid;
  }
  if (!user.groups.empty()) {
    json::Array groups;
    for (const auto& g : user.groups) {
      groups.emplace_back(g);
    }
    spec["groups"] = std::move(groups);
  }
}

// The conditions an /approval update sets: Approved and Denied are "True" and exclusive
// (upstream's validateConditions), and unset timestamps are filled (populateConditionTimestamps:
// lastTransitionTime is kept from an old condition of the same type and status).
Result<void> check_approval_conditions(const ResourceType& type, const std::string& name,
                                       json::Value& conditions, const json::Value& old,
                                       TimePoint now) {
  if (!conditions.is_array()) {
    return {};
  }
  std::vector<FieldCause> causes;
  bool approved = false;
  bool denied = false;
  const std::string stamp = detail::format_time(now);
  auto& list = conditions.as_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    json::Value& c = list[i];
    if (!c.is_object()) {
      continue;
    }
    std::string type_name(c.string_or("type"));
    std::string field = fmt::format("status.conditions[{}]", i);
    if (type_name.empty()) {
      causes.push_back({"FieldValueRequired", "Required value", field + ".type"});
    }
    if (type_name == "Approved" || type_name == "Denied") {
      (type_name == "Approved" ? approved : denied) = true;
      if (c.string_or("status") != "True") {
        causes.push_back({"FieldValueNotSupported",
                          fmt::format("Unsupported value: {}: supported values: \"True\"",
                                      json::quote(c.string_or("status"))),
                          field + ".status"});
      }
      if (approved && denied) {
        causes.push_back({"FieldValueInvalid",
                          fmt::format("Invalid value: {}: Approved and Denied conditions are "
                                      "mutually exclusive",
                                      json::quote(type_name)),
                          field + ".type"});
      }
    }
    if (c.string_or("lastUpdateTime").empty()) {
      c["lastUpdateTime"] = stamp;
    }
    if (c.string_or("lastTransitionTime").empty()) {
      std::string transition = stamp;
      if (const json::Value* before = old.get_path({"status", "conditions"});
          before != nullptr && before->is_array()) {
        for (const auto& o : before->as_array()) {
          if (o.string_or("type") == c.string_or("type") &&
              o.string_or("status") == c.string_or("status") &&
              !o.string_or("lastTransitionTime").empty()) {
            transition = std::string(o.string_or("lastTransitionTime"));
            break;
          }
        }
      }
      c["lastTransitionTime"] = transition;
    }
  }
  if (!causes.empty()) {
    return detail::invalid(type, name, std::move(causes));
  }
  return {};
}

}  // namespace

// ---- Impl helpers ----

Registry::Impl::Impl(kv::Store& s, Catalog& c, RegistryOptions o)
    : store(s), catalog(c), options(std::move(o)) {
  auto parsed = detail::ServiceRanges::parse(options.service_cidr, options.node_port_min,
                                             options.node_port_max);
  if (!parsed) {
    throw Exception(parsed.error());  // start-up configuration error
  }
  ranges = *parsed;
}

Result<detail::Allocation> Registry::Impl::allocate(const ResourceType& type, json::Value& object,
                                                    const json::Value* old) const {
  if (!is_service(type)) {
    return detail::Allocation{};
  }
  const json::Value& meta = object["metadata"];
  std::string owner = fmt::format("{}/{}", meta.string_or("namespace"), meta.string_or("name"));
  auto alloc = detail::allocate_service(store, ranges, object, old, owner);
  if (!alloc && alloc.error().reason == Reason::kInvalid) {
    return detail::invalid(type, meta.string_or("name"), alloc.error().causes);
  }
  return alloc;
}

Result<std::optional<kv::KeyValue>> Registry::Impl::read(const std::string& key) const {
  kv::RangeRequest req;
  req.key = key;
  auto r = store.range(req);
  if (!r) {
    return r.error();
  }
  if (r->kvs.empty()) {
    return std::optional<kv::KeyValue>{};
  }
  return std::optional<kv::KeyValue>(std::move(r->kvs.front()));
}

Result<kv::KeyValue> Registry::Impl::read_entry(const ResourceType& type, std::string_view ns,
                                                std::string_view name) const {
  auto kv = read(object_key(type, ns, name));
  if (!kv) {
    return kv.error();
  }
  if (!*kv) {
    return detail::not_found(type, name);
  }
  return std::move(**kv);
}

Result<json::Value> Registry::Impl::read_object(const ResourceType& type, std::string_view ns,
                                                std::string_view name,
                                                std::int64_t* mod_revision) const {
  auto kv = read_entry(type, ns, name);
  if (!kv) {
    return kv.error();
  }
  if (mod_revision != nullptr) {
    *mod_revision = kv->mod_revision;
  }
  return detail::decode_stored(type, kv->value, kv->mod_revision);
}

Result<void> Registry::Impl::check_namespace(const ResourceType& type, std::string_view ns,
                                             bool creating) const {
  if (!type.namespaced) {
    return {};
  }
  auto snap = catalog.snapshot();
  const ResourceType* ns_type = snap->find("", "v1", "namespaces");
  auto kv = read(object_key(*ns_type, "", ns));
  if (!kv) {
    return kv.error();
  }
  if (!*kv) {
    Error e = errors::not_found(fmt::format("namespaces {} not found", json::quote(ns)));
    e.name = std::string(ns);
    e.kind = "namespaces";
    return e;
  }
  // Parsed only when it can be terminating: the stored text (our own serializer, which escapes no
  // letters) then holds the word; this check runs on every create in a namespace.
  if (creating && (*kv)->value.find("Terminating") != std::string::npos) {
    auto obj = json::parse((*kv)->value);
    if (obj && (*obj)["status"].string_or("phase") == "Terminating") {
      Error e = errors::make(
          Reason::kForbidden,
          fmt::format("{} {} is forbidden: unable to create new content in namespace {} because it "
                      "is being terminated",
                      detail::qualified_resource(type), json::quote(""), ns));
      e.kind = type.plural;
      e.group = type.gvk.group;
      return e;
    }
  }
  return {};
}

Result<void> Registry::Impl::check_type_meta(const ResourceType& type,
                                             const json::Value& object) const {
  if (!object.is_object()) {
    return detail::bad_request("the body of the request was in an unknown format: expected a JSON "
                               "object");
  }
  std::string_view api_version = object.string_or("apiVersion");
  std::string_view kind = object.string_or("kind");
  if (kind.empty()) {
    return detail::bad_request("Object 'Kind' is missing in the request body");
  }
  if (api_version.empty()) {
    return detail::bad_request("Object 'apiVersion' is missing in the request body");
  }
  if (kind != type.gvk.kind || api_version != type.group_version()) {
    // Another served version of the same resource is fine (converted); a different kind is not.
    auto snap = catalog.snapshot();
    bool same_resource = false;
    bool registered = false;
    for (const auto& t : snap->types()) {
      if (t->gvk.kind == kind && t->group_version() == api_version) {
        registered = true;
        same_resource = same_resource || t->storage_prefix == type.storage_prefix;
      }
    }
    if (same_resource) {
      return {};
    }
    if (kind == type.gvk.kind && registered) {
      return detail::bad_request(fmt::format(
          "the API version in the data ({}) does not match the expected API version ({})",
          api_version, type.group_version()));
    }
    // Upstream decodes the body as the kind it names, then fails to convert it to the endpoint's
    // kind (or finds no such kind at all): transformDecodeError's wording.
    std::string_view version = api_version.substr(api_version.find('/') + 1);
    std::string reason;
    if (registered) {
      // (A std::string: substr of a std::string is a temporary.)
      std::string group = type.gvk.group.substr(0, type.gvk.group.find('.'));
      reason = fmt::format("converting ({}.{}) to ({}.{}): unknown conversion", version, kind,
                           group.empty() ? std::string_view("core") : group, type.gvk.kind);
    } else {
      reason = fmt::format("no kind {} is registered for version {} in scheme "
                           "\"pkg/api/legacyscheme/scheme.go:30\"",
                           json::quote(kind), json::quote(api_version));
    }
    return detail::bad_request(fmt::format("{} in version {} cannot be handled as a {}: {}", kind,
                                           json::quote(version), type.gvk.kind, reason));
  }
  return {};
}

std::vector<std::string> Registry::Impl::check_fields(const ResourceType& type,
                                                      json::Value& object,
                                                      const WriteOptions& options,
                                                      Result<void>& strict_error) const {
  std::vector<std::string> warnings;
  // Kubernetes' decoders reject mistyped values whatever fieldValidation says.
  if (!type.custom) {
    if (auto typed = detail::check_value_types(object, type.schema); !typed) {
      strict_error = typed.error();
      return warnings;
    }
  }
  std::vector<std::string> unknown = detail::unknown_fields(object, type.schema);
  // A typed decode keeps only the fields the kind has (custom resources are pruned in admit()).
  if (!unknown.empty() && !type.custom && options.field_validation != FieldValidation::kStrict) {
    detail::prune(object, type.schema);
  }
  if (options.field_validation == FieldValidation::kIgnore ||
      (unknown.empty() && options.duplicate_fields.empty())) {
    return warnings;
  }
  if (options.field_validation == FieldValidation::kStrict) {
    std::string prefix = fmt::format("{} in version {} cannot be handled as a {}: ",
                                     type.gvk.kind, json::quote(type.gvk.version), type.gvk.kind);
    strict_error = strict_decoding_error(prefix, unknown, options.duplicate_fields);
    return warnings;
  }
  for (const auto& path : unknown) {
    warnings.push_back(unknown_field_message(path));
  }
  for (const auto& path : options.duplicate_fields) {
    warnings.push_back(duplicate_field_message(path));
  }
  return warnings;
}

Result<void> Registry::Impl::admit(const ResourceType& type, json::Value& object,
                                   const json::Value* old) const {
  drop_empty_metadata(object);
  type.strategy->apply_defaults(object);
  if (type.custom) {
    detail::prune(object, type.schema);
    detail::apply_schema_defaults(object, type.schema);
  }
  std::vector<FieldCause> causes = detail::validate_object_meta(type, object);
  std::vector<FieldCause> own =
      old != nullptr ? type.strategy->validate_update(object, *old) : type.strategy->validate(object);
  causes.insert(causes.end(), own.begin(), own.end());
  if (type.custom) {
    auto values = detail::validate_schema_values(object, type.schema, old);
    causes.insert(causes.end(), values.begin(), values.end());
  }
  if (!causes.empty()) {
    return detail::invalid(type, object["metadata"].string_or("name"), std::move(causes));
  }
  return {};
}

std::string Registry::Impl::manager_for(const WriteOptions& options) {
  return options.field_manager.empty() ? std::string("unknown") : options.field_manager;
}

awaitable<Result<WriteResult>> Registry::Impl::create(ResourceTypePtr type, std::string ns,
                                                       json::Value object, WriteOptions options,
                                                       bool from_apply) {
  if (auto ok = check_type_meta(*type, object); !ok) {
    co_return ok.error();
  }
  Result<void> strict = {};
  WriteResult result;
  if (!from_apply) {
    result.warnings = check_fields(*type, object, options, strict);
    if (!strict) {
      co_return strict.error();
    }
  }
  json::Value& meta = metadata_of(object);
  if (type->namespaced) {
    std::string_view body_ns = meta.string_or("namespace");
    if (!body_ns.empty() && body_ns != ns) {
      co_return detail::bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns;
  } else {
    meta.as_object().erase("namespace");
  }
  if (meta.string_or("name").empty()) {
    std::string_view prefix = meta.string_or("generateName");
    if (prefix.empty()) {
      co_return detail::invalid(*type, "",
                                {FieldCause{"FieldValueRequired",
                                            "Required value: name or generateName is required",
                                            "metadata.name"}});
    }
    meta["name"] = std::string(prefix) + random_suffix();
  }
  std::string name(meta.string_or("name"));

  // Server-set metadata (upstream's FillObjectMetaSystemFields and BeforeCreate).
  TimePoint now = options_now();
  meta["uid"] = detail::new_uid();
  meta["creationTimestamp"] = detail::format_time(now);
  for (const char* k : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "selfLink"}) {
    meta.as_object().erase(k);
  }
  if (type->strategy->tracks_generation() || type->custom) {
    meta["generation"] = 1;
  } else {
    meta.as_object().erase("generation");
  }
  // Upstream order: defaults, then PrepareForCreate (which drops client-set status: a kubelet
  // registering a Node is the exception, its status is kept), then validation.
  type->strategy->apply_defaults(object);
  if (type->has_status && !is_kind(*type, "", "Node")) {
    object.as_object().erase("status");
  }
  type->strategy->prepare_for_create(object);
  if (is_kind(*type, "certificates.k8s.io", "CertificateSigningRequest")) {
    set_requester(object, options.user);
  }
  if (auto ok = admit(*type, object, nullptr); !ok) {
    co_return ok.error();
  }
  if (auto ok = check_namespace(*type, ns, true); !ok) {
    co_return ok.error();
  }
  if (!from_apply) {
    detail::record_update(nullptr, object, type->schema, manager_for(options),
                          type->group_version(), now);
  }

  std::string key = object_key(*type, ns, name);
  if (options.dry_run) {
    if (auto alloc = allocate(*type, object, nullptr); !alloc) {
      co_return alloc.error();
    }
    auto existing = read(key);
    if (!existing) {
      co_return existing.error();
    }
    if (*existing) {
      co_return detail::already_exists(*type, name);
    }
    result.object = std::move(object);
    result.created = true;
    co_return result;
  }

  // A Service's IP and node ports are claimed in the same transaction; losing a race for one of
  // them (not for the name) allocates again.
  Result<kv::TxnResponse> committed = errors::internal("unreachable");
  const json::Value pristine = is_service(*type) ? object : json::Value();
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      object = pristine;  // drop what the failed attempt allocated
    }
    auto alloc = allocate(*type, object, nullptr);
    if (!alloc) {
      // An existing object explains a taken address better than the address does.
      if (auto existing = read(key); existing && *existing) {
        co_return detail::already_exists(*type, name);
      }
      co_return alloc.error();
    }
    kv::TxnRequest txn;
    txn.compare.push_back(
        kv::Compare{kv::CompareResult::kEqual, kv::CompareTarget::kCreate, key, {}, 0, {}});
    txn.compare.insert(txn.compare.end(), alloc->compares.begin(), alloc->compares.end());
    kv::PutRequest put;
    put.key = key;
    put.value = detail::encode_for_storage(*type, object);
    txn.success.push_back(kv::RequestOp{std::move(put)});
    txn.success.insert(txn.success.end(), alloc->ops.begin(), alloc->ops.end());
    kv::RangeRequest probe;
    probe.key = key;
    probe.count_only = true;
    txn.failure.push_back(kv::RequestOp{probe});
    committed = co_await detail::txn(store, std::move(txn));
    if (!committed) {
      co_return committed.error();
    }
    if (committed->succeeded) {
      break;
    }
    const auto& probed = std::get<kv::RangeResponse>(committed->responses.front().op);
    if (probed.count > 0 || attempt >= 3) {
      co_return detail::already_exists(*type, name);
    }
  }
  object["metadata"]["resourceVersion"] = std::to_string(committed->revision);
  if (is_crd(*type)) {
    detail::sync_crd(catalog, object);
  }
  result.object = std::move(object);
  result.created = true;
  co_return result;
}

awaitable<Result<WriteResult>> Registry::Impl::store_update(ResourceTypePtr type, std::string ns,
                                                             std::string name, json::Value object,
                                                             const json::Value& old,
                                                             std::int64_t old_revision,
                                                             WriteOptions options,
                                                             std::string subresource,
                                                             bool from_apply) {
  WriteResult result;
  json::Value& meta = metadata_of(object);
  const json::Value& old_meta = old["metadata"];
  // Fields the server owns are carried over (upstream's BeforeUpdate).
  for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "generation", "namespace", "name"}) {
    if (const json::Value* v = old_meta.get(k)) {
      meta[k] = *v;
    } else {
      meta.as_object().erase(k);
    }
  }
  meta.as_object().erase("selfLink");
  if (subresource == "finalize") {
    // Namespaces: only spec.finalizers changes through /finalize.
    json::Value merged = old;
    if (const json::Value* fin = object.get_path({"spec", "finalizers"})) {
      merged["spec"]["finalizers"] = *fin;
    } else if (json::Value* spec = merged.get("spec")) {
      spec->as_object().erase("finalizers");
    }
    merged["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"];
    object = std::move(merged);
  } else if (subresource == "approval") {
    // CertificateSigningRequests: only status.conditions change through /approval (upstream's
    // approval strategy; the certificate is the signer's, through /status).
    json::Value merged = old;
    if (const json::Value* conditions = object.get_path({"status", "conditions"})) {
      json::Value stamped = *conditions;
      if (auto ok = check_approval_conditions(*type, name, stamped, old, options_now()); !ok) {
        co_return ok.error();
      }
      merged["status"]["conditions"] = std::move(stamped);
    } else if (json::Value* st = merged.get("status")) {
      st->as_object().erase("conditions");
    }
    merged["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"];
    if (const json::Value* mf = object.get_path({"metadata", "managedFields"})) {
      merged["metadata"]["managedFields"] = *mf;
    }
    object = std::move(merged);
  } else if (subresource == "status") {
    // Only status changes through /status; everything else stays as stored (upstream's status
    // strategies keep the old object but its status).
    json::Value merged = old;
    if (const json::Value* st = object.get("status")) {
      merged["status"] = *st;
    } else {
      merged.as_object().erase("status");
    }
    merged["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"];
    if (const json::Value* mf = object.get_path({"metadata", "managedFields"})) {
      merged["metadata"]["managedFields"] = *mf;
    }
    object = std::move(merged);
  } else {
    if (type->has_status) {
      if (const json::Value* st = old.get("status")) {
        object["status"] = *st;
      } else {
        object.as_object().erase("status");
      }
    }
    if (is_kind(*type, "", "Namespace")) {
      // spec.finalizers changes only through /finalize.
      if (const json::Value* fin = old.get_path({"spec", "finalizers"})) {
        object["spec"]["finalizers"] = *fin;
      } else if (json::Value* spec = object.get("spec")) {
        spec->as_object().erase("finalizers");
      }
    }
    type->strategy->prepare_for_update(object, old);
    if ((type->strategy->tracks_generation() || type->custom) && spec_changed(object, old)) {
      object["metadata"]["generation"] = old["metadata"].int_or("generation", 0) + 1;
    }
  }
  if (auto ok = admit(*type, object, &old); !ok) {
    co_return ok.error();
  }
  // An apply has recorded its own operation; tracking it again as an Update would move the
  // applied fields from the Apply entry to an Update entry of the same manager (upstream's
  // apply patcher runs only FieldManager.Apply).
  if (!from_apply) {
    detail::record_update(&old, object, type->schema, manager_for(options), type->group_version(),
                          options_now(),
                          subresource == "status" || subresource == "approval" ? subresource : "");
  }

  // Finalizers done on an object being deleted: the update completes the deletion.
  const json::Value& new_meta = object["metadata"];
  bool deleting = new_meta.get("deletionTimestamp") != nullptr;
  bool finalizers_left = new_meta["finalizers"].size() > 0;
  bool namespace_finalizers = type->gvk.kind == "Namespace" && !type->custom &&
                              object["spec"]["finalizers"].size() > 0;
  std::string key = object_key(*type, ns, name);
  if (deleting && !finalizers_left && !namespace_finalizers) {
    if (options.dry_run) {
      result.object = std::move(object);
      co_return result;
    }
    std::vector<kv::RequestOp> releases;  // named: see delete.cpp on GCC 12 and ?: temporaries
    if (is_service(*type)) {
      releases = detail::release_service(old);
    }
    auto deleted = co_await delete_at(*type, key, old_revision, std::move(releases));
    if (!deleted) {
      co_return deleted.error();
    }
    if (!*deleted) {
      co_return detail::modified(*type, name);
    }
    result.object = std::move(object);
    co_return result;
  }

  auto alloc = allocate(*type, object, &old);
  if (!alloc) {
    co_return alloc.error();
  }
  if (same_object(object, old)) {
    result.object = old;
    co_return result;
  }
  if (options.dry_run) {
    result.object = std::move(object);
    co_return result;
  }
  kv::TxnRequest txn;
  txn.compare.push_back(
      kv::Compare{kv::CompareResult::kEqual, kv::CompareTarget::kMod, key, {}, old_revision, {}});
  txn.compare.insert(txn.compare.end(), alloc->compares.begin(), alloc->compares.end());
  kv::PutRequest put;
  put.key = key;
  put.value = detail::encode_for_storage(*type, object);
  txn.success.push_back(kv::RequestOp{std::move(put)});
  txn.success.insert(txn.success.end(), alloc->ops.begin(), alloc->ops.end());
  auto committed = co_await detail::txn(store, std::move(txn));
  if (!committed) {
    co_return committed.error();
  }
  if (!committed->succeeded) {
    co_return detail::modified(*type, name);
  }
  object["metadata"]["resourceVersion"] = std::to_string(committed->revision);
  if (is_crd(*type)) {
    detail::sync_crd(catalog, object);
  }
  result.object = std::move(object);
  co_return result;
}

awaitable<Result<bool>> Registry::Impl::delete_at(const ResourceType&, std::string key,
                                                   std::int64_t mod_revision,
                                                   std::vector<kv::RequestOp> extra_ops) {
  kv::TxnRequest txn;
  txn.compare.push_back(
      kv::Compare{kv::CompareResult::kEqual, kv::CompareTarget::kMod, key, {}, mod_revision, {}});
  kv::DeleteRangeRequest del;
  del.key = std::move(key);
  txn.success.push_back(kv::RequestOp{std::move(del)});
  for (auto& op : extra_ops) {
    txn.success.push_back(std::move(op));
  }
  auto committed = co_await detail::txn(store, std::move(txn));
  if (!committed) {
    co_return committed.error();
  }
  co_return committed->succeeded;
}

TimePoint Registry::Impl::options_now() const { return options.now(); }

bool Registry::Impl::is_kind(const ResourceType& type, std::string_view group,
                             std::string_view kind) {
  return !type.custom && type.gvk.group == group && type.gvk.kind == kind;
}

bool Registry::Impl::is_crd(const ResourceType& type) {
  return !type.custom && type.gvk.group == "apiextensions.k8s.io" &&
         type.gvk.kind == "CustomResourceDefinition";
}

awaitable<Result<void>> Registry::Impl::purge_custom_objects(const json::Value& crd) {
  const json::Value& spec = crd["spec"];
  kv::DeleteRangeRequest del;
  del.key = fmt::format("/registry/{}/{}/", spec.string_or("group"),
                        spec["names"].string_or("plural"));
  del.range_end = kv::prefix_end(del.key);
  kv::TxnRequest txn;
  txn.success.push_back(kv::RequestOp{std::move(del)});
  auto done = co_await detail::txn(store, std::move(txn));
  if (!done) {
    co_return done.error();
  }
  co_return Result<void>{};
}

// ---- Registry ----

Registry::Registry(kv::Store& store, Catalog& catalog, RegistryOptions options)
    : impl_(std::make_unique<Impl>(store, catalog, std::move(options))) {}

Registry::~Registry() = default;

Catalog& Registry::catalog() noexcept { return impl_->catalog; }
kv::Store& Registry::store() noexcept { return impl_->store; }
std::int64_t Registry::current_revision() const { return impl_->store.current_revision(); }
const RegistryOptions& Registry::options() const noexcept { return impl_->options; }

awaitable<Result<json::Value>> Registry::get(ResourceTypePtr type, std::string ns, std::string name,
                                             std::string subresource, GetOptions options) {
  (void)options;  // a resourceVersion on GET means "at least": the latest state always qualifies
  auto object = impl_->read_object(*type, ns, name, nullptr);
  if (!object) {
    co_return object.error();
  }
  if (subresource == "scale") {
    co_return impl_->to_scale(*type, *object);
  }
  co_return object;
}

awaitable<Result<std::string>> Registry::get_json(ResourceTypePtr type, std::string ns,
                                                  std::string name, GetOptions options) {
  (void)options;  // as get()
  auto kv = impl_->read_entry(*type, ns, name);
  if (!kv) {
    co_return kv.error();
  }
  std::string out;
  out.reserve(kv->value.size() + 40);
  if (auto ok = detail::stored_to_json(*type, detail::served_json_prefix(*type), kv->value,
                                       kv->mod_revision, out);
      !ok) {
    co_return ok.error();
  }
  co_return out;
}

awaitable<Result<WriteResult>> Registry::create(ResourceTypePtr type, std::string ns,
                                                json::Value object, WriteOptions options) {
  default_type_meta(*type, object);
  co_return co_await impl_->create(std::move(type), std::move(ns), std::move(object),
                                   std::move(options), false);
}

awaitable<Result<WriteResult>> Registry::update(ResourceTypePtr type, std::string ns,
                                                std::string name, std::string subresource,
                                                json::Value object, WriteOptions options) {
  if (subresource == "scale") {
    co_return co_await impl_->update_scale(type, ns, name, std::move(object), std::move(options));
  }
  default_type_meta(*type, object);
  if (auto ok = impl_->check_type_meta(*type, object); !ok) {
    co_return ok.error();
  }
  Result<void> strict = {};
  auto warnings = impl_->check_fields(*type, object, options, strict);
  if (!strict) {
    co_return strict.error();
  }
  json::Value& meta = metadata_of(object);
  std::string_view body_name = meta.string_or("name");
  if (!body_name.empty() && body_name != name) {
    co_return detail::bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  }
  if (type->namespaced) {
    std::string_view body_ns = meta.string_or("namespace");
    if (!body_ns.empty() && body_ns != ns) {
      co_return detail::bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
  }
  std::int64_t current = 0;
  auto old = impl_->read_object(*type, ns, name, &current);
  if (!old) {
    co_return old.error();
  }
  auto wanted = detail::parse_resource_version(meta.string_or("resourceVersion"));
  if (!wanted) {
    co_return detail::bad_request(wanted.error().message);
  }
  if (*wanted == 0 && type->custom) {
    co_return detail::invalid(
        *type, name,
        {FieldCause{"FieldValueInvalid", "Invalid value: 0: must be specified for an update",
                    "metadata.resourceVersion"}});
  }
  if (*wanted != 0 && *wanted != current) {
    co_return detail::modified(*type, name);
  }
  std::string_view body_uid = meta.string_or("uid");
  if (!body_uid.empty() && body_uid != (*old)["metadata"].string_or("uid")) {
    co_return detail::conflict(
        *type, name,
        fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                    body_uid, (*old)["metadata"].string_or("uid")));
  }
  auto result = co_await impl_->store_update(type, ns, name, std::move(object), *old, current,
                                             std::move(options), subresource);
  if (result) {
    result->warnings.insert(result->warnings.begin(), warnings.begin(), warnings.end());
  }
  co_return result;
}

awaitable<Result<WriteResult>> Registry::patch(ResourceTypePtr type, std::string ns,
                                               std::string name, std::string subresource,
                                               std::string body, PatchOptions patch,
                                               WriteOptions options) {
  if (patch.type == PatchType::kStrategic && type->custom) {
    co_return errors::make(Reason::kBadRequest,
                           "strategic merge patch is not supported for custom resources");
  }
  int attempts = std::max(1, impl_->options.patch_retries);
  for (int attempt = 0;; ++attempt) {
    std::int64_t current = 0;
    auto old = impl_->read_object(*type, ns, name, &current);
    if (!old) {
      if (old.error().reason == Reason::kNotFound && patch.type == PatchType::kApply &&
          subresource.empty()) {
        co_return co_await impl_->apply_create(type, ns, name, body, patch, options);
      }
      co_return old.error();
    }
    json::Value base = *old;
    if (subresource == "scale") {
      auto scale = impl_->to_scale(*type, *old);
      if (!scale) {
        co_return scale.error();
      }
      base = std::move(*scale);
    }
    Result<json::Value> patched = errors::internal("patch");
    const Node* schema = subresource == "scale"
                             ? Schema::builtin().find("io.k8s.api.autoscaling.v1.Scale")
                             : type->schema;
    switch (patch.type) {
      case PatchType::kJson:
        patched = detail::json_patch(base, body);
        break;
      case PatchType::kMerge:
        patched = detail::merge_patch(base, body);
        break;
      case PatchType::kStrategic:
        patched = detail::strategic_merge_patch(base, body, schema);
        break;
      case PatchType::kApply: {
        auto config = impl_->parse_apply_body(*type, body, name, ns);
        if (!config) {
          co_return config.error();
        }
        // The strategy resets status on the main resource and spec on /status (store_update):
        // the applier owns neither there.
        patched = detail::server_side_apply(&base, *config, schema, Impl::manager_for(options),
                                            type->group_version(), patch.force,
                                            impl_->options_now(), subresource,
                                            detail::reset_field(*type, subresource));
        break;
      }
    }
    if (!patched) {
      co_return patched.error();
    }
    if (!patched->is_object()) {
      co_return detail::bad_request("the patch did not produce an object");
    }
    if (subresource == "scale") {
      co_return co_await impl_->update_scale(type, ns, name, std::move(*patched), options);
    }
    // A resourceVersion the patch sets is a precondition; otherwise the patch applies to whatever
    // is current and the write is retried if something changed in between.
    json::Value& meta = metadata_of(*patched);
    std::string_view rv = meta.string_or("resourceVersion");
    auto wanted = detail::parse_resource_version(rv);
    if (!wanted) {
      co_return detail::bad_request(wanted.error().message);
    }
    if (*wanted != 0 && *wanted != current) {
      co_return detail::modified(*type, name);
    }
    if ((*patched)["metadata"].string_or("name") != name) {
      co_return detail::bad_request(fmt::format(
          "the name of the object ({}) does not match the name on the URL ({})",
          (*patched)["metadata"].string_or("name"), name));
    }
    Result<void> strict = {};
    std::vector<std::string> warnings;
    if (patch.type != PatchType::kApply) {
      warnings = impl_->check_fields(*type, *patched, options, strict);
      if (!strict) {
        co_return strict.error();
      }
    }
    auto result = co_await impl_->store_update(type, ns, name, std::move(*patched), *old, current,
                                               options, subresource,
                                               patch.type == PatchType::kApply);
    if (!result && result.error().reason == Reason::kConflict && *wanted == 0 &&
        attempt + 1 < attempts) {
      continue;
    }
    if (result) {
      result->warnings.insert(result->warnings.begin(), warnings.begin(), warnings.end());
    }
    co_return result;
  }
}

awaitable<Result<DeleteResult>> Registry::remove(ResourceTypePtr type, std::string ns,
                                                 std::string name, DeleteOptions options) {
  co_return co_await impl_->remove(std::move(type), std::move(ns), std::move(name),
                                   std::move(options));
}

Result<void> Registry::load_custom_resources() {
  return detail::load_crds(impl_->store, impl_->catalog);
}

awaitable<Result<void>> Registry::ensure_system_namespaces() {
  auto snap = impl_->catalog.snapshot();
  const ResourceType* found = snap->find("", "v1", "namespaces");
  ResourceTypePtr ns_type;
  for (const auto& t : snap->types()) {
    if (t.get() == found) {
      ns_type = t;
    }
  }
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    json::Value ns = json::Object{{"apiVersion", "v1"},
                                  {"kind", "Namespace"},
                                  {"metadata", json::Object{{"name", name}}}};
    WriteOptions options;
    options.field_manager = "skiff";
    auto created = co_await impl_->create(ns_type, "", std::move(ns), options, false);
    if (!created && created.error().reason != Reason::kAlreadyExists) {
      co_return created.error();
    }
    if (created) {
      log::info(kComponent, "created namespace {}", name);
    }
  }
  co_return Result<void>{};
}

}  // namespace skiff::registry
