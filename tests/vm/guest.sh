#!/bin/bash
# Runs inside a guest booted by tests/vm/boot.sh, in the checkout (already built on
# the host): one verbose traced run (which capture path the tool chooses on this
# kernel, and what one start costs), then the integration suite, or the tests whose
# names contain one of the ARGS, less those whose names contain a --skip=WORD.
# Writes KEY=VALUE lines to $BWM_VM_OUT/result.
set -u
# All in one function: bash parses it whole before running, so editing this file
# on the host while a guest runs it cannot change what the guest does.
put() { echo "$1=$2" >>"$RES"; }
get() { sed -n "s/^$1=//p" "$RES" | tail -1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The names of the integration tests that contain one of the first N words (any,
# when N is 0) and none of the words after them.
selected() {
	local n=$1 t w keep
	shift
	local want=("${@:1:n}") skip=("${@:n+1}")
	for t in $(sed -n 's/^def \(test_[a-z0-9_]*\)(.*/\1/p' tests/integration/test_*.py); do
		keep=$([ "$n" = 0 ] && echo 1)
		for w in "${want[@]}"; do [[ $t == *"$w"* ]] && keep=1; done
		for w in "${skip[@]}"; do [[ $t == *"$w"* ]] && keep=; done
		[ -n "$keep" ] && echo "$t"
	done
}

main() {
	OUT=${BWM_VM_OUT:?not in a guest booted by tests/vm/boot.sh}
	RES=$OUT/result
	kver=$(uname -r)
	: >"$RES"

	put kernel "$kver"
	if [ -e "/lib/modules/$kver/build/include" ]; then
		put headers "$(readlink -f "/lib/modules/$kver/build")"
	else
		put headers missing
	fi
	[ -e /sys/kernel/btf/vmlinux ] && put btf yes || put btf no
	echo "guest: kernel $kver, $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MB" }' /proc/meminfo)"

	# One traced run with -v: the capture path it chooses, and the cost of a start
	# (mostly the BPF compile under TCG).
	# Each line of it is stamped with the seconds since the start, which splits the start
	# into its compile (up to the first "loaded" line) and its load and attach.
	# The compile cache (if the tool has one) lives in the guest's RAM for the whole run.
	export BWM_CACHE_DIR=/run/bwm-vm-cache
	mkdir -p -m 700 "$BWM_CACHE_DIR"
	sleep 300 &
	target=$!
	t0=$(now)
	timeout 300 ./bpf_write_monitor -v -d 1 -p "$target" 2>&1 </dev/null |
		while IFS= read -r line; do
			printf '%6.2f %s\n' "$(secs "$t0" "$EPOCHREALTIME")" "$line"
		done >"$OUT/verbose.log"
	vrc=${PIPESTATUS[0]}
	t1=$(now)
	kill "$target" 2>/dev/null
	wait "$target" 2>/dev/null
	put first_run_rc "$vrc"
	put first_run_seconds "$(secs "$t0" "$t1")"
	put first_run_compiled_at "$(awk '/ loaded / { print $1; exit }' "$OUT/verbose.log")"
	put first_run_traced_at "$(awk '/ Tracing / { print $1; exit }' "$OUT/verbose.log")"
	path=$(sed -n 's/.*capture path[^a-z0-9]*\([a-z0-9+_-]*\).*/\1/Ip' "$OUT/verbose.log" | head -1)
	put path "${path:-n/a}"
	if [ "$vrc" != 0 ]; then
		put first_error "$(sed 's/^ *[0-9.]* //' "$OUT/verbose.log" | grep -m1 -i -e error -e 'cannot' -e 'failed' |
			cut -c1-160)"
	fi
	echo "guest: one traced run (-v -d 1): exit $vrc in $(secs "$t0" "$t1") s (compiled at" \
		"$(get first_run_compiled_at) s, tracing at $(get first_run_traced_at) s), capture path ${path:-n/a}"
	sed 's/^/  | /' "$OUT/verbose.log" | head -40

	local want=() skip=() a
	for a; do
		case $a in --skip=*) skip+=("${a#--skip=}") ;; *) want+=("$a") ;; esac
	done
	if [ ${#skip[@]} -gt 0 ]; then
		# shellcheck disable=SC2207  # test names have no spaces
		want=($(selected "${#want[@]}" "${want[@]}" "${skip[@]}"))
		echo "guest: skipping the tests that contain: ${skip[*]}"
		[ ${#want[@]} -gt 0 ] || want=(no-test-left)
	fi
	t0=$(now)
	python3 -u tests/integration/run.py "${want[@]}" 2>&1 | tee "$OUT/integration.log"
	t1=$(now)
	put suite_seconds "$(secs "$t0" "$t1")"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$OUT/integration.log" | tail -1)
	put passed "$(echo "$summary" | awk '{ print $1 }')"
	put failed "$(echo "$summary" | awk '{ print $3 }')"
	[ -n "$summary" ] && [ "$(echo "$summary" | awk '{ print $3 }')" = 0 ]
}
main "$@"
