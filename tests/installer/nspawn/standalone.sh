#!/bin/bash
# Inside the booted container (a oneshot unit): no Datadog Agent, so `cnmctl install` sets up
# cnm-probe under cnmkit's own names, with DNS monitoring on. Records what happened in
# /results, then powers off.
exec >/results/log.txt 2>&1
set -x
svc=cnm-probe.service
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
# A config the probe refuses: the start fails, the health check never passes, and the run must
# roll back to the host as it was (no unit, no config, service not enabled).
cnmctl install --set system_probe_config.max_tracked_connections=lots --health-timeout 5 --json \
  >/results/bad.json; echo $? >/results/bad.rc
ls /etc/systemd/system/$svc /etc/cnmkit/system-probe.yaml >/results/after-bad.txt 2>&1
systemctl is-enabled $svc >/results/after-bad-enabled.txt 2>&1
cnmctl install --set network_config.dns_monitoring=true --json >/results/install.json
echo $? >/results/install.rc
systemctl is-enabled $svc >/results/enabled.txt
ls /etc/rc2.d /etc/init.d/cnm-probe >/results/rc2.txt 2>&1
systemctl is-active $svc >/results/active.txt
systemd-analyze security $svc --no-pager >/results/security.txt 2>&1
systemctl --version | head -1 >/results/systemd-version.txt
systemctl show $svc -p SystemCallFilter >/results/syscall-filter.txt
cnmctl install --set network_config.dns_monitoring=true --json >/results/install2.json
echo $? >/results/install2.rc
cnmctl status --json >/results/status.json; echo $? >/results/status.rc
# A DNS query made here (to loopback: nothing answers, the probe sees the query leave).
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x0bcnmkit-test\x07example\x00\x00\x01\x00\x01' \
  >/dev/udp/127.0.0.1/53
sleep 1
curl -s --unix-socket /run/cnm-probe/cnm-probe.sock \
  -H "Authorization: Bearer $(cat /etc/cnmkit/auth_token)" \
  http://localhost/network_tracer/dns >/results/dns.json
curl -s --unix-socket /run/cnm-probe/cnm-probe.sock \
  -H "Authorization: Bearer $(cat /etc/cnmkit/auth_token)" \
  http://localhost/debug/stats >/results/debug-stats.json
stat -c '%a %U:%G' /run/cnm-probe /run/cnm-probe/cnm-probe.sock /etc/cnmkit/auth_token \
  /etc/cnmkit/system-probe.yaml >/results/modes.txt 2>&1
journalctl -u $svc --no-pager >/results/probe-journal.txt
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
systemctl is-active $svc >/results/after-uninstall-active.txt
ls /etc/systemd/system/$svc /etc/cnmkit /opt/cnmkit >/results/after-uninstall.txt 2>&1
ls /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d \
  >/results/after-uninstall-rc.txt 2>&1
# An operator's own paths and service name (cnmctl --layout): the probe must serve the socket
# and read the token where cnmctl put them, and uninstall with the same layout takes it all.
cat >/root/netmon.yaml <<'LAYOUT'
cnmkit:
  config_dir: /etc/netmon
  config_file: /etc/netmon/probe.yaml
  auth_token_file: /etc/netmon/token
  probe_binary: /usr/local/lib/netmon/cnm-probe
  bpf_object_dir: /usr/local/lib/netmon/ebpf
  run_dir: /run/netmon
  probe_socket: /run/netmon/probe.sock
  probe_service: netmon-probe
LAYOUT
cnmctl --layout /root/netmon.yaml install --health-timeout 30 --json >/results/custom.json
echo $? >/results/custom.rc
systemctl is-active netmon-probe.service >/results/custom-active.txt
curl -s -o /dev/null -w '%{http_code}' --unix-socket /run/netmon/probe.sock \
  -H "Authorization: Bearer $(cat /etc/netmon/token)" \
  http://localhost/debug/stats >/results/custom-http.txt
journalctl -u netmon-probe.service --no-pager >/results/custom-journal.txt
cnmctl --layout /root/netmon.yaml uninstall --json >/results/custom-uninstall.json
echo $? >/results/custom-uninstall.rc
ls /etc/systemd/system/netmon-probe.service /etc/netmon /usr/local/lib/netmon \
  >/results/after-custom-uninstall.txt 2>&1
touch /results/finished
systemctl poweroff --no-block
