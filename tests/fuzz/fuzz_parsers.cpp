// libFuzzer target for every parser that reads host-controlled text: kernel releases,
// os-release/lsb-release, legacy release lines, versions, dpkg status, BTF headers, the
// mount table (mountinfo), SELinux's semanage.conf (its store-root and program blocks) and its
// /etc/selinux/config (mode and policy type, as libselinux reads them), an Agent exclusion list's
// entries (kernel_code.h), a systemd unit's Environment= value (unit_environment.h);
// and the bound on what a report carries from them (bounded_utf8).
// Each must return (a value or a rejection) without crashing, hanging or reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "checks/distro.h"
#include "checks/host_facts.h"
#include "checks/kernel_code.h"
#include "checks/kernel_release.h"
#include "checks/os_release.h"
#include "common/mounts.h"
#include "common/printable.h"
#include "common/unit_environment.h"
#include "common/version.h"
#include "probe/btf_header.h"
#include "selinux/store_location.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (const auto k = cnm::KernelRelease::parse(text, &why)) {
    (void)k->build();
    (void)k->el_tag();
    (void)k->numeric();
  }
  const auto kv = cnm::parse_os_release(text);
  cnm::Distro d;
  d.id = kv.get("ID");
  d.version_id = kv.get("VERSION_ID");
  (void)cnm::evaluate_distro(d);
  (void)cnm::parse_release_line(text);
  if (const auto v = cnm::Version::parse(text)) (void)v->str();
  if (const auto e = cnm::parse_version_entry(std::string(text));
      e.major > 255 || e.minor > 255 || e.patch > 255)
    std::abort();  // bytes, as Go's
  (void)cnm::agent_version_from_dpkg_status(text);
  (void)cnm::probe::btf_sections(text);
  for (const bool cut : {false, true})
    (void)cnm::find_whole_mount(cnm::parse_mountinfo(text, cut), "cgroup2");
  if (const auto conf = cnm::selinux::parse_semanage_conf(text); conf.store_root)
    (void)cnm::selinux::normalize_store_root(*conf.store_root);
  const std::string mode = cnm::selinux::parse_selinux_config(text).mode;
  if (!mode.empty() && mode != "enforcing" && mode != "permissive" && mode != "disabled")
    std::abort();  // one of libselinux's three, or none
  // Only assignments systemd would make: a name of [A-Za-z_][A-Za-z0-9_]*.
  for (const auto& [name, value] : cnm::environment_assignments(text, "x@y.service"))
    if (name.empty() ||
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_") != std::string::npos ||
        (name[0] >= '0' && name[0] <= '9'))
      std::abort();
  // Never longer than its bound, whatever the bytes and the bound.
  const std::size_t bound = size ? data[0] : 0;
  if (cnm::bounded_utf8(text, bound).size() > bound) std::abort();
  return 0;
}
