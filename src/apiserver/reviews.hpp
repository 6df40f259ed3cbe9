// SPDX-License-Identifier: Apache-2.0
#pragma once

// The create-only review APIs and service-account token requests (private to src/apiserver):
// SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectReview, TokenReview and serviceaccounts/token. Until RBAC exists, members of
// system:masters may do everything and other users nothing.

#include <string>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"
#include "skiff/registry/catalog.hpp"

#include "api_handler.hpp"

namespace skiff::apiserver {

struct Identity {
  std::string user;
  std::vector<std::string> groups;
};

/// The review object with `status` filled in (answered 201). Errors: kBadRequest for a body of the
/// wrong kind, kInvalid for a missing spec.
Result<json::Value> answer_review(const registry::ResourceType& type, json::Value review,
                                  const Identity& who, const std::string& ns,
                                  const HandlerOptions& options, registry::TimePoint now);

/// A TokenRequest answered with a signed token for `service_account`. Errors: kUnavailable when no
/// signer is configured, kInvalid for bad expirationSeconds / audiences.
Result<json::Value> make_token_request(const json::Value& request,
                                       const json::Value& service_account, const std::string& ns,
                                       const std::string& name, const HandlerOptions& options,
                                       registry::TimePoint now);

}  // namespace skiff::apiserver
