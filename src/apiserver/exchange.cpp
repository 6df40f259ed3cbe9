// SPDX-License-Identifier: Apache-2.0
#include "exchange.hpp"

#include <strings.h>

namespace skiff::apiserver {

std::string_view ApiRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return v;
    }
  }
  return {};
}

std::optional<std::string_view> ApiRequest::param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::vector<std::string> ApiRequest::params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) {
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace skiff::apiserver
