// The Policy as a GVariant: the form it takes on D-Bus (a{sv}), in the
// guard's state file and in the boot ruleset file (a{sa{sv}}: connection ->
// policy). Decoding is strict: unknown keys, wrong types and bad values are
// errors that name the key, never silently ignored.
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/glib_ptr.h"
#include "base/status.h"
#include "rules/policy.h"

namespace nmks {

// Keys of the a{sv} policy:
//   tunnels         as
//   endpoints-ipv4  ay  packed records of 11 bytes: address (4), port (2,
//                       network order), protocol (1: 6 tcp, 17 udp), fwmark
//                       (4, network order; 0 = none)
//   endpoints-ipv6  ay  the same with a 16-byte address: records of 23 bytes
//   endpoints       a(ssqu)  address, "udp"|"tcp", port, fwmark (0 = none):
//                   the text form, written to the boot file (for people)
//                   and still read from earlier versions (their state and
//                   boot files, a VPN plugin of the previous package still
//                   running during an upgrade); both forms may be present
//   allow-lan     b
//   allow-cgnat   b
//   ipv6          s  "block"|"tunnel"
//   mode          s  "on"|"lockdown"
//   no-tunnel     b  no tunnel on purpose (Policy::no_tunnel); absent = false
//   block-at-boot b  (only meaningful to the guard's Engage)
enum class EndpointForm : uint8_t {
  kPacked,  // endpoints-ipv4/-ipv6 (D-Bus, state file): fast at any size
  kText,    // endpoints a(ssqu) (the boot file's policy line, for people)
};
// Floating, without block-at-boot.
GVariant* PolicyToVariant(const Policy& policy, EndpointForm form = EndpointForm::kPacked);

// The packed endpoint records of one family (`ipv6` or not), as above.
std::string PackEndpoints(const std::vector<Endpoint>& endpoints, bool ipv6);
// Appends the endpoints in `bytes` (records of one family) to `out`. Strict:
// a length that is not a whole number of records, an unknown protocol or
// more than `limit` endpoints in `out` is an error and appends nothing.
Status UnpackEndpoints(const uint8_t* bytes, size_t size, bool ipv6, size_t limit,
                       std::vector<Endpoint>* out);

struct EngageRequest {
  Policy policy;
  bool block_at_boot = false;
};
Result<EngageRequest> PolicyFromVariant(GVariant* dict);

using Engagements = std::map<std::string, Policy>;

// The connection id under which a table found without saved state is kept
// (the only one allowed to have no tunnel: it may be the block-all table).
inline constexpr char kAdoptedConnection[] = "adopted";
// Floating a{sa{sv}}.
GVariant* EngagementsToVariant(const Engagements& engaged,
                               EndpointForm form = EndpointForm::kPacked);
Result<Engagements> EngagementsFromVariant(GVariant* value);

// The binary form of the guard's state file: fast for large policies.
std::string EngagementsToBytes(const Engagements& engaged);
Result<Engagements> EngagementsFromBytes(const std::string& bytes);

// The text form (GVariant text format) used in the boot file.
std::string EngagementsToText(const Engagements& engaged);
Result<Engagements> EngagementsFromText(const std::string& text);

}  // namespace nmks
