// SPDX-License-Identifier: Apache-2.0
#pragma once

// pki: the admin kubeconfig `skiff server` writes for kubectl (k3s writes
// /etc/rancher/k3s/k3s.yaml; Skiff takes the path from --write-kubeconfig and the mode from
// --write-kubeconfig-mode). Its shape is k3s's: one cluster, one user and one context, all named
// `default`, `current-context: default`, and the credentials embedded as base64
// (`certificate-authority-data`, `client-certificate-data`, `client-key-data`), so the file is
// self-contained and can be copied to another machine (after changing `server:`).
//
// Thread safety: any thread; write_kubeconfig blocks on file I/O (a start-up call).

#include <string>
#include <string_view>

#include "skiff/base/error.hpp"

namespace skiff::pki {

/// Default file mode (k3s's default; --write-kubeconfig-mode 0644 makes it world-readable).
inline constexpr int kDefaultKubeconfigMode = 0600;

/// The kubeconfig YAML text for `server_url` (e.g. "https://127.0.0.1:6443"), the cluster CA PEM,
/// and the admin client certificate (PEM, may be a chain) and key PEM, each embedded
/// base64-encoded. Errors: kBadRequest (an empty argument, or a server URL containing control
/// characters).
Result<std::string> render_kubeconfig(std::string_view server_url, std::string_view ca_pem,
                                      std::string_view client_cert_pem,
                                      std::string_view client_key_pem);

/// Writes render_kubeconfig(...) to `path` atomically (temporary file in the same directory, fsync,
/// rename, directory fsync) with permission bits exactly `mode` (umask does not apply; an existing
/// file is replaced, so its old mode does not survive either). Missing parent directories are
/// created 0755 (k3s creates /etc/rancher/k3s the same way; the file mode protects the key).
/// Errors: kBadRequest (see render_kubeconfig; `mode` outside 0..0777), kUnavailable (cannot create
/// the directory or write).
Result<void> write_kubeconfig(std::string_view path, int mode, std::string_view server_url,
                              std::string_view ca_pem, std::string_view client_cert_pem,
                              std::string_view client_key_pem);

}  // namespace skiff::pki
