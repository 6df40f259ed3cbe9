// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to the registry module: UTF-8 decoding as Go reads strings (CEL's code points, the RE2
// matcher's input): an invalid byte, an overlong form or a surrogate reads as one U+FFFD.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace skiff::registry::detail {

// Decodes the code point at s[i] and advances i; an invalid byte reads as one U+FFFD.
inline std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80             ? 1
                    : (c & 0xe0) == 0xc0 ? 2
                    : (c & 0xf0) == 0xe0 ? 3
                    : (c & 0xf8) == 0xf0 ? 4
                                         : 0;
  if (len == 1) {
    ++i;
    return c;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xfffd;
  }
  std::uint32_t cp = c & (0x7fU >> len);
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr std::array<std::uint32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++i;
    return 0xfffd;
  }
  i += len;
  return cp;
}

/// All code points of `s`.
inline std::vector<std::uint32_t> decode(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    out.push_back(next_code_point(s, i));
  }
  return out;
}

}  // namespace skiff::registry::detail
