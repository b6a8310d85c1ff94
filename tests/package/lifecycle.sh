#!/bin/bash
# The Debian package's lifecycle, for real: install, check the installed
# files (owners, modes, what NetworkManager's dispatcher requires, manual
# pages, translations), run the sandboxed demo against the installed files,
# upgrade while a kill switch is engaged, remove, purge, and remove with the
# guard unreachable.
#
#   lifecycle.sh
#   lifecycle.sh --build-dir DIR network-manager-killswitch_*.deb [network-manager-killswitch-gnome_*.deb]
#
# Without arguments it builds the packages from a copy of this source tree
# (dpkg-buildpackage -us -uc -b) in a temporary directory. Given packages,
# it also needs the meson build directory they were built in (with
# dpkg-buildpackage: obj-<triplet> in the source copy): meson does not
# install the demo (demo/nm-killswitch-demo) or its traffic source
# (demo/nmks-traffic), so they are not in the package and are taken from
# there (and built there first: the package build leaves the demo out,
# -Ddemo=false); everything the demo runs of nm-killswitch (guard, command, VPN
# service, editor plugin, .name file) is what the package installed.
# Lintian runs on what is tested and fails the test on any error.
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
# No `producer | grep -q` here: grep -q exits at its first match, a producer
# still writing then dies of SIGPIPE, and pipefail turns a match into a
# failure (it made "listed by dpkg -L" fail now and then). Here-strings.

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

  # Every file and directory the packages installed, and what the checks
  # below expect to be there, stat'ed inside the chroot (a link's absolute
  # target must resolve there, not on the host). One line a path:
  # path|type|uid|gid|mode|target|type|uid|gid|mode, the target part "-"
  # for anything but a symbolic link.
  installed_stat() {
    in_root sh -c '
      while IFS= read -r f; do
        l=$(stat -c "%F|%u|%g|%a" "$f" 2>/dev/null) || l="missing|-|-|-"
        t="-|-|-|-|-"
        if [ -L "$f" ]; then
          t="$(readlink -f "$f" || echo "?")|$(stat -L -c "%F|%u|%g|%a" "$f" 2>/dev/null ||
            echo "dangling|-|-|-")"
        fi
        printf "%s|%s|%s\n" "$f" "$l" "$t"
      done'
  }

  # (a) Checks every installed path and prints one line of findings per
  # problem, then fails if there was any.
  check_installed_files() {
    local -a expected=() problems=()
    local f lang page sec name
    local -A type uid gid mode ttype tuid tmode tpath
    # What must be there, whatever dpkg -L says.
    local programs="/usr/bin/nm-killswitch /usr/sbin/nm-killswitch-guard
      /usr/libexec/nm-killswitch-service /usr/libexec/nm-killswitch-dispatcher
      /usr/libexec/nm-killswitch-dispatcher-connection /usr/libexec/nm-killswitch-opt-in"
    local hooks="/usr/lib/NetworkManager/dispatcher.d/90-nm-killswitch
      /usr/lib/NetworkManager/dispatcher.d/pre-up.d/90-nm-killswitch
      /usr/lib/NetworkManager/dispatcher.d/pre-down.d/90-nm-killswitch"
    local data="/usr/share/dbus-1/system.d/io.github.nmkillswitch.Guard1.conf
      /usr/share/dbus-1/system.d/nm-killswitch-service.conf
      /usr/share/dbus-1/system-services/io.github.nmkillswitch.Guard1.service
      /usr/share/polkit-1/actions/io.github.nmkillswitch.policy
      $UNIT_DIR/nm-killswitch-guard.service
      $UNIT_DIR/nm-killswitch-boot.service
      /usr/lib/NetworkManager/VPN/nm-killswitch-service.name"
    # The manual pages and translations of this source tree.
    local mans="" mos=""
    for page in "$SRC"/man/*.[1-9]; do
      [ -f "$page" ] || continue
      name=$(basename "$page")
      sec=${name##*.}
      mans+=" /usr/share/man/man$sec/$name.gz"
    done
    for lang in $(sed 's/#.*//' "$SRC/po/LINGUAS"); do
      mos+=" /usr/share/locale/$lang/LC_MESSAGES/nm-killswitch.mo"
    done
    [ -n "$mans" ] || fail "no manual pages in $SRC/man to look for"
    [ -n "$mos" ] || fail "no languages in $SRC/po/LINGUAS to look for"
    for f in $programs $hooks $data $mans $mos; do expected+=("$f"); done

    local listed
    listed=$(in_root dpkg-query -L network-manager-killswitch network-manager-killswitch-gnome |
      grep '^/' | grep -vx '/\.' | LC_ALL=C sort -u)
    local n_listed
    n_listed=$(printf '%s\n' "$listed" | grep -c .)
    local p t u g m tp tt tu tm
    while IFS="|" read -r p t u g m tp tt tu _ tm; do
      type[$p]=$t uid[$p]=$u gid[$p]=$g mode[$p]=$m
      tpath[$p]=$tp ttype[$p]=$tt tuid[$p]=$tu tmode[$p]=$tm
    done < <({
      printf '%s\n' "$listed"
      printf '%s\n' "${expected[@]}"
    } | LC_ALL=C sort -u | installed_stat)

    # Expected but missing, or not from these packages.
    for f in "${expected[@]}"; do
      if [ "${type[$f]}" = missing ]; then
        problems+=("$f: not installed")
      elif ! grep -qxF "$f" <<<"$listed"; then
        problems+=("$f: there, but not listed by dpkg -L for the packages")
      fi
    done

    # Everything the packages installed: root:root, nothing setuid or
    # setgid, nothing writable by group or others (links aside: their mode
    # means nothing).
    for f in "${!type[@]}"; do
      [ "${type[$f]}" != missing ] || continue
      [ "${uid[$f]}:${gid[$f]}" = 0:0 ] ||
        problems+=("$f: owned by uid:gid ${uid[$f]}:${gid[$f]}, not root:root")
      [ "${type[$f]}" != "symbolic link" ] || continue
      (((8#${mode[$f]} & 8#4000) == 0)) ||
        problems+=("$f: setuid (mode $(printf '%04o' "$((8#${mode[$f]}))"))")
      (((8#${mode[$f]} & 8#2000) == 0)) ||
        problems+=("$f: setgid (mode $(printf '%04o' "$((8#${mode[$f]}))"))")
      (((8#${mode[$f]} & 8#022) == 0)) ||
        problems+=("$f: writable by group or others (mode $(printf '%04o' "$((8#${mode[$f]}))"))")
    done

    # Root-owned programs, 0755.
    want_file() { # path mode what
      local f=$1 want=$2 what=$3
      [ "${type[$f]}" != missing ] || return 0
      [ "${type[$f]}" = "regular file" ] || { problems+=("$f ($what): a ${type[$f]}, not a regular file"); return 0; }
      [ "$((8#${mode[$f]}))" = "$((8#$want))" ] ||
        problems+=("$f ($what): mode $(printf '%04o' "$((8#${mode[$f]}))"), want $want")
    }
    for f in $programs; do want_file "$f" 0755 "program"; done
    for f in $data; do want_file "$f" 0644 "system configuration"; done
    for f in $mans; do want_file "$f" 0644 "manual page"; done
    for f in $mos; do want_file "$f" 0644 "translation"; done

    # NetworkManager's dispatcher runs a file or link in dispatcher.d,
    # pre-up.d and pre-down.d only if it (for a link: its target) is a
    # regular file owned by root, not writable by group or others, not
    # setuid, and executable by its owner.
    local hook_list n_hooks=0
    hook_list=$(printf '%s\n' "$listed" | grep -E '^/usr/lib/NetworkManager/dispatcher\.d/((pre-up|pre-down)\.d/)?[^/]+$' || true)
    for f in $hook_list; do
      [ "${type[$f]}" != directory ] || continue
      n_hooks=$((n_hooks + 1))
      local tgt=$f tt=${type[$f]} tu=${uid[$f]} tm=${mode[$f]}
      [ "${uid[$f]}" = 0 ] || problems+=("$f (dispatcher script): owned by uid ${uid[$f]}, nm-dispatcher runs only root's")
      if [ "$tt" = "symbolic link" ]; then
        tgt=${tpath[$f]} tt=${ttype[$f]} tu=${tuid[$f]} tm=${tmode[$f]}
        if [ "$tt" = dangling ]; then
          problems+=("$f (dispatcher script): a link to $(in_root readlink "$f"), which does not exist")
          continue
        fi
      fi
      [ "$tt" = "regular file" ] || { problems+=("$f (dispatcher script): $tgt is a $tt, not a regular file"); continue; }
      [ "$tu" = 0 ] || problems+=("$f (dispatcher script): $tgt is owned by uid $tu, not root")
      (((8#$tm & 8#022) == 0)) ||
        problems+=("$f (dispatcher script): $tgt is writable by group or others (mode $(printf '%04o' "$((8#$tm))"))")
      (((8#$tm & 8#4000) == 0)) || problems+=("$f (dispatcher script): $tgt is setuid")
      (((8#$tm & 8#0100) != 0)) ||
        problems+=("$f (dispatcher script): $tgt is not executable by its owner (mode $(printf '%04o' "$((8#$tm))"))")
    done

    if [ "${#problems[@]}" -gt 0 ]; then
      printf '[lifecycle]   %s\n' "${problems[@]}" >&2
      fail "${#problems[@]} problem(s) with the installed files (above)"
    fi
    local hook_targets
    hook_targets=$(for f in $hook_list; do [ "${type[$f]}" = "symbolic link" ] && echo "${tpath[$f]}"; done | sort -u | tr '\n' ' ')
    log "installed files: ${#type[@]} paths checked ($n_listed from dpkg -L): all root:root, none setuid" \
      "or setgid, none writable by group or others; $n_hooks dispatcher hooks (dispatcher.d, pre-up.d," \
      "pre-down.d) -> ${hook_targets:-themselves}(root, $(printf '%04o' "$((8#${mode[/usr/libexec/nm-killswitch-dispatcher]}))"));" \
      "$(wc -w <<<"$programs") programs 0755; $(wc -w <<<"$data") D-Bus, polkit, systemd and VPN .name files 0644;" \
      "$(wc -w <<<"$mans") manual pages; $(wc -w <<<"$mos") translations ($(sed 's/#.*//' "$SRC/po/LINGUAS" | xargs))"
  }

  # (b) The sandboxed demo (NetworkManager on a private bus, our VPN plugin,
  # a wireguard-go server, a router counting every packet), in the
  # installed system: its --install-root is an empty tree laid over /usr,
  # so the guard, the command, the VPN service, the editor plugin and the
  # .name file are the package's. Its --build-dir holds only the demo and
  # its traffic source (built, not installed by meson): any other program
  # looked for there would not be found.
  # Not in a chroot: the demo runs its NetworkManager, guard and nmcli with
  # `nsenter -t PID -m`, which puts them at the root of that mount
  # namespace, out of any chroot (on the host's files). So the demo gets a
  # mount namespace of its own whose root is the overlay (pivot_root; the
  # host's tree is detached there), and everything it enters is in it.
  run_installed_demo() {
    local d=$R/tmp/nmks-demo pid rc=0
    mkdir -p "$d/demo" "$d/root/usr" "$R/mnt"
    cp "$WORK/demo/nm-killswitch-demo" "$WORK/demo/nmks-traffic" "$d/demo/"
    log "demo: /tmp/nmks-demo/demo/nm-killswitch-demo --build-dir /tmp/nmks-demo" \
      "--install-root /tmp/nmks-demo/root (empty: the installed /usr as it is), / = the overlay"
    local started_at=$SECONDS
    # nsenter, unshare, sh and env exec: $! is the demo's PID.
    nsenter --net="/run/netns/$NS" -- unshare -m --propagation private -- sh -c '
      cd "$1" && pivot_root . mnt && umount -l /mnt || exit 125
      shift
      exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"' \
      demo-root "$R" /tmp/nmks-demo/demo/nm-killswitch-demo --build-dir /tmp/nmks-demo \
      --install-root /tmp/nmks-demo/root >"$WORK/demo.log" 2>&1 &
    pid=$!
    started "$pid"
    wait "$pid" || rc=$?
    sed 's/^/    | /' "$WORK/demo.log"
    [ "$rc" = 0 ] || fail "the installed demo failed (exit status $rc; its output is above)"
    # The table: | phase | through tunnel | leaked |[ LEAK]
    local rows phase tunneled leaked rest engaged=0 off_leaked=
    rows=$(grep -E '^\| [^-]' "$WORK/demo.log" | grep -v '^| phase ') || true
    [ -n "$rows" ] || fail "the demo printed no table of counted packets"
    while IFS='|' read -r _ phase tunneled leaked rest; do
      phase=$(echo "$phase" | sed 's/ *$//; s/^ *//')
      tunneled=${tunneled// /} leaked=${leaked// /}
      case "$phase" in
        "user switches the VPN off"*) off_leaked=$leaked ;;
        *)
          engaged=$((engaged + 1))
          [ "$leaked" = 0 ] ||
            fail "the demo counted $leaked leaked packets in phase \"$phase\", with the kill switch engaged"
          if [ "$phase" = "VPN up" ] && [ "$tunneled" -eq 0 ]; then
            fail "the demo counted no packets through the tunnel while the VPN was up"
          fi
          ;;
      esac
    done <<<"$rows"
    [ "$engaged" -ge 9 ] || fail "the demo's table has $engaged engaged phases, want 9"
    grep -q 'While the kill switch was engaged, 0 packets leaked in every phase' "$WORK/demo.log" ||
      fail "the demo did not say that 0 packets leaked in every engaged phase"
    # The counting works: once the VPN is off, the traffic goes out directly.
    [ -n "$off_leaked" ] && [ "$off_leaked" -gt 0 ] ||
      fail "after the VPN was switched off the router counted no direct packets: the demo's counting is broken"
    log "demo: $engaged engaged phases, 0 packets leaked; $off_leaked went out directly once the VPN was off;" \
      "$((SECONDS - started_at)) s"
  }

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
    /usr/libexec/nm-killswitch-dispatcher-connection /usr/libexec/nm-killswitch-opt-in \
    /usr/libexec/nm-killswitch-front "$UNIT_DIR/nm-killswitch-front.service" \
    /usr/share/dbus-1/system-services/io.github.nmkillswitch.Front1.service \
    /usr/lib/NetworkManager/VPN/nm-killswitch-service.name \
    /usr/lib/NetworkManager/dispatcher.d/90-nm-killswitch \
    /usr/lib/NetworkManager/dispatcher.d/pre-up.d/90-nm-killswitch \
    /usr/lib/NetworkManager/dispatcher.d/pre-down.d/90-nm-killswitch \
    "$UNIT_DIR/nm-killswitch-guard.service" "$UNIT_DIR/nm-killswitch-boot.service" \
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

  # ---- the installed files: owners, modes, what nm-dispatcher requires.
  check_installed_files
  # ---- the sandboxed demo, run by the installed files.
  run_installed_demo

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
  grep -q '"engaged":true' <<<"$(in_root nm-killswitch status --json)" ||
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
  grep -q lifecycle <<<"$(in_root dpkg-query -W -f='${Version}' network-manager-killswitch)" ||
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
  grep 'engaged for:' "$WORK/remove.log" | grep '"command-line"' | grep '"Work VPN"' >/dev/null ||
    fail "remove did not say which connections were engaged"
  grep -q 'being released' "$WORK/remove.log" || fail "remove did not say the kill switch is released"
  grep -qi 'blocking at boot is turned off' "$WORK/remove.log" ||
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
  grep -qi 'deleted the kill-switch table' "$WORK/remove2.log" ||
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
# The last line: what the demo runs in the chroot (an overlay of /).
for tool in dpkg-buildpackage dpkg-deb lintian apt-get unshare nsenter chroot ip nft dbus-daemon \
  NetworkManager nmcli wireguard-go wg dnsmasq setpriv gdbus ss; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps installs it)"
done
BUILD_DIR=
if [ "${1:-}" = --build-dir ]; then
  [ $# -ge 2 ] || fail "--build-dir needs a directory"
  BUILD_DIR=$(cd "$2" && pwd) || fail "no such directory: $2"
  shift 2
fi
if [ $# -gt 0 ] && [ -z "$BUILD_DIR" ]; then
  fail "given packages, --build-dir DIR is needed too: the meson build directory they were built in" \
    "(obj-<triplet> in the dpkg-buildpackage tree), for the demo, which meson does not install"
fi
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
  "$SRC/tests/package/debs.sh" build "$WORK" "$WORK/debs/v1"
  lintian_input=("$WORK"/build/*.changes)
  tree=$WORK/build/network-manager-killswitch-$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
  BUILD_DIR=$tree/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
fi
# The demo and its traffic source: not installed by meson, so not in the
# package, and not even built by the package build (-Ddemo=false: the demo
# shares its world with the tests, and no test code goes into a package
# build). Built here, in the package's own build directory.
if [ ! -x "$BUILD_DIR/demo/nm-killswitch-demo" ]; then
  log "building the demo in $BUILD_DIR (the package build leaves it out)"
  if ! { meson configure "$BUILD_DIR" -Ddemo=true && meson compile -C "$BUILD_DIR"; } \
    >"$WORK/demo-build.log" 2>&1; then
    tail -n 40 "$WORK/demo-build.log" >&2
    fail "could not build the demo in $BUILD_DIR"
  fi
fi
mkdir -p "$WORK/demo"
for f in nm-killswitch-demo nmks-traffic; do
  [ -x "$BUILD_DIR/demo/$f" ] || fail "no demo/$f in the build directory $BUILD_DIR"
  cp "$BUILD_DIR/demo/$f" "$WORK/demo/"
done
ls "$WORK"/debs/v1/network-manager-killswitch_*.deb >/dev/null 2>&1 ||
  fail "no network-manager-killswitch_*.deb among the packages"
# Where the package has its systemd units: /lib/systemd/system when built
# on Debian 12, /usr/lib/systemd/system on Debian 13 (debian/rules).
UNIT_DIR=$(dpkg-deb -c "$WORK"/debs/v1/network-manager-killswitch_*.deb | awk '{ print $NF }' |
  sed -n 's|^\.\(.*\)/nm-killswitch-guard\.service$|\1|p')
case $UNIT_DIR in
  /lib/systemd/system | /usr/lib/systemd/system) ;;
  *) fail "the package has nm-killswitch-guard.service in \"$UNIT_DIR\", not in /lib/systemd/system" \
    "or /usr/lib/systemd/system" ;;
esac
export UNIT_DIR

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
"$SRC/tests/package/debs.sh" bump "$WORK/debs/v1" "$WORK/debs/v2" lifecycle1
log "upgrade packages: $(cd "$WORK/debs/v2" && echo *.deb)"

# ---- the host, before
snapshot() {
  find /usr /etc /var/lib/dpkg -xdev -printf '%p %y %s %m %T@\n' 2>/dev/null | LC_ALL=C sort
}
snapshot >"$WORK/host.before"
# Outside /usr, /etc and /var/lib/dpkg: what the package and its scripts make.
watched="$UNIT_DIR/nm-killswitch-guard.service $UNIT_DIR/nm-killswitch-boot.service
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
