#!/usr/bin/env bash
# install-deps.sh - install what bpf_write_monitor needs to build, run and test
# on Debian 12, idempotently: libbcc headers, cmocka, kernel headers for the
# running kernel (or a stand-in), and a mounted tracefs.
#
# USAGE: tools/install-deps.sh [--bench] [--deb]
#   --bench   also install what `make bench` uses (bpftrace, strace, gnuplot, GNU time)
#   --deb     also install what `make deb` uses (dpkg-dev, lintian)
#
# Must run as root. Safe to run again: it only acts on what is missing.
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

bench=0
deb=0
for arg in "$@"; do
	case "$arg" in
	--bench) bench=1 ;;
	--deb) deb=1 ;;
	-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $arg (try --help)" ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root: sudo $0 $*"

export DEBIAN_FRONTEND=noninteractive
apt_updated=0

# True when the package is installed (dpkg status "install ok installed").
installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

apt_update_once() {
	if [ "$apt_updated" -eq 0 ]; then
		say "apt-get update"
		apt-get update -qq -o DPkg::Lock::Timeout=300 >&2
		apt_updated=1
	fi
}

# Install every named package that is not installed yet.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	apt_update_once
	say "installing ${missing[*]}"
	apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >&2
}

# Build and test tools, libbcc (pulls in clang/LLVM), libbpf (BTF), cmocka, bpftool for the
# "no program left loaded" checks, jq and python3-jsonschema for the JSON tests (each record
# against doc/records.schema.json), man for the man page, strace for the PID-reuse test,
# clang and its runtimes (libFuzzer) for make fuzz, libsystemd-dev for --journal (systemd
# itself, whose journald and systemd-analyze the journal tests run), cron and faketime for
# the --on-failure test with a real cron daemon.
packages=(build-essential pkg-config libbpfcc-dev libbpf-dev libsystemd-dev systemd libcmocka-dev
	  bpftool jq python3-jsonschema man-db groff-base util-linux procps python3 coreutils
	  strace clang libclang-rt-14-dev cron faketime)
[ "$bench" -eq 1 ] && packages+=(bpftrace strace gnuplot-nox time)
[ "$deb" -eq 1 ] && packages+=(dpkg-dev lintian)
ensure_packages "${packages[@]}"

# Kernel headers. bcc looks in /lib/modules/$(uname -r)/{build,source}.
kver=$(uname -r)
moddir=/lib/modules/$kver
if [ -e "$moddir/build/include/linux/kconfig.h" ] || [ -e "$moddir/source/include/linux/kconfig.h" ]; then
	say "kernel headers for $kver: present ($moddir)"
else
	apt_update_once
	if apt-cache show "linux-headers-$kver" >/dev/null 2>&1; then
		ensure_packages "linux-headers-$kver"
	else
		ensure_packages linux-headers-amd64
		# linux-headers-amd64 depends on linux-headers-<ver>-amd64, which
		# depends on linux-headers-<ver>-common: the split layout bcc knows.
		hdr=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 | grep -o 'linux-headers-[^ ,]*-amd64' | head -n 1)
		[ -n "$hdr" ] || die "cannot tell which headers linux-headers-amd64 installed"
		build=/usr/src/$hdr
		source=/usr/src/${hdr%-amd64}-common
		[ -d "$build" ] && [ -d "$source" ] || die "expected $build and $source after installing $hdr"
		mkdir -p "$moddir"
		[ -e "$moddir/build" ] || [ -L "$moddir/build" ] || ln -s "$build" "$moddir/build"
		[ -e "$moddir/source" ] || [ -L "$moddir/source" ] || ln -s "$source" "$moddir/source"
		cat >&2 <<EOF
install-deps: ################################################################
install-deps: WARNING: no headers package exists for the running kernel $kver.
install-deps: WARNING: using STAND-IN headers from Debian's $hdr:
install-deps: WARNING:   $moddir/build  -> $build
install-deps: WARNING:   $moddir/source -> $source
install-deps: WARNING: tracepoint argument layouts still come from the running
install-deps: WARNING: kernel (tracefs), but any kernel struct read through these
install-deps: WARNING: headers may not match. Remove the two links to undo.
install-deps: ################################################################
EOF
	fi
fi

# tracefs: bcc reads tracepoint formats from /sys/kernel/tracing (or
# /sys/kernel/debug/tracing when debugfs is mounted).
if [ -e /sys/kernel/tracing/events/syscalls ] || [ -e /sys/kernel/debug/tracing/events/syscalls ]; then
	say "tracefs: mounted"
else
	say "mounting tracefs on /sys/kernel/tracing"
	mount -t tracefs tracefs /sys/kernel/tracing ||
		die "cannot mount tracefs: try 'mount -t tracefs tracefs /sys/kernel/tracing'"
	[ -e /sys/kernel/tracing/events/syscalls ] ||
		die "tracefs has no syscall tracepoints: the kernel needs CONFIG_FTRACE_SYSCALLS"
fi

say "ready"
