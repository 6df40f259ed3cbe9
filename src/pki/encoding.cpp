// SPDX-License-Identifier: Apache-2.0
#include "encoding.hpp"

#include <array>
#include <cstdint>

#include "skiff/pki/jwt.hpp"

namespace skiff::pki {

namespace {

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Character -> 6-bit value, -1 for characters outside the base64url alphabet.
constexpr std::array<std::int8_t, 256> kUrlTable = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < kUrlAlphabet.size(); ++i) {
    t[static_cast<std::uint8_t>(kUrlAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}();

std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (static_cast<std::uint8_t>(data[i]) << 16U) |
                      (static_cast<std::uint8_t>(data[i + 1]) << 8U) |
                      static_cast<std::uint8_t>(data[i + 2]);
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    out += alphabet[(v >> 6U) & 63U];
    out += alphabet[v & 63U];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16U;
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    if (pad) {
      out += "==";
    }
  } else if (rest == 2) {
    std::uint32_t v = (static_cast<std::uint8_t>(data[i]) << 16U) |
                      (static_cast<std::uint8_t>(data[i + 1]) << 8U);
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    out += alphabet[(v >> 6U) & 63U];
    if (pad) {
      out += '=';
    }
  }
  return out;
}

}  // namespace

namespace detail {

std::string base64_encode(std::string_view data) {
  return encode(data, kStdAlphabet, true);
}

std::string hex_upper(std::string_view data) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    auto b = static_cast<std::uint8_t>(c);
    out += kDigits[b >> 4U];
    out += kDigits[b & 15U];
  }
  return out;
}

}  // namespace detail

std::string base64url_encode(std::string_view data) {
  return encode(data, kUrlAlphabet, false);
}

Result<std::string> base64url_decode(std::string_view text) {
  // A length of 1 mod 4 cannot come from any byte string.
  if (text.size() % 4 == 1) {
    return errors::bad_request("invalid base64url: bad length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    std::int8_t v = kUrlTable[static_cast<std::uint8_t>(c)];
    if (v < 0) {
      return errors::bad_request("invalid base64url: unexpected character");
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  return out;
}

}  // namespace skiff::pki
