"""--journal: each captured line is one entry of a real systemd-journald, read back with
journalctl -o json.

Where no journald runs (systemd installed but not PID 1), each test starts one
(/lib/systemd/systemd-journald, after creating /run/systemd/journal) and stops it at its end;
one that already runs is used and left alone. Entries are told apart from everyone else's by
the tool's own _PID (and the writer's OBJECT_PID); each read waits for the expected count.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

from harness import (ROOT, TOOL, TIMEOUT, WRITER, Monitor, Writer, check, error_line,
                     expect_eq, register, run_tool, temp_dir, wait_until)

JOURNALD = "/lib/systemd/systemd-journald"
SOCKET = "/run/systemd/journal/socket"
MID_FORK = "c94cfa92df1541e5936ed12f7444347a"
MID_EXEC = "af3100782760493fbbe06de8528bcb7f"
MID_EXIT = "90121fde2795427baf4a4395a31e31b0"
MID_SUMMARY = "00611af2c2954c0582e79b98976b2238"
UNIT = ROOT / "debian" / "bpf-write-monitor@.service"


def _journald_takes():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(SOCKET)
        return True
    except OSError:
        return False
    finally:
        s.close()


@contextmanager
def journald():
    """A running journald: the one there is, or one started (and stopped) here. Yields the
    process when it is ours, None when it is the machine's."""
    if _journald_takes():
        yield None
        return
    os.makedirs("/run/systemd/journal", exist_ok=True)
    p = register(subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        wait_until(lambda: _journald_takes() or p.poll() is not None, TIMEOUT,
                   "journald's socket")
        check(p.poll() is None, "%s exited with %s" % (JOURNALD, p.returncode))
        yield p
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)  # a test may have stopped it
            p.terminate()
            p.wait(timeout=TIMEOUT)


def entries(count, *matches):
    """The journal's entries matching all of matches ("FIELD=value"), once there are count."""
    found = []

    def enough():
        found[:] = [json.loads(l) for l in subprocess.run(
            ["journalctl", "--no-pager", "--all", "-o", "json", *matches],
            capture_output=True, check=True, timeout=TIMEOUT).stdout.splitlines()]
        return len(found) >= count
    wait_until(enough, TIMEOUT, "%d journal entries with %s" % (count, " ".join(matches)))
    return found


def now_us():
    return time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000


def test_journal_entry_per_line_in_order_with_its_fields():
    with journald():
        w = Writer("wait", "out:first line\\n", "out:two ", "out:writes\\n",
                   "err:on stderr\\n", "out:last\\n")
        m = Monitor("-p", w.pid, "-1", "-2", "--journal", stdout=subprocess.PIPE)
        start = now_us()
        w.go()
        expect_eq(w.wait(), 0, "writer status")
        r = m.finish()
        end = now_us()
        expect_eq(r.rc, 0, "status")
        expect_eq(r.stdout, b"", "stdout (the lines went to the journal)")
        got = entries(4, "_PID=%d" % m.pid, "OBJECT_PID=%d" % w.pid)
    want = [("first line", "stdout", "6", "1"), ("two writes", "stdout", "6", "2"),
            ("on stderr", "stderr", "3", "1"), ("last", "stdout", "6", "1")]
    expect_eq([(e["MESSAGE"], e["BWM_STREAM"], e["PRIORITY"], e["BWM_WRITES"]) for e in got],
              want, "MESSAGE, BWM_STREAM, PRIORITY, BWM_WRITES of the entries, in order")
    for e in got:
        expect_eq((e["SYSLOG_IDENTIFIER"], e["OBJECT_PID"], e["BWM_TID"], e["BWM_CONTINUED"]),
                  ("writer", str(w.pid), str(w.pid), "0"), "identity fields of %r" % e)
        check("MESSAGE_ID" not in e and "CODE_FILE" not in e, "extra fields in %r" % e)
    stamps = [int(e["BWM_WRITE_REALTIME"]) for e in got]
    check(start <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= end,
          "BWM_WRITE_REALTIME %r not within the run (%d..%d), in order" % (stamps, start, end))


def test_journal_binary_line_is_sent_as_its_bytes():
    with journald():
        w = Writer("wait", "out:nul\\x00and \\xff\\xfe invalid\\n", "out:\\e[31mred\\n")
        m = Monitor("-p", w.pid, "-J")
        w.go()
        expect_eq(w.wait(), 0, "writer status")
        expect_eq(m.finish().rc, 0, "status")
        got = entries(2, "_PID=%d" % m.pid, "OBJECT_PID=%d" % w.pid)
    # journalctl gives a value that is not printable UTF-8 as an array of its bytes.
    expect_eq([e["MESSAGE"] for e in got],
              [list(b"nul\x00and \xff\xfe invalid"), list(b"\x1b[31mred")], "MESSAGE bytes")


def test_journal_lifecycle_records_and_summary_have_message_ids():
    with journald():
        m = Monitor("-x", "-1", "-2", "--journal", "--", WRITER, "out:hello\\n", "err:bye\\n")
        r = m.finish()
        expect_eq(r.rc, 0, "status")
        got = entries(5, "_PID=%d" % m.pid)
    pid = got[0].get("OBJECT_PID")
    expect_eq([(e.get("MESSAGE_ID"), e["MESSAGE"], e.get("PRIORITY")) for e in got],
              [(MID_EXEC, "exec: %s %s" % (pid, WRITER), "6"),
               (None, "hello", "6"), (None, "bye", "3"),
               (MID_EXIT, "exit: %s exited with status 0" % pid, "6"),
               (MID_SUMMARY, "4 lines, 10 bytes captured, 0 events lost, %s" %
                got[-1]["MESSAGE"].rsplit(", ", 1)[-1], "6")], "entries")
    expect_eq(got[3].get("BWM_WAIT_STATUS"), "0", "exit's BWM_WAIT_STATUS")
    expect_eq((got[4]["BWM_LINES"], got[4]["BWM_BYTES"], got[4]["BWM_EVENTS_LOST"],
               got[4]["BWM_JOURNAL_REFUSED_LINES"], got[4]["SYSLOG_IDENTIFIER"]),
              ("4", "10", "0", "0", "bpf_write_monitor"), "summary fields")
    check(got[4]["MESSAGE"] in r.stderr, "summary entry %r not the line on stderr:\n%s"
          % (got[4]["MESSAGE"], r.stderr))


def test_journal_forks_are_entries_with_the_parent():
    with journald():
        w = Writer("wait", "storm:2")
        m = Monitor("-p", w.pid, "-f", "-x", "-J")
        w.go()
        expect_eq(w.wait(), 0, "writer status")
        expect_eq(m.finish().rc, 0, "status")
        got = entries(2, "_PID=%d" % m.pid, "MESSAGE_ID=" + MID_FORK)
    expect_eq(sorted(e["BWM_PARENT_PID"] for e in got), [str(w.pid)] * 2, "BWM_PARENT_PID")
    for e in got:
        expect_eq(e["MESSAGE"], "fork: %s (parent %d)" % (e["OBJECT_PID"], w.pid), "MESSAGE")


def test_journal_absent_is_a_one_line_error_before_attaching():
    # journald's socket hidden in a mount namespace of the tool's own: this works whether or
    # not a journald runs on the machine.
    w = Writer("wait")
    r = run_tool("-p", w.pid, "--journal", "-d", "5", prog=[
        "unshare", "--mount", "--propagation", "private", "sh", "-c",
        'mkdir -p /run/systemd/journal && mount -t tmpfs none /run/systemd/journal && '
        'exec "$0" "$@"', TOOL])
    expect_eq(r.rc, 1, "status")
    line = error_line(r)
    check(line.startswith("bpf_write_monitor: --journal: systemd-journald is not running (%s: "
                          % SOCKET) and "start it" in line, line)
    check("Tracing" not in r.stderr, r.stderr)
    w.go()
    expect_eq(w.wait(), 0, "writer status")


def test_journal_that_does_not_take_lines_is_counted_not_lost():
    with journald() as jd:
        if jd is None:
            print("  (skipped: the machine's own journald runs; this test stops its journald)")
            return
        n = 3000
        w = Writer("wait", "burst:1:%d:40" % n)
        m = Monitor("-p", w.pid, "-J")
        os.kill(jd.pid, signal.SIGSTOP)  # its queue fills: the tool's sends block
        try:
            w.go()
            expect_eq(w.wait(), 0, "writer status")
            r = m.stop(signal.SIGINT)
        finally:
            os.kill(jd.pid, signal.SIGCONT)
        expect_eq(r.rc, 0, "status")
        summary = re.search(r"^bpf_write_monitor: (\d+) lines, .* 0 events lost, (\d+) lines "
                            r"\(\d+ bytes\) not taken by the journal, ", r.stderr, re.M)
        check(summary, "no summary line with lines not taken by the journal:\n" + r.stderr)
        expect_eq(int(summary.group(1)), n, "lines captured")
        refused = int(summary.group(2))
        check("were not sent: the journal refused them, or did not take them before the stop"
              in r.stderr, r.stderr)
        # Every line is either in the journal or counted.
        sent = n - refused
        check(0 < refused < n, "refused %d of %d" % (refused, n))
        got = entries(sent, "_PID=%d" % m.pid, "OBJECT_PID=%d" % w.pid)
        expect_eq(len(got), sent, "entries in the journal")


def test_journal_unit_passes_systemd_analyze_verify():
    # verify wants the binary ExecStart= names: an instance of a copy that names this tree's.
    d = temp_dir("bwm-unit-")
    (d / UNIT.name).write_text(UNIT.read_text().replace("/usr/sbin/bpf_write_monitor", TOOL))
    # ... and the unit it binds to must exist: a stand-in cron.service.
    (d / "cron.service").write_text("[Service]\nExecStart=/bin/sleep infinity\n")
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        str(d / "bpf-write-monitor@cron.service")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    bad = [l for l in (r.stdout + r.stderr).splitlines() if "bpf-write-monitor" in l]
    check(r.returncode == 0 and not bad, "systemd-analyze verify (%d):\n%s%s"
          % (r.returncode, r.stdout, r.stderr))


def test_journal_catalog_explains_every_message_id():
    ids = set(re.findall(r'^#define JOURNAL_MID_\w+\s+"([0-9a-f]{32})"$',
                         (ROOT / "src" / "journal.h").read_text(), re.M))
    check(len(ids) == 6 and {MID_FORK, MID_EXEC, MID_EXIT, MID_SUMMARY} <= ids, ids)
    root = temp_dir("bwm-catalog-")
    (root / "usr/lib/systemd/catalog").mkdir(parents=True)
    (root / "var/lib/systemd/catalog").mkdir(parents=True)
    (root / "usr/lib/systemd/catalog/bpf-write-monitor.catalog").write_text(
        (ROOT / "debian" / "bpf-write-monitor.catalog").read_text())
    r = subprocess.run(["journalctl", "--root", str(root), "--update-catalog"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    check(r.returncode == 0 and not r.stderr, "journalctl --update-catalog:\n" + r.stderr)
    listed = subprocess.run(["journalctl", "--root", str(root), "--list-catalog"],
                            capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout
    expect_eq({l.split(" ")[0] for l in listed.splitlines()}, ids, "ids in the catalog")
