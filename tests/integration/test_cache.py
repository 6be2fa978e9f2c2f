"""The compile cache: a cold run stores, a warm run loads patched instructions, no compiler."""
import hashlib
import os
import re
import subprocess

from harness import Monitor, Writer, check, expect_eq, probes_copy, temp_dir


def cache_env(d=None):
    """A fresh cache directory of the tool's own (root-owned, mode 0700)."""
    d = d or temp_dir("bwm-cache-test-")
    os.chmod(d, 0o700)
    return d, dict(os.environ, BWM_CACHE_DIR=str(d))


def traced(actions, *args, env):
    """Trace a writer (its actions), return the monitor's Result."""
    w = Writer("wait", *actions)
    m = Monitor("-p", w.pid, "-v", *args, env=env)
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    return m.stop()


def verdict(stderr):
    """The -v line that says how the programs were obtained."""
    lines = [l for l in stderr.splitlines() if ": cache: " in l and "stored" not in l]
    check(lines, "no cache line in:\n" + stderr)
    return lines[0].split(": cache: ", 1)[1]


def entries(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".img"))


# An entry's header (src/image.c): magic, format, counts, kernel version, key, license,
# then the values it was proven with (4 x s32) and its proof (SHA-256): 112 + 16 + 32.
HEADER = 168


def code_of(entry):
    """An entry's bytes less what depends on the run that stored it (values, proof, sum)."""
    return entry[:112] + entry[HEADER:-32]


ACTIONS = ["out:first line\\n", "err:on stderr\\n", "out:last line\\n"]


def test_cold_run_stores_and_warm_run_hits_with_the_same_output():
    d, env = cache_env()
    cold = traced(ACTIONS, "-1", "-2", env=env)
    check(verdict(cold.stderr).startswith("miss: no entry %s/" % d), cold.stderr)
    check("cache: stored %s/" % d in cold.stderr, cold.stderr)
    expect_eq(len(entries(d)), 1, "entries after the cold run")
    st = os.stat(os.path.join(d, entries(d)[0]))
    expect_eq((st.st_uid, oct(st.st_mode & 0o7777)), (0, "0o600"), "entry owner and mode")
    warm = traced(ACTIONS, "-1", "-2", env=env)
    expect_eq(verdict(warm.stderr), "hit %s/%s" % (d, entries(d)[0]), "warm verdict")
    want = b"stdout: first line\nstderr: on stderr\nstdout: last line\n"
    expect_eq(cold.stdout, want, "cold output")
    expect_eq(warm.stdout, want, "warm output")
    expect_eq(len(entries(d)), 1, "entries after the warm run")


def test_warm_runs_against_two_pids_capture_only_their_own_target():
    d, env = cache_env()
    traced(["out:warming\\n"], env=env)
    a = Writer("wait", "out:from A\\n")
    b = Writer("wait", "out:from B\\n")
    ma = Monitor("-p", a.pid, "-v", env=env)
    mb = Monitor("-p", b.pid, "-v", env=env)
    a.go()
    b.go()
    expect_eq((a.wait(), b.wait()), (0, 0), "writers' status")
    ra, rb = ma.stop(), mb.stop()
    check(verdict(ra.stderr).startswith("hit "), ra.stderr)
    check(verdict(rb.stderr).startswith("hit "), rb.stderr)
    expect_eq(ra.stdout, b"from A\n", "A's monitor")
    expect_eq(rb.stdout, b"from B\n", "B's monitor")


def test_descendants_and_exits_shape_is_cached_and_follows_children():
    d, env = cache_env()
    actions = ["out:parent\\n", "fork-exit:3"]
    cold = traced(actions, "-f", "-P", env=env)
    warm = traced(actions, "-f", "-P", env=env)
    check(verdict(warm.stderr).startswith("hit "), warm.stderr)
    for r in (cold, warm):
        lines = sorted(re.sub(rb"^\d+", b"PID", l) for l in r.stdout.splitlines())
        expect_eq(lines, [b"PID stdout: exiting 3", b"PID stdout: parent"], "-f output")
    cold_x = traced(actions, "-f", "-x", env=env)
    check(verdict(cold_x.stderr).startswith("miss: no entry"), "-x is another shape")
    expect_eq(len(entries(d)), 2, "one entry per shape")
    warm_x = traced(actions, "-f", "-x", env=env)
    check(verdict(warm_x.stderr).startswith("hit "), warm_x.stderr)
    strip = lambda out: re.sub(rb"\d+", b"N", out)
    expect_eq(strip(warm_x.stdout), strip(cold_x.stdout), "-f -x output, warm and cold")
    check(b"exiting 3" in warm_x.stdout and len(warm_x.stdout.splitlines()) >= 4,
          warm_x.stdout)


def test_a_template_edit_misses():
    d, env = cache_env()
    probes = probes_copy("bwm-cache-probes-")
    env["BPF_WRITE_MONITOR_PROBES"] = str(probes)
    traced(["out:one\\n"], env=env)
    with open(probes / "write.bpf.c", "a") as f:
        f.write("/* an operator's edit */\n")
    r = traced(["out:two\\n"], env=env)
    check(verdict(r.stderr).startswith("miss: no entry"), r.stderr)
    expect_eq(r.stdout, b"two\n", "output after the edit")
    expect_eq(len(entries(d)), 2, "entries")


def test_no_cache_bypasses_it():
    d, env = cache_env()
    r = traced(["out:plain\\n"], "--no-cache", env=env)
    expect_eq(verdict(r.stderr), "not used (--no-cache)", "verdict")
    expect_eq(r.stdout, b"plain\n", "output")
    expect_eq(entries(d), [], "entries")


def test_tampered_entries_are_refused_and_rebuilt():
    d, env = cache_env()
    traced(["out:x\\n"], env=env)
    path = os.path.join(d, entries(d)[0])
    good = open(path, "rb").read()
    # A flipped byte in the instructions, the checksum left as it was.
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x40
    open(path, "wb").write(bytes(bad))
    r = traced(["out:after tamper\\n"], env=env)
    check(re.match(r"miss: refusing entry \S+ \(checksum mismatch\): rebuilding it",
                   verdict(r.stderr)), r.stderr)
    expect_eq(r.stdout, b"after tamper\n", "output")
    check(code_of(open(path, "rb").read()) == code_of(good), "the rebuilt entry differs")
    # Group-readable, then owned by someone else: refused, rebuilt (0600, root).
    for change in (lambda: os.chmod(path, 0o640), lambda: os.chown(path, 65534, 0)):
        change()
        r = traced(["out:y\\n"], env=env)
        check("owned by root with mode 0600" in verdict(r.stderr), r.stderr)
        st = os.stat(path)
        expect_eq((st.st_uid, oct(st.st_mode & 0o7777)), (0, "0o600"), "rebuilt entry")
    r = traced(["out:z\\n"], env=env)
    check(verdict(r.stderr).startswith("hit "), r.stderr)


def test_an_entry_whose_code_differs_from_its_proof_is_refused():
    # An instruction changed and the checksum made right again: the entry is whole
    # but its code is not what its proof compiled, so it is never loaded.
    d, env = cache_env()
    traced(["out:x\\n"], env=env)
    path = os.path.join(d, entries(d)[0])
    good = open(path, "rb").read()
    bad = bytearray(good[:-32])
    # An immediate's low bit, in an instruction that is no map reference (ld_imm64, opcode
    # 0x18, two slots: flipped there, the entry is refused for its map, not its proof).
    at = HEADER + (len(bad) - HEADER) // 2 // 8 * 8
    while bad[at] == 0x18 or bad[at - 8] == 0x18:
        at += 8
    bad[at + 4] ^= 0x01
    bad += hashlib.sha256(bad).digest()
    open(path, "wb").write(bytes(bad))
    r = traced(["out:after the change\\n"], env=env)
    expect_eq(verdict(r.stderr), "miss: refusing entry %s (its code differs from its proof): "
              "rebuilding it" % path, "verdict")
    expect_eq(r.stdout, b"after the change\n", "output")
    check(code_of(open(path, "rb").read()) == code_of(good), "the rebuilt entry differs")
    r = traced(["out:z\\n"], env=env)
    check(verdict(r.stderr).startswith("hit "), r.stderr)


def test_a_cache_directory_others_can_enter_is_not_used():
    d, env = cache_env()
    os.chmod(d, 0o755)
    r = traced(["out:still works\\n"], env=env)
    check(verdict(r.stderr).startswith("not used: refusing cache directory %s" % d), r.stderr)
    expect_eq(r.stdout, b"still works\n", "output")
    expect_eq(entries(d), [], "entries")


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def placeholders():
    """The placeholder values the code uses now, read from src/cache.h."""
    text = open(os.path.join(ROOT, "src", "cache.h")).read()
    found = dict(re.findall(r"#define (CACHE_PH_\w+_VALUE)\s+(0x[0-9a-fA-F]+)", text))
    expect_eq(sorted(found), ["CACHE_PH_SELF_VALUE", "CACHE_PH_TARGET_VALUE"], "placeholders")
    return {k: int(v, 16) for k, v in found.items()}


def test_every_shape_compiles_the_same_with_placeholders_patched_as_with_the_values():
    # build/prove_cache: every shape the tool can emit on this kernel (target kinds, -f,
    # -x, streams, -K, -C/-j, --max-bytes classes, PID lists, PID namespaces, capture
    # paths, exit methods), compiled with placeholders and with real values (PID 1, a
    # small PID, pid_max - 1, the monitor next to the target): the same instructions
    # and maps. In an emulated guest (a compile takes 10 s there) the smaller set, -q.
    prover = os.path.join(ROOT, "build", "prove_cache")
    check(os.access(prover, os.X_OK), "build it first: make helpers")
    # make check-fallback: make check proved the entry+exit path's shapes already.
    quick = ["-q"] if os.environ.get("BWM_VM_OUT") or os.environ.get("BWM_CAPTURE_PATH") else []
    r = subprocess.run([prover, *quick], capture_output=True, text=True, timeout=900)
    failed = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
    check(not failed and r.returncode == 0,
          "shapes that the cache must not store:\n%s\n%s" % ("\n".join(failed), r.stderr[-2000:]))
    m = re.search(r"prove_cache: (\d+) shapes proven, 0 failed", r.stdout)
    check(m, r.stdout[-2000:])
    # Every target kind on each capture path and exit method the kernel offers, or
    # (-q) the kernel's own, or with BWM_CAPTURE_PATH that path's.
    # -q: the three -p kinds, the cgroup filters this kernel has (5.10: "under" only), the
    # PID namespace: 5 at the least.
    least = 45 if not quick else 1 if os.environ.get("BWM_CAPTURE_PATH") else 5
    check(int(m.group(1)) >= least, "only %s shapes proven:\n%s" % (m.group(1), r.stdout))


def test_ebpf_prints_the_real_values_not_placeholders():
    d, env = cache_env()
    r = subprocess.run(["./bpf_write_monitor", "-p", "4242", "--ebpf"], env=env,
                       capture_output=True, cwd=ROOT)
    check(b"#define BWM_TARGET_PID 4242\n" in r.stdout, r.stdout[:400])
    for name, value in placeholders().items():
        check(b"%d" % value not in r.stdout, "placeholder %s in --ebpf's text" % name)


def test_a_template_edit_that_compares_the_target_pid_captures_cold_and_warm():
    # The field hack of issue 20: a line at the top of bwm_call() that depends on the
    # traced PID. A compile with placeholder values folds the compare the other way;
    # the cache must not store that, on the first run nor the next.
    d, env = cache_env()
    probes = probes_copy("bwm-cache-hack-")
    env["BPF_WRITE_MONITOR_PROBES"] = str(probes)
    runs = ("first", "next", "no-cache")
    w = Writer(*[a for run in runs for a in ("wait", "out:%s run\\n" % run)])
    path = probes / "write.bpf.c"
    text, n = re.subn(r"(static __always_inline int bwm_call\([^{]*\{\n)",
                      lambda m: m.group(1) + "\tif (BWM_TARGET_PID != %d) return 0;\n" % w.pid,
                      open(path).read(), count=1)
    expect_eq(n, 1, "the edit")
    open(path, "w").write(text)
    for run in runs:
        m = Monitor("-p", w.pid, "-v", *(["--no-cache"] if run == "no-cache" else []), env=env)
        w.go()
        want = b"%s run\n" % run.encode()
        try:
            m.wait_stdout(want, timeout=10)
        finally:
            r = m.stop()
        expect_eq(r.stdout, want, "the %s run's output" % run)
        if run != "no-cache":   # -v says which program differed, and why
            check(re.search(r"cache: not stored: the compile with placeholders differs from "
                            r"the one with the real values \(tracepoint__syscalls__sys_exit_\w+: "
                            r"compiled differently with placeholder values", r.stderr), r.stderr)
    expect_eq(entries(d), [], "entries")
    expect_eq(w.wait(), 0, "writer status")


def test_a_template_that_compiles_only_with_the_real_values_traces_uncached():
    # An edit the placeholder values cannot compile (an assertion on the traced PID): the
    # real compile, made at the same time, is used; nothing is stored; and the compiler's
    # messages, from the quiet placeholder compile, are not shown.
    d, env = cache_env()
    probes = probes_copy("bwm-cache-assert-")
    env["BPF_WRITE_MONITOR_PROBES"] = str(probes)
    path = probes / "write.bpf.c"
    open(path, "a").write("\n_Static_assert(BWM_TARGET_PID != 0x6b3c9d5b, \"a placeholder\");\n")
    r = traced(ACTIONS[:1], env=env)
    expect_eq(r.stdout, b"first line\n", "output (stderr: %s)" % r.stderr)
    check("cache: not stored: the text with placeholders does not compile: using the compile "
          "with the real values" in r.stderr, r.stderr)
    check("a placeholder" not in r.stderr, "the placeholder compile's message:\n" + r.stderr)
    expect_eq(entries(d), [], "entries")


def test_concurrent_cold_runs_leave_one_good_entry():
    d, env = cache_env()
    a = Writer("wait", "out:from A\\n")
    b = Writer("wait", "out:from B\\n")
    ma = Monitor("-p", a.pid, "-v", env=env, ready=False)
    mb = Monitor("-p", b.pid, "-v", env=env, ready=False)
    ma.wait_stderr("Tracing ")
    mb.wait_stderr("Tracing ")
    a.go()
    b.go()
    expect_eq((a.wait(), b.wait()), (0, 0), "writers' status")
    expect_eq((ma.stop().stdout, mb.stop().stdout), (b"from A\n", b"from B\n"), "outputs")
    expect_eq(len(entries(d)), 1, "entries")
    check(not [f for f in os.listdir(d) if f.endswith(".tmp")], "temporary files left")
    r = traced(["out:again\\n"], env=env)
    check(verdict(r.stderr).startswith("hit "), r.stderr)


def test_storing_keeps_the_32_most_recently_used_entries():
    # 40 entries of other shapes, the oldest last used 40 hours ago; a warm hit makes
    # its entry the most recent; a cold run of a new shape stores and prunes to 32
    # (10 entries and one stale temporary file: 11 files).
    d, env = cache_env()
    traced(["out:warming\\n"], env=env)
    (kept,) = entries(d)
    os.utime(os.path.join(d, kept), (0, 0))               # used long ago
    old = ["%064x.img" % i for i in range(40)]
    for i, name in enumerate(old):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(b"an old entry")
        os.chmod(path, 0o600)
        t = 1e9 + 3600 * i                               # old[0] the least recent
        os.utime(path, (t, t))
    stale = os.path.join(d, ".%s.1.tmp" % ("0" * 64))    # a writer that died
    with open(stale, "wb") as f:
        f.write(b"half")
    os.utime(stale, (1e9, 1e9))
    warm = traced(["out:warm\\n"], env=env)
    check(verdict(warm.stderr).startswith("hit "), warm.stderr)
    cold = traced(["err:cold\\n"], "-2", env=env)
    check(verdict(cold.stderr).startswith("miss: "), cold.stderr)
    check(re.search(r"cache: removed 11 old files \(it keeps the 32 most recently used "
                    r"entries\)", cold.stderr), cold.stderr)
    now = entries(d)
    expect_eq(len(now), 32, "entries after the prune")
    check(kept in now, "the entry just hit is kept")
    expect_eq([n for n in old if n in now], old[-30:], "the 30 most recent old ones stay")
    check(not os.path.exists(stale), "a stale temporary file is removed")
    expect_eq(cold.stdout, b"cold\n", "the new shape's output")
