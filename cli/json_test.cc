// `status --json` is read by scripts (the package's own prerm did): every
// GVariant shape the guard's Status uses comes out as valid, escaped JSON.
#include "cli/json.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <string>

#include "base/glib_ptr.h"

namespace nmks::cli {
namespace {

std::string Json(const char* text) {
  GVariantPtr v(g_variant_parse(nullptr, text, nullptr, nullptr, nullptr));
  EXPECT_NE(v, nullptr) << text;
  return v ? VariantToJson(v.get()) : "";
}

TEST(JsonTest, ScalarsAsJson) {
  EXPECT_EQ(Json("true"), "true");
  EXPECT_EQ(Json("uint16 51820"), "51820");
  EXPECT_EQ(Json("uint32 4294967295"), "4294967295");
  EXPECT_EQ(Json("int32 -7"), "-7");
  EXPECT_EQ(Json("uint64 18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(Json("byte 0x11"), "17");
  EXPECT_EQ(Json("objectpath '/a/b'"), "\"/a/b\"");
  EXPECT_EQ(Json("1.5"), "null");  // no double in Status: not guessed at
}

TEST(JsonTest, StringsAreEscaped) {
  EXPECT_EQ(Json("'say \"hi\"\\\\ \\n\\t\\r'"), "\"say \\\"hi\\\"\\\\ \\n\\t\\r\"");
  EXPECT_EQ(Json("'\\u0001x'"), "\"\\u0001x\"");
  EXPECT_EQ(Json("'Büro VPN'"), "\"Büro VPN\"");  // UTF-8 passes through
}

TEST(JsonTest, ContainersNestAsObjectsAndArrays) {
  EXPECT_EQ(Json("{'engaged': <true>, 'connections': <{'Work': <{'tunnels': <['wg0']>}>}>}"),
            "{\"engaged\":true,\"connections\":{\"Work\":{\"tunnels\":[\"wg0\"]}}}");
  EXPECT_EQ(Json("[('203.0.113.1', 'udp', uint16 51820, uint32 0)]"),
            "[[\"203.0.113.1\",\"udp\",51820,0]]");
  EXPECT_EQ(Json("@a{sv} {}"), "{}");
  EXPECT_EQ(Json("@as []"), "[]");
  // A dictionary whose keys are not strings: its entries as arrays.
  EXPECT_EQ(Json("{uint32 1: 'a'}"), "[[1,\"a\"]]");
}

}  // namespace
}  // namespace nmks::cli
