#!/bin/bash
# The manual pages render without a single warning from groff or man, and
# nm-killswitch.8 documents every command `nm-killswitch --help` lists.
#
#   man_test.sh CLI PAGE...
#
# CLI is the built nm-killswitch, each PAGE a man/*.8 source file. Needs
# man-db and groff-base (scripts/deps installs them).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 CLI PAGE..." >&2
  exit 2
fi
cli=$1
shift
for tool in man groff; do
  if ! command -v "$tool" >/dev/null; then
    echo "man_test: $tool is not installed (scripts/deps installs man-db and groff-base)" >&2
    exit 1
  fi
done

failed=0
cli_page=
for page in "$@"; do
  [ "$(basename "$page")" = nm-killswitch.8 ] && cli_page=$page
  # -Z stops after troff, so its warnings are all that is printed; the
  # rendered text itself is not looked at.
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || {
    echo "FAIL: $page does not render (man exited with $?)" >&2
    failed=1
  }
  if [ -n "$warnings" ]; then
    echo "FAIL: $page renders with warnings:" >&2
    printf '%s\n' "$warnings" >&2
    failed=1
  else
    echo "ok: $page renders without warnings"
  fi
done

if [ -z "$cli_page" ]; then
  echo "FAIL: nm-killswitch.8 is not among the pages" >&2
  exit 1
fi
# The commands as the program lists them: "  VERB   summary" after "Commands:".
help=$(env -u LANGUAGE -u LC_MESSAGES LC_ALL=C.UTF-8 "$cli" --help)
verbs=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}')
if [ -z "$verbs" ]; then
  echo "FAIL: found no commands in the output of $cli --help:" >&2
  printf '%s\n' "$help" >&2
  exit 1
fi
for verb in $verbs; do
  # Each command has its own subsection: .SS "VERB ..." or .SS VERB
  if grep -Eq "^\.SS \"?${verb}( |\"|$)" "$cli_page"; then
    echo "ok: nm-killswitch $verb is documented"
  else
    echo "FAIL: nm-killswitch $verb is listed by --help but has no .SS section in $cli_page" >&2
    failed=1
  fi
done
exit "$failed"
