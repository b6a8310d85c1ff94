#include "guard/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/i18n.h"

namespace nmks {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return Status::Ok();
  if (Status s = MakeDirs(DirName(dir)); !s.ok()) return s;
  if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
    return Status::Error(
        Format(_("cannot create directory %s: %s"), dir.c_str(), std::strerror(errno)));
  }
  return Status::Ok();
}

void SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const std::string dir = DirName(path);
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  std::string tmp = path + ".XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    return Status::Error(Format(_("cannot write %s: %s"), path.c_str(), std::strerror(errno)));
  }
  auto fail = [&](int err) {
    close(fd);
    unlink(tmp.c_str());
    return Status::Error(Format(_("cannot write %s: %s"), path.c_str(), std::strerror(err)));
  };
  if (fchmod(fd, mode) < 0) return fail(errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) < 0) return fail(errno);
  if (close(fd) < 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error(Format(_("cannot write %s: %s"), path.c_str(), std::strerror(err)));
  }
  if (rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::Error(Format(_("cannot write %s: %s"), path.c_str(), std::strerror(err)));
  }
  SyncDir(dir);
  return Status::Ok();
}

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes, int* errno_out) {
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer;
  // anything but a regular file is refused below without reading it.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (errno_out) *errno_out = err;
    return Status::Error(Format(_("cannot read %s: %s"), path.c_str(), std::strerror(err)));
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    if (errno_out) *errno_out = EINVAL;
    return Status::Error(Format(_("%s is not a regular file"), path.c_str()));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    close(fd);
    if (errno_out) *errno_out = EFBIG;
    return Status::Error(Format(_("%s is larger than %zu bytes"), path.c_str(), max_bytes));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      if (errno_out) *errno_out = err;
      return Status::Error(Format(_("cannot read %s: %s"), path.c_str(), std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      close(fd);
      if (errno_out) *errno_out = EFBIG;
      return Status::Error(Format(_("%s is larger than %zu bytes"), path.c_str(), max_bytes));
    }
  }
  close(fd);
  return out;
}

Status RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) < 0 && errno != ENOENT) {
    return Status::Error(Format(_("cannot remove %s: %s"), path.c_str(), std::strerror(errno)));
  }
  SyncDir(DirName(path));
  return Status::Ok();
}

}  // namespace nmks
