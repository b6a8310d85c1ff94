// ParseWgQuick: reads a wg-quick file line by line, as wg-quick(8) and
// wg(8) do, but refuses what they would silently accept or run.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "wireguard/printable.h"
#include "wireguard/wg_config.h"

namespace nmks::wg {
namespace {

enum class Section { kNone, kInterface, kPeer };

class Parser;
struct KeyInfo;
// What a key's value does to the configuration; the line is already known
// to be in the key's section, not a repeat, not empty, and ASCII.
using KeyHandler = Status (Parser::*)(const KeyInfo&, std::string_view);

struct KeyInfo {
  const char* name;  // as wg-quick(8) spells it; matched case-insensitively
  KeyHandler handle;
  Section section;  // where it belongs; kNone: refused everywhere (by `handle`)
  bool repeatable;  // a list that may span several lines
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
           };
           return lower(x) == lower(y);
         });
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// A word safe to repeat in a message: short, letters, digits, '-' and '_'
// only. Anything else might be a key pasted into the wrong place.
bool IsShowableWord(std::string_view word) {
  return !word.empty() && word.size() <= 32 && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not valid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

// A line must be text: UTF-8 without control characters other than tab.
Status CheckText(std::string_view line) {
  for (size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == 0) {
      return Status::Error(_("the line contains a NUL byte: this is not a text file"));
    }
    if (c == '\r') {
      return Status::Error(_("the line contains a carriage return that does not end it"));
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return Status::Error(
          Format(_("the line contains the control character 0x%02x: this is not a text file"),
                 static_cast<unsigned>(c)));
    }
    size_t n = Utf8SequenceLength(line, i);
    if (n == 0) {
      return Status::Error(_("the line is not valid UTF-8: save the file as UTF-8 text"));
    }
    i += n;
  }
  return Status::Ok();
}

class Parser {
 public:
  Result<Config> Run(std::string_view text);

 private:
  Status Line(std::string_view line);
  Status Header(std::string_view name);
  Status KeyValue(const KeyInfo& info, std::string_view value);
  Status AddDns(std::string_view item);

 public:  // the handlers the key table names
  Status RefuseCommand(const KeyInfo& info, std::string_view value);
  Status RefuseTable(const KeyInfo& info, std::string_view value);
  Status RefuseFwMark(const KeyInfo& info, std::string_view value);
  Status PrivateKey(const KeyInfo& info, std::string_view value);
  Status PublicKey(const KeyInfo& info, std::string_view value);
  Status PresharedKey(const KeyInfo& info, std::string_view value);
  Status Address(const KeyInfo& info, std::string_view value);
  Status Dns(const KeyInfo& info, std::string_view value);
  Status AllowedIps(const KeyInfo& info, std::string_view value);
  Status Mtu(const KeyInfo& info, std::string_view value);
  Status ListenPort(const KeyInfo& info, std::string_view value);
  Status SaveConfig(const KeyInfo& info, std::string_view value);
  Status Endpoint(const KeyInfo& info, std::string_view value);
  Status PersistentKeepalive(const KeyInfo& info, std::string_view value);

 private:
  // The items of a list value (Address, DNS, AllowedIPs), split on commas
  // and, with `on_blanks`, on blanks too, as wg-quick does for Address and DNS.
  Result<std::vector<std::string_view>> Items(const KeyInfo& info, std::string_view value,
                                              bool on_blanks);
  Status WithKey(const KeyInfo& info, const std::string& message) const {
    return Here(Format(_("%s: %s"), info.name, message.c_str()));
  }
  Status EndPeer();
  Status AtLine(size_t line, const std::string& message) const {
    return Status::Error(Format(_("line %zu: %s"), line, message.c_str()));
  }
  Status Here(const std::string& message) const { return AtLine(line_, message); }

  Config config_;
  Section section_ = Section::kNone;
  size_t line_ = 0;
  size_t interface_line_ = 0;
  size_t peer_line_ = 0;
  // Where each single-valued key was first seen in the current section.
  std::map<const KeyInfo*, size_t> seen_;
  // Public key -> the line that gave it, to refuse the same peer twice.
  std::map<std::string, size_t> public_keys_;
};

constexpr KeyInfo kKeys[] = {
    {"PrivateKey", &Parser::PrivateKey, Section::kInterface, false},
    {"Address", &Parser::Address, Section::kInterface, true},
    {"DNS", &Parser::Dns, Section::kInterface, true},
    {"MTU", &Parser::Mtu, Section::kInterface, false},
    {"ListenPort", &Parser::ListenPort, Section::kInterface, false},
    {"SaveConfig", &Parser::SaveConfig, Section::kInterface, false},
    {"PublicKey", &Parser::PublicKey, Section::kPeer, false},
    {"PresharedKey", &Parser::PresharedKey, Section::kPeer, false},
    {"AllowedIPs", &Parser::AllowedIps, Section::kPeer, true},
    {"Endpoint", &Parser::Endpoint, Section::kPeer, false},
    {"PersistentKeepalive", &Parser::PersistentKeepalive, Section::kPeer, false},
    {"PreUp", &Parser::RefuseCommand, Section::kNone, false},
    {"PostUp", &Parser::RefuseCommand, Section::kNone, false},
    {"PreDown", &Parser::RefuseCommand, Section::kNone, false},
    {"PostDown", &Parser::RefuseCommand, Section::kNone, false},
    {"Table", &Parser::RefuseTable, Section::kNone, false},
    {"FwMark", &Parser::RefuseFwMark, Section::kNone, false},
};

const KeyInfo* FindKey(std::string_view name) {
  for (const KeyInfo& k : kKeys) {
    if (EqualsIgnoreCase(name, k.name)) return &k;
  }
  return nullptr;
}

Result<Config> Parser::Run(std::string_view text) {
  if (text.size() > kMaxFileBytes) {
    size_t line =
        1 + static_cast<size_t>(std::count(text.begin(), text.begin() + kMaxFileBytes, '\n'));
    return AtLine(line, Format(_("the file is larger than %zu bytes, far more than a wg-quick "
                                 "file needs"),
                               kMaxFileBytes));
  }
  if (text.size() >= 2 &&
      ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff'))) {
    return AtLine(1, _("the file is UTF-16 text: save it as UTF-8"));
  }
  if (text.substr(0, 3) == "\xef\xbb\xbf") text.remove_prefix(3);

  size_t start = 0;
  size_t last_line = 1;
  while (start < text.size()) {
    ++line_;
    last_line = line_;
    size_t end = text.find('\n', start);
    std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Status s = Line(line); !s.ok()) return s;
  }
  line_ = last_line;
  if (section_ == Section::kPeer) {
    if (Status s = EndPeer(); !s.ok()) return s;
  }
  if (interface_line_ == 0) {
    return Here(_("the file ends without an [Interface] section: this is not a wg-quick file"));
  }
  if (config_.private_key.empty()) {
    return AtLine(interface_line_, _("the [Interface] section has no PrivateKey"));
  }
  if (config_.peers.empty()) {
    return Here(_("the file ends without a [Peer] section: a tunnel needs at least one peer"));
  }
  return std::move(config_);
}

Status Parser::Line(std::string_view raw) {
  if (Status s = CheckText(raw); !s.ok()) return Here(s.message());
  std::string_view line = Trim(raw.substr(0, raw.find('#')));
  if (line.empty()) return Status::Ok();
  if (line.front() == '[') {
    if (line.back() != ']') {
      return Here(_("a section header must be [Interface] or [Peer] alone on its line"));
    }
    return Header(line.substr(1, line.size() - 2));
  }
  size_t equals = line.find('=');
  if (equals == std::string_view::npos) {
    return Here(_("expected KEY = VALUE or a [Section] header"));
  }
  std::string_view name = Trim(line.substr(0, equals));
  std::string_view value = Trim(line.substr(equals + 1));
  if (name.empty()) return Here(_("the line starts with '=': expected KEY = VALUE"));
  const KeyInfo* info = FindKey(name);
  if (!info) {
    if (IsShowableWord(name)) {
      return Here(Format(_("unknown key %s: this program reads only what wg-quick(8) documents"),
                         std::string(name).c_str()));
    }
    return Here(_("the text before '=' is not a key wg-quick(8) knows"));
  }
  return KeyValue(*info, value);
}

Status Parser::Header(std::string_view name) {
  if (EqualsIgnoreCase(name, "Interface")) {
    if (section_ == Section::kPeer) {
      if (Status s = EndPeer(); !s.ok()) return s;
    }
    if (interface_line_ != 0) {
      return Here(
          Format(_("a second [Interface] section (the first is on line %zu)"), interface_line_));
    }
    interface_line_ = line_;
    section_ = Section::kInterface;
    seen_.clear();
    return Status::Ok();
  }
  if (EqualsIgnoreCase(name, "Peer")) {
    if (section_ == Section::kPeer) {
      if (Status s = EndPeer(); !s.ok()) return s;
    }
    if (config_.peers.size() >= kMaxPeers) {
      return Here(Format(_("more than %zu [Peer] sections"), kMaxPeers));
    }
    config_.peers.emplace_back();
    peer_line_ = line_;
    section_ = Section::kPeer;
    seen_.clear();
    return Status::Ok();
  }
  if (IsShowableWord(name)) {
    return Here(Format(_("unknown section [%s]: a wg-quick file has only [Interface] and [Peer]"),
                       std::string(name).c_str()));
  }
  return Here(_("unknown section: a wg-quick file has only [Interface] and [Peer]"));
}

Status Parser::EndPeer() {
  if (config_.peers.back().public_key.empty()) {
    return AtLine(peer_line_, _("this [Peer] section has no PublicKey"));
  }
  return Status::Ok();
}

Status Parser::KeyValue(const KeyInfo& info, std::string_view value) {
  if (info.section == Section::kNone) return (this->*info.handle)(info, value);
  if (section_ == Section::kNone) {
    return Here(Format(_("%s comes before any [Interface] or [Peer] section"), info.name));
  }
  if (info.section != section_) {
    return Here(Format(info.section == Section::kPeer
                           ? _("%s belongs in a [Peer] section, not in [Interface]")
                           : _("%s belongs in the [Interface] section, not in [Peer]"),
                       info.name));
  }
  if (!info.repeatable) {
    if (auto [it, fresh] = seen_.emplace(&info, line_); !fresh) {
      return Here(Format(_("%s is given twice in this section (first on line %zu)"), info.name,
                         it->second));
    }
  }
  if (value.empty()) return Here(Format(_("%s has no value"), info.name));
  if (std::any_of(value.begin(), value.end(), [](char c) { return c & 0x80; })) {
    return Here(Format(_("%s: the value contains a character that is not ASCII (a non-breaking "
                         "space copied from a web page or document?); type it again"),
                       info.name));
  }
  return (this->*info.handle)(info, value);
}

Status Parser::RefuseCommand(const KeyInfo& info, std::string_view) {
  return Here(Format(_("%s runs a shell command, and nm-killswitch never runs commands from a "
                       "configuration file: remove the line"),
                     info.name));
}

Status Parser::RefuseTable(const KeyInfo&, std::string_view) {
  return Here(
      _("Table is not supported: NetworkManager sets up the routes from AllowedIPs; "
        "remove the line"));
}

Status Parser::RefuseFwMark(const KeyInfo&, std::string_view) {
  return Here(
      _("FwMark is not supported: the kill switch puts its own mark on the tunnel's "
        "packets; remove the line"));
}

Status Parser::PrivateKey(const KeyInfo& info, std::string_view value) {
  if (Status s = ValidateKey(value, info.name); !s.ok()) return Here(s.message());
  config_.private_key = std::string(value);
  return Status::Ok();
}

Status Parser::PublicKey(const KeyInfo& info, std::string_view value) {
  if (Status s = ValidateKey(value, info.name); !s.ok()) return Here(s.message());
  auto [it, fresh] = public_keys_.emplace(value, line_);
  if (!fresh) {
    return Here(Format(_("this PublicKey is the same as the one on line %zu: a peer can be "
                         "listed only once"),
                       it->second));
  }
  config_.peers.back().public_key = std::string(value);
  return Status::Ok();
}

Status Parser::PresharedKey(const KeyInfo& info, std::string_view value) {
  if (Status s = ValidateKey(value, info.name); !s.ok()) return Here(s.message());
  config_.peers.back().preshared_key = std::string(value);
  return Status::Ok();
}

Result<std::vector<std::string_view>> Parser::Items(const KeyInfo& info, std::string_view value,
                                                    bool on_blanks) {
  auto items = SplitList(value);
  if (!items.ok()) return WithKey(info, items.message());
  if (!on_blanks) return std::move(items).value();
  std::vector<std::string_view> words;
  for (std::string_view item : items.value()) {
    for (size_t i = 0; i < item.size();) {
      size_t j = i;
      while (j < item.size() && !IsBlank(item[j])) ++j;
      words.push_back(item.substr(i, j - i));
      while (j < item.size() && IsBlank(item[j])) ++j;
      i = j;
    }
  }
  return words;
}

Status Parser::Address(const KeyInfo& info, std::string_view value) {
  auto words = Items(info, value, true);
  if (!words.ok()) return words.status();
  for (std::string_view word : words.value()) {
    auto cidr = Cidr::Parse(word);
    if (!cidr.ok()) return WithKey(info, cidr.message());
    if (std::all_of(cidr.value().address.bytes.begin(), cidr.value().address.bytes.end(),
                    [](uint8_t b) { return b == 0; })) {
      return WithKey(info, Format(_("%s cannot be the tunnel's address"), Printable(word).c_str()));
    }
    config_.addresses.push_back(cidr.value());
  }
  return Status::Ok();
}

Status Parser::Dns(const KeyInfo& info, std::string_view value) {
  auto words = Items(info, value, true);
  if (!words.ok()) return words.status();
  for (std::string_view word : words.value()) {
    if (Status s = AddDns(word); !s.ok()) return WithKey(info, s.message());
  }
  return Status::Ok();
}

Status Parser::AllowedIps(const KeyInfo& info, std::string_view value) {
  auto items = Items(info, value, false);
  if (!items.ok()) return items.status();
  for (std::string_view item : items.value()) {
    auto cidr = Cidr::Parse(item);
    if (!cidr.ok()) return WithKey(info, cidr.message());
    config_.peers.back().allowed_ips.push_back(cidr.value());
  }
  return Status::Ok();
}

Status Parser::Mtu(const KeyInfo&, std::string_view value) {
  auto mtu = ParseMtu(value);
  if (!mtu.ok()) return Here(mtu.message());
  config_.mtu = mtu.value();
  return Status::Ok();
}

Status Parser::ListenPort(const KeyInfo& info, std::string_view value) {
  auto port = ParsePort(value);
  if (!port.ok()) {
    return WithKey(info, Format(_("\"%s\" is not a port from 1 to 65535 (leave ListenPort out "
                                  "for a random port)"),
                                Printable(value).c_str()));
  }
  config_.listen_port = port.value();
  return Status::Ok();
}

Status Parser::SaveConfig(const KeyInfo&, std::string_view value) {
  if (EqualsIgnoreCase(value, "false")) return Status::Ok();
  if (EqualsIgnoreCase(value, "true")) {
    return Here(
        _("SaveConfig = true is not supported: NetworkManager keeps this connection "
          "and nothing writes the file back; remove the line"));
  }
  return Here(_("SaveConfig must be true or false"));
}

Status Parser::Endpoint(const KeyInfo& info, std::string_view value) {
  auto endpoint = HostPort::Parse(value);
  if (!endpoint.ok()) return WithKey(info, endpoint.message());
  config_.peers.back().endpoint = endpoint.value();
  return Status::Ok();
}

Status Parser::PersistentKeepalive(const KeyInfo& info, std::string_view value) {
  auto seconds = ParseKeepalive(value);
  if (!seconds.ok()) return WithKey(info, seconds.message());
  config_.peers.back().persistent_keepalive = seconds.value();
  return Status::Ok();
}

// wg-quick's rule: digits and dots, or anything with a colon, is a server
// address; everything else is a search domain.
Status Parser::AddDns(std::string_view item) {
  bool is_address = item.find(':') != std::string_view::npos ||
                    std::all_of(item.begin(), item.end(),
                                [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!is_address) {
    if (Status s = ValidateSearchDomain(item); !s.ok()) return s;
    config_.dns_search.emplace_back(item);
    return Status::Ok();
  }
  auto address = Address::Parse(item);
  if (!address.ok()) {
    return Status::Error(
        Format(_("\"%s\" is not an IPv4 or IPv6 address"), Printable(item).c_str()));
  }
  if (std::all_of(address.value().bytes.begin(), address.value().bytes.end(),
                  [](uint8_t b) { return b == 0; })) {
    return Status::Error(Format(_("%s cannot be a DNS server"), Printable(item).c_str()));
  }
  config_.dns.push_back(address.value());
  return Status::Ok();
}

}  // namespace

Result<Config> ParseWgQuick(std::string_view text) {
  Parser parser;
  return parser.Run(text);
}

}  // namespace nmks::wg
