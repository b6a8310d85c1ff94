// `nm-killswitch enable|disable ...` runs nm-killswitch-opt-in, the program
// that edits NetworkManager connections with libnm, so that nm-killswitch
// itself starts without libnm.
#pragma once

namespace nmks::cli {

// Replaces this process with nm-killswitch-opt-in VERB ARGS... (argv[0] is
// "nm-killswitch VERB"). Found next to this program (a build tree), else
// in the libexec directory it was built for. Returns only on failure,
// with the exit code, having said why.
int RunOptInProgram(int argc, char** argv);

}  // namespace nmks::cli
