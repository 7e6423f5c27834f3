// The connections reply (contract: probe/connections.schema.json) and the stats object.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/connection.h"

namespace cnm::probe {

// Counter name -> value; every drop counter of the daemon appears here (see README).
using StatMap = std::map<std::string, std::uint64_t>;

// The reply as text, written one connection at a time: no JSON tree (a tree of 65536
// connections would cost the daemon about 100 MB for a moment, and its construction most of the
// reply's CPU). Strings other than plain printable ASCII are escaped, invalid UTF-8 replaced.
std::string connections_reply_text(const std::vector<Connection>& conns, const StatMap& stats);

}  // namespace cnm::probe
