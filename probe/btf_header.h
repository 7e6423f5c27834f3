// The sections of raw BTF (struct btf_header, include/uapi/linux/btf.h), checked once for every
// reader of BTF bytes: the tracepoint index's string lookup (checks/tracepoints.h), the CO-RE
// cut of the kernel's BTF (core_btf.h) and a BTF archive's members (btf_archive.h). libbpf
// checks the types themselves when it loads a file.
#pragma once

#include <string>
#include <string_view>

namespace cnm::probe {

struct BtfSections {
  std::string_view types, strings;  // inside the blob; empty when problem is set
  std::string problem;              // "" when the header holds; else why not
};

// Magic 0xeB9F in this machine's byte order, version 1, a header of at least its own size and
// inside the blob, the type and string sections inside the blob, a non-empty string section.
BtfSections btf_sections(std::string_view blob);

}  // namespace cnm::probe
