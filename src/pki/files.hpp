// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to src/pki: the small file-system layer pki needs. Errors are kUnavailable naming the
// path (permissions, full disk, a directory where a file should be), so a start-up failure says
// which file.

#include <optional>
#include <string>
#include <string_view>

#include "skiff/base/error.hpp"

#include <sys/types.h>

namespace skiff::pki::detail {

/// Files larger than this are not credentials: reading one is an error rather than a large
/// allocation.
inline constexpr std::size_t kMaxCredentialFileSize = 1U << 20U;

/// The contents of `path`, or nullopt when it does not exist. Errors: kUnavailable (unreadable, not
/// a regular file), kInvalid (larger than kMaxCredentialFileSize).
Result<std::optional<std::string>> read_file_if_exists(const std::string& path);

/// Creates `path` and any missing parents, each new directory with exactly `mode` (umask ignored).
/// Existing directories keep their mode. Errors: kUnavailable.
Result<void> make_directories(const std::string& path, mode_t mode);

/// Replaces `path` atomically with `data`, permission bits exactly `mode`: writes a temporary file
/// in the same directory, fsyncs it, renames it over `path`, fsyncs the directory. On failure the
/// temporary file is removed and `path` is unchanged. Errors: kUnavailable.
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

}  // namespace skiff::pki::detail
