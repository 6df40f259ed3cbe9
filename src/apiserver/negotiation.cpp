// SPDX-License-Identifier: Apache-2.0
#include "negotiation.hpp"

#include <map>
#include <vector>

namespace skiff::apiserver {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

struct MediaType {
  std::string type;  // "application/json"
  std::map<std::string, std::string> params;
};

std::vector<MediaType> parse_accept(std::string_view accept) {
  std::vector<MediaType> out;
  std::size_t pos = 0;
  while (pos <= accept.size()) {
    std::size_t comma = accept.find(',', pos);
    std::string_view item =
        accept.substr(pos, comma == std::string_view::npos ? accept.npos : comma - pos);
    pos = comma == std::string_view::npos ? accept.size() + 1 : comma + 1;
    item = trim(item);
    if (item.empty()) {
      continue;
    }
    MediaType mt;
    std::size_t semi = item.find(';');
    mt.type = lower(trim(item.substr(0, semi)));
    while (semi != std::string_view::npos) {
      std::size_t next = item.find(';', semi + 1);
      std::string_view param = trim(item.substr(semi + 1, next == std::string_view::npos
                                                              ? item.npos
                                                              : next - semi - 1));
      std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        std::string_view value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        mt.params[lower(trim(param.substr(0, eq)))] = std::string(value);
      }
      semi = next;
    }
    // q=0 means "not acceptable".
    if (auto q = mt.params.find("q"); q != mt.params.end() && (q->second == "0" || q->second == "0.0")) {
      continue;
    }
    out.push_back(std::move(mt));
  }
  return out;
}

}  // namespace

Negotiated negotiate(std::string_view accept, bool discovery) {
  if (trim(accept).empty()) {
    return {};
  }
  for (const auto& mt : parse_accept(accept)) {
    auto param = [&](const char* key) -> std::string {
      auto it = mt.params.find(key);
      return it == mt.params.end() ? std::string() : it->second;
    };
    std::string as = param("as");
    bool json_like = mt.type == "application/json" || mt.type == "*/*" ||
                     mt.type == "application/*";
    if (!as.empty()) {
      if (!json_like) {
        continue;
      }
      std::string g = param("g");
      std::string v = param("v");
      if (as == "Table" && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
        return {true, Output::kTable, v};
      }
      if ((as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") &&
          g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
        return {true, Output::kPartialMetadata, v};
      }
      if (as == "APIGroupDiscoveryList" && g == "apidiscovery.k8s.io" &&
          (v == "v2" || v == "v2beta1") && discovery) {
        return {true, Output::kDiscovery, v};
      }
      continue;
    }
    if (json_like) {
      return {};
    }
    if (mt.type == "application/yaml" || mt.type == "text/yaml") {
      return {true, Output::kYaml, {}};
    }
  }
  return {false, Output::kJson, {}};
}

BodyType body_type(std::string_view content_type) {
  std::string t = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (t.empty() || t == "application/json") {
    return BodyType::kJson;
  }
  if (t == "application/yaml" || t == "text/yaml" || t == "application/x-yaml") {
    return BodyType::kYaml;
  }
  if (t == "application/vnd.kubernetes.protobuf") {
    return BodyType::kProtobuf;
  }
  if (t == "application/json-patch+json") {
    return BodyType::kJsonPatch;
  }
  if (t == "application/merge-patch+json") {
    return BodyType::kMergePatch;
  }
  if (t == "application/strategic-merge-patch+json") {
    return BodyType::kStrategicMergePatch;
  }
  if (t == "application/apply-patch+yaml") {
    return BodyType::kApplyPatch;
  }
  return BodyType::kUnsupported;
}

}  // namespace skiff::apiserver
