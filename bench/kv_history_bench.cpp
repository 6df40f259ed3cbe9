// SPDX-License-Identifier: Apache-2.0
//
// kv_history_bench: benchmarks kv::Store directly (no gRPC), each part on fresh database files
// under
// --dir (removed at the end unless --keep). Prints one JSON document (also written to --out).
//
// Parts (--parts, comma-separated; default all):
//   history     history independence: list (range over the key prefix) and get latency on a store
//               with --keys keys and --keys revisions, against a store where the same keys were
//               updated until --revisions revisions are retained (auto compaction off); the second
//               store is measured live and again after reopening it. Target: p50/p99 within 20 %.
//   compaction  database size after --updates updates of --keys keys: with automatic compaction
//   (small
//               keep values), and without it followed by an explicit Compact; each before and after
//               Defragment.
//   throughput  put throughput and latency, sequential (put_sync) and --threads threads, with
//               sync_full on and off.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "skiff/kv/store.hpp"

#include "bench_util.hpp"

namespace skiff::bench {
namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(120);
constexpr std::ptrdiff_t kWindow = 1024;  // async puts outstanding while filling a store

struct Options {
  std::string dir;
  std::vector<std::string> parts;
  std::string out;
  bool keep = false;
  std::size_t keys = 1000;
  std::int64_t revisions = 1'000'000;
  std::size_t history_value_size = 128;
  std::size_t value_size = 1024;
  std::size_t list_runs = 1000;
  std::size_t get_runs = 20000;
  std::int64_t updates = 100'000;
  std::size_t seq_puts = 3000;
  std::size_t threads = 64;
  std::size_t thread_puts = 20000;
};

std::string error_text(const Error& e) {
  return std::string(reason_name(e.reason)) + ": " + e.message;
}

std::string make_value(std::size_t size, std::size_t seed) {
  std::string v(size, 'v');
  for (std::size_t i = 0; i < size; ++i) {
    v[i] = static_cast<char>('a' + (i * 13 + seed) % 26);
  }
  return v;
}

std::unique_ptr<kv::Store> open_store(kv::StoreOptions options) {
  auto store = kv::Store::open(std::move(options));
  if (!store) {
    throw std::runtime_error("open: " + error_text(store.error()));
  }
  return std::move(*store);
}

/// Bytes of a store's files (the database plus its -wal/-shm companions).
Json file_sizes(const kv::Store& store, const std::string& dir) {
  const kv::StoreStatus st = store.status();
  const DiskUsage u = disk_usage(dir);
  Json j = Json::object();
  j.set("revision", st.revision).set("compact_revision", st.compact_revision);
  j.set("db_size", st.db_size).set("db_size_in_use", st.db_size_in_use).set("keys", st.keys);
  j.set("dir_apparent_bytes", u.apparent).set("dir_allocated_bytes", u.allocated);
  return j;
}

/// Async puts with a bounded number outstanding: the writer thread batches them (group commit).
class PutPipeline {
 public:
  explicit PutPipeline(kv::Store& store) : store_(store) {}

  void put(std::string key, std::string value) {
    if (!slots_.try_acquire_for(kWriteTimeout)) {
      throw std::runtime_error("put not acknowledged within the timeout");
    }
    kv::PutRequest req;
    req.key = std::move(key);
    req.value = std::move(value);
    store_.put(std::move(req), [this](Result<kv::PutResponse> r) {
      if (!r) {
        std::lock_guard lock(mu_);
        if (errors_++ == 0) {
          first_error_ = error_text(r.error());
        }
      }
      slots_.release();
    });
  }

  /// Waits until everything issued was acknowledged; throws if any put failed.
  void drain() {
    for (std::ptrdiff_t i = 0; i < kWindow; ++i) {
      if (!slots_.try_acquire_for(kWriteTimeout)) {
        throw std::runtime_error("puts not acknowledged within the timeout");
      }
    }
    slots_.release(kWindow);
    std::lock_guard lock(mu_);
    if (errors_ > 0) {
      throw std::runtime_error(std::to_string(errors_) + " puts failed, first: " + first_error_);
    }
  }

 private:
  kv::Store& store_;
  std::counting_semaphore<kWindow> slots_{kWindow};
  std::mutex mu_;
  std::size_t errors_ = 0;
  std::string first_error_;
};

template <class T, class Start>
Result<T> wait_for_callback(Start start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kWriteTimeout) != std::future_status::ready) {
    throw std::runtime_error("store callback not called within the timeout");
  }
  return future.get();
}

class KvBench {
 public:
  explicit KvBench(Options options) : options_(std::move(options)) {}

  Json run() {
    Json result = Json::object();
    result.set("tool", "kv_history_bench");
    Json opts = Json::object();
    opts.set("keys", options_.keys).set("revisions", options_.revisions);
    opts.set("history_value_size", options_.history_value_size)
        .set("value_size", options_.value_size);
    opts.set("list_runs", options_.list_runs).set("get_runs", options_.get_runs);
    opts.set("updates", options_.updates).set("seq_puts", options_.seq_puts);
    opts.set("threads", options_.threads).set("thread_puts", options_.thread_puts);
    result.set("options", opts);
    std::filesystem::create_directories(options_.dir);
    for (const auto& part : options_.parts) {
      std::fprintf(stderr, "kv_history_bench: %s\n", part.c_str());
      Json j;
      try {
        if (part == "history") {
          j = history();
        } else if (part == "compaction") {
          j = compaction();
        } else if (part == "throughput") {
          j = throughput();
        } else {
          j = Json::object().set("error", "unknown part");
        }
      } catch (const std::exception& e) {
        j = Json::object().set("error", e.what());
      }
      result.set(part, std::move(j));
    }
    if (!options_.keep) {
      std::error_code ec;
      std::filesystem::remove_all(options_.dir, ec);
    }
    return result;
  }

 private:
  std::string key(std::size_t i) const { return indexed_key("/registry/bench/", i); }

  kv::StoreOptions store_options(const std::string& name, bool sync_full,
                                 bool auto_compaction) const {
    kv::StoreOptions o;
    o.path = options_.dir + "/" + name + "/kv.db";
    o.sync_full = sync_full;
    o.auto_compaction = auto_compaction;
    return o;
  }

  // ---- (a) history independence

  /// (p50, p99) in ms per measured read, for the history/fresh ratios.
  using Percentiles = std::map<std::string, std::pair<double, double>>;

  /// One kind of read, run against several stores: `make(i)` builds the i-th request.
  using MakeRequest = std::function<kv::RangeRequest(const kv::Store&, std::size_t)>;

  /// Runs `runs` reads per store, interleaved in blocks of 10 so that every store sees the same
  /// background load (two shared cores: a compile next door moves p99 by milliseconds). Adds one
  /// summary per store to `out[s]` under `what`.
  static void interleaved(const std::vector<const kv::Store*>& stores, const std::string& what,
                          std::size_t runs, const MakeRequest& make, std::size_t expect_kvs,
                          std::vector<Json>& out, std::vector<Percentiles>& pct) {
    constexpr std::size_t kBlock = 10;
    std::vector<std::vector<double>> lat(stores.size());
    for (std::size_t done = 0; done < runs; done += kBlock) {
      for (std::size_t s = 0; s < stores.size(); ++s) {
        for (std::size_t i = done; i < std::min(runs, done + kBlock); ++i) {
          const kv::RangeRequest req = make(*stores[s], i);
          const auto t0 = Clock::now();
          auto resp = stores[s]->range(req);
          lat[s].push_back(elapsed_ms(t0, Clock::now()));
          if (!resp) {
            throw std::runtime_error(what + ": " + error_text(resp.error()));
          }
          const std::size_t got =
              req.count_only ? static_cast<std::size_t>(resp->count) : resp->kvs.size();
          if (got != expect_kvs) {
            throw std::runtime_error(what + ": got " + std::to_string(got) + " keys, want " +
                                     std::to_string(expect_kvs));
          }
        }
      }
    }
    for (std::size_t s = 0; s < stores.size(); ++s) {
      std::sort(lat[s].begin(), lat[s].end());
      pct[s][what] = {percentile(lat[s], 50), percentile(lat[s], 99)};
      out[s].set(what, summarize(std::move(lat[s])));
    }
  }

  /// List/get latencies of stores that each hold the same `keys` live keys, measured interleaved.
  std::vector<Json> read_latencies(const std::vector<const kv::Store*>& stores,
                                   std::vector<Percentiles>& pct) {
    std::vector<Json> out(stores.size(), Json::object());
    pct.assign(stores.size(), Percentiles{});
    const std::string prefix = "/registry/bench/";
    const std::string end = prefix_range_end(prefix);
    const std::size_t runs = options_.list_runs;
    // kube-apiserver list: the whole prefix at the latest revision.
    interleaved(
        stores, "list", runs,
        [&](const kv::Store&, std::size_t) {
          kv::RangeRequest r;
          r.key = prefix;
          r.range_end = end;
          return r;
        },
        options_.keys, out, pct);
    // Continuation pages are pinned to a revision: the same list at an explicit (the current)
    // revision may take another path than a read of the latest state.
    interleaved(
        stores, "list_at_current_revision", runs,
        [&](const kv::Store& st, std::size_t) {
          kv::RangeRequest r;
          r.key = prefix;
          r.range_end = end;
          r.revision = st.current_revision();
          return r;
        },
        options_.keys, out, pct);
    interleaved(
        stores, "list_limit_100", runs,
        [&](const kv::Store&, std::size_t) {
          kv::RangeRequest r;
          r.key = prefix;
          r.range_end = end;
          r.limit = 100;
          return r;
        },
        std::min<std::size_t>(100, options_.keys), out, pct);
    interleaved(
        stores, "count_only", runs,
        [&](const kv::Store&, std::size_t) {
          kv::RangeRequest r;
          r.key = prefix;
          r.range_end = end;
          r.count_only = true;
          return r;
        },
        options_.keys, out, pct);
    interleaved(
        stores, "get", options_.get_runs,
        [&](const kv::Store&, std::size_t i) {
          kv::RangeRequest r;
          r.key = key((i * 7919) % options_.keys);
          return r;
        },
        1, out, pct);
    return out;
  }

  /// history / fresh for p50 and p99 of each measured read (1.0 = no change; target <= 1.2).
  static Json ratios(const Percentiles& fresh, const Percentiles& history) {
    Json j = Json::object();
    for (const auto& [what, f] : fresh) {
      auto it = history.find(what);
      if (it == history.end()) {
        continue;
      }
      Json r = Json::object();
      r.set("p50_ratio", f.first > 0 ? it->second.first / f.first : 0.0);
      r.set("p99_ratio", f.second > 0 ? it->second.second / f.second : 0.0);
      j.set(what, std::move(r));
    }
    return j;
  }

  Json history() {
    Json j = Json::object();
    const std::string value = make_value(options_.history_value_size, 1);
    auto fresh = open_store(store_options("fresh", false, false));
    {
      PutPipeline p(*fresh);
      for (std::size_t i = 0; i < options_.keys; ++i) {
        p.put(key(i), value);
      }
      p.drain();
    }
    double fill_s = 0;
    {
      auto store = open_store(store_options("history", false, false));
      PutPipeline p(*store);
      const auto t0 = Clock::now();
      std::size_t i = 0;
      // Bounded: revisions - 1 puts (the first `keys` create, the rest update; a fresh store is at
      // 1).
      for (std::int64_t n = 1; n < options_.revisions; ++n, ++i) {
        p.put(key(i % options_.keys), value);
      }
      p.drain();
      fill_s = std::chrono::duration<double>(Clock::now() - t0).count();

      std::vector<Percentiles> pct;
      auto r = read_latencies({fresh.get(), store.get()}, pct);
      r[0].set("files", file_sizes(*fresh, options_.dir + "/fresh"));
      r[1].set("fill_s", fill_s);
      r[1].set("fill_puts_per_s", static_cast<double>(options_.revisions - 1) / fill_s);
      r[1].set("files", file_sizes(*store, options_.dir + "/history"));
      j.set("fresh", std::move(r[0]));
      j.set("history", std::move(r[1]));
      j.set("ratio_history_to_fresh", ratios(pct[0], pct[1]));
    }
    {
      // Reopened: the in-memory index is rebuilt from SQLite.
      const auto t0 = Clock::now();
      auto store = open_store(store_options("history", false, false));
      const double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::vector<Percentiles> pct;
      auto r = read_latencies({fresh.get(), store.get()}, pct);
      r[1].set("open_s", open_s);
      j.set("fresh_again", std::move(r[0]));
      j.set("history_reopened", std::move(r[1]));
      j.set("ratio_reopened_to_fresh", ratios(pct[0], pct[1]));
    }
    return j;
  }

  // ---- (b) database size with compaction

  void update_keys(kv::Store& store, std::int64_t updates, const std::string& value) {
    PutPipeline p(store);
    for (std::int64_t n = 0; n < updates; ++n) {
      p.put(key(static_cast<std::size_t>(n) % options_.keys), value);
    }
    p.drain();
  }

  Json defragment(kv::Store& store) {
    const auto t0 = Clock::now();
    auto r = wait_for_callback<std::int64_t>(
        [&](kv::Callback<std::int64_t> done) { store.defragment(std::move(done)); });
    Json j = Json::object().set("defragment_s",
                                std::chrono::duration<double>(Clock::now() - t0).count());
    if (!r) {
      j.set("error", error_text(r.error()));
    }
    return j;
  }

  Json compaction() {
    Json j = Json::object();
    const std::string value = make_value(options_.value_size, 2);
    {
      kv::StoreOptions o = store_options("auto", false, true);
      o.compaction_keep_revisions = 1000;
      o.compaction_keep_duration = std::chrono::milliseconds(0);
      o.compaction_interval = std::chrono::milliseconds(100);
      auto store = open_store(o);
      const auto t0 = Clock::now();
      update_keys(*store, options_.updates, value);
      Json a = Json::object();
      a.set("keep_revisions", 1000)
          .set("update_s", std::chrono::duration<double>(Clock::now() - t0).count());
      a.set("after_updates", file_sizes(*store, options_.dir + "/auto"));
      const auto t1 = Clock::now();
      // Automatic compaction runs every compaction_interval: give it two rounds, then wait for it.
      std::this_thread::sleep_for(2 * o.compaction_interval + std::chrono::milliseconds(50));
      store->wait_compaction_idle_for_test();
      a.set("compaction_wait_s", std::chrono::duration<double>(Clock::now() - t1).count());
      a.set("after_compaction", file_sizes(*store, options_.dir + "/auto"));
      a.set("defragment", defragment(*store));
      a.set("after_defragment", file_sizes(*store, options_.dir + "/auto"));
      j.set("auto_compaction", std::move(a));
    }
    {
      auto store = open_store(store_options("explicit", false, false));
      update_keys(*store, options_.updates, value);
      Json e = Json::object();
      e.set("after_updates", file_sizes(*store, options_.dir + "/explicit"));
      const auto t0 = Clock::now();
      auto r = store->compact_sync(store->current_revision());
      if (!r) {
        e.set("compact_error", error_text(r.error()));
      }
      store->wait_compaction_idle_for_test();
      e.set("compact_s", std::chrono::duration<double>(Clock::now() - t0).count());
      e.set("after_compaction", file_sizes(*store, options_.dir + "/explicit"));
      e.set("defragment", defragment(*store));
      e.set("after_defragment", file_sizes(*store, options_.dir + "/explicit"));
      j.set("explicit_compaction", std::move(e));
    }
    j.set("live_bytes", static_cast<std::int64_t>(options_.keys * (options_.value_size + 24)));
    return j;
  }

  // ---- (c) put throughput

  Json sequential_puts(bool sync_full) {
    const std::string name = std::string("seq_") + (sync_full ? "full" : "normal");
    auto store = open_store(store_options(name, sync_full, true));
    const std::string value = make_value(options_.value_size, 3);
    std::vector<double> lat;
    lat.reserve(options_.seq_puts);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < options_.seq_puts; ++i) {
      kv::PutRequest req;
      req.key = key(i % options_.keys);
      req.value = value;
      const auto s = Clock::now();
      auto r = store->put_sync(std::move(req));
      lat.push_back(elapsed_ms(s, Clock::now()));
      if (!r) {
        throw std::runtime_error("put_sync: " + error_text(r.error()));
      }
    }
    return summarize(lat, std::chrono::duration<double>(Clock::now() - t0).count());
  }

  Json threaded_puts(bool sync_full) {
    const std::string name = std::string("threads_") + (sync_full ? "full" : "normal");
    auto store = open_store(store_options(name, sync_full, true));
    const std::string value = make_value(options_.value_size, 4);
    const std::size_t per_thread =
        std::max<std::size_t>(1, options_.thread_puts / options_.threads);
    std::vector<std::vector<double>> lat(options_.threads);
    std::atomic<std::size_t> errors{0};
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (std::size_t t = 0; t < options_.threads; ++t) {
      threads.emplace_back([&, t] {
        lat[t].reserve(per_thread);
        for (std::size_t i = 0; i < per_thread; ++i) {
          kv::PutRequest req;
          req.key = key((t * per_thread + i) % options_.keys);
          req.value = value;
          const auto s = Clock::now();
          auto r = store->put_sync(std::move(req));
          lat[t].push_back(elapsed_ms(s, Clock::now()));
          if (!r) {
            errors.fetch_add(1);
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto& l : lat) {
      all.insert(all.end(), l.begin(), l.end());
    }
    Json j = summarize(all, wall);
    j.set("threads", options_.threads).set("errors", errors.load());
    return j;
  }

  Json throughput() {
    Json j = Json::object();
    j.set("sequential_sync_full", sequential_puts(true));
    j.set("sequential_sync_normal", sequential_puts(false));
    j.set("threads_sync_full", threaded_puts(true));
    j.set("threads_sync_normal", threaded_puts(false));
    return j;
  }

  Options options_;
};

constexpr const char* kUsage =
    "usage: kv_history_bench --dir TMPDIR [--parts history,compaction,throughput] [--out FILE] "
    "[--keep]\n"
    "                        [--keys 1000] [--revisions 1000000] [--history-value-size 128]\n"
    "                        [--value-size 1024] [--list-runs 1000] [--get-runs 20000] [--updates "
    "100000]\n"
    "                        [--seq-puts 3000] [--threads 64] [--thread-puts 20000]\n";

int run_main(int argc, char** argv) {
  Options o;
  try {
    Args args(argc, argv);
    if (args.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    o.dir = args.str("dir", "");
    if (o.dir.empty()) {
      throw std::invalid_argument("--dir is required");
    }
    o.parts = split_list(args.str("parts", "history,compaction,throughput"));
    o.out = args.str("out", "");
    o.keep = args.flag("keep");
    o.keys = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("keys", 1000)));
    o.revisions = std::max<std::int64_t>(static_cast<std::int64_t>(o.keys) + 1,
                                         args.num("revisions", 1'000'000));
    o.history_value_size = static_cast<std::size_t>(args.num("history-value-size", 128));
    o.value_size = static_cast<std::size_t>(args.num("value-size", 1024));
    o.list_runs = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("list-runs", 1000)));
    o.get_runs = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("get-runs", 20000)));
    o.updates = args.num("updates", 100'000);
    o.seq_puts = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("seq-puts", 3000)));
    o.threads = static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("threads", 64)));
    o.thread_puts =
        static_cast<std::size_t>(std::max<std::int64_t>(1, args.num("thread-puts", 20000)));
    args.reject_unknown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv_history_bench: %s\n%s", e.what(), kUsage);
    return 2;
  }
  KvBench bench(o);
  const std::string doc = bench.run().dump() + "\n";
  std::fputs(doc.c_str(), stdout);
  if (!o.out.empty()) {
    std::ofstream(o.out) << doc;
  }
  return 0;
}

}  // namespace
}  // namespace skiff::bench

int main(int argc, char** argv) {
  return skiff::bench::run_main(argc, argv);
}
