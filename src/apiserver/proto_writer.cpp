// SPDX-License-Identifier: Apache-2.0
#include "proto_writer.hpp"

#include <cassert>
#include <cstring>
#include <utility>

namespace skiff::apiserver {

void ProtoWriter::append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

std::size_t ProtoWriter::varint_size(std::uint64_t value) noexcept {
  std::size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

void ProtoWriter::key(std::uint32_t number, std::uint32_t wire_type) {
  append_varint(out_, (static_cast<std::uint64_t>(number) << 3) | wire_type);
}

void ProtoWriter::varint_field(std::uint32_t number, std::uint64_t value) {
  key(number, kWireVarint);
  append_varint(out_, value);
}

void ProtoWriter::int64_field(std::uint32_t number, std::int64_t value) {
  // Negative int64 values are their 64-bit two's complement (10 bytes), not zig-zag (that is
  // sint64).
  varint_field(number, static_cast<std::uint64_t>(value));
}

void ProtoWriter::bool_field(std::uint32_t number, bool value) {
  varint_field(number, value ? 1 : 0);
}

void ProtoWriter::double_field(std::uint32_t number, double value) {
  key(number, kWireFixed64);
  std::uint64_t bits = 0;
  static_assert(sizeof bits == sizeof value);
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 8; ++i) {
    out_.push_back(static_cast<char>(bits & 0xFF));
    bits >>= 8;
  }
}

void ProtoWriter::bytes_field(std::uint32_t number, std::string_view value) {
  key(number, kWireLengthDelimited);
  append_varint(out_, value.size());
  out_.append(value);
}

ProtoWriter::Mark ProtoWriter::begin_message(std::uint32_t number) {
  key(number, kWireLengthDelimited);
  Mark m{out_.size()};
  // One byte covers bodies up to 127 bytes, the common case; end_message widens it otherwise.
  out_.push_back('\0');
  ++open_;
  return m;
}

void ProtoWriter::end_message(Mark mark) {
  assert(open_ > 0 && mark.length_at < out_.size());
  --open_;
  std::size_t body_at = mark.length_at + 1;
  std::size_t length = out_.size() - body_at;
  std::size_t width = varint_size(length);
  if (width > 1) {
    out_.insert(body_at, width - 1, '\0');
  }
  std::uint64_t v = length;
  for (std::size_t i = 0; i < width; ++i) {
    auto byte = static_cast<unsigned char>(v & 0x7F);
    v >>= 7;
    if (i + 1 < width) {
      byte |= 0x80;
    }
    out_[mark.length_at + i] = static_cast<char>(byte);
  }
}

std::string ProtoWriter::take() noexcept {
  assert(open_ == 0);
  open_ = 0;
  return std::exchange(out_, std::string());
}

}  // namespace skiff::apiserver
