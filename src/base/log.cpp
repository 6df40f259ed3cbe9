// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace skiff::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_level(Level level) noexcept { g_level.store(static_cast<int>(level)); }
Level level() noexcept { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool parse_level(std::string_view text, Level& out) noexcept {
  if (text == "debug") {
    out = Level::kDebug;
  } else if (text == "info") {
    out = Level::kInfo;
  } else if (text == "warn" || text == "warning") {
    out = Level::kWarn;
  } else if (text == "error") {
    out = Level::kError;
  } else {
    return false;
  }
  return true;
}

void write(Level lvl, std::string_view component, std::string_view message) noexcept {
  if (static_cast<int>(lvl) < g_level.load(std::memory_order_relaxed)) {
    return;
  }
  try {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
              1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    std::string line = fmt::format("{}.{:03d}Z {} {}: {}\n", stamp, static_cast<int>(ms),
                                   level_name(lvl), component, message);
    // One write(2): lines from several threads never interleave.
    std::ignore = ::write(STDERR_FILENO, line.data(), line.size());
  } catch (...) {
    // Logging must never throw.
  }
}

}  // namespace skiff::log
