// Bad input, over D-Bus (as root, so every call reaches the guard's own
// checks) and on the command line: each is refused with a message that
// names what is wrong, and the table in the kernel stays exactly as it was.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "guard/bus_service.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

struct EndpointTuple {
  const char* address;
  const char* protocol;
  uint16_t port;
  uint32_t mark;
};

GVariant* Tunnels(std::initializer_list<std::string> names) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (const std::string& n : names) g_variant_builder_add(&b, "s", n.c_str());
  return g_variant_builder_end(&b);
}

GVariant* Endpoints(std::initializer_list<EndpointTuple> endpoints) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssqu)"));
  for (const EndpointTuple& e : endpoints) {
    g_variant_builder_add(&b, "(ssqu)", e.address, e.protocol, e.port, e.mark);
  }
  return g_variant_builder_end(&b);
}

// `count` copies of one endpoint, without `count` GVariants in memory.
GVariant* ManyEndpoints(size_t count) {
  GVariant* one = g_variant_ref_sink(g_variant_new("(ssqu)", "203.0.113.7", "udp", 51820, 0));
  std::vector<GVariant*> children(count, one);
  GVariant* array = g_variant_new_array(G_VARIANT_TYPE("(ssqu)"), children.data(), count);
  g_variant_unref(one);
  return array;
}

// VmHWM of a process, as /proc shows it.
std::string PeakMemory(pid_t pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("VmHWM:");
  if (at == std::string::npos) return "?";
  size_t end = status.find('\n', at);
  std::string value = status.substr(at + 6, end - at - 6);
  return value.substr(value.find_first_not_of(" \t"));
}

GVariant* Dict(std::initializer_list<std::pair<const char*, GVariant*>> entries) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  for (const auto& [key, value] : entries) g_variant_builder_add(&b, "{sv}", key, value);
  return g_variant_builder_end(&b);
}

GVariant* Engage(const std::string& connection, GVariant* policy) {
  return g_variant_new("(s@a{sv})", connection.c_str(), policy);
}

class BadInputTest : public GuardTest {
 protected:
  void SetUp() override {
    GuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StartGuard();
    Outcome e = Cli(
        {"engage", "--connection", "base", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
    ASSERT_EQ(e.exit_code, 0) << e.all();
    before_ = Table();
    ASSERT_TRUE(before_.exists);
    engaged_ = EngagedNow();
    ASSERT_EQ(engaged_.size(), 1u);
  }

  // The table and what is engaged are exactly as before, and the guard still answers.
  void ExpectUnchanged() {
    Status same = SameTable(before_, Table());
    EXPECT_TRUE(same.ok()) << same.message();
    EXPECT_EQ(EngagedNow(), engaged_);
  }

  void ExpectRefused(const char* method, GVariant* params, const std::string& why,
                     const std::string& error_name = kErrorInvalidArgs) {
    Reply r = CallGuard(bus().connection(), method, params);
    EXPECT_FALSE(r.ok()) << method << " was accepted";
    EXPECT_EQ(r.error_name, error_name) << r.error;
    EXPECT_THAT(r.error, HasSubstr(why));
    EXPECT_LT(r.error.size(), 1024u) << "an error message should be short";
    ExpectUnchanged();
  }

  void ExpectCliRefused(const std::vector<std::string>& args, const std::string& why) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.all();
    EXPECT_THAT(r.err, HasSubstr(why));
    EXPECT_THAT(r.out, testing::Not(HasSubstr("engaged")));
    ExpectUnchanged();
  }

  TableState before_;
  Engagements engaged_;
};

TEST_F(BadInputTest, WrongArgumentTypes) {
  {
    SCOPED_TRACE("a string instead of a{sv}");
    ExpectRefused("Engage", g_variant_new("(ss)", "x", "tun0"), "(sa{sv})");
  }
  {
    SCOPED_TRACE("a{ss} instead of a{sv}");
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&b, "{ss}", "tunnels", "tun0");
    ExpectRefused("Engage", g_variant_new("(sa{ss})", "x", &b), "(sa{sv})");
  }
  {
    SCOPED_TRACE("no arguments");
    ExpectRefused("Engage", nullptr, "(sa{sv})");
  }
  {
    SCOPED_TRACE("tunnels as a string");
    ExpectRefused("Engage", Engage("x", Dict({{"tunnels", g_variant_new_string("tun0")}})),
                  "policy key \"tunnels\" must have D-Bus type as");
  }
  {
    SCOPED_TRACE("endpoints without the mark");
    ExpectRefused(
        "Engage",
        Engage("x", Dict({{"tunnels", Tunnels({"tun0"})},
                          {"endpoints", g_variant_new_parsed("[('203.0.113.1', 'udp', @q 1)]")}})),
        "policy key \"endpoints\" must have D-Bus type a(ssqu)");
  }
  {
    SCOPED_TRACE("allow-lan as a string");
    ExpectRefused("Engage",
                  Engage("x", Dict({{"tunnels", Tunnels({"tun0"})},
                                    {"allow-lan", g_variant_new_string("yes")}})),
                  "policy key \"allow-lan\" must have D-Bus type b");
  }
  {
    SCOPED_TRACE("Release with a number");
    ExpectRefused("Release", g_variant_new("(u)", 7), "(s)");
  }
}

TEST_F(BadInputTest, BadPolicyValues) {
  auto with_tunnel = [](const char* key, GVariant* value) {
    return Engage("x", Dict({{"tunnels", Tunnels({"tun0"})}, {key, value}}));
  };
  ExpectRefused("Engage", with_tunnel("colour", g_variant_new_string("red")),
                "unknown policy key \"colour\"");
  ExpectRefused("Engage", with_tunnel("mode", g_variant_new_string("sideways")), "sideways");
  ExpectRefused("Engage", with_tunnel("ipv6", g_variant_new_string("maybe")), "maybe");
  ExpectRefused("Engage",
                with_tunnel("endpoints", Endpoints({{"vpn.example.net", "udp", 51820, 0}})),
                "vpn.example.net");
  ExpectRefused("Engage", with_tunnel("endpoints", Endpoints({{"203.0.113.1", "udp", 0, 0}})),
                "port 0", kErrorFailed);
  ExpectRefused("Engage", with_tunnel("endpoints", Endpoints({{"203.0.113.1", "sctp", 9, 0}})),
                "the protocol must be udp or tcp");
  ExpectRefused("Engage", with_tunnel("endpoints", Endpoints({{"127.0.0.1", "udp", 9, 0}})),
                "loopback", kErrorFailed);
  // The packed form: whole records of a known protocol, or nothing.
  auto packed = [](const std::string& bytes) {
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes.data(), bytes.size(), 1);
  };
  const std::string record("\xcb\x00\x71\x01\xca\x6c\x11\x00\x00\x00\x00", 11);
  ExpectRefused("Engage", with_tunnel("endpoints-ipv4", packed(record + "junk")),
                "must hold records of 11 bytes");
  ExpectRefused("Engage", with_tunnel("endpoints-ipv6", packed(record)),
                "must hold records of 23 bytes");
  std::string icmp = record;
  icmp[6] = 1;
  ExpectRefused("Engage", with_tunnel("endpoints-ipv4", packed(record + icmp)), "protocol 1");
  ExpectRefused("Engage", with_tunnel("endpoints-ipv4", g_variant_new_string("203.0.113.1")),
                "policy key \"endpoints-ipv4\" must have D-Bus type ay");
  std::string loopback = record;
  loopback[0] = 127;
  ExpectRefused("Engage", with_tunnel("endpoints-ipv4", packed(loopback)), "loopback",
                kErrorFailed);
}

TEST_F(BadInputTest, BadTunnels) {
  auto tunnels = [](GVariant* list) { return Engage("x", Dict({{"tunnels", list}})); };
  ExpectRefused("Engage", tunnels(Tunnels({""})), "empty", kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"abcdefghijklmnop"})), "longer than 15 bytes",
                kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"tun/0"})), "'/'", kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"t\xc3\xbcn0"})), "outside printable ASCII",
                kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"a\",\"eth0"})),
                "tunnel interface name \"a???eth0\" has a character that is not allowed",
                kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"wg*"})), "\"wg?\"", kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({"lo"})), "loopback", kErrorFailed);
  ExpectRefused("Engage", tunnels(Tunnels({})), "names no tunnel interface", kErrorFailed);
  ExpectRefused("Engage", Engage("x", Dict({})), "names no tunnel interface", kErrorFailed);
}

TEST_F(BadInputTest, TooManyEndpoints) {
  const size_t limit = 100000;
  ExpectRefused(
      "Engage",
      Engage("x", Dict({{"tunnels", Tunnels({"tun0"})}, {"endpoints", ManyEndpoints(limit + 1)}})),
      "the policy has 100001 endpoints; the limit is 100000");

  // A million: the bus may drop the message (and this connection), or the
  // guard refuses it. Either way nothing changes.
  GDBusConnection* own = bus().Connect();
  ASSERT_NE(own, nullptr);
  GVariant* million =
      Engage("x", Dict({{"tunnels", Tunnels({"tun0"})}, {"endpoints", ManyEndpoints(1000000)}}));
  const auto start = std::chrono::steady_clock::now();
  Reply r = CallGuard(own, "Engage", million, 120s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  g_dbus_connection_close_sync(own, nullptr, nullptr);
  g_object_unref(own);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty());
  std::printf("1,000,000 endpoints: %s: %s (after %.1f s; guard peak memory %s)\n",
              r.error_name.c_str(), r.error.c_str(), seconds, PeakMemory(guard().pid()).c_str());
  ExpectUnchanged();
}

TEST_F(BadInputTest, BadConnectionNames) {
  auto engage = [](const std::string& name) {
    return Engage(name, Dict({{"tunnels", Tunnels({"tun0"})}}));
  };
  ExpectRefused("Engage", engage(""), "the connection name is empty");
  ExpectRefused("Engage", engage("a\x01z"), "control character");
  ExpectRefused("Engage", engage("line\nbreak"), "control character");
  ExpectRefused("Engage", engage(std::string(1 << 20, 'x')), "longer than 256 bytes");
  ExpectRefused("Engage", engage("adopted"), "reserved", kErrorFailed);

  ExpectRefused("Release", g_variant_new("(s)", "never-engaged"),
                "connection \"never-engaged\" is not engaged", kErrorFailed);
  ExpectRefused("Release", g_variant_new("(s)", "a\x01z"), "control character");
  ExpectRefused("Release", g_variant_new("(s)", ""), "the connection name is empty");
  ExpectRefused("Release", g_variant_new("(s)", std::string(1 << 20, 'x').c_str()),
                "longer than 256 bytes");
  ExpectRefused("SetBlockAtBoot", g_variant_new("(sb)", "never-engaged", TRUE), "is not engaged",
                kErrorFailed);
  ExpectRefused("SetBlockAtBoot", g_variant_new("(sb)", std::string(1 << 20, 'x').c_str(), TRUE),
                "longer than 256 bytes");
  // Nor does a bad name reach the journal, where a newline would forge a line.
  const std::string log = guard().log();
  EXPECT_THAT(log, testing::Not(HasSubstr("line\nbreak")));
  EXPECT_LT(log.size(), 64u * 1024) << "a 1 MB name was logged";
}

TEST_F(BadInputTest, BadCommandLines) {
  ExpectCliRefused({"engage", "--tunnel", ""}, "a tunnel interface name is empty");
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--endpoint", "203.0.113.1"}, "203.0.113.1");
  // Does not resolve (the engaged table also stops the DNS query): nothing engaged.
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--endpoint", "nonexistent.invalid:51820"},
                   "endpoint nonexistent.invalid does not resolve");
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820", "--mark", "0"},
                   "--mark \"0\" is not a fwmark");
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--mode", "sideways"}, "sideways");
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--connection", std::string(300, 'c')},
                   "longer than 256 bytes");
  ExpectCliRefused({"frobnicate"}, "unknown command \"frobnicate\"");
  ExpectCliRefused({}, "Usage: nm-killswitch COMMAND");
  ExpectCliRefused({"engage", "--no-such-option"}, "no-such-option");
  ExpectCliRefused({"boot", "sideways"}, "say on or off");
  ExpectCliRefused({"release", "--all", "--connection", "base"},
                   "either --connection NAME or --all");
}

// Input without end is refused early, not read into memory: /dev/zero is
// one endless line; a file of comments beyond 16 MiB is too large.
TEST_F(BadInputTest, EndpointFilesAreBounded) {
  const auto t0 = std::chrono::steady_clock::now();
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--endpoints-from", "/dev/zero"},
                   "/dev/zero line 1 is longer than 1024 bytes; nothing was engaged");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  const std::string big = dir() / "endpoints";
  std::string comments;
  for (int i = 0; i < 1100000; ++i) comments += "# sixteen bytes\n";
  WriteFile(big, "203.0.113.1:51820\n" + comments);
  ExpectCliRefused({"engage", "--tunnel", "tun0", "--endpoints-from", big},
                   big + " is larger than 16777216 bytes; nothing was engaged");
  // A pipe works, as before (process substitution gives one).
  WriteFile(big, "# the servers\n203.0.113.1:51820\n\n[2001:db8::1]:443/tcp");
  Outcome ok = Cli({"engage", "--connection", "base", "--tunnel", "tun0", "--endpoints-from", big});
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
  EXPECT_THAT(ok.out, HasSubstr("2 endpoint(s)"));
}

}  // namespace
}  // namespace nmks::guardtest
