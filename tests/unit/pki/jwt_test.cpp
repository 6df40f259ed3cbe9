// SPDX-License-Identifier: Apache-2.0
#include "skiff/pki/jwt.hpp"

#include "skiff/pki/keys.hpp"

#include "pki_test_util.hpp"

namespace skiff::pki {
namespace {

using test::run;
using test::sh_quote;
using test::slurp;
using test::spit;

// One RSA key for the whole file: generating one takes a noticeable fraction of a second.
const std::string& rsa_key() {
  static const std::string key = [] {
    auto k = generate_rsa_key(2048);
    REQUIRE(k);
    return *k;
  }();
  return key;
}

const std::string kClaims =
    R"({"aud":["https://kubernetes.default.svc.cluster.local"],"exp":1900000000,)"
    R"("iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:default:x",)"
    R"("kubernetes.io":{"namespace":"default","serviceaccount":{"name":"x","uid":"u-1"}},)"
    R"("note":"caf\u00e9 \"quoted\""})";

struct Parts {
  std::string header;
  std::string claims;
  std::string signature;
};

Parts split(const std::string& token) {
  auto a = token.find('.');
  auto b = token.find('.', a + 1);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

std::string join(const Parts& p) {
  return p.header + "." + p.claims + "." + p.signature;
}

void check_unauthorized(const Result<std::string>& result, std::string_view why) {
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == Reason::kUnauthorized);
  INFO(result.error().message);
  CHECK(result.error().message.find(why) != std::string::npos);
}

TEST_CASE("base64url round-trips without padding and rejects other alphabets", "[pki][jwt]") {
  for (const std::string& data :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("foob"),
        std::string("\xff\xfe\xfd\x00\x01", 5)}) {
    std::string encoded = base64url_encode(data);
    CHECK(encoded.find('=') == std::string::npos);
    auto decoded = base64url_decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == data);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode("Zm9v=="));
  CHECK_FALSE(base64url_decode("+/8"));
  CHECK_FALSE(base64url_decode("Zm9 v"));
  CHECK_FALSE(base64url_decode("Z"));
}

TEST_CASE("a signed token verifies and returns the claims exactly", "[pki][jwt]") {
  auto token = sign_jwt(rsa_key(), kClaims);
  REQUIRE(token);
  auto claims = verify_jwt(rsa_key(), *token);
  REQUIRE(claims);
  CHECK(*claims == kClaims);

  Parts parts = split(*token);
  auto header = base64url_decode(parts.header);
  REQUIRE(header);
  auto kid = jwt_key_id(rsa_key());
  REQUIRE(kid);
  CHECK(*header == R"({"alg":"RS256","kid":")" + *kid + R"("})");
  auto payload = base64url_decode(parts.claims);
  REQUIRE(payload);
  CHECK(*payload == kClaims);
  CHECK(token->find('=') == std::string::npos);

  // The public key alone verifies but cannot sign.
  auto pub = public_key_pem(rsa_key());
  REQUIRE(pub);
  auto by_public = verify_jwt(*pub, *token);
  REQUIRE(by_public);
  CHECK(*by_public == kClaims);
  auto verifier = JwtKey::load(*pub);
  REQUIRE(verifier);
  CHECK_FALSE(verifier->can_sign());
  CHECK(verifier->sign(kClaims).error().reason == Reason::kForbidden);
  CHECK(verifier->key_id() == *kid);
}

TEST_CASE("tampered, re-signed or malformed tokens are Unauthorized", "[pki][jwt]") {
  auto token = sign_jwt(rsa_key(), kClaims);
  REQUIRE(token);
  Parts good = split(*token);

  SECTION("payload changed") {
    Parts p = good;
    p.claims = base64url_encode(R"({"sub":"system:serviceaccount:kube-system:admin"})");
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "signature does not verify");
  }
  SECTION("one signature bit flipped") {
    Parts p = good;
    auto sig = base64url_decode(p.signature);
    REQUIRE(sig);
    (*sig)[10] = static_cast<char>((*sig)[10] ^ 0x01);
    p.signature = base64url_encode(*sig);
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "signature does not verify");
  }
  SECTION("signature truncated") {
    Parts p = good;
    p.signature.resize(p.signature.size() - 4);
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "signature");
  }
  SECTION("alg none, with or without a signature") {
    Parts p = good;
    p.header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "algorithm");
    p.signature.clear();
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "algorithm");
  }
  SECTION("alg HS256 (the public key used as an HMAC secret)") {
    Parts p = good;
    p.header = base64url_encode(R"({"alg":"HS256"})");
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "algorithm");
  }
  SECTION("alg missing, not a string, or duplicated") {
    Parts p = good;
    for (const std::string& header : {std::string(R"({"kid":"x"})"), std::string(R"({"alg":256})"),
                                      std::string(R"({"alg":"RS256","alg":"none"})")}) {
      INFO(header);
      p.header = base64url_encode(header);
      REQUIRE_FALSE(verify_jwt(rsa_key(), join(p)));
    }
  }
  SECTION("a crit header") {
    Parts p = good;
    p.header = base64url_encode(R"({"alg":"RS256","crit":["exp"],"exp":1})");
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "critical");
  }
  SECTION("header that is not JSON") {
    Parts p = good;
    p.header = base64url_encode("{alg:RS256}");
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "header");
  }
  SECTION("wrong number of parts") {
    check_unauthorized(verify_jwt(rsa_key(), good.header + "." + good.claims), "three");
    check_unauthorized(verify_jwt(rsa_key(), *token + ".x"), "three");
    check_unauthorized(verify_jwt(rsa_key(), ""), "three");
  }
  SECTION("padding or standard base64 characters") {
    Parts p = good;
    p.header += "==";
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "base64url");
    p = good;
    p.signature[0] = '+';
    check_unauthorized(verify_jwt(rsa_key(), join(p)), "base64url");
  }
  SECTION("another key") {
    auto other = generate_rsa_key(2048);
    REQUIRE(other);
    check_unauthorized(verify_jwt(*other, *token), "signature does not verify");
  }
  SECTION("huge input") {
    check_unauthorized(verify_jwt(rsa_key(), std::string(2U << 20U, 'a')), "too large");
  }
}

TEST_CASE("the key id is stable and is base64url(SHA-256(DER public key))", "[pki][jwt]") {
  testing::TempDir dir;
  auto kid = jwt_key_id(rsa_key());
  REQUIRE(kid);
  CHECK(kid->size() == 43);
  auto again = JwtKey::load(rsa_key());
  REQUIRE(again);
  CHECK(again->key_id() == *kid);
  auto pub = public_key_pem(rsa_key());
  REQUIRE(pub);
  auto from_public = jwt_key_id(*pub);
  REQUIRE(from_public);
  CHECK(*from_public == *kid);

  // The same computation with the openssl CLI.
  spit(dir.file("key.pem"), rsa_key());
  REQUIRE(run("openssl pkey -pubout -outform DER -in " + sh_quote(dir.file("key.pem")) + " -out " +
              sh_quote(dir.file("pub.der"))) == 0);
  REQUIRE(run("openssl dgst -sha256 -binary -out " + sh_quote(dir.file("digest")) + " " +
              sh_quote(dir.file("pub.der"))) == 0);
  CHECK(base64url_encode(slurp(dir.file("digest"))) == *kid);

  auto other = generate_rsa_key(2048);
  REQUIRE(other);
  auto other_kid = jwt_key_id(*other);
  REQUIRE(other_kid);
  CHECK(*other_kid != *kid);
}

TEST_CASE("the openssl CLI verifies the token signature", "[pki][jwt]") {
  testing::TempDir dir;
  auto token = sign_jwt(rsa_key(), kClaims);
  REQUIRE(token);
  Parts parts = split(*token);
  auto sig = base64url_decode(parts.signature);
  REQUIRE(sig);
  auto pub = public_key_pem(rsa_key());
  REQUIRE(pub);
  spit(dir.file("pub.pem"), *pub);
  spit(dir.file("input"), parts.header + "." + parts.claims);
  spit(dir.file("sig"), *sig);
  std::string out;
  CHECK(run("openssl dgst -sha256 -verify " + sh_quote(dir.file("pub.pem")) + " -signature " +
                sh_quote(dir.file("sig")) + " " + sh_quote(dir.file("input")),
            &out) == 0);
  CHECK(out.find("Verified OK") != std::string::npos);
  // And refuses it for different input.
  spit(dir.file("input"), parts.header + "." + parts.claims + "x");
  CHECK(run("openssl dgst -sha256 -verify " + sh_quote(dir.file("pub.pem")) + " -signature " +
                sh_quote(dir.file("sig")) + " " + sh_quote(dir.file("input")),
            &out) != 0);

  // A token signed by the openssl CLI verifies here.
  spit(dir.file("key.pem"), rsa_key());
  std::string header = base64url_encode(R"({"alg":"RS256","typ":"JWT"})");
  std::string claims = base64url_encode(R"({"sub":"cli"})");
  spit(dir.file("input"), header + "." + claims);
  REQUIRE(run("openssl dgst -sha256 -sign " + sh_quote(dir.file("key.pem")) + " -out " +
              sh_quote(dir.file("cli.sig")) + " " + sh_quote(dir.file("input"))) == 0);
  auto verified = verify_jwt(
      rsa_key(), header + "." + claims + "." + base64url_encode(slurp(dir.file("cli.sig"))));
  REQUIRE(verified);
  CHECK(*verified == R"({"sub":"cli"})");
}

TEST_CASE("the JWKS document carries the key id and the RSA public numbers", "[pki][jwt]") {
  testing::TempDir dir;
  auto doc = jwks_json(rsa_key());
  REQUIRE(doc);
  auto key = JwtKey::load(rsa_key());
  REQUIRE(key);
  CHECK(*doc == key->jwks_json());
  CHECK(doc->starts_with(R"({"keys":[{"use":"sig","kty":"RSA","kid":")" + key->key_id() +
                         R"(","alg":"RS256","n":")"));
  CHECK(doc->ends_with(R"(","e":"AQAB"}]})"));
  // n matches the modulus openssl prints.
  auto n_start = doc->find(R"("n":")") + 5;
  auto n_end = doc->find('"', n_start);
  auto n = base64url_decode(doc->substr(n_start, n_end - n_start));
  REQUIRE(n);
  CHECK(n->size() == 256);
  spit(dir.file("key.pem"), rsa_key());
  std::string out;
  REQUIRE(run("openssl rsa -noout -modulus -in " + sh_quote(dir.file("key.pem")), &out) == 0);
  std::string hex;
  for (unsigned char c : *n) {
    constexpr std::string_view kDigits = "0123456789ABCDEF";
    hex += kDigits[c >> 4U];
    hex += kDigits[c & 15U];
  }
  CHECK(out == "Modulus=" + hex + "\n");
  CHECK(key->public_key_pem() == *public_key_pem(rsa_key()));
}

TEST_CASE("keys and claims that cannot make a token are BadRequest", "[pki][jwt]") {
  auto ec = generate_ec_key();
  REQUIRE(ec);
  auto loaded = JwtKey::load(*ec);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().reason == Reason::kBadRequest);
  CHECK(loaded.error().message.find("RSA") != std::string::npos);
  CHECK(JwtKey::load("garbage").error().reason == Reason::kBadRequest);
  CHECK(verify_jwt("garbage", "a.b.c").error().reason == Reason::kBadRequest);

  for (const std::string& claims :
       {std::string(), std::string("[]"), std::string("\"x\""), std::string(R"({"a":1,})"),
        std::string(R"({"a":1} x)"), std::string(R"({"a":"\ud800"})"),
        R"({"a":)" + std::string(1000, '[') + std::string(1000, ']') + "}"}) {
    INFO(claims.substr(0, 40));
    auto token = sign_jwt(rsa_key(), claims);
    REQUIRE_FALSE(token);
    CHECK(token.error().reason == Reason::kBadRequest);
  }
  // Whitespace, nesting, numbers and escapes are JSON.
  auto ok = sign_jwt(rsa_key(), R"( { "a" : [1, -2.5e3, true, null, {"b": "\ud83d\ude00"}] } )");
  REQUIRE(ok);
}

}  // namespace
}  // namespace skiff::pki
