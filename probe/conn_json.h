// The connections reply (contract: probe/connections.schema.json) and the stats object.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/conn_store.h"
#include "probe/connection.h"

namespace cnm::probe {

// Counter name -> value; every drop counter of the daemon appears here (see README).
using StatMap = std::map<std::string, std::uint64_t>;

// The reply as text, written one connection at a time with no JSON tree (a tree of 65536
// connections would cost the daemon about 100 MB for a moment, and building it most of the
// reply's CPU), and piece by piece, so the daemon never holds the whole text (~25 MB at 65536
// connections). Strings other than plain printable ASCII are escaped, invalid UTF-8 replaced.
class ConnectionsReply {
 public:
  ConnectionsReply(Taken conns, StatMap stats);
  // Appends the next piece (up to kPerPiece connections) to out; false, appending nothing, once
  // the whole reply was given (the connections are let go then).
  bool next(std::string& out);
  static constexpr std::size_t kPerPiece = 256;

 private:
  Taken conns_;
  StatMap stats_;
  std::size_t next_ = 0;
  bool started_ = false, done_ = false;
};

// The whole reply in one string (tests, small replies).
std::string connections_reply_text(std::vector<Connection> conns, const StatMap& stats);

}  // namespace cnm::probe
