// SPDX-License-Identifier: Apache-2.0
// HttpServer: binding, the accept loop and the shutdown sequence. Connections are children of one
// TaskGroup; the shutdown is written as the end of serve(): stop accepting, total cancellation,
// grace period, terminal cancellation, wait.
#include "server.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "skiff/async/event.hpp"
#include "skiff/async/task_group.hpp"
#include "skiff/async/timeout.hpp"
#include "skiff/base/log.hpp"

#include "connection.hpp"
#include "tls.hpp"

namespace skiff::apiserver::http {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A connection's strand, over the concrete io_context executor when there is one: on every dispatch
// a strand asks its inner executor whether it may block, and through any_io_executor that query
// allocates its answer (blocking_t is a class type), a dozen times per request.
async::Executor connection_strand(const async::Executor& executor) {
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return asio::make_strand(*io);
  }
  return asio::make_strand(executor);
}
}  // namespace

struct HttpServer::Impl {
  Impl(async::Executor ex, std::unique_ptr<asio::io_context> own)
      : own_context(std::move(own)),
        executor(std::move(ex)),
        strand(asio::make_strand(executor)),
        acceptor(strand) {}

  asio::awaitable<void> serve();
  asio::awaitable<void> accept_loop();

  // Declaration order is destruction order in reverse: the context outlives everything on it.
  std::unique_ptr<asio::io_context> own_context;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  async::Executor executor;
  async::Strand strand;  // the acceptor's
  Tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::shared_ptr<ConnectionContext> context;
  async::Event stop;
  async::Event accept_finished;
  std::atomic<bool> run_started{false};
  async::TaskGroup connections;  // last: its children use everything above
};

namespace {

// Everything start() does before a server object exists: validate, build TLS, bind, listen.
Result<std::unique_ptr<HttpServer::Impl>> make_impl(async::Executor executor,
                                                    std::unique_ptr<asio::io_context> own,
                                                    HttpServerOptions options, Handler handler) {
  if (!handler) {
    return errors::make(Reason::kInvalid, "http server: no handler");
  }
  if (options.cert_chain_pem.empty() != options.private_key_pem.empty()) {
    return errors::make(Reason::kInvalid,
                        "http server: TLS needs both a certificate chain and a private key");
  }
  if (!options.client_ca_pem.empty() && options.cert_chain_pem.empty()) {
    return errors::make(Reason::kInvalid, "http server: a client CA needs TLS");
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    return errors::make(Reason::kInvalid,
                        "http server: invalid bind address \"" + options.bind_address + "\"");
  }
  auto context = std::make_shared<ConnectionContext>();
  if (!options.cert_chain_pem.empty()) {
    auto tls = make_tls_context(options);
    if (!tls) {
      return tls.error();
    }
    context->tls = std::move(*tls);
  }
  if (!options.error_body) {
    options.error_body = [](const ServerError& e) {
      return ErrorBody{"application/json", status_json(e.status, e.reason, e.message)};
    };
  }

  auto impl = std::make_unique<HttpServer::Impl>(std::move(executor), std::move(own));
  const Tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(Tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec && address.is_v6()) {
    // "::" should serve IPv4 clients too; where the OS refuses, it serves IPv6 only.
    boost::system::error_code ignored;
    acceptor.set_option(asio::ip::v6_only(false), ignored);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return errors::unavailable("http server: listen on " + options.bind_address + " port " +
                               std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = acceptor.local_endpoint().port();
  context->options = std::move(options);
  context->handler = std::move(handler);
  impl->context = std::move(context);
  log::info("http", "listening on {} port {} ({})", address.to_string(), impl->port,
            impl->context->tls ? "https" : "http");
  return impl;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options, Handler handler) {
  const unsigned threads = std::max(1u, options.io_threads);
  auto own = std::make_unique<asio::io_context>(static_cast<int>(threads));
  asio::io_context* io_context = own.get();
  auto impl =
      make_impl(io_context->get_executor(), std::move(own), std::move(options), std::move(handler));
  if (!impl) {
    return impl.error();
  }
  (*impl)->work.emplace(io_context->get_executor());
  for (unsigned i = 0; i < threads; ++i) {
    (*impl)->threads.emplace_back([io_context] { io_context->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(*impl)));
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(async::Executor executor,
                                                      HttpServerOptions options, Handler handler) {
  auto impl = make_impl(std::move(executor), nullptr, std::move(options), std::move(handler));
  if (!impl) {
    return impl.error();
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(*impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->stop.set();
  if (impl_->own_context) {
    impl_->work.reset();
    // run() has returned (a precondition), so nothing is left but the idle acceptor: stop the
    // threads.
    impl_->own_context->stop();
    for (auto& t : impl_->threads) {
      t.join();
    }
  }
}

std::uint16_t HttpServer::port() const {
  return impl_->port;
}

bool HttpServer::tls() const {
  return impl_->context->tls != nullptr;
}

std::size_t HttpServer::connection_count() const {
  return impl_->connections.size();
}

void HttpServer::shutdown() {
  impl_->stop.set();
}

asio::awaitable<void> HttpServer::run() {
  if (impl_->run_started.exchange(true)) {
    throw std::logic_error("http server: run() called twice");
  }
  // Hop onto the acceptor's strand; the caller's cancellation follows through co_spawn.
  co_await asio::co_spawn(impl_->strand, impl_->serve(), asio::use_awaitable);
}

asio::awaitable<void> HttpServer::Impl::serve() {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_await asio::this_coro::throw_if_cancelled(false);

  accept_finished.reset();
  asio::co_spawn(strand, accept_loop(), [this](const std::exception_ptr& e) {
    if (e) {
      log::error("http", "accept loop failed");
    }
    accept_finished.set();
  });

  // Serve until shutdown() or until our caller cancels us.
  std::ignore = co_await stop.async_wait(kTuple);
  auto state = co_await asio::this_coro::cancellation_state;
  const bool hard =
      (state.cancelled() & asio::cancellation_type::terminal) != asio::cancellation_type::none;
  log::info("http", "shutting down: {} connection(s) open", connections.size());

  // 1. Stop accepting (the accept loop runs on this strand too).
  boost::system::error_code ec;
  acceptor.close(ec);
  while (!accept_finished.is_set()) {
    std::ignore = co_await accept_finished.async_wait(kTuple);
  }

  // 2. Graceful: idle connections close, complete responses finish, streams end after their
  // handlers were cancelled. 3. After the grace period (or at once on terminal), stop everything.
  if (!hard) {
    connections.cancel(asio::cancellation_type::total);
    auto finished = co_await async::with_timeout(connections.async_wait(asio::use_awaitable),
                                                 context->options.shutdown_grace);
    if (!finished) {
      log::warn("http", "shutdown grace period over: closing {} connection(s)", connections.size());
    }
  }
  connections.cancel(asio::cancellation_type::terminal);
  while (connections.size() > 0) {
    std::ignore = co_await connections.async_wait(kTuple);
  }
  log::info("http", "stopped");
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  while (acceptor.is_open()) {
    // Each connection gets its own strand; its handlers run there.
    Tcp::socket socket(connection_strand(executor));
    auto [ec] = co_await acceptor.async_accept(socket, kTuple);
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) {
        break;
      }
      // Out of descriptors and the like: back off briefly instead of spinning.
      log::warn("http", "accept failed: {}", ec.message());
      asio::steady_timer pause(strand, std::chrono::milliseconds(50));
      std::ignore = co_await pause.async_wait(kTuple);
      continue;
    }
    auto ex = socket.get_executor();
    connections.spawn(ex, serve_connection(std::move(socket), context));
  }
}

}  // namespace skiff::apiserver::http
