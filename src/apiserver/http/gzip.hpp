// SPDX-License-Identifier: Apache-2.0
#pragma once

// Response compression (zlib): whether a request accepts gzip, and the compression itself.

#include <string>
#include <string_view>

namespace skiff::apiserver::http {

/// True if an Accept-Encoding value allows gzip: "gzip" or "x-gzip" with q > 0, or "*" with q > 0
/// when gzip is not listed itself. Tokens are case-insensitive.
bool accepts_gzip(std::string_view accept_encoding);

/// The gzip member (RFC 1952) of `data`. Level 1, as Kubernetes uses: cheap on CPU, most of the
/// gain on JSON.
std::string gzip_compress(std::string_view data);

}  // namespace skiff::apiserver::http
