// SPDX-License-Identifier: Apache-2.0
#include "status.hpp"

namespace skiff::apiserver {

int http_code(Reason reason) noexcept {
  switch (reason) {
    case Reason::kNotFound:
      return 404;
    case Reason::kAlreadyExists:
    case Reason::kConflict:
      return 409;
    case Reason::kInvalid:
      return 422;
    case Reason::kBadRequest:
    case Reason::kOutOfRange:
      return 400;
    case Reason::kForbidden:
      return 403;
    case Reason::kUnauthorized:
      return 401;
    case Reason::kGone:
    case Reason::kExpired:
      return 410;
    case Reason::kTooLarge:
      return 413;
    case Reason::kTooManyRequests:
      return 429;
    case Reason::kTimeout:
      return 504;
    case Reason::kUnavailable:
      return 503;
    case Reason::kCancelled:
    case Reason::kInternal:
      break;
  }
  return 500;
}

namespace {
std::string_view status_reason(Reason reason) noexcept {
  switch (reason) {
    case Reason::kOutOfRange:
      return "BadRequest";
    case Reason::kCancelled:
      return "InternalError";
    default:
      return reason_name(reason);
  }
}
}  // namespace

json::Value failure_status(const Error& error) {
  json::Value status = json::Object{{"kind", "Status"},
                                    {"apiVersion", "v1"},
                                    {"metadata", json::Object{}},
                                    {"status", "Failure"},
                                    {"message", error.message},
                                    {"reason", std::string(status_reason(error.reason))}};
  json::Value details = json::Object{};
  if (!error.name.empty()) {
    details["name"] = error.name;
  }
  if (!error.group.empty()) {
    details["group"] = error.group;
  }
  if (!error.kind.empty()) {
    details["kind"] = error.kind;
  }
  if (!error.causes.empty()) {
    json::Array causes;
    for (const auto& c : error.causes) {
      json::Value cause = json::Object{{"reason", c.type}, {"message", c.message}};
      if (!c.field.empty()) {
        cause["field"] = c.field;
      }
      causes.push_back(std::move(cause));
    }
    details["causes"] = std::move(causes);
  }
  if (!details.as_object().empty()) {
    status["details"] = std::move(details);
  }
  status["code"] = http_code(error.reason);
  return status;
}

json::Value failure_status(int code, std::string_view reason, std::string_view message) {
  return json::Object{{"kind", "Status"},      {"apiVersion", "v1"},
                      {"metadata", json::Object{}}, {"status", "Failure"},
                      {"message", message},    {"reason", reason},
                      {"code", code}};
}

json::Value success_status(std::string_view name, std::string_view group, std::string_view kind,
                           std::string_view uid) {
  json::Value details = json::Object{{"name", name}};
  if (!group.empty()) {
    details["group"] = group;
  }
  details["kind"] = kind;
  if (!uid.empty()) {
    details["uid"] = uid;
  }
  return json::Object{{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", json::Object{}},
                      {"status", "Success"},
                      {"details", std::move(details)}};
}

}  // namespace skiff::apiserver
