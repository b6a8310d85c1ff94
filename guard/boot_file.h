// The boot ruleset file: what the kill switch loads before any network
// comes up. It holds the engaged policies (authoritative, one line) and the
// same table as nft text (for people, and for `nft -f` in an emergency).
#pragma once

#include <string>

#include "base/status.h"
#include "guard/policy_variant.h"

namespace nmks {

inline constexpr size_t kMaxPolicyFileBytes = 64 * 1024 * 1024;

std::string RenderBootFile(const Engagements& engaged);
// Reads the policy line; the nft text after it is not trusted.
Result<Engagements> ParseBootFile(const std::string& content);

}  // namespace nmks
