// wg-quick files: the real-world-shaped ones under tests/wg-quick/good parse
// and write back to the same Config (and to the golden text under
// tests/wg-quick/written); every file under tests/wg-quick/bad is refused
// with an error that names the exact line and never shows a key.
// NMKS_UPDATE_GOLDEN=1 rewrites the golden files.
#include "wireguard/wg_config.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <set>

#include "wireguard/wg_test_files.h"

namespace nmks::wg {
namespace {

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

Cidr C(const char* text) { return Cidr::Parse(text).value(); }
Address A(const char* text) { return Address::Parse(text).value(); }

TEST(KeyTest, AcceptsWireGuardKeys) {
  EXPECT_TRUE(ValidateKey("eKiSRe7hNIMJVPigCKkP/0pu4yRPvBMt4c8hRSaK+VI=", "k").ok());
  auto zero = DecodeKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero.value(), (std::array<uint8_t, 32>{}));
  auto key = DecodeKey("//////////////////////////////////////////8=");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key.value()[0], 0xff);
  EXPECT_EQ(key.value()[31], 0xff);
}

TEST(KeyTest, RefusesWhatIsNotExactly32Bytes) {
  struct Case {
    const char* key;
    const char* message;
  } cases[] = {
      {"", "PrivateKey is empty"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "decodes to 31 bytes"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "decodes to 33 bytes"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "decodes to 36 bytes"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "is 43 characters long"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=", "not valid base64"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAAAAA=", "not valid base64"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", "last base64 character"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A=", "not valid base64"},
  };
  for (const Case& c : cases) {
    Status s = ValidateKey(c.key, "PrivateKey");
    ASSERT_FALSE(s.ok()) << c.key;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    if (*c.key) {
      EXPECT_EQ(s.message().find(c.key), std::string::npos) << s.message();
    }
    EXPECT_FALSE(DecodeKey(c.key).ok());
  }
}

TEST(CidrTest, ParsesWithAndWithoutPrefix) {
  EXPECT_EQ(C("192.0.2.0/24").ToString(), "192.0.2.0/24");
  EXPECT_EQ(C("192.0.2.7").ToString(), "192.0.2.7/32");
  EXPECT_EQ(C("2001:db8::1").ToString(), "2001:db8::1/128");
  EXPECT_EQ(C("::/0").ToString(), "::/0");
  EXPECT_EQ(C("2001:DB8::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(C("10.0.0.0/08"), C("10.0.0.0/8"));
  for (const char* bad : {"192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1",
                          "192.0.2.0/+8", "192.0.2.0/8/8", "192.0.2.0 /8", "/8", "",
                          "192.0.2.0/1000", "example.com/8", "192.0.2/24"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
}

TEST(HostPortTest, ParsesAddressesAndNames) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  } cases[] = {
      {"192.0.2.1:51820", "192.0.2.1", 51820},
      {"[2001:db8::1]:443", "2001:db8::1", 443},
      {"vpn.example.net:1", "vpn.example.net", 1},
      {"vpn-1.example.net.:65535", "vpn-1.example.net.", 65535},
      {"localhost:51820", "localhost", 51820},
      {"xn--bcher-kva.example:51820", "xn--bcher-kva.example", 51820},
  };
  for (const Case& c : cases) {
    auto hp = HostPort::Parse(c.text);
    ASSERT_TRUE(hp.ok()) << c.text << ": " << hp.message();
    EXPECT_EQ(hp.value().host, c.host);
    EXPECT_EQ(hp.value().port, c.port);
    EXPECT_EQ(hp.value().ToString(), c.text);
  }
}

TEST(HostPortTest, RefusesAmbiguousOrBrokenEndpoints) {
  for (const char* bad : {
           "vpn.example.net",          // no port
           "192.0.2.1:0",              // port 0
           "192.0.2.1:65536",          // too large
           "192.0.2.1:",               // empty port
           "192.0.2.1:+80",            // sign
           "2001:db8::1:51820",        // IPv6 without brackets
           "[2001:db8::1]51820",       // no colon
           "[192.0.2.1]:51820",        // IPv4 in brackets
           "[vpn.example.net]:51820",  // name in brackets
           "1.2.3.256:51820",          // not an address, and not a name
           "0x7f000001:51820",         // inet_aton would read it as 127.0.0.1
           "0.0.0.0:51820",            // unspecified
           "[::]:51820",               // unspecified
           "-vpn.example.net:51820",   // label starts with '-'
           "vpn..example.net:51820",   // empty label
           "vpn example.net:51820",    // blank
           "b\xc3\xbc"
           "cher.example:1",  // not ASCII: use the xn-- form
           ":51820",          // no host
       }) {
    EXPECT_FALSE(HostPort::Parse(bad).ok()) << bad;
  }
}

TEST(SplitListTest, TrimsAndRefusesEmptyItems) {
  auto items = SplitList(" a ,b\t,  c ");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items.value(), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("").value().empty());
  EXPECT_TRUE(SplitList("  ").value().empty());
  for (const char* bad : {"a,,b", "a,", ",a", " , "}) EXPECT_FALSE(SplitList(bad).ok()) << bad;
}

TEST(ParseTest, ReadsAHandEditedFileLikeWgQuick) {
  // comments-whitespace.conf: BOM, odd case, tabs, comments, bare addresses,
  // repeated Address and AllowedIPs lines, "off", SaveConfig = false.
  auto config = ParseWgQuick(ReadTestFile("good/comments-whitespace.conf"));
  ASSERT_TRUE(config.ok()) << config.message();
  Config expected;
  expected.private_key = "IC24cE++6Vs/LiOMAbCYu6l2NDdd0cOcmk/9XSNLy0Y=";
  expected.addresses = {C("10.77.0.2/32"), C("fd77::2/128"), C("10.77.1.2/24")};
  expected.dns = {A("10.77.0.1")};
  expected.mtu = 1380;
  expected.listen_port = 40000;
  Peer peer;
  peer.public_key = "xIS0erzwqZyS0vFJ1wP7iFDYavMWrcdPJxkoyIdtxhQ=";
  peer.preshared_key = "8QRIMo3sG37PDisyUNAaANKN5aVv9z83M/P14Dufy10=";
  peer.allowed_ips = {C("10.77.0.0/24"), C("fd77::/64"), C("192.0.2.0/24")};
  peer.endpoint = HostPort{"192.0.2.77", 51820};
  expected.peers = {peer};
  EXPECT_EQ(config.value(), expected);
}

TEST(ParseTest, SortsDnsIntoServersAndSearchDomainsAsWgQuickDoes) {
  auto config = ParseWgQuick(ReadTestFile("good/dns-search.conf"));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config.value().dns, (std::vector<Address>{A("10.50.0.1"), A("2001:db8:50::53")}));
  EXPECT_EQ(config.value().dns_search,
            (std::vector<std::string>{"corp.example", "~internal.example", "lab.corp.example"}));
}

TEST(ParseTest, CrlfFileReadsLikeItsLfTwin) {
  std::string crlf = ReadTestFile("good/crlf.conf");
  ASSERT_NE(crlf.find("\r\n"), std::string::npos);
  std::string lf = ReplaceAll(crlf, "\r\n", "\n");
  auto a = ParseWgQuick(crlf);
  auto b = ParseWgQuick(lf);
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(a.value(), b.value());
  EXPECT_EQ(a.value().peers.at(0).endpoint->host, "vpn.example.org");
}

TEST(ParseTest, AcceptsSpacesAsSeparatorsInAddressAndDnsOnly) {
  std::string text = "[Interface]\nPrivateKey = " + std::string(kTestPrivateKey) +
                     "\nAddress = 10.0.0.2/32 fd00::2/128\nDNS = 10.0.0.1 corp.example\n"
                     "[Peer]\nPublicKey = " +
                     kTestPublicKey + "\nAllowedIPs = 10.0.0.0/8 192.168.0.0/16\n";
  auto config = ParseWgQuick(text);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.message().rfind("line 7: AllowedIPs", 0), 0u) << config.message();
  text = ReplaceAll(text, "10.0.0.0/8 ", "10.0.0.0/8, ");
  config = ParseWgQuick(text);
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config.value().addresses.size(), 2u);
  EXPECT_EQ(config.value().dns_search, std::vector<std::string>{"corp.example"});
}

// Every good file: parse, write, parse again gives the same Config, and the
// written text is the golden one under tests/wg-quick/written.
TEST(RoundTripTest, GoodFilesWriteBackToTheSameConfig) {
  auto files = TestFiles("good");
  ASSERT_GE(files.size(), 8u);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    auto config = ParseWgQuick(ReadTestFile("good/" + name));
    ASSERT_TRUE(config.ok()) << config.message();
    EXPECT_TRUE(ValidateConfig(config.value()).ok());
    std::string written = WriteWgQuick(config.value());
    auto again = ParseWgQuick(written);
    ASSERT_TRUE(again.ok()) << again.message() << "\n" << written;
    EXPECT_EQ(again.value(), config.value());
    EXPECT_EQ(WriteWgQuick(again.value()), written);
    CompareGolden("written/" + name, written);
  }
}

struct BadFile {
  const char* name;
  size_t line;
  const char* says;  // part of the message after "line N: "
};

const BadFile kBadFiles[] = {
    {"bad-base64.conf", 2, "PrivateKey is not valid base64"},
    {"key-31-bytes.conf", 7, "PublicKey decodes to 31 bytes"},
    {"key-33-bytes.conf", 7, "PublicKey decodes to 33 bytes"},
    {"key-not-canonical.conf", 7, "PublicKey is not a WireGuard key"},
    {"key-short.conf", 2, "PrivateKey decodes to 30 bytes"},
    {"pasted-key.conf", 2, "is not a key wg-quick(8) knows"},
    {"no-interface.conf", 4, "without an [Interface] section"},
    {"no-peer.conf", 4, "without a [Peer] section"},
    {"no-private-key.conf", 1, "[Interface] section has no PrivateKey"},
    {"empty.conf", 1, "without an [Interface] section"},
    {"duplicate-key.conf", 4, "PrivateKey is given twice in this section (first on line 2)"},
    {"duplicate-interface.conf", 10, "second [Interface] section (the first is on line 1)"},
    {"duplicate-public-key.conf", 12, "same as the one on line 7"},
    {"postup.conf", 5, "PostUp runs a shell command"},
    {"predown.conf", 5, "PreDown runs a shell command"},
    {"table.conf", 5, "Table is not supported: NetworkManager sets up the routes"},
    {"fwmark.conf", 5, "FwMark is not supported: the kill switch puts its own mark"},
    {"saveconfig-true.conf", 5, "SaveConfig = true is not supported"},
    {"unknown-key.conf", 9, "unknown key Description"},
    {"unknown-section.conf", 6, "unknown section [WireGuardPeer]"},
    {"key-before-section.conf", 1, "PrivateKey comes before any [Interface] or [Peer] section"},
    {"key-in-wrong-section.conf", 3, "PublicKey belongs in a [Peer] section"},
    {"peer-without-publickey.conf", 11, "this [Peer] section has no PublicKey"},
    {"allowedips-bad-prefix.conf", 8, "AllowedIPs: \"192.168.0.0/33\": the prefix length"},
    {"empty-list-item.conf", 8, "AllowedIPs: the list has an empty item"},
    {"endpoint-no-port.conf", 9, "Endpoint: \"vpn.example.net\" has no port"},
    {"endpoint-port-0.conf", 9, "Endpoint: \"192.0.2.1:0\": the port must be"},
    {"endpoint-port-65536.conf", 9, "Endpoint: \"192.0.2.1:65536\": the port must be"},
    {"endpoint-v6-no-brackets.conf", 9, "write an IPv6 endpoint in brackets"},
    {"endpoint-bad-host.conf", 9, "neither an IP address nor a valid host name"},
    {"listenport-0.conf", 5, "ListenPort: \"0\" is not a port from 1 to 65535"},
    {"mtu-too-small.conf", 5, "MTU \"100\" is not a number from 576 to 65535"},
    {"dns-bad-address.conf", 4, "DNS: \"10.0.0.300\" is not an IPv4 or IPv6 address"},
    {"missing-equals.conf", 8, "expected KEY = VALUE"},
    {"binary-nul.conf", 4, "NUL byte"},
    {"invalid-utf8.conf", 5, "not valid UTF-8"},
    {"control-char.conf", 2, "control character 0x1b"},
    {"random-bytes.conf", 1, ""},
    {"utf16.conf", 1, "UTF-16"},
    {"crlf-bad-prefix.conf", 8, "AllowedIPs: \"0.0.0.0/64\": the prefix length"},
    {"stray-cr.conf", 3, "carriage return"},
    {"non-breaking-space.conf", 3, "Address: the value contains a character that is not ASCII"},
};

// Base64 runs as long as a key in `text`: none may appear in a message.
std::vector<std::string> KeysIn(const std::string& text) {
  auto is_base64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  std::vector<std::string> keys;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && is_base64(text[j])) ++j;
    if (j - i >= 40) keys.push_back(text.substr(i, 40));
    i = j + 1;
  }
  return keys;
}

TEST(BadFileTest, EachIsRefusedNamingItsLine) {
  std::set<std::string> covered;
  for (const BadFile& bad : kBadFiles) {
    SCOPED_TRACE(bad.name);
    covered.insert(bad.name);
    std::string text = ReadTestFile(std::string("bad/") + bad.name);
    auto config = ParseWgQuick(text);
    ASSERT_FALSE(config.ok());
    std::string prefix = "line " + std::to_string(bad.line) + ": ";
    EXPECT_EQ(config.message().rfind(prefix, 0), 0u) << config.message();
    EXPECT_NE(config.message().find(bad.says), std::string::npos) << config.message();
    for (const std::string& key : KeysIn(text)) {
      EXPECT_EQ(config.message().find(key), std::string::npos) << "message shows a key";
    }
    EXPECT_TRUE(g_utf8_validate(config.message().data(),
                                static_cast<gssize>(config.message().size()), nullptr));
  }
  for (const std::string& name : TestFiles("bad")) {
    EXPECT_TRUE(covered.count(name)) << "bad/" << name << " has no expectation here";
  }
}

TEST(BadFileTest, RefusesEveryScriptHook) {
  for (const char* hook : {"PreUp", "PostUp", "PreDown", "PostDown", "postup", "POSTDOWN"}) {
    std::string text = "[Interface]\nPrivateKey = " + std::string(kTestPrivateKey) + "\n" + hook +
                       " = true\n[Peer]\nPublicKey = " + kTestPublicKey + "\n";
    auto config = ParseWgQuick(text);
    ASSERT_FALSE(config.ok()) << hook;
    EXPECT_EQ(config.message().rfind("line 3: ", 0), 0u) << config.message();
    EXPECT_NE(config.message().find("never runs commands"), std::string::npos);
  }
}

// A file larger than 1 MiB is refused at the line where it crosses the
// limit, without reading further.
TEST(BadFileTest, HugeFileNamesTheLineAtTheLimit) {
  std::string line(63, '#');
  line += '\n';  // 64 bytes: 16384 lines fill 1 MiB exactly
  std::string text = ValidFile();
  std::string huge;
  while (huge.size() < kMaxFileBytes) huge += line;
  ASSERT_EQ(huge.size(), kMaxFileBytes);
  // Exactly at the limit is fine.
  std::string padding = std::string(kMaxFileBytes - text.size() - 1, '#') + "\n";
  auto at_limit = ParseWgQuick(padding + text);
  EXPECT_TRUE(at_limit.ok()) << at_limit.message();
  huge += text;
  auto config = ParseWgQuick(huge);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.message().rfind("line 16385: the file is larger than 1048576 bytes", 0), 0u)
      << config.message();
}

TEST(BadFileTest, TooManyPeersNamesTheFirstPeerPastTheLimit) {
  // [Interface] and PrivateKey on lines 1-2, then two lines per peer.
  std::string text = "[Interface]\nPrivateKey = " + std::string(kTestPrivateKey) + "\n";
  for (size_t i = 0; i < kMaxPeers; ++i) text += "[Peer]\nPublicKey = " + NumberedKey(i) + "\n";
  auto config = ParseWgQuick(text);
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config.value().peers.size(), kMaxPeers);
  text += "[Peer]\nPublicKey = " + NumberedKey(kMaxPeers) + "\n";
  config = ParseWgQuick(text);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.message(), "line 20003: more than 10000 [Peer] sections");
}

TEST(ValidateConfigTest, RefusesWhatTheParserWouldRefuse) {
  Config good = ParseWgQuick(ValidFile()).value();
  ASSERT_TRUE(ValidateConfig(good).ok());
  auto refused = [&](auto change) {
    Config c = good;
    change(c);
    return !ValidateConfig(c).ok();
  };
  EXPECT_TRUE(refused([](Config& c) { c.peers.clear(); }));
  EXPECT_TRUE(refused([](Config& c) { c.private_key = ""; }));
  EXPECT_TRUE(refused([](Config& c) { c.peers.push_back(c.peers[0]); }));
  EXPECT_TRUE(refused([](Config& c) { c.peers[0].preshared_key = "short"; }));
  EXPECT_TRUE(refused([](Config& c) { c.peers[0].endpoint = HostPort{"bad host", 1}; }));
  EXPECT_TRUE(refused([](Config& c) { c.peers[0].endpoint = HostPort{"192.0.2.1\n[Peer]", 1}; }));
  EXPECT_TRUE(refused([](Config& c) { c.peers[0].endpoint = HostPort{"192.0.2.1", 0}; }));
  EXPECT_TRUE(refused([](Config& c) {
    c.peers[0].allowed_ips.push_back(Cidr{A("10.0.0.0"), 33});
  }));
  EXPECT_TRUE(refused([](Config& c) { c.mtu = 100; }));
  EXPECT_TRUE(refused([](Config& c) { c.listen_port = 0; }));
  EXPECT_TRUE(refused([](Config& c) { c.dns_search.push_back("bad domain"); }));
  EXPECT_TRUE(refused([](Config& c) { c.dns.push_back(A("0.0.0.0")); }));
  EXPECT_TRUE(refused([](Config& c) { c.addresses.push_back(C("::/0")); }));
}

}  // namespace
}  // namespace nmks::wg
