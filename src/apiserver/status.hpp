// SPDX-License-Identifier: Apache-2.0
#pragma once

// metav1.Status responses (private to src/apiserver): Reason -> HTTP code and Status.reason, and the
// Status bodies kubectl prints as "Error from server (<reason>): <message>".

#include <string>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::apiserver {

/// The HTTP status code for a reason.
int http_code(Reason reason) noexcept;

/// A Failure Status for `error` (code, reason, message, details with name/group/kind/causes).
json::Value failure_status(const Error& error);

/// A Failure Status for cases the registry never produces (405, 406, 415, 404 for unknown paths).
json::Value failure_status(int code, std::string_view reason, std::string_view message);

/// A Success Status for DELETE of kinds that answer with one: details name/group/kind/uid.
json::Value success_status(std::string_view name, std::string_view group, std::string_view kind,
                           std::string_view uid);

}  // namespace skiff::apiserver
