// SPDX-License-Identifier: Apache-2.0
#include "skiff/kv/types.hpp"

namespace skiff::kv {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Only 0xFF bytes (or nothing): every key from `prefix` on.
  return std::string(1, '\0');
}

}  // namespace skiff::kv
