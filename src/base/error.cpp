// SPDX-License-Identifier: Apache-2.0
#include "skiff/base/error.hpp"

#include <utility>

namespace skiff {

std::string_view reason_name(Reason reason) noexcept {
  switch (reason) {
    case Reason::kNotFound: return "NotFound";
    case Reason::kAlreadyExists: return "AlreadyExists";
    case Reason::kConflict: return "Conflict";
    case Reason::kInvalid: return "Invalid";
    case Reason::kBadRequest: return "BadRequest";
    case Reason::kForbidden: return "Forbidden";
    case Reason::kUnauthorized: return "Unauthorized";
    case Reason::kGone: return "Gone";
    case Reason::kExpired: return "Expired";
    case Reason::kOutOfRange: return "OutOfRange";
    case Reason::kTooLarge: return "RequestEntityTooLarge";
    case Reason::kTooManyRequests: return "TooManyRequests";
    case Reason::kTimeout: return "Timeout";
    case Reason::kUnavailable: return "ServiceUnavailable";
    case Reason::kCancelled: return "Cancelled";
    case Reason::kInternal: return "InternalError";
  }
  return "Unknown";
}

void throw_exception_from_error(const Error& error, const boost::source_location& /*loc*/) {
  throw Exception(error);
}

namespace errors {
Error make(Reason reason, std::string message) {
  Error e;
  e.reason = reason;
  e.message = std::move(message);
  return e;
}
Error not_found(std::string_view what) { return make(Reason::kNotFound, std::string(what)); }
Error already_exists(std::string_view what) { return make(Reason::kAlreadyExists, std::string(what)); }
Error conflict(std::string_view what) { return make(Reason::kConflict, std::string(what)); }
Error bad_request(std::string_view what) { return make(Reason::kBadRequest, std::string(what)); }
Error gone(std::string_view what) { return make(Reason::kGone, std::string(what)); }
Error out_of_range(std::string_view what) { return make(Reason::kOutOfRange, std::string(what)); }
Error too_large(std::string_view what) { return make(Reason::kTooLarge, std::string(what)); }
Error too_many_requests(std::string_view what) {
  return make(Reason::kTooManyRequests, std::string(what));
}
Error unavailable(std::string_view what) { return make(Reason::kUnavailable, std::string(what)); }
Error cancelled(std::string_view what) { return make(Reason::kCancelled, std::string(what)); }
Error internal(std::string_view what) { return make(Reason::kInternal, std::string(what)); }
}  // namespace errors

}  // namespace skiff
