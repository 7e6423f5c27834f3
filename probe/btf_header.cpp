#include "probe/btf_header.h"

#include <linux/btf.h>

#include <cstdint>
#include <cstring>

namespace cnm::probe {

BtfSections btf_sections(std::string_view blob) {
  BtfSections s;
  btf_header h{};
  if (blob.size() < sizeof h) {
    s.problem = "shorter than a BTF header";
    return s;
  }
  std::memcpy(&h, blob.data(), sizeof h);
  // Each section starts at its offset from the header's end.
  const std::uint64_t type_start = std::uint64_t{h.hdr_len} + h.type_off;
  const std::uint64_t str_start = std::uint64_t{h.hdr_len} + h.str_off;
  if (h.magic != BTF_MAGIC)
    s.problem = "not raw BTF (no 0xeB9F magic of this byte order)";
  else if (h.version != BTF_VERSION)
    s.problem = "BTF version is not 1";
  else if (h.hdr_len < sizeof h || h.hdr_len > blob.size())
    s.problem = "BTF header length out of the file";
  else if (type_start + h.type_len > blob.size())
    s.problem = "BTF type section out of the file";
  else if (str_start + h.str_len > blob.size() || h.str_len == 0)
    s.problem = "BTF string section out of the file or empty";
  if (!s.problem.empty()) return s;
  s.types = blob.substr(type_start, h.type_len);
  s.strings = blob.substr(str_start, h.str_len);
  return s;
}

}  // namespace cnm::probe
