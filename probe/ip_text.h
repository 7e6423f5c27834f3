// An IP address as text, for the probe's records (connections and DNS). Shared so every
// address the API shows is written the same way, and cheaply: thousands a second on a busy host.
#pragma once

#include <cstdint>
#include <string>

namespace cnm::probe {

// a: 4 bytes for family 4, 16 for family 6 (network order).
std::string ip_text(const std::uint8_t* a, int family);

}  // namespace cnm::probe
