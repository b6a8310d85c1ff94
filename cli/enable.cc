// nm-killswitch enable NAME: opts a connection of another VPN type in; the
// dispatcher hook engages the kill switch whenever NetworkManager starts it.
#include <cstdio>
#include <string>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/connection_arg.h"
#include "cli/verbs.h"
#include "dispatcher/opt_in.h"

namespace nmks::cli {

namespace {

Result<dispatch::OptIn> OptInFromOptions(const char* mode, bool allow_lan, bool block_at_boot) {
  dispatch::OptIn options;
  if (mode) {
    auto m = ParseMode(mode);
    if (!m.ok()) return m.status();
    options.mode = m.value();
  }
  options.allow_lan = allow_lan;
  options.block_at_boot = block_at_boot;
  return options;
}

void PrintEnabled(const std::string& name, dispatch::Kind kind, const dispatch::OptIn& options,
                  bool active) {
  std::printf(_("Kill switch enabled for \"%s\" (%s): mode %s, LAN %s, %s at boot.\n"),
              name.c_str(), dispatch::KindName(kind), ModeName(options.mode),
              options.allow_lan ? _("allowed") : _("blocked"),
              options.block_at_boot ? _("blocking") : _("not blocking"));
  if (active) {
    std::printf(_("It is active now: the kill switch engages the next time it starts.\n"));
  }
  if (options.mode == Mode::kOn && !options.block_at_boot) {
    std::printf(
        _("Until NetworkManager reports the VPN up, its client's first packets and other "
          "traffic are not blocked; --block-at-boot or --mode lockdown keeps the table in "
          "place before the VPN starts.\n"));
  }
}

}  // namespace

int EnableCommand(int argc, char** argv) {
  g_autofree gchar* mode = nullptr;
  gboolean allow_lan = FALSE, block_at_boot = FALSE;
  GOptionEntry entries[] = {
      {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
       N_("on (default): released when the VPN is switched off; lockdown: only an "
          "administrator releases it"),
       N_("on|lockdown")},
      {"allow-lan", 0, 0, G_OPTION_ARG_NONE, &allow_lan,
       N_("Allow private, link-local and multicast ranges (DNS stays blocked)"), nullptr},
      {"block-at-boot", 0, 0, G_OPTION_ARG_NONE, &block_at_boot,
       N_("Also block at boot, before NetworkManager starts the VPN"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseNameVerb(
          _("Give a NetworkManager OpenVPN, OpenConnect or WireGuard connection the kill switch: "
            "whenever NetworkManager starts it, everything but the VPN is blocked. NAME is the "
            "connection's name, UUID or D-Bus path. The options replace any set before."),
          _("name the connection: nm-killswitch enable NAME"), entries, &argc, &argv, &code)) {
    return code;
  }
  auto options = OptInFromOptions(mode, allow_lan, block_at_boot);
  if (!options.ok()) {
    PrintError(options.message());
    return 2;
  }
  auto named = ConnectAndFind(argv[1]);
  if (!named.ok()) {
    PrintError(named.message());
    return 1;
  }
  NMRemoteConnection* connection = named.value().connection;
  const std::string& name = named.value().name;
  auto kind = dispatch::ProtectableKind(NM_CONNECTION(connection));
  if (!kind.ok()) {
    PrintError(Format(_("\"%s\" cannot be enabled: %s"), name.c_str(), kind.message().c_str()));
    return 1;
  }
  Status s = dispatch::WriteOptIn(NM_CONNECTION(connection), options.value());
  if (s.ok()) s = SaveConnection(connection);
  if (!s.ok()) {
    PrintError(s.message());
    return 1;
  }
  PrintEnabled(name, kind.value(), options.value(),
               IsActive(named.value().client.get(), connection));
  return 0;
}

}  // namespace nmks::cli
