// Connection -> remotes, the way each VPN's NetworkManager plugin reads its
// connection (network-manager-openvpn 1.10's remote list, OpenConnect's
// gateway, NetworkManager's WireGuard peers), including the entries those
// plugins skip.
#include "dispatcher/remotes.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dispatcher/test_connections.h"

namespace nmks::dispatch {

// How gtest shows a Remote.
void PrintTo(const Remote& r, std::ostream* os) {
  *os << r.host << " " << r.port << "/" << ProtocolName(r.protocol) << " family "
      << static_cast<int>(r.family);
}

namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::SizeIs;

Remote R(const std::string& host, uint16_t port, Protocol protocol = Protocol::kUdp,
         Family family = Family::kAny) {
  return Remote{host, port, protocol, family};
}

Remotes OpenVpnRemotes(const std::map<std::string, std::string>& data) {
  auto c = test::OpenVpn(data);
  return RemotesOf(c.get(), Kind::kOpenVpn);
}

TEST(OpenVpnRemotes, SeveralRemotesWithPortsAndProtocols) {
  Remotes r = OpenVpnRemotes(
      {{"remote",
        "vpn1.example.com, 203.0.113.1:1195, 203.0.113.2:443:tcp vpn2.example.com::udp6,"
        "\t[2001:db8::1]:1196:tcp4-client 2001:db8::2"}});
  EXPECT_THAT(r.skipped, IsEmpty());
  EXPECT_THAT(r.remotes, ElementsAre(R("vpn1.example.com", 1194), R("203.0.113.1", 1195),
                                     R("203.0.113.2", 443, Protocol::kTcp),
                                     R("vpn2.example.com", 1194, Protocol::kUdp, Family::kIpv6),
                                     R("2001:db8::1", 1196, Protocol::kTcp, Family::kIpv4),
                                     R("2001:db8::2", 1194)));
}

TEST(OpenVpnRemotes, DefaultsComeFromPortAndProtoTcp) {
  Remotes r = OpenVpnRemotes(
      {{"remote", "203.0.113.1 203.0.113.2:2000 203.0.113.3::udp"}, {"port", "1443"},
       {"proto-tcp", "yes"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("203.0.113.1", 1443, Protocol::kTcp),
                                     R("203.0.113.2", 2000, Protocol::kTcp),
                                     R("203.0.113.3", 1443, Protocol::kUdp)));
  // proto-tcp other than "yes" is UDP, as network-manager-openvpn reads it.
  r = OpenVpnRemotes({{"remote", "203.0.113.1"}, {"proto-tcp", "true"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("203.0.113.1", 1194, Protocol::kUdp)));
}

TEST(OpenVpnRemotes, IPv6FormsAsNetworkManagerOpenvpnSplitsThem) {
  Remotes r = OpenVpnRemotes({{"remote",
                               "[2001:db8::1] [2001:db8::1]:53 [2001:db8::1]:53:tcp6 "
                               "2001:db8::1:1194"}});  // the last is one IPv6 address
  EXPECT_THAT(r.skipped, IsEmpty());
  EXPECT_THAT(r.remotes,
              ElementsAre(R("2001:db8::1", 1194), R("2001:db8::1", 53),
                          R("2001:db8::1", 53, Protocol::kTcp, Family::kIpv6),
                          R("2001:db8::1:1194", 1194)));
}

TEST(OpenVpnRemotes, EntriesOpenVpnSkipsAreSkippedAndSaidSo) {
  Remotes r = OpenVpnRemotes(
      {{"remote",
        ",, 203.0.113.1:99999 203.0.113.2:1194:sctp :1194 203.0.113.3:http [2001:db8::1 "
        "203.0.113.4:1194"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("203.0.113.4", 1194)));
  ASSERT_THAT(r.skipped, SizeIs(5));
  EXPECT_THAT(r.skipped[0], HasSubstr("203.0.113.1:99999"));
  EXPECT_THAT(r.skipped[0], HasSubstr("not a port"));
  EXPECT_THAT(r.skipped[1], HasSubstr("not a protocol"));
  EXPECT_THAT(r.skipped[2], HasSubstr("host is empty"));
  EXPECT_THAT(r.skipped[3], HasSubstr("\"http\" is not a port"));
}

TEST(OpenVpnRemotes, MissingOrEmptyRemoteGivesNothing) {
  EXPECT_THAT(OpenVpnRemotes({}).remotes, IsEmpty());
  EXPECT_THAT(OpenVpnRemotes({{"remote", " , "}}).remotes, IsEmpty());
  Remotes bad_port = OpenVpnRemotes({{"remote", "203.0.113.1"}, {"port", "0"}});
  EXPECT_THAT(bad_port.remotes, ElementsAre(R("203.0.113.1", 1194)));
  EXPECT_THAT(bad_port.skipped, ElementsAre(HasSubstr("port \"0\" is not a port")));
}

TEST(OpenVpnRemotes, AHugeRemoteListIsReadWithoutTrouble) {
  std::string list;
  for (int i = 0; i < 5000; ++i) list += "203.0.113." + std::to_string(i % 250 + 1) + ":" +
                                         std::to_string(1000 + i) + ",";
  list += std::string(100000, 'a');  // a host name far too long
  Remotes r = OpenVpnRemotes({{"remote", list}});
  EXPECT_THAT(r.remotes, SizeIs(5000));
  ASSERT_THAT(r.skipped, SizeIs(1));
  EXPECT_THAT(r.skipped[0], HasSubstr("longer than 253 bytes"));
  EXPECT_LT(r.skipped[0].size(), 300u) << "the message must not echo the whole entry";
}

TEST(OpenVpnRemotes, ThroughAProxyOnlyTheProxy) {
  Remotes r = OpenVpnRemotes({{"remote", "203.0.113.1"},
                              {"proxy-type", "http"},
                              {"proxy-server", "proxy.example.com"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("proxy.example.com", 8080, Protocol::kTcp)));
  r = OpenVpnRemotes({{"remote", "203.0.113.1"},
                      {"proto-tcp", "yes"},
                      {"proxy-type", "socks"},
                      {"proxy-server", "198.51.100.9"},
                      {"proxy-port", "9050"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("198.51.100.9", 9050, Protocol::kTcp)));
  EXPECT_THAT(r.skipped, IsEmpty());
  r = OpenVpnRemotes(
      {{"remote", "203.0.113.1"}, {"proxy-type", "socks"}, {"proxy-server", "198.51.100.9"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("198.51.100.9", 1080, Protocol::kTcp)));
  EXPECT_THAT(r.skipped, ElementsAre(HasSubstr("UDP through a SOCKS proxy")));
  // With an unknown proxy type network-manager-openvpn refuses to start;
  // the connection's remotes stand.
  r = OpenVpnRemotes(
      {{"remote", "203.0.113.1"}, {"proxy-type", "ftp"}, {"proxy-server", "198.51.100.9"}});
  EXPECT_THAT(r.remotes, ElementsAre(R("203.0.113.1", 1194)));
}

TEST(OpenConnectRemotes, GatewayFormsAndProtocols) {
  auto remotes = [](const std::map<std::string, std::string>& data) {
    auto c = test::VpnConnection(kOpenConnectServiceType, data);
    return RemotesOf(c.get(), Kind::kOpenConnect);
  };
  EXPECT_THAT(remotes({{"gateway", "vpn.example.com"}}).remotes,
              ElementsAre(R("vpn.example.com", 443, Protocol::kTcp), R("vpn.example.com", 443)));
  EXPECT_THAT(remotes({{"gateway", "https://vpn.example.com:8443/group"}}).remotes,
              ElementsAre(R("vpn.example.com", 8443, Protocol::kTcp), R("vpn.example.com", 8443)));
  EXPECT_THAT(remotes({{"gateway", "[2001:db8::5]:444"}}).remotes,
              ElementsAre(R("2001:db8::5", 444, Protocol::kTcp), R("2001:db8::5", 444)));
  EXPECT_THAT(remotes({{"gateway", "2001:db8::5"}}).remotes,
              ElementsAre(R("2001:db8::5", 443, Protocol::kTcp), R("2001:db8::5", 443)));
  EXPECT_THAT(remotes({{"gateway", "203.0.113.7"}, {"protocol", "gp"}}).remotes,
              ElementsAre(R("203.0.113.7", 443, Protocol::kTcp), R("203.0.113.7", 443),
                          R("203.0.113.7", 4501)));
  EXPECT_THAT(remotes({{"gateway", "203.0.113.7"}, {"protocol", "nc"}}).remotes,
              ElementsAre(R("203.0.113.7", 443, Protocol::kTcp), R("203.0.113.7", 443),
                          R("203.0.113.7", 4500)));
  EXPECT_THAT(
      remotes({{"gateway", "203.0.113.7"}, {"proxy", "http://proxy.example.com:3128/"}}).remotes,
      ElementsAre(R("proxy.example.com", 3128, Protocol::kTcp)));
  EXPECT_THAT(remotes({{"gateway", "203.0.113.7"}, {"proxy", "socks5://198.51.100.9"}}).remotes,
              ElementsAre(R("198.51.100.9", 1080, Protocol::kTcp)));
  Remotes bad = remotes({{"gateway", "vpn.example.com:port"}});
  EXPECT_THAT(bad.remotes, IsEmpty());
  EXPECT_THAT(bad.skipped, ElementsAre(HasSubstr("is not a port")));
  EXPECT_THAT(remotes({}).remotes, IsEmpty());
}

TEST(WireGuardRemotes, EveryPeerWithAnEndpoint) {
  auto c = test::WireGuard({"203.0.113.1:51820", "", "[2001:db8::7]:51821", "wg.example.com:1"});
  Remotes r = RemotesOf(c.get(), Kind::kWireGuard);
  EXPECT_THAT(r.skipped, IsEmpty());
  EXPECT_THAT(r.remotes, ElementsAre(R("203.0.113.1", 51820), R("2001:db8::7", 51821),
                                     R("wg.example.com", 1)));
  auto odd = test::WireGuard({"203.0.113.1", "[2001:db8::7", "host:0"});
  r = RemotesOf(odd.get(), Kind::kWireGuard);
  EXPECT_THAT(r.remotes, IsEmpty());
  EXPECT_THAT(r.skipped, SizeIs(3));
}

}  // namespace
}  // namespace nmks::dispatch
