"""Complete capture: large writes, every iovec and message, only what was written."""
import os
import re
import subprocess
import tempfile

from harness import Monitor, Writer, capture, check, expect_eq, temp_dir


def big_lines(size, line):
    """What 'bigwrite:FD:SIZE:LINE' writes (see tests/helpers/writer.c)."""
    return bytes(10 if i % line == line - 1 else 97 + (i // line) % 26 for i in range(size))


def test_writev_with_8_iovecs_of_mixed_sizes():
    sizes = [1, 4096, 100, 7000, 3, 2048, 5000, 2232]          # 20480 bytes
    r = capture(["writevn:1:" + ",".join(map(str, sizes)), "out:\\n"])
    want = b"".join(bytes([65 + i]) * n for i, n in enumerate(sizes))
    expect_eq(len(want), 20 * 1024, "test data size")
    expect_eq(r.stdout, want + b"\n")


# One call of each write-family syscall: the writer's actions, and exactly what is printed.
SYSCALLS = {
    "writev": (["writev:1:single iovec\\n"], b"single iovec\n"),
    "writev_iovecs_with_lines": (["writev:1:first |line\\nsecond| line\\n|\\nthird\\n"],
                                 b"first line\nsecond line\n\nthird\n"),
    "pwrite64_to_a_file": (["file:1", "pwrite:1:at offset zero\\n"], b"at offset zero\n"),
    "sendto_sendmsg_sendmmsg_on_a_socket": (
        ["socket:1", "sendto:1:via sendto\\n", "sendmsg:1:via sendmsg\\n",
         "sendmmsg:1:via sendmmsg\\n"], b"via sendto\nvia sendmsg\nvia sendmmsg\n"),
    "sendmsg_iovecs": (["socket:1", "sendmsg:1:one |two |three\\n"], b"one two three\n"),
    "sendmmsg_with_several_messages": (
        ["socket:1", "sendmmsg:1:first message\\n|second\\n|third: a longer one\\n|4\\n"],
        b"first message\nsecond\nthird: a longer one\n4\n"),
}


def _syscall_test(name, actions, want):
    def test():
        expect_eq(capture(actions).stdout, want)
    test.__name__ = "test_" + name
    return test


for _name, (_actions, _want) in SYSCALLS.items():
    globals()["test_" + _name] = _syscall_test(_name, _actions, _want)


def test_sendmmsg_messages_are_separate_writes():
    # Two newline-less messages, nothing held: by the seed's rule each is emitted as it is.
    r = capture(["socket:1", "sendmmsg:1:alpha|beta"], "--line-timeout", "0")
    expect_eq(r.stdout, b"alpha\nbeta\n")


def test_sendmmsg_messages_beyond_the_walked_ones_are_reported():
    msgs = ["m%02d\\n" % i for i in range(40)]
    r = capture(["socket:1", "sendmmsg:1:" + "|".join(msgs)])
    expect_eq(r.stdout, b"".join(b"m%02d\n" % i for i in range(32)) +
              b"[... 8 more messages (32 bytes) not captured]\n")


def test_1mib_write_is_truncated_at_the_default_limit_and_says_so():
    size = 1 << 20
    r = capture(["bigwrite:1:%d:128" % size])
    want = big_lines(size, 128)[:65536]
    lines = want.split(b"\n")        # 512 whole lines, then nothing
    expect_eq(r.stdout, b"\n".join(lines[:-1]) + b"\n[... %d more bytes not captured]\n"
              % (size - 65536))


def test_1mib_write_is_complete_with_max_bytes_1mib():
    size = 1 << 20
    r = capture(["bigwrite:1:%d:128" % size], "--max-bytes", "1048576")
    expect_eq(r.stdout, big_lines(size, 128))


def test_truncation_inside_a_line_is_marked_on_that_line():
    r = capture(["bigwrite:1:5000:1000"], "--max-bytes", "2500")
    want = big_lines(5000, 1000)[:2500].split(b"\n")
    expect_eq(r.stdout, b"\n".join(want) + b" [... 2500 more bytes not captured]\n")


def test_100kib_line_without_newline_then_a_newline():
    size = 100 * 1024
    r = capture(["bigwrite:1:%d:0" % size, "out:\\n"], "--max-bytes", "1048576")
    expect_eq(r.stdout, b"x" * size + b"\n")


def test_100kib_line_assembled_from_4kib_writes():
    # "held:" is held after a newline, so each newline-less write is held too.
    r = capture(["out:start\\nheld:"] + ["bigwrite:1:4096:0"] * 25 + ["out:\\n"], "-m", "4096")
    expect_eq(r.stdout, b"start\nheld:" + b"x" * (25 * 4096) + b"\n")


def capture_reporting(step, pattern, *args):
    """capture() of one writer step, and pattern matched against what it reported on stderr."""
    err = tempfile.TemporaryFile()
    r = capture([step], *args, writer_kw={"stderr": err})
    err.seek(0)
    return r, re.match(pattern, err.read())


def test_write_to_a_full_nonblocking_pipe_is_printed_once():
    r, m = capture_reporting("eagain:1", rb"fills=(\d+) eagain=(\d+)")
    check(m and int(m.group(2)) >= 1, "the writer should have hit EAGAIN")
    fills = int(m.group(1))
    expect_eq(r.stdout, (b"f" * 4095 + b"\n") * fills + b"after eagain\n")


def test_short_write_prints_only_what_was_written():
    r, m = capture_reporting("short:1", rb"fills=(\d+) short=(\d+)")
    check(m and int(m.group(2)) >= 1, "the writer should have made a short write")
    fills = int(m.group(1))
    expect_eq(r.stdout, (b"f" * 4095 + b"\n") * fills + (b"g" * 99 + b"\n") * 200)


def test_short_write_raw_copy_is_exact():
    r, m = capture_reporting("short:1", rb"fills=(\d+)", "--raw")
    fills = int(m.group(1))
    expect_eq(r.stdout, (b"f" * 4095 + b"\n") * fills + (b"g" * 99 + b"\n") * 200)


def test_failed_writes_print_nothing():
    r = capture(["epipe:1", "try:1:lost to EPIPE\\n", "closefd:1", "try:1:lost to EBADF\\n",
                 "devnull:1", "out:after\\n"])
    expect_eq(r.stdout, b"after\n")


def test_raw_copy_of_random_binary_data_is_identical():
    d = temp_dir()
    src, dst = d / "random", d / "copy"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    w = Writer("wait", "copyfile:1:%s:65536" % src)
    with open(dst, "wb") as out:
        m = Monitor("-p", w.pid, "--raw", stdout=out)
        w.go()
        expect_eq(w.wait(), 0, "writer status")
        r = m.stop()
    expect_eq(r.rc, 0, "monitor status")
    check("not in the copy" not in r.stderr and " 0 events lost" in r.stderr, r.stderr)
    cmp = subprocess.run(["cmp", src, dst], capture_output=True, text=True)
    check(cmp.returncode == 0, "cmp: " + cmp.stdout + cmp.stderr)


def test_raw_reports_what_it_could_not_copy():
    r = capture(["bigwrite:1:10000:0", "devnull:1", "splice:1:300"], "--raw", "-m", "4000")
    expect_eq(r.stdout, b"x" * 4000)
    check("6000 more bytes" in r.stderr and "300 bytes to stdout inside the kernel" in r.stderr,
          r.stderr)


def test_raw_of_stderr_only():
    r = capture(["out:not this\\n", "err:\\x00\\x01binary\\xff\\n"], "--raw", "--stderr")
    expect_eq(r.stdout, b"\x00\x01binary\xff\n")


def test_raw_needs_one_stream_and_no_prefix():
    from harness import error_line, run_tool
    r = run_tool("-p", "1", "--raw", "-1", "-2")
    check(r.rc == 2 and "one stream" in error_line(r), repr(r))
    r = run_tool("-p", "1", "--raw", "-T")
    check(r.rc == 2 and "bytes only" in error_line(r), repr(r))


def test_max_bytes_validation():
    from harness import error_line, run_tool
    for bad in ("0", "x", "1048577"):
        r = run_tool("-p", "1", "--max-bytes", bad)
        check(r.rc == 2 and "invalid --max-bytes: " + bad in error_line(r), repr(r))
