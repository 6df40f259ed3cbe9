// SPDX-License-Identifier: Apache-2.0
#include "http_test_util.hpp"

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <zlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace skiff::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

namespace {

void sh(const std::string& cmd) {
  std::string out;
  if (run_command(cmd + " 2>&1", &out) != 0) {
    throw std::runtime_error("command failed: " + cmd + "\n" + out);
  }
}

TestCerts make_certs() {
  static TempDir dir;  // lives for the whole test binary
  TestCerts c;
  c.dir = dir.path().string();
  const std::string d = c.dir + "/";
  auto key = [&](const std::string& name) {
    sh("openssl ecparam -name prime256v1 -genkey -noout -out " + d + name + ".key");
  };
  auto ca = [&](const std::string& name, const std::string& subject) {
    key(name);
    sh("openssl req -x509 -new -key " + d + name + ".key -subj '" + subject + "' -days 2 -out " +
       d + name + ".crt -addext basicConstraints=critical,CA:TRUE" +
       " -addext keyUsage=critical,keyCertSign,cRLSign");
  };
  auto leaf = [&](const std::string& name, const std::string& subject, const std::string& ca_name,
                  const std::string& ext) {
    key(name);
    write_file(d + name + ".ext", ext);
    sh("openssl req -new -key " + d + name + ".key -subj '" + subject + "' -out " + d + name +
       ".csr");
    sh("openssl x509 -req -in " + d + name + ".csr -CA " + d + ca_name + ".crt -CAkey " + d +
       ca_name + ".key -CAcreateserial -days 2 -out " + d + name + ".crt -extfile " + d + name +
       ".ext");
  };
  ca("ca", "/CN=skiff-test-ca");
  ca("rogue-ca", "/CN=rogue-ca");
  leaf("server", "/CN=skiff-apiserver", "ca",
       "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("client", "/O=dev/O=ops/CN=alice", "ca", "extendedKeyUsage=clientAuth\n");
  leaf("rogue", "/O=evil/CN=mallory", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  c.ca_crt = d + "ca.crt";
  c.server_crt = d + "server.crt";
  c.server_key = d + "server.key";
  c.client_crt = d + "client.crt";
  c.client_key = d + "client.key";
  c.rogue_crt = d + "rogue.crt";
  c.rogue_key = d + "rogue.key";
  c.ca_pem = read_file(c.ca_crt);
  c.server_crt_pem = read_file(c.server_crt);
  c.server_key_pem = read_file(c.server_key);
  return c;
}

}  // namespace

const TestCerts& test_certs() {
  static const TestCerts certs = make_certs();
  return certs;
}

apiserver::http::HttpServerOptions plain_options() {
  apiserver::http::HttpServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.linger_timeout = std::chrono::milliseconds(200);
  o.shutdown_grace = std::chrono::seconds(5);
  return o;
}

apiserver::http::HttpServerOptions tls_options() {
  auto o = plain_options();
  const auto& c = test_certs();
  o.cert_chain_pem = c.server_crt_pem;
  o.private_key_pem = c.server_key_pem;
  o.client_ca_pem = c.ca_pem;
  return o;
}

TestServer::TestServer(apiserver::http::HttpServerOptions options,
                       apiserver::http::Handler handler) {
  auto s = apiserver::http::HttpServer::start(std::move(options), std::move(handler));
  if (!s) {
    throw std::runtime_error("server start failed: " + s.error().message);
  }
  server_ = std::move(*s);
  runner_ = std::thread([this] {
    asio::io_context ctx;
    asio::co_spawn(ctx, server_->run(), [this](std::exception_ptr) { stopped_ = true; });
    ctx.run();
  });
}

TestServer::~TestServer() {
  stop();
  if (runner_.joinable()) {
    runner_.join();
  }
}

bool TestServer::stop(std::chrono::milliseconds limit) {
  server_->shutdown();
  if (!eventually([this] { return stopped_.load(); }, limit)) {
    return false;
  }
  if (runner_.joinable()) {
    runner_.join();
  }
  return true;
}

std::optional<std::string> ParsedResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) {
    return std::nullopt;
  }
  return it->second;
}

namespace {
std::string lower(std::string s) {
  for (auto& ch : s) {
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return s;
}
}  // namespace

std::optional<ParsedResponse> take_response(std::string& buffer, bool eof, bool head) {
  const auto end = buffer.find("\r\n\r\n");
  if (end == std::string::npos) {
    return std::nullopt;
  }
  ParsedResponse r;
  std::istringstream head_lines(buffer.substr(0, end));
  std::string line;
  std::getline(head_lines, line);
  // "HTTP/1.1 200 OK\r"
  if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) {
    throw std::runtime_error("bad status line: " + line);
  }
  r.version = line[7] == '0' ? 10 : 11;
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head_lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.erase(0, 1);
    }
    r.headers.emplace(lower(line.substr(0, colon)), value);
  }
  std::size_t pos = end + 4;
  const bool no_body = head || r.status < 200 || r.status == 204 || r.status == 304;
  if (no_body) {
    buffer.erase(0, pos);
    return r;
  }
  if (auto te = r.header("transfer-encoding"); te && lower(*te) == "chunked") {
    r.chunked = true;
    while (true) {
      const auto crlf = buffer.find("\r\n", pos);
      if (crlf == std::string::npos) {
        return std::nullopt;
      }
      const std::size_t size = std::stoul(buffer.substr(pos, crlf - pos), nullptr, 16);
      if (size == 0) {
        if (buffer.size() < crlf + 4) {
          return std::nullopt;
        }
        buffer.erase(0, crlf + 4);  // "0\r\n\r\n" (no trailers)
        return r;
      }
      if (buffer.size() < crlf + 2 + size + 2) {
        return std::nullopt;
      }
      r.body.append(buffer, crlf + 2, size);
      pos = crlf + 2 + size + 2;
    }
  }
  if (auto cl = r.header("content-length")) {
    const std::size_t n = std::stoul(*cl);
    if (buffer.size() < pos + n) {
      return std::nullopt;
    }
    r.body = buffer.substr(pos, n);
    buffer.erase(0, pos + n);
    return r;
  }
  if (!eof) {
    return std::nullopt;
  }
  r.body = buffer.substr(pos);
  buffer.clear();
  return r;
}

RawClient::RawClient(std::uint16_t port, Options options)
    : port_(port), options_(options), ssl_ctx_(asio::ssl::context::tls_client) {
  if (options_.tls) {
    const auto& c = test_certs();
    ssl_ctx_.load_verify_file(c.ca_crt);
    ssl_ctx_.set_verify_mode(asio::ssl::verify_peer);
    if (options_.client_cert) {
      ssl_ctx_.use_certificate_chain_file(c.client_crt);
      ssl_ctx_.use_private_key_file(c.client_key, asio::ssl::context::pem);
    }
    tls_.emplace(ctx_, ssl_ctx_);
  } else {
    plain_.emplace(ctx_);
  }
}

RawClient::~RawClient() {
  close();
}

tcp::socket& RawClient::socket() {
  return tls_ ? tls_->next_layer() : *plain_;
}

namespace {
// Runs the io_context until `done` or the deadline; on a deadline cancels the socket and finishes.
bool run_until(asio::io_context& ctx, tcp::socket& socket, const bool& done,
               std::chrono::steady_clock::time_point deadline) {
  ctx.restart();
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ctx.run_one_until(deadline);
  }
  if (!done) {
    boost::system::error_code ec;
    socket.cancel(ec);
    ctx.restart();
    while (!done) {
      ctx.run_one();
    }
    return false;
  }
  return true;
}
}  // namespace

bool RawClient::connect(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool done = false;
  boost::system::error_code result;
  socket().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_),
                         [&](boost::system::error_code ec) {
                           result = ec;
                           done = true;
                         });
  if (!run_until(ctx_, socket(), done, deadline) || result) {
    return false;
  }
  if (tls_) {
    done = false;
    tls_->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
      result = ec;
      done = true;
    });
    if (!run_until(ctx_, socket(), done, deadline) || result) {
      return false;
    }
  }
  return true;
}

bool RawClient::send(const std::string& bytes, std::chrono::milliseconds limit) {
  bool done = false;
  boost::system::error_code result;
  auto cb = [&](boost::system::error_code ec, std::size_t) {
    result = ec;
    done = true;
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(bytes), cb);
  } else {
    asio::async_write(*plain_, asio::buffer(bytes), cb);
  }
  return run_until(ctx_, socket(), done, std::chrono::steady_clock::now() + limit) && !result;
}

bool RawClient::read_some(std::chrono::steady_clock::time_point deadline) {
  if (closed_) {
    return false;
  }
  char buf[16384];
  bool done = false;
  boost::system::error_code result;
  std::size_t got = 0;
  auto cb = [&](boost::system::error_code ec, std::size_t n) {
    result = ec;
    got = n;
    done = true;
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(buf), cb);
  } else {
    plain_->async_read_some(asio::buffer(buf), cb);
  }
  if (!run_until(ctx_, socket(), done, deadline)) {
    return false;  // timed out
  }
  data_.append(buf, got);
  if (result) {
    closed_ = true;  // EOF, TLS close_notify / truncation, reset
  }
  return true;
}

bool RawClient::read_until(const std::function<bool(const std::string&)>& pred,
                           std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred(data_)) {
    if (closed_ || !read_some(deadline)) {
      return pred(data_);
    }
  }
  return true;
}

bool RawClient::read_until_closed(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!closed_) {
    if (!read_some(deadline)) {
      return false;
    }
  }
  return true;
}

std::optional<ParsedResponse> RawClient::read_response(bool head, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    std::string copy = data_;
    if (auto r = take_response(copy, closed_, head)) {
      data_ = std::move(copy);
      return r;
    }
    if (closed_ || !read_some(deadline)) {
      return std::nullopt;
    }
  }
}

void RawClient::close() {
  boost::system::error_code ec;
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

std::optional<std::string> gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.avail_in != 0) {
    return std::nullopt;
  }
  return out;
}

int curl(const std::string& args, std::string* out) {
  const auto& c = test_certs();
  return run_command("curl -sS --max-time 30 --cacert " + c.ca_crt + " " + args, out);
}

std::string url(std::uint16_t port, const std::string& path, bool tls) {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + path;
}

void Signal::notify() {
  {
    std::lock_guard lock(mutex_);
    set_ = true;
  }
  cv_.notify_all();
}

bool Signal::wait(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, limit, [this] { return set_; });
}

bool Signal::is_set() const {
  std::lock_guard lock(mutex_);
  return set_;
}

}  // namespace skiff::testing
