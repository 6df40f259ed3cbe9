// SPDX-License-Identifier: Apache-2.0
// The built `skiff server` on a real small filesystem (a tmpfs this test mounts; needs root): a full
// disk fails writes with etcd's "database space exceeded" while reads go on and no acknowledged write is
// lost; a read-only data dir fails start-up with a clear message.

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

#include "e2e_util.hpp"
#include "skiff_test.hpp"

namespace {

using skiff::testing::etcdctl;
using skiff::testing::Process;
using skiff::testing::skiff_bin;
using skiff::testing::wait_for_etcd_endpoint;
using skiff::testing::TempDir;
using namespace std::chrono_literals;

// A tmpfs of `size` mounted on `dir` for the test's lifetime.
class TmpfsMount {
 public:
  TmpfsMount(std::string dir, const std::string& size) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::string opts = "size=" + size + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) {
      ::umount2(dir_.c_str(), MNT_DETACH);
    }
  }
  bool mounted() const { return mounted_; }
  bool resize(const std::string& size) {
    std::string opts = "size=" + size;
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }
  bool remount_read_only() {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a full disk fails writes clearly, keeps reads working and loses no acknowledged write",
          "[e2e][disk]") {
  if (::geteuid() != 0 || skiff::testing::find_program("etcdctl").empty()) {
    WARN("needs root (to mount a tmpfs) and etcdctl: skipping");
    return;
  }
  TempDir dir;
  TmpfsMount disk(dir.file("data"), "4m");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here: skipping");
    return;
  }
  std::vector<std::string> args = {skiff_bin(), "server", "--data-dir", dir.file("data"),
                                   "--etcd-listen", "127.0.0.1:0"};
  for (auto& f : skiff::testing::isolated_server_flags(dir)) {
    args.push_back(f);
  }
  std::vector<std::string> acked;
  std::string failure;
  const std::string value(48 * 1024, 'v');
  {
    Process server(args, dir.file("full"));
    auto endpoint = wait_for_etcd_endpoint(server);
    for (int i = 0; i < 400 && failure.empty(); ++i) {
      std::string key = "/fill/" + std::to_string(1000 + i);
      std::string out;
      if (etcdctl(endpoint, "put " + key, &out, value) == 0) {
        acked.push_back(key);
      } else {
        failure = out;
      }
    }
    INFO(failure);
    REQUIRE(!failure.empty());  // 400 x 48 KiB cannot fit in 4 MiB
    CHECK(failure.find("database space exceeded") != std::string::npos);
    REQUIRE(!acked.empty());
    // Reads keep working, and so does the server for further requests.
    std::string out;
    REQUIRE(etcdctl(endpoint, "get /fill/ --prefix --keys-only", &out) == 0);
    for (const auto& key : acked) {
      CHECK(out.find(key) != std::string::npos);
    }
    REQUIRE(etcdctl(endpoint, "endpoint status", &out) == 0);
    server.signal(SIGTERM);
    auto status = server.wait_for(30s);
    REQUIRE(status.has_value());
    CHECK(*status == 0);
  }
  {
    // A restart on the still-full disk either serves or says clearly why it cannot start.
    Process server(args, dir.file("still-full"));
    auto status = server.wait_for(3s);
    if (status.has_value()) {
      CHECK(*status == 1);
      INFO(server.stderr_text());
      CHECK(server.stderr_text().find("disk is full") != std::string::npos);
    } else {
      server.signal(SIGTERM);
      CHECK(server.wait_for(30s) == std::optional<int>(0));
    }
  }
  REQUIRE(disk.resize("16m"));
  {
    // With room again every acknowledged write is there, and writes work again.
    Process server(args, dir.file("again"));
    auto endpoint = wait_for_etcd_endpoint(server);
    std::string out;
    REQUIRE(etcdctl(endpoint, "get /fill/ --prefix --keys-only", &out) == 0);
    for (const auto& key : acked) {
      CHECK(out.find(key) != std::string::npos);
    }
    REQUIRE(etcdctl(endpoint, "get " + acked.back() + " --print-value-only", &out) == 0);
    CHECK(out == value + "\n");
    CHECK(etcdctl(endpoint, "put /after-full ok", &out) == 0);
    server.signal(SIGTERM);
    CHECK(server.wait_for(30s) == std::optional<int>(0));
  }
}

TEST_CASE("a read-only data dir fails start-up with a clear message", "[e2e][disk]") {
  if (::geteuid() != 0 || skiff::testing::find_program("etcdctl").empty()) {
    WARN("needs root (to mount a tmpfs) and etcdctl: skipping");
    return;
  }
  TempDir dir;
  TmpfsMount disk(dir.file("data"), "16m");
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here: skipping");
    return;
  }
  std::vector<std::string> args = {skiff_bin(), "server", "--data-dir", dir.file("data"),
                                   "--etcd-listen", "127.0.0.1:0"};
  for (auto& f : skiff::testing::isolated_server_flags(dir)) {
    args.push_back(f);
  }
  {
    Process server(args, dir.file("rw"));
    auto endpoint = wait_for_etcd_endpoint(server);
    std::string out;
    REQUIRE(etcdctl(endpoint, "put /k v", &out) == 0);
    server.signal(SIGTERM);
    REQUIRE(server.wait_for(30s) == std::optional<int>(0));
  }
  REQUIRE(disk.remount_read_only());
  Process server(args, dir.file("ro"));
  auto status = server.wait_for(30s);
  REQUIRE(status.has_value());
  CHECK(*status == 1);
  auto err = server.stderr_text();
  INFO(err);
  CHECK(std::regex_search(err, std::regex("read-only|not writable|readonly", std::regex::icase)));
  CHECK(err.find("state.db") != std::string::npos);
}
