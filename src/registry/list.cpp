// SPDX-License-Identifier: Apache-2.0
// LIST: resourceVersion semantics, selectors, and limit/continue pagination pinned to one revision.

#include <fmt/format.h>

#include "skiff/base/base64.hpp"
#include "skiff/kv/store.hpp"

#include "glue.hpp"
#include "objects.hpp"
#include "registry_impl.hpp"

namespace skiff::registry {

using boost::asio::awaitable;

namespace {

// Selection keeps reading past `limit` non-matching entries; each kv read takes at most this many.
constexpr std::int64_t kChunk = 500;

// Upstream's continue token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key after prefix>"}.
std::string encode_continue(std::int64_t revision, std::string_view start) {
  json::Value token = json::Object{{"v", "meta.k8s.io/v1"}, {"rv", revision},
                                   {"start", std::string(start)}};
  return base64::encode_url(json::serialize(token));
}

struct ContinueToken {
  std::int64_t revision = 0;
  std::string start;
};

Result<ContinueToken> decode_continue(std::string_view token) {
  auto bytes = base64::decode_url(token);
  if (!bytes) {
    bytes = base64::decode(token);
  }
  auto bad = [] {
    return errors::bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                               "(version meta.k8s.io/v1)");
  };
  if (!bytes) {
    return bad();
  }
  auto parsed = json::parse(*bytes);
  if (!parsed || !parsed->is_object() || parsed->string_or("v") != "meta.k8s.io/v1") {
    return bad();
  }
  ContinueToken t;
  t.revision = parsed->int_or("rv", 0);
  t.start = std::string(parsed->string_or("start"));
  if (t.revision <= 0 || t.start.find("..") != std::string::npos) {
    return bad();
  }
  return t;
}

Error too_old_continue() {
  Error e = errors::make(
      Reason::kGone,
      "The provided continue parameter is too old to display a consistent list result. You can "
      "start a new list without the continue parameter, or use the continue token in this "
      "response to retrieve the remainder of the results. Continuing with the provided token "
      "results in an inconsistent list - objects that were created, modified, or deleted between "
      "the time the first chunk was returned and now may show up in the list.");
  return e;
}

}  // namespace

awaitable<Result<ListResult>> Registry::list(ResourceTypePtr type, std::string ns,
                                             ListOptions options) {
  kv::Store& store = impl_->store;
  auto selection = detail::Selection::make(*type, options.label_selector, options.field_selector);
  if (!selection) {
    co_return selection.error();
  }
  std::string prefix = detail::collection_prefix(*type, ns);
  std::string start = prefix;
  std::int64_t revision = 0;  // 0 = latest

  if (!options.continue_token.empty()) {
    if (options.resource_version && !options.resource_version->empty()) {
      co_return errors::bad_request(
          "specifying resource version is not allowed when using continue");
    }
    auto token = decode_continue(options.continue_token);
    if (!token) {
      co_return token.error();
    }
    if (token->revision <= store.compact_revision()) {
      co_return too_old_continue();
    }
    revision = token->revision;
    start = prefix + token->start;
  } else if (options.resource_version && !options.resource_version->empty()) {
    auto rv = detail::parse_resource_version(*options.resource_version);
    if (!rv) {
      co_return errors::bad_request(rv.error().message);
    }
    if (options.resource_version_match == "Exact") {
      if (*rv == 0) {
        co_return errors::bad_request(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"");
      }
      revision = *rv;
    } else if (!options.resource_version_match.empty() &&
               options.resource_version_match != "NotOlderThan") {
      co_return errors::bad_request(fmt::format("resourceVersionMatch {} is not supported",
                                                json::quote(options.resource_version_match)));
    }
    if (revision == 0 && *rv > store.current_revision()) {
      // "Not older than" a revision the store has not reached: upstream waits a few seconds for
      // it and then answers 504; one store serves all writes here, so it never comes.
      Error e = detail::too_large_resource_version(*rv, store.current_revision());
      co_return e;
    }
  } else if (!options.resource_version_match.empty()) {
    co_return errors::bad_request(
        "resourceVersionMatch is forbidden unless resourceVersion is provided");
  }

  ListResult out;
  out.raw = options.json_text && selection->everything();
  if (out.raw) {
    out.raw_items.type_ = type;
    out.raw_items.prefix_ = detail::served_json_prefix(*type);
  }
  auto& raw_items = out.raw_items.items_;
  const std::string end = kv::prefix_end(prefix);
  std::int64_t want = options.limit > 0 ? options.limit : 0;
  auto taken = [&] {
    return static_cast<std::int64_t>(out.items.size() + raw_items.size());
  };
  std::string next = start;
  bool more = false;
  std::string last_key;
  std::int64_t total_count = -1;
  while (true) {
    kv::RangeRequest req;
    req.key = next;
    req.range_end = end;
    req.revision = revision;
    if (want > 0) {
      std::int64_t remaining = want - taken();
      req.limit = selection->everything() ? remaining : std::max(remaining, kChunk);
    }
    auto r = store.range(req);
    if (!r) {
      if (r.error().reason == Reason::kGone) {
        if (!options.continue_token.empty()) {
          co_return too_old_continue();
        }
        Error e = errors::make(Reason::kExpired,
                               fmt::format("too old resource version: {} ({})", revision,
                                           store.compact_revision()));
        co_return e;
      }
      if (r.error().reason == Reason::kOutOfRange) {
        Error e = detail::too_large_resource_version(revision, store.current_revision());
        co_return e;
      }
      co_return r.error();
    }
    if (revision == 0) {
      revision = r->revision;  // pin later chunks to the first read's revision
    }
    if (total_count < 0) {
      total_count = r->count;
    }
    bool filled = false;
    if (out.raw) {
      raw_items.reserve(raw_items.size() + r->kvs.size());
    }
    for (std::size_t i = 0; i < r->kvs.size(); ++i) {
      auto& kv = r->kvs[i];
      if (out.raw) {
        // The texts move out of the range result: decoding waits until the caller writes them.
        out.raw_items.stored_bytes_ += kv.value.size();
        raw_items.push_back({std::move(kv.value), kv.mod_revision});
        last_key = std::move(kv.key);
        if (want > 0 && taken() >= want) {
          filled = true;
          more = i + 1 < r->kvs.size() || r->more;
          break;
        }
        continue;
      }
      last_key = kv.key;
      auto object = detail::decode_stored(*type, kv.value, kv.mod_revision);
      if (!object) {
        co_return object.error();
      }
      if (selection->matches(*object)) {
        out.items.push_back(std::move(*object));
        if (want > 0 && taken() >= want) {
          filled = true;
          more = i + 1 < r->kvs.size() || r->more;
          break;
        }
      }
    }
    if (filled || !r->more || r->kvs.empty()) {
      break;
    }
    next = last_key + '\0';
  }
  out.revision = revision;
  if (more) {
    std::string resume = last_key.substr(prefix.size());
    resume.push_back('\0');
    out.continue_token = encode_continue(revision, resume);
    if (selection->everything() && options.continue_token.empty() && total_count >= 0) {
      out.remaining_item_count = total_count - taken();
    }
  }
  co_return out;
}

Result<void> RawItems::append_json(std::size_t i, std::string& out) const {
  const Item& item = items_.at(i);
  return detail::stored_to_json(*type_, prefix_, item.value, item.revision, out);
}

}  // namespace skiff::registry
