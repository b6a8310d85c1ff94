#!/bin/bash
# The Debian package's lifecycle, for real: install, upgrade while a kill
# switch is engaged, remove, purge, and remove with the guard unreachable.
#
#   lifecycle.sh [network-manager-killswitch_*.deb [network-manager-killswitch-gnome_*.deb]]
#
# Without arguments it builds the packages from a copy of this source tree
# (dpkg-buildpackage -us -uc -b) in a temporary directory. Lintian runs on
# what is tested and fails the test on any error.
#
# Nothing on the host is installed or changed: every package operation runs
# in a chroot into an overlay of / (a tmpfs takes every write) inside a
# private mount namespace, and in a throwaway network namespace whose only
# link is a veth to a second namespace that counts the UDP packets a sender
# streams to it (192.0.2.0/24). There is no systemd there, so the test
# starts and stops the guard itself where systemd would. The host's /usr,
# /etc and /var/lib/dpkg are compared before and after.
#
# As root. Outside CI a missing tool skips the test (77); under CI=true it
# fails.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

log() { printf '[lifecycle] %s\n' "$*"; }
fail() {
  printf '[lifecycle] FAIL: %s\n' "$*" >&2
  exit 1
}
skip() {
  if [ "${CI:-}" = true ]; then fail "$* (CI=true: not skipped)"; fi
  printf '[lifecycle] SKIP: %s\n' "$*"
  exit 77
}

# ------------------------------------------------------------ inside
# Runs in the private mount namespace (see the end of the file).

inside() {
  WORK=$1 NS=$2 PEER=$3
  R=$WORK/ovl/root
  PIDS=$WORK/pids
  GUARD_PID=

  # What this function starts, it stops, by PID, whatever happens. The
  # mounts go away with the namespace.
  stop_started() {
    local pid
    [ -f "$PIDS" ] || return 0
    while read -r pid; do
      kill "$pid" 2>/dev/null || true
    done <"$PIDS"
  }
  trap stop_started EXIT

  mkdir -p "$WORK/ovl"
  mount -t tmpfs -o mode=0755 nmks-pkg-test "$WORK/ovl"
  mkdir -p "$WORK/ovl/upper" "$WORK/ovl/work" "$R"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$WORK/ovl/upper,workdir=$WORK/ovl/work" "$R"
  mount --rbind /dev "$R/dev"
  mount -t proc proc "$R/proc"
  mount --rbind /sys "$R/sys"
  mount -t tmpfs -o mode=0755 run "$R/run"
  mount -t tmpfs -o mode=1777 tmp "$R/tmp"
  mkdir -p "$R/run/dbus" "$R/run/lock" "$R/tmp/debs"
  # PackageKit's apt hook would ask the private bus for a PackageKit that
  # is not there; only noise.
  rm -f "$R/etc/apt/apt.conf.d/20packagekit"
  # No /run/systemd/system: deb-systemd-invoke does nothing here.
  [ ! -e "$R/run/systemd/system" ] || fail "the chroot looks like it runs systemd"

  local v1=() v2=() d
  mkdir -p "$R/tmp/debs/v1" "$R/tmp/debs/v2"
  cp "$WORK"/debs/v1/*.deb "$R/tmp/debs/v1/"
  cp "$WORK"/debs/v2/*.deb "$R/tmp/debs/v2/"
  for d in "$R"/tmp/debs/v1/*.deb; do v1+=("/tmp/debs/v1/$(basename "$d")"); done
  for d in "$R"/tmp/debs/v2/*.deb; do v2+=("/tmp/debs/v2/$(basename "$d")"); done

  # A command in the chroot, in the client's network namespace. Started in
  # the background as "${IN_ROOT[@]}" CMD &, $! is the command's own PID.
  IN_ROOT=(nsenter --net="/run/netns/$NS" -- chroot "$R" /usr/bin/env -i
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive)
  in_root() { "${IN_ROOT[@]}" "$@"; }
  apt_get() {
    in_root apt-get -y -q --no-install-recommends \
      -o Dpkg::Use-Pty=0 "$@"
  }
  table_in_kernel() {
    nsenter --net="/run/netns/$NS" -- nft list table inet nm-killswitch >/dev/null 2>&1
  }
  received() {
    nsenter --net="/run/netns/$PEER" -- nft list counter inet ks-pkg-count udp-in |
      awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
  }
  started() { echo "$1" >>"$PIDS"; }

  # The private system bus, as Debian's system bus: nobody may call or own
  # anything a policy in /usr/share/dbus-1/system.d does not allow (so the
  # package's own policy file is what lets the guard and its clients in).
  # No service directory: the test starts the guard where systemd would.
  cat >"$R/tmp/bus.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
EOF

  start_guard() {
    "${IN_ROOT[@]}" /usr/sbin/nm-killswitch-guard >>"$WORK/guard.log" 2>&1 &
    GUARD_PID=$!
    started "$GUARD_PID"
    local i
    for i in $(seq 100); do
      if in_root nm-killswitch status >/dev/null 2>&1; then return 0; fi
      kill -0 "$GUARD_PID" 2>/dev/null || break
      sleep 0.1
    done
    cat "$WORK/guard.log" >&2
    fail "the guard did not come up on the private bus"
  }
  # As systemd stops it: SIGTERM, and wait until it has gone.
  stop_guard() {
    [ -n "$GUARD_PID" ] || return 0
    kill -TERM "$GUARD_PID" 2>/dev/null || true
    wait "$GUARD_PID" 2>/dev/null || true
    GUARD_PID=
  }
  # How many packets reach the peer in SECONDS seconds.
  count_for() {
    local before after
    before=$(received)
    sleep "$1"
    after=$(received)
    echo $((after - before))
  }

  # ---- the world: a sender in NS streams UDP to the counting PEER.
  nsenter --net="/run/netns/$NS" -- bash -c \
    'while :; do echo nmks-pkg-test 2>/dev/null >/dev/udp/192.0.2.2/9999 || true; sleep 0.02; done' &
  started $!
  local flowing
  flowing=$(count_for 1)
  log "before install: $flowing packets reached the peer in 1 s (must be > 0)"
  [ "$flowing" -gt 0 ] || fail "the sender's packets do not reach the peer; the test world is broken"

  # ---- install
  log "install: apt-get install ${v1[*]}"
  apt_get install "${v1[@]}" >"$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log" >&2
    fail "apt-get install failed"
  }
  log "installed: $(in_root dpkg-query -W -f='${Package} ${Version} ${Status}; ' \
    network-manager-killswitch network-manager-killswitch-gnome)"
  for f in /usr/sbin/nm-killswitch-guard /usr/bin/nm-killswitch \
    /usr/libexec/nm-killswitch-dispatcher /usr/libexec/nm-killswitch-service \
    /usr/lib/NetworkManager/VPN/nm-killswitch-service.name \
    /usr/lib/NetworkManager/dispatcher.d/90-nm-killswitch \
    /usr/lib/NetworkManager/dispatcher.d/pre-up.d/90-nm-killswitch \
    /usr/lib/NetworkManager/dispatcher.d/pre-down.d/90-nm-killswitch \
    /lib/systemd/system/nm-killswitch-guard.service /lib/systemd/system/nm-killswitch-boot.service \
    /usr/share/dbus-1/system.d/io.github.nmkillswitch.Guard1.conf \
    /usr/share/dbus-1/system-services/io.github.nmkillswitch.Guard1.service \
    /usr/share/polkit-1/actions/io.github.nmkillswitch.policy; do
    [ -e "$R$f" ] || fail "the package did not install $f"
  done
  # deb-systemd-helper enabled the units even without systemd running.
  [ -L "$R/etc/systemd/system/multi-user.target.wants/nm-killswitch-guard.service" ] ||
    fail "nm-killswitch-guard.service is not enabled"
  [ -L "$R/etc/systemd/system/sysinit.target.wants/nm-killswitch-boot.service" ] ||
    fail "nm-killswitch-boot.service is not enabled"

  # What systemd does after postinst: the bus runs, the guard is started.
  "${IN_ROOT[@]}" dbus-daemon --nofork --nopidfile --config-file=/tmp/bus.conf >"$WORK/dbus.log" 2>&1 &
  started $!
  for _ in $(seq 100); do [ -S "$R/run/dbus/system_bus_socket" ] && break; sleep 0.05; done
  start_guard

  # ---- engage: two connections, one in lockdown, blocked at boot.
  in_root nm-killswitch engage --tunnel wgx --endpoint 203.0.113.1:51820/udp
  in_root nm-killswitch engage --connection "Work VPN" --tunnel wgy \
    --endpoint 203.0.113.2:1194/udp --mode lockdown
  in_root nm-killswitch boot on
  table_in_kernel || fail "engaged, but there is no table inet nm-killswitch"
  [ -f "$R/var/lib/nm-killswitch/boot.nft" ] || fail "boot on did not write boot.nft"
  local n
  n=$(count_for 1)
  log "engaged (command-line, Work VPN; blocked at boot): $n packets reached the peer in 1 s"
  [ "$n" -eq 0 ] || fail "$n packets got out while the kill switch was engaged"

  # ---- (a) upgrade while engaged and streaming.
  local before_upgrade after_upgrade
  before_upgrade=$(received)
  log "upgrade: apt-get install ${v2[*]}"
  apt_get install "${v2[@]}" >"$WORK/upgrade.log" 2>&1 || {
    cat "$WORK/upgrade.log" >&2
    fail "apt-get install of the new version failed"
  }
  table_in_kernel || fail "the table is gone after the new version was unpacked and configured"
  if grep -q '^network-manager-killswitch:' "$WORK/upgrade.log"; then
    cat "$WORK/upgrade.log" >&2
    fail "the upgrade's maintainer scripts touched the kill switch"
  fi
  # What postinst asks systemd to do on upgrade: restart the guard. The
  # table stays in the kernel while no guard runs.
  stop_guard
  table_in_kernel || fail "the table is gone while the guard restarts"
  n=$(count_for 1)
  log "upgrade: guard stopped for 1 s: $n packets reached the peer"
  start_guard
  in_root nm-killswitch status --json | grep -q '"engaged":true' ||
    fail "the new guard did not take the engaged kill switch over"
  n=$(count_for 2)
  after_upgrade=$(received)
  log "upgrade: new guard running: $n packets reached the peer in 2 s;" \
    "$((after_upgrade - before_upgrade)) from the start of the upgrade to now (must be 0)"
  [ "$((after_upgrade - before_upgrade))" -eq 0 ] ||
    fail "$((after_upgrade - before_upgrade)) packets got out during or after the upgrade"
  table_in_kernel || fail "table inet nm-killswitch is gone after the upgrade"
  log "upgrade: $(in_root dpkg-query -W -f='${Package} ${Version}; ' \
    network-manager-killswitch network-manager-killswitch-gnome)table inet nm-killswitch still there"
  in_root dpkg-query -W -f='${Version}' network-manager-killswitch | grep -q lifecycle ||
    fail "the upgrade did not install the new version"

  # ---- (b) remove: the release is announced and done, nothing blocks.
  log "remove: apt-get remove network-manager-killswitch network-manager-killswitch-gnome"
  apt_get remove network-manager-killswitch network-manager-killswitch-gnome \
    >"$WORK/remove.log" 2>&1 || {
    cat "$WORK/remove.log" >&2
    fail "apt-get remove failed"
  }
  sed 's/^/    | /' "$WORK/remove.log"
  # What prerm's debhelper section asks systemd to do: stop the guard.
  stop_guard
  grep 'engaged for:' "$WORK/remove.log" | grep '"command-line"' | grep -q '"Work VPN"' ||
    fail "remove did not say which connections were engaged"
  grep -q 'being released' "$WORK/remove.log" || fail "remove did not say the kill switch is released"
  grep -q 'blocking at boot is turned off' "$WORK/remove.log" ||
    fail "remove did not say blocking at boot is turned off"
  ! table_in_kernel || fail "table inet nm-killswitch is still there after remove"
  [ ! -e "$R/var/lib/nm-killswitch/boot.nft" ] || fail "boot.nft is still there after remove"
  [ ! -e "$R/run/nm-killswitch" ] || fail "/run/nm-killswitch is still there after remove"
  [ -d "$R/var/lib/nm-killswitch" ] || fail "remove (not purge) removed /var/lib/nm-killswitch"
  n=$(count_for 1)
  log "removed: $n packets reached the peer in 1 s (must be > 0)"
  [ "$n" -gt 0 ] || fail "traffic does not flow after the package was removed"

  # ---- (c) purge
  apt_get purge network-manager-killswitch network-manager-killswitch-gnome \
    >"$WORK/purge.log" 2>&1 || {
    cat "$WORK/purge.log" >&2
    fail "apt-get purge failed"
  }
  [ ! -e "$R/var/lib/nm-killswitch" ] || fail "purge left /var/lib/nm-killswitch"
  [ ! -e "$R/etc/systemd/system/multi-user.target.wants/nm-killswitch-guard.service" ] ||
    fail "purge left the guard's unit enabled"
  log "purged: /var/lib/nm-killswitch gone; dpkg status: $(in_root dpkg-query -W \
    -f='${db:Status-Status}' network-manager-killswitch 2>/dev/null || echo 'not known')"

  # ---- (d) remove while the guard cannot be reached: the table it left
  # behind is deleted, and that is said.
  apt_get install "${v1[@]}" >"$WORK/install2.log" 2>&1 || {
    cat "$WORK/install2.log" >&2
    fail "reinstalling failed"
  }
  start_guard
  in_root nm-killswitch engage --tunnel wgx --endpoint 203.0.113.1:51820/udp --block-at-boot
  stop_guard
  table_in_kernel || fail "the table did not outlive the guard"
  n=$(count_for 1)
  log "guard stopped, table left in the kernel: $n packets reached the peer in 1 s"
  [ "$n" -eq 0 ] || fail "$n packets got out with the guard stopped"
  in_root dpkg -r network-manager-killswitch-gnome network-manager-killswitch \
    >"$WORK/remove2.log" 2>&1 || {
    cat "$WORK/remove2.log" >&2
    fail "dpkg -r with the guard stopped failed"
  }
  sed 's/^/    | /' "$WORK/remove2.log"
  grep -q 'guard cannot be reached' "$WORK/remove2.log" ||
    fail "remove did not say the guard cannot be reached"
  grep -q 'deleted the kill-switch table' "$WORK/remove2.log" ||
    fail "remove did not say it deleted the table"
  ! table_in_kernel || fail "table inet nm-killswitch is still there after remove"
  [ ! -e "$R/var/lib/nm-killswitch/boot.nft" ] || fail "boot.nft is still there after remove"
  n=$(count_for 1)
  log "removed with the guard stopped: $n packets reached the peer in 1 s (must be > 0)"
  [ "$n" -gt 0 ] || fail "traffic does not flow after the package was removed"
  log "all package lifecycle checks passed"
}

if [ "${1:-}" = --inside ]; then
  shift
  inside "$@"
  exit 0
fi

# ------------------------------------------------------------ outside

[ "$(id -u)" = 0 ] || skip "needs root (mount and network namespaces, chroot)"
for tool in dpkg-buildpackage dpkg-deb lintian apt-get unshare nsenter chroot ip nft dbus-daemon; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps installs it)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
  grep -qw overlay /proc/filesystems || skip "the kernel has no overlayfs"

WORK=$(mktemp -d /tmp/nmks-pkg-test.XXXXXX)
NS=ks-pkg$$
PEER=ks-pkgpeer$$
INSIDE_PID=
cleanup() {
  local code=$?
  if [ -n "$INSIDE_PID" ]; then kill "$INSIDE_PID" 2>/dev/null || true; fi
  # What the inside part started, should it have died before stopping it.
  if [ -f "$WORK/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$WORK/pids"
  fi
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
  if [ "$code" != 0 ] && [ -f "$WORK/guard.log" ]; then
    echo "---- guard log" >&2
    cat "$WORK/guard.log" >&2
  fi
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the packages
mkdir -p "$WORK/debs/v1" "$WORK/debs/v2"
if [ $# -gt 0 ]; then
  for d in "$@"; do
    [ -f "$d" ] || fail "no such package: $d"
    cp "$d" "$WORK/debs/v1/"
  done
  lintian_input=("$WORK"/debs/v1/*.deb)
else
  log "building the packages from a copy of $SRC (log: build.log)"
  version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
  tree=$WORK/build/network-manager-killswitch-$version
  mkdir -p "$tree"
  if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files and new ones not ignored: what a commit of the tree holds.
    git -C "$SRC" ls-files -z -co --exclude-standard |
      (cd "$SRC" && tar --null -T - -cf -) | tar -xf - -C "$tree"
  else
    tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$tree"
  fi
  started_at=$SECONDS
  if ! (cd "$tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log" >&2
    fail "dpkg-buildpackage failed"
  fi
  log "built in $((SECONDS - started_at)) s: $(cd "$WORK/build" && echo *.deb)"
  cp "$WORK"/build/network-manager-killswitch_*.deb "$WORK/debs/v1/"
  cp "$WORK"/build/network-manager-killswitch-gnome_*.deb "$WORK/debs/v1/" 2>/dev/null || true
  lintian_input=("$WORK"/build/*.changes)
fi
ls "$WORK"/debs/v1/network-manager-killswitch_*.deb >/dev/null 2>&1 ||
  fail "no network-manager-killswitch_*.deb among the packages"

# ---- lintian: errors fail the test; warnings need an override in debian/.
log "lintian ${lintian_input[*]##*/}"
if ! lintian --fail-on error --display-info "${lintian_input[@]}" 2>&1 |
  grep -v 'running with root privileges' | tee "$WORK/lintian.log"; then
  fail "lintian found errors"
fi
if grep -q '^E:' "$WORK/lintian.log"; then fail "lintian found errors"; fi
log "lintian: $(grep -c '^E:' "$WORK/lintian.log" || true) errors," \
  "$(grep -c '^W:' "$WORK/lintian.log" || true) warnings"

# ---- the "new version": the same packages with a higher version.
mkdir -p "$WORK/repack"
for d in "$WORK"/debs/v1/*.deb; do
  x=$WORK/repack/$(basename "$d" .deb)
  dpkg-deb -R "$d" "$x"
  old=$(sed -n 's/^Version: //p' "$x/DEBIAN/control")
  new=$old+lifecycle1
  sed -i -e "s/^Version: .*/Version: $new/" \
    -e "s/(= $old)/(= $new)/" "$x/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$x" "$WORK/debs/v2/" >/dev/null
done
log "upgrade packages: $(cd "$WORK/debs/v2" && echo *.deb)"

# ---- the host, before
snapshot() {
  find /usr /etc /var/lib/dpkg -xdev -printf '%p %y %s %m %T@\n' 2>/dev/null | LC_ALL=C sort
}
snapshot >"$WORK/host.before"
# Outside /usr, /etc and /var/lib/dpkg: what the package and its scripts make.
watched="/lib/systemd/system/nm-killswitch-guard.service /lib/systemd/system/nm-killswitch-boot.service
  /var/lib/nm-killswitch /run/nm-killswitch"
for f in $watched; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done >"$WORK/host.files.before"

# ---- the network: NS --veth-- PEER, which counts UDP to 192.0.2.2:9999.
ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link set lo up
ip -n "$PEER" link set lo up
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$PEER"
ip -n "$NS" addr add 192.0.2.1/24 dev veth0
ip -n "$PEER" addr add 192.0.2.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$PEER" link set veth1 up
ip -n "$NS" route add default via 192.0.2.2
ip netns exec "$PEER" nft -f - <<'EOF'
table inet ks-pkg-count {
  counter udp-in { }
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    ip saddr 192.0.2.1 udp dport 9999 counter name udp-in
  }
}
EOF

# ---- the lifecycle, in a private mount namespace
unshare -m --propagation private -- "$SELF" --inside "$WORK" "$NS" "$PEER" &
INSIDE_PID=$!
wait "$INSIDE_PID"
INSIDE_PID=

# ---- the host, after
snapshot >"$WORK/host.after"
if ! cmp -s "$WORK/host.before" "$WORK/host.after"; then
  diff "$WORK/host.before" "$WORK/host.after" | head -n 40 >&2
  fail "the host's /usr, /etc or /var/lib/dpkg changed during the test"
fi
for f in $watched; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done >"$WORK/host.files.after"
cmp -s "$WORK/host.files.before" "$WORK/host.files.after" ||
  fail "the package's files on the host changed: $(diff "$WORK/host.files.before" "$WORK/host.files.after" | tr '\n' ' ')"
log "host unchanged: /usr, /etc and /var/lib/dpkg are as before"
log "PASS"
