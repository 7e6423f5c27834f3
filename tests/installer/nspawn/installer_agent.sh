#!/bin/bash
# Inside the booted container: an Agent the Datadog installer put in place (no deb or rpm: its
# package folder /opt/datadog-packages/datadog-agent/7.60.0-1 linked as "stable", its units in
# /etc/systemd/system running stable/embedded/bin/system-probe, whose socket is
# stable/run/sysprobe.sock; no /opt/datadog-agent), made from the stand-in package's files
# (tests/support/agent_package.h). `cnmctl install` must find it, configure it, and see its
# system-probe answer on that socket.
exec >/results/log.txt 2>&1
set -x
packages=/opt/datadog-packages/datadog-agent
dpkg-deb -x /var/tmp/datadog-agent_7.60.0_amd64.deb /var/tmp/agent; echo $? >/results/extract.rc
mkdir -p $packages /etc/systemd/system
mv /var/tmp/agent/opt/datadog-agent $packages/7.60.0-1
ln -s $packages/7.60.0-1 $packages/stable
mkdir -p $packages/stable/run
cp -a /var/tmp/agent/etc/datadog-agent /etc/datadog-agent
groupadd --system dd-agent
useradd --system --gid dd-agent --home-dir /opt/datadog-agent --no-create-home \
  --shell /usr/sbin/nologin dd-agent
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/datadog-agent/auth_token
chown dd-agent:dd-agent /etc/datadog-agent/auth_token
chmod 0600 /etc/datadog-agent/auth_token
for unit in datadog-agent datadog-agent-sysprobe; do
  sed "s#/opt/datadog-agent#$packages/stable#g" /var/tmp/agent/lib/systemd/system/$unit.service \
    >/etc/systemd/system/$unit.service
done
sed -i "s#/opt/datadog-agent#$packages/stable#g" $packages/stable/embedded/bin/system-probe \
  $packages/stable/embedded/share/system-probe/standin-layout.yaml
systemctl daemon-reload
systemctl enable --now datadog-agent.service
test -e /opt/datadog-agent; echo $? >/results/package-dir.rc
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
cnmctl preflight --json >/results/preflight.json; echo $? >/results/preflight.rc
# An experiment of the Agent running (the installer's datadog-agent-exp unit; a stand-in that
# only runs): install refuses, changing nothing; stopped, the install goes on.
printf '[Service]\nExecStart=/bin/sleep infinity\n' >/etc/systemd/system/datadog-agent-exp.service
systemctl daemon-reload
systemctl start datadog-agent-exp.service
cp /etc/datadog-agent/system-probe.yaml /var/tmp/before-exp.yaml 2>/dev/null
cnmctl install --json >/results/install-exp.json; echo $? >/results/install-exp.rc
cmp /etc/datadog-agent/system-probe.yaml /var/tmp/before-exp.yaml >/dev/null 2>&1
echo $? >/results/exp-config-same.rc
test -e /etc/datadog-agent/system-probe.yaml; echo $? >/results/exp-config-exists.rc
test -e /var/tmp/before-exp.yaml; echo $? >/results/exp-config-existed.rc
systemctl stop datadog-agent-exp.service
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
systemctl is-active datadog-agent-sysprobe.service >/results/sysprobe-active.txt
cnmctl status --json >/results/status.json
journalctl -u datadog-agent-sysprobe --no-pager >/results/probe-journal.txt
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
ls /etc/datadog-agent/system-probe.yaml >/results/after-uninstall-config.txt 2>&1
touch /results/finished
systemctl poweroff --no-block
