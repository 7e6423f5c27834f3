#!/bin/bash
# Inside the booted container (a oneshot unit): the stand-in Datadog Agent package
# (tests/support/agent_package.h; its system-probe answers on the Agent's socket) is installed,
# then cnmkit's; `cnmctl install` must configure the Agent's own system-probe and touch nothing
# the Agent's package owns. /results/agent-version says which Agent (7.17 does not start its
# system-probe itself, 7.50 does).
exec >/results/log.txt 2>&1
set -x
version=$(cat /results/agent-version)
dpkg -i /var/tmp/datadog-agent_${version}_amd64.deb; echo $? >/results/agent-dpkg.rc
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
systemctl enable --now datadog-agent.service
ls /etc/systemd/system >/results/units-before.txt
stat -c '%i %Y' /etc/datadog-agent/auth_token >/results/token-before.txt
cat /opt/datadog-agent/run/agent-starts | wc -l >/results/agent-starts-before.txt
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
cat /opt/datadog-agent/run/agent-starts | wc -l >/results/agent-starts-after.txt
systemctl is-active datadog-agent-sysprobe.service >/results/sysprobe-active.txt
systemctl is-enabled datadog-agent-sysprobe.service >/results/sysprobe-enabled.txt 2>&1
stat -c '%a %U:%G' /etc/datadog-agent/system-probe.yaml >/results/config-mode.txt
cp /etc/datadog-agent/system-probe.yaml /results/config.yaml
cnmctl status --json >/results/status.json
cnmctl install --json >/results/install2.json; echo $? >/results/install2.rc
dpkg --verify datadog-agent >/results/verify-after-install.txt; echo $? >>/results/verify-after-install.txt
ls /etc/systemd/system >/results/units-after.txt
stat -c '%i %Y' /etc/datadog-agent/auth_token >/results/token-after.txt
journalctl -u datadog-agent-sysprobe --no-pager >/results/probe-journal.txt
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
ls /etc/datadog-agent/system-probe.yaml >/results/after-uninstall-config.txt 2>&1
systemctl is-enabled datadog-agent-sysprobe.service >/results/after-uninstall-enabled.txt 2>&1
dpkg --verify datadog-agent >/results/verify-after-uninstall.txt; echo $? >>/results/verify-after-uninstall.txt
touch /results/finished
systemctl poweroff --no-block
