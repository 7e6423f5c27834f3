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

nlohmann::json connection_to_json(const Connection& c);
nlohmann::json connections_reply(const std::vector<Connection>& conns, const StatMap& stats);

// The same reply as text, built one connection at a time: a tree of 65536 connections would
// cost the daemon about 100 MB for a moment, the text a few MB.
std::string connections_reply_text(const std::vector<Connection>& conns, const StatMap& stats);

}  // namespace cnm::probe
