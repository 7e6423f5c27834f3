#!/bin/sh
# Runs chrooted into a throwaway overlay of the cached Debian root, as the child of PID 1 of a
# private PID namespace (see enter.sh): systemd is not running (/run/systemd/system absent),
# so to cnmctl this is a SysV host with `service` and update-rc.d. Installs the cnmkit
# package, runs the installer with --service-manager auto, records what happened in /results.
exec >/results/log.txt 2>&1
set -x
probe=datadog-agent-sysprobe
pidfile=/var/run/$probe.pid
ls -d /run/systemd/system >/results/run-systemd.txt 2>&1
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
# The Datadog Agent would create its group; there is no agent in this root.
groupadd --system dd-agent
# A stand-in for the agent's init script (the Datadog Agent is not in Debian): a daemon with a
# pidfile; every start bumps a counter, so the test sees whether cnmctl restarted it.
cat >/etc/init.d/datadog-agent <<'AGENT'
#!/bin/sh
PIDFILE=/var/run/datadog-agent.pid
COUNT=/var/lib/standin-agent-starts
case "$1" in
  start)
    echo $(($(cat $COUNT 2>/dev/null || echo 0) + 1)) >$COUNT
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile $PIDFILE \
      --exec /bin/sleep -- infinity ;;
  stop) start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 --pidfile $PIDFILE \
      --remove-pidfile ;;
  restart) "$0" stop && "$0" start ;;
  status) start-stop-daemon --status --pidfile $PIDFILE ;;
  *) exit 3 ;;
esac
AGENT
chmod 0755 /etc/init.d/datadog-agent
service datadog-agent start
cat /var/lib/standin-agent-starts >/results/agent-starts-0.txt

# A config the probe refuses: the daemon exits at once, /health never answers, and the run must
# roll back cleanly (stopping the dead service succeeds) to the host as it was.
cnmctl install --set network_config.max_tracked_connections=lots --health-timeout 5 --json \
  >/results/bad.json; echo $? >/results/bad.rc
ls /etc/init.d/$probe /etc/datadog-agent/system-probe.yaml /etc/rc2.d/S01$probe \
  >/results/after-bad.txt 2>&1
cat /var/lib/standin-agent-starts >/results/agent-starts-bad.txt

# No agent version known: cnmctl starts the probe itself and restarts the agent.
cnmctl install --json >/results/install.json; echo $? >/results/install.rc
ls /etc/rc2.d >/results/rc2.txt
service $probe status; echo $? >/results/service-status.rc
cat $pidfile >/results/probe.pid
cat /var/lib/standin-agent-starts >/results/agent-starts-1.txt
cnmctl status --json >/results/status.json; echo $? >/results/status.rc
cnmctl install --json >/results/install2.json; echo $? >/results/install2.rc
cat /var/lib/standin-agent-starts >/results/agent-starts-2.txt
pid=$(cat $pidfile)
cnmctl uninstall --json >/results/uninstall.json; echo $? >/results/uninstall.rc
cat /var/lib/standin-agent-starts >/results/agent-starts-3.txt
service datadog-agent status; echo $? >/results/agent-after-uninstall.rc
# Gone, not a zombie: PID 1 (enter.sh) reaps it.
if [ -n "$pid" ] && [ -e /proc/$pid ]; then cat /proc/$pid/status; echo alive; else echo gone; fi \
  >/results/after-uninstall-pid.txt
ls /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d \
  >/results/after-uninstall-rc.txt 2>&1
ls /etc/init.d/$probe >/results/after-uninstall-init.txt 2>&1
cp /var/log/$probe.log /results/probe-log.txt
touch /results/finished
