#include "cli/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rules/i18n.h"

namespace nmks::cli {
namespace {

constexpr uid_t kNobody = 65534;
constexpr int kTcpWaitMs = 3000;
constexpr int kUdpWaitMs = 300;

bool IsRefusal(int err) {
  return err == EPERM || err == EACCES || err == ECONNREFUSED || err == ECONNRESET;
}
bool IsNoRoute(int err) {
  return err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL || err == ENODEV ||
         err == ENETDOWN;
}

// Runs in the child: returns 0 if the packet got out, else the errno.
int SendOnce(const Probe& p) {
  bool v6 = p.to.family == Address::Family::kIpv6;
  int fd = socket(v6 ? AF_INET6 : AF_INET,
                  (p.protocol == Protocol::kTcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  if (!p.device.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p.device.c_str(),
                                      static_cast<socklen_t>(p.device.size())) < 0) {
    return errno == EPERM ? EINVAL : errno;  // not a verdict of the kill switch
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(p.port);
    std::memcpy(&a->sin6_addr, p.to.bytes.data(), 16);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(p.port);
    std::memcpy(&a->sin_addr, p.to.bytes.data(), 4);
    len = sizeof *a;
  }
  if (p.protocol == Protocol::kUdp) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) return errno;
    const char payload[] = "nm-killswitch verify";
    if (send(fd, payload, sizeof payload, 0) < 0) return errno;
    // A reject answers with ICMP, reported on the next call.
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, kUdpWaitMs) > 0) {
      char buf[64];
      if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno != EAGAIN) return errno;
    }
    return 0;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd pfd{fd, POLLOUT, 0};
  if (poll(&pfd, 1, kTcpWaitMs) <= 0) return 0;  // no answer: the SYN may have left
  int err = 0;
  socklen_t elen = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  return err;
}

}  // namespace

std::string DescribeProbe(const Probe& p) {
  std::string to =
      p.to.family == Address::Family::kIpv6 ? "[" + p.to.ToString() + "]" : p.to.ToString();
  std::string out = std::string(p.protocol == Protocol::kTcp ? "TCP " : "UDP ") + to + ":" +
                    std::to_string(p.port);
  if (!p.device.empty()) out += Format(_(" via %s"), p.device.c_str());
  return out;
}

ProbeResult RunProbe(const Probe& probe) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return {Outcome::kUntested, std::strerror(errno)};
  pid_t pid = fork();
  if (pid < 0) return {Outcome::kUntested, std::strerror(errno)};
  if (pid == 0) {
    close(pipefd[0]);
    int err = 0;
    if (geteuid() == 0 &&
        (setgroups(0, nullptr) < 0 || setgid(kNobody) < 0 || setuid(kNobody) < 0)) {
      err = -1;
    } else {
      err = SendOnce(probe);
    }
    ssize_t unused = write(pipefd[1], &err, sizeof err);
    (void)unused;
    _exit(0);
  }
  close(pipefd[1]);
  int err = -2;
  ssize_t n = read(pipefd[0], &err, sizeof err);
  close(pipefd[0]);
  waitpid(pid, nullptr, 0);
  if (n != sizeof err || err < 0) {
    return {Outcome::kUntested, _("the probe could not run as an unprivileged user")};
  }
  if (err == 0) return {Outcome::kGotOut, _("the kernel sent it")};
  if (IsRefusal(err)) return {Outcome::kRefused, std::strerror(err)};
  if (IsNoRoute(err)) return {Outcome::kNoRoute, std::strerror(err)};
  return {Outcome::kUntested, Format(_("could not test: %s"), std::strerror(err))};
}

}  // namespace nmks::cli
