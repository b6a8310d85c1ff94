#include "guard/boot_file.h"

#include "base/i18n.h"
#include "rules/nft_text.h"
#include "rules/ruleset.h"

namespace nmks {
namespace {

constexpr char kPolicyPrefix[] = "# policy: ";

}  // namespace

std::string RenderBootFile(const Engagements& engaged) {
  std::string out =
      "# nm-killswitch boot ruleset, written by nm-killswitch-guard. Do not edit.\n"
      "# nm-killswitch-boot.service loads it before the network starts\n"
      "# (nm-killswitch-guard --load-boot FILE). The policy line is what is loaded;\n"
      "# the table below is the same policy as nft text.\n";
  out += kPolicyPrefix + EngagementsToText(engaged) + "\n";
  out += RenderNft(BuildRuleset(Merge(engaged)));
  return out;
}

Result<Engagements> ParseBootFile(const std::string& content) {
  size_t at = 0;
  while (at < content.size()) {
    size_t end = content.find('\n', at);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + at, end - at);
    if (line.substr(0, sizeof kPolicyPrefix - 1) == kPolicyPrefix) {
      auto engaged = EngagementsFromText(std::string(line.substr(sizeof kPolicyPrefix - 1)));
      if (!engaged.ok()) return engaged.status();
      if (engaged.value().empty()) {
        return Status::Error(_("the boot ruleset file engages no connection"));
      }
      return engaged;
    }
    at = end + 1;
  }
  return Status::Error(_("the boot ruleset file has no policy line"));
}

}  // namespace nmks
