#!/bin/bash
# Runs chrooted in a Debian 11 root (glibc 2.31, built on Debian 12 nothing would start there
# but static binaries), entered by tests/installer/sysv/enter.sh: install the cnmkit package
# with bullseye's dpkg, then run what a host runs, recording each result in /results.
exec >/results/log.txt 2>&1
set -x
ldd --version | head -n 1 >/results/glibc.txt
dpkg -i /var/tmp/cnmkit.deb; echo $? >/results/dpkg.rc
groupadd --system dd-agent
cnmctl preflight --json >/results/preflight.json; echo $? >/results/preflight.rc
cnmctl config enable --json >/results/config.json; echo $? >/results/config.rc
cnmctl install --service-manager none --json >/results/install.json; echo $? >/results/install.rc
# No service manager: start the installed probe by hand, as its unit would, and ask it.
probe=$(cnmctl status --json | python3 -c '
import json, os, sys
print(next(f["path"] for f in json.load(sys.stdin)["files"]
           if os.path.basename(f["path"]) in ("system-probe", "cnm-probe")))')
echo "$probe" >/results/probe-path.txt
"$probe" >/results/probe.log 2>&1 &
for _ in $(seq 1 100); do
  cnmctl status --service-manager none --json >/results/status.json
  grep -q '"ok": true' /results/status.json && break
  sleep 0.1
done
kill %1
wait
cnmctl uninstall --service-manager none --json >/results/uninstall.json; echo $? >/results/uninstall.rc
touch /results/finished
