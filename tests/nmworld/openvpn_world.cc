#include "tests/nmworld/openvpn_world.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace nmks::nmworld {
namespace {

using world::CommandResult;

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

void Must(const CommandResult& r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + " failed: " + r.output);
}

std::string Tail(const std::string& text, size_t n = 6000) {
  return text.size() > n ? "...\n" + text.substr(text.size() - n) : text;
}

Options BaseOptions(const OpenVpnOptions& o) {
  Options b;
  b.build_dir = o.build_dir;
  b.traffic = o.traffic;
  b.secondary = false;  // this world makes its own connection
  b.start_nm = false;   // after the plugin, the hook and the connection are in place
  b.dispatcher = true;
  return b;
}

}  // namespace

OpenVpnWorld::OpenVpnWorld(OpenVpnOptions options)
    : NmWorld(BaseOptions(options)), ovpn_(std::move(options)) {
  try {
    InstallHook();
    if (ovpn_.openvpn_server) {
      RegisterOpenVpnPlugin();
      MakeCertificates();
      AddCounters();
      StartOpenVpnServer();
      WriteConnection();
    }
    if (ovpn_.nm_root_only) {
      std::string conf = ReadFile(Path("etc-nm/NetworkManager.conf"));
      size_t at = conf.find("auth-polkit=false");
      if (at == std::string::npos) throw std::runtime_error("NetworkManager.conf: no auth-polkit");
      conf.replace(at, 17, "auth-polkit=root-only");
      WriteFile(Path("etc-nm/NetworkManager.conf"), conf);
    }
    StartNetworkManager();
    // From now on the LAN brings the VPN up whenever it comes up itself
    // (not now: the test opts the VPN in first).
    if (ovpn_.openvpn_server && ovpn_.secondary) {
      Must(Nmcli({"connection", "modify", "lan", "connection.secondaries", kOpenVpnUuid}),
           "nmcli secondaries");
    }
  } catch (...) {
    Cleanup();
    throw;
  }
}

OpenVpnWorld::~OpenVpnWorld() { Cleanup(); }

void OpenVpnWorld::Cleanup() {
  Stop(capture_);
  Stop(monitor_);
  StopNetworkManager();
  // network-manager-openvpn and its openvpn go with NetworkManager
  // (watch-peer); make sure, by PID, in the client namespace only.
  for (const char* comm : {"nm-openvpn-serv", "openvpn"}) {
    for (pid_t pid : client.ProcessesNamed(comm)) kill(pid, SIGKILL);
  }
  Stop(ovpn_server_);
}

std::string OpenVpnWorld::HookPath() const {
  return ovpn_.build_dir + "/dispatcher/nm-killswitch-dispatcher";
}

std::string OpenVpnWorld::ConnectionHookPath() const {
  return ovpn_.build_dir + "/dispatcher/nm-killswitch-dispatcher-connection";
}

void OpenVpnWorld::InstallHook() {
  // In NetworkManager's mount namespace /etc/NetworkManager is etc-nm: the
  // hook goes where a package puts its links (dispatcher.d, and pre-up.d /
  // pre-down.d, which NetworkManager waits for), pointing at this build.
  for (const std::string& program : {HookPath(), ConnectionHookPath()}) {
    if (access(program.c_str(), X_OK) != 0) throw std::runtime_error("no " + program);
  }
  std::string d = Path("etc-nm/dispatcher.d");
  if (symlink(HookPath().c_str(), (d + "/90-nm-killswitch").c_str()) != 0 ||
      symlink(ConnectionHookPath().c_str(), (d + "/pre-up.d/90-nm-killswitch").c_str()) != 0 ||
      symlink(ConnectionHookPath().c_str(), (d + "/pre-down.d/90-nm-killswitch").c_str()) != 0) {
    throw std::runtime_error("cannot install the dispatcher hook: " +
                             std::string(strerror(errno)));
  }
  // nm-dispatcher gives scripts a fresh environment, without
  // DBUS_SYSTEM_BUS_ADDRESS: the private bus must be the system bus at its
  // usual place, /run/dbus/system_bus_socket (/run is the world's run/).
  mkdir(Path("run/dbus").c_str(), 0755);
  if (symlink(Path("bus.sock").c_str(), Path("run/dbus/system_bus_socket").c_str()) != 0) {
    throw std::runtime_error("cannot link the system bus socket: " +
                             std::string(strerror(errno)));
  }
  // A name for the server, answered from /etc/hosts (no DNS needed).
  WriteFile(Path("hosts"), std::string("127.0.0.1 localhost\n::1 localhost\n") +
                               kOpenVpnServer4 + " " + kOpenVpnHost + "\n");
  Must(world::Run(InHolder({"mount", "--bind", Path("hosts"), "/etc/hosts"})), "hosts file");
}

void OpenVpnWorld::RegisterOpenVpnPlugin() {
  const char* name = "/usr/lib/NetworkManager/VPN/nm-openvpn-service.name";
  std::string text = ReadFile(name);
  if (text.empty() || access("/usr/sbin/openvpn", X_OK) != 0) {
    throw std::runtime_error(
        "network-manager-openvpn and openvpn are needed (apt-get install openvpn "
        "network-manager-openvpn)");
  }
  WriteFile(Path("vpn/nm-openvpn-service.name"), text);
}

void OpenVpnWorld::MakeCertificates() {
  mkdir(Path("pki").c_str(), 0700);
  std::string pki = Path("pki");
  std::string script =
      "set -e\ncd " + pki +
      "\n"
      "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out $1.key "
      "2>/dev/null; }\n"
      "key ca\n"
      "openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=nmks-test-ca "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
      "for who in server client; do\n"
      "  key $who\n"
      "  openssl req -new -key $who.key -out $who.csr -subj /CN=$who\n"
      "  if [ $who = server ]; then usage=serverAuth; else usage=clientAuth; fi\n"
      "  printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature\\nextendedKeyUsage=%s\\n' "
      "$usage > $who.ext\n"
      "  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt "
      "-days 2 -extfile $who.ext 2>/dev/null\n"
      "done\n"
      "chmod 600 *.key\n";
  Must(world::Run({"sh", "-c", script}), "making the certificates");
}

void OpenVpnWorld::AddCounters() {
  // NmWorld's counters treat only WireGuard's flow as the VPN's own; these
  // count this world's: everything the client sends but housekeeping and
  // its OpenVPN flow is a leak.
  Must(router.Run({"nft", "-f", "-"},
                  "table inet ovpnworld {\n"
                  "  counter leaked {}\n  counter server {}\n"
                  "  chain pre {\n"
                  "    type filter hook prerouting priority -310; policy accept;\n"
                  "    iifname \"lan\" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                  "nd-neighbor-advert, mld-listener-report, mld2-listener-report } return\n"
                  "    iifname \"lan\" udp sport 68 udp dport 67 return\n"
                  "    iifname \"lan\" ip daddr 203.0.113.1 meta l4proto { udp, tcp } th dport "
                  "1194 counter name server return\n"
                  "    iifname \"lan\" meta nfproto { ipv4, ipv6 } counter name leaked\n"
                  "  }\n}\n"),
       "router counters");
  Must(internet.Run({"nft", "-f", "-"},
                    "table inet ovpnworld {\n"
                    "  counter tunneled {}\n"
                    "  chain pre {\n"
                    "    type filter hook prerouting priority -310; policy accept;\n"
                    "    iifname \"ovpns\" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                    "nd-neighbor-advert, mld-listener-report, mld2-listener-report } return\n"
                    "    iifname \"ovpns\" counter name tunneled\n"
                    "  }\n}\n"),
       "internet counters");
}

void OpenVpnWorld::StartOpenVpnServer() {
  // NmWorld's WireGuard server holds the tunnel addresses: take them.
  internet.Ip("link set wgs down\naddr flush dev wgs");
  std::string pki = Path("pki");
  WriteFile(Path("server.conf"),
            "dev ovpns\ndev-type tun\nproto udp\nlocal 203.0.113.1\nport 1194\n"
            "topology subnet\nserver 192.0.2.0 255.255.255.0\nserver-ipv6 2001:db8:200::/64\n"
            "push \"redirect-gateway def1\"\npush \"route-ipv6 2000::/3\"\n"
            "keepalive 2 8\npersist-key\ndh none\nverb 3\n"
            "ca " + pki + "/ca.crt\ncert " + pki + "/server.crt\nkey " + pki + "/server.key\n",
            0600);
  // openvpn with a /run of its own, so nothing of it lands in the host's.
  ovpn_server_ = Spawn("openvpn-server",
                       {"unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs tmpfs /run && exec openvpn --config " +
                            Path("server.conf")},
                       &internet);
  for (int i = 0; i < 300; ++i) {
    if (ReadFile(ovpn_server_.log).find("Initialization Sequence Completed") !=
        std::string::npos) {
      return;
    }
    usleep(20000);
  }
  throw std::runtime_error("the OpenVPN server did not start: " + ReadFile(ovpn_server_.log));
}

void OpenVpnWorld::WriteConnection() {
  std::string pki = Path("pki");
  std::string vpn = "[vpn]\nservice-type=org.freedesktop.NetworkManager.openvpn\n"
                    "connection-type=tls\nca=" + pki + "/ca.crt\ncert=" + pki +
                    "/client.crt\nkey=" + pki + "/client.key\ncert-pass-flags=4\n";
  for (const auto& [k, v] : ovpn_.data) vpn += k + "=" + v + "\n";
  if (!ovpn_.user_data.empty()) {
    vpn += "\n[user]\n";
    for (const auto& [k, v] : ovpn_.user_data) vpn += k + "=" + v + "\n";
  }
  WriteFile(Path("etc-nm/system-connections/ovpn.nmconnection"),
            std::string("[connection]\nid=") + kOpenVpnName + "\nuuid=" + kOpenVpnUuid +
                "\ntype=vpn\nautoconnect=false\n\n" + vpn +
                "\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\naddr-gen-mode=default\n",
            0600);
}

CommandResult OpenVpnWorld::UpVpn(int timeout_s) {
  return Nmcli({"connection", "up", kOpenVpnName}, timeout_s);
}

CommandResult OpenVpnWorld::DownVpn() { return Nmcli({"connection", "down", kOpenVpnName}, 60); }

bool OpenVpnWorld::WaitOpenVpnActive(int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    CommandResult r = Nmcli({"-t", "-f", "NAME,STATE", "connection", "show", "--active"}, 5);
    if (r.output.find(std::string(kOpenVpnName) + ":activated") != std::string::npos) return true;
    usleep(100000);
  }
  return false;
}

void OpenVpnWorld::SetData(const std::map<std::string, std::string>& data) {
  for (const auto& [k, v] : data) {
    std::vector<std::string> args = {"connection", "modify", kOpenVpnName};
    if (v.empty()) {
      args.insert(args.end(), {"-vpn.data", k});
    } else {
      args.insert(args.end(), {"+vpn.data", k + "=" + v});
    }
    Must(Nmcli(args), "nmcli connection modify");
  }
}

CommandResult OpenVpnWorld::Enable(const std::vector<std::string>& args) {
  return Killswitch(args);
}

CommandResult OpenVpnWorld::RunHook(const std::string& iface, const std::string& action,
                                    const std::map<std::string, std::string>& env) {
  const bool connection = action == "pre-up" || action == "vpn-pre-up" || action == "pre-down" ||
                          action == "vpn-pre-down";
  return RunHook(iface, action, env, connection ? ConnectionHookPath() : HookPath());
}

CommandResult OpenVpnWorld::RunHook(const std::string& iface, const std::string& action,
                                    const std::map<std::string, std::string>& env,
                                    const std::string& program) {
  std::vector<std::string> argv = {"env", "-i"};
  for (const auto& [k, v] : env) argv.push_back(k + "=" + v);
  argv.insert(argv.end(), {program, iface, action});
  return world::Run(InHolder(argv));
}

Counts OpenVpnWorld::Now() const {
  return {router.NftCounter("ovpnworld", "leaked"), internet.NftCounter("ovpnworld", "tunneled")};
}

uint64_t OpenVpnWorld::ToServer() const { return router.NftCounter("ovpnworld", "server"); }

bool OpenVpnWorld::WaitTunnelFlows(uint64_t packets, int seconds) {
  uint64_t start = Now().tunneled;
  for (int i = 0; i < seconds * 10; ++i) {
    if (Now().tunneled >= start + packets) return true;
    usleep(100000);
  }
  return false;
}

bool OpenVpnWorld::KillOpenVpnClient() {
  auto pids = client.ProcessesNamed("openvpn");
  for (pid_t pid : pids) kill(pid, SIGKILL);
  return !pids.empty();
}

std::string OpenVpnWorld::OpenVpnLogs() const {
  return Logs() + "--- openvpn-server ---\n" + Tail(ReadFile(ovpn_server_.log)) +
         "\n--- the hook ---\n" + Tail(HookLog()) + "\n";
}

std::string OpenVpnWorld::SettingsText(const std::string& uuid) {
  return world::Run({"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address(), "gdbus", "call",
                     "--system", "--dest", "org.freedesktop.NetworkManager", "--object-path",
                     SettingsPath(uuid), "--method",
                     "org.freedesktop.NetworkManager.Settings.Connection.GetSettings"})
      .output;
}

std::string OpenVpnWorld::ConnectionFile() const {
  return ReadFile(dir() + "/etc-nm/system-connections/ovpn.nmconnection");
}

std::string OpenVpnWorld::HookLog() const {
  std::istringstream in(ReadFile(dir() + "/nm-dispatcher.log"));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("nm-killswitch-dispatcher:", 0) == 0) out += line + "\n";
  }
  return out;
}

void OpenVpnWorld::StartWindowCapture() {
  Stop(capture_);
  Stop(monitor_);
  capture_ = Spawn("capture", {"tcpdump", "-i", "lan", "-n", "-tt", "-l", "-U", "-Q", "in", "ip or ip6"},
                   &router);
  monitor_ = Spawn("monitor",
                   {"dbus-monitor", "--system", "--profile",
                    "type='signal',interface='io.github.nmkillswitch.Guard1',member='Changed'"},
                   nullptr);
  for (int i = 0; i < 300; ++i) {
    if (ReadFile(capture_.log).find("listening on") != std::string::npos &&
        ReadFile(monitor_.log).find("#type") != std::string::npos) {
      return;
    }
    usleep(10000);
  }
  throw std::runtime_error("the capture did not start: " + ReadFile(capture_.log) +
                           ReadFile(monitor_.log));
}

Window OpenVpnWorld::WindowSeen() {
  usleep(200000);
  std::string capture_log = capture_.log, monitor_log = monitor_.log;
  Stop(capture_);
  Stop(monitor_);
  Window w;
  std::vector<std::pair<double, bool>> packets;  // time, to the OpenVPN server
  std::istringstream lines(ReadFile(capture_log));
  const std::string to_server = std::string("> ") + kOpenVpnServer4 + "." +
                                std::to_string(kOpenVpnPort) + ":";
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || !isdigit(static_cast<unsigned char>(line[0]))) continue;
    if (line.find(" IP ") == std::string::npos && line.find(" IP6 ") == std::string::npos) continue;
    // Link housekeeping is not traffic.
    if (line.find("ICMP6, neighbor") != std::string::npos ||
        line.find("ICMP6, router solicitation") != std::string::npos ||
        line.find("ICMP6, multicast listener") != std::string::npos) {
      continue;
    }
    packets.push_back({std::stod(line), line.find(to_server) != std::string::npos});
  }
  for (const auto& [t, server] : packets) {
    if (server) {
      w.first_packet = t;
      break;
    }
  }
  if (w.first_packet == 0) return w;
  std::istringstream signals(ReadFile(monitor_log));
  for (std::string line; std::getline(signals, line);) {
    if (line.rfind("sig\t", 0) != 0) continue;
    double t = std::stod(line.substr(4));
    if (t >= w.first_packet) {
      w.engaged = t;
      break;
    }
  }
  if (w.engaged == 0) return w;
  w.measured = true;
  for (const auto& [t, server] : packets) {
    if (t < w.first_packet || t >= w.engaged) continue;
    ++(server ? w.to_server : w.other);
  }
  return w;
}

std::string OpenVpnWorld::SettingsPath(const std::string& uuid) {
  CommandResult r = world::Run(
      {"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address(), "gdbus", "call", "--system", "--dest",
       "org.freedesktop.NetworkManager", "--object-path",
       "/org/freedesktop/NetworkManager/Settings", "--method",
       "org.freedesktop.NetworkManager.Settings.GetConnectionByUuid", uuid});
  size_t a = r.output.find('\''), b = r.output.rfind('\'');
  if (!r.ok() || a == std::string::npos || b <= a) {
    throw std::runtime_error("no settings path for " + uuid + ": " + r.output);
  }
  return r.output.substr(a + 1, b - a - 1);
}

}  // namespace nmks::nmworld
