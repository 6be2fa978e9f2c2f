"""Descendant trees and process lifecycle: real process trees, real BPF."""
import os
import re
import signal
import subprocess
import threading
import time

from harness import (HELPERS, TOOL, Monitor, Writer, check, error_line, expect_eq, run_tool,
                     temp_dir, wait_until)

TREE = str(HELPERS / "tree")
FORKER = str(HELPERS / "forker")


def lines_of(r):
    return r.text.splitlines()


def test_tree_of_children_and_grandchildren_is_captured_once_each():
    w = Writer("3", "2", "20", prog=TREE)
    # The tree's pieces are cut for the seed's rules (see tests/helpers/tree.c).
    m = Monitor("-p", w.pid, "--include-descendants", "--stdout", "--stderr",
                "--with-origin-pid", "--line-timeout", "0")
    w.go()
    expect_eq(w.wait(), 0, "tree status")
    r = m.finish()                      # exits by itself once the tree is gone
    expect_eq(r.rc, 0, "monitor status")
    check("all its descendants have exited" in r.stderr, r.stderr)
    seen = {}
    roles = {}
    starts = set()
    for line in lines_of(r):
        mt = re.fullmatch(r"(\d+) (stdout|stderr): start pid=(\d+) fd=([12])", line)
        if mt:
            expect_eq(mt.group(1), mt.group(3), "writer of %r" % line)
            starts.add((int(mt.group(1)), int(mt.group(4))))
            continue
        mt = re.fullmatch(r"(\d+) (stdout|stderr): pid=(\d+) role=(\w+) fd=([12]) n=(\d+)", line)
        check(mt, "malformed or mixed line: %r" % line)
        pid, stream, tpid, role, fd, n = mt.groups()
        expect_eq(pid, tpid, "writer of %r" % line)
        expect_eq(stream, "stdout" if fd == "1" else "stderr", "stream of %r" % line)
        key = (int(pid), int(fd))
        seen.setdefault(key, []).append(int(n))
        roles[int(pid)] = role
    expect_eq(sorted(roles.values()).count("root"), 1, "root")
    expect_eq(sorted(roles.values()).count("child"), 3, "children")
    expect_eq(sorted(roles.values()).count("grandchild"), 6, "grandchildren")
    for key, ns in seen.items():
        expect_eq(ns, list(range(20)), "lines of %r, in order, once each" % (key,))
    expect_eq(len(seen), 20, "writers x streams")
    expect_eq(starts, set(seen), "first lines")


def test_child_started_after_attach_and_exec():
    w = Writer("-c", "head -c 1 >/dev/null; sh -c 'echo before exec; exec /bin/echo after exec';"
               " echo parent", prog="/bin/sh")
    m = Monitor("-p", w.pid, "-f", "-P", "-x")
    w.go()
    w.wait()
    r = m.finish()
    out = lines_of(r)
    before = [l for l in out if l.endswith("stdout: before exec")]
    after = [l for l in out if l.endswith("stdout: after exec")]
    check(len(before) == 1 and len(after) == 1, "\n".join(out))
    child = before[0].split()[0]
    check(child != str(w.pid), "the lines come from a child")
    expect_eq(after[0].split()[0], child, "pid after exec")
    check("%s stdout: parent" % w.pid in out, "\n".join(out))
    check(any(re.fullmatch(r"%s fork: %s \(parent %d\)" % (child, child, w.pid), l)
              for l in out), "fork line:\n" + "\n".join(out))
    check(any(re.fullmatch(r"%s exec: %s /bin/echo" % (child, child), l) for l in out),
          "exec line:\n" + "\n".join(out))


def _threads(*args):
    w = Writer("threads:4:50", "wait", "release")
    m = Monitor("-p", w.pid, *args)       # the threads exist before the monitor starts
    w.go()
    w.wait()
    r = m.finish()
    got = {}
    for line in lines_of(r):
        mt = re.fullmatch(r"thread (\d) line (\d+)", line)
        check(mt, "malformed line %r" % line)
        got.setdefault(int(mt.group(1)), []).append(int(mt.group(2)))
    expect_eq(sorted(got), [0, 1, 2, 3], "threads")
    for t, ns in got.items():
        expect_eq(ns, list(range(50)), "thread %d" % t)


def test_threads_that_existed_before_attach():
    _threads()


def test_threads_that_existed_before_attach_with_descendants():
    _threads("-f")


def test_a_thread_id_traces_its_process():
    w = Writer("threads:2:5", "wait", "out:main\\n", "release")
    wait_until(lambda: len(os.listdir("/proc/%d/task" % w.pid)) == 3, what="the threads")
    tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % w.pid) if int(t) != w.pid)
    check(len(tids) == 2, "two threads: %r" % tids)
    m = Monitor("-p", tids[0])
    check("%d is a thread of process %d: tracing the process" % (tids[0], w.pid) in m.stderr,
          m.stderr)
    w.go()
    w.wait()
    r = m.finish()
    expect_eq(len(r.text.splitlines()), 11, "the main thread's line and both threads' lines")


def test_process_lives_on_after_its_main_thread_exits():
    w = Writer("threads:2:30", "wait", "leader-exit")
    m = Monitor("-p", w.pid)
    w.go()
    w.wait()
    r = m.finish()
    expect_eq(len(lines_of(r)), 60, "lines of both threads")


def test_fork_storm_of_1000_short_lived_children():
    w = Writer("wait", "storm:1000")
    m = Monitor("-p", w.pid, "-f")
    w.go()
    w.wait()
    r = m.finish()
    expect_eq(r.text, "".join("storm %d\n" % i for i in range(1000)))


def test_children_forked_during_startup_are_caught():
    pidfile = str(temp_dir() / "pids")
    w = Writer(pidfile, prog=FORKER)
    # An empty compile cache: start-up compiles, a window long enough for many forks.
    m = Monitor("-p", w.pid, "-f", env=dict(os.environ, BWM_CACHE_DIR=str(temp_dir())))
    w.go()
    expect_eq(w.wait(), 0, "forker status")
    r = m.finish()
    kids = {int(l) for l in open(pidfile).read().split()}
    check(len(kids) > 100, "the forker should have forked for a while: %d" % len(kids))
    got = [int(l.split()[1]) for l in lines_of(r)]
    expect_eq(len(got), len(set(got)), "each child once")
    missing = kids - set(got)
    check(not missing, "%d of %d children not captured, e.g. %s"
          % (len(missing), len(kids), sorted(missing)[:5]))


def test_exits_by_itself_when_the_process_exits():
    w = Writer("wait", "out:bye\\n")
    m = Monitor("-p", w.pid)
    w.go()
    w.wait()
    r = m.finish()
    expect_eq((r.rc, r.stdout), (0, b"bye\n"), "status and output")
    check("\nbpf_write_monitor: PID %d has exited\n" % w.pid in r.stderr, r.stderr)


def test_quiet_exit():
    w = Writer("wait", "out:bye\\n")
    m = Monitor("-p", w.pid, "-q", ready=False)
    wait_until(lambda: m.p.poll() is not None or _attached(m), what="the monitor to attach")
    w.go()
    w.wait()
    r = m.finish()
    expect_eq(r.stderr, "", "stderr with -q")


def _attached(m):
    # With -q there is no "Tracing" line: wait for the probes instead.
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True).stdout
    return b"sys_exit_write" in out and m.p.poll() is None


def test_exit_status_and_signal_lines():
    w = Writer("wait", "fork-exit:3", "fork-kill:15", "fork-kill:11", "fork-kill:9", "exit:5")
    m = Monitor("-p", w.pid, "-f", "-x", "-P")
    w.go()
    expect_eq(w.wait(), 5, "writer status")
    r = m.finish()
    out = lines_of(r)
    statuses = {}
    for line in out:
        mt = re.fullmatch(r"(\d+) exit: (\d+) (.*)", line)
        if mt:
            expect_eq(mt.group(1), mt.group(2), "pid of %r" % line)
            statuses[int(mt.group(2))] = mt.group(3)
    children = [int(l.split()[0]) for l in out if re.fullmatch(r"\d+ stdout: (exiting|dying) \d+", l)]
    expect_eq(len(children), 4, "children's lines:\n" + "\n".join(out))
    expect_eq([statuses.get(c) for c in children],
              ["exited with status 3", "killed by SIGTERM", "killed by SIGSEGV",
               "killed by SIGKILL"], "children's exits")
    expect_eq(statuses.get(w.pid), "exited with status 5", "the root's exit")
    expect_eq(out[-1], "%d exit: %d exited with status 5" % (w.pid, w.pid), "last line")


def test_exit_line_of_a_single_process_killed_from_outside():
    w = Writer("wait", "out:waiting\\n", "sleep:60000")
    m = Monitor("-p", w.pid, "--exits")
    w.go()
    m.wait_stdout(b"waiting\n")
    os.kill(w.pid, signal.SIGTERM)
    w.wait()
    r = m.finish()
    expect_eq(r.text, "waiting\nexit: %d killed by SIGTERM\n" % w.pid)


def test_duration_stops_the_tool():
    w = Writer("wait", "out:x\\n", "sleep:60000")
    start = time.monotonic()
    m = Monitor("-p", w.pid, "--duration", "1.5")
    w.go()
    r = m.finish(timeout=20)
    took = time.monotonic() - start
    expect_eq((r.rc, r.stdout), (0, b"x\n"), "status and output")
    check(1.5 < took < 15, "took %.1f s" % took)
    check(w.p.poll() is None, "the writer is still running")


def test_duration_is_validated():
    for bad in ("0", "-1", "abc", "1e9"):
        r = run_tool("-p", "1", "-d", bad)
        check(r.rc == 2 and "invalid duration" in error_line(r), repr(r))


def test_exclude_kernel_refuses_a_kernel_thread_target():
    line = error_line(run_tool("-p", "2", "-f", "--exclude-kernel"))
    check("kernel thread" in line and "drop -K" in line, line)


def test_kernel_thread_target_is_accepted_with_a_note():
    m = Monitor("-p", "2", "-d", "0.5")
    r = m.finish()
    expect_eq(r.rc, 0, "status")
    check("kernel threads make no system calls" in r.stderr, r.stderr)


def test_reader_of_the_output_cannot_be_the_target():
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        p = subprocess.run([TOOL, "-p", str(cat.pid)], stdout=cat.stdin,
                           stderr=subprocess.PIPE, timeout=60)
        check(p.returncode == 1, "status %d" % p.returncode)
        check(b"reads this tool's own output" in p.stderr, p.stderr.decode())
    finally:
        cat.kill()
        cat.wait()


def test_holder_of_the_output_terminal_master_cannot_be_the_target():
    master, slave = os.openpty()
    holder = subprocess.Popen(["sleep", "60"], pass_fds=[master], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(master)
    try:
        p = subprocess.run([TOOL, "-p", str(holder.pid)], stdout=slave,
                           stderr=subprocess.PIPE, timeout=60)
        check(p.returncode == 1, "status %d" % p.returncode)
        check(b"reads this tool's own output" in p.stderr, p.stderr.decode())
    finally:
        os.close(slave)
        holder.kill()
        holder.wait()


def test_a_writer_sharing_the_output_pipe_is_not_a_reader():
    # (writer; monitor) | cat: the writer holds the pipe's write end, like the monitor.
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        w = Writer("wait", "err:from the writer\n", stdout=cat.stdin)
        m = Monitor("-p", w.pid, "--stderr", stdout=cat.stdin)
        cat.stdin.close()
        w.go()
        w.wait()
        r = m.finish()
        expect_eq(r.rc, 0, "status")
        expect_eq(cat.stdout.read(), b"from the writer\n", "the monitor's output, through cat")
    finally:
        cat.kill()
        cat.wait()


def test_system_wide_with_output_to_a_pipe_has_no_feedback_loop():
    marker = "bwm-system-wide-%d" % os.getpid()
    fifo = str(temp_dir() / "go")
    os.mkfifo(fifo)
    # A writer outside this process's subtree (double fork: its parent is gone),
    # because this test process reads the output and is excluded with its children.
    subprocess.run(["setsid", "-f", "sh", "-c",
                    'read x < "$0"; for i in 1 2 3; do echo "$1 $i"; done', fifo, marker],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    try:
        cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        m = Monitor("-p", "1", "-f", "-K", "-1", "-2", "-T", "-P", "-C", "-d", "3",
                    stdout=cat.stdin)
        cat.stdin.close()
        out = []
        t = threading.Thread(target=lambda: out.append(cat.stdout.read()), daemon=True)
        t.start()
    finally:
        with open(fifo, "w") as f:      # the writer goes (and ends) whatever happened
            f.write("go\n")
    r = m.finish(timeout=30)
    t.join(30)
    cat.wait(10)
    expect_eq(r.rc, 0, "monitor status")
    text = out[0].decode("utf-8", "replace")
    mine = [l for l in text.splitlines() if marker in l]
    expect_eq(len(mine), 3, "marker lines (more would be feedback):\n" + "\n".join(mine))
    for l in mine:
        check(re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d \d+ sh stdout: %s [123]" % marker, l), l)
    check(not re.search(r"(stdout|stderr): \d\d:\d\d:\d\d\.\d\d\d \d+ ", text),
          "a line of the tool's own output was captured")
