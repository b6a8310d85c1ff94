#include "guard/service.h"

#include <glib-unix.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "guard-dbus.h"
#include "rules/i18n.h"
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
  Ruleset shown = meant;
  if (matches) {
    std::map<std::string, std::vector<const RuleDef*>> by_chain;
    for (const RuleDef& k : kernel.ruleset.rules) by_chain[k.chain].push_back(&k);
    std::map<std::string, size_t> next;
    for (RuleDef& r : shown.rules) {
      const auto& in_kernel = by_chain[r.chain];
      size_t i = next[r.chain]++;
      if (i < in_kernel.size()) r.insns = in_kernel[i]->insns;
    }
  }
  return RenderNft(shown);
}

}  // namespace

struct Service::Impl {
  Guard& guard;
  GDBusConnection* bus;
  Authority authority;
  NmksDBusGuard1* skeleton = nullptr;
  guint watch_source = 0;

  Impl(Guard& g, GDBusConnection* b) : guard(g), bus(b), authority(b) {}

  void Changed() { nmks_dbus_guard1_emit_changed(skeleton); }

  // Runs `action_fn` after the caller is authorized for `action`.
  void Authorized(GDBusMethodInvocation* invocation, const char* action,
                  std::function<void()> action_fn) {
    const char* sender = g_dbus_method_invocation_get_sender(invocation);
    if (sender == nullptr) {  // a peer-to-peer connection: no bus to ask
      ReturnError(invocation, kErrorNotAuthorized, _("callers must come through the system bus"));
      return;
    }
    authority.Check(sender, action, [invocation, fn = std::move(action_fn)](Status s) {
      if (!s.ok()) {
        ReturnError(invocation, kErrorNotAuthorized, s.message());
        return;
      }
      fn();
    });
  }

  static gboolean OnEngage(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                           GVariant* policy, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string id = connection;
    std::shared_ptr<GVariant> args(g_variant_ref(policy), g_variant_unref);
    self->Authorized(inv, kActionConfigure, [self, inv, id, args]() {
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
      auto engage = [self, inv, id, req]() {
        Status s = self->guard.Engage(id, req->policy, req->block_at_boot);
        if (s.ok()) {
          g_message("engaged %s", id.c_str());
          self->Changed();
        } else {
          g_warning("engage %s refused: %s", id.c_str(), s.message().c_str());
        }
        ReturnStatus(inv, s);
      };
      // Loosening a lockdown (another mode, more let through while a
      // lockdown holds) needs the right to end a lockdown as well.
      if (!self->guard.LoosensLockdown(id, req->policy, req->block_at_boot)) {
        engage();
        return;
      }
      self->Authorized(inv, kActionReleaseLockdown, [id, engage]() {
        g_message("engage %s loosens a lockdown; allowed", id.c_str());
        engage();
      });
    });
    return TRUE;
  }

  static gboolean OnRelease(NmksDBusGuard1*, GDBusMethodInvocation* inv, const gchar* connection,
                            gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string id = connection;
    if (Status s = ValidateConnectionId(id); !s.ok()) {
      ReturnError(inv, kErrorInvalidArgs, s.message());
      return TRUE;
    }
    if (self->guard.engaged().count(id) == 0) {
      ReturnError(inv, kErrorFailed, Format(_("connection \"%s\" is not engaged"), id.c_str()));
      return TRUE;
    }
    bool lockdown = self->guard.IsLockdown(id);
    self->Authorized(inv, lockdown ? kActionReleaseLockdown : kActionRelease,
                     [self, inv, id, lockdown]() {
                       if (!lockdown && self->guard.IsLockdown(id)) {
                         ReturnError(inv, kErrorFailed,
                                     _("the connection was switched to lockdown meanwhile; "
                                       "ask again"));
                         return;
                       }
                       Status s = self->guard.Release(id);
                       if (s.ok()) {
                         g_message("released %s", id.c_str());
                         self->Changed();
                       }
                       ReturnStatus(inv, s);
                     });
    return TRUE;
  }

  static gboolean OnReleaseAll(NmksDBusGuard1*, GDBusMethodInvocation* inv, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    bool lockdown = self->guard.AnyLockdown();
    self->Authorized(inv, lockdown ? kActionReleaseLockdown : kActionRelease,
                     [self, inv, lockdown]() {
                       if (!lockdown && self->guard.AnyLockdown()) {
                         ReturnError(inv, kErrorFailed,
                                     _("a connection was switched to lockdown meanwhile; ask "
                                       "again"));
                         return;
                       }
                       Status s = self->guard.ReleaseAll();
                       if (s.ok()) {
                         g_message("released all connections");
                         self->Changed();
                       }
                       ReturnStatus(inv, s);
                     });
    return TRUE;
  }

  static gboolean OnSetBlockAtBoot(NmksDBusGuard1*, GDBusMethodInvocation* inv,
                                   const gchar* connection, gboolean enabled, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::string id = connection;
    self->Authorized(inv, kActionBoot, [self, inv, id, enabled]() {
      if (Status s = ValidateConnectionId(id); !id.empty() && !s.ok()) {  // "" means all
        ReturnError(inv, kErrorInvalidArgs, s.message());
        return;
      }
      auto set = [self, inv, id, enabled]() {
        Status s = self->guard.SetBlockAtBoot(id, enabled);
        if (s.ok()) self->Changed();
        ReturnStatus(inv, s);
      };
      // Taking a lockdown out of the boot file ends it at the next boot.
      if (!self->guard.BootLoosensLockdown(id, enabled)) {
        set();
        return;
      }
      self->Authorized(inv, kActionReleaseLockdown, set);
    });
    return TRUE;
  }

  static gboolean OnRepair(NmksDBusGuard1* object, GDBusMethodInvocation* inv, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    self->Authorized(inv, kActionConfigure, [self, object, inv]() {
      auto repaired = self->guard.Repair();
      if (!repaired.ok()) {
        g_critical("the kill-switch table could not be repaired: %s", repaired.message().c_str());
        ReturnError(inv, kErrorFailed, repaired.message());
        return;
      }
      if (!repaired.value().empty()) {
        g_warning("the kill-switch table differed from the engaged policy (%s); repaired",
                  repaired.value().c_str());
      }
      nmks_dbus_guard1_complete_repair(object, inv, repaired.value().c_str());
    });
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

  static gboolean OnStatus(NmksDBusGuard1* object, GDBusMethodInvocation* inv, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    Guard& g = self->guard;
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "version", g_variant_new_string(NMKS_VERSION));
    g_variant_builder_add(&b, "{sv}", "engaged", g_variant_new_boolean(!g.engaged().empty()));
    g_variant_builder_add(&b, "{sv}", "protection",
                          g_variant_new_string(ProtectionName(g.protection())));
    g_variant_builder_add(&b, "{sv}", "connections", EngagementsToVariant(g.engaged()));
    GVariantBuilder boot;
    g_variant_builder_init(&boot, G_VARIANT_TYPE_STRING_ARRAY);
    for (const auto& [id, p] : g.boot()) g_variant_builder_add(&boot, "s", id.c_str());
    g_variant_builder_add(&b, "{sv}", "boot-connections", g_variant_builder_end(&boot));
    GVariantBuilder warnings;
    g_variant_builder_init(&warnings, G_VARIANT_TYPE_STRING_ARRAY);
    for (const auto& w : g.warnings()) g_variant_builder_add(&warnings, "s", w.c_str());
    g_variant_builder_add(&b, "{sv}", "warnings", g_variant_builder_end(&warnings));

    Status same = Status::Ok();
    auto kernel = g.KernelTable(&same);
    bool matches = false;
    std::string problem;
    if (!kernel.ok()) {
      problem = kernel.message();
    } else if (!g.engaged().empty()) {
      const Ruleset& meant = g.meant();
      matches = same.ok();
      problem = same.message();
      g_variant_builder_add(
          &b, "{sv}", "table",
          g_variant_new_string(TableWithCounts(meant, kernel.value(), matches).c_str()));
      // A packet is stopped by whichever of the table and its twin sees it
      // first (same hooks and priorities), so the stops are their sum.
      std::map<std::string, guint64> stopped;
      auto count = [&stopped](const TableState& table) {
        for (const RuleDef& r : table.ruleset.rules) {
          if (r.stop == Stop::kNone) continue;
          for (const Insn& i : r.insns)
            if (const auto* c = std::get_if<Counter>(&i))
              stopped[StopComment(r.stop)] += c->packets;
        }
      };
      count(kernel.value());
      if (auto twin = g.ReadTwinRules(); twin.ok() && twin.value().exists) count(twin.value());
      GVariantBuilder st;
      g_variant_builder_init(&st, G_VARIANT_TYPE("a{st}"));
      for (const auto& [why, n] : stopped) g_variant_builder_add(&st, "{st}", why.c_str(), n);
      g_variant_builder_add(&b, "{sv}", "stopped", g_variant_builder_end(&st));
    } else if (kernel.value().exists) {
      problem =
          _("nothing is engaged in the guard; an engage that failed may have left the table, "
            "or another program made it");
    }
    // Whether any table of our name is in the kernel, ours or not: a table
    // left by a failed install blocks traffic even when nothing is engaged.
    g_variant_builder_add(&b, "{sv}", "table-in-kernel",
                          g_variant_new_boolean(!kernel.ok() || kernel.value().exists));
    g_variant_builder_add(&b, "{sv}", "kernel-matches", g_variant_new_boolean(matches));
    g_variant_builder_add(&b, "{sv}", "problem", g_variant_new_string(problem.c_str()));
    nmks_dbus_guard1_complete_status(object, inv, g_variant_builder_end(&b));
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

Service::Service(Guard& guard, GDBusConnection* bus) : impl_(new Impl(guard, bus)) {}

Service::~Service() {
  if (impl_->watch_source) g_source_remove(impl_->watch_source);
  if (impl_->skeleton) {
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(impl_->skeleton));
    g_object_unref(impl_->skeleton);
  }
}

Status Service::Export() {
  Impl* i = impl_.get();
  i->skeleton = nmks_dbus_guard1_skeleton_new();
  g_signal_connect(i->skeleton, "handle-engage", G_CALLBACK(Impl::OnEngage), i);
  g_signal_connect(i->skeleton, "handle-release", G_CALLBACK(Impl::OnRelease), i);
  g_signal_connect(i->skeleton, "handle-release-all", G_CALLBACK(Impl::OnReleaseAll), i);
  g_signal_connect(i->skeleton, "handle-set-block-at-boot", G_CALLBACK(Impl::OnSetBlockAtBoot), i);
  g_signal_connect(i->skeleton, "handle-verify", G_CALLBACK(Impl::OnVerify), i);
  g_signal_connect(i->skeleton, "handle-repair", G_CALLBACK(Impl::OnRepair), i);
  g_signal_connect(i->skeleton, "handle-status", G_CALLBACK(Impl::OnStatus), i);
  GError* error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(i->skeleton), i->bus,
                                        kGuardObjectPath, &error)) {
    std::string msg = error ? error->message : "";
    g_clear_error(&error);
    return Status::Error(Format(_("cannot export the guard on D-Bus: %s"), msg.c_str()));
  }
  if (i->guard.watch_fd() >= 0) {
    i->watch_source = g_unix_fd_add(i->guard.watch_fd(), G_IO_IN, Impl::OnWatch, i);
  }
  return Status::Ok();
}

}  // namespace nmks
