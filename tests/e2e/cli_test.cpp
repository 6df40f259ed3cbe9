// SPDX-License-Identifier: Apache-2.0
// The built `skiff` binary's command-line contract: version and help, usage errors (exit 2), start-up
// failures (exit 1 with a clear message), orderly shutdown on SIGTERM/SIGINT (exit 0), and data that
// survives a restart, checked with Debian's real etcdctl.

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "e2e_util.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::Process;
using skiff::testing::skiff_bin;
using skiff::testing::wait_for_etcd_endpoint;
using skiff::testing::TempDir;
using namespace std::chrono_literals;

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

Outcome run_skiff(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), skiff_bin());
  Process p(args, dir.file("run"));
  auto status = p.wait_for(30s);
  REQUIRE(status.has_value());
  return {*status, p.stdout_text(), p.stderr_text()};
}

// The member_id in an `endpoint status -w json` answer.
std::string member_id(const std::string& status_json) {
  std::smatch m;
  if (std::regex_search(status_json, m, std::regex(R"("member_id":([0-9]+))"))) {
    return m[1];
  }
  return {};
}

// The header revision in an `endpoint status -w json` answer.
std::string revision_of(const std::string& status_json) {
  std::smatch m;
  if (std::regex_search(status_json, m, std::regex(R"("revision":([0-9]+))"))) {
    return m[1];
  }
  return {};
}

// The mod_revision of the first key in `etcdctl get -w json` output.
std::string mod_revision_of(const std::string& get_json) {
  std::smatch m;
  if (std::regex_search(get_json, m, std::regex(R"("mod_revision":([0-9]+))"))) {
    return m[1];
  }
  return {};
}

// etcdctl that must succeed; returns its output.
std::string etcdctl_ok(const std::string& endpoint, const std::string& args) {
  std::string out;
  int rc = skiff::testing::etcdctl(endpoint, args, &out);
  INFO("etcdctl " << args << " -> " << out);
  REQUIRE(rc == 0);
  return out;
}

/// `skiff server` with only the datastore and its etcd endpoint (no API server), inside `dir`.
std::vector<std::string> datastore_server_args(const TempDir& dir) {
  std::vector<std::string> args = {skiff_bin(), "server", "--data-dir", dir.file("data"),
                                   "--etcd-listen", "127.0.0.1:0", "--disable-apiserver"};
  for (auto& f : skiff::testing::isolated_server_flags(dir)) {
    args.push_back(f);
  }
  return args;
}

/// A running `skiff server` with only the datastore (datastore_server_args) in a temp dir of its
/// own, its etcd endpoint up.
struct DatastoreServer {
  TempDir dir;
  std::vector<std::string> args = datastore_server_args(dir);
  Process process{args, dir.file("server")};
  std::string endpoint = wait_for_etcd_endpoint(process);
};

/// Sends `sig` and expects an orderly exit with status 0 within 20 s.
void expect_clean_stop(Process& server, int sig = SIGTERM) {
  server.signal(sig);
  auto status = server.wait_for(20s);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
}

/// True (with a warning) when Debian's etcdctl is not installed: the caller skips its test.
bool etcdctl_missing() {
  if (skiff::testing::find_program("etcdctl").empty()) {
    WARN("etcdctl not installed: skipping");
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("skiff --version prints the version and exits 0", "[e2e][cli]") {
  TempDir dir;
  for (const char* flag : {"--version", "-v"}) {
    auto r = run_skiff(dir, {flag});
    CHECK(r.status == 0);
    CHECK(std::regex_search(r.out, std::regex(R"(^skiff version v\d+\.\d+\.\d+ \()")));
  }
}

TEST_CASE("skiff --help and skiff server --help list commands and flags", "[e2e][cli]") {
  TempDir dir;
  auto top = run_skiff(dir, {"--help"});
  CHECK(top.status == 0);
  CHECK(top.out.find("server") != std::string::npos);
  auto server = run_skiff(dir, {"server", "--help"});
  CHECK(server.status == 0);
  for (const char* flag : {"--data-dir", "--etcd-listen", "--log-level", "--datastore-sync"}) {
    CHECK(server.out.find(flag) != std::string::npos);
  }
}

TEST_CASE("unknown flags, bad values and unknown commands are usage errors with exit code 2",
          "[e2e][cli]") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"server", "--bogus"}, "flag provided but not defined: --bogus"},
      {{"server", "--log-level", "loud"}, "invalid value \"loud\" for flag --log-level"},
      {{"server", "--log-level=loud"}, "invalid value \"loud\" for flag --log-level"},
      {{"server", "--etcd-listen", "nowhere"}, "invalid value \"nowhere\" for flag --etcd-listen"},
      {{"server", "--etcd-listen", "127.0.0.1:70000"}, "for flag --etcd-listen"},
      {{"server", "--datastore-sync", "sometimes"}, "for flag --datastore-sync"},
      {{"server", "--datastore-quota-bytes", "-5"}, "for flag --datastore-quota-bytes"},
      {{"server", "--data-dir"}, "flag needs an argument: --data-dir"},
      {{"server", "--disable-apiserver=maybe"}, "invalid value \"maybe\" for flag --disable-apiserver"},
      {{"server", "--disable-apiserver"}, "--disable-apiserver needs --etcd-listen"},
      {{"server", "extra"}, "unexpected argument \"extra\""},
      {{"frobnicate"}, "no such command \"frobnicate\""},
      {{"--bogus"}, "flag provided but not defined: --bogus"},
  };
  for (const auto& c : cases) {
    auto r = run_skiff(dir, c.args);
    INFO(c.args.back() << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
}

TEST_CASE("a data dir that cannot be created or a corrupt database fail start-up with exit 1",
          "[e2e][cli]") {
  TempDir dir;
  {
    std::ofstream(dir.file("plainfile")) << "not a directory";
    auto r = run_skiff(dir, {"server", "--data-dir", dir.file("plainfile") + "/sub",
                                  "--https-listen-port", "0", "--write-kubeconfig",
                                  dir.file("kc.yaml")});
    CHECK(r.status == 1);
    CHECK(r.err.find("cannot create data directory") != std::string::npos);
  }
  {
    std::filesystem::create_directories(dir.path() / "bad" / "server" / "db");
    std::ofstream(dir.file("bad/server/db/state.db")) << std::string(8192, 'x');
    auto r = run_skiff(dir, {"server", "--data-dir", dir.file("bad"), "--https-listen-port", "0",
                              "--write-kubeconfig", dir.file("kc.yaml")});
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("state.db") != std::string::npos);
  }
}

TEST_CASE("skiff server stops in order on SIGTERM and SIGINT and keeps its data", "[e2e][cli]") {
  if (etcdctl_missing()) {
    return;
  }
  TempDir dir;
  std::vector<std::string> args = {skiff_bin(), "server", "--data-dir", dir.file("data"),
                                   "--etcd-listen", "127.0.0.1:0"};
  for (auto& f : skiff::testing::isolated_server_flags(dir)) {
    args.push_back(f);
  }
  std::string first_member;
  std::string first_revision;
  std::string first_b_revision;
  {
    Process server(args, dir.file("first"));
    auto endpoint = wait_for_etcd_endpoint(server);
    etcdctl_ok(endpoint, "put /test/a one");
    etcdctl_ok(endpoint, "put /test/b two");
    auto first_status = etcdctl_ok(endpoint, "endpoint status -w json");
    first_member = member_id(first_status);
    first_revision = revision_of(first_status);
    first_b_revision = mod_revision_of(etcdctl_ok(endpoint, "get /test/b -w json"));
    REQUIRE(!first_b_revision.empty());
    expect_clean_stop(server);
    CHECK(server.stderr_text().find("shutdown complete") != std::string::npos);
  }
  {
    Process server(args, dir.file("second"));
    auto endpoint = wait_for_etcd_endpoint(server);
    auto out = etcdctl_ok(endpoint, "get /test/ --prefix --print-value-only");
    CHECK(out == "one\ntwo\n");
    // The revision and the cluster identity survive the restart. The API server may write on
    // start (the kubernetes Endpoints follow the port, here a new one), so the revision can only
    // have grown.
    auto status_json = etcdctl_ok(endpoint, "endpoint status -w json");
    REQUIRE(!first_revision.empty());
    REQUIRE(!revision_of(status_json).empty());
    CHECK(std::stoll(revision_of(status_json)) >= std::stoll(first_revision));
    CHECK(mod_revision_of(etcdctl_ok(endpoint, "get /test/b -w json")) == first_b_revision);
    CHECK(!first_member.empty());
    CHECK(member_id(status_json) == first_member);
    expect_clean_stop(server, SIGINT);
  }
}

TEST_CASE("a second skiff server on a data dir in use exits 1 and the first keeps serving",
          "[e2e][cli]") {
  if (etcdctl_missing()) {
    return;
  }
  DatastoreServer first;
  const auto& endpoint = first.endpoint;
  etcdctl_ok(endpoint, "put /held/a one");
  {
    Process second(first.args, first.dir.file("second"));
    auto status = second.wait_for(20s);
    REQUIRE(status.has_value());
    CHECK(*status == 1);
    INFO(second.stderr_text());
    CHECK(second.stderr_text().find("is in use by another process") != std::string::npos);
    CHECK(second.stderr_text().find("state.db") != std::string::npos);
  }
  // The refused start changed nothing: the first server still reads and writes.
  etcdctl_ok(endpoint, "put /held/b two");
  CHECK(etcdctl_ok(endpoint, "get /held/ --prefix --print-value-only") == "one\ntwo\n");
  expect_clean_stop(first.process);
}

TEST_CASE("skiff server --disable-apiserver serves only the datastore over the etcd endpoint",
          "[e2e][cli]") {
  if (etcdctl_missing()) {
    return;
  }
  DatastoreServer datastore;
  const auto& dir = datastore.dir;
  const auto& endpoint = datastore.endpoint;
  auto& server = datastore.process;
  etcdctl_ok(endpoint, "put /only/a one");
  CHECK(etcdctl_ok(endpoint, "get /only/a --print-value-only") == "one\n");
  // No API server: no Kubernetes objects (the default namespaces), no kubeconfig, no PKI.
  CHECK(etcdctl_ok(endpoint, "get /registry/ --prefix --keys-only").empty());
  CHECK(!std::filesystem::exists(dir.file("kubeconfig.yaml")));
  CHECK(!std::filesystem::exists(dir.path() / "data" / "server" / "tls"));
  CHECK(server.stderr_text().find("Kubernetes API listening") == std::string::npos);
  expect_clean_stop(server);
}
