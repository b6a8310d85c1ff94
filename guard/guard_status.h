// What the guard's Status method answers, typed: built by the guard,
// decoded once by its clients (guard/client.h) instead of each of them
// looking keys up in the a{sv}. Bounded at any number of endpoints: each
// connection comes with a sample of its endpoints and their count; the
// whole policy of one connection is the guard's Policy method.
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "guard/policy_variant.h"

namespace nmks {

// How many endpoints of each connection Status lists (and how many
// elements of each set its table text shows).
inline constexpr size_t kStatusSample = 16;

struct GuardStatus {
  std::string version;
  bool engaged = false;
  std::string protection;  // "owner", "twin" or "watch"
  // The engaged connections, each with at most kStatusSample endpoints.
  Engagements connections;
  // How many endpoints each connection has in all.
  std::map<std::string, size_t> endpoint_counts;
  std::vector<std::string> boot_connections;
  std::vector<std::string> warnings;
  std::string table;                        // nft text with counters, sets shortened
  std::map<std::string, uint64_t> stopped;  // the rules' comments -> packets
  bool table_in_kernel = false;             // a table of our name, ours or not
  bool kernel_matches = false;
  std::string problem;

  // Sets `connections` to a sample of `engaged` and `endpoint_counts`.
  void SetConnections(const Engagements& engaged);
  size_t EndpointCount(const std::string& connection) const;
  bool BlockedAtBoot(const std::string& connection) const;
};

// Floating a{sv}; endpoints in the text form for `status --json`.
GVariant* GuardStatusToVariant(const GuardStatus& status,
                               EndpointForm form = EndpointForm::kPacked);
// Keys it does not know are skipped (a newer guard), and keys it misses
// keep their defaults (an older one); connections it cannot read are an
// error.
Result<GuardStatus> GuardStatusFromVariant(GVariant* status);

}  // namespace nmks
