#include "tests/support/agent_package.h"

#include <stdexcept>

#include "common/agent.h"
#include "common/version.h"
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

// The real Agent creates its IPC token on first start; the stand-in at install, so it is there
// before anything could be tempted to create it.
constexpr const char* kPostinst = R"(#!/bin/sh
set -e
if [ ! -e /etc/datadog-agent/auth_token ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/datadog-agent/auth_token
  chown dd-agent:dd-agent /etc/datadog-agent/auth_token
  chmod 0600 /etc/datadog-agent/auth_token
fi
mkdir -p /opt/datadog-agent/run
)";

// The Agent itself: a process that runs. Its starts are counted (one line each) by the service
// manager's start step, which is over when `systemctl restart` or the init script returns: a
// line written by the started process itself could come after a test has counted (seen on a
// fresh CI machine: the restart was done, its line not yet written).
constexpr const char* kAgent = R"(#!/bin/sh
exec sleep infinity
)";
constexpr const char* kCountStart = "echo start >>/opt/datadog-agent/run/agent-starts";

// The Agent's system-probe: cnm-probe with the Agent's paths (its socket, its token), so it
// answers on /opt/datadog-agent/run/sysprobe.sock as the real one does.
constexpr const char* kSystemProbe = R"(#!/bin/sh
exec /opt/datadog-agent/embedded/bin/system-probe.bin \
  --layout /opt/datadog-agent/embedded/share/system-probe/standin-layout.yaml "$@"
)";

constexpr const char* kStandinLayout = R"(# The Datadog Agent's paths, for the stand-in's cnm-probe.
config_dir: /etc/datadog-agent
config_file: /etc/datadog-agent/system-probe.yaml
auth_token_file: /etc/datadog-agent/auth_token
run_dir: /opt/datadog-agent/run
probe_socket: /opt/datadog-agent/run/sysprobe.sock
group: dd-agent
)";

// Since 6.18 / 7.18 the Agent's unit starts system-probe itself (Wants=); before, it did not.
std::string agent_unit(bool starts_probe) {
  return std::string(
             "[Unit]\nDescription=Datadog Agent (stand-in built by the cnmkit tests)\n"
             "After=network.target\n") +
         (starts_probe ? "Wants=datadog-agent-sysprobe.service\n" : "") +
         "\n[Service]\nExecStartPre=/bin/sh -c '" + kCountStart +
         "'\nExecStart=/opt/datadog-agent/bin/agent/agent run\n\n"
         "[Install]\nWantedBy=multi-user.target\n";
}

constexpr const char* kSysprobeUnit = R"([Unit]
Description=Datadog System Probe (stand-in built by the cnmkit tests)
Before=datadog-agent.service
ConditionPathExists=/etc/datadog-agent/system-probe.yaml

[Service]
Type=notify
ExecStart=/opt/datadog-agent/embedded/bin/system-probe --config=/etc/datadog-agent/system-probe.yaml

[Install]
WantedBy=multi-user.target
)";

// count_start: a command run by `start` when the daemon is not running yet (before it starts).
std::string init_script(const std::string& name, const std::string& daemon, const std::string& args,
                        const std::string& count_start = "") {
  return "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: " + name +
         "\n# Required-Start: $remote_fs\n# Required-Stop: $remote_fs\n"
         "# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n# Short-Description: " +
         name +
         " (stand-in built by the cnmkit tests)\n### END INIT INFO\n"
         "PIDFILE=/var/run/" +
         name +
         ".pid\n"
         "case \"$1\" in\n"
         "  start)\n" +
         (count_start.empty()
              ? std::string()
              : "    start-stop-daemon --status --pidfile $PIDFILE || " + count_start + "\n") +
         "    start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "
         "$PIDFILE --exec " +
         daemon + " -- " + args +
         " ;;\n"
         "  stop) start-stop-daemon --stop --oknodo --remove-pidfile --pidfile $PIDFILE ;;\n"
         "  restart) $0 stop; $0 start ;;\n"
         "  status) start-stop-daemon --status --pidfile $PIDFILE ;;\n"
         "  *) exit 3 ;;\n"
         "esac\n";
}

void write_executable(const std::filesystem::path& p, const std::string& content) {
  write_file(p, content);
  std::filesystem::permissions(p, std::filesystem::perms(0755));
}

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
  write_executable(tree / "DEBIAN/preinst", kPreinst);
  write_executable(tree / "DEBIAN/postinst", kPostinst);
  const auto bin = tree / "opt/datadog-agent/embedded/bin";
  if (spec.system_probe.empty()) {
    write_executable(bin / "system-probe", "#!/bin/sh\nexec sleep infinity\n");
  } else {
    write_executable(bin / "system-probe", kSystemProbe);
    std::filesystem::copy_file(spec.system_probe, bin / "system-probe.bin");
    std::filesystem::permissions(bin / "system-probe.bin", std::filesystem::perms(0755));
    write_file(tree / "opt/datadog-agent/embedded/share/system-probe/standin-layout.yaml",
               kStandinLayout);
  }
  write_executable(tree / "opt/datadog-agent/bin/agent/agent", kAgent);
  write_file(tree / "opt/datadog-agent/version-manifest.json", R"({"build_version": ")" +
                                                                   spec.version +
                                                                   R"(", "name": "datadog-agent"})"
                                                                   "\n");
  write_file(tree / "etc/datadog-agent/system-probe.yaml.example",
             read_file(source_dir() / "installer/dist/system-probe.yaml.example"));
  const bool starts_probe = Version::parse(spec.version) &&
                            !agent_gates(*Version::parse(spec.version)).probe_needs_explicit_start;
  write_file(tree / "lib/systemd/system/datadog-agent.service", agent_unit(starts_probe));
  write_file(tree / "lib/systemd/system/datadog-agent-sysprobe.service", kSysprobeUnit);
  write_executable(
      tree / "etc/init.d/datadog-agent",
      init_script("datadog-agent", "/opt/datadog-agent/bin/agent/agent", "run", kCountStart));
  write_executable(
      tree / "etc/init.d/datadog-agent-sysprobe",
      init_script("datadog-agent-sysprobe", "/opt/datadog-agent/embedded/bin/system-probe",
                  "--config=/etc/datadog-agent/system-probe.yaml"));
  const auto deb = out_dir / ("datadog-agent_" + spec.version + "_amd64.deb");
  const auto r = run({"dpkg-deb", "--root-owner-group", "--build", tree.string(), deb.string()});
  if (r.exit_code != 0) throw std::runtime_error("dpkg-deb: " + r.out + r.err);
  return deb;
}

}  // namespace cnm::test
