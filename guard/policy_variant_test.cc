#include "guard/policy_variant.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nmks {
namespace {

Endpoint Ep(const char* text, std::optional<uint32_t> mark = std::nullopt) {
  Endpoint e = Endpoint::Parse(text).value();
  e.mark = mark;
  return e;
}

Policy Sample() {
  Policy p;
  p.tunnels = {"wg0"};
  p.endpoints = {Ep("203.0.113.7:51820/udp", kDefaultMark), Ep("198.51.100.1:443/tcp"),
                 Ep("[2001:db8::1]:51820/udp", 0xdeadbeef), Ep("[2001:db8::2]:1194/tcp")};
  p.allow_lan = true;
  p.ipv6 = Ipv6Mode::kTunnel;
  p.mode = Mode::kLockdown;
  Normalize(p);
  return p;
}

// The policy dict with `key` set to the bytes given.
GVariantPtr WithBytes(const char* key, const std::string& bytes) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "tunnels", g_variant_new_strv(nullptr, 0));
  g_variant_builder_add(
      &b, "{sv}", key,
      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes.data(), bytes.size(), 1));
  return TakeVariant(g_variant_builder_end(&b));
}

TEST(PolicyVariantTest, PackedFormRoundTrips) {
  Policy p = Sample();
  GVariantPtr v = TakeVariant(PolicyToVariant(p));
  auto back = PolicyFromVariant(v.get());
  ASSERT_TRUE(back.ok()) << back.message();
  Policy got = back.value().policy;
  Normalize(got);
  EXPECT_EQ(got, p);
  // Packed: no text form on the wire.
  EXPECT_FALSE(g_variant_lookup_value(v.get(), "endpoints", nullptr));
}

TEST(PolicyVariantTest, PacksFixedRecordsInNetworkOrder) {
  std::string v4 = PackEndpoints({Ep("203.0.113.7:51820/udp", 0x6b73)}, false);
  const std::string want4("\xcb\x00\x71\x07\xca\x6c\x11\x00\x00\x6b\x73", 11);
  EXPECT_EQ(v4, want4);
  EXPECT_EQ(PackEndpoints({Ep("203.0.113.7:51820/udp")}, true), "");
  EXPECT_EQ(PackEndpoints({Ep("[2001:db8::1]:443/tcp")}, true).size(), 23u);
}

TEST(PolicyVariantTest, TextFormIsStillRead) {
  // What an earlier version writes to its state and boot files and what its
  // VPN plugin sends during an upgrade.
  Policy p = Sample();
  GVariantPtr v = TakeVariant(PolicyToVariant(p, EndpointForm::kText));
  EXPECT_FALSE(g_variant_lookup_value(v.get(), "endpoints-ipv4", nullptr));
  auto back = PolicyFromVariant(v.get());
  ASSERT_TRUE(back.ok()) << back.message();
  Policy got = back.value().policy;
  Normalize(got);
  EXPECT_EQ(got, p);
}

TEST(PolicyVariantTest, StateAndBootFormsRoundTrip) {
  Engagements e = {{"home", Sample()}};
  e["home"].connections = {"home"};
  auto bytes = EngagementsFromBytes(EngagementsToBytes(e));
  ASSERT_TRUE(bytes.ok()) << bytes.message();
  EXPECT_EQ(bytes.value(), e);
  std::string text = EngagementsToText(e);
  EXPECT_NE(text.find("'203.0.113.7', 'udp', 51820"), std::string::npos) << text;
  auto parsed = EngagementsFromText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed.value(), e);
}

TEST(PolicyVariantTest, RefusesRecordsOfTheWrongLength) {
  for (size_t size : {1u, 10u, 12u, 23u}) {
    auto r = PolicyFromVariant(WithBytes("endpoints-ipv4", std::string(size, '\x01')).get());
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_NE(r.message().find("records of 11 bytes"), std::string::npos) << r.message();
  }
  auto r6 = PolicyFromVariant(WithBytes("endpoints-ipv6", std::string(11, '\x01')).get());
  ASSERT_FALSE(r6.ok());
  EXPECT_NE(r6.message().find("endpoints-ipv6"), std::string::npos) << r6.message();
}

TEST(PolicyVariantTest, RefusesAnUnknownProtocol) {
  std::string rec = PackEndpoints({Ep("203.0.113.7:51820/udp")}, false);
  rec[6] = 1;  // ICMP
  auto r = PolicyFromVariant(WithBytes("endpoints-ipv4", rec + rec).get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("protocol 1"), std::string::npos) << r.message();
}

TEST(PolicyVariantTest, RefusesJunkAndWrongTypes) {
  std::string junk;
  for (int i = 0; i < 11 * 50; ++i) junk += static_cast<char>(i * 37 + 11);
  EXPECT_FALSE(PolicyFromVariant(WithBytes("endpoints-ipv4", junk).get()).ok());
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "endpoints-ipv4", g_variant_new_string("203.0.113.7"));
  GVariantPtr v = TakeVariant(g_variant_builder_end(&b));
  auto r = PolicyFromVariant(v.get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("D-Bus type ay"), std::string::npos) << r.message();
  EXPECT_FALSE(PolicyFromVariant(WithBytes("endpoints-ipx", "").get()).ok());
}

TEST(PolicyVariantTest, RefusesMoreEndpointsThanTheLimit) {
  std::vector<Endpoint> many;
  for (size_t i = 0; i <= kMaxEndpoints / 2; ++i) {
    Endpoint e = Ep("203.0.113.1:1/udp");
    e.address.bytes[2] = static_cast<uint8_t>(i >> 8);
    e.address.bytes[3] = static_cast<uint8_t>(i);
    e.port = static_cast<uint16_t>(1 + i % 60000);
    many.push_back(e);
  }
  // Half the limit in each of two keys is one more than the limit.
  std::string half = PackEndpoints(many, false);
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  for (const char* key : {"endpoints-ipv4", "endpoints"}) {
    if (key[9] == '-') {
      g_variant_builder_add(
          &b, "{sv}", key,
          g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, half.data(), half.size(), 1));
    } else {
      Policy p;
      p.endpoints = many;
      GVariantPtr text = TakeVariant(PolicyToVariant(p, EndpointForm::kText));
      g_variant_builder_add(&b, "{sv}", key, g_variant_lookup_value(text.get(), key, nullptr));
    }
  }
  GVariantPtr v = TakeVariant(g_variant_builder_end(&b));
  auto r = PolicyFromVariant(v.get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("the limit is"), std::string::npos) << r.message();
}

TEST(PolicyVariantTest, UnpackAppendsNothingOnError) {
  std::vector<Endpoint> out = {Ep("198.51.100.1:443/tcp")};
  std::string recs =
      PackEndpoints({Ep("203.0.113.7:51820/udp"), Ep("203.0.113.8:51820/udp")}, false);
  recs[recs.size() - 5] = 99;  // the second record's protocol
  Status s = UnpackEndpoints(reinterpret_cast<const uint8_t*>(recs.data()), recs.size(), false,
                             kMaxEndpoints, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace nmks
