#!/bin/bash
# GNOME Settings of Debian 13 (gnome-control-center 48, GTK 4.18,
# NetworkManager 1.52) driven like the Debian 12 one on the host:
#
#   debian13.sh GNOME_SETTINGS_TESTS
#
# runs the test program tests/e2e/gnome_settings_test.cc with its world's
# NetworkManager side chrooted in a Debian 13 root (tests/gnome/root.sh,
# cached) into which our packages are installed with dpkg -i: GNOME Settings,
# NetworkManager, nmcli, the plugin, its editor and the guard are Debian 13's
# and ours as packaged; the router, the VPN server and the packet counters
# are the host's. The packages come from tests/package/debs.sh (with
# NMKS_DEB_CACHE and NMKS_DEB_REUSE=1, what the package suite built from
# the same tree). As root; skipped otherwise, failed under CI=true.
#
# GNOME Settings 48 hands "Import from file…" to NetworkManager's own
# WireGuard importer before any VPN plugin, so the newcomer's path there is
# "WireGuard with kill switch" and our page's "Fill in from a WireGuard
# file…"; the test of the import path is left out.
#
# The packages are built on the host (Debian 12, GTK 4.8), so their GTK 4
# editor opens GtkFileChooserNative; built against Debian 13's GTK 4.18 it
# opens GtkFileDialog instead. So the GTK 4 editor in the installed
# network-manager-killswitch-gnome is replaced by one built inside the
# Debian 13 root (tests/toolchains/root-build.sh, the toolchains suite's
# whole-tree build with GCC 14, warnings as errors, cached by the tree with
# NMKS_ROOT_BUILD_CACHE and by ccache), and clicking "Fill in from a
# WireGuard file…" runs the GtkFileDialog path.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
TESTS=${1:?usage: debian13.sh GNOME_SETTINGS_TESTS}
SUITE=trixie

skip() {
  if [ "${CI:-}" = true ]; then
    printf '[gnome13] FAIL (CI=true must not skip): %s\n' "$*" >&2
    exit 1
  fi
  printf '[gnome13] SKIP: %s\n' "$*" >&2
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, chroot, mmdebstrap)"
for tool in mmdebstrap dpkg-buildpackage chroot nsenter unshare; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps installs it)"
done

started=$SECONDS
ROOT=$("$SRC/tests/gnome/root.sh" "$SUITE")
# Under /tmp: the root's /tmp is the host's, so dpkg -i there finds them.
WORK=$(mktemp -d /tmp/nmks-gnome13.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$SRC/tests/package/debs.sh" build "$WORK/pkg" "$WORK/all"
mkdir -p "$WORK/debs"
cp "$WORK"/all/network-manager-killswitch_*.deb "$WORK/debs/"
"$SRC/tests/toolchains/root-build.sh" "$SUITE" "$WORK/editor"
editor=libnm-gtk4-vpn-plugin-killswitch-editor.so
# (Read whole: grep -q would stop readelf early, and pipefail see it fail.)
readelf --dyn-syms -W "$WORK/editor/$editor" >"$WORK/symbols"
grep -q ' gtk_file_dialog_open$' "$WORK/symbols" || {
  echo "[gnome13] FAIL: $editor does not call gtk_file_dialog_open: not built against" \
    "GTK 4.10 or later" >&2
  exit 1
}
# The gnome package with that editor in place of the host's build.
dpkg-deb -R "$WORK"/all/network-manager-killswitch-gnome_*.deb "$WORK/gnome"
path=$(cd "$WORK/gnome" && find . -name "$editor" | sed 's|^\./||')
[ -n "$path" ] || { echo "[gnome13] FAIL: no $editor in the gnome package" >&2; exit 1; }
install -m 644 "$WORK/editor/$editor" "$WORK/gnome/$path"
(cd "$WORK/gnome" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$WORK/gnome" "$WORK/debs/" >/dev/null
chmod 755 "$WORK" "$WORK/debs"
printf '[gnome13] root and packages ready in %s s\n' "$((SECONDS - started))"

NMKS_GNOME_ROOT=$ROOT NMKS_GNOME_DEBS=$WORK/debs NMKS_GNOME_SUITE=$SUITE \
  "$TESTS" --gtest_filter='-GnomeSettingsNewcomerTest.ImportsTheFile*'
