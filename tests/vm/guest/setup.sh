#!/bin/bash
# In the VM, as root, after boot: the LAN as a NetworkManager keyfile
# connection (static 198.51.100.2/24 via the router 198.51.100.1, IPv6 off),
# and alice's traffic to 203.0.113.80 started as a transient unit.
set -euo pipefail
cat >/etc/NetworkManager/system-connections/lan.nmconnection <<'KEYFILE'
[connection]
id=lan
uuid=5b1c3e7a-3f3e-4c47-9a51-7f1f4c0de001
type=ethernet
interface-name=eth0
autoconnect=true

[ethernet]

[ipv4]
method=manual
address1=198.51.100.2/24,198.51.100.1

[ipv6]
method=disabled
KEYFILE
chmod 600 /etc/NetworkManager/system-connections/lan.nmconnection
# The agent may start before NetworkManager answers.
for _ in $(seq 240); do
  nmcli connection reload 2>/dev/null && break
  sleep 0.5
done
nmcli connection reload
nmcli --wait 60 connection up lan
install -m 755 /mnt/host/guest/traffic.sh /usr/local/bin/nmks-traffic
systemd-run --unit=nmks-traffic --uid=alice --gid=alice /usr/local/bin/nmks-traffic
