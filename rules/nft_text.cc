#include "rules/nft_text.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <variant>

#include "base/i18n.h"

namespace nmks {
namespace {

void RenderSet(const SetDef& set, size_t max_elements, std::string& out) {
  out += "\tset " + set.name + " {\n";
  out += "\t\ttype " + set.type_text + "\n";
  if (!set.elements.empty()) {
    // The engine gives the kernel the number of elements (table_codec.cc),
    // which nft lists as the set's size.
    out += "\t\tsize " + std::to_string(set.elements.size()) + "\n";
    out += "\t\telements = { ";
    const size_t shown = std::min(max_elements, set.elements.size());
    for (size_t i = 0; i < shown; ++i) {
      if (i > 0) out += ",\n\t\t\t     ";
      out += ElementText(set, set.elements[i]);
    }
    out += " }\n";
    if (shown < set.elements.size()) {
      out += "\t\t# ";
      out += Format(_("%zu more elements not shown"), set.elements.size() - shown);
      out += "\n";
    }
  }
  out += "\t}\n";
}

std::string RuleText(const RuleDef& rule) {
  std::string text = rule.match;
  for (const Insn& insn : rule.insns) {
    if (const auto* c = std::get_if<Counter>(&insn)) {
      if (!text.empty()) text += ' ';
      text +=
          "counter packets " + std::to_string(c->packets) + " bytes " + std::to_string(c->bytes);
    }
  }
  if (!text.empty()) text += ' ';
  text += rule.verdict;
  if (rule.stop != Stop::kNone) text += std::string(" comment \"") + StopComment(rule.stop) + "\"";
  return text;
}

}  // namespace

std::string RenderNft(const Ruleset& ruleset, size_t max_elements,
                      const std::vector<RuleDef>* rules) {
  if (rules == nullptr) rules = &ruleset.rules;
  std::string out = std::string("table inet ") + kTableName + " {\n";
  bool first = true;
  for (const SetDef& set : ruleset.sets) {
    if (!first) out += "\n";
    first = false;
    RenderSet(set, max_elements, out);
  }
  for (const ChainDef& chain : ruleset.chains) {
    if (!first) out += "\n";
    first = false;
    out += "\tchain " + chain.name + " {\n";
    out += "\t\ttype filter hook " + chain.name + " priority filter; policy drop;\n";
    for (const RuleDef& rule : *rules) {
      if (rule.chain == chain.name) out += "\t\t" + RuleText(rule) + "\n";
    }
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

std::string SquashWhitespace(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace nmks
