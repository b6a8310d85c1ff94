// Renders a Ruleset the way `nft list table` prints it. The same text is
// the golden file in tests, the table shown by `status`, and the body of
// the boot ruleset file, and `nft -f` loads it as it is.
#pragma once

#include <string>

#include "rules/ruleset.h"

namespace nmks {

std::string RenderNft(const Ruleset& ruleset);

// Collapses whitespace runs to one space, so texts that differ only in how
// set elements are wrapped compare equal.
std::string SquashWhitespace(const std::string& text);

}  // namespace nmks
