// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the option parser and its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"

static char out_buf[8192], err_buf[1024];

/* Parse a NULL-terminated argument list (argv[0] added). */
static enum options_result parse(struct config *cfg, ...)
{
	char *argv[32] = { "bpf_write_monitor" };
	FILE *out = fmemopen(out_buf, sizeof(out_buf), "w");
	FILE *err = fmemopen(err_buf, sizeof(err_buf), "w");
	enum options_result r;
	va_list ap;
	int argc = 1;

	va_start(ap, cfg);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	memset(out_buf, 0, sizeof(out_buf));
	memset(err_buf, 0, sizeof(err_buf));
	r = options_parse(argc, argv, cfg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p", "42", NULL), OPTIONS_RUN);
	assert_int_equal(c.pid, 42);
	assert_int_equal(c.fd_mask, BWM_FD_STDOUT);
	assert_int_equal(c.buffer_pages, BWM_DEFAULT_PAGES);
	assert_int_equal(c.max_bytes, BWM_DEFAULT_MAX_BYTES);
	assert_false(c.raw);
	assert_false(c.timestamp || c.origin_pid || c.origin_comm || c.quiet || c.ascii);
	assert_string_equal(options_streams(&c), "stdout");
}

static void long_forms(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "--pid", "7", "--stdout", "--stderr", "--with-timestamp",
			       "--with-origin-pid", "--with-origin-process-name", "--ascii",
			       "--buffer-pages", "4096", "--quiet", "--verbose",
			       "--probe-dir", "/x", "--ebpf", NULL), OPTIONS_RUN);
	assert_int_equal(c.pid, 7);
	assert_int_equal(c.fd_mask, BWM_FD_STDOUT | BWM_FD_STDERR);
	assert_true(c.timestamp && c.origin_pid && c.origin_comm && c.ascii && c.quiet &&
		    c.verbose && c.ebpf);
	assert_int_equal(c.buffer_pages, 4096);
	assert_string_equal(c.probe_dir, "/x");
	assert_string_equal(options_streams(&c), "stdout, stderr");
}

static void short_forms(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p7", "-2", "-T", "-P", "-C", "-a", "-b", "8", "-q", "-v",
			       "-I", "/y", NULL), OPTIONS_RUN);
	assert_int_equal(c.fd_mask, BWM_FD_STDERR);
	assert_true(c.timestamp && c.origin_pid && c.origin_comm && c.ascii && c.quiet &&
		    c.verbose);
	assert_int_equal(c.buffer_pages, 8);
	assert_string_equal(c.probe_dir, "/y");
	assert_string_equal(options_streams(&c), "stderr");
}

static void bad_pids(void **state)
{
	static const char *const bad[] = { "abc", "0", "-1", "2147483648", "12x", "", " 5" };
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		assert_int_equal(parse(&c, "-p", bad[i], NULL), OPTIONS_ERROR);
		snprintf(want, sizeof(want), "invalid PID: %s (", bad[i]);
		assert_non_null(strstr(err_buf, want));
		assert_non_null(strchr(err_buf, '\n'));
		assert_null(strchr(strchr(err_buf, '\n') + 1, '\n'));	/* one line */
	}
}

static void pid_is_required(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-1", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "nothing to trace: give --pid PID"));
}

static void several_pids(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "--pid", "12,34", "-p", "56,12", NULL), OPTIONS_RUN);
	assert_int_equal(c.kind, TARGET_PIDS);
	assert_int_equal(c.npids, 3);
	assert_int_equal(c.pids[0], 12);
	assert_int_equal(c.pids[1], 34);
	assert_int_equal(c.pids[2], 56);
	assert_int_equal(c.pid, 12);
	assert_int_equal(parse(&c, "-p", "12,", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "invalid PID: 12,"));
	assert_int_equal(parse(&c, "-p", "12,x", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "invalid PID: x"));
	assert_int_equal(parse(&c, "-p", ",1", NULL), OPTIONS_ERROR);
}

static void one_kind_of_target(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-P", "--", "sh", "-c", "echo hi", NULL), OPTIONS_RUN);
	assert_int_equal(c.kind, TARGET_COMMAND);
	assert_true(c.descendants);
	assert_string_equal(c.command[0], "sh");
	assert_string_equal(c.command[1], "-c");
	assert_string_equal(c.command[2], "echo hi");
	assert_null(c.command[3]);
	assert_int_equal(parse(&c, "-c", "/sys/fs/cgroup/x", NULL), OPTIONS_RUN);
	assert_int_equal(c.kind, TARGET_CGROUP);
	assert_int_equal(parse(&c, "--unit", "cron", NULL), OPTIONS_RUN);
	assert_int_equal(c.kind, TARGET_CGROUP);
	assert_int_equal(parse(&c, "-p", "1", "--", "true", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "give one kind of target"));
	assert_int_equal(parse(&c, "-p", "1", "--cgroup", "/x", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "--unit", "a", "--cgroup", "/x", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-u", "nobody", "-p", "1", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "--user is for a command"));
	assert_int_equal(parse(&c, "sh", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "unexpected argument: sh"));
	assert_int_equal(parse(&c, "--", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "nothing to trace"));
}

static void buffer_pages_must_be_a_power_of_two(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "-b", "3", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "invalid buffer size: 3"));
	assert_int_equal(parse(&c, "-p", "1", "-b", "0", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-p", "1", "-b", "131072", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-p", "1", "-b", "65536", NULL), OPTIONS_RUN);
	assert_int_equal(parse(&c, "-p", "1", "-b", "1", NULL), OPTIONS_RUN);
}

static void unknown_and_extra_arguments(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "--bogus", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "unknown option --bogus"));
	assert_int_equal(parse(&c, "-p", "1", "-Z", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "unknown option -Z"));
	assert_int_equal(parse(&c, "-p", "1", "1234", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "unexpected argument: 1234"));
	assert_int_equal(parse(&c, "-p", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "needs a value"));
}

static void max_bytes_and_raw(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "--max-bytes", "1048576", "--raw", NULL), OPTIONS_RUN);
	assert_int_equal(c.max_bytes, 1048576);
	assert_true(c.raw);
	assert_int_equal(parse(&c, "-p", "1", "-m", "1048577", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "invalid --max-bytes: 1048577"));
	assert_int_equal(parse(&c, "-p", "1", "-m", "0", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-p", "1", "-r", "-2", NULL), OPTIONS_RUN);
	assert_int_equal(c.fd_mask, BWM_FD_STDERR);
	assert_int_equal(parse(&c, "-p", "1", "-r", "-1", "-2", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "--raw copies one stream"));
	assert_int_equal(parse(&c, "-p", "1", "-r", "-P", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "--raw prints the bytes only"));
	assert_int_equal(parse(&c, "-p", "1", "-r", "-x", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-p", "1", "-r", "-j", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "--raw and --json do not mix"));
}

static void journal_takes_lines_as_written(void **state)
{
	static const char *const others[] = { "-r", "-j", "-T", "-P", "-C", "-a" };
	struct config c;
	size_t i;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "--journal", "-1", "-2", "-x", NULL), OPTIONS_RUN);
	assert_true(c.journal);
	assert_int_equal(parse(&c, "--unit", "cron", "-J", NULL), OPTIONS_RUN);
	assert_true(c.journal);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(parse(&c, "-p", "1", "-J", others[i], NULL), OPTIONS_ERROR);
		assert_non_null(strstr(err_buf, "--journal sends each line as written"));
	}
	assert_int_equal(parse(&c, "-p", "1", "-J", "-o", "/tmp/x", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "drop -r, -j, -o, -T, -P, -C and -a"));
}

static void tree_exits_and_duration(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "--include-descendants", "--exclude-kernel",
			       "--exits", "--duration", "2.5", NULL), OPTIONS_RUN);
	assert_true(c.descendants && c.exclude_kernel && c.exits);
	assert_true(c.duration > 2.49 && c.duration < 2.51);
	assert_int_equal(parse(&c, "-p", "1", "-f", "-K", "-x", "-d", "10", NULL), OPTIONS_RUN);
	assert_true(c.descendants && c.exclude_kernel && c.exits && c.duration == 10);
	assert_int_equal(parse(&c, "-p", "1", NULL), OPTIONS_RUN);
	assert_true(c.duration == 0 && !c.descendants && !c.exits);
	assert_int_equal(parse(&c, "-p", "1", "-d", "0", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "invalid duration: 0"));
	assert_int_equal(parse(&c, "-p", "1", "-d", "-3", NULL), OPTIONS_ERROR);
	assert_int_equal(parse(&c, "-p", "1", "-d", "1s", NULL), OPTIONS_ERROR);
}

static void any_fd(void **state)
{
	static const char *const bad[] = { "32", "-1", "x", "1,", "", "3,,4", "99999999999" };
	struct config c;
	size_t i;

	(void)state;
	assert_int_equal(parse(&c, "-p", "1", "--fd", "3", NULL), OPTIONS_RUN);
	assert_int_equal(c.fd_mask, 1u << 3);
	assert_string_equal(options_streams(&c), "fd3");
	assert_int_equal(parse(&c, "-p", "1", "-2", "--fd", "1,31,0", NULL), OPTIONS_RUN);
	assert_int_equal(c.fd_mask, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 31);
	assert_string_equal(options_streams(&c), "fd0, stdout, stderr, fd31");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&c, "-p", "1", "--fd", bad[i], NULL), OPTIONS_ERROR);
		assert_non_null(strstr(err_buf, "invalid --fd"));
		assert_ptr_equal(strchr(err_buf, '\n'), err_buf + strlen(err_buf) - 1);
	}
	assert_int_equal(parse(&c, "-p", "1", "-r", "--fd", "1,3", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err_buf, "one stream"));
	assert_int_equal(parse(&c, "-p", "1", "-r", "--fd", "3", NULL), OPTIONS_RUN);
}

static void help_has_usage_and_examples(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, "-h", NULL), OPTIONS_EXIT_OK);
	assert_true(strncmp(out_buf, "USAGE: bpf_write_monitor", 24) == 0);
	assert_non_null(strstr(out_buf, "\nexamples:\n"));
	assert_non_null(strstr(out_buf, "--with-origin-process-name"));
	assert_int_equal(parse(&c, "--version", NULL), OPTIONS_EXIT_OK);
	assert_non_null(strstr(out_buf, BWM_VERSION));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(long_forms),
		cmocka_unit_test(short_forms),
		cmocka_unit_test(bad_pids),
		cmocka_unit_test(pid_is_required),
		cmocka_unit_test(several_pids),
		cmocka_unit_test(one_kind_of_target),
		cmocka_unit_test(buffer_pages_must_be_a_power_of_two),
		cmocka_unit_test(unknown_and_extra_arguments),
		cmocka_unit_test(max_bytes_and_raw),
		cmocka_unit_test(journal_takes_lines_as_written),
		cmocka_unit_test(tree_exits_and_duration),
		cmocka_unit_test(any_fd),
		cmocka_unit_test(help_has_usage_and_examples),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
