// SPDX-License-Identifier: Apache-2.0
#include "skiff/registry/protobuf.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace skiff::registry {
namespace {

// Protobuf wire types (encoding spec); groups (3, 4) never occur in Kubernetes messages.
constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;

// Decoding state shared by the recursive walk: options, the first error, and the JSON path of the
// field being decoded (for messages such as "truncated varint at spec.replicas").
struct Context {
  const ProtobufOptions& options;
  std::string error;
  std::vector<std::string> path;

  bool fail(std::string message) {
    if (error.empty()) {
      std::string where;
      for (const std::string& p : path) {
        if (!where.empty() && p.front() != '[') {
          where += '.';
        }
        where += p;
      }
      error = where.empty() ? std::move(message) : message + " at " + where;
    }
    return false;
  }
};

// A cursor over one message's bytes.
class Reader {
public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }

  bool varint(Context& ctx, std::uint64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) {
        return ctx.fail("protobuf: truncated varint");
      }
      auto b = static_cast<std::uint8_t>(*p_++);
      if (shift == 63 && b > 1) {
        return ctx.fail("protobuf: varint overflows 64 bits");
      }
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = v;
        return true;
      }
    }
    return ctx.fail("protobuf: varint longer than 10 bytes");
  }

  bool fixed(Context& ctx, std::size_t n, std::uint64_t& out) {
    if (static_cast<std::size_t>(end_ - p_) < n) {
      return ctx.fail("protobuf: truncated fixed-width value");
    }
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p_[i])) << (8 * i);
    }
    p_ += n;
    return true;
  }

  bool bytes(Context& ctx, std::string_view& out) {
    std::uint64_t len = 0;
    if (!varint(ctx, len)) {
      return false;
    }
    if (len > static_cast<std::uint64_t>(end_ - p_)) {
      return ctx.fail(fmt::format("protobuf: length {} runs past the end of the message", len));
    }
    out = std::string_view(p_, static_cast<std::size_t>(len));
    p_ += len;
    return true;
  }

  bool tag(Context& ctx, std::int32_t& number, int& wire) {
    std::uint64_t t = 0;
    if (!varint(ctx, t)) {
      return false;
    }
    wire = static_cast<int>(t & 7);
    std::uint64_t n = t >> 3;
    if (n == 0 || n > 0x1fffffff) {
      return ctx.fail(fmt::format("protobuf: invalid field number {}", n));
    }
    number = static_cast<std::int32_t>(n);
    return true;
  }

  bool skip(Context& ctx, int wire) {
    std::uint64_t ignored = 0;
    std::string_view ignored_bytes;
    switch (wire) {
      case kVarint:
        return varint(ctx, ignored);
      case kFixed64:
        return fixed(ctx, 8, ignored);
      case kLengthDelimited:
        return bytes(ctx, ignored_bytes);
      case kFixed32:
        return fixed(ctx, 4, ignored);
      default:
        return ctx.fail(fmt::format("protobuf: unsupported wire type {}", wire));
    }
  }

private:
  const char* p_;
  const char* end_;
};

// --- scalar renderings --------------------------------------------------------------------------

// Go's JSON encoder replaces each byte of invalid UTF-8 with U+FFFD; do the same so that the
// result is valid JSON text.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (cc & 0x3f);
      }
    }
    if (ok) {
      // Reject overlong forms, surrogates and values past U+10FFFF.
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (static_cast<std::uint8_t>(in[i]) << 16) |
                      (static_cast<std::uint8_t>(in[i + 1]) << 8) |
                      static_cast<std::uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = static_cast<std::uint8_t>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    std::uint32_t v =
        (static_cast<std::uint8_t>(in[i]) << 16) | (static_cast<std::uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Seconds since the epoch to a UTC civil date (Howard Hinnant's algorithm).
bool format_time(std::int64_t seconds, std::int32_t nanos, bool micro, std::string& out) {
  std::int64_t days = seconds / 86400;
  std::int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) {
    y += 1;
  }
  if (y < 0 || y > 9999 || nanos < 0 || nanos > 999999999) {
    return false;
  }
  out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600, (rem / 60) % 60,
                    rem % 60);
  if (micro) {
    out += fmt::format(".{:06}", nanos / 1000);
  }
  out += 'Z';
  return true;
}

// time.Duration.String(): "1h2m3.5s", "100ms", "1.5µs", "0s".
std::string format_duration(std::int64_t d) {
  if (d == 0) {
    return "0s";
  }
  bool neg = d < 0;
  std::uint64_t u = neg ? (~static_cast<std::uint64_t>(d) + 1) : static_cast<std::uint64_t>(d);
  // The fraction of u / 10^prec without trailing zeros (and without the point when it is 0).
  auto frac = [](std::uint64_t v, int prec, std::string& digits) {
    std::string f;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      auto digit = static_cast<char>('0' + v % 10);
      print = print || digit != '0';
      if (print) {
        f.insert(f.begin(), digit);
      }
      v /= 10;
    }
    if (print) {
      digits = "." + f;
    }
    return v;
  };
  std::string out;
  if (u < 1000000000ULL) {
    std::string unit;
    int prec = 0;
    if (u < 1000ULL) {
      unit = "ns";
    } else if (u < 1000000ULL) {
      unit = "\xc2\xb5s";
      prec = 3;
    } else {
      unit = "ms";
      prec = 6;
    }
    std::string fraction;
    std::uint64_t whole = frac(u, prec, fraction);
    out = std::to_string(whole) + fraction + unit;
  } else {
    std::string fraction;
    std::uint64_t secs = frac(u, 9, fraction);
    out = std::to_string(secs % 60) + fraction + "s";
    std::uint64_t mins = secs / 60;
    if (mins > 0) {
      out = std::to_string(mins % 60) + "m" + out;
      std::uint64_t hours = mins / 60;
      if (hours > 0) {
        out = std::to_string(hours) + "h" + out;
      }
    }
  }
  return neg ? "-" + out : out;
}

// --- messages -----------------------------------------------------------------------------------

bool decode_message(Context& ctx, std::string_view bytes, const Node& node, std::size_t depth,
                    json::Object& out);
bool decode_embedded_body(Context& ctx, std::string_view raw, std::size_t depth, json::Value& out);

// What one field occurrence decodes to: a value, or nothing (left out of the JSON form).
using Decoded = std::optional<json::Value>;

bool expect_wire(Context& ctx, int wire, int expected, std::string_view what) {
  if (wire != expected) {
    return ctx.fail(fmt::format("protobuf: wrong wire type {} for {} field", wire, what));
  }
  return true;
}

// Decodes a scalar from a reader positioned at its value (varint / fixed / bytes).
bool decode_scalar(Context& ctx, Reader& r, int wire, const Node& node, json::Value& out,
                   bool& zero) {
  switch (node.kind) {
    case Kind::kString: {
      std::string_view s;
      if (!expect_wire(ctx, wire, kLengthDelimited, "string") || !r.bytes(ctx, s)) {
        return false;
      }
      zero = s.empty();
      out = sanitize_utf8(s);
      return true;
    }
    case Kind::kBytes: {
      std::string_view s;
      if (!expect_wire(ctx, wire, kLengthDelimited, "bytes") || !r.bytes(ctx, s)) {
        return false;
      }
      zero = s.empty();
      out = base64(s);
      return true;
    }
    case Kind::kInteger: {
      std::uint64_t v = 0;
      if (!expect_wire(ctx, wire, kVarint, "integer") || !r.varint(ctx, v)) {
        return false;
      }
      // int32 travels sign-extended to 64 bits; keep the low 32 bits.
      std::int64_t i = node.format == "int32"
                           ? static_cast<std::int64_t>(static_cast<std::int32_t>(v & 0xffffffffU))
                           : static_cast<std::int64_t>(v);
      zero = i == 0;
      out = i;
      return true;
    }
    case Kind::kBoolean: {
      std::uint64_t v = 0;
      if (!expect_wire(ctx, wire, kVarint, "boolean") || !r.varint(ctx, v)) {
        return false;
      }
      zero = v == 0;
      out = v != 0;
      return true;
    }
    case Kind::kNumber: {
      std::uint64_t bits = 0;
      double d = 0;
      if (wire == kFixed32) {
        if (!r.fixed(ctx, 4, bits)) {
          return false;
        }
        float f = 0;
        auto b32 = static_cast<std::uint32_t>(bits);
        std::memcpy(&f, &b32, sizeof f);
        d = f;
      } else {
        if (!expect_wire(ctx, wire, kFixed64, "number") || !r.fixed(ctx, 8, bits)) {
          return false;
        }
        std::memcpy(&d, &bits, sizeof d);
      }
      zero = d == 0;
      out = d;
      return true;
    }
    default:
      return ctx.fail("protobuf: internal error: not a scalar");
  }
}

bool is_scalar(Kind k) {
  return k == Kind::kString || k == Kind::kBytes || k == Kind::kInteger || k == Kind::kBoolean ||
         k == Kind::kNumber;
}

bool is_packable(Kind k) {
  return k == Kind::kInteger || k == Kind::kBoolean || k == Kind::kNumber;
}

// Sub-message helpers for the special types: read the whole message into a field-number table of
// raw occurrences, which is all these small messages need.
struct RawField {
  std::int32_t number;
  int wire;
  std::uint64_t varint;
  std::string_view bytes;
};

bool read_raw_fields(Context& ctx, std::string_view message, std::vector<RawField>& out) {
  Reader r(message);
  while (!r.done()) {
    RawField f{};
    if (!r.tag(ctx, f.number, f.wire)) {
      return false;
    }
    switch (f.wire) {
      case kVarint:
        if (!r.varint(ctx, f.varint)) {
          return false;
        }
        break;
      case kLengthDelimited:
        if (!r.bytes(ctx, f.bytes)) {
          return false;
        }
        break;
      case kFixed64:
        if (!r.fixed(ctx, 8, f.varint)) {
          return false;
        }
        break;
      case kFixed32:
        if (!r.fixed(ctx, 4, f.varint)) {
          return false;
        }
        break;
      default:
        return ctx.fail(fmt::format("protobuf: unsupported wire type {}", f.wire));
    }
    out.push_back(f);
  }
  return true;
}

// The value of a message-typed occurrence (wire type 2) of `node`, or nothing.
bool decode_message_value(Context& ctx, std::string_view bytes, const Node& node, std::size_t depth,
                          Decoded& out) {
  if (depth > ctx.options.max_depth) {
    return ctx.fail(fmt::format("protobuf: messages nested deeper than {}", ctx.options.max_depth));
  }
  switch (node.kind) {
    case Kind::kObject: {
      json::Object obj;
      if (!decode_message(ctx, bytes, node, depth, obj)) {
        return false;
      }
      out = json::Value(std::move(obj));
      return true;
    }
    case Kind::kTime:
    case Kind::kMicroTime: {
      std::vector<RawField> fields;
      if (!read_raw_fields(ctx, bytes, fields)) {
        return false;
      }
      std::int64_t seconds = 0;
      std::int32_t nanos = 0;
      for (const RawField& f : fields) {
        if (f.number == 1 && f.wire == kVarint) {
          seconds = static_cast<std::int64_t>(f.varint);
        } else if (f.number == 2 && f.wire == kVarint) {
          nanos = static_cast<std::int32_t>(f.varint & 0xffffffffU);
        }
      }
      // Kubernetes writes the zero time.Time as an empty message (JSON says null, which we leave
      // out); a message with seconds 0 is the epoch. Go's zero time is also year 1, which some
      // encoders spell out as seconds = -62135596800.
      if (bytes.empty() || (seconds == -62135596800LL && nanos == 0)) {
        return true;
      }
      std::string text;
      if (!format_time(seconds, nanos, node.kind == Kind::kMicroTime, text)) {
        return ctx.fail("protobuf: time out of range");
      }
      out = json::Value(std::move(text));
      return true;
    }
    case Kind::kDuration: {
      std::vector<RawField> fields;
      if (!read_raw_fields(ctx, bytes, fields)) {
        return false;
      }
      std::int64_t d = 0;
      for (const RawField& f : fields) {
        if (f.number == 1 && f.wire == kVarint) {
          d = static_cast<std::int64_t>(f.varint);
        }
      }
      out = json::Value(format_duration(d));
      return true;
    }
    case Kind::kQuantity: {
      std::vector<RawField> fields;
      if (!read_raw_fields(ctx, bytes, fields)) {
        return false;
      }
      std::string s;
      for (const RawField& f : fields) {
        if (f.number == 1 && f.wire == kLengthDelimited) {
          s = sanitize_utf8(f.bytes);
        }
      }
      out = json::Value(s.empty() ? std::string("0") : std::move(s));
      return true;
    }
    case Kind::kIntOrString: {
      std::vector<RawField> fields;
      if (!read_raw_fields(ctx, bytes, fields)) {
        return false;
      }
      std::int64_t type = 0;
      std::int64_t int_val = 0;
      std::string str_val;
      for (const RawField& f : fields) {
        if (f.number == 1 && f.wire == kVarint) {
          type = static_cast<std::int64_t>(f.varint);
        } else if (f.number == 2 && f.wire == kVarint) {
          int_val = static_cast<std::int32_t>(f.varint & 0xffffffffU);
        } else if (f.number == 3 && f.wire == kLengthDelimited) {
          str_val = sanitize_utf8(f.bytes);
        }
      }
      if (type == 1) {
        out = json::Value(std::move(str_val));
      } else {
        out = json::Value(int_val);
      }
      return true;
    }
    case Kind::kAny: {
      if (node.proto_shape == ProtoShape::kPlain) {
        // RawExtension / FieldsV1 / apiextensions JSON: field 1 holds the embedded document.
        std::vector<RawField> fields;
        if (!read_raw_fields(ctx, bytes, fields)) {
          return false;
        }
        std::string_view raw;
        for (const RawField& f : fields) {
          if (f.number == 1 && f.wire == kLengthDelimited) {
            raw = f.bytes;
          }
        }
        if (raw.empty()) {
          return true;
        }
        json::Value v;
        if (!decode_embedded_body(ctx, raw, depth, v)) {
          return false;
        }
        out = std::move(v);
        return true;
      }
      // The apiextensions unions: decode their members, then pick the JSON form upstream's
      // MarshalJSON picks.
      json::Object members;
      if (!decode_message(ctx, bytes, node, depth, members)) {
        return false;
      }
      auto take = [&](std::string_view name) -> json::Value* {
        return members.find(name);
      };
      switch (node.proto_shape) {
        case ProtoShape::kSchemaOrArray:
          if (json::Value* list = take("jSONSchemas"); list != nullptr && !list->empty()) {
            out = std::move(*list);
          } else if (json::Value* schema = take("schema"); schema != nullptr) {
            out = std::move(*schema);
          }
          return true;
        case ProtoShape::kSchemaOrBool:
          if (json::Value* schema = take("schema"); schema != nullptr) {
            out = std::move(*schema);
          } else {
            json::Value* allows = take("allows");
            out = json::Value(allows != nullptr && allows->is_bool() && allows->as_bool());
          }
          return true;
        case ProtoShape::kSchemaOrStringArray:
          if (json::Value* list = take("property"); list != nullptr && !list->empty()) {
            out = std::move(*list);
          } else if (json::Value* schema = take("schema"); schema != nullptr) {
            out = std::move(*schema);
          } else {
            out = json::Value::array();
          }
          return true;
        default:
          return ctx.fail("protobuf: internal error: unexpected shape");
      }
    }
    case Kind::kArray: {
      if (node.proto_shape != ProtoShape::kWrappedArray) {
        return ctx.fail("protobuf: internal error: array as message");
      }
      // Wrapper message: `repeated items = 1`.
      json::Array items;
      Reader r(bytes);
      while (!r.done()) {
        std::int32_t number = 0;
        int wire = 0;
        if (!r.tag(ctx, number, wire)) {
          return false;
        }
        if (number != 1) {
          if (!r.skip(ctx, wire)) {
            return false;
          }
          continue;
        }
        const Node& item = *node.items;
        if (is_scalar(item.kind)) {
          json::Value v;
          bool zero = false;
          if (!decode_scalar(ctx, r, wire, item, v, zero)) {
            return false;
          }
          items.push_back(std::move(v));
        } else {
          std::string_view sub;
          if (!expect_wire(ctx, wire, kLengthDelimited, "message") || !r.bytes(ctx, sub)) {
            return false;
          }
          Decoded v;
          if (!decode_message_value(ctx, sub, item, depth + 1, v)) {
            return false;
          }
          items.push_back(v ? std::move(*v) : json::Value());
        }
      }
      out = json::Value(std::move(items));
      return true;
    }
    default:
      return ctx.fail("protobuf: internal error: unexpected message kind");
  }
}

// One occurrence of a map entry: key = 1 (string), value = 2.
bool decode_map_entry(Context& ctx, std::string_view entry, const Node& value_node,
                      std::size_t depth, json::Object& map) {
  if (depth > ctx.options.max_depth) {
    return ctx.fail(fmt::format("protobuf: messages nested deeper than {}", ctx.options.max_depth));
  }
  Reader r(entry);
  std::string key;
  std::optional<json::Value> value;
  while (!r.done()) {
    std::int32_t number = 0;
    int wire = 0;
    if (!r.tag(ctx, number, wire)) {
      return false;
    }
    if (number == 1) {
      std::string_view k;
      if (!expect_wire(ctx, wire, kLengthDelimited, "map key") || !r.bytes(ctx, k)) {
        return false;
      }
      key = sanitize_utf8(k);
    } else if (number == 2) {
      if (is_scalar(value_node.kind)) {
        json::Value v;
        bool zero = false;
        if (!decode_scalar(ctx, r, wire, value_node, v, zero)) {
          return false;
        }
        value = std::move(v);
      } else {
        std::string_view sub;
        if (!expect_wire(ctx, wire, kLengthDelimited, "message") || !r.bytes(ctx, sub)) {
          return false;
        }
        Decoded v;
        if (!decode_message_value(ctx, sub, value_node, depth + 1, v)) {
          return false;
        }
        value = v ? std::move(*v) : json::Value();
      }
    } else if (!r.skip(ctx, wire)) {
      return false;
    }
  }
  if (!value) {
    // A missing value is the value type's zero value.
    switch (value_node.kind) {
      case Kind::kString:
      case Kind::kBytes:
        value = json::Value("");
        break;
      case Kind::kInteger:
      case Kind::kNumber:
        value = json::Value(0);
        break;
      case Kind::kBoolean:
        value = json::Value(false);
        break;
      case Kind::kObject:
        value = json::Value::object();
        break;
      case Kind::kQuantity:
        value = json::Value("0");
        break;
      default:
        value = json::Value();
        break;
    }
  }
  map.set(key, std::move(*value));
  return true;
}

bool decode_message(Context& ctx, std::string_view bytes, const Node& node, std::size_t depth,
                    json::Object& out) {
  if (depth > ctx.options.max_depth) {
    return ctx.fail(fmt::format("protobuf: messages nested deeper than {}", ctx.options.max_depth));
  }
  Reader r(bytes);
  while (!r.done()) {
    std::int32_t number = 0;
    int wire = 0;
    if (!r.tag(ctx, number, wire)) {
      return false;
    }
    const Field* field = node.proto_field(number);
    if (field == nullptr) {
      if (!r.skip(ctx, wire)) {
        return false;
      }
      continue;
    }
    const Node& type = *field->node;
    ctx.path.push_back(field->name);
    bool ok = true;
    if (field->inlined) {
      // An embedded struct whose members JSON shows in the parent (Volume.volumeSource).
      std::string_view sub;
      json::Object members;
      ok = expect_wire(ctx, wire, kLengthDelimited, "message") && r.bytes(ctx, sub);
      ctx.path.pop_back();
      if (ok) {
        ok = decode_message(ctx, sub, type, depth + 1, members);
      }
      if (!ok) {
        return false;
      }
      for (json::Member& m : members) {
        out.set(m.key, std::move(m.value));
      }
      continue;
    }
    if (type.kind == Kind::kMap) {
      std::string_view entry;
      ok = expect_wire(ctx, wire, kLengthDelimited, "map") && r.bytes(ctx, entry);
      if (ok) {
        json::Value& slot = out[field->name];
        if (!slot.is_object()) {
          slot = json::Value::object();
        }
        ok = decode_map_entry(ctx, entry, *type.items, depth + 1, slot.as_object());
      }
    } else if (type.kind == Kind::kArray && type.proto_shape == ProtoShape::kPlain) {
      const Node& item = *type.items;
      json::Value& slot = out[field->name];
      if (!slot.is_array()) {
        slot = json::Value::array();
      }
      json::Array& list = slot.as_array();
      if (is_packable(item.kind) && wire == kLengthDelimited) {
        // Packed repeated scalars: one length-delimited run of values.
        std::string_view run;
        ok = r.bytes(ctx, run);
        Reader pr(run);
        int element_wire = item.kind == Kind::kNumber ? kFixed64 : kVarint;
        while (ok && !pr.done()) {
          json::Value v;
          bool zero = false;
          ok = decode_scalar(ctx, pr, element_wire, item, v, zero);
          if (ok) {
            list.push_back(std::move(v));
          }
        }
      } else if (is_scalar(item.kind)) {
        json::Value v;
        bool zero = false;
        ok = decode_scalar(ctx, r, wire, item, v, zero);
        if (ok) {
          list.push_back(std::move(v));
        }
      } else {
        std::string_view sub;
        ok = expect_wire(ctx, wire, kLengthDelimited, "message") && r.bytes(ctx, sub);
        if (ok) {
          ctx.path.back() += "[" + std::to_string(list.size()) + "]";
          Decoded v;
          ok = decode_message_value(ctx, sub, item, depth + 1, v);
          if (ok) {
            list.push_back(v ? std::move(*v) : json::Value::object());
          }
        }
      }
    } else if (is_scalar(type.kind)) {
      json::Value v;
      bool zero = false;
      ok = decode_scalar(ctx, r, wire, type, v, zero);
      // Go's JSON encoder drops zero values of non-pointer omitempty fields; the protobuf
      // encoder writes them anyway.
      if (ok && !(zero && field->omit_empty && !field->pointer)) {
        out.set(field->name, std::move(v));
      } else if (ok) {
        out.erase(field->name);
      }
    } else {
      std::string_view sub;
      ok = expect_wire(ctx, wire, kLengthDelimited, "message") && r.bytes(ctx, sub);
      if (ok) {
        Decoded v;
        ok = decode_message_value(ctx, sub, type, depth + 1, v);
        if (ok && v) {
          // A message field seen twice merges in protobuf; for objects merge members, otherwise
          // the last one wins.
          json::Value* existing = out.find(field->name);
          if (existing != nullptr && existing->is_object() && v->is_object()) {
            for (json::Member& m : v->as_object()) {
              existing->as_object().set(m.key, std::move(m.value));
            }
          } else {
            out.set(field->name, std::move(*v));
          }
        }
      }
    }
    if (!ok) {
      return false;
    }
    ctx.path.pop_back();
  }
  // Repeated and map fields that ended up empty (only possible with empty packed runs) are left
  // out, like Go's omitempty.
  for (auto it = out.begin(); it != out.end();) {
    if ((it->value.is_array() || it->value.is_object()) && it->value.empty()) {
      const Field* f = node.field(it->key);
      if (f != nullptr && (f->node->kind == Kind::kArray || f->node->kind == Kind::kMap)) {
        it = out.erase(it);
        continue;
      }
    }
    ++it;
  }
  return true;
}

// --- envelope -----------------------------------------------------------------------------------

bool parse_envelope(Context& ctx, std::string_view body, ProtobufEnvelope& env) {
  if (body.size() < kProtobufMagic.size() || body.substr(0, 4) != kProtobufMagic) {
    return ctx.fail("protobuf: body does not start with the Kubernetes magic \"k8s\\x00\"");
  }
  Reader r(body.substr(4));
  while (!r.done()) {
    std::int32_t number = 0;
    int wire = 0;
    if (!r.tag(ctx, number, wire)) {
      return false;
    }
    if (number >= 1 && number <= 4) {
      std::string_view b;
      if (!expect_wire(ctx, wire, kLengthDelimited, "envelope") || !r.bytes(ctx, b)) {
        return false;
      }
      if (number == 1) {
        Reader tm(b);
        while (!tm.done()) {
          std::int32_t n = 0;
          int w = 0;
          if (!tm.tag(ctx, n, w)) {
            return false;
          }
          if (n == 1 || n == 2) {
            std::string_view s;
            if (!expect_wire(ctx, w, kLengthDelimited, "typeMeta") || !tm.bytes(ctx, s)) {
              return false;
            }
            (n == 1 ? env.api_version : env.kind) = std::string(s);
          } else if (!tm.skip(ctx, w)) {
            return false;
          }
        }
      } else if (number == 2) {
        env.raw = b;
      } else if (number == 3) {
        env.content_encoding = std::string(b);
      } else {
        env.content_type = std::string(b);
      }
    } else if (!r.skip(ctx, wire)) {
      return false;
    }
  }
  if (env.kind.empty()) {
    return ctx.fail("protobuf: envelope names no kind");
  }
  return true;
}

bool decode_body(Context& ctx, std::string_view body, const Schema& schema, std::size_t depth,
                 DecodedObject& out) {
  ProtobufEnvelope env;
  if (!parse_envelope(ctx, body, env)) {
    return false;
  }
  if (!env.content_encoding.empty()) {
    return ctx.fail(
        fmt::format("protobuf: unsupported contentEncoding \"{}\"", env.content_encoding));
  }
  if (!env.content_type.empty() && env.content_type != kProtobufContentType) {
    return ctx.fail(fmt::format("protobuf: unsupported contentType \"{}\"", env.content_type));
  }
  GroupVersionKind gvk = parse_api_version(env.api_version, env.kind);
  const Node* node = schema.find_kind(gvk);
  if (node == nullptr && gvk.group.empty() && gvk.version == "v1") {
    // Unversioned meta types (DeleteOptions from drain, Status) also live in meta.k8s.io/v1.
    node = schema.find_kind({"meta.k8s.io", "v1", gvk.kind});
  }
  if (node == nullptr || node->kind != Kind::kObject) {
    return ctx.fail(
        fmt::format("no kind \"{}\" is registered for version \"{}\"", env.kind, env.api_version));
  }
  json::Object obj;
  obj.set("apiVersion", env.api_version);
  obj.set("kind", env.kind);
  if (!decode_message(ctx, env.raw, *node, depth + 1, obj)) {
    return false;
  }
  // The envelope is authoritative for the type, whatever the body said.
  obj.set("apiVersion", env.api_version);
  obj.set("kind", env.kind);
  out.gvk = std::move(gvk);
  out.object = json::Value(std::move(obj));
  return true;
}

bool decode_embedded_body(Context& ctx, std::string_view raw, std::size_t depth, json::Value& out) {
  if (raw.substr(0, std::min<std::size_t>(raw.size(), 4)) == kProtobufMagic) {
    DecodedObject nested;
    if (!decode_body(ctx, raw, Schema::builtin(), depth + 1, nested)) {
      return false;
    }
    out = std::move(nested.object);
    return true;
  }
  json::ParseOptions po;
  po.max_depth = ctx.options.max_depth;
  auto parsed = json::parse(raw, po);
  if (!parsed) {
    return ctx.fail("protobuf: embedded JSON does not parse: " + parsed.error().message);
  }
  out = std::move(*parsed);
  return true;
}

}  // namespace

Result<ProtobufEnvelope> parse_protobuf_envelope(std::string_view body) {
  ProtobufOptions options;
  Context ctx{options, {}, {}};
  ProtobufEnvelope env;
  if (!parse_envelope(ctx, body, env)) {
    return errors::bad_request(ctx.error);
  }
  return env;
}

Result<DecodedObject> decode_protobuf_body(std::string_view body, const Schema& schema,
                                           const ProtobufOptions& options) {
  Context ctx{options, {}, {}};
  DecodedObject out;
  if (!decode_body(ctx, body, schema, 0, out)) {
    return errors::bad_request(ctx.error);
  }
  return out;
}

Result<json::Value> decode_protobuf(std::string_view body, const Schema& schema,
                                    const ProtobufOptions& options) {
  auto decoded = decode_protobuf_body(body, schema, options);
  if (!decoded) {
    return decoded.error();
  }
  return std::move(decoded->object);
}

Result<json::Value> decode_protobuf_message(std::string_view message, const Node& node,
                                            const ProtobufOptions& options) {
  Context ctx{options, {}, {}};
  Decoded out;
  if (!decode_message_value(ctx, message, node, 0, out)) {
    return errors::bad_request(ctx.error);
  }
  return out ? std::move(*out) : json::Value();
}

}  // namespace skiff::registry
