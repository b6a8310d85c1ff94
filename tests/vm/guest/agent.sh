#!/bin/bash
# The VM suite's agent, run as root by systemd in the guest
# (nmks-vm-agent.service, made by tests/vm/image.sh) from the host's 9p share
# mounted at /mnt/host. It runs the commands the host writes there, one at a
# time in the order of their numbers:
#
#   cmd/N.sh     written by the host (renamed into place when complete)
#   cmd/N.taken  the agent took it (a command is never run twice, not even
#                after a reboot that cut it short)
#   cmd/N.out    its output (stdout and stderr)
#   cmd/N.rc     its exit status, written last
#
# and says it is up by writing boot/N (the boot's number, one a boot) with
# the guest's uptime when it started.
set -u
S=/mnt/host
mkdir -p "$S/cmd" "$S/boot"
n=1
while [ -e "$S/boot/$n" ]; do n=$((n + 1)); done
cut -d' ' -f1 /proc/uptime >"$S/boot/$n.tmp" && mv "$S/boot/$n.tmp" "$S/boot/$n"

next=1
while :; do
  while [ -e "$S/cmd/$next.taken" ]; do next=$((next + 1)); done
  if [ -e "$S/cmd/$next.sh" ]; then
    : >"$S/cmd/$next.taken"
    bash "$S/cmd/$next.sh" </dev/null >"$S/cmd/$next.out" 2>&1
    echo $? >"$S/cmd/$next.rc.tmp"
    mv "$S/cmd/$next.rc.tmp" "$S/cmd/$next.rc"
    next=$((next + 1))
  else
    sleep 0.05
  fi
done
