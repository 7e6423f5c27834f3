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
# RHEL-family SysV hosts (Amazon Linux AMI, CentOS 6) have neither Debian's start-stop-daemon
# nor /lib/lsb/init-functions: the init script must need neither (dpkg wants the first, so they
# go after the package is in).
rm -f /sbin/start-stop-daemon /usr/sbin/start-stop-daemon /lib/lsb/init-functions
ls /sbin/start-stop-daemon /usr/sbin/start-stop-daemon /lib/lsb/init-functions \
  >/results/debian-helpers.txt 2>&1
# A config the probe refuses: the daemon exits at once, /health never answers, and the run must
# roll back cleanly (stopping the dead service succeeds) to the host as it was.
cnmctl install --set system_probe_config.max_tracked_connections=lots --health-timeout 5 --json \
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
# The same script naming the binary through a symlinked folder still knows the running probe
# (the kernel names it by its real path); a user other than root cannot tell (LSB status 4).
ln -s /opt/cnmkit /usr/local/cnmkit-link
sed 's|^DAEMON=.*|DAEMON=/usr/local/cnmkit-link/bin/cnm-probe|' /etc/init.d/$probe >/root/linked-init
sh /root/linked-init status; echo $? >/results/linked-status.rc
setpriv --reuid=65534 --regid=65534 --clear-groups sh /etc/init.d/$probe status
echo $? >/results/nobody-status.rc
# force-reload and try-restart restart only a running probe (LSB).
service $probe stop; echo $? >/results/stop.rc
service $probe force-reload; echo $? >/results/force-reload-stopped.rc
service $probe status; echo $? >/results/status-after-force-reload.rc
service $probe start; echo $? >/results/start-after-stop.rc
# An upgrade renames a new binary over the running one: the running daemon's exe then reads
# "... (deleted)", and status and restart must still know it as the probe.
old_pid=$(cat $pidfile)
cp -p /opt/cnmkit/bin/cnm-probe /opt/cnmkit/bin/.cnm-probe.new
mv -f /opt/cnmkit/bin/.cnm-probe.new /opt/cnmkit/bin/cnm-probe
readlink /proc/$old_pid/exe >/results/replaced-exe.txt 2>&1
service $probe status; echo $? >/results/replaced-status.rc
service $probe restart; echo $? >/results/restart.rc
if [ -e /proc/$old_pid/exe ] && readlink /proc/$old_pid/exe >/dev/null; then echo alive; else
  echo gone; fi >/results/old-pid-after-restart.txt
readlink /proc/$(cat $pidfile)/exe >/results/restarted-exe.txt 2>&1
# The restarted daemon has its socket up before status asks for /health.
for i in 1 2 3 4 5 6 7 8 9 10; do
  [ -S /run/cnm-probe/cnm-probe.sock ] && break
  sleep 1
done
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
