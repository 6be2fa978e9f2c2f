"""Helpers for the integration tests: real BPF programs, real processes.

Every process a test starts is registered and killed when the test ends;
waits are on conditions (a line on stderr, a process exit), never fixed sleeps.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = str(ROOT / "bpf_write_monitor")
HELPERS = ROOT / "build" / "helpers"
WRITER = str(HELPERS / "writer")
TIMEOUT = 60.0

_live = []


def temp_dir(prefix="bwm-"):
    """A new directory, removed with its contents when the run ends."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return Path(d)


def probes_copy(prefix="bwm-probes-"):
    """A copy of this tree's probes/ that the tool accepts: root-owned, 0755 and 0644."""
    d = temp_dir(prefix)
    os.chmod(d, 0o755)
    for f in (ROOT / "probes").iterdir():
        shutil.copy(f, d)
        os.chmod(d / f.name, 0o644)
    return d


def _hermetic_templates():
    """An installed copy of the templates (make install) would take precedence over the
    copy embedded in the binary under test: point the tool at a root-owned copy of
    this tree's probes/ instead, so that the tests always run this tree's templates."""
    installed = "/usr/local/share/bpf_write_monitor/probes"
    if not os.path.isdir(installed) or os.environ.get("BPF_WRITE_MONITOR_PROBES"):
        return
    os.environ["BPF_WRITE_MONITOR_PROBES"] = str(probes_copy())


_hermetic_templates()


def _hermetic_cache():
    """The tests fill a compile cache of their own (root-owned, 0700), not the machine's."""
    if not os.environ.get("BWM_CACHE_DIR"):
        os.environ["BWM_CACHE_DIR"] = str(temp_dir("bwm-cache-"))


_hermetic_cache()


class TestFailure(AssertionError):
    pass


class TestSkipped(Exception):
    """A test that could not run here; present: the machine has what it needs (so in CI,
    where nothing the machine has may go untested, the skip is a failure)."""

    def __init__(self, why, present):
        super().__init__(why)
        self.present = present


def skip(why, present=False):
    raise TestSkipped(why, present)


def cgroup2_root():
    """The cgroup2 mount where the tool looks for it (/sys/fs/cgroup, or
    /sys/fs/cgroup/unified on a hybrid host); mounted there when the kernel has cgroup2
    and nothing is mounted. None: the kernel has no cgroup2, or it could not be mounted."""
    roots = ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")

    def fstype(d):
        if not os.path.isdir(d):
            return None
        return subprocess.run(["stat", "-f", "-c", "%T", d], capture_output=True,
                              text=True).stdout.strip()
    for d in roots:
        if fstype(d) == "cgroup2fs":
            return d
    if not cgroup2_in_kernel():
        return None
    top = fstype(roots[0])
    where = roots[1] if top not in (None, "sysfs") else roots[0]
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:
        return None
    subprocess.run(["mount", "-t", "cgroup2", "cgroup2", where], capture_output=True)
    return where if fstype(where) == "cgroup2fs" else None


def cgroup2_in_kernel():
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == "cgroup2" for line in f if line.strip())


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def expect_eq(actual, expected, what="output"):
    if actual != expected:
        raise TestFailure("%s differs\n--- expected\n%r\n--- actual\n%r" % (what, expected, actual))


def register(p):
    _live.append(p)
    return p


def cleanup():
    """End every process the test started (called by the runner)."""
    while _live:
        p = _live.pop()
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def wait_until(pred, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TestFailure("timed out waiting for " + what)
        time.sleep(0.005)


class Writer:
    """The scripted writer (tests/helpers/writer.c); 'wait' actions block on go()."""

    def __init__(self, *actions, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                 prog=WRITER, **kw):
        self.p = register(subprocess.Popen([prog, *actions], stdin=subprocess.PIPE,
                                           stdout=stdout, stderr=stderr, **kw))
        self.pid = self.p.pid

    def go(self):
        self.p.stdin.write(b"g")
        self.p.stdin.flush()

    def wait(self, timeout=TIMEOUT):
        rc = self.p.wait(timeout=timeout)
        return rc


class Result:
    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def text(self):
        return self.stdout.decode("utf-8", "surrogateescape")

    def __repr__(self):
        return "rc=%r stdout=%r stderr=%r" % (self.rc, self.stdout[:2000], self.stderr[-2000:])


class Monitor:
    """bpf_write_monitor under test; by default waits for its 'Tracing' line."""

    def __init__(self, *args, ready=True, stdout=subprocess.PIPE, env=None, prog=None,
                 **kw):
        cmd = (prog or [TOOL]) + [str(a) for a in args]
        self.p = register(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout,
                                           stderr=subprocess.PIPE, env=env, **kw))
        self.pid = self.p.pid
        self._out = bytearray()
        self._err = bytearray()
        self._lock = threading.Lock()
        self._threads = []
        if self.p.stdout:
            self._threads.append(self._pump(self.p.stdout, self._out))
        self._threads.append(self._pump(self.p.stderr, self._err))
        if ready:
            self.wait_stderr("Tracing ")

    def _pump(self, f, buf):
        def run():
            while True:
                chunk = os.read(f.fileno(), 65536)
                if not chunk:
                    break
                with self._lock:
                    buf.extend(chunk)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    @property
    def stdout(self):
        with self._lock:
            return bytes(self._out)

    @property
    def stderr(self):
        with self._lock:
            return self._err.decode("utf-8", "replace")

    def wait_stderr(self, needle, timeout=TIMEOUT):
        def seen():
            if needle in self.stderr:
                return True
            if self.p.poll() is not None:
                for t in self._threads:
                    t.join(5)
                if needle in self.stderr:
                    return True
                raise TestFailure("monitor exited (rc=%s) before %r; stderr:\n%s"
                                  % (self.p.returncode, needle, self.stderr))
            return False
        wait_until(seen, timeout, repr(needle) + " on the monitor's stderr")

    def wait_stdout(self, needle, timeout=TIMEOUT):
        wait_until(lambda: needle in self.stdout, timeout,
                   repr(needle) + " on the monitor's stdout")

    def finish(self, timeout=TIMEOUT):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("monitor did not exit; stderr:\n" + self.stderr)
        for t in self._threads:
            t.join(10)
        return Result(rc, self.stdout, self.stderr)

    def stop(self, sig=signal.SIGINT, timeout=TIMEOUT):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.finish(timeout)


_validator = None


def validate_records(rows):
    """Each --json record must be valid against doc/records.schema.json."""
    global _validator
    import jsonschema
    if _validator is None:
        schema = json.loads((ROOT / "doc" / "records.schema.json").read_text())
        jsonschema.Draft7Validator.check_schema(schema)
        _validator = jsonschema.Draft7Validator(schema)
    for x in rows:
        errors = list(_validator.iter_errors(x))
        if errors:
            # The record's own definition says best what is wrong with it.
            d = _validator.schema["definitions"].get(x.get("type"), _validator.schema)
            why = jsonschema.exceptions.best_match(
                _validator.evolve(schema=dict(d, definitions=_validator.schema["definitions"]))
                .iter_errors(x)) or errors[0]
            raise TestFailure("record not valid against doc/records.schema.json: %s\n%r"
                              % (why.message, x))


def json_rows(r):
    """The --json records of a run, each valid against the schema, without the summary
    record, which must come last and agree with the summary line on stderr; returns
    (rows, summary)."""
    rows = [json.loads(l) for l in r.text.splitlines()]
    validate_records(rows)
    check(rows and rows[-1].get("type") == "summary", "no summary record last: %r" % rows[-1:])
    summary = rows.pop()
    check(all(x.get("type") != "summary" for x in rows), "one summary record only")
    line = [l for l in r.stderr.splitlines() if " bytes captured, " in l]
    if line:
        want = "%d lines, %d bytes captured, %d events lost" % (
            summary["lines"], summary["bytes"], summary["events_lost"])
        check(want in line[-1], "summary record %r, summary line %r" % (summary, line[-1]))
    return rows, summary


def run_tool(*args, env=None, timeout=TIMEOUT, prog=None, **kw):
    """Run the tool to completion (for errors and --ebpf)."""
    cmd = (prog or [TOOL]) + [str(a) for a in args]
    p = register(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, **kw))
    out, err = p.communicate(timeout=timeout)
    return Result(p.returncode, out, err.decode("utf-8", "replace"))


def capture(actions, *args, writer_kw=None):
    """Trace a writer that waits for go, runs actions and exits; returns the Result."""
    w = Writer("wait", *actions, **(writer_kw or {}))
    m = Monitor("-p", w.pid, *args)
    w.go()
    rc = w.wait()
    check(rc == 0, "writer failed with %d" % rc)
    return m.stop()


def bpftool():
    for c in (shutil.which("bpftool"), "/usr/sbin/bpftool", "/sbin/bpftool"):
        if c and os.path.exists(c):
            return c
    raise TestFailure("bpftool not found (make check installs it)")


def our_maps():
    """Ids of loaded BPF maps named like this tool's (bwm_*)."""
    out = subprocess.run([bpftool(), "-j", "map", "show"], capture_output=True, check=True,
                         timeout=30).stdout
    return {m["id"] for m in json.loads(out or b"[]") if m.get("name", "").startswith("bwm_")}


_baseline = set()


def snapshot():
    """Remember the bwm_* maps that exist before a test (e.g. left by an old kernel bug)."""
    global _baseline
    _baseline = our_maps()


def loaded_programs():
    out = subprocess.run([bpftool(), "-j", "prog", "show"], capture_output=True, check=True,
                         timeout=30).stdout
    return {p["id"] for p in json.loads(out or b"[]")}


def new_maps():
    return our_maps() - _baseline


def assert_nothing_left():
    """No program or map of ours is still loaded (every BPF program of ours uses a bwm_ map)."""
    wait_until(lambda: not new_maps(), 10, "the tool's BPF maps to be freed")


def error_line(res):
    """The single line of a one-line error."""
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    check(len(lines) == 1, "expected a one-line error, got:\n" + res.stderr)
    return lines[0]


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
