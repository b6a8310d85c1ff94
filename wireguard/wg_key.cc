// WireGuard keys: standard base64 (RFC 4648, with padding) of 32 bytes,
// checked strictly so that one key has exactly one spelling.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/i18n.h"
#include "wireguard/wg_config.h"

namespace nmks::wg {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

enum class Base64Error { kNone, kEmpty, kCharacter, kLength, kNotCanonical };

// Decodes padded base64. On error `out` is unspecified.
Base64Error DecodeBase64(std::string_view text, std::vector<uint8_t>& out) {
  out.clear();
  if (text.empty()) return Base64Error::kEmpty;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  std::string_view data = text.substr(0, text.size() - padding);
  for (char c : data) {
    if (Base64Value(c) < 0) return Base64Error::kCharacter;
  }
  if (text.size() % 4 != 0 || data.size() % 4 == 1) return Base64Error::kLength;
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : data) {
    bits = (bits << 6) | static_cast<uint32_t>(Base64Value(c));
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<uint8_t>(bits >> nbits));
      bits &= (1u << nbits) - 1;
    }
  }
  // The bits left over must be zero, or two spellings would decode alike.
  if (bits != 0) return Base64Error::kNotCanonical;
  return Base64Error::kNone;
}

}  // namespace

Status ValidateKey(std::string_view base64, const char* what) {
  std::vector<uint8_t> bytes;
  switch (DecodeBase64(base64, bytes)) {
    case Base64Error::kEmpty:
      return Status::Error(Format(_("%s is empty"), what));
    case Base64Error::kCharacter:
      return Status::Error(
          Format(_("%s is not valid base64: a WireGuard key is 44 characters of A-Z, a-z, 0-9, "
                   "'+' and '/', ending in '='"),
                 what));
    case Base64Error::kLength:
      return Status::Error(Format(_("%s is %zu characters long; a WireGuard key is %zu characters "
                                    "of base64"),
                                  what, base64.size(), kKeyBase64Chars));
    case Base64Error::kNotCanonical:
      return Status::Error(Format(
          _("%s is not a WireGuard key: its last base64 character is not valid there"), what));
    case Base64Error::kNone:
      break;
  }
  if (bytes.size() != kKeyBytes) {
    return Status::Error(Format(_("%s decodes to %zu bytes; a WireGuard key is exactly %zu bytes"),
                                what, bytes.size(), kKeyBytes));
  }
  return Status::Ok();
}

Result<std::array<uint8_t, kKeyBytes>> DecodeKey(std::string_view base64) {
  if (Status s = ValidateKey(base64, _("the key")); !s.ok()) return s;
  std::vector<uint8_t> bytes;
  (void)DecodeBase64(base64, bytes);
  std::array<uint8_t, kKeyBytes> key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

}  // namespace nmks::wg
