#!/usr/bin/env python3
"""Run the integration tests: every test_* function of tests/integration/test_*.py.

    python3 tests/integration/run.py [SUBSTRING...]   only tests whose name contains one

Needs root (real BPF programs). After each test, every process it started is
ended and the runner checks that none of the tool's BPF programs is still loaded.
Ends with the summary line "N passed, N failed, N skipped"; each skip says why. With
CI=true, a test skipped although the machine has what it needs is a failure.
"""
import fcntl
import importlib.util
import inspect
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def load_tests():
    tests = []
    for path in sorted(HERE.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        funcs = [f for name, f in vars(mod).items()
                 if name.startswith("test_") and inspect.isfunction(f)]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        tests += [("%s.%s" % (path.stem, f.__name__), f) for f in funcs]
    return tests


def main(argv):
    if os.geteuid() != 0:
        print("integration tests load BPF programs: run them as root (sudo make check)")
        return 1
    if not os.path.exists(harness.WRITER):
        print("build the helpers first: make helpers")
        return 1
    # One suite at a time on a machine: the tests check that no BPF map of the tool is
    # left loaded, which another suite's running tool would break (and CPU hot-plug).
    lock = open(os.environ.get("BWM_TEST_LOCK", "/tmp/bwm-integration.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("waiting for another integration run to end (%s)" % lock.name, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    tests = load_tests()
    if argv:
        tests = [t for t in tests if any(a in t[0] for a in argv)]
    passed = failed = skipped = 0
    in_ci = os.environ.get("CI", "").lower() in ("true", "1", "yes")
    failures = []
    for name, func in tests:
        start = time.monotonic()
        try:
            harness.snapshot()
            func()
            harness.cleanup()
            harness.assert_nothing_left()
        except harness.TestSkipped as e:
            harness.cleanup()
            if not (e.present and in_ci):
                skipped += 1
                print("skip %s (%.1fs): %s" % (name, time.monotonic() - start, e), flush=True)
                continue
            failed += 1
            detail = "skipped in CI, although this machine has what it needs: %s" % e
            failures.append((name, detail))
            print("FAIL %s (%.1fs)\n%s" % (name, time.monotonic() - start, detail), flush=True)
            continue
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            harness.cleanup()
            failed += 1
            detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            failures.append((name, detail))
            print("FAIL %s (%.1fs)\n%s" % (name, time.monotonic() - start, detail), flush=True)
            continue
        passed += 1
        print("ok   %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
    if failures:
        print("\nfailed: " + ", ".join(n for n, _ in failures))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
