// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared helpers of the end-to-end tests: the built binary's path, waiting for `skiff server` to listen,
// and running Debian's real etcdctl against it.

#include <string>

#include "process.hpp"

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

}  // namespace skiff::testing
