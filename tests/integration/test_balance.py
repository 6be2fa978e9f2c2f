"""The balance: every byte a traced process wrote is captured or counted by reason.

The writer (tests/helpers/balance.c) adds up what each of its write-family calls
returned, across its threads and children: that is the ground truth. Then
    bytes written = bytes captured + the sum of the ledger's byte reasons,
from the JSON summary record and from the summary line, and the reasons said
inline (line markers, notes, transfer records) add up to the same.
"""
import re
import subprocess

from harness import (HELPERS, Monitor, Writer, check, expect_eq, json_rows, temp_dir)

BALANCE = str(HELPERS / "balance")

# The JSON summary's byte reasons (their sum is uncaptured_bytes) and the summary
# line's names for them.
REASONS = {
    "not_captured_bytes": "past --max-bytes",
    "unwalked_bytes": "not walked",
    "unreadable_bytes": "unreadable",
    "transferred_bytes": "moved by splice/sendfile",
    "lost_bytes": "in lost events",
}

SIZES = [1, 1023, 1024, 4095, 4096, 65535, 65536, 65537, (1 << 20) + 1]

# Everything but losses: each size, writev up to 1024 iovecs, splice, sendfile,
# threads, forks, then fd 1 a socket: sendmsg and sendmmsg past every walk limit
# (40 messages of 12 iovecs; messages over 32 KiB).
SCENARIO = (["write:1:%d" % s for s in SIZES] +
            ["writev:1:1024:1", "writev:1:1024:100", "writev:1:8:4096",
             "splice:1:5000", "sendfile:1:70000",
             "threads:4:50:100", "forks:3:50:100",
             "socket:1", "sendmsg:1:12:7", "sendmmsg:1:40:12:7", "sendmmsg:1:3:1:40000",
             "sendmmsg:1:2:20:64"])

# Losses forced: small buffers against a burst of 30,000 one-line writes (64 bytes).
LOSSY = ["write:1:64:30000"]


def traced(actions, *args, stdout=subprocess.PIPE):
    """Trace the balance writer (and its children) through actions; (Result, bytes written)."""
    truth = temp_dir() / "truth"
    w = Writer("wait", *actions, "truth:%s" % truth, prog=BALANCE)
    m = Monitor("-p", w.pid, "-f", *args, stdout=stdout)
    w.go()
    expect_eq(w.wait(), 0, "writer status")
    r = m.stop()
    expect_eq(r.rc, 0, "monitor status (stderr: %s)" % r.stderr)
    written = int(re.fullmatch(r"written (\d+)\n", truth.read_text()).group(1))
    return r, written


def summary_line(r):
    """The summary line's figures: captured bytes, uncaptured bytes, {reason name: bytes}."""
    mt = re.search(r"(\d+) lines, (\d+) bytes captured, (\d+) events lost"
                   r"(?:, (\d+) bytes not captured \(([^)]*)\))?", r.stderr)
    check(mt, "no summary line:\n" + r.stderr)
    reasons = {}
    for part in (mt.group(5) or "").split(", "):
        if part:
            n, name = part.split(" ", 1)
            reasons[name] = int(n)
    return int(mt.group(2)), int(mt.group(4) or 0), reasons


def check_balance(summary, written, what):
    """written = bytes + the byte reasons; nothing lost without a byte count."""
    reasons = sum(summary[k] for k in REASONS)
    expect_eq(summary["uncaptured_bytes"], reasons, what + ": uncaptured_bytes = its reasons")
    expect_eq(summary["bytes"] + reasons, written,
              what + ": bytes captured + not captured (%r) = bytes written"
              % {k: summary[k] for k in REASONS})
    expect_eq((summary["unstashed_calls"], summary["malformed_records"]), (0, 0),
              what + ": losses with no byte count")


def check_line_balance(r, written, what):
    """The same balance from the summary line: each reason by name, and their sum."""
    captured, uncaptured, reasons = summary_line(r)
    check(set(reasons) <= set(REASONS.values()), what + ": reason names %r" % reasons)
    expect_eq(sum(reasons.values()), uncaptured, what + ": the reasons add up")
    expect_eq(captured + uncaptured, written, what + ": summary line %r" % reasons)
    return reasons


def check_scenario_reasons(summary):
    """The scenario exercises these reasons: a reason dropped unbalances the run."""
    for k in ("not_captured_bytes", "unwalked_bytes", "transferred_bytes"):
        check(summary[k] > 0, "the scenario must count %s: %r" % (k, summary))
    expect_eq(summary["unwalked_messages"], 8, "sendmmsg messages past the 32 walked")
    expect_eq(summary["transferred_bytes"], 75000, "splice + sendfile bytes")
    expect_eq(summary["lost_bytes"], 0, "bytes lost on default buffers")


def test_balance_json():
    r, written = traced(SCENARIO, "--json")
    rows, summary = json_rows(r)
    check_balance(summary, written, "--json")
    check_scenario_reasons(summary)
    # Said where it happens: the line markers, notes and transfer records add up.
    missing = sum(x.get("missing_bytes", 0) for x in rows)
    notes = sum(int(re.search(r"\((\d+) bytes\)", x["note"]).group(1))
                for x in rows if "note" in x)
    xfer = sum(x.get("kernel_transfer_bytes", 0) for x in rows)
    expect_eq(missing + notes, summary["not_captured_bytes"] + summary["unwalked_bytes"] +
              summary["unreadable_bytes"], "missing_bytes of the lines + notes")
    expect_eq(xfer, summary["transferred_bytes"], "kernel_transfer_bytes of the records")
    reasons = check_line_balance(r, written, "--json's summary line")
    expect_eq(reasons, {REASONS[k]: summary[k] for k in REASONS if summary[k]},
              "the summary line's reasons")


def test_balance_text():
    r, written = traced(SCENARIO)
    reasons = check_line_balance(r, written, "text")
    for k in ("not_captured_bytes", "unwalked_bytes", "transferred_bytes"):
        check(REASONS[k] in reasons, "text: %r not named: %r" % (REASONS[k], reasons))
    text = r.text
    said = (sum(int(n) for n in re.findall(r"\[\.\.\. (\d+) more bytes not captured\]", text)) +
            sum(int(n) for n in re.findall(r"more messages \((\d+) bytes\) not captured\]",
                                           text)) +
            sum(int(n) for n in re.findall(r"\[(\d+) bytes via kernel transfer\]", text)))
    expect_eq(said, sum(reasons.values()), "text: the inline markers add up")


def test_balance_raw():
    out = temp_dir() / "raw"
    with open(out, "wb") as f:
        r, written = traced(SCENARIO, "--raw", stdout=f)
    captured, uncaptured, reasons = summary_line(r)
    expect_eq(captured + uncaptured, written, "--raw: summary line %r" % reasons)
    expect_eq(out.stat().st_size, captured, "--raw: bytes printed = bytes captured")
    said = (sum(int(n) for n in re.findall(r"wrote (\d+) more bytes to stdout", r.stderr)) +
            sum(int(n) for n in re.findall(r"messages \((\d+) bytes\) to stdout", r.stderr)) +
            sum(int(n) for n in re.findall(r"moved (\d+) bytes to stdout", r.stderr)))
    expect_eq(said, uncaptured, "--raw: what stderr said is not in the copy")


def lossy(*args, stdout=subprocess.PIPE):
    """The burst on small buffers until some records are lost (and some printed)."""
    for pages in (1, 2, 4, 8):
        r, written = traced(LOSSY, "-b", pages, *args, stdout=stdout)
        if "in lost events" in r.stderr:
            return r, written
    check(False, "no loss on buffers of 1 to 8 pages:\n" + r.stderr)


def test_balance_with_losses_json():
    r, written = lossy("--json")
    rows, summary = json_rows(r)
    check_balance(summary, written, "--json with losses")
    check(summary["lost_bytes"] > 0 and summary["events_lost"] > 0, "losses: %r" % summary)
    lines = [x for x in rows if "line" in x]
    check(lines and summary["bytes"] > 0, "some lines must get through: %r" % summary)
    expect_eq(summary["bytes"], 64 * len(lines), "bytes captured: whole 64-byte lines")
    # Said when it happens: the "lost" records add up to the summary's figures.
    lost = [x for x in rows if x["type"] == "lost"]
    expect_eq((sum(x["events"] for x in lost), sum(x["bytes"] for x in lost)),
              (summary["events_lost"], summary["lost_bytes"]), "the lost records")


def test_balance_with_losses_text_and_raw():
    r, written = lossy()
    reasons = check_line_balance(r, written, "text with losses")
    check(reasons.get("in lost events", 0) > 0 and r.stdout.count(b"\n") > 0, r.stderr)
    out = temp_dir() / "raw"
    with open(out, "wb") as f:
        r, written = lossy("--raw", stdout=f)
    captured, uncaptured, reasons = summary_line(r)
    expect_eq(captured + uncaptured, written, "--raw with losses: %r" % reasons)
    check(0 < out.stat().st_size == captured, "--raw with losses: bytes printed")
