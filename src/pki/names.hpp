// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to src/pki: subjectAltName values. An IP is kept as its network-order bytes (4 or 16) and
// compared in canonical text; a DNS name is checked for the characters certificates may carry.

#include <optional>
#include <string>
#include <string_view>

namespace skiff::pki::detail {

/// The 4 or 16 network-order bytes of a textual IPv4/IPv6 address, or nullopt.
std::optional<std::string> parse_ip(std::string_view text);
/// The canonical text of 4 or 16 address bytes ("127.0.0.1", "::1"); empty for another length.
std::string format_ip(std::string_view bytes);
/// Letters, digits, '-', '_' in dot-separated non-empty labels of at most 63 characters, an
/// optional leading "*." wildcard, 253 characters at most.
bool valid_dns_name(std::string_view name);
/// ASCII lower-case copy.
std::string lower(std::string_view text);

}  // namespace skiff::pki::detail
