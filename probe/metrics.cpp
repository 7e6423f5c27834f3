#include "probe/metrics.h"

#include <cctype>

namespace cnm::probe {
namespace {

bool is_gauge(const std::string& name) {
  for (const char* suffix : {"_current", "_max", "_buffered", "clients", "programs_attached"}) {
    const std::string s(suffix);
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}

std::string sanitize(const std::string& name) {
  std::string out;
  for (char ch : name) out += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  return out;
}

}  // namespace

std::string prometheus_text(const StatMap& stats) {
  std::string out;
  for (const auto& [name, value] : stats) {
    const bool gauge = is_gauge(name);
    const auto metric = "cnm_probe_" + sanitize(name) + (gauge ? "" : "_total");
    const char* type = gauge ? "gauge" : "counter";
    out += "# HELP " + metric + " cnm-probe " + name + "\n";
    out += "# TYPE " + metric + " " + type + "\n";
    out += metric + " " + std::to_string(value) + "\n";
  }
  return out;
}

}  // namespace cnm::probe
