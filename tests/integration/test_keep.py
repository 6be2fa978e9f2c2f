"""--fd LIST: any fd below 32; --on-failure: the last lines of the processes that fail."""
import os
import re
import shutil
import signal
import subprocess

from test_targets import Cgroup, _cgroup2_root

from harness import (Monitor, Writer, capture, check, error_line, expect_eq, json_rows,
                     kill_quietly, register, run_tool, temp_dir, wait_until)


def test_fd_list_captures_fd3_labelled():
    r = capture(["devnull:3", "out:to stdout\\n", "write:3:log on three\\n",
                 "err:to stderr\\n", "write:3:second\\n"], "--fd", "1,3", "-2")
    expect_eq(r.stdout, b"stdout: to stdout\nfd3: log on three\nstderr: to stderr\n"
              b"fd3: second\n")
    check("(stdout, stderr, fd3)" in r.stderr, "header names the streams: " + r.stderr)


def test_fd_alone_is_bare_and_json_names_it():
    r = capture(["devnull:3", "out:not this\\n", "write:3:only three\\n"], "--fd", "3")
    expect_eq(r.stdout, b"only three\n")
    r = capture(["devnull:3", "write:3:as json\\n"], "--fd", "3", "--json")
    rows, _ = json_rows(r)
    expect_eq([(x["stream"], x["line"]) for x in rows], [("fd3", "as json")])


def test_fd_list_bad_input_is_a_one_line_error():
    for bad in ("32", "x", "1,", "-3", "3,99"):
        r = run_tool("-p", "1", "--fd", bad)
        check(r.rc != 0, "--fd %s accepted" % bad)
        check("invalid --fd" in error_line(r), r.stderr)


# ---- --on-failure ----------------------------------------------------------------------

JOB = """exec >/dev/null 2>&1
echo starting
ls /nonexistent-bwm-dir
echo after ls
sh -c 'echo child ok; exit 0'
exit 1
"""


def _pids_out(text):
    return re.sub(r"PID \d+ ", "PID N ", text)


def test_on_failure_prints_only_what_failed_whole_with_status():
    d = temp_dir()
    (d / "job.sh").write_text(JOB)
    out = d / "out"
    m = Monitor("--on-failure", "-1", "-2", "-o", out, "--", "sh", str(d / "job.sh"))
    r = m.finish()
    expect_eq(r.rc, 1, "the command's status")
    expect_eq(_pids_out(out.read_text()),
              "PID N (ls) exited with status 2; its last 1 line:\n"
              "stderr: ls: cannot access '/nonexistent-bwm-dir': No such file or directory\n"
              "PID N (sh) exited with status 1; its last 3 lines:\n"
              "stdout: starting\nstdout: after ls\nstdout: child ok\n")
    check("2 processes failed; lines not shown: 0 of processes that exited 0" in r.stderr,
          r.stderr)


def test_on_failure_drops_what_succeeded_and_counts_it():
    r = capture(["out:all is well\\n", "fork-exit:0", "out:done\\n"], "--on-failure", "-f")
    expect_eq(r.stdout, b"")
    check("0 processes failed; lines not shown: 3 of processes that exited 0" in r.stderr,
          r.stderr)


def test_on_failure_shows_the_signal_that_killed():
    r = capture(["out:parent line\\n", "fork-kill:9", "fork-exit:0"], "--on-failure", "-f")
    expect_eq(_pids_out(r.text), "PID N (writer) killed by SIGKILL; its last 1 line:\n"
              "dying 9\n")


def test_on_failure_json_lines_then_exit_record_and_a_failed_count():
    r = capture(["fork-exit:4"], "--on-failure", "-f")
    check("1 process failed; lines not shown" in r.stderr, r.stderr)
    r = capture(["fork-exit:4"], "--on-failure", "-f", "--json")
    rows, summary = json_rows(r)
    expect_eq([(x.get("line"), x["type"]) for x in rows],
              [("exiting 4", "line"), (None, "exit")])
    expect_eq(rows[1]["pid"], rows[0]["pid"], "the exit record is the failed child's")
    expect_eq((summary["failed"], summary["succeeded_lines"]), (1, 0))


def test_on_failure_still_running_is_shown_only_with_x():
    for extra, shown in (([], False), (["-x"], True)):
        w = Writer("wait", "out:working\\n", "sleep:60000", stdout=subprocess.PIPE)
        m = Monitor("-p", w.pid, "--on-failure", *extra)
        w.go()
        expect_eq(w.p.stdout.readline(), b"working\n", "the writer's line")
        r = m.stop()
        kill_quietly(w.pid)
        w.wait()
        lines = _pids_out(r.text).splitlines()
        if shown:
            expect_eq(lines[-2:], ["PID N (writer) still running; its last 1 line:",
                                   "working"])
        else:
            expect_eq(lines, [])
            check("lines not shown: 0 of processes that exited 0, 0 older than the last "
                  "kept, 0 past --max-held, 1 of processes still running" in r.stderr,
                  r.stderr)


def test_on_failure_memory_cap_holds_with_2000_noisy_successful_processes():
    # Each child's line goes to the writer (-f: it exited 0); the writer keeps at most 5000,
    # and --max-held 16384 bounds them all: the oldest go first, counted, not lost.
    r = capture(["storm:2000"], "--on-failure=5000", "-f", "-M", "16384", "--json")
    rows, summary = json_rows(r)
    expect_eq(rows, [])
    check(summary["capped_lines"] > 1800, summary)
    expect_eq(summary["capped_lines"] + summary["succeeded_lines"] + summary["older_lines"],
              2000, "every line accounted for")
    expect_eq((summary["failed"], summary["events_lost"]), (0, 0))


def test_on_failure_bad_values():
    for bad in ("0", "x", "-1", "2000000"):
        r = run_tool("-p", "1", "--on-failure=" + bad)
        check(r.rc != 0 and "invalid --on-failure" in error_line(r), r.stderr)
    r = run_tool("-p", "1", "--on-failure", "-r")
    check(r.rc != 0 and "--on-failure" in error_line(r), r.stderr)


def test_on_failure_in_a_cgroup():
    root = _cgroup2_root()
    check(root, "no cgroup2 mount")
    cg = Cgroup(root, "bwm-keep-%d" % os.getpid())
    try:
        w = Writer("wait", "out:parent says\\n", "fork-exit:0", "fork-exit:3", "exit:5")
        m = Monitor("--cgroup", cg.path, "--on-failure")
        Cgroup.move(cg.path, w.pid)
        w.go()
        expect_eq(w.wait(), 5, "writer status")
        m.wait_stdout(b"parent says\n")
        cg.remove()                     # the tool ends when it is gone
        r = m.finish()
    finally:
        cg.remove()
    # The cgroup's fork records: the child that exited 0 handed its line to its parent.
    expect_eq(_pids_out(r.text), "PID N (writer) exited with status 3; its last 1 line:\n"
              "exiting 3\nPID N (writer) exited with status 5; its last 2 lines:\n"
              "parent says\nexiting 0\n")
    check("2 processes failed; lines not shown: 0 of processes that exited 0" in r.stderr,
          r.stderr)


# ---- a real cron daemon ------------------------------------------------------------------
#
# Debian's cron, run privately: in a mount namespace of its own, /etc/cron.d, /etc/crontab
# and the spool are bind-mounted over with a test crontab (the host's jobs never run), a tmpfs
# on /run holds its PID file, and faketime starts its clock at 00:00:57 so that the
# minute's jobs run about 3 s after it starts, not up to 60 s. It waits on stdin until the tool traces it (-p PID -f).

FAILING_JOB = """#!/bin/sh
echo "backup: starting"
ls /nonexistent-bwm-cron
echo "backup: cleanup"
sh -c 'echo "rotated 3 logs"'
exit 1
"""


def _private_cron(d):
    for sub in ("crond", "spool"):
        (d / sub).mkdir()
    (d / "failing.sh").write_text(FAILING_JOB)
    (d / "ok.sh").write_text('#!/bin/sh\necho "ok job: all good"\ntouch %s/ok-done\n' % d)
    for job in ("failing.sh", "ok.sh"):
        os.chmod(d / job, 0o755)
    (d / "crond" / "bwmtest").write_text(
        'SHELL=/bin/sh\nMAILTO=""\n* * * * * root %s/failing.sh\n* * * * * root %s/ok.sh\n'
        % (d, d))
    (d / "crontab").write_text("")
    script = ("read go && mount --bind {d}/crond /etc/cron.d && "
              "mount --bind {d}/crontab /etc/crontab && "
              "mount --bind {d}/spool /var/spool/cron/crontabs && "
              "mount -t tmpfs bwm-run /run && "
              "exec faketime '2026-01-01 00:00:57' cron -f").format(d=d)
    for tool in ("cron", "faketime"):
        check(shutil.which(tool) or os.path.exists("/usr/sbin/" + tool),
              "%s is not installed (tools/install-deps.sh installs it)" % tool)
    return register(subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                      "sh", "-c", script], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True))


def test_on_failure_real_cron_shows_only_the_failing_job_whole_with_its_status():
    _real_cron(None)


def test_on_failure_real_cron_as_a_unit_shows_only_the_failing_job_whole():
    root = _cgroup2_root()
    check(root, "no cgroup2 mount")
    name = "bwmcron-%d" % os.getpid()
    cg = Cgroup(root, "bwm-slice-%d" % os.getpid(), name + ".service")
    try:
        _real_cron(cg, name)
    finally:
        cg.remove()


def _real_cron(cg, unit=None):
    """-p of the daemon with -f; or, with a cgroup, --unit: the daemon runs in it."""
    d = temp_dir()
    cron = _private_cron(d)
    out = d / "out"
    try:
        if cg:
            Cgroup.move(cg.path, cron.pid)
            m = Monitor("--unit", unit, "--on-failure", "-1", "-2", "-o", out)
        else:
            m = Monitor("-p", cron.pid, "-f", "--on-failure", "-1", "-2", "-o", out)
        cron.stdin.write(b"go\n")
        cron.stdin.flush()
        wait_until(lambda: (d / "ok-done").exists() and out.exists() and
                   "rotated 3 logs" in out.read_text(), 30, "both cron jobs to have run")
        r = m.stop()
    finally:
        try:    # faketime and the cron it started: the whole session
            os.killpg(cron.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        cron.wait(10)
        wait_until(lambda: subprocess.run(["pgrep", "-s", str(cron.pid)],
                                          capture_output=True).returncode != 0, 10,
                   "the private cron to end")
    expect_eq(_pids_out(out.read_text()),
              "PID N (ls) exited with status 2; its last 1 line:\n"
              "stderr: ls: cannot access '/nonexistent-bwm-cron': No such file or directory\n"
              "PID N (failing.sh) exited with status 1; its last 3 lines:\n"
              "stdout: backup: starting\nstdout: backup: cleanup\nstdout: rotated 3 logs\n")
    check("ok job" not in out.read_text(), "the job that succeeded is not shown")
    check(re.search(r"lines not shown: \d+ of processes that exited 0, 0 older than the "
                    r"last kept, 0 past --max-held, [1-9]\d* of processes still running", r.stderr),
          r.stderr)
