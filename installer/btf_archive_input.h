// `cnmctl install --btf-archive FILE`: a fleet's BTF archive (probe/btf_archive.h) read and
// checked whole before the plan, so the daemon never meets a damaged one there. It is installed
// as <bpf_object_dir>/btf/minimized-btfs.tar, beside the probe's objects (standalone only:
// the Datadog Agent's system-probe carries its own BTF).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cnm {

struct BtfArchiveInput {
  std::string bytes;
  std::vector<std::string> releases;  // the kernels it has BTF for, in its order
};

// Throws std::runtime_error naming the file and the problem: not a regular file (a FIFO is
// never waited on), larger than kMaxBtfArchiveBytes, or an archive
// check_btf_archive refuses.
BtfArchiveInput read_btf_archive_input(const std::filesystem::path& file);

// Where it goes on the host (a path inside the root).
std::string btf_archive_destination(const std::string& bpf_object_dir);

}  // namespace cnm
