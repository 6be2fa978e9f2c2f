#!/bin/busybox sh
# /init of the guest's initramfs (put there by tests/vm/boot.sh; PID 1 in the guest).
# Loads the 9p/virtio/overlay modules listed in /modules.list, mounts the host's
# root (9p tag "hostroot", read-only) as the lower layer of an overlay whose upper
# layer is RAM, mounts the results share (9p tag "bwmout", writable) at
# /run/bwm-vm/out inside it, runs job.sh from there with bash, records its exit
# status in rc, ends every leftover process, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "bwm-vm[$(up)]: $*"; }
die() {
	say "FATAL: $*"
	echo "FATAL: $*" >>/out/init.err 2>/dev/null
	sync
	poweroff -f
	sleep 5
	exit 1
}

say "init started (kernel $(uname -r))"
for m in $(cat /modules.list); do
	insmod "/modules/$m.ko" || die "insmod $m failed"
done

mkdir -p /lower /upper /newroot /out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 bwmout /out ||
	die "mount of the results share failed"
echo "init_start_uptime=$(up)" >/out/times
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower ||
	die "mount of the host root failed"
[ -f /out/job.env ] || die "no job.env in the results share"
. /out/job.env

# Writable root: the host's root (read-only 9p) under a RAM upper layer; nothing
# the guest writes reaches the host, except under /run/bwm-vm/out.
mount -t tmpfs -o mode=755 tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot ||
	die "overlay mount over the 9p root failed"

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t tracefs tracefs $R/sys/kernel/tracing || say "warning: tracefs mount failed"
mount -t debugfs debugfs $R/sys/kernel/debug || say "warning: debugfs mount failed"
mount -t bpf bpf $R/sys/fs/bpf || say "warning: bpffs mount failed"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || say "warning: cgroup2 mount failed"
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
ln -sfn /proc/self/fd $R/dev/fd    # devtmpfs has no /dev/fd (bash's <(...) needs it)
ln -sfn /proc/self/fd/0 $R/dev/stdin
ln -sfn /proc/self/fd/1 $R/dev/stdout
ln -sfn /proc/self/fd/2 $R/dev/stderr
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=755 tmpfs $R/run
mkdir -p $R/run/bwm-vm/out $R/run/lock
mount --bind /out $R/run/bwm-vm/out
# /lib/modules/$(uname -r): the unpacked modules of the booted kernel, with build/
# and source/ pointing at its own headers (prepared by boot.sh).
if [ -n "$BWM_VM_MODDIR" ] && [ -d "$R$BWM_VM_MODDIR" ]; then
	mkdir -p "$R/lib/modules/$BWM_VM_KVER"
	mount --bind "$R$BWM_VM_MODDIR" "$R/lib/modules/$BWM_VM_KVER" || say "warning: modules bind failed"
fi
hostname bwm-vm
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null

echo "job_start_uptime=$(up)" >>/out/times
say "running the job"
mkfifo /job.fifo
tee /out/job.log </job.fifo &
TEE=$!
env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	BWM_VM_OUT=/run/bwm-vm/out BWM_VM_KVER="$BWM_VM_KVER" \
	chroot $R /bin/bash /run/bwm-vm/out/job.sh >/job.fifo 2>&1 </dev/null
rc=$?
echo "job_end_uptime=$(up)" >>/out/times
echo "$rc" >/out/rc
say "job exited with status $rc"

# End whatever the job left behind (the tee last, once its writers are gone).
for sig in TERM KILL; do
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = 1 ] || [ "$p" = "$TEE" ] || kill -$sig "$p" 2>/dev/null
	done
	sleep 1
done
n=0
while kill -0 "$TEE" 2>/dev/null && [ $n -lt 10 ]; do sleep 0.5; n=$((n + 1)); done
kill "$TEE" 2>/dev/null
wait
sync
say "powering off"
poweroff -f
sleep 10
