// WireGuard through wireguard-go, the way wg-quick uses it where the kernel
// has no WireGuard: a supervised child serving a persistent tun interface,
// configured through its UAPI socket. The child runs in a private mount
// namespace with its own /run/wireguard, so two NetworkManagers (or tests)
// using the same interface name never share a socket. If the child dies it
// is started again and reconfigured; the interface, its addresses and the
// routes through it stay, so NetworkManager notices nothing and the kill
// switch blocks in between.
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "service/device.h"

namespace nmks::wg {

class UserspaceTunnel : public Tunnel {
 public:
  using Log = std::function<void(const std::string&)>;
  // `log` hears about restarts and failures (never about keys).
  explicit UserspaceTunnel(Log log);
  ~UserspaceTunnel() override;

  Status Configure(const DeviceConfig& config) override;
  Status RefreshEndpoints() override;
  void Remove() override;

  pid_t pid() const { return pid_; }
  int restarts() const { return restarts_; }
  std::string SocketPath() const;

 private:
  Status Start();
  void Stop();
  void ApplyMtu();
  void OnExit(int wait_status);
  static void ChildExited(GPid pid, gint wait_status, gpointer self);
  static gboolean RestartLater(gpointer self);

  Log log_;
  DeviceConfig config_;
  bool configured_ = false;
  bool removing_ = false;
  pid_t pid_ = -1;
  guint child_watch_ = 0;
  guint restart_source_ = 0;
  int restarts_ = 0;
  int backoff_ms_ = 100;
};

}  // namespace nmks::wg
