// The fleet report for people: Markdown (left-out hosts first, then one section per group of
// distribution and kernel build) and CSV (one row per host). Both render FleetReport::to_json(),
// so the three formats cannot disagree. Every cell comes from host files, so both escape it:
// Markdown so a crafted os-release cannot add table cells, links or HTML; CSV per RFC 4180, with
// cells a spreadsheet would run as a formula (=, +, -, @) prefixed with an apostrophe. Control
// characters, escape sequences, bidirectional overrides and invalid UTF-8 are shown escaped
// (common/printable.h), as in the text output.
#include <iterator>
#include <string>

#include "checks/fleet_report.h"
#include "common/printable.h"

namespace cnm {
namespace {

using nlohmann::json;

std::string text_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : "; ") + text_of(e);
    return out;
  }
  return v.dump();
}

// Line breaks and tabs become spaces (a cell is one line); every other control character,
// escape sequence, bidirectional override and invalid UTF-8 is shown escaped (printable.h).
std::string md(const std::string& s) {
  std::string flat = s;
  for (char& c : flat)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string out;
  for (char c : printable(flat, false)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '|':
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '#':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md(const json& v) { return md(text_of(v)); }

// Line breaks stay (quoted, as RFC 4180 allows); other controls, bidirectional overrides and
// invalid UTF-8 are shown escaped, as in every text output (printable.h).
std::string csv(const std::string& s) {
  std::string cell = printable(s, true);
  if (!cell.empty() && std::string("=+-@\t\r").find(cell[0]) != std::string::npos)
    cell = "'" + cell;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string group_title(const json& g) {
  std::string distro = g["distro_id"].get<std::string>();
  if (!g["distro_version"].get<std::string>().empty())
    distro += " " + g["distro_version"].get<std::string>();
  return distro + ", kernel " + g["kernel_release"].get<std::string>() + " (" +
         g["arch"].get<std::string>() + ")";
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string left_out_section(const json& report) {
  std::string out = "## Left out of the rollout\n\n";
  if (report["left_out"].empty()) return out + "None: every host is rolled out.\n\n";
  out += "| host | state | why |\n| --- | --- | --- |\n";
  for (const auto& h : report["hosts"]) {
    if (h["rollout"].get<bool>()) continue;
    const std::string why =
        h["state"] == "failed" ? text_of(h["reason"]) : "failing: " + text_of(h["failing_checks"]);
    out += "| " + md(h["host"]) + " | " + md(h["state"]) + " | " + md(why) + " |\n";
  }
  return out + "\n";
}

// The hosts reported with an answer kept from an earlier run (a run limited to other hosts).
std::string earlier_note(const json& report) {
  json names = json::array();
  for (const auto& h : report["hosts"])
    if (h["earlier_run"].get<bool>())
      names.push_back(h["host"].get<std::string>() +
                      (h.contains("answered_at")
                           ? " (saved " + h["answered_at"].get<std::string>() + ")"
                           : std::string()));
  if (names.empty()) return "";
  return "Answers kept from an earlier run (not asked in this one): " + md(names) + ".\n\n";
}

std::string group_section(const json& g) {
  std::string out = "## " + md(group_title(g)) + ": " + md(g["verdict"]) + ", " +
                    plural(g["hosts"].size(), "host") + "\n\n";
  out += "- hosts: " + md(g["hosts"]) + "\n";
  out += "- probe: " + (g["probes"].empty() ? std::string("not reported") : md(g["probes"])) +
         ", rung: " + (g["rungs"].empty() ? std::string("not reported") : md(g["rungs"])) + "\n";
  out += "- features lost: " +
         (g["features_lost"].empty() ? std::string("none") : md(g["features_lost"])) + "\n\n";
  if (g["checks"].empty()) return out + "Every check passes.\n\n";
  out += "| status | check | finding | fix | hosts |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& c : g["checks"])
    out += "| " + md(c["status"]) + " | " + md(c["id"]) + " | " + md(c["message"]) + " | " +
           md(c["remedy"]) + " | " + md(c["hosts"]) + " |\n";
  return out + "\n";
}

}  // namespace

std::string FleetReport::to_markdown() const {
  const json r = to_json();
  const auto& s = r["summary"];
  std::string out = "# cnmkit fleet report\n\n";
  out += plural(s["hosts"].get<std::size_t>(), "host") + ": " +
         std::to_string(s["supported"].get<int>()) + " supported, " +
         std::to_string(s["unsupported"].get<int>()) + " unsupported, " +
         std::to_string(s["failed"].get<int>()) + " without a preflight (failed); " +
         std::to_string(s["rollout"].get<int>()) + " in the rollout" +
         (s["ungated"].get<int>() == 0 ? std::string()
                                       : " (" + std::to_string(s["ungated"].get<int>()) +
                                             " whatever its preflight says: its gate is off)") +
         ".\n\n";
  out += earlier_note(r);
  out += left_out_section(r);
  for (const auto& g : r["groups"]) out += group_section(g);
  return out;
}

std::string FleetReport::to_csv() const {
  const json r = to_json();
  static const char* const kColumns[] = {
      "host",  "state",  "rollout",     "distro_id",     "distro_version", "kernel_release",
      "arch",  "rung",   "probe",       "features_lost", "failing_checks", "warnings",
      "fixes", "reason", "earlier_run", "ungated",       "answered_at"};
  std::string out;
  for (const auto* c : kColumns) out += std::string(out.empty() ? "" : ",") + c;
  out += "\r\n";
  for (const auto& h : r["hosts"]) {
    for (std::size_t i = 0; i < std::size(kColumns); ++i)
      out += (i ? "," : "") + csv(text_of(h.value(kColumns[i], json())));
    out += "\r\n";
  }
  return out;
}

}  // namespace cnm
