// DNS to a resolver outside the tunnel while the VPN is connected: the
// LAN's resolver (198.51.100.1, on the link, so routed via eth0 whatever
// the VPN's routes say), and the tunnel's own resolver address reached
// around the tunnel by a root process that binds its socket to eth0 (as a
// DNS leak through a "smart" resolver would). Each query is refused at
// once, none reaches the router, and `nm-killswitch status` counts them as
// DNS.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

// A minimal DNS query for example.com A.
const unsigned char kQuery[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7,   'e', 'x', 'a', 'm',
                                'p',  'l',  'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};

socklen_t Resolver(const char* address, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  auto* a4 = reinterpret_cast<sockaddr_in*>(out);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, address, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(53);
    return sizeof *a4;
  }
  inet_pton(AF_INET6, address, &a6->sin6_addr);
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(53);
  return sizeof *a6;
}

// In the client: one query over UDP, or one TCP connection to port 53, to
// `address`, from a socket bound to `device` unless it is empty. 0 when it
// got out (sent, or connected), otherwise the errno that stopped it.
int Query(const world::Netns& client, world::User user, bool tcp, const char* address,
          const std::string& device) {
  auto r = client.Call<int>(user, [&]() -> int {
    sockaddr_storage to;
    socklen_t len = Resolver(address, &to);
    int fd = socket(to.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (!device.empty() &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), device.size()) != 0) {
      return -errno;  // negative: the probe itself failed
    }
    timeval timeout{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int rc = tcp ? connect(fd, reinterpret_cast<sockaddr*>(&to), len)
                 : static_cast<int>(sendto(fd, kQuery, sizeof kQuery, 0,
                                           reinterpret_cast<sockaddr*>(&to), len));
    int err = rc < 0 ? errno : 0;
    close(fd);
    return err;
  });
  return r.ok() ? r.value() : -1000;
}

class DnsTest : public ConnectedTest {};

TEST_F(DnsTest, ResolversOutsideTheTunnelAreRefused) {
  struct Probe {
    world::User user;
    bool tcp;
    const char* address;
    const char* device;
  };
  const Probe probes[] = {
      // The LAN's resolver: on the link, so via eth0 even for a plain socket.
      {world::User::kNobody, false, "198.51.100.1", ""},
      {world::User::kNobody, true, "198.51.100.1", ""},
      {world::User::kNobody, false, "2001:db8:100::1", ""},
      {world::User::kRoot, false, "198.51.100.1", "eth0"},
      {world::User::kRoot, true, "198.51.100.1", "eth0"},
      // The resolver the traffic uses through the tunnel, asked around it.
      {world::User::kRoot, false, kDns4, "eth0"},
      {world::User::kRoot, true, kDns4, "eth0"},
      {world::User::kRoot, false, "2001:db8:100::1", "eth0"},
  };
  // Without the kill switch these would go out via eth0: the routes say so.
  auto route = w().client.Run({"ip", "route", "get", "198.51.100.1"});
  EXPECT_TRUE(Contains(route.output, "dev eth0")) << route.output;
  route = w().client.Run({"ip", "route", "get", kDns4, "oif", "eth0"});
  EXPECT_TRUE(Contains(route.output, "dev eth0")) << route.output;

  uint64_t dns_before = w().Stopped("dns");
  int udp_probes = 0;
  for (const Probe& p : probes) {
    SCOPED_TRACE(std::string(p.tcp ? "TCP " : "UDP ") + p.address +
                 (*p.device ? std::string(" bound to ") + p.device : "") +
                 (p.user == world::User::kRoot ? " as root" : " as nobody"));
    int err = Query(w().client, p.user, p.tcp, p.address, p.device);
    // Refused at once: EPERM from the kill switch's reject in output, or
    // the TCP reset it sends back (ECONNREFUSED). Never sent, never a timeout.
    EXPECT_TRUE(err == EPERM || err == ECONNREFUSED)
        << (err > 0 ? std::strerror(err) : "the probe failed: " + std::to_string(err));
    if (!p.tcp) ++udp_probes;
  }
  sleep(1);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  uint64_t dns_after = w().Stopped("dns");
  EXPECT_GE(dns_after, dns_before + udp_probes)
      << w().Killswitch({"status", "--json"}).output;
  auto status = w().Killswitch({"status"});
  EXPECT_TRUE(Contains(status.output, "DNS queries outside the tunnel")) << status.output;
  // The tunnel still carries everything else.
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
