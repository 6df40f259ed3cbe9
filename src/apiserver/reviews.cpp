// SPDX-License-Identifier: Apache-2.0
#include "reviews.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "skiff/api/meta.hpp"
#include "skiff/api/time.hpp"

namespace skiff::apiserver {

namespace {

bool is_master(const std::vector<std::string>& groups) {
  return std::find(groups.begin(), groups.end(), "system:masters") != groups.end();
}

json::Value base_reply(const registry::ResourceType& type, json::Value& review) {
  json::Value out = json::Object{{"kind", type.gvk.kind},
                                 {"apiVersion", type.group_version()},
                                 {"metadata", json::Object{{"creationTimestamp", json::Value()}}}};
  if (json::Value* spec = review.get("spec")) {
    out["spec"] = std::move(*spec);
  } else {
    out["spec"] = json::Object{};
  }
  return out;
}

json::Value decision(bool allowed) {
  if (allowed) {
    return json::Object{{"allowed", true}, {"reason", "allowed as a member of system:masters"}};
  }
  return json::Object{{"allowed", false},
                      {"reason", "only members of system:masters are authorized (RBAC is not "
                                 "enabled)"}};
}

}  // namespace

Result<json::Value> answer_review(const registry::ResourceType& type, json::Value review,
                                  const Identity& who, const std::string& ns,
                                  const HandlerOptions& options, registry::TimePoint now) {
  if (!review.is_object() || review.string_or("kind") != type.gvk.kind) {
    return errors::bad_request(fmt::format("the body must be a {} {}", type.group_version(),
                                           type.gvk.kind));
  }
  json::Value out = base_reply(type, review);
  const std::string& kind = type.gvk.kind;
  if (kind == "SelfSubjectAccessReview") {
    out["status"] = decision(is_master(who.groups));
  } else if (kind == "SubjectAccessReview" || kind == "LocalSubjectAccessReview") {
    std::vector<std::string> groups;
    if (const json::Value* g = out["spec"].get("groups"); g != nullptr && g->is_array()) {
      for (const auto& e : g->as_array()) {
        if (e.is_string()) {
          groups.push_back(e.as_string());
        }
      }
    }
    if (kind == "LocalSubjectAccessReview") {
      out["metadata"]["namespace"] = ns;
    }
    out["status"] = decision(is_master(groups) || out["spec"].string_or("user") == "system:admin");
  } else if (kind == "SelfSubjectRulesReview") {
    bool master = is_master(who.groups);
    json::Array resource_rules;
    json::Array non_resource_rules;
    if (master) {
      resource_rules.push_back(json::Object{{"verbs", json::Array{"*"}},
                                            {"apiGroups", json::Array{"*"}},
                                            {"resources", json::Array{"*"}}});
      non_resource_rules.push_back(
          json::Object{{"verbs", json::Array{"*"}}, {"nonResourceURLs", json::Array{"*"}}});
    }
    out["status"] = json::Object{{"resourceRules", std::move(resource_rules)},
                                 {"nonResourceRules", std::move(non_resource_rules)},
                                 {"incomplete", false}};
  } else if (kind == "SelfSubjectReview") {
    json::Array groups;
    for (const auto& g : who.groups) {
      groups.emplace_back(g);
    }
    if (std::find(who.groups.begin(), who.groups.end(), "system:authenticated") ==
        who.groups.end()) {
      groups.emplace_back("system:authenticated");
    }
    out.as_object().erase("spec");
    out["status"] = json::Object{
        {"userInfo", json::Object{{"username", who.user}, {"groups", std::move(groups)}}}};
  } else if (kind == "TokenReview") {
    std::string token(out["spec"].string_or("token"));
    json::Value status = json::Object{{"authenticated", false}};
    if (options.verify_token && !token.empty()) {
      auto claims = options.verify_token(token);
      if (claims) {
        std::string sub(claims->string_or("sub"));
        const json::Value& k8s = (*claims)["kubernetes.io"];
        std::string sa_ns(k8s.string_or("namespace"));
        json::Array groups{"system:serviceaccounts", "system:serviceaccounts:" + sa_ns,
                           "system:authenticated"};
        status = json::Object{
            {"authenticated", true},
            {"user", json::Object{{"username", sub},
                                  {"uid", std::string(k8s["serviceaccount"].string_or("uid"))},
                                  {"groups", std::move(groups)}}},
            {"audiences", (*claims)["aud"]}};
      } else {
        status["error"] = claims.error().message;
      }
    }
    out["status"] = std::move(status);
  } else {
    return errors::bad_request(fmt::format("{} is not a review kind", kind));
  }
  (void)now;
  return out;
}

Result<json::Value> make_token_request(const json::Value& request,
                                       const json::Value& service_account, const std::string& ns,
                                       const std::string& name, const HandlerOptions& options,
                                       registry::TimePoint now) {
  if (!options.sign_token) {
    return errors::unavailable("service account token signing is not configured");
  }
  const json::Value& spec = request["spec"];
  std::int64_t expiration = spec.int_or("expirationSeconds", 3600);
  if (expiration < 600) {
    Error e = errors::make(
        Reason::kInvalid,
        fmt::format("TokenRequest.authentication.k8s.io {} is invalid: spec.expirationSeconds: "
                    "Invalid value: {}: may not specify a duration less than 10 minutes",
                    json::quote(name), expiration));
    e.causes.push_back({"FieldValueInvalid", "may not specify a duration less than 10 minutes",
                        "spec.expirationSeconds"});
    return e;
  }
  expiration = std::min<std::int64_t>(expiration, 48 * 3600);
  json::Array audiences;
  if (const json::Value* a = spec.get("audiences"); a != nullptr && a->is_array() && !a->empty()) {
    audiences = a->as_array();
  } else {
    audiences.emplace_back(options.service_account_issuer);
  }
  auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string uid(service_account["metadata"].string_or("uid"));
  json::Value claims = json::Object{
      {"aud", audiences},
      {"exp", iat + expiration},
      {"iat", iat},
      {"iss", options.service_account_issuer},
      {"jti", api::new_uid()},
      {"kubernetes.io",
       json::Object{{"namespace", ns},
                    {"serviceaccount", json::Object{{"name", name}, {"uid", uid}}}}},
      {"nbf", iat},
      {"sub", fmt::format("system:serviceaccount:{}:{}", ns, name)}};
  auto token = options.sign_token(claims);
  if (!token) {
    return token.error();
  }
  json::Value out = json::Object{
      {"kind", "TokenRequest"},
      {"apiVersion", "authentication.k8s.io/v1"},
      {"metadata", json::Object{{"name", name}, {"namespace", ns},
                                {"creationTimestamp", json::Value()}}},
      {"spec", json::Object{{"audiences", std::move(audiences)},
                            {"expirationSeconds", expiration},
                            {"boundObjectRef", spec["boundObjectRef"]}}},
      {"status", json::Object{{"token", *token},
                              {"expirationTimestamp",
                               api::format_rfc3339(api::to_timestamp(now + std::chrono::seconds(expiration)))}}}};
  return out;
}

}  // namespace skiff::apiserver
