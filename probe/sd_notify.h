// systemd's readiness protocol (sd_notify(3)) without libsystemd, which Debian ships only as a
// shared library: one datagram of "KEY=VALUE\n..." to the unix socket named by $NOTIFY_SOCKET
// (a path, or an abstract name when it starts with '@'). Without $NOTIFY_SOCKET (not started
// by systemd as Type=notify) it does nothing.
#pragma once

#include <string_view>

namespace cnm::probe {

// Returns false when the message could not be sent (logged by the caller if it cares);
// true when it was sent or there is nobody to tell.
bool notify_service_manager(std::string_view state);

}  // namespace cnm::probe
