#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/common.h"
#include "cli/endpoint_arg.h"
#include "cli/verbs.h"
#include "guard/client.h"
#include "rules/i18n.h"

namespace nmks::cli {
namespace {

constexpr char kDefaultConnection[] = "command-line";

Result<uint32_t> ParseMark(const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || v == 0 || v > 0xffffffffUL) {
    return Status::Error(
        Format(_("--mark \"%s\" is not a fwmark: use a number such as 0x6b73"), text));
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

int EngageCommand(int argc, char** argv) {
  g_autofree gchar* connection = nullptr;
  g_auto(GStrv) tunnels = nullptr;
  g_auto(GStrv) endpoints = nullptr;
  g_autofree gchar* endpoints_from = nullptr;
  g_autofree gchar* mark = nullptr;
  gboolean allow_lan = FALSE, allow_cgnat = FALSE, block_at_boot = FALSE;
  g_autofree gchar* ipv6 = nullptr;
  g_autofree gchar* mode = nullptr;
  GOptionEntry entries[] = {
      {"connection", 0, 0, G_OPTION_ARG_STRING, &connection,
       N_("Name to engage under (default: command-line)"), N_("NAME")},
      {"tunnel", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tunnels,
       N_("Interface that carries the VPN; traffic through it is allowed (repeatable)"),
       N_("IFNAME")},
      {"endpoint", 0, 0, G_OPTION_ARG_STRING_ARRAY, &endpoints,
       N_("VPN server allowed outside the tunnel: ADDR:PORT[/udp|/tcp], [IPV6]:PORT or "
          "HOST:PORT (repeatable)"),
       N_("ENDPOINT")},
      {"endpoints-from", 0, 0, G_OPTION_ARG_FILENAME, &endpoints_from,
       N_("Read more endpoints from FILE, one per line"), N_("FILE")},
      {"mark", 0, 0, G_OPTION_ARG_STRING, &mark,
       N_("Only packets with this fwmark may reach the endpoints (set by the VPN's socket)"),
       N_("0xHEX")},
      {"allow-lan", 0, 0, G_OPTION_ARG_NONE, &allow_lan,
       N_("Allow private, link-local and multicast ranges (DNS stays blocked)"), nullptr},
      {"allow-cgnat", 0, 0, G_OPTION_ARG_NONE, &allow_cgnat,
       N_("With --allow-lan, also allow 100.64.0.0/10"), nullptr},
      {"ipv6", 0, 0, G_OPTION_ARG_STRING, &ipv6,
       N_("block (default): the tunnel carries no IPv6; tunnel: IPv6 may use the tunnel"),
       N_("block|tunnel")},
      {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
       N_("on (default): released when the VPN is switched off; lockdown: only an "
          "administrator releases it"),
       N_("on|lockdown")},
      {"block-at-boot", 0, 0, G_OPTION_ARG_NONE, &block_at_boot,
       N_("Also load this policy at boot, before the network starts"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseVerbOptions(
          nullptr,
          _("Block all traffic except through the given tunnel interfaces and to the given VPN "
            "endpoints. Works for any VPN, also outside NetworkManager (wg-quick, openvpn)."),
          entries, &argc, &argv, &code)) {
    return code;
  }
  if (argc > 1) {
    PrintError(Format(_("unexpected argument \"%s\""), argv[1]));
    return 2;
  }

  Policy p;
  for (gchar** t = tunnels; t && *t; ++t) p.tunnels.push_back(*t);
  for (gchar** e = endpoints; e && *e; ++e) {
    auto parsed_endpoints = ParseEndpointArg(*e);
    if (!parsed_endpoints.ok()) {
      PrintError(parsed_endpoints.message());
      return 2;
    }
    p.endpoints.insert(p.endpoints.end(), parsed_endpoints.value().begin(),
                       parsed_endpoints.value().end());
  }
  if (endpoints_from) {
    auto more = ReadEndpointFile(endpoints_from);
    if (!more.ok()) {
      PrintError(more.message());
      return 2;
    }
    p.endpoints.insert(p.endpoints.end(), more.value().begin(), more.value().end());
  }
  if (mark) {
    auto m = ParseMark(mark);
    if (!m.ok()) {
      PrintError(m.message());
      return 2;
    }
    for (auto& e : p.endpoints) e.mark = m.value();
  }
  p.allow_lan = allow_lan;
  p.allow_cgnat = allow_cgnat;
  if (ipv6) {
    auto v = ParseIpv6Mode(ipv6);
    if (!v.ok()) {
      PrintError(v.message());
      return 2;
    }
    p.ipv6 = v.value();
  }
  if (mode) {
    auto v = ParseMode(mode);
    if (!v.ok()) {
      PrintError(v.message());
      return 2;
    }
    p.mode = v.value();
  }
  std::string id = connection ? connection : kDefaultConnection;
  Normalize(p);
  if (Status s = ValidateConnectionId(id); !s.ok()) {
    PrintError(s.message());
    return 2;
  }
  if (Status s = Validate(p); !s.ok()) {
    PrintError(Format(_("%s; nothing was changed"), s.message().c_str()));
    return 2;
  }

  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  if (Status s = guard.value()->Engage(id, p, block_at_boot); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  std::printf(_("Kill switch engaged for \"%s\": only %zu tunnel interface(s) and %zu "
                "endpoint(s) are reachable.\n"),
              id.c_str(), p.tunnels.size(), p.endpoints.size());
  return 0;
}

}  // namespace nmks::cli
