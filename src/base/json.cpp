// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/json.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

namespace skiff::json {

std::string_view type_name(Type type) noexcept {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kInt:
      return "integer";
    case Type::kDouble:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
  }
  return "unknown";
}

// ---- Object ----

Object::Object(std::initializer_list<Member> members) {
  members_.reserve(members.size());
  for (const auto& m : members) {
    set(m.key, m.value);
  }
}

Value* Object::find(std::string_view key) noexcept {
  for (auto& m : members_) {
    if (m.key == key) {
      return &m.value;
    }
  }
  return nullptr;
}

const Value* Object::find(std::string_view key) const noexcept {
  for (const auto& m : members_) {
    if (m.key == key) {
      return &m.value;
    }
  }
  return nullptr;
}

Value& Object::operator[](std::string_view key) {
  if (auto* v = find(key)) {
    return *v;
  }
  members_.push_back(Member{std::string(key), Value()});
  return members_.back().value;
}

Value& Object::set(std::string_view key, Value value) {
  if (auto* v = find(key)) {
    *v = std::move(value);
    return *v;
  }
  members_.push_back(Member{std::string(key), std::move(value)});
  return members_.back().value;
}

Value& Object::append_new(std::string key, Value value) {
  members_.push_back(Member{std::move(key), std::move(value)});
  return members_.back().value;
}

bool Object::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->key == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

std::size_t Object::size() const noexcept { return members_.size(); }
bool Object::empty() const noexcept { return members_.empty(); }
void Object::reserve(std::size_t n) { members_.reserve(n); }
void Object::clear() noexcept { members_.clear(); }
Object::iterator Object::begin() noexcept { return members_.begin(); }
Object::iterator Object::end() noexcept { return members_.end(); }
Object::const_iterator Object::begin() const noexcept { return members_.begin(); }
Object::const_iterator Object::end() const noexcept { return members_.end(); }
Object::iterator Object::erase(const_iterator it) { return members_.erase(it); }

bool Object::operator==(const Object& other) const {
  if (members_.size() != other.members_.size()) {
    return false;
  }
  for (const auto& m : members_) {
    const Value* o = other.find(m.key);
    if (o == nullptr || !(*o == m.value)) {
      return false;
    }
  }
  return true;
}

// ---- Value ----

namespace {
const Value kNullValue;

bool fits_int64(double d) {
  return std::isfinite(d) && d == std::floor(d) && d >= -9.2233720368547758e18 &&
         d < 9.2233720368547758e18;
}
}  // namespace

bool Value::is_integral() const noexcept {
  if (is_int()) {
    return true;
  }
  return is_double() && fits_int64(std::get<double>(v_));
}

std::int64_t Value::as_int() const {
  if (is_double()) {
    return static_cast<std::int64_t>(std::get<double>(v_));
  }
  return std::get<std::int64_t>(v_);
}

double Value::as_double() const {
  if (is_int()) {
    return static_cast<double>(std::get<std::int64_t>(v_));
  }
  return std::get<double>(v_);
}

const Value* Value::get(std::string_view key) const noexcept {
  if (!is_object()) {
    return nullptr;
  }
  return std::get<Object>(v_).find(key);
}

Value* Value::get(std::string_view key) noexcept {
  if (!is_object()) {
    return nullptr;
  }
  return std::get<Object>(v_).find(key);
}

const Value* Value::get_path(std::initializer_list<std::string_view> path) const noexcept {
  const Value* v = this;
  for (auto key : path) {
    v = v->get(key);
    if (v == nullptr) {
      return nullptr;
    }
  }
  return v;
}

Value* Value::get_path(std::initializer_list<std::string_view> path) noexcept {
  Value* v = this;
  for (auto key : path) {
    v = v->get(key);
    if (v == nullptr) {
      return nullptr;
    }
  }
  return v;
}

const Value& Value::operator[](std::string_view key) const noexcept {
  const Value* v = get(key);
  return v != nullptr ? *v : kNullValue;
}

Value& Value::operator[](std::string_view key) {
  if (is_null()) {
    v_ = Object{};
  }
  return std::get<Object>(v_)[key];
}

std::string_view Value::string_or(std::string_view key, std::string_view fallback) const noexcept {
  const Value* v = get(key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : fallback;
}

std::int64_t Value::int_or(std::string_view key, std::int64_t fallback) const noexcept {
  const Value* v = get(key);
  return v != nullptr && v->is_integral() ? v->as_int() : fallback;
}

bool Value::bool_or(std::string_view key, bool fallback) const noexcept {
  const Value* v = get(key);
  return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

std::size_t Value::size() const noexcept {
  if (is_object()) {
    return std::get<Object>(v_).size();
  }
  if (is_array()) {
    return std::get<Array>(v_).size();
  }
  return 0;
}

bool Value::empty() const noexcept {
  switch (type()) {
    case Type::kNull:
      return true;
    case Type::kString:
      return std::get<std::string>(v_).empty();
    case Type::kArray:
      return std::get<Array>(v_).empty();
    case Type::kObject:
      return std::get<Object>(v_).empty();
    default:
      return false;
  }
}

bool Value::operator==(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (is_int() && other.is_int()) {
      return std::get<std::int64_t>(v_) == std::get<std::int64_t>(other.v_);
    }
    return as_double() == other.as_double();
  }
  return v_ == other.v_;
}

// ---- parsing ----

namespace {

// Builds a Value tree from RapidJSON's SAX events. Each open container is a frame; the finished value
// is moved into its parent when the container ends.
class Builder {
 public:
  explicit Builder(const ParseOptions& options) : options_(options) {}

  bool Null() { return add(Value()); }
  bool Bool(bool b) { return add(Value(b)); }
  bool Int(int i) { return add(Value(i)); }
  bool Uint(unsigned u) { return add(Value(static_cast<std::int64_t>(u))); }
  bool Int64(std::int64_t i) { return add(Value(i)); }
  bool Uint64(std::uint64_t u) {
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return add(Value(static_cast<std::int64_t>(u)));
    }
    return add(Value(static_cast<double>(u)));
  }
  bool Double(double d) { return add(Value(d)); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return add(Value(std::string(s, n)));
  }
  bool StartObject() { return open(Value(Object{})); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    Frame& f = frames_.back();
    std::string_view key(s, n);
    bool duplicate = false;
    Object& obj = f.value.as_object();
    if (obj.size() < kSetThreshold) {
      duplicate = obj.contains(key);
    } else {
      if (f.keys.empty()) {
        for (const auto& m : obj) {
          f.keys.insert(m.key);
        }
      }
      duplicate = !f.keys.insert(std::string(key)).second;
    }
    if (duplicate) {
      if (options_.duplicates == nullptr) {
        error_ = fmt::format("duplicate key {}", quote(key));
        return false;
      }
      options_.duplicates->push_back(path_to(key));
    }
    f.key.assign(s, n);
    f.duplicate = duplicate;
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value(Array{})); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  Value take() { return std::move(root_); }
  const std::string& error() const { return error_; }

 private:
  static constexpr std::size_t kSetThreshold = 16;

  struct Frame {
    Value value;
    std::string key;  // pending member key (objects)
    bool duplicate = false;  // the pending key is already a member
    std::unordered_set<std::string> keys;  // only for large objects
  };

  bool open(Value container) {
    if (frames_.size() >= options_.max_depth) {
      error_ = fmt::format("nesting deeper than {} levels", options_.max_depth);
      return false;
    }
    frames_.push_back(Frame{std::move(container), {}, false, {}});
    return true;
  }

  bool close() {
    Value done = std::move(frames_.back().value);
    frames_.pop_back();
    return add(std::move(done));
  }

  bool add(Value v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& f = frames_.back();
    if (f.value.is_array()) {
      f.value.as_array().push_back(std::move(v));
    } else {
      // Last occurrence wins for duplicates (Go's encoding/json); new keys append without a lookup.
      if (f.duplicate) {
        f.value.as_object().set(f.key, std::move(v));
      } else {
        f.value.as_object().append_new(std::move(f.key), std::move(v));
      }
    }
    return true;
  }

  // Field path of `key` inside the innermost open object: "a.b[2].key".
  std::string path_to(std::string_view key) const {
    std::string path;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (i + 1 == frames_.size()) {
        break;
      }
      if (f.value.is_array()) {
        path += fmt::format("[{}]", f.value.as_array().size());
      } else {
        if (!path.empty()) {
          path += '.';
        }
        path += f.key;
      }
    }
    if (!path.empty()) {
      path += '.';
    }
    path += key;
    return path;
  }

  const ParseOptions& options_;
  std::vector<Frame> frames_;
  Value root_;
  std::string error_;
};

// RapidJSON input stream over a string_view (no copy, no NUL terminator needed).
class ViewStream {
 public:
  using Ch = char;
  explicit ViewStream(std::string_view s) : s_(s) {}
  Ch Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  Ch Take() { return pos_ < s_.size() ? s_[pos_++] : '\0'; }
  std::size_t Tell() const { return pos_; }
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  std::size_t PutEnd(Ch*) { return 0; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Value> parse(std::string_view text, const ParseOptions& options) {
  Builder builder(options);
  ViewStream stream(text);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseFullPrecisionFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (ok.IsError()) {
    if (!builder.error().empty()) {
      return errors::bad_request(
          fmt::format("invalid JSON at offset {}: {}", ok.Offset(), builder.error()));
    }
    return errors::bad_request(fmt::format("invalid JSON at offset {}: {}", ok.Offset(),
                                           rapidjson::GetParseError_En(ok.Code())));
  }
  // RapidJSON stops after the root value; only whitespace may follow (a NUL inside the text counts as
  // trailing garbage).
  for (std::size_t i = stream.Tell(); i < text.size(); ++i) {
    char c = text[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return errors::bad_request(
          fmt::format("invalid JSON at offset {}: unexpected data after the document", i));
    }
  }
  return builder.take();
}

// ---- serialization ----

namespace {

class StringOut {
 public:
  using Ch = char;
  explicit StringOut(std::string& out) : out_(out) {}
  void Put(Ch c) { out_.push_back(c); }
  void Flush() {}
  std::string& text() { return out_; }

 private:
  std::string& out_;
};

// RapidJSON's escapes (its Writer's table): short forms for \b \t \n \f \r, \u00XX for other
// control characters, \" and \\; everything else, UTF-8 included, is copied.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[c] = 'u';
  }
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

// Appends `s` as a JSON string. The same bytes as RapidJSON's Writer::String, but runs without an
// escape are appended whole instead of one Put() per character (strings are most of a document).
void append_quoted(std::string& out, std::string_view s) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char e = kEscape[c];
    if (e == 0) {
      continue;
    }
    out.append(s.data() + run, i - run);
    out.push_back('\\');
    out.push_back(e);
    if (e == 'u') {
      out.append("00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// The compact writer, its strings and keys written by append_quoted (these hide the base's).
class CompactWriter : public rapidjson::Writer<StringOut> {
 public:
  explicit CompactWriter(StringOut& os) : rapidjson::Writer<StringOut>(os) {}
  bool String(const Ch* s, rapidjson::SizeType length, bool /*copy*/ = false) {
    Prefix(rapidjson::kStringType);
    append_quoted(os_->text(), std::string_view(s, length));
    return EndValue(true);
  }
  bool Key(const Ch* s, rapidjson::SizeType length, bool copy = false) {
    return String(s, length, copy);
  }
};

template <class Writer>
void write(Writer& w, const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      w.Null();
      break;
    case Type::kBool:
      w.Bool(v.as_bool());
      break;
    case Type::kInt:
      w.Int64(v.as_int());
      break;
    case Type::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d)) {
        w.Null();
      } else if (fits_int64(d) && std::fabs(d) < 1e15) {
        // Go prints integral floats without a fraction ("3", not "3.0").
        w.Int64(static_cast<std::int64_t>(d));
      } else {
        w.Double(d);
      }
      break;
    }
    case Type::kString: {
      const auto& s = v.as_string();
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      break;
    }
    case Type::kArray:
      w.StartArray();
      for (const auto& e : v.as_array()) {
        write(w, e);
      }
      w.EndArray();
      break;
    case Type::kObject:
      w.StartObject();
      for (const auto& m : v.as_object()) {
        w.Key(m.key.data(), static_cast<rapidjson::SizeType>(m.key.size()));
        write(w, m.value);
      }
      w.EndObject();
      break;
  }
}

}  // namespace

void serialize_to(const Value& value, std::string& out) {
  StringOut stream(out);
  CompactWriter writer(stream);
  write(writer, value);
}

std::string serialize(const Value& value) {
  std::string out;
  serialize_to(value, out);
  return out;
}

std::string serialize_pretty(const Value& value) {
  std::string out;
  StringOut stream(out);
  rapidjson::PrettyWriter<StringOut> writer(stream);
  writer.SetIndent(' ', 2);
  write(writer, value);
  return out;
}

std::string quote(std::string_view s) {
  std::string out;
  append_quoted(out, s);
  return out;
}

}  // namespace skiff::json
