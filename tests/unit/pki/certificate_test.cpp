// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/certificate.hpp"

#include <algorithm>

#include "skiff/pki/keys.hpp"

#include "pki_test_util.hpp"

namespace skiff::pki {
namespace {

using namespace std::chrono_literals;
using test::run;
using test::sh_quote;
using test::spit;

CertifiedKey make_ca(std::string_view cn = "skiff-test-ca@1") {
  auto ca = create_ca(cn);
  REQUIRE(ca);
  return *ca;
}

TEST_CASE("a generated EC key is a valid P-256 key in SEC 1 PEM", "[pki]") {
  testing::TempDir dir;
  auto key = generate_ec_key();
  REQUIRE(key);
  CHECK(key->starts_with("-----BEGIN EC PRIVATE KEY-----"));
  spit(dir.file("k.pem"), *key);
  std::string out;
  REQUIRE(run("openssl ec -check -noout -in " + sh_quote(dir.file("k.pem")), &out) == 0);
  CHECK(out.find("EC Key valid") != std::string::npos);
  REQUIRE(run("openssl ec -noout -text -in " + sh_quote(dir.file("k.pem")), &out) == 0);
  CHECK(out.find("prime256v1") != std::string::npos);
  auto other = generate_ec_key();
  REQUIRE(other);
  CHECK(*other != *key);
}

TEST_CASE("an RSA key has the requested size and its public key matches it", "[pki]") {
  testing::TempDir dir;
  auto key = generate_rsa_key(2048);
  REQUIRE(key);
  CHECK(key->starts_with("-----BEGIN RSA PRIVATE KEY-----"));
  spit(dir.file("k.pem"), *key);
  std::string out;
  REQUIRE(run("openssl rsa -check -noout -text -in " + sh_quote(dir.file("k.pem")), &out) == 0);
  CHECK(out.find("2048 bit") != std::string::npos);
  CHECK(out.find("RSA key ok") != std::string::npos);

  auto pub = public_key_pem(*key);
  REQUIRE(pub);
  CHECK(pub->starts_with("-----BEGIN PUBLIC KEY-----"));
  REQUIRE(run("openssl pkey -pubout -in " + sh_quote(dir.file("k.pem")), &out) == 0);
  CHECK(out == *pub);
  auto same = keys_match(*key, *pub);
  REQUIRE(same);
  CHECK(*same);
  auto other = generate_ec_key();
  REQUIRE(other);
  auto differ = keys_match(*key, *other);
  REQUIRE(differ);
  CHECK_FALSE(*differ);
  CHECK(generate_rsa_key(1024).error().reason == Reason::kBadRequest);
  CHECK(public_key_pem("not a key").error().reason == Reason::kBadRequest);
}

TEST_CASE("an encrypted private key is refused without prompting", "[pki]") {
  testing::TempDir dir;
  auto key = generate_ec_key();
  REQUIRE(key);
  spit(dir.file("k.pem"), *key);
  std::string encrypted;
  REQUIRE(run("openssl pkey -aes256 -passout pass:secret -in " + sh_quote(dir.file("k.pem")),
              &encrypted) == 0);
  auto pub = public_key_pem(encrypted);
  REQUIRE_FALSE(pub);
  CHECK(pub.error().reason == Reason::kBadRequest);
  CHECK(pub.error().message.find("encrypted") != std::string::npos);
}

TEST_CASE("a CA is self-signed, ten years, with critical CA constraints and key usage", "[pki]") {
  testing::TempDir dir;
  auto before = std::chrono::system_clock::now();
  CertifiedKey ca = make_ca("skiff-server-ca@1700000000");
  auto info = inspect_certificate(ca.cert_pem);
  REQUIRE(info);
  CHECK(info->common_name == "skiff-server-ca@1700000000");
  CHECK(info->issuer_common_name == info->common_name);
  CHECK(info->is_ca);
  CHECK_FALSE(info->subject_key_id_hex.empty());
  CHECK(info->not_before <= before - 55s);
  CHECK(info->not_before >= before - 2min);
  CHECK(info->not_after - info->not_before >= kCaValidity);
  CHECK(info->not_after - info->not_before <= kCaValidity + 2min);

  spit(dir.file("ca.crt"), ca.cert_pem);
  spit(dir.file("ca.key"), ca.key_pem);
  std::string out;
  REQUIRE(run("openssl verify -CAfile " + sh_quote(dir.file("ca.crt")) + " " +
                  sh_quote(dir.file("ca.crt")),
              &out) == 0);
  REQUIRE(run("openssl x509 -noout -ext basicConstraints,keyUsage,subjectKeyIdentifier -in " +
                  sh_quote(dir.file("ca.crt")),
              &out) == 0);
  CHECK(out.find("X509v3 Basic Constraints: critical") != std::string::npos);
  CHECK(out.find("CA:TRUE") != std::string::npos);
  CHECK(out.find("X509v3 Key Usage: critical") != std::string::npos);
  CHECK(out.find("Digital Signature, Certificate Sign, CRL Sign") != std::string::npos);
  CHECK(out.find("X509v3 Subject Key Identifier") != std::string::npos);
  REQUIRE(run("openssl x509 -noout -text -in " + sh_quote(dir.file("ca.crt")), &out) == 0);
  CHECK(out.find("ecdsa-with-SHA256") != std::string::npos);
  REQUIRE(run("openssl ec -check -noout -in " + sh_quote(dir.file("ca.key")), &out) == 0);

  CHECK(create_ca("").error().reason == Reason::kBadRequest);
  CHECK(create_ca("x", 0s).error().reason == Reason::kBadRequest);
}

TEST_CASE("a serving certificate has serverAuth and DNS, IPv4 and IPv6 SANs, and verifies",
          "[pki]") {
  testing::TempDir dir;
  CertifiedKey ca = make_ca();
  LeafSpec spec;
  spec.usage = CertUsage::kServing;
  spec.common_name = "kube-apiserver";
  spec.dns_names = {"kubernetes", "kubernetes.default.svc.cluster.local", "node-1.example"};
  spec.ip_addresses = {"127.0.0.1", "10.43.0.1", "::1", "fd00:10::5"};
  auto before = std::chrono::system_clock::now();
  auto leaf = issue_certificate(ca, spec);
  REQUIRE(leaf);
  CHECK(leaf->key_pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));

  auto info = inspect_certificate(leaf->cert_pem);
  REQUIRE(info);
  CHECK(info->common_name == "kube-apiserver");
  CHECK(info->issuer_common_name == "skiff-test-ca@1");
  CHECK(info->dns_names == spec.dns_names);
  CHECK(info->ip_addresses ==
        std::vector<std::string>{"127.0.0.1", "10.43.0.1", "::1", "fd00:10::5"});
  CHECK(info->server_auth);
  CHECK_FALSE(info->client_auth);
  CHECK_FALSE(info->is_ca);
  CHECK(info->not_before <= before - 55s);
  CHECK(info->not_after - info->not_before >= kLeafValidity);
  CHECK(info->not_after - info->not_before <= kLeafValidity + 2min);
  auto ca_info = inspect_certificate(ca.cert_pem);
  REQUIRE(ca_info);
  CHECK(info->authority_key_id_hex == ca_info->subject_key_id_hex);
  CHECK(info->serial_hex.size() <= 32);

  spit(dir.file("ca.crt"), ca.cert_pem);
  spit(dir.file("leaf.crt"), leaf->cert_pem);
  std::string out;
  REQUIRE(run("openssl verify -purpose sslserver -CAfile " + sh_quote(dir.file("ca.crt")) + " " +
                  sh_quote(dir.file("leaf.crt")),
              &out) == 0);
  CHECK(out.find(": OK") != std::string::npos);
  REQUIRE(run("openssl x509 -noout -ext subjectAltName,extendedKeyUsage,basicConstraints,keyUsage "
              "-in " +
                  sh_quote(dir.file("leaf.crt")),
              &out) == 0);
  CHECK(out.find("DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, DNS:node-1.example") !=
        std::string::npos);
  CHECK(out.find("IP Address:127.0.0.1, IP Address:10.43.0.1, IP Address:0:0:0:0:0:0:0:1, "
                 "IP Address:FD00:10:0:0:0:0:0:5") != std::string::npos);
  CHECK(out.find("TLS Web Server Authentication") != std::string::npos);
  CHECK(out.find("TLS Web Client Authentication") == std::string::npos);
  CHECK(out.find("CA:FALSE") != std::string::npos);
  CHECK(out.find("X509v3 Key Usage: critical") != std::string::npos);

  CHECK(verify_certificate(leaf->cert_pem, ca.cert_pem, CertUsage::kServing));
  auto as_client = verify_certificate(leaf->cert_pem, ca.cert_pem, CertUsage::kClient);
  REQUIRE_FALSE(as_client);
  CHECK(as_client.error().reason == Reason::kUnauthorized);
  CHECK(as_client.error().message.find("purpose") != std::string::npos);
  auto later = verify_certificate(leaf->cert_pem, ca.cert_pem, CertUsage::kServing,
                                  std::chrono::system_clock::now() + kLeafValidity + 24h);
  REQUIRE_FALSE(later);
  CHECK(later.error().message.find("expired") != std::string::npos);
  auto other_ca = make_ca("other");
  auto wrong = verify_certificate(leaf->cert_pem, other_ca.cert_pem, CertUsage::kServing);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().reason == Reason::kUnauthorized);
}

TEST_CASE("serials are random 128-bit numbers", "[pki]") {
  CertifiedKey ca = make_ca();
  LeafSpec spec;
  spec.common_name = "x";
  auto a = issue_certificate(ca, spec);
  auto b = issue_certificate(ca, spec);
  REQUIRE(a);
  REQUIRE(b);
  auto ia = inspect_certificate(a->cert_pem);
  auto ib = inspect_certificate(b->cert_pem);
  REQUIRE(ia);
  REQUIRE(ib);
  CHECK(ia->serial_hex != ib->serial_hex);
  CHECK(ia->serial_hex.size() <= 32);
  // Two random 128-bit serials both under 100 bits would be a 1 in 2^56 event.
  CHECK(std::max(ia->serial_hex.size(), ib->serial_hex.size()) > 25);
}

TEST_CASE("a client certificate carries clientAuth, CN and every O, read back as an identity",
          "[pki]") {
  testing::TempDir dir;
  CertifiedKey ca = make_ca("skiff-client-ca@1");
  LeafSpec spec;
  spec.usage = CertUsage::kClient;
  spec.common_name = "system:admin";
  spec.organizations = {"system:masters", "team-a"};
  auto leaf = issue_certificate(ca, spec);
  REQUIRE(leaf);
  spit(dir.file("ca.crt"), ca.cert_pem);
  spit(dir.file("leaf.crt"), leaf->cert_pem);
  std::string out;
  REQUIRE(run("openssl verify -purpose sslclient -CAfile " + sh_quote(dir.file("ca.crt")) + " " +
                  sh_quote(dir.file("leaf.crt")),
              &out) == 0);
  REQUIRE(run("openssl x509 -noout -subject -nameopt RFC2253 -ext extendedKeyUsage -in " +
                  sh_quote(dir.file("leaf.crt")),
              &out) == 0);
  // RFC 2253 lists the RDNs last first: the subject was written O=system:masters, O=team-a, CN=...
  CHECK(out.find("subject=CN=system:admin,O=team-a,O=system:masters") != std::string::npos);
  CHECK(out.find("TLS Web Client Authentication") != std::string::npos);
  CHECK(out.find("TLS Web Server Authentication") == std::string::npos);

  auto der = certificate_der(leaf->cert_pem);
  REQUIRE(der);
  auto id = identity_from_der(*der);
  REQUIRE(id);
  CHECK(id->username == "system:admin");
  CHECK(id->groups == std::vector<std::string>{"system:masters", "team-a"});
  auto info = inspect_certificate(*der);
  REQUIRE(info);
  CHECK(info->client_auth);
  CHECK_FALSE(info->server_auth);
  CHECK(verify_certificate(*der, ca.cert_pem, CertUsage::kClient));
}

TEST_CASE("a serving certificate or garbage is not a client identity", "[pki]") {
  CertifiedKey ca = make_ca();
  LeafSpec spec;
  spec.usage = CertUsage::kServing;
  spec.common_name = "kube-apiserver";
  auto leaf = issue_certificate(ca, spec);
  REQUIRE(leaf);
  auto der = certificate_der(leaf->cert_pem);
  REQUIRE(der);
  auto id = identity_from_der(*der);
  REQUIRE_FALSE(id);
  CHECK(id.error().reason == Reason::kUnauthorized);
  CHECK(identity_from_der("").error().reason == Reason::kUnauthorized);
  CHECK(identity_from_der("\x30\x03\x02\x01\x01").error().reason == Reason::kUnauthorized);
  // A DER certificate followed by junk is not accepted as that certificate.
  CHECK(identity_from_der(*der + "x").error().reason == Reason::kUnauthorized);
}

TEST_CASE("issuing with a given key certifies that key", "[pki]") {
  CertifiedKey ca = make_ca();
  auto key = generate_ec_key();
  REQUIRE(key);
  LeafSpec spec;
  spec.common_name = "x";
  auto leaf = issue_certificate(ca, spec, *key);
  REQUIRE(leaf);
  CHECK(leaf->key_pem == *key);
  auto cert_pub = public_key_pem(*key);
  REQUIRE(cert_pub);
  auto matches = keys_match(*key, leaf->key_pem);
  REQUIRE(matches);
  CHECK(*matches);
}

TEST_CASE("bad issuing input is a clear BadRequest", "[pki]") {
  CertifiedKey ca = make_ca();
  LeafSpec spec;
  spec.common_name = "x";

  SECTION("an invalid DNS name") {
    spec.dns_names = {"bad name"};
    auto r = issue_certificate(ca, spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Reason::kBadRequest);
    CHECK(r.error().message.find("bad name") != std::string::npos);
  }
  SECTION("an invalid IP") {
    spec.ip_addresses = {"300.1.1.1"};
    auto r = issue_certificate(ca, spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("300.1.1.1") != std::string::npos);
  }
  SECTION("an empty common name") {
    spec.common_name.clear();
    CHECK(issue_certificate(ca, spec).error().reason == Reason::kBadRequest);
  }
  SECTION("an overlong common name") {
    spec.common_name = std::string(200, 'a');
    CHECK(issue_certificate(ca, spec).error().reason == Reason::kBadRequest);
  }
  SECTION("a CA that is not a CA") {
    auto leaf = issue_certificate(ca, spec);
    REQUIRE(leaf);
    auto r = issue_certificate(*leaf, spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("not a CA") != std::string::npos);
  }
  SECTION("a CA key that does not belong to the CA") {
    CertifiedKey mixed{ca.cert_pem, make_ca().key_pem};
    auto r = issue_certificate(mixed, spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("does not match") != std::string::npos);
  }
  SECTION("a corrupt leaf key") {
    CHECK(issue_certificate(ca, spec, "-----BEGIN EC PRIVATE KEY-----\nxx\n").error().reason ==
          Reason::kBadRequest);
  }
}

TEST_CASE("inspect and split read PEM bundles and refuse garbage", "[pki]") {
  CertifiedKey ca = make_ca("first");
  CertifiedKey other = make_ca("second");
  auto certs = split_certificates(ca.cert_pem + other.cert_pem);
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK((*certs)[0] == ca.cert_pem);
  CHECK((*certs)[1] == other.cert_pem);
  auto first = inspect_certificate(ca.cert_pem + other.cert_pem);
  REQUIRE(first);
  CHECK(first->common_name == "first");

  CHECK(inspect_certificate("").error().reason == Reason::kBadRequest);
  CHECK(inspect_certificate("hello").error().reason == Reason::kBadRequest);
  CHECK(inspect_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .error()
            .reason == Reason::kBadRequest);
  CHECK(inspect_certificate(ca.key_pem).error().reason == Reason::kBadRequest);
  // A corrupt second block makes the bundle corrupt.
  CHECK_FALSE(split_certificates(ca.cert_pem + "-----BEGIN CERTIFICATE-----\n!!\n-----END "
                                               "CERTIFICATE-----\n"));
}

}  // namespace
}  // namespace skiff::pki
