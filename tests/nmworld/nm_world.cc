#include "tests/nmworld/nm_world.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "rules/table_writer.h"

namespace nmks::nmworld {
namespace {

using world::CommandResult;

constexpr char kPhysUuid[] = "5c8b6b8e-7a7c-4b84-9a53-6c1f3e1d2a01";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void Must(const CommandResult& r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + " failed: " + r.output);
}

}  // namespace

NmWorld::NmWorld(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/nmks-nmworld.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  for (const char* d :
       {"etc-nm", "etc-nm/conf.d", "etc-nm/system-connections", "etc-nm/dispatcher.d",
        "etc-nm/dispatcher.d/pre-up.d", "etc-nm/dispatcher.d/pre-down.d", "varlib-nm", "vpn",
        "empty", "run", "state", "bus-services"}) {
    mkdir(Path(d).c_str(), 0755);
  }
  try {
    BuildNetwork();
    WriteNmFiles();
    // The private system bus.
    WriteFile(Path("bus.conf"),
              "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\""
              " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
              "<busconfig><type>system</type><listen>unix:path=" +
                  Path("bus.sock") + "</listen><auth>EXTERNAL</auth><servicedir>" +
                  Path("bus-services") +
                  "</servicedir><policy context=\"default\"><allow user=\"*\"/>"
                  "<allow own=\"*\"/><allow send_type=\"method_call\"/><allow "
                  "send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
                  "</policy></busconfig>\n");
    bus_address_ = "unix:path=" + Path("bus.sock");
    bus_ = Spawn("dbus-daemon", {"dbus-daemon", "--config-file=" + Path("bus.conf"), "--nofork"},
                 nullptr);
    for (int i = 0; i < 100 && access(Path("bus.sock").c_str(), F_OK) != 0; ++i) usleep(20000);
    StartHolder();
    StartServer();
    if (!options_.endpoint_host.empty()) StartDns();
    if (options_.dispatcher) StartDispatcher();
    if (options_.start_guard) StartGuard();
    if (options_.traffic) StartTraffic();
    if (options_.start_nm) StartNetworkManager();
  } catch (...) {
    // Not this->~NmWorld(): that would destroy the members, and the
    // exception destroys them again (a double free that aborts the test
    // program instead of failing the test).
    Shutdown();
    throw;
  }
}

NmWorld::~NmWorld() { Shutdown(); }

void NmWorld::Shutdown() {
  Stop(traffic_);
  Stop(nm_);
  // The plugin and its wireguard-go go with NetworkManager (watch-peer, parent
  // death signal); make sure, by PID, within the client namespace only.
  for (pid_t pid : client.ProcessesNamed("nm-killswitch-s")) kill(pid, SIGKILL);
  for (pid_t pid : client.ProcessesNamed("wireguard-go")) kill(pid, SIGKILL);
  Stop(guard_);
  Stop(dispatcher_);
  Stop(server_);
  Stop(dns_);
  Stop(holder_, true);
  Stop(front_);
  Stop(bus_);
  // HangGuardName's stand-in, started by the bus (not ours to Stop).
  std::string hung = Trim(ReadFile(Path("hung-guard.pid")));
  if (!hung.empty() && Trim(ReadFile("/proc/" + hung + "/comm")) == "sleep") {
    kill(static_cast<pid_t>(std::stol(hung)), SIGKILL);
  }
  if (dir_.empty()) return;
  if (std::getenv("NMKS_KEEP_WORLD") == nullptr) {
    world::Run({"rm", "-rf", dir_});
  } else {
    std::fprintf(stderr, "NMKS_KEEP_WORLD: the world's directory %s is kept\n", dir_.c_str());
  }
  dir_.clear();
}

std::string NmWorld::Path(const char* relative) const { return dir_ + "/" + relative; }

Process NmWorld::Spawn(const std::string& name, const std::vector<std::string>& argv,
                       const world::Netns* ns) {
  Process p;
  p.name = name;
  p.log = dir_ + "/" + name + ".log";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (strncmp(*e, "DBUS_SYSTEM_BUS_ADDRESS=", 24) != 0) env_strings.push_back(*e);
  }
  env_strings.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_);
  std::vector<char*> args, env;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  int ns_fd = ns ? ns->fd() : -1;
  int log = open(p.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) _exit(126);
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    execvpe(args[0], args.data(), env.data());
    _exit(127);
  }
  if (log >= 0) close(log);
  p.pid = pid;
  return p;
}

void NmWorld::Stop(Process& p, bool kill_it) {
  if (p.pid <= 0) return;
  kill(p.pid, kill_it ? SIGKILL : SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (waitpid(p.pid, nullptr, WNOHANG) == p.pid) {
      p.pid = -1;
      return;
    }
    usleep(10000);
  }
  kill(p.pid, SIGKILL);
  waitpid(p.pid, nullptr, 0);
  p.pid = -1;
}

// The client's cable: eth0 in the client, lan in the router.
void NmWorld::LinkClient() {
  Must(world::Run({"ip", "link", "add", "eth0", "netns", client.name(), "type", "veth", "peer",
                   "name", "lan", "netns", router.name()}),
       "veth client-router");
  client.Sysctl("net.ipv6.conf.all.keep_addr_on_down", "1");
  client.Sysctl("net.ipv6.conf.default.keep_addr_on_down", "1");
  router.Ip(
      "addr add 198.51.100.1/24 dev lan\n"
      "addr add 2001:db8:100::1/64 dev lan nodad\n"
      "link set lan up");
}

void NmWorld::BuildNetwork() {
  Must(world::Run({"ip", "link", "add", "wan", "netns", router.name(), "type", "veth", "peer",
                   "name", "wan", "netns", internet.name()}),
       "veth router-internet");
  for (const world::Netns* ns : {&router, &internet}) {
    ns->Sysctl("net.ipv6.conf.all.keep_addr_on_down", "1");
    ns->Sysctl("net.ipv6.conf.default.keep_addr_on_down", "1");
  }
  LinkClient();
  router.Sysctl("net.ipv4.ip_forward", "1");
  router.Sysctl("net.ipv6.conf.all.forwarding", "1");
  internet.Sysctl("net.ipv4.ip_forward", "1");
  internet.Sysctl("net.ipv6.conf.all.forwarding", "1");
  router.Ip(
      "addr add 203.0.113.254/24 dev wan\n"
      "addr add 2001:db8:300::fe/64 dev wan nodad\n"
      "link set wan up");
  internet.Ip(
      "addr add 203.0.113.1/24 dev wan\n"
      "addr add 2001:db8:300::1/64 dev wan nodad\n"
      "link set wan up\n"
      "route add 198.51.100.0/24 via 203.0.113.254\n"
      "route add 2001:db8:100::/64 via 2001:db8:300::fe\n"
      "addr add 203.0.113.80/32 dev lo\n"
      "addr add 203.0.113.53/32 dev lo\n"
      "addr add 2001:db8:300::80/128 dev lo nodad");
  // The counters: at the router everything the client sends, apart from
  // link housekeeping (neighbour discovery, multicast listener reports,
  // DHCP: what the kill switch lets out on purpose, counted apart), with the
  // VPN's own encrypted flow counted apart; at the VPN server what comes out
  // of the tunnel.
  Must(router.Run({"nft", "-f", "-"},
                  "table inet nmworld {\n"
                  "  counter sent {}\n  counter vpn {}\n  counter housekeeping {}\n"
                  // What was counted as sent, by flow, so that a failing test
                  // can say what leaked and when: an element expires an hour
                  // after the flow's first packet.
                  "  set flows4 { typeof ip saddr . ip daddr . meta l4proto . th dport; "
                  "flags dynamic,timeout; timeout 1h; size 512; counter; }\n"
                  "  set flows6 { typeof ip6 saddr . ip6 daddr . meta l4proto . th dport; "
                  "flags dynamic,timeout; timeout 1h; size 512; counter; }\n"
                  "  set other4 { typeof ip saddr . ip daddr . meta l4proto; "
                  "flags dynamic,timeout; timeout 1h; size 512; counter; }\n"
                  "  set other6 { typeof ip6 saddr . ip6 daddr . meta l4proto; "
                  "flags dynamic,timeout; timeout 1h; size 512; counter; }\n"
                  "  chain pre {\n"
                  "    type filter hook prerouting priority -300; policy accept;\n"
                  "    iifname \"lan\" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                  "nd-neighbor-advert, mld-listener-report, mld2-listener-report } "
                  "counter name housekeeping return\n"
                  "    iifname \"lan\" udp sport 68 udp dport 67 counter name housekeeping "
                  "return\n"
                  "    iifname \"lan\" ip daddr 203.0.113.1 udp dport 51820 counter name vpn "
                  "return\n"
                  "    iifname \"lan\" meta nfproto { ipv4, ipv6 } counter name sent\n"
                  "    iifname \"lan\" meta nfproto ipv4 meta l4proto { tcp, udp } "
                  "add @flows4 { ip saddr . ip daddr . meta l4proto . th dport }\n"
                  "    iifname \"lan\" meta nfproto ipv6 meta l4proto { tcp, udp } "
                  "add @flows6 { ip6 saddr . ip6 daddr . meta l4proto . th dport }\n"
                  "    iifname \"lan\" meta nfproto ipv4 meta l4proto != { tcp, udp } "
                  "add @other4 { ip saddr . ip daddr . meta l4proto }\n"
                  "    iifname \"lan\" meta nfproto ipv6 meta l4proto != { tcp, udp } "
                  "add @other6 { ip6 saddr . ip6 daddr . meta l4proto }\n"
                  "  }\n}\n"),
       "router counters");
  Must(internet.Run({"nft", "-f", "-"},
                    "table inet nmworld {\n"
                    "  counter tunneled {}\n"
                    "  chain pre {\n"
                    "    type filter hook prerouting priority -300; policy accept;\n"
                    "    iifname \"wgs\" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                    "nd-neighbor-advert } return\n"
                    "    iifname \"wgs\" counter name tunneled\n"
                    "  }\n}\n"),
       "internet counters");
}

void NmWorld::WriteNmFiles() {
  auto key = world::Run({"wg", "genkey"});
  Must(key, "wg genkey");
  std::string client_key = Trim(key.output);
  auto pub = world::Run({"wg", "pubkey"}, client_key + "\n");
  Must(pub, "wg pubkey");
  client_public_key_ = Trim(pub.output);
  key = world::Run({"wg", "genkey"});
  Must(key, "wg genkey");
  std::string server_key = Trim(key.output);
  pub = world::Run({"wg", "pubkey"}, server_key + "\n");
  std::string server_public = Trim(pub.output);

  WriteFile(Path("wg0.conf"),
            "[Interface]\n"
            "PrivateKey = " +
                client_key +
                "\n"
                "Address = " +
                options_.address +
                "\n"
                "DNS = 192.0.2.1\n\n"
                "[Peer]\n"
                "PublicKey = " +
                server_public +
                "\n"
                "Endpoint = " +
                (options_.endpoint_host.empty() ? std::string(kServer4) : options_.endpoint_host) +
                ":51820\n"
                "AllowedIPs = " +
                options_.allowed_ips +
                "\n"
                "PersistentKeepalive = 5\n",
            0600);
  WriteFile(Path("wgs.conf"),
            "[Interface]\nPrivateKey = " + server_key +
                "\nListenPort = 51820\n\n"
                "[Peer]\nPublicKey = " +
                client_public_key_ + "\nAllowedIPs = 192.0.2.2/32, 2001:db8:200::2/128\n",
            0600);

  WriteFile(Path("etc-nm/NetworkManager.conf"),
            "[main]\nplugins=keyfile\ndns=none\nrc-manager=unmanaged\nhostname-mode=none\n"
            "auth-polkit=" +
                options_.auth_polkit +
                "\ndhcp=internal\nno-auto-default=*\n\n"
                "[keyfile]\npath=/etc/NetworkManager/system-connections\n\n"
                "[connectivity]\nenabled=false\n\n"
                "[logging]\nlevel=INFO\ndomains=DEFAULT,VPN:DEBUG,VPN_PLUGIN:DEBUG,DEVICE:DEBUG\n");
  WriteFile(Path("etc-nm/system-connections/lan.nmconnection"),
            std::string("[connection]\nid=lan\nuuid=") + kPhysUuid +
                "\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\n\n[ethernet]\n\n"
                "[ipv4]\nmethod=manual\naddress1=198.51.100.2/24,198.51.100.1\n\n"
                "[ipv6]\nmethod=manual\naddress1=2001:db8:100::2/64,2001:db8:100::1\n"
                "addr-gen-mode=eui64\n",
            0600);
  WriteFile(Path("resolv.conf"), "nameserver 203.0.113.53\n");
  if (options_.install_root.empty() && options_.root.empty()) {
    WriteFile(Path("vpn/nm-killswitch-service.name"),
              "[VPN Connection]\nname=killswitch\nservice=org.freedesktop.NetworkManager."
              "killswitch\nprogram=" +
                  options_.build_dir +
                  "/service/nm-killswitch-service\nsupports-multiple-connections=true\n\n"
                  "[libnm]\nplugin=" +
                  EditorPlugin() + "\n");
  }
}

std::string NmWorld::EditorPlugin() const {
  // A sanitized build names a copy built without sanitizers for nmcli.
  if (const char* plugin = std::getenv("NMKS_EDITOR_PLUGIN"); plugin && *plugin) return plugin;
  return options_.build_dir + "/editor/libnm-vpn-plugin-killswitch.so";
}

void NmWorld::StartHolder() {
  // A process that holds NetworkManager's mount namespace: /sys read-only
  // (so NetworkManager runs without udev and manages the veth), and private
  // copies of everything NetworkManager reads or writes.
  std::string binds = "set -e\n";
  // Where the files NetworkManager sees are: / or the root's overlay.
  std::string r;
  if (!options_.root.empty()) {
    // An overlay of the root (its changes go to the world's directory), with
    // the kernel's file systems and the host's /tmp, our packages installed.
    r = Path("root");
    binds += "mkdir -p " + r + " " + Path("root-upper") + " " + Path("root-work") + "\n" +
             "mount -t overlay overlay -o lowerdir=" + options_.root +
             ",upperdir=" + Path("root-upper") + ",workdir=" + Path("root-work") + " " + r +
             "\n"
             "mount -t proc proc " +
             r + "/proc\nmount --rbind /dev " + r + "/dev\nmount --bind /tmp " + r +
             "/tmp\n"
             "mount -t sysfs -o ro sysfs " +
             r + "/sys\n";
    if (!options_.root_debs.empty()) {
      binds += "chroot " + r + " sh -c 'dpkg -i " + options_.root_debs + "/*.deb' >" +
               Path("dpkg.log") + " 2>&1\n";
    }
    binds += "touch " + r + "/etc/resolv.conf\nmkdir -p " + r + "/var/lib/NetworkManager " + r +
             "/usr/lib/NetworkManager/dispatcher.d " + r + "/usr/lib/NetworkManager/conf.d\n";
  } else {
    // A sysfs of this network namespace, read-only.
    binds += "mount -t sysfs -o ro sysfs /sys\n";
    if (!options_.install_root.empty()) {
      binds += "mount -t overlay overlay -o lowerdir=" + options_.install_root + "/usr:/usr /usr\n";
    } else {
      binds += "mount --bind " + Path("vpn") + " /usr/lib/NetworkManager/VPN\n";
    }
  }
  binds += "mount --bind " + Path("etc-nm") + " " + r + "/etc/NetworkManager\n" + "mount --bind " +
           Path("varlib-nm") + " " + r + "/var/lib/NetworkManager\n" + "mount --bind " +
           Path("empty") + " " + r + "/usr/lib/NetworkManager/dispatcher.d\n" + "mount --bind " +
           Path("empty") + " " + r + "/usr/lib/NetworkManager/conf.d\n" + "mount --bind " +
           Path("resolv.conf") + " " + r + "/etc/resolv.conf\n" + "mount --bind " + Path("run") +
           " " + r + "/run\n" + "mkdir -p " + r +
           "/run/NetworkManager\n"
           "hostname nmks-client\n"
           "touch " +
           Path("holder.ready") + "\n" +
           (r.empty() ? "exec sleep infinity\n" : "exec chroot " + r + " sleep infinity\n");
  holder_ = Spawn("holder", {"unshare", "-m", "-u", "--propagation", "private", "sh", "-c", binds},
                  &client);
  // dpkg -i in a root takes a while.
  const int tries = options_.root.empty() ? 200 : 6000;
  for (int i = 0; i < tries && access(Path("holder.ready").c_str(), F_OK) != 0; ++i) {
    if (waitpid(holder_.pid, nullptr, WNOHANG) == holder_.pid) {
      holder_.pid = -1;
      break;
    }
    usleep(20000);
  }
  if (access(Path("holder.ready").c_str(), F_OK) != 0) {
    throw std::runtime_error("NetworkManager's mount namespace could not be made: " +
                             ReadFile(holder_.log) + ReadFile(Path("dpkg.log")));
  }
}

std::vector<std::string> NmWorld::InHolder(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {"nsenter", "-t", std::to_string(holder_.pid), "-m", "-n", "-u"};
  // In the holder's root (a chroot there) and its working directory.
  if (!options_.root.empty()) out.insert(out.end(), {"-r", "-w"});
  out.push_back("--");
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void NmWorld::StartServer() {
  // wireguard-go with a /run of its own, so its socket is nobody else's.
  server_ = Spawn("server",
                  {"unshare", "-m", "--propagation", "private", "sh", "-c",
                   "mount -t tmpfs tmpfs /run && mkdir -p /run/wireguard && "
                   "WG_PROCESS_FOREGROUND=1 exec wireguard-go -f wgs"},
                  &internet);
  for (int i = 0; i < 200; ++i) {
    if (internet.Run({"ip", "link", "show", "wgs"}).ok() &&
        world::Run({"nsenter", "-t", std::to_string(server_.pid), "-m", "-n", "wg", "setconf",
                    "wgs", Path("wgs.conf")})
            .ok()) {
      internet.Ip(
          "addr add 192.0.2.1/24 dev wgs\n"
          "addr add 2001:db8:200::1/64 dev wgs nodad\n"
          "link set wgs up");
      return;
    }
    usleep(20000);
  }
  throw std::runtime_error("the VPN server did not start: " + ReadFile(server_.log));
}

// nm-dispatcher is D-Bus activated normally; the private bus activates
// nothing, so it is started by hand, in NetworkManager's mount namespace
// (it reads /etc/NetworkManager/dispatcher.d there).
void NmWorld::StartDispatcher() {
  dispatcher_ =
      Spawn("nm-dispatcher",
            InHolder({"/usr/lib/NetworkManager/nm-dispatcher", "--persist", "--debug"}), nullptr);
  for (int i = 0; i < 200; ++i) {
    auto r = world::Run({"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_, "gdbus", "call",
                         "--system", "--dest", "org.freedesktop.DBus", "--object-path",
                         "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner",
                         "org.freedesktop.nm_dispatcher"});
    if (r.output.find("true") != std::string::npos) return;
    usleep(20000);
  }
  throw std::runtime_error("nm-dispatcher did not start: " + ReadFile(dispatcher_.log));
}

std::string NmWorld::GuardProgram() const {
  return options_.install_root.empty() && options_.root.empty()
             ? options_.build_dir + "/guard/nm-killswitch-guard"
             : "/usr/sbin/nm-killswitch-guard";
}

// A DNS server on the internet's 203.0.113.53 (the client's resolver) that
// knows the VPN server's name, IPv4 only (the router tells the VPN's flow
// by its IPv4 address).
void NmWorld::StartDns() {
  dns_ = Spawn("dnsmasq",
               {"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--pid-file", "--user=root", "--group=root", "--bind-interfaces",
                "--listen-address=" + std::string(kDns4), "--log-facility=-",
                "--address=/" + options_.endpoint_host + "/" + kServer4},
               &internet);
  for (int i = 0; i < 200; ++i) {
    if (internet.Run({"sh", "-c", "ss -Hlun | grep -q '" + std::string(kDns4) + ":53 '"}).ok()) {
      return;
    }
    usleep(20000);
  }
  throw std::runtime_error("dnsmasq did not start: " + ReadFile(dns_.log));
}

void NmWorld::StartGuard() {
  guard_ = Spawn("guard",
                 InHolder({GuardProgram(), "--state-file", Path("state/state"), "--boot-file",
                           Path("state/boot.nft")}),
                 nullptr);
  // What D-Bus activation starts for callers that are not root.
  // In a root, the root's (installed) one, in NetworkManager's namespaces.
  if (front_.pid <= 0) {
    const bool installed = !options_.install_root.empty() || !options_.root.empty();
    std::vector<std::string> front = {installed
                                          ? "/usr/libexec/nm-killswitch-front"
                                          : options_.build_dir + "/guard/nm-killswitch-front"};
    front_ = Spawn("front", options_.root.empty() ? front : InHolder(front), nullptr);
  }
  for (int i = 0; i < 200; ++i) {
    if (Killswitch({"status"}).ok()) return;
    usleep(20000);
  }
  throw std::runtime_error("the guard did not start: " + ReadFile(guard_.log));
}

void NmWorld::KillGuard() { Stop(guard_, true); }

void NmWorld::HangGuardName() {
  KillGuard();
  // The bus starts this for the guard's name and waits for it to take the
  // name, which it never does; it writes its PID for Shutdown.
  WriteFile(Path("bus-services/io.github.nmkillswitch.Guard1.service"),
            "[D-BUS Service]\nName=io.github.nmkillswitch.Guard1\nExec=/bin/sh -c 'echo $$ >" +
                Path("hung-guard.pid") + "; exec sleep 60'\n");
  Must(world::Run({"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_, "gdbus", "call", "--system",
                   "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                   "--method", "org.freedesktop.DBus.ReloadConfig"}),
       "reloading the bus's configuration");
}

void NmWorld::StartNetworkManager() {
  nm_ = Spawn(
      "NetworkManager",
      InHolder({"NetworkManager", "--debug", "--config=/etc/NetworkManager/NetworkManager.conf"}),
      nullptr);
  if (!WaitLanActive(30)) {
    throw std::runtime_error("NetworkManager did not bring the LAN up: " + Logs());
  }
  WaitLanSettled();
}

// When NetworkManager calls the LAN activated, the client may still be
// resolving the router's link-layer address (or an IPv6 address of eth0 may
// still be tentative, which delays that). What programs send meanwhile waits
// in the kernel's neighbour queue and goes out when the answer comes:
// packets that passed the client's firewall before any kill switch was
// engaged then reach the router later, after a test began counting, and
// look like a leak of the kill switch. (Seen: every IPv6 packet of the half
// second before `nmcli connection up` reached the router at once, more than
// a second later.) Waits until no address is tentative and no neighbour is
// being resolved, for half a second in a row.
void NmWorld::WaitLanSettled() {
  int settled = 0;
  for (int i = 0; i < 200; ++i) {
    auto tentative = client.Run({"ip", "-6", "addr", "show", "dev", "eth0", "tentative"});
    auto incomplete4 =
        client.Run({"ip", "-4", "neigh", "show", "dev", "eth0", "nud", "incomplete"});
    auto incomplete6 =
        client.Run({"ip", "-6", "neigh", "show", "dev", "eth0", "nud", "incomplete"});
    const bool quiet = tentative.ok() && Trim(tentative.output).empty() && incomplete4.ok() &&
                       Trim(incomplete4.output).empty() && incomplete6.ok() &&
                       Trim(incomplete6.output).empty();
    settled = quiet ? settled + 1 : 0;
    if (settled == 10) return;
    usleep(50000);
  }
  throw std::runtime_error("the client's LAN did not settle within 10 s: " +
                           client.Run({"ip", "addr"}).output + client.Run({"ip", "neigh"}).output);
}

void NmWorld::StopNetworkManager(bool kill_it) { Stop(nm_, kill_it); }

void NmWorld::StartTraffic() {
  std::string traffic =
      options_.build_dir.empty() ? "nmks-traffic" : options_.build_dir + "/demo/nmks-traffic";
  traffic_ = Spawn("traffic",
                   {traffic, "--rate", "50", "--udp", std::string(kWeb4) + ":9", "--tcp",
                    std::string(kWeb4) + ":443", "--dns", kDns4, "--udp",
                    std::string("[") + kWeb6 + "]:9", "--tcp", std::string("[") + kWeb6 + "]:443"},
                   &client);
}

void NmWorld::StopTraffic() { Stop(traffic_); }

std::vector<std::string> NmWorld::NmcliArgv(const std::vector<std::string>& args,
                                            int timeout_s) const {
  std::vector<std::string> argv = {"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_, "timeout",
                                   std::to_string(timeout_s), "nmcli"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult NmWorld::Nmcli(const std::vector<std::string>& args, int timeout_s) {
  return world::Run(InHolder(NmcliArgv(args, timeout_s)));
}

namespace {
// argv as nobody: uid and gid 65534, no supplementary groups.
std::vector<std::string> AsNobody(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  return argv;
}
}  // namespace

CommandResult NmWorld::NmcliAsNobody(const std::vector<std::string>& args, int timeout_s) {
  return world::Run(InHolder(AsNobody(NmcliArgv(args, timeout_s))));
}

CommandResult NmWorld::Killswitch(const std::vector<std::string>& args) {
  return world::Run(InHolder(KillswitchArgv(args)));
}

CommandResult NmWorld::KillswitchAsNobody(const std::vector<std::string>& args) {
  return world::Run(InHolder(AsNobody(KillswitchArgv(args))));
}

std::vector<std::string> NmWorld::KillswitchArgv(const std::vector<std::string>& args) const {
  std::string cli = options_.install_root.empty() && options_.root.empty()
                        ? options_.build_dir + "/cli/nm-killswitch"
                        : "/usr/bin/nm-killswitch";
  std::vector<std::string> argv = {"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address_, cli};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult NmWorld::InClient(const std::vector<std::string>& argv) {
  return world::Run(InHolder(argv));
}

void NmWorld::ImportVpn() {
  Must(Nmcli({"connection", "import", "type", "killswitch", "file", Path("wg0.conf")}),
       "nmcli connection import");
  std::vector<std::string> modify = {"connection",
                                     "modify",
                                     "wg0",
                                     "vpn.persistent",
                                     options_.persistent ? "yes" : "no",
                                     "+vpn.data",
                                     "kill-switch=" + options_.kill_switch};
  if (options_.block_at_boot) {
    modify.push_back("+vpn.data");
    modify.push_back("block-at-boot=yes");
  }
  Must(Nmcli(modify), "nmcli connection modify");
  if (options_.secondary) {
    Must(Nmcli({"connection", "modify", "lan", "connection.secondaries", VpnUuid()}),
         "nmcli secondaries");
  }
}

std::string NmWorld::VpnUuid() {
  return Trim(Nmcli({"-g", "connection.uuid", "connection", "show", "wg0"}).output);
}

CommandResult NmWorld::Up() { return Nmcli({"connection", "up", "wg0"}, 90); }
CommandResult NmWorld::Down() { return Nmcli({"connection", "down", "wg0"}, 60); }

bool NmWorld::WaitActive(const std::string& name, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    CommandResult r = Nmcli({"-t", "-f", "NAME,STATE", "connection", "show", "--active"}, 5);
    if (r.output.find(name + ":activated") != std::string::npos) return true;
    usleep(100000);
  }
  return false;
}

bool NmWorld::WaitVpnActive(int seconds) { return WaitActive("wg0", seconds); }
bool NmWorld::WaitLanActive(int seconds) { return WaitActive("lan", seconds); }

void NmWorld::ServerDown() { internet.Ip("link set wan down"); }
void NmWorld::ServerUp() {
  internet.Ip("link set wan up");
  internet.Sh(
      "ip route replace 198.51.100.0/24 via 203.0.113.254; "
      "ip -6 route replace 2001:db8:100::/64 via 2001:db8:300::fe");
}
void NmWorld::LinkDown() { router.Ip("link set lan down"); }
void NmWorld::LinkUp() { router.Ip("link set lan up"); }

void NmWorld::MoveClientAddress() {
  // On the device only (as a new DHCP lease would), not in the profile.
  Must(Nmcli({"device", "modify", "eth0", "ipv4.addresses", std::string(kClientLan4Moved) + "/24",
              "ipv4.gateway", "198.51.100.1"}),
       "move address");
}

bool NmWorld::KillWireguardGo() {
  auto pids = client.ProcessesNamed("wireguard-go");
  for (pid_t pid : pids) kill(pid, SIGKILL);
  return !pids.empty();
}

bool NmWorld::KillPlugin() {
  auto pids = client.ProcessesNamed("nm-killswitch-s");
  for (pid_t pid : pids) kill(pid, SIGKILL);
  return !pids.empty();
}

std::vector<pid_t> NmWorld::PluginPids() const { return client.ProcessesNamed("nm-killswitch-s"); }

void NmWorld::PowerCycleClient() {
  StopTraffic();
  StopNetworkManager();
  // The plugin quits when NetworkManager leaves the bus, taking its tunnel
  // down; what is left at power-off is killed.
  for (int i = 0; i < 300 && !client.ProcessesNamed("nm-killswitch-s").empty(); ++i) usleep(10000);
  for (const char* comm : {"nm-killswitch-s", "wireguard-go"}) {
    for (pid_t pid : client.ProcessesNamed(comm)) kill(pid, SIGKILL);
  }
  Stop(dispatcher_);
  Stop(guard_);
  Stop(holder_, true);
  // The cable's router end goes first: it takes eth0 along at once, while
  // a deleted namespace lets go of its devices only in the background.
  router.Ip("link del lan");
  client.Renew();
  // /run is a tmpfs: it starts empty (the guard's state file is there).
  world::Run({"rm", "-rf", Path("run")});
  mkdir(Path("run").c_str(), 0755);
  unlink(Path("state/state").c_str());
  unlink(Path("holder.ready").c_str());
  LinkClient();
  StartHolder();
  if (options_.dispatcher) StartDispatcher();
}

CommandResult NmWorld::LoadBootRuleset() {
  return InClient({GuardProgram(), "--load-boot", BootFile()});
}

std::string NmWorld::BootFile() const { return Path("state/boot.nft"); }

bool NmWorld::TableInKernel() const {
  world::NetnsScope in(client);
  auto table = ReadTable();
  return table.ok() && table.value().exists;
}

uint64_t NmWorld::Stopped(const std::string& why) {
  std::string json = Killswitch({"status", "--json"}).output;
  size_t stopped = json.find("\"stopped\"");
  if (stopped == std::string::npos) return 0;
  size_t end = json.find('}', stopped);
  size_t at = json.find("\"" + why + "\"", stopped);
  if (at == std::string::npos || at > end) return 0;
  at = json.find_first_of("0123456789", at + why.size() + 2);
  return at == std::string::npos || at > end ? 0 : std::stoull(json.substr(at));
}

Counts NmWorld::Now() const {
  return {router.NftCounter("nmworld", "sent"), internet.NftCounter("nmworld", "tunneled")};
}

bool NmWorld::WaitTunnelFlows(uint64_t packets, int seconds) {
  uint64_t start = Now().tunneled;
  for (int i = 0; i < seconds * 10; ++i) {
    if (Now().tunneled >= start + packets) return true;
    usleep(100000);
  }
  return false;
}

std::string NmWorld::NmLog() const { return ReadFile(Path("NetworkManager.log")); }

std::string NmWorld::Logs() const {
  std::string out;
  for (const Process* p : {&nm_, &guard_, &front_, &dispatcher_, &server_, &traffic_}) {
    std::string text = ReadFile(p->log);
    if (text.size() > 6000) text = "...\n" + text.substr(text.size() - 6000);
    out += "--- " + p->name + " ---\n" + text + "\n";
  }
  // What reached the router outside the tunnel, by flow, and the client's
  // kill switch and routes as they are now.
  out += "--- counted as sent at the router (first packet: 1h before \"expires\") ---\n";
  for (const char* set : {"flows4", "flows6", "other4", "other6"}) {
    out += router.Run({"nft", "list", "set", "inet", "nmworld", set}).output;
  }
  out += "--- client: nft list ruleset ---\n" + client.Run({"nft", "list", "ruleset"}).output;
  out += "--- client: ip route / ip -6 route / ip link ---\n" + client.Run({"ip", "route"}).output +
         client.Run({"ip", "-6", "route"}).output + client.Run({"ip", "-br", "link"}).output;
  return out;
}

}  // namespace nmks::nmworld
