// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the keeper of --on-failure (src/keep.c): a ring of the last N
 * lines per process and stream, the --max-held cap over all of them, lines
 * handed to the parent when a child exits 0, and what is printed when a
 * process fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "keep.h"
#include "emit_rig.h"

/* PIDs above any pid_max: /proc knows none of them. */
#define PID(n)	(5000000u + (n))

struct rig {
	struct emit_rig e;
	struct keep *keep;
	uint64_t ts;
};

static struct rig *rig_new(unsigned n, size_t max_held, bool inherit, bool running, bool json)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->e.cfg.fd_mask = BWM_FD_STDOUT | BWM_FD_STDERR;
	g->e.cfg.json = json;
	emit_rig_init(&g->e, 1);
	g->keep = keep_new(&(struct keep_opts){ .per_stream = n, .max_held = max_held,
						.inherit = inherit, .show_running = running },
			   &g->e.emit, &g->e.ledger);
	assert_non_null(g->keep);
	return g;
}

static void rig_free(struct rig *g)
{
	keep_free(g->keep);
	emit_rig_fini(&g->e);
	free(g);
}

static const char *printed(struct rig *g)
{
	return emit_rig_printed(&g->e);
}

/* A finished line of process tgid on fd. */
static void line(struct rig *g, uint32_t tgid, uint8_t fd, const char *comm, const char *text)
{
	struct line_meta m = { .ts = ++g->ts, .tgid = tgid, .tid = tgid, .fd = fd, .writes = 1 };

	strncpy(m.comm, comm, sizeof(m.comm) - 1);
	keep_line(g->keep, &m, text, strlen(text), 0);
}

/* Process tgid exited with wait status status; the keeper's answer. */
static bool exited(struct rig *g, uint32_t tgid, const char *comm, unsigned status)
{
	struct bwm_event ev = { .type = BWM_EV_EXIT, .tgid = tgid, .tid = tgid, .ts = ++g->ts,
				.flags = BWM_F_STATUS, .total = status };
	struct line_meta m = { .ts = ev.ts, .tgid = tgid, .tid = tgid };

	strncpy(ev.comm, comm, sizeof(ev.comm) - 1);
	memcpy(m.comm, ev.comm, sizeof(m.comm));
	return keep_exit(g->keep, &ev, &m);
}

static void last_n_lines_per_stream_in_order(void **state)
{
	struct rig *g = rig_new(3, 1 << 20, false, false, false);
	char text[16];
	int i;

	(void)state;
	line(g, PID(1), 2, "backup.sh", "err one");
	for (i = 1; i <= 5; i++) {
		snprintf(text, sizeof(text), "out %d", i);
		line(g, PID(1), 1, "backup.sh", text);
	}
	line(g, PID(1), 2, "backup.sh", "err two");
	assert_int_equal(keep_lines(g->keep), 5);
	assert_string_equal(printed(g), "");
	assert_false(exited(g, PID(1), "backup.sh", 2 << 8));
	assert_string_equal(printed(g),
		"PID 5000001 (backup.sh) exited with status 2; its last 5 lines:\n"
		"stderr: err one\nstdout: out 3\nstdout: out 4\nstdout: out 5\nstderr: err two\n");
	assert_int_equal(g->e.ledger.n[KEPT_OLDER], 2);
	assert_int_equal(g->e.ledger.n[KEPT_FAILED], 1);
	assert_int_equal(keep_lines(g->keep), 0);
	assert_int_equal(keep_held(g->keep), 0);
	rig_free(g);
}

static void success_drops_and_counts(void **state)
{
	struct rig *g = rig_new(200, 1 << 20, false, false, false);

	(void)state;
	line(g, PID(1), 1, "ok", "fine");
	line(g, PID(1), 1, "ok", "still fine");
	line(g, PID(2), 1, "bad", "oops");
	assert_false(exited(g, PID(1), "ok", 0));
	assert_false(exited(g, PID(2), "bad", 9));	/* SIGKILL */
	assert_string_equal(printed(g), "PID 5000002 (bad) killed by SIGKILL; its last 1 line:\n"
					"stdout: oops\n");
	assert_int_equal(g->e.ledger.n[KEPT_SUCCEEDED], 2);
	assert_int_equal(g->e.ledger.n[KEPT_FAILED], 1);
	assert_int_equal(ledger_events_lost(&g->e.ledger), 0);
	rig_free(g);
}

static void child_that_succeeded_goes_to_its_parent(void **state)
{
	struct rig *g = rig_new(200, 1 << 20, true, false, false);

	(void)state;
	keep_fork(g->keep, PID(2), PID(1));
	line(g, PID(1), 1, "job.sh", "start");
	keep_fork(g->keep, PID(3), PID(2));
	line(g, PID(2), 1, "tar", "tar says");
	line(g, PID(1), 1, "job.sh", "between");
	line(g, PID(3), 1, "gzip", "gzip says");
	assert_false(exited(g, PID(3), "gzip", 0));	/* to tar */
	assert_false(exited(g, PID(2), "tar", 0));	/* to job.sh */
	line(g, PID(1), 1, "job.sh", "end");
	assert_string_equal(printed(g), "");
	assert_false(exited(g, PID(1), "job.sh", 1 << 8));
	assert_string_equal(printed(g), "PID 5000001 (job.sh) exited with status 1; its last 5 "
					"lines:\nstdout: start\nstdout: tar says\nstdout: between\n"
					"stdout: gzip says\nstdout: end\n");
	assert_int_equal(g->e.ledger.n[KEPT_SUCCEEDED], 0);
	rig_free(g);
}

static void inherited_lines_stay_within_n(void **state)
{
	struct rig *g = rig_new(2, 1 << 20, true, false, false);

	(void)state;
	keep_fork(g->keep, PID(2), PID(1));
	line(g, PID(1), 1, "p", "p1");
	line(g, PID(2), 1, "c", "c1");
	line(g, PID(2), 1, "c", "c2");
	assert_false(exited(g, PID(2), "c", 0));
	assert_int_equal(keep_lines(g->keep), 2);	/* p1 is the oldest of the three */
	assert_int_equal(g->e.ledger.n[KEPT_OLDER], 1);
	assert_false(exited(g, PID(1), "p", 1 << 8));
	assert_string_equal(printed(g), "PID 5000001 (p) exited with status 1; its last 2 lines:\n"
					"stdout: c1\nstdout: c2\n");
	rig_free(g);
}

static void cap_drops_the_oldest_of_all(void **state)
{
	struct rig *g = rig_new(200, 64 << 10, true, false, false);
	char text[128];
	size_t seen_max = 0;
	unsigned i, kept;

	(void)state;
	memset(text, 'x', 100);
	text[100] = '\0';
	for (i = 0; i < 2000; i++) {	/* 2,000 noisy processes, 10 lines each */
		unsigned j;

		for (j = 0; j < 10; j++)
			line(g, PID(i), 1, "noisy", text);
		if (keep_held(g->keep) > seen_max)
			seen_max = keep_held(g->keep);
	}
	assert_true(seen_max <= 64 << 10);
	kept = keep_lines(g->keep);
	assert_true(kept > 0 && kept < 20000);
	assert_int_equal(g->e.ledger.n[KEPT_CAPPED], 20000 - kept);
	/* The oldest went first: the first process has nothing left, the last all. */
	assert_false(exited(g, PID(0), "noisy", 1 << 8));
	assert_string_equal(printed(g), "");
	assert_false(exited(g, PID(1999), "noisy", 1 << 8));
	assert_non_null(strstr(printed(g), "its last 10 lines:\n"));
	for (i = 0; i < 1999; i++)
		assert_false(exited(g, PID(i), "noisy", 0));
	assert_int_equal(keep_lines(g->keep), 0);
	assert_int_equal(g->e.ledger.n[KEPT_CAPPED] + g->e.ledger.n[KEPT_SUCCEEDED] + 10, 20000);
	rig_free(g);
}

static void still_running_shown_only_when_asked(void **state)
{
	struct rig *g = rig_new(200, 1 << 20, false, true, false);

	(void)state;
	line(g, PID(7), 1, "daemon", "working");
	keep_finish(g->keep);
	assert_string_equal(printed(g), "PID 5000007 (daemon) still running; its last 1 line:\n"
					"stdout: working\n");
	rig_free(g);
	g = rig_new(200, 1 << 20, false, false, false);
	line(g, PID(7), 1, "daemon", "working");
	line(g, PID(7), 1, "daemon", "more");
	keep_finish(g->keep);
	assert_string_equal(printed(g), "");
	assert_int_equal(g->e.ledger.n[KEPT_RUNNING], 2);
	rig_free(g);
}

static void json_lines_then_the_exit_record(void **state)
{
	struct rig *g = rig_new(200, 1 << 20, false, false, true);
	const char *out, *a, *b;

	(void)state;
	line(g, PID(1), 1, "bad", "why");
	assert_true(exited(g, PID(1), "bad", 3 << 8));
	out = printed(g);
	a = strstr(out, "\"line\":\"why\"");
	b = strstr(out, "\"type\":\"exit\"");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	assert_null(strstr(out, "PID 5000001"));
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(last_n_lines_per_stream_in_order),
		cmocka_unit_test(success_drops_and_counts),
		cmocka_unit_test(child_that_succeeded_goes_to_its_parent),
		cmocka_unit_test(inherited_lines_stay_within_n),
		cmocka_unit_test(cap_drops_the_oldest_of_all),
		cmocka_unit_test(still_running_shown_only_when_asked),
		cmocka_unit_test(json_lines_then_the_exit_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
