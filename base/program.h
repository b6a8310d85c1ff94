// Where a program of ours lies next to the one running: the programs of a
// build tree, and the dispatcher's two programs once installed.
#pragma once

#include <string>
#include <string_view>

namespace nmks {

// `name` in the directory of /proc/self/exe, or empty if that cannot be
// read. Does not check that the program is there.
std::string ProgramBesideThisOne(std::string_view name);

}  // namespace nmks
