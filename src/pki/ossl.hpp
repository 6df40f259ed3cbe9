// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to src/pki: owning pointers for the OpenSSL objects pki uses, and the conversions between
// PEM/DER text and those objects. Every failure drains OpenSSL's thread-local error queue into the
// returned Error, so no stale error is left behind for the next OpenSSL user on the thread (Asio
// SSL reads that queue after a failed handshake).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "skiff/base/error.hpp"

namespace skiff::pki::detail {

struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free_all(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

/// "<what>: <first OpenSSL reason>" (or just `what` when the queue is empty); clears the queue.
std::string ssl_message(std::string_view what);
/// errors::make(reason, ssl_message(what)).
Error ssl_error(Reason reason, std::string_view what);
/// Discards whatever OpenSSL queued (after an expected failure such as a non-matching probe).
void clear_ssl_errors() noexcept;

/// A read-only memory BIO over `data` (which must outlive the BIO).
BioPtr memory_bio(std::string_view data);
/// The bytes written into a memory BIO.
std::string bio_contents(BIO* bio);

/// A private key from PEM (SEC 1, PKCS#1 or unencrypted PKCS#8). Never prompts for a passphrase: an
/// encrypted key fails. Errors: kBadRequest "<what>: ...".
Result<PkeyPtr> read_private_key(std::string_view pem, std::string_view what);
/// A public key from a `PUBLIC KEY` PEM, or the public half of a private key PEM. Errors:
/// kBadRequest.
Result<PkeyPtr> read_any_key(std::string_view pem, std::string_view what);
/// The traditional PEM form of a private key (`EC PRIVATE KEY`, `RSA PRIVATE KEY`).
Result<std::string> write_private_key(EVP_PKEY* key);
/// SubjectPublicKeyInfo PEM.
Result<std::string> write_public_key(EVP_PKEY* key);
/// SubjectPublicKeyInfo DER.
Result<std::string> public_key_der(EVP_PKEY* key);

/// Whether `pem_or_der` looks like PEM text (starts, after whitespace, with "-----BEGIN").
bool looks_like_pem(std::string_view pem_or_der);
/// Every certificate in a PEM bundle, in order. Errors: kBadRequest (none, or a corrupt block).
Result<std::vector<X509Ptr>> read_certificates(std::string_view pem, std::string_view what);
/// The first certificate of a PEM bundle, or the DER certificate that is the whole input.
Result<X509Ptr> read_certificate(std::string_view pem_or_der, std::string_view what);
/// PEM of one certificate.
Result<std::string> write_certificate(X509* cert);

/// Big-endian bytes of a BIGNUM without leading zeros (empty for zero).
std::string bn_bytes(const BIGNUM* bn);

}  // namespace skiff::pki::detail
