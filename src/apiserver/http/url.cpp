// SPDX-License-Identifier: Apache-2.0
#include "url.hpp"

namespace skiff::apiserver::http {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
}  // namespace

bool percent_decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return false;
      }
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

Result<Target> parse_target(std::string_view target) {
  Target t;
  std::string_view rest = target;
  if (rest == "*") {
    t.raw_path = t.path = "*";
    return t;
  }
  if (rest.starts_with("http://") || rest.starts_with("https://")) {
    rest.remove_prefix(rest.find("://") + 3);
    const auto slash = rest.find_first_of("/?");
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (rest.empty() || rest.front() == '?') {
      t.raw_path = "/";
    }
  } else if (rest.empty() || rest.front() != '/') {
    return errors::bad_request("malformed request target");
  }
  const auto q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  if (!path.empty()) {
    t.raw_path = std::string(path);
  }
  if (!percent_decode(t.raw_path, false, t.path)) {
    return errors::bad_request("malformed request target: invalid escape in path");
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    std::string key;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), true, key) ||
        (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, value))) {
      return errors::bad_request("malformed request target: invalid escape in query");
    }
    t.query.emplace_back(std::move(key), std::move(value));
  }
  return t;
}

}  // namespace skiff::apiserver::http
