// SPDX-License-Identifier: GPL-2.0
/* Unit tests: line reassembly by the seed's three rules, per writer and stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lines.h"

#define BOTH (BWM_F_FIRST | BWM_F_LAST)

/* Emitted lines, rendered as "tid/fd:text[+missing]" and joined with '|'. */
static char got[1 << 18];

static void collect(void *cookie, const struct line_meta *m, const char *text, size_t len,
		    uint64_t missing)
{
	size_t o = strlen(got);

	(void)cookie;
	o += snprintf(got + o, sizeof(got) - o, "%s%u/%u:%.*s", o ? "|" : "", m->tid, m->fd,
		      (int)len, text);
	if (missing)
		snprintf(got + o, sizeof(got) - o, "+%llu", (unsigned long long)missing);
}

static int setup(void **state)
{
	got[0] = '\0';
	*state = lines_new(64, collect, NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	lines_free(*state);
	return 0;
}

static void feed(struct lines *l, uint32_t tid, uint8_t fd, const char *s)
{
	struct line_meta m = { .ts = 1, .tgid = tid, .tid = tid, .fd = fd };

	lines_feed(l, &m, s, strlen(s), BOTH, 0);
}

static void complete_lines_are_emitted_at_once(void **state)
{
	feed(*state, 1, 1, "one\ntwo\n\nfour\n");
	assert_string_equal(got, "1/1:one|1/1:two|1/1:|1/1:four");
}

static void newline_less_write_with_nothing_held_is_emitted(void **state)
{
	feed(*state, 1, 1, "no newline");
	assert_string_equal(got, "1/1:no newline");
	assert_int_equal(lines_pending(*state), 0);
}

static void newline_less_write_is_held_when_bytes_are_held(void **state)
{
	feed(*state, 1, 1, "a\nhel");
	feed(*state, 1, 1, "lo");
	assert_string_equal(got, "1/1:a");
	assert_int_equal(lines_pending(*state), 1);
	feed(*state, 1, 1, " world\nnext");
	assert_string_equal(got, "1/1:a|1/1:hello world");
	assert_int_equal(lines_pending(*state), 1);
}

static void newline_after_emitted_partial_only_ends_it(void **state)
{
	feed(*state, 1, 1, "Working...");
	feed(*state, 1, 1, "\n");
	feed(*state, 1, 1, "abc");
	feed(*state, 1, 1, "def\n");
	feed(*state, 1, 1, "\n");
	assert_string_equal(got, "1/1:Working...|1/1:abc|1/1:def|1/1:");
}

static void streams_and_threads_do_not_mix(void **state)
{
	feed(*state, 1, 1, "x\nout-");
	feed(*state, 1, 2, "y\nerr-");
	feed(*state, 2, 1, "z\nother-");
	feed(*state, 1, 1, "end\n");
	feed(*state, 2, 1, "end\n");
	feed(*state, 1, 2, "end\n");
	assert_string_equal(got, "1/1:x|1/2:y|2/1:z|1/1:out-end|2/1:other-end|1/2:err-end");
}

static void chunks_of_one_write_are_one_write(void **state)
{
	struct line_meta m = { .ts = 1, .tgid = 1, .tid = 1, .fd = 1 };

	/* No newline in the whole write and nothing held: emitted once, whole. */
	lines_feed(*state, &m, "abc", 3, BWM_F_FIRST, 0);
	lines_feed(*state, &m, "def", 3, 0, 0);
	lines_feed(*state, &m, "ghi", 3, BWM_F_LAST, 0);
	assert_string_equal(got, "1/1:abcdefghi");
}

static void truncated_write_reports_missing_bytes(void **state)
{
	struct line_meta m = { .ts = 1, .tgid = 1, .tid = 1, .fd = 1 };

	lines_feed(*state, &m, "full\npartial", 12, BOTH, 500);
	lines_feed(*state, &m, "x\n", 2, BOTH, 0);
	lines_feed(*state, &m, "", 0, BOTH, 7);
	assert_string_equal(got, "1/1:full|1/1:partial+500|1/1:x|1/1:+7");
}

static void long_lines_are_passed_on_in_pieces(void **state)
{
	char line[200];

	memset(line, 'a', 150);
	strcpy(line + 150, "\n");
	feed(*state, 1, 1, "x\n");
	feed(*state, 1, 1, line);
	assert_int_equal(strlen(got), strlen("1/1:x") + 3 * strlen("|1/1:") + 150);
}

static void flush_emits_held_bytes_oldest_first(void **state)
{
	struct line_meta a = { .ts = 20, .tgid = 1, .tid = 1, .fd = 1 };
	struct line_meta b = { .ts = 10, .tgid = 2, .tid = 2, .fd = 2 };

	lines_feed(*state, &a, "1\nlate", 6, BOTH, 0);
	lines_feed(*state, &b, "2\nearly", 7, BOTH, 0);
	got[0] = '\0';
	lines_flush_all(*state);
	assert_string_equal(got, "2/2:early|1/1:late");
	assert_int_equal(lines_pending(*state), 0);
}

static void flush_process_emits_only_its_writers(void **state)
{
	feed(*state, 1, 1, "1\nmine");
	feed(*state, 2, 1, "2\ntheirs");
	got[0] = '\0';
	lines_flush_process(*state, 1);
	assert_string_equal(got, "1/1:mine");
	assert_int_equal(lines_pending(*state), 1);
}

static void many_writers(void **state)
{
	char buf[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "w\n%d", i);
		feed(*state, i + 10, 1, buf);
	}
	assert_int_equal(lines_pending(*state), 5000);
	for (i = 0; i < 5000; i++)
		feed(*state, i + 10, 1, "\n");
	assert_int_equal(lines_pending(*state), 0);
	assert_non_null(strstr(got, "|4999/1:4989"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(complete_lines_are_emitted_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(newline_less_write_with_nothing_held_is_emitted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(newline_less_write_is_held_when_bytes_are_held,
						setup, teardown),
		cmocka_unit_test_setup_teardown(newline_after_emitted_partial_only_ends_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(streams_and_threads_do_not_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(chunks_of_one_write_are_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_write_reports_missing_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(long_lines_are_passed_on_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_emits_held_bytes_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_process_emits_only_its_writers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(many_writers, setup, teardown),
	};

	return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}
