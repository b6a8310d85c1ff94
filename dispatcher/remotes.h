// Where a VPN client connects to, read from its NetworkManager connection
// the way the VPN's own NetworkManager plugin reads it: the servers the kill
// switch lets that client reach outside the tunnel.
//
//   OpenVPN      vpn.data remote = "host[:port][:proto]" entries separated by
//                spaces, tabs or commas (network-manager-openvpn 1.10's
//                nmovpn_remote_parse); the port defaults to vpn.data port,
//                then 1194; the protocol to tcp with proto-tcp=yes, else udp;
//                udp4/tcp6... restrict the address family. With proxy-type
//                http or socks and proxy-server set, the client only talks
//                to the proxy (proxy-port, default 8080 or 1080, TCP).
//   OpenConnect  vpn.data gateway = "[https://]host[:port][/path]", port 443:
//                TCP and UDP (DTLS) to it, plus ESP over UDP 4501 for
//                GlobalProtect and 4500 for Juniper/Pulse; with vpn.data
//                proxy set, only the proxy (TCP).
//   WireGuard    each peer's endpoint "host:port" or "[v6]:port", UDP.
//
// Entries the VPN client itself would skip (bad port, unknown protocol,
// empty host) are skipped here too, and reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/libnm.h"
#include "base/status.h"
#include "dispatcher/opt_in.h"
#include "rules/policy.h"
#include "servers/resolve.h"

namespace nmks::dispatch {

struct Remotes {
  std::vector<Remote> remotes;
  std::vector<std::string> skipped;  // translated: which entry and why
};

// The remotes of a connection of `kind` (see ProtectableKind).
Remotes RemotesOf(NMConnection* connection, Kind kind);

// One OpenVPN remote entry as network-manager-openvpn parses it, with the
// connection's defaults applied; an error says why the client skips it.
Result<Remote> ParseOpenVpnRemote(const std::string& entry, uint16_t default_port,
                                  Protocol default_protocol);

}  // namespace nmks::dispatch
