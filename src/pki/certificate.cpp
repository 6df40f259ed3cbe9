// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/certificate.hpp"

#include <ctime>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "skiff/pki/keys.hpp"

#include "encoding.hpp"
#include "names.hpp"
#include "ossl.hpp"

namespace skiff::pki {

using detail::BnPtr;
using detail::PkeyPtr;
using detail::X509Ptr;

namespace {

// Beyond this a validity is a mistake (and time_t arithmetic could overflow).
constexpr std::chrono::seconds kMaxValidity = std::chrono::hours(24 * 365 * 100);

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;

Result<void> check_validity(std::chrono::seconds validity) {
  if (validity.count() <= 0 || validity > kMaxValidity) {
    return errors::bad_request("certificate validity must be positive and at most 100 years");
  }
  return {};
}

// A random positive 128-bit serial (RFC 5280 allows up to 20 octets; random serials keep two
// certificates from one CA distinct even when issued in the same second).
Result<void> set_random_serial(X509* cert) {
  BnPtr bn(BN_new());
  if (!bn) {
    return detail::ssl_error(Reason::kInternal, "cannot allocate a serial number");
  }
  do {
    if (BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return detail::ssl_error(Reason::kInternal, "cannot generate a serial number");
    }
  } while (BN_is_zero(bn.get()));
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return detail::ssl_error(Reason::kInternal, "cannot set the serial number");
  }
  return {};
}

Result<void> add_name_entry(X509_NAME* name, const char* field, std::string_view value) {
  if (value.size() > 1024 ||
      X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return errors::bad_request(detail::ssl_message(std::string("invalid subject ") + field + " \"" +
                                                   std::string(value) + "\""));
  }
  return {};
}

// A certificate with everything but extensions and the issuer: version 3, serial, validity from a
// minute ago, subject O... then CN (Go's order, which k3s certificates show), public key.
Result<X509Ptr> new_certificate(EVP_PKEY* key, std::string_view common_name,
                                const std::vector<std::string>& organizations,
                                std::chrono::seconds validity) {
  if (common_name.empty()) {
    return errors::bad_request("a certificate needs a common name");
  }
  if (auto ok = check_validity(validity); !ok) {
    return ok.error();
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot allocate a certificate");
  }
  if (auto ok = set_random_serial(cert.get()); !ok) {
    return ok.error();
  }
  std::time_t now = std::time(nullptr);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), now - kClockSkewAllowance.count()) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), now + validity.count()) == nullptr) {
    return detail::ssl_error(Reason::kInternal, "cannot set the validity period");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const auto& org : organizations) {
    if (auto ok = add_name_entry(subject, "O", org); !ok) {
      return ok.error();
    }
  }
  if (auto ok = add_name_entry(subject, "CN", common_name); !ok) {
    return ok.error();
  }
  if (X509_set_pubkey(cert.get(), key) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot set the public key");
  }
  return cert;
}

// Adds one extension in openssl.cnf syntax; `issuer` and `subject` feed the key identifiers.
Result<void> add_extension(X509* issuer, X509* subject, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) {
    return detail::ssl_error(Reason::kInternal,
                             std::string("cannot build extension ") + OBJ_nid2sn(nid));
  }
  int added = X509_add_ext(subject, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot add an extension");
  }
  return {};
}

Result<void> add_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty()) {
    return {};
  }
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) {
    return detail::ssl_error(Reason::kInternal, "cannot allocate subjectAltName");
  }
  auto push = [&](int type, int string_type, std::string_view bytes) -> Result<void> {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_STRING* value = ASN1_STRING_type_new(string_type);
    if (name == nullptr || value == nullptr ||
        ASN1_STRING_set(value, bytes.data(), static_cast<int>(bytes.size())) != 1) {
      GENERAL_NAME_free(name);
      ASN1_STRING_free(value);
      return detail::ssl_error(Reason::kInternal, "cannot build subjectAltName");
    }
    GENERAL_NAME_set0_value(name, type, value);
    if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
      GENERAL_NAME_free(name);
      return detail::ssl_error(Reason::kInternal, "cannot build subjectAltName");
    }
    return {};
  };
  for (const auto& dns : dns_names) {
    if (!detail::valid_dns_name(dns)) {
      return errors::bad_request("invalid DNS name for a certificate: \"" + dns + "\"");
    }
    if (auto ok = push(GEN_DNS, V_ASN1_IA5STRING, dns); !ok) {
      return ok.error();
    }
  }
  for (const auto& ip : ip_addresses) {
    auto bytes = detail::parse_ip(ip);
    if (!bytes) {
      return errors::bad_request("invalid IP address for a certificate: \"" + ip + "\"");
    }
    if (auto ok = push(GEN_IPADD, V_ASN1_OCTET_STRING, *bytes); !ok) {
      return ok.error();
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot add subjectAltName");
  }
  return {};
}

Result<std::string> sign_and_encode(X509* cert, EVP_PKEY* signer) {
  // ECDSA and RSA CA keys both sign with SHA-256 (ecdsa-with-SHA256 / sha256WithRSAEncryption).
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) {
    return detail::ssl_error(Reason::kInternal, "cannot sign the certificate");
  }
  return detail::write_certificate(cert);
}

std::string asn1_string_utf8(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0 || utf8 == nullptr) {
    detail::clear_ssl_errors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::string> name_values(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    out.push_back(asn1_string_utf8(X509_NAME_ENTRY_get_data(entry)));
  }
  return out;
}

std::string last_or_empty(const std::vector<std::string>& values) {
  return values.empty() ? std::string() : values.back();
}

Result<std::chrono::system_clock::time_point> asn1_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    detail::clear_ssl_errors();
    return errors::bad_request("certificate has an unreadable validity time");
  }
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string octets_hex(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) {
    return {};
  }
  return detail::hex_upper(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s))));
}

// Loads a CA pair for signing and checks it is one.
Result<std::pair<X509Ptr, PkeyPtr>> load_ca(const CertifiedKey& ca) {
  auto cert = detail::read_certificate(ca.cert_pem, "CA certificate");
  if (!cert) {
    return cert.error();
  }
  auto key = detail::read_private_key(ca.key_pem, "CA key");
  if (!key) {
    return key.error();
  }
  if ((X509_get_extension_flags(cert->get()) & EXFLAG_CA) == 0) {
    return errors::bad_request("the CA certificate is not a CA (basicConstraints CA:TRUE missing)");
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    detail::clear_ssl_errors();
    return errors::bad_request("the CA key does not match the CA certificate");
  }
  return std::make_pair(std::move(*cert), std::move(*key));
}

}  // namespace

Result<CertifiedKey> create_ca(std::string_view common_name, std::chrono::seconds validity) {
  auto key_pem = generate_ec_key();
  if (!key_pem) {
    return key_pem.error();
  }
  auto key = detail::read_private_key(*key_pem, "new CA key");
  if (!key) {
    return key.error();
  }
  auto cert = new_certificate(key->get(), common_name, {}, validity);
  if (!cert) {
    return cert.error();
  }
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot set the issuer");
  }
  // Self-signed: no authority key identifier (Go omits it for self-signed certificates too).
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"},
        std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto ok = add_extension(x, x, nid, value); !ok) {
      return ok.error();
    }
  }
  auto pem = sign_and_encode(x, key->get());
  if (!pem) {
    return pem.error();
  }
  return CertifiedKey{std::move(*pem), std::move(*key_pem)};
}

Result<CertifiedKey> issue_certificate(const CertifiedKey& ca, const LeafSpec& spec,
                                       std::string_view key_pem) {
  auto signer = load_ca(ca);
  if (!signer) {
    return signer.error();
  }
  auto& [ca_cert, ca_key] = *signer;
  std::string leaf_key_pem(key_pem);
  if (leaf_key_pem.empty()) {
    auto generated = generate_ec_key();
    if (!generated) {
      return generated.error();
    }
    leaf_key_pem = std::move(*generated);
  }
  auto key = detail::read_private_key(leaf_key_pem, "leaf key");
  if (!key) {
    return key.error();
  }
  auto cert = new_certificate(key->get(), spec.common_name, spec.organizations, spec.validity);
  if (!cert) {
    return cert.error();
  }
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert.get())) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot set the issuer");
  }
  const char* eku = spec.usage == CertUsage::kServing ? "serverAuth" : "clientAuth";
  // "keyid" copies the CA's subject key identifier (k3s's leaves carry it; fieldsChanged compares
  // it).
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
        std::pair{NID_ext_key_usage, eku}, std::pair{NID_authority_key_identifier, "keyid"}}) {
    if (auto ok = add_extension(ca_cert.get(), x, nid, value); !ok) {
      return ok.error();
    }
  }
  if (auto ok = add_alt_names(x, spec.dns_names, spec.ip_addresses); !ok) {
    return ok.error();
  }
  auto pem = sign_and_encode(x, ca_key.get());
  if (!pem) {
    return pem.error();
  }
  return CertifiedKey{std::move(*pem), std::move(leaf_key_pem)};
}

namespace {

Result<CertificateInfo> describe(X509* x) {
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(x);
  info.common_name = last_or_empty(name_values(subject, NID_commonName));
  info.organizations = name_values(subject, NID_organizationName);
  info.issuer_common_name = last_or_empty(name_values(X509_get_issuer_name(x), NID_commonName));

  auto* alt =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  GeneralNamesPtr alt_names(alt);
  for (int i = 0; alt != nullptr && i < sk_GENERAL_NAME_num(alt); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt, i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string_view bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<std::size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS) {
      info.dns_names.emplace_back(bytes);
    } else if (type == GEN_IPADD) {
      info.ip_addresses.push_back(detail::format_ip(bytes));
    }
  }
  detail::clear_ssl_errors();  // X509_get_ext_d2i queues an error when the extension is absent

  auto not_before = asn1_time_point(X509_get0_notBefore(x));
  auto not_after = asn1_time_point(X509_get0_notAfter(x));
  if (!not_before || !not_after) {
    return errors::bad_request("certificate has an unreadable validity time");
  }
  info.not_before = *not_before;
  info.not_after = *not_after;

  // X509_get_extension_flags caches the parsed extensions; EXFLAG_INVALID means they did not parse.
  std::uint32_t flags = X509_get_extension_flags(x);
  if ((flags & EXFLAG_INVALID) != 0) {
    detail::clear_ssl_errors();
    return errors::bad_request("certificate has malformed extensions");
  }
  info.is_ca = (flags & EXFLAG_CA) != 0;
  if ((flags & EXFLAG_XKUSAGE) != 0) {
    std::uint32_t eku = X509_get_extended_key_usage(x);
    info.server_auth = (eku & XKU_SSL_SERVER) != 0;
    info.client_auth = (eku & XKU_SSL_CLIENT) != 0;
  }
  if (BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)); serial) {
    info.serial_hex = detail::hex_upper(detail::bn_bytes(serial.get()));
    if (info.serial_hex.empty()) {
      info.serial_hex = "00";
    }
  }
  info.subject_key_id_hex = octets_hex(X509_get0_subject_key_id(x));
  info.authority_key_id_hex = octets_hex(X509_get0_authority_key_id(x));
  detail::clear_ssl_errors();
  return info;
}

}  // namespace

Result<CertificateInfo> inspect_certificate(std::string_view pem_or_der) {
  auto cert = detail::read_certificate(pem_or_der, "certificate");
  if (!cert) {
    return cert.error();
  }
  return describe(cert->get());
}

Result<std::string> certificate_der(std::string_view pem) {
  auto cert = detail::read_certificate(pem, "certificate");
  if (!cert) {
    return cert.error();
  }
  unsigned char* der = nullptr;
  int len = i2d_X509(cert->get(), &der);
  if (len <= 0 || der == nullptr) {
    return detail::ssl_error(Reason::kInternal, "cannot encode the certificate");
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::vector<std::string>> split_certificates(std::string_view pem) {
  auto certs = detail::read_certificates(pem, "certificate bundle");
  if (!certs) {
    return certs.error();
  }
  std::vector<std::string> out;
  for (auto& cert : *certs) {
    auto one = detail::write_certificate(cert.get());
    if (!one) {
      return one.error();
    }
    out.push_back(std::move(*one));
  }
  return out;
}

Result<void> verify_certificate(std::string_view cert, std::string_view ca_bundle_pem,
                                CertUsage usage,
                                std::optional<std::chrono::system_clock::time_point> at) {
  std::vector<X509Ptr> chain;
  if (detail::looks_like_pem(cert)) {
    auto certs = detail::read_certificates(cert, "certificate");
    if (!certs) {
      return certs.error();
    }
    chain = std::move(*certs);
  } else {
    auto one = detail::read_certificate(cert, "certificate");
    if (!one) {
      return one.error();
    }
    chain.push_back(std::move(*one));
  }
  auto roots = detail::read_certificates(ca_bundle_pem, "CA bundle");
  if (!roots) {
    return roots.error();
  }
  detail::StorePtr store(X509_STORE_new());
  detail::X509StackPtr untrusted(sk_X509_new_null());
  detail::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    return detail::ssl_error(Reason::kInternal, "cannot allocate a certificate store");
  }
  for (auto& root : *roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      // The same CA twice in a bundle is harmless.
      detail::clear_ssl_errors();
    }
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (sk_X509_push(untrusted.get(), chain[i].release()) <= 0) {
      return detail::ssl_error(Reason::kInternal, "cannot build the chain");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted.get()) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot initialise verification");
  }
  X509_STORE_CTX_set_purpose(
      ctx.get(), usage == CertUsage::kServing ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
  if (at) {
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(*at));
  }
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  detail::clear_ssl_errors();
  if (ok != 1) {
    return errors::make(Reason::kUnauthorized, std::string("certificate verification failed: ") +
                                                   X509_verify_cert_error_string(err));
  }
  return {};
}

Result<ClientIdentity> identity_from_der(std::string_view der) {
  auto cert = detail::read_certificate(der, "client certificate");
  if (!cert) {
    return errors::make(Reason::kUnauthorized, cert.error().message);
  }
  auto info = describe(cert->get());
  if (!info) {
    return errors::make(Reason::kUnauthorized, "client certificate: " + info.error().message);
  }
  if (info->common_name.empty()) {
    return errors::make(Reason::kUnauthorized, "client certificate has no subject common name");
  }
  // No EKU extension allows any use (RFC 5280, and Go's verifier); with one, clientAuth or
  // anyExtendedKeyUsage must be listed, so a serving certificate cannot be used to log in.
  if ((X509_get_extension_flags(cert->get()) & EXFLAG_XKUSAGE) != 0 &&
      (X509_get_extended_key_usage(cert->get()) & (XKU_SSL_CLIENT | XKU_ANYEKU)) == 0) {
    return errors::make(Reason::kUnauthorized,
                        "client certificate is not valid for client authentication");
  }
  return ClientIdentity{std::move(info->common_name), std::move(info->organizations)};
}

}  // namespace skiff::pki
