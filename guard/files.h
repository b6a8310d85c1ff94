// Small, careful file I/O for the guard's state and the boot ruleset.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace nmks {

// Writes `content` to a temporary file next to `path`, fsyncs it, renames
// it over `path` and fsyncs the directory: readers see the old file or the
// new one, never a torn one, even across a power cut. Creates missing
// parent directories (mode 0755).
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode);

// Reads a regular file of at most `max_bytes`. A missing file is an error
// whose errno_out (if given) is ENOENT. A symbolic link, a FIFO, a device or
// a directory is refused at once, without blocking and without reading it.
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes,
                                    int* errno_out = nullptr);

// Removes `path` (no error if missing) and fsyncs its directory.
Status RemoveFile(const std::string& path);

}  // namespace nmks
