// SPDX-License-Identifier: Apache-2.0
#pragma once

// The `skiff` command line: subcommands, flags and exit codes (k3s's CLI contract where it has one).
// Exit codes: 0 success (also after SIGTERM/SIGINT and an orderly shutdown), 1 a runtime failure (the
// message says what), 2 a usage error (unknown flag, bad value, missing argument).

#include <string>
#include <vector>

namespace skiff::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Runs the command line `args` (args[0] is the program name). Blocks until the subcommand ends (for
/// `server`: until SIGTERM/SIGINT). Call from main(), before any other thread exists: it blocks
/// SIGTERM/SIGINT so that only its signal wait receives them.
int run(const std::vector<std::string>& args);

}  // namespace skiff::cli
