"""Faults, stalls and hostile input (issue 11): real BPF, real processes."""
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

from harness import (TOOL, WRITER, Monitor, Writer, check, error_line, expect_eq, loaded_programs,
                     new_maps, register, run_tool, temp_dir, wait_until)


def _cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(r):
    mt = re.search(r"(\d+) lines, (\d+) bytes captured, (\d+) events lost"
                   r"(?:, \d+ bytes not captured \([^)]*\))?"
                   r"(?:, (\d+) lines \((\d+) bytes\) not printed[^,]*)?, [\d.]+ s$",
                   r.stderr.rstrip(), re.M)
    check(mt, "summary line:\n" + r.stderr)
    return [int(x or 0) for x in mt.groups()]


# ---- item 1: no spinning once the root has exited ----------------------------

def test_no_spin_after_the_root_exits_while_a_child_lives():
    # The root exits at once; its child lives on until the test sends a second line.
    root = register(subprocess.Popen(
        ["/bin/sh", "-c", "exec 3<&0; read -r _ <&3; (read -r _ <&3; echo child done) & exit 0"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL))
    m = Monitor("-p", root.pid, "-f")
    root.stdin.write(b"go\n")
    root.stdin.flush()
    root.wait(timeout=10)
    before, t0 = _cpu_seconds(m.pid), time.monotonic()
    time.sleep(1.0)                     # a measurement window, not a synchronisation
    used = _cpu_seconds(m.pid) - before
    elapsed = time.monotonic() - t0
    check(used < 0.25 * elapsed, "the tool used %.2f s of CPU in %.2f s with the root gone"
          % (used, elapsed))
    root.stdin.write(b"go\n")
    root.stdin.close()
    r = m.finish()                      # ends by itself once the child is gone
    expect_eq(r.stdout, b"child done\n")
    check("all its descendants have exited" in r.stderr, r.stderr)


# ---- items 3 and 4: -o is private, never hangs -------------------------------

def test_output_onto_a_fifo_nobody_reads_fails_at_once():
    fifo = os.path.join(temp_dir(), "fifo")
    os.mkfifo(fifo, 0o600)
    w = Writer("wait")
    r = run_tool("-p", w.pid, "-o", fifo, timeout=20)
    check(r.rc != 0, repr(r))
    line = error_line(r)
    check("> FIFO" in line, line)


def test_output_onto_a_file_others_can_read_is_refused():
    path = os.path.join(temp_dir(), "shared.log")
    with open(path, "w"):
        pass
    os.chmod(path, 0o644)
    w = Writer("wait")
    r = run_tool("-p", w.pid, "-o", path)
    check(r.rc != 0, repr(r))
    line = error_line(r)
    check("chmod 600 %s" % path in line, line)
    expect_eq(stat.S_IMODE(os.stat(path).st_mode), 0o644, "mode left alone")
    expect_eq(os.path.getsize(path), 0, "nothing written")


def test_output_onto_a_file_of_another_user_is_refused():
    path = os.path.join(temp_dir(), "theirs.log")
    with open(path, "w"):
        pass
    os.chmod(path, 0o600)
    os.chown(path, 65534, 65534)
    w = Writer("wait")
    line = error_line(run_tool("-p", w.pid, "-o", path))
    check("owned by UID 65534" in line, line)


def test_output_onto_a_device_is_refused():
    w = Writer("wait")
    line = error_line(run_tool("-p", w.pid, "-o", "/dev/null"))
    check("shell redirection" in line, line)


# ---- item 5: a stop request ends the tool whatever its output does ------------

def _blocked_on_pipe(pid):
    """Is the process asleep in a pipe write? wchan names the function ("pipe_write",
    "anon_pipe_write", ...) where the kernel can tell; 5.10's x86 kernels cannot (wchan is
    "0": no frame pointers to walk), and there it is: asleep (S) in write(2)."""
    with open("/proc/%d/wchan" % pid) as f:
        wchan = f.read()
    if wchan.endswith("pipe_write"):
        return True
    if wchan not in ("0", ""):
        return False
    with open("/proc/%d/stat" % pid) as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open("/proc/%d/syscall" % pid) as f:
        nr = f.read().split()[0]
    return state == "S" and nr == "1"


def _blocked_pipe_run(reader):
    """Trace a 2 MB burst into a pipe that reader() drains; SIGINT once the tool is
    blocked writing. Returns (seconds to exit, bytes the pipe got, summary figures)."""
    rd, wr = os.pipe()
    n = 20000
    w = Writer("wait", "burst:1:%d:100" % n)
    m = Monitor("-p", w.pid, stdout=wr)
    os.close(wr)
    got = bytearray()
    stop = threading.Event()
    t = threading.Thread(target=reader, args=(rd, got, stop), daemon=True)
    t.start()
    w.go()
    w.wait()

    wait_until(lambda: _blocked_on_pipe(m.pid), 30, "the tool to block on its output")
    t0 = time.monotonic()
    m.p.send_signal(signal.SIGINT)
    r = m.finish(timeout=10)
    took = time.monotonic() - t0
    stop.set()
    t.join(10)
    while True:                         # what the tool wrote is in the pipe by now
        chunk = os.read(rd, 1 << 20)
        if not chunk:
            break
        got.extend(chunk)
    os.close(rd)
    expect_eq(r.rc, 0, "exit status")
    return took, bytes(got), _summary(r)


# Before the fix the tool never ended while its output was blocked. The tests prove that
# it ends, and in how long it says in a failure; the 2 s target of issue 11 is a figure
# to measure on a quiet machine, not a bound for a timed test on a shared one.
ENDS_WITHIN = 8.0


def _check_nothing_unaccounted(got, figures):
    lines, captured, lost, unprinted_lines, unprinted = figures
    check(unprinted > 0, "some output must have been left unprinted: %r" % figures)
    expect_eq(len(got) + unprinted, captured, "bytes printed + bytes not printed")
    expect_eq(got.count(b"\n") + unprinted_lines, lines, "lines printed + not printed")


def test_sigint_ends_the_tool_while_nobody_reads_its_output():
    def never(rd, got, stop):
        stop.wait()
    took, got, figures = _blocked_pipe_run(never)
    check(took < ENDS_WITHIN, "the tool took %.2f s to end after SIGINT" % took)
    _check_nothing_unaccounted(got, figures)


def test_sigint_ends_the_tool_with_a_reader_of_one_byte_a_second():
    def slow(rd, got, stop):
        while not stop.wait(1.0):
            got.extend(os.read(rd, 1))
    took, got, figures = _blocked_pipe_run(slow)
    check(took < ENDS_WITHIN, "the tool took %.2f s to end after SIGINT" % took)
    _check_nothing_unaccounted(got, figures)


def test_sigterm_and_sighup_end_a_blocked_tool_too():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        rd, wr = os.pipe()
        w = Writer("wait", "burst:1:5000:100")
        m = Monitor("-p", w.pid, stdout=wr)
        os.close(wr)
        w.go()
        w.wait()
        wait_until(lambda: _blocked_on_pipe(m.pid), 30, "the tool to block on its output")
        t0 = time.monotonic()
        m.p.send_signal(sig)
        r = m.finish(timeout=10)
        took = time.monotonic() - t0
        os.close(rd)
        check(took < ENDS_WITHIN, "%s: the tool took %.2f s to end" % (sig.name, took))
        check(_summary(r)[4] > 0, "%s: unprinted bytes counted:\n%s" % (sig.name, r.stderr))


def test_sigterm_with_a_command_and_a_blocked_output_ends_both_in_time():
    # The command writes to its stderr (the harness reads it); the capture goes to a pipe
    # nobody reads. SIGTERM goes on to the command, and the output gets its grace period.
    rd, wr = os.pipe()
    m = Monitor("-2", "--", WRITER, "burst:2:5000:100", "sleep:60000", stdout=wr)
    os.close(wr)
    wait_until(lambda: _blocked_on_pipe(m.pid), 30, "the tool to block on its output")
    t0 = time.monotonic()
    m.p.send_signal(signal.SIGTERM)
    r = m.finish(timeout=10)
    took = time.monotonic() - t0
    os.close(rd)
    check(took < ENDS_WITHIN, "the tool took %.2f s to end" % took)
    expect_eq(r.rc, 128 + signal.SIGTERM, "the command's status (SIGTERM passed on)")
    check(_summary(r)[4] > 0, "unprinted bytes counted:\n" + r.stderr[-3000:])


def _both_streams_blocked(*args, go=lambda: None):
    """The tool with stdout and stderr on one pipe (`tool 2>&1 | stuck`): the pipe is read
    up to the 'Tracing' line, then never again, while a 2 MB burst is traced. Returns the
    tool's Popen and the pipe's read end once the tool is blocked writing."""
    rd, wr = os.pipe()
    p = register(subprocess.Popen([TOOL, *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                                  stdout=wr, stderr=wr))
    os.close(wr)
    seen = bytearray()
    while b"Tracing " not in seen:
        chunk = os.read(rd, 4096)
        check(chunk, "the tool ended before its 'Tracing' line: %r" % bytes(seen))
        seen.extend(chunk)
    go()
    wait_until(lambda: _blocked_on_pipe(p.pid), 30, "the tool to block on its output")
    return p, rd


def _ended(p, rd, sig_times):
    t0 = time.monotonic()
    for _ in range(sig_times):
        p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=ENDS_WITHIN)
    except subprocess.TimeoutExpired:
        raise AssertionError("the tool did not end %.0f s after %d SIGINT with stdout and "
                             "stderr blocked" % (ENDS_WITHIN, sig_times))
    took = time.monotonic() - t0
    os.close(rd)
    return rc, took


# Before the fix: the stop tick was cancelled before the summary went to stderr, and
# that write blocked for ever (issue 19: SIGINT twice left it running 13 s later).
def test_sigint_ends_the_tool_with_stdout_and_stderr_on_one_unread_pipe():
    w = Writer("wait", "burst:1:20000:100")
    p, rd = _both_streams_blocked("-p", w.pid, go=w.go)
    w.wait()
    rc, took = _ended(p, rd, 1)
    expect_eq(rc, 0, "exit status")


def test_duration_ends_the_tool_with_both_streams_blocked():
    # --duration's end is a stop like SIGINT's: it comes while a write blocks, too.
    w = Writer("wait", "burst:1:20000:100")
    p, rd = _both_streams_blocked("-d", "3", "-p", w.pid, go=w.go)
    w.wait()
    try:
        rc = p.wait(timeout=3 + ENDS_WITHIN)
    except subprocess.TimeoutExpired:
        raise AssertionError("-d 3 with stdout and stderr blocked: the tool did not end")
    os.close(rd)
    expect_eq(rc, 0, "exit status")


def _asleep_in_epoll(pid):
    """Is the process asleep in epoll? wchan says where it can; 5.10's x86 kernels cannot
    ("0", as in _blocked_on_pipe): there, asleep (S) in epoll_wait(2) or epoll_pwait(2)."""
    with open("/proc/%d/wchan" % pid) as f:
        wchan = f.read()
    if wchan not in ("0", ""):
        return "epoll" in wchan
    with open("/proc/%d/stat" % pid) as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open("/proc/%d/syscall" % pid) as f:
        nr = f.read().split()[0]
    return state == "S" and nr in ("232", "281")


def test_a_second_sigint_ends_the_tool_at_once_with_both_streams_blocked():
    # A command that ignores SIGINT: the first SIGINT goes on to it and the tool, its output
    # given up after the grace, waits for it in the loop; the second ends the tool all the
    # same (the runner checks that no probe is left), and leaves the command running.
    cmd = "trap '' INT; exec %s burst:1:20000:100 sleep:60000" % WRITER
    p, rd = _both_streams_blocked("--", "sh", "-c", cmd)
    child = int(open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()[0])
    p.send_signal(signal.SIGINT)
    wait_until(lambda: _asleep_in_epoll(p.pid), 30, "the tool to give its output up and wait")
    check(p.poll() is None, "the tool ended at the first SIGINT: its command still runs")
    rc, took = _ended(p, rd, 1)
    expect_eq(rc, 0, "exit status (the command still runs)")
    check(os.path.exists("/proc/%d" % child), "the command must be left running")
    os.kill(child, signal.SIGKILL)


# ---- faults of the target and of the tool -----------------------------------

def test_target_killed_mid_line_leaves_its_partial_line_and_exit():
    w = Writer("wait", "out:first\\nhalf", "wait")
    m = Monitor("-p", w.pid, "-x", "-P")
    w.go()
    m.wait_stdout(b"first\n")
    w.p.kill()
    w.p.wait()
    r = m.finish()                      # ends by itself: the target is gone
    expect_eq(r.text.splitlines(), ["%d stdout: first" % w.pid, "%d stdout: half" % w.pid,
                                    "%d exit: %d killed by SIGKILL" % (w.pid, w.pid)])
    check("has exited" in r.stderr, r.stderr)


def _our_programs():
    """Ids of loaded programs that use one of the tool's (bwm_*) maps."""
    import json
    from harness import bpftool, our_maps
    maps = our_maps()
    out = subprocess.run([bpftool(), "-j", "prog", "show"], capture_output=True, check=True,
                         timeout=30).stdout
    return {p["id"] for p in json.loads(out or b"[]") if maps & set(p.get("map_ids", []))}


def test_tool_killed_with_sigkill_leaves_no_program_loaded():
    w = Writer("wait", "out:x\\n")
    m = Monitor("-p", w.pid, "-f", "-x")
    progs = _our_programs()
    check(len(progs) >= 5, "the tool's programs are loaded: %r" % progs)
    m.p.kill()
    m.finish()
    # Programs, maps and perf events are held by the tool's fds only: its death frees them.
    wait_until(lambda: not (loaded_programs() & progs) and not new_maps(), 10,
               "the programs and maps of a SIGKILLed tool to be freed")


def test_5000_threads_are_captured_or_their_loss_counted():
    n, count = 5000, 2
    w = Writer("threads:%d:%d" % (n, count), "wait", "release")
    m = Monitor("-p", w.pid)
    w.go()
    expect_eq(w.wait(timeout=120), 0, "writer status")
    r = m.stop()
    lines = r.text.splitlines()
    expect_eq(len(lines), len(set(lines)), "each line once")
    check(all(re.fullmatch(r"thread \d+ line \d+", l) for l in lines), "well-formed lines")
    captured, _, lost = _summary(r)[:3]
    expect_eq(captured, len(lines), "lines counted")
    # Each thread's exit (and the process's) is a record too: one that is lost is
    # counted with no line to show for it.
    check(n * count <= len(lines) + lost <= n * count + n + 1,
          "lines captured + events lost: %d + %d for %d lines" % (len(lines), lost, n * count))
    check(len(lines) > 0, "some lines must get through:\n" + r.stderr)
    # The bytes balance: every line's bytes were captured or counted by reason.
    written = sum(len("thread %d line %d\n" % (t, i)) for t in range(n) for i in range(count))
    mt = re.search(r"(\d+) bytes captured, \d+ events lost(?:, (\d+) bytes not captured)?",
                   r.stderr)
    expect_eq(int(mt.group(1)) + int(mt.group(2) or 0), written,
              "bytes captured + not captured:\n" + r.stderr)


# ---- item 2: whatever reads the tool's output is not traced ------------------

def _feedback_run(reader_cmd, *tool_args):
    """Trace -f a root that, once tracing, starts reader_cmd (which reads the tool's
    output from the FIFO at $FIFO) and writes a seed line. Returns (Result, seconds)."""
    d = temp_dir()
    fifo, out = os.path.join(d, "fifo"), os.path.join(d, "out")
    os.mkfifo(fifo, 0o600)
    wr = os.open(fifo, os.O_RDWR)      # the tool's stdout: open without waiting for a reader
    root = register(subprocess.Popen(
        ["/bin/sh", "-c", "read -r _; %s & echo seed line; wait" % reader_cmd],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        env=dict(os.environ, FIFO=fifo, OUT=out)))
    m = Monitor("-p", root.pid, "-f", "-K", "-1", "-2", "-d", "3", stdout=wr)
    os.close(wr)
    root.stdin.write(b"go\n")
    root.stdin.flush()
    r = m.finish()
    root.kill()
    return r, out


# The seed line goes round the loop once per drain of the tool (25 ms): 3 s of a loop
# left running echo it some 120 times. Cut at the next scan (1 s at most), far fewer.
LOOP_CUT_WITHIN = 60


def _check_loop_cut(r, out):
    echoes = Path(out).read_bytes().count(b"seed line") if os.path.exists(out) else 0
    check(0 < echoes <= LOOP_CUT_WITHIN, "the seed line went round the loop %d times (cut: "
          "at most %d):\n%s" % (echoes, LOOP_CUT_WITHIN, r.stderr[-3000:]))


def test_feedback_through_a_named_fifo_is_cut():
    r, out = _feedback_run('cat < "$FIFO" > "$OUT"')
    # The reader is named as the scan finds it: "sh" when its shell has opened the FIFO
    # for cat but not yet run it (a slow machine), "cat" after.
    check(re.search(r"PID \d+ \((cat|sh)\) reads this tool's output: not traced while it does",
                    r.stderr), r.stderr)
    _check_loop_cut(r, out)


def test_feedback_through_tee_is_cut():
    r, out = _feedback_run('cat < "$FIFO" | tee "$OUT" > /dev/null')
    # cat or tee, or "sh" when the scan finds the pipeline's shells before they ran them
    check(re.search(r"\((tee|cat|sh)\) reads this tool's output", r.stderr), r.stderr)
    _check_loop_cut(r, out)


# ---- item 6: the target is pinned by its pidfd before it is checked ----------

def test_target_pidfd_is_opened_before_proc_is_read_and_checked_after():
    strace = shutil.which("strace")
    check(strace, "strace not found (apt-get install strace)")
    w = Writer("wait")
    log = os.path.join(temp_dir(), "strace.log")
    # A bad --probe-dir ends the run right after the target checks: nothing is loaded.
    r = run_tool("-p", w.pid, "--probe-dir", "/nonexistent", prog=[
        strace, "-o", log, "-e", "trace=pidfd_open,pidfd_send_signal,openat", TOOL])
    check(r.rc != 0, repr(r))
    calls = [l for l in open(log).read().splitlines()
             if "pidfd_open(%d," % w.pid in l or "pidfd_send_signal(" in l or
             '"/proc/%d/stat"' % w.pid in l]
    kinds = [("open" if "pidfd_open" in l else "signal" if "send_signal" in l else "proc")
             for l in calls]
    check(kinds[:3] == ["open", "proc", "signal"], "order of the calls:\n" + "\n".join(calls))


def test_several_targets_each_pidfd_opened_first_and_kept_for_the_watch():
    strace = shutil.which("strace")
    check(strace, "strace not found (apt-get install strace)")
    a = Writer("wait", "out:from a\\n")
    b = Writer("wait", "out:from b\\n")
    log = os.path.join(temp_dir(), "strace.log")
    m = Monitor("-p", "%d,%d" % (a.pid, b.pid), prog=[
        strace, "-o", log, "-e", "trace=pidfd_open,pidfd_send_signal,openat", TOOL])
    for w in (a, b):
        w.go()
        expect_eq(w.wait(), 0, "writer status")
    r = m.finish()                      # by itself: the kept pidfds told both exits
    expect_eq(sorted(r.text.splitlines()), ["from a", "from b"], "both targets' lines")
    check("PIDs %d, %d have exited" % (a.pid, b.pid) in r.stderr, r.stderr)
    lines = open(log).read().splitlines()
    for w in (a, b):
        opens = [i for i, l in enumerate(lines) if "pidfd_open(%d," % w.pid in l]
        procs = [i for i, l in enumerate(lines) if '"/proc/%d/stat"' % w.pid in l]
        expect_eq(len(opens), 1, "pidfd_open calls for PID %d (the watch keeps the checked "
                  "one):\n%s" % (w.pid, "\n".join(lines)))
        check(procs and opens[0] < procs[0], "pidfd_open before /proc/%d/stat:\n%s"
              % (w.pid, "\n".join(lines)))
        check(any("pidfd_send_signal(" in l for l in lines[procs[0]:]),
              "pidfd_send_signal after /proc/%d/stat:\n%s" % (w.pid, "\n".join(lines)))
