// SPDX-License-Identifier: Apache-2.0
#pragma once

// yaml: YAML documents as json::Value, for request bodies sent as YAML (`application/yaml`,
// server-side apply's `application/apply-patch+yaml`) and YAML responses. yaml-cpp stays inside
// src/base.
//
// Scalars resolve as Kubernetes' YAML decoder does: quoted scalars are strings; plain `null`, `~` and
// the empty scalar are null; `true`/`false` (any case), ints (decimal, 0x, 0o) and floats are typed;
// everything else is a string. Mapping keys become strings.

#include <string>
#include <string_view>

#include "skiff/base/error.hpp"
#include "skiff/base/json.hpp"

namespace skiff::yaml {

/// Parses one YAML document (an empty document is null). Errors: kBadRequest naming the line and
/// column; also for documents whose aliases would expand past a size limit or nest too deeply.
Result<json::Value> parse(std::string_view text);

/// The document as block-style YAML (what `?pretty` YAML output looks like).
std::string serialize(const json::Value& value);

}  // namespace skiff::yaml
