// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the loop breaker (a process writing back what the tool printed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "feedback.h"

#define MS	1000000ull
#define HASH(line)	feedback_hash(line, strlen(line))

/* Print line i of origin, then let tgid write it back; the verdict. */
static enum feedback_verdict echo(struct feedback *fb, uint32_t origin, uint32_t tgid, int i,
				  uint64_t now)
{
	char line[32];

	snprintf(line, sizeof(line), "line %d", i);
	feedback_printed(fb, HASH(line), origin);
	return feedback_captured(fb, tgid, HASH(line), now);
}

static void unrelated_lines_are_no_feedback(void **state)
{
	struct feedback *fb = feedback_new();
	char line[32];
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof(line), "printed %d", i);
		feedback_printed(fb, HASH(line), 10);
		snprintf(line, sizeof(line), "written %d", i);
		assert_int_equal(feedback_captured(fb, 10, HASH(line), i * MS / 100),
				 FEEDBACK_NONE);
	}
	feedback_free(fb);
}

static void a_process_repeating_its_own_lines_is_only_a_suspect(void **state)
{
	struct feedback *fb = feedback_new();
	int i, suspect = 0, loop = 0;

	(void)state;
	for (i = 0; i < 5000; i++) {
		enum feedback_verdict v = echo(fb, 10, 10, 0, i * MS / 10);

		suspect += v == FEEDBACK_SUSPECT;
		loop += v == FEEDBACK_LOOP;
	}
	assert_int_equal(loop, 0);
	assert_true(suspect >= 1 && suspect <= 2);	/* once per window */
	feedback_free(fb);
}

static void echoing_others_at_a_flood_rate_is_a_loop(void **state)
{
	struct feedback *fb = feedback_new();
	enum feedback_verdict v = FEEDBACK_NONE;
	int i;

	(void)state;
	for (i = 0; i < FEEDBACK_MIN_ECHOES && v == FEEDBACK_NONE; i++)
		v = echo(fb, 10 + i % 2, 20, i, i * MS / 10);
	assert_int_equal(v, FEEDBACK_LOOP);
	assert_int_equal(i, FEEDBACK_MIN_ECHOES);
	feedback_free(fb);
}

static void slow_echoes_are_no_loop(void **state)
{
	struct feedback *fb = feedback_new();
	int i;

	(void)state;
	/* Two workers logging the same line once a second: never a flood. */
	for (i = 0; i < 2000; i++)
		assert_int_equal(echo(fb, 10, 20, 0, i * 500 * MS), FEEDBACK_NONE);
	feedback_free(fb);
}

static void mostly_new_lines_are_no_loop(void **state)
{
	struct feedback *fb = feedback_new();
	char line[32];
	int i;

	(void)state;
	for (i = 0; i < 4000; i++) {
		if (i % 2) {
			assert_int_equal(echo(fb, 10, 20, i, i * MS / 10), FEEDBACK_NONE);
			continue;
		}
		snprintf(line, sizeof(line), "own %d", i);
		assert_int_equal(feedback_captured(fb, 20, HASH(line), i * MS / 10),
				 FEEDBACK_NONE);
	}
	feedback_free(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unrelated_lines_are_no_feedback),
		cmocka_unit_test(a_process_repeating_its_own_lines_is_only_a_suspect),
		cmocka_unit_test(echoing_others_at_a_flood_rate_is_a_loop),
		cmocka_unit_test(slow_echoes_are_no_loop),
		cmocka_unit_test(mostly_new_lines_are_no_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
