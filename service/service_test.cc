// What the VPN service hands NetworkManager and the guard for a connection:
// BuildNmConfig's general, ip4 and ip6 configurations (the tunnel, gateway,
// MTU, addresses, DNS, routes, never-default) and BuildPolicy's policy.
#include "service/service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/glib_ptr.h"

namespace nmks::wg {
namespace {

Address Addr(const char* text) { return Address::Parse(text).value(); }
Cidr Net(const char* text) { return Cidr::Parse(text).value(); }

Config TwoFamilies() {
  Config c;
  c.addresses = {Net("192.0.2.2/24"), Net("2001:db8:1::2/64")};
  c.dns = {Addr("192.0.2.53"), Addr("2001:db8:1::53")};
  c.dns_search = {"example.com"};
  c.mtu = 1380;
  Peer p;
  p.allowed_ips = {Net("198.51.100.0/24"), Net("::/0")};
  p.endpoint = HostPort{"203.0.113.1", 51820};
  c.peers = {p};
  return c;
}

// The value `key` of an a{sv}, printed as GVariant text ("" if absent).
std::string Item(GVariant* dict, const char* key) {
  GVariantPtr v(g_variant_lookup_value(dict, key, nullptr));
  if (!v) return "";
  GFreePtr<gchar> text(g_variant_print(v.get(), FALSE));
  return text.get();
}

TEST(BuildNmConfigTest, GeneralNamesTheTunnelGatewayMtuAndFamilies) {
  NmConfig out = BuildNmConfig(TwoFamilies(), "ks0123abcd", {{Addr("203.0.113.1"), 51820}});
  GVariantPtr general = TakeVariant(out.general), ip4 = TakeVariant(out.ip4),
              ip6 = TakeVariant(out.ip6);
  EXPECT_EQ(Item(general.get(), "tundev"), "'ks0123abcd'");
  // 203.0.113.1 as NetworkManager reads it: the bytes in network order.
  EXPECT_EQ(Item(general.get(), "gateway"), std::to_string(203u | 0u << 8 | 113u << 16 | 1u << 24));
  EXPECT_EQ(Item(general.get(), "mtu"), "1380");
  EXPECT_EQ(Item(general.get(), "has-ip4"), "true");
  EXPECT_EQ(Item(general.get(), "has-ip6"), "true");
  EXPECT_EQ(Item(general.get(), "can-persist"), "true");
}

TEST(BuildNmConfigTest, EachFamilyGetsItsAddressDnsAndRoutes) {
  NmConfig out = BuildNmConfig(TwoFamilies(), "ks0123abcd", {});
  GVariantPtr general = TakeVariant(out.general), ip4 = TakeVariant(out.ip4),
              ip6 = TakeVariant(out.ip6);
  ASSERT_TRUE(ip4);
  ASSERT_TRUE(ip6);
  EXPECT_EQ(Item(general.get(), "gateway"), "");
  EXPECT_EQ(Item(ip4.get(), "address"), std::to_string(192u | 0u << 8 | 2u << 16 | 2u << 24));
  EXPECT_EQ(Item(ip4.get(), "prefix"), "24");
  EXPECT_EQ(Item(ip4.get(), "dns"),
            "[" + std::to_string(192u | 0u << 8 | 2u << 16 | 53u << 24) + "]");
  EXPECT_EQ(Item(ip4.get(), "domains"), "['example.com']");
  // 198.51.100.0/24 is a route of its own; IPv4 has no default route here.
  EXPECT_EQ(Item(ip4.get(), "routes"),
            "[[" + std::to_string(198u | 51u << 8 | 100u << 16) + ", 24, 0, 0]]");
  EXPECT_EQ(Item(ip4.get(), "never-default"), "true");
  EXPECT_EQ(Item(ip6.get(), "prefix"), "64");
  EXPECT_NE(Item(ip6.get(), "dns"), "");
  // ::/0 is the default route: no route entry, and never-default is off.
  EXPECT_EQ(Item(ip6.get(), "routes"), "[]");
  EXPECT_EQ(Item(ip6.get(), "never-default"), "false");
}

TEST(BuildNmConfigTest, NoAddressOfAFamilyMeansNoConfigurationForIt) {
  Config c = TwoFamilies();
  c.addresses = {Net("192.0.2.2/24")};
  c.mtu.reset();
  NmConfig out = BuildNmConfig(c, "ks0123abcd", {});
  GVariantPtr general = TakeVariant(out.general), ip4 = TakeVariant(out.ip4);
  EXPECT_TRUE(ip4);
  EXPECT_EQ(out.ip6, nullptr);
  EXPECT_EQ(Item(general.get(), "has-ip6"), "false");
  EXPECT_EQ(Item(general.get(), "mtu"), "1420");  // the default, as wg-quick's
}

}  // namespace
}  // namespace nmks::wg
