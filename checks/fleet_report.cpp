#include "checks/fleet_report.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "checks/preflight_schema.h"
#include "checks/schema_validator.h"

namespace cnm {
namespace {

using nlohmann::json;

// Built on first use: `cnmctl preflight` never parses the schema nor touches valijson.
const SchemaValidator& preflight_schema() {
  static const SchemaValidator schema(json::parse(preflight_schema_text()));
  return schema;
}

// Host names end up in file names, table cells and CSV rows: printable, one line, bounded.
void check_host_name(const std::string& host, const std::string& where) {
  if (host.empty()) throw FleetInputError(where + ": empty host name");
  if (host.size() > 255) throw FleetInputError(where + ": host name longer than 255 bytes");
  for (unsigned char c : host)
    if (c < 0x20 || c == 0x7f)
      throw FleetInputError(where + ": host name holds a control character");
}

json read_report(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw FleetInputError(name + ": not a regular file" + (ec ? " (" + ec.message() + ")" : ""));
  if (std::filesystem::file_size(file, ec) > kMaxPreflightReportBytes)
    throw FleetInputError(name + ": larger than " + std::to_string(kMaxPreflightReportBytes >> 20) +
                          " MiB, not a preflight report");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw FleetInputError(name + ": cannot read");
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw FleetInputError(name + ": not JSON: " + e.what());
  }
}

// A file's modification time in UTC, as RFC 3339 ("2026-11-20T10:00:00Z"); empty when unknown.
std::string modified_at(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return "";
  std::tm t{};
  if (!::gmtime_r(&st.st_mtim.tv_sec, &t)) return "";
  char buf[32];
  return std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t) ? buf : "";
}

std::string str_or(const json& v, const std::string& fallback) {
  return v.is_string() ? v.get<std::string>() : fallback;
}

// The probe's rung, as the preflight's features say it (ebpf.rung); null when it could not tell.
json rung_of(const json& preflight) {
  const auto& f = preflight["features"];
  const auto r = f.find("probe_rung");
  return r != f.end() && r->is_string() ? *r : json(nullptr);
}

// The probe the preflight judged ("agent" or "cnmkit"); null from a preflight too old to say.
json probe_of(const json& preflight) {
  const auto p = preflight.find("probe");
  return p != preflight.end() ? (*p)["name"] : json(nullptr);
}

std::vector<std::string> features_lost(const json& preflight) {
  std::vector<std::string> lost;
  for (const auto& [name, on] : preflight["features"].items())
    if (on.is_boolean() && !on.get<bool>()) lost.push_back(name);
  return lost;
}

json host_row(const FleetHost& h) {
  json row = {{"host", h.host},
              {"state", h.state},
              {"rollout", h.rollout()},
              {"earlier_run", h.earlier_run},
              {"ungated", h.ungated}};
  if (!h.answered_at.empty()) row["answered_at"] = h.answered_at;
  if (h.state == "failed") {
    row["reason"] = h.reason;
    return row;
  }
  const auto& p = h.preflight;
  row["distro_id"] = p["host"]["distro_id"];
  row["distro_version"] = p["host"]["distro_version"];
  row["kernel_release"] = p["host"]["kernel_release"];
  row["arch"] = p["host"]["arch"];
  row["in_container"] = p["host"]["in_container"];
  row["rung"] = rung_of(p);
  row["probe"] = probe_of(p);
  row["features_lost"] = features_lost(p);
  row["failing_checks"] = json::array();
  row["warnings"] = json::array();
  row["fixes"] = json::array();
  for (const auto& c : p["checks"]) {
    const std::string status = c["status"];
    if (status == "fail") row["failing_checks"].push_back(c["id"]);
    if (status == "warn") row["warnings"].push_back(c["id"]);
    if (status == "fail") row["fixes"].push_back(c["remedy"]);
  }
  return row;
}

using GroupKey = std::tuple<std::string, std::string, std::string, std::string>;

GroupKey group_key(const json& preflight) {
  const auto& h = preflight["host"];
  return {str_or(h["distro_id"], "unknown"), str_or(h["distro_version"], ""),
          str_or(h["kernel_release"], "unknown"), h["arch"].get<std::string>()};
}

// One group: hosts of one distribution and kernel build. A check that fails or warns on several
// of them is listed once, with the hosts it concerns.
json group_json(const GroupKey& key, const std::vector<const FleetHost*>& members) {
  std::set<std::string> rungs, probes, lost;
  std::size_t supported = 0;
  // (status order, id, message, remedy) -> hosts; fail before warn.
  std::map<std::tuple<int, std::string, std::string, std::string>, json> checks;
  json hosts = json::array();
  for (const auto* h : members) {
    hosts.push_back(h->host);
    supported += h->state == "supported";
    if (const auto r = rung_of(h->preflight); r.is_string()) rungs.insert(r.get<std::string>());
    if (const auto p = probe_of(h->preflight); p.is_string()) probes.insert(p.get<std::string>());
    for (const auto& f : features_lost(h->preflight)) lost.insert(f);
    for (const auto& c : h->preflight["checks"]) {
      const std::string status = c["status"];
      if (status != "fail" && status != "warn") continue;
      auto& entry =
          checks[{status == "fail" ? 0 : 1, c["id"], c["message"], str_or(c["remedy"], "")}];
      if (entry.is_null()) entry = json::array();
      entry.push_back(h->host);
    }
  }
  json list = json::array();
  for (const auto& [k, on] : checks)
    list.push_back({{"status", std::get<0>(k) == 0 ? "fail" : "warn"},
                    {"id", std::get<1>(k)},
                    {"message", std::get<2>(k)},
                    {"remedy", std::get<3>(k)},
                    {"hosts", on}});
  const std::string verdict = supported == members.size() ? "supported"
                              : supported == 0            ? "unsupported"
                                                          : "mixed";
  return {{"distro_id", std::get<0>(key)},
          {"distro_version", std::get<1>(key)},
          {"kernel_release", std::get<2>(key)},
          {"arch", std::get<3>(key)},
          {"verdict", verdict},
          {"hosts", hosts},
          {"rungs", rungs},
          {"probes", probes},
          {"features_lost", lost},
          {"checks", list}};
}

// The preflight says "supported" exactly when no check failed (checks/preflight.cpp), and then
// network monitoring is on. A report that says otherwise was edited or mixed up from two runs:
// which half is true cannot be told, so it is refused rather than rolled out (or left out) on
// the word of its verdict.
void check_verdict_agrees(const json& doc, const std::string& where) {
  const auto& checks = doc["checks"];
  const auto failed = std::find_if(checks.begin(), checks.end(),
                                   [](const json& c) { return c["status"] == "fail"; });
  const bool supported = doc["verdict"] == "supported";
  if (supported && failed != checks.end())
    throw FleetInputError(where + ": verdict \"supported\" but check " +
                          (*failed)["id"].get<std::string>() + " failed");
  if (!supported && failed == checks.end())
    throw FleetInputError(where + ": verdict \"unsupported\" but no check failed");
  if (doc["features"]["network_monitoring"] != supported)
    throw FleetInputError(where + ": verdict \"" + doc["verdict"].get<std::string>() +
                          "\" but network_monitoring is " + (supported ? "off" : "on"));
}

// A preflight runs each check once. A report naming one twice was pasted together from two
// runs or edited: which status is the host's cannot be told (the group table would show both),
// so it is refused, as a contradicting verdict is.
void check_ids_unique(const json& doc, const std::string& where) {
  std::set<std::string> ids;
  for (const auto& c : doc["checks"])
    if (!ids.insert(c["id"].get<std::string>()).second)
      throw FleetInputError(where + ": check " + c["id"].get<std::string>() + " given twice");
}

int attention(const json& group) {
  const std::string v = group["verdict"];
  return v == "unsupported" ? 0 : v == "mixed" ? 1 : 2;
}

}  // namespace

FleetReport FleetReport::from_documents(const Documents& reports,
                                        const std::vector<HostFailure>& failed, bool strict,
                                        const Documents& earlier,
                                        const std::vector<std::string>& ungated) {
  FleetReport r;
  std::set<std::string> seen;
  auto add_name = [&seen](const std::string& host, const std::string& where) {
    check_host_name(host, where);
    if (!seen.insert(host).second) throw FleetInputError(where + ": host " + host + " given twice");
  };
  auto add_report = [&](const std::string& where, const json& doc, bool earlier_run) {
    const auto host = std::filesystem::path(where).stem().string();
    add_name(host, where);
    if (const auto error = preflight_schema().first_error(doc))
      throw FleetInputError(where +
                            ": not a preflight report (checks/preflight.schema.json): " + *error);
    check_ids_unique(doc, where);
    check_verdict_agrees(doc, where);
    std::string state = doc["verdict"];
    if (strict && std::any_of(doc["checks"].begin(), doc["checks"].end(),
                              [](const json& c) { return c["status"] == "warn"; }))
      state = "unsupported";
    r.hosts_.push_back(
        {.host = host, .state = state, .preflight = doc, .earlier_run = earlier_run});
  };
  for (const auto& [where, doc] : reports) add_report(where, doc, false);
  for (const auto& [where, doc] : earlier) add_report(where, doc, true);
  for (const auto& f : failed) {
    add_name(f.host, "--failed " + f.host);
    r.hosts_.push_back({.host = f.host,
                        .state = "failed",
                        .reason = f.reason.empty() ? "no reason given" : f.reason,
                        .preflight = nullptr});
  }
  for (const auto& host : ungated) {
    const auto h = std::find_if(r.hosts_.begin(), r.hosts_.end(),
                                [&](const FleetHost& x) { return x.host == host; });
    if (h == r.hosts_.end())
      throw FleetInputError("--ungated " + host + ": not a host of the report");
    h->ungated = true;
  }
  std::sort(r.hosts_.begin(), r.hosts_.end(),
            [](const FleetHost& a, const FleetHost& b) { return a.host < b.host; });
  return r;
}

FleetReport FleetReport::from_files(const std::vector<std::filesystem::path>& files,
                                    const std::vector<HostFailure>& failed, bool strict,
                                    const std::vector<std::filesystem::path>& earlier,
                                    const std::vector<std::string>& ungated) {
  const auto read_all = [](const std::vector<std::filesystem::path>& paths) {
    Documents docs;
    for (const auto& f : paths) docs.emplace_back(f.string(), read_report(f));
    return docs;
  };
  FleetReport r = from_documents(read_all(files), failed, strict, read_all(earlier), ungated);
  std::map<std::string, std::string> saved_at;  // host (the file's stem) -> its file's time
  for (const auto& f : earlier) saved_at[f.stem().string()] = modified_at(f);
  for (auto& h : r.hosts_)
    if (h.earlier_run) h.answered_at = saved_at[h.host];
  return r;
}

json FleetReport::to_json() const {
  std::map<GroupKey, std::vector<const FleetHost*>> by_key;
  json rows = json::array(), left_out = json::array();
  std::map<std::string, std::size_t> count = {{"supported", 0}, {"unsupported", 0}, {"failed", 0}};
  std::size_t earlier = 0, rolled_out = 0, ungated = 0;
  for (const auto& h : hosts_) {
    rows.push_back(host_row(h));
    ++count[h.state];
    earlier += h.earlier_run;
    rolled_out += h.rollout();
    ungated += h.ungated;
    if (h.state != "failed") by_key[group_key(h.preflight)].push_back(&h);
    if (!h.rollout()) left_out.push_back(h.host);
  }
  json groups = json::array();
  for (const auto& [key, members] : by_key) groups.push_back(group_json(key, members));
  std::stable_sort(groups.begin(), groups.end(),
                   [](const json& a, const json& b) { return attention(a) < attention(b); });
  return {{"report", "cnmkit-fleet"},
          {"schema_version", 2},
          {"summary",
           {{"hosts", hosts_.size()},
            {"supported", count["supported"]},
            {"unsupported", count["unsupported"]},
            {"failed", count["failed"]},
            {"earlier_run", earlier},
            {"rollout", rolled_out},
            {"ungated", ungated}}},
          {"left_out", left_out},
          {"groups", groups},
          {"hosts", rows}};
}

}  // namespace cnm
