#!/bin/bash
# A Debian root file system with GNOME Settings, for the GNOME Settings test
# of another Debian release than the host's (tests/e2e/gnome_settings_test.cc
# with NMKS_GNOME_ROOT):
#
#   root.sh SUITE        (e.g. trixie)
#
# prints the directory of the root (a plain directory tree, made once and
# cached). It holds what the test runs inside its world's namespaces:
# gnome-control-center, NetworkManager, Xvfb, xdotool, ImageMagick's import,
# python3 with AT-SPI, nftables, wireguard-go, and the libraries our packages
# link; and the Build-Depends of debian/control with g++, ccache and
# GoogleTest, so that tests/toolchains/root-build.sh builds the whole tree
# there (tests included) with the suite's compiler and headers. Our packages
# are not in it: the test installs them into an overlay of the root each
# run, so the cached root never holds a build of ours.
#
# Cached under /var/cache/nm-killswitch-vm/gnome-SUITE-HASH, HASH over the
# package list (Build-Depends included) and RECIPE, so a change to either
# makes a new root and a second run reuses it. As root.
set -euo pipefail

SUITE=${1:?usage: root.sh SUITE}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${NMKS_VM_CACHE:-/var/cache/nm-killswitch-vm}

log() { printf '[gnome-root] %s\n' "$*" >&2; }
fail() {
  printf '[gnome-root] FAIL: %s\n' "$*" >&2
  exit 1
}

packages="gnome-control-center network-manager nftables wireguard-tools wireguard-go
  iproute2 procps util-linux dbus polkitd xvfb xdotool imagemagick python3-gi
  gir1.2-atspi-2.0 at-spi2-core libnftnl11 libmnl0 libnm0 libnma0 libnma-gtk4-0 libgtk-4-1
  fonts-dejavu-core g++ ccache libgtest-dev libgmock-dev $("$SRC/tests/package/build-depends.sh" | tr , ' ')"
case "$SUITE" in
  bookworm) packages="$packages libglib2.0-0" ;;
  *) packages="$packages libglib2.0-0t64" ;;
esac
# Raise when the root is made differently, so that a cached root of the old
# recipe is not used.
RECIPE=1
# shellcheck source=tests/lib/mmdebstrap.sh
. "$SRC/tests/lib/mmdebstrap.sh"
if mmdebstrap_cached "gnome-$SUITE"; then
  echo "$DIR/root"
  exit 0
fi

started=$SECONDS
# shellcheck disable=SC2119 # no hooks
mmdebstrap_root
mmdebstrap_keep
log "$SUITE: root $DIR/root in $((SECONDS - started)) s"
echo "$DIR/root"
