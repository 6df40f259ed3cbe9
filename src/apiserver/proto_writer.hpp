// SPDX-License-Identifier: Apache-2.0
#pragma once

// proto_writer (private to src/apiserver): a Protocol Buffers wire-format encoder for messages
// whose schema the caller knows (field numbers and types are the caller's business; no descriptors,
// no libprotobuf). It exists for `/openapi/v2`, whose protobuf form (gnostic's openapi.v2.Document)
// is what kubectl 1.27/1.28 read.
//
// Encoding facts it implements: every field is a key varint `(number << 3) | wire_type` followed by
// the value; wire type 0 = varint (int64 as two's complement in 10 bytes when negative, bool as
// 0/1), 1 = 64-bit little-endian (double), 2 = length-delimited (strings, bytes, embedded
// messages). Proto3 leaves default values out; that is the caller's choice (`*_field` writers write
// what they are given, the `*_if_set` helpers skip defaults). Lengths are minimal varints: an
// embedded message reserves one length byte and, once its size is known, widens that slot by moving
// its body.
//
// Threads: a ProtoWriter is a plain value, used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace skiff::apiserver {

class ProtoWriter {
public:
  /// Where an open embedded message started; pass it back to end_message().
  struct Mark {
    std::size_t length_at = 0;
  };

  ProtoWriter() = default;

  /// Wire type 0 fields.
  void varint_field(std::uint32_t number, std::uint64_t value);
  void int64_field(std::uint32_t number, std::int64_t value);
  void bool_field(std::uint32_t number, bool value);
  /// Wire type 1: a double, little-endian IEEE 754.
  void double_field(std::uint32_t number, double value);
  /// Wire type 2: a string or bytes field.
  void bytes_field(std::uint32_t number, std::string_view value);

  /// Proto3 presence rules: skip the field when it holds the default value.
  void string_if_set(std::uint32_t number, std::string_view value) {
    if (!value.empty()) {
      bytes_field(number, value);
    }
  }
  void bool_if_set(std::uint32_t number, bool value) {
    if (value) {
      bool_field(number, true);
    }
  }

  /// Opens an embedded message in field `number`; everything written until the matching
  /// end_message() is its body. Messages nest; close them innermost first.
  [[nodiscard]] Mark begin_message(std::uint32_t number);
  void end_message(Mark mark);

  /// The bytes written so far (complete once every message is closed).
  const std::string& data() const noexcept { return out_; }
  std::size_t size() const noexcept { return out_.size(); }
  /// Hands the buffer over; the writer is empty afterwards.
  std::string take() noexcept;
  void reserve(std::size_t n) { out_.reserve(n); }

  /// Appends `value` as a varint to `out` (exposed for tests and for callers building keys).
  static void append_varint(std::string& out, std::uint64_t value);
  /// How many bytes append_varint writes for `value` (1..10).
  static std::size_t varint_size(std::uint64_t value) noexcept;

private:
  void key(std::uint32_t number, std::uint32_t wire_type);

  std::string out_;
  int open_ = 0;  // messages begun and not yet ended (debug check)
};

/// Wire type numbers, for readers of the encoded bytes (tests).
inline constexpr std::uint32_t kWireVarint = 0;
inline constexpr std::uint32_t kWireFixed64 = 1;
inline constexpr std::uint32_t kWireLengthDelimited = 2;
inline constexpr std::uint32_t kWireFixed32 = 5;

}  // namespace skiff::apiserver
