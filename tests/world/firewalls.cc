#include "tests/world/firewalls.h"

namespace nmks::world {
namespace {

// Debian 12's /etc/nftables.conf as the nftables package installs it.
constexpr char kDebianDefault[] = R"(flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
)";

// The shape firewalld 1.x (Debian 12) gives its one table: base chains at
// priority + 10 that jump to zone chains, and nat/mangle chains.
constexpr char kFirewalldTable[] = R"(table inet firewalld {
	set allowed_hosts {
		type ipv4_addr
		flags interval
		elements = { 198.51.100.0/28 }
	}
	chain mangle_PREROUTING {
		type filter hook prerouting priority mangle + 10; policy accept;
		jump mangle_PREROUTING_ZONES
	}
	chain mangle_PREROUTING_ZONES {
		goto mangle_PRE_public
	}
	chain mangle_PRE_public {
	}
	chain nat_PREROUTING {
		type nat hook prerouting priority dstnat + 10; policy accept;
		jump nat_PREROUTING_ZONES
	}
	chain nat_PREROUTING_ZONES {
		goto nat_PRE_public
	}
	chain nat_PRE_public {
	}
	chain nat_POSTROUTING {
		type nat hook postrouting priority srcnat + 10; policy accept;
		jump nat_POSTROUTING_ZONES
	}
	chain nat_POSTROUTING_ZONES {
		goto nat_POST_public
	}
	chain nat_POST_public {
		oifname "eth0" ip saddr 203.0.113.128/25 masquerade
	}
	chain filter_PREROUTING {
		type filter hook prerouting priority filter + 10; policy accept;
		icmpv6 type { nd-router-advert, nd-neighbor-solicit } accept
		meta nfproto ipv6 fib saddr . mark . iif oif missing drop
	}
	chain filter_INPUT {
		type filter hook input priority filter + 10; policy accept;
		ct state { established, related } accept
		ct status dnat accept
		iifname "lo" accept
		ct state invalid drop
		jump filter_INPUT_ZONES
		reject with icmpx admin-prohibited
	}
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy accept;
		ct state { established, related } accept
		ct status dnat accept
		iifname "lo" accept
		ct state invalid drop
		ip6 daddr { ::/96, ::ffff:0.0.0.0/96, 2002::/24 } reject with icmpv6 addr-unreachable
		reject with icmpx admin-prohibited
	}
	chain filter_OUTPUT {
		type filter hook output priority filter + 10; policy accept;
		ct state { established, related } accept
		oifname "lo" accept
		ip6 daddr { ::/96, ::ffff:0.0.0.0/96, 2002::/24 } reject with icmpv6 addr-unreachable
	}
	chain filter_INPUT_ZONES {
		goto filter_IN_public
	}
	chain filter_IN_public {
		jump filter_IN_public_allow
		meta l4proto { icmp, ipv6-icmp } accept
	}
	chain filter_IN_public_allow {
		tcp dport 22 ct state { new, untracked } accept
		ip6 daddr fe80::/64 udp dport 546 ct state { new, untracked } accept
		ip saddr @allowed_hosts accept
	}
}
)";

// ufw's tables through iptables-nft (abbreviated from its before/after rules).
constexpr char kUfw4[] = R"(*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:ufw-before-input - [0:0]
:ufw-before-output - [0:0]
:ufw-before-forward - [0:0]
:ufw-after-input - [0:0]
:ufw-reject-input - [0:0]
:ufw-track-output - [0:0]
:ufw-user-input - [0:0]
:ufw-user-output - [0:0]
:ufw-logging-deny - [0:0]
-A INPUT -j ufw-before-input
-A INPUT -j ufw-after-input
-A INPUT -j ufw-reject-input
-A FORWARD -j ufw-before-forward
-A OUTPUT -j ufw-before-output
-A OUTPUT -j ufw-track-output
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP
-A ufw-before-input -p icmp --icmp-type echo-request -j ACCEPT
-A ufw-before-input -p udp --sport 67 --dport 68 -j ACCEPT
-A ufw-before-input -j ufw-user-input
-A ufw-before-output -o lo -j ACCEPT
-A ufw-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-output -j ufw-user-output
-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT
-A ufw-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT
-A ufw-user-input -p tcp --dport 22 -j ACCEPT
-A ufw-logging-deny -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "
COMMIT
)";
constexpr char kUfw6[] = R"(*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:ufw6-before-input - [0:0]
:ufw6-before-output - [0:0]
:ufw6-track-output - [0:0]
-A INPUT -j ufw6-before-input
-A OUTPUT -j ufw6-before-output
-A OUTPUT -j ufw6-track-output
-A ufw6-before-input -i lo -j ACCEPT
-A ufw6-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw6-before-input -p ipv6-icmp -j ACCEPT
-A ufw6-before-input -p udp -s fe80::/10 --sport 547 -d fe80::/10 --dport 546 -j ACCEPT
-A ufw6-before-output -o lo -j ACCEPT
-A ufw6-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw6-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT
-A ufw6-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT
COMMIT
)";

// docker's tables through iptables-nft, with its bridge's subnet
// masqueraded (the bridge is called docker0 as on a real host).
constexpr char kDocker[] = R"(*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 203.0.113.128/25 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
)";

// podman's network backend, netavark (Debian 12: 1.4, iptables-nft), run
// for real: the JSON podman passes for a rootful container on a bridge
// network with a published port. The container's namespace is a file
// bind-mounted under /run, one per namespace the firewall runs in (named
// by its inode). Subnet 203.0.113.32/27: the worlds use the rest.
constexpr char kNetavarkDir[] =
    "d=/run/nmks-netavark.$(stat -L -c %i /proc/self/ns/net)\n"
    "netavark() { /usr/lib/podman/netavark --config \"$d/config\" --file \"$d/network.json\" "
    "\"$@\" \"$d/container\" >/dev/null; }\n";
constexpr char kNetavarkNetwork[] = R"({
  "container_id": "5b1c3e7a3f3e4c479a517f1f4c0de0a1",
  "container_name": "nmks-test",
  "networks": {
    "podman": { "interface_name": "eth0", "static_ips": ["203.0.113.34"] }
  },
  "network_info": {
    "podman": {
      "dns_enabled": false,
      "driver": "bridge",
      "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
      "internal": false,
      "ipv6_enabled": false,
      "name": "podman",
      "network_interface": "podman0",
      "subnets": [{ "gateway": "203.0.113.33", "subnet": "203.0.113.32/27" }]
    }
  },
  "port_mappings": [
    { "host_ip": "", "container_port": 80, "host_port": 8080, "range": 1, "protocol": "tcp" }
  ]
}
)";

std::string Heredoc(const std::string& command, const std::string& text) {
  return command + " <<'NMKS_END'\n" + text + "NMKS_END\n";
}

}  // namespace

std::vector<Firewall> DistributionFirewalls() {
  std::vector<Firewall> all;
  // nftables.service: ExecStart and ExecReload are both `nft -f /etc/nftables.conf`.
  std::string debian = Heredoc("nft -f -", kDebianDefault);
  all.push_back({"debian_default", debian, debian, {"table inet filter"}, true, ""});
  // tests/world/hand-written.nft, which the VM suite loads too.
  std::string hand = "nft -f '" NMKS_SOURCE_DIR "/tests/world/hand-written.nft'";
  all.push_back({"hand_written", hand, hand, {"table inet filter", "table ip nat"}, true, ""});
  // firewalld replaces its own table: delete it, then build it again.
  std::string firewalld = Heredoc("nft -f -", kFirewalldTable);
  all.push_back({"firewalld",
                 firewalld,
                 "nft add table inet firewalld && nft delete table inet firewalld && " + firewalld,
                 {"table inet firewalld"},
                 false,
                 ""});
  // ufw start and reload restore its whole tables (iptables-restore flushes them).
  std::string ufw =
      Heredoc("iptables-nft-restore", kUfw4) + Heredoc("ip6tables-nft-restore", kUfw6);
  all.push_back({"ufw", ufw, ufw, {"table ip filter", "table ip6 filter"}, false, ""});
  std::string docker = Heredoc("iptables-nft-restore", kDocker);
  all.push_back({"docker", docker, docker, {"table ip nat", "table ip filter"}, false, ""});
  // netavark: podman starting a container sets its network up (the
  // container's namespace made first), restarting it tears it down and
  // sets it up again; removing it tears it down.
  std::string dir = kNetavarkDir;
  std::string netavark = dir +
                         "mkdir -p \"$d/config\"\n"
                         "[ -e \"$d/container\" ] || { touch \"$d/container\" && "
                         "unshare --net=\"$d/container\" true; }\n" +
                         Heredoc("cat >\"$d/network.json\"", kNetavarkNetwork) + "netavark setup\n";
  all.push_back({"netavark",
                 netavark,
                 dir + "netavark teardown && netavark setup\n",
                 {"table ip nat", "table ip filter"},
                 false,
                 dir + "netavark teardown; umount \"$d/container\"; rm -rf \"$d\"\n"});
  return all;
}

RunningFirewall::RunningFirewall(const Netns& ns, const Firewall& firewall)
    : ns_(ns), stop_(firewall.stop) {
  try {
    ns.Must(firewall.start);
  } catch (...) {
    if (!stop_.empty()) ns.Sh(stop_);  // what a failed start made
    throw;
  }
}

RunningFirewall::~RunningFirewall() {
  if (!stop_.empty()) ns_.Sh(stop_);
}

RunningFirewall StartFirewall(const Netns& ns, const Firewall& firewall) {
  return RunningFirewall(ns, firewall);
}

void ReloadFirewall(const Netns& ns, const Firewall& firewall) { ns.Must(firewall.reload); }

std::string MissingTables(const Netns& ns, const Firewall& firewall) {
  std::string listed = ns.Must("nft list tables");
  std::string missing;
  for (const std::string& t : firewall.tables) {
    if (listed.find(t + "\n") == std::string::npos) missing += (missing.empty() ? "" : ", ") + t;
  }
  return missing;
}

}  // namespace nmks::world
