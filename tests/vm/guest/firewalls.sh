#!/bin/bash
# In the VM, as root: the firewalls a Debian user adds beside nftables.service,
# each run for real, as its user runs it, with the kill switch engaged. The
# image installs them without starting any at boot (tests/vm/image.sh).
#
#   firewalls.sh off                none of them runs
#   firewalls.sh baseline           keep the kill switch's table as nft lists
#                                   it (no counters), to compare with later
#   firewalls.sh check TABLE...     the kill switch's table is there as kept,
#                                   each TABLE ("table inet firewalld") too,
#                                   status says engaged and verify passes
#   firewalls.sh firewalld-start    systemctl start firewalld (nftables
#                                   backend); on Debian 12 its unit
#                                   conflicts with nftables.service, which
#                                   stops (flush ruleset); prints whether
#                                   nftables.service still runs
#   firewalls.sh firewalld-reload   firewall-cmd --reload
#   firewalls.sh firewalld-restart  systemctl restart firewalld
#   firewalls.sh firewalld-stop     systemctl stop firewalld; nftables.service
#                                   restarted (Debian 13's firewalld removes
#                                   its table inet filter)
#   firewalls.sh ufw-enable|ufw-reload|ufw-disable
#                                   ufw (iptables-nft: table ip filter, ip6 filter)
#   firewalls.sh image              a container image made offline: busybox
#                                   (busybox-static) in a tarball, imported
#                                   by docker and by podman as nmks/busybox
#   firewalls.sh docker-start       dockerd (bridge 192.0.2.65/27) and a
#                                   container that opens TCP connections to
#                                   203.0.113.80:9997 every 200 ms
#   firewalls.sh docker-restart     systemctl restart docker (the container
#                                   comes back: --restart always)
#   firewalls.sh docker-stop        the container removed, dockerd and
#                                   containerd stopped, docker0 deleted
#   firewalls.sh podman-run         rootful podman, netavark (bridge
#                                   192.0.2.96/27): the same to port 9996
#   firewalls.sh podman-reload      podman network reload --all (netavark
#                                   sets its firewall rules again)
#   firewalls.sh podman-stop        the container removed (netavark tears
#                                   its network down)
set -euo pipefail
KEPT=/run/nmks-vm-firewalls
mkdir -p "$KEPT"

# A container's sender: a TCP connection attempt to 203.0.113.80:PORT every
# 200 ms (busybox's nc has no UDP). It ends on SIGTERM: as the container's
# PID 1 without a handler it would ignore it, and every stop or restart
# would wait out docker's 10 s before its SIGKILL.
sender() { # PORT
  echo "trap 'exit 0' TERM; while :; do /bin/busybox nc -w 1 203.0.113.80 $1 </dev/null; /bin/busybox sleep 0.2; done"
}

# systemctl VERB UNIT..., at most 180 s; the units' last log lines when it fails.
unit() {
  local verb=$1
  shift
  timeout 180 systemctl "$verb" "$@" && return 0
  echo "systemctl $verb $* failed or took more than 180 s:" >&2
  journalctl -b --no-pager -n 25 $(printf -- '-u %s ' "$@") >&2
  return 1
}

wait_for() { # SECONDS WHAT COMMAND...
  local seconds=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "$what: not after $seconds s" >&2
  return 1
}

# The container runs (docker's CLI waits for ever on a socket whose daemon
# does not start: each call at most 10 s). What docker said when not.
docker_running() { # SECONDS WHAT
  wait_for "$1" "$2" sh -c \
    '[ "$(timeout 10 docker inspect -f "{{.State.Running}}" nmks-sender)" = true ]' && return 0
  journalctl -b --no-pager -n 30 -u docker -u containerd >&2
  return 1
}

case "${1:-}" in
  off)
    for u in firewalld ufw docker containerd; do
      ! systemctl is-active --quiet "$u.service" || { echo "$u.service runs at boot" >&2; exit 1; }
    done
    ;;
  baseline)
    nft -s list table inet nm-killswitch >"$KEPT/table"
    ;;
  check)
    shift
    bad=0
    tables=$(nft list tables)
    for t in "table inet nm-killswitch" "$@"; do
      grep -qx "$t" <<<"$tables" || { echo "not in the kernel: $t (tables: $(tr '\n' ' ' <<<"$tables"))"; bad=1; }
    done
    if ! nft -s list table inet nm-killswitch >"$KEPT/now" 2>&1 ||
      ! diff -u "$KEPT/table" "$KEPT/now" >"$KEPT/diff"; then
      echo "the kill switch's table is not as before:"
      head -n 30 "$KEPT/diff"
      bad=1
    fi
    out=$(nm-killswitch status --json 2>&1) || true
    grep -Eq '"engaged": *true' <<<"$out" || { echo "status does not say engaged: $out"; bad=1; }
    out=$(nm-killswitch verify 2>&1) || { echo "verify failed: $out"; bad=1; }
    exit "$bad"
    ;;
  firewalld-start)
    grep -Eq '^FirewallBackend=nftables' /etc/firewalld/firewalld.conf ||
      { echo "firewalld's backend is not nftables" >&2; exit 1; }
    unit start firewalld.service
    firewall-cmd --state
    echo "nftables.service: $(systemctl is-active nftables.service || true);" \
      "tables: $(nft list tables | cut -d' ' -f2- | tr '\n' ' ')"
    ;;
  firewalld-reload)
    # On a loaded machine under TCG the reload can outlast D-Bus's 25 s
    # reply timeout; firewalld goes on, and answers the next call when done.
    if ! out=$(firewall-cmd --reload 2>&1); then
      echo "$out"
      grep -q 'Did not receive a reply' <<<"$out" || exit 1
      wait_for 180 "firewalld after its reload" firewall-cmd --state
    fi
    firewall-cmd --state
    ;;
  firewalld-restart)
    unit restart firewalld.service
    firewall-cmd --state
    ;;
  firewalld-stop)
    unit stop firewalld.service
    unit restart nftables.service
    ;;
  ufw-enable)
    ufw --force enable
    ;;
  ufw-reload)
    ufw reload
    ;;
  ufw-disable)
    ufw disable
    ;;
  image)
    root=$(mktemp -d)
    mkdir "$root/bin"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    tar -C "$root" -cf /var/tmp/nmks-busybox.tar .
    rm -rf "$root"
    ;;
  docker-start)
    mkdir -p /etc/docker
    printf '{ "bip": "192.0.2.65/27" }\n' >/etc/docker/daemon.json
    unit start docker.service
    timeout 120 docker import /var/tmp/nmks-busybox.tar nmks/busybox >/dev/null
    # The image has no AppArmor parser (Debian's kernel has AppArmor on):
    # docker would refuse to load its profile.
    timeout 120 docker run -d --restart always --security-opt apparmor=unconfined \
      --name nmks-sender nmks/busybox /bin/busybox sh -c "$(sender 9997)" >/dev/null
    docker_running 30 "the docker container runs"
    ;;
  docker-restart)
    unit restart docker.service
    docker_running 90 "the docker container runs again after the restart"
    ;;
  docker-stop)
    timeout 60 docker rm -f nmks-sender >/dev/null
    unit stop docker.socket docker.service containerd.service
    ip link del docker0 2>/dev/null || true
    ;;
  podman-run)
    mkdir -p /etc/containers
    printf '[network]\nnetwork_backend = "netavark"\ndefault_subnet = "192.0.2.96/27"\n' \
      >/etc/containers/containers.conf
    timeout 120 podman import /var/tmp/nmks-busybox.tar nmks/busybox >/dev/null
    timeout 120 podman run -d --name nmks-sender nmks/busybox /bin/busybox sh -c "$(sender 9996)" >/dev/null
    podman info --format '{{.Host.NetworkBackend}}' | grep -qx netavark ||
      { echo "podman does not use netavark" >&2; exit 1; }
    ;;
  podman-reload)
    timeout 120 podman network reload --all
    ;;
  podman-stop)
    timeout 120 podman rm -f -t 0 nmks-sender >/dev/null
    ;;
  diagnose) # a container's packets did not come out of the tunnel: why
    $2 ps -a --format '{{.Names}} {{.Status}}' 2>&1 | head -n 5
    echo "ip_forward $(sysctl -n net.ipv4.ip_forward)"
    ip rule
    bridge=$(ip -br addr | awk '/192\.0\.2\.(65|97)\// { print $1 }' | head -n 1)
    ip route get 203.0.113.80 from 192.0.2.70 iif "${bridge:-lo}" 2>&1
    ip route get 203.0.113.80 from 192.0.2.100 iif "${bridge:-lo}" 2>&1
    nft list ruleset 2>&1 | grep -E 'table|masquerade|snat|192\.0\.2\.(64|96)' | head -n 30
    ip -s -br link show type wireguard
    nft list table inet nm-killswitch | grep -E 'counter packets [1-9]'
    nft list ruleset | grep -E 'chain nv_|mark' | head -n 20
    # Every chain on the forward hook, with its table and policy.
    nft list ruleset | awk '/^table/ { t = $0 } /hook forward/ { print t " " $0 }'
    # Where the containers' packets went: each rule they met, traced 3 s.
    nft -f - <<'TRACE'
table ip nmks-vm-trace {
  chain pre {
    type filter hook prerouting priority -400;
    ip saddr 192.0.2.64/26 tcp dport { 9996, 9997 } meta nftrace set 1
  }
}
TRACE
    timeout 3 nft monitor trace | cut -c1-200 | head -n 60 || true
    nft delete table ip nmks-vm-trace
    ;;
  *)
    echo "usage: firewalls.sh off|baseline|check|firewalld-*|ufw-*|image|docker-*|podman-*" >&2
    exit 2
    ;;
esac
