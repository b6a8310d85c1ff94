#!/bin/bash
# An unprivileged user's traffic: UDP to 203.0.113.80:9999 every 10 ms and
# a TCP connection attempt to 203.0.113.80:80 every 200 ms.
[ "$(id -u)" != 0 ] || { echo "traffic.sh: run me as an unprivileged user" >&2; exit 1; }
while :; do
  timeout 1 bash -c 'exec 3<>/dev/tcp/203.0.113.80/80' 2>/dev/null
  sleep 0.2
done &
while :; do
  echo nmks-vm 2>/dev/null >/dev/udp/203.0.113.80/9999
  sleep 0.01
done
