// SPDX-License-Identifier: Apache-2.0
#include "files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <random>
#include <utility>

#include <sys/stat.h>

namespace skiff::pki::detail {

namespace {

Error io_error(std::string_view action, const std::string& path, int err) {
  return errors::unavailable(std::string(action) + " " + path + ": " +
                             std::error_code(err, std::generic_category()).message());
}

// Closes on scope exit unless released.
class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

private:
  int fd_;
};

Result<void> fsync_directory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return io_error("cannot open directory", dir, errno);
  }
  if (::fsync(fd.get()) != 0) {
    return io_error("cannot sync directory", dir, errno);
  }
  return {};
}

}  // namespace

Result<std::optional<std::string>> read_file_if_exists(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return std::optional<std::string>();
    }
    return io_error("cannot open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return io_error("cannot stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return errors::unavailable(path + " is not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxCredentialFileSize) {
    return errors::make(Reason::kInvalid, path + " is too large to be a certificate or key");
  }
  std::string data;
  std::array<char, 16384> buf{};
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("cannot read", path, errno);
    }
    if (n == 0) {
      break;
    }
    data.append(buf.data(), static_cast<std::size_t>(n));
    if (data.size() > kMaxCredentialFileSize) {
      return errors::make(Reason::kInvalid, path + " is too large to be a certificate or key");
    }
  }
  return std::optional<std::string>(std::move(data));
}

Result<void> make_directories(const std::string& path, mode_t mode) {
  std::filesystem::path target(path);
  std::filesystem::path partial;
  for (const auto& part : target) {
    partial /= part;
    if (::mkdir(partial.c_str(), mode) == 0) {
      // mkdir applies the umask; the caller asked for exactly `mode`.
      if (::chmod(partial.c_str(), mode) != 0) {
        return io_error("cannot set the mode of", partial.string(), errno);
      }
      continue;
    }
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      continue;
    }
    return io_error("cannot create directory", partial.string(), err == EEXIST ? ENOTDIR : err);
  }
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::random_device rd;
  std::string tmp =
      (std::filesystem::path(dir) / ("." + target.filename().string() + ".tmp-" +
                                     std::to_string(::getpid()) + "-" + std::to_string(rd())))
          .string();
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    return io_error("cannot create", tmp, errno);
  }
  auto fail = [&](std::string_view action, int err) {
    ::unlink(tmp.c_str());
    return io_error(action, path, err);
  };
  // open() applied the umask; set exactly the requested bits before any secret is written.
  if (::fchmod(fd.get(), mode) != 0) {
    return fail("cannot set the mode of", errno);
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    return fail("cannot sync", errno);
  }
  if (::close(fd.release()) != 0) {
    return fail("cannot write", errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot replace", errno);
  }
  return fsync_directory(dir);
}

}  // namespace skiff::pki::detail
