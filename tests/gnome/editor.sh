#!/bin/bash
# Our GTK 4 editor (libnm-gtk4-vpn-plugin-killswitch-editor.so) built from
# this source tree inside the cached root of SUITE (tests/gnome/root.sh):
# that suite's compiler (GCC 14 on Debian 13) and that suite's GTK, so the
# code compiled only against newer GTK (GtkFileDialog, GTK 4.10 and later)
# is what the module holds. The packages built on the host cannot hold it.
#
#   editor.sh SUITE OUTDIR
#
# puts the module into OUTDIR (the GTK 3 editor is built as well, so that
# the same page meets the suite's compiler and headers). The build runs in an overlay of the root
# (the root stays as it is) with warnings as errors; ccache keeps its cache
# in /var/cache/nm-killswitch-vm/ccache-SUITE, so a change to a few files
# recompiles only those. With NMKS_EDITOR_CACHE (set by meson) the module
# is kept there under a hash of the tree and the root, and the same tree is
# not built again. Fails when the module does not call gtk_file_dialog_open
# (then it was not built against GTK 4.10 or later). As root.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${1:?usage: editor.sh SUITE OUTDIR}
OUT=${2:?usage: editor.sh SUITE OUTDIR}
MODULE=libnm-gtk4-vpn-plugin-killswitch-editor.so
VMCACHE=${NMKS_VM_CACHE:-/var/cache/nm-killswitch-vm}

log() { printf '[editor-%s] %s\n' "$SUITE" "$*" >&2; }
fail() {
  printf '[editor-%s] FAIL: %s\n' "$SUITE" "$*" >&2
  exit 1
}

started=$SECONDS
ROOT=$("$SRC/tests/gnome/root.sh" "$SUITE")
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/nmks-editor.XXXXXX)
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
if [ -n "${NMKS_EDITOR_CACHE:-}" ]; then
  key=$( (cd "$WORK/src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    echo "$ROOT") | sha256sum | cut -c1-32)
  cache=$NMKS_EDITOR_CACHE/$SUITE-$key
  if [ -f "$cache/$MODULE" ]; then
    cp "$cache/$MODULE" "$OUT/"
    log "the same tree was built before: $cache/$MODULE"
    exit 0
  fi
fi

# Inside a mount namespace of its own: the overlay, the source and ccache's
# directory, /proc and /dev; all gone when the build ends.
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root" "$VMCACHE/ccache-$SUITE"
cat >"$WORK/build" <<EOF
set -e
mount -t overlay overlay -o lowerdir=$ROOT,upperdir=$WORK/upper,workdir=$WORK/work $WORK/root
mount -t proc proc $WORK/root/proc
mount --rbind /dev $WORK/root/dev
mkdir -p $WORK/root/src $WORK/root/ccache
mount --bind $WORK/src $WORK/root/src
mount --bind $VMCACHE/ccache-$SUITE $WORK/root/ccache
exec chroot $WORK/root /usr/bin/env -i PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 HOME=/tmp CCACHE_DIR=/ccache CCACHE_MAXSIZE=400M sh -c '
  set -e
  cd /src
  g++ --version | head -n 1
  pkg-config --modversion gtk4 | sed "s/^/gtk4 /"
  meson setup /build -Dtests=false -Ddemo=false -Dgtk=enabled -Dwerror=true \
    -Doptimization=2 -Ddebug=false
  # The GTK 3 one too, though the test shows only the GTK 4 one: it is
  # the same page, and this is where it meets GCC 14 and Debian 13 headers.
  nice meson compile -C /build nm-gtk4-vpn-plugin-killswitch-editor \
    nm-gtk3-vpn-plugin-killswitch-editor
  ccache -s | grep -i "hits\|misses" || true
  cp "\$(find /build -name $MODULE)" /src/
'
EOF
log "building in $ROOT (log: $OUT/build.log)"
if ! unshare -m --propagation private sh "$WORK/build" >"$OUT/build.log" 2>&1; then
  tail -n 40 "$OUT/build.log" >&2
  fail "the GTK 4 editor does not build in the $SUITE root"
fi
# (Read whole: grep -q would stop readelf early, and pipefail see it fail.)
readelf --dyn-syms -W "$WORK/src/$MODULE" >"$WORK/symbols"
grep -q ' gtk_file_dialog_open$' "$WORK/symbols" ||
  fail "$MODULE does not call gtk_file_dialog_open: not built against GTK 4.10 or later"
cp "$WORK/src/$MODULE" "$OUT/"
if [ -n "$cache" ]; then
  rm -rf "$NMKS_EDITOR_CACHE/$SUITE"-* && mkdir -p "$cache" && cp "$OUT/$MODULE" "$cache/"
fi
log "built in $((SECONDS - started)) s: $(head -n 2 "$OUT/build.log" | tr '\n' ' ')"
