// The Policy as a GVariant: the form it takes on D-Bus (a{sv}), in the
// guard's state file and in the boot ruleset file (a{sa{sv}}: connection ->
// policy). Decoding is strict: unknown keys, wrong types and bad values are
// errors that name the key, never silently ignored.
#pragma once

#include <glib.h>

#include <map>
#include <memory>
#include <string>

#include "rules/policy.h"
#include "rules/status.h"

namespace nmks {

// A GVariant reference that unrefs itself; holds a floating ref sunk.
struct VariantUnref {
  void operator()(GVariant* v) const { g_variant_unref(v); }
};
using VariantPtr = std::unique_ptr<GVariant, VariantUnref>;
inline VariantPtr TakeVariant(GVariant* v) {
  return VariantPtr(v ? g_variant_ref_sink(v) : nullptr);
}

// Keys of the a{sv} policy:
//   tunnels       as
//   endpoints     a(ssqu)  address, "udp"|"tcp", port, fwmark (0 = none)
//   allow-lan     b
//   allow-cgnat   b
//   ipv6          s  "block"|"tunnel"
//   mode          s  "on"|"lockdown"
//   no-tunnel     b  no tunnel on purpose (Policy::no_tunnel); absent = false
//   block-at-boot b  (only meaningful to the guard's Engage)
GVariant* PolicyToVariant(const Policy& policy);  // floating, without block-at-boot

struct EngageRequest {
  Policy policy;
  bool block_at_boot = false;
};
Result<EngageRequest> PolicyFromVariant(GVariant* dict);

using Engagements = std::map<std::string, Policy>;

// The connection id under which a table found without saved state is kept
// (the only one allowed to have no tunnel: it may be the block-all table).
inline constexpr char kAdoptedConnection[] = "adopted";
GVariant* EngagementsToVariant(const Engagements& engaged);  // floating a{sa{sv}}
Result<Engagements> EngagementsFromVariant(GVariant* value);

// The binary form of the guard's state file: fast for large policies.
std::string EngagementsToBytes(const Engagements& engaged);
Result<Engagements> EngagementsFromBytes(const std::string& bytes);

// The text form (GVariant text format) used in the boot file.
std::string EngagementsToText(const Engagements& engaged);
Result<Engagements> EngagementsFromText(const std::string& text);

}  // namespace nmks
