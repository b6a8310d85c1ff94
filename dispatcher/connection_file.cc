#include "dispatcher/connection_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/i18n.h"

namespace nmks::dispatch {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

struct KeyFileFree {
  void operator()(GKeyFile* k) const { g_key_file_free(k); }
};

// The directory of `dirs` that holds `path` directly, or "".
std::string DirectoryOf(const std::string& path, const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (path.size() <= dir.size() + 1 || path.compare(0, dir.size(), dir) != 0 ||
        path[dir.size()] != '/') {
      continue;
    }
    std::string name = path.substr(dir.size() + 1);
    if (name.find('/') == std::string::npos && name != "." && name != "..") return dir;
  }
  return "";
}

}  // namespace

const std::vector<std::string>& SystemConnectionDirs() {
  static const std::vector<std::string> dirs = {"/etc/NetworkManager/system-connections",
                                                "/run/NetworkManager/system-connections",
                                                "/usr/lib/NetworkManager/system-connections"};
  return dirs;
}

Result<ConnectionPtr> ReadConnectionFile(const std::string& path,
                                         const std::vector<std::string>& dirs, uid_t owner) {
  const std::string dir = DirectoryOf(path, dirs);
  if (dir.empty()) {
    return Status::Error(
        _("CONNECTION_FILENAME is not in a directory NetworkManager keeps "
          "profiles in"));
  }
  Fd file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
  const int fd = file.fd;
  if (fd < 0) {
    return Status::Error(Format(_("cannot read %s: %s"), path.c_str(), std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::Error(Format(_("%s is not a regular file"), path.c_str()));
  }
  if (st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status::Error(Format(
        _("%s is not owned by root or may be written by others: it is not trusted"), path.c_str()));
  }
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::Error(Format(_("cannot read %s: %s"), path.c_str(), std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConnectionFileBytes) {
      return Status::Error(
          Format(_("%s is larger than %zu bytes"), path.c_str(), kMaxConnectionFileBytes));
    }
  }
  std::unique_ptr<GKeyFile, KeyFileFree> keyfile(g_key_file_new());
  GError* error = nullptr;
  NMConnection* connection = nullptr;
  if (g_key_file_load_from_data(keyfile.get(), text.data(), text.size(), G_KEY_FILE_NONE, &error)) {
    connection = nm_keyfile_read(keyfile.get(), dir.c_str(), NM_KEYFILE_HANDLER_FLAGS_NONE, nullptr,
                                 nullptr, &error);
  }
  if (connection == nullptr) {
    std::string why = error ? error->message : "?";
    g_clear_error(&error);
    return Status::Error(Format(_("%s is not a NetworkManager keyfile: %s"), path.c_str(),
                                why.substr(0, 200).c_str()));
  }
  return ConnectionPtr(connection);
}

}  // namespace nmks::dispatch
