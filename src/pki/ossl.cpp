// SPDX-License-Identifier: Apache-2.0
#include "ossl.hpp"

#include <climits>

#include <openssl/err.h>
#include <openssl/pem.h>

namespace skiff::pki::detail {

namespace {

// Passphrase callback: never prompt on the terminal (OpenSSL's default would), remember that a
// passphrase was wanted so the error can say "encrypted".
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* userdata) {
  if (userdata != nullptr) {
    *static_cast<bool*>(userdata) = true;
  }
  return -1;
}

}  // namespace

std::string ssl_message(std::string_view what) {
  std::string message(what);
  unsigned long first = ERR_get_error();
  if (first != 0) {
    const char* reason = ERR_reason_error_string(first);
    message += ": ";
    message += reason != nullptr ? reason : "crypto library error";
  }
  ERR_clear_error();
  return message;
}

Error ssl_error(Reason reason, std::string_view what) {
  return errors::make(reason, ssl_message(what));
}

void clear_ssl_errors() noexcept {
  ERR_clear_error();
}

BioPtr memory_bio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return nullptr;
  }
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) {
    return {};
  }
  return {data, static_cast<std::size_t>(len)};
}

Result<PkeyPtr> read_private_key(std::string_view pem, std::string_view what) {
  BioPtr bio = memory_bio(pem);
  if (!bio) {
    return ssl_error(Reason::kBadRequest, what);
  }
  bool wanted_passphrase = false;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, &wanted_passphrase));
  if (!key) {
    if (wanted_passphrase) {
      clear_ssl_errors();
      return errors::bad_request(std::string(what) + ": encrypted private keys are not supported");
    }
    return errors::bad_request(ssl_message(std::string(what) + ": not a PEM private key"));
  }
  return key;
}

Result<PkeyPtr> read_any_key(std::string_view pem, std::string_view what) {
  if (pem.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    BioPtr bio = memory_bio(pem);
    PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
    if (!key) {
      return errors::bad_request(ssl_message(std::string(what) + ": not a PEM public key"));
    }
    return key;
  }
  return read_private_key(pem, what);
}

Result<std::string> write_private_key(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                   nullptr) != 1) {
    return ssl_error(Reason::kInternal, "cannot encode a private key");
  }
  return bio_contents(bio.get());
}

Result<std::string> write_public_key(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return ssl_error(Reason::kInternal, "cannot encode a public key");
  }
  return bio_contents(bio.get());
}

Result<std::string> public_key_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0 || der == nullptr) {
    return ssl_error(Reason::kInternal, "cannot encode a public key");
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool looks_like_pem(std::string_view pem_or_der) {
  std::size_t start = pem_or_der.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && pem_or_der.substr(start).starts_with("-----BEGIN");
}

Result<std::vector<X509Ptr>> read_certificates(std::string_view pem, std::string_view what) {
  BioPtr bio = memory_bio(pem);
  if (!bio) {
    return ssl_error(Reason::kBadRequest, what);
  }
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) {
      // Running out of BEGIN lines after at least one certificate is the normal end of a bundle;
      // anything else (bad base64, bad DER inside a block) is corruption.
      unsigned long err = ERR_peek_last_error();
      bool end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (end && !certs.empty()) {
        clear_ssl_errors();
        break;
      }
      return errors::bad_request(ssl_message(std::string(what) + ": not a PEM certificate"));
    }
    certs.push_back(std::move(cert));
  }
  return certs;
}

Result<X509Ptr> read_certificate(std::string_view pem_or_der, std::string_view what) {
  if (looks_like_pem(pem_or_der)) {
    auto certs = read_certificates(pem_or_der, what);
    if (!certs) {
      return certs.error();
    }
    return std::move(certs->front());
  }
  if (pem_or_der.empty() || pem_or_der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return errors::bad_request(std::string(what) + ": not a certificate");
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(pem_or_der.data());
  const unsigned char* p = begin;
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(pem_or_der.size())));
  if (!cert) {
    return errors::bad_request(ssl_message(std::string(what) + ": not a DER certificate"));
  }
  if (p != begin + pem_or_der.size()) {
    return errors::bad_request(std::string(what) + ": trailing bytes after the DER certificate");
  }
  return cert;
}

Result<std::string> write_certificate(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return ssl_error(Reason::kInternal, "cannot encode a certificate");
  }
  return bio_contents(bio.get());
}

std::string bn_bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  if (!out.empty()) {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

}  // namespace skiff::pki::detail
