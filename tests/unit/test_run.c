// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the run loop's time arithmetic (src/run.h) and the output's
 * stop deadline (src/sink.c): after a stop, an output nobody reads gets the
 * grace and no more, and what it did not take is counted, in bytes and lines.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "run.h"
#include "sink.h"

#define MS	1000000ull

static void duration_sets_the_deadline(void **state)
{
	(void)state;
	assert_true(run_deadline(0, 5) == UINT64_MAX);
	assert_true(run_deadline(-1, 5) == UINT64_MAX);
	assert_true(run_deadline(1.5, 1000) == 1000 + 1500 * MS);
	assert_true(run_deadline(0.001, 0) == 1 * MS);
	assert_true(run_deadline(86400, 0) == 86400ull * 1000 * MS);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A pipe nobody reads, full: the sink's writes would block for ever. */
static int stuck_pipe(int p[2])
{
	static char fill[65536];

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	return p[1];
}

static void output_gives_up_after_the_grace_and_counts_the_rest(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct sink s;
	uint64_t t0, took;
	int p[2];

	(void)state;
	sink_init(&s, stuck_pipe(p));
	sink_set_stop(&s, &stop, 300 * MS);
	ob_puts(&s.ob, "one\ntwo\nthree");
	stop = 1;
	t0 = mono_ns();
	assert_int_equal(sink_flush(&s), 0);
	took = mono_ns() - t0;
	assert_true(took >= 300 * MS);
	assert_true(took < 1000 * MS);		/* the grace, and a poll's 100 ms */
	assert_true(s.grace.gave_up);
	assert_int_equal(s.unwritten_bytes, 13);
	assert_int_equal(s.unwritten_lines, 2);
	/* Given up: later output is counted at once, not waited for. */
	ob_puts(&s.ob, "four\n");
	t0 = mono_ns();
	sink_flush(&s);
	assert_true(mono_ns() - t0 < 50 * MS);
	assert_int_equal(s.unwritten_bytes, 18);
	assert_int_equal(s.unwritten_lines, 3);
	sink_free(&s);
	close(p[0]);
	close(p[1]);
}

static void output_read_again_takes_everything(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct sink s;
	char buf[16];
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	sink_init(&s, p[1]);
	sink_set_stop(&s, &stop, 300 * MS);
	ob_puts(&s.ob, "hello\n");
	assert_int_equal(sink_flush(&s), 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 6);
	assert_false(s.grace.gave_up);
	assert_int_equal(s.unwritten_bytes, 0);
	sink_free(&s);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_sets_the_deadline),
		cmocka_unit_test(output_gives_up_after_the_grace_and_counts_the_rest),
		cmocka_unit_test(output_read_again_takes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
