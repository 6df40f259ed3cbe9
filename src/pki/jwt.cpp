// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/jwt.hpp"

#include <array>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "json_scan.hpp"
#include "ossl.hpp"

namespace skiff::pki {

namespace {

// Projected service-account tokens are about a kilobyte; anything this large is not a token, and
// bounding it bounds the work an unauthenticated request can cause.
constexpr std::size_t kMaxTokenSize = 1U << 20U;

Error unauthorized(std::string_view why) {
  return errors::make(Reason::kUnauthorized, "invalid bearer token: " + std::string(why));
}

Result<std::string> rsa_param_b64(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1 || raw == nullptr) {
    return detail::ssl_error(Reason::kInternal, "cannot read the RSA key");
  }
  detail::BnPtr bn(raw);
  return base64url_encode(detail::bn_bytes(bn.get()));
}

}  // namespace

struct JwtKey::Impl {
  detail::PkeyPtr key;
  bool has_private = false;
  std::string kid;
  std::string public_pem;
  std::string n_b64;
  std::string e_b64;
};

Result<JwtKey> JwtKey::load(std::string_view pem) {
  auto impl = std::make_shared<Impl>();
  impl->has_private = pem.find("PRIVATE KEY-----") != std::string_view::npos;
  auto key = impl->has_private ? detail::read_private_key(pem, "service-account key")
                               : detail::read_any_key(pem, "service-account key");
  if (!key) {
    return key.error();
  }
  impl->key = std::move(*key);
  if (EVP_PKEY_get_base_id(impl->key.get()) != EVP_PKEY_RSA) {
    return errors::bad_request("service-account key: RS256 needs an RSA key");
  }
  if (EVP_PKEY_get_bits(impl->key.get()) < 2048) {
    return errors::bad_request("service-account key: RSA keys shorter than 2048 bits are refused");
  }
  auto der = detail::public_key_der(impl->key.get());
  if (!der) {
    return der.error();
  }
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(der->data(), der->size(), digest.data(), &digest_len, EVP_sha256(), nullptr) !=
      1) {
    return detail::ssl_error(Reason::kInternal, "cannot hash the public key");
  }
  impl->kid = base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                static_cast<std::size_t>(digest_len)));
  auto public_pem = detail::write_public_key(impl->key.get());
  if (!public_pem) {
    return public_pem.error();
  }
  impl->public_pem = std::move(*public_pem);
  auto n = rsa_param_b64(impl->key.get(), OSSL_PKEY_PARAM_RSA_N);
  auto e = rsa_param_b64(impl->key.get(), OSSL_PKEY_PARAM_RSA_E);
  if (!n || !e) {
    return !n ? n.error() : e.error();
  }
  impl->n_b64 = std::move(*n);
  impl->e_b64 = std::move(*e);
  return JwtKey(std::move(impl));
}

bool JwtKey::can_sign() const {
  return impl_->has_private;
}

const std::string& JwtKey::key_id() const {
  return impl_->kid;
}

const std::string& JwtKey::public_key_pem() const {
  return impl_->public_pem;
}

std::string JwtKey::jwks_json() const {
  // Every value is base64url text, so nothing needs JSON escaping.
  return R"({"keys":[{"use":"sig","kty":"RSA","kid":")" + impl_->kid + R"(","alg":"RS256","n":")" +
         impl_->n_b64 + R"(","e":")" + impl_->e_b64 + R"("}]})";
}

Result<std::string> JwtKey::sign(std::string_view claims_json) const {
  if (!impl_->has_private) {
    return errors::make(Reason::kForbidden, "a public key cannot sign tokens");
  }
  if (!detail::scan_json_object(claims_json)) {
    return errors::bad_request("token claims must be one JSON object");
  }
  std::string token = base64url_encode(R"({"alg":"RS256","kid":")" + impl_->kid + R"("})");
  token += '.';
  token += base64url_encode(claims_json);

  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t sig_len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot sign the token");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot sign the token");
  }
  sig.resize(sig_len);
  token += '.';
  token += base64url_encode(sig);
  return token;
}

Result<std::string> JwtKey::verify(std::string_view token) const {
  if (token.size() > kMaxTokenSize) {
    return unauthorized("too large");
  }
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthorized("not a compact JWS (three dot-separated parts)");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view claims_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_b64 = token.substr(dot2 + 1);

  auto header = base64url_decode(header_b64);
  if (!header) {
    return unauthorized("header is not base64url");
  }
  auto members = detail::scan_json_object(*header);
  if (!members) {
    return unauthorized("header is not a JSON object");
  }
  auto alg = members->find("alg");
  if (alg == members->end() || alg->second.value_or(std::string()) != "RS256") {
    // Covers "none" and every HMAC/EC algorithm: only RS256 is ever issued.
    return unauthorized("unsupported signing algorithm");
  }
  if (members->contains("crit")) {
    return unauthorized("unsupported critical header");
  }
  auto sig = base64url_decode(sig_b64);
  if (!sig || sig->empty()) {
    return unauthorized("signature is not base64url");
  }
  std::string_view signing_input = token.substr(0, dot2);
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1) {
    return detail::ssl_error(Reason::kInternal, "cannot verify the token");
  }
  int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  detail::clear_ssl_errors();
  if (ok != 1) {
    return unauthorized("signature does not verify");
  }
  auto claims = base64url_decode(claims_b64);
  if (!claims || !detail::scan_json_object(*claims)) {
    return unauthorized("claims are not a JSON object");
  }
  return std::move(*claims);
}

Result<std::string> sign_jwt(std::string_view private_key_pem, std::string_view claims_json) {
  auto key = JwtKey::load(private_key_pem);
  if (!key) {
    return key.error();
  }
  return key->sign(claims_json);
}

Result<std::string> verify_jwt(std::string_view key_pem, std::string_view token) {
  auto key = JwtKey::load(key_pem);
  if (!key) {
    return key.error();
  }
  return key->verify(token);
}

Result<std::string> jwt_key_id(std::string_view key_pem) {
  auto key = JwtKey::load(key_pem);
  if (!key) {
    return key.error();
  }
  return key->key_id();
}

Result<std::string> jwks_json(std::string_view key_pem) {
  auto key = JwtKey::load(key_pem);
  if (!key) {
    return key.error();
  }
  return key->jwks_json();
}

}  // namespace skiff::pki
