// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared helpers of the end-to-end tests: the built binary's path, waiting for `skiff server` to listen,
// and running Debian's real etcdctl against it.

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "skiff_test.hpp"

namespace skiff::testing {

/// The `skiff` binary under test ($SKIFF_BIN, set by meson).
std::string skiff_bin();

/// Waits (bounded) for the server's "etcd v3 endpoint listening on HOST:PORT" log line; returns
/// HOST:PORT. Fails the test if the server exits or never logs it.
std::string wait_for_etcd_endpoint(Process& server);

/// Runs `etcdctl <args>` (API 3, short timeouts) against `endpoint`; returns its exit status and fills
/// `out` with stdout and stderr.
int etcdctl(const std::string& endpoint, const std::string& args, std::string* out,
            const std::string& stdin_data = {});

/// The flags every test passes to `skiff server` so that servers of parallel tests never share a
/// port or a kubeconfig path: the API on a free loopback port, the kubeconfig under `dir`.
std::vector<std::string> isolated_server_flags(const TempDir& dir);

/// Waits (bounded) for the server's "Kubernetes API listening on https://HOST:PORT" log line and
/// returns "https://HOST:PORT". Fails the test if the server exits first.
std::string wait_for_api_endpoint(Process& server);

/// A `skiff server` on a fresh data dir with its API on a free port, ready for kubectl.
class KubeServer {
 public:
  explicit KubeServer(const TempDir& dir, std::vector<std::string> extra_flags = {});
  ~KubeServer();
  KubeServer(const KubeServer&) = delete;
  KubeServer& operator=(const KubeServer&) = delete;

  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& url() const { return url_; }
  Process& process() { return *process_; }

 private:
  std::string kubeconfig_;
  std::string url_;
  std::unique_ptr<Process> process_;
};

/// Runs `<binary> --kubeconfig K <args>` (binary: "kubectl" = the dispatcher, or a path such as
/// /usr/lib/google-cloud-sdk/bin/kubectl.1.27) with a fresh cache dir per call; stdout and stderr
/// go to `out`. Returns the exit status.
int kubectl(const std::string& kubeconfig, const std::string& args, std::string* out,
            const std::string& stdin_data = {}, const std::string& binary = "kubectl");

/// The path of kubectl for minor version `minor` (e.g. 27), or empty if not installed.
std::string kubectl_version_binary(int minor);

}  // namespace skiff::testing
