// nm-killswitch-front: serves the guard's interface to callers that are not
// root, from a separate process with a memory limit.
//
// The bus hands over a message whole and GDBus parses it whole before anyone
// can ask who sent it: one 32 MB message grew the guard by hundreds of MB. So
// only root may call the guard (the bus policy), and everyone else calls
// io.github.nmkillswitch.Front1, this process: it parses the message within
// its own limit (a message too big for it ends this process, not the guard,
// and D-Bus activation starts a new one), checks the call, asks polkit for
// the right to configure before an Engage's policy goes any further, and
// relays the call to the guard's Relay1 interface with the caller's bus
// name, so that the guard asks polkit about the caller and never about us.
#include <gio/gio.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "base/i18n.h"
#include "base/options.h"
#include "base/status.h"
#include "guard-dbus.h"
#include "guard/authority.h"
#include "guard/bus_name.h"
#include "guard/names.h"
#include "guard/policy_variant.h"
#include "rules/policy.h"

namespace nmks {
namespace {

// How long a relayed call may take: an administrator may be typing a
// password for polkit in the guard (release-lockdown).
constexpr int kRelayTimeoutMs = 5 * 60 * 1000;

struct Front {
  GDBusConnection* bus = nullptr;
  std::unique_ptr<Authority> authority;
  NmksDBusGuard1* skeleton = nullptr;
  // Calls taken and not answered yet, and whether any came since the idle
  // timer last looked.
  int pending = 0;
  bool busy = false;
};

// Counts a call in (from its handler) and out (when it is answered).
void Took(Front* f) {
  ++f->pending;
  f->busy = true;
}
void Answered(Front* f) { --f->pending; }

// Gives the memory of a big message back to the system once its call is
// answered: the process rests small between calls.
void Trim() { malloc_trim(0); }

void ReturnError(GDBusMethodInvocation* inv, const char* name, const std::string& message) {
  g_dbus_method_invocation_return_dbus_error(inv, name, message.c_str());
  Trim();
}

struct Call {
  Front* front;
  GDBusMethodInvocation* inv;
};

// Answers the call with the guard's reply, or its error under the same name.
void OnRelayed(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<Call> call(static_cast<Call*>(data));
  GDBusMethodInvocation* inv = call->inv;
  Answered(call->front);
  GError* error = nullptr;
  GVariant* reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
  if (reply != nullptr) {
    g_dbus_method_invocation_return_value(inv, reply);
    g_variant_unref(reply);
    Trim();
    return;
  }
  g_autofree gchar* remote = g_dbus_error_get_remote_error(error);
  if (remote != nullptr) g_dbus_error_strip_remote_error(error);
  // Only the bus saying the guard is not there means it is not running; a
  // timeout or any other failure is told as it is.
  const bool gone =
      remote != nullptr && (std::strcmp(remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
                            std::strcmp(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0);
  std::string message =
      gone ? Format(_("nm-killswitch-guard is not running and could not be started (%s)"),
                    error->message)
           : std::string(error->message);
  const char* name = remote != nullptr ? remote : kErrorFailed;
  g_clear_error(&error);
  ReturnError(inv, name, message);
}

// Calls `method` of `interface` on the guard with `params` (floating) and
// answers `inv` with what the guard answers.
void Relay(Front* f, GDBusMethodInvocation* inv, const char* interface, const char* method,
           GVariant* params, const GVariantType* reply_type) {
  Took(f);
  g_dbus_connection_call(f->bus, kGuardBusName, kGuardObjectPath, interface, method, params,
                         reply_type, G_DBUS_CALL_FLAGS_NONE, kRelayTimeoutMs, nullptr, OnRelayed,
                         new Call{f, inv});
}

const char* Sender(GDBusMethodInvocation* inv) {
  const char* sender = g_dbus_method_invocation_get_sender(inv);
  if (sender == nullptr) {
    ReturnError(inv, kErrorNotAuthorized, _("callers must come through the system bus"));
  }
  return sender;
}

// A connection name goes no further unless it is one the guard could accept.
bool CheckConnection(GDBusMethodInvocation* inv, const char* id, bool empty_allowed) {
  if (empty_allowed && *id == '\0') return true;
  if (Status s = ValidateConnectionId(id); !s.ok()) {
    ReturnError(inv, kErrorInvalidArgs, s.message());
    return false;
  }
  return true;
}

gboolean OnEngage(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                  GVariant* policy, gpointer data) {
  auto* f = static_cast<Front*>(data);
  const char* sender = Sender(inv);
  if (sender == nullptr || !CheckConnection(inv, connection, false)) return TRUE;
  if (auto parsed = PolicyFromVariant(policy); !parsed.ok()) {
    ReturnError(inv, kErrorInvalidArgs, parsed.message());
    return TRUE;
  }
  // The policy reaches the guard only from a caller allowed to configure.
  GVariant* params = g_variant_ref_sink(g_variant_new("(ss@a{sv})", sender, connection, policy));
  Took(f);
  f->authority->Check(sender, kActionConfigure, [f, inv, params](Status s) {
    Answered(f);
    if (s.ok()) {
      Relay(f, inv, kRelayInterface, "Engage", params, nullptr);
    } else {
      ReturnError(inv, kErrorNotAuthorized, s.message());
    }
    g_variant_unref(params);
  });
  return TRUE;
}

gboolean OnRelease(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                   gpointer data) {
  const char* sender = Sender(inv);
  if (sender == nullptr || !CheckConnection(inv, connection, false)) return TRUE;
  Relay(static_cast<Front*>(data), inv, kRelayInterface, "Release",
        g_variant_new("(ss)", sender, connection), nullptr);
  return TRUE;
}

gboolean OnReleaseAll(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
  const char* sender = Sender(inv);
  if (sender == nullptr) return TRUE;
  Relay(static_cast<Front*>(data), inv, kRelayInterface, "ReleaseAll", g_variant_new("(s)", sender),
        nullptr);
  return TRUE;
}

gboolean OnSetBlockAtBoot(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                          gboolean enabled, gpointer data) {
  const char* sender = Sender(inv);
  if (sender == nullptr || !CheckConnection(inv, connection, true)) return TRUE;
  Relay(static_cast<Front*>(data), inv, kRelayInterface, "SetBlockAtBoot",
        g_variant_new("(ssb)", sender, connection, enabled), nullptr);
  return TRUE;
}

gboolean OnRepair(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
  const char* sender = Sender(inv);
  if (sender == nullptr) return TRUE;
  Relay(static_cast<Front*>(data), inv, kRelayInterface, "Repair", g_variant_new("(s)", sender),
        G_VARIANT_TYPE("(s)"));
  return TRUE;
}

// Status and the self-test are open to everyone: asked of the guard as they are.
gboolean OnStatus(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
  Relay(static_cast<Front*>(data), inv, kGuardInterface, "Status", nullptr,
        G_VARIANT_TYPE("(a{sv})"));
  return TRUE;
}

// One connection's whole policy: bytes, nothing rendered; open as Status.
gboolean OnPolicy(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                  gpointer data) {
  Relay(static_cast<Front*>(data), inv, kGuardInterface, "Policy", g_variant_new("(s)", connection),
        G_VARIANT_TYPE("(ba{sv})"));
  return TRUE;
}

gboolean OnVerify(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
  Relay(static_cast<Front*>(data), inv, kGuardInterface, "Verify", nullptr,
        G_VARIANT_TYPE("(bas)"));
  return TRUE;
}

// Built with AddressSanitizer (test builds only): its shadow memory is
// private writable memory, so a data limit would refuse the sanitizer
// itself. There the limit is left to the service manager (MemoryMax=).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// The most memory this process may map for its data: a message that needs
// more to be parsed ends the process instead of growing it further.
bool LimitMemory(unsigned long mib) {
  if (mib == 0) return true;
  if (kAddressSanitizer) {
    g_message("built with AddressSanitizer: no data limit of its own (MemoryMax= applies)");
    return true;
  }
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(mib) << 20;
  rlimit no_core{};
  return setrlimit(RLIMIT_DATA, &limit) == 0 && setrlimit(RLIMIT_CORE, &no_core) == 0;
}

// Ends the front after `idle_seconds` without a call: it gives up its name
// first (a new call then starts a new front), answers what is on its way,
// and exits.
struct Idle {
  Front* front;
  GMainLoop* loop;
  NameOwner* name;
};

gboolean OnIdleCheck(gpointer data) {
  auto* idle = static_cast<Idle*>(data);
  Front* f = idle->front;
  if (f->busy || f->pending > 0) {
    f->busy = false;
    return G_SOURCE_CONTINUE;
  }
  g_message("idle; exiting");
  idle->name->Release();
  g_timeout_add_seconds(
      1,
      [](gpointer d) -> gboolean {
        auto* i = static_cast<Idle*>(d);
        if (i->front->pending > 0) return G_SOURCE_CONTINUE;
        g_main_loop_quit(i->loop);
        return G_SOURCE_REMOVE;
      },
      idle);
  return G_SOURCE_REMOVE;
}

int Run(unsigned long memory_limit_mib, unsigned idle_seconds) {
  if (!LimitMemory(memory_limit_mib)) {
    g_critical(_("cannot limit the memory of nm-killswitch-front: %s"), std::strerror(errno));
    return 1;
  }
  GError* error = nullptr;
  Front f;
  f.bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
  if (f.bus == nullptr) {
    g_critical(_("cannot connect to the system bus: %s"), error ? error->message : "");
    g_clear_error(&error);
    return 1;
  }
  f.authority = std::make_unique<Authority>(f.bus);
  f.skeleton = nmks_dbus_guard1_skeleton_new();
  g_signal_connect(f.skeleton, "handle-engage", G_CALLBACK(OnEngage), &f);
  g_signal_connect(f.skeleton, "handle-release", G_CALLBACK(OnRelease), &f);
  g_signal_connect(f.skeleton, "handle-release-all", G_CALLBACK(OnReleaseAll), &f);
  g_signal_connect(f.skeleton, "handle-set-block-at-boot", G_CALLBACK(OnSetBlockAtBoot), &f);
  g_signal_connect(f.skeleton, "handle-repair", G_CALLBACK(OnRepair), &f);
  g_signal_connect(f.skeleton, "handle-status", G_CALLBACK(OnStatus), &f);
  g_signal_connect(f.skeleton, "handle-policy", G_CALLBACK(OnPolicy), &f);
  g_signal_connect(f.skeleton, "handle-verify", G_CALLBACK(OnVerify), &f);
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(f.skeleton), f.bus,
                                        kGuardObjectPath, &error)) {
    g_critical(_("cannot export nm-killswitch-front on D-Bus: %s"), error ? error->message : "");
    g_clear_error(&error);
    return 1;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  int exit_code = 0;
  {
    NameOwner name(f.bus, kFrontBusName, loop,
                   _("cannot own %s on the system bus (another nm-killswitch-front?)"));
    QuitOnSignals(loop, nullptr);
    Idle idle{&f, loop, &name};
    if (idle_seconds > 0) g_timeout_add_seconds(idle_seconds, OnIdleCheck, &idle);
    g_main_loop_run(loop);
    exit_code = name.exit_code();
  }
  g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(f.skeleton));
  g_object_unref(f.skeleton);
  g_main_loop_unref(loop);
  f.authority.reset();
  g_object_unref(f.bus);
  return exit_code;
}

}  // namespace
}  // namespace nmks

int main(int argc, char** argv) {
  nmks::InitTranslations();
  gint memory_limit = 128;
  gint idle_exit = 0;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
      {"memory-limit", 0, 0, G_OPTION_ARG_INT, &memory_limit,
       N_("Most data memory the process may use, in MiB (0: no limit; default 128)"), "MIB"},
      {"idle-exit", 0, 0, G_OPTION_ARG_INT, &idle_exit,
       N_("Exit after this many seconds without a call (0: never, the default)"), "SECONDS"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  nmks::Status parsed = nmks::ParseOptions(
      nullptr,
      _("Serves nm-killswitch-guard on the system bus, as io.github.nmkillswitch.Front1, to "
        "callers that are not root."),
      entries, &argc, &argv);
  if (!parsed.ok() || memory_limit < 0 || idle_exit < 0) {
    std::fprintf(stderr, "%s\n",
                 !parsed.ok() ? parsed.message().c_str()
                              : _("--memory-limit and --idle-exit must not be negative"));
    return 2;
  }
  if (version) {
    std::printf("nm-killswitch-front %s\n", NMKS_VERSION);
    return 0;
  }
  return nmks::Run(static_cast<unsigned long>(memory_limit), static_cast<unsigned>(idle_exit));
}
