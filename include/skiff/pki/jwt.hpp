// SPDX-License-Identifier: Apache-2.0
#pragma once

// pki: service-account tokens as JSON Web Tokens (RFC 7519) signed RS256 (RFC 7515 compact JWS with
// RSASSA-PKCS1-v1_5 and SHA-256), the form kube-apiserver issues and accepts. Tokens are
// `base64url(header) "." base64url(claims) "." base64url(signature)`, base64url without padding.
// The header is exactly `{"alg":"RS256","kid":"<key id>"}`, where the key id is, as upstream
// computes it, the unpadded base64url of the SHA-256 of the DER SubjectPublicKeyInfo of the signing
// key; it is stable for a key, so clients and the JWKS document (`/openid/v1/jwks`) agree on it.
//
// Claims are opaque here: the caller builds the claims JSON (iss, sub, aud, exp, kubernetes.io,
// ...) and checks them after verification (expiry, audience, the bound object still existing). This
// module only checks that the claims are one well-formed JSON object; verify_jwt proves who signed
// them.
//
// Thread safety: JwtKey is immutable after load(); its const methods may be called from any number
// of threads at once, and copies share the loaded key. The free functions load the key on every
// call; hold a JwtKey where tokens are verified per request.

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "skiff/base/error.hpp"

namespace skiff::pki {

/// An RSA key loaded once for signing (private key) or verifying (private or public key) tokens.
class JwtKey {
public:
  /// Loads an RSA key from PEM: a private key (`RSA PRIVATE KEY` or PKCS#8) can sign and verify, a
  /// public key (`PUBLIC KEY`) can only verify. Errors: kBadRequest (unreadable or encrypted PEM,
  /// not RSA, or shorter than 2048 bits).
  static Result<JwtKey> load(std::string_view pem);

  /// Whether this key holds the private half.
  bool can_sign() const;

  /// The key id (`kid`): base64url(SHA-256(DER SubjectPublicKeyInfo)), 43 characters.
  const std::string& key_id() const;

  /// The public key, SubjectPublicKeyInfo PEM.
  const std::string& public_key_pem() const;

  /// This key as a JWK Set with one key:
  /// `{"keys":[{"use":"sig","kty":"RSA","kid":"...","alg":"RS256","n":"...","e":"..."}]}`, the
  /// document kube-apiserver serves at /openid/v1/jwks (n and e big-endian, base64url).
  std::string jwks_json() const;

  /// A compact JWS over `claims_json`. Errors: kBadRequest (the claims are not one JSON object),
  /// kForbidden (a public-only key cannot sign), kInternal.
  Result<std::string> sign(std::string_view claims_json) const;

  /// Checks `token` and returns its claims JSON text exactly as signed. Errors (all kUnauthorized,
  /// the message says which): not three base64url segments, a header that is not a JSON object, an
  /// `alg` other than "RS256" (including "none"), a `crit` header, claims that are not a JSON
  /// object, a signature that does not verify with this key. The `kid` header is not required to
  /// match: the signature decides (as upstream, which tries every configured key).
  Result<std::string> verify(std::string_view token) const;

private:
  struct Impl;
  explicit JwtKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

/// JwtKey::load(private_key_pem) then sign(claims_json).
Result<std::string> sign_jwt(std::string_view private_key_pem, std::string_view claims_json);

/// JwtKey::load(key_pem) then verify(token). A key that does not load is kBadRequest; every token
/// problem is kUnauthorized.
Result<std::string> verify_jwt(std::string_view key_pem, std::string_view token);

/// The `kid` of an RSA key PEM (private or public). Errors: kBadRequest.
Result<std::string> jwt_key_id(std::string_view key_pem);

/// The JWK Set JSON of an RSA key PEM (private or public; only public values are output). Errors:
/// kBadRequest.
Result<std::string> jwks_json(std::string_view key_pem);

/// Base64url without padding (RFC 4648 §5), as JWS uses it.
std::string base64url_encode(std::string_view data);
/// Decodes unpadded base64url; padding, whitespace or any other character is an error
/// (kBadRequest).
Result<std::string> base64url_decode(std::string_view text);

}  // namespace skiff::pki
