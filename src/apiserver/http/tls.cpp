// SPDX-License-Identifier: Apache-2.0
#include "tls.hpp"

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace skiff::apiserver::http {

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return "unknown error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// Accept every chain during the handshake: as with Go's tls.RequestClientCert in kube-apiserver, a
// certificate that does not verify makes the request anonymous instead of failing the handshake.
// OpenSSL still records the verification error, which peer_identity() reads.
int accept_and_record(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

// Speak HTTP/1.1 when the client offers it via ALPN (Go clients offer h2 first; without an answer
// they would also fall back, but an explicit choice is clearer in traces).
int select_http11(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                  const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  static constexpr std::array<unsigned char, 9> kProto = {8,   'h', 't', 't', 'p',
                                                          '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kProto.data(), kProto.size(), in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Result<void> add_client_cas(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    return errors::make(Reason::kInvalid, "client CA: out of memory");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    // The store verifies; the client-CA list goes into the CertificateRequest so clients with
    // several certificates can pick the right one.
    X509_STORE_add_cert(store, cert);
    SSL_CTX_add_client_CA(ctx, cert);
    X509_free(cert);
    ++count;
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (count == 0) {
    return errors::make(Reason::kInvalid, "client CA: no certificate found in PEM");
  }
  return {};
}

std::string entry_text(X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) {
    return {};
  }
  std::string s(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return s;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> make_tls_context(const HttpServerOptions& options) {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::single_dh_use);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(options.cert_chain_pem), ec);
  if (ec) {
    return errors::make(Reason::kInvalid, "TLS certificate chain: " + ec.message());
  }
  ctx.use_private_key(boost::asio::buffer(options.private_key_pem), ssl::context::pem, ec);
  if (ec) {
    return errors::make(Reason::kInvalid, "TLS private key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return errors::make(Reason::kInvalid,
                        "TLS private key does not match the certificate: " + openssl_error());
  }
  // Required once peers are verified: without a session id context OpenSSL refuses to resume a
  // session and the handshake of a resuming client fails.
  static constexpr std::string_view kSessionContext = "skiff-apiserver";
  SSL_CTX_set_session_id_context(native,
                                 reinterpret_cast<const unsigned char*>(kSessionContext.data()),
                                 static_cast<unsigned int>(kSessionContext.size()));
  SSL_CTX_set_alpn_select_cb(native, select_http11, nullptr);
  if (!options.client_ca_pem.empty()) {
    if (auto r = add_client_cas(native, options.client_ca_pem); !r) {
      return r.error();
    }
    // Request, do not require (no SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, accept_and_record);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  return std::make_shared<TlsContext>(std::move(ctx));
}

PeerIdentity peer_identity(SSL* ssl) {
  PeerIdentity id;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) {
    return id;
  }
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* subject = X509_get_subject_name(cert);
    const int n = X509_NAME_entry_count(subject);
    for (int i = 0; i < n; ++i) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
      const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
      if (nid == NID_commonName) {
        id.user = entry_text(e);  // the last CN wins, as in Go's pkix.Name
      } else if (nid == NID_organizationName) {
        id.groups.push_back(entry_text(e));
      }
    }
    id.authenticated = true;
  }
  X509_free(cert);
  return id;
}

}  // namespace skiff::apiserver::http
