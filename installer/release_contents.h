// What a release holds (the archive `cnm_release` packs, or the same files unpacked as the
// packages' payload): every file it may hold, the ones each mode cannot do without, and how
// large it may be. The readers (release_archive.cpp, release_folder.cpp) refuse any other name
// before a byte of it is staged, and the install refuses a release that lacks what its mode
// needs before anything is written. installer_archive_test checks that the archive the build
// makes holds exactly these names.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/layout.h"

namespace cnm {

// A release read and verified (release_archive.h: from an archive or a folder).
struct Release {
  std::map<std::string, std::string> files;  // archive path ("bin/cnm-probe") -> content
};

// Every refusal of a release: its reading, its contents, what a mode needs of it.
class ArchiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws ArchiveError("archive refused: WHY; nothing was installed").
[[noreturn]] void refuse_release(const std::string& why);

inline constexpr const char* kManifestName = "MANIFEST.sha256";

inline constexpr std::string_view kReleaseProbe = "bin/cnm-probe";
inline constexpr std::string_view kReleaseUnit = "systemd/cnm-probe.service.in";
inline constexpr std::string_view kReleaseInit = "init.d/cnm-probe.init.in";
inline constexpr std::string_view kReleaseExample = "config/system-probe.yaml.example";
inline constexpr std::string_view kReleaseSelinux = "selinux/system_probe_policy.pp";
// Followed by the file name of each BPF object the probe carries (installer/release_objects.h,
// generated from PROBE_OBJECTS in probe/CMakeLists.txt, which also tells make_release.cmake
// what to pack and the probe what to embed).
inline constexpr std::string_view kReleaseBpfFolder = "ebpf/";

// Where a standalone install puts a release file (release_destination, install_plan.h).
enum class ReleaseDest {
  Read,         // no copy of its own: the plan renders the unit and init script and makes the
                // config from the example
  ProbeBinary,  // the layout's probe_binary
  BpfObjects,   // the layout's bpf_object_dir, under its own name
  Selinux,      // selinux/ beside bpf_object_dir, under its own name
};

struct ReleaseFile {
  std::string name;  // "bin/cnm-probe"
  // A standalone install cannot do without it: the binary is the probe, and nothing stands in
  // for it. The unit, init script and example have compiled-in stand-ins (installer/dist); the
  // probe loads the BPF objects it carries, so the installed copies are for
  // `cnmctl preflight --bpf-objects`; cnmctl-selinux installs the module it carries. Beside the
  // Agent nothing of a release is needed: the Agent's package holds system-probe and its
  // objects, and the example is used only where the Agent's own is missing.
  bool standalone_needs = false;
  ReleaseDest dest = ReleaseDest::Read;
  mode_t mode = 0644;  // of the installed copy
};

// Every file a release may hold, MANIFEST.sha256 aside.
const std::vector<ReleaseFile>& release_files();

// The release_files() entry of that name; nullptr for any other (MANIFEST.sha256 included).
const ReleaseFile* find_release_file(std::string_view name);

// name: a checked release name (checked_release_name). True for MANIFEST.sha256 and the
// release_files(); folders: the folders those are in ("bin", "ebpf", ...).
bool is_release_file(std::string_view name);
bool is_release_folder(std::string_view name);

// The files an install in `mode` needs from a release, in release_files()'s order.
std::vector<std::string> needed_release_files(ProbeMode mode);

// Throws ArchiveError naming every needed file the release lacks or holds empty, before the
// plan is made (so before anything is written).
void check_release_complete(const Release& rel, ProbeMode mode);

// The largest a release may be, from what one holds (cnmkit 0.1.0 on x86_64: 5.2 MB in 9
// files, of which the stripped probe is 4.7 MB, the largest BPF object 0.3 MB, the rest under
// 20 kB): a file up to 64 MiB (13 times the probe, and above the 42 MB of an unstripped one),
// 96 MiB in all (that file and 32 MiB for the rest). The whole content is held in memory once
// and staged on disk once, so these bound what a hostile archive can cost.
inline constexpr std::size_t kReleaseMaxFileBytes = std::size_t{64} << 20;
inline constexpr std::size_t kReleaseMaxTotalBytes = std::size_t{96} << 20;
// 10 files, their 6 folders and a top folder; anything far beyond is not a release.
inline constexpr std::size_t kReleaseMaxEntries = 64;

}  // namespace cnm
