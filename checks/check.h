// A preflight check is a small unit: a stable id, and a function from the host's facts to a
// status, a one-line message and, for warn/fail, a concrete remedy. Checks never throw and
// never change the host. The catalog (catalog.cpp) lists them in the order they run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "checks/host_facts.h"

namespace cnm {

enum class Status { Pass, Warn, Fail, Skip };
const char* to_string(Status s);

struct CheckResult {
  std::string id;
  Status status = Status::Skip;
  std::string message;
  std::string remedy;  // empty for pass/skip
  // Features this finding decides, e.g. {"dns_resolution", false} on CentOS 7. A feature is
  // on when the verdict is supported and no check turned it off.
  std::map<std::string, bool> features;
};

using CheckFn = CheckResult (*)(const HostFacts&);

struct CheckDef {
  const char* id;
  CheckFn run;
};

// Result builders, so each check reads as its decision and nothing else.
CheckResult pass(std::string message);
CheckResult warn(std::string message, std::string remedy);
CheckResult fail(std::string message, std::string remedy);
CheckResult skip(std::string message);

// Every check, in run order.
const std::vector<CheckDef>& check_catalog();

// The per-topic lists the catalog is made of (one file each).
void add_kernel_checks(std::vector<CheckDef>& out);
void add_distro_checks(std::vector<CheckDef>& out);
void add_ebpf_checks(std::vector<CheckDef>& out);
void add_attach_checks(std::vector<CheckDef>& out);
void add_object_checks(std::vector<CheckDef>& out);
void add_mount_checks(std::vector<CheckDef>& out);
void add_security_checks(std::vector<CheckDef>& out);
void add_privilege_checks(std::vector<CheckDef>& out);
void add_container_checks(std::vector<CheckDef>& out);
void add_network_stack_checks(std::vector<CheckDef>& out);
void add_agent_checks(std::vector<CheckDef>& out);

}  // namespace cnm
