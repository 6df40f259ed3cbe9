// SPDX-License-Identifier: Apache-2.0
#pragma once

// Process-wide logging to stderr, one line per record: `<RFC3339 time> <LEVEL> <component>: <message>`.
// Thread-safe; a record is written with one write(2) call so lines never interleave.

#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace skiff::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Sets the minimum level written (default kInfo). Any thread.
void set_level(Level level) noexcept;
Level level() noexcept;

/// Parses "debug" | "info" | "warn" | "error"; false on anything else.
bool parse_level(std::string_view text, Level& out) noexcept;

/// Writes one record if `level` passes the filter. Any thread.
void write(Level level, std::string_view component, std::string_view message) noexcept;

template <class... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) {
    write(Level::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) {
    write(Level::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) {
    write(Level::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace skiff::log
