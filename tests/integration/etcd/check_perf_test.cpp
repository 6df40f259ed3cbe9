// SPDX-License-Identifier: Apache-2.0
//
// `etcdctl check perf --load=s` against the shim (60 s of rate-limited puts from 50 clients, then a prefix
// delete, compaction and defragment): the regression gate from notes/etcd.md §8 item 54.

#include "harness.hpp"

using skiff::etcd::testing::etcdctl;
using skiff::etcd::testing::Shim;
using skiff::testing::find_program;

TEST_CASE("etcdctl check perf --load=s passes on the shim", "[etcd][perf]") {
  if (find_program("etcdctl").empty()) {
    WARN("etcdctl not installed (Debian etcd-client): skipped");
    return;
  }
  Shim shim;
  const auto r = etcdctl(shim.endpoint(), "check perf --load=s --auto-compact --auto-defrag");
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  WARN("check perf output:\n" << r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("PASS: Throughput") != std::string::npos);
  CHECK(r.out.find("FAIL") == std::string::npos);
  // The prefix is gone afterwards and the store still answers.
  const auto left = etcdctl(shim.endpoint(), "get /etcdctl-check-perf/ --prefix --keys-only --limit 1");
  CHECK(left.rc == 0);
  CHECK(left.out.empty());
}
