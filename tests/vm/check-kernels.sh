#!/bin/bash
# make check-kernels: boot each stock Debian kernel under QEMU, one after another,
# run the integration suite in it against that kernel's own headers, and print one
# table: kernel, capture path the tool chose, tests passed/failed, time.
#
#   sudo tests/vm/check-kernels.sh                 (after make bpf_write_monitor helpers)
#
# Environment:
#   KERNELS     which kernels, in order (default "5.10 6.1 6.12"): 5.10 | 6.1 | 6.12, or
#               the suite names bullseye | bookworm | trixie
#   TESTS       run only the integration tests whose names contain one of these words
#               (default: all); TESTS=smoke is the CI subset below
#   SKIP        leave out the tests whose names contain one of these words (e.g. one
#               that hangs a kernel, to see the rest)
#   VM_TIMEOUT  seconds a guest may run before it is killed (default 3600)
#   VM_STALL    seconds without a line of output after which a guest is taken for
#               hung and killed (default 600)
#   VM_MEM, VM_SMP, VM_CPU  guest memory, CPUs and QEMU CPU model (default 4G, 2, qemu64)
#   VM_TCG      single or multi: TCG threading (default single; multi-threaded TCG
#               live-locked 5.10 guests in three full runs out of three)
#   VM_RESULTS  where each guest's logs go (default /tmp/bwm-check-kernels), one
#               directory per kernel: job.log, integration.log, verbose.log, console.log
# Exit status 0 when every kernel passed every test run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KERNELS=${KERNELS:-5.10 6.1 6.12}
TESTS=${TESTS:-}
SKIP=${SKIP:-}
VM_TIMEOUT=${VM_TIMEOUT:-3600}
VM_STALL=${VM_STALL:-600}
VM_MEM=${VM_MEM:-4G}
VM_SMP=${VM_SMP:-2}
VM_CPU=${VM_CPU:-qemu64}
VM_TCG=${VM_TCG:-single}
RESULTS=${VM_RESULTS:-/tmp/bwm-check-kernels}
mkdir -p "$RESULTS" && RESULTS=$(cd "$RESULTS" && pwd)

# The CI smoke subset: plain lines, both streams, writev, short write, EAGAIN, a
# tree with -f, the main thread ending first, exit status, JSON, errors.
SMOKE="test_plain_lines test_both_streams_are_labelled test_writev_with_8_iovecs
test_short_write_prints_only_what_was_written test_write_to_a_full_nonblocking_pipe
test_tree_of_children_and_grandchildren test_process_lives_on_after_its_main_thread_exits
test_exit_status_and_signal_lines test_json_lines_parse_with_jq_and_python
test_error_no_such_process test_error_kernel_headers_missing"
[ "$TESTS" = smoke ] && TESTS=$SMOKE
GUEST_ARGS=()
for w in $SKIP; do GUEST_ARGS+=("--skip=$w"); done
for w in $TESTS; do GUEST_ARGS+=("$w"); done

say() { echo "check-kernels: $*"; }
[ "$(id -u)" = 0 ] || { say "run as root (sudo make check-kernels)"; exit 1; }
[ -x "$ROOT/bpf_write_monitor" ] && [ -x "$ROOT/build/helpers/writer" ] ||
	{ say "build first: make bpf_write_monitor helpers"; exit 1; }

suite_of() {
	case $1 in
	5.10|bullseye|11) echo bullseye ;;
	6.1|bookworm|12) echo bookworm ;;
	6.12|trixie|13) echo trixie ;;
	*) return 1 ;;
	esac
}
debian_of() {
	case $1 in bullseye) echo "Debian 11" ;; bookworm) echo "Debian 12" ;; trixie) echo "Debian 13" ;; esac
}
for k in $KERNELS; do
	suite_of "$k" >/dev/null || { say "unknown kernel '$k' (5.10, 6.1, 6.12)"; exit 2; }
done

CHILD=
stop() {
	if [ -n "$CHILD" ]; then kill "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
	say "interrupted"
	exit 130
}
trap stop INT TERM HUP

mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
get() { sed -n "s/^$1=//p" "$2" 2>/dev/null | tail -1; }

mkdir -p "$RESULTS"
ROWS=()
ALL_OK=1
n=0
total=$(echo $KERNELS | wc -w)
for k in $KERNELS; do
	n=$((n + 1))
	suite=$(suite_of "$k")
	out=$RESULTS/$suite
	rm -rf "$out"
	mkdir -p "$out"
	say "[$n/$total] $k ($(debian_of "$suite")): fetching the kernel and its headers"
	kver=$("$HERE/boot.sh" -F "$suite" 2>"$out/fetch.log")
	frc=$?
	if [ $frc != 0 ]; then
		say "[$n/$total] $k: $(tail -1 "$out/fetch.log")"
		ROWS+=("$k|$suite|-|n/a|-|-|-|cannot fetch the kernel: see $out/fetch.log")
		ALL_OK=0
		continue
	fi
	say "[$n/$total] $k: booting $kver under QEMU (TCG $VM_TCG-threaded, -cpu $VM_CPU -smp $VM_SMP -m $VM_MEM," \
		"time-out ${VM_TIMEOUT}s); logs in $out"
	t0=$(date +%s)
	(cd "$ROOT" && exec "$HERE/boot.sh" -q -t "$VM_TIMEOUT" -m "$VM_MEM" -s "$VM_SMP" -c "$VM_CPU" -T "$VM_TCG" -o "$out" \
		"$suite" "$HERE/guest.sh" "${GUEST_ARGS[@]}") >"$out/boot.log" 2>&1 &
	CHILD=$!
	# progress: one line per test as the guest reports it
	tail -n +1 -F --pid="$CHILD" "$out/job.log" 2>/dev/null |
		grep --line-buffered -E '^(ok |FAIL|guest: one)' | sed -u "s/^/  $k: /" &
	TAILER=$!
	# a guest whose output stops (a hung kernel) is ended before its time-out
	stalled=
	while kill -0 "$CHILD" 2>/dev/null; do
		sleep 5
		seen=$(stat -c %Y "$out/job.log" 2>/dev/null || echo "$t0")
		if [ $(($(date +%s) - seen)) -gt "$VM_STALL" ]; then
			stalled=1
			kill "$CHILD" 2>/dev/null
			break
		fi
	done
	wait "$CHILD"
	brc=$?
	CHILD=
	wait "$TAILER" 2>/dev/null
	secs=$(($(date +%s) - t0))
	r=$out/result
	passed=$(get passed "$r"); failed=$(get failed "$r")
	note=
	case $brc in
	0) ;;
	*) if [ -n "$stalled" ]; then
		after=$(grep -E '^(ok |FAIL)' "$out/job.log" | tail -1 | awk '{ print $2 }')
		oops=$(grep -m1 -E 'BUG:|Oops|panic|rcu.*stall' "$out/console.log" | cut -c1-100)
		note="guest hung after ${after:-its start} (no output for ${VM_STALL}s)${oops:+; kernel: $oops}"
	   fi ;;&
	124) [ -n "$note" ] || note="guest timed out after ${VM_TIMEOUT}s" ;;
	125) [ -n "$note" ] || [ -f "$out/rc" ] || note="guest stopped without a status (console.log)" ;;
	*) [ -z "$note" ] && [ "$(get first_run_rc "$r")" != 0 ] &&
		note="tool did not start: $(get first_error "$r")" ;;
	esac
	if [ -z "$passed" ] && [ -z "$note" ]; then
		last=$(grep -v '^bwm-vm\[' "$out/job.log" 2>/dev/null | tail -1 | cut -c1-120)
		note="no test summary (exit $brc${last:+: $last}; see $out)"
	fi
	[ "${passed:-0}" = 0 ] && [ -z "$note" ] && note="no test ran"
	if [ $brc != 0 ] || [ "${failed:-x}" != 0 ] || [ "${passed:-0}" = 0 ]; then ALL_OK=0; fi
	boot=$(get job_start_uptime "$out/times")
	first=$(get first_run_seconds "$r")
	took="$(mmss $secs)${boot:+ (boot ${boot%.*} s${first:+, one start $first s})}"
	ROWS+=("$k|$suite|$kver|$(get path "$r")|${passed:--}|${failed:--}|$took|$note")
	say "[$n/$total] $k: ${passed:-?} passed, ${failed:-?} failed in $(mmss $secs)${note:+ — $note}"
done

echo
printf '%-6s %-9s %-24s %-10s %6s %6s  %s\n' kernel suite ABI path passed failed time
for row in "${ROWS[@]}"; do
	IFS='|' read -r k suite kver path passed failed time note <<<"$row"
	printf '%-6s %-9s %-24s %-10s %6s %6s  %s\n' "$k" "$suite" "$kver" "$path" "$passed" "$failed" "$time"
	[ -n "$note" ] && printf '       %s\n' "$note"
done
[ $ALL_OK = 1 ]
