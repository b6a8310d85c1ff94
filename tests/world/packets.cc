#include "tests/world/packets.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nmks::world {
namespace {

constexpr char kPayload[] = "nm-killswitch probe";

// A numeric address (with %scope for link-local) as a sockaddr; resolves
// interface names in the calling thread's namespace.
bool Resolve(const std::string& address, uint16_t port, sockaddr_storage& out, socklen_t& len) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(address.empty() ? nullptr : address.c_str(), service.c_str(), &hints, &result) !=
      0) {
    return false;
  }
  std::memcpy(&out, result->ai_addr, result->ai_addrlen);
  len = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Runs in the child: the whole probe, as plain system calls.
ProbeResult SendNow(const Probe& p) {
  ProbeResult result;
  sockaddr_storage to{};
  socklen_t to_len = 0;
  if (!Resolve(p.to, p.port, to, to_len)) return {0, EINVAL};
  const bool tcp = p.protocol == Protocol::kTcp;
  Fd s(socket(to.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return {0, errno};
  auto set = [&](int level, int name, const void* value, socklen_t size) {
    if (result.error == 0 && setsockopt(s.get(), level, name, value, size) != 0) {
      result.error = errno;
    }
  };
  int one = 1;
  set(SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (p.mark) set(SOL_SOCKET, SO_MARK, &*p.mark, sizeof *p.mark);
  if (!p.device.empty()) {
    set(SOL_SOCKET, SO_BINDTODEVICE, p.device.c_str(), static_cast<socklen_t>(p.device.size()));
  }
  if (p.broadcast) set(SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  if (result.error != 0) return result;
  if (!p.from.empty() || p.from_port != 0) {
    sockaddr_storage from{};
    socklen_t from_len = 0;
    std::string any = to.ss_family == AF_INET6 ? "::" : "0.0.0.0";
    if (!Resolve(p.from.empty() ? any : p.from, p.from_port, from, from_len)) return {0, EINVAL};
    if (bind(s.get(), reinterpret_cast<sockaddr*>(&from), from_len) != 0) return {0, errno};
  }
  if (tcp) {
    // A blocking connect that gives up after connect_wait (EINPROGRESS).
    timeval tv{};
    tv.tv_sec = p.connect_wait.count() / 1000;
    tv.tv_usec = (p.connect_wait.count() % 1000) * 1000;
    set(SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&to), to_len) != 0) {
      result.error = errno == EINPROGRESS ? ETIMEDOUT : errno;
      return result;
    }
    result.sent = 1;
    return result;
  }
  std::string payload = p.bytes == 0 ? std::string(kPayload) : std::string(p.bytes, 'x');
  for (int i = 0; i < p.count; ++i) {
    if (sendto(s.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
               to_len) < 0) {
      if (result.error == 0) result.error = errno;
    } else {
      ++result.sent;
    }
  }
  return result;
}

}  // namespace

ProbeResult Send(const Netns& ns, const Probe& probe) {
  auto r = ns.Call<ProbeResult>(probe.user, [&probe] { return SendNow(probe); });
  if (!r.ok()) {
    ADD_FAILURE() << "probe to " << probe.to << ":" << probe.port
                  << " did not run: " << r.message();
    return {0, -1};
  }
  return r.value();
}

UdpStream::UdpStream(const Netns& ns, const std::string& to, uint16_t port)
    : child_(ns, User::kNobody, [to, port](int stop_fd) {
        Totals totals;
        sockaddr_storage addr{};
        socklen_t len = 0;
        bool resolved = Resolve(to, port, addr, len);
        Fd s(resolved ? socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1);
        auto start = std::chrono::steady_clock::now();
        pollfd stop{stop_fd, POLLIN, 0};
        while (s.get() >= 0) {
          for (int i = 0; i < 64; ++i) {
            ++totals.attempts;
            if (sendto(s.get(), kPayload, sizeof kPayload, 0, reinterpret_cast<sockaddr*>(&addr),
                       len) >= 0) {
              ++totals.taken;
            }
          }
          if (poll(&stop, 1, 0) != 0) break;
        }
        totals.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ChildOutput out(sizeof totals);
        std::memcpy(out.data(), &totals, sizeof totals);
        return out;
      }) {}

Result<UdpStream::Totals> UdpStream::Decode(Result<ChildOutput> out) {
  if (!out.ok()) return out.status();
  if (out.value().size() != sizeof(Totals)) return Status::Error("sender sent no totals");
  Totals totals;
  std::memcpy(&totals, out.value().data(), sizeof totals);
  return totals;
}

namespace {

// A socket of `type` opened in `ns` and bound to address:port; throws if
// that fails, since the test cannot go on without it.
int BoundSocket(const Netns& ns, int type, const std::string& address, uint16_t port) {
  NetnsScope in(ns);
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!Resolve(address, port, addr, len)) throw std::runtime_error("bad address " + address);
  int fd = socket(addr.ss_family, type | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd >= 0 && addr.ss_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string what = "cannot bind " + address + ":" + std::to_string(port) + " in " + ns.name() +
                       ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    throw std::runtime_error(what);
  }
  return fd;
}

}  // namespace

UdpSocket::UdpSocket(const Netns& ns, const std::string& address, uint16_t port)
    : ns_(ns), fd_(BoundSocket(ns, SOCK_DGRAM, address, port)) {}

UdpSocket::~UdpSocket() { close(fd_); }

int UdpSocket::SendTo(const std::string& address, uint16_t port, int count, size_t bytes) {
  sockaddr_storage to{};
  socklen_t len = 0;
  {
    NetnsScope in(ns_);
    if (!Resolve(address, port, to, len)) return EINVAL;
  }
  std::string payload = bytes == 0 ? std::string(kPayload) : std::string(bytes, 'x');
  int error = 0;
  for (int i = 0; i < count; ++i) {
    if (sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), len) < 0 &&
        error == 0) {
      error = errno;
    }
  }
  return error;
}

bool UdpSocket::MulticastVia(const std::string& dev) {
  NetnsScope in(ns_);
  ip_mreqn m{};
  m.imr_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
  return m.imr_ifindex != 0 && setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) == 0;
}

bool UdpSocket::Join(const std::string& group, const std::string& dev) {
  NetnsScope in(ns_);
  unsigned index = if_nametoindex(dev.c_str());
  if (group.find(':') == std::string::npos) {
    ip_mreqn m{};
    m.imr_ifindex = static_cast<int>(index);
    return inet_pton(AF_INET, group.c_str(), &m.imr_multiaddr) == 1 &&
           setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0;
  }
  ipv6_mreq m{};
  m.ipv6mr_interface = index;
  return inet_pton(AF_INET6, group.c_str(), &m.ipv6mr_multiaddr) == 1 &&
         setsockopt(fd_, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof m) == 0;
}

int UdpSocket::Receive(std::chrono::milliseconds wait) {
  int received = 0;
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return received;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    while (recv(fd_, buf, sizeof buf, MSG_DONTWAIT) >= 0) ++received;
  }
}

TcpListener::TcpListener(const Netns& ns, const std::string& address, uint16_t port)
    : fd_(BoundSocket(ns, SOCK_STREAM, address, port)) {
  if (listen(fd_, 16) != 0) {
    close(fd_);
    throw std::runtime_error("cannot listen on " + address);
  }
}

TcpListener::~TcpListener() { close(fd_); }

}  // namespace nmks::world
