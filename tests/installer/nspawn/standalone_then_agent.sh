#!/bin/bash
# Inside the booted container (a oneshot unit): cnm-probe first (no Agent), then the stand-in
# Datadog Agent arrives and `cnmctl install` runs again: the host moves to agent mode, cnm-probe
# and everything under cnmkit's names is gone, nothing of the Agent's is changed.
exec >/results/log.txt 2>&1
set -x
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
cnmctl install --json >/results/standalone.json; echo $? >/results/standalone.rc
systemctl is-active cnm-probe.service >/results/standalone-active.txt
dpkg -i /var/tmp/datadog-agent_7.50.0_amd64.deb; echo $? >/results/agent-dpkg.rc
systemctl enable --now datadog-agent.service
cnmctl install --json >/results/agent.json; echo $? >/results/agent.rc
systemctl is-active cnm-probe.service >/results/after-cnm-probe-active.txt
ls /etc/systemd/system/cnm-probe.service /etc/cnmkit /opt/cnmkit /run/cnm-probe \
  >/results/after-standalone-files.txt 2>&1
systemctl is-active datadog-agent-sysprobe.service >/results/sysprobe-active.txt
cnmctl status --json >/results/status.json
dpkg --verify datadog-agent >/results/verify.txt; echo $? >>/results/verify.txt
touch /results/finished
systemctl poweroff --no-block
