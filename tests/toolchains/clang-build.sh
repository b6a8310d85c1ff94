#!/bin/bash
# The whole tree (tests and demo included) built with the host's clang++
# (through ccache when it is there), warnings as errors:
#
#   clang-build.sh BUILDDIR
#
# configures BUILDDIR once and then builds what changed. It only compiles
# and links; nothing it built runs. Outside CI a missing clang++ skips (77),
# under CI=true it fails.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:?usage: clang-build.sh BUILDDIR}

if ! command -v clang++ >/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "[build-clang] FAIL: clang++ is not installed (scripts/deps installs it)" >&2
    exit 1
  fi
  echo "[build-clang] SKIP: clang++ is not installed (scripts/deps installs it)" >&2
  exit 77
fi
started=$SECONDS
ccache=$(command -v ccache || true)
# Hits for the same files from another clone or build directory: paths
# relative to the tree, and the directory left out of the hash (the debug
# information's directory may then be another clone's; nothing built runs).
export CCACHE_BASEDIR=$SRC CCACHE_NOHASHDIR=true
if [ ! -f "$DIR/build.ninja" ]; then
  CC="${ccache:+$ccache }clang" CXX="${ccache:+$ccache }clang++" \
    meson setup "$DIR" "$SRC" -Dwerror=true -Dtests=true -Dgtk=enabled >/dev/null
fi
clang++ --version | head -n 1
# -k 0: every file that fails, not only the first one.
nice ninja -C "$DIR" -k 0
echo "[build-clang] built in $((SECONDS - started)) s"
