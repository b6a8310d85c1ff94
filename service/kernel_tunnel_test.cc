// The WG_CMD_SET_DEVICE messages kernel WireGuard gets, decoded back the
// way the kernel reads them: every peer and allowed IP arrives exactly
// once, in order, split into messages that fit; only the first message
// replaces the peers and carries the private key, only a peer's first part
// replaces its allowed IPs and carries its endpoint; an endpoints-only
// update touches only peers with an endpoint and changes nothing else.
#include "service/kernel_tunnel.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nmks::wg {
namespace {

Key KeyOf(uint8_t b) {
  Key k{};
  k.fill(b);
  return k;
}

struct DecodedPeer {
  Key key{};
  uint32_t flags = 0;
  bool has_endpoint = false;
  uint16_t endpoint_port = 0;
  bool has_psk = false;
  std::vector<std::string> ips;
};

struct DecodedMessage {
  uint32_t seq = 0;
  size_t bytes = 0;
  std::string ifname;
  bool has_private_key = false;
  bool has_fwmark = false;
  uint32_t flags = 0;
  std::vector<DecodedPeer> peers;
};

// The attributes in [start, start + len) (libmnl's iteration macros are C only).
std::vector<const nlattr*> AttrsIn(const void* start, size_t len) {
  std::vector<const nlattr*> out;
  const char* end = static_cast<const char*>(start) + len;
  for (const nlattr* a = static_cast<const nlattr*>(start);
       mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a)));
       a = mnl_attr_next(a)) {
    out.push_back(a);
  }
  return out;
}

std::vector<const nlattr*> Nested(const nlattr* nest) {
  return AttrsIn(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest));
}

std::string IpOf(const nlattr* ip_nest) {
  uint16_t family = 0;
  const void* addr = nullptr;
  unsigned prefix = 0;
  for (const nlattr* a : Nested(ip_nest)) {
    switch (mnl_attr_get_type(a)) {
      case WGALLOWEDIP_A_FAMILY: family = mnl_attr_get_u16(a); break;
      case WGALLOWEDIP_A_IPADDR: addr = mnl_attr_get_payload(a); break;
      case WGALLOWEDIP_A_CIDR_MASK: prefix = mnl_attr_get_u8(a); break;
    }
  }
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr) inet_ntop(family, addr, text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

DecodedPeer PeerOf(const nlattr* peer_nest) {
  DecodedPeer p;
  for (const nlattr* a : Nested(peer_nest)) {
    switch (mnl_attr_get_type(a)) {
      case WGPEER_A_PUBLIC_KEY: std::memcpy(p.key.data(), mnl_attr_get_payload(a), 32); break;
      case WGPEER_A_FLAGS: p.flags = mnl_attr_get_u32(a); break;
      case WGPEER_A_PRESHARED_KEY: p.has_psk = true; break;
      case WGPEER_A_ENDPOINT: {
        p.has_endpoint = true;
        sockaddr_in sa{};
        std::memcpy(&sa, mnl_attr_get_payload(a), sizeof sa);
        p.endpoint_port = ntohs(sa.sin_port);
        break;
      }
      case WGPEER_A_ALLOWEDIPS:
        for (const nlattr* ip : Nested(a)) p.ips.push_back(IpOf(ip));
        break;
    }
  }
  return p;
}

DecodedMessage Decode(const Message& m) {
  DecodedMessage d;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(m.data());
  d.seq = nlh->nlmsg_seq;
  d.bytes = m.size();
  EXPECT_EQ(nlh->nlmsg_len, m.size());
  const size_t header = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(genlmsghdr));
  for (const nlattr* a :
       AttrsIn(mnl_nlmsg_get_payload_offset(nlh, sizeof(genlmsghdr)), nlh->nlmsg_len - header)) {
    switch (mnl_attr_get_type(a)) {
      case WGDEVICE_A_IFNAME: d.ifname = mnl_attr_get_str(a); break;
      case WGDEVICE_A_PRIVATE_KEY: d.has_private_key = true; break;
      case WGDEVICE_A_FWMARK: d.has_fwmark = true; break;
      case WGDEVICE_A_FLAGS: d.flags = mnl_attr_get_u32(a); break;
      case WGDEVICE_A_PEERS:
        for (const nlattr* peer : Nested(a)) d.peers.push_back(PeerOf(peer));
        break;
    }
  }
  return d;
}

DeviceConfig TwoPeers() {
  DeviceConfig c;
  c.ifname = "wg7";
  c.private_key = SecretKey(KeyOf(1));
  c.listen_port = 51820;
  c.fwmark = 0x6b73;
  PeerConfig a;
  a.public_key = KeyOf(0xa);
  a.preshared_key = SecretKey(KeyOf(2));
  a.endpoint = PeerEndpoint{Address::Parse("203.0.113.1").value(), 51820};
  a.persistent_keepalive = 25;
  for (int i = 0; i < 200; ++i) {
    auto v4 = Address::Parse("198.51.100." + std::to_string(i));
    a.allowed_ips.push_back({v4.value(), 32});
  }
  PeerConfig b;
  b.public_key = KeyOf(0xb);
  b.allowed_ips.push_back({Address::Parse("2001:db8::1").value(), 128});
  b.allowed_ips.push_back({Address::Parse("192.0.2.0").value(), 24});
  c.peers = {a, b};
  return c;
}

TEST(EncodeSetDeviceTest, BigConfigurationIsSplitAndArrivesWhole) {
  const DeviceConfig c = TwoPeers();
  const auto messages = EncodeSetDevice(c, 0x42, 100, false, 1024);
  ASSERT_GT(messages.size(), 3u) << "200 allowed IPs cannot fit in 1 KiB";
  std::map<uint8_t, std::vector<std::string>> ips;
  std::map<uint8_t, int> replaced, endpoints, psks;
  for (size_t i = 0; i < messages.size(); ++i) {
    const DecodedMessage d = Decode(messages[i]);
    EXPECT_LE(d.bytes, 1024u);
    EXPECT_EQ(d.seq, 100 + i);
    EXPECT_EQ(d.ifname, "wg7");
    EXPECT_EQ(d.has_private_key, i == 0);
    EXPECT_EQ(d.has_fwmark, i == 0);
    EXPECT_EQ(d.flags, i == 0 ? static_cast<uint32_t>(WGDEVICE_F_REPLACE_PEERS) : 0u);
    for (const DecodedPeer& p : d.peers) {
      const uint8_t id = p.key[0];
      // Its first part replaces its allowed IPs; later parts only add.
      EXPECT_EQ((p.flags & WGPEER_F_REPLACE_ALLOWEDIPS) != 0, ips.count(id) == 0);
      EXPECT_EQ(p.flags & WGPEER_F_UPDATE_ONLY, 0u);
      replaced[id] += (p.flags & WGPEER_F_REPLACE_ALLOWEDIPS) ? 1 : 0;
      endpoints[id] += p.has_endpoint ? 1 : 0;
      psks[id] += p.has_psk ? 1 : 0;
      auto& list = ips[id];
      list.insert(list.end(), p.ips.begin(), p.ips.end());
    }
  }
  ASSERT_EQ(ips.size(), 2u);
  ASSERT_EQ(ips[0xa].size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ips[0xa][i], "198.51.100." + std::to_string(i) + "/32");
  EXPECT_EQ(ips[0xb], (std::vector<std::string>{"2001:db8::1/128", "192.0.2.0/24"}));
  EXPECT_EQ(replaced[0xa], 1);
  EXPECT_EQ(replaced[0xb], 1);
  EXPECT_EQ(endpoints[0xa], 1);
  EXPECT_EQ(endpoints[0xb], 0);
  EXPECT_EQ(psks[0xa], 1);
}

TEST(EncodeSetDeviceTest, EndpointsOnlyUpdatesPeersWithAnEndpointAndNothingElse) {
  const auto messages = EncodeSetDevice(TwoPeers(), 0x42, 7, true, 1024);
  ASSERT_EQ(messages.size(), 1u);
  const DecodedMessage d = Decode(messages[0]);
  EXPECT_EQ(d.ifname, "wg7");
  EXPECT_FALSE(d.has_private_key);
  EXPECT_FALSE(d.has_fwmark);
  EXPECT_EQ(d.flags, 0u);
  ASSERT_EQ(d.peers.size(), 1u);
  EXPECT_EQ(d.peers[0].key, KeyOf(0xa));
  EXPECT_EQ(d.peers[0].flags, static_cast<uint32_t>(WGPEER_F_UPDATE_ONLY));
  EXPECT_TRUE(d.peers[0].has_endpoint);
  EXPECT_EQ(d.peers[0].endpoint_port, 51820);
  EXPECT_FALSE(d.peers[0].has_psk);
  EXPECT_TRUE(d.peers[0].ips.empty());
}

}  // namespace
}  // namespace nmks::wg
