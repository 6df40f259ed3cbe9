// SPDX-License-Identifier: Apache-2.0
#pragma once

// Expected failures as values. Every module returns `skiff::Result<T>`; the `Reason` says what kind of
// failure it is (and so which HTTP status / gRPC code a server answers with), the message is the text a
// client sees. Build errors only through the `skiff::errors` functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace skiff {

/// The kind of an expected failure. Servers map it to a status code (apiserver: HTTP + metav1.Status
/// reason; etcd: gRPC code).
enum class Reason : std::uint8_t {
  kNotFound,         ///< the object / key / lease does not exist
  kAlreadyExists,    ///< create of something that exists
  kConflict,         ///< a precondition (resourceVersion, compare) failed
  kInvalid,          ///< semantically invalid input, with field causes
  kBadRequest,       ///< malformed input
  kForbidden,
  kUnauthorized,
  kGone,             ///< the requested revision has been compacted
  kExpired,          ///< Kubernetes "Expired": a watch/list resourceVersion too old to serve (410)
  kOutOfRange,       ///< a value beyond what is allowed (future revision, too large TTL)
  kTooLarge,         ///< a request body or message over its limit
  kTooManyRequests,  ///< overload or a storage quota/full disk: retry later
  kTimeout,
  kUnavailable,  ///< shutting down, storage not writable, transport failure
  kCancelled,
  kInternal,  ///< a bug or an unexpected environment failure
};

/// One field-level cause of an Invalid error (metav1.StatusCause).
struct FieldCause {
  std::string type;     ///< e.g. "FieldValueRequired"
  std::string message;  ///< human-readable
  std::string field;    ///< e.g. "metadata.name"
};

/// An expected failure: what went wrong and the text to show.
struct Error {
  Reason reason = Reason::kInternal;
  std::string message;
  std::vector<FieldCause> causes;
  // What the error is about, for a Kubernetes Status's `details` (all optional): the object's name,
  // its API group and its resource ("pods", "deployments").
  std::string name;
  std::string group;
  std::string kind;
};

/// Name of a reason, for logs ("NotFound", "Conflict", ...; Kubernetes' StatusReason spelling).
std::string_view reason_name(Reason reason) noexcept;

/// ADL hook used by boost::system::result::value(): throws skiff::Exception.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

/// Thrown only by Result::value() on an error (misuse) and by start-up code.
class Exception : public std::exception {
 public:
  explicit Exception(Error error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// A value or an Error. [[nodiscard]]: a dropped Result is a warning.
template <class T>
class [[nodiscard]] Result : public boost::system::result<T, Error> {
 public:
  using boost::system::result<T, Error>::result;
};

namespace errors {
Error make(Reason reason, std::string message);
Error not_found(std::string_view what);
Error already_exists(std::string_view what);
Error conflict(std::string_view what);
Error bad_request(std::string_view what);
Error gone(std::string_view what);
Error out_of_range(std::string_view what);
Error too_large(std::string_view what);
Error too_many_requests(std::string_view what);
Error unavailable(std::string_view what);
Error cancelled(std::string_view what);
Error internal(std::string_view what);
}  // namespace errors

}  // namespace skiff
