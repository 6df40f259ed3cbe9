// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared helpers of the end-to-end tests: the built binary's path, waiting for `skiff server` to listen,
// running Debian's real etcdctl against it, and the real kubectl (foreground and background) against a
// `skiff server` started with its own kubeconfig.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

/// A `skiff server --disable-agent` on a fresh data dir with its API on a free port, ready for
/// kubectl.
class KubeServer {
 public:
  explicit KubeServer(const TempDir& dir, std::vector<std::string> extra_flags = {});
  ~KubeServer();
  KubeServer(const KubeServer&) = delete;
  KubeServer& operator=(const KubeServer&) = delete;

  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& url() const { return url_; }
  /// The server's --data-dir (its PKI is under server/tls/).
  const std::string& data_dir() const { return data_dir_; }
  Process& process() { return *process_; }

 private:
  std::string kubeconfig_;
  std::string data_dir_;
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

/// A file under tests/data/e2e ($SKIFF_E2E_DATA, set by meson).
std::string e2e_data(std::string_view name);

/// What a client command printed (stdout and stderr apart) and its exit status.
struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
  /// Both streams, for failure messages and for asserting on either.
  std::string text() const { return out + err; }
};

/// kubectl bound to one server's kubeconfig and one binary ("kubectl" = the dispatcher, or a
/// versioned path). Each call gets a fresh discovery cache, so every command sends the requests a
/// first-time user's would.
class Kubectl {
 public:
  explicit Kubectl(std::string kubeconfig, std::string binary = "kubectl");

  /// Runs `kubectl <args>`; `env` is prepended to the command line ("KUBE_EDITOR=/x/ed.sh").
  CommandResult run(const std::string& args, const std::string& stdin_data = {},
                    const std::string& env = {}) const;
  /// As run(), and the command must exit 0 (the test fails with its output otherwise); returns
  /// stdout.
  std::string ok(const std::string& args, const std::string& stdin_data = {},
                 const std::string& env = {}) const;
  /// As run(), and the command must fail (non-zero exit); returns stdout + stderr.
  std::string fails(const std::string& args, const std::string& stdin_data = {}) const;

  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& binary() const { return binary_; }

 private:
  std::string kubeconfig_;
  std::string binary_;
};

/// A long-running kubectl (get -w) in the background, its output captured to files; killed on
/// destruction. Poll its output with wait_for(). It runs with -v=6, so its stderr logs each request
/// once the response headers arrived: wait_for_watch() knows when the watch is established.
class BackgroundKubectl {
 public:
  BackgroundKubectl(const Kubectl& kubectl, const std::string& args);
  ~BackgroundKubectl();
  BackgroundKubectl(const BackgroundKubectl&) = delete;
  BackgroundKubectl& operator=(const BackgroundKubectl&) = delete;

  /// Waits (bounded) until stdout satisfies `pred`; returns whether it did.
  bool wait_for(const std::function<bool(const std::string&)>& pred,
                std::chrono::milliseconds limit = std::chrono::seconds(20));
  /// Waits until stdout holds `lines` lines.
  bool wait_for_lines(std::size_t lines, std::chrono::milliseconds limit = std::chrono::seconds(20));
  /// Waits until the server answered a watch request (changes from now on are seen).
  bool wait_for_watch(std::chrono::milliseconds limit = std::chrono::seconds(20));
  std::string out() const;
  std::string err() const;
  Process& process() { return *process_; }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

/// The lines of `text` (no trailing empty line).
std::vector<std::string> lines(const std::string& text);

/// `line` split on runs of spaces (kubectl's column output).
std::vector<std::string> columns(const std::string& line);

/// The whole content of the file at `path` ("" when it cannot be read).
std::string slurp(const std::string& path);

/// `s` with every occurrence of `from` replaced by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to);

/// Whether `haystack` contains `needle`.
bool contains(const std::string& haystack, const std::string& needle);

}  // namespace skiff::testing
