// Tells the VPN service when the machine's networks change: an address
// added or removed, a route changed, a link going up or down, on any
// interface other than the tunnel's. The service then sends the peers'
// endpoints to WireGuard again, so wireguard-go stops sending from an
// address the machine no longer has (otherwise the tunnel stays dead for
// its 15 s handshake retry). Changes are collected for a short moment and
// reported once.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

struct mnl_socket;

namespace nmks::wg {

class NetworkWatch {
 public:
  using Changed = std::function<void()>;
  // Ignores changes on `tunnel_ifname`. `changed` runs from the main loop.
  static Result<std::unique_ptr<NetworkWatch>> Start(std::string tunnel_ifname, Changed changed,
                                                     int settle_ms = 50);
  ~NetworkWatch();
  NetworkWatch(const NetworkWatch&) = delete;
  NetworkWatch& operator=(const NetworkWatch&) = delete;

 private:
  NetworkWatch(mnl_socket* nl, std::string tunnel, Changed changed, int settle_ms);
  static gboolean OnReadable(gint fd, GIOCondition, gpointer self);
  static gboolean OnSettled(gpointer self);

  mnl_socket* nl_;
  std::string tunnel_;
  Changed changed_;
  int settle_ms_;
  guint io_source_ = 0;
  guint settle_source_ = 0;
};

}  // namespace nmks::wg
