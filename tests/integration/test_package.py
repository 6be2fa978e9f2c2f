"""The Debian package (make deb): install it into this machine, trace with it, purge it.

The package is installed and purged only inside the test (under the runner's machine-wide
lock), and the test leaves the machine's package set as it found it, on failure too.
"""
import os
import re
import subprocess
from pathlib import Path

from harness import ROOT, Monitor, Writer, check, expect_eq, run_tool, temp_dir

PKG = "bpf-write-monitor"
BIN = "/usr/sbin/bpf_write_monitor"
TEMPLATES = "/usr/share/bpf_write_monitor/probes"
DOC = "/usr/share/doc/" + PKG
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# The installed tool must find its own templates, not the ones the harness points at.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "BPF_WRITE_MONITOR_PROBES"}

FILES = [
    BIN,
    TEMPLATES + "/arch-x86_64.h",
    TEMPLATES + "/common.bpf.h",
    TEMPLATES + "/event.h",
    TEMPLATES + "/lifecycle.bpf.c",
    TEMPLATES + "/write.bpf.c",
    os.path.dirname(TEMPLATES) + "/records.schema.json",
    DOC + "/bpf_write_monitor_example.txt",
    DOC + "/changelog.gz",
    DOC + "/copyright",
    "/lib/systemd/system/bpf-write-monitor@.service",
    "/usr/lib/systemd/catalog/bpf-write-monitor.catalog",
    "/usr/share/lintian/overrides/bpf-write-monitor",
    "/usr/share/man/man8/bpf_write_monitor.8.gz",
]


def _version():
    text = (ROOT / "src/options.h").read_text()
    return re.search(r'^#define BWM_VERSION\s+"([^"]+)"$', text, re.M).group(1)


def _packages():
    """Every package dpkg knows, with its version and status."""
    return set(subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version} ${Status}\\n"],
                              capture_output=True, text=True, check=True).stdout.splitlines())


def _installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout != "" and "not-installed" not in r.stdout


def _run(cmd, what, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    check(r.returncode == 0, "%s failed (%d):\n%s%s" % (what, r.returncode, r.stdout[-3000:],
                                                         r.stderr[-3000:]))
    return r.stdout


def _left_behind():
    return [p for p in FILES + [TEMPLATES, DOC, os.path.dirname(TEMPLATES)] if os.path.lexists(p)]


def _trace_with_the_installed_tool():
    r = run_tool("-p", "1", "--ebpf", "-v", prog=[BIN], env=TOOL_ENV)
    expect_eq(r.rc, 0, "--ebpf status")
    check("templates from %s (the installed copy)" % TEMPLATES in r.stderr, r.stderr)
    check(('#line 1 "%s/write.bpf.c"' % TEMPLATES).encode() in r.stdout, "line markers")
    w = Writer("wait", "out:from the package\\n", "err:to stderr\\n", "out:again\\n")
    m = Monitor("-p", w.pid, "-1", "-2", "-P", prog=[BIN], env=TOOL_ENV)
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    r = m.finish()  # it ends by itself when the writer has exited
    expect_eq(r.rc, 0, "status of the installed tool")
    expect_eq(r.stdout, ("{0} stdout: from the package\n{0} stderr: to stderr\n"
                         "{0} stdout: again\n").format(w.pid).encode())
    check("PID %d has exited" % w.pid in r.stderr, r.stderr)


def test_make_deb_works_from_a_directory_only_root_may_enter():
    # Before the fix lintian, run as nobody, could not enter the caller's directory
    # (/root, a mktemp -d) and the package was removed. The tree is copied (with its
    # build/deb, so that nothing is compiled again) into a 0700 directory and packaged.
    tmp = temp_dir("bwm-deb-0700-")
    os.chmod(tmp, 0o700)
    tree = os.path.join(tmp, "tree")
    files = _run(["git", "ls-files", "-z"], "git ls-files", cwd=ROOT).split("\0")
    _run(["make", "-s", "deb"], "make deb", cwd=ROOT)
    os.makedirs(tree)
    subprocess.run(["cp", "-a", "--parents", *[f for f in files if f and os.path.exists(ROOT / f)],
                    tree], cwd=ROOT, check=True)
    subprocess.run(["cp", "-a", str(ROOT / "build" / "deb"), os.path.join(tree, "build")],
                   check=True)
    for p in Path(tree, "build", "deb").glob("pkg"):
        subprocess.run(["rm", "-rf", str(p)], check=True)
    r = subprocess.run(["make", "-s", "deb"], cwd=tree, capture_output=True, text=True)
    out = r.stdout + r.stderr
    check(r.returncode == 0 and "lintian: no errors, no warnings" in out,
          "make deb from a 0700 directory (%d):\n%s" % (r.returncode, out[-3000:]))
    check(Path(tree, "%s_%s_amd64.deb" % (PKG, _version())).is_file(), out)


def test_debian_package_installs_traces_and_purges_cleanly():
    check(not _installed() and not _left_behind(),
          "%s is already on this machine (%s): this test installs and purges it, so remove it "
          "first: apt-get purge %s" % (PKG, _left_behind(), PKG))
    deb = ROOT / ("%s_%s_amd64.deb" % (PKG, _version()))
    _run(["make", "-s", "deb"], "make deb", cwd=ROOT)  # does nothing when it is up to date
    check(deb.is_file(), "make deb did not build " + deb.name)
    fields = _run(["dpkg-deb", "--field", str(deb), "Depends", "Recommends"], "dpkg-deb")
    depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1).split(", ")
    for dep in ("libbpfcc", "libbpf1", "libc6"):
        check(any(d.split(" ")[0] == dep for d in depends), "Depends lacks %s: %s" % (dep, fields))
    check("Recommends: linux-headers-amd64\n" in fields, fields)
    before = _packages()
    try:
        # No Recommends (linux-headers-amd64): the test must not add packages to the machine.
        _run(APT + ["install", "--no-install-recommends", str(deb)], "apt-get install",
             env=APT_ENV)
        listed = _run(["dpkg", "-L", PKG], "dpkg -L").splitlines()
        expect_eq(sorted(p for p in listed if os.path.isfile(p)), sorted(FILES), "dpkg -L files")
        expect_eq(_run(["man", "-w", "bpf_write_monitor"], "man -w").strip(), FILES[-1],
                  "man -w")
        expect_eq(run_tool("-V", prog=[BIN]).stdout.decode().strip(),
                  "bpf_write_monitor " + _version(), "-V")
        # Built with the hardening flags: full RELRO (BIND_NOW), PIE, stack protector.
        dyn = _run(["readelf", "-d", "-W", BIN], "readelf")
        check("BIND_NOW" in dyn and re.search(r"FLAGS_1.*\bPIE\b", dyn), dyn)
        check("__stack_chk_fail" in _run(["nm", "-D", BIN], "nm"), "no stack protector")
        # systemd's dpkg trigger has put the catalog of --journal's MESSAGE_IDs in its database.
        check("bpf_write_monitor ended" in _run(
            ["journalctl", "--dump-catalog", "00611af2c2954c0582e79b98976b2238"],
            "journalctl --dump-catalog"), "the summary's MESSAGE_ID is not in the catalog")
        _trace_with_the_installed_tool()
    finally:
        purge = subprocess.run(APT + ["purge", PKG], capture_output=True, text=True, env=APT_ENV)
    check(purge.returncode == 0, "apt-get purge failed:\n" + purge.stdout + purge.stderr)
    check(not _installed(), "still installed after apt-get purge")
    expect_eq(_left_behind(), [], "files left after apt-get purge")
    expect_eq(sorted(_packages() ^ before), [], "packages changed by the test")
