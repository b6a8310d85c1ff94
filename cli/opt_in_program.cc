#include "cli/opt_in_program.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/i18n.h"
#include "base/program.h"
#include "base/status.h"
#include "cli/common.h"

namespace nmks::cli {
namespace {

constexpr char kProgram[] = "nm-killswitch-opt-in";

std::string ProgramPath() {
  std::string beside = ProgramBesideThisOne(kProgram);
  if (!beside.empty() && access(beside.c_str(), X_OK) == 0) return beside;
  return std::string(NMKS_LIBEXECDIR "/") + kProgram;
}

}  // namespace

int RunOptInProgram(int argc, char** argv) {
  const std::string path = ProgramPath();
  std::string_view verb(argv[0]);
  verb.remove_prefix(verb.rfind(' ') + 1);  // "nm-killswitch enable" -> "enable"
  std::string verb_arg(verb);
  std::vector<char*> args{const_cast<char*>(path.c_str()), verb_arg.data()};
  args.insert(args.end(), argv + 1, argv + argc);
  args.push_back(nullptr);
  execv(path.c_str(), args.data());
  PrintError(Format(_("cannot run %s: %s"), path.c_str(), std::strerror(errno)));
  return 1;
}

}  // namespace nmks::cli
