// SPDX-License-Identifier: Apache-2.0
#pragma once

// quantity: resource.Quantity, the fixed-point numbers of `resources.requests`, node capacity,
// quotas and volume sizes ("500m", "1.5Gi", "2", "1e3").
//
// Parsing accepts upstream's grammar: a signed decimal number, then a binary suffix (Ki Mi Gi Ti Pi
// Ei), a decimal suffix (n u m "" k M G T P E) or an exponent (e3, E-2). The value is exact; like
// upstream it is rounded up (away from zero) to the nearest nano (0.1n -> 1n), and binary-suffixed
// values are capped at 2^63-1. The quantity remembers its format family (DecimalSI, BinarySI,
// DecimalExponent) and prints itself in upstream's canonical form for it: the largest suffix that
// needs no fraction ("1000m" -> "1", "1024Mi" -> "1Gi", "1.5Gi" -> "1536Mi", "0.1" -> "100m",
// "1e4" -> "10e3"); BinarySI values below 1024 or with a fraction print as DecimalSI ("512" for
// "0.5Ki", "1024m" for ".001Ki").
//
// As upstream, a parsed text that its int64 fast path judges canonical is kept verbatim. That
// also keeps a few spellings upstream never rewrites: a leading '+' or zeros ("+1", "01") and
// trailing fraction zeros ("1.500"); and "1e3" stays "1e3" (DecimalExponent), it does not become
// "1k". Arithmetic and set_format() drop the kept text.
//
// Representation: a signed 128-bit mantissa (at most 38 significant digits) times a power of ten.
// Every value upstream's int64 fast path handles, and every inf.Dec value of up to 38 significant
// digits, is exact. Beyond that (only absurd inputs or sums, e.g. 1e100 + 1) the result is rounded
// to the nearest 38-digit value, where upstream's inf.Dec would stay exact. Where upstream's
// canonical form would drop the suffix and change the value (DecimalSI beyond "E" or below "n",
// BinarySI beyond "Ei"), Skiff prints "<digits>e<exp>" (or the DecimalSI form) so the value
// survives.
//
// A Quantity is a plain value type; const methods are thread-safe.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::api {

enum class QuantityFormat : std::uint8_t {
  kDecimalExponent,  ///< 12e6
  kBinarySI,         ///< 12Mi (12 * 2^20)
  kDecimalSI,        ///< 12M  (12 * 10^6)
};

/// "DecimalExponent", "BinarySI", "DecimalSI".
std::string_view quantity_format_name(QuantityFormat format) noexcept;

class Quantity {
public:
  /// Zero, DecimalSI.
  Quantity() = default;

  /// resource.ParseQuantity. No surrounding blanks. Errors (kBadRequest), upstream's texts:
  /// - `quantities must match the regular expression
  ///   '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` (empty text, stray characters);
  /// - `unable to parse quantity's suffix` ("1i", "5Qi", "1e");
  /// - `unable to parse numeric part of quantity` (no digits where the value needs them).
  static Result<Quantity> parse(std::string_view text);

  /// Quantity's UnmarshalJSON over a decoded value: a string (blanks around it trimmed) or a number
  /// (its shortest decimal text; upstream reads the literal, so `1e3` sent unquoted prints as "1k"
  /// here and "1e3" upstream); null is zero. Other types: kBadRequest.
  static Result<Quantity> from_json(const json::Value& value);

  /// resource.NewQuantity / NewMilliQuantity / NewScaledQuantity: value * 10^scale.
  static Quantity from_int(std::int64_t value, QuantityFormat format = QuantityFormat::kDecimalSI);
  static Quantity from_milli(std::int64_t value,
                             QuantityFormat format = QuantityFormat::kDecimalSI);
  static Quantity from_scaled(std::int64_t value, std::int32_t scale,
                              QuantityFormat format = QuantityFormat::kDecimalSI);

  QuantityFormat format() const noexcept { return format_; }
  /// Changes the format family (and so the printed form, not the value).
  void set_format(QuantityFormat format);

  bool is_zero() const noexcept { return mantissa_ == 0; }
  /// -1, 0 or 1.
  int sign() const noexcept { return mantissa_ > 0 ? 1 : (mantissa_ < 0 ? -1 : 0); }

  /// Value(): the value rounded away from zero to an integer ("1.1" -> 2, "-1.1" -> -2), saturated
  /// at the int64 limits (upstream overflows silently).
  std::int64_t value() const noexcept { return scaled_value(0); }
  /// MilliValue(): the value in thousandths, rounded away from zero ("0.1m" parses as 1m; "1.5" ->
  /// 1500), saturated.
  std::int64_t milli_value() const noexcept { return scaled_value(-3); }
  /// ScaledValue(scale): value / 10^scale rounded away from zero, saturated.
  std::int64_t scaled_value(std::int32_t scale) const noexcept;
  /// The exact value when it is an integer that fits int64.
  std::optional<std::int64_t> as_int64() const noexcept;
  /// AsApproximateFloat64.
  double as_approximate_double() const noexcept;

  /// -1, 0, 1 by value (format ignored).
  int compare(const Quantity& other) const noexcept;
  bool operator==(const Quantity& other) const noexcept { return compare(other) == 0; }
  std::strong_ordering operator<=>(const Quantity& other) const noexcept {
    return compare(other) <=> 0;
  }

  /// Add/Sub: exact (see the header comment). When this quantity is zero it takes the other's
  /// format, as upstream.
  Quantity& operator+=(const Quantity& other);
  Quantity& operator-=(const Quantity& other);
  friend Quantity operator+(Quantity a, const Quantity& b) { return a += b; }
  friend Quantity operator-(Quantity a, const Quantity& b) { return a -= b; }
  /// Neg.
  Quantity operator-() const;

  /// String(): the parsed text when upstream keeps it, otherwise canonical_string().
  std::string to_string() const;
  /// The canonical form of the value in this format, ignoring the parsed text.
  std::string canonical_string() const;
  /// The JSON form (a string), as the API server stores and returns it.
  json::Value to_json() const { return {to_string()}; }

private:
  __extension__ using Mantissa = __int128;

  Quantity(Mantissa mantissa, std::int64_t exponent, QuantityFormat format);
  void normalize() noexcept;
  void add_signed(const Quantity& other, bool subtract);

  Mantissa mantissa_ = 0;  ///< value = mantissa_ * 10^exponent_; no trailing decimal zeros
  std::int64_t exponent_ = 0;
  QuantityFormat format_ = QuantityFormat::kDecimalSI;
  std::string text_;  ///< the parsed text, when upstream would print it as is
};

}  // namespace skiff::api
