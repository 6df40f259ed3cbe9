// SPDX-License-Identifier: Apache-2.0
#include "gzip.hpp"

#include <zlib.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "types.hpp"

namespace skiff::apiserver::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The q-value of one Accept-Encoding element's parameters ("q=0.5"); 1 when absent.
double q_value(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      const std::string v(trim(p.substr(2)));
      char* end = nullptr;
      const double q = std::strtod(v.c_str(), &end);
      return end == v.c_str() ? 0.0 : q;
    }
  }
  return 1.0;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<bool> gzip;
  bool star = false;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semi = element.find(';');
    const std::string_view coding = trim(element.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : q_value(element.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = q > 0;
    } else if (coding == "*") {
      star = q > 0;
    }
  }
  return gzip.value_or(star);
}

namespace {

// Level 1, windowBits 15 + 16: a gzip header and trailer instead of the zlib ones.
void init_gzip(z_stream& zs) {
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
}

}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  init_gzip(zs);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("deflate failed");
  }
  out.resize(produced);
  return out;
}

struct GzipWriter::State {
  z_stream zs{};
  bool done = false;
};

GzipWriter::GzipWriter() : state_(std::make_unique<State>()) { init_gzip(state_->zs); }

GzipWriter::~GzipWriter() {
  if (state_) {
    deflateEnd(&state_->zs);
  }
}

GzipWriter::GzipWriter(GzipWriter&&) noexcept = default;
GzipWriter& GzipWriter::operator=(GzipWriter&& other) noexcept {
  if (this != &other) {
    if (state_) {
      deflateEnd(&state_->zs);
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

namespace {

// Runs deflate over `data` with `flush`, growing `out` as zlib asks for room.
void deflate_into(z_stream& zs, std::string_view data, int flush, std::string& out) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  while (true) {
    const std::size_t used = out.size();
    // Level 1 rarely expands input: a tenth more (and a block header) is room enough per round.
    const std::size_t room = data.size() / 8 + 4096;
    out.resize(used + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&zs, flush);
    out.resize(used + room - zs.avail_out);
    if (rc == Z_STREAM_END) {
      return;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw std::runtime_error("deflate failed");
    }
    // Done when zlib took all input and left output room unused (nothing more pending).
    if (zs.avail_in == 0 && zs.avail_out != 0 && flush == Z_NO_FLUSH) {
      return;
    }
  }
}

}  // namespace

void GzipWriter::write(std::string_view data, std::string& out) {
  if (!state_ || state_->done) {
    throw std::logic_error("GzipWriter::write after finish");
  }
  if (!data.empty()) {
    deflate_into(state_->zs, data, Z_NO_FLUSH, out);
  }
}

void GzipWriter::finish(std::string& out) {
  if (!state_ || state_->done) {
    throw std::logic_error("GzipWriter::finish twice");
  }
  state_->done = true;
  deflate_into(state_->zs, {}, Z_FINISH, out);
}

}  // namespace skiff::apiserver::http
