#!/bin/bash
# The kill-switch engine on its own, with counted packets.
#
# Builds a sandbox of network namespaces: a client with a physical link to a
# router (the "internet") and a stand-in tunnel (a veth named tun0) to a VPN
# exit. Ordinary traffic runs from an unprivileged user all the time. The
# demo first shows what leaks without a kill switch when the tunnel drops,
# then engages nm-killswitch and breaks things: tunnel drop, link down, the
# guard killed, another program flushing the firewall. The router counts
# every packet that arrives outside the tunnel.
#
# Usage: demo/engine-demo.sh [BUILD_DIR]   (as root; only touches its own namespaces)
set -euo pipefail

BUILD=$(readlink -f "${1:-build}")
GUARD=$BUILD/guard/nm-killswitch-guard
CLI=$BUILD/cli/nm-killswitch
TRAFFIC=$BUILD/demo/nmks-traffic
for f in "$GUARD" "$CLI" "$TRAFFIC"; do
  [ -x "$f" ] || { echo "engine-demo: $f is missing; build first (see README)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "engine-demo: run as root (it creates network namespaces)" >&2; exit 1; }

TAG=ksd$$
C=$TAG-client R=$TAG-router V=$TAG-vpn
WORK=$(mktemp -d /tmp/nm-killswitch-demo.XXXXXX)
chmod 755 "$WORK"
BUS_PID= GUARD_PID= TRAFFIC_PID=

cleanup() {
  set +e
  [ -n "$TRAFFIC_PID" ] && kill "$TRAFFIC_PID" 2>/dev/null
  [ -n "$GUARD_PID" ] && kill "$GUARD_PID" 2>/dev/null
  [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
  for ns in "$C" "$R" "$V"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- the world ---------------------------------------------------------------
for ns in "$C" "$R" "$V"; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
for ns in "$C" "$R" "$V"; do nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1; done
ip link add eth0 netns "$C" type veth peer name eth0 netns "$R"
ip link add tun0 netns "$C" type veth peer name tun0 netns "$V"
nsx "$C" ip addr add 198.51.100.2/24 dev eth0
nsx "$C" ip addr add 2001:db8:100::2/64 dev eth0 nodad
nsx "$R" ip addr add 198.51.100.1/24 dev eth0
nsx "$R" ip addr add 2001:db8:100::1/64 dev eth0 nodad
nsx "$C" ip addr add 192.0.2.2/24 dev tun0
nsx "$C" ip addr add 2001:db8:200::2/64 dev tun0 nodad
nsx "$V" ip addr add 192.0.2.1/24 dev tun0
nsx "$V" ip addr add 2001:db8:200::1/64 dev tun0 nodad
for ns in "$C" "$R" "$V"; do for d in eth0 tun0; do nsx "$ns" ip link set "$d" up 2>/dev/null || true; done; done
# The "internet": a web server, a DNS server and the VPN server's address.
for a in 203.0.113.80 203.0.113.53 203.0.113.1; do nsx "$R" ip addr add $a/32 dev lo; done
nsx "$R" ip addr add 2001:db8:300::80/128 dev lo nodad
# The VPN exit answers for the same internet addresses.
for a in 203.0.113.80 203.0.113.53; do nsx "$V" ip addr add $a/32 dev lo; done
nsx "$V" ip addr add 2001:db8:300::80/128 dev lo nodad
# Routes as NetworkManager leaves them with a VPN up: the VPN's default
# route wins, the physical default route stays behind it, and a host route
# keeps the VPN server on the physical link.
tunnel_routes() {
  nsx "$C" ip route replace default via 192.0.2.1 dev tun0 metric 50
  nsx "$C" ip -6 route replace default via 2001:db8:200::1 dev tun0 metric 50
}
nsx "$C" ip route add default via 198.51.100.1 dev eth0 metric 100
nsx "$C" ip -6 route add default via 2001:db8:100::1 dev eth0 metric 100
nsx "$C" ip route add 203.0.113.1/32 via 198.51.100.1 dev eth0
tunnel_routes
nsx "$R" ip route add 192.0.2.0/24 via 198.51.100.2

# Counters: at the router, everything from the client except the VPN's own
# encrypted flow and link housekeeping; at the VPN exit, what came through.
nsx "$R" nft -f - <<'NFT'
table inet tally {
  counter leaked {}
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "eth0" ip daddr 203.0.113.1 udp dport 51820 return
    iifname "eth0" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } return
    iifname "eth0" meta nfproto { ipv4, ipv6 } counter name leaked
  }
}
NFT
nsx "$V" nft -f - <<'NFT'
table inet tally {
  counter tunneled {}
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "tun0" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } return
    iifname "tun0" meta nfproto { ipv4, ipv6 } counter name tunneled
  }
}
NFT
count() { ip netns exec "$1" nft list counter inet tally "$2" | awk '/packets/ {print $2}'; }
stopped() {
  { nsx "$C" nft list table inet nm-killswitch 2>/dev/null || true; } |
    awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i+1) } END { print s + 0 }'
}

# --- the guard on a private system bus ----------------------------------------
cat > "$WORK/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$WORK/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
BUS_PID=$(dbus-daemon --config-file="$WORK/bus.conf" --fork --print-pid)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/bus.sock
start_guard() {
  nsx "$C" "$GUARD" --state-file "$WORK/state" --boot-file "$WORK/boot.nft" >>"$WORK/guard.log" 2>&1 &
  GUARD_PID=$!
  for _ in $(seq 50); do
    nsx "$C" "$CLI" status >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "engine-demo: the guard did not start:" >&2; cat "$WORK/guard.log" >&2; exit 1
}
start_guard

# --- traffic ------------------------------------------------------------------
nsx "$C" "$TRAFFIC" --rate 50 --udp 203.0.113.80:9 --tcp 203.0.113.80:443 --dns 203.0.113.53 \
  --udp '[2001:db8:300::80]:9' --tcp '[2001:db8:300::80]:443' >"$WORK/traffic.log" 2>&1 &
TRAFFIC_PID=$!

ROWS=()
FAILED=0
phase() {  # phase "description" seconds expect(leak|none) command...
  local what=$1 secs=$2 expect=$3; shift 3
  local l0 t0 s0 l1 t1 s1
  l0=$(count "$R" leaked); t0=$(count "$V" tunneled); s0=$(stopped)
  "$@"
  sleep "$secs"
  l1=$(count "$R" leaked); t1=$(count "$V" tunneled); s1=$(stopped)
  local leaked=$((l1 - l0)) through=$((t1 - t0)) stop=$((s1 - s0))
  [ "$stop" -lt 0 ] && stop=$s1
  local verdict=ok
  if [ "$expect" = none ] && [ "$leaked" -ne 0 ]; then verdict="LEAK"; FAILED=1; fi
  ROWS+=("$(printf '| %-54s | %8d | %8d | %8d | %-4s |' "$what" "$through" "$leaked" "$stop" "$verdict")")
  printf '  %-52s through tunnel %6d   leaked %6d   stopped %6d\n' "$what" "$through" "$leaked" "$stop"
}
nothing() { :; }
tunnel_down() { nsx "$C" ip link set tun0 down; }
tunnel_up() { nsx "$C" ip link set tun0 up; tunnel_routes; }
link_bounce() { nsx "$C" ip link set eth0 down; sleep 1; nsx "$C" ip link set eth0 up; \
  nsx "$C" ip route replace default via 198.51.100.1 dev eth0 metric 100; \
  nsx "$C" ip -6 route replace default via 2001:db8:100::1 dev eth0 metric 100; \
  nsx "$C" ip route replace 203.0.113.1/32 via 198.51.100.1 dev eth0; }
kill_guard() { kill -9 "$GUARD_PID"; wait "$GUARD_PID" 2>/dev/null || true; GUARD_PID=; }
tamper() { nsx "$C" nft flush ruleset; nsx "$C" nft delete table inet nm-killswitch 2>/dev/null || true; }

echo "Without a kill switch:"
phase "no kill switch, tunnel up" 3 none nothing
phase "no kill switch, tunnel drops (this is the leak)" 3 leak tunnel_down
tunnel_up
echo "Engaging: nm-killswitch engage --tunnel tun0 --endpoint 203.0.113.1:51820"
nsx "$C" "$CLI" engage --connection demo --tunnel tun0 --endpoint 203.0.113.1:51820/udp --ipv6 tunnel
phase "kill switch, tunnel up" 3 none nothing
phase "kill switch, tunnel drops" 3 none tunnel_down
phase "kill switch, tunnel back" 3 none tunnel_up
phase "kill switch, physical link down and up" 3 none link_bounce
phase "kill switch, guard killed (SIGKILL)" 3 none kill_guard
phase "kill switch, another program flushes nftables" 3 none tamper
phase "kill switch, guard restarted" 3 none start_guard
phase "kill switch, tunnel drops again" 3 none tunnel_down
tunnel_up
echo
echo "Self-test (nm-killswitch verify):"
nsx "$C" "$CLI" verify | sed 's/^/  /' || FAILED=1
echo "Releasing: nm-killswitch release --connection demo"
nsx "$C" "$CLI" release --connection demo
phase "released, tunnel drops (traffic flows directly again)" 3 leak tunnel_down

echo
echo "| phase                                                  | through  | leaked   | stopped  |      |"
echo "|--------------------------------------------------------|----------|----------|----------|------|"
printf '%s\n' "${ROWS[@]}"
echo
echo "\"leaked\" counts every packet the router received from the client outside the"
echo "VPN's own encrypted flow; \"stopped\" is what the kill switch's counters refused."
if [ "$FAILED" -ne 0 ]; then
  echo "engine-demo: SOMETHING LEAKED with the kill switch engaged" >&2
  exit 1
fi
echo "With the kill switch engaged, 0 packets leaked in every phase."
