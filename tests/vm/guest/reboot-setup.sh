#!/bin/bash
# In the VM, as root, before the reboot: block at boot, the VPN brought up
# by the LAN (a secondary connection: NetworkManager's way to connect a VPN
# at boot), and an application that sends from early boot: a unit without
# default dependencies, started with sysinit, that sends UDP to
# 203.0.113.80:9998 every 10 ms as alice.
set -euo pipefail
nm-killswitch boot on
nmcli connection modify lan connection.secondaries "$(nmcli -g connection.uuid connection show wg0)"
cat >/etc/systemd/system/nmks-early-sender.service <<'UNIT'
[Unit]
Description=nm-killswitch VM test: an application sending from early boot
DefaultDependencies=no
After=local-fs.target

[Service]
User=alice
ExecStart=/bin/bash -c 'while :; do echo early 2>/dev/null >/dev/udp/203.0.113.80/9998; sleep 0.01; done'

[Install]
WantedBy=sysinit.target
UNIT
systemctl daemon-reload
# Started now too: it sends through the shutdown that follows (a unit
# without default dependencies is not stopped by it; systemd-shutdown ends it).
systemctl enable --now nmks-early-sender.service
