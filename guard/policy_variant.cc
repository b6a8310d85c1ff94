#include "guard/policy_variant.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "base/vardict.h"

namespace nmks {
namespace {

Status WrongType(const char* key, const char* expected) {
  return Status::Error(Format(_("policy key \"%s\" must have D-Bus type %s"), key, expected));
}

}  // namespace

namespace {

constexpr size_t kRecord4 = 4 + 2 + 1 + 4;
constexpr size_t kRecord6 = 16 + 2 + 1 + 4;

GVariant* BytesVariant(const std::string& bytes) {
  return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes.data(), bytes.size(), 1);
}

// The endpoints in the text form a(ssqu): address, protocol, port, mark.
GVariant* EndpointsAsText(const std::vector<Endpoint>& list) {
  // Built child by child: GVariantBuilder parses its format string for every
  // element, which is most of the time of a large policy.
  std::vector<GVariant*> endpoints;
  endpoints.reserve(list.size());
  for (const auto& e : list) {
    GVariant* fields[] = {g_variant_new_string(e.address.ToString().c_str()),
                          g_variant_new_string(ProtocolName(e.protocol)),
                          g_variant_new_uint16(e.port), g_variant_new_uint32(e.mark.value_or(0))};
    endpoints.push_back(g_variant_new_tuple(fields, 4));
  }
  return g_variant_new_array(G_VARIANT_TYPE("(ssqu)"), endpoints.data(), endpoints.size());
}

Status EndpointsFromText(GVariant* raw, std::vector<Endpoint>* out) {
  size_t n = g_variant_n_children(raw);
  if (n > kMaxEndpoints - std::min(kMaxEndpoints, out->size())) {
    return Status::Error(Format(_("the policy has %zu endpoints; the limit is %zu"),
                                n + out->size(), kMaxEndpoints));
  }
  out->reserve(out->size() + n);
  GVariantIter eit;
  g_variant_iter_init(&eit, raw);
  const gchar *address = nullptr, *protocol = nullptr;
  guint16 port = 0;
  guint32 mark = 0;
  while (g_variant_iter_next(&eit, "(&s&squ)", &address, &protocol, &port, &mark)) {
    Endpoint e;
    auto a = Address::Parse(address);
    if (!a.ok()) return Status::Error(Format(_("endpoint: %s"), a.message().c_str()));
    e.address = a.value();
    if (std::strcmp(protocol, "udp") == 0) {
      e.protocol = Protocol::kUdp;
    } else if (std::strcmp(protocol, "tcp") == 0) {
      e.protocol = Protocol::kTcp;
    } else {
      return Status::Error(Format(_("endpoint %s: the protocol must be udp or tcp"), address));
    }
    e.port = port;
    if (mark != 0) e.mark = mark;
    out->push_back(e);
  }
  return Status::Ok();
}

}  // namespace

std::string PackEndpoints(const std::vector<Endpoint>& endpoints, bool ipv6) {
  const Address::Family family = ipv6 ? Address::Family::kIpv6 : Address::Family::kIpv4;
  const size_t address_size = ipv6 ? 16 : 4;
  std::string out;
  out.reserve(endpoints.size() * (ipv6 ? kRecord6 : kRecord4));
  for (const Endpoint& e : endpoints) {
    if (e.address.family != family) continue;
    out.append(reinterpret_cast<const char*>(e.address.bytes.data()), address_size);
    const uint32_t mark = e.mark.value_or(0);
    const char tail[] = {static_cast<char>(e.port >> 8), static_cast<char>(e.port & 0xff),
                         static_cast<char>(e.protocol),  static_cast<char>(mark >> 24),
                         static_cast<char>(mark >> 16),  static_cast<char>(mark >> 8),
                         static_cast<char>(mark & 0xff)};
    out.append(tail, sizeof tail);
  }
  return out;
}

Status UnpackEndpoints(const uint8_t* bytes, size_t size, bool ipv6, size_t limit,
                       std::vector<Endpoint>* out) {
  const char* key = ipv6 ? "endpoints-ipv6" : "endpoints-ipv4";
  const size_t record = ipv6 ? kRecord6 : kRecord4;
  const size_t address_size = ipv6 ? 16 : 4;
  if (size % record != 0) {
    return Status::Error(Format(_("policy key \"%s\" must hold records of %zu bytes; it has %zu "
                                  "bytes"),
                                key, record, size));
  }
  const size_t n = size / record;
  if (out->size() > limit || n > limit - out->size()) {
    return Status::Error(
        Format(_("the policy has %zu endpoints; the limit is %zu"), n + out->size(), limit));
  }
  std::vector<Endpoint> decoded(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes + i * record;
    Endpoint& e = decoded[i];
    e.address.family = ipv6 ? Address::Family::kIpv6 : Address::Family::kIpv4;
    std::memcpy(e.address.bytes.data(), r, address_size);
    r += address_size;
    e.port = static_cast<uint16_t>(r[0] << 8 | r[1]);
    if (r[2] != static_cast<uint8_t>(Protocol::kTcp) &&
        r[2] != static_cast<uint8_t>(Protocol::kUdp)) {
      return Status::Error(Format(_("policy key \"%s\": endpoint %zu has protocol %u; it must be "
                                    "6 (tcp) or 17 (udp)"),
                                  key, i + 1, static_cast<unsigned>(r[2])));
    }
    e.protocol = static_cast<Protocol>(r[2]);
    const uint32_t mark = static_cast<uint32_t>(r[3]) << 24 | static_cast<uint32_t>(r[4]) << 16 |
                          static_cast<uint32_t>(r[5]) << 8 | r[6];
    if (mark != 0) e.mark = mark;
  }
  out->insert(out->end(), decoded.begin(), decoded.end());
  return Status::Ok();
}

GVariant* PolicyToVariant(const Policy& p, EndpointForm form) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  GVariantBuilder tunnels;
  g_variant_builder_init(&tunnels, G_VARIANT_TYPE_STRING_ARRAY);
  for (const auto& t : p.tunnels) g_variant_builder_add(&tunnels, "s", t.c_str());
  g_variant_builder_add(&b, "{sv}", "tunnels", g_variant_builder_end(&tunnels));
  if (form == EndpointForm::kText) {
    g_variant_builder_add(&b, "{sv}", "endpoints", EndpointsAsText(p.endpoints));
  } else {
    g_variant_builder_add(&b, "{sv}", "endpoints-ipv4",
                          BytesVariant(PackEndpoints(p.endpoints, false)));
    g_variant_builder_add(&b, "{sv}", "endpoints-ipv6",
                          BytesVariant(PackEndpoints(p.endpoints, true)));
  }
  g_variant_builder_add(&b, "{sv}", "allow-lan", g_variant_new_boolean(p.allow_lan));
  g_variant_builder_add(&b, "{sv}", "allow-cgnat", g_variant_new_boolean(p.allow_cgnat));
  g_variant_builder_add(&b, "{sv}", "ipv6", g_variant_new_string(Ipv6ModeName(p.ipv6)));
  g_variant_builder_add(&b, "{sv}", "mode", g_variant_new_string(ModeName(p.mode)));
  if (p.no_tunnel) g_variant_builder_add(&b, "{sv}", "no-tunnel", g_variant_new_boolean(TRUE));
  return g_variant_builder_end(&b);
}

namespace {

Status TunnelsFromVariant(const char* key, GVariant* raw, std::vector<std::string>* out) {
  if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING_ARRAY)) return WrongType(key, "as");
  size_t n = g_variant_n_children(raw);
  if (n > kMaxTunnels) {
    return Status::Error(
        Format(_("the policy names %zu tunnel interfaces; the limit is %zu"), n, kMaxTunnels));
  }
  for (size_t i = 0; i < n; ++i) {
    gsize len = 0;
    GVariantPtr child(g_variant_get_child_value(raw, i));
    const gchar* s = g_variant_get_string(child.get(), &len);
    out->emplace_back(s, len);
  }
  return Status::Ok();
}

// "endpoints-ipv4" or "endpoints-ipv6": packed records (see PackEndpoints).
Status PackedEndpointsFromVariant(const char* key, GVariant* raw, std::vector<Endpoint>* out) {
  if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_BYTESTRING)) return WrongType(key, "ay");
  gsize size = 0;
  const void* bytes = g_variant_get_fixed_array(raw, &size, 1);
  return UnpackEndpoints(static_cast<const uint8_t*>(bytes), size,
                         key[std::strlen(key) - 1] == '6', kMaxEndpoints, out);
}

// "allow-lan", "allow-cgnat", "block-at-boot", "no-tunnel".
Status FlagFromVariant(const char* key, GVariant* raw, EngageRequest* req) {
  if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN)) return WrongType(key, "b");
  const bool v = g_variant_get_boolean(raw);
  if (std::strcmp(key, "block-at-boot") == 0) {
    req->block_at_boot = v;
  } else if (std::strcmp(key, "no-tunnel") == 0) {
    req->policy.no_tunnel = v;
  } else if (std::strcmp(key, "allow-lan") == 0) {
    req->policy.allow_lan = v;
  } else {
    req->policy.allow_cgnat = v;
  }
  return Status::Ok();
}

// "ipv6" or "mode".
Status ChoiceFromVariant(const char* key, GVariant* raw, Policy* p) {
  if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING)) return WrongType(key, "s");
  const gchar* s = g_variant_get_string(raw, nullptr);
  if (std::strcmp(key, "ipv6") == 0) {
    auto m = ParseIpv6Mode(s);
    if (!m.ok()) return m.status();
    p->ipv6 = m.value();
  } else {
    auto m = ParseMode(s);
    if (!m.ok()) return m.status();
    p->mode = m.value();
  }
  return Status::Ok();
}

bool IsOneOf(const char* key, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (std::strcmp(key, n) == 0) return true;
  }
  return false;
}

// One key of the policy dictionary into `req`.
Status PolicyKeyFromVariant(const char* key, GVariant* raw, EngageRequest* req) {
  Policy& p = req->policy;
  if (std::strcmp(key, "tunnels") == 0) return TunnelsFromVariant(key, raw, &p.tunnels);
  if (std::strcmp(key, "endpoints") == 0) {
    if (!g_variant_is_of_type(raw, G_VARIANT_TYPE("a(ssqu)"))) return WrongType(key, "a(ssqu)");
    return EndpointsFromText(raw, &p.endpoints);
  }
  if (IsOneOf(key, {"endpoints-ipv4", "endpoints-ipv6"})) {
    return PackedEndpointsFromVariant(key, raw, &p.endpoints);
  }
  if (IsOneOf(key, {"allow-lan", "allow-cgnat", "block-at-boot", "no-tunnel"})) {
    return FlagFromVariant(key, raw, req);
  }
  if (IsOneOf(key, {"ipv6", "mode"})) return ChoiceFromVariant(key, raw, &p);
  std::string k(key);
  if (k.size() > 64) k = k.substr(0, 64) + "...";
  return Status::Error(Format(_("unknown policy key \"%s\""), k.c_str()));
}

}  // namespace

Result<EngageRequest> PolicyFromVariant(GVariant* dict) {
  if (dict == nullptr || !g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT)) {
    return Status::Error(_("the policy must be a dictionary of D-Bus type a{sv}"));
  }
  EngageRequest req;
  for (VardictEntries entry(dict); entry.Next();) {
    if (Status s = PolicyKeyFromVariant(entry.key(), entry.value(), &req); !s.ok()) return s;
  }
  return req;
}

GVariant* EngagementsToVariant(const Engagements& engaged, EndpointForm form) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
  for (const auto& [id, policy] : engaged) {
    g_variant_builder_add(&b, "{s@a{sv}}", id.c_str(), PolicyToVariant(policy, form));
  }
  return g_variant_builder_end(&b);
}

Result<Engagements> EngagementsFromVariant(GVariant* value) {
  if (value == nullptr || !g_variant_is_of_type(value, G_VARIANT_TYPE("a{sa{sv}}"))) {
    return Status::Error(_("the engaged connections must have D-Bus type a{sa{sv}}"));
  }
  if (g_variant_n_children(value) > kMaxConnections) {
    return Status::Error(Format(_("%zu connections are engaged; the limit is %zu"),
                                g_variant_n_children(value), kMaxConnections));
  }
  Engagements out;
  GVariantIter iter;
  g_variant_iter_init(&iter, value);
  const gchar* id = nullptr;
  GVariant* raw = nullptr;
  while (g_variant_iter_next(&iter, "{&s@a{sv}}", &id, &raw)) {
    GVariantPtr dict(raw);
    if (Status s = ValidateConnectionId(id); !s.ok()) return s;
    auto req = PolicyFromVariant(dict.get());
    if (!req.ok()) {
      return Status::Error(Format(_("connection \"%s\": %s"), id, req.message().c_str()));
    }
    Policy p = std::move(req).value().policy;
    p.connections = {id};
    Normalize(p);
    const bool adopted_block_all = p.tunnels.empty() && std::strcmp(id, kAdoptedConnection) == 0;
    if (Status s = Validate(p); !s.ok() && !adopted_block_all) {
      return Status::Error(Format(_("connection \"%s\": %s"), id, s.message().c_str()));
    }
    out[id] = std::move(p);
  }
  return out;
}

namespace {
constexpr char kStateMagic[] = "nm-killswitch state 1\n";
}

std::string EngagementsToBytes(const Engagements& engaged) {
  GVariantPtr v = TakeVariant(EngagementsToVariant(engaged));
  std::string out = kStateMagic;
  out.append(static_cast<const char*>(g_variant_get_data(v.get())), g_variant_get_size(v.get()));
  return out;
}

Result<Engagements> EngagementsFromBytes(const std::string& bytes) {
  const size_t magic = sizeof kStateMagic - 1;
  if (bytes.compare(0, magic, kStateMagic) != 0) {
    return Status::Error(_("the saved state is not in a format this version reads"));
  }
  GBytes* data = g_bytes_new(bytes.data() + magic, bytes.size() - magic);
  GVariantPtr v = TakeVariant(g_variant_new_from_bytes(G_VARIANT_TYPE("a{sa{sv}}"), data, FALSE));
  g_bytes_unref(data);
  // Untrusted bytes: GVariant checks them lazily; a malformed file reads as
  // empty containers, which EngagementsFromVariant then refuses or ignores.
  if (!g_variant_is_normal_form(v.get())) {
    return Status::Error(_("the saved state is damaged"));
  }
  return EngagementsFromVariant(v.get());
}

std::string EngagementsToText(const Engagements& engaged) {
  GVariantPtr v = TakeVariant(EngagementsToVariant(engaged, EndpointForm::kText));
  GFreePtr<gchar> text(g_variant_print(v.get(), TRUE));
  return text.get();
}

Result<Engagements> EngagementsFromText(const std::string& text) {
  GError* error = nullptr;
  GVariant* v = g_variant_parse(G_VARIANT_TYPE("a{sa{sv}}"), text.c_str(),
                                text.c_str() + text.size(), nullptr, &error);
  if (v == nullptr) {
    std::string msg = error ? error->message : "";
    g_clear_error(&error);
    return Status::Error(Format(_("the saved policy cannot be read: %s"), msg.c_str()));
  }
  GVariantPtr value = TakeVariant(v);
  return EngagementsFromVariant(value.get());
}

}  // namespace nmks
