// Packet sources and sinks for kernel tests. A Probe is sent by a forked
// child inside a namespace, by default as an unprivileged user, so it shows
// what any program on the machine could do; the result says whether the
// kernel took it or refused it (EPERM when nftables drops or rejects a UDP
// datagram on output, ECONNREFUSED when it answers a SYN with a reset).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "rules/policy.h"
#include "tests/world/netns.h"

namespace nmks::world {

using std::chrono_literals::operator""ms;

struct Probe {
  Protocol protocol = Protocol::kUdp;
  std::string to{};  // IPv4 or IPv6 address; link-local as "fe80::1%eth0"
  uint16_t port = 0;
  int count = 1;     // UDP datagrams to send; TCP always makes one connect
  size_t bytes = 0;  // UDP payload size; 0 for a short probe
  User user = User::kNobody;
  std::optional<uint32_t> mark{};  // SO_MARK: needs User::kRoot
  std::string device{};            // SO_BINDTODEVICE
  std::string from{};              // local address to bind, "" for any
  uint16_t from_port = 0;          // local port to bind, 0 for any
  bool broadcast = false;          // SO_BROADCAST
  std::chrono::milliseconds connect_wait = 2000ms;
};

struct ProbeResult {
  int sent = 0;   // UDP: datagrams the kernel took; TCP: 1 if connected
  int error = 0;  // errno of the first refused send or connect (or setup step), 0 if none
};

// Sends `probe` from a forked child in `ns`. A child that cannot run at all
// fails the test and reports error -1.
ProbeResult Send(const Netns& ns, const Probe& probe);

// Streams UDP datagrams to to:port from a forked unprivileged child until
// Finish(): a sender that keeps going while tables are replaced.
class UdpStream {
 public:
  UdpStream(const Netns& ns, const std::string& to, uint16_t port);
  struct Totals {
    uint64_t attempts = 0;  // sendto() calls
    uint64_t taken = 0;     // of those, the ones the kernel accepted
    double seconds = 0;
  };
  Result<Totals> Finish() { return Decode(child_.Finish()); }

 private:
  static Result<Totals> Decode(Result<ChildOutput> out);
  Background child_;
};

// A UDP socket that this process (root) opens inside `ns` and keeps.
class UdpSocket {
 public:
  UdpSocket(const Netns& ns, const std::string& address, uint16_t port);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Sends `count` datagrams of `bytes` each (0: a short probe); the errno
  // of the first refused one, or 0. Big ones leave in IP fragments.
  int SendTo(const std::string& address, uint16_t port, int count = 1, size_t bytes = 0);
  // Joins a multicast group on interface `dev`; false if that failed.
  bool Join(const std::string& group, const std::string& dev);
  // Sends IPv4 multicast out of `dev` (IP_MULTICAST_IF); false if that failed.
  bool MulticastVia(const std::string& dev);
  // Counts the datagrams that arrive within `wait`.
  int Receive(std::chrono::milliseconds wait = 300ms);

 private:
  const Netns& ns_;
  int fd_ = -1;
};

// A TCP socket listening in `ns`, opened and kept by this process (root);
// the kernel completes handshakes on its own, so a connect to it succeeds.
class TcpListener {
 public:
  TcpListener(const Netns& ns, const std::string& address, uint16_t port);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace nmks::world
