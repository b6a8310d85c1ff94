// nm-killswitch disable NAME: takes a connection's opt-in away again.
#include <cstdio>
#include <string>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/connection_arg.h"
#include "cli/verbs.h"
#include "dispatcher/opt_in.h"
#include "guard/client.h"

namespace nmks::cli {
namespace {

// Whether the guard lists `uuid` among the connections blocked at boot.
bool BlockedAtBoot(GuardClient& guard, const std::string& uuid) {
  auto status = guard.GetStatus();
  return status.ok() && status.value().BlockedAtBoot(uuid);
}

}  // namespace

int DisableCommand(int argc, char** argv) {
  GOptionEntry entries[] = {{nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseNameVerb(
          _("Take the kill switch away from a connection enabled with nm-killswitch enable. "
            "While it is engaged it stays until the VPN is switched off (mode on) or an "
            "administrator runs nm-killswitch release (lockdown)."),
          _("name the connection: nm-killswitch disable NAME"), entries, &argc, &argv, &code)) {
    return code;
  }
  auto named = ConnectAndFind(argv[1]);
  if (!named.ok()) {
    PrintError(named.message());
    return 1;
  }
  NMConnection* c = NM_CONNECTION(named.value().connection);
  const std::string& name = named.value().name;
  std::string uuid = nm_connection_get_uuid(c);
  if (dispatch::IsOwnVpn(c)) {
    PrintError(Format(_("\"%s\" is an nm-killswitch VPN: its kill switch is built in; turn it off "
                        "with nmcli connection modify NAME +vpn.data kill-switch=off"),
                      name.c_str()));
    return 1;
  }
  if (!dispatch::ClearOptIn(c)) {
    std::printf(_("The kill switch was not enabled for \"%s\"; nothing to do.\n"), name.c_str());
    return 0;
  }
  if (Status s = SaveConnection(named.value().connection); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  std::printf(_("Kill switch disabled for \"%s\".\n"), name.c_str());
  // Not at boot any more either.
  auto guard = GuardClient::Connect();
  if (guard.ok() && BlockedAtBoot(*guard.value(), uuid)) {
    if (Status s = guard.value()->SetBlockAtBoot(uuid, false); !s.ok()) {
      PrintError(Format(_("it is still blocked at boot: %s (nm-killswitch boot off)"),
                        s.message().c_str()));
      return 1;
    }
    std::printf(_("It is no longer blocked at boot.\n"));
  }
  return 0;
}

}  // namespace nmks::cli
