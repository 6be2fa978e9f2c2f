// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the sanitizer (escape sequences, control bytes, UTF-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sanitize.h"

static void check(const char *in, size_t n, bool ascii, const char *want)
{
	char out[SANITIZE_MAX_OUT(256) + 1];
	size_t len;

	assert_true(n <= 256);
	len = sanitize(in, n, out, ascii);
	out[len] = '\0';
	assert_int_equal(len, strlen(want));
	assert_string_equal(out, want);
}

#define CHECK(in, want) check(in, sizeof(in) - 1, false, want)
#define CHECK_ASCII(in, want) check(in, sizeof(in) - 1, true, want)

static void plain_text_passes(void **state)
{
	(void)state;
	CHECK("hello, world", "hello, world");
	CHECK("tab\there\n", "tab\there\n");
	CHECK("", "");
}

static void csi_colours_are_stripped(void **state)
{
	(void)state;
	CHECK("\x1b[1;31mred\x1b[0m", "red");
	CHECK("\x1b[38;5;208morange\x1b[m", "orange");
	CHECK("\x1b[2K\x1b[1Gline", "line");
	CHECK("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor");
}

static void osc_title_and_hyperlink_are_stripped(void **state)
{
	(void)state;
	CHECK("\x1b]0;my title\x07" "after", "after");
	CHECK("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link");
	CHECK("\x1b]2;title terminated by C1 ST\xc2\x9c" "after", "after");
}

static void unterminated_sequences_end_the_line(void **state)
{
	(void)state;
	CHECK("text\x1b]0;no terminator", "text");
	CHECK("text\x1b[1;3", "text");
	CHECK("text\x1b", "text");
}

static void other_escape_sequences_are_stripped(void **state)
{
	(void)state;
	CHECK("\x1b(Bcharset", "charset");
	CHECK("\x1b" "7saved\x1b" "8", "saved");
	CHECK("\x1bPdevice control\x1b\\after", "after");
	CHECK("\x1b_application\x1b\\after", "after");
}

static void c1_controls_are_stripped(void **state)
{
	(void)state;
	CHECK("\xc2\x9b" "1mbold", "bold");		/* 8-bit CSI as UTF-8 */
	CHECK("\xc2\x9d" "0;t\x07" "x", "x");		/* 8-bit OSC */
	CHECK("a\xc2\x85" "b", "ab");			/* NEL */
}

static void control_bytes_are_dropped(void **state)
{
	(void)state;
	CHECK("a\rb\bc\x07" "d\x7f" "e", "abcde");
	check("nul\0byte", 8, false, "nulbyte");
}

static void utf8_is_kept(void **state)
{
	(void)state;
	CHECK("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
	CHECK("\xc2\xa0nbsp", "\xc2\xa0nbsp");
}

static void invalid_bytes_are_shown(void **state)
{
	(void)state;
	CHECK("bad \xff\xfe end", "bad \\xff\\xfe end");
	CHECK("\xc0\xaf", "\\xc0\\xaf");			/* overlong */
	CHECK("\xed\xa0\x80", "\\xed\\xa0\\x80");		/* surrogate */
	CHECK("\xe2\x9c", "\\xe2\\x9c");			/* truncated */
	CHECK("\x9b" "raw C1", "\\x9braw C1");		/* a raw C1 byte is not UTF-8 */
}

static void ascii_mode_shows_non_ascii(void **state)
{
	(void)state;
	CHECK_ASCII("caf\xc3\xa9", "caf\\xc3\\xa9");
	CHECK_ASCII("\x1b[32mok\x1b[0m\t!", "ok\t!");
	CHECK_ASCII("\xff", "\\xff");
}

static void long_runs_stop_at_every_position(void **state)
{
	static const unsigned char stoppers[] = { 0x00, 0x07, 0x09, 0x0a, 0x0d, 0x1f, 0x7f,
						  0x80, 0xc3, 0xff };
	char in[64], out[SANITIZE_MAX_OUT(64)], want[SANITIZE_MAX_OUT(64)];
	size_t pos, k, n, w;

	(void)state;
	for (pos = 0; pos < 40; pos++) {
		for (k = 0; k < sizeof(stoppers); k++) {
			memset(in, 'a', sizeof(in));
			in[pos] = stoppers[k];
			n = sanitize(in, 40, out, false);
			/* What the byte becomes on its own, between the plain parts. */
			w = sanitize((char *)&stoppers[k], 1, want, false);
			assert_int_equal(n, 39 + w);
			assert_memory_equal(out + pos, want, w);
			assert_true(memchr(out, 'a', pos) == out || pos == 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_text_passes),
		cmocka_unit_test(csi_colours_are_stripped),
		cmocka_unit_test(osc_title_and_hyperlink_are_stripped),
		cmocka_unit_test(unterminated_sequences_end_the_line),
		cmocka_unit_test(other_escape_sequences_are_stripped),
		cmocka_unit_test(c1_controls_are_stripped),
		cmocka_unit_test(control_bytes_are_dropped),
		cmocka_unit_test(utf8_is_kept),
		cmocka_unit_test(invalid_bytes_are_shown),
		cmocka_unit_test(ascii_mode_shows_non_ascii),
		cmocka_unit_test(long_runs_stop_at_every_position),
	};

	return cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
}
