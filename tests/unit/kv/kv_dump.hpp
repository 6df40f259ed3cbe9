// SPDX-License-Identifier: Apache-2.0
#pragma once

// A text dump of everything a kv::Store answers about its data: the live keys at every retained
// revision, the watch replay of the retained history (with prev_kv), the leases with their keys and
// remaining TTL, and the revision and compaction point. Two stores that produce the same dump serve
// the same data to every reader.
//
// Used by the schema-migration test, which compares the dump of a migrated file with the dump the
// code that wrote the file produced (tests/unit/kv/fixtures/make_schema1_fixture.cpp). This header
// therefore uses only the public Store API that both schema generations share; keep it that way.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "skiff/kv/store.hpp"

namespace skiff::kv::test {

inline std::string dump_hex(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

/// Long values as their length and FNV-1a hash, so that the dump stays readable.
inline std::string dump_value(const std::string& value) {
  if (value.size() <= 64) return dump_hex(value);
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : value) hash = (hash ^ c) * 1099511628211ull;
  return "len=" + std::to_string(value.size()) + ",fnv=" + std::to_string(hash);
}

inline std::string dump_kv(const KeyValue& kv) {
  return dump_hex(kv.key) + " c=" + std::to_string(kv.create_revision) +
         " m=" + std::to_string(kv.mod_revision) + " v=" + std::to_string(kv.version) +
         " l=" + std::to_string(kv.lease) + " " + dump_value(kv.value);
}

/// The dump; `error` lines record any read that failed (a correct store has none).
inline std::string dump_store(Store& store) {
  std::string out;
  const std::int64_t current = store.current_revision();
  const std::int64_t compacted = store.compact_revision();
  out += "revision " + std::to_string(current) + "\n";
  out += "compact_revision " + std::to_string(compacted) + "\n";
  for (std::int64_t rev = std::max<std::int64_t>(1, compacted); rev <= current; ++rev) {
    RangeRequest request;
    request.key = std::string(1, '\0');
    request.range_end = std::string(1, '\0');
    request.revision = rev;
    auto response = store.range(request);
    if (!response) {
      out += "at " + std::to_string(rev) + " error " + response.error().message + "\n";
      continue;
    }
    out += "at " + std::to_string(rev) + " count " + std::to_string(response->count) + "\n";
    for (const auto& kv : response->kvs) out += "  " + dump_kv(kv) + "\n";
  }
  WatchOptions all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  all.start_revision = std::max<std::int64_t>(1, compacted);
  all.prev_kv = true;
  auto watcher = store.watch(all, {});
  if (!watcher) {
    out += "watch error " + watcher.error().message + "\n";
  } else {
    for (;;) {
      auto events = (*watcher)->poll(1 << 20);
      if (!events) {
        out += "poll error " + events.error().message + "\n";
        break;
      }
      if (events->empty()) break;
      for (const auto& event : *events) {
        out += event.type == Event::Type::kPut ? "put " : "delete ";
        out += dump_kv(event.kv);
        if (event.prev_kv) out += " prev " + dump_kv(*event.prev_kv);
        out += "\n";
      }
    }
  }
  for (std::int64_t id : store.lease_list()) {
    auto ttl = store.lease_time_to_live(id, true);
    out += "lease " + std::to_string(id) + " ttl=" + std::to_string(ttl.ttl) +
           " granted=" + std::to_string(ttl.granted_ttl);
    std::sort(ttl.keys.begin(), ttl.keys.end());
    for (const auto& key : ttl.keys) out += " " + dump_hex(key);
    out += "\n";
  }
  return out;
}

}  // namespace skiff::kv::test
