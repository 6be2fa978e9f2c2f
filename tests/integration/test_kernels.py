"""Kernel features: the capture paths, the exit methods, no BTF (forced on this kernel).

The hidden environment overrides (BWM_CAPTURE_PATH, BWM_EXIT_METHOD, BWM_NO_BTF) make
this kernel behave like an older one, so that each way the tool adapts is tested here;
`make check-fallback` runs the whole suite again with BWM_CAPTURE_PATH=entry-exit.
"""
import json
import os
import re

from harness import Monitor, Writer, check, error_line, expect_eq, json_rows, run_tool

METHODS = ("group-dead", "signal-live", "proc")


def has_group_dead():
    """Does this kernel's sched_process_exit have the group_dead field (6.x, not 6.1)?"""
    for d in ("/sys/kernel/debug/tracing", "/sys/kernel/tracing"):
        f = d + "/events/sched/sched_process_exit/format"
        if os.path.exists(f):
            return " group_dead;" in open(f).read()
    return False


def env_with(**kw):
    env = dict(os.environ)
    for k, v in kw.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def leader_exits_first(method, *extra, **env):
    """A process whose main thread exits before its two threads write 30 lines each."""
    w = Writer("threads:2:30", "wait", "leader-exit-first")
    if method == "group-dead" and not has_group_dead():
        r = run_tool("-p", w.pid, env=env_with(BWM_EXIT_METHOD=method))
        check("lacks sched_process_exit's group_dead field" in error_line(r), r.stderr)
        return r
    m = Monitor("-p", w.pid, "-f", "-x", *extra, env=env_with(BWM_EXIT_METHOD=method, **env))
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    r = m.finish()
    lines = r.text.splitlines()
    threads = [l for l in lines if l.startswith("thread ")]
    exits = [l for l in lines if "exit: " in l]
    expect_eq(len(threads), 60, "lines of both threads (%s)\n%s" % (method, r.stderr))
    expect_eq(exits, ["exit: %d exited with status 0" % w.pid], "the one exit line")
    expect_eq(lines[-1], exits[0], "the exit after every line")
    check("all its descendants have exited" in r.stderr, r.stderr)
    return r


def test_main_thread_exiting_first_keeps_tracing_with_group_dead():
    leader_exits_first("group-dead")


def test_main_thread_exiting_first_keeps_tracing_with_signal_live():
    leader_exits_first("signal-live")


def test_main_thread_exiting_first_keeps_tracing_with_proc():
    leader_exits_first("proc")


def test_main_thread_exiting_first_without_btf():
    r = leader_exits_first("proc", BWM_NO_BTF="1")
    check("exited with status 0" in r.text, r.text)


def test_without_pid_tree_the_process_lives_on_with_each_method():
    for method in METHODS[0 if has_group_dead() else 1:]:
        w = Writer("threads:2:5", "wait", "leader-exit-first")
        m = Monitor("-p", w.pid, "-x", env=env_with(BWM_EXIT_METHOD=method))
        w.go()
        w.wait()
        r = m.finish()
        lines = r.text.splitlines()
        expect_eq(len([l for l in lines if l.startswith("thread ")]), 10, method)
        expect_eq(lines[-1], "exit: %d exited with status 0" % w.pid, method)


def test_exit_statuses_without_btf_or_status_unknown():
    # The exit method with the least to go on (what a kernel without BTF nor group_dead has).
    w = Writer("wait", "fork-exit:3", "fork-kill:9", "exit:5")
    m = Monitor("-p", w.pid, "-f", "-x", "-P", env=env_with(BWM_NO_BTF="1", BWM_EXIT_METHOD="proc"))
    w.go()
    expect_eq(w.wait(), 5, "writer status")
    r = m.finish()
    out = r.text.splitlines()
    statuses = [re.sub(r"^\d+ exit: \d+ ", "", l) for l in out if " exit: " in l]
    expect_eq(statuses, ["exited with status 3", "exited (status unknown)",
                         "exited with status 5"], "statuses\n" + "\n".join(out))


def test_json_exit_without_a_known_status():
    w = Writer("wait", "fork-kill:9")
    m = Monitor("-p", w.pid, "-f", "-x", "-j", env=env_with(BWM_NO_BTF="1"))
    w.go()
    w.wait()
    rows, _ = json_rows(m.finish())
    exits = [x for x in rows if x.get("type") == "exit"]
    expect_eq([(x.get("status_known"), x.get("exit_status")) for x in exits],
              [(False, None), (None, 0)], "exit rows")


def test_no_btf_notice_is_one_line_and_capture_works():
    w = Writer("wait", "out:one\\n", "writev:1:two\\n|three\\n")
    m = Monitor("-p", w.pid, env=env_with(BWM_NO_BTF="1"))
    w.go()
    w.wait()
    r = m.finish()
    expect_eq(r.text, "one\ntwo\nthree\n")
    notices = [l for l in r.stderr.splitlines() if "notice:" in l]
    expect_eq(len(notices), 1, "notice lines:\n" + r.stderr)
    check(re.search(r"this kernel \(%s\) has no BTF" % re.escape(os.uname().release),
                    notices[0]), notices[0])


def test_verbose_says_which_path_and_why():
    for forced in (None, "entry-exit"):
        w = Writer("wait", "out:x\\n")
        m = Monitor("-p", w.pid, "-v", env=env_with(BWM_CAPTURE_PATH=forced))
        w.go()
        w.wait()
        r = m.finish()
        expect_eq(r.text, "x\n", "output with %s" % forced)
        path = re.search(r"capture path: (\S+) ", r.stderr)
        check(path, r.stderr)
        if forced:
            expect_eq(path.group(1), "entry-exit", "forced path")
        check(path.group(1) in ("exit-only", "entry+exit", "entry-exit"), path.group(1))
        entry = "attached syscalls:sys_enter_write" in r.stderr
        expect_eq(entry, path.group(1) != "exit-only", "entry probes attached")
        want = "group-dead" if has_group_dead() else "signal-live"
        check("process exits: " + want in r.stderr, r.stderr)


def test_bad_overrides_are_one_line_errors():
    w = Writer("wait")
    for var, val, needle in (("BWM_CAPTURE_PATH", "fast", "use entry-exit or exit-only"),
                             ("BWM_EXIT_METHOD", "guess", "group-dead, signal-live or proc")):
        r = run_tool("-p", w.pid, env=env_with(**{var: val}))
        expect_eq(r.rc, 1, "exit status")
        check(needle in error_line(r), r.stderr)
    r = run_tool("-p", w.pid, env=env_with(BWM_NO_BTF="1", BWM_CAPTURE_PATH="exit-only"))
    check("lacks BTF" in error_line(r), r.stderr)
