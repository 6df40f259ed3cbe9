// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/server_pki.hpp"

#include <algorithm>
#include <filesystem>

#include "skiff/pki/keys.hpp"

#include "pki_test_util.hpp"

namespace skiff::pki {
namespace {

using namespace std::chrono_literals;
using test::mode_of;
using test::run;
using test::sh_quote;
using test::slurp;
using test::snapshot;
using test::spit;

const std::vector<std::string> kAllFiles = {"server-ca.key",
                                            "server-ca.crt",
                                            "client-ca.key",
                                            "client-ca.crt",
                                            "service.key",
                                            "serving-kube-apiserver.key",
                                            "serving-kube-apiserver.crt",
                                            "client-admin.key",
                                            "client-admin.crt"};

ServerPkiOptions default_options() {
  ServerPkiOptions options;
  options.hostname = "Node-1";
  options.node_addresses = {"192.168.5.10", "fd00::10"};
  options.tls_sans = {"api.example.com", "203.0.113.7"};
  return options;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

ServerPki ensure(const testing::TempDir& dir, const ServerPkiOptions& options = default_options()) {
  auto pki = ensure_server_pki(dir.path().string(), options);
  if (!pki) {
    FAIL("ensure_server_pki: " << pki.error().message);
  }
  return *pki;
}

std::string openssl_verify(const std::string& ca, const std::string& cert,
                           const std::string& purpose) {
  std::string out;
  run("openssl verify -purpose " + purpose + " -CAfile " + sh_quote(ca) + " " + sh_quote(cert),
      &out);
  return out;
}

TEST_CASE("first start creates the CAs, leaves and service key with k3s's shapes and modes",
          "[pki]") {
  testing::TempDir dir;
  ServerPki pki = ensure(dir);
  std::string tls = (dir.path() / "server" / "tls").string();
  CHECK(pki.tls_dir == tls);
  CHECK(server_tls_dir(dir.path().string()) == tls);
  CHECK(mode_of(tls) == 0700);
  CHECK(mode_of((dir.path() / "server").string()) == 0700);
  for (const auto& name : kAllFiles) {
    INFO(name);
    CHECK(contains(pki.written, name));
    bool is_key = name.ends_with(".key");
    CHECK(mode_of(pki.path(name)) == (is_key ? 0600 : 0644));
  }
  CHECK(pki.written.size() == kAllFiles.size());
  // No temporary file is left behind.
  CHECK(snapshot(tls).size() == kAllFiles.size());

  // Returned contents are the file contents.
  CHECK(pki.server_ca.cert_pem == slurp(pki.path(kServerCaCertFile)));
  CHECK(pki.server_ca.key_pem == slurp(pki.path(kServerCaKeyFile)));
  CHECK(pki.client_ca.cert_pem == slurp(pki.path(kClientCaCertFile)));
  CHECK(pki.serving.cert_pem == slurp(pki.path(kServingCertFile)));
  CHECK(pki.serving.key_pem == slurp(pki.path(kServingKeyFile)));
  CHECK(pki.admin.cert_pem == slurp(pki.path(kAdminCertFile)));
  CHECK(pki.admin.key_pem == slurp(pki.path(kAdminKeyFile)));
  CHECK(pki.service_key_pem == slurp(pki.path(kServiceKeyFile)));

  // CAs.
  auto server_ca = inspect_certificate(pki.server_ca.cert_pem);
  auto client_ca = inspect_certificate(pki.client_ca.cert_pem);
  REQUIRE(server_ca);
  REQUIRE(client_ca);
  CHECK(server_ca->common_name.starts_with("skiff-server-ca@"));
  CHECK(client_ca->common_name.starts_with("skiff-client-ca@"));
  CHECK(server_ca->is_ca);
  CHECK(client_ca->is_ca);
  CHECK(server_ca->subject_key_id_hex != client_ca->subject_key_id_hex);

  // Serving certificate: chain of two, SANs, EKU, verifies against server-ca only.
  auto chain = split_certificates(pki.serving.cert_pem);
  REQUIRE(chain);
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[1] == pki.server_ca.cert_pem);
  auto serving = inspect_certificate(pki.serving.cert_pem);
  REQUIRE(serving);
  CHECK(serving->common_name == "kube-apiserver");
  CHECK(serving->issuer_common_name == server_ca->common_name);
  CHECK(serving->dns_names == std::vector<std::string>{"kubernetes", "kubernetes.default",
                                                       "kubernetes.default.svc",
                                                       "kubernetes.default.svc.cluster.local",
                                                       "localhost", "node-1", "api.example.com"});
  CHECK(serving->ip_addresses == std::vector<std::string>{"127.0.0.1", "::1", "192.168.5.10",
                                                          "fd00::10", "203.0.113.7", "10.43.0.1"});
  CHECK(serving->server_auth);
  CHECK_FALSE(serving->client_auth);
  CHECK(openssl_verify(pki.path(kServerCaCertFile), pki.path(kServingCertFile), "sslserver")
            .find(": OK") != std::string::npos);
  CHECK(openssl_verify(pki.path(kClientCaCertFile), pki.path(kServingCertFile), "sslserver")
            .find(": OK") == std::string::npos);
  std::string out;
  REQUIRE(run("openssl x509 -noout -ext subjectAltName,extendedKeyUsage -in " +
                  sh_quote(pki.path(kServingCertFile)),
              &out) == 0);
  CHECK(out.find("DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, "
                 "DNS:kubernetes.default.svc.cluster.local, DNS:localhost, DNS:node-1, "
                 "DNS:api.example.com") != std::string::npos);
  CHECK(out.find("IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.168.5.10, "
                 "IP Address:FD00:0:0:0:0:0:0:10, IP Address:203.0.113.7, IP Address:10.43.0.1") !=
        std::string::npos);
  CHECK(out.find("TLS Web Server Authentication") != std::string::npos);

  // Admin client certificate.
  auto admin = inspect_certificate(pki.admin.cert_pem);
  REQUIRE(admin);
  CHECK(admin->common_name == "system:admin");
  CHECK(admin->organizations == std::vector<std::string>{"system:masters"});
  CHECK(admin->client_auth);
  CHECK_FALSE(admin->server_auth);
  CHECK(admin->issuer_common_name == client_ca->common_name);
  CHECK(openssl_verify(pki.path(kClientCaCertFile), pki.path(kAdminCertFile), "sslclient")
            .find(": OK") != std::string::npos);
  REQUIRE(run("openssl x509 -noout -subject -nameopt RFC2253 -ext extendedKeyUsage -in " +
                  sh_quote(pki.path(kAdminCertFile)),
              &out) == 0);
  CHECK(out.find("subject=CN=system:admin,O=system:masters") != std::string::npos);
  CHECK(out.find("TLS Web Client Authentication") != std::string::npos);

  // Keys: P-256 for CAs and leaves, RSA 2048 for service.key.
  for (auto name : {kServerCaKeyFile, kClientCaKeyFile, kServingKeyFile, kAdminKeyFile}) {
    INFO(name);
    CHECK(run("openssl ec -check -noout -in " + sh_quote(pki.path(name)), &out) == 0);
    CHECK(out.find("EC Key valid") != std::string::npos);
  }
  REQUIRE(run("openssl rsa -check -noout -text -in " + sh_quote(pki.path(kServiceKeyFile)), &out) ==
          0);
  CHECK(out.find("2048 bit") != std::string::npos);
  CHECK(out.find("RSA key ok") != std::string::npos);
}

TEST_CASE("a restart reuses every file byte for byte", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  auto before = snapshot(first.tls_dir);
  ServerPki second = ensure(dir);
  CHECK(second.written.empty());
  CHECK(snapshot(second.tls_dir) == before);
  CHECK(second.serving.cert_pem == first.serving.cert_pem);
  CHECK(second.admin.key_pem == first.admin.key_pem);
  CHECK(second.service_key_pem == first.service_key_pem);
  // Same SANs given in another order and case are the same set.
  ServerPkiOptions shuffled = default_options();
  shuffled.hostname = "NODE-1";
  shuffled.tls_sans = {"203.0.113.7", "API.example.com", "api.example.com"};
  shuffled.node_addresses = {"fd00:0::10", "192.168.5.10"};
  CHECK(ensure(dir, shuffled).written.empty());
  CHECK(snapshot(second.tls_dir) == before);
}

TEST_CASE("a new SAN reissues only the serving certificate, with the same CA and key", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  auto before = snapshot(first.tls_dir);
  ServerPkiOptions options = default_options();
  options.tls_sans.emplace_back("new.example.com");
  options.tls_sans.emplace_back("2001:db8::1");
  ServerPki second = ensure(dir, options);
  CHECK(second.written == std::vector<std::string>{"serving-kube-apiserver.crt"});
  auto after = snapshot(second.tls_dir);
  for (const auto& [name, data] : before) {
    INFO(name);
    if (name == "serving-kube-apiserver.crt") {
      CHECK(after[name] != data);
    } else {
      CHECK(after[name] == data);
    }
  }
  auto serving = inspect_certificate(second.serving.cert_pem);
  REQUIRE(serving);
  CHECK(contains(serving->dns_names, "new.example.com"));
  CHECK(contains(serving->dns_names, "api.example.com"));
  CHECK(contains(serving->ip_addresses, "2001:db8::1"));
  CHECK(openssl_verify(second.path(kServerCaCertFile), second.path(kServingCertFile), "sslserver")
            .find(": OK") != std::string::npos);
  auto keys = keys_match(second.serving.key_pem, first.serving.key_pem);
  REQUIRE(keys);
  CHECK(*keys);

  // A SAN dropped from the options is still covered by the certificate: nothing to do (k3s).
  CHECK(ensure(dir, default_options()).written.empty());
}

TEST_CASE("a changed service IP or node address reissues the serving certificate", "[pki]") {
  testing::TempDir dir;
  ensure(dir);
  ServerPkiOptions options = default_options();
  options.service_ip = "10.96.0.1";
  ServerPki pki = ensure(dir, options);
  CHECK(pki.written == std::vector<std::string>{"serving-kube-apiserver.crt"});
  auto serving = inspect_certificate(pki.serving.cert_pem);
  REQUIRE(serving);
  CHECK(contains(serving->ip_addresses, "10.96.0.1"));
}

TEST_CASE("a leaf expiring within 90 days is reissued, one expiring later is kept", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  auto spec = serving_spec(default_options());
  REQUIRE(spec);

  auto replace_serving = [&](std::chrono::seconds validity) {
    spec->validity = validity;
    auto leaf = issue_certificate(first.server_ca, *spec, first.serving.key_pem);
    REQUIRE(leaf);
    spit(first.path(kServingCertFile), leaf->cert_pem + first.server_ca.cert_pem);
  };

  replace_serving(std::chrono::hours(24 * 200));
  std::string kept = slurp(first.path(kServingCertFile));
  CHECK(ensure(dir).written.empty());
  CHECK(slurp(first.path(kServingCertFile)) == kept);

  replace_serving(std::chrono::hours(24 * 30));
  ServerPki second = ensure(dir);
  CHECK(second.written == std::vector<std::string>{"serving-kube-apiserver.crt"});
  auto info = inspect_certificate(second.serving.cert_pem);
  REQUIRE(info);
  CHECK(info->not_after - std::chrono::system_clock::now() > std::chrono::hours(24 * 360));
  CHECK(
      verify_certificate(second.serving.cert_pem, second.server_ca.cert_pem, CertUsage::kServing));

  // The admin certificate follows the same rule.
  LeafSpec admin_spec;
  admin_spec.usage = CertUsage::kClient;
  admin_spec.common_name = "system:admin";
  admin_spec.organizations = {"system:masters"};
  admin_spec.validity = std::chrono::hours(24 * 10);
  auto admin = issue_certificate(first.client_ca, admin_spec, first.admin.key_pem);
  REQUIRE(admin);
  spit(first.path(kAdminCertFile), admin->cert_pem);
  CHECK(ensure(dir).written == std::vector<std::string>{"client-admin.crt"});
}

TEST_CASE("a leaf with the wrong subject, or from another CA, is reissued", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);

  SECTION("admin certificate without system:masters") {
    LeafSpec spec;
    spec.usage = CertUsage::kClient;
    spec.common_name = "system:admin";
    auto admin = issue_certificate(first.client_ca, spec, first.admin.key_pem);
    REQUIRE(admin);
    spit(first.path(kAdminCertFile), admin->cert_pem);
  }
  SECTION("admin certificate signed by the server CA") {
    LeafSpec spec;
    spec.usage = CertUsage::kClient;
    spec.common_name = "system:admin";
    spec.organizations = {"system:masters"};
    auto admin = issue_certificate(first.server_ca, spec, first.admin.key_pem);
    REQUIRE(admin);
    spit(first.path(kAdminCertFile), admin->cert_pem);
  }
  SECTION("admin certificate that is a serving certificate") {
    LeafSpec spec;
    spec.usage = CertUsage::kServing;
    spec.common_name = "system:admin";
    spec.organizations = {"system:masters"};
    auto admin = issue_certificate(first.client_ca, spec, first.admin.key_pem);
    REQUIRE(admin);
    spit(first.path(kAdminCertFile), admin->cert_pem);
  }
  SECTION("admin key replaced by another key") {
    auto key = generate_ec_key();
    REQUIRE(key);
    spit(first.path(kAdminKeyFile), *key);
  }
  ServerPki second = ensure(dir);
  CHECK(second.written == std::vector<std::string>{"client-admin.crt"});
  auto id = inspect_certificate(second.admin.cert_pem);
  REQUIRE(id);
  CHECK(id->organizations == std::vector<std::string>{"system:masters"});
  CHECK(verify_certificate(second.admin.cert_pem, second.client_ca.cert_pem, CertUsage::kClient));
  // The certificate certifies the key on disk.
  std::string cert_pub;
  std::string key_pub;
  REQUIRE(run("openssl x509 -noout -pubkey -in " + sh_quote(second.path(kAdminCertFile)),
              &cert_pub) == 0);
  REQUIRE(run("openssl pkey -pubout -in " + sh_quote(second.path(kAdminKeyFile)), &key_pub) == 0);
  CHECK(cert_pub == key_pub);
}

TEST_CASE("a missing leaf is reissued: a missing certificate keeps its key", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  std::filesystem::remove(first.path(kServingCertFile));
  ServerPki second = ensure(dir);
  CHECK(second.written == std::vector<std::string>{"serving-kube-apiserver.crt"});
  CHECK(second.serving.key_pem == first.serving.key_pem);
  CHECK(openssl_verify(second.path(kServerCaCertFile), second.path(kServingCertFile), "sslserver")
            .find(": OK") != std::string::npos);

  std::filesystem::remove(first.path(kAdminKeyFile));
  ServerPki third = ensure(dir);
  CHECK(third.written == std::vector<std::string>{"client-admin.key", "client-admin.crt"});
  CHECK(third.admin.key_pem != first.admin.key_pem);
  CHECK(mode_of(third.path(kAdminKeyFile)) == 0600);
  auto match = keys_match(third.admin.key_pem, slurp(third.path(kAdminKeyFile)));
  REQUIRE(match);
  CHECK(*match);
  CHECK(verify_certificate(third.admin.cert_pem, third.client_ca.cert_pem, CertUsage::kClient));

  std::filesystem::remove(first.path(kServiceKeyFile));
  ServerPki fourth = ensure(dir);
  CHECK(fourth.written == std::vector<std::string>{"service.key"});
}

TEST_CASE("deleting both files of a CA creates a new CA and reissues its leaves only", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  std::filesystem::remove(first.path(kServerCaCertFile));
  std::filesystem::remove(first.path(kServerCaKeyFile));
  ServerPki second = ensure(dir);
  CHECK(second.written ==
        std::vector<std::string>{"server-ca.key", "server-ca.crt", "serving-kube-apiserver.crt"});
  CHECK(second.server_ca.cert_pem != first.server_ca.cert_pem);
  CHECK(second.client_ca.cert_pem == first.client_ca.cert_pem);
  CHECK(
      verify_certificate(second.serving.cert_pem, second.server_ca.cert_pem, CertUsage::kServing));
  CHECK_FALSE(
      verify_certificate(second.serving.cert_pem, first.server_ca.cert_pem, CertUsage::kServing));
}

TEST_CASE("a corrupt or mismatched CA is a clear error and nothing is written", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  // Make a leaf want reissuing too, to prove that not even it is written.
  std::filesystem::remove(first.path(kServingCertFile));
  std::string bad_file;
  std::string expect;

  SECTION("corrupt CA key") {
    spit(first.path(kServerCaKeyFile),
         "-----BEGIN EC PRIVATE KEY-----\nnot base64!\n"
         "-----END EC PRIVATE KEY-----\n");
    bad_file = first.path(kServerCaKeyFile);
  }
  SECTION("empty CA certificate") {
    spit(first.path(kClientCaCertFile), "");
    bad_file = first.path(kClientCaCertFile);
  }
  SECTION("CA key of another CA") {
    auto other = create_ca("other");
    REQUIRE(other);
    spit(first.path(kServerCaKeyFile), other->key_pem);
    bad_file = first.path(kServerCaKeyFile);
    expect = "does not match";
  }
  SECTION("CA certificate that is a leaf") {
    spit(first.path(kClientCaCertFile), first.admin.cert_pem);
    bad_file = first.path(kClientCaCertFile);
    expect = "not a CA";
  }
  SECTION("corrupt leaf certificate") {
    spit(first.path(kAdminCertFile), "garbage");
    bad_file = first.path(kAdminCertFile);
  }
  SECTION("corrupt leaf key") {
    spit(first.path(kServingKeyFile), "garbage");
    bad_file = first.path(kServingKeyFile);
  }
  SECTION("service.key that is not RSA") {
    auto key = generate_ec_key();
    REQUIRE(key);
    spit(first.path(kServiceKeyFile), *key);
    bad_file = first.path(kServiceKeyFile);
    expect = "not an RSA";
  }
  auto before = snapshot(first.tls_dir);
  auto result = ensure_server_pki(dir.path().string(), default_options());
  REQUIRE_FALSE(result);
  INFO(result.error().message);
  CHECK(result.error().reason == Reason::kInvalid);
  CHECK(result.error().message.find(bad_file) != std::string::npos);
  CHECK(result.error().message.find(expect) != std::string::npos);
  CHECK(snapshot(first.tls_dir) == before);
  CHECK_FALSE(std::filesystem::exists(first.path(kServingCertFile)));
}

TEST_CASE("half a CA pair is a NotFound error naming the missing file", "[pki]") {
  testing::TempDir dir;
  ServerPki first = ensure(dir);
  std::string missing;
  SECTION("certificate gone") {
    missing = first.path(kServerCaCertFile);
  }
  SECTION("key gone") {
    missing = first.path(kClientCaKeyFile);
  }
  std::filesystem::remove(missing);
  auto before = snapshot(first.tls_dir);
  auto result = ensure_server_pki(dir.path().string(), default_options());
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == Reason::kNotFound);
  CHECK(result.error().message.starts_with(missing + " is missing"));
  CHECK(snapshot(first.tls_dir) == before);
}

TEST_CASE("invalid options are BadRequest before anything is created", "[pki]") {
  testing::TempDir dir;
  ServerPkiOptions options = default_options();
  std::string bad;
  SECTION("tls-san with a space") {
    options.tls_sans = {"bad name"};
    bad = "bad name";
  }
  SECTION("node address with a zone") {
    options.node_addresses = {"fe80::1%eth0"};
    bad = "fe80::1%eth0";
  }
  SECTION("service IP that is a name") {
    options.service_ip = "kubernetes";
    bad = "kubernetes";
  }
  SECTION("empty label") {
    options.tls_sans = {"a..b"};
    bad = "a..b";
  }
  auto result = ensure_server_pki(dir.path().string(), options);
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == Reason::kBadRequest);
  CHECK(result.error().message.find(bad) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "server"));
  CHECK(ensure_server_pki("", options).error().reason == Reason::kBadRequest);
}

TEST_CASE("the hostname defaults to the machine's, lower-cased", "[pki]") {
  testing::TempDir dir;
  ServerPkiOptions options;
  auto spec = serving_spec(options);
  REQUIRE(spec);
  std::string host;
  REQUIRE(skiff::testing::run_command("hostname", &host) == 0);
  while (!host.empty() && host.back() == '\n') {
    host.pop_back();
  }
  for (char& c : host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  CHECK(contains(spec->dns_names, host));
  CHECK(spec->ip_addresses == std::vector<std::string>{"127.0.0.1", "::1", "10.43.0.1"});
  options.cluster_domain = "corp.internal";
  spec = serving_spec(options);
  REQUIRE(spec);
  CHECK(contains(spec->dns_names, "kubernetes.default.svc.corp.internal"));
}

TEST_CASE("an unwritable location is an Unavailable error naming the path", "[pki]") {
  testing::TempDir dir;
  spit(dir.file("server"), "a file where the directory should be");
  auto result = ensure_server_pki(dir.path().string(), default_options());
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == Reason::kUnavailable);
  CHECK(result.error().message.find(dir.file("server")) != std::string::npos);
}

}  // namespace
}  // namespace skiff::pki
