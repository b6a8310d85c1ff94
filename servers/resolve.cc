#include "servers/resolve.h"

#include <gio/gio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "base/i18n.h"

namespace nmks {
namespace {

bool Unusable(const Address& a) {
  if (a.family == Address::Family::kIpv4) {
    // Wider than base/address's tests: all of 0.0.0.0/8 and 240.0.0.0/4 too.
    const uint8_t first = a.bytes[0];
    return first == 0 || first == 127 || first >= 224;
  }
  return IsUnspecified(a) || IsLoopback(a) || IsMulticast(a);  // ::, ::1, ff00::/8
}

// An IPv4-mapped address as the IPv4 address it stands for; others as they are.
Address Unmapped(const Address& a) {
  if (!IsIpv4Mapped(a)) return a;
  Address v4;
  std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
  return v4;
}

struct Lookup {
  HostAnswer answer;
  bool done = false;
};

struct Pending {
  std::map<std::string, Lookup>* lookups;
  std::string host;
  int* remaining;
};

void OnResolved(GObject* source, GAsyncResult* result, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  Lookup& l = (*p->lookups)[p->host];
  GError* error = nullptr;
  GList* list = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);
  if (list == nullptr) {
    l.answer.error = error ? error->message : _("no address");
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      l.answer.error = _("no answer in time");
    }
    g_clear_error(&error);
  }
  for (GList* i = list; i; i = i->next) {
    auto* ia = G_INET_ADDRESS(i->data);
    Address a;
    gsize size = g_inet_address_get_native_size(ia);
    if (size != 4 && size != 16) continue;
    a.family = size == 4 ? Address::Family::kIpv4 : Address::Family::kIpv6;
    std::memcpy(a.bytes.data(), g_inet_address_to_bytes(ia), size);
    l.answer.addresses.push_back(a);
  }
  g_resolver_free_addresses(list);
  l.done = true;
  --*p->remaining;
  delete p;
}

gboolean OnBudgetSpent(gpointer data) {
  g_cancellable_cancel(G_CANCELLABLE(data));
  return G_SOURCE_REMOVE;
}

// Looks up every name in `lookups` that is not done yet, all at once, in a
// main context of its own, and cancels what is left after `budget`.
void LookUp(std::map<std::string, Lookup>* lookups, std::chrono::milliseconds budget) {
  int remaining = 0;
  for (const auto& [host, l] : *lookups) remaining += l.done ? 0 : 1;
  if (remaining == 0) return;
  GMainContext* context = g_main_context_new();
  g_main_context_push_thread_default(context);
  GResolver* resolver = g_resolver_get_default();
  GCancellable* cancel = g_cancellable_new();
  GSource* timer = g_timeout_source_new(static_cast<guint>(budget.count()));
  g_source_set_callback(timer, OnBudgetSpent, cancel, nullptr);
  g_source_attach(timer, context);
  for (auto& [host, l] : *lookups) {
    if (l.done) continue;
    g_resolver_lookup_by_name_async(resolver, host.c_str(), cancel, OnResolved,
                                    new Pending{lookups, host, &remaining});
  }
  while (remaining > 0) g_main_context_iteration(context, TRUE);
  g_source_destroy(timer);
  g_source_unref(timer);
  g_object_unref(cancel);
  g_object_unref(resolver);
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
}

std::string Unresolved(const Remote& remote, const std::string& why) {
  return Format(_("%s (port %u/%s): %s"), remote.host.c_str(), remote.port,
                ProtocolName(remote.protocol), why.c_str());
}

void SortUnique(std::vector<Endpoint>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

std::vector<Endpoint> EndpointsFor(const Remote& remote, const std::vector<Address>& addresses,
                                   std::string* why) {
  std::vector<Endpoint> out;
  for (const Address& resolved : addresses) {
    const Address a = Unmapped(resolved);
    if (remote.family == Family::kIpv4 && a.family != Address::Family::kIpv4) continue;
    if (remote.family == Family::kIpv6 && a.family != Address::Family::kIpv6) continue;
    if (Unusable(a)) {
      if (why) {
        *why = Format(_("%s is loopback, unspecified or multicast: not a VPN server"),
                      a.ToString().c_str());
      }
      continue;
    }
    Endpoint e;
    e.address = a;
    e.protocol = remote.protocol;
    e.port = remote.port;
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  if (out.empty() && why && why->empty()) *why = _("no address of the family it asks for");
  return out;
}

Resolution ResolutionOf(const std::vector<Remote>& remotes,
                        const std::map<std::string, HostAnswer>& answers) {
  Resolution r;
  for (const Remote& remote : remotes) {
    Resolution::Answer answer;
    auto it = answers.find(remote.host);
    const HostAnswer none{{}, _("no answer in time")};
    const HostAnswer& host = it == answers.end() ? none : it->second;
    answer.why = host.error;
    answer.name_failed = host.addresses.empty() && !Address::Parse(remote.host).ok();
    answer.endpoints = EndpointsFor(remote, host.addresses, &answer.why);
    if (answer.endpoints.empty()) {
      r.unresolved.push_back(Unresolved(remote, answer.why));
    } else {
      answer.why.clear();
    }
    r.endpoints.insert(r.endpoints.end(), answer.endpoints.begin(), answer.endpoints.end());
    r.answers.push_back(std::move(answer));
  }
  SortUnique(&r.endpoints);
  std::sort(r.unresolved.begin(), r.unresolved.end());
  r.unresolved.erase(std::unique(r.unresolved.begin(), r.unresolved.end()), r.unresolved.end());
  return r;
}

Resolution Resolve(const std::vector<Remote>& remotes, std::chrono::milliseconds budget) {
  std::map<std::string, Lookup> lookups;
  for (const Remote& remote : remotes) {
    if (auto literal = Address::Parse(remote.host); literal.ok()) {
      lookups[remote.host] = Lookup{{{literal.value()}, ""}, true};
    } else {
      lookups.emplace(remote.host, Lookup{});
    }
  }
  LookUp(&lookups, budget);
  std::map<std::string, HostAnswer> answers;
  for (auto& [host, l] : lookups) answers[host] = std::move(l.answer);
  return ResolutionOf(remotes, answers);
}

size_t KeepHeld(const std::vector<Remote>& remotes, Resolution* resolution,
                const std::function<std::vector<Endpoint>()>& held) {
  std::optional<std::vector<Endpoint>> guard_holds;  // asked at most once
  size_t kept = 0;
  for (size_t i = 0; i < remotes.size() && i < resolution->answers.size(); ++i) {
    Resolution::Answer& answer = resolution->answers[i];
    if (!answer.name_failed) continue;
    if (!guard_holds) guard_holds = held();
    for (const Endpoint& e : *guard_holds) {
      if (e.port != remotes[i].port || e.protocol != remotes[i].protocol) continue;
      answer.endpoints.push_back(e);
      resolution->endpoints.push_back(e);
      ++kept;
    }
  }
  SortUnique(&resolution->endpoints);
  return kept;
}

}  // namespace nmks
