// The guard's names on the system bus, and its front's.
#pragma once

namespace nmks {

inline constexpr char kGuardBusName[] = "io.github.nmkillswitch.Guard1";
inline constexpr char kGuardObjectPath[] = "/io/github/nmkillswitch/Guard1";
inline constexpr char kGuardInterface[] = "io.github.nmkillswitch.Guard1";
inline constexpr char kRelayInterface[] = "io.github.nmkillswitch.Relay1";
// nm-killswitch-front: the same Guard1 interface at the same path, for
// callers that are not root (only root may call the guard itself).
inline constexpr char kFrontBusName[] = "io.github.nmkillswitch.Front1";
inline constexpr char kErrorFailed[] = "io.github.nmkillswitch.Error.Failed";
inline constexpr char kErrorNotAuthorized[] = "io.github.nmkillswitch.Error.NotAuthorized";
inline constexpr char kErrorInvalidArgs[] = "org.freedesktop.DBus.Error.InvalidArgs";

}  // namespace nmks
