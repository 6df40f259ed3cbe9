// SPDX-License-Identifier: Apache-2.0
// One HTTP/1.1 connection, TLS or plain, on Beast. Everything here runs on the connection's strand:
// the request loop (serve), the handler (spawned per request with its own cancellation signal),
// and, while a stream or upgrade is open, a reader that notices a client going away.
//
// Cancellation inside the connection coroutine admits `total` (graceful shutdown: stop reading new
// requests, cancel stream handlers, end their streams) and `terminal` (close now). Request reads
// are aborted by either (serve_read passes both on as terminal); writes admit only terminal (the
// filter of Asio's and Beast's write operations), so a shutdown never cuts a response or a
// terminating chunk in half.
//
// Timeouts of the request loop (request reads, every write): one watchdog timer per connection,
// not a timer raced against each operation (the handshake and the lingering close, once per
// connection, still use async::with_timeout). Each timed read or write sets a deadline; the timer
// is re-armed only when a deadline is earlier than its expiry, so a busy keep-alive connection
// costs no timer operation per request. A deadline that passes cancels the socket's operations,
// which then fail like a broken connection.
#include "connection.hpp"

#include <algorithm>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_cat.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/system_error.hpp>

#include "skiff/async/event.hpp"
#include "skiff/async/timeout.hpp"
#include "skiff/base/log.hpp"

#include "gzip.hpp"
#include "tls.hpp"
#include "url.hpp"

namespace skiff::apiserver::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Tcp = asio::ip::tcp;
using SslStream = asio::ssl::stream<Tcp::socket>;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
constexpr std::size_t kMaxDrainBytes = 4u << 20;  // discarded while lingering before a close

std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// Header text from a handler must not smuggle a line break into the response (response splitting).
bool safe_field_text(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string endpoint_text(const Tcp::endpoint& ep) {
  const auto addr = ep.address();
  if (addr.is_v6()) {
    return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  }
  return addr.to_string() + ":" + std::to_string(ep.port());
}

bool is_operation_aborted(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

std::string exception_text(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

bool has(asio::cancellation_type set, asio::cancellation_type bit) {
  return (set & bit) != asio::cancellation_type::none;
}

using Clock = std::chrono::steady_clock;

// Reads admit every cancellation type and pass it on as terminal: SSL and Beast reads honour only
// terminal, and a graceful shutdown must end a read that waits for the next request.
asio::cancellation_type to_terminal(asio::cancellation_type t) {
  return t != asio::cancellation_type::none ? asio::cancellation_type::terminal
                                            : asio::cancellation_type::none;
}

enum class Phase { kNone, kSent, kStreaming, kStreamEnded, kUpgraded };
enum class ReadOutcome { kRequest, kClose, kAnswered };

template <class Stream>
class Connection final : public ResponseWriter, public UpgradedStream {
public:
  static constexpr bool kTls = std::is_same_v<Stream, SslStream>;

  Connection(Tcp::socket socket, std::shared_ptr<const ConnectionContext> context)
    requires kTls
      : context_(std::move(context)),
        opt_(context_->options),
        stream_(std::move(socket), context_->tls->ssl),
        watchdog_(beast::get_lowest_layer(stream_).get_executor()) {}
  Connection(Tcp::socket socket, std::shared_ptr<const ConnectionContext> context)
    requires(!kTls)
      : context_(std::move(context)),
        opt_(context_->options),
        stream_(std::move(socket)),
        watchdog_(beast::get_lowest_layer(stream_).get_executor()) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override { *alive_ = false; }

  asio::awaitable<void> serve();

  // ResponseWriter
  asio::awaitable<bool> send(int status, Headers headers, std::string body) override;
  using ResponseWriter::start_stream;
  asio::awaitable<bool> start_stream(int status, Headers headers, StreamCoding coding) override;
  asio::awaitable<bool> write_chunk(std::string data) override;
  asio::awaitable<bool> end_stream() override;
  asio::awaitable<UpgradedStream*> upgrade(Headers headers) override;
  bool client_gone() const override { return client_gone_; }
  bool started() const override { return phase_ != Phase::kNone; }

  // UpgradedStream
  asio::awaitable<std::size_t> read_some(std::span<char> buffer) override;
  asio::awaitable<bool> write(std::string data) override;
  void close() override { close_now(); }

private:
  Tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  /// Sets the deadline of the operation about to start (see the file comment); disarm() clears it.
  void arm(std::chrono::milliseconds timeout);
  void disarm() { deadline_ = Clock::time_point::max(); }
  void wait_watchdog();
  void on_watchdog();
  /// Awaits `op`, a read of the request loop, under `timeout`; any cancellation this coroutine
  /// admits reaches it as terminal.
  template <class T>
  asio::awaitable<T> serve_read(asio::awaitable<T> op, std::chrono::milliseconds timeout);

  asio::awaitable<ReadOutcome> read_request(bool first);
  asio::awaitable<ReadOutcome> answer_read_error(error_code ec);
  asio::awaitable<void> handle_request();
  asio::awaitable<void> run_handler();
  asio::awaitable<void> await_handler();
  void on_server_cancel(asio::cancellation_type cancelled);
  void cancel_handler(asio::cancellation_type type);
  asio::awaitable<void> finish_response();
  asio::awaitable<void> send_error(int status, std::string_view reason, std::string message,
                                   bool close);
  asio::awaitable<bool> send_response(int status, Headers headers, std::string body,
                                      bool allow_gzip);
  asio::awaitable<bool> write_terminator();
  void start_reader();
  asio::awaitable<void> read_while_streaming();
  asio::awaitable<void> stop_reader();
  asio::awaitable<void> close_connection();
  asio::awaitable<void> drain();
  void close_now();

  template <class Fields>
  void add_fields(Fields& fields, const Headers& headers);

  /// Awaits the write `make_op()` produces under the write timeout; only `terminal` cancellation
  /// reaches it. False (and the connection closed) on failure.
  template <class MakeOp>
  asio::awaitable<bool> guarded_write(MakeOp make_op);

  std::shared_ptr<const ConnectionContext> context_;
  const HttpServerOptions& opt_;
  Stream stream_;
  asio::any_io_executor strand_;
  beast::flat_buffer buffer_;
  std::string remote_;
  PeerIdentity peer_;

  // The request being served and what has been answered.
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request req_;
  unsigned version_ = 11;
  bool head_request_ = false;
  bool accepts_gzip_ = false;
  bool keep_alive_ = true;
  bool close_delimited_ = false;  // an HTTP/1.0 stream: the body ends when the connection closes
  std::optional<GzipWriter> stream_gzip_;  // a compressed stream's state
  Phase phase_ = Phase::kNone;

  // The watchdog: deadline_ of the timed operation in flight, expiry_ of the timer's pending wait
  // (max: none).
  asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point expiry_ = Clock::time_point::max();
  // A watchdog handler may run after the connection is gone (the timer's last wait is cancelled,
  // not awaited): it looks here first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // Connection health and shutdown.
  bool broken_ = false;       // a write failed or the socket was closed: nothing more can be sent
  bool client_gone_ = false;  // the client closed its side or stopped reading
  bool draining_ = false;     // the server shuts down: this is the last response
  bool hard_stop_ = false;    // terminal cancellation: everything stops now

  // The handler of the current request.
  asio::cancellation_signal handler_signal_;
  async::Event handler_done_;
  std::exception_ptr handler_error_;
  bool handler_running_ = false;
  bool handler_cancelled_ = false;
  bool total_sent_ = false;

  // The reader that runs while a stream is open.
  asio::cancellation_signal reader_signal_;
  async::Event reader_done_;
  bool reader_running_ = false;
  bool reader_stop_ = false;
};

template <class Stream>
asio::awaitable<void> Connection<Stream>::serve() {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_await asio::this_coro::throw_if_cancelled(false);
  strand_ = co_await asio::this_coro::executor;
  {
    error_code ec;
    const auto ep = socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = endpoint_text(ep);
    }
  }
  if constexpr (kTls) {
    auto r = co_await async::with_timeout(
        async::terminal_on_cancel(stream_.async_handshake(asio::ssl::stream_base::server, kTuple)),
        opt_.header_timeout);
    if (!r.has_value() || std::get<0>(*r)) {
      log::debug("http", "tls handshake with {} failed: {}", remote_,
                 r.has_value() ? std::get<0>(*r).message() : r.error().message);
      close_now();
      co_return;
    }
    peer_ = peer_identity(stream_.native_handle());
  }
  bool first = true;
  while (true) {
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      draining_ = true;
    }
    if (draining_ || broken_) {
      break;
    }
    const auto outcome = co_await read_request(first);
    first = false;
    if (outcome != ReadOutcome::kRequest) {
      break;
    }
    co_await handle_request();
    if (!keep_alive_ || broken_) {
      break;
    }
  }
  co_await close_connection();
}

template <class Stream>
asio::awaitable<ReadOutcome> Connection<Stream>::read_request(bool first) {
  phase_ = Phase::kNone;
  head_request_ = false;
  accepts_gzip_ = false;
  close_delimited_ = false;
  stream_gzip_.reset();
  keep_alive_ = false;
  version_ = 11;

  // Between requests the idle timeout applies; the header timeout starts with the first byte, so a
  // client dribbling a request head (slowloris) is cut off after header_timeout.
  if (buffer_.size() == 0) {
    auto [ec, n] = co_await serve_read(stream_.async_read_some(buffer_.prepare(kReadChunk), kTuple),
                                       first ? opt_.header_timeout : opt_.idle_timeout);
    if (ec) {
      co_return ReadOutcome::kClose;  // idle timeout, shutdown, or the client closed
    }
    buffer_.commit(n);
  }

  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(opt_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(opt_.max_body_bytes);
  // Usually the whole request is in the buffer already: parse it here, head and body, and read
  // from the socket only for what is missing.
  parser_->eager(true);
  {
    error_code ec;
    const auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec && ec != bhttp::error::need_more) {
      co_return co_await answer_read_error(ec);
    }
  }
  if (!parser_->is_header_done()) {
    auto [ec, n] = co_await serve_read(
        bhttp::async_read_header(stream_, buffer_, *parser_, kTuple), opt_.header_timeout);
    if (ec) {
      co_return co_await answer_read_error(ec);
    }
  }
  auto& msg = parser_->get();
  version_ = msg.version() == 10 ? 10 : 11;
  keep_alive_ = msg.keep_alive();

  if (!parser_->is_done()) {
    if (msg.version() >= 11 && iequals(msg[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      if (!co_await guarded_write([&] { return bhttp::async_write(stream_, cont, kTuple); })) {
        co_return ReadOutcome::kClose;
      }
    }
    auto [ec, n] = co_await serve_read(bhttp::async_read(stream_, buffer_, *parser_, kTuple),
                                       opt_.body_timeout);
    if (ec) {
      co_return co_await answer_read_error(ec);
    }
  }

  req_ = Request{};
  req_.method = std::string(msg.method_string());
  req_.target = std::string(msg.target());
  req_.version = version_;
  std::string accept_encoding;
  for (const auto& f : msg) {
    req_.headers.add(std::string(f.name_string()), std::string(f.value()));
    if (f.name() == bhttp::field::accept_encoding) {
      accept_encoding.append(f.value()).append(",");
    }
  }
  req_.body = std::move(msg.body());
  req_.remote_address = remote_;
  req_.tls = kTls;
  req_.peer = peer_;
  head_request_ = msg.method() == bhttp::verb::head;
  accepts_gzip_ = accepts_gzip(accept_encoding);
  parser_.reset();

  auto target = parse_target(req_.target);
  if (!target) {
    co_await send_error(400, "BadRequest", target.error().message, true);
    co_return ReadOutcome::kAnswered;
  }
  req_.raw_path = std::move(target->raw_path);
  req_.path = std::move(target->path);
  req_.query = std::move(target->query);
  co_return ReadOutcome::kRequest;
}

template <class Stream>
asio::awaitable<ReadOutcome> Connection<Stream>::answer_read_error(error_code ec) {
  if (parser_) {
    const auto v = parser_->get().version();
    version_ = v == 10 ? 10 : 11;
  }
  if (ec == bhttp::error::header_limit) {
    co_await send_error(431, "RequestHeaderFieldsTooLarge", "request header fields too large",
                        true);
    co_return ReadOutcome::kAnswered;
  }
  if (ec == bhttp::error::body_limit) {
    // Upstream's wording (limitedReadBody): kubectl prints it after "Error from server".
    std::string message =
        "Request entity too large: limit is " + std::to_string(opt_.max_body_bytes);
    co_await send_error(413, "RequestEntityTooLarge", message, true);
    co_return ReadOutcome::kAnswered;
  }
  // end_of_stream: closed between requests; partial_message: closed mid-request. Neither gets an
  // answer; any other parser error is a malformed request.
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    co_await send_error(400, "BadRequest", "malformed HTTP request: " + ec.message(), true);
    co_return ReadOutcome::kAnswered;
  }
  co_return ReadOutcome::kClose;
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::handle_request() {
  handler_error_ = nullptr;
  handler_cancelled_ = false;
  total_sent_ = false;
  handler_done_.reset();
  handler_running_ = true;
  // The handler runs as its own coroutine on this strand so it can be cancelled on its own (client
  // gone, shutdown) while this coroutine decides what the cancellation means for the connection.
  asio::co_spawn(
      strand_, run_handler(),
      asio::bind_cancellation_slot(handler_signal_.slot(), [this](const std::exception_ptr&) {
        handler_running_ = false;
        handler_done_.set();
      }));
  co_await await_handler();
  if (reader_running_) {
    co_await stop_reader();
  }
  // A complete response sent and no failure, the common case, needs nothing awaited.
  if (handler_error_ || phase_ != Phase::kSent) {
    co_await finish_response();
  }
  if (phase_ == Phase::kUpgraded || close_delimited_ || draining_ || hard_stop_) {
    keep_alive_ = false;
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::run_handler() {
  // Admit total cancellation: that is how a graceful shutdown asks a watch to finish.
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  try {
    co_await context_->handler(req_, *this);
  } catch (...) {
    handler_error_ = std::current_exception();
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::await_handler() {
  while (!handler_done_.is_set()) {
    auto [ec] = co_await handler_done_.async_wait(kTuple);
    if (!ec) {
      break;
    }
    // Our own wait was cancelled: the server is shutting down.
    auto state = co_await asio::this_coro::cancellation_state;
    on_server_cancel(state.cancelled());
  }
}

template <class Stream>
void Connection<Stream>::on_server_cancel(asio::cancellation_type cancelled) {
  draining_ = true;
  if (has(cancelled, asio::cancellation_type::terminal)) {
    if (!hard_stop_) {
      hard_stop_ = true;
      cancel_handler(asio::cancellation_type::terminal);
      close_now();
    }
  } else if (phase_ == Phase::kStreaming || phase_ == Phase::kUpgraded) {
    if (!total_sent_) {
      total_sent_ = true;
      cancel_handler(asio::cancellation_type::total);
    }
  }
  // Otherwise a complete response is in progress: let it finish; it goes out with Connection:
  // close.
}

template <class Stream>
void Connection<Stream>::cancel_handler(asio::cancellation_type type) {
  if (handler_running_) {
    handler_cancelled_ = true;
    handler_signal_.emit(type);
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::finish_response() {
  if (handler_error_) {
    const bool cancelled = handler_cancelled_ && is_operation_aborted(handler_error_);
    const std::string what = exception_text(handler_error_);
    if (!cancelled) {
      log::warn("http", "handler failed for {} {}: {}", req_.method, req_.target, what);
    }
    if (phase_ == Phase::kNone && !broken_ && !hard_stop_) {
      co_await send_error(500, "InternalError", "Internal error occurred: " + what, false);
    } else if (phase_ == Phase::kStreaming && !cancelled) {
      // A stream cut off by a handler failure must not look complete to the client.
      broken_ = true;
      close_now();
    }
  } else if (phase_ == Phase::kNone && !broken_ && !hard_stop_) {
    log::warn("http", "handler sent no response for {} {}", req_.method, req_.target);
    co_await send_error(500, "InternalError",
                        "Internal error occurred: the handler did not send a response", false);
  }
  if (phase_ == Phase::kStreaming && !broken_ && !hard_stop_) {
    co_await write_terminator();
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::send_error(int status, std::string_view reason,
                                                     std::string message, bool close) {
  if (close) {
    keep_alive_ = false;
  }
  ErrorBody eb = opt_.error_body(ServerError{status, reason, message});
  Headers headers{{"Content-Type", std::move(eb.content_type)}};
  std::ignore = co_await send_response(status, std::move(headers), std::move(eb.body), false);
}

template <class Stream>
template <class Fields>
void Connection<Stream>::add_fields(Fields& fields, const Headers& headers) {
  for (const auto& [name, value] : headers) {
    // The server owns framing and connection management.
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection")) {
      continue;
    }
    if (name.empty() || !safe_field_text(name) || !safe_field_text(value)) {
      log::warn("http", "dropping response header with a line break or NUL: {}", name);
      continue;
    }
    fields.insert(name, value);
  }
  if (fields.find(bhttp::field::date) == fields.end()) {
    fields.set(bhttp::field::date, http_date());
  }
}

template <class Stream>
template <class MakeOp>
asio::awaitable<bool> Connection<Stream>::guarded_write(MakeOp make_op) {
  if (broken_) {
    co_return false;
  }
  // Awaited in place: the write operations' own filters admit only terminal cancellation, which is
  // exactly the shield against a graceful shutdown's total cancellation.
  arm(opt_.write_timeout);
  auto [ec, n] = co_await make_op();
  disarm();
  if (ec) {
    broken_ = true;
    client_gone_ = true;
    close_now();
    co_return false;
  }
  co_return true;
}

template <class Stream>
void Connection<Stream>::arm(std::chrono::milliseconds timeout) {
  deadline_ = Clock::now() + timeout;
  if (deadline_ >= expiry_) {
    return;  // the timer wakes up earlier and looks again
  }
  const bool idle = expiry_ == Clock::time_point::max();
  expiry_ = deadline_;
  watchdog_.expires_at(expiry_);  // a pending wait ends with operation_aborted and is renewed
  if (idle) {
    wait_watchdog();
  }
}

template <class Stream>
void Connection<Stream>::wait_watchdog() {
  watchdog_.async_wait([this, alive = alive_](error_code) {
    if (*alive) {
      on_watchdog();  // expired or re-armed: either way the deadline decides
    }
  });
}

template <class Stream>
void Connection<Stream>::on_watchdog() {
  if (deadline_ <= Clock::now()) {
    deadline_ = Clock::time_point::max();
    error_code ignored;
    socket().cancel(ignored);  // the timed operation fails like a broken connection
  }
  expiry_ = deadline_;
  if (expiry_ == Clock::time_point::max()) {
    return;  // nothing timed in flight: the next arm() starts the timer again
  }
  watchdog_.expires_at(expiry_);
  wait_watchdog();
}

template <class Stream>
template <class T>
asio::awaitable<T> Connection<Stream>::serve_read(asio::awaitable<T> op,
                                                  std::chrono::milliseconds timeout) {
  // Resetting the state forgets a cancellation that came while nothing was awaited: keep it.
  auto before = co_await asio::this_coro::cancellation_state;
  if (before.cancelled() != asio::cancellation_type::none) {
    draining_ = true;
  }
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation(),
                                                     to_terminal);
  arm(timeout);
  T result = co_await std::move(op);
  disarm();
  auto after = co_await asio::this_coro::cancellation_state;
  if (after.cancelled() != asio::cancellation_type::none) {
    draining_ = true;
  }
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_return result;
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::send(int status, Headers headers, std::string body) {
  if (phase_ != Phase::kNone) {
    throw std::logic_error("http: send() after the response was started");
  }
  return send_response(status, std::move(headers), std::move(body), true);  // no frame of its own
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::send_response(int status, Headers headers,
                                                        std::string body, bool allow_gzip) {
  phase_ = Phase::kSent;
  if (broken_) {
    co_return false;
  }
  const bool no_body = status < 200 || status == 204 || status == 304;
  if (no_body) {
    body.clear();
  }
  if (allow_gzip && accepts_gzip_ && !no_body && body.size() > opt_.gzip_min_bytes &&
      !headers.contains("Content-Encoding")) {
    body = gzip_compress(body);
    headers.add("Content-Encoding", "gzip");
    headers.add("Vary", "Accept-Encoding");
  }
  bhttp::response<bhttp::string_body> res;
  res.version(version_);
  res.result(static_cast<unsigned>(status));
  add_fields(res, headers);
  res.keep_alive(keep_alive_ && !draining_);
  if (!no_body) {
    res.content_length(body.size());
  }
  if (head_request_ || no_body) {
    bhttp::response_serializer<bhttp::string_body> sr{res};
    co_return co_await guarded_write(
        [&] { return bhttp::async_write_header(stream_, sr, kTuple); });
  }
  res.body() = std::move(body);
  co_return co_await guarded_write([&] { return bhttp::async_write(stream_, res, kTuple); });
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::start_stream(int status, Headers headers,
                                                       StreamCoding coding) {
  if (phase_ != Phase::kNone) {
    throw std::logic_error("http: start_stream() after the response was started");
  }
  phase_ = Phase::kStreaming;
  if (broken_) {
    co_return false;
  }
  if (coding == StreamCoding::kGzipIfAccepted && accepts_gzip_ && !head_request_ &&
      !headers.contains("Content-Encoding")) {
    stream_gzip_.emplace();
    headers.add("Content-Encoding", "gzip");
    headers.add("Vary", "Accept-Encoding");
  }
  bhttp::response<bhttp::empty_body> res;
  res.version(version_);
  res.result(static_cast<unsigned>(status));
  add_fields(res, headers);
  if (version_ >= 11) {
    res.chunked(true);
    res.keep_alive(keep_alive_ && !draining_);
  } else {
    // HTTP/1.0 has no chunked coding: the body runs until the connection closes.
    close_delimited_ = true;
    keep_alive_ = false;
    res.keep_alive(false);
  }
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  if (!co_await guarded_write([&] { return bhttp::async_write_header(stream_, sr, kTuple); })) {
    co_return false;
  }
  start_reader();
  if (draining_ && !hard_stop_ && !total_sent_) {
    // The shutdown began while this handler was still preparing its stream.
    total_sent_ = true;
    cancel_handler(asio::cancellation_type::total);
  }
  co_return true;
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::write_chunk(std::string data) {
  if (phase_ != Phase::kStreaming) {
    throw std::logic_error("http: write_chunk() outside a stream");
  }
  if (broken_ || client_gone_) {
    co_return false;
  }
  if (stream_gzip_) {
    std::string packed;
    stream_gzip_->write(data, packed);
    data = std::move(packed);
  }
  if (data.empty()) {
    co_return true;
  }
  if (close_delimited_) {
    co_return co_await guarded_write(
        [&] { return asio::async_write(stream_, asio::buffer(data), kTuple); });
  }
  co_return co_await guarded_write(
      [&] { return asio::async_write(stream_, bhttp::make_chunk(asio::buffer(data)), kTuple); });
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::end_stream() {
  if (phase_ == Phase::kStreamEnded) {
    co_return !broken_;
  }
  if (phase_ != Phase::kStreaming) {
    throw std::logic_error("http: end_stream() outside a stream");
  }
  co_return co_await write_terminator();
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::write_terminator() {
  phase_ = Phase::kStreamEnded;
  if (broken_) {
    co_return false;
  }
  std::string tail;
  if (stream_gzip_) {
    stream_gzip_->finish(tail);
    stream_gzip_.reset();
  }
  if (close_delimited_) {
    if (tail.empty()) {
      co_return true;  // closing the connection ends the body
    }
    co_return co_await guarded_write(
        [&] { return asio::async_write(stream_, asio::buffer(tail), kTuple); });
  }
  if (tail.empty()) {
    co_return co_await guarded_write(
        [&] { return asio::async_write(stream_, bhttp::make_chunk_last(), kTuple); });
  }
  // The last piece and the terminator in one write.
  co_return co_await guarded_write([&] {
    return asio::async_write(stream_,
                             beast::buffers_cat(bhttp::make_chunk(asio::buffer(tail)),
                                                bhttp::make_chunk_last()),
                             kTuple);
  });
}

template <class Stream>
asio::awaitable<UpgradedStream*> Connection<Stream>::upgrade(Headers headers) {
  if (phase_ != Phase::kNone) {
    throw std::logic_error("http: upgrade() after the response was started");
  }
  phase_ = Phase::kUpgraded;
  keep_alive_ = false;
  if (broken_) {
    co_return nullptr;
  }
  bhttp::response<bhttp::empty_body> res;
  res.version(version_);
  res.result(bhttp::status::switching_protocols);
  for (const auto& [name, value] : headers) {
    if (!name.empty() && safe_field_text(name) && safe_field_text(value)) {
      res.insert(name, value);  // Connection: Upgrade is the handler's to send here
    }
  }
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  if (!co_await guarded_write([&] { return bhttp::async_write_header(stream_, sr, kTuple); })) {
    co_return nullptr;
  }
  if (draining_ && !hard_stop_ && !total_sent_) {
    total_sent_ = true;
    cancel_handler(asio::cancellation_type::total);
  }
  co_return static_cast<UpgradedStream*>(this);
}

template <class Stream>
asio::awaitable<std::size_t> Connection<Stream>::read_some(std::span<char> buffer) {
  if (buffer.empty()) {
    co_return 0;
  }
  if (buffer_.size() > 0) {
    // Bytes that arrived together with the upgrade request.
    const auto n = asio::buffer_copy(asio::buffer(buffer.data(), buffer.size()), buffer_.data());
    buffer_.consume(n);
    co_return n;
  }
  // terminal_on_cancel: a graceful shutdown (total) must end an idle upgraded stream too, and the
  // SSL read honours only terminal cancellation.
  auto [ec, n] = co_await async::terminal_on_cancel(
      stream_.async_read_some(asio::buffer(buffer.data(), buffer.size()), kTuple));
  if (ec) {
    if (ec != asio::error::operation_aborted) {
      client_gone_ = true;
    }
    co_return 0;
  }
  co_return n;
}

template <class Stream>
asio::awaitable<bool> Connection<Stream>::write(std::string data) {
  co_return co_await guarded_write(
      [&] { return asio::async_write(stream_, asio::buffer(data), kTuple); });
}

template <class Stream>
void Connection<Stream>::start_reader() {
  reader_done_.reset();
  reader_running_ = true;
  reader_stop_ = false;
  asio::co_spawn(
      strand_, read_while_streaming(),
      asio::bind_cancellation_slot(reader_signal_.slot(), [this](const std::exception_ptr&) {
        reader_running_ = false;
        reader_done_.set();
      }));
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::read_while_streaming() {
  // A watch may idle for minutes: only a pending read tells us at once that the client closed. What
  // arrives meanwhile (a pipelined request) stays in the buffer for the request loop.
  while (buffer_.size() < opt_.max_header_bytes) {
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kTuple);
    if (ec) {
      if (!reader_stop_) {
        client_gone_ = true;
        cancel_handler(asio::cancellation_type::terminal);
      }
      co_return;
    }
    buffer_.commit(n);
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::stop_reader() {
  if (!reader_running_) {
    co_return;
  }
  reader_stop_ = true;
  reader_signal_.emit(asio::cancellation_type::terminal);
  while (!reader_done_.is_set()) {
    std::ignore = co_await reader_done_.async_wait(kTuple);
  }
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::close_connection() {
  disarm();  // the cancelled wait then ends the watchdog
  watchdog_.cancel();
  if (!broken_ && !hard_stop_ && socket().is_open()) {
    // Lingering close: say goodbye (TLS close_notify), half-close, and read what the client still
    // sends for a moment, so a response followed by a close is not destroyed by a TCP reset.
    if constexpr (kTls) {
      std::ignore =
          co_await async::with_timeout(stream_.async_shutdown(kTuple), opt_.linger_timeout);
    }
    error_code ec;
    socket().shutdown(Tcp::socket::shutdown_send, ec);
    if (!ec) {
      std::ignore = co_await async::with_timeout(drain(), opt_.linger_timeout);
    }
  }
  close_now();
}

template <class Stream>
asio::awaitable<void> Connection<Stream>::drain() {
  char discard[4096];
  std::size_t total = 0;
  while (total < kMaxDrainBytes) {
    auto [ec, n] = co_await socket().async_read_some(asio::buffer(discard), kTuple);
    if (ec) {
      co_return;
    }
    total += n;
  }
}

template <class Stream>
void Connection<Stream>::close_now() {
  broken_ = true;
  error_code ec;
  socket().shutdown(Tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

}  // namespace

asio::awaitable<void> serve_connection(Tcp::socket socket,
                                       std::shared_ptr<const ConnectionContext> context) {
  try {
    error_code ec;
    // Chunks of a watch must leave at once, not wait for Nagle's algorithm.
    socket.set_option(Tcp::no_delay(true), ec);
    if (context->tls) {
      Connection<SslStream> connection(std::move(socket), context);
      co_await connection.serve();
    } else {
      Connection<Tcp::socket> connection(std::move(socket), context);
      co_await connection.serve();
    }
  } catch (const std::exception& e) {
    log::error("http", "connection failed: {}", e.what());
  } catch (...) {
    log::error("http", "connection failed with a non-standard exception");
  }
}

}  // namespace skiff::apiserver::http
