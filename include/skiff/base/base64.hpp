// SPDX-License-Identifier: Apache-2.0
#pragma once

// base64: RFC 4648 encodings, standard (padded) and URL-safe (unpadded), as Kubernetes uses them
// (Secret data, continue tokens, JWTs).

#include <optional>
#include <string>
#include <string_view>

namespace skiff::base64 {

std::string encode(std::string_view data);
/// Standard alphabet; padding required as Go's StdEncoding does. nullopt when malformed.
std::optional<std::string> decode(std::string_view text);
std::string encode_url(std::string_view data);
/// URL-safe alphabet, padding optional. nullopt when malformed.
std::optional<std::string> decode_url(std::string_view text);

}  // namespace skiff::base64
