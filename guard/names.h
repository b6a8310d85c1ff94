// The guard's names on the system bus.
#pragma once

namespace nmks {

inline constexpr char kGuardBusName[] = "io.github.nmkillswitch.Guard1";
inline constexpr char kGuardObjectPath[] = "/io/github/nmkillswitch/Guard1";
inline constexpr char kErrorFailed[] = "io.github.nmkillswitch.Error.Failed";
inline constexpr char kErrorNotAuthorized[] = "io.github.nmkillswitch.Error.NotAuthorized";
inline constexpr char kErrorInvalidArgs[] = "org.freedesktop.DBus.Error.InvalidArgs";

}  // namespace nmks
