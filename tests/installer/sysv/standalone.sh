#!/bin/sh
# Runs chrooted into a throwaway overlay of the cached Debian root, as the child of PID 1 of a
# private PID namespace (see enter.sh): systemd is not running (/run/systemd/system absent),
# so to cnmctl this is a SysV host with `service` and update-rc.d, and no Datadog Agent:
# cnm-probe stands alone. Records what happened in /results.
exec >/results/log.txt 2>&1
set -x
probe=cnm-probe
pidfile=/var/run/$probe.pid
ls -d /run/systemd/system >/results/run-systemd.txt 2>&1
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
# A config the probe refuses: the daemon exits at once, /health never answers, and the run must
# roll back cleanly (stopping the dead service succeeds) to the host as it was.
cnmctl install --set network_config.max_tracked_connections=lots --health-timeout 5 --json \
  >/results/bad.json; echo $? >/results/bad.rc
ls /etc/init.d/$probe /etc/cnmkit/system-probe.yaml /etc/rc2.d/S01$probe \
  >/results/after-bad.txt 2>&1
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
ls /etc/rc2.d >/results/rc2.txt
service $probe status; echo $? >/results/service-status.rc
cat $pidfile >/results/probe.pid
# The pid file names the daemon itself (the shell that sends its output to the log execs it).
readlink /proc/$(cat $pidfile)/exe >/results/pid-exe.txt 2>&1
service $probe start; echo $? >/results/start-again.rc
cnmctl status --json >/results/status.json; echo $? >/results/status.rc
cnmctl install --json >/results/install2.json; echo $? >/results/install2.rc
pid=$(cat $pidfile)
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
# Gone, not a zombie: PID 1 (enter.sh) reaps it.
if [ -n "$pid" ] && [ -e /proc/$pid ]; then cat /proc/$pid/status; echo alive; else echo gone; fi \
  >/results/after-uninstall-pid.txt
ls /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d \
  >/results/after-uninstall-rc.txt 2>&1
ls /etc/init.d/$probe /etc/cnmkit /opt/cnmkit >/results/after-uninstall-files.txt 2>&1
cp /var/log/$probe.log /results/probe-log.txt
touch /results/finished
