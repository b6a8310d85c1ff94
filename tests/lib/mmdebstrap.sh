# shellcheck shell=bash
# A Debian root made with mmdebstrap once and cached, for tests/vm/image.sh
# (the VM suite's disk images) and tests/gnome/root.sh (the Debian 13 GNOME
# Settings root). Sourced; the caller defines log and fail and sets CACHE,
# SUITE, RECIPE (raised when the root is made differently) and packages (a
# list separated by blanks):
#
#   mmdebstrap_cached NAME   sets DIR to CACHE/NAME-HASH, HASH over SUITE,
#                            the sorted package list and RECIPE; true when
#                            DIR is ready (then the caller is done)
#   mmdebstrap_root HOOK...  makes TMP/root (TMP: a new directory in CACHE,
#                            removed on exit unless mmdebstrap_keep runs):
#                            minbase (no Recommends) with the packages, each
#                            HOOK a --customize-hook (run on the host, the
#                            root at $1), no apt sources left behind;
#                            TMP/packages lists what it holds
#   mmdebstrap_keep          marks TMP ready and moves it to DIR
#
# A cached root is never used for another package list or recipe.

mmdebstrap_cached() {
  # shellcheck disable=SC2086 # split at blanks and newlines
  packages=$(echo $packages | tr ' ' '\n' | LC_ALL=C sort -u | tr '\n' ',')
  packages=${packages%,}
  local hash
  hash=$(echo "$SUITE $packages recipe $RECIPE" | sha256sum | cut -c1-12)
  MMDEBSTRAP_NAME=$1
  DIR=$CACHE/$1-$hash
  [ -f "$DIR/ready" ]
}

mmdebstrap_root() {
  local hooks=() hook
  # shellcheck disable=SC2016 # $1 is the hook's own
  for hook in "$@" 'rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*'; do
    hooks+=("--customize-hook=$hook")
  done
  mkdir -p "$CACHE"
  TMP=$(mktemp -d "$CACHE/.build-$MMDEBSTRAP_NAME.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  log "$SUITE: mmdebstrap with $packages (log: $TMP/mmdebstrap.log)"
  if ! mmdebstrap --variant=minbase --include="$packages" "${hooks[@]}" \
    "$SUITE" "$TMP/root" "deb http://deb.debian.org/debian $SUITE main" \
    >"$TMP/mmdebstrap.log" 2>&1; then
    tail -n 40 "$TMP/mmdebstrap.log" >&2
    fail "mmdebstrap $SUITE failed"
  fi
  chroot "$TMP/root" dpkg-query -W >"$TMP/packages"
}

mmdebstrap_keep() {
  touch "$TMP/ready"
  rm -rf "$DIR"
  mv "$TMP" "$DIR"
  trap - EXIT
}
