// SPDX-License-Identifier: Apache-2.0
//
// api_bench: a load generator for a Kubernetes API server over HTTPS (`skiff server`, or any
// kube-apiserver that accepts the given client certificate). HTTP/1.1 keep-alive connections on
// Boost.Beast + Asio SSL, the client certificate and CA from a server's TLS folder (Skiff:
// <data-dir>/server/tls: server-ca.crt, client-admin.crt, client-admin.key). It runs the selected
// phases one after the other and prints one JSON document (also written to --out). Point it only at
// a dedicated server: it creates namespaces bench, bench-steady and bench-fanout and fills them.
//
// Phases (--phases, comma-separated; default all, in this order):
//   create    --objects ConfigMaps of --value-bytes (2 KiB) data, --concurrency (64) workers on as
//             many connections, names cm-%08d in namespace bench: creates/s, latency
//   get       --get-n GETs of random cm-%08d (< --objects) at --concurrency, no compression
//   get_gzip  the same with Accept-Encoding: gzip (what client-go and kubectl send)
//   list      namespace bench (expects --objects items), each --list-runs times on one connection:
//             full JSON; full with gzip; pages of 500 (client-go's reflector); kubectl's
//             `get cm -A` request (Table, gzip, pages of 500, all namespaces)
//   steady    an open loop at --steady-rate requests/s for --steady-seconds on a connection pool:
//             create, update (PUT), merge patch and delete in turn (namespace bench-steady);
//             latency counted from each request's scheduled time, so a stall is not hidden
//   fanout    --watchers watches (one connection each) on one ConfigMap, then --fanout-rounds
//             updates of it, one at a time: update start -> every watcher has the event
// The get, get_gzip and list phases read with the lean client (lean_client.hpp: OpenSSL on plain
// sockets, a fraction of the Beast client's CPU) unless --client beast; the rest use Beast.
// Around each phase: VmRSS/VmHWM and CPU time of --pid (and per-thread CPU), the client's own CPU
// time, bytes under --data-dir; per-request server and client CPU follow from them.
//
// Threads: --threads single-threaded io_contexts (default 1); connections are spread over them
// round-robin, each connection is used by one coroutine at a time on its own context. The main
// thread only starts phases and waits for them (always with a timeout).
//
// Every call has a deadline (60 s) and every wait a timeout, so a stuck server ends the run with
// errors in the JSON instead of hanging it.

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "bench_util.hpp"
#include "lean_client.hpp"

namespace skiff::bench {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

constexpr auto kCallTimeout = std::chrono::seconds(60);
constexpr auto kPhaseTimeout = std::chrono::minutes(20);
constexpr std::size_t kMaxErrors = 200;  // a closed-loop phase stops after this many failures

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "6443";
  std::string tls_dir;  // server-ca.crt, client-admin.crt, client-admin.key
  std::vector<std::string> phases;
  int pid = 0;
  std::string data_dir;
  std::string label;
  std::string out;
  std::size_t threads = 1;
  std::size_t objects = 10000;
  std::size_t value_bytes = 2048;
  std::size_t concurrency = 64;
  std::size_t get_n = 100000;
  bool lean = true;  // --client lean (default) | beast: who reads in the get and list phases
  std::size_t list_runs = 10;
  std::size_t page = 500;
  double steady_rate = 200;
  double steady_seconds = 30;
  std::size_t steady_base = 500;  // objects updated/patched by the steady phase
  std::size_t watchers = 1000;
  std::size_t fanout_rounds = 100;
  std::size_t fanout_value_bytes = 64;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double ns_to_ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

/// Counts failures of one phase (from any thread) and keeps the first message.
class ErrorLog {
public:
  void add(std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ == 0) {
      first_ = std::move(message);
    }
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  void into(Json& j) const {
    std::lock_guard<std::mutex> lock(mu_);
    j.set("errors", count_);
    if (count_ > 0) {
      j.set("first_error", first_);
    }
  }

private:
  mutable std::mutex mu_;
  std::size_t count_ = 0;
  std::string first_;
};

/// A countdown the main thread waits on with a timeout (std::latch has no timed wait).
class Countdown {
public:
  explicit Countdown(std::size_t n) : left_(n) {}
  void done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (left_ > 0 && --left_ == 0) {
      cv_.notify_all();
    }
  }
  /// True if it reached zero within `timeout`.
  bool wait_for(std::chrono::steady_clock::duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return left_ == 0; });
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t left_;
};

/// K single-threaded io_contexts, each run by its own thread until the pool is destroyed.
class Loops {
public:
  explicit Loops(std::size_t n) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, n); ++i) {
      auto io = std::make_unique<asio::io_context>(1);
      guards_.emplace_back(io->get_executor());
      ios_.push_back(std::move(io));
    }
    for (auto& io : ios_) {
      threads_.emplace_back([ctx = io.get()] { ctx->run(); });
    }
  }
  ~Loops() {
    guards_.clear();
    for (auto& io : ios_) {
      io->stop();
    }
    for (auto& t : threads_) {
      t.join();
    }
  }
  Loops(const Loops&) = delete;
  Loops& operator=(const Loops&) = delete;

  std::size_t size() const { return ios_.size(); }
  asio::io_context& at(std::size_t i) { return *ios_[i % ios_.size()]; }

private:
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

/// One HTTP request as the benchmark sends it.
struct Request {
  bhttp::verb verb = bhttp::verb::get;
  std::string target;
  std::string body;
  std::string content_type = "application/json";
  std::string accept = "application/json";
  bool gzip = false;
};

struct Reply {
  int status = 0;  ///< 0: transport failure (see error)
  std::string body;
  std::string error;
  std::size_t wire_bytes = 0;  ///< body bytes as received (compressed when gzip)
  bool gzipped = false;
};

/// One keep-alive HTTPS connection, bound to one io_context. Not thread-safe: one coroutine at a
/// time, on that context. Reconnects by itself after a failure or a `Connection: close`.
class Conn {
public:
  Conn(asio::io_context& io, ssl::context& tls, tcp::endpoint endpoint)
      : io_(io), tls_(tls), endpoint_(std::move(endpoint)) {}

  asio::io_context& io() { return io_; }

  /// Connects and completes the TLS handshake; "" on success, else what failed.
  awaitable<std::string> connect() {
    stream_.emplace(io_.get_executor(), tls_);
    buffer_.clear();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(kCallTimeout);
    auto [ec] = co_await tcp_layer.async_connect(endpoint_, kAwait);
    if (ec) {
      stream_.reset();
      co_return "connect: " + ec.message();
    }
    tcp_layer.socket().set_option(tcp::no_delay(true));
    auto [hec] = co_await stream_->async_handshake(ssl::stream_base::client, kAwait);
    if (hec) {
      stream_.reset();
      co_return "TLS handshake: " + hec.message();
    }
    tcp_layer.expires_never();
    co_return "";
  }

  /// Sends `r` and reads the whole response (no size limit).
  awaitable<Reply> call(Request r) {
    Reply reply;
    if (!stream_) {
      if (auto err = co_await connect(); !err.empty()) {
        reply.error = err;
        co_return reply;
      }
    }
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(kCallTimeout);
    co_await write_request(r);
    if (!stream_) {
      reply.error = "write failed";
      co_return reply;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    auto [ec, n] = co_await bhttp::async_read(*stream_, buffer_, parser, kAwait);
    if (ec) {
      reply.error = "read: " + ec.message();
      stream_.reset();
      co_return reply;
    }
    tcp_layer.expires_never();
    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    reply.gzipped = res[bhttp::field::content_encoding] == "gzip";
    reply.body = std::move(res.body());
    reply.wire_bytes = reply.body.size();
    if (!res.keep_alive()) {
      stream_.reset();
    }
    co_return reply;
  }

  /// Starts a watch: sends `r` and reads the response head. Then read_stream() delivers the body.
  /// Returns the HTTP status (0 on transport failure).
  awaitable<int> start_stream(Request r) {
    if (!stream_) {
      if (auto err = co_await connect(); !err.empty()) {
        co_return 0;
      }
    }
    beast::get_lowest_layer(*stream_).expires_after(kCallTimeout);
    co_await write_request(r);
    if (!stream_) {
      co_return 0;
    }
    stream_parser_.emplace();
    stream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    auto [ec, n] = co_await bhttp::async_read_header(*stream_, buffer_, *stream_parser_, kAwait);
    if (ec) {
      stream_.reset();
      co_return 0;
    }
    beast::get_lowest_layer(*stream_).expires_never();
    co_return static_cast<int>(stream_parser_->get().result_int());
  }

  /// Reads the stream's chunks until it ends or the connection is closed; `on_data` sees each
  /// piece of chunk data (in order, as it is decrypted). Returns why it ended.
  template <class OnData>
  awaitable<std::string> read_stream(OnData on_data) {
    auto cb = [&on_data](std::uint64_t, std::string_view body, beast::error_code&) {
      on_data(body);
      return body.size();
    };
    stream_parser_->on_chunk_body(cb);
    while (stream_ && !stream_parser_->is_done()) {
      auto [ec, n] = co_await bhttp::async_read_some(*stream_, buffer_, *stream_parser_, kAwait);
      if (ec) {
        stream_.reset();
        co_return ec.message();
      }
    }
    co_return "stream ended";
  }

  /// Closes the socket (a pending read completes with an error). Call on this connection's context.
  void close() {
    if (stream_) {
      beast::error_code ec;
      beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(*stream_).socket().close(ec);
    }
  }

private:
  awaitable<void> write_request(const Request& r) {
    bhttp::request<bhttp::string_body> req{r.verb, r.target, 11};
    req.set(bhttp::field::host, host_header());
    req.set(bhttp::field::user_agent, "api_bench");
    req.set(bhttp::field::accept, r.accept);
    if (r.gzip) {
      req.set(bhttp::field::accept_encoding, "gzip");
    }
    if (!r.body.empty()) {
      req.set(bhttp::field::content_type, r.content_type);
      req.body() = r.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(*stream_, req, kAwait);
    if (ec) {
      stream_.reset();
    }
  }

  std::string host_header() const {
    return endpoint_.address().to_string() + ":" + std::to_string(endpoint_.port());
  }

  asio::io_context& io_;
  ssl::context& tls_;
  tcp::endpoint endpoint_;
  std::optional<ssl::stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> stream_parser_;
};

/// The value of the first `"resourceVersion":"N"` in a JSON body, or "".
std::string first_resource_version(std::string_view body) {
  constexpr std::string_view kKey = "\"resourceVersion\":\"";
  auto at = body.find(kKey);
  if (at == std::string_view::npos) {
    return "";
  }
  at += kKey.size();
  auto end = body.find('"', at);
  return end == std::string_view::npos ? "" : std::string(body.substr(at, end - at));
}

/// The list's `"continue":"token"`, or "".
std::string continue_token(std::string_view body) {
  constexpr std::string_view kKey = "\"continue\":\"";
  auto at = body.find(kKey);
  if (at == std::string_view::npos) {
    return "";
  }
  at += kKey.size();
  auto end = body.find('"', at);
  return end == std::string_view::npos ? "" : std::string(body.substr(at, end - at));
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string query_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// `bytes` characters of [A-Za-z0-9+/] from a generator seeded by `seed`: distinct per object, so
/// gzip sees realistic (not trivially repeated) data.
std::string payload(std::size_t bytes, std::uint64_t seed) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(bytes, 'x');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = kAlphabet[x & 63];
  }
  return out;
}

std::string configmap_json(std::string_view ns, std::string_view name, std::string_view value,
                           std::string_view extra_key = {}, std::string_view extra_value = {}) {
  std::string s;
  s.reserve(value.size() + 200);
  s += R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")";
  s += name;
  s += R"(","namespace":")";
  s += ns;
  s += R"(","labels":{"app":"api-bench"}},"data":{)";
  if (!extra_key.empty()) {
    s += '"';
    s += extra_key;
    s += R"(":")";
    s += extra_value;
    s += R"(",)";
  }
  s += R"("payload":")";
  s += value;
  s += R"("}})";
  return s;
}

std::string cm_path(std::string_view ns) {
  return "/api/v1/namespaces/" + std::string(ns) + "/configmaps";
}

std::string cm_name(std::size_t i) {
  return indexed_key("cm-", i);
}

/// CPU seconds per thread of `pid` (tid -> {comm, cpu_s}); empty when gone.
struct ThreadCpu {
  std::string comm;
  double cpu_s = 0;
};

/// User + system CPU seconds from a /proc stat file (fields 14 and 15); 0 if unreadable.
double stat_cpu_seconds(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string stat;
  if (!std::getline(in, stat)) {
    return 0;
  }
  const auto close = stat.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && rest >> field; ++n) {
    if (n == 14 || n == 15) {
      ticks += std::stod(field);
    }
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// /proc/PID/task/TID/stat is the thread's own time (/proc/TID/stat would be the whole process's).
std::map<int, ThreadCpu> thread_cpu(int pid) {
  std::map<int, ThreadCpu> out;
  if (pid <= 0) {
    return out;
  }
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const int tid = std::atoi(entry.path().filename().c_str());
    ThreadCpu t;
    std::ifstream comm(entry.path() / "comm");
    std::getline(comm, t.comm);
    t.cpu_s = stat_cpu_seconds(entry.path() / "stat");
    out[tid] = std::move(t);
  }
  return out;
}

/// Server and client CPU over one phase.
class CpuMeter {
public:
  explicit CpuMeter(int pid)
      : pid_(pid),
        server0_(proc_cpu_seconds(pid).value_or(0)),
        client0_(self_cpu_seconds()),
        threads0_(thread_cpu(pid)) {}

  /// {server_cpu_s, client_cpu_s, [server_us_per_op, client_us_per_op], server_threads}.
  Json finish(std::size_t ops) const {
    const double server = proc_cpu_seconds(pid_).value_or(0) - server0_;
    const double client = self_cpu_seconds() - client0_;
    Json j = Json::object();
    if (pid_ > 0) {
      j.set("server_cpu_s", server);
    }
    j.set("client_cpu_s", client);
    if (ops > 0) {
      if (pid_ > 0) {
        j.set("server_us_per_op", server * 1e6 / static_cast<double>(ops));
      }
      j.set("client_us_per_op", client * 1e6 / static_cast<double>(ops));
    }
    if (pid_ > 0) {
      Json threads = Json::array();
      for (const auto& [tid, t] : thread_cpu(pid_)) {
        auto before = threads0_.find(tid);
        const double d = t.cpu_s - (before == threads0_.end() ? 0.0 : before->second.cpu_s);
        if (d >= 0.01) {
          threads.push(Json::object().set("tid", tid).set("comm", t.comm).set("cpu_s", d));
        }
      }
      j.set("server_threads", std::move(threads));
    }
    return j;
  }

private:
  int pid_;
  double server0_;
  double client0_;
  std::map<int, ThreadCpu> threads0_;
};

/// One round of the fan-out: when the update started and was acknowledged, and when watchers saw
/// it.
struct Round {
  std::int64_t put_start_ns = 0;
  std::int64_t put_ack_ns = 0;
  std::atomic<std::int64_t> first_ns{0};
  std::atomic<std::int64_t> last_ns{0};
  std::atomic<std::size_t> got{0};

  void record(std::int64_t t) {
    std::int64_t zero = 0;
    first_ns.compare_exchange_strong(zero, t);
    std::int64_t last = last_ns.load();
    while (t > last && !last_ns.compare_exchange_weak(last, t)) {
    }
    got.fetch_add(1);
  }
};

class Bench {
public:
  explicit Bench(Options o)
      : options_(std::move(o)),
        tls_(ssl::context::tls_client),
        loops_(options_.threads),
        endpoint_(asio::ip::make_address(options_.host),
                  static_cast<std::uint16_t>(std::stoi(options_.port))) {
    const std::filesystem::path dir(options_.tls_dir);
    tls_.load_verify_file((dir / "server-ca.crt").string());
    tls_.use_certificate_chain_file((dir / "client-admin.crt").string());
    tls_.use_private_key_file((dir / "client-admin.key").string(), ssl::context::pem);
    tls_.set_verify_mode(ssl::verify_peer);
  }

  Json run() {
    Json result = Json::object();
    result.set("tool", "api_bench");
    result.set("label", options_.label);
    result.set("server", "https://" + options_.host + ":" + options_.port);
    Json opts = Json::object();
    opts.set("threads", options_.threads)
        .set("objects", options_.objects)
        .set("value_bytes", options_.value_bytes)
        .set("concurrency", options_.concurrency)
        .set("get_n", options_.get_n)
        .set("list_runs", options_.list_runs)
        .set("page", options_.page)
        .set("steady_rate", options_.steady_rate)
        .set("steady_seconds", options_.steady_seconds)
        .set("watchers", options_.watchers)
        .set("fanout_rounds", options_.fanout_rounds)
        .set("fanout_value_bytes", options_.fanout_value_bytes);
    result.set("options", opts);
    Conn probe(loops_.at(0), tls_, endpoint_);
    Reply version =
        call_sync(probe, Request{bhttp::verb::get, "/version", "", "", "application/json", false});
    if (version.status != 200) {
      result.set("error",
                 "GET /version: " +
                     (version.status == 0 ? version.error : std::to_string(version.status)));
      return result;
    }
    result.set("version", first_field(version.body, "gitVersion"));
    result.set("before", sample());
    Json phases = Json::object();
    for (const auto& phase : options_.phases) {
      std::fprintf(stderr, "[api_bench] phase %s\n", phase.c_str());
      Json j;
      if (phase == "create") {
        j = create();
      } else if (phase == "get") {
        j = get(false);
      } else if (phase == "get_gzip") {
        j = get(true);
      } else if (phase == "list") {
        j = list();
      } else if (phase == "steady") {
        j = steady();
      } else if (phase == "fanout") {
        j = fanout();
      } else {
        j = Json::object().set("error", "unknown phase");
      }
      j.set("after", sample());
      phases.set(phase, std::move(j));
    }
    result.set("phases", std::move(phases));
    return result;
  }

private:
  static std::string first_field(std::string_view body, std::string_view key) {
    const std::string k = "\"" + std::string(key) + "\":\"";
    auto at = body.find(k);
    if (at == std::string_view::npos) {
      return "";
    }
    at += k.size();
    auto end = body.find('"', at);
    return end == std::string_view::npos ? "" : std::string(body.substr(at, end - at));
  }

  Json sample() const {
    Json j = Json::object();
    j.set("process", rss_sample(options_.pid));
    j.set("client_cpu_s", self_cpu_seconds());
    j.set("data_dir", disk_sample(options_.data_dir));
    j.set("loadavg", loadavg());
    return j;
  }

  static std::string loadavg() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  }

  LeanEndpoint lean_endpoint() {
    return LeanEndpoint{endpoint_.address().to_string(), endpoint_.port(), tls_.native_handle()};
  }

  /// A GET `r` through the lean client, as a Reply.
  static Reply lean_call(LeanConnection& lean, const Request& r) {
    LeanReply l = lean.get(r.target, r.accept, r.gzip);
    Reply out;
    out.status = l.status;
    out.body = std::move(l.body);
    out.error = std::move(l.error);
    out.wire_bytes = l.wire_body;
    out.gzipped = l.gzipped;
    return out;
  }

  /// Runs one call on `conn`'s context and waits for it (bounded).
  Reply call_sync(Conn& conn, Request r) {
    Reply out;
    Countdown done(1);
    asio::co_spawn(conn.io(), conn.call(std::move(r)), [&](std::exception_ptr e, Reply reply) {
      out = e ? Reply{0, "", "exception", 0, false} : std::move(reply);
      done.done();
    });
    if (!done.wait_for(kCallTimeout + std::chrono::seconds(5))) {
      std::fprintf(stderr, "[api_bench] call did not finish in time; aborting\n");
      std::abort();  // the coroutine still refers to `out`
    }
    return out;
  }

  /// Creates namespace `ns` if it does not exist yet.
  bool ensure_namespace(Conn& conn, const std::string& ns, ErrorLog& errors) {
    Request r;
    r.verb = bhttp::verb::post;
    r.target = "/api/v1/namespaces";
    r.body = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns + R"("}})";
    Reply reply = call_sync(conn, std::move(r));
    if (reply.status == 201 || reply.status == 409) {
      return true;
    }
    errors.add("create namespace " + ns + ": " +
               (reply.status == 0 ? reply.error : std::to_string(reply.status) + " " + reply.body));
    return false;
  }

  /// Opens `n` connections spread over the loops; returns them once all are connected.
  std::vector<std::unique_ptr<Conn>> open_connections(std::size_t n, ErrorLog& errors) {
    std::vector<std::unique_ptr<Conn>> conns;
    for (std::size_t i = 0; i < n; ++i) {
      conns.push_back(std::make_unique<Conn>(loops_.at(i), tls_, endpoint_));
    }
    Countdown done(n);
    for (auto& c : conns) {
      asio::co_spawn(c->io(), c->connect(), [&](std::exception_ptr e, std::string err) {
        if (e) {
          errors.add("connect: exception");
        } else if (!err.empty()) {
          errors.add(err);
        }
        done.done();
      });
    }
    if (!done.wait_for(kCallTimeout + std::chrono::seconds(5))) {
      std::fprintf(stderr, "[api_bench] connecting did not finish in time; aborting\n");
      std::abort();
    }
    return conns;
  }

  /// A closed loop: `conns.size()` workers take request indexes 0..total-1 in turn; each request
  /// must answer `want_status`. {n, wall_s, ops_per_s, latency summary, errors}.
  template <class MakeRequest>
  Json closed_loop(std::vector<std::unique_ptr<Conn>>& conns, std::size_t total, MakeRequest make,
                   int want_status, ErrorLog& errors, std::size_t& wire_bytes) {
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> bytes{0};
    std::vector<std::vector<double>> latencies(conns.size());
    Countdown done(conns.size());
    const auto start = Clock::now();
    for (std::size_t w = 0; w < conns.size(); ++w) {
      asio::co_spawn(
          conns[w]->io(),
          worker(conns[w].get(), &next, total, &make, want_status, &errors, &latencies[w], &bytes),
          [&](std::exception_ptr e) {
            if (e) {
              errors.add("worker: exception");
            }
            done.done();
          });
    }
    if (!done.wait_for(kPhaseTimeout)) {
      std::fprintf(stderr, "[api_bench] phase did not finish in time; aborting\n");
      std::abort();
    }
    const double wall = elapsed_ms(start, Clock::now()) / 1000;
    std::vector<double> all;
    for (auto& l : latencies) {
      all.insert(all.end(), l.begin(), l.end());
    }
    wire_bytes = bytes.load();
    Json j = summarize(std::move(all), wall);
    errors.into(j);
    return j;
  }

  template <class MakeRequest>
  static awaitable<void> worker(Conn* conn, std::atomic<std::size_t>* next, std::size_t total,
                                MakeRequest* make, int want_status, ErrorLog* errors,
                                std::vector<double>* latencies, std::atomic<std::size_t>* bytes) {
    latencies->reserve(total / 16 + 16);
    while (true) {
      const std::size_t i = next->fetch_add(1);
      if (i >= total || errors->count() >= kMaxErrors) {
        break;
      }
      Request r = (*make)(i);
      const auto t0 = Clock::now();
      Reply reply = co_await conn->call(std::move(r));
      const auto t1 = Clock::now();
      if (reply.status != want_status) {
        errors->add(reply.status == 0
                        ? reply.error
                        : std::to_string(reply.status) + " " + reply.body.substr(0, 300));
        continue;
      }
      bytes->fetch_add(reply.wire_bytes);
      latencies->push_back(elapsed_ms(t0, t1));
    }
  }

  // ---- create

  Json create() {
    ErrorLog errors;
    Conn admin(loops_.at(0), tls_, endpoint_);
    Json j = Json::object();
    if (!ensure_namespace(admin, "bench", errors)) {
      errors.into(j);
      return j;
    }
    auto conns = open_connections(options_.concurrency, errors);
    const std::string path = cm_path("bench");
    const std::size_t value_bytes = options_.value_bytes;
    auto make = [&path, value_bytes](std::size_t i) {
      Request r;
      r.verb = bhttp::verb::post;
      r.target = path;
      r.body = configmap_json("bench", cm_name(i), payload(value_bytes, i));
      return r;
    };
    j.set("request_bytes", make(0).body.size());
    CpuMeter cpu(options_.pid);
    std::size_t bytes = 0;
    Json run = closed_loop(conns, options_.objects, make, 201, errors, bytes);
    j.set("concurrency", conns.size());
    j.set("result", std::move(run));
    j.set("cpu", cpu.finish(options_.objects));
    return j;
  }

  // ---- get

  Json get(bool gzip) {
    ErrorLog errors;
    std::vector<std::unique_ptr<Conn>> conns;
    if (!options_.lean) {
      conns = open_connections(options_.concurrency, errors);
    }
    const std::string path = cm_path("bench") + "/";
    const std::size_t objects = std::max<std::size_t>(1, options_.objects);
    auto make = [&path, objects, gzip](std::size_t i) {
      // A fixed pseudo-random order (the same for every run): no key locality.
      std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL;
      x ^= x >> 29;
      Request r;
      r.target = path + cm_name(static_cast<std::size_t>(x % objects));
      r.gzip = gzip;
      return r;
    };
    CpuMeter cpu(options_.pid);
    std::size_t bytes = 0;
    Json j = Json::object();
    j.set("concurrency", options_.lean ? options_.concurrency : conns.size());
    j.set("gzip", gzip);
    j.set("client", options_.lean ? "lean" : "beast");
    if (options_.lean) {
      // The same requests from the epoll + OpenSSL driver (lean_client.hpp), on this thread.
      LeanGetOptions lo;
      lo.endpoint = lean_endpoint();
      lo.connections = options_.concurrency;
      lo.total = options_.get_n;
      lo.gzip = gzip;
      lo.target = [&make](std::size_t i) { return make(i).target; };
      lo.timeout = std::chrono::duration_cast<std::chrono::seconds>(kPhaseTimeout);
      LeanGetResult r = lean_gets(lo);
      for (auto& e : r.errors) {
        errors.add(std::move(e));
      }
      Json run = summarize(std::move(r.latencies_ms), r.wall_s);
      errors.into(run);
      j.set("result", std::move(run));
      bytes = r.body_bytes;
    } else {
      j.set("result", closed_loop(conns, options_.get_n, make, 200, errors, bytes));
    }
    j.set(
        "response_bytes_per_get",
        static_cast<double>(bytes) / static_cast<double>(std::max<std::size_t>(1, options_.get_n)));
    j.set("cpu", cpu.finish(options_.get_n));
    return j;
  }

  // ---- list

  /// `runs` sequential lists on one connection; each list may take several pages (limit > 0).
  Json timed_lists(Conn& conn, LeanConnection* lean, std::size_t runs, const std::string& base,
                   std::size_t limit, bool gzip, const std::string& accept, ErrorLog& errors) {
    std::vector<double> latencies;
    std::size_t items = 0;
    std::size_t bytes = 0;
    std::size_t pages = 0;
    CpuMeter cpu(options_.pid);
    for (std::size_t run = 0; run < runs && errors.count() == 0; ++run) {
      double run_ms = 0;  // the requests and reading their continue tokens, not the item count
      std::string token;
      std::size_t run_items = 0;
      std::size_t run_bytes = 0;
      std::size_t run_pages = 0;
      do {
        Request r;
        r.target = base;
        char sep = base.find('?') == std::string::npos ? '?' : '&';
        if (limit > 0) {
          r.target += sep + std::string("limit=") + std::to_string(limit);
          sep = '&';
        }
        if (!token.empty()) {
          r.target += sep + std::string("continue=") + query_escape(token);
        }
        r.gzip = gzip;
        r.accept = accept;
        const auto t0 = Clock::now();
        Reply reply = lean != nullptr ? lean_call(*lean, r) : call_sync(conn, std::move(r));
        if (limit > 0 && reply.status == 200 && !reply.gzipped) {
          token = continue_token(reply.body);
        }
        run_ms += elapsed_ms(t0, Clock::now());
        if (reply.status != 200) {
          errors.add("list: " + (reply.status == 0 ? reply.error
                                                   : std::to_string(reply.status) + " " +
                                                         reply.body.substr(0, 300)));
          break;
        }
        ++run_pages;
        run_bytes += reply.wire_bytes;
        if (!reply.gzipped) {
          // Items carry metadata.uid once each (Table rows carry it in their partial metadata).
          run_items += count_of(reply.body, "\"uid\":\"");
        } else {
          token.clear();
          if (limit > 0) {
            errors.add("paged list answered gzip: the client cannot follow its continue token");
          }
        }
      } while (!token.empty());
      latencies.push_back(run_ms);
      items = run_items;
      bytes = run_bytes;
      pages = run_pages;
    }
    Json j = summarize(latencies);
    j.set("items", items).set("response_bytes", bytes).set("pages", pages);
    j.set("cpu", cpu.finish(latencies.size()));
    return j;
  }

  Json list() {
    ErrorLog errors;
    Conn conn(loops_.at(0), tls_, endpoint_);
    const std::string path = cm_path("bench");
    const std::string json = "application/json";
    // kubectl get's Accept header (Table first, then plain JSON).
    const std::string table =
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
        "g=meta.k8s.io,application/json";
    const std::size_t runs = options_.list_runs;
    std::optional<LeanConnection> lean_conn;
    if (options_.lean) {
      lean_conn.emplace(lean_endpoint());
    }
    LeanConnection* lean = lean_conn ? &*lean_conn : nullptr;
    const std::string all = "/api/v1/configmaps";
    Json j = Json::object();
    j.set("client", options_.lean ? "lean" : "beast");
    // One untimed list first: connection set-up and any first-touch cost stay out of the figures.
    timed_lists(conn, lean, 1, path, 0, false, json, errors);
    j.set("full", timed_lists(conn, lean, runs, path, 0, false, json, errors));
    j.set("full_gzip", timed_lists(conn, lean, runs, path, 0, true, json, errors));
    j.set("paged", timed_lists(conn, lean, runs, path, options_.page, false, json, errors));
    j.set("kubectl_all_namespaces_table",
          timed_lists(conn, lean, runs, all, options_.page, false, table, errors));
    j.set("all_namespaces", timed_lists(conn, lean, runs, all, 0, false, json, errors));
    errors.into(j);
    return j;
  }

  // ---- steady

  struct SteadyState {
    asio::io_context* io = nullptr;
    ssl::context* tls = nullptr;
    tcp::endpoint endpoint;
    std::vector<std::unique_ptr<Conn>> idle;
    std::size_t opened = 0;
    std::size_t outstanding = 0;
    std::size_t max_outstanding = 0;
    std::array<std::vector<double>, 4> from_schedule;
    std::array<std::vector<double>, 4> from_send;
    std::vector<double> send_lag;  // how late the client sent (scheduled -> sent)
    std::size_t base = 0;
    std::size_t value_bytes = 0;
    ErrorLog* errors = nullptr;
  };

  // Deletes remove objects this many rounds after their create (the first rounds delete spares).
  static constexpr std::size_t kDeleteLag = 100;
  static constexpr std::array<const char*, 4> kSteadyVerbs = {"create", "update", "patch",
                                                              "delete"};

  static Request steady_request(const SteadyState& st, std::size_t i) {
    const std::string path = cm_path("bench-steady");
    const std::size_t round = i / 4;
    Request r;
    switch (i % 4) {
      case 0:  // create a new object
        r.verb = bhttp::verb::post;
        r.target = path;
        r.body = configmap_json("bench-steady", indexed_key("new-", round),
                                payload(st.value_bytes, round));
        break;
      case 1: {  // unconditional update of a base object
        const std::string name = indexed_key("base-", round % st.base);
        r.verb = bhttp::verb::put;
        r.target = path + "/" + name;
        r.body = configmap_json("bench-steady", name, payload(st.value_bytes, round), "round",
                                std::to_string(round));
        break;
      }
      case 2:  // merge patch of another base object
        r.verb = bhttp::verb::patch;
        r.target = path + "/" + indexed_key("base-", (round + st.base / 2) % st.base);
        r.content_type = "application/merge-patch+json";
        r.body = R"({"data":{"round":")" + std::to_string(round) + R"("}})";
        break;
      default:  // delete an object created kDeleteLag rounds (2 s at 200/s) earlier, or a spare
        r.verb = bhttp::verb::delete_;
        r.target = path + "/" +
                   (round >= kDeleteLag ? indexed_key("new-", round - kDeleteLag)
                                        : indexed_key("spare-", round));
        break;
    }
    return r;
  }

  static int steady_want(std::size_t i) { return i % 4 == 0 ? 201 : 200; }

  static awaitable<void> steady_op(SteadyState* st, std::size_t i, Clock::time_point scheduled) {
    std::unique_ptr<Conn> conn;
    if (!st->idle.empty()) {
      conn = std::move(st->idle.back());
      st->idle.pop_back();
    } else {
      conn = std::make_unique<Conn>(*st->io, *st->tls, st->endpoint);
      ++st->opened;
    }
    Request r = steady_request(*st, i);
    const auto sent = Clock::now();
    Reply reply = co_await conn->call(std::move(r));
    const auto t1 = Clock::now();
    if (reply.status != steady_want(i)) {
      st->errors->add(std::string(kSteadyVerbs[i % 4]) + ": " +
                      (reply.status == 0
                           ? reply.error
                           : std::to_string(reply.status) + " " + reply.body.substr(0, 300)));
    } else {
      st->from_schedule[i % 4].push_back(elapsed_ms(scheduled, t1));
      st->from_send[i % 4].push_back(elapsed_ms(sent, t1));
      st->send_lag.push_back(elapsed_ms(scheduled, sent));
    }
    st->idle.push_back(std::move(conn));
  }

  static awaitable<void> steady_driver(SteadyState* st, std::size_t total,
                                       std::chrono::nanoseconds interval, Clock::time_point start) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (std::size_t i = 0; i < total; ++i) {
      const auto scheduled = start + interval * static_cast<std::int64_t>(i);
      timer.expires_at(scheduled);
      co_await timer.async_wait(kAwait);
      ++st->outstanding;
      st->max_outstanding = std::max(st->max_outstanding, st->outstanding);
      asio::co_spawn(*st->io, steady_op(st, i, scheduled), [st](std::exception_ptr e) {
        if (e) {
          st->errors->add("steady op: exception");
        }
        --st->outstanding;
      });
    }
    // Wait (bounded) for the requests still in flight.
    const auto deadline = Clock::now() + kCallTimeout;
    while (st->outstanding > 0 && Clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(kAwait);
    }
  }

  Json steady() {
    ErrorLog errors;
    Json j = Json::object();
    Conn admin(loops_.at(0), tls_, endpoint_);
    if (!ensure_namespace(admin, "bench-steady", errors)) {
      errors.into(j);
      return j;
    }
    // The base objects that updates and patches touch, and the spares the first deletes remove
    // (created before the clock starts).
    {
      auto conns = open_connections(16, errors);
      const std::string path = cm_path("bench-steady");
      const std::size_t value_bytes = options_.value_bytes;
      const std::size_t base = options_.steady_base;
      auto make = [&path, value_bytes, base](std::size_t i) {
        Request r;
        r.verb = bhttp::verb::post;
        r.target = path;
        r.body = configmap_json(
            "bench-steady", i < base ? indexed_key("base-", i) : indexed_key("spare-", i - base),
            payload(value_bytes, i));
        return r;
      };
      std::size_t bytes = 0;
      ErrorLog setup_errors;
      Json setup = closed_loop(conns, base + kDeleteLag, make, 201, setup_errors, bytes);
      if (setup_errors.count() > 0) {
        // 409 AlreadyExists on a second run against the same server is fine.
        setup.set("note", "base objects may exist from an earlier run (409)");
      }
      j.set("setup", std::move(setup));
    }
    SteadyState st;
    st.io = &loops_.at(0);
    st.tls = &tls_;
    st.endpoint = endpoint_;
    st.base = std::max<std::size_t>(2, options_.steady_base);
    st.value_bytes = options_.value_bytes;
    st.errors = &errors;
    const auto total = static_cast<std::size_t>(options_.steady_rate * options_.steady_seconds);
    const auto interval =
        std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / options_.steady_rate));
    CpuMeter cpu(options_.pid);
    const auto start = Clock::now() + std::chrono::milliseconds(20);
    Countdown done(1);
    asio::co_spawn(*st.io, steady_driver(&st, total, interval, start), [&](std::exception_ptr e) {
      if (e) {
        errors.add("steady driver: exception");
      }
      done.done();
    });
    const auto budget = std::chrono::seconds(static_cast<std::int64_t>(options_.steady_seconds)) +
                        kCallTimeout + std::chrono::seconds(10);
    if (!done.wait_for(budget)) {
      std::fprintf(stderr, "[api_bench] steady phase did not finish in time; aborting\n");
      std::abort();
    }
    const double wall = elapsed_ms(start, Clock::now()) / 1000;
    j.set("rate", options_.steady_rate)
        .set("seconds", options_.steady_seconds)
        .set("requests", total);
    j.set("connections_opened", st.opened).set("max_in_flight", st.max_outstanding);
    std::vector<double> all;
    std::vector<double> all_send;
    Json verbs = Json::object();
    for (std::size_t v = 0; v < 4; ++v) {
      all.insert(all.end(), st.from_schedule[v].begin(), st.from_schedule[v].end());
      all_send.insert(all_send.end(), st.from_send[v].begin(), st.from_send[v].end());
      verbs.set(kSteadyVerbs[v], Json::object()
                                     .set("from_schedule", summarize(st.from_schedule[v]))
                                     .set("from_send", summarize(st.from_send[v])));
    }
    j.set("mutating", summarize(all, wall));
    j.set("mutating_from_send", summarize(all_send));
    j.set("send_lag", summarize(st.send_lag));
    j.set("verbs", std::move(verbs));
    j.set("cpu", cpu.finish(total));
    errors.into(j);
    return j;
  }

  // ---- fan-out

  struct Watcher {
    std::unique_ptr<Conn> conn;
    std::size_t lines = 0;
    int status = 0;
    std::string ended;
  };

  static awaitable<void> watch_loop(Watcher* w, std::string target, std::vector<Round>* rounds,
                                    std::atomic<std::size_t>* ready) {
    Request r;
    r.target = std::move(target);
    w->status = co_await w->conn->start_stream(std::move(r));
    ready->fetch_add(1);
    if (w->status != 200) {
      co_return;
    }
    w->ended = co_await w->conn->read_stream([w, rounds](std::string_view data) {
      const std::int64_t t = now_ns();
      for (char c : data) {
        if (c == '\n') {
          const std::size_t event = w->lines++;
          if (event < rounds->size()) {
            (*rounds)[event].record(t);
          }
        }
      }
    });
  }

  static awaitable<void> fanout_writer(Conn* conn, std::vector<Round>* rounds, std::size_t watchers,
                                       std::size_t value_bytes, ErrorLog* errors,
                                       std::size_t* incomplete) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const std::string target = cm_path("bench-fanout") + "/fan";
    for (std::size_t n = 0; n < rounds->size(); ++n) {
      Round& round = (*rounds)[n];
      Request r;
      r.verb = bhttp::verb::put;
      r.target = target;
      r.body = configmap_json("bench-fanout", "fan", payload(value_bytes, n), "round",
                              std::to_string(n));
      round.put_start_ns = now_ns();
      Reply reply = co_await conn->call(std::move(r));
      round.put_ack_ns = now_ns();
      if (reply.status != 200) {
        errors->add("fan-out update: " + (reply.status == 0 ? reply.error
                                                            : std::to_string(reply.status) + " " +
                                                                  reply.body.substr(0, 300)));
        break;
      }
      // Watchers stamp their own arrival times; this only waits (bounded) for the last of them.
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (round.got.load() < watchers && Clock::now() < deadline) {
        timer.expires_after(std::chrono::microseconds(500));
        co_await timer.async_wait(kAwait);
      }
      if (round.got.load() < watchers) {
        ++*incomplete;
      }
      // A short pause so rounds do not overlap in the server's queues.
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(kAwait);
    }
  }

  Json fanout() {
    ErrorLog errors;
    Json j = Json::object();
    Conn admin(loops_.at(0), tls_, endpoint_);
    if (!ensure_namespace(admin, "bench-fanout", errors)) {
      errors.into(j);
      return j;
    }
    Request create;
    create.verb = bhttp::verb::post;
    create.target = cm_path("bench-fanout");
    create.body = configmap_json("bench-fanout", "fan", payload(options_.fanout_value_bytes, 0));
    Reply created = call_sync(admin, create);
    if (created.status != 201 && created.status != 409) {
      errors.add("create fan: " + std::to_string(created.status) + " " + created.body);
      errors.into(j);
      return j;
    }
    Reply current = call_sync(admin, Request{bhttp::verb::get, cm_path("bench-fanout") + "/fan", "",
                                             "", "application/json", false});
    const std::string rv = first_resource_version(current.body);
    if (current.status != 200 || rv.empty()) {
      errors.add("get fan: " + std::to_string(current.status));
      errors.into(j);
      return j;
    }
    const std::string target = cm_path("bench-fanout") + "?watch=1&resourceVersion=" + rv +
                               "&fieldSelector=" + query_escape("metadata.name=fan");
    std::vector<Round> rounds(options_.fanout_rounds);
    std::vector<Watcher> watchers(options_.watchers);
    std::atomic<std::size_t> ready{0};
    Countdown ended(watchers.size());
    CpuMeter setup_cpu(options_.pid);
    const auto setup_start = Clock::now();
    for (std::size_t i = 0; i < watchers.size(); ++i) {
      watchers[i].conn = std::make_unique<Conn>(loops_.at(i), tls_, endpoint_);
      asio::co_spawn(watchers[i].conn->io(), watch_loop(&watchers[i], target, &rounds, &ready),
                     [&](std::exception_ptr) { ended.done(); });
    }
    const auto ready_deadline = Clock::now() + kCallTimeout;
    while (ready.load() < watchers.size() && Clock::now() < ready_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    j.set("watchers", watchers.size());
    j.set("setup_ms", elapsed_ms(setup_start, Clock::now()));
    j.set("setup_cpu", setup_cpu.finish(watchers.size()));
    std::size_t failed = 0;
    for (const auto& w : watchers) {
      failed += w.status == 200 ? 0 : 1;
    }
    j.set("watchers_failed", failed);
    // Let the server finish registering the watches (their responses' heads went out first).
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::size_t incomplete = 0;
    CpuMeter cpu(options_.pid);
    Countdown wrote(1);
    asio::co_spawn(admin.io(),
                   fanout_writer(&admin, &rounds, watchers.size() - failed,
                                 options_.fanout_value_bytes, &errors, &incomplete),
                   [&](std::exception_ptr e) {
                     if (e) {
                       errors.add("fan-out writer: exception");
                     }
                     wrote.done();
                   });
    if (!wrote.wait_for(kPhaseTimeout)) {
      std::fprintf(stderr, "[api_bench] fan-out did not finish in time; aborting\n");
      std::abort();
    }
    j.set("cpu", cpu.finish(rounds.size()));
    // End the watches: close every socket on its own loop, then wait for the readers.
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      asio::post(loops_.at(i), [&watchers, i, k = loops_.size()] {
        for (std::size_t w = i; w < watchers.size(); w += k) {
          watchers[w].conn->close();
        }
      });
    }
    if (!ended.wait_for(std::chrono::seconds(30))) {
      std::fprintf(stderr, "[api_bench] watchers did not stop in time; aborting\n");
      std::abort();
    }
    std::vector<double> all;
    std::vector<double> first;
    std::vector<double> put;
    for (const auto& r : rounds) {
      if (r.put_ack_ns == 0) {
        continue;
      }
      put.push_back(ns_to_ms(r.put_ack_ns - r.put_start_ns));
      if (r.got.load() == watchers.size() - failed && r.last_ns.load() != 0) {
        all.push_back(ns_to_ms(r.last_ns.load() - r.put_start_ns));
      }
      if (r.first_ns.load() != 0) {
        first.push_back(ns_to_ms(r.first_ns.load() - r.put_start_ns));
      }
    }
    j.set("rounds", rounds.size()).set("rounds_incomplete", incomplete);
    j.set("update_start_to_all", summarize(all));
    j.set("update_start_to_first", summarize(first));
    j.set("update", summarize(put));
    errors.into(j);
    return j;
  }

  Options options_;
  ssl::context tls_;
  Loops loops_;
  tcp::endpoint endpoint_;
};

constexpr const char* kUsage =
    "usage: api_bench --tls-dir DIR [--host 127.0.0.1] [--port 6443]\n"
    "                 [--phases create,get,get_gzip,list,steady,fanout] [--pid SERVER_PID]\n"
    "                 [--data-dir DIR] [--label NAME] [--out FILE] [--threads 1]\n"
    "                 [--objects 10000] [--value-bytes 2048] [--concurrency 64] [--get-n 100000]\n"
    "                 [--client lean|beast]\n"
    "                 [--list-runs 10] [--page 500] [--steady-rate 200] [--steady-seconds 30]\n"
    "                 [--steady-base 500] [--watchers 1000] [--fanout-rounds 100]\n"
    "                 [--fanout-value-bytes 64]\n"
    "DIR holds server-ca.crt, client-admin.crt and client-admin.key (skiff: "
    "<data-dir>/server/tls).\n";

std::size_t positive(Args& args, const std::string& name, std::int64_t fallback) {
  return static_cast<std::size_t>(std::max<std::int64_t>(1, args.num(name, fallback)));
}

int run_main(int argc, char** argv) {
  Options o;
  try {
    Args args(argc, argv);
    if (args.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    o.host = args.str("host", o.host);
    o.port = args.str("port", o.port);
    o.tls_dir = args.str("tls-dir", "");
    o.phases = split_list(args.str("phases", "create,get,get_gzip,list,steady,fanout"));
    o.pid = static_cast<int>(args.num("pid", 0));
    o.data_dir = args.str("data-dir", "");
    o.label = args.str("label", "");
    o.out = args.str("out", "");
    o.threads = positive(args, "threads", 1);
    o.objects = positive(args, "objects", 10000);
    o.value_bytes = positive(args, "value-bytes", 2048);
    o.concurrency = positive(args, "concurrency", 64);
    o.get_n = positive(args, "get-n", 100000);
    const std::string client = args.str("client", "lean");
    if (client != "lean" && client != "beast") {
      throw std::runtime_error("--client must be lean or beast");
    }
    o.lean = client == "lean";
    o.list_runs = positive(args, "list-runs", 10);
    o.page = positive(args, "page", 500);
    o.steady_rate = static_cast<double>(positive(args, "steady-rate", 200));
    o.steady_seconds = static_cast<double>(positive(args, "steady-seconds", 30));
    o.steady_base = std::max<std::size_t>(2, positive(args, "steady-base", 500));
    o.watchers = positive(args, "watchers", 1000);
    o.fanout_rounds = positive(args, "fanout-rounds", 100);
    o.fanout_value_bytes = positive(args, "fanout-value-bytes", 64);
    args.reject_unknown();
    if (o.tls_dir.empty()) {
      throw std::invalid_argument("--tls-dir is required");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_bench: %s\n%s", e.what(), kUsage);
    return 2;
  }
  std::string doc;
  try {
    Bench bench(o);
    doc = bench.run().dump() + "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_bench: %s\n", e.what());
    return 1;
  }
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
