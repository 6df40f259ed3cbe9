// SPDX-License-Identifier: Apache-2.0
#pragma once

// Small helpers shared by Skiff's benchmark programs (bench/*.cpp): an ordered JSON value for the
// one result document each program prints, latency summaries, process/disk probes read from /proc
// and the file system, and a minimal "--flag value" parser. Header-only: the benchmarks are
// separate executables and share nothing else. Not thread-safe unless a function says so.

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace skiff::bench {

using Clock = std::chrono::steady_clock;

/// Milliseconds between two steady-clock points, as a double.
inline double elapsed_ms(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// A JSON value that keeps object keys in insertion order, so result files read in phase order.
class Json {
 public:
  using Object = std::vector<std::pair<std::string, Json>>;
  using Array = std::vector<Json>;

  // Implicit on purpose: figures convert to Json wherever a Json is expected.
  Json() = default;
  Json(bool v) : value_(v) {}                                           // NOLINT
  Json(int v) : value_(static_cast<std::int64_t>(v)) {}                 // NOLINT
  Json(long v) : value_(static_cast<std::int64_t>(v)) {}                // NOLINT
  Json(long long v) : value_(static_cast<std::int64_t>(v)) {}           // NOLINT
  Json(unsigned long v) : value_(static_cast<std::int64_t>(v)) {}       // NOLINT
  Json(unsigned long long v) : value_(static_cast<std::int64_t>(v)) {}  // NOLINT
  Json(double v) : value_(v) {}                                         // NOLINT
  Json(std::string v) : value_(std::move(v)) {}                         // NOLINT
  Json(const char* v) : value_(std::string(v)) {}                       // NOLINT

  static Json object() {
    Json j;
    j.value_ = Object{};
    return j;
  }
  static Json array() {
    Json j;
    j.value_ = Array{};
    return j;
  }

  /// Sets (or replaces) `key` of an object; returns *this for chaining.
  Json& set(const std::string& key, Json v) {
    auto& obj = std::get<Object>(value_);
    for (auto& [k, old] : obj) {
      if (k == key) {
        old = std::move(v);
        return *this;
      }
    }
    obj.emplace_back(key, std::move(v));
    return *this;
  }
  /// Appends to an array.
  Json& push(Json v) {
    std::get<Array>(value_).push_back(std::move(v));
    return *this;
  }

  std::string dump(int indent = 2) const {
    std::string out;
    write(out, indent, 0);
    return out;
  }

 private:
  static void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  }

  void write(std::string& out, int indent, int depth) const {
    const std::string pad(static_cast<std::size_t>(indent * (depth + 1)), ' ');
    const std::string close_pad(static_cast<std::size_t>(indent * depth), ' ');
    const char* nl = indent > 0 ? "\n" : "";
    if (std::holds_alternative<std::monostate>(value_)) {
      out += "null";
    } else if (const auto* b = std::get_if<bool>(&value_)) {
      out += *b ? "true" : "false";
    } else if (const auto* i = std::get_if<std::int64_t>(&value_)) {
      out += std::to_string(*i);
    } else if (const auto* d = std::get_if<double>(&value_)) {
      if (!std::isfinite(*d)) {
        out += "null";
      } else {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4f", *d);
        // Trim trailing zeros ("12.5000" -> "12.5", "3.0000" -> "3").
        std::string s = buf;
        if (s.find('.') != std::string::npos) {
          while (!s.empty() && s.back() == '0')
            s.pop_back();
          if (!s.empty() && s.back() == '.')
            s.pop_back();
        }
        out += s;
      }
    } else if (const auto* s = std::get_if<std::string>(&value_)) {
      write_string(out, *s);
    } else if (const auto* a = std::get_if<Array>(&value_)) {
      if (a->empty()) {
        out += "[]";
        return;
      }
      out += '[';
      out += nl;
      for (std::size_t n = 0; n < a->size(); ++n) {
        out += pad;
        (*a)[n].write(out, indent, depth + 1);
        out += n + 1 < a->size() ? "," : "";
        out += nl;
      }
      out += close_pad + "]";
    } else if (const auto* o = std::get_if<Object>(&value_)) {
      if (o->empty()) {
        out += "{}";
        return;
      }
      out += '{';
      out += nl;
      for (std::size_t n = 0; n < o->size(); ++n) {
        out += pad;
        write_string(out, (*o)[n].first);
        out += indent > 0 ? ": " : ":";
        (*o)[n].second.write(out, indent, depth + 1);
        out += n + 1 < o->size() ? "," : "";
        out += nl;
      }
      out += close_pad + "}";
    }
  }

  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> value_;
};

/// The p-th percentile (0..100) of `sorted` by nearest rank; 0 when empty.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

/// {n, [ops_per_s, wall_s], p50_ms, p90_ms, p99_ms, max_ms, mean_ms} of latencies in milliseconds.
/// `wall_s` <= 0 leaves out the throughput.
inline Json summarize(std::vector<double> latencies_ms, double wall_s = 0) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  Json j = Json::object();
  j.set("n", latencies_ms.size());
  if (wall_s > 0) {
    j.set("wall_s", wall_s);
    j.set("ops_per_s", static_cast<double>(latencies_ms.size()) / wall_s);
  }
  const double sum = std::accumulate(latencies_ms.begin(), latencies_ms.end(), 0.0);
  j.set("p50_ms", percentile(latencies_ms, 50));
  j.set("p90_ms", percentile(latencies_ms, 90));
  j.set("p99_ms", percentile(latencies_ms, 99));
  j.set("max_ms", latencies_ms.empty() ? 0.0 : latencies_ms.back());
  j.set("mean_ms", latencies_ms.empty() ? 0.0 : sum / static_cast<double>(latencies_ms.size()));
  return j;
}

/// A "Vm...:" field of /proc/<pid>/status in KiB (VmRSS, VmHWM); nullopt if unreadable.
inline std::optional<std::int64_t> proc_status_kib(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      std::istringstream rest(line.substr(field.size() + 1));
      std::int64_t kib = 0;
      if (rest >> kib) {
        return kib;
      }
    }
  }
  return std::nullopt;
}

/// User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15); nullopt
/// if gone.
inline std::optional<double> proc_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (pid <= 0 || !std::getline(in, stat)) {
    return std::nullopt;
  }
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && rest >> field; ++n) {
    if (n == 14 || n == 15) {
      ticks += std::stod(field);
    }
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// CPU seconds (user + system) this process has used so far.
inline double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

/// {rss_kib, hwm_kib, cpu_s} of a process, or null members when `pid` <= 0 or gone.
inline Json rss_sample(int pid) {
  Json j = Json::object();
  if (pid <= 0) {
    return j;
  }
  auto rss = proc_status_kib(pid, "VmRSS");
  auto hwm = proc_status_kib(pid, "VmHWM");
  auto cpu = proc_cpu_seconds(pid);
  j.set("rss_kib", rss ? Json(*rss) : Json());
  j.set("hwm_kib", hwm ? Json(*hwm) : Json());
  j.set("cpu_s", cpu ? Json(*cpu) : Json());
  return j;
}

/// Bytes under `dir`: apparent (file sizes) and allocated (st_blocks * 512), like `du -b` / `du
/// -B1`.
struct DiskUsage {
  std::int64_t apparent = 0;
  std::int64_t allocated = 0;
};

inline DiskUsage disk_usage(const std::string& dir) {
  DiskUsage usage;
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(dir, ec)) {
    return usage;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      usage.apparent += st.st_size;
      usage.allocated += static_cast<std::int64_t>(st.st_blocks) * 512;
    }
  }
  return usage;
}

inline Json disk_sample(const std::string& dir) {
  Json j = Json::object();
  if (dir.empty()) {
    return j;
  }
  const DiskUsage u = disk_usage(dir);
  j.set("apparent_bytes", u.apparent);
  j.set("allocated_bytes", u.allocated);
  return j;
}

/// "--name value" / "--name=value" / "--flag" arguments. Unknown flags are an error (the caller
/// lists the known ones), so a typo never silently runs the default.
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        throw std::invalid_argument("unexpected argument: " + a);
      }
      if (auto eq = a.find('='); eq != std::string::npos) {
        values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
        values_[a.substr(2)] = argv[++i];
      } else {
        values_[a.substr(2)] = "";
      }
    }
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }

  std::string str(const std::string& name, std::string fallback) {
    used_.push_back(name);
    auto it = values_.find(name);
    return it == values_.end() ? std::move(fallback) : it->second;
  }
  std::int64_t num(const std::string& name, std::int64_t fallback) {
    used_.push_back(name);
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stoll(it->second);
  }
  bool flag(const std::string& name) {
    used_.push_back(name);
    auto it = values_.find(name);
    return it != values_.end() && it->second != "false" && it->second != "0";
  }

  /// Throws if an argument was given that no str/num/flag call asked for.
  void reject_unknown() const {
    for (const auto& [k, v] : values_) {
      if (std::find(used_.begin(), used_.end(), k) == used_.end()) {
        throw std::invalid_argument("unknown flag --" + k);
      }
    }
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
};

/// Comma-separated list -> items (empty items dropped).
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

/// etcd's range end for a prefix: the last byte incremented, trailing 0xFF bytes dropped; "\0" if
/// none left.
inline std::string prefix_range_end(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last < 0xFF) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

/// key = prefix + zero-padded index (8 digits), as in "/bench/seq/00000042".
inline std::string indexed_key(std::string_view prefix, std::size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08zu", index);
  return std::string(prefix) + buf;
}

}  // namespace skiff::bench
