// SPDX-License-Identifier: Apache-2.0
#include "e2e_util.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <tuple>

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
    : kubeconfig_(dir.file("kubeconfig.yaml")), data_dir_(dir.file("data")) {
  // No local agent: these tests talk to the API only.
  std::vector<std::string> argv = {skiff_bin(), "server", "--disable-agent", "--data-dir",
                                   data_dir_};
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

std::string e2e_data(std::string_view name) {
  const char* dir = std::getenv("SKIFF_E2E_DATA");
  REQUIRE(dir != nullptr);
  return std::string(dir) + "/" + std::string(name);
}

Kubectl::Kubectl(std::string kubeconfig, std::string binary)
    : kubeconfig_(std::move(kubeconfig)), binary_(std::move(binary)) {}

CommandResult Kubectl::run(const std::string& args, const std::string& stdin_data,
                           const std::string& env) const {
  TempDir scratch;
  std::string err_path = scratch.file("stderr");
  CommandResult r;
  r.status = run_command(env + (env.empty() ? "" : " ") + binary_ + " --kubeconfig " +
                             kubeconfig_ + " --cache-dir " + scratch.file("cache") +
                             " --request-timeout=30s " + args + " 2>" + err_path,
                         &r.out, stdin_data);
  std::ifstream in(err_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

std::string Kubectl::ok(const std::string& args, const std::string& stdin_data,
                        const std::string& env) const {
  CommandResult r = run(args, stdin_data, env);
  INFO("kubectl " << args << "\n-> exit " << r.status << "\n" << r.text());
  REQUIRE(r.status == 0);
  return r.out;
}

std::string Kubectl::fails(const std::string& args, const std::string& stdin_data) const {
  CommandResult r = run(args, stdin_data);
  INFO("kubectl " << args << "\n-> exit " << r.status << "\n" << r.text());
  REQUIRE(r.status != 0);
  return r.text();
}

BackgroundKubectl::BackgroundKubectl(const Kubectl& kubectl, const std::string& args) {
  std::string binary = kubectl.binary();
  if (binary.find('/') == std::string::npos) {
    binary = find_program(binary);
  }
  REQUIRE(!binary.empty());
  std::vector<std::string> argv = {binary, "--kubeconfig", kubectl.kubeconfig(), "--cache-dir",
                                   dir_.file("cache"), "-v=6"};
  std::istringstream words(args);
  for (std::string w; words >> w;) {
    argv.push_back(w);
  }
  process_ = std::make_unique<Process>(argv, dir_.file("kubectl"));
}

BackgroundKubectl::~BackgroundKubectl() {
  if (process_->running()) {
    process_->signal(SIGTERM);
    if (!process_->wait_for(std::chrono::seconds(5))) {
      process_->signal(SIGKILL);
      std::ignore = process_->wait_for(std::chrono::seconds(5));
    }
  }
}

bool BackgroundKubectl::wait_for(const std::function<bool(const std::string&)>& pred,
                                 std::chrono::milliseconds limit) {
  return eventually([&] { return pred(process_->stdout_text()); }, limit,
                    std::chrono::milliseconds(20));
}

bool BackgroundKubectl::wait_for_lines(std::size_t n, std::chrono::milliseconds limit) {
  return wait_for([n](const std::string& out) { return lines(out).size() >= n; }, limit);
}

bool BackgroundKubectl::wait_for_watch(std::chrono::milliseconds limit) {
  // "GET https://.../x?watch=true 200 OK in 1 milliseconds" up to 1.32, a structured
  // `"Response" verb="GET" url="...watch=true" status="200 OK"` from 1.33.
  const std::regex established("[?&]watch=true[^\n]*200 OK");
  return eventually([&] { return std::regex_search(process_->stderr_text(), established); }, limit,
                    std::chrono::milliseconds(20));
}

std::string BackgroundKubectl::out() const { return process_->stdout_text(); }
std::string BackgroundKubectl::err() const { return process_->stderr_text(); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> columns(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace skiff::testing
