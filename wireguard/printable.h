// Input text echoed in an error message: only printable ASCII, at most 64
// characters, so a message stays one readable line and valid UTF-8 (D-Bus
// and GError need that) whatever the input was. Never pass a key here.
#pragma once

#include <string>
#include <string_view>

namespace nmks::wg {

std::string Printable(std::string_view text);

}  // namespace nmks::wg
