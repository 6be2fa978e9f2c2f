"""Whole lines: a writer's pieces joined per thread and stream, the quiet window, the caps."""
import json
import re
import subprocess
import time

from harness import (Monitor, Writer, capture, check, expect_eq, json_rows, run_tool,
                     wait_until)

WINDOW = 0.100      # the default --line-timeout


def test_ls_error_is_printed_once_whole():
    # glibc's error() writes "ls: ", the message, ": strerror" and "\n" in separate calls.
    w = Writer("-c", "read x; LC_ALL=C exec ls /nonexistent-bwm-path", prog="/bin/sh")
    m = Monitor("-p", w.pid, "--stderr")
    w.p.stdin.write(b"go\n")
    w.p.stdin.flush()
    expect_eq(w.wait(), 2, "ls status")
    r = m.finish()
    expect_eq(r.stdout, b"ls: cannot access '/nonexistent-bwm-path': No such file or directory\n")


def test_json_line_says_how_many_writes_it_is_made_of():
    r = capture(["err:ls: ", "err:cannot access 'x'", "err:: No such file\\n", "err:one\\n"],
                "--stderr", "--json")
    rows, _ = json_rows(r)
    expect_eq([(x["line"], x["writes"], x["continued"]) for x in rows],
              [("ls: cannot access 'x': No such file", 3, False), ("one", 1, False)], "rows")


def test_prompt_is_shown_after_the_window():
    w = Writer("wait", "out:Continue? ", "wait")
    m = Monitor("-p", w.pid)
    start = time.monotonic()
    w.go()
    # Shown while the writer still waits for an answer (the condition), and not before
    # the window: how soon after it is a figure for `make bench` (section 6b), not for a
    # timed test (its 100 ms bound here failed now and then on a busy machine).
    m.wait_stdout(b"Continue? \n")
    delay = time.monotonic() - start
    check(delay >= WINDOW * 0.8, "the prompt showed %.0f ms after it was written, before "
          "the %.0f ms window" % (delay * 1000, WINDOW * 1000))
    check(w.p.poll() is None, "the writer still waits for its answer")
    w.go()
    w.wait()
    expect_eq(m.stop().stdout, b"Continue? \n")


def test_two_streams_of_one_writer_do_not_mix():
    r = capture(["out:o1", "err:e1", "out:o2\\n", "err:e2\\n"], "-1", "-2")
    expect_eq(r.stdout, b"stdout: o1o2\nstderr: e1e2\n")


def test_a_quiet_gap_ends_the_line_and_a_lone_newline_only_ends_it():
    r = capture(["out:Working...", "sleep:300", "out:\\n", "out:abc", "out:def\\n",
                 "out:late", "sleep:300", "out: piece\\n"])
    expect_eq(r.stdout, b"Working...\nabcdef\nlate\n piece\n")


def test_joined_line_has_the_time_of_its_first_piece():
    r = capture(["out:first\\n", "out:a", "sleep:400", "out:b\\n"], "--json",
                "--line-timeout", "2000")
    rows, _ = json_rows(r)
    expect_eq([(x["line"], x["writes"]) for x in rows], [("first", 1), ("ab", 2)], "rows")
    stamps = []
    for x in rows:
        mt = re.fullmatch(r".*T(\d\d):(\d\d):(\d\d\.\d{6}).*", x["time"])
        stamps.append(int(mt.group(1)) * 3600 + int(mt.group(2)) * 60 + float(mt.group(3)))
    gap = (stamps[1] - stamps[0]) % 86400
    check(gap < 0.2, "the joined line's time is its first piece's (%.3f s later)" % gap)


def test_held_cap_prints_the_oldest_line_marked_continued():
    r = capture(["bigwrite:1:3000:0", "bigwrite:2:3000:0", "out:\\n", "err:end\\n"],
                "-1", "-2", "--line-timeout", "60000", "--max-held", "4096")
    expect_eq(r.stdout, b"stdout: " + b"x" * 3000 + b" [... continued]\n" +
              b"stderr: " + b"x" * 3000 + b"end\n")


def test_seed_rules_with_line_timeout_0():
    r = capture(["out:Working...", "out:\\n", "out:abc", "out:def\\n", "out:o1", "out:o2\\n"],
                "--line-timeout", "0")
    expect_eq(r.stdout, b"Working...\nabc\ndef\no1\no2\n")


def _vm(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def test_1500_threads_holding_64kib_each_stay_under_120mib():
    n, size, batch = 1500, 65536, 25
    # 96 MiB through the buffers. Paced by time (1 ms, then 4 ms apart) it outran the
    # drain now and then, and a lost newline left its line held for the whole window
    # (the suite's flaky test). Paced by the tool: after every 25 threads (1.6 MiB, well
    # inside a CPU's buffer) the writer prints "batch K" and waits until the tool has
    # printed it; the losses stay the subject of the balance tests.
    w = Writer("wait", "holders:%d:%d:1:%d" % (n, size, batch), "wait", "release", "wait",
               stderr=subprocess.PIPE)
    m = Monitor("-p", w.pid, "--line-timeout", "600000")
    w.go()
    for k in range(1, n // batch + 1):
        wait_until(lambda: b"batch %d\n" % k in m.stdout, what="batch %d printed" % k)
        w.go()
    expect_eq(w.p.stderr.readline(), b"held %d\n" % n, "the writer's threads")
    w.go()                              # each thread writes its newline and ends
    wait_until(lambda: m.stdout.count(b"\n") >= n + n // batch, what="a line from every thread")
    hwm = _vm(m.pid, "VmHWM")
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    r = m.finish()
    check(" 0 events lost" in r.stderr, r.stderr)
    got = {}
    cut = 0
    batches = []
    for line in r.stdout.split(b"\n")[:-1]:
        if line.startswith(b"batch "):
            batches.append(line)
            continue
        if line.endswith(b" [... continued]"):
            cut += 1
            line = line[:-len(b" [... continued]")]
        check(re.fullmatch(rb"T\d{4} x+", line), "malformed line %r" % line[:40])
        got[line[:5]] = got.get(line[:5], 0) + len(line)
    expect_eq(batches, [b"batch %d" % k for k in range(1, n // batch + 1)], "the batch lines")
    expect_eq(len(got), n, "threads")
    check(all(v == size for v in got.values()), "every byte of every thread")
    check(cut > 0, "96 MiB held goes past the 64 MiB cap: lines must be cut")
    check(hwm < 120 << 20, "peak RSS %.1f MiB, should be < 120 MiB" % (hwm / 2**20))


def _probes_send_task_exit(pid):
    """Do the probes report a thread's exit (BWM_EV_TASK_EXIT, from branch kernels)?"""
    text = run_tool("-p", pid, "--ebpf").stdout
    return text.count(b"BWM_EV_TASK_EXIT") > 1      # more than its #define in event.h


def test_thread_exit_flushes_its_partial_line():
    w = Writer("wait", "thread-part:from a thread", "wait", "out:main\\n")
    m = Monitor("-p", w.pid, "--line-timeout", "600000")
    w.go()
    if _probes_send_task_exit(w.pid):
        m.wait_stdout(b"from a thread\n")   # at the thread's exit, long before the window
        w.go()
        w.wait()
        expect_eq(m.finish().stdout, b"from a thread\nmain\n")
    else:
        # No thread-exit probe: held to the end (the process's exit), never lost.
        w.go()
        w.wait()
        expect_eq(m.finish().stdout, b"main\nfrom a thread\n")
