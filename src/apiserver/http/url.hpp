// SPDX-License-Identifier: Apache-2.0
#pragma once

// Request-target parsing: path and query, percent-decoded (RFC 3986; '+' means space in the query,
// as in HTML forms and Go's url.ParseQuery).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/base/error.hpp"

namespace skiff::apiserver::http {

struct Target {
  std::string raw_path;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};

/// Accepts origin-form ("/p?q"), absolute-form ("https://host/p?q", path defaults to "/") and "*".
/// Errors: kBadRequest for any other form or an invalid percent escape.
Result<Target> parse_target(std::string_view target);

/// Percent-decodes `in`; with `plus_is_space`, '+' becomes ' '. False on a malformed escape.
bool percent_decode(std::string_view in, bool plus_is_space, std::string& out);

}  // namespace skiff::apiserver::http
