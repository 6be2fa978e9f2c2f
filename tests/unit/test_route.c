// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the router's decisions (src/route.c) and what the emitter
 * (src/emit.c) makes of them: events in, the printed text, the ledger and
 * the requests to the run loop out.
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

#include "kfeat.h"
#include "route.h"
#include "emit_rig.h"

#define MS	1000000ull

/* One router and everything behind it; the output goes to a memfd. */
struct rig {
	struct emit_rig e;
	struct router r;
	struct lines *lines;
	struct exits exits;
};

static struct rig *rig_new(bool raw, bool exits, bool descendants, int method)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->e.cfg.fd_mask = BWM_FD_STDOUT;
	g->e.cfg.raw = raw;
	g->e.cfg.exits = exits;
	g->e.cfg.descendants = descendants;
	g->e.cfg.max_bytes = 65536;
	emit_rig_init(&g->e, 2);
	exits_init(&g->exits, method);
	g->lines = lines_new(&(struct lines_opts){ .max_line = 1 << 20, .max_held = 1 << 20,
						   .window_ns = 100 * MS }, emit_line, &g->e.emit);
	g->r = (struct router){ .cfg = &g->e.cfg, .lines = g->lines, .emit = &g->e.emit,
				.exits = &g->exits, .ledger = &g->e.ledger, .req = &g->e.req,
				.notices = g->e.notices };
	return g;
}

static void rig_free(struct rig *g)
{
	lines_free(g->lines);
	emit_rig_fini(&g->e);
	free(g);
}

/* What was printed so far (the lines and the sink flushed). */
static const char *printed(struct rig *g)
{
	lines_flush_all(g->lines);
	return emit_rig_printed(&g->e);
}

static const char *noticed(struct rig *g)
{
	return emit_rig_noticed(&g->e);
}

/* An event with data: type, process, thread, ts (ms), flags, total, text. */
static void send(struct rig *g, int type, uint32_t tgid, uint32_t tid, uint64_t ms,
		 unsigned flags, uint64_t total, const char *data)
{
	size_t len = data ? strlen(data) : 0;
	struct bwm_event *ev = calloc(1, sizeof(*ev) + len + 8);

	assert_non_null(ev);
	ev->type = type;
	ev->tgid = tgid;
	ev->tid = tid;
	ev->ts = ms * MS;
	ev->fd = 1;
	ev->flags = flags;
	ev->total = total;
	ev->len = len;
	memcpy(ev->comm, "writer", 7);
	if (len)
		memcpy(ev->data, data, len);
	route_event(&g->r, ev);
	free(ev);
}

#define WHOLE	(BWM_F_FIRST | BWM_F_LAST)

static void write_becomes_a_line(void **state)
{
	struct rig *g = rig_new(false, false, false, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(g, BWM_EV_WRITE, 10, 10, 1, WHOLE, 6, "hello\n");
	assert_string_equal(printed(g), "hello\n");
	assert_int_equal(g->r.bytes_in, 6);
	assert_int_equal(g->e.emit.lines_out, 1);
	rig_free(g);
}

static void bytes_not_captured_are_noted_in_the_line(void **state)
{
	struct rig *g = rig_new(false, false, false, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(g, BWM_EV_WRITE, 10, 10, 1, WHOLE, 106, "start");
	assert_string_equal(printed(g), "start [... 101 more bytes not captured]\n");
	/* in line mode too, the ledger counts them (under --max-bytes: unreadable) */
	assert_int_equal(g->e.ledger.n[LOSS_UNREADABLE_BYTES], 101);
	assert_int_equal(ledger_bytes_uncaptured(&g->e.ledger), 101);
	rig_free(g);
}

static void task_exit_ends_the_thread_line(void **state)
{
	struct rig *g = rig_new(false, false, false, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(g, BWM_EV_WRITE, 10, 11, 1, WHOLE, 4, "part");
	sink_flush(&g->e.sink);
	assert_int_equal(g->e.emit.lines_out, 0);		/* held: no newline yet */
	send(g, BWM_EV_TASK_EXIT, 10, 11, 2, 0, 0, NULL);
	assert_int_equal(g->e.emit.lines_out, 1);		/* passed on at the thread's exit */
	assert_string_equal(printed(g), "part\n");
	rig_free(g);
}

static void lifecycle_lines_only_with_exits(void **state)
{
	struct rig *quiet = rig_new(false, false, true, KFEAT_EXIT_GROUP_DEAD);
	struct rig *g = rig_new(false, true, true, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(quiet, BWM_EV_FORK, 12, 12, 1, 0, 10, NULL);
	send(quiet, BWM_EV_EXIT, 12, 12, 2, BWM_F_STATUS, 3 << 8, NULL);
	assert_string_equal(printed(quiet), "");
	send(g, BWM_EV_FORK, 12, 12, 1, 0, 10, NULL);
	send(g, BWM_EV_EXIT, 12, 12, 2, BWM_F_STATUS, 3 << 8, NULL);
	assert_string_equal(printed(g), "fork: 12 (parent 10)\nexit: 12 exited with status 3\n");
	rig_free(quiet);
	rig_free(g);
}

static void an_exit_is_reported_once(void **state)
{
	struct rig *g = rig_new(false, true, true, KFEAT_EXIT_SIGNAL_LIVE);

	(void)state;
	/* Two threads of a dying group can both see it dead. */
	send(g, BWM_EV_EXIT, 12, 13, 1, BWM_F_STATUS, 0, NULL);
	send(g, BWM_EV_EXIT, 12, 12, 2, BWM_F_STATUS, 0, NULL);
	assert_string_equal(printed(g), "exit: 12 exited with status 0\n");
	/* The PID is reused by a new process: its exit is a new one. */
	send(g, BWM_EV_FORK, 12, 12, 3, 0, 10, NULL);
	send(g, BWM_EV_EXIT, 12, 12, 4, BWM_F_STATUS, 1 << 8, NULL);
	assert_string_equal(printed(g), "exit: 12 exited with status 0\nfork: 12 (parent 10)\n"
			    "exit: 12 exited with status 1\n");
	rig_free(g);
}

static void exit_told_by_proc_asks_to_forget_the_process(void **state)
{
	struct rig *g = rig_new(false, false, true, KFEAT_EXIT_PROC);
	struct rig *probe = rig_new(false, false, true, KFEAT_EXIT_GROUP_DEAD);
	struct rig *alone = rig_new(false, false, false, KFEAT_EXIT_PROC);

	(void)state;
	/* exits_settle() sends EXIT for a process /proc shows gone: the probe kept its entry. */
	send(g, BWM_EV_EXIT, 14, 14, 1, 0, 0, NULL);
	assert_int_equal(g->e.req.nforget, 1);
	assert_int_equal(g->e.req.forget[0], 14);
	/* The probe removes the entry itself when it tells the exit. */
	send(probe, BWM_EV_EXIT, 14, 14, 1, 0, 0, NULL);
	assert_int_equal(probe->e.req.nforget, 0);
	/* Without descendants there is no map to forget it from. */
	send(alone, BWM_EV_EXIT, 14, 14, 1, 0, 0, NULL);
	assert_int_equal(alone->e.req.nforget, 0);
	rig_free(g);
	rig_free(probe);
	rig_free(alone);
}

static void skipped_messages_are_a_note(void **state)
{
	struct rig *g = rig_new(false, false, false, KFEAT_EXIT_GROUP_DEAD);
	struct bwm_event ev = { .type = BWM_EV_WRITE, .tgid = 10, .tid = 10, .fd = 1,
				.flags = WHOLE | BWM_F_MSGS_SKIPPED, .offset = 8, .total = 96 };

	(void)state;
	route_event(&g->r, &ev);
	assert_string_equal(printed(g), "[... 8 more messages (96 bytes) not captured]\n");
	assert_int_equal(g->e.ledger.n[LOSS_UNWALKED_MESSAGES], 8);
	assert_int_equal(g->e.ledger.n[LOSS_UNWALKED_BYTES], 96);
	rig_free(g);
}

static void transfer_is_a_note(void **state)
{
	struct rig *g = rig_new(false, false, false, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(g, BWM_EV_XFER, 10, 10, 1, 0, 4096, NULL);
	assert_string_equal(printed(g), "[4096 bytes via kernel transfer]\n");
	assert_int_equal(g->e.ledger.n[LOSS_NOT_CAPTURED], 0);
	assert_int_equal(g->e.ledger.n[LOSS_TRANSFERRED_BYTES], 4096);
	rig_free(g);
}

static void raw_copies_bytes_and_counts_what_it_cannot(void **state)
{
	struct rig *g = rig_new(true, false, false, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	send(g, BWM_EV_WRITE, 10, 10, 1, WHOLE, 1, "a");
	send(g, BWM_EV_WRITE, 10, 10, 2, WHOLE, 10, "part");
	send(g, BWM_EV_XFER, 10, 10, 3, 0, 4096, NULL);
	send(g, BWM_EV_EXIT, 10, 10, 4, BWM_F_STATUS, 0, NULL);
	assert_string_equal(printed(g), "apart");
	assert_int_equal(g->e.ledger.n[LOSS_UNREADABLE_BYTES], 6);	/* under --max-bytes */
	assert_int_equal(g->e.ledger.n[LOSS_TRANSFERRED_BYTES], 4096);
	assert_non_null(strstr(noticed(g), "PID 10 moved 4096 bytes to stdout inside the kernel"));
	assert_non_null(strstr(noticed(g), "PID 10 wrote 6 more bytes to stdout than were captured"));
	rig_free(g);
}

/* Process origin writes n lines; a second later, process tgid writes them back. */
static void echo_lines(struct rig *g, uint32_t origin, uint32_t tgid, int n)
{
	char line[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		send(g, BWM_EV_WRITE, origin, origin, 1, WHOLE, strlen(line), line);
	}
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		send(g, BWM_EV_WRITE, tgid, tgid, 1001, WHOLE, strlen(line), line);
	}
}

static void a_loop_is_cut(void **state)
{
	struct rig *g = rig_new(false, false, true, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	echo_lines(g, 20, 21, 2 * FEEDBACK_MIN_ECHOES);
	assert_true(g->e.req.ncuts >= 1);
	assert_int_equal(g->e.req.cuts[0].pid, 21);
	assert_string_equal(g->e.req.cuts[0].comm, "writer");
	rig_free(g);
}

static void own_echoes_ask_for_a_reader_scan(void **state)
{
	struct rig *g = rig_new(false, false, true, KFEAT_EXIT_GROUP_DEAD);

	(void)state;
	echo_lines(g, 21, 21, 2 * FEEDBACK_MIN_ECHOES);
	assert_true(g->e.req.rescan);
	assert_int_equal(g->e.req.ncuts, 0);
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_becomes_a_line),
		cmocka_unit_test(bytes_not_captured_are_noted_in_the_line),
		cmocka_unit_test(task_exit_ends_the_thread_line),
		cmocka_unit_test(lifecycle_lines_only_with_exits),
		cmocka_unit_test(an_exit_is_reported_once),
		cmocka_unit_test(exit_told_by_proc_asks_to_forget_the_process),
		cmocka_unit_test(skipped_messages_are_a_note),
		cmocka_unit_test(transfer_is_a_note),
		cmocka_unit_test(raw_copies_bytes_and_counts_what_it_cannot),
		cmocka_unit_test(a_loop_is_cut),
		cmocka_unit_test(own_echoes_ask_for_a_reader_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
