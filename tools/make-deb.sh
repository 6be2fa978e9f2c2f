#!/usr/bin/env bash
# make-deb.sh - build the Debian binary package from an already built tool,
# then check it with lintian. Called by `make deb` (see the Makefile), which
# first builds the tool with PREFIX=/usr and dpkg-buildflags' hardening flags.
#
# USAGE: tools/make-deb.sh BINARY STAGING_DIR OUTPUT.deb
#   BINARY       the tool, built for /usr (it looks for /usr/share/bpf_write_monitor)
#   STAGING_DIR  scratch directory (emptied) for the package tree and dpkg files
#   OUTPUT.deb   the package to write: bpf-write-monitor_VERSION_amd64.deb
#
# Depends is computed from the binary's shared libraries (dpkg-shlibdeps, with
# debian/control) plus libbpfcc, whose libbcc.so.0 the compiler child dlopen()s.
# lintian must report no error and no warning, or the package is removed.
set -euo pipefail

say() { printf 'make-deb: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$#" -eq 3 ] || die "usage: $0 BINARY STAGING_DIR OUTPUT.deb"
binary=$1
work=$2
deb=$3
pkg=bpf-write-monitor
tool=bpf_write_monitor

cd "$(dirname "$0")/.."
for cmd in dpkg-shlibdeps dpkg-gencontrol dpkg-deb lintian; do
	command -v "$cmd" >/dev/null ||
		die "$cmd is missing: run 'sudo make deb' (it installs dpkg-dev and lintian)"
done
[ -x "$binary" ] || die "no tool at $binary: run 'make deb'"

# The package version is the tool's own (src/options.h); debian/changelog must agree.
version=$(sed -n 's/^#define BWM_VERSION[[:space:]]*"\(.*\)"$/\1/p' src/options.h)
[ -n "$version" ] || die "cannot read BWM_VERSION from src/options.h"
changelog_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "$changelog_version" = "$version" ] ||
	die "debian/changelog is at $changelog_version but src/options.h at $version:" \
	    "add a debian/changelog entry (dch -v $version)"
[ "$(basename "$deb")" = "${pkg}_${version}_amd64.deb" ] ||
	die "$deb: expected ${pkg}_${version}_amd64.deb"

rm -rf "$work"
root=$work/root
doc=$root/usr/share/doc/$pkg
# Every directory 0755 and every file 0644 (0755 for the tool), whatever the umask.
install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/usr/share/$tool/probes" \
	"$root/usr/share/man/man8" "$doc" "$root/lib/systemd/system" "$root/usr/lib/systemd/catalog" \
	"$root/usr/share/lintian/overrides"

install -m 0755 "$binary" "$root/usr/sbin/$tool"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/sbin/$tool"
install -m 0644 probes/* "$root/usr/share/$tool/probes/"
install -m 0644 doc/records.schema.json "$root/usr/share/$tool/records.schema.json"
gzip -9n <"man/man8/$tool.8" >"$root/usr/share/man/man8/$tool.8.gz"
# A native package (its version has no Debian revision): changelog.gz, not changelog.Debian.gz.
gzip -9n <debian/changelog >"$doc/changelog.gz"
install -m 0644 debian/copyright "$doc/copyright"
install -m 0644 "tools/${tool}_example.txt" "$doc/${tool}_example.txt"
# The template unit (--journal for a unit's processes; bookworm's units live in /lib) and
# the catalog of its entries' MESSAGE_IDs (systemd's dpkg trigger rebuilds the database).
install -m 0644 "debian/$pkg@.service" "$root/lib/systemd/system/$pkg@.service"
install -m 0644 "debian/$pkg.catalog" "$root/usr/lib/systemd/catalog/$pkg.catalog"
install -m 0644 "debian/$pkg.lintian-overrides" "$root/usr/share/lintian/overrides/$pkg"
chmod 0644 "$root/usr/share/man/man8/$tool.8.gz" "$doc/changelog.gz"

# DEBIAN/control from debian/control, with ${shlibs:Depends} and Installed-Size filled in.
dpkg-shlibdeps -T"$work/substvars" "$root/usr/sbin/$tool"
dpkg-gencontrol -p"$pkg" -v"$version" -T"$work/substvars" -f"$work/files" -P"$root"
(cd "$root" && find lib usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) \
	>"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

# Timestamps in the package are clamped to the changelog entry's: the same tree gives
# the same package.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l debian/changelog -S Timestamp)
export SOURCE_DATE_EPOCH
rm -f "$deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
say "built $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends >&2

# lintian: nothing at error or warning level; print the rest (info, pedantic).
# It does not like to run as root: then it runs as nobody, on a copy that nobody can
# read wherever this tree is (/root, say), and from that copy's directory: nobody may
# not enter the caller's (lintian would say "Can't cd to ...: Permission denied").
lint=(lintian --info --pedantic --fail-on error,warning)
if [ "$(id -u)" -eq 0 ]; then
	lintdir=$(mktemp -d)
	trap 'rm -rf "$lintdir"' EXIT
	chmod 0755 "$lintdir"
	install -m 0644 "$deb" "$lintdir/"
	lint=(setpriv --reuid=nobody --regid=nogroup --clear-groups -- env HOME="$lintdir"
	      "${lint[@]}" "$lintdir/$(basename "$deb")")
else
	lint+=("$deb")
fi
if ! (cd "${lintdir:-.}" && "${lint[@]}") >&2; then
	rm -f "$deb"
	die "lintian reports errors or warnings (above): fix them; the package was removed"
fi
say "lintian: no errors, no warnings"
