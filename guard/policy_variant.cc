#include "guard/policy_variant.h"

#include <cstring>
#include <utility>
#include <vector>

#include "rules/i18n.h"

namespace nmks {
namespace {

struct GFreeString {
  void operator()(gchar* s) const { g_free(s); }
};

Status WrongType(const char* key, const char* expected) {
  return Status::Error(Format(_("policy key \"%s\" must have D-Bus type %s"), key, expected));
}

}  // namespace

GVariant* PolicyToVariant(const Policy& p) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  GVariantBuilder tunnels;
  g_variant_builder_init(&tunnels, G_VARIANT_TYPE_STRING_ARRAY);
  for (const auto& t : p.tunnels) g_variant_builder_add(&tunnels, "s", t.c_str());
  g_variant_builder_add(&b, "{sv}", "tunnels", g_variant_builder_end(&tunnels));
  // Built child by child: GVariantBuilder parses its format string for every
  // element, which is most of the time of a large policy.
  std::vector<GVariant*> endpoints;
  endpoints.reserve(p.endpoints.size());
  for (const auto& e : p.endpoints) {
    GVariant* fields[] = {g_variant_new_string(e.address.ToString().c_str()),
                          g_variant_new_string(ProtocolName(e.protocol)),
                          g_variant_new_uint16(e.port), g_variant_new_uint32(e.mark.value_or(0))};
    endpoints.push_back(g_variant_new_tuple(fields, 4));
  }
  g_variant_builder_add(
      &b, "{sv}", "endpoints",
      g_variant_new_array(G_VARIANT_TYPE("(ssqu)"), endpoints.data(), endpoints.size()));
  g_variant_builder_add(&b, "{sv}", "allow-lan", g_variant_new_boolean(p.allow_lan));
  g_variant_builder_add(&b, "{sv}", "allow-cgnat", g_variant_new_boolean(p.allow_cgnat));
  g_variant_builder_add(&b, "{sv}", "ipv6", g_variant_new_string(Ipv6ModeName(p.ipv6)));
  g_variant_builder_add(&b, "{sv}", "mode", g_variant_new_string(ModeName(p.mode)));
  if (p.no_tunnel) g_variant_builder_add(&b, "{sv}", "no-tunnel", g_variant_new_boolean(TRUE));
  return g_variant_builder_end(&b);
}

Result<EngageRequest> PolicyFromVariant(GVariant* dict) {
  if (dict == nullptr || !g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT)) {
    return Status::Error(_("the policy must be a dictionary of D-Bus type a{sv}"));
  }
  EngageRequest req;
  Policy& p = req.policy;
  GVariantIter iter;
  g_variant_iter_init(&iter, dict);
  const gchar* key = nullptr;
  GVariant* raw = nullptr;
  while (g_variant_iter_next(&iter, "{&sv}", &key, &raw)) {
    VariantPtr value(raw);
    if (std::strcmp(key, "tunnels") == 0) {
      if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING_ARRAY)) return WrongType(key, "as");
      size_t n = g_variant_n_children(raw);
      if (n > kMaxTunnels) {
        return Status::Error(
            Format(_("the policy names %zu tunnel interfaces; the limit is %zu"), n, kMaxTunnels));
      }
      for (size_t i = 0; i < n; ++i) {
        gsize len = 0;
        VariantPtr child(g_variant_get_child_value(raw, i));
        const gchar* s = g_variant_get_string(child.get(), &len);
        p.tunnels.emplace_back(s, len);
      }
    } else if (std::strcmp(key, "endpoints") == 0) {
      if (!g_variant_is_of_type(raw, G_VARIANT_TYPE("a(ssqu)"))) return WrongType(key, "a(ssqu)");
      size_t n = g_variant_n_children(raw);
      if (n > kMaxEndpoints) {
        return Status::Error(
            Format(_("the policy has %zu endpoints; the limit is %zu"), n, kMaxEndpoints));
      }
      p.endpoints.reserve(n);
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
        p.endpoints.push_back(e);
      }
    } else if (std::strcmp(key, "allow-lan") == 0 || std::strcmp(key, "allow-cgnat") == 0 ||
               std::strcmp(key, "block-at-boot") == 0 || std::strcmp(key, "no-tunnel") == 0) {
      if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN)) return WrongType(key, "b");
      bool v = g_variant_get_boolean(raw);
      if (key[0] == 'b') {
        req.block_at_boot = v;
      } else if (key[0] == 'n') {
        p.no_tunnel = v;
      } else if (std::strcmp(key, "allow-lan") == 0) {
        p.allow_lan = v;
      } else {
        p.allow_cgnat = v;
      }
    } else if (std::strcmp(key, "ipv6") == 0 || std::strcmp(key, "mode") == 0) {
      if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING)) return WrongType(key, "s");
      const gchar* s = g_variant_get_string(raw, nullptr);
      if (key[0] == 'i') {
        auto m = ParseIpv6Mode(s);
        if (!m.ok()) return m.status();
        p.ipv6 = m.value();
      } else {
        auto m = ParseMode(s);
        if (!m.ok()) return m.status();
        p.mode = m.value();
      }
    } else {
      std::string k(key);
      if (k.size() > 64) k = k.substr(0, 64) + "...";
      return Status::Error(Format(_("unknown policy key \"%s\""), k.c_str()));
    }
  }
  return req;
}

GVariant* EngagementsToVariant(const Engagements& engaged) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
  for (const auto& [id, policy] : engaged) {
    g_variant_builder_add(&b, "{s@a{sv}}", id.c_str(), PolicyToVariant(policy));
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
    VariantPtr dict(raw);
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
  VariantPtr v = TakeVariant(EngagementsToVariant(engaged));
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
  VariantPtr v = TakeVariant(g_variant_new_from_bytes(G_VARIANT_TYPE("a{sa{sv}}"), data, FALSE));
  g_bytes_unref(data);
  // Untrusted bytes: GVariant checks them lazily; a malformed file reads as
  // empty containers, which EngagementsFromVariant then refuses or ignores.
  if (!g_variant_is_normal_form(v.get())) {
    return Status::Error(_("the saved state is damaged"));
  }
  return EngagementsFromVariant(v.get());
}

std::string EngagementsToText(const Engagements& engaged) {
  VariantPtr v = TakeVariant(EngagementsToVariant(engaged));
  std::unique_ptr<gchar, GFreeString> text(g_variant_print(v.get(), TRUE));
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
  VariantPtr value = TakeVariant(v);
  return EngagementsFromVariant(value.get());
}

}  // namespace nmks
