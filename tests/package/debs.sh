#!/bin/bash
# The Debian packages for the package tests (tests/package/lifecycle.sh and
# the VM suite, tests/vm/): built from a copy of this source tree, and the
# same packages with a higher version for upgrade tests.
#
#   debs.sh build WORKDIR DEBDIR
#                          dpkg-buildpackage -us -uc -b in WORKDIR/build (a
#                          copy of the tree: tracked files and new ones not
#                          ignored; the build log is WORKDIR/build.log); the
#                          .deb files are copied to DEBDIR.
#   debs.sh bump INDIR OUTDIR SUFFIX
#                          every INDIR/*.deb repacked into OUTDIR with version
#                          VERSION+SUFFIX (and = dependencies between them
#                          raised alike): what an upgrade installs.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)

fail() {
  printf '[debs] FAIL: %s\n' "$*" >&2
  exit 1
}

build() {
  local out=$1 debs=$2 version tree started_at=$SECONDS
  version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
  tree=$out/build/network-manager-killswitch-$version
  mkdir -p "$tree" "$debs"
  if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files and new ones not ignored: what a commit of the tree holds.
    git -C "$SRC" ls-files -z -co --exclude-standard |
      (cd "$SRC" && tar --null -T - -cf -) | tar -xf - -C "$tree"
  else
    tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$tree"
  fi
  # The same tree builds the same packages: with NMKS_DEB_CACHE (set by
  # meson for the package and VM suites) a build is kept there under a hash
  # of the tree, and NMKS_DEB_REUSE=1 (the VM suite, which needs no build
  # tree) takes it instead of building again.
  local key="" cache=""
  if [ -n "${NMKS_DEB_CACHE:-}" ]; then
    key=$(cd "$tree" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
      sha256sum | cut -c1-32)
    cache=$NMKS_DEB_CACHE/$key
    if [ "${NMKS_DEB_REUSE:-}" = 1 ] && ls "$cache"/network-manager-killswitch_*.deb >/dev/null 2>&1; then
      cp "$cache"/*.deb "$debs/"
      printf '[debs] the same tree was built before: %s\n' "$(cd "$debs" && echo *.deb)"
      return
    fi
  fi
  if ! (cd "$tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1; then
    tail -n 60 "$out/build.log" >&2
    fail "dpkg-buildpackage failed"
  fi
  cp "$out"/build/network-manager-killswitch_*.deb "$debs/"
  cp "$out"/build/network-manager-killswitch-gnome_*.deb "$debs/" 2>/dev/null || true
  printf '[debs] built in %s s: %s\n' "$((SECONDS - started_at))" "$(cd "$debs" && echo *.deb)"
  if [ -n "$cache" ]; then
    rm -rf "$NMKS_DEB_CACHE" && mkdir -p "$cache" && cp "$debs"/*.deb "$cache/"
  fi
}

bump() {
  local in=$1 out=$2 suffix=$3 d x old new
  mkdir -p "$out"
  x=$(mktemp -d)
  for d in "$in"/*.deb; do
    rm -rf "$x/pkg"
    dpkg-deb -R "$d" "$x/pkg"
    old=$(sed -n 's/^Version: //p' "$x/pkg/DEBIAN/control")
    new=$old+$suffix
    sed -i -e "s/^Version: .*/Version: $new/" \
      -e "s/(= $old)/(= $new)/" "$x/pkg/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$x/pkg" "$out/" >/dev/null
  done
  rm -rf "$x"
}

case "${1:-}" in
  build) build "${2:?debs.sh build WORKDIR DEBDIR}" "${3:?debs.sh build WORKDIR DEBDIR}" ;;
  bump) bump "${2:?debs.sh bump INDIR OUTDIR SUFFIX}" "${3:?}" "${4:?}" ;;
  *) fail "usage: debs.sh build WORKDIR DEBDIR | debs.sh bump INDIR OUTDIR SUFFIX" ;;
esac
