"""--fd LIST: any fd below 32; --on-failure: the last lines of the processes that fail."""
from harness import capture, check, error_line, expect_eq, json_rows, run_tool


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
