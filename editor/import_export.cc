#include "editor/import_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/i18n.h"
#include "editor/remote_secrets.h"
#include "rules/policy.h"
#include "wireguard/wg_config.h"
#include "wireguard/wg_connection.h"

namespace nmks::wg {
namespace {

// The file name as a user would recognise it, always valid UTF-8.
std::string DisplayName(const char* path) {
  GFreePtr<char> name(g_filename_display_basename(path));
  return name.get();
}

Status FileError(const char* path, const std::string& message) {
  return Status::Error(Format(_("%s: %s"), DisplayName(path).c_str(), message.c_str()));
}

// Reads at most kMaxFileBytes + 1 bytes, so the parser can tell a file that
// is too large without this reading all of it.
Result<std::string> ReadBounded(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return FileError(path, g_strerror(errno));
  std::string text;
  char buffer[65536];
  while (text.size() <= kMaxFileBytes) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return FileError(path, g_strerror(saved));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

std::string ConnectionIdFor(const char* path) {
  std::string id = DisplayName(path);
  constexpr std::string_view kSuffix = ".conf";
  if (id.size() > kSuffix.size() && id.ends_with(kSuffix)) id.resize(id.size() - kSuffix.size());
  if (id.size() > kMaxConnectionIdBytes) {
    // Cut at a character boundary so the id stays valid UTF-8.
    const char* end = g_utf8_find_prev_char(id.c_str(), id.c_str() + kMaxConnectionIdBytes + 1);
    id.resize(static_cast<size_t>(end - id.c_str()));
  }
  for (char& c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  return id;
}

}  // namespace

Result<GObjectPtr<NMConnection>> ImportFile(const char* path) {
  auto text = ReadBounded(path);
  if (!text.ok()) return text.status();
  auto config = ParseWgQuick(text.value());
  if (!config.ok()) return FileError(path, config.message());

  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  GFreePtr<char> uuid(nm_utils_uuid_generate());
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, ConnectionIdFor(path).c_str(),
               NM_SETTING_CONNECTION_UUID, uuid.get(), NM_SETTING_CONNECTION_TYPE,
               NM_SETTING_VPN_SETTING_NAME, nullptr);
  nm_connection_add_setting(connection.get(), s_con);
  if (Status s = ToConnection(config.value(), Options{}, connection.get()); !s.ok()) {
    return FileError(path, s.message());
  }
  return connection;
}

Status ExportFile(const char* path, NMConnection* connection) {
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  const char* service = vpn ? nm_setting_vpn_get_service_type(vpn) : nullptr;
  if (!service || std::strcmp(service, kServiceType) != 0) {
    return Status::Error(
        Format(_("the connection is not a %s VPN connection; nothing was written"), kServiceType));
  }
  GObjectPtr<NMConnection> copy(nm_simple_connection_new_clone(connection));
  vpn = nm_connection_get_setting_vpn(copy.get());
  if (NM_IS_REMOTE_CONNECTION(connection) && !nm_setting_vpn_get_secret(vpn, kSecretPrivateKey)) {
    if (Status s = FetchVpnSecrets(NM_REMOTE_CONNECTION(connection), copy.get()); !s.ok()) {
      return Status::Error(Format(_("%s; nothing was written"), s.message().c_str()));
    }
    vpn = nm_connection_get_setting_vpn(copy.get());
  }
  if (!nm_setting_vpn_get_secret(vpn, kSecretPrivateKey)) {
    return Status::Error(
        _("the connection's private key is not available (NetworkManager does not store it, "
          "or it was not handed over), and a wg-quick file without it is useless; nothing was "
          "written"));
  }
  auto settings = FromVpnSetting(vpn);
  if (!settings.ok()) {
    return Status::Error(Format(_("%s; nothing was written"), settings.message().c_str()));
  }
  std::string text = WriteWgQuick(settings.value().config);
  GError* error = nullptr;
  if (!g_file_set_contents_full(path, text.data(), static_cast<gssize>(text.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
    GErrorPtr owned(error);
    return Status::Error(owned->message);
  }
  return Status::Ok();
}

std::string SuggestedFilename(NMConnection* connection) {
  const char* id = nm_connection_get_id(connection);
  if (!id || !*id) return {};
  std::string name = id;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name + ".conf";
}

}  // namespace nmks::wg
