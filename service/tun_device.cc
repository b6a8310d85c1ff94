#include "service/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "base/i18n.h"

namespace nmks::wg {
namespace {

Result<int> OpenTun(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Status::Error(Format(_("\"%s\" is not a valid interface name"), name.c_str()));
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Status::Error(Format(_("cannot open /dev/net/tun: %s"), strerror(errno)));
  }
  ifreq ifr{};
  memcpy(ifr.ifr_name, name.c_str(), name.size());
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return Status::Error(
        Format(_("cannot create the tunnel interface %s: %s"), name.c_str(), strerror(err)));
  }
  return fd;
}

}  // namespace

Status CreatePersistentTun(const std::string& name) {
  auto fd = OpenTun(name);
  if (!fd.ok()) return fd.status();
  int rc = ioctl(fd.value(), TUNSETPERSIST, 1);
  int err = errno;
  close(fd.value());
  if (rc < 0) {
    return Status::Error(
        Format(_("cannot keep the tunnel interface %s: %s"), name.c_str(), strerror(err)));
  }
  return Status::Ok();
}

Status RemovePersistentTun(const std::string& name) {
  if (!InterfaceExists(name)) return Status::Ok();
  auto fd = OpenTun(name);
  if (!fd.ok()) return fd.status();
  int rc = ioctl(fd.value(), TUNSETPERSIST, 0);
  int err = errno;
  close(fd.value());
  if (rc < 0) {
    return Status::Error(
        Format(_("cannot remove the tunnel interface %s: %s"), name.c_str(), strerror(err)));
  }
  return Status::Ok();
}

bool InterfaceExists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

}  // namespace nmks::wg
