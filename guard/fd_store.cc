#include "guard/fd_store.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/i18n.h"

namespace nmks {
namespace {

constexpr int kFirstPassedFd = 3;  // LISTEN_FDS start here
constexpr int kMaxPassedFds = 64;

bool Notify(const std::string& message, int fd, std::string* why) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') {
    *why = _("no service manager (NOTIFY_SOCKET is not set)");
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
    *why = _("NOTIFY_SOCKET is not a socket path");
    return false;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);

  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *why = std::strerror(errno);
    return false;
  }
  iovec iov{const_cast<char*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = addr_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  bool sent = sendmsg(s, &msg, MSG_NOSIGNAL) >= 0;
  if (!sent) *why = std::strerror(errno);
  close(s);
  return sent;
}

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

}  // namespace

int TakeKeptSocket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  const char* names = std::getenv("LISTEN_FDNAMES");
  int kept = -1;
  if (pid != nullptr && fds != nullptr && std::atol(pid) == static_cast<long>(getpid())) {
    int n = std::atoi(fds);
    std::vector<std::string> named = Split(names ? names : "", ':');
    for (int i = 0; i < n && i < kMaxPassedFds; ++i) {
      int fd = kFirstPassedFd + i;
      if (fcntl(fd, F_GETFD) < 0) continue;
      if (kept < 0 && static_cast<size_t>(i) < named.size() && named[i] == kOwnerSocketName) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        kept = fd;
      } else {
        close(fd);
      }
    }
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return kept;
}

bool KeepSocket(int fd, std::string* why) {
  std::string name = std::string("FDNAME=") + kOwnerSocketName;
  if (!Notify("FDSTOREREMOVE=1\n" + name, -1, why)) return false;
  return Notify("FDSTORE=1\n" + name, fd, why);
}

}  // namespace nmks
