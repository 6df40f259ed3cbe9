// SPDX-License-Identifier: Apache-2.0
// kv_crash_writer DB: hammers a store with 4 writer threads until killed, printing one line per
// acknowledged write (flushed at once) so a test can check, after SIGKILL, that every acknowledged
// write survived:
//   P <revision> <key> <value>   a put (also each put of a txn; both share the revision)
//   D <revision> <key>           a delete of a key that existed

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "skiff/kv/store.hpp"

namespace {

std::mutex g_out_mu;

void emit(const std::string& line) {
  std::lock_guard lock(g_out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void run_thread(skiff::kv::Store& store, int thread) {
  using namespace skiff::kv;
  const std::string base = fmt::format("crash/{}/{}/", ::getpid(), thread);
  for (long i = 0;; ++i) {
    const std::string key = base + std::to_string(i);
    const std::string value = fmt::format("v{}-{}", thread, i);
    if (i % 10 == 9) {
      // A txn writing two keys at one revision.
      TxnRequest txn;
      txn.success = {RequestOp{PutRequest{key, value, 0, false, false, false}},
                     RequestOp{PutRequest{key + "/b", value + "b", 0, false, false, false}}};
      auto r = store.txn_sync(txn);
      if (!r) {
        std::fprintf(stderr, "txn failed: %s\n", r.error().message.c_str());
        std::_Exit(2);
      }
      emit(fmt::format("P {} {} {}\nP {} {}/b {}b\n", r->revision, key, value, r->revision, key,
                       value));
    } else if (i % 7 == 6) {
      // Delete the key written two iterations ago (a plain put).
      const std::string victim = base + std::to_string(i - 2);
      auto r = store.delete_range_sync(DeleteRangeRequest{victim, {}, false});
      if (!r) {
        std::fprintf(stderr, "delete failed: %s\n", r.error().message.c_str());
        std::_Exit(2);
      }
      if (r->deleted == 1) {
        emit(fmt::format("D {} {}\n", r->revision, victim));
      }
    } else {
      auto r = store.put_sync(PutRequest{key, value, 0, false, false, false});
      if (!r) {
        std::fprintf(stderr, "put failed: %s\n", r.error().message.c_str());
        std::_Exit(2);
      }
      emit(fmt::format("P {} {} {}\n", r->revision, key, value));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kv_crash_writer DB\n");
    return 2;
  }
  skiff::kv::StoreOptions options;
  options.path = argv[1];
  options.sync_full = true;
  options.auto_compaction = false;
  auto store = skiff::kv::Store::open(options);
  if (!store) {
    std::fprintf(stderr, "open failed: %s\n", store.error().message.c_str());
    return 1;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { run_thread(**store, t); });
  }
  for (auto& thread : threads) {
    thread.join();  // never returns: the test kills the process
  }
  return 0;
}
