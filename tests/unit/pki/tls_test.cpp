// SPDX-License-Identifier: Apache-2.0
// Real TLS handshakes with the generated files: `openssl s_server` serves the serving certificate
// and requires a client certificate from client-ca; `openssl s_client` checks the server against
// server-ca for an IP or a host name and presents a client certificate. Every command is bounded.

#include <regex>

#include "skiff/pki/server_pki.hpp"

#include "pki_test_util.hpp"
#include "process.hpp"

namespace skiff::pki {
namespace {

using test::run;
using test::sh_quote;

class TlsServer {
public:
  TlsServer(const testing::TempDir& dir, const ServerPki& pki, int connections)
      : process_({testing::find_program("openssl"), "s_server", "-www", "-accept", "127.0.0.1:0",
                  "-naccept", std::to_string(connections), "-cert", pki.path(kServingCertFile),
                  "-key", pki.path(kServingKeyFile), "-Verify", "1", "-verify_return_error",
                  "-CAfile", pki.path(kClientCaCertFile)},
                 dir.file("s_server")) {
    std::smatch match;
    const std::regex accept(R"(ACCEPT 127\.0\.0\.1:([0-9]+))");
    bool listening = testing::eventually([&] {
      std::string out = process_.stdout_text();
      if (!std::regex_search(out, match, accept)) {
        return false;
      }
      port_ = std::stoi(match[1].str());
      return true;
    });
    INFO(process_.stdout_text() << process_.stderr_text());
    REQUIRE(listening);
  }

  int port() const { return port_; }
  std::string log() const { return process_.stdout_text() + process_.stderr_text(); }

private:
  testing::Process process_;
  int port_ = 0;
};

// s_client against the server; `check` is "-verify_ip X" or "-verify_hostname X". Returns the exit
// status (0: handshake completed and verified).
int connect(const TlsServer& server, const ServerPki& pki, const std::string& check,
            std::string_view cert, std::string_view key, bool tls12, std::string* out) {
  std::string cmd = "openssl s_client -brief -connect 127.0.0.1:" + std::to_string(server.port()) +
                    " -CAfile " + sh_quote(pki.path(kServerCaCertFile)) + " -verify_return_error " +
                    check + " -cert " + sh_quote(pki.path(cert)) + " -key " +
                    sh_quote(pki.path(key)) + (tls12 ? " -tls1_2" : "") + " < /dev/null";
  return run(cmd, out);
}

TEST_CASE("the serving certificate validates for 127.0.0.1 and localhost against server-ca",
          "[pki][tls]") {
  testing::TempDir dir;
  auto pki = ensure_server_pki(dir.path().string());
  REQUIRE(pki);
  TlsServer server(dir, *pki, 4);
  std::string out;
  for (std::string check : {"-verify_ip 127.0.0.1", "-verify_hostname localhost",
                            "-verify_hostname kubernetes.default.svc"}) {
    INFO(check);
    CHECK(connect(server, *pki, check, kAdminCertFile, kAdminKeyFile, false, &out) == 0);
    INFO(out);
    CHECK(out.find("Verification: OK") != std::string::npos);
  }
  CHECK(connect(server, *pki, "-verify_hostname evil.example", kAdminCertFile, kAdminKeyFile, false,
                &out) != 0);
  CHECK(out.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("the admin client certificate validates against client-ca, a server-ca one does not",
          "[pki][tls]") {
  testing::TempDir dir;
  auto pki = ensure_server_pki(dir.path().string());
  REQUIRE(pki);
  TlsServer server(dir, *pki, 2);
  std::string out;
  // TLS 1.2 so the server's verdict on the client certificate ends the client's handshake too.
  CHECK(connect(server, *pki, "-verify_ip 127.0.0.1", kAdminCertFile, kAdminKeyFile, true, &out) ==
        0);
  CHECK(connect(server, *pki, "-verify_ip 127.0.0.1", kServingCertFile, kServingKeyFile, true,
                &out) != 0);
  CHECK(testing::eventually(
      [&] { return server.log().find("server accepts that finished") != std::string::npos; }));
  std::string log = server.log();
  INFO(log);
  CHECK(log.find("depth=0 O = system:masters, CN = system:admin") != std::string::npos);
  CHECK(log.find("1 server accepts that finished") != std::string::npos);
}

}  // namespace
}  // namespace skiff::pki
