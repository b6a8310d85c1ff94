#!/bin/bash
# In the VM, as root: Debian's own firewall service, nftables.service, as a
# Debian user turns it on. Its ExecStart and ExecReload run
# `nft -f /etc/nftables.conf`, which begins with `flush ruleset`; its
# ExecStop (also at every shutdown) runs `nft flush ruleset`.
#
#   nftables.sh default       enable and start it with the /etc/nftables.conf
#                             the nftables package installs (table inet
#                             filter, three base chains, no rules)
#   nftables.sh hand-written  replace /etc/nftables.conf with a typical
#                             hand-written ruleset (input: policy drop,
#                             `ct state established,related accept`); it is
#                             loaded at the next start, reload or boot
set -euo pipefail
case "${1:-}" in
  default)
    grep -q '^table inet filter' /etc/nftables.conf ||
      { echo "/etc/nftables.conf is not Debian's default" >&2; exit 1; }
    systemctl enable --now nftables.service
    ;;
  hand-written)
    # tests/world/hand-written.nft, which the kernel tests load too
    # (tests/vm/vm.sh puts it beside this script).
    cp "$(dirname "$0")/hand-written.nft" /etc/nftables.conf
    nft -c -f /etc/nftables.conf
    systemctl is-enabled --quiet nftables.service
    ;;
  *)
    echo "usage: nftables.sh default|hand-written" >&2
    exit 2
    ;;
esac
