// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/server_pki.hpp"

#include <unistd.h>

#include <climits>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>

#include <openssl/x509v3.h>

#include "skiff/base/log.hpp"
#include "skiff/pki/keys.hpp"

#include "files.hpp"
#include "names.hpp"
#include "ossl.hpp"

namespace skiff::pki {

namespace {

constexpr std::string_view kLog = "pki";
constexpr mode_t kDirMode = 0700;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

Error invalid(std::string message) {
  return errors::make(Reason::kInvalid, std::move(message));
}

std::string join(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / name).string();
}

// The kubernetes-style CA name k3s uses: "<program>-<role>-ca@<unix seconds>".
std::string ca_common_name(std::string_view role) {
  return "skiff-" + std::string(role) + "-ca@" + std::to_string(std::time(nullptr));
}

// Wanted SAN lists, deduplicated: DNS names compared lower-case, IPs by their bytes.
class SanSet {
public:
  Result<void> add_dns(std::string_view name, std::string_view what) {
    std::string lowered = detail::lower(name);
    if (!detail::valid_dns_name(lowered)) {
      return errors::bad_request(std::string(what) + " \"" + std::string(name) +
                                 "\" is neither an IP address nor a valid DNS name");
    }
    if (seen_dns_.insert(lowered).second) {
      dns_.push_back(std::move(lowered));
    }
    return {};
  }
  bool add_ip(std::string_view text) {
    auto bytes = detail::parse_ip(text);
    if (!bytes) {
      return false;
    }
    std::string canonical = detail::format_ip(*bytes);
    if (seen_ip_.insert(canonical).second) {
      ips_.push_back(std::move(canonical));
    }
    return true;
  }
  // k3s's rule for --tls-san and node addresses: an IP when it parses as one, else a DNS name.
  Result<void> add_any(std::string_view value, std::string_view what) {
    if (add_ip(value)) {
      return {};
    }
    return add_dns(value, what);
  }
  std::vector<std::string> dns_;
  std::vector<std::string> ips_;

private:
  std::set<std::string> seen_dns_;
  std::set<std::string> seen_ip_;
};

std::string local_hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return {};
  }
  return buf;
}

// A CA pair on disk: both files, neither (nullopt: create one), or an error.
Result<std::optional<CertifiedKey>> load_ca(const std::string& dir, std::string_view cert_name,
                                            std::string_view key_name) {
  std::string cert_path = join(dir, cert_name);
  std::string key_path = join(dir, key_name);
  auto cert_file = detail::read_file_if_exists(cert_path);
  if (!cert_file) {
    return cert_file.error();
  }
  auto key_file = detail::read_file_if_exists(key_path);
  if (!key_file) {
    return key_file.error();
  }
  if (!*cert_file && !*key_file) {
    return std::optional<CertifiedKey>();
  }
  if (!*cert_file || !*key_file) {
    const std::string& missing = !*cert_file ? cert_path : key_path;
    const std::string& present = !*cert_file ? key_path : cert_path;
    return errors::make(Reason::kNotFound,
                        missing + " is missing but " + present +
                            " exists: restore it, or delete both to create a new CA (certificates "
                            "and kubeconfigs issued by the old CA then stop working)");
  }
  auto certs = detail::read_certificates(**cert_file, cert_path);
  if (!certs) {
    return invalid(certs.error().message);
  }
  X509* cert = certs->front().get();
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
    detail::clear_ssl_errors();
    return invalid(cert_path + " is not a CA certificate (basicConstraints CA:TRUE missing)");
  }
  auto key = detail::read_private_key(**key_file, key_path);
  if (!key) {
    return invalid(key.error().message);
  }
  if (X509_check_private_key(cert, key->get()) != 1) {
    detail::clear_ssl_errors();
    return invalid(key_path + " does not match " + cert_path);
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    log::warn(kLog, "{} has expired: certificates it signs will not verify", cert_path);
  }
  return std::optional<CertifiedKey>(CertifiedKey{std::move(**cert_file), std::move(**key_file)});
}

// One leaf certificate to keep or reissue.
struct Leaf {
  std::string_view cert_name;
  std::string_view key_name;
  LeafSpec spec;
  const CertifiedKey* ca = nullptr;
  std::optional<std::string> cert_file;  // as read
  std::optional<std::string> key_file;   // as read; reused on reissue when present
  std::string reissue_reason;            // empty: keep the files
};

bool covers(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  std::set<std::string> set(have.begin(), have.end());
  for (const auto& w : want) {
    if (!set.contains(w)) {
      return false;
    }
  }
  return true;
}

// Fills leaf.cert_file/key_file and decides whether to reissue. Corrupt files are errors.
Result<void> examine_leaf(const std::string& dir, Leaf& leaf, bool ca_is_new,
                          std::chrono::seconds renew_before) {
  std::string cert_path = join(dir, leaf.cert_name);
  std::string key_path = join(dir, leaf.key_name);
  auto cert_file = detail::read_file_if_exists(cert_path);
  if (!cert_file) {
    return cert_file.error();
  }
  auto key_file = detail::read_file_if_exists(key_path);
  if (!key_file) {
    return key_file.error();
  }
  leaf.cert_file = std::move(*cert_file);
  leaf.key_file = std::move(*key_file);

  // Parse whatever exists first, so a corrupt file is reported even when the leaf would be
  // reissued anyway.
  detail::PkeyPtr key;
  if (leaf.key_file) {
    auto parsed = detail::read_private_key(*leaf.key_file, key_path);
    if (!parsed) {
      return invalid(parsed.error().message);
    }
    key = std::move(*parsed);
  }
  std::vector<detail::X509Ptr> certs;
  if (leaf.cert_file) {
    auto parsed = detail::read_certificates(*leaf.cert_file, cert_path);
    if (!parsed) {
      return invalid(parsed.error().message);
    }
    certs = std::move(*parsed);
  }
  if (!leaf.cert_file || !leaf.key_file) {
    leaf.reissue_reason = !leaf.cert_file ? "certificate missing" : "key missing";
    return {};
  }
  if (ca_is_new) {
    leaf.reissue_reason = "its CA was created";
    return {};
  }
  auto info = inspect_certificate(*leaf.cert_file);
  if (!info) {
    return invalid(cert_path + ": " + info.error().message);
  }
  X509* cert = certs.front().get();
  auto ca_cert = detail::read_certificate(leaf.ca->cert_pem, "CA certificate");
  if (!ca_cert) {
    return ca_cert.error();
  }
  detail::PkeyPtr ca_public(X509_get_pubkey(ca_cert->get()));
  bool issued_by_ca = X509_check_issued(ca_cert->get(), cert) == X509_V_OK && ca_public &&
                      X509_verify(cert, ca_public.get()) == 1;
  bool key_matches = X509_check_private_key(cert, key.get()) == 1;
  detail::clear_ssl_errors();

  std::set<std::string> have_orgs(info->organizations.begin(), info->organizations.end());
  std::set<std::string> want_orgs(leaf.spec.organizations.begin(), leaf.spec.organizations.end());
  std::vector<std::string> have_dns;
  for (const auto& name : info->dns_names) {
    have_dns.push_back(detail::lower(name));
  }
  bool eku_ok = leaf.spec.usage == CertUsage::kServing ? info->server_auth : info->client_auth;
  auto now = std::chrono::system_clock::now();

  if (!issued_by_ca) {
    leaf.reissue_reason = "not issued by the current CA";
  } else if (!key_matches) {
    leaf.reissue_reason = "certificate does not match its key";
  } else if (info->common_name != leaf.spec.common_name || have_orgs != want_orgs) {
    leaf.reissue_reason = "subject changed";
  } else if (!eku_ok) {
    leaf.reissue_reason = "extended key usage missing";
  } else if (!covers(have_dns, leaf.spec.dns_names) ||
             !covers(info->ip_addresses, leaf.spec.ip_addresses)) {
    leaf.reissue_reason = "subject alternative names changed";
  } else if (info->not_after - now < std::max(renew_before, std::chrono::seconds(0))) {
    leaf.reissue_reason = "expires within the renewal window";
  }
  return {};
}

// The CA certificates of a CA file, normalised, for appending after a leaf.
Result<std::string> ca_chain(const CertifiedKey& ca) {
  auto certs = split_certificates(ca.cert_pem);
  if (!certs) {
    return certs.error();
  }
  std::string out;
  for (const auto& c : *certs) {
    out += c;
  }
  return out;
}

}  // namespace

std::string ServerPki::path(std::string_view name) const {
  return join(tls_dir, name);
}

std::string server_tls_dir(std::string_view data_dir) {
  return (std::filesystem::path(std::string(data_dir)) / "server" / "tls").string();
}

Result<LeafSpec> serving_spec(const ServerPkiOptions& options) {
  SanSet sans;
  if (!detail::valid_dns_name(options.cluster_domain)) {
    return errors::bad_request("invalid cluster domain \"" + options.cluster_domain + "\"");
  }
  for (std::string name :
       {std::string("kubernetes"), std::string("kubernetes.default"),
        std::string("kubernetes.default.svc"), "kubernetes.default.svc." + options.cluster_domain,
        std::string("localhost")}) {
    if (auto ok = sans.add_dns(name, "name"); !ok) {
      return ok.error();
    }
  }
  if (!options.hostname.empty()) {
    if (auto ok = sans.add_dns(options.hostname, "hostname"); !ok) {
      return ok.error();
    }
  } else if (std::string host = local_hostname(); !host.empty()) {
    // The machine's own name is best effort: a name certificates cannot carry is left out.
    if (auto ok = sans.add_dns(host, "hostname"); !ok) {
      log::warn(kLog, "hostname {} left out of the serving certificate: {}", host,
                ok.error().message);
    }
  }
  sans.add_ip("127.0.0.1");
  sans.add_ip("::1");
  for (const auto& address : options.node_addresses) {
    if (auto ok = sans.add_any(address, "node address"); !ok) {
      return ok.error();
    }
  }
  for (const auto& san : options.tls_sans) {
    if (auto ok = sans.add_any(san, "--tls-san"); !ok) {
      return ok.error();
    }
  }
  if (!sans.add_ip(options.service_ip)) {
    return errors::bad_request("invalid service IP \"" + options.service_ip + "\"");
  }
  LeafSpec spec;
  spec.usage = CertUsage::kServing;
  spec.common_name = std::string(kServingCommonName);
  spec.dns_names = std::move(sans.dns_);
  spec.ip_addresses = std::move(sans.ips_);
  return spec;
}

Result<ServerPki> ensure_server_pki(std::string_view data_dir, const ServerPkiOptions& options) {
  if (data_dir.empty()) {
    return errors::bad_request("empty data directory");
  }
  auto serving = serving_spec(options);
  if (!serving) {
    return serving.error();
  }
  ServerPki pki;
  pki.tls_dir = server_tls_dir(data_dir);
  if (auto ok = detail::make_directories(pki.tls_dir, kDirMode); !ok) {
    return ok.error();
  }
  const std::string& dir = pki.tls_dir;

  // Phase 1: read and check every file; nothing is written until all of them are known good.
  auto server_ca = load_ca(dir, kServerCaCertFile, kServerCaKeyFile);
  if (!server_ca) {
    return server_ca.error();
  }
  auto client_ca = load_ca(dir, kClientCaCertFile, kClientCaKeyFile);
  if (!client_ca) {
    return client_ca.error();
  }
  std::string service_path = join(dir, kServiceKeyFile);
  auto service_file = detail::read_file_if_exists(service_path);
  if (!service_file) {
    return service_file.error();
  }
  if (*service_file) {
    auto key = detail::read_private_key(**service_file, service_path);
    if (!key) {
      return invalid(key.error().message);
    }
    if (EVP_PKEY_get_base_id(key->get()) != EVP_PKEY_RSA) {
      return invalid(service_path + " is not an RSA private key");
    }
  }
  // CAs to create are generated now (no write yet) so the leaves can be checked against them.
  bool server_ca_new = !*server_ca;
  bool client_ca_new = !*client_ca;
  if (server_ca_new) {
    auto ca = create_ca(ca_common_name("server"));
    if (!ca) {
      return ca.error();
    }
    *server_ca = std::move(*ca);
  }
  if (client_ca_new) {
    auto ca = create_ca(ca_common_name("client"));
    if (!ca) {
      return ca.error();
    }
    *client_ca = std::move(*ca);
  }
  pki.server_ca = std::move(**server_ca);
  pki.client_ca = std::move(**client_ca);

  LeafSpec admin_spec;
  admin_spec.usage = CertUsage::kClient;
  admin_spec.common_name = std::string(kAdminUser);
  admin_spec.organizations = {std::string(kAdminGroup)};
  Leaf leaves[] = {
      {kServingCertFile, kServingKeyFile, std::move(*serving), &pki.server_ca, {}, {}, {}},
      {kAdminCertFile, kAdminKeyFile, std::move(admin_spec), &pki.client_ca, {}, {}, {}},
  };
  bool leaf_ca_new[] = {server_ca_new, client_ca_new};
  for (std::size_t i = 0; i < std::size(leaves); ++i) {
    if (auto ok = examine_leaf(dir, leaves[i], leaf_ca_new[i], options.renew_before); !ok) {
      return ok.error();
    }
  }

  // Phase 2: write. Keys before certificates: a crash in between leaves a key without (or with a
  // stale) certificate, which the next start repairs for leaves.
  auto write = [&](std::string_view name, std::string_view data, mode_t mode) -> Result<void> {
    if (auto ok = detail::write_file_atomic(join(dir, name), data, mode); !ok) {
      return ok;
    }
    pki.written.emplace_back(name);
    return {};
  };
  struct NewCa {
    bool is_new;
    const CertifiedKey& ca;
    std::string_view cert_name;
    std::string_view key_name;
  };
  for (const NewCa& c :
       {NewCa{server_ca_new, pki.server_ca, kServerCaCertFile, kServerCaKeyFile},
        NewCa{client_ca_new, pki.client_ca, kClientCaCertFile, kClientCaKeyFile}}) {
    if (!c.is_new) {
      continue;
    }
    if (auto ok = write(c.key_name, c.ca.key_pem, kKeyMode); !ok) {
      return ok.error();
    }
    if (auto ok = write(c.cert_name, c.ca.cert_pem, kCertMode); !ok) {
      return ok.error();
    }
    log::info(kLog, "created CA {}", join(dir, c.cert_name));
  }

  if (*service_file) {
    pki.service_key_pem = std::move(**service_file);
  } else {
    auto key = generate_rsa_key(2048);
    if (!key) {
      return key.error();
    }
    if (auto ok = write(kServiceKeyFile, *key, kKeyMode); !ok) {
      return ok.error();
    }
    log::info(kLog, "created service-account signing key {}", service_path);
    pki.service_key_pem = std::move(*key);
  }

  CertifiedKey* outputs[] = {&pki.serving, &pki.admin};
  for (std::size_t i = 0; i < std::size(leaves); ++i) {
    Leaf& leaf = leaves[i];
    if (leaf.reissue_reason.empty()) {
      *outputs[i] = CertifiedKey{std::move(*leaf.cert_file), std::move(*leaf.key_file)};
      continue;
    }
    auto issued = issue_certificate(*leaf.ca, leaf.spec, leaf.key_file.value_or(std::string()));
    if (!issued) {
      return issued.error();
    }
    auto chain = ca_chain(*leaf.ca);
    if (!chain) {
      return chain.error();
    }
    issued->cert_pem += *chain;
    if (!leaf.key_file) {
      if (auto ok = write(leaf.key_name, issued->key_pem, kKeyMode); !ok) {
        return ok.error();
      }
    }
    if (auto ok = write(leaf.cert_name, issued->cert_pem, kCertMode); !ok) {
      return ok.error();
    }
    log::info(kLog, "issued {} ({})", join(dir, leaf.cert_name), leaf.reissue_reason);
    *outputs[i] = std::move(*issued);
  }
  return pki;
}

}  // namespace skiff::pki
