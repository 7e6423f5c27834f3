#include "checks/check.h"

namespace cnm {

const char* to_string(Status s) {
  switch (s) {
    case Status::Pass:
      return "pass";
    case Status::Warn:
      return "warn";
    case Status::Fail:
      return "fail";
    case Status::Skip:
      return "skip";
  }
  return "skip";
}

CheckResult pass(std::string message) { return {{}, Status::Pass, std::move(message), {}, {}}; }
CheckResult warn(std::string message, std::string remedy) {
  return {{}, Status::Warn, std::move(message), std::move(remedy), {}};
}
CheckResult fail(std::string message, std::string remedy) {
  return {{}, Status::Fail, std::move(message), std::move(remedy), {}};
}
CheckResult skip(std::string message) { return {{}, Status::Skip, std::move(message), {}, {}}; }

const std::vector<CheckDef>& check_catalog() {
  static const std::vector<CheckDef> all = [] {
    std::vector<CheckDef> v;
    add_kernel_checks(v);
    add_distro_checks(v);
    add_ebpf_checks(v);
    add_attach_checks(v);
    add_object_checks(v);
    add_mount_checks(v);
    add_security_checks(v);
    add_privilege_checks(v);
    add_container_checks(v);
    add_network_stack_checks(v);
    add_agent_checks(v);
    return v;
  }();
  return all;
}

}  // namespace cnm
