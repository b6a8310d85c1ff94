#!/bin/bash
# In the VM, as root: Debian's own firewall service, nftables.service, as a
# Debian user turns it on. Its ExecStart and ExecReload run
# `nft -f /etc/nftables.conf`, which begins with `flush ruleset`; its
# ExecStop (also at every shutdown) runs `nft flush ruleset`.
#
#   nftables.sh default       enable and start it with the /etc/nftables.conf
#                             the nftables package installs (table inet
#                             filter, three base chains, no rules)
#   nftables.sh hand-written  replace /etc/nftables.conf with a typical
#                             hand-written ruleset (input: policy drop,
#                             `ct state established,related accept`); it is
#                             loaded at the next start, reload or boot
set -euo pipefail
case "${1:-}" in
  default)
    grep -q '^table inet filter' /etc/nftables.conf ||
      { echo "/etc/nftables.conf is not Debian's default" >&2; exit 1; }
    systemctl enable --now nftables.service
    ;;
  hand-written)
    cat >/etc/nftables.conf <<'RULES'
#!/usr/sbin/nft -f
# Replies in, SSH from the admins in, drop the rest; out what is tracked.
flush ruleset

table inet filter {
	set admins {
		type ipv4_addr
		elements = { 198.51.100.10, 198.51.100.11 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		iif lo accept
		ct state established,related accept
		ct state invalid drop
		meta l4proto { icmp, icmpv6 } accept
		ip saddr @admins tcp dport 22 accept
		counter comment "dropped in"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
	}
	chain output {
		type filter hook output priority filter; policy drop;
		oif lo accept
		ct state invalid drop
		ct state { new, established, related } accept
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "eth0" ip saddr 203.0.113.128/25 masquerade
	}
}
RULES
    nft -c -f /etc/nftables.conf
    systemctl is-enabled --quiet nftables.service
    ;;
  *)
    echo "usage: nftables.sh default|hand-written" >&2
    exit 2
    ;;
esac
