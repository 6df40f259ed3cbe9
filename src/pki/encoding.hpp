// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to src/pki: text encodings of binary data (base64 for kubeconfig data fields, hex for
// certificate serials and key identifiers). base64url lives in the public jwt.hpp.

#include <string>
#include <string_view>

namespace skiff::pki::detail {

/// Standard base64 (RFC 4648 §4) with padding, on one line.
std::string base64_encode(std::string_view data);
/// Upper-case hex, no separators.
std::string hex_upper(std::string_view data);

}  // namespace skiff::pki::detail
