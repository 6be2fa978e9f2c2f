#!/usr/bin/env bash
# demo.sh - start a process whose output goes to /dev/null, and show
# bpf_write_monitor capturing it. Run through `sudo make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

# A small worker: a counter on stdout, which nobody will ever see.
bash -c 'for i in $(seq 1 12); do echo "tick $i of 12: $(date +%T.%N | cut -c1-12)"; sleep 0.4; done' \
	>/dev/null 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT

echo "demo: started PID $worker, its stdout and stderr go to /dev/null" >&2
echo "demo: running ./bpf_write_monitor --pid $worker --with-timestamp --with-origin-pid \\" >&2
echo "demo:           --with-origin-process-name" >&2
./bpf_write_monitor --pid "$worker" --with-timestamp --with-origin-pid \
	--with-origin-process-name &
monitor=$!
wait "$worker" || true
sleep 0.2
kill -INT "$monitor"
wait "$monitor"
echo "demo: the worker exited; everything it wrote to /dev/null is above" >&2
