// Container id of a process from its /proc/PID/cgroup text: the 64-hex-digit id that docker,
// containerd, CRI-O and podman put in cgroup paths. Empty for processes not in a container.
#pragma once

#include <string>
#include <string_view>

namespace cnm::probe {

std::string container_id_from_cgroup(std::string_view proc_pid_cgroup);

}  // namespace cnm::probe
