// Which Linux distribution a host runs, and whether the seed's support table covers it.
// Sources, in the order os-release(5) and the distributions define them: /etc/os-release,
// /usr/lib/os-release, then the legacy /etc/{centos,redhat,system}-release,
// /etc/lsb-release and /etc/debian_version for hosts without os-release.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/host_fs.h"
#include "common/version.h"

namespace cnm {

struct Distro {
  std::string id;  // lower-case os-release ID ("ubuntu", "rhel", "amzn"); "" if unknown
  std::vector<std::string> id_like;
  std::string version_id;          // as written ("16.04", "7.6.1810", "2"); may be ""
  std::string name;                // PRETTY_NAME or NAME, for messages
  std::string source;              // the file it came from
  std::vector<std::string> notes;  // parse problems worth telling the operator
};

Distro detect_distro(const HostFs& fs);

enum class Support {
  Supported,       // listed, at or above its minimum
  Rolling,         // listed, rolling release without a version (Debian sid, Tumbleweed)
  BelowMinimum,    // listed, below its minimum: the probe is not supported
  Unlisted,        // not in the seed's table (a warning, not a verdict)
  Unknown,         // nothing identifies the distribution
  VersionUnknown,  // listed but its version cannot be read
};

struct SupportVerdict {
  Support support;
  std::string family;   // "CentOS/RHEL", "Amazon Linux 2", ... as the seed names them
  std::string minimum;  // "7.6" for CentOS/RHEL; empty when not applicable
  bool rhel7 = false;   // RHEL/CentOS 7: eBPF backported on 3.10, DNS resolution unsupported
};

SupportVerdict evaluate_distro(const Distro& d);

}  // namespace cnm
