// A BTF archive: the minimized BTF of many kernels in one file, for a fleet whose kernels carry
// none of their own (no CONFIG_DEBUG_INFO_BTF: CentOS/RHEL 7, Amazon Linux 2's 4.14, Ubuntu
// 18.04, Debian 9 and 10). The daemon and the preflight take the file for the running kernel
// from it (btf_source.h); `cnmctl install --btf-archive` puts one in place, as Datadog's
// system-probe ships minimized-btfs.tar.xz. The format: a tar, compressed once at most (xz, gzip
// or zstd, or not), one architecture per archive, whose regular files, at any depth, are named
// <release>.btf (raw BTF for the kernel whose `uname -r` is <release>) or <release>.btf.xz (the
// same, one .xz stream and nothing after it). Folders are allowed; nothing else is. xz, a
// member's or the whole tar's, is unpacked by liblzma with at most 80 MiB of decoder memory.
// probe/btf/make_btf_archive.sh writes .btf.xz members in an uncompressed tar: a lookup then
// reads a header and passes over the packed bytes of each member before the kernel's, and
// unpacks that one only (in a tar.xz, everything before it is unpacked).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/layout.h"

namespace cnm::probe {

// Its name in the BTF folder (<bpf_object_dir>/btf), beside single <release>.btf files, whatever
// its compression (the reader recognizes it by its bytes).
inline constexpr std::string_view kBtfArchiveName = "minimized-btfs.tar";
// Why a BTF archive is cnm-probe's only: `cnmctl install` and `cnmctl preflight` refuse
// --btf-archive with --probe agent, and leave it out with this note under --probe auto
// (btf_archive_applies).
inline constexpr std::string_view kBtfArchiveNotTheAgents =
    "the Datadog Agent's system-probe carries its own BTF files (or takes "
    "system_probe_config.btf_path)";
inline constexpr std::string_view kBtfArchiveRefusedForTheAgent =
    "--btf-archive is for cnmkit's own probe (standalone): ";

// Whether --btf-archive, given with `--probe <probe_flag>`, applies to the probe chosen (mode):
// always to cnm-probe; beside the Agent never, refused (std::invalid_argument) when asked for
// with --probe agent, false when --probe auto found the Agent (the caller notes it left it out).
bool btf_archive_applies(std::string_view probe_flag, ProbeMode mode);

// The largest archive file read whole (the installer's input, the preflight's --btf-archive).
inline constexpr std::size_t kMaxBtfArchiveBytes = 256u << 20;

struct BtfArchiveLimits {
  // BTFHub's archive holds a few thousand kernels per architecture.
  std::size_t max_entries = 100000;
  // A kernel's whole BTF is 4-8 MB; a minimized one ~10 KB.
  std::size_t max_member_bytes = 64u << 20;
  // What the tar stream and the .btf.xz members read may unpack to in all (a compression bomb
  // stops here).
  std::uint64_t max_unpacked_bytes = 2ull << 30;
};

struct BtfArchiveLookup {
  std::optional<std::string> btf;    // the raw BTF for the release, when the archive holds it
  std::string problem;               // why the archive could not be read ("" when it could)
  std::uint64_t unpacked_bytes = 0;  // the tar stream read and the members read, unpacked
                                     // (tests: the limit held)
};

// The BTF for `release` from an archive file's bytes (as read: compressed), unpacked only up to
// its member. A damaged or hostile archive is no BTF, with the reason in problem: never thrown,
// so a probe falls back to the next source with why. `shown` names the file in messages.
BtfArchiveLookup btf_from_archive(std::string_view archive, std::string_view release,
                                  const std::string& shown, const BtfArchiveLimits& limits = {});

struct BtfArchiveCheck {
  std::vector<std::string> releases;  // every member's, in the archive's order
  std::optional<std::string> wanted;  // the `want` release's BTF, when asked and held
};

// The whole archive checked, for the installer (the bytes it then writes) and the preflight's
// --btf-archive: every entry a folder or a regular file named <release>.btf holding raw BTF
// (btf_header.h) or <release>.btf.xz holding it packed (each unpacked), within the limits, no
// release twice, at least one. `want`: a release whose
// BTF is also returned, from the same pass. Throws std::runtime_error naming the first problem.
BtfArchiveCheck check_btf_archive(std::string_view archive, const std::string& shown,
                                  const BtfArchiveLimits& limits = {}, std::string_view want = {});

}  // namespace cnm::probe
