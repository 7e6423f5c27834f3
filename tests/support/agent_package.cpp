#include "tests/support/agent_package.h"

#include <stdexcept>

#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

constexpr const char* kPreinst = R"(#!/bin/sh
# As the real package does: the agent's user and group exist before its files land.
set -e
getent group dd-agent >/dev/null || groupadd --system dd-agent
getent passwd dd-agent >/dev/null ||
  useradd --system --gid dd-agent --home-dir /opt/datadog-agent --shell /usr/sbin/nologin dd-agent
)";

constexpr const char* kAgentUnit = R"([Unit]
Description=Datadog Agent (stand-in built by the cnmkit tests)
After=network.target
Wants=datadog-agent-sysprobe.service

[Service]
ExecStart=/opt/datadog-agent/bin/agent/agent run

[Install]
WantedBy=multi-user.target
)";

constexpr const char* kSysprobeUnit = R"([Unit]
Description=Datadog System Probe (stand-in built by the cnmkit tests)
Before=datadog-agent.service
ConditionPathExists=/etc/datadog-agent/system-probe.yaml

[Service]
ExecStart=/opt/datadog-agent/embedded/bin/system-probe run --config=/etc/datadog-agent/system-probe.yaml

[Install]
WantedBy=multi-user.target
)";

}  // namespace

std::filesystem::path build_agent_deb(const std::filesystem::path& out_dir,
                                      const AgentPackage& spec) {
  const auto tree = out_dir / ("datadog-agent-" + spec.version);
  std::filesystem::remove_all(tree);
  write_file(tree / "DEBIAN/control",
             "Package: datadog-agent\nVersion: 1:" + spec.version +
                 "-1\nArchitecture: amd64\nMaintainer: cnmkit tests <tests@cnmkit.invalid>\n"
                 "Description: stand-in for the Datadog Agent\n built by the cnmkit tests; owns "
                 "the Agent's paths as the real package does.\n");
  write_file(tree / "DEBIAN/preinst", kPreinst);
  std::filesystem::permissions(tree / "DEBIAN/preinst", std::filesystem::perms(0755));
  const auto probe = tree / "opt/datadog-agent/embedded/bin/system-probe";
  if (spec.system_probe.empty())
    write_file(probe, "#!/bin/sh\nexec sleep infinity\n");
  else {
    std::filesystem::create_directories(probe.parent_path());
    std::filesystem::copy_file(spec.system_probe, probe);
  }
  std::filesystem::permissions(probe, std::filesystem::perms(0755));
  write_file(tree / "opt/datadog-agent/bin/agent/agent", "#!/bin/sh\nexec sleep infinity\n");
  std::filesystem::permissions(tree / "opt/datadog-agent/bin/agent/agent",
                               std::filesystem::perms(0755));
  write_file(tree / "opt/datadog-agent/version-manifest.json", R"({"build_version": ")" +
                                                                   spec.version +
                                                                   R"(", "name": "datadog-agent"})"
                                                                   "\n");
  write_file(tree / "etc/datadog-agent/system-probe.yaml.example",
             read_file(source_dir() / "installer/dist/system-probe.yaml.example"));
  write_file(tree / "lib/systemd/system/datadog-agent.service", kAgentUnit);
  write_file(tree / "lib/systemd/system/datadog-agent-sysprobe.service", kSysprobeUnit);
  const auto deb = out_dir / ("datadog-agent_" + spec.version + "_amd64.deb");
  const auto r = run({"dpkg-deb", "--root-owner-group", "--build", tree.string(), deb.string()});
  if (r.exit_code != 0) throw std::runtime_error("dpkg-deb: " + r.out + r.err);
  return deb;
}

}  // namespace cnm::test
