#include "wireguard/printable.h"

namespace nmks::wg {

std::string Printable(std::string_view text) {
  constexpr size_t kMaxChars = 64;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMaxChars; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > kMaxChars) out += "...";
  return out;
}

}  // namespace nmks::wg
