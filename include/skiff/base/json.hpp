// SPDX-License-Identifier: Apache-2.0
#pragma once

// json: the document model every Kubernetes object travels in. Objects are generic JSON trees (the
// "unstructured" form), because one resource catalog drives built-in kinds and CRDs alike; typed views
// over them live in `api`. Parsing and printing use RapidJSON inside src/base; nothing here exposes it.
//
// Semantics worth knowing:
// - Objects keep their members in insertion order (output looks like what was sent) and have unique
//   keys; lookups are linear, which is the right trade for Kubernetes' small objects.
// - Numbers are int64 when the text is an integer that fits, else double. Equality is semantic: member
//   order does not matter, 1 == 1.0.
// - A Value is a plain value type: copies are deep, moves are cheap.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "skiff/base/error.hpp"

namespace skiff::json {

class Value;
struct Member;

enum class Type : std::uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

/// Name of a JSON type as Kubernetes' messages spell it ("string", "integer", "number", "boolean",
/// "array", "object", "null").
std::string_view type_name(Type type) noexcept;

using Array = std::vector<Value>;

/// An ordered map of unique string keys. Iteration yields `Member`s in insertion order.
class Object {
 public:
  using iterator = std::vector<Member>::iterator;
  using const_iterator = std::vector<Member>::const_iterator;

  Object() = default;
  Object(std::initializer_list<Member> members);

  /// The member's value, or nullptr.
  Value* find(std::string_view key) noexcept;
  const Value* find(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// The member's value, inserting a null member at the end if missing.
  Value& operator[](std::string_view key);
  /// Replaces the member's value, or appends a new member. Returns the stored value.
  Value& set(std::string_view key, Value value);
  /// Appends a member whose key the caller knows is not present yet (no lookup: builders of large
  /// objects use it to stay linear).
  Value& append_new(std::string key, Value value);
  /// Removes the member; false if it was not there.
  bool erase(std::string_view key);

  std::size_t size() const noexcept;
  bool empty() const noexcept;
  void reserve(std::size_t n);
  void clear() noexcept;
  iterator begin() noexcept;
  iterator end() noexcept;
  const_iterator begin() const noexcept;
  const_iterator end() const noexcept;
  /// Removes the member an iterator points at; returns the next one.
  iterator erase(const_iterator it);

  /// Same keys with equal values, in any order.
  bool operator==(const Object& other) const;

 private:
  std::vector<Member> members_;
};

/// A JSON value: null, bool, int64, double, string, array or object.
class Value {
 public:
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): JSON literals read naturally
  Value(bool b) noexcept : v_(b) {}  // NOLINT(google-explicit-constructor)
  Value(int i) noexcept : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(long i) noexcept : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(long long i) noexcept : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(unsigned i) noexcept : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(unsigned long i) noexcept : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(double d) noexcept : v_(d) {}  // NOLINT(google-explicit-constructor)
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(std::string s) noexcept : v_(std::move(s)) {}  // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(Array a) noexcept : v_(std::move(a)) {}  // NOLINT(google-explicit-constructor)
  Value(Object o) noexcept : v_(std::move(o)) {}  // NOLINT(google-explicit-constructor)

  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  bool is_null() const noexcept { return type() == Type::kNull; }
  bool is_bool() const noexcept { return type() == Type::kBool; }
  bool is_int() const noexcept { return type() == Type::kInt; }
  bool is_double() const noexcept { return type() == Type::kDouble; }
  bool is_number() const noexcept { return is_int() || is_double(); }
  bool is_string() const noexcept { return type() == Type::kString; }
  bool is_array() const noexcept { return type() == Type::kArray; }
  bool is_object() const noexcept { return type() == Type::kObject; }
  /// True for an int, or a double with an integral value that fits int64.
  bool is_integral() const noexcept;

  // Checked accessors: calling one on the wrong type is a bug (SKIFF_CHECK-style abort via
  // std::get). Use the `*_or` forms or the type tests for input.
  bool as_bool() const { return std::get<bool>(v_); }
  /// int, or an integral double converted.
  std::int64_t as_int() const;
  /// Any number as double.
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(v_); }
  std::string& as_string() { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  /// Member lookup that tolerates any type: nullptr unless this is an object holding `key`.
  const Value* get(std::string_view key) const noexcept;
  Value* get(std::string_view key) noexcept;
  /// Nested lookup: get("metadata")->get("name") in one call; nullptr if any step is missing.
  const Value* get_path(std::initializer_list<std::string_view> path) const noexcept;
  Value* get_path(std::initializer_list<std::string_view> path) noexcept;

  /// The member, or a shared null value (never inserts).
  const Value& operator[](std::string_view key) const noexcept;
  /// The member; turns a null into an empty object first and inserts a null member if missing.
  /// Calling it on another type is a bug.
  Value& operator[](std::string_view key);

  /// Typed reads with a default for missing members or other types.
  std::string_view string_or(std::string_view key, std::string_view fallback = {}) const noexcept;
  std::int64_t int_or(std::string_view key, std::int64_t fallback = 0) const noexcept;
  bool bool_or(std::string_view key, bool fallback = false) const noexcept;

  /// Object member count, array length, or 0.
  std::size_t size() const noexcept;
  /// True for null, and for an empty string, array or object.
  bool empty() const noexcept;

  bool operator==(const Value& other) const;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_;
};

struct Member {
  std::string key;
  Value value;

  bool operator==(const Member& other) const = default;
};

/// Parsing limits and strictness.
struct ParseOptions {
  /// Deeper nesting is an error (protects the stack; Kubernetes objects are shallow).
  std::size_t max_depth = 512;
  /// When set, a repeated key is not an error: the last occurrence wins (Go's encoding/json) and the
  /// key's path is appended here, in Kubernetes' field-path style ("metadata.name",
  /// "spec.containers[0].image"). When null, a repeated key is an error.
  std::vector<std::string>* duplicates = nullptr;
};

/// Parses one JSON document (surrounding whitespace allowed, nothing else after it). Errors:
/// kBadRequest with a message naming the problem and byte offset.
Result<Value> parse(std::string_view text, const ParseOptions& options = {});

/// Compact JSON (no spaces), members in stored order, doubles in their shortest round-trip form.
std::string serialize(const Value& value);
void serialize_to(const Value& value, std::string& out);
/// Indented JSON (two spaces per level, as the API server's `?pretty=true`).
std::string serialize_pretty(const Value& value);

/// Quotes and escapes `s` as a JSON string literal.
std::string quote(std::string_view s);

}  // namespace skiff::json
