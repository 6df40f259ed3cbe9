// SPDX-License-Identifier: Apache-2.0
#include "e2e_util.hpp"

#include <cstdlib>
#include <regex>

#include "skiff_test.hpp"

namespace skiff::testing {

std::string skiff_bin() {
  const char* bin = std::getenv("SKIFF_BIN");
  REQUIRE(bin != nullptr);
  return bin;
}

std::string wait_for_etcd_endpoint(Process& server) {
  std::string endpoint;
  const std::regex re("etcd v3 endpoint listening on ([0-9.]+:[0-9]+)");
  REQUIRE(eventually(
      [&] {
        std::smatch m;
        std::string err = server.stderr_text();
        if (std::regex_search(err, m, re)) {
          endpoint = m[1];
          return true;
        }
        return !server.running();
      },
      std::chrono::seconds(30)));
  INFO(server.stderr_text());
  REQUIRE(!endpoint.empty());
  return endpoint;
}

int etcdctl(const std::string& endpoint, const std::string& args, std::string* out,
            const std::string& stdin_data) {
  return run_command("ETCDCTL_API=3 etcdctl --dial-timeout=5s --command-timeout=20s --endpoints=" +
                         endpoint + " " + args + " 2>&1",
                     out, stdin_data);
}

}  // namespace skiff::testing
