#include "tests/world/world.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <variant>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace nmks::world {
namespace {

bool IsIpv6(const std::string& address) { return address.find(':') != std::string::npos; }

// What both far ends answer for, on loopback: whole ranges by local routes,
// and one IPv6 address a socket can bind to.
constexpr char kInternet[] =
    "route add local 203.0.113.0/25 dev lo table local\n"
    "route add local 2001:db8:ff::/64 dev lo table local\n"
    "addr add 2001:db8:ff::1/128 dev lo nodad\n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// True once the kernel configured IPv6 on `dev` (in the calling thread's
// namespace): a link-local address, nothing tentative, the multicast route.
bool Ipv6Ready(const std::string& dev) {
  bool link_local = false;
  std::istringstream addrs(ReadFile("/proc/thread-self/net/if_inet6"));
  std::string addr, index, prefix, scope, flags, name;
  while (addrs >> addr >> index >> prefix >> scope >> flags >> name) {
    if (name != dev) continue;
    if (std::stoul(flags, nullptr, 16) & 0x40) return false;  // IFA_F_TENTATIVE
    if (addr.rfind("fe80", 0) == 0) link_local = true;
  }
  std::string routes = ReadFile("/proc/thread-self/net/ipv6_route");
  std::istringstream lines(routes);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ff000000000000000000000000000000 08", 0) == 0 && line.size() >= dev.size() &&
        line.compare(line.size() - dev.size(), dev.size(), dev) == 0) {
      return link_local;
    }
  }
  return false;
}

// The kernel sets IPv6 up on a veth only once it has carrier, a moment
// after both ends are up; IPv6 sends before that fail with ENETUNREACH.
void AwaitIpv6(const Netns& ns, const std::string& dev) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      NetnsScope in(ns);
      if (Ipv6Ready(dev)) return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("IPv6 did not come up on " + dev + " in " + ns.name());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string TunnelRoute(const std::string& dest) {
  return "route replace " + dest + " via " + (IsIpv6(dest) ? kVpnTun6 : kVpnTun4) + " dev tun0\n";
}

}  // namespace

World::World() {
  client.Ip("link add eth0 type veth peer name client0 netns " + router.name() +
            "\n"
            "addr add 198.51.100.2/24 dev eth0\n"
            "addr add 2001:db8:1::2/64 dev eth0 nodad\n"
            "link set eth0 up\n"
            "route add default via 198.51.100.1\n"
            "route add default via 2001:db8:1::1\n");
  router.Ip(std::string(kInternet) +
            "route add local 10.1.0.0/24 dev lo table local\n"
            "route add local 172.16.1.0/24 dev lo table local\n"
            "route add local 192.168.1.0/24 dev lo table local\n"
            "route add local 169.254.1.0/24 dev lo table local\n"
            "route add local 100.64.0.0/24 dev lo table local\n"
            "route add local fd00:1::/64 dev lo table local\n"
            "addr add 198.51.100.1/24 dev client0\n"
            "addr add 2001:db8:1::1/64 dev client0 nodad\n"
            "addr add fe80::1/64 dev client0 nodad\n"
            "link set client0 up\n");
  vpn.Ip(kInternet);
  MakeTunnel();
  AwaitIpv6(client, "eth0");
  AwaitIpv6(router, "client0");
}

World::~World() = default;

void World::MakeTunnel() {
  client.Ip("link add tun0 type veth peer name client0 netns " + vpn.name() +
            "\n"
            "addr add 192.0.2.2/24 dev tun0\n"
            "addr add 2001:db8:2::2/64 dev tun0 nodad\n"
            "link set tun0 up\n");
  vpn.Ip(
      "addr add 192.0.2.1/24 dev client0\n"
      "addr add 2001:db8:2::1/64 dev client0 nodad\n"
      "link set client0 up\n" +
      std::string(guest_ ? "route add 203.0.113.128/25 via 192.0.2.2\n" : ""));
  AwaitIpv6(client, "tun0");
  AwaitIpv6(vpn, "client0");
  std::string routes;
  for (const std::string& dest : tunnel_routes_) routes += TunnelRoute(dest);
  if (!routes.empty()) client.Ip(routes);
}

void World::RouteViaTunnel(const std::string& dest) {
  tunnel_routes_.push_back(dest);
  client.Ip(TunnelRoute(dest));
}

void World::RecreateTunnel() {
  client.Ip("link del tun0\n");
  MakeTunnel();
}

const Netns& World::AddGuest() {
  if (guest_) return *guest_;
  guest_ = std::make_unique<Netns>("g");
  client.Sysctl("net.ipv4.ip_forward", "1");
  client.Ip("link add guest0 type veth peer name eth0 netns " + guest_->name() +
            "\n"
            "addr add 203.0.113.129/25 dev guest0\n"
            "link set guest0 up\n");
  guest_->Ip(
      "addr add 203.0.113.130/25 dev eth0\n"
      "link set eth0 up\n"
      "route add default via 203.0.113.129\n");
  vpn.Ip("route add 203.0.113.128/25 via 192.0.2.2\n");
  router.Ip("route add 203.0.113.128/25 via 198.51.100.2\n");
  return *guest_;
}

Status World::Install(const Policy& policy) { return Install(BuildRuleset(policy)); }

Status World::Install(const Ruleset& ruleset) { return writer().Install(ruleset); }

TableWriter& World::writer() {
  if (!writer_) writer_ = OpenWriter(client, Ownership::kOwned);
  return *writer_;
}

uint64_t World::Stopped(Stop stop) {
  auto state = writer().Read();
  if (!state.ok()) throw std::runtime_error("cannot read the table: " + state.message());
  return StoppedBy(state.value(), stop);
}

std::unique_ptr<TableWriter> OpenWriter(const Netns& ns, Ownership ownership) {
  NetnsScope in(ns);
  auto writer = TableWriter::Open(ownership);
  if (!writer.ok()) throw std::runtime_error("cannot open a TableWriter: " + writer.message());
  return std::move(writer).value();
}

Result<TableState> ReadTableIn(const Netns& ns, const char* name) {
  NetnsScope in(ns);
  return ReadTable(name);
}

uint64_t StoppedBy(const TableState& state, Stop stop) {
  uint64_t packets = 0;
  for (const RuleDef& rule : state.ruleset.rules) {
    if (rule.stop != stop) continue;
    for (const Insn& insn : rule.insns) {
      if (const auto* c = std::get_if<Counter>(&insn)) packets += c->packets;
    }
  }
  return packets;
}

std::string ListTable(const Netns& ns) {
  CommandResult r = ns.Run({"nft", "list", "table", "inet", kTableName});
  return r.ok() ? r.output : "";
}

Policy TunnelOnly(const std::string& tunnel) {
  Policy p;
  p.tunnels = {tunnel};
  return p;
}

Endpoint Unmarked(const char* text) {
  auto e = Endpoint::Parse(text);
  if (!e.ok()) throw std::runtime_error(e.message());
  return e.value();
}

Endpoint Marked(const char* text, uint32_t mark) {
  Endpoint e = Unmarked(text);
  e.mark = mark;
  return e;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

void KernelTest::SetUp() {
  NMKS_REQUIRE_ROOT();
  world_ = std::make_unique<World>();
}

uint64_t KernelTest::Leaks(uint16_t port) {
  Tally tally(world().router, "ip daddr 203.0.113.99 udp dport " + std::to_string(port));
  ProbeResult r = Send(world().client, {.to = "203.0.113.99", .port = port, .count = 2});
  return tally.Await(r.sent);
}

}  // namespace nmks::world
