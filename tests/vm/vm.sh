#!/bin/bash
# The VM suite: the Debian package on real booted Debian 12 (bookworm, kernel
# 6.1) and Debian 13 (trixie, kernel 6.12) systems, with every packet the VM
# sends counted.
#
#   vm.sh [SUITE...]            (default: bookworm trixie)
#
# Each suite's VM (tests/vm/image.sh: Debian's kernel, systemd as PID 1, the
# real NetworkManager system service) boots under qemu TCG with one network
# card whose far end is a tap device in a network namespace this test made:
#
#   VM (NetworkManager)          router (namespace)              internet (namespace)
#   eth0 198.51.100.2 ------ tap lan 198.51.100.1
#                                wan 203.0.113.254 ---------- wan 203.0.113.1 (wireguard-go :51820,
#                                                                                openvpn :1194/udp)
#   VPN: 192.0.2.2 (kernel WireGuard)                          wgs 192.0.2.1
#   OpenVPN: 192.0.2.128/25                                    ovpns 192.0.2.129
#   destination: 203.0.113.80 (internet's lo)
#
# The router counts every packet the VM sends that is not a VPN's encrypted
# flow to 203.0.113.1:51820 or :1194 ("leaked"; link housekeeping apart);
# the VPN servers count what comes out of their tunnels ("tunneled"). Nothing is bridged
# to the host's interfaces; only documentation addresses are used.
#
# Commands go into the VM and results come out through a 9p share
# (tests/vm/guest/agent.sh). The packages are built once from a copy of this
# tree (tests/package/debs.sh) and installed in the VM with dpkg -i under
# systemd. In each VM, in order, with an unprivileged user's UDP and TCP
# traffic running:
#   firewall  Debian's nftables.service enabled and started with Debian's
#             default /etc/nftables.conf (table inet filter): from here on
#             the kill switch shares the kernel with a distribution firewall
#   install   dpkg -i; the guard active under its hardened unit; status
#             names the protection the kernel allows (6.1: twin, 6.12: owner)
#   front     alice's status goes through nm-killswitch-front, started by
#             D-Bus; alice floods guard and front with 32 MB messages: the
#             bus refuses the guard's, the guard's memory does not grow,
#             root is answered, alice is served again, and refused by polkit
#   vpn       nmcli connection import type killswitch file wg0.conf; up with
#             kernel WireGuard; traffic goes through the tunnel
#   faults    0 packets outside the tunnel while: the server is gone,
#             systemctl reload nftables (flush ruleset and the firewall's
#             table again) with the tunnel gone, NetworkManager restarts, the
#             cable is pulled, the LAN address changes, the guard is
#             SIGKILLed and the ruleset flushed at once (double fault), the
#             VPN service is SIGKILLed; after the reload both tables are
#             there and status says engaged; verify passes after the reload
#             and at the end
#   firewalls the firewalls a user adds, each run for real beside the kill
#             switch (tests/vm/guest/firewalls.sh): firewalld (nftables
#             backend) started (on Debian 12 its unit stops
#             nftables.service: a flush), firewall-cmd --reload, systemctl
#             restart, stopped; ufw enable,
#             reload, disable (iptables-nft); rootful podman with
#             netavark and a container sending, podman network reload,
#             container removed; dockerd started with a container sending,
#             restarted, stopped (the containers' images imported offline
#             from busybox-static); then nftables.service restarted. In
#             each phase 0 packets outside the tunnel, alice's traffic and
#             the running container's through it; after each the kill
#             switch's table is as before, the firewall's tables are there,
#             status says engaged and verify passes
#   upgrade   dpkg -i of the same packages with a higher version, engaged and
#             sending: 0 packets
#   reboot    boot on, the VPN a secondary of the LAN, an application sending
#             from early boot (DefaultDependencies=no), a hand-written
#             /etc/nftables.conf (ct state input chain, policy drop) that
#             nftables.service loads at boot: 0 packets while the units stop
#             (nftables.service flushing the ruleset as it stops, the early
#             application sending until systemd-shutdown ends it), 0 from the
#             VM's first packet until the VPN is up; both tables there,
#             status and verify
#   down      nmcli connection down releases: traffic flows directly
#   hook      NetworkManager's own WireGuard type (kernel module) opted in
#             with nm-killswitch enable: the dispatcher hook engages it,
#             0 packets through up, systemctl restart nftables with the
#             tunnel gone and a NetworkManager restart; status and verify
#             after the firewall's restart; down releases
#   openvpn   an OpenVPN connection (network-manager-openvpn, TLS with a
#             test PKI made for the run) opted in: the dispatcher hook
#             engages it, 0 packets through up, nft flush ruleset with
#             openvpn SIGKILLed, and a NetworkManager restart; down releases
#   remove    dpkg -r releases and cleans up; traffic flows; purge
# Every check is made and reported; the test fails if any failed. The time
# of each step is printed.
#
# As root. Outside CI a missing tool skips the test (77); under CI=true it
# fails. NMKS_VM_DEBS=DIR uses the packages in DIR instead of building them;
# NMKS_VM_FIREWALLS=0 leaves the firewalls step out; NMKS_VM_STEPS=LIST runs
# only the steps named (front,faults,firewalls,upgrade,reboot,down,hook,
# openvpn,remove; boot, install and vpn always run), and NMKS_VM_REBOOTS=N
# runs the reboot step N times (for a rare shutdown packet).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$SRC/tests/vm

log() { printf '[vm %s] %s\n' "${SUITE:-}" "$*"; }
fail() {
  printf '[vm %s] FAIL: %s\n' "${SUITE:-}" "$*" >&2
  exit 1
}
skip() {
  if [ "${CI:-}" = true ]; then fail "$* (CI=true: not skipped)"; fi
  printf '[vm] SKIP: %s\n' "$*"
  exit 77
}

# ------------------------------------------------------------ one suite
# Runs in a subshell of its own: its trap stops what it started.

PROBLEMS=()
problem() {
  printf '[vm %s] PROBLEM: %s\n' "$SUITE" "$*" >&2
  PROBLEMS+=("$*")
}

R= I= QEMU_PID= SERVER_PID= OVPN_PID= SHARE=
suite_cleanup() {
  local code=$?
  if [ -n "$QEMU_PID" ]; then
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  local pid
  for pid in "$SERVER_PID" "$OVPN_PID"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ -z "$R" ] || ip netns del "$R" 2>/dev/null || true
  [ -z "$I" ] || ip netns del "$I" 2>/dev/null || true
  if [ "$code" != 0 ] && [ -f "$SW/console.log" ]; then
    echo "---- $SUITE: the last lines of the VM's console" >&2
    tail -n 40 "$SW/console.log" >&2
  fi
  exit "$code"
}

# The counters.
counter() { # NS TABLE COUNTER
  ip netns exec "$1" nft list counter inet nmks-vm "$2" |
    awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
leaked() { counter "$R" sent; }
tunneled() { counter "$I" tunneled; }
# What the counted packets were: IPv4 TCP/UDP flows, IPv6 flows, and the
# family and protocol of every one, and the ICMP and ICMPv6 types.
flows() {
  local set
  for set in flows4 flows6 kinds icmp4types icmp6types; do
    printf '%s: ' "$set"
    ip netns exec "$R" nft list set inet nmks-vm "$set" 2>/dev/null | tr -s ' \n' ' ' |
      sed 's/.*elements = { //; s/ }.*//'
    printf '; '
  done
}

make_world() {
  R=nmks-vmr-$SUITE-$$ I=nmks-vmi-$SUITE-$$
  ip netns add "$R"
  ip netns add "$I"
  ip -n "$R" link set lo up
  ip -n "$I" link set lo up
  ip -n "$R" tuntap add dev lan mode tap
  ip -n "$R" addr add 198.51.100.1/24 dev lan
  ip -n "$R" link set lan up
  ip link add wan netns "$R" type veth peer name wan netns "$I"
  ip -n "$R" addr add 203.0.113.254/24 dev wan
  ip -n "$R" link set wan up
  ip -n "$I" addr add 203.0.113.1/24 dev wan
  ip -n "$I" addr add 203.0.113.80/32 dev lo
  ip -n "$I" link set wan up
  ip -n "$I" route add 198.51.100.0/24 via 203.0.113.254
  ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$R" nft -f - <<'EOF'
table inet nmks-vm {
  counter sent {}
  counter vpn {}
  counter housekeeping {}
  set flows4 { typeof ip saddr . ip daddr . meta l4proto . th dport; flags dynamic,timeout; timeout 1h; size 512; counter; }
  set flows6 { typeof ip6 saddr . ip6 daddr . meta l4proto; flags dynamic,timeout; timeout 1h; size 512; counter; }
  set kinds { typeof meta nfproto . meta l4proto; flags dynamic; size 64; counter; }
  set icmp6types { typeof icmpv6 type; flags dynamic; size 64; counter; }
  set icmp4types { typeof icmp type; flags dynamic; size 64; counter; }
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "lan" icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } counter name housekeeping return
    iifname "lan" udp sport 68 udp dport 67 counter name housekeeping return
    iifname "lan" ip daddr 203.0.113.1 udp dport { 51820, 1194 } counter name vpn return
    iifname "lan" meta nfproto { ipv4, ipv6 } counter name sent
    iifname "lan" meta nfproto ipv4 meta l4proto { tcp, udp } add @flows4 { ip saddr . ip daddr . meta l4proto . th dport }
    iifname "lan" meta nfproto ipv6 add @flows6 { ip6 saddr . ip6 daddr . meta l4proto }
    iifname "lan" meta nfproto { ipv4, ipv6 } add @kinds { meta nfproto . meta l4proto }
    iifname "lan" meta l4proto icmpv6 add @icmp6types { icmpv6 type }
    iifname "lan" meta l4proto icmp add @icmp4types { icmp type }
  }
}
EOF
  ip netns exec "$I" nft -f - <<'EOF'
table inet nmks-vm {
  counter tunneled {}
  counter docker {}
  counter podman {}
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname { "wgs", "ovpns" } counter name tunneled
    iifname "wgs" tcp dport 9997 counter name docker
    iifname "wgs" tcp dport 9996 counter name podman
  }
}
EOF
  # The VPN server: wireguard-go with a /run of its own.
  local ckey skey
  ckey=$(wg genkey)
  skey=$(wg genkey)
  cat >"$SW/wgs.conf" <<EOF
[Interface]
PrivateKey = $skey
ListenPort = 51820

[Peer]
PublicKey = $(wg pubkey <<<"$ckey")
AllowedIPs = 192.0.2.2/32
EOF
  cat >"$SHARE/wg0.conf" <<EOF
[Interface]
PrivateKey = $ckey
Address = 192.0.2.2/32

[Peer]
PublicKey = $(wg pubkey <<<"$skey")
Endpoint = 203.0.113.1:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 5
EOF
  # The same peer as NetworkManager's own WireGuard type (interface wgn).
  cp "$SHARE/wg0.conf" "$SHARE/wgn.conf"
  ip netns exec "$I" unshare -m --propagation private sh -c \
    'mount -t tmpfs tmpfs /run && mkdir -p /run/wireguard && WG_PROCESS_FOREGROUND=1 exec wireguard-go -f wgs' \
    >"$SW/server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 200); do
    if ip -n "$I" link show wgs >/dev/null 2>&1 &&
      nsenter -t "$SERVER_PID" -m -n wg setconf wgs "$SW/wgs.conf" 2>/dev/null; then
      ip -n "$I" addr add 192.0.2.1/24 dev wgs
      ip -n "$I" link set wgs up
      return 0
    fi
    sleep 0.05
  done
  cat "$SW/server.log" >&2
  fail "the VPN server (wireguard-go) did not start"
}

# The OpenVPN server for the dispatcher hook's OpenVPN connection: a test
# PKI made now (EC keys, valid 2 days), openvpn on 203.0.113.1:1194/udp with
# a /run of its own, the client's tunnel addresses in 192.0.2.128/25 (the
# WireGuard server holds 192.0.2.0/24; the longer route wins).
start_openvpn_server() {
  local pki=$SW/pki
  mkdir -p "$pki" "$SHARE/ovpn"
  (
    set -e
    cd "$pki"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
    key ca
    openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=nmks-vm-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    for who in server client; do
      key "$who"
      openssl req -new -key "$who.key" -out "$who.csr" -subj "/CN=$who"
      usage=serverAuth
      [ "$who" = server ] || usage=clientAuth
      printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\n' \
        "$usage" >"$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
        -out "$who.crt" -days 2 -extfile "$who.ext" 2>/dev/null
    done
  ) || fail "making the OpenVPN test PKI failed"
  cp "$pki/ca.crt" "$pki/client.crt" "$pki/client.key" "$SHARE/ovpn/"
  cat >"$SW/ovpn-server.conf" <<CONF
dev ovpns
dev-type tun
proto udp
local 203.0.113.1
port 1194
topology subnet
server 192.0.2.128 255.255.255.128
push "redirect-gateway def1"
keepalive 2 8
persist-key
dh none
verb 3
ca $pki/ca.crt
cert $pki/server.crt
key $pki/server.key
CONF
  ip netns exec "$I" unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec openvpn --config $SW/ovpn-server.conf" \
    >"$SW/ovpn-server.log" 2>&1 &
  OVPN_PID=$!
  local i
  for i in $(seq 300); do
    grep -q 'Initialization Sequence Completed' "$SW/ovpn-server.log" && return 0
    kill -0 "$OVPN_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$SW/ovpn-server.log" >&2
  fail "the OpenVPN server did not start"
}

# The VM: qemu in the router's namespace, its one card on the tap "lan".
start_vm() {
  [ -z "$QEMU_PID" ] || fail "start_vm: the VM runs already"
  # qemu's monitor: commands into monitor.in, its answers (unread) to monitor.out.
  [ -p "$SW/monitor.in" ] || mkfifo "$SW/monitor.in" "$SW/monitor.out"
  local boots
  boots=$(find "$SHARE/boot" -maxdepth 1 -name '[0-9]*' ! -name '*.tmp' | wc -l)
  ip netns exec "$R" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 3072 \
    -display none -vga none -monitor "pipe:$SW/monitor" -serial "file:$SW/console.$((boots + 1)).log" -no-reboot \
    -nic none -netdev tap,id=n0,ifname=lan,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \
    -drive "file=$SW/disk.qcow2,format=qcow2,if=virtio,cache=unsafe" \
    -virtfs "local,path=$SHARE,mount_tag=host,security_model=none,id=host" \
    -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=0" \
    </dev/null >"$SW/qemu.log" 2>&1 &
  QEMU_PID=$!
  ln -sf "console.$((boots + 1)).log" "$SW/console.log"
  local started=$SECONDS
  while [ ! -e "$SHARE/boot/$((boots + 1))" ]; do
    kill -0 "$QEMU_PID" 2>/dev/null || {
      cat "$SW/qemu.log" >&2
      QEMU_PID=
      fail "qemu exited while the VM booted"
    }
    [ $((SECONDS - started)) -lt 600 ] || fail "the VM did not boot in 600 s"
    sleep 0.2
  done
  log "booted in $((SECONDS - started)) s (guest uptime $(cat "$SHARE/boot/$((boots + 1))") s at the agent's start)"
}
# A command to qemu's monitor (set_link n0 off: the cable pulled).
monitor() { echo "$1" >"$SW/monitor.in"; }
wait_vm_gone() { # SECONDS
  local started=$SECONDS
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    [ $((SECONDS - started)) -lt "$1" ] || fail "the VM did not stop in $1 s"
    sleep 0.2
  done
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
}

# A command in the VM, as root, through the agent: prints its output,
# returns its exit status (124: no answer in VM_TIMEOUT seconds).
# The last command's number is kept in a file: vm is mostly called in a
# command substitution, a subshell.
vm_send() {
  local n
  n=$(($(cat "$SHARE/cmd/.last" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$SHARE/cmd/.last"
  printf '%s\n' "$1" >"$SHARE/cmd/.$n.tmp"
  mv "$SHARE/cmd/.$n.tmp" "$SHARE/cmd/$n.sh"
}
vm() {
  local timeout=${VM_TIMEOUT:-300} n started=$SECONDS
  vm_send "$1"
  n=$(cat "$SHARE/cmd/.last")
  while [ ! -e "$SHARE/cmd/$n.rc" ]; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null || [ $((SECONDS - started)) -ge "$timeout" ]; then
      cat "$SHARE/cmd/$n.out" 2>/dev/null || true
      echo "(no answer from the VM in $((SECONDS - started)) s)"
      return 124
    fi
    sleep 0.1
  done
  cat "$SHARE/cmd/$n.out"
  return "$(cat "$SHARE/cmd/$n.rc")"
}
# The same, and a failure ends the suite.
vm_must() {
  local out rc=0
  out=$(vm "$1") || rc=$?
  if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" | sed 's/^/    | /' >&2
    fail "in the VM (exit status $rc): $1"
  fi
  printf '%s' "$out"
}

# What happened to the counters over a step.
MARK_LEAKED=0 MARK_TUNNELED=0 MARK_T=0
mark() {
  MARK_LEAKED=$(leaked)
  MARK_TUNNELED=$(tunneled)
  MARK_T=$SECONDS
}
# expect_no_leak WHAT: 0 leaked since mark; the tunnel carried traffic.
expect_no_leak() {
  local l t
  l=$(($(leaked) - MARK_LEAKED))
  t=$(($(tunneled) - MARK_TUNNELED))
  log "$1: leaked $l, tunneled $t in $((SECONDS - MARK_T)) s"
  RESULTS+=("$(printf '%-58s %4s s  leaked %5s  tunneled %6s' "$1" "$((SECONDS - MARK_T))" "$l" "$t")")
  if [ "$l" != 0 ]; then
    problem "$1: $l packets left the VM outside the tunnel (flows: $(flows))"
  fi
}
RESULTS=()
# After the distribution firewall (nftables.service) reloaded with the kill
# switch engaged: both tables are in the kernel, status says engaged, and
# verify passes (WHEN names the moment).
expect_beside_firewall() { # WHEN
  local out started=$SECONDS
  out=$(vm "nft list tables")
  grep -qx 'table inet filter' <<<"$out" || problem "$1: the firewall's table inet filter is gone: $out"
  grep -qx 'table inet nm-killswitch' <<<"$out" || problem "$1: the kill switch's table is gone: $out"
  out=$(vm "nm-killswitch status --json") || problem "$1: nm-killswitch status failed: $out"
  grep -Eq '"engaged": *true' <<<"$out" || problem "$1: status does not say engaged: $out"
  out=$(vm "nm-killswitch verify 2>&1") || problem "$1: nm-killswitch verify failed: $out"
  log "$1: verify: $(tail -n 1 <<<"$out") ($((SECONDS - started)) s)"
}
# The tunnel gone: the VPN's WireGuard link deleted under NetworkManager.
TUNNEL_GONE='for l in $(ip -br link show type wireguard | cut -d" " -f1); do ip link del "$l"; done'

vpn_active() {
  [ "$(vm "nmcli -g GENERAL.STATE connection show wg0 2>/dev/null")" = activated ]
}
vpn_up() {
  local out rc=0
  out=$(vm "nmcli --wait 120 connection up wg0") || rc=$?
  [ "$rc" = 0 ] || problem "nmcli connection up wg0 failed ($rc): $out
$(vm "journalctl -b -o short-monotonic --no-pager | grep -E 'killswitch|nm-killswitch|vpn\[' | tail -n 15")"
}
# After a fault: the VPN up again with its tunnel. When its WireGuard link
# is deleted, NetworkManager goes on calling the VPN activated (the VPN
# service does not notice; blocking stays, so nothing leaks): after 10 s of
# that the test notes it and switches the VPN off and on.
vpn_restore() {
  local i state
  for i in $(seq 10); do
    state=$(vm 'echo "$(nmcli -g GENERAL.STATE connection show wg0 2>/dev/null)|$(ip -br link show type wireguard | wc -l)"') || true
    case "$state" in
      "activated|"[1-9]*) return 0 ;;
      activat*) sleep 1 ;;
      *)
        vpn_up
        return 0
        ;;
    esac
  done
  NOTES+=("the VPN stayed $state (NetworkManager's state|WireGuard links) for 10 s after a fault")
  log "note: ${NOTES[-1]}; nmcli connection down and up"
  vm "nmcli --wait 60 connection down wg0" >/dev/null || true
  vpn_up
}
NOTES=()
# Traffic through the tunnel again after a fault: the tunneled counter grows
# within N seconds (read every 0.2 s; alice sends every 10 ms).
expect_tunnel_flows() { # N WHAT
  local t0 deadline=$((SECONDS + $1))
  t0=$(tunneled)
  until [ "$(tunneled)" -gt "$t0" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { problem "$2: no traffic came out of the tunnel in $1 s"; return 0; }
    sleep 0.2
  done
}
# Released: alice's traffic reaches the router directly again within N
# seconds (the leaked counter grows); if not, WHAT and the VM's tables.
expect_direct_flows() { # N WHAT
  local l0 deadline=$((SECONDS + $1))
  l0=$(leaked)
  until [ "$(leaked)" -gt "$l0" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { problem "$2 (tables: $(vm "nft list tables" | tr '\n' ' '))"; return 0; }
    sleep 0.2
  done
}

# The distribution firewalls beside nftables.service (tests/vm/guest/firewalls.sh),
# each started, reloaded or restarted and stopped with the kill switch
# engaged and alice sending. phase WHAT COMMAND TABLE...: 0 packets outside
# the tunnel and alice's traffic through it while firewalls.sh COMMAND runs
# and 3 s after; then the kill switch's table is as it was, the TABLEs are
# there, status says engaged and verify passes. With CONTAINER set (docker,
# podman) the container's packets came out of the tunnel too.
CONTAINER= PHASE_OUT=
phase() {
  local what=$1 cmd=$2 out c0 c
  shift 2
  [ -z "$CONTAINER" ] || c0=$(counter "$I" "$CONTAINER")
  mark
  out=$(VM_TIMEOUT=600 vm "bash /mnt/host/guest/firewalls.sh $cmd") ||
    problem "$what: firewalls.sh $cmd failed: $out"
  PHASE_OUT=$out
  sleep 3
  expect_no_leak "$what"
  [ $(($(tunneled) - MARK_TUNNELED)) -gt 0 ] || problem "$what: nothing came out of the tunnel"
  if [ -n "$CONTAINER" ]; then
    c=$(($(counter "$I" "$CONTAINER") - c0))
    RESULTS+=("$(printf '%-58s %s' "  $CONTAINER's container: through the tunnel" "$c")")
    if [ "$c" = 0 ]; then
      problem "$what: nothing of the $CONTAINER container came out of the tunnel:
$(vm "bash /mnt/host/guest/firewalls.sh diagnose $CONTAINER")"
    elif [ "${NMKS_VM_DIAGNOSE:-}" = 1 ]; then
      log "$what: the container's packets (NMKS_VM_DIAGNOSE=1):
$(vm "bash /mnt/host/guest/firewalls.sh diagnose $CONTAINER")"
    fi
  fi
  out=$(vm "bash /mnt/host/guest/firewalls.sh check $(printf '%q ' "$@")") || problem "$what: $out"
}
step_firewalls() {
  vpn_active || vpn_up
  vm_must "cd /mnt/host/guest && bash firewalls.sh off && bash firewalls.sh baseline && bash firewalls.sh image" >/dev/null
  local filter='table inet filter' fw='table inet firewalld' ip4='table ip filter' nat='table ip nat'
  phase "firewalld started" firewalld-start "$fw"
  log "firewalld started: $(grep -A1 nftables.service <<<"$PHASE_OUT" | tr '\n' ' ')"
  phase "firewall-cmd --reload" firewalld-reload "$fw"
  phase "systemctl restart firewalld" firewalld-restart "$fw"
  phase "firewalld stopped, nftables.service restarted" firewalld-stop "$filter"
  phase "ufw enable" ufw-enable "$filter" "$ip4" 'table ip6 filter'
  phase "ufw reload" ufw-reload "$filter" "$ip4" 'table ip6 filter'
  phase "ufw disable" ufw-disable "$filter"
  # podman before docker, as on a podman user's machine: a dockerd that
  # turned IP forwarding on leaves `ip filter FORWARD` policy drop when it
  # stops, which the accept rules of netavark's nftables driver (Debian 13),
  # in a table of their own, cannot override: the container's forwarded
  # packets would be dropped there, before they reach the tunnel, whatever
  # the kill switch does (the runs with docker first: 0 through, 0 leaked).
  # With podman first they pass our forward chain into the tunnel and are
  # masqueraded by netavark (traced). (The iptables driver of Debian 12
  # adds its rules to that very chain.)
  CONTAINER=podman
  phase "podman (rootful, netavark): a container sending" podman-run "$filter"
  log "podman: tables $(vm "nft list tables" | tr '\n' ' ')"
  phase "podman network reload --all" podman-reload "$filter"
  CONTAINER=
  phase "podman container removed (netavark tears down)" podman-stop "$filter"
  CONTAINER=docker
  phase "dockerd started, a container sending" docker-start "$filter" "$ip4" "$nat"
  phase "systemctl restart docker, the container back" docker-restart "$filter" "$ip4" "$nat"
  CONTAINER=
  phase "container removed, dockerd and containerd stopped" docker-stop "$filter"
  # Back to the Debian firewall alone for the steps that follow: its
  # restart flushes the ruleset with what the others left in it.
  mark
  vm "systemctl restart nftables.service" >/dev/null || problem "systemctl restart nftables failed"
  sleep 3
  expect_no_leak "all stopped, nftables.service restarted (flush ruleset)"
  expect_beside_firewall "after firewalld, ufw, docker and podman"
}

# As alice: status through nm-killswitch-front (started by D-Bus under
# systemd); then 32 MB messages to the guard (the bus refuses them) and to
# the front, while root asks the guard: the guard's memory (its cgroup)
# does not grow, root is answered, and alice is served again afterwards.
front_flood() {
  local out guard_before guard_after
  out=$(vm "runuser -u alice -- nm-killswitch status 2>&1") ||
    problem "nm-killswitch status as alice (through the front) failed: $out"
  out=$(vm "systemctl show -p ActiveState -p MemoryMax -p CapabilityBoundingSet \
    nm-killswitch-front.service")
  grep -qx ActiveState=active <<<"$out" || problem "D-Bus did not start the front: $out"
  log "front unit: $(tr '\n' ' ' <<<"$out")"
  if [ -z "${NMKS_BUS_FLOOD:-}" ] || [ ! -x "$NMKS_BUS_FLOOD" ]; then
    problem "NMKS_BUS_FLOOD does not name the bus-flood program (meson test sets it)"
    return
  fi
  cp "$NMKS_BUS_FLOOD" "$SHARE/bus-flood"
  guard_before=$(vm "systemctl show -P MemoryCurrent nm-killswitch-guard.service")
  vm "for d in io.github.nmkillswitch.Guard1 io.github.nmkillswitch.Front1; do
        runuser -u alice -- /mnt/host/bus-flood \$d Engage 1000000 1 >/tmp/flood-\$d.log 2>&1 &
      done
      slowest=0
      for i in \$(seq 5); do
        t=\$(date +%s%N); nm-killswitch status >/dev/null || echo root-failed
        ms=\$(( (\$(date +%s%N) - t) / 1000000 )); [ \$ms -le \$slowest ] || slowest=\$ms
      done
      wait; echo slowest-root-status-ms=\$slowest
      cat /tmp/flood-*.log" >"$SW/flood.out" 2>&1 || true
  guard_after=$(vm "systemctl show -P MemoryCurrent nm-killswitch-guard.service")
  log "flood: $(sort "$SW/flood.out" | uniq -c | tr -s ' \n' ' ')"
  log "guard memory (cgroup): $guard_before -> $guard_after bytes"
  ! grep -q root-failed "$SW/flood.out" || problem "root's status failed during the flood"
  ! grep -qx ok "$SW/flood.out" || problem "a flood call was accepted"
  [ "$(grep -c "org.freedesktop.DBus.Error.AccessDenied" "$SW/flood.out")" = 1 ] ||
    problem "the bus did not refuse the user's calls to the guard"
  if [[ "$guard_before" =~ ^[0-9]+$ && "$guard_after" =~ ^[0-9]+$ ]]; then
    [ "$guard_after" -le $((guard_before + 64 * 1024 * 1024)) ] ||
      problem "the flood grew the guard by more than 64 MiB"
  else
    problem "cannot read the guard's memory: $guard_before / $guard_after"
  fi
  out=$(vm "runuser -u alice -- nm-killswitch status 2>&1") ||
    problem "after the flood, status as alice failed: $out"
  out=$(vm "runuser -u alice -- nm-killswitch engage --connection evil --tunnel eth0 2>&1") &&
    problem "alice could engage: $out"
  grep -q "not authorized" <<<"$out" || problem "alice's engage was not refused by polkit: $out"
}

# A user floods the kill switch: only root may call the guard; the
# front (D-Bus activated under systemd, MemoryMax) takes users' calls.
step_front() {
  front_flood
}

# The faults, each with the kill switch engaged and alice sending.
step_faults() {
  mark
  ip -n "$I" link set wan down
  sleep 5
  ip -n "$I" link set wan up
  ip -n "$I" route replace 198.51.100.0/24 via 203.0.113.254
  expect_no_leak "server gone for 5 s"
  expect_tunnel_flows 8 "after the server came back"

  # With the VPN up, the routes send everything into the tunnel whatever the
  # firewall says: a flush is tested with the tunnel gone right after it.
  # Debian's firewall reloads: nft -f /etc/nftables.conf, `flush ruleset`
  # and its table inet filter loaded again in one go.
  mark
  vm "systemctl reload nftables.service; $TUNNEL_GONE" >/dev/null ||
    problem "systemctl reload nftables and tunnel removal failed in the VM"
  sleep 5
  expect_no_leak "nftables.service reloaded (flush ruleset), then the tunnel gone"
  vpn_restore
  expect_tunnel_flows 3 "after the VPN came back up"
  expect_beside_firewall "after systemctl reload nftables"

  mark
  vm "systemctl restart NetworkManager" >/dev/null || problem "systemctl restart NetworkManager failed"
  sleep 5
  expect_no_leak "NetworkManager restarted"
  vpn_restore
  expect_tunnel_flows 3 "after NetworkManager restarted"

  mark
  monitor "set_link n0 off"
  sleep 5
  monitor "set_link n0 on"
  sleep 8
  expect_no_leak "cable pulled for 5 s and plugged back in"
  vpn_restore
  expect_tunnel_flows 3 "after the cable came back"

  mark
  vm "nmcli connection modify lan ipv4.addresses 198.51.100.3/24 && nmcli device reapply eth0" >/dev/null ||
    problem "the LAN address could not be changed"
  sleep 8
  expect_no_leak "LAN address changed (198.51.100.2 -> .3)"
  vm "nmcli connection modify lan ipv4.addresses 198.51.100.2/24 && nmcli device reapply eth0" >/dev/null ||
    problem "the LAN address could not be changed back"
  vpn_restore
  expect_tunnel_flows 3 "after the address changed back"

  mark
  vm "systemctl kill -s KILL nm-killswitch-guard.service; nft flush ruleset; $TUNNEL_GONE" >/dev/null ||
    problem "killing the guard, flushing and removing the tunnel failed"
  sleep 5
  expect_no_leak "double fault: guard SIGKILLed, nft flush ruleset, tunnel gone"
  vm "systemctl is-active nm-killswitch-guard.service" >/dev/null ||
    problem "the guard did not come back after SIGKILL"
  vpn_restore
  expect_tunnel_flows 3 "after the VPN came back up"

  mark
  vm 'kill -KILL $(pidof nm-killswitch-service)' >/dev/null ||
    problem "no nm-killswitch-service to kill in the VM"
  sleep 5
  expect_no_leak "VPN service SIGKILLed"
  vpn_restore
  expect_tunnel_flows 3 "after the VPN came back up"

  out=$(vm "nm-killswitch verify") || problem "nm-killswitch verify failed: $out"
  log "verify: $(tail -n 1 <<<"$out")"
}

# Upgrade, engaged and sending.
step_upgrade() {
  mark
  out=$(vm "dpkg -i /mnt/host/debs2/network-manager-killswitch_*.deb 2>&1") ||
    problem "dpkg -i of the new version failed: $out"
  sleep 3
  expect_no_leak "upgrade to $(vm "dpkg-query -W -f='\${Version}' network-manager-killswitch")"
  vm "systemctl is-active nm-killswitch-guard.service" >/dev/null ||
    problem "the guard is not active after the upgrade"
}

# Reboot with block-at-boot and an application sending from early boot,
# and a hand-written firewall that nftables.service loads at boot (and
# flushes at shutdown, its ExecStop).
step_reboot() {
  vm_must "bash /mnt/host/guest/reboot-setup.sh && bash /mnt/host/guest/nftables.sh hand-written" >/dev/null
  vpn_active || vpn_up
  mark
  vm_send "systemctl reboot"
  wait_vm_gone 300
  expect_no_leak "shutdown with the VPN up (nftables.service flushes as it stops)"
  # Count from the VM's first packet: the counters as the VM is off.
  mark
  start_vm
  local waited=0
  until vpn_active; do
    waited=$((waited + 1))
    [ "$waited" -lt 120 ] || { problem "the VPN did not come up after the reboot"; break; }
    sleep 1
  done
  expect_no_leak "reboot: from the first packet until the VPN is up"
  out=$(vm "systemctl show -p ActiveState -p ExecMainStatus nm-killswitch-boot.service;
    journalctl -b -o short-monotonic -u nm-killswitch-boot -u nmks-early-sender -u NetworkManager | grep -m4 -e Started -e Finished -e starting")
  log "boot: $(tr '\n' ' ' <<<"$out")"
  out=$(vm "nft list chain inet filter input") || true
  grep -q 'ct state established,related accept' <<<"$out" ||
    problem "the hand-written firewall was not loaded at boot: $out"
  mark
  sleep 3
  expect_no_leak "after the reboot, VPN up, the hand-written firewall loaded"
  [ $(($(tunneled) - MARK_TUNNELED)) -gt 0 ] ||
    problem "the early application's traffic does not come out of the tunnel after the reboot"
  expect_beside_firewall "after the reboot with the hand-written firewall"
}

# Down: released, traffic flows directly.
step_down() {
  # The LAN no longer brings the VPN up (a NetworkManager restart below
  # would), and nothing is blocked at boot.
  vm_must "nmcli connection modify lan connection.secondaries ''" >/dev/null
  out=$(vm "nm-killswitch boot off") || problem "nm-killswitch boot off failed: $out"
  vm_must "nmcli connection down wg0" >/dev/null
  expect_direct_flows 3 "nmcli connection down: traffic does not flow directly again"
}

# The dispatcher hook with NetworkManager's own WireGuard (kernel module).
step_hook() {
  vm_must "nmcli connection import type wireguard file /mnt/host/wgn.conf && nm-killswitch enable wgn" >/dev/null
  out=$(vm "nmcli --wait 120 connection up wgn") ||
    problem "nmcli connection up wgn (NetworkManager's WireGuard, opted in) failed: $out"
  grep -Eq '"engaged": *true' <<<"$(vm "nm-killswitch status --json")" ||
    problem "the dispatcher hook did not engage the kill switch for NetworkManager's WireGuard"
  mark
  sleep 3
  expect_no_leak "NetworkManager's WireGuard opted in: up"
  [ $(($(tunneled) - MARK_TUNNELED)) -gt 0 ] ||
    problem "nothing came out of NetworkManager's WireGuard tunnel"
  # The firewall restarted: its ExecStop flushes the ruleset, its ExecStart
  # flushes again and loads the hand-written ruleset.
  mark
  vm "systemctl restart nftables.service; ip link del wgn" >/dev/null ||
    problem "systemctl restart nftables and tunnel removal failed in the VM"
  sleep 3
  expect_no_leak "NetworkManager's WireGuard opted in: nftables.service restarted, tunnel gone"
  vm "nmcli --wait 120 connection up wgn" >/dev/null || problem "nmcli connection up wgn failed again"
  expect_beside_firewall "NetworkManager's WireGuard opted in: after systemctl restart nftables"
  mark
  vm "systemctl restart NetworkManager" >/dev/null || problem "systemctl restart NetworkManager failed"
  sleep 5
  expect_no_leak "NetworkManager's WireGuard opted in: NetworkManager restarted"
  vm "nmcli connection down wgn" >/dev/null || true
  expect_direct_flows 3 "NetworkManager's WireGuard down: traffic does not flow directly again"
  vm "nmcli connection delete wgn" >/dev/null || true
}

# The dispatcher hook with an opted-in OpenVPN connection
# (network-manager-openvpn, a TLS client of the server in the internet).
step_openvpn() {
  vm_must "bash /mnt/host/guest/openvpn.sh && nm-killswitch enable ovpn" >/dev/null
  out=$(vm "nmcli --wait 120 connection up ovpn") ||
    problem "nmcli connection up ovpn (OpenVPN, opted in) failed: $out"
  grep -Eq '"engaged": *true' <<<"$(vm "nm-killswitch status --json")" ||
    problem "the dispatcher hook did not engage the kill switch for OpenVPN"
  mark
  sleep 3
  expect_no_leak "OpenVPN opted in: up"
  [ $(($(tunneled) - MARK_TUNNELED)) -gt 0 ] || problem "nothing came out of the OpenVPN tunnel"
  # The tunnel and its routes go with its openvpn process.
  mark
  vm 'nft flush ruleset; kill -KILL $(pidof openvpn)' >/dev/null ||
    problem "flush and killing openvpn failed in the VM"
  sleep 3
  expect_no_leak "OpenVPN opted in: nft flush ruleset, openvpn SIGKILLed"
  grep -Eq '"engaged": *true' <<<"$(vm "nm-killswitch status --json")" ||
    problem "OpenVPN's client killed: status does not say engaged"
  vm "nmcli --wait 120 connection up ovpn" >/dev/null || problem "nmcli connection up ovpn failed again"
  expect_tunnel_flows 3 "after OpenVPN came back up"
  mark
  vm "systemctl restart NetworkManager" >/dev/null || problem "systemctl restart NetworkManager failed"
  sleep 5
  expect_no_leak "OpenVPN opted in: NetworkManager restarted"
  # Down as a user does it: up first if the restart took the VPN away.
  [ "$(vm "nmcli -g GENERAL.STATE connection show ovpn 2>/dev/null")" = activated ] ||
    vm "nmcli --wait 120 connection up ovpn" >/dev/null ||
    problem "nmcli connection up ovpn after NetworkManager's restart failed"
  vm "nmcli --wait 60 connection down ovpn" >/dev/null || problem "nmcli connection down ovpn failed"
  expect_direct_flows 3 "OpenVPN down: traffic does not flow directly again"
  grep -Eq '"engaged": *false' <<<"$(vm "nm-killswitch status --json")" ||
    problem "OpenVPN down: status does not say released"
  vm "nmcli connection delete ovpn" >/dev/null || true
}

# Remove, purge: engaged for a tunnel that is not there, so that
# nothing gets out until the removal releases it.
step_remove() {
  vm_must "nm-killswitch engage --tunnel wgx --endpoint 203.0.113.1:51820/udp" >/dev/null
  mark
  sleep 2
  expect_no_leak "engaged with nm-killswitch engage (no tunnel)"
  out=$(vm "dpkg -r network-manager-killswitch 2>&1") || problem "dpkg -r failed: $out"
  printf '%s\n' "$out" | sed 's/^/    | /'
  out=$(vm "nft list table inet nm-killswitch 2>&1; ls /var/lib/nm-killswitch /run/nm-killswitch 2>&1") || true
  ! grep -q '^table inet nm-killswitch' <<<"$out" || problem "the table is still there after dpkg -r"
  expect_direct_flows 3 "after dpkg -r, traffic does not flow"
  out=$(vm "dpkg -P network-manager-killswitch 2>&1; ls -d /var/lib/nm-killswitch 2>&1") || true
  grep -q 'No such file' <<<"$out" || problem "purge left /var/lib/nm-killswitch: $out"
}

# run_step NAME [LABEL]: step_NAME, timed, unless NMKS_VM_STEPS leaves it
# out. The boot, the install and the VPN's import and up always run.
run_step() {
  local name=$1 label=${2:-$1} started=$SECONDS
  if [ -n "${NMKS_VM_STEPS:-}" ] && [[ ",$NMKS_VM_STEPS," != *",$name,"* ]]; then
    return 0
  fi
  [ "$name" != firewalls ] || [ "${NMKS_VM_FIREWALLS:-1}" != 0 ] || return 0
  "step_$name"
  TIMES+=("$label $((SECONDS - started))")
}

run_suite() {
  SUITE=$1
  SW=$WORK/$SUITE
  SHARE=$SW/share
  mkdir -p "$SHARE/cmd" "$SHARE/boot" "$SHARE/debs"
  chmod 755 "$SW" "$SHARE"
  trap suite_cleanup EXIT
  trap 'exit 130' INT TERM
  local t0=$SECONDS step
  IMAGE=$("$HERE/image.sh" "$SUITE")
  log "image $IMAGE: kernel $(cat "$IMAGE/kernel-version"), network-manager" \
    "$(awk '$1 == "network-manager" { print $2 }' "$IMAGE/packages")," \
    "nftables $(awk '$1 == "nftables" { print $2 }' "$IMAGE/packages") ($((SECONDS - t0)) s)"
  qemu-img create -q -f qcow2 -b "$IMAGE/disk.img" -F raw "$SW/disk.qcow2"
  cp "$HERE/guest/agent.sh" "$SHARE/agent.sh"
  mkdir -p "$SHARE/guest"
  cp "$HERE"/guest/* "$SHARE/guest/"
  cp "$HERE/../world/hand-written.nft" "$SHARE/guest/"
  cp "$DEBS"/v1/network-manager-killswitch_*.deb "$SHARE/debs/"
  mkdir -p "$SHARE/debs2"
  cp "$DEBS"/v2/network-manager-killswitch_*.deb "$SHARE/debs2/"
  make_world
  start_openvpn_server

  step=$SECONDS
  start_vm
  vm_must "bash /mnt/host/guest/setup.sh" >/dev/null
  local before
  before=$(leaked)
  sleep 2
  [ "$(leaked)" -gt "$before" ] ||
    fail "alice's traffic does not reach the router: the test world is broken"
  log "boot and LAN: $((SECONDS - step)) s; alice's traffic reaches the router directly"
  # Debian's firewall, present for real from here on: nftables.service
  # with Debian's default /etc/nftables.conf, before the package comes.
  vm_must "bash /mnt/host/guest/nftables.sh default" >/dev/null
  grep -qx 'table inet filter' <<<"$(vm "nft list tables")" ||
    problem "nftables.service started, but its table inet filter is not in the kernel"
  TIMES+=("boot+lan $((SECONDS - step))")

  # ---- install
  step=$SECONDS
  local out
  out=$(vm_must "dpkg -i /mnt/host/debs/network-manager-killswitch_*.deb 2>&1")
  log "installed: $(vm "dpkg-query -W network-manager-killswitch")"
  out=$(vm "systemctl show -p ActiveState -p SubState -p NoNewPrivileges -p ProtectSystem \
    -p CapabilityBoundingSet nm-killswitch-guard.service")
  grep -qx ActiveState=active <<<"$out" || problem "the guard is not active after install: $out"
  grep -qx NoNewPrivileges=yes <<<"$out" || problem "the guard runs without NoNewPrivileges: $out"
  grep -qx ProtectSystem=strict <<<"$out" || problem "the guard runs without ProtectSystem=strict: $out"
  log "guard unit: $(tr '\n' ' ' <<<"$out")"
  out=$(vm "nm-killswitch status") || problem "nm-killswitch status failed after install: $out"
  TIMES+=("install $((SECONDS - step))")

  run_step front "front+flood"

  # ---- the VPN: import, up with kernel WireGuard.
  step=$SECONDS
  vm_must "nmcli connection import type killswitch file /mnt/host/wg0.conf" >/dev/null
  vpn_up
  out=$(vm "ip -d link show type wireguard")
  grep -q wireguard <<<"$out" || problem "no kernel WireGuard link with the VPN up: $out"
  log "tunnel: $(head -n 1 <<<"$out")"
  ! grep -q 'wireguard-go' <<<"$(vm "pgrep -a wireguard-go || true")" ||
    problem "wireguard-go runs in the VM: the VPN is not using kernel WireGuard"
  # The protection the kernel allows: the table owned by the guard from
  # 6.12 (trixie, PERSIST); owned plus an unowned twin on 6.1 (bookworm).
  local want=twin
  [ "$SUITE" = bookworm ] || want=owner
  out=$(vm "nm-killswitch status --json; nm-killswitch status") || problem "nm-killswitch status failed: $out"
  grep -Eq "\"protection\": *\"$want\"" <<<"$out" ||
    problem "status does not say protection $want on kernel $(cat "$IMAGE/kernel-version"):" \
      "$(grep -Eo '"protection": *"[^"]*"' <<<"$out" || echo "no protection in: $out")"
  log "status: $(grep -i '^protection' <<<"$out" || true)"
  mark
  sleep 3
  expect_no_leak "VPN up (kernel WireGuard)"
  [ $(($(tunneled) - MARK_TUNNELED)) -gt 0 ] || problem "nothing came out of the tunnel with the VPN up"
  TIMES+=("import+up $((SECONDS - step))")

  run_step faults
  run_step firewalls
  run_step upgrade
  local n
  for n in $(seq "${NMKS_VM_REBOOTS:-1}"); do run_step reboot; done
  run_step down
  run_step hook "dispatcher hook"
  run_step openvpn "dispatcher hook, OpenVPN"
  run_step remove "remove+purge"

  vm_send "systemctl poweroff"
  wait_vm_gone 300
  log "all steps done in $((SECONDS - t0)) s"
  local line
  for line in "${RESULTS[@]}"; do log "$line"; done
  for line in "${TIMES[@]}"; do log "time: $line s"; done
  for line in "${NOTES[@]}"; do log "note: $line"; done
  if [ "${#PROBLEMS[@]}" -gt 0 ]; then
    for line in "${PROBLEMS[@]}"; do log "  problem: $line" >&2; done
    fail "${#PROBLEMS[@]} check(s) failed (above)"
  fi
  log "PASS"
}
TIMES=()

# ------------------------------------------------------------ main
# A function, read whole before it runs: bash reads a script as it goes, and
# an edit of this file during a run would otherwise change the run.

main() {
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tap devices, mmdebstrap)"
  for tool in qemu-system-x86_64 qemu-img mmdebstrap mke2fs wireguard-go wg openvpn openssl nft ip \
    nsenter dpkg-buildpackage dpkg-deb; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps installs it)"
  done
  [ -e /dev/net/tun ] || skip "no /dev/net/tun"
  SUITES=("$@")
  [ ${#SUITES[@]} -gt 0 ] || SUITES=(bookworm trixie)

  WORK=$(mktemp -d /var/tmp/nmks-vm-test.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
  started=$SECONDS
  if [ -n "${NMKS_VM_DEBS:-}" ]; then
    DEBS=$NMKS_VM_DEBS
  else
    DEBS=$WORK/debs
    log "building the packages from a copy of $SRC"
    "$SRC/tests/package/debs.sh" build "$WORK/pkg" "$DEBS/v1"
    "$SRC/tests/package/debs.sh" bump "$DEBS/v1" "$DEBS/v2" vmtest1
  fi
  # The suites' VMs run one after the other: side by side (NMKS_VM_PARALLEL=1)
  # on this 2-core machine, each VM took twice as long to boot and
  # NetworkManager's call to start the VPN service timed out. Each suite's
  # output is printed when it ends.
  failed=()
  declare -A pid_of rc_of
  for SUITE in "${SUITES[@]}"; do
    (
      set -e
      run_suite "$SUITE"
    ) >"$WORK/$SUITE.log" 2>&1 &
    pid_of[$SUITE]=$!
    if [ "${NMKS_VM_PARALLEL:-}" != 1 ]; then
      rc_of[$SUITE]=0
      wait "${pid_of[$SUITE]}" || rc_of[$SUITE]=$?
    fi
  done
  for SUITE in "${SUITES[@]}"; do
    if [ -z "${rc_of[$SUITE]:-}" ]; then
      rc_of[$SUITE]=0
      wait "${pid_of[$SUITE]}" || rc_of[$SUITE]=$?
    fi
    cat "$WORK/$SUITE.log"
    if [ "${rc_of[$SUITE]}" = 0 ]; then
      log "$SUITE passed"
    else
      log "$SUITE FAILED"
      failed+=("$SUITE")
    fi
  done
  SUITE=
  log "wall time $((SECONDS - started)) s"
  [ ${#failed[@]} -eq 0 ] || fail "failed: ${failed[*]}"
}
main "$@"
exit
