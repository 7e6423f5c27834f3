// ebpf.probe_objects: load the probe's own BPF objects (installed, or --bpf-objects DIR)
// without attaching, and report the verifier's answer for every program.
#include <algorithm>

#include "checks/bpf_object_verify.h"
#include "checks/bpf_probe.h"
#include "checks/check.h"

namespace cnm {
namespace {

std::vector<std::filesystem::path> object_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file(ec) && name.size() > 6 && name.ends_with(".bpf.o"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

CheckResult probe_objects(const HostFacts& f) {
  if (!f.fs.is_live()) return skip("checked on the live host only (not under --root)");
  const auto dir =
      f.options.bpf_object_dir ? *f.options.bpf_object_dir : f.layout.at(f.layout.bpf_object_dir);
  const auto files = object_files(dir);
  if (files.empty()) return skip("no probe BPF objects (*.bpf.o) in " + dir.string());
  if (!bpf_access().usable) return skip("bpf() is not usable here, see ebpf.syscall");
  int loaded = 0, refused = 0;
  std::string ok_list, bad_list;
  for (const auto& file : files) {
    for (const auto& v : verify_bpf_object(file)) {
      const std::string name = v.object + ":" + (v.program.empty() ? "?" : v.program);
      if (v.loaded) {
        ++loaded;
        ok_list += (ok_list.empty() ? "" : ", ") + name;
      } else {
        ++refused;
        bad_list += (bad_list.empty() ? "" : "; ") + name + " (" + v.error + ")";
      }
    }
  }
  if (refused == 0)
    return pass(std::to_string(loaded) + " probe program(s) pass the verifier: " + ok_list);
  const std::string msg = std::to_string(refused) + " probe program(s) refused: " + bad_list +
                          (loaded ? "; accepted: " + ok_list : "");
  const std::string remedy =
      "the probe skips refused hooks and uses its fallbacks; run cnmctl preflight -v for the "
      "verifier log, and report it with the kernel release";
  return loaded ? warn(msg, remedy) : fail(msg, remedy);
}

}  // namespace

void add_object_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.probe_objects", probe_objects});
}

}  // namespace cnm
