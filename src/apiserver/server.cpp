// SPDX-License-Identifier: Apache-2.0
#include "skiff/apiserver/server.hpp"

#include <future>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "skiff/base/log.hpp"
#include "skiff/registry/registry.hpp"

#include "api_handler.hpp"
#include "http/server.hpp"
#include "namespace_finalizer.hpp"
#include "status.hpp"

namespace skiff::apiserver {

namespace {

constexpr std::string_view kComponent = "apiserver";

// The HTTP transport's writer seen as the handlers' responder.
class Responder final : public ApiResponder {
 public:
  explicit Responder(http::ResponseWriter& w) : w_(w) {}
  // Plain functions returning the writer's awaitable: no coroutine frame of their own per call.
  boost::asio::awaitable<bool> send(int status, HeaderList headers, std::string body) override {
    return w_.send(status, to_headers(std::move(headers)), std::move(body));
  }
  using ApiResponder::start_stream;
  boost::asio::awaitable<bool> start_stream(int status, HeaderList headers,
                                            bool compressible) override {
    co_return co_await w_.start_stream(status, to_headers(std::move(headers)),
                                       compressible ? http::StreamCoding::kGzipIfAccepted
                                                    : http::StreamCoding::kIdentity);
  }
  boost::asio::awaitable<bool> write_chunk(std::string data) override {
    co_return co_await w_.write_chunk(std::move(data));
  }
  boost::asio::awaitable<void> end_stream() override { std::ignore = co_await w_.end_stream(); }

 private:
  static http::Headers to_headers(HeaderList list) {
    http::Headers h;
    for (auto& [k, v] : list) {
      h.add(std::move(k), std::move(v));
    }
    return h;
  }
  http::ResponseWriter& w_;
};

ApiRequest to_api_request(http::Request& r) {
  ApiRequest a;
  a.method = r.method;  // short (no allocation), and the connection logs it on failure
  a.path = std::move(r.path);
  a.query = std::move(r.query);
  if (auto host = r.headers.get("Host")) {
    a.host = std::string(*host);
  }
  a.headers = r.headers.release();  // the request is the handler's alone: move, not copy
  a.body = std::move(r.body);
  a.remote = std::move(r.remote_address);
  a.authenticated = r.peer.authenticated;
  a.user = std::move(r.peer.user);
  a.groups = std::move(r.peer.groups);
  if (a.authenticated) {
    a.groups.emplace_back("system:authenticated");
  }
  return a;
}

}  // namespace

struct Server::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<http::HttpServer> http;
  std::promise<void> ran;
  std::future<void> ran_future = ran.get_future();
  std::unique_ptr<NamespaceFinalizer> finalizer;
  boost::asio::cancellation_signal finalizer_cancel;
  std::promise<void> finalizer_done;
  std::future<void> finalizer_future = finalizer_done.get_future();
  bool stopped = false;
};

Result<std::unique_ptr<Server>> Server::start(registry::Registry& registry, ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  HandlerOptions ho;
  ho.git_version = options.git_version;
  ho.git_commit = options.git_commit;
  ho.build_date = options.build_date;
  ho.sign_token = options.sign_token;
  ho.verify_token = options.verify_token;
  impl->handler = std::make_unique<ApiHandler>(registry, std::move(ho));

  http::HttpServerOptions hopts;
  hopts.bind_address = options.bind_address;
  hopts.port = static_cast<std::uint16_t>(options.port);
  hopts.cert_chain_pem = options.cert_chain_pem;
  hopts.private_key_pem = options.private_key_pem;
  hopts.client_ca_pem = options.client_ca_pem;
  hopts.error_body = [](const http::ServerError& e) {
    return http::ErrorBody{"application/json",
                           json::serialize(failure_status(e.status, e.reason, e.message))};
  };
  ApiHandler* handler = impl->handler.get();
  auto http = http::HttpServer::start(
      impl->io.get_executor(), std::move(hopts),
      [handler](http::Request& req, http::ResponseWriter& w) -> boost::asio::awaitable<void> {
        ApiRequest request = to_api_request(req);
        Responder responder(w);
        co_await handler->handle(request, responder);
      });
  if (!http) {
    return http.error();
  }
  impl->http = std::move(*http);
  Impl* raw = impl.get();
  boost::asio::co_spawn(impl->io, raw->http->run(), [raw](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error(kComponent, "http server stopped: {}", ex.what());
      }
    }
    raw->ran.set_value();
  });
  raw->finalizer = std::make_unique<NamespaceFinalizer>(registry);
  boost::asio::co_spawn(
      impl->io, raw->finalizer->run(),
      boost::asio::bind_cancellation_slot(raw->finalizer_cancel.slot(), [raw](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log::error(kComponent, "namespace finalizer stopped: {}", ex.what());
          }
        }
        raw->finalizer_done.set_value();
      }));
  for (unsigned i = 0; i < std::max(1u, options.io_threads); ++i) {
    impl->threads.emplace_back([raw] { raw->io.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { shutdown(); }

int Server::port() const { return impl_->http->port(); }

void Server::shutdown() {
  if (impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  boost::asio::post(impl_->io, [raw = impl_.get()] {
    raw->finalizer_cancel.emit(boost::asio::cancellation_type::terminal);
  });
  impl_->http->shutdown();
  impl_->ran_future.wait();
  impl_->finalizer_future.wait();
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    t.join();
  }
  impl_->http.reset();
}

}  // namespace skiff::apiserver
