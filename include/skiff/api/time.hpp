// SPDX-License-Identifier: Apache-2.0
#pragma once

// time: the time formats of the Kubernetes API and of kubectl's tables.
//
// - metav1.Time is RFC 3339 with whole seconds ("2024-05-01T12:00:00Z"); metav1.MicroTime has
//   exactly six fractional digits ("2024-05-01T12:00:00.123456Z"). Output is always UTC with "Z";
//   input may carry any "+hh:mm"/"-hh:mm" offset, and is parsed with Go's time.Parse rules for
//   those layouts (so its error texts match what the API server returns for a malformed timestamp).
// - Go durations ("1h2m3.5s", "300ms") as time.Duration prints and parses them.
// - HumanDuration / ShortHumanDuration: the "AGE" column of `kubectl get` ("5m10s", "3h", "2d3h").
//
// Nothing here reads a clock: callers pass the instant ("now") explicitly, so tests are exact.
// All functions are pure and thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "skiff/base/error.hpp"

namespace skiff::api {

/// An instant, microsecond resolution (the finest the API stores), UTC. The range covers every
/// RFC 3339 year (0000-9999), including Go's zero time 0001-01-01T00:00:00Z that some clients send.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// A Go time.Duration: signed nanoseconds.
using GoDuration = std::chrono::nanoseconds;

/// `t` truncated to microseconds (system_clock::now() is finer on Linux).
inline Timestamp to_timestamp(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::microseconds>(t);
}

/// metav1.Time text: "2006-01-02T15:04:05Z" in UTC; the fraction is dropped (truncated, as Go's
/// Format does).
std::string format_rfc3339(Timestamp t);
/// metav1.MicroTime text: "2006-01-02T15:04:05.000000Z" in UTC.
std::string format_rfc3339_micro(Timestamp t);
/// Go's time.Time.String() of a UTC instant: "2006-01-02 15:04:05[.fraction] +0000 UTC" (the form
/// upstream uses when it prints a metav1.Time inside a validation message).
std::string format_go_time_string(Timestamp t);

/// Parses metav1.Time text (Go's time.Parse with layout RFC3339): "YYYY-MM-DDTHH:MM:SS", an
/// optional fraction of any length ('.' or ','; kept to microseconds), then "Z" or "±hh:mm". Errors
/// are kBadRequest with Go's message, e.g. `parsing time "2024-13-01T00:00:00Z": month out of
/// range` or `parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`.
Result<Timestamp> parse_rfc3339(std::string_view text);
/// Parses metav1.MicroTime text (layout "2006-01-02T15:04:05.000000Z07:00"): exactly six
/// fractional digits. Errors as parse_rfc3339, naming that layout.
Result<Timestamp> parse_rfc3339_micro(std::string_view text);

/// Go's Duration.String(): "0s", "1.5µs", "300ms", "1m0s", "1h2m3.5s", "-2s".
std::string format_duration(GoDuration d);
/// Go's time.ParseDuration: a sign, then one or more decimal numbers with a unit among ns, us, µs,
/// μs, ms, s, m, h ("1h30m", "-1.5h", "300ms"; "0" alone is zero). Errors are kBadRequest with Go's
/// texts: `time: invalid duration "x"`, `time: missing unit in duration "1"`,
/// `time: unknown unit "d" in duration "1d"`.
Result<GoDuration> parse_duration(std::string_view text);

/// duration.HumanDuration, the AGE column: below -1s "<invalid>", below 0 "0s", then "59s",
/// "119s", "2m", "9m59s", "10m", "179m", "3h", "7h59m", "8h", "47h", "2d", "7d23h", "8d", "729d",
/// "2y", "7y364d", "8y", ...
std::string human_duration(GoDuration d);
/// duration.ShortHumanDuration: one unit only ("59s", "1m", "23h", "364d", "2y").
std::string short_human_duration(GoDuration d);
/// Go's zero time, 0001-01-01T00:00:00Z: what an unset metav1.Time holds (IsZero()).
inline constexpr Timestamp kGoZeroTime =
    std::chrono::sys_days(std::chrono::year(1) / std::chrono::January / std::chrono::day(1));

/// What server-side Table cells show for a timestamp column: "<unknown>" when there is no
/// timestamp (or it is Go's zero time), else human_duration(now - t), the difference saturated
/// to time.Duration's range as Go's Time.Sub does.
std::string translate_timestamp_since(std::optional<Timestamp> t, Timestamp now);

}  // namespace skiff::api
