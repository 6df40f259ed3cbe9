// SPDX-License-Identifier: Apache-2.0
// Debian's python3-kubernetes client library against the built `skiff server`: the script
// tests/e2e/python/client_test.py loads the kubeconfig the server wrote and drives ConfigMaps and a
// Deployment through the library (create, list, watch, three patch types, apply, replace, delete,
// ApiException statuses). Skipped with a message when the package is not installed.

#include <cstdlib>

#include "e2e_util.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::KubeServer;
using skiff::testing::TempDir;

// Debian's interpreter: the package installs under /usr/lib/python3/dist-packages, which another
// python3 on PATH (pyenv, venvs) does not see.
constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

TEST_CASE("python3-kubernetes creates, lists, watches, patches and deletes through the client",
          "[e2e][python]") {
  std::string probe;
  if (skiff::testing::run_command(std::string(kPython) + " -c 'import kubernetes' 2>&1", &probe) !=
      0) {
    WARN("python3-kubernetes is not installed (apt-get install python3-kubernetes): skipping\n"
         << probe);
    return;
  }
  TempDir dir;
  KubeServer server(dir);
  std::string out;
  const char* scripts = std::getenv("SKIFF_E2E_PYTHON");
  REQUIRE(scripts != nullptr);
  int rc = skiff::testing::run_command(std::string(kPython) + " -u " + scripts +
                                           "/client_test.py " + server.kubeconfig() + " 2>&1",
                                       &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("all checks passed") != std::string::npos);
  CHECK(server.process().running());
}
