#!/bin/bash
# The whole tree (tests and demo included) built from this source tree
# inside the cached Debian root of SUITE (tests/gnome/root.sh) with that
# suite's compiler and headers: on Debian 13 GCC 14, a libstdc++ that
# includes less from its own headers, GTK 4.18 and NetworkManager 1.52.
#
#   root-build.sh SUITE OUTDIR
#
# Warnings are errors (-Dwerror=true -Dtests=true -Dgtk=enabled). The build
# only compiles and links; nothing it built runs. OUTDIR receives build.log
# and the GTK 4 editor module it built (tests/gnome/debian13.sh installs
# that one into Debian 13's GNOME Settings). The build runs in an overlay of
# the root (the root stays as it is) on a copy of the tree (the source tree
# is never written); ccache keeps its cache in
# /var/cache/nm-killswitch-vm/ccache-SUITE, so a change to a few files
# recompiles only those. With NMKS_ROOT_BUILD_CACHE (set by meson) the module
# is kept there under a hash of the tree and the root, and the same tree is
# not built again. As root; outside CI a missing tool skips (77), under
# CI=true it fails.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${1:?usage: root-build.sh SUITE OUTDIR}
OUT=${2:?usage: root-build.sh SUITE OUTDIR}
MODULE=libnm-gtk4-vpn-plugin-killswitch-editor.so
VMCACHE=${NMKS_VM_CACHE:-/var/cache/nm-killswitch-vm}

log() { printf '[build-%s] %s\n' "$SUITE" "$*" >&2; }
fail() {
  printf '[build-%s] FAIL: %s\n' "$SUITE" "$*" >&2
  exit 1
}
skip() {
  if [ "${CI:-}" = true ]; then fail "$* (CI=true: not skipped)"; fi
  printf '[build-%s] SKIP: %s\n' "$SUITE" "$*" >&2
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (chroot, overlay mounts)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (scripts/deps installs it)"
started=$SECONDS
ROOT=$("$SRC/tests/gnome/root.sh" "$SUITE")
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/nmks-root-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# What a commit of the tree holds: tracked files and new ones not ignored.
mkdir -p "$WORK/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$SRC" ls-files -z -co --exclude-standard |
    (cd "$SRC" && tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
else
  tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$WORK/src"
fi

cache=""
if [ -n "${NMKS_ROOT_BUILD_CACHE:-}" ]; then
  key=$( (cd "$WORK/src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    echo "$ROOT") | sha256sum | cut -c1-32)
  cache=$NMKS_ROOT_BUILD_CACHE/$SUITE-$key
  if [ -f "$cache/$MODULE" ]; then
    cp "$cache/$MODULE" "$OUT/"
    log "the same tree was built before in the $SUITE root: $cache"
    exit 0
  fi
fi

# Inside a mount namespace of its own: the overlay, the source (read-only),
# ccache's directory and OUTDIR, /proc and /dev; all gone when the build ends.
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root" "$VMCACHE/ccache-$SUITE"
cat >"$WORK/build" <<EOF
set -e
mount -t overlay overlay -o lowerdir=$ROOT,upperdir=$WORK/upper,workdir=$WORK/work $WORK/root
mount -t proc proc $WORK/root/proc
mount --rbind /dev $WORK/root/dev
mkdir -p $WORK/root/src $WORK/root/ccache $WORK/root/out
mount --bind $WORK/src $WORK/root/src
mount -o remount,bind,ro $WORK/root/src
mount --bind $VMCACHE/ccache-$SUITE $WORK/root/ccache
mount --bind $OUT $WORK/root/out
exec chroot $WORK/root /usr/bin/env -i PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 HOME=/tmp CCACHE_DIR=/ccache CCACHE_MAXSIZE=1G sh -c '
  set -e
  cd /src
  g++ --version | head -n 1
  pkg-config --modversion gtk4 | sed "s/^/gtk4 /"
  meson setup /build -Dwerror=true -Dtests=true -Dgtk=enabled
  # -k 0: every file that fails, not only the first one.
  nice ninja -C /build -k 0
  ccache -s | grep -i "hits\|misses" || true
  cp "\$(find /build -name $MODULE)" /out/
'
EOF
log "building the whole tree in $ROOT (log: $OUT/build.log)"
if ! unshare -m --propagation private sh "$WORK/build" >"$OUT/build.log" 2>&1; then
  grep -E -B2 -A8 'error:|warning:' "$OUT/build.log" | head -n 80 >&2 || true
  tail -n 20 "$OUT/build.log" >&2
  fail "the tree does not build in the $SUITE root (the whole log: $OUT/build.log)"
fi
if [ -n "$cache" ]; then
  rm -rf "$NMKS_ROOT_BUILD_CACHE/$SUITE"-* && mkdir -p "$cache" && cp "$OUT/$MODULE" "$cache/"
fi
log "built in $((SECONDS - started)) s: $(head -n 2 "$OUT/build.log" | tr '\n' ' ')"
