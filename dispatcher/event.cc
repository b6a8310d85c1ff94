#include "dispatcher/event.h"

#include <glib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/i18n.h"
#include "rules/policy.h"

namespace nmks::dispatch {
namespace {

struct ActionName_ {
  const char* name;
  Action action;
};
constexpr ActionName_ kActions[] = {
    {"hostname", Action::kHostname},
    {"pre-up", Action::kPreUp},
    {"up", Action::kUp},
    {"pre-down", Action::kPreDown},
    {"down", Action::kDown},
    {"vpn-pre-up", Action::kVpnPreUp},
    {"vpn-up", Action::kVpnUp},
    {"vpn-pre-down", Action::kVpnPreDown},
    {"vpn-down", Action::kVpnDown},
    {"dhcp4-change", Action::kDhcp4Change},
    {"dhcp6-change", Action::kDhcp6Change},
    {"connectivity-change", Action::kConnectivityChange},
    {"reapply", Action::kReapply},
};

constexpr char kSettingsPrefix[] = "/org/freedesktop/NetworkManager/Settings/";

bool Printable(std::string_view v) {
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

// A value from the environment, checked for size and printable ASCII.
Result<std::string> Value(const Environment& env, const char* name) {
  const char* v = env(name);
  if (v == nullptr) return std::string();
  size_t n = strnlen(v, kMaxValueBytes + 1);
  if (n > kMaxValueBytes) {
    return Status::Error(Format(_("%s is longer than %zu bytes"), name, kMaxValueBytes));
  }
  if (!Printable(std::string_view(v, n))) {
    return Status::Error(Format(_("%s holds a character that is not printable ASCII"), name));
  }
  return std::string(v, n);
}

// NetworkManager's UUIDs: 32 hexadecimal digits, dashes between groups.
bool IsUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !g_ascii_isxdigit(v[i])) return false;
  }
  return true;
}

Status CheckInterface(const char* name, const std::string& value) {
  if (value.empty()) return Status::Ok();
  if (Status s = ValidateInterfaceName(value); !s.ok()) {
    return Status::Error(Format(_("%s is not an interface name"), name));
  }
  return Status::Ok();
}

// Whether <prefix>_<n> (n < <prefix NUM>) holds an IPv6 address that is
// not link-local: "ADDRESS/PREFIX GATEWAY".
Result<bool> HasGlobalIpv6(const Environment& env, const char* num_name, const char* prefix) {
  auto num = Value(env, num_name);
  if (!num.ok()) return num.status();
  if (num.value().empty()) return false;
  char* end = nullptr;
  unsigned long n = std::strtoul(num.value().c_str(), &end, 10);
  if (*end != '\0') {
    return Status::Error(Format(_("%s is not a number"), num_name));
  }
  for (unsigned long i = 0; i < n && i < kMaxAddresses; ++i) {
    std::string name = std::string(prefix) + std::to_string(i);
    auto v = Value(env, name.c_str());
    if (!v.ok()) return v.status();
    std::string text = v.value().substr(0, v.value().find_first_of("/ "));
    auto a = Address::Parse(text);
    if (!a.ok() || a.value().family != Address::Family::kIpv6) continue;
    bool link_local = a.value().bytes[0] == 0xfe && (a.value().bytes[1] & 0xc0) == 0x80;
    if (!link_local) return true;
  }
  return false;
}

}  // namespace

const char* ActionName(Action action) {
  for (const auto& a : kActions)
    if (a.action == action) return a.name;
  return "?";
}

namespace {

// What the hook cannot do without: the action and the connection's UUID.
// A bad value here refuses the whole event.
Result<Event> ReadAction(int argc, const char* const* argv, const Environment& env) {
  if (argc != 3) {
    return Status::Error(Format(_("called with %d argument(s); NetworkManager's dispatcher "
                                  "passes two: the interface and the action"),
                                argc - 1));
  }
  Event e;
  std::string_view action = argv[2];
  const ActionName_* found = nullptr;
  for (const auto& a : kActions)
    if (action == a.name) found = &a;
  if (found == nullptr) {
    return Status::Error(_("the action (second argument) is not one NetworkManager sends"));
  }
  e.action = found->action;
  auto env_action = Value(env, "NM_DISPATCHER_ACTION");
  if (!env_action.ok()) return env_action.status();
  if (!env_action.value().empty() && env_action.value() != found->name) {
    return Status::Error(_("NM_DISPATCHER_ACTION disagrees with the action argument"));
  }
  auto uuid = Value(env, "CONNECTION_UUID");
  if (!uuid.ok()) return uuid.status();
  e.uuid = uuid.value();
  if (!e.uuid.empty() && !IsUuid(e.uuid)) {
    return Status::Error(_("CONNECTION_UUID is not a UUID"));
  }
  return e;
}

// From here on a bad value is noted in `damaged` and left empty.
void Damaged(Event& e, const Status& s) { e.damaged.push_back(s.message()); }

void ReadInterfaces(const char* iface_argument, const Environment& env, Event& e) {
  size_t iface_len = strnlen(iface_argument, kMaxValueBytes + 1);
  if (iface_len > kMaxValueBytes || !Printable(std::string_view(iface_argument, iface_len))) {
    Damaged(e, Status::Error(_("the interface argument is not printable ASCII of sane length")));
  } else if (Status s = CheckInterface("the interface argument", iface_argument);
             e.action != Action::kHostname && e.action != Action::kConnectivityChange && !s.ok()) {
    Damaged(e, s);
  } else {
    e.iface = iface_argument;
  }
  struct Field {
    const char* name;
    std::string* out;
    bool interface;
  };
  const Field fields[] = {
      {"CONNECTION_DBUS_PATH", &e.settings_path, false},
      {"VPN_IP_IFACE", &e.vpn_ip_iface, true},
      {"DEVICE_IFACE", &e.device_iface, true},
      {"DEVICE_IP_IFACE", &e.device_ip_iface, true},
  };
  for (const Field& f : fields) {
    auto v = Value(env, f.name);
    if (!v.ok()) {
      Damaged(e, v.status());
    } else if (Status s = f.interface ? CheckInterface(f.name, v.value()) : Status::Ok(); !s.ok()) {
      Damaged(e, s);
    } else {
      *f.out = v.value();
    }
  }
}

void ReadConnection(const Environment& env, Event& e) {
  // The connection's name is the user's text: kept for logs only, and only
  // when it is plain.
  if (const char* id = env("CONNECTION_ID"); id != nullptr) {
    size_t n = strnlen(id, 65);
    if (n <= 64 && Printable(std::string_view(id, n))) e.connection_id = std::string(id, n);
  }
  if (!e.settings_path.empty() &&
      (!g_variant_is_object_path(e.settings_path.c_str()) ||
       e.settings_path.compare(0, sizeof kSettingsPrefix - 1, kSettingsPrefix) != 0)) {
    e.settings_path.clear();
    Damaged(
        e, Status::Error(_("CONNECTION_DBUS_PATH is not the path of a NetworkManager connection")));
  }
  // The profile's file: only where the hook falls back to when NetworkManager
  // cannot be asked, so an odd one is dropped, not counted as damage. Its
  // name may be the user's (UTF-8): any byte but control characters.
  if (const char* file = env("CONNECTION_FILENAME"); file != nullptr) {
    size_t n = strnlen(file, kMaxValueBytes + 1);
    std::string_view v(file, n);
    bool plain = n <= kMaxValueBytes && !v.empty() && v[0] == '/' &&
                 std::none_of(v.begin(), v.end(), [](char c) {
                   return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                 });
    if (plain) e.connection_filename = std::string(v);
  }
  auto external = Value(env, "CONNECTION_EXTERNAL");
  if (external.ok()) {
    e.external = external.value() == "1";
  } else {
    Damaged(e, external.status());  // not external: the hook may engage
  }
}

void ReadIpv6(const Environment& env, Event& e) {
  auto vpn6 = HasGlobalIpv6(env, "VPN_IP6_NUM_ADDRESSES", "VPN_IP6_ADDRESS_");
  if (vpn6.ok()) {
    e.vpn_has_ipv6 = vpn6.value();
  } else {
    Damaged(e, vpn6.status());  // no IPv6: blocked
  }
  auto dev6 = HasGlobalIpv6(env, "IP6_NUM_ADDRESSES", "IP6_ADDRESS_");
  if (dev6.ok()) {
    e.device_has_ipv6 = dev6.value();
  } else {
    Damaged(e, dev6.status());
  }
}

}  // namespace

Result<Event> ReadEvent(int argc, const char* const* argv, const Environment& env) {
  auto e = ReadAction(argc, argv, env);
  if (!e.ok()) return e;
  ReadInterfaces(argv[1], env, e.value());
  ReadConnection(env, e.value());
  ReadIpv6(env, e.value());
  return e;
}

Status RequireConnection(const Event& event) {
  if (event.uuid.empty()) return Status::Error(_("CONNECTION_UUID is missing"));
  return Status::Ok();
}

namespace {

constexpr unsigned kHardLimitSeconds = 20;

// What OnAlarm writes: translated and formatted before the alarm is armed,
// since a signal handler may call neither gettext nor printf (only write and
// _exit are async-signal-safe).
char alarm_message[512];
size_t alarm_message_length = 0;

void OnAlarm(int) {
  ssize_t ignored = write(STDERR_FILENO, alarm_message, alarm_message_length);
  (void)ignored;
  _exit(1);
}

void PrepareAlarmMessage() {
  const std::string line =
      "nm-killswitch-dispatcher: " +
      Format(_("gave up after %u s so as not to hold NetworkManager up; the kill switch is as it "
               "was"),
             kHardLimitSeconds) +
      "\n";
  // Cut to the buffer (a translation that long would lose its end, never
  // the newline).
  size_t n = std::min(line.size(), sizeof alarm_message);
  std::memcpy(alarm_message, line.data(), n);
  alarm_message[n - 1] = '\n';
  alarm_message_length = n;
}

}  // namespace

Result<Event> StartHookProgram(int argc, char** argv) {
  PrepareAlarmMessage();
  signal(SIGALRM, OnAlarm);
  alarm(kHardLimitSeconds);
  auto event = ReadEvent(argc, argv, [](const char* name) { return getenv(name); });
  if (!event.ok()) {
    std::fprintf(stderr, _("nm-killswitch-dispatcher: %s; the event is ignored and nothing was "
                           "changed\n"),
                 event.message().c_str());
  }
  return event;
}

}  // namespace nmks::dispatch
