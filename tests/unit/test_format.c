// SPDX-License-Identifier: GPL-2.0
/* Unit tests: rendering of lines and prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "format.h"

/* 2026-03-02 14:32:01.042 UTC */
#define WALL (1772461921LL * 1000000000LL + 42000000LL)

static const struct line_meta meta = {
	.ts = 5, .tgid = 1847, .tid = 1850, .fd = 1, .comm = "nginx",
};

static char *render(const struct format_opts *o, const struct line_meta *m, const char *text,
		    uint64_t missing)
{
	static char out[4096];
	struct formatter f;
	struct outbuf ob = { 0 };

	format_init(&f, o);
	format_line(&f, &ob, m, WALL, text, strlen(text), missing);
	assert_false(ob.oom);
	memcpy(out, ob.p, ob.len);
	out[ob.len] = '\0';
	ob_free(&ob);
	return out;
}

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void bare_line(void **state)
{
	struct line_meta other = meta;

	(void)state;
	assert_string_equal(render(&(struct format_opts){ .bare_fd = 1 }, &meta, "hello", 0),
			    "hello\n");
	/* A stream other than the one shown bare (a field hack) is named. */
	other.fd = 3;
	assert_string_equal(render(&(struct format_opts){ .bare_fd = 1 }, &other, "hello", 0),
			    "fd3: hello\n");
}

static void json_lines(void **state)
{
	struct format_opts o = { .json = true };
	struct line_meta m = meta;

	(void)state;
	assert_string_equal(render(&o, &m, "say \"hi\"\t\\ \x1b[1mbold\x01", 0),
			    "{\"type\":\"line\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
			    "\"tid\":1850,\"comm\":\"nginx\",\"stream\":\"stdout\","
			    "\"line\":\"say \\\"hi\\\"\\t\\\\ bold\",\"writes\":1,\"continued\":false,"
			    "\"truncated\":false}\n");
	m.fd = 2;
	m.writes = 3;
	assert_string_equal(render(&o, &m, "caf\xc3\xa9 \xff", 10),
			    "{\"type\":\"line\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
			    "\"tid\":1850,\"comm\":\"nginx\",\"stream\":\"stderr\","
			    "\"line\":\"caf\xc3\xa9 \\\\xff\",\"writes\":3,\"continued\":false,"
			    "\"truncated\":true,"
			    "\"missing_bytes\":10}\n");
}

static void continued_line_is_marked(void **state)
{
	struct line_meta m = meta;

	(void)state;
	m.continued = true;
	m.writes = 2;
	assert_string_equal(render(&(struct format_opts){ .bare_fd = 1 }, &m, "part", 0),
			    "part [... continued]\n");
	assert_string_equal(render(&(struct format_opts){ .json = true }, &m, "part", 0),
			    "{\"type\":\"line\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
			    "\"tid\":1850,\"comm\":\"nginx\",\"stream\":\"stdout\","
			    "\"line\":\"part\",\"writes\":2,\"continued\":true,"
			    "\"truncated\":false}\n");
}

static void json_events(void **state)
{
	struct formatter f;
	struct outbuf ob = { 0 };

	(void)state;
	format_init(&f, &(struct format_opts){ .json = true });
	format_exit(&f, &ob, &meta, WALL, 3 << 8, true);
	format_exit(&f, &ob, &meta, WALL, 11 | 0x80, true);
	format_exit(&f, &ob, &meta, WALL, 0, false);
	format_fork(&f, &ob, &meta, WALL, 1);
	format_transfer(&f, &ob, &meta, WALL, 4096);
	ob_put(&ob, "", 1);
	assert_string_equal(ob.p,
		"{\"type\":\"exit\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
		"\"tid\":1850,\"comm\":\"nginx\",\"exit_status\":3}\n"
		"{\"type\":\"exit\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
		"\"tid\":1850,\"comm\":\"nginx\",\"signal\":\"SIGSEGV\","
		"\"core_dumped\":true}\n"
		"{\"type\":\"exit\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
		"\"tid\":1850,\"comm\":\"nginx\",\"status_known\":false}\n"
		"{\"type\":\"fork\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
		"\"tid\":1850,\"comm\":\"nginx\",\"parent\":1}\n"
		"{\"type\":\"transfer\",\"time\":\"2026-03-02T14:32:01.042000+00:00\",\"pid\":1847,"
		"\"tid\":1850,\"comm\":\"nginx\",\"stream\":\"stdout\",\"kernel_transfer_bytes\":4096}\n");
	ob_free(&ob);
}

static void all_prefixes_match_the_seed_example(void **state)
{
	struct format_opts o = { .timestamp = true, .pid = true, .comm = true, .label = true };
	struct line_meta err = meta;

	(void)state;
	assert_string_equal(render(&o, &meta, "worker process started", 0),
			    "14:32:01.042 1847 nginx stdout: worker process started\n");
	err.fd = 2;
	assert_string_equal(render(&o, &err, "connect() failed", 0),
			    "14:32:01.042 1847 nginx stderr: connect() failed\n");
}

static void each_prefix_alone(void **state)
{
	(void)state;
	assert_string_equal(render(&(struct format_opts){ .timestamp = true, .bare_fd = 1 }, &meta,
				   "x", 0), "14:32:01.042 x\n");
	assert_string_equal(render(&(struct format_opts){ .pid = true, .bare_fd = 1 }, &meta, "x",
				   0), "1847 x\n");
	assert_string_equal(render(&(struct format_opts){ .comm = true, .bare_fd = 1 }, &meta, "x",
				   0), "nginx x\n");
	assert_string_equal(render(&(struct format_opts){ .label = true }, &meta, "x", 0),
			    "stdout: x\n");
}

static void other_fds_are_named(void **state)
{
	struct line_meta m = meta;

	(void)state;
	m.fd = 3;
	assert_string_equal(render(&(struct format_opts){ .label = true }, &m, "x", 0),
			    "fd3: x\n");
}

static void text_and_comm_are_sanitized(void **state)
{
	struct line_meta m = meta;

	(void)state;
	memcpy(m.comm, "ev\x1b[1mil", 9);
	assert_string_equal(render(&(struct format_opts){ .comm = true, .bare_fd = 1 }, &m,
				   "\x1b[31mred", 0), "evil red\n");
}

static void missing_bytes_are_reported(void **state)
{
	(void)state;
	assert_string_equal(render(&(struct format_opts){ .bare_fd = 1 }, &meta, "start", 12345),
			    "start [... 12345 more bytes not captured]\n");
	assert_string_equal(render(&(struct format_opts){ .bare_fd = 1 }, &meta, "", 7),
			    "[... 7 more bytes not captured]\n");
}

static void transfer_line(void **state)
{
	struct format_opts o = { .timestamp = true, .pid = true, .comm = true, .label = true };
	struct formatter f;
	struct outbuf ob = { 0 };

	(void)state;
	format_init(&f, &o);
	format_transfer(&f, &ob, &meta, WALL, 4096);
	ob_put(&ob, "", 1);
	assert_string_equal(ob.p, "14:32:01.042 1847 nginx stdout: [4096 bytes via kernel transfer]\n");
	ob_free(&ob);
}

static void lifecycle_lines_always_have_their_label(void **state)
{
	struct formatter f;
	struct outbuf ob = { 0 };

	(void)state;
	format_init(&f, &(struct format_opts){ .bare_fd = 1 });
	format_exit(&f, &ob, &meta, WALL, 0, true);
	format_exit(&f, &ob, &meta, WALL, 9, true);
	format_exec(&f, &ob, &meta, WALL, "/usr/sbin/nginx", 15);
	format_init(&f, &(struct format_opts){ .pid = true, .comm = true, .bare_fd = 1 });
	format_fork(&f, &ob, &meta, WALL, 1);
	ob_put(&ob, "", 1);
	assert_string_equal(ob.p, "exit: 1847 exited with status 0\n"
			    "exit: 1847 killed by SIGKILL\n"
			    "exec: 1847 /usr/sbin/nginx\n"
			    "1847 nginx fork: 1847 (parent 1)\n");
	ob_free(&ob);
}

/* Found by fuzz_format: a path or comm with a newline forged a second line. */
static void exec_path_and_comm_newlines_stay_on_one_line(void **state)
{
	struct formatter f;
	struct outbuf ob = { 0 };

	(void)state;
	format_init(&f, &(struct format_opts){ .bare_fd = 1 });
	format_exec(&f, &ob, &meta, WALL, "/tmp/x\nroot stdout: forged\n", 29);
	format_exec(&f, &ob, &meta, WALL, "", 0);
	format_init(&f, &(struct format_opts){ .comm = true, .bare_fd = 1 });
	format_line(&f, &ob, &(struct line_meta){ .tgid = 9, .fd = 1, .comm = "a\nb" }, WALL,
		    "x", 1, 0);
	ob_put(&ob, "", 1);
	assert_string_equal(ob.p, "exec: 1847 /tmp/x\\x0aroot stdout: forged\\x0a\n"
			    "exec: 1847 \n"
			    "a\\x0ab x\n");
	ob_free(&ob);
}

static void wait_statuses(void **state)
{
	char buf[64];

	(void)state;
	format_status(buf, sizeof(buf), 3 << 8, true);
	assert_string_equal(buf, "exited with status 3");
	format_status(buf, sizeof(buf), 0, true);
	assert_string_equal(buf, "exited with status 0");
	format_status(buf, sizeof(buf), 15, true);
	assert_string_equal(buf, "killed by SIGTERM");
	format_status(buf, sizeof(buf), 11 | 0x80, true);
	assert_string_equal(buf, "killed by SIGSEGV (core dumped)");
	format_status(buf, sizeof(buf), 0, false);
	assert_string_equal(buf, "exited (status unknown)");
}

static void outbuf_numbers(void **state)
{
	struct outbuf ob = { 0 };

	(void)state;
	ob_putu(&ob, 0);
	ob_puts(&ob, " ");
	ob_putu(&ob, 18446744073709551615ull);
	ob_put(&ob, "", 1);
	assert_string_equal(ob.p, "0 18446744073709551615");
	ob_free(&ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bare_line),
		cmocka_unit_test(json_lines),
		cmocka_unit_test(continued_line_is_marked),
		cmocka_unit_test(json_events),
		cmocka_unit_test(all_prefixes_match_the_seed_example),
		cmocka_unit_test(each_prefix_alone),
		cmocka_unit_test(other_fds_are_named),
		cmocka_unit_test(text_and_comm_are_sanitized),
		cmocka_unit_test(missing_bytes_are_reported),
		cmocka_unit_test(transfer_line),
		cmocka_unit_test(lifecycle_lines_always_have_their_label),
		cmocka_unit_test(exec_path_and_comm_newlines_stay_on_one_line),
		cmocka_unit_test(wait_statuses),
		cmocka_unit_test(outbuf_numbers),
	};

	return cmocka_run_group_tests_name("format", tests, utc, NULL);
}
