// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/base64.hpp"

#include <array>
#include <cstdint>

namespace skiff::base64 {
namespace {

constexpr std::string_view kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode_with(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (static_cast<std::uint8_t>(data[i]) << 16) |
                      (static_cast<std::uint8_t>(data[i + 1]) << 8) |
                      static_cast<std::uint8_t>(data[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16;
    if (rest == 2) {
      v |= static_cast<std::uint8_t>(data[i + 1]) << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) {
      out += alphabet[(v >> 6) & 63];
    }
    if (pad) {
      out.append(rest == 1 ? 2 : 1, '=');
    }
  }
  return out;
}

std::optional<std::string> decode_with(std::string_view text, std::string_view alphabet,
                                       bool pad_required) {
  std::array<int, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  std::size_t len = text.size();
  std::size_t pads = 0;
  while (len > 0 && text[len - 1] == '=') {
    --len;
    ++pads;
  }
  if (pads > 2) {
    return std::nullopt;
  }
  if (pad_required ? (text.size() % 4 != 0) : (pads > 0 && text.size() % 4 != 0)) {
    return std::nullopt;
  }
  if (len % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(len * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    int v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (canonical encoding, as Go's strict decoders require).
  if (bits > 0 && (acc & ((1U << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string encode(std::string_view data) { return encode_with(data, kStd, true); }
std::optional<std::string> decode(std::string_view text) { return decode_with(text, kStd, true); }
std::string encode_url(std::string_view data) { return encode_with(data, kUrl, false); }
std::optional<std::string> decode_url(std::string_view text) {
  return decode_with(text, kUrl, false);
}

}  // namespace skiff::base64
