// nm-killswitch-bench: the numbers behind the README, measured side by side
// in one run, in throwaway network namespaces (as root). Prints markdown.
//
//   1. engage latency (commit + read-back) for 1 .. 100,000 endpoints:
//      `nm-killswitch engage` through the guard, `nft -f` of the same
//      rendered ruleset, and the engine in-process;
//   2. per-packet cost: TCP and UDP throughput across a veth pair with no
//      table, with the table (through the tunnel rule, and to an endpoint
//      with 1 and with 100,000 endpoints in the set), and beside a
//      distribution firewall's stateful table;
//   3. watch mode: the time from another process deleting the table to the
//      guard having it back; Repair() with nothing to repair;
//   4. our VPN with a real NetworkManager: `nmcli connection up` to the
//      table engaged and to the first packet through the tunnel;
//   5. the dispatcher hook: its wall time per NetworkManager event.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "guard/guard.h"
#include "rules/nft_socket.h"
#include "rules/nft_text.h"
#include "rules/ruleset.h"
#include "rules/table_codec.h"
#include "rules/table_writer.h"
#include "tests/nmworld/nm_world.h"
#include "tests/nmworld/openvpn_world.h"
#include "tests/world/netns.h"

namespace nmks::bench {
namespace {

using Clock = std::chrono::steady_clock;
using world::Netns;
uint64_t plugin_rss_ = 0, guard_rss_ = 0;
std::string status_line_;
using world::NetnsScope;

uint64_t RssKb(pid_t pid);

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The value 95% of a sorted sample do not exceed (nearest rank).
double Percentile95(const std::vector<double>& sorted) {
  if (sorted.empty()) return 0;
  size_t rank = (sorted.size() * 95 + 99) / 100;
  return sorted[rank - 1];
}

// Throws, so every namespace and process made so far is cleaned up on the
// way out.
[[noreturn]] void Die(const std::string& what) { throw std::runtime_error(what); }

Policy PolicyWith(size_t endpoints, uint16_t port_base = 1024) {
  Policy p;
  p.tunnels = {"tun0"};
  for (size_t i = 0; i < endpoints; ++i) {
    Endpoint e;
    e.address = Address::Parse("203.0.113." + std::to_string(i % 250 + 1)).value();
    e.port = static_cast<uint16_t>(port_base + i / 250);
    e.protocol = Protocol::kUdp;
    p.endpoints.push_back(e);
  }
  Normalize(p);
  return p;
}

std::string TempFile(const std::string& name, const std::string& content) {
  std::string path = "/tmp/nmks-bench-" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << content;
  return path;
}

// --- 1. engage latency ---------------------------------------------------------

struct PrivateBus {
  std::string dir;
  pid_t pid = -1;
  PrivateBus() {
    char tmpl[] = "/tmp/nmks-bench-bus.XXXXXX";
    dir = mkdtemp(tmpl);
    chmod(dir.c_str(), 0755);
    std::ofstream(dir + "/bus.conf")
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
           "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>system</type><listen>unix:path="
        << dir
        << "/bus.sock</listen><auth>EXTERNAL</auth><policy context=\"default\">"
           "<allow user=\"*\"/><allow own=\"*\"/><allow send_type=\"method_call\"/>"
           "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
           "</policy></busconfig>\n";
    auto r =
        world::Run({"dbus-daemon", "--config-file=" + dir + "/bus.conf", "--fork", "--print-pid"});
    if (!r.ok()) Die("cannot start dbus-daemon: " + r.output);
    pid = std::atoi(r.output.c_str());
    setenv("DBUS_SYSTEM_BUS_ADDRESS", ("unix:path=" + dir + "/bus.sock").c_str(), 1);
  }
  ~PrivateBus() {
    if (pid > 0) kill(pid, SIGTERM);
    world::Run({"rm", "-rf", dir});
  }
};

struct GuardProcess {
  pid_t pid = -1;
  GuardProcess(const Netns& ns, const std::string& dir, const char* protection) {
    pid = fork();
    if (pid == 0) {
      if (setns(ns.fd(), CLONE_NEWNET) != 0) _exit(127);
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      std::string state = dir + "/state", boot = dir + "/boot.nft";
      execl(NMKS_BUILD_DIR "/guard/nm-killswitch-guard", "nm-killswitch-guard", "--protection",
            protection, "--state-file", state.c_str(), "--boot-file", boot.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      if (ns.Run({NMKS_BUILD_DIR "/cli/nm-killswitch", "status"}).ok()) return;
      usleep(50000);
    }
    Die("the guard did not come up");
  }
  ~GuardProcess() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// A table writer of the engine's own, in `ns`.
std::unique_ptr<TableWriter> WriterIn(const Netns& ns) {
  NetnsScope in(ns);
  auto w = TableWriter::Open(Ownership::kOwned);
  if (!w.ok()) Die(w.message());
  return std::move(w).value();
}

double Worst(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// Two policies of the same size, alternated, so every run replaces a table:
// as nft input, as --endpoints-from files and as the engine's rulesets.
struct EngageInputs {
  std::string nft[2], endpoints[2];
  Ruleset rulesets[2];
};

EngageInputs EngageInputsFor(size_t n) {
  EngageInputs in;
  const Policy policies[2] = {PolicyWith(n, 1024), PolicyWith(n, 30000)};
  for (int k = 0; k < 2; ++k) {
    in.rulesets[k] = BuildRuleset(policies[k]);
    in.nft[k] = TempFile(
        k ? "b.nft" : "a.nft",
        "table inet nm-killswitch\ndelete table inet nm-killswitch\n" + RenderNft(in.rulesets[k]));
    std::string text;
    for (const Endpoint& e : policies[k].endpoints) text += e.ToString() + "\n";
    in.endpoints[k] = TempFile(k ? "b.ep" : "a.ep", text);
  }
  return in;
}

// Milliseconds per run of each way to install the table. Where engage's
// time goes besides the table: a whole `nm-killswitch status` (process
// start, D-Bus to the guard, no read-back: nothing changed), and the
// engine's read-back alone.
struct EngageTimes {
  std::vector<double> cli, nft, engine, status, read_back;
};

EngageTimes TimeEngage(const EngageInputs& in, int runs, const Netns& guard_ns, const Netns& nft_ns,
                       TableWriter& writer) {
  EngageTimes t;
  for (int i = 0; i < runs; ++i) {
    const int k = i % 2;
    auto t0 = Clock::now();
    auto r = guard_ns.Run({NMKS_BUILD_DIR "/cli/nm-killswitch", "engage", "--connection", "bench",
                           "--tunnel", "tun0", "--endpoints-from", in.endpoints[k]});
    if (!r.ok()) Die("engage failed: " + r.output);
    t.cli.push_back(Ms(Clock::now() - t0));

    t0 = Clock::now();
    r = nft_ns.Run({"nft", "-f", in.nft[k]});
    if (!r.ok()) Die("nft -f failed: " + r.output.substr(0, 500));
    t.nft.push_back(Ms(Clock::now() - t0));

    t0 = Clock::now();
    Status s = writer.Install(in.rulesets[k]);
    if (!s.ok()) Die("install failed: " + s.message());
    t.engine.push_back(Ms(Clock::now() - t0));

    t0 = Clock::now();
    s = writer.Check(in.rulesets[k]);
    if (!s.ok()) Die("read-back failed: " + s.message());
    t.read_back.push_back(Ms(Clock::now() - t0));

    t0 = Clock::now();
    r = guard_ns.Run({NMKS_BUILD_DIR "/cli/nm-killswitch", "status"});
    if (!r.ok()) Die("status failed: " + r.output);
    t.status.push_back(Ms(Clock::now() - t0));
  }
  return t;
}

// What the guard keeps and what Status costs with 100,000 engaged.
void StatusAtScale(const Netns& guard_ns, pid_t guard_pid) {
  guard_rss_ = RssKb(guard_pid);
  std::vector<double> status;
  size_t json_bytes = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto st = guard_ns.Run({NMKS_BUILD_DIR "/cli/nm-killswitch", "status", "--json"});
    status.push_back(Ms(Clock::now() - t0));
    if (!st.ok()) Die("status failed: " + st.output);
    json_bytes = st.output.size();
  }
  status_line_ = Format(
      "With 100,000 endpoints engaged: guard resident memory %llu KiB (%.1f MiB); "
      "`nm-killswitch status --json` %.1f ms median, %.1f ms worst (%zu bytes).",
      static_cast<unsigned long long>(guard_rss_), guard_rss_ / 1024.0, Median(status),
      Worst(status), json_bytes);
}

void EngageLatency(size_t only_size) {
  std::printf("## Engage latency (commit + read-back), median and worst of interleaved runs\n\n");
  std::printf(
      "| endpoints | `nm-killswitch engage` | `nft -f` (same ruleset) | engine in-process | "
      "of it, the read-back | `nm-killswitch status` | nft -f / engage (median) | (worst) "
      "|\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  PrivateBus bus;
  Netns guard_ns("bg"), nft_ns("bn"), engine_ns("be");
  // The guard's state where a real system keeps it: /run is a tmpfs there
  // (here /tmp may be a disk, where saving the state file waits for fsync).
  char state_tmpl[] = "/dev/shm/nmks-bench-state.XXXXXX";
  const std::string state_dir = mkdtemp(state_tmpl);
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() { world::Run({"rm", "-rf", dir}); }
  } remove_state{state_dir};
  GuardProcess guard(guard_ns, state_dir, "auto");
  std::unique_ptr<TableWriter> writer = WriterIn(engine_ns);
  for (size_t n : {size_t{1}, size_t{100}, size_t{10000}, size_t{100000}}) {
    if (only_size != 0 && n != only_size) continue;
    const EngageInputs in = EngageInputsFor(n);
    // 21 runs at 10,000, where the ratio is closest to its target.
    const int runs = n >= 100000 ? 3 : n >= 10000 ? 21 : 11;
    const EngageTimes t = TimeEngage(in, runs, guard_ns, nft_ns, *writer);
    std::printf(
        "| %zu | %.1f ms (worst %.1f) | %.1f ms (worst %.1f) | %.1f ms (worst %.1f) | "
        "%.1f ms | %.1f ms | %.2fx | %.2fx |\n",
        n, Median(t.cli), Worst(t.cli), Median(t.nft), Worst(t.nft), Median(t.engine),
        Worst(t.engine), Median(t.read_back), Median(t.status), Median(t.nft) / Median(t.cli),
        Worst(t.nft) / Worst(t.cli));
    std::fflush(stdout);
    if (n == 100000) StatusAtScale(guard_ns, guard.pid);
    for (const auto& f : {in.nft[0], in.nft[1], in.endpoints[0], in.endpoints[1]}) {
      unlink(f.c_str());
    }
  }
  std::printf(
      "\n`nm-killswitch engage` and `nft -f` are whole processes (start, parse, commit); "
      "engage also includes the D-Bus round trip to the guard, the guard's commit and its "
      "read-back of the whole table. `nft -f` does not read back.\n\n%s\n\n",
      status_line_.c_str());
}

// --- 2. throughput --------------------------------------------------------------

struct Pair {
  Netns sender{"ts"}, receiver{"tr"};
  Pair() {
    world::Run({"ip", "link", "add", "tun0", "netns", sender.name(), "type", "veth", "peer", "name",
                "tun0", "netns", receiver.name()});
    world::Run({"ip", "link", "add", "eth0", "netns", sender.name(), "type", "veth", "peer", "name",
                "eth0", "netns", receiver.name()});
    sender.Ip(
        "addr add 192.0.2.2/24 dev tun0\nlink set tun0 up\naddr add 198.51.100.2/24 dev "
        "eth0\nlink set eth0 up\nroute add 203.0.113.0/24 via 198.51.100.1 dev eth0");
    receiver.Ip(
        "addr add 192.0.2.1/24 dev tun0\nlink set tun0 up\naddr add 198.51.100.1/24 dev "
        "eth0\nlink set eth0 up\naddr add 203.0.113.1/32 dev lo");
  }
};

// The machine's busy time so far, in clock ticks: user, nice, system, irq
// and softirq of every CPU (not idle, iowait or steal), from /proc/stat.
uint64_t BusyTicks() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  return user + nice + system + irq + softirq;
}

struct Flow {
  double bytes_per_second = 0;
  // CPU time the whole machine spent per byte received: sender, receiver,
  // both directions' softirq. Unlike throughput it does not depend on how
  // the two threads share two cores.
  double cpu_ns_per_byte = 0;
};

// One flow over `seconds`: what it carried and what it cost.
Flow MeasureFlow(const Netns& sender, const Netns& receiver, bool tcp, const char* to,
                 uint16_t port, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::atomic<bool> ready{false};
  std::thread rx([&] {
    NetnsScope in(receiver);
    int ls = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    int one = 1, big = 4 << 20;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(ls, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (tcp) listen(ls, 1);
    ready = true;
    int fd = ls;
    if (tcp) {
      pollfd p{ls, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return;
      fd = accept(ls, nullptr, nullptr);
    }
    std::vector<char> buf(1 << 16);
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) received += static_cast<uint64_t>(n);
    }
    if (fd != ls) close(fd);
    close(ls);
  });
  while (!ready) usleep(1000);
  uint64_t at_start = 0, busy0 = 0, busy1 = 0, at_end = 0;
  Clock::time_point t0, t1;
  std::thread tx([&] {
    NetnsScope in(sender);
    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, to, &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("cannot connect");
    std::vector<char> buf(tcp ? 1 << 16 : 1400, 'x');
    // Warm up, then measure.
    auto warm = Clock::now() + std::chrono::milliseconds(300);
    while (Clock::now() < warm) send(fd, buf.data(), buf.size(), 0);
    at_start = received;
    busy0 = BusyTicks();
    t0 = Clock::now();
    auto end = t0 + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) send(fd, buf.data(), buf.size(), 0);
    t1 = Clock::now();
    at_end = received;
    busy1 = BusyTicks();
    close(fd);
  });
  tx.join();
  usleep(100000);
  uint64_t got = received - at_start;
  stop = true;
  rx.join();
  Flow f;
  f.bytes_per_second = static_cast<double>(got) / std::chrono::duration<double>(t1 - t0).count();
  const double ns_per_tick = 1e9 / static_cast<double>(sysconf(_SC_CLK_TCK));
  if (at_end > at_start) {
    f.cpu_ns_per_byte =
        static_cast<double>(busy1 - busy0) * ns_per_tick / static_cast<double>(at_end - at_start);
  }
  return f;
}

// Bytes per second received over `seconds`.
double Throughput(const Netns& sender, const Netns& receiver, bool tcp, const char* to,
                  uint16_t port, double seconds) {
  return MeasureFlow(sender, receiver, tcp, to, port, seconds).bytes_per_second;
}

// The tables the packets bench compares. Where the cost goes: the table
// without its `ct state` rules (no conntrack in the namespace), and
// conntrack alone (one `ct state` rule in an accepting input chain: what
// any stateful firewall costs). And the least a table can cost: one output
// base chain, empty or with the one rule that lets the tunnel through.
struct PacketRulesets {
  Ruleset one, many, stateless, ct_only, empty_chain, one_rule;
};

PacketRulesets PacketRulesetsFor() {
  Policy one = PolicyWith(0);
  Endpoint tcp_ep, udp_ep;
  tcp_ep.address = udp_ep.address = Address::Parse("203.0.113.1").value();
  tcp_ep.protocol = Protocol::kTcp;
  tcp_ep.port = 5201;
  udp_ep.protocol = Protocol::kUdp;
  udp_ep.port = 5202;
  one.endpoints = {tcp_ep, udp_ep};
  Normalize(one);
  Policy many = PolicyWith(100000);
  many.endpoints.push_back(tcp_ep);
  many.endpoints.push_back(udp_ep);
  Normalize(many);
  PacketRulesets rs{BuildRuleset(one), BuildRuleset(many), {}, {}, {}, {}};
  rs.stateless = rs.one;
  std::erase_if(rs.stateless.rules,
                [](const RuleDef& r) { return r.match.find("ct state") != std::string::npos; });
  for (const ChainDef& c : rs.one.chains) {
    if (c.name != "input") continue;
    rs.ct_only.chains.push_back(c);
    rs.ct_only.chains.back().policy = NF_ACCEPT;
  }
  for (const RuleDef& r : rs.one.rules) {
    if (r.chain == "input" && r.match.find("ct state") != std::string::npos) {
      rs.ct_only.rules.push_back(r);
    }
  }
  for (const ChainDef& c : rs.one.chains) {
    if (c.name != "output") continue;
    rs.empty_chain.chains.push_back(c);
    rs.empty_chain.chains.back().policy = NF_ACCEPT;
  }
  rs.one_rule = rs.empty_chain;
  rs.one_rule.sets = rs.one.sets;
  for (const RuleDef& r : rs.one.rules) {
    if (r.chain == "output" && r.match == "oifname @tunnels" && r.verdict == "accept") {
      rs.one_rule.rules.push_back(r);
    }
  }
  if (rs.one_rule.rules.size() != 1) Die("the table has no rule `oifname @tunnels accept`");
  return rs;
}

// A distribution firewall's stateful table (firewalld's shape: replies
// and loopback first, policy accept here so it lets the bench through):
// where one is loaded, conntrack runs for it anyway.
constexpr char kDistroTable[] =
    "table inet distro\ndelete table inet distro\n"
    "table inet distro {\n"
    " chain input { type filter hook input priority filter + 10; policy accept;\n"
    "  ct state established,related accept; ct state invalid drop; iifname \"lo\" accept; }\n"
    " chain output { type filter hook output priority filter + 10; policy accept;\n"
    "  ct state established,related accept; oifname \"lo\" accept; }\n"
    "}\n";

struct PacketCase {
  const char* name;
  std::function<void()> set_up;
  const char* to;
  bool distro = false;
};

// One protocol's table: each case's throughput and CPU per byte against no
// table, and the distribution firewall's cases against that firewall alone.
// A cost ratio is no table's CPU per byte over the case's: 1.000 costs
// nothing, 0.900 costs 11% more CPU for the same bytes.
void PrintPacketTable(bool tcp, const std::vector<PacketCase>& cases,
                      const std::vector<std::vector<Flow>>& results, size_t distro_base) {
  auto rate = [&](size_t c) {
    std::vector<double> v;
    for (const Flow& f : results[c]) v.push_back(f.bytes_per_second);
    return v;
  };
  auto cpu = [&](size_t c) {
    std::vector<double> v;
    for (const Flow& f : results[c]) v.push_back(f.cpu_ns_per_byte);
    return v;
  };
  const double base = Median(rate(0)), distro_only = Median(rate(distro_base));
  const double base_cpu = Median(cpu(0)), distro_cpu = Median(cpu(distro_base));
  std::printf(
      "| %s | throughput (median) | worst | vs no table | CPU per MB (median) | cost vs no table "
      "| vs the firewall alone: throughput | cost |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
      tcp ? "TCP" : "UDP (1400 B)");
  for (size_t c = 0; c < cases.size(); ++c) {
    const std::vector<double> r = rate(c);
    const double m = Median(r), m_cpu = Median(cpu(c));
    const double worst = *std::min_element(r.begin(), r.end());
    std::printf("| %s | %.0f Mbit/s | %.0f Mbit/s | %.3f | %.0f us | %.3f |", cases[c].name,
                m * 8 / 1e6, worst * 8 / 1e6, m / base, m_cpu * 1e6 / 1e3, base_cpu / m_cpu);
    if (cases[c].distro) {
      std::printf(" %.3f | %.3f |\n", m / distro_only, distro_cpu / m_cpu);
    } else {
      std::printf(" | |\n");
    }
  }
  std::printf("| 100,000 vs 1 endpoint | | | %.3f | | %.3f | | |\n\n",
              Median(rate(3)) / Median(rate(2)), Median(cpu(2)) / Median(cpu(3)));
  std::fflush(stdout);
}

void PacketCost() {
  std::printf(
      "## Per-packet cost: throughput and CPU per byte across a veth pair, median of "
      "interleaved runs\n\n");
  Pair pair;
  std::unique_ptr<TableWriter> writer = WriterIn(pair.sender);
  const PacketRulesets rs = PacketRulesetsFor();
  bool distro_loaded = false;
  auto firewall = [&](bool on) {
    if (on == distro_loaded) return;
    auto r = pair.sender.Run({"nft", "-f", "-"},
                             on ? kDistroTable : "table inet distro\ndelete table inet distro\n");
    if (!r.ok()) Die("cannot load the distribution firewall's table: " + r.output);
    distro_loaded = on;
  };
  auto install = [&writer](const Ruleset& r) {
    return [&writer, ruleset = &r] { (void)writer->Install(*ruleset); };
  };
  auto remove = [&writer] { (void)writer->Remove(); };
  std::vector<PacketCase> cases = {
      {"no table, to the server", remove, "203.0.113.1"},
      {"table, through the tunnel", install(rs.one), "192.0.2.1"},
      {"table, to an endpoint (1 endpoint)", install(rs.one), "203.0.113.1"},
      {"table, to an endpoint (100,000 endpoints)", install(rs.many), "203.0.113.1"},
      {"an empty output base chain, to the server", install(rs.empty_chain), "203.0.113.1"},
      {"one rule (`oifname @tunnels accept`), through the tunnel", install(rs.one_rule),
       "192.0.2.1"},
      {"conntrack alone (one ct rule), to the server", install(rs.ct_only), "203.0.113.1"},
      {"table without its ct rules, through the tunnel", install(rs.stateless), "192.0.2.1"},
      {"table without its ct rules, to an endpoint", install(rs.stateless), "203.0.113.1"},
      {"distribution firewall, no table, to the server", remove, "203.0.113.1", true},
      {"distribution firewall and table, through the tunnel", install(rs.one), "192.0.2.1", true},
      {"distribution firewall and table, to an endpoint", install(rs.one), "203.0.113.1", true},
  };
  const int rounds = 5;
  const double seconds = 2.0;
  for (bool tcp : {true, false}) {
    std::vector<std::vector<Flow>> results(cases.size());
    for (int r = 0; r < rounds; ++r) {
      for (size_t c = 0; c < cases.size(); ++c) {
        firewall(cases[c].distro);
        cases[c].set_up();
        results[c].push_back(MeasureFlow(pair.sender, pair.receiver, tcp, cases[c].to,
                                         tcp ? 5201 : 5202, seconds));
      }
    }
    PrintPacketTable(tcp, cases, results, cases.size() - 3);
  }
  firewall(false);
  (void)writer->Remove();
}

// --- 3. watch mode repair time ----------------------------------------------------

void RepairTime() {
  std::printf("## Watch mode: another process deletes the table; time until it is back\n\n");
  Netns ns("bw");
  char tmpl[] = "/tmp/nmks-bench-guard.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::vector<double> gaps;
  {
    NetnsScope in(ns);
    GuardOptions options;
    options.protection = Protection::kWatch;
    options.state_file = dir + "/state";
    options.boot_file = dir + "/boot.nft";
    auto guard = Guard::Start(options);
    if (!guard.ok()) Die(guard.message());
    if (Status s = guard.value()->Engage("bench", PolicyWith(100), false); !s.ok())
      Die(s.message());
    auto intruder = NftSocket::Open();
    if (!intruder.ok()) Die(intruder.message());
    for (int i = 0; i < 200; ++i) {
      (void)guard.value()->DrainWatch();
      Batch batch(intruder.value()->NextSeq());
      AppendDeleteTable(batch, kTableName);
      batch.Finish();
      auto t0 = Clock::now();
      if (Status s = intruder.value()->Send(batch); !s.ok()) Die(s.message());
      pollfd p{guard.value()->watch_fd(), POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0) Die("no notification");
      if (!guard.value()->DrainWatch()) Die("the change was not seen as foreign");
      auto repaired = guard.value()->Repair();
      auto t1 = Clock::now();
      if (!repaired.ok() || repaired.value().empty()) Die("not repaired");
      gaps.push_back(Ms(t1 - t0));
    }
  }
  world::Run({"rm", "-rf", dir});
  std::vector<double> sorted = gaps;
  std::sort(sorted.begin(), sorted.end());
  std::printf("| deletions | median | 95th percentile | worst |\n|---:|---:|---:|---:|\n");
  std::printf("| %zu | %.3f ms | %.3f ms | %.3f ms |\n\n", gaps.size(), Median(gaps),
              Percentile95(sorted), sorted.back());
  std::printf(
      "Measured from the deleting batch to the guard's reinstall having been read back. In "
      "owner mode (Linux >= 6.9) there is no gap: the kernel refuses the deletion.\n\n");
}

// Repair() with nothing to repair, as the dispatcher hook asks on every
// NetworkManager event: right after the last check, and after another
// program committed to its own table (a firewall reload, a container
// starting: the ruleset generation moves, our table does not change).
void IdleRepairTime() {
  std::printf(
      "## Repair() with nothing to repair (in the guard), 200 calls each\n\n"
      "| protection | endpoints | since the last check | median | 95th percentile | worst |\n"
      "|---|---:|---|---:|---:|---:|\n");
  char tmpl[] = "/tmp/nmks-bench-guard.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  for (Protection protection : {Protection::kOwner, Protection::kTwin, Protection::kWatch}) {
    for (size_t endpoints : {size_t{100}, size_t{10000}}) {
      Netns ns("bi");
      NetnsScope in(ns);
      GuardOptions options;
      options.protection = protection;
      options.state_file = dir + "/state";
      options.boot_file = dir + "/boot.nft";
      auto guard = Guard::Start(options);
      if (!guard.ok()) Die(guard.message());
      if (Status s = guard.value()->Engage("bench", PolicyWith(endpoints), false); !s.ok())
        Die(s.message());
      auto other = NftSocket::Open();
      if (!other.ok()) Die(other.message());
      std::vector<double> quiet, moved;
      for (int i = 0; i < 200; ++i) {
        auto t0 = Clock::now();
        auto repaired = guard.value()->Repair();
        quiet.push_back(Ms(Clock::now() - t0));
        if (!repaired.ok() || !repaired.value().empty()) Die("an idle repair repaired");
        // Another program's table comes and goes in one commit.
        Batch batch(other.value()->NextSeq());
        AppendNewTable(batch, "bench-other", 0);
        AppendDeleteTable(batch, "bench-other");
        batch.Finish();
        if (Status s = other.value()->Send(batch); !s.ok()) Die(s.message());
        // The guard's main loop reads the notifications first (twin, watch).
        (void)guard.value()->DrainWatch();
        t0 = Clock::now();
        repaired = guard.value()->Repair();
        moved.push_back(Ms(Clock::now() - t0));
        if (!repaired.ok() || !repaired.value().empty()) Die("an idle repair repaired");
      }
      for (auto* v : {&quiet, &moved}) {
        std::sort(v->begin(), v->end());
        std::printf("| %s | %zu | %s | %.3f ms | %.3f ms | %.3f ms |\n", ProtectionName(protection),
                    endpoints, v == &quiet ? "nothing committed" : "another table committed",
                    Median(*v), Percentile95(*v), v->back());
      }
      std::fflush(stdout);
      (void)guard.value()->ReleaseAll();
    }
  }
  world::Run({"rm", "-rf", dir});
  std::printf("\n");
}

// --- 4. the VPN plugin with a real NetworkManager --------------------------------

uint64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// PIDs of processes named `comm` in the network namespace of `ns`.
std::vector<pid_t> Pids(const Netns& ns, const std::string& comm) {
  std::vector<pid_t> out;
  struct stat want;
  if (fstat(ns.fd(), &want) != 0) return out;
  for (int pid = 1; pid < 4194304; ++pid) {
    std::string base = "/proc/" + std::to_string(pid);
    struct stat st;
    if (stat((base + "/ns/net").c_str(), &st) != 0) {
      if (errno == ENOENT && pid > 65536) break;
      continue;
    }
    if (st.st_ino != want.st_ino) continue;
    std::ifstream in(base + "/comm");
    std::string name;
    std::getline(in, name);
    if (name == comm) out.push_back(pid);
  }
  return out;
}

// Milliseconds until the tunnel carries traffic again, polling every 5 ms.
double UntilTunnelFlows(nmworld::NmWorld& w, Clock::time_point t0, uint64_t baseline,
                        int timeout_s) {
  auto deadline = t0 + std::chrono::seconds(timeout_s);
  while (Clock::now() < deadline) {
    if (w.Now().tunneled > baseline) return Ms(Clock::now() - t0);
    usleep(5000);
  }
  Die("traffic did not come back through the tunnel");
}

// What one activation cycle measures, in milliseconds: `nmcli connection
// up` to the table engaged and to the first packet through the tunnel, the
// cable back to traffic, and starting nmcli at all; and when each `up`
// began (wall-clock seconds).
struct ActivationTimes {
  std::vector<double> engaged_ms, up_ms, link_ms, nmcli_ms, up_at;
};

// One cycle: up (the table's arrival polled every millisecond beside it),
// the cable out and back, down.
void TimeActivation(nmworld::NmWorld& w, ActivationTimes* t) {
  // What starting nmcli costs here, with the bench's nsenter and timeout.
  auto n0 = Clock::now();
  if (!w.Nmcli({"-t", "-f", "RUNNING", "general"}).ok()) Die("nmcli general failed");
  t->nmcli_ms.push_back(Ms(Clock::now() - n0));
  if (w.TableInKernel()) Die("the table is still there before `nmcli connection up`");
  uint64_t base = w.Now().tunneled;
  std::atomic<bool> stop{false};
  double engaged = -1;
  t->up_at.push_back(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  auto t0 = Clock::now();
  std::thread poll_table([&] {
    while (!stop) {
      if (w.TableInKernel()) {
        engaged = Ms(Clock::now() - t0);
        return;
      }
      usleep(1000);
    }
  });
  auto up = w.Up();
  stop = true;
  poll_table.join();
  if (!up.ok()) Die("nmcli connection up failed: " + up.output);
  if (engaged < 0) Die("the VPN came up without the table");
  t->engaged_ms.push_back(engaged);
  t->up_ms.push_back(UntilTunnelFlows(w, t0, base, 30));
  w.LinkDown();
  sleep(8);  // longer than NetworkManager's 6 s carrier grace: the VPN goes down
  base = w.Now().tunneled;
  t0 = Clock::now();
  w.LinkUp();
  t->link_ms.push_back(UntilTunnelFlows(w, t0, base, 60));
  if (!w.WaitVpnActive(30)) Die("the VPN did not come back");
  auto down = w.Down();
  if (!down.ok()) Die("nmcli connection down failed: " + down.output);
  sleep(1);
}

// When NetworkManager began each activation ("starting killswitch" in its
// log, wall-clock seconds).
std::vector<double> ActivationStarts(const std::string& nm_log) {
  std::vector<double> starts;
  std::istringstream in(nm_log);
  for (std::string line; std::getline(in, line);) {
    size_t at = line.find("]: starting killswitch");
    size_t open = line.find('[');
    if (at == std::string::npos || open == std::string::npos) continue;
    starts.push_back(std::strtod(line.c_str() + open + 1, nullptr));
  }
  return starts;
}

void MedianAndWorstRow(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("| %s | %.0f ms | %.0f ms |\n", what, Median(v), v.back());
}

// The activation table; what comes before NetworkManager starts an
// activation is nmcli's, not ours.
void PrintActivationTimes(const ActivationTimes& t, const std::string& nm_log) {
  std::printf("| what | median | worst |\n|---|---:|---:|\n");
  const std::vector<double> starts = ActivationStarts(nm_log);
  std::vector<double> to_start, start_to_engaged, start_to_packet;
  for (size_t i = 0; i < t.up_at.size(); ++i) {
    auto it = std::lower_bound(starts.begin(), starts.end(), t.up_at[i]);
    if (it == starts.end()) continue;
    double ms = (*it - t.up_at[i]) * 1000;
    to_start.push_back(ms);
    start_to_engaged.push_back(t.engaged_ms[i] - ms);
    start_to_packet.push_back(t.up_ms[i] - ms);
  }
  MedianAndWorstRow("`nmcli connection up` to the table engaged", t.engaged_ms);
  MedianAndWorstRow("`nmcli connection up` to the first packet through the tunnel", t.up_ms);
  MedianAndWorstRow("(nmcli general: starting nmcli here, for comparison)", t.nmcli_ms);
  MedianAndWorstRow(
      "`nmcli connection up` to NetworkManager starting the activation (nmcli's part)", to_start);
  MedianAndWorstRow("NetworkManager starting the activation to the table engaged",
                    start_to_engaged);
  MedianAndWorstRow("NetworkManager starting the activation to the first packet through the tunnel",
                    start_to_packet);
  MedianAndWorstRow(
      "cable back to traffic through the tunnel (VPN re-activated as the LAN's secondary)",
      t.link_ms);
  std::printf("\n");
}

// Throughput through the same tunnel with and without the kill switch,
// and the plugin's and the guard's memory while connected.
void PluginThroughput(nmworld::NmWorld& w) {
  w.StopTraffic();
  std::vector<double> with, without;
  for (int i = 0; i < 3; ++i) {
    for (bool engaged : {true, false}) {
      auto m = w.Nmcli({"connection", "modify", "wg0", "+vpn.data",
                        std::string("kill-switch=") + (engaged ? "on" : "off")});
      if (!m.ok()) Die("nmcli modify failed: " + m.output);
      if (!w.Up().ok()) Die("nmcli connection up failed");
      if (!w.WaitVpnActive(30)) Die("the VPN did not come up");
      sleep(1);
      (engaged ? with : without)
          .push_back(Throughput(w.client, w.internet, true, nmworld::kWeb4, 5301, 3.0));
      if (engaged) {
        for (pid_t pid : Pids(w.client, "nm-killswitch-s")) plugin_rss_ = RssKb(pid);
        for (pid_t pid : Pids(w.client, "nm-killswitch-g")) guard_rss_ = RssKb(pid);
      }
      w.Down();
      sleep(1);
    }
  }
  std::printf("| TCP through the WireGuard tunnel (wireguard-go) | throughput |\n|---|---:|\n");
  std::printf("| kill switch engaged | %.0f Mbit/s |\n", Median(with) * 8 / 1e6);
  std::printf("| kill switch off | %.0f Mbit/s |\n", Median(without) * 8 / 1e6);
  std::printf("| ratio engaged / off | %.3f |\n\n", Median(with) / Median(without));
  std::printf("| process | resident memory while connected |\n|---|---:|\n");
  std::printf("| nm-killswitch-service | %llu KiB |\n",
              static_cast<unsigned long long>(plugin_rss_));
  std::printf("| nm-killswitch-guard | %llu KiB |\n\n",
              static_cast<unsigned long long>(guard_rss_));
}

void PluginTimings() {
  std::printf("## The VPN plugin with a real NetworkManager (median of 5)\n\n");
  nmworld::Options o;
  o.build_dir = NMKS_BUILD_DIR;
  nmworld::NmWorld w(o);
  w.ImportVpn();
  ActivationTimes t;
  for (int i = 0; i < 5; ++i) TimeActivation(w, &t);
  const std::string nm_log = w.NmLog();
  if (const char* log = std::getenv("NMKS_BENCH_NM_LOG")) std::ofstream(log) << nm_log;
  PrintActivationTimes(t, nm_log);
  PluginThroughput(w);
}

// --- 5. the dispatcher hook ------------------------------------------------------
//
// The wall time of nm-killswitch-dispatcher per event, two ways: called
// directly in NetworkManager's namespaces with the environment
// nm-dispatcher gives it (N calls each, nsenter's own cost shown apart),
// and as a real NetworkManager runs it, from nm-dispatcher's debug log,
// over `nmcli connection up/down` cycles of an opted-in OpenVPN connection.

std::map<std::string, std::vector<double>> HookTimesFromDispatcherLog(const std::string& path) {
  // "(nm-dispatcher:N): nm-dispatcher-DEBUG: HH:MM:SS.mmm: req:7 'vpn-pre-up' [tun0],
  //  "/etc/NetworkManager/dispatcher.d/pre-up.d/90-nm-killswitch": run script|complete"
  std::map<std::string, std::vector<double>> out;
  std::map<std::string, double> started;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.find("90-nm-killswitch") == std::string::npos) continue;
    bool run = line.find("\": run script") != std::string::npos;
    bool done = line.find("\": complete") != std::string::npos;
    if (!run && !done) continue;
    size_t t = line.find("DEBUG: ");
    size_t req = line.find("req:");
    size_t a = line.find('\'', req), b = line.find('\'', a + 1);
    if (t == std::string::npos || req == std::string::npos || b == std::string::npos) continue;
    int h = 0, m = 0;
    double sec = 0;
    if (std::sscanf(line.c_str() + t + 7, "%d:%d:%lf", &h, &m, &sec) != 3) continue;
    double ms = ((h * 60 + m) * 60 + sec) * 1000;
    std::string key = line.substr(req, line.find(' ', req) - req);
    if (run) {
      started[key] = ms;
    } else if (started.count(key)) {
      out[line.substr(a + 1, b - a - 1)].push_back(ms - started[key]);
      started.erase(key);
    }
  }
  return out;
}

// The environments nm-dispatcher gives the hook for the opted-in OpenVPN
// connection and for the LAN, without the action.
struct HookEnvironments {
  std::map<std::string, std::string> vpn, lan;
};

HookEnvironments HookEnvironmentsFor(nmworld::OpenVpnWorld& w) {
  constexpr char kLanUuid[] = "5c8b6b8e-7a7c-4b84-9a53-6c1f3e1d2a01";
  return {{{"CONNECTION_UUID", nmworld::kOpenVpnUuid},
           {"CONNECTION_ID", nmworld::kOpenVpnName},
           {"CONNECTION_DBUS_PATH", w.SettingsPath()},
           {"DEVICE_IFACE", "eth0"},
           {"DEVICE_IP_IFACE", "eth0"},
           {"VPN_IP_IFACE", "tun0"},
           {"VPN_IP4_NUM_ADDRESSES", "1"},
           {"VPN_IP4_ADDRESS_0", "192.0.2.2/24 192.0.2.1"}},
          {{"CONNECTION_UUID", kLanUuid},
           {"CONNECTION_ID", "lan"},
           {"CONNECTION_DBUS_PATH", w.SettingsPath(kLanUuid)},
           {"DEVICE_IFACE", "eth0"},
           {"DEVICE_IP_IFACE", "eth0"}}};
}

// Milliseconds per call of each kind, called directly.
struct HookCallTimes {
  std::vector<double> base, pre_up, pre_down, repair, repair_idle, lan_pre_up, hostname, garbled;
};

HookCallTimes TimeHookCalls(nmworld::OpenVpnWorld& w, int runs) {
  const HookEnvironments envs = HookEnvironmentsFor(w);
  auto with_action = [](std::map<std::string, std::string> env, const std::string& action) {
    env["NM_DISPATCHER_ACTION"] = action;
    return env;
  };
  auto time_hook = [&](const std::string& iface, const std::string& action,
                       const std::map<std::string, std::string>& env, int expect) {
    auto t0 = Clock::now();
    auto r = w.RunHook(iface, action, env);
    double ms = Ms(Clock::now() - t0);
    if (r.exit_code != expect) {
      Die("the hook (" + action + ") exited " + std::to_string(r.exit_code) + ": " + r.output);
    }
    return ms;
  };
  HookCallTimes t;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    if (!w.InClient({"env", "-i", "true"}).ok()) Die("cannot run in NetworkManager's namespaces");
    t.base.push_back(Ms(Clock::now() - t0));
    t.repair_idle.push_back(time_hook("eth0", "up", with_action(envs.lan, "up"), 0));
    t.pre_up.push_back(time_hook("tun0", "vpn-pre-up", with_action(envs.vpn, "vpn-pre-up"), 0));
    for (const char* action : {"up", "dhcp4-change", "connectivity-change", "vpn-down"}) {
      t.repair.push_back(time_hook("eth0", action, with_action(envs.lan, action), 0));
    }
    t.lan_pre_up.push_back(time_hook("eth0", "pre-up", with_action(envs.lan, "pre-up"), 0));
    t.hostname.push_back(time_hook("none", "hostname", {{"NM_DISPATCHER_ACTION", "hostname"}}, 0));
    t.garbled.push_back(time_hook(
        "tun0", "vpn-pre-up",
        {{"NM_DISPATCHER_ACTION", "vpn-pre-up"}, {"CONNECTION_UUID", std::string(100000, 'x')}},
        2));
    t.pre_down.push_back(
        time_hook("tun0", "vpn-pre-down", with_action(envs.vpn, "vpn-pre-down"), 0));
  }
  return t;
}

void PrintHookCallTimes(const HookCallTimes& t, int runs) {
  std::printf(
      "Called directly, %d times each (the first row is what running any program in "
      "NetworkManager's namespaces costs, included in every other row):\n\n",
      runs);
  std::printf(
      "| event | what the hook does | median | 95th percentile | worst | own cost at the 95th "
      "percentile (minus the first row's median) |\n|---|---|---:|---:|---:|---:|\n");
  const double baseline = Median(t.base);
  auto row = [&](const char* event, const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    double p95 = Percentile95(v);
    std::printf("| %s | %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n", event, what, Median(v),
                p95, v.back(), p95 - baseline);
  };
  row("(nsenter + env + true)", "nothing: the cost of starting a program there", t.base);
  row("vpn-pre-up", "reads the connection, resolves, engages (guard commits)", t.pre_up);
  row("vpn-pre-down", "reads the connection, asks the guard, releases", t.pre_down);
  row("up, dhcp4-change, connectivity-change, vpn-down", "asks the guard to check and repair",
      t.repair);
  row("up (nothing engaged)", "asks the guard to check: nothing to do", t.repair_idle);
  row("pre-up of the LAN", "reads the connection: not opted in", t.lan_pre_up);
  row("hostname", "nothing", t.hostname);
  row("garbled (100 KB UUID)", "refuses, opens nothing", t.garbled);
  std::printf("\n");
}

// As NetworkManager runs it: nm-dispatcher's log over up/down cycles.
void HookTimesUnderNetworkManager(nmworld::OpenVpnWorld& w) {
  constexpr int kCycles = 5;
  for (int i = 0; i < kCycles; ++i) {
    auto up = w.UpVpn();
    if (!up.ok()) Die("nmcli connection up failed: " + up.output);
    sleep(1);
    auto down = w.DownVpn();
    if (!down.ok()) Die("nmcli connection down failed: " + down.output);
    sleep(1);
  }
  auto seen = HookTimesFromDispatcherLog(w.dir() + "/nm-dispatcher.log");
  std::printf(
      "As a real NetworkManager runs it (nm-dispatcher's log, ms resolution, %d "
      "up/down cycles of an opted-in OpenVPN connection; pre-up and pre-down events "
      "hold NetworkManager up for this long, the others do not):\n\n",
      kCycles);
  std::printf("| event | calls | median | worst |\n|---|---:|---:|---:|\n");
  for (auto& [action, v] : seen) {
    std::sort(v.begin(), v.end());
    std::printf("| %s | %zu | %.0f ms | %.0f ms |\n", action.c_str(), v.size(), Median(v),
                v.back());
  }
  std::printf("\n");
}

void DispatcherTimings() {
  std::printf("## The dispatcher hook (nm-killswitch-dispatcher) per event\n\n");
  nmworld::OpenVpnOptions o;
  o.build_dir = NMKS_BUILD_DIR;
  o.traffic = false;
  o.secondary = false;
  nmworld::OpenVpnWorld w(o);
  if (!w.Enable({"enable", nmworld::kOpenVpnName}).ok()) Die("nm-killswitch enable failed");
  constexpr int kRuns = 20;
  PrintHookCallTimes(TimeHookCalls(w, kRuns), kRuns);
  HookTimesUnderNetworkManager(w);
}
}  // namespace
}  // namespace nmks::bench

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "nm-killswitch-bench: run as root (it uses network namespaces)\n");
    return 1;
  }
  std::string only = argc > 1 ? argv[1] : "";
  std::printf("# nm-killswitch benchmark\n\n");
  try {
    // `engage N`: only N endpoints (1, 100, 10000 or 100000).
    if (only.empty() || only == "engage") {
      nmks::bench::EngageLatency(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 0);
    }
    if (only.empty() || only == "packets") nmks::bench::PacketCost();
    if (only.empty() || only == "repair") nmks::bench::RepairTime();
    if (only.empty() || only == "repair") nmks::bench::IdleRepairTime();
    if (only.empty() || only == "plugin") nmks::bench::PluginTimings();
    if (only.empty() || only == "dispatcher") nmks::bench::DispatcherTimings();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nm-killswitch-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
