// SPDX-License-Identifier: Apache-2.0
#pragma once

// pki: X.509 certificates for the cluster, in the shapes k3s makes them. A CA is self-signed with a
// CN like `skiff-server-ca@<unix time>`, valid 10 years, basicConstraints CA:TRUE (critical),
// keyUsage keyCertSign + cRLSign + digitalSignature (critical) and a subject key identifier. Leaves
// are issued by a CA for one year with `notBefore` one minute in the past (tolerates clock skew
// between machines), a random positive 128-bit serial, basicConstraints CA:FALSE and keyUsage
// digitalSignature + keyEncipherment (both critical), an authority key identifier, and one extended
// key usage: serving certificates carry serverAuth and subjectAltNames (DNS names, IPv4 and IPv6
// addresses); client certificates carry clientAuth and a subject of O=<each group>, CN=<user> (the
// Kubernetes x509 authenticator reads the user from CN and the groups from O).
//
// This header also reads certificates back (inspect_certificate, verify_certificate) for the API
// server's client-certificate authentication and for tests.
//
// Everything crosses the boundary as PEM (or DER for certificates arriving from a TLS handshake) in
// std::string; OpenSSL stays inside src/pki. Thread safety: pure functions of their arguments; any
// thread. Issuing generates a key unless one is given (CPU time: call at start-up or on a blocking
// pool).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"

namespace skiff::pki {

/// CA validity (k3s: ten years of 365 days).
inline constexpr std::chrono::seconds kCaValidity = std::chrono::hours(24 * 365 * 10);
/// Leaf validity (k3s: one year).
inline constexpr std::chrono::seconds kLeafValidity = std::chrono::hours(24 * 365);
/// How far `notBefore` is set in the past, so a peer whose clock is a little behind accepts a
/// certificate issued a moment ago.
inline constexpr std::chrono::seconds kClockSkewAllowance = std::chrono::minutes(1);

/// A certificate and its private key, both PEM. `cert_pem` may hold a chain (leaf first, then its
/// issuers, as k3s writes leaf files); the first certificate is the one the key belongs to.
struct CertifiedKey {
  std::string cert_pem;
  std::string key_pem;
};

/// What a leaf certificate is for; selects the extended key usage.
enum class CertUsage : std::uint8_t {
  kServing,  ///< TLS server: EKU serverAuth, identified by its subjectAltNames
  kClient,   ///< TLS client: EKU clientAuth, identified by CN (user) and O (groups)
};

/// The contents of a leaf certificate to issue.
struct LeafSpec {
  CertUsage usage = CertUsage::kServing;
  std::string common_name;                 ///< required, non-empty
  std::vector<std::string> organizations;  ///< subject O values in order (client groups)
  std::vector<std::string> dns_names;      ///< SAN DNS names: letters, digits, '-', '.', '_', '*'
  std::vector<std::string> ip_addresses;   ///< SAN IPs, textual IPv4 or IPv6 ("10.43.0.1", "::1")
  std::chrono::seconds validity = kLeafValidity;  ///< from now (plus the skew allowance before)
};

/// A new self-signed CA: a fresh P-256 key and its certificate with subject CN=`common_name`, valid
/// `validity` from now (notBefore one minute in the past). Errors: kBadRequest (empty CN, validity
/// not positive), kInternal.
Result<CertifiedKey> create_ca(std::string_view common_name,
                               std::chrono::seconds validity = kCaValidity);

/// Issues a leaf certificate described by `spec`, signed by `ca` (its first certificate and its
/// key). `key_pem` is the leaf's private key to certify; when empty a new P-256 key is generated.
/// The result holds the leaf certificate alone (no chain) and the key PEM. Errors: kBadRequest
/// (empty CN, a DNS name or IP that does not parse, validity not positive, `key_pem` or the CA not
/// readable, the CA certificate is not a CA or its key does not match it), kInternal.
Result<CertifiedKey> issue_certificate(const CertifiedKey& ca, const LeafSpec& spec,
                                       std::string_view key_pem = {});

/// What a certificate says, for authentication decisions, reuse checks and tests.
struct CertificateInfo {
  std::string common_name;                 ///< subject CN (the last one if several, as Go reads it)
  std::vector<std::string> organizations;  ///< subject O values in order
  std::string issuer_common_name;          ///< issuer CN
  std::vector<std::string> dns_names;      ///< SAN DNS names in certificate order
  std::vector<std::string> ip_addresses;   ///< SAN IPs, canonical text ("127.0.0.1", "::1")
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  bool is_ca = false;                ///< basicConstraints CA:TRUE
  bool server_auth = false;          ///< EKU serverAuth present
  bool client_auth = false;          ///< EKU clientAuth present
  std::string serial_hex;            ///< serial number, upper-case hex
  std::string subject_key_id_hex;    ///< empty when absent
  std::string authority_key_id_hex;  ///< empty when absent
};

/// Reads one certificate: PEM (the first `CERTIFICATE` block; later blocks are ignored) or DER (the
/// whole input must be the one certificate). Errors: kBadRequest (not a certificate).
Result<CertificateInfo> inspect_certificate(std::string_view pem_or_der);

/// The DER bytes of the first certificate in `pem`. Errors: kBadRequest.
Result<std::string> certificate_der(std::string_view pem);

/// The certificates of a PEM bundle, each re-encoded as its own PEM block, in order. Errors:
/// kBadRequest (no certificate, or a block that does not parse).
Result<std::vector<std::string>> split_certificates(std::string_view pem);

/// Checks that `cert` (PEM or DER; for PEM the first certificate is checked and later ones are
/// offered as intermediates) chains to one of the certificates in `ca_bundle_pem`, is within its
/// validity period at `at` (default: now) and may be used for `usage` (EKU). Errors: kUnauthorized
/// with OpenSSL's reason ("certificate has expired", "unsupported certificate purpose", ...),
/// kBadRequest (an input does not parse).
Result<void> verify_certificate(std::string_view cert, std::string_view ca_bundle_pem,
                                CertUsage usage,
                                std::optional<std::chrono::system_clock::time_point> at = {});

/// The Kubernetes user a client certificate names (upstream's x509 authenticator: user = subject
/// CN, groups = subject O values).
struct ClientIdentity {
  std::string username;
  std::vector<std::string> groups;
};

/// The identity in a client certificate already verified by the TLS layer (this does not check the
/// chain or time: the handshake did). Errors: kUnauthorized (not a certificate, empty CN, or an EKU
/// extension that allows neither clientAuth nor any purpose — a serving certificate is not a
/// login).
Result<ClientIdentity> identity_from_der(std::string_view der);

}  // namespace skiff::pki
