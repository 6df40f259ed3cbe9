// SPDX-License-Identifier: Apache-2.0
// The request-level patch operations: what kube-apiserver's PATCH handler
// (endpoints/handlers/patch.go) does around the patch formats, with its Status reasons and texts.

#include "skiff/registry/patch.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/base/yaml.hpp"

#include "patch_internal.hpp"

namespace skiff::registry {
namespace {

// The typed decode of the patched document fails when it is no longer an object; upstream reports
// it as NewInvalid(GroupKind{}, "", [field.Invalid("patch", <document>, <decode error>)]).
Error not_an_object(const json::Value& patched) {
  const std::string detail_text = "json: cannot unmarshal " +
                                  std::string(json::type_name(patched.type())) +
                                  " into Go value of type map[string]interface {}";
  const std::string body =
      "Invalid value: " + detail::go_quote(json::serialize(patched)) + ": " + detail_text;
  Error e = errors::make(Reason::kInvalid, " \"\" is invalid: patch: " + body);
  e.causes.push_back(FieldCause{"FieldValueInvalid", body, "patch"});
  return e;
}

Result<json::Value> checked_object(json::Value patched) {
  if (!patched.is_object()) {
    return not_an_object(patched);
  }
  return patched;
}

Error generic_invalid() {
  return errors::make(Reason::kInvalid, std::string(detail::kGenericInvalidMessage));
}

bool is_printable(char32_t cp) {
  return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0);
}

// Decodes UTF-8 loosely (an invalid byte is one code point U+FFFD, as Go's range loop yields) and
// calls fn(code point, byte offset, byte length).
template <class Fn>
void for_each_rune(std::string_view s, Fn fn) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    char32_t cp = b0;
    if (b0 >= 0x80) {
      len = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
      bool ok = len != 0 && i + len <= s.size();
      cp = len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
      for (std::size_t k = 1; ok && k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        ok = (b & 0xC0) == 0x80;
        cp = (cp << 6) | (b & 0x3F);
      }
      if (!ok) {
        len = 1;
        cp = 0xFFFD;
      }
    }
    fn(cp, i, len);
    i += len;
  }
}

}  // namespace

std::optional<PatchType> patch_type_from_content_type(std::string_view content_type) noexcept {
  if (const auto semi = content_type.find(';'); semi != std::string_view::npos && semi > 0) {
    content_type = content_type.substr(0, semi);
  }
  if (content_type == "application/json-patch+json") {
    return PatchType::kJson;
  }
  if (content_type == "application/merge-patch+json") {
    return PatchType::kMerge;
  }
  if (content_type == "application/strategic-merge-patch+json") {
    return PatchType::kStrategic;
  }
  if (content_type == "application/apply-patch+yaml") {
    return PatchType::kApply;
  }
  return std::nullopt;
}

std::string_view patch_content_type(PatchType type) noexcept {
  switch (type) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategic:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "";
}

Result<json::Value> apply_patch_body(PatchType type, const json::Value& current,
                                     std::string_view body, const Node* schema,
                                     const JsonPatchLimits& limits) {
  switch (type) {
    case PatchType::kJson: {
      auto ops = json::parse(body);
      if (!ops) {
        return ops.error();
      }
      auto patched = apply_json_patch(current, *ops, limits);
      if (!patched) {
        if (patched.error().reason == Reason::kInvalid) {
          return generic_invalid();
        }
        return patched.error();
      }
      return checked_object(std::move(*patched));
    }
    case PatchType::kMerge: {
      // evanphx MergePatch: a syntax error, null or a scalar is "Invalid JSON Patch"; an array
      // replaces the document (and then fails the typed decode).
      auto patch = json::parse(body);
      if (!patch || patch->is_null() || !(patch->is_object() || patch->is_array())) {
        return errors::bad_request("Invalid JSON Patch");
      }
      return checked_object(apply_merge_patch(current, *patch));
    }
    case PatchType::kStrategic: {
      auto patch = json::parse(body);
      if (!patch) {
        return patch.error();
      }
      auto patched = apply_strategic_merge_patch(current, *patch, schema);
      if (!patched) {
        if (patched.error().reason == Reason::kInvalid) {
          return generic_invalid();
        }
        return patched.error();
      }
      return checked_object(std::move(*patched));
    }
    case PatchType::kApply:
      break;
  }
  return errors::internal("apply patches are handled by FieldManager::apply");
}

Result<json::Value> parse_apply_patch(std::string_view body) {
  auto doc = yaml::parse(body);
  if (!doc) {
    return errors::bad_request("error decoding YAML: " + doc.error().message);
  }
  if (doc->is_null()) {
    return json::Value::object();  // an empty document leaves the map empty
  }
  if (!doc->is_object()) {
    return errors::bad_request(
        "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot "
        "unmarshal " +
        std::string(json::type_name(doc->type())) +
        " into Go value of type map[string]interface {}");
  }
  return std::move(*doc);
}

Result<void> validate_patch_options(PatchType type, std::string_view field_manager,
                                    bool force_given) {
  std::vector<FieldCause> causes;
  std::vector<std::string> texts;
  auto add = [&](std::string type_name, std::string field, std::string body) {
    texts.push_back(field + ": " + body);
    causes.push_back(FieldCause{std::move(type_name), std::move(body), std::move(field)});
  };
  if (type == PatchType::kApply) {
    if (field_manager.empty()) {
      add("FieldValueRequired", "fieldManager", "Required value: is required for apply patch");
    }
  } else if (force_given) {
    add("FieldValueForbidden", "force", "Forbidden: may not be specified for non-apply patch");
  }
  if (field_manager.size() > 128) {
    add("FieldValueTooLong", "fieldManager", "Too long: may not be more than 128 bytes");
  }
  for_each_rune(field_manager, [&](char32_t cp, std::size_t offset, std::size_t) {
    if (!is_printable(cp)) {
      std::array<char, 64> buf{};
      std::snprintf(buf.data(), buf.size(), "invalid character U+%04X (at position %zu)",
                    static_cast<unsigned>(cp), offset);
      add("FieldValueInvalid", "fieldManager",
          "Invalid value: " + detail::go_quote(field_manager) + ": " + buf.data());
    }
  });
  if (causes.empty()) {
    return {};
  }
  std::string aggregate = texts.size() == 1 ? texts[0] : "[";
  if (texts.size() > 1) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
      aggregate += (i ? ", " : "") + texts[i];
    }
    aggregate += "]";
  }
  Error e =
      errors::make(Reason::kInvalid, "PatchOptions.meta.k8s.io \"\" is invalid: " + aggregate);
  e.causes = std::move(causes);
  return e;
}

std::string manager_or_user_agent(std::string_view field_manager, std::string_view user_agent) {
  if (!field_manager.empty()) {
    return std::string(field_manager);
  }
  const auto prefix = user_agent.substr(0, user_agent.find('/'));
  std::string out;
  bool full = false;
  for_each_rune(prefix, [&](char32_t cp, std::size_t offset, std::size_t len) {
    if (full || !is_printable(cp)) {
      return;
    }
    if (out.size() + len > 128) {
      full = true;
      return;
    }
    out.append(prefix.substr(offset, len));
  });
  return out;
}

}  // namespace skiff::registry
