#include "checks/distro.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "checks/os_release.h"

namespace cnm {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(lower(w));
  return out;
}

bool contains(const std::string& hay, const char* needle) {
  return lower(hay).find(needle) != std::string::npos;
}

// Maps a legacy "X release N" product name to an os-release ID.
std::string id_from_product(const std::string& name) {
  if (contains(name, "centos")) return "centos";
  if (contains(name, "red hat")) return "rhel";
  if (contains(name, "fedora")) return "fedora";
  if (contains(name, "amazon linux")) return "amzn";
  if (contains(name, "rocky")) return "rocky";
  if (contains(name, "alma")) return "almalinux";
  if (contains(name, "oracle")) return "ol";
  return {};
}

// Longest dotted version in the legacy release file, when it is more precise than
// os-release's (CentOS 7 writes VERSION_ID="7" but centos-release says 7.6.1810).
void refine_rhel_version(const HostFs& fs, Distro& d) {
  for (const char* f : {"/etc/centos-release", "/etc/redhat-release", "/etc/system-release"}) {
    const auto t = fs.read(f, 4096);
    if (!t) continue;
    const auto r = parse_release_line(t->text);
    if (!r.version.empty() && r.version.size() > d.version_id.size() &&
        r.version.starts_with(d.version_id)) {
      d.version_id = r.version;
      d.source += " + " + std::string(f);
    }
    return;
  }
}

// Rebuilds of RHEL, release for release the same kernel source (with its eBPF backports) and
// userland: Rocky Linux, AlmaLinux, Oracle Linux (its ID_LIKE says only "fedora"), and any
// that names rhel in ID_LIKE. Judged as RHEL; Oracle Linux's own UEK kernel is judged by the
// kernel checks, as every kernel is.
bool rhel_rebuild(const Distro& d) {
  return d.id == "rocky" || d.id == "almalinux" || d.id == "ol" ||
         std::find(d.id_like.begin(), d.id_like.end(), "rhel") != d.id_like.end();
}

}  // namespace

Distro detect_distro(const HostFs& fs) {
  Distro d;
  for (const char* f : {"/etc/os-release", "/usr/lib/os-release"}) {
    const auto r = fs.read_file(f);
    if (!r.ok()) {
      // Unreadable is not missing: say so (the remedy differs).
      if (r.status != ReadStatus::Absent)
        d.notes.push_back(std::string(f) + " " + describe_unread(r));
      continue;
    }
    const std::optional<FileText> t = FileText{r.text, r.truncated};
    const auto kv = parse_os_release(t->text);
    d.source = f;
    if (t->truncated)
      d.notes.push_back(std::string(f) + " is larger than 64 KiB: only its start was read");
    if (kv.malformed_lines > 0)
      d.notes.push_back(std::string(f) + ": ignored " + std::to_string(kv.malformed_lines) +
                        " malformed line(s)");
    d.id = lower(std::string(trim(kv.get("ID"))));
    d.id_like = words(kv.get("ID_LIKE"));
    d.version_id = std::string(trim(kv.get("VERSION_ID")));
    d.name = kv.get("PRETTY_NAME").empty() ? kv.get("NAME") : kv.get("PRETTY_NAME");
    if (d.id.empty() && d.name.empty()) {
      d.notes.push_back(std::string(f) + " has no ID or NAME");
      continue;  // an empty or junk os-release: look further
    }
    if (d.id == "centos" || d.id == "rhel") refine_rhel_version(fs, d);
    return d;
  }
  // No usable os-release: the legacy files.
  for (const char* f : {"/etc/centos-release", "/etc/redhat-release", "/etc/system-release"}) {
    const auto t = fs.read(f, 4096);
    if (!t) continue;
    const auto r = parse_release_line(t->text);
    if (r.name.empty()) continue;
    d.id = id_from_product(r.name);
    d.version_id = r.version;
    d.name = r.name + (r.version.empty() ? "" : " " + r.version);
    d.source = f;
    return d;
  }
  if (const auto t = fs.read("/etc/lsb-release")) {
    const auto kv = parse_os_release(t->text);
    if (!kv.get("DISTRIB_ID").empty()) {
      d.id = lower(kv.get("DISTRIB_ID"));
      d.version_id = kv.get("DISTRIB_RELEASE");
      d.name = kv.get("DISTRIB_DESCRIPTION");
      d.source = "/etc/lsb-release";
      return d;
    }
  }
  if (const auto t = fs.read("/etc/debian_version", 4096)) {
    d.id = "debian";
    const std::string v = first_line(t->text);
    // "9.13" on a release; "bookworm/sid" on testing/unstable, which has no number.
    if (!v.empty() && std::isdigit(static_cast<unsigned char>(v[0]))) d.version_id = v;
    d.name = "Debian " + v;
    d.source = "/etc/debian_version";
    return d;
  }
  return d;
}

SupportVerdict evaluate_distro(const Distro& d) {
  struct Rule {
    const char* id;
    const char* family;
    const char* minimum;
  };
  // The seed's table. SUSE is listed as "SUSE 15+": SLES (and SLES for SAP Applications, whose
  // os-release says ID="sles_sap" with SLES's VERSION_ID), SLED and openSUSE Leap 15.
  static const Rule rules[] = {
      {"ubuntu", "Ubuntu", "16.04"},   {"debian", "Debian", "9"},
      {"fedora", "Fedora", "26"},      {"sles", "SUSE", "15"},
      {"sles_sap", "SUSE", "15"},      {"sled", "SUSE", "15"},
      {"opensuse-leap", "SUSE", "15"}, {"centos", "CentOS/RHEL", "7.6"},
      {"rhel", "CentOS/RHEL", "7.6"},
  };
  SupportVerdict v{Support::Unknown, {}, {}, false};
  if (d.id.empty()) return v;
  const auto ver = Version::parse(d.version_id);
  const std::string id = d.id != "centos" && rhel_rebuild(d) ? "rhel" : d.id;

  if (d.id == "amzn") {
    // Amazon Linux 2 says VERSION_ID="2" ("2.0" in its 2017 release candidate, until an update
    // rewrote the file); the older Amazon Linux AMI uses YYYY.MM. Later Amazon Linux releases
    // (2022, 2023) are not in the seed's table.
    if (!ver) return {Support::VersionUnknown, "Amazon Linux", "2016.03", false};
    if (ver->at(0) == 2 && (ver->parts.size() == 1 || (ver->parts.size() == 2 && ver->at(1) == 0)))
      return {Support::Supported, "Amazon Linux 2", "", false};
    if (ver->at(0) >= 2010 && ver->at(0) <= 2018 && ver->parts.size() >= 2) {
      return {*ver >= V("2016.03") ? Support::Supported : Support::BelowMinimum, "Amazon Linux AMI",
              "2016.03", false};
    }
    return {Support::Unlisted, "Amazon Linux " + d.version_id, "", false};
  }
  if (d.id == "opensuse-tumbleweed" || d.id == "opensuse-slowroll")
    return {Support::Rolling, "SUSE", "", false};
  if (d.id == "opensuse") {
    // Before Leap 15, openSUSE Leap used ID="opensuse" and versions 42.x (based on SLE 12).
    if (ver && ver->at(0) == 42) return {Support::BelowMinimum, "SUSE", "15", false};
    if (ver && *ver >= V("15")) return {Support::Supported, "SUSE", "15", false};
  }
  for (const auto& r : rules) {
    if (id != r.id) continue;
    SupportVerdict out{Support::Supported, r.family, r.minimum,
                       (id == "centos" || id == "rhel") && ver && ver->at(0) == 7};
    if (!ver) {
      // Debian testing/unstable have no VERSION_ID by design; one that is there but not a
      // version ("-1", "x") says nothing: not a rolling release.
      out.support =
          d.id == "debian" && d.version_id.empty() ? Support::Rolling : Support::VersionUnknown;
      return out;
    }
    if (out.rhel7 && ver->parts.size() == 1) {
      // CentOS writes VERSION_ID="7" with no minor; without centos-release the minor is
      // unknown here (the kernel check can still tell 7.6+ from its build number).
      out.support = Support::VersionUnknown;
      return out;
    }
    if (*ver < V(r.minimum)) out.support = Support::BelowMinimum;
    return out;
  }
  v.support = Support::Unlisted;
  return v;
}

}  // namespace cnm
