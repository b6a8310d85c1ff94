// `nm-killswitch verify`: the self-test a user can run. The guard compares
// the kernel's table with the engaged policy; then unprivileged probes try
// to get out through every interface that is not a tunnel, to DNS outside
// the tunnel, over IPv6, and to each endpoint without the VPN's mark. Each
// must be stopped by the kill switch, shown by its own counters moving; a
// probe that was answered, accepted or met silence while they stayed got
// out (or may have).
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/probe.h"
#include "cli/verbs.h"
#include "guard/client.h"
#include "guard/policy_variant.h"
#include "rules/ruleset.h"

namespace nmks::cli {
namespace {

struct LinkAttrs {
  const char* name = nullptr;
  bool enslaved = false;
};

int OnLinkAttr(const nlattr* attr, void* data) {
  auto* link = static_cast<LinkAttrs*>(data);
  if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0) {
    link->name = mnl_attr_get_str(attr);
  } else if (mnl_attr_get_type(attr) == IFLA_MASTER) {
    link->enslaved = true;
  }
  return MNL_CB_OK;
}

int OnLink(const nlmsghdr* nlh, void* data) {
  LinkAttrs link;
  mnl_attr_parse(nlh, sizeof(ifinfomsg), OnLinkAttr, &link);
  if (link.name != nullptr && link.enslaved) {
    static_cast<std::set<std::string>*>(data)->insert(link.name);
  }
  return MNL_CB_OK;
}

// Interfaces enslaved to another (bridge and bond ports, such as the veth of
// a container's bridge): packets are routed through their master, never
// sent from them, so a probe bound to one tests nothing. Asked of the
// kernel (rtnetlink): /sys may belong to another network namespace.
std::set<std::string> EnslavedInterfaces() {
  std::set<std::string> out;
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == nullptr) return out;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 &&
      mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
    const unsigned portid = mnl_socket_get_portid(nl);
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
      if (n <= 0 ||
          mnl_cb_run(buf.data(), static_cast<size_t>(n), 1, portid, OnLink, &out) <= MNL_CB_STOP) {
        break;
      }
    }
  }
  mnl_socket_close(nl);
  return out;
}

// Interfaces that are up, other than loopback, the tunnels and ports of a
// bridge or bond.
std::vector<std::string> PhysicalInterfaces(const std::set<std::string>& tunnels) {
  const std::set<std::string> enslaved = EnslavedInterfaces();
  std::set<std::string> names;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
      if (tunnels.count(i->ifa_name) || enslaved.count(i->ifa_name)) continue;
      names.insert(i->ifa_name);
    }
    freeifaddrs(list);
  }
  return {names.begin(), names.end()};
}

// Name servers from resolv.conf that are not on this host.
std::vector<Address> NameServers() {
  std::vector<Address> out;
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    auto a = Address::Parse(value);
    if (!a.ok()) continue;
    bool loopback =
        a.value().family == Address::Family::kIpv4 ? a.value().bytes[0] == 127 : value == "::1";
    if (!loopback) out.push_back(a.value());
  }
  return out;
}

// The kill switch's counters of packets stopped on their way out (the
// output chain's reasons), as the guard reads them.
Result<StopCounts> StoppedSoFar(GuardClient& guard) {
  auto status = guard.GetStatus();
  if (!status.ok()) return status.status();
  StopCounts counts;
  for (const auto& [why, n] : status.value().stopped) {
    Stop stop = StopFromComment(why);
    if (stop == Stop::kBlocked || stop == Stop::kDns || stop == Stop::kIpv6 ||
        stop == Stop::kLoop) {
      counts[stop] += n;
    }
  }
  return counts;
}

// Runs `probe` and judges it by the kill switch's counters, again (up to
// three times) while other programs' packets are being stopped too.
ProbeResult Try(GuardClient& guard, const Probe& probe) {
  ProbeResult r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto before = StoppedSoFar(guard);
    Attempt sent = RunProbe(probe);
    auto after = StoppedSoFar(guard);
    if (!before.ok() || !after.ok()) {
      return {Outcome::kUntested, Format(_("the kill switch's counters cannot be read: %s"),
                                         (before.ok() ? after : before).message().c_str())};
    }
    Evidence evidence = CountersMoved(probe, before.value(), after.value());
    r = Judge(sent, evidence);
    if (r.outcome != Outcome::kUntested || evidence != Evidence::kCrowded) break;
  }
  return r;
}

// What the self-test tries: documentation addresses and DNS (the system's
// servers too) on every physical interface, and each marked endpoint from
// an unmarked socket.
std::vector<Probe> ProbesFor(const Policy& merged) {
  std::set<std::string> tunnels(merged.tunnels.begin(), merged.tunnels.end());
  std::vector<Probe> probes;
  const Address doc4 = Address::Parse("192.0.2.1").value();
  const Address doc6 = Address::Parse("2001:db8::1").value();
  const Address dns4 = Address::Parse("192.0.2.53").value();
  for (const std::string& dev : PhysicalInterfaces(tunnels)) {
    probes.push_back({Protocol::kUdp, doc4, 9, dev});
    probes.push_back({Protocol::kTcp, doc4, 443, dev});
    probes.push_back({Protocol::kUdp, doc6, 9, dev});
    probes.push_back({Protocol::kTcp, doc6, 443, dev});
    probes.push_back({Protocol::kUdp, dns4, 53, dev});
    probes.push_back({Protocol::kTcp, dns4, 53, dev});
    for (const Address& ns : NameServers()) {
      probes.push_back({Protocol::kUdp, ns, 53, dev});
      probes.push_back({Protocol::kTcp, ns, 53, dev});
    }
  }
  std::set<std::pair<Address, uint16_t>> done;
  for (const Endpoint& e : merged.endpoints) {
    if (!e.mark) continue;  // endpoints without a mark are open to every program by design
    if (!done.insert({e.address, e.port}).second) continue;
    probes.push_back({e.protocol, e.address, e.port, ""});
  }
  return probes;
}

const char* VerdictOf(Outcome outcome) {
  switch (outcome) {
    case Outcome::kStopped:
      return _("stopped ");
    case Outcome::kNoRoute:
      return _("no route");
    case Outcome::kGotOut:
      return _("GOT OUT ");
    case Outcome::kUntested:
      return _("UNTESTED");
  }
  return "";
}

struct ProbeCounts {
  size_t got_out = 0;
  size_t untested = 0;
};

// Runs each probe and prints what the kernel did with it.
ProbeCounts RunProbes(GuardClient& guard, const std::vector<Probe>& probes) {
  std::printf(_("Probes from an unprivileged socket (the kill switch must stop each):\n"));
  ProbeCounts counts;
  for (const Probe& p : probes) {
    // Only the table's own counters show that the kill switch stopped the
    // probe: a reset or ICMP error made by our table looks just like one
    // from the far side, and silence like a packet lost out there.
    ProbeResult r = Try(guard, p);
    if (r.outcome == Outcome::kGotOut) ++counts.got_out;
    if (r.outcome == Outcome::kUntested) ++counts.untested;
    std::printf("  %s  %s (%s)\n", VerdictOf(r.outcome), DescribeProbe(p).c_str(),
                r.detail.c_str());
  }
  if (probes.empty()) std::printf(_("  (no interface besides loopback and the tunnels is up)\n"));
  return counts;
}

}  // namespace

int VerifyCommand(int argc, char** argv) {
  int code = 0;
  if (!ParseVerbOptions(
          nullptr,
          _("Self-test: check that the table in the kernel is the engaged policy, then try to "
            "send packets that must not get out and show what the kernel did with each. Exits "
            "non-zero if anything got out."),
          nullptr, &argc, &argv, &code)) {
    return code;
  }

  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  auto findings = guard.value()->Verify();
  auto raw_status = guard.value()->GetStatus();
  if (!findings.ok() || !raw_status.ok()) {
    PrintError(findings.ok() ? raw_status.message() : findings.message());
    return 1;
  }
  const bool table_ok = findings.value().ok;
  const GuardStatus& status = raw_status.value();

  std::printf(_("Table in the kernel:\n"));
  for (const std::string& f : findings.value().lines) {
    std::printf("  %s %s\n", table_ok ? "ok  " : "FAIL", f.c_str());
  }
  if (!status.engaged) {
    std::printf(_("Result: the kill switch is not engaged, so there is nothing to test.\n"));
    return 1;
  }

  // Status lists up to 16 endpoints of each connection: the marked ones among
  // them are probed (each probe takes two guard calls; 100,000 would not end).
  const ProbeCounts counts = RunProbes(*guard.value(), ProbesFor(Merge(status.connections)));
  const size_t got_out = counts.got_out, untested = counts.untested;

  if (got_out > 0) {
    std::printf(
        _("Result: %zu probe(s) got out (or may have): the kill switch is NOT protecting this "
          "machine.\n"),
        got_out);
    return 1;
  }
  if (!table_ok || untested > 0) {
    std::printf(_("Result: nothing got out, but the self-test found problems (see above).\n"));
    return 1;
  }
  std::printf(_("Result: nothing got out. The kill switch works.\n"));
  return 0;
}

}  // namespace nmks::cli
