#include "dispatcher/hook.h"

#include <chrono>
#include <cstring>
#include <utility>

#include "base/i18n.h"
#include "dispatcher/opt_in.h"
#include "dispatcher/remotes.h"
#include "servers/connection_policy.h"

namespace nmks::dispatch {
namespace {

using Clock = std::chrono::steady_clock;

// How the hook names a connection in the journal.
std::string Who(const Event& e) {
  if (e.connection_id.empty()) return e.uuid;
  return "\"" + e.connection_id + "\" (" + e.uuid + ")";
}

long Ms(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

bool IsType(NMConnection* c, const char* type) {
  const char* t = nm_connection_get_connection_type(c);
  return t != nullptr && std::strcmp(t, type) == 0;
}

// The connection NetworkManager names in the event, checked against the
// event's UUID.
Result<ConnectionPtr> ConnectionOf(const Event& e, Backend& backend) {
  auto settings = backend.Settings(e.settings_path);
  if (!settings.ok()) return settings.status();
  const char* uuid = nm_connection_get_uuid(settings.value().get());
  if (uuid == nullptr || e.uuid != uuid) {
    return Status::Error(
        _("NetworkManager's connection at CONNECTION_DBUS_PATH has another UUID "
          "than CONNECTION_UUID"));
  }
  return std::move(settings).value();
}

// The connection from its profile file, checked against the event's UUID.
Result<ConnectionPtr> SavedConnectionOf(const Event& e, Backend& backend) {
  if (e.connection_filename.empty()) {
    return Status::Error(_("NetworkManager names no file (CONNECTION_FILENAME)"));
  }
  auto saved = backend.SavedSettings(e.connection_filename);
  if (!saved.ok()) return saved.status();
  const char* uuid = nm_connection_get_uuid(saved.value().get());
  if (uuid == nullptr || e.uuid != uuid) {
    return Status::Error(
        _("the connection in CONNECTION_FILENAME has another UUID than "
          "CONNECTION_UUID"));
  }
  return std::move(saved).value();
}

// The event's connection, from NetworkManager or, when it cannot be asked,
// from its profile file (fail closed: the file still says whether it is
// opted in).
Result<ConnectionPtr> ConnectionFor(const Event& e, Backend& backend, const Log& log) {
  auto connection = e.settings_path.empty()
                        ? Result<ConnectionPtr>(Status::Error(
                              _("CONNECTION_DBUS_PATH is missing or not the path of a "
                                "NetworkManager connection")))
                        : ConnectionOf(e, backend);
  if (connection.ok()) return connection;
  auto saved = SavedConnectionOf(e, backend);
  if (!saved.ok()) {
    log(Format(_("%s of %s: cannot read the connection from NetworkManager (%s) nor from its "
                 "file (%s); nothing was engaged"),
               ActionName(e.action), Who(e).c_str(), connection.message().c_str(),
               saved.message().c_str()));
    return saved.status();
  }
  log(Format(_("%s of %s: cannot read the connection from NetworkManager (%s); read it from %s "
               "instead"),
             ActionName(e.action), Who(e).c_str(), connection.message().c_str(),
             e.connection_filename.c_str()));
  return saved;
}

// The VPN's own interface, or "" (no tunnel) where the event cannot be
// relied on; then the LAN is blocked as well.
std::string TunnelFor(const Event& e, bool wireguard, bool* allow_lan, const Log& log) {
  std::string tunnel =
      wireguard ? (e.device_ip_iface.empty() ? e.iface : e.device_ip_iface) : e.vpn_ip_iface;
  if (!e.damaged.empty()) {
    // Fail closed: what NetworkManager said about the interfaces cannot be
    // relied on, so no tunnel and no LAN; only the VPN's servers get out.
    std::string what;
    for (const auto& d : e.damaged) what += (what.empty() ? "" : "; ") + d;
    log(Format(_("%s: the event from NetworkManager has values that cannot be read (%s): the kill "
                 "switch is engaged without a tunnel and with the LAN blocked, so only the VPN's "
                 "servers get out until the VPN is switched off"),
               Who(e).c_str(), what.c_str()));
    *allow_lan = false;
    return "";
  }
  if (tunnel.empty() || (!wireguard && (tunnel == e.device_ip_iface || tunnel == e.device_iface))) {
    // Fail closed: without the VPN's own interface its traffic cannot be
    // told apart, so nothing but its servers is allowed out.
    log(Format(_("%s: NetworkManager names no interface of the VPN's own, so the kill switch "
                 "cannot tell its traffic apart: it is engaged without a tunnel and blocks "
                 "everything but the VPN's servers until the VPN is switched off"),
               Who(e).c_str()));
    return "";
  }
  return tunnel;
}

// The VPN's servers as endpoints: resolved now, plus what the guard already
// allows for the connection on a server's port when its name does not
// resolve (the table blocks DNS, so a reconnect may not resolve names).
std::vector<Endpoint> ServerEndpoints(const Event& e, NMConnection* c, Kind kind, Backend& backend,
                                      const Log& log) {
  Remotes remotes = RemotesOf(c, kind);
  for (const auto& why : remotes.skipped) log(Format("%s: %s", Who(e).c_str(), why.c_str()));
  Resolution resolved = backend.Resolve(remotes.remotes);
  for (const auto& why : resolved.unresolved) {
    log(Format(_("%s: VPN server %s; it is not allowed through the kill switch"), Who(e).c_str(),
               why.c_str()));
  }
  size_t kept = KeepHeld(remotes.remotes, &resolved, [&] {
    auto held = backend.Engaged(e.uuid);
    return held.ok() && held.value() ? held.value()->endpoints : std::vector<Endpoint>{};
  });
  if (kept > 0) {
    log(Format(_("%s: the %zu endpoint(s) the kill switch already allows for it stay allowed"),
               Who(e).c_str(), kept));
  }
  if (resolved.endpoints.empty()) {
    log(Format(_("%s: no address of a VPN server is known: the kill switch is engaged without "
                 "one, so it blocks the VPN itself too (fail closed)"),
               Who(e).c_str()));
  }
  return resolved.endpoints;
}

int Start(const Event& e, Backend& backend, const Log& log) {
  const auto t0 = Clock::now();
  if (e.external) return 0;  // a device NetworkManager only found (a VPN's tun, ...)
  if (Status s = RequireConnection(e); !s.ok()) {
    log(Format(_("%s: %s; nothing was engaged"), ActionName(e.action), s.message().c_str()));
    return 2;
  }
  auto connection = ConnectionFor(e, backend, log);
  if (!connection.ok()) return 1;
  NMConnection* c = connection.value().get();
  if (IsOwnVpn(c)) return 0;  // our VPN service engages its own kill switch
  OptInReading opt_in = ReadOptIn(c);
  if (!opt_in.opted_in) return 0;
  auto kind = ProtectableKind(c);
  if (!kind.ok()) {
    log(Format(_("%s is opted in to the kill switch, but %s; nothing was engaged"), Who(e).c_str(),
               kind.message().c_str()));
    return 1;
  }
  const bool wireguard = kind.value() == Kind::kWireGuard;
  // WireGuard devices get pre-up; VPN plugins get vpn-pre-up.
  if (wireguard != (e.action == Action::kPreUp)) return 0;
  for (const auto& problem : opt_in.problems) {
    log(Format(_("%s: %s; the kill switch engages in lockdown with the LAN blocked until this is "
                 "fixed (nm-killswitch enable)"),
               Who(e).c_str(), problem.c_str()));
  }
  bool allow_lan = opt_in.options.allow_lan;
  const std::string tunnel = TunnelFor(e, wireguard, &allow_lan, log);
  const std::vector<Endpoint> endpoints = ServerEndpoints(e, c, kind.value(), backend, log);
  Policy policy =
      ConnectionPolicy(tunnel, endpoints, wireguard ? e.device_has_ipv6 : e.vpn_has_ipv6, allow_lan,
                       opt_in.options.mode);
  if (Status s = Validate(policy); !s.ok()) {
    log(Format(_("%s: %s; nothing was engaged"), Who(e).c_str(), s.message().c_str()));
    return 1;
  }
  if (Status s = backend.Engage(e.uuid, policy, opt_in.options.block_at_boot); !s.ok()) {
    log(Format(_("%s: the kill switch could not be engaged: %s"), Who(e).c_str(),
               s.message().c_str()));
    return 1;
  }
  log(Format(_("%s: kill switch engaged (%s%s%s): tunnel %s, %zu endpoint(s); %ld ms"),
             Who(e).c_str(), ModeName(policy.mode), policy.allow_lan ? _(", LAN allowed") : "",
             opt_in.options.block_at_boot ? _(", at boot too") : "",
             tunnel.empty() ? _("(none)") : tunnel.c_str(), policy.endpoints.size(), Ms(t0)));
  return 0;
}

int End(const Event& e, Backend& backend, const Log& log) {
  const auto t0 = Clock::now();
  if (e.external) return 0;
  if (Status s = RequireConnection(e); !s.ok()) {
    log(Format(_("%s: %s; nothing was released"), ActionName(e.action), s.message().c_str()));
    return 2;
  }
  // A connection deleted while active may be gone from NetworkManager
  // already; then the guard alone says whether it is ours to release.
  auto connection = e.settings_path.empty()
                        ? Result<ConnectionPtr>(Status::Error(_("CONNECTION_DBUS_PATH is missing")))
                        : ConnectionOf(e, backend);
  if (connection.ok()) {
    NMConnection* c = connection.value().get();
    if (IsOwnVpn(c)) return 0;
    if (e.action == Action::kPreDown && !IsType(c, NM_SETTING_WIREGUARD_SETTING_NAME)) return 0;
    if (e.action == Action::kVpnPreDown && !IsType(c, NM_SETTING_VPN_SETTING_NAME)) return 0;
  }
  auto held = backend.Engaged(e.uuid);
  if (!held.ok()) {
    log(Format(_("%s was switched off, but the guard cannot say whether it is engaged: %s; the "
                 "kill switch stays as it is"),
               Who(e).c_str(), held.message().c_str()));
    return 1;
  }
  if (!held.value()) return 0;
  if (held.value()->mode == Mode::kLockdown) {
    log(Format(_("%s was switched off; in lockdown the kill switch stays engaged until an "
                 "administrator runs nm-killswitch release"),
               Who(e).c_str()));
    return 0;
  }
  if (e.action == Action::kPreDown) {
    // NetworkManager also takes devices down when it quits; only the user's
    // own switch-off (or deleting the connection) releases.
    auto reason =
        backend.DeviceStateReason(e.device_ip_iface.empty() ? e.iface : e.device_ip_iface);
    if (!reason.ok() ||
        (reason.value() != kReasonUserRequested && reason.value() != kReasonConnectionRemoved)) {
      log(Format(_("%s goes down, but not because the user switched it off (%s): the kill switch "
                   "stays engaged"),
                 Who(e).c_str(),
                 reason.ok() ? std::to_string(reason.value()).c_str() : reason.message().c_str()));
      return 0;
    }
  }
  if (Status s = backend.Release(e.uuid); !s.ok()) {
    auto again = backend.Engaged(e.uuid);
    if (again.ok() && !again.value()) return 0;  // released meanwhile (by our VPN service)
    log(Format(_("%s was switched off, but the kill switch could not be released: %s"),
               Who(e).c_str(), s.message().c_str()));
    return 1;
  }
  log(Format(_("%s was switched off: kill switch released; %ld ms"), Who(e).c_str(), Ms(t0)));
  return 0;
}

int Check(const Event& e, Backend& backend, const Log& log) {
  return CheckTable(
      e, [&backend] { return backend.GuardRunning(); }, [&backend] { return backend.Repair(); },
      log);
}

}  // namespace

int RunHook(const Event& event, Backend& backend, const Log& log) {
  switch (event.action) {
    case Action::kHostname:
      return 0;
    case Action::kPreUp:
    case Action::kVpnPreUp:
      return Start(event, backend, log);
    case Action::kPreDown:
    case Action::kVpnPreDown:
      return End(event, backend, log);
    case Action::kUp:
    case Action::kDown:
    case Action::kVpnUp:
    case Action::kVpnDown:
    case Action::kDhcp4Change:
    case Action::kDhcp6Change:
    case Action::kConnectivityChange:
    case Action::kReapply:
      return Check(event, backend, log);
  }
  return 0;
}

}  // namespace nmks::dispatch
