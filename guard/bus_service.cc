#include "guard/bus_service.h"

#include <glib-unix.h>
#include <malloc.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/i18n.h"
#include "guard-dbus.h"
#include "guard/guard_status.h"
#include "rules/nft_text.h"
#include "rules/ruleset.h"
#include "rules/table_writer.h"

namespace nmks {
namespace {

void ReturnError(GDBusMethodInvocation* invocation, const char* name, const std::string& message) {
  g_dbus_method_invocation_return_dbus_error(invocation, name, message.c_str());
}

void ReturnStatus(GDBusMethodInvocation* invocation, const Status& s) {
  if (s.ok()) {
    g_dbus_method_invocation_return_value(invocation, nullptr);
  } else {
    ReturnError(invocation, kErrorFailed, s.message());
  }
}

// The merged table as nft text, with the kernel's counters where the
// kernel's table is the one we meant (rules match up by chain and position).
std::string TableWithCounts(const Ruleset& meant, const TableState& kernel, bool matches) {
  std::vector<RuleDef> shown = meant.rules;
  if (matches) {
    std::map<std::string, std::vector<const RuleDef*>> by_chain;
    for (const RuleDef& k : kernel.ruleset.rules) by_chain[k.chain].push_back(&k);
    std::map<std::string, size_t> next;
    for (RuleDef& r : shown) {
      const auto& in_kernel = by_chain[r.chain];
      size_t i = next[r.chain]++;
      if (i < in_kernel.size()) r.insns = in_kernel[i]->insns;
    }
  }
  return RenderNft(meant, kStatusSample, &shown);
}

}  // namespace

struct BusService::Impl {
  Guard& guard;
  GDBusConnection* bus;
  Authority authority;
  NmksDBusGuard1* skeleton = nullptr;
  NmksDBusRelay1* relay = nullptr;
  guint watch_source = 0;

  Impl(Guard& g, GDBusConnection* b) : guard(g), bus(b), authority(b) {}

  void Changed() { nmks_dbus_guard1_emit_changed(skeleton); }

  // The bus name polkit is asked about for a direct call: the caller's.
  static const char* DirectSubject(GDBusMethodInvocation* inv) {
    const char* sender = g_dbus_method_invocation_get_sender(inv);
    if (sender == nullptr) {  // a peer-to-peer connection: no bus to ask
      ReturnError(inv, kErrorNotAuthorized, _("callers must come through the system bus"));
    }
    return sender;
  }

  // Runs `action_fn` after `subject` (a bus name) is authorized for `action`.
  void Authorized(GDBusMethodInvocation* invocation, const std::string& subject, const char* action,
                  std::function<void()> action_fn) {
    authority.Check(subject, action, [invocation, fn = std::move(action_fn)](Status s) {
      if (!s.ok()) {
        ReturnError(invocation, kErrorNotAuthorized, s.message());
        return;
      }
      fn();
    });
  }

  // Runs `fn` if the direct caller of a Relay1 method is root (the front)
  // and names a caller that can be asked about.
  void Relayed(GDBusMethodInvocation* inv, const std::string& caller, std::function<void()> fn) {
    const char* sender = DirectSubject(inv);
    if (sender == nullptr) return;
    if (!g_dbus_is_unique_name(caller.c_str())) {
      ReturnError(inv, kErrorInvalidArgs, _("the relayed caller is not a bus name"));
      return;
    }
    Authorized(inv, sender, "", std::move(fn));
  }

  // Engage for `subject`; `configure_checked`: a relay asked polkit for
  // io.github.nmkillswitch.configure already.
  void Engage(GDBusMethodInvocation* inv, const std::string& subject, bool configure_checked,
              const std::string& id, GVariant* policy) {
    std::shared_ptr<GVariant> args(g_variant_ref(policy), g_variant_unref);
    auto checked = [this, inv, subject, id, args]() {
      // A bad name is neither echoed nor logged: it may be 1 MB or hold newlines.
      if (Status s = ValidateConnectionId(id); !s.ok()) {
        ReturnError(inv, kErrorInvalidArgs, s.message());
        return;
      }
      auto parsed = PolicyFromVariant(args.get());
      if (!parsed.ok()) {
        ReturnError(inv, kErrorInvalidArgs, parsed.message());
        return;
      }
      auto req = std::make_shared<EngageRequest>(std::move(parsed).value());
      auto engage = [this, inv, id, req]() {
        Status s = guard.Engage(id, req->policy, req->block_at_boot);
        if (s.ok()) {
          g_message("engaged %s", id.c_str());
          Changed();
        } else {
          g_warning("engage %s refused: %s", id.c_str(), s.message().c_str());
        }
        ReturnStatus(inv, s);
      };
      // Loosening a lockdown (another mode, more let through while a
      // lockdown holds) needs the right to end a lockdown as well.
      if (!guard.LoosensLockdown(id, req->policy, req->block_at_boot)) {
        engage();
        return;
      }
      Authorized(inv, subject, kActionReleaseLockdown, [id, engage]() {
        g_message("engage %s loosens a lockdown; allowed", id.c_str());
        engage();
      });
    };
    if (configure_checked) {
      checked();
    } else {
      Authorized(inv, subject, kActionConfigure, checked);
    }
  }

  void Release(GDBusMethodInvocation* inv, const std::string& subject, const std::string& id) {
    if (Status s = ValidateConnectionId(id); !s.ok()) {
      ReturnError(inv, kErrorInvalidArgs, s.message());
      return;
    }
    if (guard.engaged().count(id) == 0) {
      ReturnError(inv, kErrorFailed, Format(_("connection \"%s\" is not engaged"), id.c_str()));
      return;
    }
    bool lockdown = guard.IsLockdown(id);
    Authorized(inv, subject, lockdown ? kActionReleaseLockdown : kActionRelease,
               [this, inv, id, lockdown]() {
                 if (!lockdown && guard.IsLockdown(id)) {
                   ReturnError(inv, kErrorFailed,
                               _("the connection was switched to lockdown meanwhile; ask again"));
                   return;
                 }
                 Status s = guard.Release(id);
                 if (s.ok()) {
                   g_message("released %s", id.c_str());
                   Changed();
                 }
                 ReturnStatus(inv, s);
               });
  }

  void ReleaseAll(GDBusMethodInvocation* inv, const std::string& subject) {
    bool lockdown = guard.AnyLockdown();
    Authorized(inv, subject, lockdown ? kActionReleaseLockdown : kActionRelease,
               [this, inv, lockdown]() {
                 if (!lockdown && guard.AnyLockdown()) {
                   ReturnError(inv, kErrorFailed,
                               _("a connection was switched to lockdown meanwhile; ask again"));
                   return;
                 }
                 Status s = guard.ReleaseAll();
                 if (s.ok()) {
                   g_message("released all connections");
                   Changed();
                 }
                 ReturnStatus(inv, s);
               });
  }

  void SetBlockAtBoot(GDBusMethodInvocation* inv, const std::string& subject, const std::string& id,
                      bool enabled) {
    Authorized(inv, subject, kActionBoot, [this, inv, subject, id, enabled]() {
      if (Status s = ValidateConnectionId(id); !id.empty() && !s.ok()) {  // "" means all
        ReturnError(inv, kErrorInvalidArgs, s.message());
        return;
      }
      auto set = [this, inv, id, enabled]() {
        Status s = guard.SetBlockAtBoot(id, enabled);
        if (s.ok()) Changed();
        ReturnStatus(inv, s);
      };
      // Taking a lockdown out of the boot file ends it at the next boot.
      if (!guard.BootLoosensLockdown(id, enabled)) {
        set();
        return;
      }
      Authorized(inv, subject, kActionReleaseLockdown, set);
    });
  }

  void Repair(GDBusMethodInvocation* inv, const std::string& subject) {
    Authorized(inv, subject, kActionConfigure, [this, inv]() {
      auto repaired = guard.Repair();
      if (!repaired.ok()) {
        g_critical("the kill-switch table could not be repaired: %s", repaired.message().c_str());
        ReturnError(inv, kErrorFailed, repaired.message());
        return;
      }
      if (!repaired.value().empty()) {
        g_warning("the kill-switch table differed from the engaged policy (%s); repaired",
                  repaired.value().c_str());
      }
      g_dbus_method_invocation_return_value(inv, g_variant_new("(s)", repaired.value().c_str()));
    });
  }

  // Guard1, called directly (by root: the bus lets nobody else through).
  static gboolean OnEngage(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                           GVariant* policy, gpointer data) {
    if (const char* subject = DirectSubject(inv)) {
      static_cast<Impl*>(data)->Engage(inv, subject, false, connection, policy);
    }
    return TRUE;
  }
  static gboolean OnRelease(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                            gpointer data) {
    if (const char* subject = DirectSubject(inv)) {
      static_cast<Impl*>(data)->Release(inv, subject, connection);
    }
    return TRUE;
  }
  static gboolean OnReleaseAll(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
    if (const char* subject = DirectSubject(inv))
      static_cast<Impl*>(data)->ReleaseAll(inv, subject);
    return TRUE;
  }
  static gboolean OnSetBlockAtBoot(NmksDBusGuard1*, GDBusMethodInvocation* inv,
                                   const gchar* connection, gboolean enabled, gpointer data) {
    if (const char* subject = DirectSubject(inv)) {
      static_cast<Impl*>(data)->SetBlockAtBoot(inv, subject, connection, enabled);
    }
    return TRUE;
  }
  static gboolean OnRepair(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
    if (const char* subject = DirectSubject(inv)) static_cast<Impl*>(data)->Repair(inv, subject);
    return TRUE;
  }

  // Relay1: the same calls made by the front on behalf of `caller`.
  static gboolean OnRelayEngage(NmksDBusRelay1*, GDBusMethodInvocation* inv, const gchar* caller,
                                const gchar* connection, GVariant* policy, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string subject = caller, id = connection;
    std::shared_ptr<GVariant> args(g_variant_ref(policy), g_variant_unref);
    self->Relayed(inv, subject, [self, inv, subject, id, args]() {
      self->Engage(inv, subject, true, id, args.get());
    });
    return TRUE;
  }
  static gboolean OnRelayRelease(NmksDBusRelay1*, GDBusMethodInvocation* inv, const gchar* caller,
                                 const gchar* connection, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string subject = caller, id = connection;
    self->Relayed(inv, subject, [self, inv, subject, id]() { self->Release(inv, subject, id); });
    return TRUE;
  }
  static gboolean OnRelayReleaseAll(NmksDBusRelay1*, GDBusMethodInvocation* inv,
                                    const gchar* caller, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string subject = caller;
    self->Relayed(inv, subject, [self, inv, subject]() { self->ReleaseAll(inv, subject); });
    return TRUE;
  }
  static gboolean OnRelaySetBlockAtBoot(NmksDBusRelay1*, GDBusMethodInvocation* inv,
                                        const gchar* caller, const gchar* connection,
                                        gboolean enabled, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string subject = caller, id = connection;
    bool on = enabled;
    self->Relayed(inv, subject,
                  [self, inv, subject, id, on]() { self->SetBlockAtBoot(inv, subject, id, on); });
    return TRUE;
  }
  static gboolean OnRelayRepair(NmksDBusRelay1*, GDBusMethodInvocation* inv, const gchar* caller,
                                gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string subject = caller;
    self->Relayed(inv, subject, [self, inv, subject]() { self->Repair(inv, subject); });
    return TRUE;
  }

  static gboolean OnVerify(NmksDBusGuard1* object, GDBusMethodInvocation* inv, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    Guard::Report r = self->guard.Verify();
    std::vector<const char*> lines;
    for (const auto& l : r.lines) lines.push_back(l.c_str());
    lines.push_back(nullptr);
    nmks_dbus_guard1_complete_verify(object, inv, r.ok, lines.data());
    return TRUE;
  }

  // Bounded at any number of endpoints (a sample of each connection's,
  // shortened sets in the text): open to every caller.
  static gboolean OnStatus(NmksDBusGuard1* object, GDBusMethodInvocation* inv, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    Guard& g = self->guard;
    GuardStatus st;
    st.version = NMKS_VERSION;
    st.engaged = !g.engaged().empty();
    st.protection = ProtectionName(g.protection());
    st.SetConnections(g.engaged());
    for (const auto& [id, p] : g.boot()) st.boot_connections.push_back(id);
    st.warnings = g.warnings();

    Status same = Status::Ok();
    auto kernel = g.KernelTable(&same);
    if (!kernel.ok()) {
      st.problem = kernel.message();
    } else if (st.engaged) {
      st.kernel_matches = same.ok();
      st.problem = same.message();
      st.table = TableWithCounts(g.meant(), kernel.value(), st.kernel_matches);
      // A packet is stopped by whichever of the table and its twin sees it
      // first (same hooks and priorities), so the stops are their sum.
      auto count = [&st](const TableState& table) {
        for (const RuleDef& r : table.ruleset.rules) {
          if (r.stop == Stop::kNone) continue;
          for (const Insn& i : r.insns)
            if (const auto* c = std::get_if<Counter>(&i))
              st.stopped[StopComment(r.stop)] += c->packets;
        }
      };
      count(kernel.value());
      if (auto twin = g.ReadTwinRules(); twin.ok() && twin.value().exists) count(twin.value());
    } else if (kernel.value().exists) {
      st.problem =
          _("nothing is engaged in the guard; an engage that failed may have left the table, "
            "or another program made it");
    }
    // Whether any table of our name is in the kernel, ours or not: a table
    // left by a failed install blocks traffic even when nothing is engaged.
    st.table_in_kernel = !kernel.ok() || kernel.value().exists;
    nmks_dbus_guard1_complete_status(object, inv, GuardStatusToVariant(st));
    malloc_trim(0);  // a whole table read back, when the ruleset had changed
    return TRUE;
  }

  // One connection's whole policy: bytes copied, nothing rendered.
  static gboolean OnPolicy(NmksDBusGuard1* object, GDBusMethodInvocation* inv,
                           const gchar* connection, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->guard.engaged().find(connection);
    const bool engaged = it != self->guard.engaged().end();
    nmks_dbus_guard1_complete_policy(object, inv, engaged,
                                     engaged
                                         ? PolicyToVariant(it->second)
                                         : g_variant_new_array(G_VARIANT_TYPE("{sv}"), nullptr, 0));
    return TRUE;
  }

  static gboolean OnWatch(gint, GIOCondition, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (!self->guard.DrainWatch()) return G_SOURCE_CONTINUE;
    auto repaired = self->guard.Repair();
    if (!repaired.ok()) {
      g_critical(
          "the kill-switch table was changed by another process and could not be "
          "repaired: %s",
          repaired.message().c_str());
    } else if (!repaired.value().empty()) {
      g_warning("another process changed the kill-switch table (%s); repaired",
                repaired.value().c_str());
    }
    return G_SOURCE_CONTINUE;
  }
};

BusService::BusService(Guard& guard, GDBusConnection* bus) : impl_(new Impl(guard, bus)) {}

BusService::~BusService() {
  if (impl_->watch_source) g_source_remove(impl_->watch_source);
  for (GDBusInterfaceSkeleton* s :
       {G_DBUS_INTERFACE_SKELETON(impl_->skeleton), G_DBUS_INTERFACE_SKELETON(impl_->relay)}) {
    if (s == nullptr) continue;
    g_dbus_interface_skeleton_unexport(s);
    g_object_unref(s);
  }
}

Status BusService::Export() {
  Impl* i = impl_.get();
  i->skeleton = nmks_dbus_guard1_skeleton_new();
  g_signal_connect(i->skeleton, "handle-engage", G_CALLBACK(Impl::OnEngage), i);
  g_signal_connect(i->skeleton, "handle-release", G_CALLBACK(Impl::OnRelease), i);
  g_signal_connect(i->skeleton, "handle-release-all", G_CALLBACK(Impl::OnReleaseAll), i);
  g_signal_connect(i->skeleton, "handle-set-block-at-boot", G_CALLBACK(Impl::OnSetBlockAtBoot), i);
  g_signal_connect(i->skeleton, "handle-verify", G_CALLBACK(Impl::OnVerify), i);
  g_signal_connect(i->skeleton, "handle-repair", G_CALLBACK(Impl::OnRepair), i);
  g_signal_connect(i->skeleton, "handle-status", G_CALLBACK(Impl::OnStatus), i);
  g_signal_connect(i->skeleton, "handle-policy", G_CALLBACK(Impl::OnPolicy), i);
  i->relay = nmks_dbus_relay1_skeleton_new();
  g_signal_connect(i->relay, "handle-engage", G_CALLBACK(Impl::OnRelayEngage), i);
  g_signal_connect(i->relay, "handle-release", G_CALLBACK(Impl::OnRelayRelease), i);
  g_signal_connect(i->relay, "handle-release-all", G_CALLBACK(Impl::OnRelayReleaseAll), i);
  g_signal_connect(i->relay, "handle-set-block-at-boot", G_CALLBACK(Impl::OnRelaySetBlockAtBoot),
                   i);
  g_signal_connect(i->relay, "handle-repair", G_CALLBACK(Impl::OnRelayRepair), i);
  for (GDBusInterfaceSkeleton* s :
       {G_DBUS_INTERFACE_SKELETON(i->skeleton), G_DBUS_INTERFACE_SKELETON(i->relay)}) {
    GError* error = nullptr;
    if (!g_dbus_interface_skeleton_export(s, i->bus, kGuardObjectPath, &error)) {
      std::string msg = error ? error->message : "";
      g_clear_error(&error);
      return Status::Error(Format(_("cannot export the guard on D-Bus: %s"), msg.c_str()));
    }
  }
  if (i->guard.watch_fd() >= 0) {
    i->watch_source = g_unix_fd_add(i->guard.watch_fd(), G_IO_IN, Impl::OnWatch, i);
  }
  return Status::Ok();
}

}  // namespace nmks
