#include "cli/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/i18n.h"

namespace nmks::cli {
namespace {

constexpr uid_t kNobody = 65534;
constexpr int kTcpWaitMs = 3000;
constexpr int kUdpWaitMs = 300;

bool IsNoRoute(int err) {
  return err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL || err == ENODEV ||
         err == ENETDOWN;
}

// What the child reports: whether a packet may have left, and the errno.
struct Report {
  int sent = 0;
  int error = 0;
};

// Runs in the child. An error before any packet (socket setup, connect of
// a UDP socket, a send the output path refused) is reported as not sent.
Report SendOnce(const Probe& p) {
  bool v6 = p.to.family == Address::Family::kIpv6;
  int fd = socket(v6 ? AF_INET6 : AF_INET,
                  (p.protocol == Protocol::kTcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return {0, errno};
  if (!p.device.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p.device.c_str(),
                                      static_cast<socklen_t>(p.device.size())) < 0) {
    return {0, errno == EPERM ? EINVAL : errno};  // not a verdict of the kill switch
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
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) return {0, errno};
    const char payload[] = "nm-killswitch verify";
    if (send(fd, payload, sizeof payload, 0) < 0) return {0, errno};
    // An ICMP error (from our table or from the network) comes on the next call.
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, kUdpWaitMs) > 0) {
      char buf[64];
      if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno != EAGAIN) return {1, errno};
    }
    return {1, 0};
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return {1, 0};
  if (errno != EINPROGRESS) return {0, errno};
  pollfd pfd{fd, POLLOUT, 0};
  if (poll(&pfd, 1, kTcpWaitMs) <= 0) return {1, 0};  // no answer: the SYN may have left
  int err = 0;
  socklen_t elen = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  return {1, err};
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

Attempt RunProbe(const Probe& probe) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return {};
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return {};
  }
  if (pid == 0) {
    close(pipefd[0]);
    Report report{0, -1};
    if (geteuid() != 0 ||
        (setgroups(0, nullptr) == 0 && setgid(kNobody) == 0 && setuid(kNobody) == 0)) {
      report = SendOnce(probe);
    }
    ssize_t unused = write(pipefd[1], &report, sizeof report);
    (void)unused;
    _exit(0);
  }
  close(pipefd[1]);
  Report report{0, -1};
  ssize_t n = read(pipefd[0], &report, sizeof report);
  close(pipefd[0]);
  waitpid(pid, nullptr, 0);
  if (n != sizeof report || report.error < 0) return {};
  return {true, report.sent != 0, report.error};
}

Evidence CountersMoved(const Probe& probe, const StopCounts& before, const StopCounts& after) {
  // DNS is stopped by its own rule, IPv6 (when the tunnel carries none) by
  // its rule, everything else by the last one.
  auto expected = [&probe](Stop s) {
    if (s == Stop::kIpv6) return probe.to.family == Address::Family::kIpv6;
    return s == (probe.port == 53 ? Stop::kDns : Stop::kBlocked);
  };
  // One datagram; a SYN and its retransmissions while the probe waited.
  const uint64_t most = probe.protocol == Protocol::kTcp ? 3 : 1;
  uint64_t ours = 0, others = 0;
  for (const auto& [stop, n] : after) {
    auto it = before.find(stop);
    uint64_t delta = n - (it == before.end() ? 0 : std::min(it->second, n));
    (expected(stop) ? ours : others) += delta;
  }
  if (ours == 0 && others == 0) return Evidence::kNone;
  if (others == 0 && ours <= most) return Evidence::kClean;
  return Evidence::kCrowded;
}

ProbeResult Judge(const Attempt& a, Evidence evidence) {
  if (!a.ran) return {Outcome::kUntested, _("the probe could not run as an unprivileged user")};
  const std::string why = a.error ? std::strerror(a.error) : "";
  const bool refused_here = !a.sent && (a.error == EPERM || a.error == EACCES);
  if (refused_here && evidence == Evidence::kCrowded) {
    // Refused before it was sent: it did not leave, whoever else was
    // stopped meanwhile, and the kill switch's counters went up.
    return {Outcome::kStopped,
            Format(_("%s, before it was sent; the kill switch's counters went up"), why.c_str())};
  }
  if (evidence == Evidence::kCrowded) {
    return {Outcome::kUntested,
            _("other programs' packets were stopped at the same moment, so the kill switch's "
              "counters prove nothing about this probe; run verify again")};
  }
  if (evidence == Evidence::kClean) {
    if (a.error == 0) return {Outcome::kStopped, _("dropped: the kill switch's counters went up")};
    return {Outcome::kStopped, Format(_("%s: the kill switch's counters went up"), why.c_str())};
  }
  if (!a.sent) {
    if (IsNoRoute(a.error)) {
      return {Outcome::kNoRoute, Format(_("%s, before any packet was sent"), why.c_str())};
    }
    if (refused_here) {
      return {Outcome::kUntested,
              Format(_("%s: stopped on this machine, but not by the kill switch (its counters "
                       "did not move)"),
                     why.c_str())};
    }
    return {Outcome::kUntested, Format(_("could not test: %s"), why.c_str())};
  }
  if (a.error == 0) {
    return {Outcome::kGotOut,
            _("sent, and the kill switch's counters did not move: it may have left this machine")};
  }
  return {Outcome::kGotOut,
          Format(_("answered with \"%s\", and the kill switch's counters did not move: the "
                   "answer came from the network, so the packet left this machine"),
                 why.c_str())};
}

}  // namespace nmks::cli
