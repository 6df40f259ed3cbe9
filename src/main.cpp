// SPDX-License-Identifier: Apache-2.0
#include <string>
#include <vector>

#include "skiff/cli/cli.hpp"

int main(int argc, char** argv) {
  return skiff::cli::run(std::vector<std::string>(argv, argv + argc));
}
