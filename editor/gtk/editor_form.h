// What the GNOME editor's page holds, as plain text, and how it becomes the
// connection again. The check runs each field through the same reader the
// VPN service uses (FromVpnSetting in wg_connection.h), alone beside valid
// stand-ins for the rest, so an error names the one field at fault; then
// the whole form is checked and written with ToConnection. No GTK here.
#pragma once

#include "base/libnm.h"

#include <string>
#include <vector>

#include "base/status.h"
#include "wireguard/wg_connection.h"

namespace nmks::wg {

// One text field: the vpn.data item or vpn.secrets item it edits
// ("address", "peer.0.endpoint", "private-key"), its label as the user sees
// it (translated) and what is typed in it. An empty text leaves the item
// out.
struct FormField {
  std::string key;
  std::string label;
  std::string text;
  bool secret = false;
  bool required = false;
};

struct Form {
  std::vector<FormField> fields;
  Options options;
  // From the secret-flags menus of the private key and peer 0's preshared
  // key. A private key that is not saved or is kept by the user's agent
  // may be left empty.
  NMSettingSecretFlags private_key_flags = NM_SETTING_SECRET_FLAG_NONE;
  NMSettingSecretFlags preshared_key_flags = NM_SETTING_SECRET_FLAG_NONE;
};

// Why a form was refused: the message names the field (its label and
// item); `field` is its index in Form::fields, or -1 when the fault is not
// one field's (two peers with the same public key, say).
struct FormError {
  int field = -1;
  std::string message;
};

// The fields of the page in the order it shows them, filled from `vpn`
// (which may be nullptr for a new connection): the interface, then peer 0.
std::vector<FormField> FormFields(NMSettingVpn* vpn);

// The kill-switch options of `vpn` as far as they can be read; defaults
// for a missing or unreadable item.
Options FormOptions(NMSettingVpn* vpn);

// Checks `form` and writes it into `connection`'s vpn setting (see
// ToConnection), with the secret flags from the form. Peers after the
// first are not on the page: they are copied unchanged from `kept` (the
// vpn setting the editor was opened with; may be nullptr). Returns false
// and fills `error`, changing nothing, when a field is not valid.
bool ApplyForm(const Form& form, NMSettingVpn* kept, NMConnection* connection, FormError* error);

}  // namespace nmks::wg
