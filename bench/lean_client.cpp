// SPDX-License-Identifier: Apache-2.0
#include "lean_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

namespace skiff::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxErrors = 200;
constexpr std::size_t kReadSize = 64 * 1024;

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  if (e == 0) {
    return errno != 0 ? std::strerror(errno) : "connection closed";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool iequal_prefix(std::string_view line, std::string_view lower_name) {
  if (line.size() < lower_name.size()) {
    return false;
  }
  for (std::size_t i = 0; i < lower_name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != lower_name[i]) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
    v.remove_suffix(1);
  }
  return v;
}

// Frames one response from bytes fed in pieces: the head, then a Content-Length or chunked body.
// Parsed bytes leave `in`; the body is kept only when asked.
class ResponseReader {
public:
  explicit ResponseReader(bool keep_body) : keep_body_(keep_body) {}

  /// Parses what it can of `in`. False on a framing error (see error()).
  bool feed(std::string& in) {
    std::size_t pos = 0;
    while (state_ != State::kDone) {
      if (state_ == State::kHead) {
        const auto end = in.find("\r\n\r\n", pos);
        if (end == std::string::npos) {
          break;
        }
        if (!parse_head(std::string_view(in).substr(pos, end - pos))) {
          return false;
        }
        pos = end + 4;
        continue;
      }
      if (state_ == State::kBody) {
        const std::size_t take = std::min(left_, in.size() - pos);
        body(std::string_view(in).substr(pos, take));
        pos += take;
        left_ -= take;
        if (left_ > 0) {
          break;
        }
        state_ = chunked_ ? State::kChunkEnd : State::kDone;
        continue;
      }
      if (state_ == State::kChunkEnd) {
        if (in.size() - pos < 2) {
          break;
        }
        if (in.compare(pos, 2, "\r\n") != 0) {
          error_ = "chunk without CRLF";
          return false;
        }
        pos += 2;
        state_ = State::kChunkSize;
        continue;
      }
      if (state_ == State::kChunkSize) {
        const auto eol = in.find("\r\n", pos);
        if (eol == std::string::npos) {
          break;
        }
        std::string_view line = std::string_view(in).substr(pos, eol - pos);
        line = line.substr(0, line.find(';'));
        std::size_t size = 0;
        if (std::from_chars(line.data(), line.data() + line.size(), size, 16).ec != std::errc()) {
          error_ = "bad chunk size";
          return false;
        }
        pos = eol + 2;
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          left_ = size;
          state_ = State::kBody;
        }
        continue;
      }
      if (state_ == State::kTrailer) {
        const auto eol = in.find("\r\n", pos);
        if (eol == std::string::npos) {
          break;
        }
        state_ = eol == pos ? State::kDone : State::kTrailer;  // an empty line ends the trailer
        pos = eol + 2;
        continue;
      }
    }
    in.erase(0, pos);
    return true;
  }

  bool done() const { return state_ == State::kDone; }
  const std::string& error() const { return error_; }
  LeanReply take() {
    reply_.wire_body = wire_body_;
    return std::move(reply_);
  }

private:
  enum class State { kHead, kBody, kChunkEnd, kChunkSize, kTrailer, kDone };

  bool parse_head(std::string_view head) {
    if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) {
      error_ = "bad status line";
      return false;
    }
    std::from_chars(head.data() + 9, head.data() + 12, reply_.status);
    bool has_length = false;
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
      const std::size_t next = head.find("\r\n", pos + 2);
      const std::string_view line = head.substr(
          pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
      if (iequal_prefix(line, "content-length:")) {
        const std::string_view v = trim(line.substr(15));
        has_length = std::from_chars(v.data(), v.data() + v.size(), left_).ec == std::errc();
      } else if (iequal_prefix(line, "transfer-encoding:")) {
        chunked_ = trim(line.substr(18)) == "chunked";
      } else if (iequal_prefix(line, "content-encoding:")) {
        reply_.gzipped = trim(line.substr(17)) == "gzip";
      } else if (iequal_prefix(line, "connection:") && trim(line.substr(11)) == "close") {
        error_ = "the server closes the connection";
        return false;
      }
      pos = next;
    }
    if (chunked_) {
      state_ = State::kChunkSize;
    } else if (has_length) {
      state_ = left_ > 0 ? State::kBody : State::kDone;
    } else {
      error_ = "response without Content-Length or chunked coding";
      return false;
    }
    return true;
  }

  void body(std::string_view piece) {
    wire_body_ += piece.size();
    if (keep_body_) {
      reply_.body.append(piece);
    }
  }

  bool keep_body_;
  State state_ = State::kHead;
  bool chunked_ = false;
  std::size_t left_ = 0;
  std::size_t wire_body_ = 0;
  LeanReply reply_;
  std::string error_;
};

std::string request_text(const LeanEndpoint& e, const std::string& target,
                         const std::string& accept, bool gzip) {
  return "GET " + target + " HTTP/1.1\r\nHost: " + e.host + ":" + std::to_string(e.port) +
         "\r\nUser-Agent: api_bench\r\nAccept: " + accept + "\r\n" +
         (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
}

// A connected TCP socket with TLS done (blocking), or an error.
struct Link {
  int fd = -1;
  SSL* ssl = nullptr;

  Link() = default;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link() { reset(); }

  void reset() {
    if (ssl != nullptr) {
      SSL_free(ssl);
      ssl = nullptr;
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }

  std::string open(const LeanEndpoint& e) {
    reset();
    ERR_clear_error();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(e.port);
    if (inet_pton(AF_INET, e.host.c_str(), &addr.sin_addr) != 1) {
      return "not an IPv4 address: " + e.host;
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{60, 0};  // a stuck server fails the call instead of hanging the run
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::string err = std::string("connect: ") + std::strerror(errno);
      reset();
      return err;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl = SSL_new(e.tls);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
      std::string err = "TLS handshake: " + ssl_error_text();
      reset();
      return err;
    }
    return {};
  }
};

}  // namespace

// ---- LeanConnection

struct LeanConnection::State {
  LeanEndpoint endpoint;
  Link link;
  std::string in;
};

LeanConnection::LeanConnection(LeanEndpoint endpoint) : s_(std::make_unique<State>()) {
  s_->endpoint = std::move(endpoint);
}

LeanConnection::~LeanConnection() = default;

LeanReply LeanConnection::get(const std::string& target, const std::string& accept, bool gzip) {
  LeanReply failed;
  if (s_->link.ssl == nullptr) {
    if (auto err = s_->link.open(s_->endpoint); !err.empty()) {
      failed.error = err;
      return failed;
    }
    s_->in.clear();
  }
  auto fail = [&](std::string why) {
    s_->link.reset();
    failed.error = std::move(why);
    return failed;
  };
  const std::string req = request_text(s_->endpoint, target, accept, gzip);
  ERR_clear_error();
  if (SSL_write(s_->link.ssl, req.data(), static_cast<int>(req.size())) <= 0) {
    return fail("write: " + ssl_error_text());
  }
  ResponseReader reader(true);
  char buf[kReadSize];
  while (true) {
    if (!reader.feed(s_->in)) {
      return fail(reader.error());
    }
    if (reader.done()) {
      if (!s_->in.empty()) {
        return fail("bytes after the response");
      }
      return reader.take();
    }
    const int n = SSL_read(s_->link.ssl, buf, sizeof buf);
    if (n <= 0) {
      return fail("read: " + ssl_error_text());
    }
    s_->in.append(buf, static_cast<std::size_t>(n));
  }
}

// ---- lean_gets

namespace {

struct Slot {
  std::uint32_t index = 0;  // in the driver's list (epoll's cookie)
  Link link;
  std::string out;  // request bytes SSL_write has not taken yet
  std::string in;
  std::optional<ResponseReader> reader;
  bool want_write = false;
  Clock::time_point started;
};

class Driver {
public:
  explicit Driver(const LeanGetOptions& o) : o_(o) {}

  LeanGetResult run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < o_.connections && result_.errors.empty(); ++i) {
      connect_one();
    }
    const auto start = Clock::now();
    const auto deadline = start + o_.timeout;
    for (auto& s : slots_) {
      send_next(*s);
    }
    epoll_event events[64];
    while (busy_ > 0 && Clock::now() < deadline) {
      const int n = epoll_wait(epoll_, events, 64, 1000);
      for (int i = 0; i < n; ++i) {
        Slot& s = *slots_[events[i].data.u32];
        if ((events[i].events & EPOLLOUT) != 0 && s.want_write) {
          flush(s);
        }
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
          receive(s);
        }
      }
    }
    if (busy_ > 0) {
      error("timed out with " + std::to_string(busy_) + " requests in flight");
    }
    result_.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    slots_.clear();
    ::close(epoll_);
    return std::move(result_);
  }

private:
  void error(std::string e) {
    if (result_.errors.size() < kMaxErrors) {
      result_.errors.push_back(std::move(e));
    }
  }

  void connect_one() {
    auto s = std::make_unique<Slot>();
    if (auto err = s->link.open(o_.endpoint); !err.empty()) {
      error(err);
      return;
    }
    fcntl(s->link.fd, F_SETFL, fcntl(s->link.fd, F_GETFL) | O_NONBLOCK);
    s->index = static_cast<std::uint32_t>(slots_.size());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = s->index;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, s->link.fd, &ev);
    slots_.push_back(std::move(s));
  }

  void send_next(Slot& s) {
    if (next_ >= o_.total || result_.errors.size() >= kMaxErrors) {
      return;
    }
    s.out = request_text(o_.endpoint, o_.target(next_++), "application/json", o_.gzip);
    s.reader.emplace(false);
    ++busy_;
    s.started = Clock::now();
    flush(s);
  }

  void flush(Slot& s) {
    ERR_clear_error();
    const int n = SSL_write(s.link.ssl, s.out.data(), static_cast<int>(s.out.size()));
    if (n > 0) {
      s.out.erase(0, static_cast<std::size_t>(n));
      set_want_write(s, !s.out.empty());
      return;
    }
    const int e = SSL_get_error(s.link.ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
      set_want_write(s, true);
      return;
    }
    fail(s, "write: " + ssl_error_text());
  }

  void set_want_write(Slot& s, bool want) {
    if (s.want_write == want) {
      return;
    }
    s.want_write = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = s.index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, s.link.fd, &ev);
  }

  void receive(Slot& s) {
    char buf[kReadSize];
    while (s.link.ssl != nullptr) {
      ERR_clear_error();
      const int n = SSL_read(s.link.ssl, buf, sizeof buf);
      if (n <= 0) {
        const int e = SSL_get_error(s.link.ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          return;
        }
        fail(s, s.reader ? "read: " + ssl_error_text() : "connection closed while idle");
        return;
      }
      if (!s.reader) {
        fail(s, "bytes without a request");
        return;
      }
      s.in.append(buf, static_cast<std::size_t>(n));
      if (!s.reader->feed(s.in)) {
        fail(s, s.reader->error());
        return;
      }
      if (s.reader->done()) {
        complete(s);
      }
    }
  }

  void complete(Slot& s) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s.started).count();
    LeanReply r = s.reader->take();
    s.reader.reset();
    --busy_;
    if (!s.in.empty()) {
      fail(s, "bytes after the response");
      return;
    }
    if (r.status != o_.want_status) {
      error("status " + std::to_string(r.status));
    } else {
      result_.latencies_ms.push_back(ms);
      result_.body_bytes += r.wire_body;
    }
    send_next(s);
  }

  void fail(Slot& s, std::string why) {
    error(std::move(why));
    if (s.reader) {
      s.reader.reset();
      --busy_;
    }
    epoll_ctl(epoll_, EPOLL_CTL_DEL, s.link.fd, nullptr);
    s.link.reset();
  }

  const LeanGetOptions& o_;
  LeanGetResult result_;
  std::vector<std::unique_ptr<Slot>> slots_;
  int epoll_ = -1;
  std::size_t next_ = 0;
  std::size_t busy_ = 0;
};

}  // namespace

LeanGetResult lean_gets(const LeanGetOptions& options) {
  Driver d(options);
  return d.run();
}

}  // namespace skiff::bench
