// SPDX-License-Identifier: Apache-2.0
#pragma once

// pki: the server's cluster PKI on disk, created on first start and reused on every restart (k3s
// keeps the same files under /var/lib/rancher/k3s/server/tls/; Skiff keeps them under
// <data-dir>/server/tls/).
//
// Files, all in `<data-dir>/server/tls/` (directory created 0700, parents created 0700 when
// missing):
//
//   server-ca.crt / .key               CA that signs serving certificates (CN skiff-server-ca@<unix
//   time>) client-ca.crt / .key               CA that signs client certificates (CN
//   skiff-client-ca@<unix time>) serving-kube-apiserver.crt / .key  the API server's TLS
//   certificate, EKU serverAuth, CN kube-apiserver client-admin.crt / .key            the admin
//   client certificate, EKU clientAuth,
//                                      CN system:admin, O system:masters
//   service.key                        RSA 2048 service-account token signing key (PKCS#1 PEM)
//
// Keys are written mode 0600, certificates 0644. Leaf certificate files hold the leaf followed by
// the CA that issued it (as k3s writes them), so a client that trusts the CA file sees the whole
// chain. CA and leaf keys are ECDSA P-256. Every write is atomic: a temporary file in the same
// directory, fsync, rename over the target, fsync of the directory; a reader sees the old file or
// the new one.
//
// Reuse rules (k3s's, from its control-plane dependency generator):
// - A CA whose two files both exist is loaded and used as is, forever (CAs are never reissued).
// Both
//   files absent: a new CA is created (first start, or an operator deleting both to rotate it), and
//   every leaf it signs is reissued. Exactly one of the two absent is an error: the other half
//   cannot be recreated without breaking every certificate and kubeconfig issued so far.
// - service.key is loaded when present and created when absent (k3s too); a new key invalidates
//   existing service-account tokens.
// - A leaf is reissued, signed by the same CA, when any of these hold: its certificate or key file
// is
//   absent (a missing key gets a new key; otherwise the existing key is kept, so only the
//   certificate file changes); its certificate was not issued by the current CA (signature or key
//   identifier); its key does not match its certificate; its CN or O set differs from what is
//   wanted; its SANs do not cover every wanted SAN (extra SANs are fine, as k3s); its EKU is
//   missing; it expires within `renew_before` (90 days, k3s's CertificateRenewDays). Otherwise its
//   files are not touched.
// - Anything present but unreadable as what it should be (a corrupt or encrypted PEM, a CA
// certificate
//   that is not a CA, a CA key that does not match its certificate, service.key that is not RSA) is
//   an error naming the file, and nothing at all is written: every file is checked before the first
//   write.
//
// Thread safety and blocking: a blocking start-up call (file I/O, key generation); call it once,
// from one thread, before serving. Two processes sharing a data dir are not coordinated (the server
// holds the data dir's lock before calling this).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/base/error.hpp"
#include "skiff/pki/certificate.hpp"

namespace skiff::pki {

inline constexpr std::string_view kServerCaCertFile = "server-ca.crt";
inline constexpr std::string_view kServerCaKeyFile = "server-ca.key";
inline constexpr std::string_view kClientCaCertFile = "client-ca.crt";
inline constexpr std::string_view kClientCaKeyFile = "client-ca.key";
inline constexpr std::string_view kServingCertFile = "serving-kube-apiserver.crt";
inline constexpr std::string_view kServingKeyFile = "serving-kube-apiserver.key";
inline constexpr std::string_view kAdminCertFile = "client-admin.crt";
inline constexpr std::string_view kAdminKeyFile = "client-admin.key";
inline constexpr std::string_view kServiceKeyFile = "service.key";

/// The admin client identity (k3s's client-admin).
inline constexpr std::string_view kAdminUser = "system:admin";
inline constexpr std::string_view kAdminGroup = "system:masters";
/// CN of the serving certificate (k3s's kube-apiserver serving cert).
inline constexpr std::string_view kServingCommonName = "kube-apiserver";
/// Leaves expiring sooner than this are reissued (k3s: 90 days).
inline constexpr std::chrono::seconds kRenewBefore = std::chrono::hours(24 * 90);

/// What the serving certificate must name, and policy knobs. All names and addresses are
/// case-insensitive and deduplicated; each entry of `node_addresses` and `tls_sans` is an IP SAN
/// when it parses as an IPv4/IPv6 address and a DNS SAN otherwise (as k3s's --tls-san).
struct ServerPkiOptions {
  /// The machine's hostname as a DNS SAN; empty: gethostname().
  std::string hostname;
  /// The node's addresses (--node-ip, --node-external-ip, detected interface addresses).
  std::vector<std::string> node_addresses;
  /// Every --tls-san value.
  std::vector<std::string> tls_sans;
  /// The first address of the service CIDR: the `kubernetes` Service's ClusterIP (k3s: 10.43.0.1).
  std::string service_ip = "10.43.0.1";
  /// --cluster-domain, for the kubernetes.default.svc.<domain> SAN.
  std::string cluster_domain = "cluster.local";
  /// Reissue a leaf expiring within this long.
  std::chrono::seconds renew_before = kRenewBefore;
};

/// The loaded (or created) PKI: PEM contents as on disk.
struct ServerPki {
  std::string tls_dir;          ///< `<data-dir>/server/tls`
  CertifiedKey server_ca;       ///< server-ca.crt / .key
  CertifiedKey client_ca;       ///< client-ca.crt / .key
  CertifiedKey serving;         ///< serving-kube-apiserver.crt (leaf + server CA) / .key
  CertifiedKey admin;           ///< client-admin.crt (leaf + client CA) / .key
  std::string service_key_pem;  ///< service.key (RSA private key)
  /// File names (relative to tls_dir) this call created or replaced, in write order; empty when
  /// everything was reused. For logs and tests.
  std::vector<std::string> written;

  /// `tls_dir/<name>`.
  std::string path(std::string_view name) const;
};

/// `<data_dir>/server/tls`.
std::string server_tls_dir(std::string_view data_dir);

/// The SAN lists the serving certificate gets for `options`, deduplicated and normalised (DNS names
/// lower-case, IPs canonical), in certificate order: DNS `kubernetes`, `kubernetes.default`,
/// `kubernetes.default.svc`, `kubernetes.default.svc.<cluster_domain>`, `localhost`, the hostname,
/// then DNS-looking node addresses and TLS SANs; IPs `127.0.0.1`, `::1`, node addresses, TLS SANs,
/// `service_ip`. Errors: kBadRequest naming a value that is neither an IP nor a valid DNS name
/// (letters, digits, '-', '.', '_', a leading "*." wildcard; at most 253 characters), or a
/// `service_ip` that is not an IP.
Result<LeafSpec> serving_spec(const ServerPkiOptions& options);

/// Creates or loads the server PKI under `<data_dir>/server/tls/` following the reuse rules above
/// and returns its contents. Errors (the message names the file):
/// - kBadRequest: an option is invalid (see serving_spec); nothing is touched.
/// - kNotFound: exactly one file of a CA pair is absent ("server-ca.crt is missing but
/// server-ca.key
///   exists ...").
/// - kInvalid: a file is present but corrupt, encrypted or of the wrong kind, or a CA key does not
///   match its certificate; no file is written.
/// - kUnavailable: a file or directory cannot be read, created or written (permissions, full disk).
/// - kInternal: the crypto library failed.
Result<ServerPki> ensure_server_pki(std::string_view data_dir,
                                    const ServerPkiOptions& options = {});

}  // namespace skiff::pki
