#!/bin/sh
# /init of the VM's initramfs (busybox): loads the modules make_initrd.sh packed, mounts the
# root image (its writes go to QEMU's snapshot and vanish), the 9p shares (the kernel's
# modules, the host's source and build tree at the same path as on the host, the run's out
# folder), then hands over to systemd or to the test runner as PID 1.
# Kernel command line: cnmvm.mode=script|systemd, cnmvm.src=PATH, selinux=1 (load the policy
# here, before the shares: Debian's policy only takes context= mount options once loaded).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "cnmvm-init: $*" >/dev/console
  echo o >/proc/sysrq-trigger
  sleep 10
}
while read -r m; do
  insmod "/lib/modules/$m" || fail "cannot load module $m"
done </modules.order

mode=script src='' selinux=''
for w in $(cat /proc/cmdline); do
  case "$w" in
    cnmvm.mode=*) mode=${w#*=} ;;
    cnmvm.src=*) src=${w#*=} ;;
    selinux=1) selinux=1 ;;
  esac
done

i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || fail "cannot mount the root image /dev/vda"

# Under SELinux every 9p file gets one label (the mount's context=): modules for kmod, the
# source and build tree as usr_t (read and executed by tests), the out folder as tmp_t.
ctx_modules='' ctx_src='' ctx_out=''
if [ -n "$selinux" ]; then
  chroot /newroot /sbin/load_policy -i || fail "load_policy failed"
  ctx_modules=,context=system_u:object_r:modules_object_t:s0
  ctx_src=,context=system_u:object_r:usr_t:s0
  ctx_out=,context=system_u:object_r:tmp_t:s0
fi
share() {  # TAG MOUNTPOINT OPTIONS
  mkdir -p "/newroot$2"
  mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288,$3" "$1" "/newroot$2" ||
    fail "cannot mount the 9p share $1 at $2"
}
share modules "/lib/modules/$(uname -r)" "ro,cache=loose$ctx_modules"
share out /cnmvm/out "rw$ctx_out"
[ -z "$src" ] || share src "$src" "ro,cache=loose$ctx_src"

cp /guest_run.sh /newroot/usr/local/sbin/cnmvm-run
chmod 755 /newroot/usr/local/sbin/cnmvm-run
if [ "$mode" = systemd ]; then
  cp /cnmvm-run.service /newroot/etc/systemd/system/cnmvm-run.service
  ln -sf /etc/systemd/system/cnmvm-run.service \
    /newroot/etc/systemd/system/multi-user.target.wants/cnmvm-run.service
fi
mount --move /dev /newroot/dev
umount /sys /proc
if [ "$mode" = systemd ]; then
  exec switch_root /newroot /lib/systemd/systemd
fi
exec switch_root /newroot /usr/local/sbin/cnmvm-run
