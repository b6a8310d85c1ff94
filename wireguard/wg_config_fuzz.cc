// libFuzzer target: ParseWgQuick must never crash, hang or accept what
// ValidateConfig refuses; whatever it accepts, WriteWgQuick must write in a
// form that parses back to the same Config.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wireguard/wg_config.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wg-config-fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nmks::wg;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = ParseWgQuick(text);
  if (!config.ok()) {
    if (config.message().rfind("line ", 0) != 0) Fail("error without a line", config.message());
    return 0;
  }
  if (nmks::Status s = ValidateConfig(config.value()); !s.ok())
    Fail("accepted but invalid", s.message());
  std::string written = WriteWgQuick(config.value());
  auto again = ParseWgQuick(written);
  if (!again.ok()) {
    // Only a config near the size limit may grow past it when written.
    if (written.size() > kMaxFileBytes) return 0;
    Fail("written file does not parse", again.message() + "\n" + written);
  }
  if (!(again.value() == config.value())) Fail("round trip changed the config", written);
  if (WriteWgQuick(again.value()) != written) Fail("writer is not stable", written);
  return 0;
}
