#include "rules/nft_text.h"

#include <cctype>
#include <string>
#include <variant>

namespace nmks {
namespace {

void RenderSet(const SetDef& set, std::string& out) {
  out += "\tset " + set.name + " {\n";
  out += "\t\ttype " + set.type_text + "\n";
  if (!set.elements.empty()) {
    // The engine gives the kernel the number of elements (table_codec.cc),
    // which nft lists as the set's size.
    out += "\t\tsize " + std::to_string(set.elements.size()) + "\n";
    out += "\t\telements = { ";
    for (size_t i = 0; i < set.elements.size(); ++i) {
      if (i > 0) out += ",\n\t\t\t     ";
      out += ElementText(set, set.elements[i]);
    }
    out += " }\n";
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

std::string RenderNft(const Ruleset& ruleset) {
  std::string out = std::string("table inet ") + kTableName + " {\n";
  bool first = true;
  for (const SetDef& set : ruleset.sets) {
    if (!first) out += "\n";
    first = false;
    RenderSet(set, out);
  }
  for (const ChainDef& chain : ruleset.chains) {
    if (!first) out += "\n";
    first = false;
    out += "\tchain " + chain.name + " {\n";
    out += "\t\ttype filter hook " + chain.name + " priority filter; policy drop;\n";
    for (const RuleDef& rule : ruleset.rules) {
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
