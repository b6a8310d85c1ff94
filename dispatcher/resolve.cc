#include "dispatcher/resolve.h"

#include <gio/gio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>

#include "base/i18n.h"

namespace nmks::dispatch {
namespace {

bool Unusable(const Address& a) {
  const auto& b = a.bytes;
  if (a.family == Address::Family::kIpv4) {
    return b[0] == 0 || b[0] == 127 || b[0] >= 224;  // unspecified, loopback, multicast/broadcast
  }
  bool zero = std::all_of(b.begin(), b.end() - 1, [](uint8_t x) { return x == 0; });
  return (zero && (b[15] == 0 || b[15] == 1)) || b[0] == 0xff;  // ::, ::1, multicast
}

struct Lookup {
  std::vector<Address> addresses;
  std::string error;
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
    l.error = error ? error->message : _("no address");
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      l.error = _("no answer in time");
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
    l.addresses.push_back(a);
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

}  // namespace

std::vector<Endpoint> EndpointsFor(const Remote& remote, const std::vector<Address>& addresses,
                                   std::string* why) {
  std::vector<Endpoint> out;
  for (Address a : addresses) {
    if (a.family == Address::Family::kIpv6 && a.bytes[10] == 0xff && a.bytes[11] == 0xff &&
        std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](uint8_t x) { return x == 0; })) {
      Address v4;  // IPv4-mapped: the IPv4 address it stands for
      std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
      a = v4;
    }
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
    out.push_back(e);
  }
  if (out.empty() && why && why->empty()) *why = _("no address of the family it asks for");
  return out;
}

Resolution Resolve(const std::vector<Remote>& remotes, std::chrono::milliseconds budget) {
  Resolution r;
  std::map<std::string, Lookup> lookups;
  for (const Remote& remote : remotes) {
    if (auto literal = Address::Parse(remote.host); literal.ok()) {
      lookups[remote.host] = Lookup{{literal.value()}, "", true};
    } else {
      lookups.emplace(remote.host, Lookup{});
    }
  }
  int remaining = 0;
  for (const auto& [host, l] : lookups) remaining += l.done ? 0 : 1;
  if (remaining > 0) {
    GMainContext* context = g_main_context_new();
    g_main_context_push_thread_default(context);
    GResolver* resolver = g_resolver_get_default();
    GCancellable* cancel = g_cancellable_new();
    GSource* timer = g_timeout_source_new(static_cast<guint>(budget.count()));
    g_source_set_callback(timer, OnBudgetSpent, cancel, nullptr);
    g_source_attach(timer, context);
    for (auto& [host, l] : lookups) {
      if (l.done) continue;
      g_resolver_lookup_by_name_async(resolver, host.c_str(), cancel, OnResolved,
                                      new Pending{&lookups, host, &remaining});
    }
    while (remaining > 0) g_main_context_iteration(context, TRUE);
    g_source_destroy(timer);
    g_source_unref(timer);
    g_object_unref(cancel);
    g_object_unref(resolver);
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
  }
  for (const Remote& remote : remotes) {
    const Lookup& l = lookups[remote.host];
    std::string why = l.error;
    auto endpoints = EndpointsFor(remote, l.addresses, &why);
    if (endpoints.empty()) {
      r.unresolved.push_back(Format(_("%s (port %u/%s): %s"), remote.host.c_str(), remote.port,
                                    ProtocolName(remote.protocol), why.c_str()));
    }
    r.endpoints.insert(r.endpoints.end(), endpoints.begin(), endpoints.end());
  }
  std::sort(r.endpoints.begin(), r.endpoints.end());
  r.endpoints.erase(std::unique(r.endpoints.begin(), r.endpoints.end()), r.endpoints.end());
  std::sort(r.unresolved.begin(), r.unresolved.end());
  r.unresolved.erase(std::unique(r.unresolved.begin(), r.unresolved.end()), r.unresolved.end());
  return r;
}

}  // namespace nmks::dispatch
