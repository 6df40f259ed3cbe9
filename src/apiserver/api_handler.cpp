// SPDX-License-Identifier: Apache-2.0
#include "api_handler.hpp"

#include <charconv>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "skiff/base/log.hpp"
#include "skiff/base/yaml.hpp"
#include "skiff/registry/protobuf.hpp"

#include "discovery.hpp"
#include "negotiation.hpp"
#include "openapi.hpp"
#include "request_info.hpp"
#include "reviews.hpp"
#include "status.hpp"
#include "table.hpp"

namespace skiff::apiserver {

using boost::asio::awaitable;
using registry::ResourceType;
using registry::ResourceTypePtr;

namespace {

constexpr std::string_view kComponent = "apiserver";
constexpr std::string_view kJsonType = "application/json";

std::string not_found_message() { return "the server could not find the requested resource"; }

// Adds one header to every response sent through it: the Warning of a deprecated CRD version,
// which upstream attaches to each request to that version whatever its outcome.
class HeaderAddingResponder : public ApiResponder {
 public:
  HeaderAddingResponder(ApiResponder& inner, std::string name, std::string value)
      : inner_(inner), name_(std::move(name)), value_(std::move(value)) {}

  awaitable<bool> send(int status, HeaderList headers, std::string body) override {
    headers.emplace_back(name_, value_);
    return inner_.send(status, std::move(headers), std::move(body));
  }
  using ApiResponder::start_stream;
  awaitable<bool> start_stream(int status, HeaderList headers, bool compressible) override {
    headers.emplace_back(name_, value_);
    co_return co_await inner_.start_stream(status, std::move(headers), compressible);
  }
  awaitable<bool> write_chunk(std::string data) override {
    co_return co_await inner_.write_chunk(std::move(data));
  }
  awaitable<void> end_stream() override { co_await inner_.end_stream(); }

 private:
  ApiResponder& inner_;
  std::string name_;
  std::string value_;
};

// `Warning: 299 - "text"` (RFC 7234 warn-text, quotes and backslashes escaped).
std::string warning_header(std::string_view text) {
  std::string out = "299 - \"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

bool parse_bool_param(std::string_view v) { return v == "true" || v == "1" || v == "True"; }

std::optional<std::int64_t> parse_int(std::string_view v) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return std::nullopt;
  }
  return n;
}

// The field manager a request writes as: the fieldManager parameter, else the User-Agent up to
// its first '/' (upstream does the same).
Result<std::string> field_manager(const ApiRequest& req) {
  if (auto fm = req.param("fieldManager")) {
    if (fm->size() > 128) {
      return errors::bad_request(fmt::format(
          "fieldManager: Too long: may not be longer than 128"));
    }
    for (unsigned char c : *fm) {
      if (c < 0x20 || c > 0x7e) {
        return errors::bad_request(
            "fieldManager: Invalid value: the field can only contain printable characters");
      }
    }
    return std::string(*fm);
  }
  std::string_view ua = req.header("User-Agent");
  ua = ua.substr(0, ua.find('/'));
  if (ua.size() > 128) {
    ua = ua.substr(0, 128);
  }
  return std::string(ua);
}

}  // namespace

struct ApiHandler::Impl {
  Impl(registry::Registry& r, HandlerOptions o) : registry(r), options(std::move(o)), openapi(r.catalog()) {}

  registry::Registry& registry;
  HandlerOptions options;
  OpenApiCache openapi;

  registry::TimePoint now() const { return registry.options().now(); }

  // ---- responses ----

  static bool wants_pretty(const ApiRequest& req) {
    auto p = req.param("pretty");
    return p && parse_bool_param(*p);
  }

  // JSON already serialized.
  // Not a coroutine: it hands back the responder's awaitable (one frame less per response).
  static awaitable<bool> send_json_text(ApiResponder& res, int code, std::string body,
                                        HeaderList extra = {}) {
    extra.emplace_back("Content-Type", std::string(kJsonType));
    return res.send(code, std::move(extra), std::move(body));
  }

  static awaitable<void> send_json(ApiResponder& res, int code, const json::Value& value,
                                   const ApiRequest& req, HeaderList extra = {}) {
    // Named, not a ?: temporary inside the co_await (GCC 12 destroys those twice).
    std::string body =
        wants_pretty(req) ? json::serialize_pretty(value) + "\n" : json::serialize(value);
    co_await send_json_text(res, code, std::move(body), std::move(extra));
  }

  static awaitable<void> send_value(ApiResponder& res, int code, const json::Value& value,
                                    const ApiRequest& req, const Negotiated& neg,
                                    HeaderList extra = {}) {
    if (neg.output == Output::kYaml) {
      extra.emplace_back("Content-Type", "application/yaml");
      co_await res.send(code, std::move(extra), yaml::serialize(value));
      co_return;
    }
    co_await send_json(res, code, value, req, std::move(extra));
  }

  static awaitable<void> send_error(ApiResponder& res, const Error& e, const ApiRequest& req) {
    co_await send_json(res, http_code(e.reason), failure_status(e), req);
  }

  static awaitable<void> send_status(ApiResponder& res, int code, std::string_view reason,
                                     std::string_view message, const ApiRequest& req) {
    co_await send_json(res, code, failure_status(code, reason, message), req);
  }

  static HeaderList warnings(const std::vector<std::string>& ws) {
    HeaderList h;
    for (const auto& w : ws) {
      h.emplace_back("Warning", warning_header(w));
    }
    return h;
  }

  // ---- entry ----

  awaitable<void> handle(const ApiRequest& req, ApiResponder& res) {
    std::string_view path = req.path;
    if (path == "/healthz" || path == "/livez" || path == "/readyz" ||
        path.starts_with("/healthz/") || path.starts_with("/livez/") ||
        path.starts_with("/readyz/")) {
      // Headers built outside the co_await: GCC 12 rejects braced string-literal pairs in a
      // coroutine's co_await expression ("array used as initializer").
      HeaderList headers;
      headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      headers.emplace_back("X-Content-Type-Options", "nosniff");
      co_await res.send(200, std::move(headers), "ok");
      co_return;
    }
    if (path == "/version" || path == "/version/") {
      json::Value v = version_info();
      co_await send_json(res, 200, v, req);
      co_return;
    }
    if (!req.authenticated) {
      co_await send_status(res, 401, "Unauthorized", "Unauthorized", req);
      co_return;
    }
    if (path.starts_with("/openapi/")) {
      co_await serve_openapi(req, res);
      co_return;
    }
    RequestInfo info;
    if (!parse_request_info(req.method, path, req.param("watch") && parse_bool_param(*req.param("watch")),
                            info)) {
      co_await send_status(res, 404, "NotFound", not_found_message(), req);
      co_return;
    }
    if (!info.resource_request) {
      co_await serve_discovery(req, res, info);
      co_return;
    }
    co_await serve_resource(req, res, info);
  }

  json::Value version_info() const {
    // "v1.32.5+skiff" -> major 1, minor 32 (kubectl's dispatcher picks the client by these).
    std::string_view gv = options.git_version;
    std::string major = "1";
    std::string minor = "32";
    if (gv.starts_with("v")) {
      auto dot = gv.find('.');
      auto dot2 = gv.find('.', dot + 1);
      if (dot != std::string_view::npos && dot2 != std::string_view::npos) {
        major = std::string(gv.substr(1, dot - 1));
        minor = std::string(gv.substr(dot + 1, dot2 - dot - 1));
      }
    }
    return json::Object{{"major", major},
                        {"minor", minor},
                        {"gitVersion", options.git_version},
                        {"gitCommit", options.git_commit},
                        {"gitTreeState", "clean"},
                        {"buildDate", options.build_date},
                        {"goVersion", "n/a"},
                        {"compiler", "gcc"},
                        {"platform", "linux/amd64"}};
  }

  // ---- discovery and OpenAPI ----

  awaitable<void> serve_discovery(const ApiRequest& req, ApiResponder& res,
                                  const RequestInfo& info) {
    if (req.method != "GET" && req.method != "HEAD") {
      co_await send_status(res, 405, "MethodNotAllowed",
                           fmt::format("the server does not allow this method on the requested "
                                       "resource"),
                           req);
      co_return;
    }
    auto snap = registry.catalog().snapshot();
    std::size_t n = info.parts.size();
    bool top = n == 1;  // /api or /apis
    Negotiated neg = negotiate(req.header("Accept"), top);
    if (!neg.acceptable) {
      co_await send_status(res, 406, "NotAcceptable",
                           "only the following media types are accepted: application/json, "
                           "application/yaml",
                           req);
      co_return;
    }
    if (top && neg.output == Output::kDiscovery) {
      json::Value doc = aggregated_discovery(*snap, info.prefix == "api", neg.version);
      HeaderList headers;
      headers.emplace_back("Content-Type",
                           fmt::format("application/json;g=apidiscovery.k8s.io;v={};"
                                       "as=APIGroupDiscoveryList",
                                       neg.version));
      headers.emplace_back("Vary", "Accept");
      co_await res.send(200, std::move(headers), json::serialize(doc));
      co_return;
    }
    json::Value doc;
    if (info.prefix == "api") {
      if (n == 1) {
        doc = legacy_api_versions(req.host);
      } else if (n == 2) {
        doc = legacy_resource_list(*snap, "", info.parts[1]);
      }
    } else {
      if (n == 1) {
        doc = legacy_group_list(*snap);
      } else if (n == 2) {
        doc = legacy_group(*snap, info.parts[1]);
      } else if (n == 3) {
        doc = legacy_resource_list(*snap, info.parts[1], info.parts[2]);
      }
    }
    if (doc.is_null()) {
      co_await send_status(res, 404, "NotFound", not_found_message(), req);
      co_return;
    }
    HeaderList vary;
    vary.emplace_back("Vary", "Accept");
    co_await send_value(res, 200, doc, req, neg, std::move(vary));
  }

  awaitable<void> serve_openapi(const ApiRequest& req, ApiResponder& res) {
    OpenApiRequest oreq{req.path, req.param("hash").value_or(""), req.header("Accept"),
                        req.header("Accept-Encoding"), req.header("If-None-Match")};
    OpenApiResponse out = openapi.serve(oreq);
    if (out.code != 200 && out.code != 304) {
      bool not_acceptable = out.code == 406;
      std::string message = not_acceptable ? std::string("only application/json (and gnostic "
                                                         "protobuf at /openapi/v2) is served here")
                                           : not_found_message();
      std::string_view reason = not_acceptable ? "NotAcceptable" : "NotFound";
      co_await send_status(res, out.code, reason, message, req);
      co_return;
    }
    co_await res.send(out.code, std::move(out.headers), std::move(out.body));
  }

  // ---- resources ----

  awaitable<void> serve_resource(const ApiRequest& req, ApiResponder& res, RequestInfo info) {
    auto snap = registry.catalog().snapshot();
    const ResourceType* found = snap->find(info.group, info.version, info.resource);
    ResourceTypePtr type;
    if (found != nullptr) {
      for (const auto& t : snap->types()) {
        if (t.get() == found) {
          type = t;
          break;
        }
      }
    }
    if (!type || (!type->namespaced && !info.ns.empty())) {
      co_await send_status(res, 404, "NotFound", not_found_message(), req);
      co_return;
    }
    if (!type->deprecation_warning.empty()) {
      HeaderAddingResponder warned(res, "Warning", warning_header(type->deprecation_warning));
      co_await serve_typed(req, warned, info, type);
    } else {
      co_await serve_typed(req, res, info, type);
    }
  }

  awaitable<void> serve_typed(const ApiRequest& req, ApiResponder& res, RequestInfo info,
                              ResourceTypePtr type) {
    if (info.verb.empty()) {
      co_await send_status(res, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", req);
      co_return;
    }
    if (!info.subresource.empty()) {
      co_await serve_subresource(req, res, info, type);
      co_return;
    }
    std::string verb = info.verb;
    if (!type->has_verb(verb)) {
      co_await send_status(res, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", req);
      co_return;
    }
    Negotiated neg = negotiate(req.header("Accept"), false);
    if (!neg.acceptable) {
      co_await send_status(res, 406, "NotAcceptable",
                           "only the following media types are accepted: application/json, "
                           "application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io",
                           req);
      co_return;
    }
    if (is_review(*type)) {
      co_await serve_review(req, res, info, type);
      co_return;
    }
    if (verb == "get") {
      co_await do_get(req, res, info, type, neg, "");
    } else if (verb == "list") {
      co_await do_list(req, res, info, type, neg);
    } else if (verb == "watch") {
      co_await do_watch(req, res, info, type, neg);
    } else if (verb == "create") {
      co_await do_create(req, res, info, type, neg);
    } else if (verb == "update") {
      co_await do_update(req, res, info, type, neg, "");
    } else if (verb == "patch") {
      co_await do_patch(req, res, info, type, neg, "");
    } else if (verb == "delete") {
      co_await do_delete(req, res, info, type, neg);
    } else if (verb == "deletecollection") {
      co_await do_delete_collection(req, res, info, type, neg);
    }
  }

  awaitable<void> serve_subresource(const ApiRequest& req, ApiResponder& res,
                                    const RequestInfo& info, ResourceTypePtr type) {
    std::string sub = info.subresource;
    std::string base = sub.substr(0, sub.find('/'));
    const registry::SubresourceInfo* si = type->subresource(base);
    if (si == nullptr || info.name.empty()) {
      co_await send_status(res, 404, "NotFound", not_found_message(), req);
      co_return;
    }
    std::string verb = info.verb;
    bool allowed = std::find(si->verbs.begin(), si->verbs.end(), verb) != si->verbs.end();
    if (!allowed) {
      co_await send_status(res, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", req);
      co_return;
    }
    Negotiated neg = negotiate(req.header("Accept"), false);
    if (base == "status" || base == "scale" || base == "approval") {
      if (verb == "get") {
        co_await do_get(req, res, info, type, neg, base);
      } else if (verb == "update") {
        co_await do_update(req, res, info, type, neg, base);
      } else {
        co_await do_patch(req, res, info, type, neg, base);
      }
      co_return;
    }
    if (base == "finalize" && verb == "update") {
      co_await do_update(req, res, info, type, neg, "finalize");
      co_return;
    }
    if (base == "binding") {
      co_await do_binding(req, res, info, type);
      co_return;
    }
    if (base == "eviction") {
      co_await do_eviction(req, res, info, type);
      co_return;
    }
    if (base == "token") {
      co_await do_token(req, res, info, type);
      co_return;
    }
    // log, exec, attach, portforward, proxy, ephemeralcontainers: they need the node
    // agent (kubelet) or are not served yet.
    registry::GetOptions plain;  // named: GCC 12 double-destroys braced temporaries in co_await args
    auto object = co_await registry.get(type, info.ns, info.name, "", plain);
    if (!object) {
      co_await send_error(res, object.error(), req);
      co_return;
    }
    std::string node(object->get_path({"spec", "nodeName"}) != nullptr
                         ? (*object)["spec"].string_or("nodeName")
                         : "");
    if (node.empty() && type->gvk.kind == "Pod") {
      co_await send_status(res, 400, "BadRequest",
                           fmt::format("pod {} is not scheduled to a node yet", json::quote(info.name)),
                           req);
      co_return;
    }
    std::string message = fmt::format("{} is not available: no node agent serves {} yet", base,
                                      node.empty() ? std::string("this object") : node);
    co_await send_status(res, 503, "ServiceUnavailable", message, req);
  }

  // ---- verbs ----

  awaitable<void> do_get(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                         ResourceTypePtr type, const Negotiated& neg, std::string sub) {
    registry::GetOptions opts;
    if (auto rv = req.param("resourceVersion")) {
      opts.resource_version = std::string(*rv);
    }
    if (neg.output == Output::kJson && !wants_pretty(req) && sub != "scale") {
      // Only serialized: the stored text is served without a parse.
      auto text = co_await registry.get_json(type, info.ns, info.name, opts);
      if (!text) {
        co_await send_error(res, text.error(), req);
        co_return;
      }
      co_await send_json_text(res, 200, std::move(*text));
      co_return;
    }
    auto object = co_await registry.get(type, info.ns, info.name, sub, opts);
    if (!object) {
      co_await send_error(res, object.error(), req);
      co_return;
    }
    // The status subresource prints like the object itself (upstream's StatusREST shares the
    // store's table convertor); the scale subresource has a Scale table of its own.
    if (neg.output == Output::kTable && (sub.empty() || sub == "status" || sub == "scale")) {
      IncludeObject include = IncludeObject::kMetadata;
      if (!parse_include_object(req.param("includeObject").value_or(""), include)) {
        co_await send_status(res, 400, "BadRequest", "invalid includeObject", req);
        co_return;
      }
      if (sub == "scale") {
        co_await send_json(res, 200, make_scale_table(*object, include, now(), neg.version), req);
        co_return;
      }
      json::Array items{std::move(*object)};
      json::Value meta = json::Object{{"resourceVersion", items[0]["metadata"]["resourceVersion"]}};
      co_await send_json(res, 200, make_table(*type, items, include, now(), neg.version, meta, true),
                         req);
      co_return;
    }
    if (neg.output == Output::kPartialMetadata && sub.empty()) {
      json::Value partial = json::Object{{"kind", "PartialObjectMetadata"},
                                         {"apiVersion", "meta.k8s.io/" + neg.version},
                                         {"metadata", (*object)["metadata"]}};
      co_await send_json(res, 200, partial, req);
      co_return;
    }
    co_await send_value(res, 200, *object, req, neg);
  }

  Result<registry::ListOptions> list_options(const ApiRequest& req) const {
    registry::ListOptions o;
    o.label_selector = std::string(req.param("labelSelector").value_or(""));
    o.field_selector = std::string(req.param("fieldSelector").value_or(""));
    if (auto l = req.param("limit"); l && !l->empty()) {
      auto n = parse_int(*l);
      if (!n || *n < 0) {
        return errors::bad_request(fmt::format("invalid limit: {}", *l));
      }
      o.limit = *n;
    }
    o.continue_token = std::string(req.param("continue").value_or(""));
    if (auto rv = req.param("resourceVersion")) {
      o.resource_version = std::string(*rv);
    }
    o.resource_version_match = std::string(req.param("resourceVersionMatch").value_or(""));
    return o;
  }

  static json::Value list_metadata(const registry::ListResult& list) {
    json::Value meta = json::Object{{"resourceVersion", std::to_string(list.revision)}};
    if (!list.continue_token.empty()) {
      meta["continue"] = list.continue_token;
    }
    if (list.remaining_item_count) {
      meta["remainingItemCount"] = *list.remaining_item_count;
    }
    return meta;
  }

  // A list whose stored texts exceed this is streamed in pieces of about kListPieceBytes: the
  // client reads (and a 10k list's 25 MB need not be built first) while the rest is made. Smaller
  // lists go as one body with a Content-Length.
  static constexpr std::size_t kStreamListBytes = std::size_t{1} << 20;
  static constexpr std::size_t kListPieceBytes = std::size_t{256} << 10;

  // Items arrive as stored text: the list is assembled around them, never parsed.
  static awaitable<void> send_raw_list(const ApiRequest& req, ApiResponder& res,
                                       const ResourceType& type, registry::ListResult& list) {
    const registry::RawItems& items = list.raw_items;
    std::string piece;
    const bool stream = items.stored_bytes() > kStreamListBytes;
    // Room for the spliced resourceVersions (and commas) too.
    piece.reserve(stream ? kListPieceBytes + (64 << 10)
                         : items.stored_bytes() + 40 * items.size() + 256);
    piece.append("{\"kind\":").append(json::quote(type.list_kind));
    piece.append(",\"apiVersion\":").append(json::quote(type.group_version()));
    piece.append(",\"metadata\":").append(json::serialize(list_metadata(list)));
    piece.append(",\"items\":[");
    std::size_t next = 0;
    // Appends items to `piece` until it holds a piece's worth (all of them when not streaming).
    auto fill = [&]() -> Result<void> {
      for (; next < items.size() && (!stream || piece.size() < kListPieceBytes); ++next) {
        if (next > 0) {
          piece.push_back(',');
        }
        if (auto ok = items.append_json(next, piece); !ok) {
          return ok;
        }
      }
      if (next == items.size()) {
        piece.append("]}");
      }
      return {};
    };
    // The first piece is made before anything is sent, so a failure there is still a Status.
    if (auto ok = fill(); !ok) {
      co_await send_error(res, ok.error(), req);
      co_return;
    }
    if (!stream) {
      co_await send_json_text(res, 200, std::move(piece));
      co_return;
    }
    HeaderList headers{{"Content-Type", std::string(kJsonType)}};  // named: see send_json
    if (!co_await res.start_stream(200, std::move(headers), true)) {
      co_return;
    }
    while (true) {
      const bool last = next == items.size();
      std::string out = std::exchange(piece, std::string());
      if (!co_await res.write_chunk(std::move(out))) {
        co_return;  // the client went away
      }
      if (last) {
        break;
      }
      piece.reserve(kListPieceBytes + (64 << 10));
      if (auto ok = fill(); !ok) {
        // Half a list is out: only a broken stream can tell the client.
        throw std::runtime_error("list of " + type.plural + ": " + ok.error().message);
      }
    }
    co_await res.end_stream();
  }

  awaitable<void> do_list(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                          ResourceTypePtr type, const Negotiated& neg) {
    auto opts = list_options(req);
    if (!opts) {
      co_await send_error(res, opts.error(), req);
      co_return;
    }
    opts->json_text = neg.output == Output::kJson && !wants_pretty(req);
    auto list = co_await registry.list(type, info.ns, std::move(*opts));
    if (!list) {
      co_await send_error(res, list.error(), req);
      co_return;
    }
    if (list->raw) {
      co_await send_raw_list(req, res, *type, *list);
      co_return;
    }
    if (neg.output == Output::kTable) {
      IncludeObject include = IncludeObject::kMetadata;
      if (!parse_include_object(req.param("includeObject").value_or(""), include)) {
        co_await send_status(res, 400, "BadRequest", "invalid includeObject", req);
        co_return;
      }
      co_await send_json(res, 200,
                         make_table(*type, list->items, include, now(), neg.version,
                                    list_metadata(*list), true),
                         req);
      co_return;
    }
    if (neg.output == Output::kPartialMetadata) {
      json::Array items;
      for (auto& item : list->items) {
        items.push_back(json::Object{{"kind", "PartialObjectMetadata"},
                                     {"apiVersion", "meta.k8s.io/" + neg.version},
                                     {"metadata", std::move(item["metadata"])}});
      }
      json::Value out = json::Object{{"kind", "PartialObjectMetadataList"},
                                     {"apiVersion", "meta.k8s.io/" + neg.version},
                                     {"metadata", list_metadata(*list)},
                                     {"items", std::move(items)}};
      co_await send_json(res, 200, out, req);
      co_return;
    }
    json::Value out = json::Object{{"kind", type->list_kind},
                                   {"apiVersion", type->group_version()},
                                   {"metadata", list_metadata(*list)},
                                   {"items", std::move(list->items)}};
    co_await send_value(res, 200, out, req, neg);
  }

  // Decodes a create/update body. Duplicate fields go to `duplicates` (reported per
  // fieldValidation by the registry).
  Result<json::Value> decode_body(const ApiRequest& req, const ResourceType& type,
                                  std::vector<std::string>& duplicates) const {
    BodyType bt = body_type(req.header("Content-Type"));
    switch (bt) {
      case BodyType::kJson: {
        json::ParseOptions po;
        po.duplicates = &duplicates;
        auto v = json::parse(req.body, po);
        if (!v) {
          return errors::bad_request(fmt::format("error decoding JSON: {}", v.error().message));
        }
        return v;
      }
      case BodyType::kYaml: {
        auto v = yaml::parse(req.body);
        if (!v) {
          return errors::bad_request(fmt::format("error decoding YAML: {}", v.error().message));
        }
        return v;
      }
      case BodyType::kProtobuf:
        return registry::decode_protobuf(req.body, registry::Schema::builtin());
      default:
        break;
    }
    (void)type;
    Error e = errors::make(Reason::kBadRequest,
                           fmt::format("the body of the request was in an unknown format - accepted "
                                       "media types include: application/json, application/yaml, "
                                       "application/vnd.kubernetes.protobuf"));
    e.kind = "415";
    return e;
  }

  Result<registry::WriteOptions> write_options(const ApiRequest& req) const {
    registry::WriteOptions o;
    for (const auto& d : req.params("dryRun")) {
      if (d != "All") {
        return errors::bad_request(fmt::format(
            "dryRun: Unsupported value: {}: supported values: \"All\"", json::quote(d)));
      }
      o.dry_run = true;
    }
    auto fm = field_manager(req);
    if (!fm) {
      return fm.error();
    }
    o.field_manager = std::move(*fm);
    std::string_view fv = req.param("fieldValidation").value_or("");
    if (fv.empty() || fv == "Warn") {
      o.field_validation = registry::FieldValidation::kWarn;
    } else if (fv == "Strict") {
      o.field_validation = registry::FieldValidation::kStrict;
    } else if (fv == "Ignore") {
      o.field_validation = registry::FieldValidation::kIgnore;
    } else {
      return errors::bad_request(fmt::format(
          "fieldValidation: Unsupported value: {}: supported values: \"Ignore\", \"Strict\", "
          "\"Warn\"",
          json::quote(fv)));
    }
    o.user.name = req.user;
    o.user.groups = req.groups;
    return o;
  }

  awaitable<void> send_body_error(ApiResponder& res, const Error& e, const ApiRequest& req) {
    if (e.kind == "415") {
      co_await send_status(res, 415, "UnsupportedMediaType", e.message, req);
      co_return;
    }
    co_await send_error(res, e, req);
  }

  awaitable<void> do_create(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                            ResourceTypePtr type, const Negotiated& neg) {
    if (!info.name.empty()) {
      co_await send_status(res, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", req);
      co_return;
    }
    auto opts = write_options(req);
    if (!opts) {
      co_await send_error(res, opts.error(), req);
      co_return;
    }
    auto body = decode_body(req, *type, opts->duplicate_fields);
    if (!body) {
      co_await send_body_error(res, body.error(), req);
      co_return;
    }
    auto created = co_await registry.create(type, info.ns, std::move(*body), std::move(*opts));
    if (!created) {
      co_await send_error(res, created.error(), req);
      co_return;
    }
    co_await send_value(res, 201, created->object, req, neg, warnings(created->warnings));
  }

  awaitable<void> do_update(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                            ResourceTypePtr type, const Negotiated& neg, std::string sub) {
    auto opts = write_options(req);
    if (!opts) {
      co_await send_error(res, opts.error(), req);
      co_return;
    }
    std::vector<std::string> duplicates;
    Result<json::Value> body = sub == "scale" ? json::parse(req.body) : decode_body(req, *type, opts->duplicate_fields);
    if (!body) {
      co_await send_body_error(res, body.error(), req);
      co_return;
    }
    auto updated = co_await registry.update(type, info.ns, info.name, sub, std::move(*body),
                                            std::move(*opts));
    if (!updated) {
      co_await send_error(res, updated.error(), req);
      co_return;
    }
    co_await send_value(res, updated->created ? 201 : 200, updated->object, req, neg,
                        warnings(updated->warnings));
  }

  awaitable<void> do_patch(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                           ResourceTypePtr type, const Negotiated& neg, std::string sub) {
    registry::PatchOptions patch;
    switch (body_type(req.header("Content-Type"))) {
      case BodyType::kJsonPatch:
        patch.type = registry::PatchType::kJson;
        break;
      case BodyType::kMergePatch:
        patch.type = registry::PatchType::kMerge;
        break;
      case BodyType::kStrategicMergePatch:
        patch.type = registry::PatchType::kStrategic;
        break;
      case BodyType::kApplyPatch:
        patch.type = registry::PatchType::kApply;
        break;
      default:
        co_await send_status(res, 415, "UnsupportedMediaType",
                             fmt::format("the body of the request was in an unknown format - "
                                         "accepted media types include: "
                                         "application/json-patch+json, "
                                         "application/merge-patch+json, "
                                         "application/apply-patch+yaml, "
                                         "application/strategic-merge-patch+json"),
                             req);
        co_return;
    }
    if (patch.type == registry::PatchType::kStrategic && type->custom) {
      co_await send_status(res, 415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml",
                           req);
      co_return;
    }
    auto opts = write_options(req);
    if (!opts) {
      co_await send_error(res, opts.error(), req);
      co_return;
    }
    if (auto force = req.param("force")) {
      if (patch.type != registry::PatchType::kApply) {
        co_await send_status(res, 400, "BadRequest",
                             "force: Forbidden: may not be specified for non-apply patch", req);
        co_return;
      }
      patch.force = parse_bool_param(*force);
    }
    if (patch.type == registry::PatchType::kApply && !req.param("fieldManager")) {
      co_await send_status(res, 400, "BadRequest",
                           "PATCH, application/apply-patch+yaml requires fieldManager to be set",
                           req);
      co_return;
    }
    auto patched = co_await registry.patch(type, info.ns, info.name, sub, req.body, patch,
                                           std::move(*opts));
    if (!patched) {
      co_await send_error(res, patched.error(), req);
      co_return;
    }
    co_await send_value(res, patched->created ? 201 : 200, patched->object, req, neg,
                        warnings(patched->warnings));
  }

  Result<registry::DeleteOptions> delete_options(const ApiRequest& req) const {
    registry::DeleteOptions o;
    json::Value body;
    if (!req.body.empty()) {
      BodyType bt = body_type(req.header("Content-Type"));
      Result<json::Value> parsed = bt == BodyType::kProtobuf
                                       ? registry::decode_protobuf(req.body,
                                                                   registry::Schema::builtin())
                                       : json::parse(req.body);
      if (!parsed) {
        return errors::bad_request(fmt::format("error decoding DeleteOptions: {}",
                                               parsed.error().message));
      }
      body = std::move(*parsed);
    }
    if (const json::Value* g = body.get("gracePeriodSeconds"); g != nullptr && g->is_integral()) {
      o.grace_period_seconds = g->as_int();
    }
    if (auto g = req.param("gracePeriodSeconds")) {
      auto n = parse_int(*g);
      if (!n) {
        return errors::bad_request(fmt::format("invalid gracePeriodSeconds: {}", *g));
      }
      o.grace_period_seconds = *n;
    }
    if (const json::Value* p = body.get("preconditions")) {
      if (const json::Value* uid = p->get("uid"); uid != nullptr && uid->is_string()) {
        o.precondition_uid = uid->as_string();
      }
      if (const json::Value* rv = p->get("resourceVersion"); rv != nullptr && rv->is_string()) {
        o.precondition_resource_version = rv->as_string();
      }
    }
    o.propagation_policy = std::string(body.string_or("propagationPolicy"));
    if (auto pp = req.param("propagationPolicy")) {
      o.propagation_policy = std::string(*pp);
    }
    if (!o.propagation_policy.empty() && o.propagation_policy != "Orphan" &&
        o.propagation_policy != "Background" && o.propagation_policy != "Foreground") {
      return errors::bad_request(fmt::format(
          "propagationPolicy: Unsupported value: {}: supported values: \"Foreground\", "
          "\"Background\", \"Orphan\"",
          json::quote(o.propagation_policy)));
    }
    std::vector<std::string> dry = req.params("dryRun");
    if (const json::Value* d = body.get("dryRun"); d != nullptr && d->is_array()) {
      for (const auto& e : d->as_array()) {
        if (e.is_string()) {
          dry.push_back(e.as_string());
        }
      }
    }
    for (const auto& d : dry) {
      if (d != "All") {
        return errors::bad_request(fmt::format(
            "dryRun: Unsupported value: {}: supported values: \"All\"", json::quote(d)));
      }
      o.dry_run = true;
    }
    return o;
  }

  static bool returns_object(const ResourceType& type) {
    // Upstream answers DELETE with the deleted object for these kinds, a Success Status otherwise.
    if (type.custom || !type.gvk.group.empty()) {
      return false;
    }
    return type.gvk.kind == "Pod" || type.gvk.kind == "Namespace" || type.gvk.kind == "Service";
  }

  awaitable<void> do_delete(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                            ResourceTypePtr type, const Negotiated& neg) {
    auto opts = delete_options(req);
    if (!opts) {
      co_await send_error(res, opts.error(), req);
      co_return;
    }
    auto deleted = co_await registry.remove(type, info.ns, info.name, *opts);
    if (!deleted) {
      co_await send_error(res, deleted.error(), req);
      co_return;
    }
    if (!deleted->finished || returns_object(*type)) {
      co_await send_value(res, deleted->finished ? 200 : 202, deleted->object, req, neg);
      co_return;
    }
    const json::Value& meta = deleted->object["metadata"];
    co_await send_json(res, 200,
                       success_status(meta.string_or("name"), type->gvk.group, type->plural,
                                      meta.string_or("uid")),
                       req);
  }

  awaitable<void> do_delete_collection(const ApiRequest& req, ApiResponder& res,
                                       const RequestInfo& info, ResourceTypePtr type,
                                       const Negotiated& neg) {
    auto lopts = list_options(req);
    if (!lopts) {
      co_await send_error(res, lopts.error(), req);
      co_return;
    }
    auto dopts = delete_options(req);
    if (!dopts) {
      co_await send_error(res, dopts.error(), req);
      co_return;
    }
    auto deleted = co_await registry.remove_collection(type, info.ns, std::move(*lopts), *dopts);
    if (!deleted) {
      co_await send_error(res, deleted.error(), req);
      co_return;
    }
    json::Value out = json::Object{{"kind", type->list_kind},
                                   {"apiVersion", type->group_version()},
                                   {"metadata", list_metadata(*deleted)},
                                   {"items", std::move(deleted->items)}};
    co_await send_value(res, 200, out, req, neg);
  }

  // ---- watch ----

  static std::string_view event_type(registry::WatchEvent::Type t) {
    switch (t) {
      case registry::WatchEvent::Type::kAdded:
        return "ADDED";
      case registry::WatchEvent::Type::kModified:
        return "MODIFIED";
      case registry::WatchEvent::Type::kDeleted:
        return "DELETED";
      case registry::WatchEvent::Type::kBookmark:
        return "BOOKMARK";
    }
    return "ERROR";
  }

  awaitable<void> do_watch(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                           ResourceTypePtr type, const Negotiated& neg) {
    namespace asio = boost::asio;
    // Shutdown sends total cancellation; a watch ends on it (it has nothing to finish).
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());

    registry::WatchOptions wo;
    if (auto rv = req.param("resourceVersion")) {
      wo.resource_version = std::string(*rv);
    }
    wo.label_selector = std::string(req.param("labelSelector").value_or(""));
    wo.field_selector = std::string(req.param("fieldSelector").value_or(""));
    wo.json_text = neg.output == Output::kJson;
    if (!info.name.empty()) {
      std::string by_name = "metadata.name=" + info.name;
      wo.field_selector = wo.field_selector.empty() ? by_name : by_name + "," + wo.field_selector;
    }
    if (auto s = req.param("sendInitialEvents")) {
      wo.send_initial_events = parse_bool_param(*s);
    }
    bool bookmarks = req.param("allowWatchBookmarks") &&
                     parse_bool_param(*req.param("allowWatchBookmarks"));
    std::chrono::seconds timeout = options.max_watch;
    if (auto t = req.param("timeoutSeconds")) {
      auto n = parse_int(*t);
      if (!n || *n < 0) {
        co_await send_status(res, 400, "BadRequest", fmt::format("invalid timeoutSeconds: {}", *t),
                             req);
        co_return;
      }
      if (*n > 0) {
        timeout = std::min(timeout, std::chrono::seconds(*n));
      }
    }
    IncludeObject include = IncludeObject::kMetadata;
    if (!parse_include_object(req.param("includeObject").value_or(""), include)) {
      co_await send_status(res, 400, "BadRequest", "invalid includeObject", req);
      co_return;
    }
    auto stream = co_await registry.watch(type, info.ns, wo);
    if (!stream) {
      co_await send_error(res, stream.error(), req);
      co_return;
    }
    HeaderList stream_headers;
    stream_headers.emplace_back("Content-Type", std::string(kJsonType));
    if (!co_await res.start_stream(200, std::move(stream_headers))) {
      co_return;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool first_table = true;
    bool initial_end_sent = !wo.send_initial_events;
    auto encode = [&](std::string_view ev_type, json::Value object) {
      if (neg.output == Output::kTable && ev_type != "BOOKMARK") {
        json::Array items{std::move(object)};
        object = make_table(*type, items, include, now(), neg.version, json::Value::object(),
                            first_table);
        first_table = false;
      }
      json::Value ev = json::Object{{"type", std::string(ev_type)}, {"object", std::move(object)}};
      std::string line = json::serialize(ev);
      line.push_back('\n');
      return line;
    };
    auto bookmark = [&](std::int64_t rv, bool initial_end) {
      json::Value meta = json::Object{{"resourceVersion", std::to_string(rv)}};
      if (initial_end) {
        meta["annotations"] = json::Object{{"k8s.io/initial-events-end", "true"}};
      }
      json::Value obj = json::Object{{"kind", type->gvk.kind},
                                     {"apiVersion", type->group_version()},
                                     {"metadata", std::move(meta)}};
      return encode("BOOKMARK", std::move(obj));
    };
    while (true) {
      auto current = std::chrono::steady_clock::now();
      if (deadline <= current) {
        break;
      }
      // The stream's own wait ends at the deadline or the next bookmark: no timer raced per event.
      auto wake_at = bookmarks ? std::min(deadline, current + options.bookmark_interval) : deadline;
      auto events = co_await stream.value()->next(wake_at);
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        break;
      }
      if (events && events->empty()) {
        if (bookmarks && std::chrono::steady_clock::now() < deadline) {
          if (!co_await res.write_chunk(bookmark((*stream)->progress_revision(), false))) {
            co_return;
          }
        }
        continue;
      }
      if (!events) {
        if (events.error().reason == Reason::kCancelled) {
          break;
        }
        json::Value st = failure_status(events.error());
        std::ignore = co_await res.write_chunk(encode("ERROR", std::move(st)));
        break;
      }
      std::string batch;
      for (auto& ev : *events) {
        if (ev.raw.empty()) {
          batch += encode(event_type(ev.type), std::move(ev.object));
          continue;
        }
        // The same text encode() produces, without parsing the object.
        batch.append("{\"type\":\"").append(event_type(ev.type)).append("\",\"object\":");
        batch.append(ev.raw).append("}\n");
      }
      if (!initial_end_sent && bookmarks) {
        batch += bookmark((*stream)->progress_revision(), true);
        initial_end_sent = true;
      }
      if (!co_await res.write_chunk(std::move(batch))) {
        co_return;
      }
    }
    co_await res.end_stream();
  }

  // ---- special subresources ----

  awaitable<void> do_binding(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                             ResourceTypePtr type) {
    auto body = json::parse(req.body);
    if (!body || !body->is_object()) {
      co_await send_status(res, 400, "BadRequest", "the body must be a v1 Binding", req);
      co_return;
    }
    std::string node(body->get_path({"target", "name"}) != nullptr
                         ? (*body)["target"].string_or("name")
                         : "");
    auto bound = co_await bind_pod(type, info.ns, info.name, node);
    if (!bound) {
      co_await send_error(res, bound.error(), req);
      co_return;
    }
    co_await send_json(res, 201, success_status(info.name, "", "pods", ""), req);
  }

  awaitable<Result<void>> bind_pod(ResourceTypePtr type, std::string ns, std::string name,
                                   std::string node) {
    if (node.empty()) {
      co_return errors::make(Reason::kInvalid, "target.name: Required value");
    }
    registry::GetOptions plain;  // named: see serve_subresource
    auto pod = co_await registry.get(type, ns, name, "", plain);
    if (!pod) {
      co_return pod.error();
    }
    std::string_view current = (*pod)["spec"].string_or("nodeName");
    if (!current.empty()) {
      co_return errors::conflict(fmt::format(
          "Operation cannot be fulfilled on pods/binding {}: pod {} is already assigned to node {}",
          json::quote(name), name, json::quote(current)));
    }
    json::Value patch = json::Object{
        {"metadata", json::Object{{"resourceVersion", (*pod)["metadata"]["resourceVersion"]}}},
        {"spec", json::Object{{"nodeName", node}}}};
    registry::WriteOptions wo;
    wo.field_manager = "skiff-binding";
    wo.field_validation = registry::FieldValidation::kIgnore;
    registry::PatchOptions po;
    po.type = registry::PatchType::kMerge;
    auto done = co_await registry.patch(type, ns, name, "binding", json::serialize(patch), po, wo);
    if (!done) {
      co_return done.error();
    }
    co_return Result<void>{};
  }

  awaitable<void> do_eviction(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                              ResourceTypePtr type) {
    registry::DeleteOptions opts;
    if (auto body = json::parse(req.body); body && body->is_object()) {
      const json::Value& d = (*body)["deleteOptions"];
      if (const json::Value* g = d.get("gracePeriodSeconds"); g != nullptr && g->is_integral()) {
        opts.grace_period_seconds = g->as_int();
      }
    }
    auto deleted = co_await registry.remove(type, info.ns, info.name, opts);
    if (!deleted) {
      co_await send_error(res, deleted.error(), req);
      co_return;
    }
    json::Value st = success_status(info.name, "", "pods", "");
    st["code"] = 201;
    co_await send_json(res, 201, st, req);
  }

  awaitable<void> do_token(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                           ResourceTypePtr type) {
    std::vector<std::string> dups;
    auto body = decode_body(req, *type, dups);
    if (!body) {
      co_await send_body_error(res, body.error(), req);
      co_return;
    }
    registry::GetOptions plain;  // named: see serve_subresource
    auto sa = co_await registry.get(type, info.ns, info.name, "", plain);
    if (!sa) {
      co_await send_error(res, sa.error(), req);
      co_return;
    }
    auto out = make_token_request(*body, *sa, info.ns, info.name, options, now());
    if (!out) {
      co_await send_error(res, out.error(), req);
      co_return;
    }
    co_await send_json(res, 201, *out, req);
  }

  // ---- reviews ----

  static bool is_review(const ResourceType& type) {
    return type.gvk.group == "authorization.k8s.io" || type.gvk.group == "authentication.k8s.io";
  }

  awaitable<void> serve_review(const ApiRequest& req, ApiResponder& res, const RequestInfo& info,
                               ResourceTypePtr type) {
    std::vector<std::string> dups;
    auto body = decode_body(req, *type, dups);
    if (!body) {
      co_await send_body_error(res, body.error(), req);
      co_return;
    }
    Identity who{req.user, req.groups};
    auto out = answer_review(*type, std::move(*body), who, info.ns, options, now());
    if (!out) {
      co_await send_error(res, out.error(), req);
      co_return;
    }
    co_await send_json(res, 201, *out, req);
  }
};

ApiHandler::ApiHandler(registry::Registry& registry, HandlerOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(options))) {}

ApiHandler::~ApiHandler() = default;

awaitable<void> ApiHandler::handle(const ApiRequest& request, ApiResponder& responder) {
  co_await impl_->handle(request, responder);
}

}  // namespace skiff::apiserver
