// SPDX-License-Identifier: Apache-2.0
// RFC 6902 JSON Patch with evanphx/json-patch v4's semantics and messages (what kube-apiserver 1.32
// runs).

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/registry/patch.hpp"

#include "patch_internal.hpp"

namespace skiff::registry {
namespace {

// An operation failure: upstream's message (pkg/errors "context: cause" chains).
Error op_error(std::string message) {
  return errors::make(Reason::kInvalid, std::move(message));
}

constexpr std::string_view kMissing = ": missing value";
constexpr std::string_view kInvalidIndex = ": invalid index referenced";

// strconv.Atoi: optional sign, decimal digits, no spaces.
Result<std::int64_t> go_atoi(std::string_view s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) {
    return op_error("strconv.Atoi: parsing " + detail::go_quote(s) + ": invalid syntax");
  }
  std::uint64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return op_error("strconv.Atoi: parsing " + detail::go_quote(s) + ": invalid syntax");
    }
    if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
      return op_error("strconv.Atoi: parsing " + detail::go_quote(s) + ": value out of range");
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  if (v > limit) {
    return op_error("strconv.Atoi: parsing " + detail::go_quote(s) + ": value out of range");
  }
  return negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
}

std::string invalid_index(std::int64_t idx) {
  return "Unable to access invalid index: " + std::to_string(idx) + std::string(kInvalidIndex);
}

// The member or element `key` of a container (object or array) as upstream's container.get: a
// missing object member is not an error (nullptr), a bad array index is.
Result<json::Value*> container_get(json::Value& c, const std::string& key) {
  if (c.is_object()) {
    return c.as_object().find(key);
  }
  auto& a = c.as_array();
  auto idx = go_atoi(key);
  if (!idx) {
    return idx.error();
  }
  auto i = *idx;
  const auto n = static_cast<std::int64_t>(a.size());
  if (i < 0) {
    if (i < -n) {
      return op_error(invalid_index(i));
    }
    i += n;
  }
  if (i >= n) {
    return op_error(invalid_index(i));
  }
  return &a[static_cast<std::size_t>(i)];
}

Result<void> container_add(json::Value& c, const std::string& key, json::Value value) {
  if (c.is_object()) {
    c.as_object().set(key, std::move(value));
    return {};
  }
  auto& a = c.as_array();
  if (key == "-") {
    a.push_back(std::move(value));
    return {};
  }
  auto idx = go_atoi(key);
  if (!idx) {
    return op_error("value was not a proper array index: '" + key + "': " + idx.error().message);
  }
  auto i = *idx;
  const auto size_after = static_cast<std::int64_t>(a.size()) + 1;
  if (i >= size_after) {
    return op_error(invalid_index(i));
  }
  if (i < 0) {
    if (i < -size_after) {
      return op_error(invalid_index(i));
    }
    i += size_after;
  }
  a.insert(a.begin() + i, std::move(value));
  return {};
}

Result<void> container_remove(json::Value& c, const std::string& key) {
  if (c.is_object()) {
    if (!c.as_object().erase(key)) {
      return op_error("Unable to remove nonexistent key: " + key + std::string(kMissing));
    }
    return {};
  }
  auto& a = c.as_array();
  auto idx = go_atoi(key);
  if (!idx) {
    return idx.error();
  }
  auto i = *idx;
  const auto n = static_cast<std::int64_t>(a.size());
  if (i >= n) {
    return op_error(invalid_index(i));
  }
  if (i < 0) {
    if (i < -n) {
      return op_error(invalid_index(i));
    }
    i += n;
  }
  a.erase(a.begin() + i);
  return {};
}

// upstream's findObject: the container holding the path's last token, or nullptr when the path is
// the root, does not start with '/', or an intermediate step is missing or not a container. Tokens
// are split on '/' before "~1" and "~0" are decoded.
json::Value* find_container(json::Value& doc, std::string_view path, std::string& key) {
  if (path.empty() || path[0] != '/') {
    return nullptr;
  }
  auto tokens = parse_json_pointer(path);
  if (!tokens) {
    return nullptr;
  }
  json::Value* cur = &doc;
  for (std::size_t i = 0; i + 1 < tokens->size(); ++i) {
    auto next = container_get(*cur, (*tokens)[i]);
    if (!next || *next == nullptr || !((*next)->is_object() || (*next)->is_array())) {
      return nullptr;
    }
    cur = *next;
  }
  key = tokens->back();
  return cur;
}

// An operation's string member ("path" / "from"): missing or null is ErrMissing, another type an
// unmarshal error.
Result<std::string> op_string(const json::Value& op, std::string_view name) {
  const auto* v = op.get(name);
  if (v == nullptr || v->is_null()) {
    return op_error("missing value");
  }
  if (!v->is_string()) {
    return op_error("json: cannot unmarshal " + std::string(json::type_name(v->type())) +
                    " into Go value of type string");
  }
  return v->as_string();
}

std::string op_kind(const json::Value& op) {
  const auto* v = op.get("op");
  return v != nullptr && v->is_string() ? v->as_string() : std::string("unknown");
}

// The operation's value; a missing "value" is null, as upstream stores its absent node.
json::Value op_value(const json::Value& op) {
  const auto* v = op.get("value");
  return v == nullptr ? json::Value() : *v;
}

std::string quoted_path(const std::string& p) {
  return "\"" + p + "\"";
}

class Applier {
public:
  Applier(json::Value& doc, const JsonPatchLimits& limits) : doc_(doc), limits_(limits) {}

  Result<void> apply(const json::Value& op) {
    const std::string kind = op_kind(op);
    if (kind == "add") {
      return add(op);
    }
    if (kind == "remove") {
      return remove(op);
    }
    if (kind == "replace") {
      return replace(op);
    }
    if (kind == "move") {
      return move(op);
    }
    if (kind == "test") {
      return test(op);
    }
    if (kind == "copy") {
      return copy(op);
    }
    return op_error("Unexpected kind: " + kind);
  }

private:
  Result<void> add(const json::Value& op) {
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("add operation failed to decode path" + std::string(kMissing));
    }
    std::string key;
    auto* con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("add operation does not apply: doc is missing path: " + quoted_path(*path) +
                      std::string(kMissing));
    }
    if (auto r = container_add(*con, key, op_value(op)); !r) {
      return op_error("error in add for path: '" + *path + "': " + r.error().message);
    }
    return {};
  }

  Result<void> remove(const json::Value& op) {
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("remove operation failed to decode path" + std::string(kMissing));
    }
    std::string key;
    auto* con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("remove operation does not apply: doc is missing path: " +
                      quoted_path(*path) + std::string(kMissing));
    }
    if (auto r = container_remove(*con, key); !r) {
      return op_error("error in remove for path: '" + *path + "': " + r.error().message);
    }
    return {};
  }

  Result<void> replace(const json::Value& op) {
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("replace operation failed to decode path: " + path.error().message);
    }
    if (path->empty()) {
      // The root is replaced only by an object or array. For anything else upstream's error
      // wrapping loses its error (it wraps a nil cause) and the operation silently does nothing.
      auto value = op_value(op);
      if (value.is_object() || value.is_array()) {
        doc_ = std::move(value);
      }
      return {};
    }
    std::string key;
    auto* con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("replace operation does not apply: doc is missing path: " + *path +
                      std::string(kMissing));
    }
    if (auto got = container_get(*con, key); !got) {
      return op_error("replace operation does not apply: doc is missing key: " + *path +
                      std::string(kMissing));
    }
    // A missing object member is not an error here (upstream's get does not report it): replace
    // adds.
    if (con->is_object()) {
      con->as_object().set(key, op_value(op));
    } else {
      *container_get(*con, key).value() = op_value(op);
    }
    return {};
  }

  Result<void> move(const json::Value& op) {
    auto from = op_string(op, "from");
    if (!from) {
      return op_error("move operation failed to decode from: " + from.error().message);
    }
    std::string key;
    auto* con = find_container(doc_, *from, key);
    if (con == nullptr) {
      return op_error("move operation does not apply: doc is missing from path: " + *from +
                      std::string(kMissing));
    }
    auto got = container_get(*con, key);
    if (!got) {
      return op_error("error in move for path: '" + key + "': " + got.error().message);
    }
    json::Value value = *got != nullptr ? std::move(**got) : json::Value();
    if (auto r = container_remove(*con, key); !r) {
      return op_error("error in move for path: '" + key + "': " + r.error().message);
    }
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("move operation failed to decode path: " + path.error().message);
    }
    con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("move operation does not apply: doc is missing destination path: " + *path +
                      std::string(kMissing));
    }
    if (auto r = container_add(*con, key, std::move(value)); !r) {
      return op_error("error in move for path: '" + *path + "': " + r.error().message);
    }
    return {};
  }

  Result<void> test(const json::Value& op) {
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("test operation failed to decode path: " + path.error().message);
    }
    const json::Value* expected = op.get("value");
    auto failed = [&] {
      return op_error("testing value " + *path + " failed: test failed");
    };
    if (path->empty()) {
      if (expected != nullptr && doc_ == *expected) {
        return {};
      }
      return failed();
    }
    std::string key;
    auto* con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("test operation does not apply: is missing path: " + *path +
                      std::string(kMissing));
    }
    auto got = container_get(*con, key);
    if (!got) {
      return op_error("error in test for path: '" + *path + "': " + got.error().message);
    }
    // Upstream decodes null members as absent: a missing member and a null one both equal an
    // explicit `"value": null`.
    const json::Value* actual = *got;
    if (actual == nullptr || actual->is_null()) {
      if (expected != nullptr && expected->is_null()) {
        return {};
      }
      return failed();
    }
    if (expected == nullptr || !(*actual == *expected)) {
      return failed();
    }
    return {};
  }

  Result<void> copy(const json::Value& op) {
    auto from = op_string(op, "from");
    if (!from) {
      return op_error("copy operation failed to decode from: " + from.error().message);
    }
    std::string key;
    auto* con = find_container(doc_, *from, key);
    if (con == nullptr) {
      return op_error("copy operation does not apply: doc is missing from path: " + *from +
                      std::string(kMissing));
    }
    auto got = container_get(*con, key);
    if (!got) {
      return op_error("error in copy for from: '" + *from + "': " + got.error().message);
    }
    // A missing object member copies as null (upstream copies its absent node).
    json::Value value = *got != nullptr ? **got : json::Value();
    auto path = op_string(op, "path");
    if (!path) {
      return op_error("copy operation failed to decode path" + std::string(kMissing));
    }
    con = find_container(doc_, *path, key);
    if (con == nullptr) {
      return op_error("copy operation does not apply: doc is missing destination path: " + *path +
                      std::string(kMissing));
    }
    if (*got != nullptr) {
      copied_ += static_cast<std::int64_t>(json::serialize(value).size());
    }
    if (limits_.max_copy_bytes > 0 && copied_ > limits_.max_copy_bytes) {
      return op_error("Unable to complete the copy, the accumulated size increase of copy is " +
                      std::to_string(copied_) + ", exceeding the limit " +
                      std::to_string(limits_.max_copy_bytes));
    }
    if (auto r = container_add(*con, key, std::move(value)); !r) {
      return op_error("error while adding value during copy: " + r.error().message);
    }
    return {};
  }

  json::Value& doc_;
  const JsonPatchLimits& limits_;
  std::int64_t copied_ = 0;
};

}  // namespace

Result<std::vector<std::string>> parse_json_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) {
    return tokens;
  }
  if (pointer[0] != '/') {
    return errors::bad_request("JSON pointer " + detail::go_quote(pointer) +
                               " must be empty or start with \"/\"");
  }
  std::string cur;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        cur.push_back(pointer[i + 1] == '0' ? '~' : '/');
        ++i;
        continue;
      }
      return errors::bad_request("JSON pointer " + detail::go_quote(pointer) +
                                 R"( has a "~" not followed by "0" or "1")");
    }
    cur.push_back(pointer[i]);
  }
  return tokens;
}

Result<json::Value> apply_json_patch(json::Value document, const json::Value& operations,
                                     const JsonPatchLimits& limits) {
  if (operations.is_null()) {
    return document;  // "null" decodes to an empty patch
  }
  if (!operations.is_array()) {
    return errors::bad_request("json: cannot unmarshal " +
                               std::string(json::type_name(operations.type())) +
                               " into Go value of type jsonpatch.Patch");
  }
  for (const auto& op : operations.as_array()) {
    if (!op.is_object() && !op.is_null()) {
      return errors::bad_request("json: cannot unmarshal " +
                                 std::string(json::type_name(op.type())) +
                                 " into Go value of type jsonpatch.Operation");
    }
  }
  const auto& ops = operations.as_array();
  if (ops.size() > limits.max_operations) {
    return errors::too_large(
        "Request entity too large: The allowed maximum operations in a JSON patch is " +
        std::to_string(limits.max_operations) + ", got " + std::to_string(ops.size()));
  }
  if (!document.is_object() && !document.is_array()) {
    return op_error("json: cannot unmarshal " + std::string(json::type_name(document.type())) +
                    " into Go value of type jsonpatch.partialDoc");
  }
  Applier applier(document, limits);
  for (const auto& op : ops) {
    if (auto r = applier.apply(op); !r) {
      return r.error();
    }
  }
  return document;
}

}  // namespace skiff::registry
