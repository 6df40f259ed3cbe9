// SPDX-License-Identifier: Apache-2.0
#pragma once

// validation: the name, label, annotation and ObjectMeta rules every Kubernetes object is checked
// against, and the field-error vocabulary the API server reports them in.
//
// The texts are kube-apiserver's, because kubectl prints them verbatim. A check returns
// `skiff::FieldCause`s shaped like upstream's `field.Error`:
// - `type` is the machine-readable cause type ("FieldValueInvalid", "FieldValueRequired", ...),
// - `field` is the field path ("metadata.name", "spec.containers[0].image", "metadata.labels"),
// - `message` is the body without the field ("Invalid value: \"Foo\": a lowercase RFC 1123 ..."),
//   which is what a metav1.Status cause carries.
// `to_string(cause)` gives the "field: body" line, and `invalid_error()` builds the 422 Invalid
// error whose message is `<Kind>[.<group>] "<name>" is invalid: [cause, cause]`.
//
// The `is_*` functions return upstream's list of problem descriptions (empty when valid), for
// callers that wrap them in their own field errors. Everything here is pure and thread-safe.
//
// Known approximations of upstream's Go formatting of bad values (`%q`, `%#v`): strings follow
// strconv.Quote except that "printable" is approximated for non-ASCII code points (controls, the
// non-ASCII spaces, format characters and private-use/non-characters are escaped; every other
// valid code point is kept); values that upstream prints as Go structs (owner references) are
// printed as compact JSON.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::api {

// ---------------------------------------------------------------------------------------------
// Field paths (field.Path.String()): "a.b", "a[0]", "a[key]". An empty path is the root.

/// `path.child(name)`: "metadata" + "name" -> "metadata.name"; "" + "name" -> "name".
std::string field_child(std::string_view path, std::string_view name);
/// `path.index(i)`: "spec.containers" + 0 -> "spec.containers[0]".
std::string field_index(std::string_view path, std::size_t index);
/// `path.key(k)`: "metadata.labels" + "app" -> "metadata.labels[app]".
std::string field_key(std::string_view path, std::string_view key);

// ---------------------------------------------------------------------------------------------
// Field errors (k8s.io/apimachinery/pkg/util/validation/field). The bad value is rendered the way
// upstream prints it: strings quoted (Go %q), numbers and booleans plain, null as "null", arrays of
// strings as `[]string{"a", "b"}`, anything else as compact JSON.

/// Cause type strings (metav1.CauseType).
inline constexpr std::string_view kFieldValueInvalid = "FieldValueInvalid";
inline constexpr std::string_view kFieldValueRequired = "FieldValueRequired";
inline constexpr std::string_view kFieldValueNotFound = "FieldValueNotFound";
inline constexpr std::string_view kFieldValueDuplicate = "FieldValueDuplicate";
inline constexpr std::string_view kFieldValueNotSupported = "FieldValueNotSupported";
inline constexpr std::string_view kFieldValueForbidden = "FieldValueForbidden";
inline constexpr std::string_view kFieldValueTooLong = "FieldValueTooLong";
inline constexpr std::string_view kFieldValueTooMany = "FieldValueTooMany";
inline constexpr std::string_view kFieldValueTypeInvalid = "FieldValueTypeInvalid";
inline constexpr std::string_view kInternalError = "InternalError";

/// `Invalid value: <value>: <detail>`.
FieldCause field_invalid(std::string path, const json::Value& bad_value, std::string_view detail);
/// Like field_invalid, with the bad value already rendered (for Go forms such as `[]string(nil)`).
FieldCause field_invalid_rendered(std::string path, std::string_view rendered_value,
                                  std::string_view detail);
/// `Invalid value: <value>: <detail>` with type FieldValueTypeInvalid.
FieldCause field_type_invalid(std::string path, const json::Value& bad_value,
                              std::string_view detail);
/// `Required value[: <detail>]`.
FieldCause field_required(std::string path, std::string_view detail = {});
/// `Forbidden[: <detail>]`.
FieldCause field_forbidden(std::string path, std::string_view detail);
/// `Too long: may not be more than <n> bytes` (a negative n: `Too long: value is too long`).
FieldCause field_too_long(std::string path, std::int64_t max_length);
/// `Too many: <actual>: must have at most <max> items` (negative actual omits the value, negative
/// max says `has too many items`).
FieldCause field_too_many(std::string path, std::int64_t actual, std::int64_t max_items);
/// `Unsupported value: <value>[: supported values: "a", "b"]`.
FieldCause field_not_supported(std::string path, const json::Value& bad_value,
                               const std::vector<std::string>& valid_values);
/// `Duplicate value: <value>`.
FieldCause field_duplicate(std::string path, const json::Value& bad_value);
/// `Not found: <value>`.
FieldCause field_not_found(std::string path, const json::Value& bad_value);
/// `Internal error: <detail>`.
FieldCause field_internal_error(std::string path, std::string_view detail);

/// The full line upstream's `field.Error.Error()` prints: "<field>: <message>".
std::string to_string(const FieldCause& cause);
/// utilerrors.Aggregate text of a list: "" for none, the one line for one, "[a, b]" for several;
/// repeated lines are printed once.
std::string aggregate_message(const std::vector<FieldCause>& causes);
/// The 422 error for an invalid object (apierrors.NewInvalid): reason kInvalid, the causes kept,
/// message `<kind>[.<group>] "<name>" is invalid: <aggregate>` (or `... is invalid` with no
/// causes).
Error invalid_error(std::string_view kind, std::string_view group, std::string_view name,
                    std::vector<FieldCause> causes);

/// Go's strconv.Quote (what `%q` prints), see the header comment for the approximation.
std::string go_quote(std::string_view text);
/// How upstream prints a bad value of this JSON shape (see "Field errors" above).
std::string render_bad_value(const json::Value& value);

// ---------------------------------------------------------------------------------------------
// String format checks (k8s.io/apimachinery/pkg/util/validation). Each returns the problems, or an
// empty list when the value is valid.

/// Building blocks of the messages, exposed for callers with their own checks.
std::string max_len_error(std::size_t length);  ///< "must be no more than N characters"
std::string empty_error();                      ///< "must be non-empty"
/// "<msg> (e.g. 'a', or 'b', regex used for validation is '<fmt>')" exactly as upstream spaces it.
std::string regex_error(std::string_view msg, std::string_view fmt,
                        const std::vector<std::string_view>& examples = {});

inline constexpr std::size_t kDns1123LabelMaxLength = 63;
inline constexpr std::size_t kDns1123SubdomainMaxLength = 253;
inline constexpr std::size_t kDns1035LabelMaxLength = 63;
inline constexpr std::size_t kLabelValueMaxLength = 63;
inline constexpr std::size_t kQualifiedNameMaxLength = 63;
/// Total bytes of annotation keys and values an object may carry (256 KiB).
inline constexpr std::size_t kTotalAnnotationSizeLimit = std::size_t{256} * 1024;

std::vector<std::string> is_dns1123_label(std::string_view value);
std::vector<std::string> is_dns1123_subdomain(std::string_view value);
std::vector<std::string> is_dns1035_label(std::string_view value);
/// Label keys, annotation keys (lower-cased first by the caller), finalizers: `[prefix/]name`, the
/// prefix a DNS subdomain, the name at most 63 characters of `[A-Za-z0-9][-A-Za-z0-9_.]*`.
std::vector<std::string> is_qualified_name(std::string_view value);
std::vector<std::string> is_valid_label_value(std::string_view value);
/// Names used as path segments (REST paths, storage keys): not "." or "..", no "/" or "%".
std::vector<std::string> is_valid_path_segment_name(std::string_view value);
/// The prefix form (generateName): only the "/" and "%" rules apply.
std::vector<std::string> is_valid_path_segment_prefix(std::string_view value);
/// `^[0-9]+%$`.
std::vector<std::string> is_valid_percent(std::string_view value);

// ---------------------------------------------------------------------------------------------
// Name validators (ValidateNameFunc): `prefix` is true when validating a generateName, to which a
// random suffix will be appended; a trailing '-' is then allowed (upstream masks the final dash).

using NameValidator = std::function<std::vector<std::string>(std::string_view name, bool prefix)>;

std::vector<std::string> name_is_dns_subdomain(std::string_view name, bool prefix);
std::vector<std::string> name_is_dns_label(std::string_view name, bool prefix);
std::vector<std::string> name_is_dns1035_label(std::string_view name, bool prefix);
/// path.ValidatePathSegmentName: the looser rule some kinds (RBAC roles, ...) use.
std::vector<std::string> name_is_path_segment(std::string_view name, bool prefix);

// ---------------------------------------------------------------------------------------------
// ObjectMeta and friends. Inputs are the JSON objects as stored (`metadata`, its `labels` map,
// ...); missing or null parts count as empty. Values of the wrong JSON type are left to schema
// validation and skipped here. Causes come in upstream's order.

/// ValidateObjectMetaAccessor (create): generateName (prefix form), name (required unless ...),
/// namespace (required and a DNS label when `requires_namespace`, forbidden otherwise), generation,
/// labels, annotations, ownerReferences, finalizers, managedFields.
std::vector<FieldCause> validate_object_meta(const json::Value& meta, bool requires_namespace,
                                             const NameValidator& name_validator,
                                             std::string_view path = "metadata");
/// ValidateObjectMetaAccessorUpdate: no new finalizers once deleting, resourceVersion present,
/// generation not decremented, name/namespace/uid/creationTimestamp/deletionTimestamp/
/// deletionGracePeriodSeconds immutable, then labels, annotations, ownerReferences, managedFields.
std::vector<FieldCause> validate_object_meta_update(const json::Value& new_meta,
                                                    const json::Value& old_meta,
                                                    std::string_view path = "metadata");
/// Keys are qualified names, values label values; every cause has the map's path.
std::vector<FieldCause> validate_labels(const json::Value& labels, std::string_view path);
/// A qualified name (label keys, condition types).
std::vector<FieldCause> validate_label_name(std::string_view name, std::string_view path);
/// Keys are qualified names compared case-insensitively; total size at most 256 KiB.
std::vector<FieldCause> validate_annotations(const json::Value& annotations, std::string_view path);
/// Qualified names; "orphan" and "foregroundDeletion" together are invalid.
std::vector<FieldCause> validate_finalizers(const json::Value& finalizers, std::string_view path);
/// apiVersion/kind/name/uid present, not an Event, at most one controller.
std::vector<FieldCause> validate_owner_references(const json::Value& owner_references,
                                                  std::string_view path);
/// operation Apply|Update, fieldsType FieldsV1, manager <= 128 printable characters, subresource <=
/// 256.
std::vector<FieldCause> validate_managed_fields(const json::Value& managed_fields,
                                                std::string_view path);
/// metav1 LabelSelector (matchLabels + matchExpressions) as Deployment/ReplicaSet/... validate it.
/// A null selector is valid here (callers that require one check that themselves).
std::vector<FieldCause> validate_label_selector(const json::Value& selector, std::string_view path,
                                                bool allow_invalid_label_value = false);
/// `Invalid value: <v>: must be greater than or equal to 0` when negative.
std::vector<FieldCause> validate_nonnegative_field(std::int64_t value, std::string_view path);
/// `Invalid value: <new>: field is immutable` unless the values are equal.
std::vector<FieldCause> validate_immutable_field(const json::Value& new_value,
                                                 const json::Value& old_value,
                                                 std::string_view path);

// ---------------------------------------------------------------------------------------------
// IntOrString (intstr): an integer, or a string percentage such as "25%".

/// The number an IntOrString holds and whether it is a percentage (getIntOrPercentValueSafely):
/// 5 -> {5, false}; "25%" -> {25, true}. Errors (kBadRequest): "invalid type: string is not a
/// percentage", `invalid value "x%": strconv.Atoi: parsing "x": invalid syntax` (or `value out of
/// range`), "invalid type: neither int nor percentage" (null and other JSON types).
struct IntOrPercent {
  std::int64_t value = 0;
  bool is_percent = false;
};
Result<IntOrPercent> int_or_percent_value(const json::Value& int_or_percent);

/// GetScaledValueFromIntOrPercent: an integer is returned as is; "N%" gives ceil (round_up) or
/// floor of N * total / 100, computed exactly (upstream uses float64, identical for any realistic
/// total). Errors (kBadRequest), with upstream's texts:
/// - null: "nil value for IntOrString";
/// - a string without '%': "invalid value for IntOrString: invalid type: string is not a
/// percentage";
/// - a bad number: `invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x":
///   invalid syntax` (or `value out of range`);
/// - another JSON type: "invalid value for IntOrString: invalid type: neither int nor percentage".
Result<std::int64_t> scaled_value_from_int_or_percent(const json::Value& int_or_percent,
                                                      std::int64_t total, bool round_up);

}  // namespace skiff::api
