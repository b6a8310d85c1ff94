#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/endpoint_arg.h"
#include "cli/verbs.h"
#include "guard/client.h"

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

// What the command line gave, as GOption fills it.
struct EngageArgs {
  gchar* connection = nullptr;
  gchar** tunnels = nullptr;
  gchar** endpoints = nullptr;
  gchar* endpoints_from = nullptr;
  gchar* mark = nullptr;
  gboolean allow_lan = FALSE, allow_cgnat = FALSE, block_at_boot = FALSE;
  gchar* ipv6 = nullptr;
  gchar* mode = nullptr;
  EngageArgs() = default;
  EngageArgs(const EngageArgs&) = delete;
  EngageArgs& operator=(const EngageArgs&) = delete;
  ~EngageArgs() {
    for (gchar* text : {connection, endpoints_from, mark, ipv6, mode}) g_free(text);
    g_strfreev(tunnels);
    g_strfreev(endpoints);
  }
};

// The endpoints of --endpoint and --endpoints-from, with --mark on each.
Result<std::vector<Endpoint>> EndpointsOf(const EngageArgs& a) {
  std::vector<Endpoint> out;
  for (gchar** e = a.endpoints; e && *e; ++e) {
    auto parsed = ParseEndpointArg(*e);
    if (!parsed.ok()) return parsed.status();
    out.insert(out.end(), parsed.value().begin(), parsed.value().end());
  }
  if (a.endpoints_from) {
    auto more = ReadEndpointFile(a.endpoints_from);
    if (!more.ok()) return more.status();
    out.insert(out.end(), more.value().begin(), more.value().end());
  }
  if (a.mark) {
    auto m = ParseMark(a.mark);
    if (!m.ok()) return m.status();
    for (auto& e : out) e.mark = m.value();
  }
  return out;
}

// The policy the command line asks for, validated.
Result<Policy> PolicyOf(const EngageArgs& a) {
  Policy p;
  for (gchar** t = a.tunnels; t && *t; ++t) p.tunnels.push_back(*t);
  auto endpoints = EndpointsOf(a);
  if (!endpoints.ok()) return endpoints.status();
  p.endpoints = std::move(endpoints).value();
  p.allow_lan = a.allow_lan;
  p.allow_cgnat = a.allow_cgnat;
  if (a.ipv6) {
    auto v = ParseIpv6Mode(a.ipv6);
    if (!v.ok()) return v.status();
    p.ipv6 = v.value();
  }
  if (a.mode) {
    auto v = ParseMode(a.mode);
    if (!v.ok()) return v.status();
    p.mode = v.value();
  }
  Normalize(p);
  if (Status s = Validate(p); !s.ok()) {
    return Status::Error(Format(_("%s; nothing was changed"), s.message().c_str()));
  }
  return p;
}

}  // namespace

// The verb's options, each writing into `a`.
std::array<GOptionEntry, 11> EngageOptions(EngageArgs& a) {
  return {{
      {"connection", 0, 0, G_OPTION_ARG_STRING, &a.connection,
       N_("Name to engage under (default: command-line)"), N_("NAME")},
      {"tunnel", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.tunnels,
       N_("Interface that carries the VPN; traffic through it is allowed (repeatable)"),
       N_("IFNAME")},
      {"endpoint", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.endpoints,
       N_("VPN server allowed outside the tunnel: ADDR:PORT[/udp|/tcp], [IPV6]:PORT or "
          "HOST:PORT (repeatable)"),
       N_("ENDPOINT")},
      {"endpoints-from", 0, 0, G_OPTION_ARG_FILENAME, &a.endpoints_from,
       N_("Read more endpoints from FILE, one per line"), N_("FILE")},
      {"mark", 0, 0, G_OPTION_ARG_STRING, &a.mark,
       N_("Only packets with this fwmark may reach the endpoints (set by the VPN's socket)"),
       N_("0xHEX")},
      {"allow-lan", 0, 0, G_OPTION_ARG_NONE, &a.allow_lan,
       N_("Allow private, link-local and multicast ranges (DNS stays blocked)"), nullptr},
      {"allow-cgnat", 0, 0, G_OPTION_ARG_NONE, &a.allow_cgnat,
       N_("With --allow-lan, also allow 100.64.0.0/10"), nullptr},
      {"ipv6", 0, 0, G_OPTION_ARG_STRING, &a.ipv6,
       N_("block (default): the tunnel carries no IPv6; tunnel: IPv6 may use the tunnel"),
       N_("block|tunnel")},
      {"mode", 0, 0, G_OPTION_ARG_STRING, &a.mode,
       N_("on (default): released when the VPN is switched off; lockdown: only an "
          "administrator releases it"),
       N_("on|lockdown")},
      {"block-at-boot", 0, 0, G_OPTION_ARG_NONE, &a.block_at_boot,
       N_("Also load this policy at boot, before the network starts"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}}};
}

int EngageCommand(int argc, char** argv) {
  EngageArgs a;
  const auto entries = EngageOptions(a);
  int code = 0;
  if (!ParseVerbOptions(
          nullptr,
          _("Block all traffic except through the given tunnel interfaces and to the given VPN "
            "endpoints. Works for any VPN, also outside NetworkManager (wg-quick, openvpn)."),
          entries.data(), &argc, &argv, &code)) {
    return code;
  }
  if (argc > 1) {
    PrintError(Format(_("unexpected argument \"%s\""), argv[1]));
    return 2;
  }
  auto policy = PolicyOf(a);
  if (!policy.ok()) {
    PrintError(policy.message());
    return 2;
  }
  const Policy& p = policy.value();
  std::string id = a.connection ? a.connection : kDefaultConnection;
  if (Status s = ValidateConnectionId(id); !s.ok()) {
    PrintError(s.message());
    return 2;
  }
  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  if (Status s = guard.value()->Engage(id, p, a.block_at_boot); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  std::printf(_("Kill switch engaged for \"%s\": only %zu tunnel interface(s) and %zu "
                "endpoint(s) are reachable.\n"),
              id.c_str(), p.tunnels.size(), p.endpoints.size());
  return 0;
}

}  // namespace nmks::cli
