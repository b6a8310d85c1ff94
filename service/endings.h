// How a VPN connection ended, as far as the plugin can know. NetworkManager
// calls Disconnect() without a reason, and libnm runs the same disconnect
// handler when NetworkManager merely leaves the bus, so the plugin listens
// to NetworkManager's own signals about its active connection: only a
// VpnStateChanged with reason USER_DISCONNECTED, which NetworkManager sends
// before it calls Disconnect(), means the user switched the VPN off. No
// signal, or any other reason, means something else ended it, and the kill
// switch stays engaged. (Observed with NetworkManager 1.42 in every way a
// connection can end; see DESIGN.md, Lifecycle.)
#pragma once

#include <gio/gio.h>

#include <memory>
#include <string>

namespace nmks::wg {

enum class Ending {
  kUnknown,         // nothing heard from NetworkManager: it stopped, crashed, or we failed
  kUserOff,         // the user deactivated the VPN (nmcli down, the GNOME switch, cancel)
  kProfileDeleted,  // the VPN profile was deleted while active
  kOther,           // device gone, networking off, timeout, service stopped, ...
};
const char* EndingName(Ending ending);

class EndingWatch {
 public:
  // Listens on `bus` for NetworkManager's signals about the active
  // connection of `uuid`. `bus` must outlive the watch.
  EndingWatch(GDBusConnection* bus, std::string uuid);
  ~EndingWatch();
  EndingWatch(const EndingWatch&) = delete;
  EndingWatch& operator=(const EndingWatch&) = delete;

  // Finds the object path of our active connection. Call once activation
  // has begun (from Connect); false if NetworkManager does not list it.
  bool Resolve();
  Ending Decide() const;

  // For tests: feeds a signal as if NetworkManager had sent it.
  void OnVpnState(const std::string& path, guint32 state, guint32 reason);
  void OnActiveState(const std::string& path, guint32 state, guint32 reason);

 private:
  static void OnSignal(GDBusConnection*, const gchar* sender, const gchar* path,
                       const gchar* interface, const gchar* signal, GVariant* params,
                       gpointer self);
  GDBusConnection* bus_;
  std::string uuid_;
  std::string path_;
  guint vpn_sub_ = 0;
  guint active_sub_ = 0;
  bool heard_ = false;
  guint32 vpn_state_ = 0, vpn_reason_ = 0;
  guint32 deactivating_reason_ = 0;
};

}  // namespace nmks::wg
