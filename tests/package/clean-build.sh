#!/bin/bash
# Builds the Debian packages the way a Debian buildd does, in a clean chroot
# of SUITE that has nothing but the essential packages, build-essential and
# the Build-Depends of debian/control; then runs that suite's own lintian
# on the result, in the same chroot.
#
#   tests/package/clean-build.sh SUITE OUTDIR      (SUITE: bookworm, trixie, ...)
#
# mmdebstrap --variant=buildd makes the chroot (a temporary directory it
# deletes again, whatever happens); the source tree (what a commit of it
# holds) is copied in and built with `dpkg-buildpackage -us -uc -b` as an
# unprivileged user, as a buildd builds (dpkg-checkbuilddeps checks the
# versions of the Build-Depends first). Only then is lintian installed, and
# it fails the script on any error. OUTDIR receives the .deb, .changes and
# .buildinfo files, build.log and lintian.log, and times.txt with the wall
# time of each step.
#
# The packages come from the Debian archive (deb.debian.org, or MIRROR=URL).
# As root. Outside CI a missing tool skips (77); under CI=true it fails.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)

log() { printf '[clean-build] %s\n' "$*"; }
fail() {
  printf '[clean-build] FAIL: %s\n' "$*" >&2
  exit 1
}
skip() {
  if [ "${CI:-}" = true ]; then fail "$* (CI=true: not skipped)"; fi
  printf '[clean-build] SKIP: %s\n' "$*"
  exit 77
}

[ $# = 2 ] || fail "usage: $0 SUITE OUTDIR"
SUITE=$1
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap makes the chroot as root)"
for tool in mmdebstrap dpkg-parsechangelog perl; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps installs it)"
done

# The Build-Depends, as package names: the versions are checked in the
# chroot by dpkg-buildpackage.
BUILD_DEPENDS=$("$SRC/tests/package/build-depends.sh")
[ -n "$BUILD_DEPENDS" ] || fail "no Build-Depends in debian/control"
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
NAME=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Source)

WORK=$(mktemp -d /tmp/nmks-clean-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# What a commit of the tree holds (tracked files and new ones not ignored).
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$SRC" ls-files -z -co --exclude-standard |
    (cd "$SRC" && tar --null -T - -cf -) >"$WORK/source.tar"
else
  tar -C "$SRC" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf "$WORK/source.tar" .
fi
rm -f "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo "$OUT"/build.log "$OUT"/lintian.log \
  "$OUT"/times.txt

# The hooks run on the host with the chroot's path as $1; mmdebstrap has
# mounted /dev, /proc and /sys there.
export WORK OUT NAME VERSION
export DEB_BUILD_OPTIONS="parallel=${PARALLEL:-$(nproc)}"
build_hook='
  set -e
  t0=$(date +%s)
  mkdir -p "$1/build/$NAME-$VERSION"
  tar -xf "$WORK/source.tar" -C "$1/build/$NAME-$VERSION"
  chown -R 65534:65534 "$1/build"
  echo "chroot with the Build-Depends: $((t0 - $(cat "$WORK/t0"))) s" >>"$OUT/times.txt"
  if ! chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/build \
      DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
      sh -c "cd /build/$NAME-$VERSION && dpkg-buildpackage -us -uc -b" >"$OUT/build.log" 2>&1; then
    tail -n 40 "$OUT/build.log" >&2
    echo "[clean-build] FAIL: dpkg-buildpackage failed (the whole log: $OUT/build.log)" >&2
    exit 1
  fi
  echo "dpkg-buildpackage: $(($(date +%s) - t0)) s" >>"$OUT/times.txt"
  cp "$1"/build/*.deb "$1"/build/*.changes "$1"/build/*.buildinfo "$OUT/"
'
lintian_hook='
  set -e
  t0=$(date +%s)
  chroot "$1" apt-get install -y -q --no-install-recommends lintian >"$WORK/lintian-install.log" 2>&1 ||
    { cat "$WORK/lintian-install.log" >&2; exit 1; }
  rc=0
  chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/build \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    sh -c "cd /build && lintian --fail-on error --display-info *.changes" >"$OUT/lintian.log" 2>&1 ||
    rc=$?
  echo "lintian $(chroot "$1" dpkg-query -W -f="\${Version}" lintian): $(($(date +%s) - t0)) s" \
    >>"$OUT/times.txt"
  exit $rc
'

log "$SUITE: chroot (mmdebstrap --variant=buildd) with $BUILD_DEPENDS"
date +%s >"$WORK/t0"
mirror=()
[ -z "${MIRROR:-}" ] || mirror=("$MIRROR")
rc=0
nice mmdebstrap --variant=buildd --format=null --include="$BUILD_DEPENDS" \
  --customize-hook="$build_hook" --customize-hook="$lintian_hook" \
  "$SUITE" /dev/null "${mirror[@]}" >"$WORK/mmdebstrap.log" 2>&1 || rc=$?
echo "total: $(($(date +%s) - $(cat "$WORK/t0"))) s" >>"$OUT/times.txt"
sed 's/^/  /' "$OUT/times.txt"
if [ -f "$OUT/lintian.log" ]; then
  log "lintian ($SUITE): $(grep -c '^E:' "$OUT/lintian.log" || true) errors," \
    "$(grep -c '^W:' "$OUT/lintian.log" || true) warnings"
  sed 's/^/  /' "$OUT/lintian.log"
fi
if [ "$rc" != 0 ]; then
  tail -n 30 "$WORK/mmdebstrap.log" >&2
  [ -f "$OUT/lintian.log" ] && fail "lintian found errors ($SUITE)"
  fail "the clean build for $SUITE failed"
fi
grep -q '^E:' "$OUT/lintian.log" && fail "lintian found errors ($SUITE)"
log "$SUITE: $(cd "$OUT" && echo *.deb) in $OUT"
