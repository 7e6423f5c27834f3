#!/bin/sh
# Runs inside the booted container as a oneshot unit: install the cnmkit package (cnmctl, the
# probe, its BPF object, the release archive), run the installer with the real systemd, record what happened in /results, then power off.
exec >/results/log.txt 2>&1
set -x
unit=datadog-agent-sysprobe.service
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
# The Datadog Agent would create its group; there is no agent in this container.
groupadd --system dd-agent
ls -l /opt/datadog-agent/embedded/bin/ >/results/package-files.txt
# A config the probe refuses: the start fails, the health check never passes, and the run
# must roll back to the host as it was (no unit, no config, service not enabled).
cnmctl install --set network_config.max_tracked_connections=lots --health-timeout 5 --json \
  >/results/bad.json; echo $? >/results/bad.rc
ls /etc/systemd/system/$unit /etc/datadog-agent/system-probe.yaml >/results/after-bad.txt 2>&1
systemctl is-enabled $unit >/results/after-bad-enabled.txt 2>&1
# The package carries the probe; cnmctl adds the unit, the config and starts it.
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
systemctl is-enabled $unit >/results/enabled.txt
systemctl is-active $unit >/results/active.txt
cnmctl install --json >/results/install2.json; echo $? >/results/install2.rc
cnmctl status --json >/results/status.json; echo $? >/results/status.rc
journalctl -u $unit --no-pager >/results/probe-journal.txt
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
systemctl is-active $unit >/results/after-uninstall-active.txt
ls /etc/systemd/system/$unit >/results/after-uninstall-unit.txt 2>&1
# With an agent (7.18+ starts the system-probe itself). The Datadog Agent is not packaged in
# Debian, so a stand-in unit plays its part the way the real one does: it Wants= the probe.
cat >/etc/systemd/system/datadog-agent.service <<'UNIT'
[Unit]
Description=stand-in for the Datadog Agent (the real one is not in Debian)
Wants=datadog-agent-sysprobe.service
[Service]
ExecStart=/bin/sleep infinity
UNIT
systemctl daemon-reload
systemctl start datadog-agent.service
systemctl show -p InvocationID --value datadog-agent.service >/results/agent-before.txt
cnmctl install --agent-version 7.50.0 --json >/results/agent-install.json; echo $? >/results/agent-install.rc
systemctl show -p InvocationID --value datadog-agent.service >/results/agent-after.txt
systemctl is-active $unit >/results/agent-probe-active.txt
systemctl is-enabled $unit >/results/agent-probe-enabled.txt 2>&1
cnmctl status --json >/results/agent-status.json
systemctl show -p InvocationID --value datadog-agent.service >/results/agent-before-uninstall.txt
cnmctl uninstall --json >/results/agent-uninstall.json; echo $? >/results/agent-uninstall.rc
systemctl show -p InvocationID --value datadog-agent.service >/results/agent-after-uninstall.txt
systemctl is-active datadog-agent.service >/results/agent-active-after-uninstall.txt
touch /results/finished
systemctl poweroff --no-block
