// The two renderings of a preflight report: JSON for machines (schema in
// checks/preflight.schema.json) and a short table for people.
#include <algorithm>

#include "checks/preflight.h"
#include "common/printable.h"

namespace cnm {
namespace {

nlohmann::json str_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json libc_json(const std::optional<LibcInfo>& libc) {
  if (!libc) return nullptr;
  return {{"name", libc->name},
          {"version", libc->version ? nlohmann::json(*libc->version) : nlohmann::json(nullptr)},
          {"source", libc->source}};
}

std::string libc_text(const std::optional<LibcInfo>& libc) {
  if (!libc) return "";
  return ", " + libc->name + (libc->version ? " " + *libc->version : "");
}

int severity(Status s) {
  switch (s) {
    case Status::Fail:
      return 0;
    case Status::Warn:
      return 1;
    case Status::Pass:
      return 2;
    case Status::Skip:
      return 3;
  }
  return 3;
}

std::string probe_text(ProbeMode m) {
  return m == ProbeMode::Agent ? "the Datadog Agent's system-probe" : "cnm-probe (cnmkit)";
}

}  // namespace

nlohmann::json to_json(const PreflightReport& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"id", c.id},
                      {"status", to_string(c.status)},
                      {"message", c.message},
                      {"remedy", str_or_null(c.remedy)}});
  }
  return {
      {"schema_version", kPreflightSchemaVersion},
      {"host",
       {{"kernel_release", str_or_null(r.kernel_release)},
        {"distro_id", str_or_null(r.distro_id)},
        {"distro_version", str_or_null(r.distro_version)},
        {"arch", r.arch},
        {"libc", libc_json(r.libc)},
        {"in_container", r.in_container}}},
      {"probe",
       {{"name", to_string(r.probe.mode)}, {"why", r.probe.why}, {"notes", r.probe.notes}}},
      {"verdict", r.supported ? "supported" : "unsupported"},
      {"features",
       {{"network_monitoring", r.features.network_monitoring},
        {"dns_resolution", r.features.dns_resolution},
        {"tcp_failed_connections", r.features.tcp_failed_connections},
        {"cilium_compatible", or_null(r.features.cilium_compatible)},
        {"probe_rung", or_null(r.features.probe_rung)},
        {"open_connections_at_start", or_null(r.features.open_connections_at_start)},
        {"live_open_connection_counters", or_null(r.features.live_open_connection_counters)}}},
      {"checks", checks},
  };
}

std::string to_text(const PreflightReport& r, bool color) {
  auto paint = [color](Status s, const std::string& text) {
    if (!color) return text;
    const char* code = s == Status::Fail   ? "\033[1;31m"
                       : s == Status::Warn ? "\033[1;33m"
                       : s == Status::Pass ? "\033[32m"
                                           : "\033[2m";
    return code + text + "\033[0m";
  };
  std::vector<const CheckResult*> order;
  for (const auto& c : r.checks) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const CheckResult* a, const CheckResult* b) {
    return severity(a->status) < severity(b->status);
  });
  std::size_t width = 0;
  for (const auto* c : order) width = std::max(width, c->id.size());
  // Every field may hold bytes from host files: escaped one by one (the colours are ours).
  const auto safe = [](const std::string& s) { return printable(s, false); };
  std::string out;
  out += "host: kernel " + (r.kernel_release.empty() ? "?" : safe(r.kernel_release)) + ", " +
         (r.distro_id.empty() ? "unknown distribution"
                              : safe(r.distro_id) + " " + safe(r.distro_version)) +
         ", " + safe(r.arch) + safe(libc_text(r.libc)) +
         (r.in_container ? ", in a container" : "") + "\n";
  out += "probe: " + probe_text(r.probe.mode) + " (" + safe(r.probe.why) + ")\n";
  for (const auto& note : r.probe.notes) out += "note: " + safe(note) + "\n";
  out += "\n";
  for (const auto* c : order) {
    std::string status = to_string(c->status);
    std::transform(status.begin(), status.end(), status.begin(), ::toupper);
    out += paint(c->status, status) + "  " + c->id + std::string(width - c->id.size() + 2, ' ') +
           safe(c->message) + "\n";
    if (!c->remedy.empty())
      out += std::string(6 + width + 2, ' ') + "fix: " + safe(c->remedy) + "\n";
  }
  auto on_off = [](bool b) { return b ? "on" : "off"; };
  out += "\nfeatures: network_monitoring " + std::string(on_off(r.features.network_monitoring)) +
         ", dns_resolution " + on_off(r.features.dns_resolution) + ", tcp_failed_connections " +
         on_off(r.features.tcp_failed_connections);
  if (r.features.cilium_compatible)
    out += std::string(", cilium_compatible ") + (*r.features.cilium_compatible ? "yes" : "no");
  if (r.features.probe_rung) out += ", probe rung " + *r.features.probe_rung;
  out += "\nverdict: ";
  out += r.supported ? paint(Status::Pass, "SUPPORTED") : paint(Status::Fail, "UNSUPPORTED");
  out += "\n";
  return out;
}

}  // namespace cnm
