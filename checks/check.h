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

// Where this kernel's tracing (tracepoint ids, kprobe_events) lives and how to mount it: tracefs
// came in Linux 4.1 (commit 4282d60689d4, "tracefs: Add new tracefs file system"); before it,
// as on RHEL/CentOS 7's 3.10, tracing is a folder of debugfs (/sys/kernel/debug/tracing), and
// `mount -t tracefs` fails. Unknown kernel: tracefs.
bool kernel_has_tracefs(const HostFacts& f);
std::string tracing_mount_remedy(const HostFacts& f);

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
