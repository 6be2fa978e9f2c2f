"""Who is not traced because it reads the output (issue 19, items 3 and 4): exactly the
readers, each said, each traced again when it stops; never another run of the tool."""
import os
import re
import signal
import subprocess
import sys

from harness import (TOOL, WRITER, Monitor, Writer, check, expect_eq, register, temp_dir,
                     wait_until)

# The script of the first test: a parent that holds the output pipe for a moment, like
# Python's subprocess between Popen and close, then starts a shell, then writes itself.
HOLDER = r'''
import os, subprocess, sys, time
tool, out, err = sys.argv[1:4]
def wait_for(needle, path):
    deadline = time.monotonic() + 60
    while needle not in open(path).read():
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for %r in %s" % (needle, path))
        time.sleep(0.01)
r, w = os.pipe()
with open(err, "w") as e:
    mon = subprocess.Popen([tool, "-p", str(os.getppid()), "-f", "-K"], stdout=w, stderr=e,
                           stdin=subprocess.DEVNULL)
with open(out, "wb") as o:
    cat = subprocess.Popen(["cat"], stdin=r, stdout=o)
os.close(w)
wait_for("Tracing ", err)            # the first scan found this script holding the pipe
os.close(r)
sh = subprocess.run(["sh", "-c", "echo line from a shell the holder started"])
wait_for("no longer reads this tool's output: traced again", err)
print("line from the holder, traced again", flush=True)
wait_for("line from the holder, traced again", out)
mon.send_signal(2)
mon.wait()
cat.wait()
'''


def test_a_brief_holder_of_the_pipe_is_traced_again_and_its_children_from_the_start():
    d = temp_dir()
    script, out, err = d / "holder.py", d / "out", d / "err"
    script.write_text(HOLDER)
    # The traced root is the shell around the script: the script's parent.
    root = register(subprocess.Popen(["sh", "-c", '"$0" "$@"; true', sys.executable,
                                      str(script), TOOL, str(out), str(err)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE))
    _, script_err = root.communicate(timeout=120)
    said = err.read_text()
    expect_eq(root.returncode, 0, "the holder script's status (%s)\n%s" % (script_err, said))
    check(re.search(r"PID \d+ \(python3\) reads this tool's output: not traced while it does",
                    said), "the first scan's exclusion is said:\n" + said)
    check(re.search(r"PID \d+ \(python3\) no longer reads this tool's output: traced again",
                    said), said)
    lines = out.read_text().splitlines()
    expect_eq([ln for ln in lines if "line from" in ln],
              ["line from a shell the holder started", "line from the holder, traced again"],
              "what the holder and its shell wrote")


def _pipeline(d, name):
    """bpf_write_monitor -p 1 -f -K | cat > FILE, its stderr to a file."""
    out, err = d / (name + ".out"), d / (name + ".err")
    p = register(subprocess.Popen(
        ["sh", "-c", 'exec 2>"$2"; "$0" -p 1 -f -K | cat > "$1"', TOOL, str(out), str(err)],
        stdin=subprocess.DEVNULL, start_new_session=True))
    wait_until(lambda: err.exists() and "Tracing " in err.read_text(), 60,
               name + "'s 'Tracing' line")
    return p, out, err


def _stop(p, err):
    tool = [int(x) for x in subprocess.run(["pgrep", "-s", str(p.pid), "-x", "bpf_write_monit"],
                                           capture_output=True, text=True).stdout.split()]
    for pid in tool:
        os.kill(pid, signal.SIGINT)
    expect_eq(p.wait(timeout=30), 0, "the pipeline's status:\n" + err.read_text())


def _count(path, needle):
    return path.read_bytes().count(needle.encode())


def test_two_system_wide_runs_do_not_feed_each_other():
    d = temp_dir()
    a, a_out, a_err = _pipeline(d, "a")
    b, b_out, b_err = _pipeline(d, "b")
    try:
        for err in (a_err, b_err):
            wait_until(lambda: "is another run of this tool" in err.read_text(), 30,
                       "each run to say it does not trace the other")
        # A marker, seen by both; then a second one: by the time it is in both outputs,
        # the first would have gone round a loop between them many times.
        for i in (1, 2):
            marker = "bwm-two-runs-%d-%d" % (os.getpid(), i)
            subprocess.run(["sh", "-c", 'echo "$0"', marker], check=True,
                           stdout=subprocess.DEVNULL)
            wait_until(lambda: _count(a_out, marker) and _count(b_out, marker), 30,
                       "marker %d in both outputs" % i)
        first = "bwm-two-runs-%d-1" % os.getpid()
        expect_eq((_count(a_out, first), _count(b_out, first)), (1, 1),
                  "the first marker in each output (more: the runs feed each other)")
        for err in (a_err, b_err):
            check(re.search(r"\(cat\) reads the output of another run of this tool",
                            err.read_text()), err.read_text())
    finally:
        _stop(a, a_err)
        _stop(b, b_err)


def test_a_process_that_follows_the_output_file_is_cut():
    # tail -f of the -o file, traced: what it prints (the log) would be captured and
    # logged again. Held open for reading over two scans, it is excluded, with a notice.
    d = temp_dir()
    log, go, stop, start = d / "log", d / "go", d / "stop", d / "start"
    # tail starts once tracing: the scans while it runs, not the first, find it.
    root = register(subprocess.Popen(
        ["sh", "-c", 'until [ -e "$3" ]; do sleep 0.01; done; tail -f "$0" & echo seed line; '
         'until [ -e "$1" ]; do sleep 0.01; done; echo second line; '
         'until [ -e "$2" ]; do sleep 0.01; done; kill $!', str(log), str(go), str(stop),
         str(start)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True))
    m = Monitor("-p", root.pid, "-f", "-o", log, stdout=subprocess.DEVNULL)
    start.touch()
    try:
        m.wait_stderr("(tail) keeps this tool's output file open for reading: not traced",
                      timeout=30)
        seeds = _count(log, "seed line")
        go.touch()
        wait_until(lambda: _count(log, "second line"), 30, "the second line")
        after = _count(log, "seed line")
        check(after <= seeds + 2, "after the cut, tail's echoes went on: %d seed lines, then "
              "%d" % (seeds, after))
        expect_eq(_count(log, "second line"), 1, "the second line, logged once")
    finally:
        stop.touch()
        m.stop()
        subprocess.run(["pkill", "-KILL", "-s", str(root.pid)])   # tail, whatever happened
        root.wait(timeout=30)


def test_a_reader_of_a_reader_is_found_too():
    # tool > FIFO1, and in the traced tree: cat FIFO2 > FILE, started first (a lower PID, so
    # one walk of /proc in PID order meets it before it knows FIFO2 is read from the
    # output), then cat FIFO1 > FIFO2: the second cat reads what the first passes on, a
    # reader too, found by one more walk. Then the tree's shell writes a line.
    d = temp_dir()
    out, f1, f2 = d / "out", d / "fifo1", d / "fifo2"
    os.mkfifo(f1)
    os.mkfifo(f2)
    root = register(subprocess.Popen(
        ["sh", "-c", 'cat "$1" > "$2" & cat "$0" > "$1" & read go; echo through two cats; wait',
         str(f1), str(f2), str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True))
    with open(f1, "wb") as output:          # open() waits for the second cat
        m = Monitor("-p", root.pid, "-f", stdout=output)
    said = set(re.findall(r"PID (\d+) \(cat\) reads this tool's output: not traced while it "
                          r"does", m.stderr))
    expect_eq(len(said), 2, "both cats said to be readers before 'Tracing' (%s)" % m.stderr)
    root.stdin.write(b"go\n")
    root.stdin.flush()
    wait_until(lambda: out.exists() and b"through two cats\n" in out.read_bytes(), 60,
               "the shell's line through both cats")
    r = m.stop()
    expect_eq(root.wait(timeout=30), 0, "the shell's status")
    expect_eq((r.rc, out.read_text()), (0, "through two cats\n"),
              "the tool's status and output (stderr: %s)" % r.stderr)


def test_a_reader_outside_the_tree_is_left_alone_and_so_are_its_children():
    # This test reads the tool's output and is no part of the traced tree: neither it nor
    # the processes it starts are traced, nor said (a mark on it once traced its children).
    w = Writer("wait", "out:inside\\n", "wait")
    m = Monitor("-p", w.pid, "-f")
    outsider = subprocess.run([WRITER, "out:outsider\\n", "err:outsider\\n"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    expect_eq((outsider.returncode, outsider.stdout), (0, b"outsider\n"), "the outsider")
    w.go()
    wait_until(lambda: b"inside\n" in m.stdout, what="the traced line")
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    r = m.finish()
    expect_eq(r.stdout, b"inside\n")
    check("this tool's output" not in r.stderr, "no notice of a reader outside the tree:\n" +
          r.stderr)
    check(" 7 bytes captured" in r.stderr, r.stderr)
