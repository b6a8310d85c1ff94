#!/bin/bash
# In the VM, as root: an OpenVPN connection "ovpn" for network-manager-openvpn,
# a TLS client of the test's server at 203.0.113.1:1194/udp, with the test
# PKI the host made (/mnt/host/ovpn) copied to /etc/nmks-vm-ovpn.
set -euo pipefail
install -d -m 700 /etc/nmks-vm-ovpn
install -m 600 /mnt/host/ovpn/ca.crt /mnt/host/ovpn/client.crt /mnt/host/ovpn/client.key \
  /etc/nmks-vm-ovpn/
cat >/etc/NetworkManager/system-connections/ovpn.nmconnection <<'KEYFILE'
[connection]
id=ovpn
uuid=5b1c3e7a-3f3e-4c47-9a51-7f1f4c0de002
type=vpn
autoconnect=false

[vpn]
service-type=org.freedesktop.NetworkManager.openvpn
connection-type=tls
remote=203.0.113.1:1194
dev-type=tun
ca=/etc/nmks-vm-ovpn/ca.crt
cert=/etc/nmks-vm-ovpn/client.crt
key=/etc/nmks-vm-ovpn/client.key
cert-pass-flags=4

[ipv4]
method=auto

[ipv6]
method=ignore
KEYFILE
chmod 600 /etc/NetworkManager/system-connections/ovpn.nmconnection
nmcli connection reload
nmcli -g connection.id connection show ovpn >/dev/null
