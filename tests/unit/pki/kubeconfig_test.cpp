// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/kubeconfig.hpp"

#include <filesystem>

#include "skiff/pki/server_pki.hpp"

#include "pki_test_util.hpp"
#include <sys/stat.h>

namespace skiff::pki {
namespace {

using test::mode_of;
using test::run;
using test::sh_quote;
using test::slurp;
using test::spit;

// One PKI for the file (the RSA service key makes it take a moment).
const ServerPki& pki() {
  static testing::TempDir dir;
  static const ServerPki value = [] {
    auto p = ensure_server_pki(dir.path().string());
    REQUIRE(p);
    return *p;
  }();
  return value;
}

// `kubectl config view` on the file, through one JSONPath expression.
std::string kubectl_view(const std::string& path, const std::string& jsonpath) {
  std::string out;
  int rc = run("kubectl config view --kubeconfig " + sh_quote(path) + " --raw -o " +
                   sh_quote("jsonpath=" + jsonpath),
               &out);
  INFO(out);
  REQUIRE(rc == 0);
  return out;
}

std::string base64_decode_cli(const testing::TempDir& dir, const std::string& text) {
  spit(dir.file("b64"), text);
  std::string out;
  REQUIRE(run("base64 -d " + sh_quote(dir.file("b64")), &out) == 0);
  return out;
}

TEST_CASE("the kubeconfig has k3s's shape and kubectl reads it back", "[pki][kubeconfig]") {
  if (testing::find_program("kubectl").empty()) {
    WARN("kubectl not installed: skipped");
    return;
  }
  testing::TempDir dir;
  std::string path = dir.file("etc/skiff/skiff.yaml");
  REQUIRE(write_kubeconfig(path, kDefaultKubeconfigMode, "https://127.0.0.1:6443",
                           pki().server_ca.cert_pem, pki().admin.cert_pem, pki().admin.key_pem));
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(dir.file("etc/skiff")) == 0755);

  std::string text = slurp(path);
  CHECK(
      text.starts_with("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "));
  CHECK(text.find("    server: https://127.0.0.1:6443\n  name: default\n") != std::string::npos);
  CHECK(text.find("current-context: default\nkind: Config\npreferences: {}\nusers:\n- name: "
                  "default\n  user:\n    client-certificate-data: ") != std::string::npos);

  CHECK(kubectl_view(path, "{.clusters[0].name}") == "default");
  CHECK(kubectl_view(path, "{.clusters[0].cluster.server}") == "https://127.0.0.1:6443");
  CHECK(kubectl_view(path, "{.contexts[0].name}") == "default");
  CHECK(kubectl_view(path, "{.contexts[0].context.cluster}") == "default");
  CHECK(kubectl_view(path, "{.contexts[0].context.user}") == "default");
  CHECK(kubectl_view(path, "{.current-context}") == "default");
  CHECK(kubectl_view(path, "{.users[0].name}") == "default");
  CHECK(base64_decode_cli(
            dir, kubectl_view(path, "{.clusters[0].cluster.certificate-authority-data}")) ==
        pki().server_ca.cert_pem);
  CHECK(base64_decode_cli(dir, kubectl_view(path, "{.users[0].user.client-certificate-data}")) ==
        pki().admin.cert_pem);
  CHECK(base64_decode_cli(dir, kubectl_view(path, "{.users[0].user.client-key-data}")) ==
        pki().admin.key_pem);

  // The JSON form parses as a whole too.
  std::string json;
  REQUIRE(run("kubectl config view --kubeconfig " + sh_quote(path) + " --raw -o json", &json) == 0);
  CHECK(json.find("\"server\": \"https://127.0.0.1:6443\"") != std::string::npos);
}

TEST_CASE("an IPv6 or unusual server URL survives YAML", "[pki][kubeconfig]") {
  if (testing::find_program("kubectl").empty()) {
    WARN("kubectl not installed: skipped");
    return;
  }
  testing::TempDir dir;
  for (const std::string& url :
       {std::string("https://[::1]:6443"), std::string("https://h:6443/a b#c"),
        std::string(R"(https://x:6443/"q"\)")}) {
    INFO(url);
    std::string path = dir.file("k.yaml");
    REQUIRE(write_kubeconfig(path, 0600, url, pki().server_ca.cert_pem, pki().admin.cert_pem,
                             pki().admin.key_pem));
    CHECK(kubectl_view(path, "{.clusters[0].cluster.server}") == url);
  }
}

TEST_CASE("the kubeconfig mode is exactly the one given, replacing an existing file atomically",
          "[pki][kubeconfig]") {
  testing::TempDir dir;
  std::string path = dir.file("k3s.yaml");
  // Loose umask: 0644 must not become 0666, strict umask: 0644 must not become 0600.
  for (mode_t umask_value : {mode_t{000}, mode_t{077}}) {
    mode_t old = ::umask(umask_value);
    auto written = write_kubeconfig(path, 0644, "https://10.0.0.1:6443", pki().server_ca.cert_pem,
                                    pki().admin.cert_pem, pki().admin.key_pem);
    ::umask(old);
    REQUIRE(written);
    CHECK(mode_of(path) == 0644);
  }
  std::string first = slurp(path);
  REQUIRE(write_kubeconfig(path, 0600, "https://10.0.0.2:6443", pki().server_ca.cert_pem,
                           pki().admin.cert_pem, pki().admin.key_pem));
  CHECK(mode_of(path) == 0600);
  std::string second = slurp(path);
  CHECK(second != first);
  CHECK(second.find("server: https://10.0.0.2:6443") != std::string::npos);
  // Only the file itself is in the directory: no temporary left behind.
  CHECK(test::snapshot(dir.path().string()).size() == 1);
}

TEST_CASE("bad kubeconfig arguments are BadRequest, an unwritable path Unavailable",
          "[pki][kubeconfig]") {
  testing::TempDir dir;
  const auto& p = pki();
  CHECK(write_kubeconfig(dir.file("k"), 01777, "https://x", p.server_ca.cert_pem, p.admin.cert_pem,
                         p.admin.key_pem)
            .error()
            .reason == Reason::kBadRequest);
  CHECK(write_kubeconfig(dir.file("k"), -1, "https://x", p.server_ca.cert_pem, p.admin.cert_pem,
                         p.admin.key_pem)
            .error()
            .reason == Reason::kBadRequest);
  CHECK(write_kubeconfig(dir.file("k"), 0600, "https://x\nevil: 1", p.server_ca.cert_pem,
                         p.admin.cert_pem, p.admin.key_pem)
            .error()
            .reason == Reason::kBadRequest);
  CHECK(write_kubeconfig(dir.file("k"), 0600, "", p.server_ca.cert_pem, p.admin.cert_pem,
                         p.admin.key_pem)
            .error()
            .reason == Reason::kBadRequest);
  CHECK(write_kubeconfig(dir.file("k"), 0600, "https://x", "", p.admin.cert_pem, p.admin.key_pem)
            .error()
            .reason == Reason::kBadRequest);
  CHECK_FALSE(std::filesystem::exists(dir.file("k")));

  spit(dir.file("file"), "x");
  auto blocked = write_kubeconfig(dir.file("file/k.yaml"), 0600, "https://x", p.server_ca.cert_pem,
                                  p.admin.cert_pem, p.admin.key_pem);
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().reason == Reason::kUnavailable);
  CHECK(blocked.error().message.find(dir.file("file")) != std::string::npos);
}

}  // namespace
}  // namespace skiff::pki
