#!/bin/bash
# Inside the booted container (a oneshot unit): runs the unit whose Environment= lines
# tests/installer/nspawn/unit_environment.service holds, which writes its environment to
# /results/env.bin, then powers off.
exec >/results/log.txt 2>&1
set -x
systemctl --version | head -1 >/results/systemd-version.txt
systemctl start cnmkit-envtest.service; echo $? >/results/start.rc
touch /results/finished
systemctl poweroff --no-block
