// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/server_pki.hpp"

#include <unistd.h>

#include <array>
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
      dns.push_back(std::move(lowered));
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
      ips.push_back(std::move(canonical));
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
  std::vector<std::string> dns;
  std::vector<std::string> ips;

private:
  std::set<std::string> seen_dns_;
  std::set<std::string> seen_ip_;
};

std::string local_hostname() {
  std::array<char, HOST_NAME_MAX + 1> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) {
    return {};
  }
  return buf.data();
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
  std::optional<std::string> cert_text = std::move(*cert_file);
  std::optional<std::string> key_text = std::move(*key_file);
  if (!cert_text && !key_text) {
    return std::optional<CertifiedKey>();
  }
  if (!cert_text || !key_text) {
    const std::string& missing = !cert_text ? cert_path : key_path;
    const std::string& present = !cert_text ? key_path : cert_path;
    return errors::make(Reason::kNotFound,
                        missing + " is missing but " + present +
                            " exists: restore it, or delete both to create a new CA (certificates "
                            "and kubeconfigs issued by the old CA then stop working)");
  }
  auto certs = detail::read_certificates(*cert_text, cert_path);
  if (!certs) {
    return invalid(certs.error().message);
  }
  X509* cert = certs->front().get();
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
    detail::clear_ssl_errors();
    return invalid(cert_path + " is not a CA certificate (basicConstraints CA:TRUE missing)");
  }
  auto key = detail::read_private_key(*key_text, key_path);
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
  return std::optional<CertifiedKey>(CertifiedKey{std::move(*cert_text), std::move(*key_text)});
}

// One leaf certificate to keep or reissue.
struct Leaf {
  std::string_view cert_name;
  std::string_view key_name;
  LeafSpec spec;
  const CertifiedKey* ca = nullptr;
  bool ca_is_new = false;                  // created by this call: the leaf must be reissued
  CertifiedKey* output = nullptr;          // where the kept or new files' contents go
  std::optional<std::string> cert_file{};  // as read
  std::optional<std::string> key_file{};   // as read; reused on reissue when present
  std::string reissue_reason{};            // empty: keep the files
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
Result<void> examine_leaf(const std::string& dir, Leaf& leaf, std::chrono::seconds renew_before) {
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
  if (leaf.ca_is_new) {
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

// A CA pair of the PKI: loaded from disk, or generated (created = true) when both files are absent.
struct Ca {
  std::string_view role;
  std::string_view cert_name;
  std::string_view key_name;
  CertifiedKey* output = nullptr;
  bool created = false;
};

Result<void> load_or_generate_ca(const std::string& dir, Ca& ca) {
  auto loaded = load_ca(dir, ca.cert_name, ca.key_name);
  if (!loaded) {
    return loaded.error();
  }
  std::optional<CertifiedKey> pair = std::move(*loaded);
  if (pair) {
    *ca.output = std::move(*pair);
    return {};
  }
  auto generated = create_ca(ca_common_name(ca.role));
  if (!generated) {
    return generated.error();
  }
  *ca.output = std::move(*generated);
  ca.created = true;
  return {};
}

// service.key's contents when present and an RSA key, nullopt when absent.
Result<std::optional<std::string>> load_service_key(const std::string& dir) {
  std::string path = join(dir, kServiceKeyFile);
  auto file = detail::read_file_if_exists(path);
  if (!file) {
    return file.error();
  }
  std::optional<std::string> text = std::move(*file);
  if (!text) {
    return text;
  }
  auto key = detail::read_private_key(*text, path);
  if (!key) {
    return invalid(key.error().message);
  }
  if (EVP_PKEY_get_base_id(key->get()) != EVP_PKEY_RSA) {
    return invalid(path + " is not an RSA private key");
  }
  return text;
}

// Writes files of the tls directory and records their names.
struct Writer {
  const std::string& dir;
  std::vector<std::string>* written;

  Result<void> put(std::string_view name, std::string_view data, mode_t mode) const {
    if (auto ok = detail::write_file_atomic(join(dir, name), data, mode); !ok) {
      return ok;
    }
    written->emplace_back(name);
    return {};
  }
};

Result<void> write_new_ca(const Writer& writer, const Ca& ca) {
  if (!ca.created) {
    return {};
  }
  if (auto ok = writer.put(ca.key_name, ca.output->key_pem, kKeyMode); !ok) {
    return ok;
  }
  if (auto ok = writer.put(ca.cert_name, ca.output->cert_pem, kCertMode); !ok) {
    return ok;
  }
  log::info(kLog, "created CA {}", join(writer.dir, ca.cert_name));
  return {};
}

Result<std::string> create_service_key(const Writer& writer) {
  auto key = generate_rsa_key(2048);
  if (!key) {
    return key.error();
  }
  if (auto ok = writer.put(kServiceKeyFile, *key, kKeyMode); !ok) {
    return ok.error();
  }
  log::info(kLog, "created service-account signing key {}", join(writer.dir, kServiceKeyFile));
  return key;
}

Result<void> keep_or_reissue_leaf(const Writer& writer, Leaf& leaf) {
  // examine_leaf keeps only a leaf whose two files were both read.
  if (leaf.reissue_reason.empty() && leaf.cert_file && leaf.key_file) {
    *leaf.output = CertifiedKey{std::move(*leaf.cert_file), std::move(*leaf.key_file)};
    return {};
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
  if (!leaf.key_file.has_value()) {
    if (auto ok = writer.put(leaf.key_name, issued->key_pem, kKeyMode); !ok) {
      return ok;
    }
  }
  if (auto ok = writer.put(leaf.cert_name, issued->cert_pem, kCertMode); !ok) {
    return ok;
  }
  log::info(kLog, "issued {} ({})", join(writer.dir, leaf.cert_name), leaf.reissue_reason);
  *leaf.output = std::move(*issued);
  return {};
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
  for (const std::string& name :
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
  spec.dns_names = std::move(sans.dns);
  spec.ip_addresses = std::move(sans.ips);
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

  // Phase 1: read and check every file; nothing is written until all of them are known good. CAs
  // to create are generated now, in memory, so the leaves can be checked against them.
  std::array<Ca, 2> cas{Ca{"server", kServerCaCertFile, kServerCaKeyFile, &pki.server_ca},
                        Ca{"client", kClientCaCertFile, kClientCaKeyFile, &pki.client_ca}};
  for (Ca& ca : cas) {
    if (auto ok = load_or_generate_ca(dir, ca); !ok) {
      return ok.error();
    }
  }
  auto service_key = load_service_key(dir);
  if (!service_key) {
    return service_key.error();
  }
  LeafSpec admin_spec;
  admin_spec.usage = CertUsage::kClient;
  admin_spec.common_name = std::string(kAdminUser);
  admin_spec.organizations = {std::string(kAdminGroup)};
  std::array<Leaf, 2> leaves{Leaf{kServingCertFile, kServingKeyFile, std::move(*serving),
                                  &pki.server_ca, cas[0].created, &pki.serving},
                             Leaf{kAdminCertFile, kAdminKeyFile, std::move(admin_spec),
                                  &pki.client_ca, cas[1].created, &pki.admin}};
  for (Leaf& leaf : leaves) {
    if (auto ok = examine_leaf(dir, leaf, options.renew_before); !ok) {
      return ok.error();
    }
  }

  // Phase 2: write. Keys before certificates: a crash in between leaves a leaf key without (or with
  // a stale) certificate, which the next start repairs.
  Writer writer{dir, &pki.written};
  for (const Ca& ca : cas) {
    if (auto ok = write_new_ca(writer, ca); !ok) {
      return ok.error();
    }
  }
  if (*service_key) {
    pki.service_key_pem = std::move(**service_key);
  } else {
    auto created = create_service_key(writer);
    if (!created) {
      return created.error();
    }
    pki.service_key_pem = std::move(*created);
  }
  for (Leaf& leaf : leaves) {
    if (auto ok = keep_or_reissue_leaf(writer, leaf); !ok) {
      return ok.error();
    }
  }
  return pki;
}

}  // namespace skiff::pki
