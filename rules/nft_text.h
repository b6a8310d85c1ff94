// Renders a Ruleset the way `nft list table` prints it. The same text is
// the golden file in tests, the table shown by `status`, and the body of
// the boot ruleset file, and `nft -f` loads it as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rules/ruleset.h"

namespace nmks {

// `max_elements`: how many elements of each set to show; the rest are
// counted in a comment (then the text is for people only, not for nft -f).
// `rules`: shown instead of the ruleset's own (say, with the kernel's
// counters), so a large ruleset need not be copied to show them.
std::string RenderNft(const Ruleset& ruleset, size_t max_elements = SIZE_MAX,
                      const std::vector<RuleDef>* rules = nullptr);

// Collapses whitespace runs to one space, so texts that differ only in how
// set elements are wrapped compare equal.
std::string SquashWhitespace(const std::string& text);

}  // namespace nmks
