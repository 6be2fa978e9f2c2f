#!/bin/bash
# Boot one stock Debian kernel under QEMU (TCG: no /dev/kvm needed) with this
# machine's root filesystem as the guest's root (read-only 9p + a RAM overlay),
# run a script in the guest as root in the current directory, and exit with its
# exit status. Used by tests/vm/check-kernels.sh (make check-kernels).
#
#   sudo tests/vm/boot.sh [options] SUITE [GUEST_SCRIPT [ARGS...]]
#
#   SUITE        bullseye (Debian 11, 5.10) | bookworm (Debian 12, 6.1) | trixie (Debian 13, 6.12)
#   -F           fetch the kernel and its headers only (no boot); print the ABI
#   -t SECONDS   kill the guest after SECONDS (default 1800); exit status 124
#   -m MEM       guest memory (default 4G)
#   -s N         guest CPUs (default 2)
#   -c MODEL     QEMU CPU model (default qemu64; see check-kernels.sh)
#   -T single|multi  TCG threading (default single: one host thread runs every guest CPU;
#                multi, a thread per CPU, live-locks 5.10 guests now and then)
#   -o DIR       results directory, shared writable with the guest (default: new, kept)
#   -q           do not copy the guest's console to stdout (it is in DIR/console.log)
#
# The newest amd64 kernel of SUITE and its own headers are fetched with apt-get
# from the Debian archive the host uses (its sources, suite swapped, in a private
# apt state), downloaded and unpacked into $BWM_VM_CACHE (default
# /var/tmp/bwm-vm-cache, ~400 MB a kernel), never installed. BWM_VM_KVER_<SUITE>
# (e.g. BWM_VM_KVER_bullseye=5.10.0-32-amd64) pins an ABI.
# Exit status: the guest script's; 3 when the kernel cannot be fetched; 124 on
# time-out; 125 when the guest stopped without an exit status.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=1800 MEM=4G SMP=2 CPU=qemu64 TCG=single OUT= FETCH_ONLY=0 QUIET=0
while getopts "Ft:m:s:c:T:o:qh" opt; do
	case $opt in
	F) FETCH_ONLY=1 ;;
	t) TIMEOUT=$OPTARG ;;
	m) MEM=$OPTARG ;;
	s) SMP=$OPTARG ;;
	c) CPU=$OPTARG ;;
	T) TCG=$OPTARG ;;
	o) OUT=$OPTARG ;;
	q) QUIET=1 ;;
	h) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "boot.sh: which suite? (bullseye, bookworm, trixie; -h for help)" >&2; exit 2; }
SUITE=$1
shift
CWD=$PWD
CACHE=${BWM_VM_CACHE:-/var/tmp/bwm-vm-cache}

log() { echo "bwm-vm[$SUITE]: $*" >&2; }
die() { log "error: $*"; exit 1; }
nofetch() { log "cannot fetch the kernel of $SUITE: $*"; exit 3; }
[ "$(id -u)" = 0 ] || die "run as root (apt-get, and qemu must read the whole root filesystem)"
[ "$(uname -m)" = x86_64 ] || die "x86_64 hosts only"
case $SUITE in bullseye|bookworm|trixie) ;; *) die "unknown suite $SUITE (bullseye, bookworm, trixie)" ;; esac

if [ $FETCH_ONLY = 0 ]; then
	SCRIPT=${1:-}
	[ $# -gt 0 ] && shift
	[ -f "$SCRIPT" ] || die "no such guest script: '$SCRIPT'"
	SCRIPT=$(cd "$(dirname "$SCRIPT")" && pwd)/$(basename "$SCRIPT")
fi

# --- host packages ---------------------------------------------------------------
need_pkgs() {
	local missing=() p
	for p; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} = 0 ] && return 0
	log "installing ${missing[*]}"
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}
need_pkgs qemu-system-x86 busybox-static xz-utils zstd

mkdir -p "$CACHE"
chmod 755 "$CACHE"
exec 9>"$CACHE/.lock-$SUITE"
flock 9          # one fetch of a suite at a time; released when this script ends

# --- apt: the host's Debian source with the suite swapped, private state ----------
SA=$CACHE/apt-$SUITE
mkdir -p "$SA/lists/partial" "$SA/cache/archives/partial"
SRC=/etc/apt/sources.list.d/debian.sources
if [ -f "$SRC" ]; then
	awk -v s="$SUITE" '/^Suites:/ && !done { print "Suites: " s; done = 1; next }
		/^$/ && done { exit } { print }' "$SRC" >"$SA/debian.sources"
	APT=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$SA/parts")
	mkdir -p "$SA/parts"
	mv "$SA/debian.sources" "$SA/parts/debian.sources"
elif [ -f /etc/apt/sources.list ]; then
	awk -v s="$SUITE" '$1 == "deb" && $3 !~ /-/ { $3 = s; print; exit }' /etc/apt/sources.list \
		>"$SA/sources.list"
	APT=(-o "Dir::Etc::SourceList=$SA/sources.list" -o Dir::Etc::SourceParts=/dev/null)
else
	nofetch "no Debian apt source on this host (/etc/apt/sources.list.d/debian.sources)"
fi
APT+=(-o "Dir::State::Lists=$SA/lists" -o "Dir::Cache=$SA/cache" -o "Debug::NoLocking=1"
	-o APT::Sandbox::User=root)
if [ ! -f "$SA/lists/.done" ] || [ -n "$(find "$SA/lists/.done" -mmin +720)" ]; then
	log "apt-get update ($SUITE index, private state in $SA)"
	apt-get "${APT[@]}" update -qq >&2 || nofetch "apt-get update of $SUITE failed"
	touch "$SA/lists/.done"
fi
var=BWM_VM_KVER_$SUITE
KVER=${!var:-}
if [ -z "$KVER" ]; then
	KVER=$(apt-cache "${APT[@]}" search '^linux-image-[0-9].*-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | grep -v -e cloud -e -rt- | sed 's/^linux-image-//; s/-unsigned$//' |
		sort -V | tail -1 || true)
fi
[ -n "$KVER" ] || nofetch "no amd64 kernel image in the $SUITE index"

# --- headers of that kernel: downloaded and unpacked, not installed -------------------
HROOT=$CACHE/headers-$KVER
if [ ! -f "$HROOT/.complete" ]; then
	log "fetching linux-headers-$KVER"
	rm -rf "$HROOT" && mkdir -p "$HROOT/debs"
	common=$(apt-cache "${APT[@]}" show "linux-headers-$KVER" 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-headers-[^ ,]*-common\).*/\1/p' | head -1 || true)
	[ -n "$common" ] || nofetch "linux-headers-$KVER is not in the $SUITE index"
	(cd "$HROOT/debs" && apt-get "${APT[@]}" download "linux-headers-$KVER" "$common" >&2) ||
		nofetch "download of linux-headers-$KVER failed"
	for d in "$HROOT"/debs/*.deb; do dpkg-deb -x "$d" "$HROOT"; done
	rm -rf "$HROOT/debs"
	touch "$HROOT/.complete"
fi
HDR=$HROOT/usr/src/linux-headers-$KVER
HDRC=$(ls -d "$HROOT"/usr/src/linux-headers-*-common 2>/dev/null | head -1)
[ -d "$HDR" ] && [ -n "$HDRC" ] || die "headers of $KVER incomplete in $HROOT (remove it)"

# --- the stock image, unpacked ----------------------------------------------------------
KDIR=$CACHE/$KVER
if [ ! -f "$KDIR/.complete" ]; then
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	got=
	for pkg in "linux-image-$KVER-unsigned" "linux-image-$KVER"; do
		log "fetching $pkg"
		if (cd "$KDIR.tmp" && apt-get "${APT[@]}" download "$pkg" >&2); then got=$pkg; break; fi
	done
	[ -n "$got" ] || nofetch "download of linux-image-$KVER(-unsigned) failed"
	dpkg-deb -x "$KDIR.tmp"/*.deb "$KDIR.tmp/root"
	basename "$KDIR.tmp"/*.deb >"$KDIR.tmp/root/.package"
	mv "$KDIR.tmp/root" "$KDIR"
	rm -rf "$KDIR.tmp"
	chmod 755 "$KDIR"
	MB=$KDIR; [ -d "$KDIR/lib/modules/$KVER" ] || MB=$KDIR/usr   # merged /usr (Debian 13 on)
	if command -v depmod >/dev/null; then depmod -b "$MB" "$KVER"; else busybox depmod -b "$MB" "$KVER"; fi
	ln -sfn "$HDR" "$MB/lib/modules/$KVER/build"
	ln -sfn "$HDRC" "$MB/lib/modules/$KVER/source"
	touch "$KDIR/.complete"
fi
flock -u 9
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
MODROOT=$KDIR/lib/modules/$KVER
[ -d "$MODROOT" ] || MODROOT=$KDIR/usr/lib/modules/$KVER
[ -f "$VMLINUZ" ] && [ -d "$MODROOT" ] || die "no $VMLINUZ or $MODROOT (remove $KDIR)"
if [ $FETCH_ONLY = 1 ]; then
	echo "$KVER"
	exit 0
fi

# --- initramfs: busybox, the init, the modules for 9p and overlay ------------------------
WORK=$(mktemp -d /tmp/bwm-vm-work.XXXXXX)
QPID= TPID=
cleanup() {
	if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null || true; fi
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

declare -A KO=() SEEN=()
while IFS= read -r f; do
	b=${f##*/}; b=${b%%.ko*}; KO[${b//-/_}]=$f
done < <(find "$MODROOT/kernel" -name '*.ko*')
ko_cat() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
ORDER=()
add_mod() {
	local n=${1//-/_} f d
	[ -n "${SEEN[$n]:-}" ] && return 0
	SEEN[$n]=1
	f=${KO[$n]:-}
	if [ -z "$f" ]; then
		tr '-' '_' <"$MODROOT/modules.builtin" | grep -q "/$n\.ko" && return 0
		die "module $n: neither a file nor built in"
	fi
	for d in $(ko_cat "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '); do add_mod "$d"; done
	ORDER+=("$n")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do add_mod "$m"; done

R=$WORK/initramfs
mkdir -p "$R"/{bin,dev,proc,sys,modules}
cp /bin/busybox "$R/bin/busybox"
ldd "$R/bin/busybox" >/dev/null 2>&1 && die "/bin/busybox is not static (install busybox-static)"
mknod "$R/dev/console" c 5 1
install -m 755 "$HERE/init.sh" "$R/init"
for n in "${ORDER[@]}"; do ko_cat "${KO[$n]}" >"$R/modules/$n.ko"; done
printf '%s\n' "${ORDER[@]}" >"$R/modules.list"
(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$WORK/initramfs.gz"

# --- the job ----------------------------------------------------------------------------
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/bwm-vm-out.XXXXXX); fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{job.log,rc,times,init.err,job.env,job.sh,console.log}
printf "BWM_VM_KVER='%s'\nBWM_VM_MODDIR='%s'\n" "$KVER" "$MODROOT" >"$OUT/job.env"
{
	echo '#!/bin/bash'
	printf 'cd %q || exit 125\n' "$CWD"
	printf 'exec bash %q' "$SCRIPT"
	for a in "$@"; do printf ' %q' "$a"; done
	echo
} >"$OUT/job.sh"

# --- boot -------------------------------------------------------------------------------
log "booting $KVER ($(cat "$KDIR/.package")) under TCG ($TCG-threaded): -cpu $CPU -smp $SMP -m $MEM, time-out ${TIMEOUT}s"
T0=$(date +%s)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
	-machine q35 -accel "tcg,thread=$TCG" -cpu "$CPU" -smp "$SMP" -m "$MEM" \
	-nodefaults -display none -no-reboot -serial stdio -monitor none \
	-kernel "$VMLINUZ" -initrd "$WORK/initramfs.gz" \
	-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=5" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$OUT,mount_tag=bwmout,security_model=none,multidevs=remap" \
	</dev/null >"$OUT/console.log" 2>&1 &
QPID=$!
if [ $QUIET = 0 ]; then
	tail -n +1 -f --pid="$QPID" "$OUT/console.log" &
	TPID=$!
fi
set +e
wait "$QPID"
qrc=$?
set -e
QPID=
if [ -n "$TPID" ]; then wait "$TPID" 2>/dev/null || true; TPID=; fi
T1=$(date +%s)
echo "$((T1 - T0))" >"$OUT/wall"
log "qemu ended (status $qrc) after $((T1 - T0)) s"
[ -f "$OUT/init.err" ] && log "guest init: $(cat "$OUT/init.err")"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	log "TIMED OUT after ${TIMEOUT}s: guest killed"
	exit 124
fi
if [ -f "$OUT/rc" ]; then
	rc=$(cat "$OUT/rc")
	exit "$rc"
fi
log "the guest stopped without an exit status (see $OUT/console.log)"
exit 125
