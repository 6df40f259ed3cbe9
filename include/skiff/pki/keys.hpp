// SPDX-License-Identifier: Apache-2.0
#pragma once

// pki: the cluster's cryptography. This header holds private keys: generating the two kinds Skiff
// uses and deriving public keys. Keys cross the module boundary as PEM text only, so OpenSSL stays
// inside src/pki (the rest of Skiff never sees an OpenSSL type).
//
// Key kinds, as k3s uses them:
// - ECDSA P-256 for every CA and leaf certificate (k3s's certutil default), written as SEC 1
//   `-----BEGIN EC PRIVATE KEY-----`;
// - RSA 2048 for the service-account token signing key `service.key` (RS256 is what every
//   Kubernetes client and OIDC consumer supports), written as PKCS#1 `-----BEGIN RSA PRIVATE
//   KEY-----`.
// Readers accept both those forms and unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`); encrypted
// keys are rejected (nothing would be there to type a passphrase).
//
// Thread safety: every function is a pure computation on its arguments; call from any thread. Key
// generation takes CPU time (RSA 2048: tens to hundreds of milliseconds), so call it at start-up or
// on a blocking pool, never on an I/O thread.

#include <string>
#include <string_view>

#include "skiff/base/error.hpp"

namespace skiff::pki {

/// A new ECDSA P-256 private key, PEM (`EC PRIVATE KEY`). Errors: kInternal (the crypto library
/// failed).
Result<std::string> generate_ec_key();

/// A new RSA private key of `bits` bits (2048 to 8192; default 2048, as k3s's service.key), PEM
/// (`RSA PRIVATE KEY`). Errors: kBadRequest (bits out of range), kInternal.
Result<std::string> generate_rsa_key(int bits = 2048);

/// The SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) of a private key PEM, or of a public
/// key PEM (returned re-encoded). Errors: kBadRequest (not a readable unencrypted key).
Result<std::string> public_key_pem(std::string_view key_pem);

/// Whether `key_pem` is a readable private key whose public half is `public_or_private_pem`'s, i.e.
/// the two belong together. Errors: kBadRequest (either is not a readable key).
Result<bool> keys_match(std::string_view key_pem, std::string_view public_or_private_pem);

}  // namespace skiff::pki
