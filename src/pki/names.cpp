// SPDX-License-Identifier: Apache-2.0
#include "names.hpp"

#include <array>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace skiff::pki::detail {

std::optional<std::string> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  std::string z(text);  // inet_pton needs a terminated string
  in_addr v4{};
  if (::inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    return std::string(reinterpret_cast<const char*>(&v4), sizeof(v4));
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, z.c_str(), &v6) == 1) {
    return std::string(reinterpret_cast<const char*>(&v6), sizeof(v6));
  }
  return std::nullopt;
}

std::string format_ip(std::string_view bytes) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  int family = bytes.size() == 4 ? AF_INET : bytes.size() == 16 ? AF_INET6 : AF_UNSPEC;
  if (family == AF_UNSPEC || ::inet_ntop(family, bytes.data(), buf.data(),
                                         static_cast<socklen_t>(buf.size())) == nullptr) {
    return {};
  }
  return buf.data();
}

bool valid_dns_name(std::string_view name) {
  if (name.starts_with("*.")) {
    name.remove_prefix(2);
  }
  if (name.empty() || name.size() > 253) {
    return false;
  }
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok || ++label > 63) {
      return false;
    }
  }
  return label != 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace skiff::pki::detail
