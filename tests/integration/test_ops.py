"""Field hacks and bcc-tools conventions: templates, --ebpf, JSON, files, install."""
import json
import os
import re
import stat
import subprocess
from pathlib import Path

from harness import (ROOT, TOOL, Monitor, Writer, capture, check, error_line, expect_eq, json_rows,
                     probes_copy, run_tool, temp_dir)


# ---- templates -------------------------------------------------------------

def test_readme_field_hack_walkthrough():
    # The README's steps, run as written: copy probes/, edit with its sed line, rerun.
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Field hacks")
    section = readme[start:readme.index("\n## ", start)]
    cmds = [l[len("$ sudo "):] for l in section.splitlines() if l.startswith("$ sudo ")]
    check(len(cmds) == 4, "walkthrough commands: %r" % cmds)
    d = str(temp_dir("bwm-hack-"))
    os.rmdir(d)
    for cmd in cmds[:3]:
        subprocess.run(["sh", "-c", cmd.replace("/root/probes", d)], cwd=ROOT, check=True)
    grep = subprocess.run(["grep", "-n", "define BWM_CAPTURE", d + "/common.bpf.h"],
                          capture_output=True, text=True).stdout
    check(grep.strip() in section, "the README shows the edited line: " + grep)
    check("--probe-dir /root/probes" in cmds[3], cmds[3])
    r = capture(["devnull:3", "out:to stdout\\n", "write:3:to fd 3\\n", "err:not stderr\\n"],
                "--probe-dir", d)
    expect_eq(r.stdout, b"to stdout\nfd3: to fd 3\n")
    check("to stdout\nfd3: to fd 3\n" in section, "the README shows this output")
    # Without the hack, fd 3 is not captured.
    r = capture(["devnull:3", "out:to stdout\\n", "write:3:to fd 3\\n"])
    expect_eq(r.stdout, b"to stdout\n")


def test_templates_from_the_environment_and_verbose_origin():
    d = probes_copy("bwm-hack-")
    env = dict(os.environ, BPF_WRITE_MONITOR_PROBES=str(d))
    r = run_tool("-p", "1", "--ebpf", "-v", env=env)
    expect_eq(r.rc, 0, "status")
    check("templates from %s (BPF_WRITE_MONITOR_PROBES)" % d in r.stderr, r.stderr)
    check(('#line 1 "%s/write.bpf.c"' % d).encode() in r.stdout, "line markers")
    env.pop("BPF_WRITE_MONITOR_PROBES")
    r = run_tool("-p", "1", "--ebpf", "-v", "--probe-dir", d, env=env)
    check("templates from %s (--probe-dir)" % d in r.stderr, r.stderr)


def test_embedded_templates_are_the_fallback():
    env = {k: v for k, v in os.environ.items() if k != "BPF_WRITE_MONITOR_PROBES"}
    r = run_tool("-p", "1", "--ebpf", "-v", prog=["unshare", "--mount", "sh", "-c",
                 "mount -t tmpfs none /usr/local && exec \"$0\" \"$@\"", TOOL], env=env)
    expect_eq(r.rc, 0, "status")
    check("templates from the copy embedded in the binary" in r.stderr, r.stderr)
    check(b'#line 1 "<embedded>/write.bpf.c"' in r.stdout, "embedded line markers")


def test_unsafe_templates_are_refused():
    d = probes_copy("bwm-hack-")
    os.chmod(d / "write.bpf.c", 0o664)
    line = error_line(run_tool("-p", "1", "--ebpf", "--probe-dir", d))
    check("refusing template file %s/write.bpf.c" % d in line and "writable by its group" in line
          and "chmod go-w" in line, line)
    os.chmod(d / "write.bpf.c", 0o644)
    os.chown(d / "event.h", 65534, 65534)
    line = error_line(run_tool("-p", "1", "--ebpf", "--probe-dir", d))
    check("%s/event.h is not owned by root" % d in line and "chown root:root" in line, line)
    os.chown(d / "event.h", 0, 0)
    os.chmod(d, 0o777)
    line = error_line(run_tool("-p", "1", "--ebpf", "--probe-dir", d))
    check("refusing template directory %s" % d in line and "writable by everyone" in line, line)
    os.chmod(d, 0o755)
    os.symlink(d / "event.h", d / "link.h")
    os.rename(d / "link.h", d / "lifecycle.bpf.c")
    line = error_line(run_tool("-p", "1", "--ebpf", "--probe-dir", d))
    check("lifecycle.bpf.c" in line, line)


def test_compile_error_in_lifecycle_template_names_file_and_line():
    d = probes_copy("bwm-hack-")
    lines = (d / "lifecycle.bpf.c").read_text().split("\n")
    n = next(i for i, l in enumerate(lines) if "TRACEPOINT_PROBE(sched, sched_process_fork)" in l)
    lines.insert(n + 2, "\tint oops = ;")
    (d / "lifecycle.bpf.c").write_text("\n".join(lines))
    w = Writer("wait")
    r = run_tool("-p", w.pid, "-f", "--probe-dir", d)
    check(r.rc == 1, "expected a failure")
    check("%s/lifecycle.bpf.c:%d:" % (d, n + 3) in r.stderr, r.stderr)
    # Once: a cache miss compiles the text twice at once (placeholders, real values), and
    # two children writing the same messages interleaved them byte by byte (a flaky test).
    expect_eq(r.stderr.count("error: expected expression"), 1, "the compiler's message, once:"
              "\n" + r.stderr)


def test_ebpf_shows_the_baked_constants_without_root():
    r = run_tool("--pid", "4321", "--stderr", "--ebpf", prog=[
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", TOOL])
    expect_eq(r.rc, 0, "status: " + r.stderr)
    text = r.stdout.decode()
    check("\n#define BWM_TARGET_PID 4321\n" in text, "PID")
    check("\n#define BWM_FD_MASK 0x4\n" in text, "fd mask (stderr)")
    check("TRACEPOINT_PROBE(syscalls, sys_exit_write)" in text, "the templates")


# ---- output ---------------------------------------------------------------

def test_json_lines_parse_with_jq_and_python():
    w = Writer("wait", "out:plain\\n", "err:\"quoted\" \\\\ back\\tslash\\n",
               "out:ctl\\x01\\x02 \\e[31mred\\e[0m\\n", "out:utf8 \u00e9\u2713 \\xff\\n",
               "bigwrite:1:3000:0", "out:\\n")
    m = Monitor("-p", w.pid, "-1", "-2", "--json", "-m", "1000")
    w.go()
    w.wait()
    r = m.finish()
    rows, summary = json_rows(r)
    expect_eq(summary["lines"], 5, "summary: lines")
    expect_eq([(x["stream"], x["line"], x["truncated"]) for x in rows], [
        ("stdout", "plain", False),
        ("stderr", '"quoted" \\ back\tslash', False),
        ("stdout", "ctl red", False),
        ("stdout", "utf8 \u00e9\u2713 \\xff", False),
        ("stdout", "x" * 1000, True),
    ], "parsed lines")
    expect_eq(rows[-1]["missing_bytes"], 2000, "missing bytes")
    for x in rows:
        expect_eq((x["pid"], x["tid"], x["comm"]), (w.pid, w.pid, "writer"), "origin")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", x["time"]),
              x["time"])
    jq = subprocess.run(["jq", "-r", 'select(.type == "line") | .line'], input=r.stdout,
                        capture_output=True, check=True)
    expect_eq(jq.stdout.decode().splitlines()[0], "plain", "jq")


def _jq_examples():
    """Each `... | jq ...` example of --help, the README and the man page: (where, the
    tool's arguments, jq's arguments), split as a shell would."""
    import shlex
    man = subprocess.run(["man", "-l", "-P", "cat", str(ROOT / "man/man8/bpf_write_monitor.8")],
                         capture_output=True, text=True, env=dict(os.environ, MANWIDTH="200"),
                         check=True).stdout
    texts = {"--help": run_tool("--help").text + run_tool("--help").stderr,
             "README.md": (ROOT / "README.md").read_text(), "man page": man}
    found = []
    for where, text in texts.items():
        for line in text.splitlines():
            line = re.sub(r"^[#$] ", "", line.strip())     # the man page's prompt
            line = line.split("  #")[0].strip().replace("\u2010", "-").replace("\u2019", "'")
            if line.startswith("bpf_write_monitor ") and "| jq" in line:
                tool, jq = line.split("|", 1)
                found.append((where, shlex.split(tool)[1:], shlex.split(jq)))
    return found


def test_jq_examples_run_as_printed_and_print_no_nulls():
    examples = _jq_examples()
    for where in ("--help", "README.md", "man page"):
        check(any(w == where for w, _, _ in examples), "no jq example found in " + where)
    w = Writer("wait", "out:one\n", "fork-exit:3", "out:two\n", "splice:1:10")
    m = Monitor("-p", w.pid, "-f", "-x", "-j")
    w.go()
    w.wait()
    r = m.finish()
    json_rows(r)
    for where, tool, jq in examples:
        check("-j" in tool or "--json" in tool, "%s: %r" % (where, tool))
        out = subprocess.run(jq, input=r.text, capture_output=True, text=True)
        expect_eq(out.returncode, 0, "%s: %s exit status (%s)" % (where, jq, out.stderr))
        check(out.stdout.strip() and "null" not in out.stdout,
              "%s: %s printed:\n%s" % (where, " ".join(jq), out.stdout))


def test_json_summary_record_counts_what_was_lost():
    # One page per CPU cannot hold the burst: the last record says what was lost, by kind.
    # 20,000 lines are plenty for that (every record is checked against the schema: at
    # 200,000 this test took a minute).
    n = 20000
    r = capture(["burst:1:%d:100" % n], "--buffer-pages", "1", "--json", "-x")
    rows, summary = json_rows(r)
    lines = len([x for x in rows if "line" in x])
    exits = len([x for x in rows if x.get("type") == "exit"])
    check(summary["events_lost"] > 0, "losses expected: %r" % summary)
    check(lines > 0, "some of the burst must get through: %r" % summary)
    expect_eq(lines + exits + summary["events_lost"], n + 1, "lines + exit + events lost")
    expect_eq(summary["bytes"] + summary["lost_bytes"], n * 100, "bytes captured + lost")
    expect_eq(summary["bytes"], lines * 100, "bytes captured")
    expect_eq(summary["buffer_full_events"], summary["events_lost"], "all to a full buffer")
    expect_eq(summary["lines"], lines + exits, "lines in the summary record")


def test_json_lifecycle_events():
    w = Writer("wait", "fork-exit:4")
    m = Monitor("-p", w.pid, "-f", "-x", "-j")
    w.go()
    w.wait()
    rows, _ = json_rows(m.finish())
    events = [(x.get("type"), x.get("exit_status")) for x in rows if x["type"] != "line"]
    expect_eq(events, [("fork", None), ("exit", 4), ("exit", 0)], "events")
    expect_eq(rows[0]["parent"], w.pid, "parent of the fork")


def test_output_file_is_appended_with_mode_0600():
    path = os.path.join(temp_dir(), "out.log")
    for word in ("first", "second"):
        r = capture(["out:%s\\n" % word], "-o", path)
        expect_eq(r.stdout, b"", "nothing on stdout")
    expect_eq(open(path).read(), "first\nsecond\n", "appended")
    expect_eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "mode")


def test_output_file_does_not_follow_a_symlink():
    d = temp_dir()
    target = os.path.join(d, "victim")
    open(target, "w").close()
    os.symlink(target, os.path.join(d, "link"))
    w = Writer("wait")
    line = error_line(run_tool("-p", w.pid, "-o", os.path.join(d, "link")))
    check("symlink" in line, line)
    expect_eq(os.path.getsize(target), 0, "the symlink's target is untouched")


def test_summary_line_at_exit_and_quiet():
    r = capture(["out:a\\nb\\n"])
    last = r.stderr.rstrip().splitlines()[-1]
    check(re.fullmatch(r"bpf_write_monitor: 2 lines, 4 bytes captured, 0 events lost, "
                       r"\d+\.\d s", last), last)


# ---- install and documentation ----------------------------------------------

def test_make_install_destdir_layout_and_man_page():
    dest = str(temp_dir("bwm-destdir-"))
    subprocess.run(["make", "-s", "install", "DESTDIR=" + dest], cwd=ROOT, check=True,
                   capture_output=True)
    files = sorted(str(p.relative_to(dest)) for p in Path(dest).rglob("*") if p.is_file())
    expect_eq(files, [
        "usr/local/sbin/bpf_write_monitor",
        "usr/local/share/bpf_write_monitor/probes/arch-x86_64.h",
        "usr/local/share/bpf_write_monitor/probes/common.bpf.h",
        "usr/local/share/bpf_write_monitor/probes/event.h",
        "usr/local/share/bpf_write_monitor/probes/lifecycle.bpf.c",
        "usr/local/share/bpf_write_monitor/probes/write.bpf.c",
        "usr/local/share/bpf_write_monitor/records.schema.json",
        "usr/local/share/man/man8/bpf_write_monitor.8",
    ], "installed files")
    man = subprocess.run(["man", "-l", os.path.join(dest, "usr/local/share/man/man8/"
                                                     "bpf_write_monitor.8")],
                         capture_output=True, env=dict(os.environ, MANPAGER="cat",
                                                       MANWIDTH="80"))
    expect_eq(man.returncode, 0, "man -l")
    text = man.stdout.decode()
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "REQUIREMENTS", "OPTIONS", "EXAMPLES",
                    "FIELDS", "OVERHEAD", "SOURCE", "OS", "STABILITY", "SEE ALSO"):
        check(re.search(r"^%s$" % section, text, re.M), "man page section " + section)
    # The installed binary finds the installed templates.
    r = run_tool("-p", "1", "--ebpf", "-v", prog=[
        "unshare", "--mount", "sh", "-c", "mount --bind %s/usr/local /usr/local && exec "
        "/usr/local/sbin/bpf_write_monitor \"$@\"" % dest, "sh"],
        env={k: v for k, v in os.environ.items() if k != "BPF_WRITE_MONITOR_PROBES"})
    check("templates from /usr/local/share/bpf_write_monitor/probes (the installed copy)"
          in r.stderr, r.stderr)
    subprocess.run(["make", "-s", "uninstall", "DESTDIR=" + dest], cwd=ROOT, check=True,
                   capture_output=True)
    expect_eq([p for p in Path(dest).rglob("*") if p.is_file()], [], "uninstalled")


def test_docs_are_in_step_with_the_options():
    help_text = run_tool("-h").stdout.decode()
    longs = sorted(set(re.findall(r"--[a-z][a-z-]+", help_text)))
    man = (ROOT / "man/man8/bpf_write_monitor.8").read_text().replace("\\-", "-")
    readme = (ROOT / "README.md").read_text()
    for opt in longs + ["--ebpf"]:
        check(opt in man, "man page lacks " + opt)
        check(opt in readme, "README lacks " + opt)
    example = (ROOT / "tools/bpf_write_monitor_example.txt").read_text()
    check(example.rstrip().endswith(help_text.rstrip()),
          "tools/bpf_write_monitor_example.txt must end with the current -h output")
