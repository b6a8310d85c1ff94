#!/bin/bash
# A bootable Debian disk image for the VM suite, made once and cached:
#
#   image.sh SUITE        (bookworm or trixie)
#
# prints the directory that holds disk.img (raw ext4, the root file system),
# vmlinuz and initrd.img (Debian's own kernel and initramfs, for qemu's
# -kernel/-initrd). The root is made from Debian's archive with mmdebstrap:
# Debian's kernel, systemd as PID 1, the real NetworkManager, nftables,
# wireguard-tools, openvpn with network-manager-openvpn (for the dispatcher
# hook), polkitd and the libraries network-manager-killswitch
# links, so the package installs with dpkg -i and no network. The firewalls
# a distribution user adds are there too, none of them started at boot (the
# VM suite starts each in a step of its own): firewalld, ufw, docker.io and
# podman with netavark, and busybox-static, of which the test makes a
# container image offline. An unprivileged
# user "alice" sends the test traffic. A unit mounts the host's 9p share
# (tag "host") at /mnt/host at boot and runs /mnt/host/agent.sh, which the
# test supplies (tests/vm/guest/agent.sh): it is not part of the image.
#
# Cached under /var/cache/nm-killswitch-vm/SUITE-HASH, HASH over the package
# list and RECIPE (below), so a change to either makes a new image and a
# second run reuses it. As root.
set -euo pipefail

SUITE=${1:?usage: image.sh SUITE}
CACHE=${NMKS_VM_CACHE:-/var/cache/nm-killswitch-vm}

log() { printf '[vm-image] %s\n' "$*" >&2; }
fail() {
  printf '[vm-image] FAIL: %s\n' "$*" >&2
  exit 1
}

common="linux-image-amd64 systemd-sysv udev kmod dbus procps iproute2 nftables
  wireguard-tools network-manager polkitd libnftnl11 libmnl0 libnm0 e2fsprogs
  openvpn network-manager-openvpn firewalld ufw iptables docker.io podman netavark
  busybox-static"
case "$SUITE" in
  bookworm) packages="$common libglib2.0-0" ;;
  trixie) packages="$common libglib2.0-0t64 docker-cli" ;; # docker.io's CLI
  *) fail "unknown suite $SUITE (bookworm or trixie)" ;;
esac
# Raise when the image is made differently (the hooks below), so that a
# cached image of the old recipe is not used.
RECIPE=2
# shellcheck source=tests/lib/mmdebstrap.sh
. "$(dirname "$0")/../lib/mmdebstrap.sh"
if mmdebstrap_cached "$SUITE"; then
  echo "$DIR"
  exit 0
fi

started=$SECONDS
# The hooks run on the host with the root at $1.
# shellcheck disable=SC2016
mmdebstrap_root \
  'echo nmks-vm >"$1/etc/hostname"' \
  'printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
  'chroot "$1" useradd -m -u 1000 -s /bin/bash alice' \
  'chroot "$1" passwd -d root' \
  'mkdir -p "$1/mnt/host"' \
  'cat >"$1/etc/systemd/system/nmks-vm-agent.service" <<EOF
[Unit]
Description=nm-killswitch VM test agent (commands from the host over 9p)
After=local-fs.target dbus.service
[Service]
Type=simple
ExecStartPre=/sbin/modprobe -a 9pnet_virtio 9p
ExecStartPre=/bin/mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /mnt/host
ExecStart=/bin/bash /mnt/host/agent.sh
[Install]
WantedBy=multi-user.target
EOF' \
  'chroot "$1" systemctl enable nmks-vm-agent.service' \
  'for u in firewalld.service ufw.service docker.service docker.socket containerd.service podman.socket podman-restart.service podman-auto-update.timer podman-clean-transient.service; do [ ! -e "$1/lib/systemd/system/$u" ] && [ ! -e "$1/usr/lib/systemd/system/$u" ] || chroot "$1" systemctl disable $u; done' \
  'for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do chroot "$1" systemctl mask $t; done' \
  'mkdir -p "$1/etc/NetworkManager/conf.d" && printf "[main]\nno-auto-default=*\n\n[connectivity]\nenabled=false\n" >"$1/etc/NetworkManager/conf.d/90-nmks-vm.conf"'
log "$SUITE: root made in $((SECONDS - started)) s"
cp -L "$TMP"/root/boot/vmlinuz-* "$TMP/vmlinuz"
cp -L "$TMP"/root/boot/initrd.img-* "$TMP/initrd.img"
ls "$TMP"/root/boot/vmlinuz-* | sed 's,.*/vmlinuz-,,' >"$TMP/kernel-version"
mke2fs -q -t ext4 -L nmks-vm -d "$TMP/root" "$TMP/disk.img" 4G >&2 ||
  fail "mke2fs of the $SUITE root failed"
rm -rf "$TMP/root"
mmdebstrap_keep
log "$SUITE: image $DIR ($(cat "$DIR/kernel-version")) in $((SECONDS - started)) s"
echo "$DIR"
