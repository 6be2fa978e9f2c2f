#!/usr/bin/env bash
# demo.sh - start a small process tree whose output goes to /dev/null, and show
# bpf_write_monitor capturing it. Run through `sudo make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

# A small worker: a counter on stdout and a failing command's complaint on
# stderr, every 0.4 s, all of it thrown away.
bash -c 'for i in $(seq 1 10); do
		echo "tick $i of 10"
		if [ $((i % 4)) -eq 0 ]; then ls /no/such/file; fi
		sleep 0.4
	done' >/dev/null 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT

echo "demo: started PID $worker; its stdout and stderr go to /dev/null" >&2
echo "demo: ./bpf_write_monitor --pid $worker --include-descendants --exits --stdout \\" >&2
echo "demo:     --stderr --with-timestamp --with-origin-pid --with-origin-process-name" >&2
./bpf_write_monitor --pid "$worker" --include-descendants --exits --stdout --stderr \
	--with-timestamp --with-origin-pid --with-origin-process-name
echo "demo: the worker has exited, and the monitor with it; all it wrote is above" >&2
