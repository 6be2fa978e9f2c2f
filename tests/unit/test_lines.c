// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: line joining per writer and stream, by the seed's rules (window 0)
 * and with a quiet window on a fake clock (the events' timestamps), and the caps.
 */
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

#define MS 1000000ull

/* Emitted lines, rendered as "tid/fd:text[+missing][~]" (~: continued) and joined with '|'. */
static char got[1 << 18];
/* Timestamp and write count of each line passed on, in order. */
static uint64_t ts_of[64];
static uint32_t writes_of[64];
static int nlines;

static void collect(void *cookie, const struct line_meta *m, const char *text, size_t len,
		    uint64_t missing)
{
	size_t o = strlen(got);

	(void)cookie;
	o += snprintf(got + o, sizeof(got) - o, "%s%u/%u:%.*s", o ? "|" : "", m->tid, m->fd,
		      (int)len, text);
	if (missing)
		o += snprintf(got + o, sizeof(got) - o, "+%llu", (unsigned long long)missing);
	if (m->continued)
		snprintf(got + o, sizeof(got) - o, "~");
	if (nlines < 64) {
		ts_of[nlines] = m->ts;
		writes_of[nlines] = m->writes;
	}
	nlines++;
}

static struct lines *start(size_t max_line, size_t max_held, uint64_t window_ns)
{
	struct lines_opts o = { .max_line = max_line, .max_held = max_held,
				.window_ns = window_ns };

	got[0] = '\0';
	nlines = 0;
	return lines_new(&o, collect, NULL);
}

/* The seed's rules: no window. */
static int setup(void **state)
{
	*state = start(64, 1 << 20, 0);
	return *state ? 0 : -1;
}

/* A 100 ms window, lines of up to 64 bytes, 100 bytes held at most. */
static int setup_window(void **state)
{
	*state = start(64, 100, 100 * MS);
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
	/* 64 + 64 + 22: the first two marked continued. */
	assert_int_equal(strlen(got), strlen("1/1:x") + 3 * strlen("|1/1:") + 150 + 2);
	assert_non_null(strstr(got, "a~|1/1:aaa"));
}

static void flush_emits_held_bytes_oldest_first(void **state)
{
	struct line_meta a = { .ts = 10, .tgid = 1, .tid = 1, .fd = 1 };
	struct line_meta b = { .ts = 20, .tgid = 2, .tid = 2, .fd = 2 };

	lines_feed(*state, &a, "1\nearly", 7, BOTH, 0);
	lines_feed(*state, &b, "2\nlate", 6, BOTH, 0);
	a.ts = 30;
	lines_feed(*state, &a, " more", 5, BOTH, 0);
	got[0] = '\0';
	lines_flush_all(*state);
	assert_string_equal(got, "1/1:early more|2/2:late");
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

/* One write of tid/fd at t ms. */
static void at(struct lines *l, uint64_t t, uint32_t tid, uint8_t fd, const char *s)
{
	struct line_meta m = { .ts = t * MS, .tgid = tid, .tid = tid, .fd = fd };

	lines_feed(l, &m, s, strlen(s), BOTH, 0);
}

static void pieces_within_the_window_are_one_line(void **state)
{
	at(*state, 1000, 1, 2, "ls: ");
	at(*state, 1001, 1, 2, "cannot access '/x'");
	at(*state, 1060, 1, 2, ": No such file or directory");
	assert_string_equal(got, "");
	at(*state, 1150, 1, 2, "\n");
	assert_string_equal(got, "1/2:ls: cannot access '/x': No such file or directory");
	assert_int_equal(nlines, 1);
	assert_int_equal(ts_of[0], 1000 * MS);	/* the first piece's */
	assert_int_equal(writes_of[0], 4);
	assert_int_equal(lines_pending(*state), 0);
}

static void quiet_piece_is_passed_on_after_the_window(void **state)
{
	at(*state, 1000, 1, 1, "Continue? ");
	lines_tick(*state, 1100 * MS);
	assert_string_equal(got, "");
	lines_tick(*state, 1100 * MS + 1);
	assert_string_equal(got, "1/1:Continue? ");
	assert_int_equal(writes_of[0], 1);
	assert_int_equal(lines_pending(*state), 0);
}

static void piece_after_the_window_starts_a_new_line(void **state)
{
	at(*state, 1000, 1, 1, "first");
	at(*state, 1200, 1, 1, "second");	/* no tick in between: the feed sees the gap */
	assert_string_equal(got, "1/1:first");
	at(*state, 1250, 1, 1, " part\n");
	assert_string_equal(got, "1/1:first|1/1:second part");
	assert_int_equal(ts_of[1], 1200 * MS);
	assert_int_equal(writes_of[1], 2);
}

static void newline_after_a_quiet_line_only_ends_it(void **state)
{
	at(*state, 1000, 1, 1, "Working...");
	lines_tick(*state, 1500 * MS);
	at(*state, 2000, 1, 1, "\n");
	at(*state, 2001, 1, 1, "done\n");
	assert_string_equal(got, "1/1:Working...|1/1:done");
}

static void complete_lines_are_not_delayed(void **state)
{
	at(*state, 1000, 1, 1, "a\nb\npart");
	assert_string_equal(got, "1/1:a|1/1:b");
	at(*state, 1001, 1, 1, "ial\nc\n");
	assert_string_equal(got, "1/1:a|1/1:b|1/1:partial|1/1:c");
	assert_int_equal(writes_of[2], 2);
	assert_int_equal(writes_of[3], 1);
}

static void two_streams_of_one_writer_do_not_mix(void **state)
{
	at(*state, 1000, 1, 1, "o1");
	at(*state, 1001, 1, 2, "e1");
	at(*state, 1002, 1, 1, "o2\n");
	at(*state, 1003, 1, 2, "e2\n");
	assert_string_equal(got, "1/1:o1o2|1/2:e1e2");
}

static void thread_exit_flushes_and_a_reused_tid_starts_afresh(void **state)
{
	struct line_meta m = { .ts = 1010 * MS, .tgid = 9, .tid = 5, .fd = 1 };

	at(*state, 1000, 5, 1, "x\nheld");
	at(*state, 1001, 6, 1, "other");
	lines_flush_thread(*state, 5);
	assert_string_equal(got, "5/1:x|5/1:held");
	assert_int_equal(lines_pending(*state), 1);
	/* TID 5 again, another process: its leading newline is a line of its own. */
	lines_feed(*state, &m, "\nnew", 4, BOTH, 0);
	lines_flush_process(*state, 9);
	assert_string_equal(got, "5/1:x|5/1:held|5/1:|5/1:new");
	lines_flush_all(*state);
	assert_string_equal(got, "5/1:x|5/1:held|5/1:|5/1:new|6/1:other");
}

static void held_cap_passes_on_the_oldest_line_marked_continued(void **state)
{
	char a[61], b[61];

	memset(a, 'a', 60);
	a[60] = '\0';
	memset(b, 'b', 60);
	b[60] = '\0';
	at(*state, 1000, 1, 1, a);
	at(*state, 1001, 2, 1, b);		/* 120 bytes > 100: the oldest goes */
	assert_int_equal(lines_held(*state), 60);
	at(*state, 1002, 1, 1, "tail\n");
	at(*state, 1003, 2, 1, "\n");
	assert_int_equal(nlines, 3);
	assert_memory_equal(got, "1/1:aaaa", 8);
	assert_non_null(strstr(got, "a~|1/1:tail|2/1:bbbb"));
	assert_int_equal(strlen(got), strlen("1/1:~|1/1:tail|2/1:") + 120);
	assert_int_equal(lines_held(*state), 0);
}

static void newline_after_a_cut_only_ends_it(void **state)
{
	char a[51], b[61];

	memset(a, 'a', 50);
	a[50] = '\0';
	memset(b, 'b', 60);
	b[60] = '\0';
	at(*state, 1000, 1, 1, a);
	at(*state, 1001, 2, 1, b);		/* 110 held: tid 1's 50 go */
	at(*state, 1002, 1, 1, "\n");		/* ends the line that was cut */
	at(*state, 1003, 2, 1, "\n");
	assert_int_equal(nlines, 2);
	assert_int_equal(strlen(got), strlen("1/1:~|2/1:") + 110);
	assert_non_null(strstr(got, "a~|2/1:b"));
	assert_int_equal(lines_held(*state), 0);
}

static void line_cap_passes_on_pieces_marked_continued(void **state)
{
	struct lines *l = start(8, 100, 100 * MS);

	(void)state;
	at(l, 1000, 1, 1, "0123456789");
	at(l, 1001, 1, 1, "abcdefgh\n");
	assert_string_equal(got, "1/1:01234567~|1/1:89abcdef~|1/1:gh");
	lines_free(l);
}

static void end_flushes_oldest_line_first(void **state)
{
	at(*state, 1000, 2, 1, "early");
	at(*state, 1001, 1, 1, "late");
	at(*state, 1002, 2, 1, " still");
	lines_flush_all(*state);
	assert_string_equal(got, "2/1:early still|1/1:late");
	assert_int_equal(lines_pending(*state), 0);
}

static void many_held_writers_expire_in_order(void **state)
{
	struct lines *l = start(64, 1 << 20, 100 * MS);
	char buf[32];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		struct line_meta m = { .ts = 1000 * MS + i * 10000, .tgid = 1, .tid = i + 10,
				       .fd = 1 };

		lines_feed(l, &m, buf, snprintf(buf, sizeof(buf), "w%d", i), BOTH, 0);
	}
	assert_int_equal(lines_pending(l), 3000);
	lines_tick(l, 1101 * MS);	/* quiet since before 1001 ms: the first 100 */
	assert_int_equal(lines_pending(l), 2900);
	assert_int_equal(nlines, 100);
	assert_int_equal(ts_of[63], 1000 * MS + 630000);
	lines_tick(l, 10000 * MS);
	assert_int_equal(lines_pending(l), 0);
	assert_int_equal(lines_held(l), 0);
	lines_free(l);
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
		cmocka_unit_test_setup_teardown(pieces_within_the_window_are_one_line,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(quiet_piece_is_passed_on_after_the_window,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(piece_after_the_window_starts_a_new_line,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(newline_after_a_quiet_line_only_ends_it,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(complete_lines_are_not_delayed, setup_window,
						teardown),
		cmocka_unit_test_setup_teardown(two_streams_of_one_writer_do_not_mix,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(thread_exit_flushes_and_a_reused_tid_starts_afresh,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(held_cap_passes_on_the_oldest_line_marked_continued,
						setup_window, teardown),
		cmocka_unit_test_setup_teardown(newline_after_a_cut_only_ends_it, setup_window,
						teardown),
		cmocka_unit_test(line_cap_passes_on_pieces_marked_continued),
		cmocka_unit_test_setup_teardown(end_flushes_oldest_line_first, setup_window,
						teardown),
		cmocka_unit_test(many_held_writers_expire_in_order),
	};

	return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}
