"""Target kinds (issue 13): a command, several PIDs, a cgroup or unit, a PID namespace.

Real BPF programs, real processes; cgroups are made by the test under the cgroup2
mount and removed after.
"""
import os
import re
import shutil
import signal
import subprocess

from harness import (TOOL, WRITER, Monitor, Writer, cgroup2_in_kernel, cgroup2_root, check,
                     error_line, expect_eq, register, run_tool, skip, temp_dir, wait_until)


def _lines(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").splitlines()


# ---- -- COMMAND ----------------------------------------------------------------------


def test_command_first_write_is_captured_stdio_stays_and_status_is_its():
    out = temp_dir() / "out"
    m = Monitor("-o", out, "-1", "-2", "-P", "--", WRITER, "out:first\\n", "err:second\\n",
                "fork-exit:0", "exit:3")
    r = m.finish()
    expect_eq(r.rc, 3, "the command's exit status")
    pid = re.search(r"Tracing \S*writer \(PID (\d+)\) and its descendants", r.stderr)
    check(pid, r.stderr)
    pid = pid.group(1)
    # Its stdout and stderr are where they were: the monitor's.
    expect_eq(r.stdout, b"first\nexiting 0\n", "the command's own stdout")
    check("second\n" in r.stderr, r.stderr)
    lines = _lines(out)
    expect_eq(lines[:2], ["%s stdout: first" % pid, "%s stderr: second" % pid],
              "captured, from its very first write")
    child = [l for l in lines if l.endswith("stdout: exiting 0")]
    check(len(child) == 1 and not child[0].startswith(pid + " "), "\n".join(lines))
    check("all its descendants have exited" in r.stderr, r.stderr)


def test_command_gets_the_signal_and_the_tool_exits_128_plus_n():
    m = Monitor("-P", "--", WRITER, "out:ready\\n", "sleep:60000")
    m.wait_stdout(b"stdout: ready\n")
    m.p.send_signal(signal.SIGTERM)
    r = m.finish()
    expect_eq(r.rc, 128 + signal.SIGTERM, "status after SIGTERM")
    check(re.search(rb"^\d+ stdout: ready$", r.stdout, re.M), r.stdout)


def test_command_not_found_is_127_and_one_line():
    r = run_tool("--", "bwm-no-such-command")
    expect_eq(r.rc, 127, "status")
    expect_eq(error_line(r), "bpf_write_monitor: bwm-no-such-command: command not found")
    r = run_tool("--", "/nonexistent/bwm")
    expect_eq(r.rc, 127, "status")
    check("command not found" in error_line(r), r.stderr)


def test_command_exec_failure_is_reported_and_126():
    d = temp_dir()
    script = d / "noexec"
    script.write_text("echo hi\n")
    os.chmod(script, 0o644)             # found (it is a path) but not executable
    r = run_tool("--", script)
    expect_eq(r.rc, 126, "status")
    check("cannot run %s: Permission denied" % script in r.stderr, r.stderr)
    check("Tracing " in r.stderr, "the failure comes after attaching: " + r.stderr)


def test_command_as_another_user():
    out = temp_dir() / "out"
    r = run_tool("-u", "nobody", "-o", out, "--", "id", "-u")
    expect_eq(r.rc, 0, "status: " + r.stderr)
    nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout
    expect_eq(r.stdout.decode(), nobody, "id's own output")
    expect_eq(_lines(out), [nobody.strip()], "captured")
    r = run_tool("-u", "bwm-no-such-user", "--", "true")
    expect_eq(r.rc, 1, "status")
    check("no such user: bwm-no-such-user" in error_line(r), r.stderr)


# ---- one kind of target ----------------------------------------------------------------


def test_one_kind_of_target_per_run():
    for args in (["-p", "1", "--", "true"], ["-p", "1", "--cgroup", "/sys/fs/cgroup"],
                 ["--unit", "x", "--", "true"], ["--unit", "x", "--cgroup", "/x"]):
        r = run_tool(*args)
        expect_eq(r.rc, 2, "status of %r" % args)
        check("give one kind of target" in error_line(r), r.stderr)
    r = run_tool("-1")
    expect_eq(r.rc, 2, "status")
    check("nothing to trace" in error_line(r), r.stderr)
    r = run_tool("-p", "1", "true")
    check("unexpected argument: true" in error_line(r), r.stderr)


# ---- --pid A,B,... --------------------------------------------------------------------


def test_several_pids_are_traced_and_the_tool_ends_when_all_have_exited():
    a = Writer("wait", "out:from a\\n")
    b = Writer("wait", "out:from b\\n", "fork-exit:0")
    other = Writer("wait", "out:from other\\n")
    m = Monitor("-p", "%d,%d" % (a.pid, b.pid), "-P")
    check("Tracing PIDs %d, %d (stdout)" % (a.pid, b.pid) in m.stderr, m.stderr)
    for w in (other, a, b):
        w.go()
        expect_eq(w.wait(), 0, "writer status")
    r = m.finish()                      # by itself: both have exited
    expect_eq(r.rc, 0, "status")
    expect_eq(sorted(r.text.splitlines()), sorted(["%d stdout: from a" % a.pid,
                                                   "%d stdout: from b" % b.pid]),
              "only a and b, not b's child (no -f) nor the other writer")
    check("PIDs %d, %d have exited" % (a.pid, b.pid) in r.stderr, r.stderr)


def test_several_pids_with_descendants():
    a = Writer("wait", "fork-exit:1")
    b = Writer("wait", "fork-exit:2")
    m = Monitor("-p", "%d,%d" % (a.pid, b.pid), "-f")
    for w in (a, b):
        w.go()
        w.wait()
    r = m.finish()
    expect_eq(sorted(r.text.splitlines()), ["exiting 1", "exiting 2"], "the children's lines")
    check("and all their descendants have exited" in r.stderr, r.stderr)


def test_bad_pid_lists():
    for arg, bad in (("12,", "12,"), ("12,x", "x"), (",3", ",3")):
        r = run_tool("-p", arg)
        expect_eq(r.rc, 2, "status")
        check("invalid PID: %s" % bad in error_line(r), r.stderr)
    w = Writer("wait")
    r = run_tool("-p", "%d,999999999" % w.pid)
    expect_eq(r.rc, 1, "status")
    check("no such process: 999999999" in error_line(r), r.stderr)


# ---- --cgroup and --unit -----------------------------------------------------------------


def _cgroup2_root():
    return cgroup2_root()


class Cgroup:
    """A cgroup made under the cgroup2 mount; remove() moves what is left out and rmdirs it."""

    def __init__(self, root, *parts):
        self.root = root
        self.path = os.path.join(root, *parts)
        os.makedirs(self.path)
        self.made = [self.path]
        d = os.path.dirname(self.path)
        while d != root and d not in self.made:
            self.made.append(d)
            d = os.path.dirname(d)

    def sub(self, name):
        p = os.path.join(self.path, name)
        os.mkdir(p)
        self.made.insert(0, p)
        return p

    @staticmethod
    def move(path, pid):
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def remove(self):
        for d in sorted(self.made, key=len, reverse=True):
            if not os.path.isdir(d):
                continue
            with open(os.path.join(d, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        Cgroup.move(self.root, pid)
                    except OSError:
                        pass
            wait_until(lambda: _rmdir(d), 10, "rmdir " + d)


def _rmdir(d):
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _need_cgroup2():
    root = _cgroup2_root()
    if not root and not cgroup2_in_kernel():
        skip("this kernel has no cgroup2 (/proc/filesystems)")
    if not root:
        skip("cgroup2 is not mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified and could "
             "not be mounted there", present=True)
    return root


def _method_env(method):
    """The environment with the cgroup filter forced (None: the kernel's choice)."""
    env = dict(os.environ)
    env.pop("BWM_CGROUP_METHOD", None)
    if method:
        env["BWM_CGROUP_METHOD"] = method
    return env


def _check_method(stderr, method):
    """-v names the cgroup filter: the forced one, or the one this kernel offers."""
    said = re.search(r"cgroup filter: (\S+) \((.*)\)$", stderr, re.M)
    check(said, stderr)
    if method:
        expect_eq(said.groups(), (method, "forced by BWM_CGROUP_METHOD"), "cgroup filter")
    else:
        check(said.group(1) in ("ancestor", "under"), said.group(0))
    return said.group(1)


def test_cgroup_traces_processes_moved_in_after_start_and_their_children():
    _cgroup_moved_in(None)


def test_cgroup_under_filter_traces_processes_moved_in_after_start_and_their_children():
    _cgroup_moved_in("under")


def _cgroup_moved_in(method):
    root = _need_cgroup2()
    if not root:
        return
    cg = Cgroup(root, "bwm-test-%d" % os.getpid())
    try:
        below = cg.sub("below")
        inside = Writer("wait", "out:inside\\n", "fork-exit:0")
        deeper = Writer("wait", "out:deeper\\n")
        outside = Writer("wait", "out:outside\\n")
        m = Monitor("--cgroup", cg.path, "-P", "-v", env=_method_env(method))
        check("Tracing cgroup %s (stdout)... Ctrl-C to end, or remove the cgroup"
              % cg.path in m.stderr, m.stderr)
        _check_method(m.stderr, method)
        Cgroup.move(cg.path, inside.pid)            # moved in after the start
        Cgroup.move(below, deeper.pid)              # in a cgroup below it
        for w in (outside, inside, deeper):
            w.go()
            expect_eq(w.wait(), 0, "writer status")
        m.wait_stdout(b"stdout: exiting 0\n")
        cg.remove()                                  # the tool ends when it is gone
        r = m.finish()
        expect_eq(r.rc, 0, "status")
        lines = r.text.splitlines()
        check("%d stdout: inside" % inside.pid in lines, r.text)
        check("%d stdout: deeper" % deeper.pid in lines, r.text)
        child = [l for l in lines if l.endswith(" stdout: exiting 0")]
        check(len(child) == 1 and not child[0].startswith("%d " % inside.pid), r.text)
        expect_eq(len(lines), 3, "lines (nothing from outside): %r" % lines)
        check("cgroup %s was removed" % cg.path in r.stderr, r.stderr)
    finally:
        cg.remove()


def test_cgroup_with_exits_reports_forks_execs_and_exits():
    root = _need_cgroup2()
    if not root:
        return
    cg = Cgroup(root, "bwm-forks-%d" % os.getpid())
    try:
        w = Writer("wait", "fork-exit:0", "exit:4")
        m = Monitor("--cgroup", cg.path, "-x")
        Cgroup.move(cg.path, w.pid)
        w.go()
        expect_eq(w.wait(), 4, "writer status")
        m.wait_stdout(b"exit: %d exited with status 4\n" % w.pid)
        cg.remove()
        r = m.finish()
    finally:
        cg.remove()
    child = re.search(r"^fork: (\d+) \(parent %d\)$" % w.pid, r.text, re.M)
    check(child, "the fork is reported: " + r.text)
    expect_eq(r.text, "fork: {c} (parent {p})\nexiting 0\nexit: {c} exited with status 0\n"
              "exit: {p} exited with status 4\n".format(c=child.group(1), p=w.pid))


def test_unit_is_found_by_name_with_or_without_service():
    _unit_by_name(None)


def test_unit_under_filter_is_found_by_name_with_or_without_service():
    _unit_by_name("under")


def _unit_by_name(method):
    root = _need_cgroup2()
    if not root:
        return
    name = "bwm-unit-%d" % os.getpid()
    cg = Cgroup(root, "bwm-slice-%d" % os.getpid(), name + ".service")
    try:
        w = Writer("wait", "out:from the unit\\n")
        Cgroup.move(cg.path, w.pid)
        m = Monitor("--unit", name, "-v", env=_method_env(method))
        check("Tracing cgroup %s " % cg.path in m.stderr, m.stderr)
        used = _check_method(m.stderr, method)
        if not method:
            print("     cgroup filter on this kernel: %s" % used)
        w.go()
        w.wait()
        m.wait_stdout(b"from the unit\n")
        r = m.stop()
        expect_eq(r.stdout, b"from the unit\n", "output")
        if used == "under" and not method:     # the kernel lacks the other: no forcing it
            r = run_tool("--unit", name, env=_method_env("ancestor"))
            expect_eq(r.rc, 1, "status")
            check("BWM_CGROUP_METHOD=ancestor: this kernel" in error_line(r) and
                  "lacks bpf_get_current_ancestor_cgroup_id: unset it" in r.stderr, r.stderr)
        r = run_tool("--unit", "bwm-no-such-unit", "--ebpf")
        expect_eq(r.rc, 1, "status")
        check("no unit bwm-no-such-unit" in error_line(r), r.stderr)
        cg.sub(name)                    # now NAME.service and NAME/NAME both match
        r = run_tool("--unit", name, "--ebpf")
        expect_eq(r.rc, 1, "status")
        check("2 cgroups match unit %s" % name in error_line(r), r.stderr)
    finally:
        cg.remove()


def _cgroup_capture(cg, method, text):
    """Trace cg with the filter method; a writer moved in writes text; the -v stderr."""
    w = Writer("wait", "out:%s\\n" % text)
    m = Monitor("--cgroup", cg.path, "-v", env=_method_env(method))
    Cgroup.move(cg.path, w.pid)
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    m.wait_stdout(text.encode() + b"\n")
    r = m.stop()
    expect_eq(r.stdout, text.encode() + b"\n", "output with the %s filter" % method)
    return r.stderr


def test_cgroup_filter_method_is_part_of_the_cache_key():
    """Each filter's program is cached apart; the under filter's map is filled on a hit."""
    root = _need_cgroup2()
    if not root:
        return
    cg = Cgroup(root, "bwm-cache-%d" % os.getpid())
    try:
        stored = re.search(r"cache: stored (\S+)", _cgroup_capture(cg, "under", "one"))
        check(stored, "the under filter's program is cached")
        err = _cgroup_capture(cg, "under", "two")
        check("cache: hit %s" % stored.group(1) in err, err)
        r = run_tool("--cgroup", cg.path, "-v", "-d", "0.1", env=_method_env("ancestor"))
        if r.rc == 1 and "lacks bpf_get_current_ancestor_cgroup_id" in r.stderr:
            return                                  # 5.10: there is no other filter
        expect_eq(r.rc, 0, "status with the ancestor filter: " + r.stderr)
        check("cache: miss" in r.stderr and stored.group(1) not in r.stderr, r.stderr)
    finally:
        cg.remove()


def test_cgroup_method_override_errors_are_one_line():
    root = _need_cgroup2()
    if not root:
        return
    r = run_tool("--cgroup", root, env=_method_env("guess"))
    expect_eq(r.rc, 1, "status")
    expect_eq(error_line(r), "bpf_write_monitor: BWM_CGROUP_METHOD=guess: use ancestor or "
              "under, or unset it")


def test_cgroup_ebpf_bakes_the_forced_filter():
    root = _need_cgroup2()
    if not root:
        return
    for method, under in (("under", 1), ("ancestor", 0)):
        r = run_tool("--cgroup", root, "--ebpf", env=_method_env(method))
        expect_eq(r.rc, 0, "status: " + r.stderr)
        check("#define BWM_CGROUP_UNDER %d\n" % under in r.text, r.text[:3000])


def test_cgroup_errors_are_one_line():
    r = run_tool("--cgroup", "/nonexistent/bwm")
    expect_eq(r.rc, 1, "status")
    check("cannot use cgroup /nonexistent/bwm: No such file or directory" in error_line(r),
          r.stderr)
    r = run_tool("--cgroup", "/etc/passwd")
    check("/etc/passwd is not a directory" in error_line(r), r.stderr)
    r = run_tool("--cgroup", "/tmp")
    check("/tmp is not in a cgroup v2 hierarchy" in error_line(r), r.stderr)
    v1 = "/sys/fs/cgroup/memory"
    if os.path.isdir(v1) and _cgroup2_root() != "/sys/fs/cgroup":
        r = run_tool("--cgroup", v1)
        check("cgroup v1 is not supported" in error_line(r), r.stderr)


# ---- PID namespaces ----------------------------------------------------------------------


def test_in_a_pid_namespace_pids_are_the_namespaces():
    unshare = shutil.which("unshare")
    check(unshare, "unshare (util-linux) is needed")
    d = temp_dir()
    fifo = d / "go"
    os.mkfifo(fifo)
    script = d / "target.sh"
    script.write_text('read x\necho "parent=$$"\nsh -c \'echo "child=$$"\'\n')
    # In the namespace: the target (PID 2 there) waits on the FIFO; the tool traces it.
    inner = ('sh %s < %s > /dev/null & exec "%s" -P -x -f -p $!' % (script, fifo, TOOL))
    m = Monitor(prog=[unshare, "--pid", "--fork", "--mount-proc", "sh", "-c", inner])
    with open(fifo, "w") as f:
        f.write("g\n")
    r = m.finish()
    expect_eq(r.rc, 0, "status: " + r.stderr)
    lines = r.text.splitlines()
    parent = [re.fullmatch(r"(\d+) stdout: parent=(\d+)", l) for l in lines]
    parent = [p for p in parent if p]
    child = [re.fullmatch(r"(\d+) stdout: child=(\d+)", l) for l in lines]
    child = [c for c in child if c]
    check(len(parent) == 1 and len(child) == 1, r.text)
    expect_eq(parent[0].group(1), parent[0].group(2), "the parent's PID, as sh sees it")
    expect_eq(child[0].group(1), child[0].group(2), "the child's PID, as sh sees it")
    check(int(parent[0].group(1)) < 100, "a namespace PID: " + r.text)
    check("%s exit: %s exited with status 0" % (child[0].group(1), child[0].group(1))
          in lines, r.text)
    check(re.search(r"Tracing PID %s and its descendants" % parent[0].group(1), r.stderr),
          r.stderr)


def test_command_left_running_after_duration():
    m = Monitor("-d", "0.5", "--", WRITER, "out:started\\n", "sleep:60000")
    pid = int(re.search(r"\(PID (\d+)\)", m.stderr).group(1))
    m.wait_stderr("still runs: left running, no longer traced")
    wait_until(lambda: m.p.poll() is not None, what="the monitor to exit")
    os.kill(pid, 0)                     # it does run on; it holds the pipes: end it
    os.kill(pid, signal.SIGKILL)
    r = m.finish()
    expect_eq(r.rc, 0, "status")
