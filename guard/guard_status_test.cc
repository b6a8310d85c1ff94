#include "guard/guard_status.h"

#include <gtest/gtest.h>

#include <string>

namespace nmks {
namespace {

Policy Many(size_t n) {
  Policy p;
  p.tunnels = {"wg0"};
  for (size_t i = 0; i < n; ++i) {
    Endpoint e = Endpoint::Parse("203.0.113.1:51820/udp").value();
    e.port = static_cast<uint16_t>(1000 + i);
    p.endpoints.push_back(e);
  }
  return p;
}

TEST(GuardStatusTest, ListsASampleOfEachConnectionAndCountsTheRest) {
  GuardStatus s;
  s.version = "0.1.0";
  s.engaged = true;
  s.protection = "owner";
  s.SetConnections({{"big", Many(100000)}, {"small", Many(2)}});
  s.boot_connections = {"small"};
  s.stopped = {{"blocked", 7}, {"dns", 0}};
  s.kernel_matches = s.table_in_kernel = true;
  GVariantPtr v = TakeVariant(GuardStatusToVariant(s));
  // Bounded: the whole reply of 100,000 endpoints is a few kilobytes.
  EXPECT_LT(g_variant_get_size(v.get()), 4096u);

  auto back = GuardStatusFromVariant(v.get());
  ASSERT_TRUE(back.ok()) << back.message();
  const GuardStatus& got = back.value();
  EXPECT_TRUE(got.engaged);
  EXPECT_EQ(got.protection, "owner");
  ASSERT_EQ(got.connections.size(), 2u);
  EXPECT_EQ(got.connections.at("big").endpoints.size(), kStatusSample);
  EXPECT_EQ(got.EndpointCount("big"), 100000u);
  EXPECT_EQ(got.EndpointCount("small"), 2u);
  EXPECT_EQ(got.EndpointCount("none"), 0u);
  EXPECT_TRUE(got.BlockedAtBoot("small"));
  EXPECT_FALSE(got.BlockedAtBoot("big"));
  EXPECT_EQ(got.stopped.at("blocked"), 7u);
  EXPECT_TRUE(got.kernel_matches);
  EXPECT_TRUE(got.table_in_kernel);
}

TEST(GuardStatusTest, AnOlderGuardsReplyIsRead) {
  // No endpoint-counts, endpoints in the text form, keys missing.
  Policy p = Many(3);
  p.connections = {"vpn"};
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "engaged", g_variant_new_boolean(TRUE));
  g_variant_builder_add(&b, "{sv}", "connections",
                        EngagementsToVariant({{"vpn", p}}, EndpointForm::kText));
  g_variant_builder_add(&b, "{sv}", "a-newer-key", g_variant_new_string("skipped"));
  GVariantPtr v = TakeVariant(g_variant_builder_end(&b));
  auto got = GuardStatusFromVariant(v.get());
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_TRUE(got.value().engaged);
  EXPECT_EQ(got.value().EndpointCount("vpn"), 3u);
  EXPECT_FALSE(got.value().kernel_matches);
  EXPECT_TRUE(got.value().stopped.empty());
}

TEST(GuardStatusTest, ConnectionsItCannotReadAreAnError) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "connections", g_variant_new_string("junk"));
  GVariantPtr v = TakeVariant(g_variant_builder_end(&b));
  EXPECT_FALSE(GuardStatusFromVariant(v.get()).ok());
  GVariantPtr not_a_dict = TakeVariant(g_variant_new_string("x"));
  EXPECT_FALSE(GuardStatusFromVariant(not_a_dict.get()).ok());
}

}  // namespace
}  // namespace nmks
