// SPDX-License-Identifier: Apache-2.0
#include "e2e_util.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <tuple>
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

std::vector<std::string> isolated_server_flags(const TempDir& dir) {
  return {"--bind-address", "127.0.0.1", "--https-listen-port", "0", "--write-kubeconfig",
          dir.file("kubeconfig.yaml")};
}

std::string wait_for_api_endpoint(Process& server) {
  std::string url;
  const std::regex re("Kubernetes API listening on (https://[0-9.]+:[0-9]+)");
  REQUIRE(eventually(
      [&] {
        std::smatch m;
        std::string err = server.stderr_text();
        if (std::regex_search(err, m, re)) {
          url = m[1];
          return true;
        }
        return !server.running();
      },
      std::chrono::seconds(30)));
  INFO(server.stderr_text());
  REQUIRE(!url.empty());
  return url;
}

KubeServer::KubeServer(const TempDir& dir, std::vector<std::string> extra_flags)
    : kubeconfig_(dir.file("kubeconfig.yaml")) {
  std::vector<std::string> argv = {skiff_bin(), "server", "--data-dir", dir.file("data")};
  for (auto& f : isolated_server_flags(dir)) {
    argv.push_back(f);
  }
  for (auto& f : extra_flags) {
    argv.push_back(std::move(f));
  }
  process_ = std::make_unique<Process>(argv, dir.file("server"));
  url_ = wait_for_api_endpoint(*process_);
}

KubeServer::~KubeServer() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    if (!process_->wait_for(std::chrono::seconds(20))) {
      process_->signal(SIGKILL);
      std::ignore = process_->wait_for(std::chrono::seconds(5));
    }
  }
}

int kubectl(const std::string& kubeconfig, const std::string& args, std::string* out,
            const std::string& stdin_data, const std::string& binary) {
  TempDir cache;
  return run_command(binary + " --kubeconfig " + kubeconfig + " --cache-dir " +
                         cache.path().string() + " --request-timeout=30s " + args + " 2>&1",
                     out, stdin_data);
}

std::string kubectl_version_binary(int minor) {
  std::string path = "/usr/lib/google-cloud-sdk/bin/kubectl.1." + std::to_string(minor);
  if (::access(path.c_str(), X_OK) == 0) {
    return path;
  }
  return find_program("kubectl.1." + std::to_string(minor));
}

}  // namespace skiff::testing
