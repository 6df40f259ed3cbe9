// SPDX-License-Identifier: Apache-2.0
#pragma once

// Response compression (zlib): whether a request accepts gzip, and the compression itself.

#include <memory>
#include <string>
#include <string_view>

namespace skiff::apiserver::http {

/// True if an Accept-Encoding value allows gzip: "gzip" or "x-gzip" with q > 0, or "*" with q > 0
/// when gzip is not listed itself. Tokens are case-insensitive.
bool accepts_gzip(std::string_view accept_encoding);

/// The gzip member (RFC 1952) of `data`. Level 1, as Kubernetes uses: cheap on CPU, most of the
/// gain on JSON.
std::string gzip_compress(std::string_view data);

/// One gzip member written in pieces (a compressed chunked stream), level 1 as gzip_compress().
/// Not thread-safe; movable.
class GzipWriter {
public:
  GzipWriter();
  ~GzipWriter();
  GzipWriter(GzipWriter&&) noexcept;
  GzipWriter& operator=(GzipWriter&&) noexcept;

  /// Compresses `data` and appends what zlib emits now to `out`: often nothing, since zlib holds
  /// input until it has a block's worth.
  void write(std::string_view data, std::string& out);
  /// Appends the held remainder and the gzip trailer to `out`. The writer is then spent.
  void finish(std::string& out);

private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace skiff::apiserver::http
