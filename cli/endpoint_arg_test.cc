// `engage --endpoint` and `--endpoints-from`: what a person writes becomes
// endpoints, a host name through the same resolver as the VPN service's,
// and every mistake is an error that names it (nothing half-read). No test
// here asks DNS (it runs outside any namespace): a name that does not
// resolve is tested in the guard suite's BadInputTest, inside its own.
#include "cli/endpoint_arg.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace nmks::cli {
namespace {

std::string Error(const std::string& text) {
  auto r = ParseEndpointArg(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.message();
}

TEST(EndpointArgTest, AddressLiteralsAreTakenAsWritten) {
  auto v4 = ParseEndpointArg("192.0.2.7:51820");
  ASSERT_TRUE(v4.ok()) << v4.message();
  ASSERT_EQ(v4.value().size(), 1u);
  EXPECT_EQ(v4.value()[0].ToString(), "192.0.2.7:51820/udp");
  auto v6 = ParseEndpointArg("[2001:db8::7]:443/tcp");
  ASSERT_TRUE(v6.ok()) << v6.message();
  EXPECT_EQ(v6.value()[0].ToString(), "[2001:db8::7]:443/tcp");
}

TEST(EndpointArgTest, AHostNameThatGivesOnlyLoopbackIsRefused) {
  // localhost is in /etc/hosts (127.0.0.1, ::1), so no DNS query: it resolves, but a
  // loopback address is never a VPN server, as in the service and the hook.
  std::string m = Error("localhost:51820");
  EXPECT_NE(m.find("endpoint localhost has no usable address"), std::string::npos) << m;
  EXPECT_NE(m.find("nothing was engaged"), std::string::npos) << m;
}

TEST(EndpointArgTest, PortAndProtocolMistakesAreNamedBeforeAnyLookup) {
  EXPECT_NE(Error("vpn.nmks-test.invalid:0").find("the port must be a number from 1 to 65535"),
            std::string::npos);
  EXPECT_NE(Error("vpn.nmks-test.invalid:51820/sctp").find("the protocol must be udp or tcp"),
            std::string::npos);
  EXPECT_NE(Error("[vpn.nmks-test.invalid]:51820").find("is not an IPv4 or IPv6 address"),
            std::string::npos);
  EXPECT_NE(Error("2001:db8::7:51820").find("[ADDRESS]:PORT"), std::string::npos);
}

TEST(EndpointArgTest, AFileWithOneBadLineIsRefusedWhole) {
  char path[] = "/tmp/nmks-endpoints-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "# servers\n192.0.2.1:51820\n\n  [2001:db8::1]:51820/tcp  \n"
                      << "192.0.2.2:70000\n";
  auto bad = ReadEndpointFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("line 5"), std::string::npos) << bad.message();
  std::ofstream(path) << "# servers\n192.0.2.1:51820\n\n  [2001:db8::1]:51820/tcp  \n";
  auto good = ReadEndpointFile(path);
  unlink(path);
  ASSERT_TRUE(good.ok()) << good.message();
  ASSERT_EQ(good.value().size(), 2u);
  EXPECT_EQ(good.value()[1].ToString(), "[2001:db8::1]:51820/tcp");
}

TEST(EndpointArgTest, LinesAcrossReadsCrlfAndNoFinalNewline) {
  // 6,000 CRLF lines (102,000 bytes) cross the reader's 64 KiB reads; the
  // last line has no newline.
  char path[] = "/tmp/nmks-endpoints-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 6000; ++i) {
      f << "198.51." << i / 250 << "." << i % 250 + 1 << ":51820/udp" << (i < 5999 ? "\r\n" : "");
    }
  }
  auto r = ReadEndpointFile(path);
  unlink(path);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r.value().size(), 6000u);
  EXPECT_EQ(r.value()[0].ToString(), "198.51.0.1:51820/udp");
  EXPECT_EQ(r.value()[5999].ToString(), "198.51.23.250:51820/udp");
}

}  // namespace
}  // namespace nmks::cli
