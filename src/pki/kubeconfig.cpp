// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/kubeconfig.hpp"

#include <cctype>
#include <filesystem>

#include "encoding.hpp"
#include "files.hpp"

namespace skiff::pki {

namespace {

// A YAML scalar for the server URL: plain when it is made of URL characters that YAML reads back
// unchanged (k3s's file has `server: https://127.0.0.1:6443` unquoted), double-quoted otherwise.
std::string yaml_scalar(std::string_view value) {
  // A letter first (no YAML indicator), no space (so no ": " or " #"), no ':' last.
  bool plain = !value.empty() && std::isalpha(static_cast<unsigned char>(value.front())) != 0 &&
               value.back() != ':';
  for (char c : value) {
    bool url_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(":/.-_[]%~?=&+@").find(c) != std::string_view::npos;
    plain = plain && url_char;
  }
  if (plain) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

Result<std::string> render_kubeconfig(std::string_view server_url, std::string_view ca_pem,
                                      std::string_view client_cert_pem,
                                      std::string_view client_key_pem) {
  if (server_url.empty() || ca_pem.empty() || client_cert_pem.empty() || client_key_pem.empty()) {
    return errors::bad_request(
        "kubeconfig: server URL, CA, client certificate and key are required");
  }
  for (char c : server_url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return errors::bad_request("kubeconfig: server URL contains a control character");
    }
  }
  // Field order and layout as client-go's writer produces them (and so as k3s.yaml looks).
  std::string out;
  out += "apiVersion: v1\n";
  out += "clusters:\n";
  out += "- cluster:\n";
  out += "    certificate-authority-data: " + detail::base64_encode(ca_pem) + "\n";
  out += "    server: " + yaml_scalar(server_url) + "\n";
  out += "  name: default\n";
  out += "contexts:\n";
  out += "- context:\n";
  out += "    cluster: default\n";
  out += "    user: default\n";
  out += "  name: default\n";
  out += "current-context: default\n";
  out += "kind: Config\n";
  out += "preferences: {}\n";
  out += "users:\n";
  out += "- name: default\n";
  out += "  user:\n";
  out += "    client-certificate-data: " + detail::base64_encode(client_cert_pem) + "\n";
  out += "    client-key-data: " + detail::base64_encode(client_key_pem) + "\n";
  return out;
}

Result<void> write_kubeconfig(std::string_view path, int mode, std::string_view server_url,
                              std::string_view ca_pem, std::string_view client_cert_pem,
                              std::string_view client_key_pem) {
  if (mode < 0 || mode > 0777) {
    return errors::bad_request("kubeconfig mode must be between 0000 and 0777");
  }
  if (path.empty()) {
    return errors::bad_request("kubeconfig: empty path");
  }
  auto text = render_kubeconfig(server_url, ca_pem, client_cert_pem, client_key_pem);
  if (!text) {
    return text.error();
  }
  std::filesystem::path target{std::string(path)};
  if (target.has_parent_path()) {
    if (auto ok = detail::make_directories(target.parent_path().string(), 0755); !ok) {
      return ok.error();
    }
  }
  return detail::write_file_atomic(target.string(), *text, static_cast<mode_t>(mode));
}

}  // namespace skiff::pki
