// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/keys.hpp"

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "ossl.hpp"

namespace skiff::pki {

using detail::PkeyPtr;

Result<std::string> generate_ec_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return detail::ssl_error(Reason::kInternal, "cannot generate an ECDSA P-256 key");
  }
  return detail::write_private_key(key.get());
}

Result<std::string> generate_rsa_key(int bits) {
  if (bits < 2048 || bits > 8192) {
    return errors::bad_request("RSA key size must be between 2048 and 8192 bits");
  }
  PkeyPtr key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) {
    return detail::ssl_error(Reason::kInternal, "cannot generate an RSA key");
  }
  return detail::write_private_key(key.get());
}

Result<std::string> public_key_pem(std::string_view key_pem) {
  auto key = detail::read_any_key(key_pem, "key");
  if (!key) {
    return key.error();
  }
  return detail::write_public_key(key->get());
}

Result<bool> keys_match(std::string_view key_pem, std::string_view public_or_private_pem) {
  auto key = detail::read_private_key(key_pem, "private key");
  if (!key) {
    return key.error();
  }
  auto other = detail::read_any_key(public_or_private_pem, "other key");
  if (!other) {
    return other.error();
  }
  bool same = EVP_PKEY_eq(key->get(), other->get()) == 1;
  detail::clear_ssl_errors();
  return same;
}

}  // namespace skiff::pki
