// IPv6 with a tunnel that carries only IPv4 (Address and AllowedIPs IPv4
// only), on a LAN that has IPv6 and a default route: NetworkManager leaves
// IPv6 on eth0 as it is, so every IPv6 packet of the traffic is routed to
// the LAN. The kill switch blocks IPv6 (status says so and counts it), none
// of it reaches the router, and IPv4 goes through the tunnel.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

class Ipv4OnlyTunnelTest : public ConnectedTest {
  void Configure(Options& o) override {
    o.address = "192.0.2.2/32";
    o.allowed_ips = "0.0.0.0/0";
  }
};

TEST_F(Ipv4OnlyTunnelTest, Ipv6NeverLeavesViaTheLan) {
  // The LAN's IPv6 is there and would carry the traffic's IPv6.
  auto route = w().client.Run({"ip", "-6", "route", "get", kWeb6});
  EXPECT_TRUE(Contains(route.output, "dev eth0")) << route.output;
  auto route4 = w().client.Run({"ip", "route", "get", kWeb4});
  EXPECT_FALSE(Contains(route4.output, "dev eth0")) << route4.output;

  uint64_t blocked_before = w().Stopped("blocked");
  // An unprivileged UDP datagram to the web server's IPv6 address is refused at once.
  auto sent = w().client.Call<int>(world::User::kNobody, [] {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(9);
    inet_pton(AF_INET6, kWeb6, &to.sin6_addr);
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = static_cast<int>(sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to));
    int err = rc < 0 ? errno : 0;
    close(fd);
    return err;
  });
  ASSERT_TRUE(sent.ok()) << sent.message();
  EXPECT_EQ(sent.value(), EPERM) << std::strerror(sent.value());

  sleep(3);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
  // The table counts IPv6 that meets it on eth0 with everything else that
  // would have left outside the tunnel ("ipv6" counts IPv6 into a tunnel).
  EXPECT_GT(w().Stopped("blocked"), blocked_before + 50)
      << w().Killswitch({"status", "--json"}).output;
  auto status = w().Killswitch({"status"});
  EXPECT_TRUE(Contains(status.output, "IPv6: blocked")) << status.output;
}

}  // namespace
}  // namespace nmks::nmworld
