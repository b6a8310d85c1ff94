#include "base/program.h"

#include <unistd.h>

#include <climits>

namespace nmks {

std::string ProgramBesideThisOne(std::string_view name) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1).append(name);
}

}  // namespace nmks
