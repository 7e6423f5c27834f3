#!/bin/sh
# Runs chrooted like standalone.sh (a SysV host), with the stand-in Datadog Agent 7.17 package
# installed (tests/support/agent_package.h: init scripts for the Agent and its system-probe,
# which answers on the Agent's socket). An Agent before 7.18 does not start its system-probe:
# cnmctl enables and starts the package's own init script, restarts the Agent, and changes no
# file of the Agent's package. Records what happened in /results.
exec >/results/log.txt 2>&1
set -x
starts() { wc -l </opt/datadog-agent/run/agent-starts; }
dpkg -i /var/tmp/datadog-agent_7.17.0_amd64.deb; echo $? >/results/agent-dpkg.rc
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
service datadog-agent start
sleep 0.5
starts >/results/agent-starts-0.txt
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
sleep 0.5
starts >/results/agent-starts-1.txt
ls /etc/rc2.d >/results/rc2.txt
service datadog-agent-sysprobe status; echo $? >/results/sysprobe-status.rc
cnmctl status --json >/results/status.json
dpkg --verify datadog-agent >/results/verify-after-install.txt; echo $? >>/results/verify-after-install.txt
ls /etc/init.d >/results/initd-after-install.txt
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
sleep 0.5
starts >/results/agent-starts-2.txt
service datadog-agent-sysprobe status; echo $? >/results/after-uninstall-sysprobe.rc
ls /etc/rc2.d >/results/after-uninstall-rc2.txt
ls /etc/datadog-agent/system-probe.yaml >/results/after-uninstall-config.txt 2>&1
dpkg --verify datadog-agent >/results/verify-after-uninstall.txt; echo $? >>/results/verify-after-uninstall.txt
touch /results/finished
