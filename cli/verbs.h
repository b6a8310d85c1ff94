// The verbs of `nm-killswitch`. Each takes the arguments after the verb
// (argv[0] is the verb) and returns the process exit code: 0 success,
// 1 failure, 2 bad usage.
#pragma once

namespace nmks::cli {

int EngageCommand(int argc, char** argv);
int ReleaseCommand(int argc, char** argv);
int TeardownCommand(int argc, char** argv);
int StatusCommand(int argc, char** argv);
int VerifyCommand(int argc, char** argv);
int BootCommand(int argc, char** argv);
int EnableCommand(int argc, char** argv);
int DisableCommand(int argc, char** argv);

}  // namespace nmks::cli
