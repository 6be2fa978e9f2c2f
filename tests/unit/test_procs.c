// SPDX-License-Identifier: GPL-2.0
/* Unit tests: /proc and /sys parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "procs.h"

static void stat_line(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_parse_stat("1847 (nginx) S 1 1847 1847 0 -1 4194560 100 0", &st), 0);
	assert_int_equal(st.pid, 1847);
	assert_string_equal(st.comm, "nginx");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.flags, 4194560);
}

static void comm_with_spaces_and_parentheses(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_parse_stat("12 (a) (b c) Z 3 0 0 0 -1 2097216 0", &st), 0);
	assert_string_equal(st.comm, "a) (b c");
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, 3);
	assert_true(st.flags & PROC_PF_KTHREAD);
}

static void broken_stat(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_parse_stat("12 nocomm S 1", &st), -1);
	assert_int_equal(proc_parse_stat("12 (x)", &st), -1);
	assert_int_equal(proc_parse_stat("12 (x) S 1 2", &st), -1);
}

static void own_process(void **state)
{
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_read_stat(getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(proc_tgid(getpid()), getpid());
	assert_true(proc_pid_max() > 0);
	assert_true(proc_possible_cpus() >= 1);
}

static void cpu_lists(void **state)
{
	bool set[16];

	(void)state;
	assert_int_equal(proc_parse_cpulist("0-3,8,10-11\n", set, 16), 7);
	assert_true(set[0] && set[3] && set[8] && set[10] && set[11]);
	assert_false(set[4] || set[9] || set[12]);
	assert_int_equal(proc_parse_cpulist("0\n", set, 16), 1);
	assert_int_equal(proc_parse_cpulist("3-1", set, 16), -1);
	assert_int_equal(proc_parse_cpulist("x", set, 16), -1);
}

static void descendants_breadth_first(void **state)
{
	/* 1 -> 10 -> 100 -> 1000; 1 -> 11 (a kernel thread) -> 110; 2 -> 20 (not ours) */
	static const struct proc_entry list[] = {
		{ 1000, 100, false }, { 20, 2, false }, { 100, 10, false }, { 10, 1, false },
		{ 11, 1, true }, { 110, 11, false }, { 1, 0, false }, { 2, 0, true },
	};
	struct proc_entry out[8];
	struct pidset set;
	size_t n;

	(void)state;
	assert_int_equal(pidset_init(&set, 2048), 0);
	pidset_add(&set, 1);
	n = proc_descendants(list, 8, &set, false, out, 8);
	assert_int_equal(n, 5);
	assert_true(pidset_has(&set, 1000) && pidset_has(&set, 110) && !pidset_has(&set, 20));
	/* Parents before children. */
	assert_int_equal(out[n - 1].pid, 1000);
	assert_int_equal(proc_descendants(list, 8, &set, false, out, 8), 0);
	pidset_free(&set);

	assert_int_equal(pidset_init(&set, 2048), 0);
	pidset_add(&set, 1);
	n = proc_descendants(list, 8, &set, true, out, 8);
	assert_int_equal(n, 3);		/* 10, 100, 1000: not the kernel thread nor its child */
	assert_false(pidset_has(&set, 11) || pidset_has(&set, 110));
	pidset_free(&set);
}

static void pidset_bounds(void **state)
{
	struct pidset set;

	(void)state;
	assert_int_equal(pidset_init(&set, 100), 0);
	pidset_add(&set, 99);
	pidset_add(&set, 100);		/* out of range: ignored */
	pidset_add(&set, -1);
	assert_true(pidset_has(&set, 99));
	assert_false(pidset_has(&set, 100) || pidset_has(&set, -1) || pidset_has(&set, 0));
	pidset_free(&set);
}

static void own_process_is_listed(void **state)
{
	struct proc_entry *list = NULL;
	ssize_t n, i;
	bool found = false;

	(void)state;
	n = proc_list(&list);
	assert_true(n > 1);
	for (i = 0; i < n; i++)
		if (list[i].pid == getpid())
			found = list[i].ppid == getppid() && !list[i].kthread;
	assert_true(found);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_line),
		cmocka_unit_test(comm_with_spaces_and_parentheses),
		cmocka_unit_test(broken_stat),
		cmocka_unit_test(own_process),
		cmocka_unit_test(cpu_lists),
		cmocka_unit_test(descendants_breadth_first),
		cmocka_unit_test(pidset_bounds),
		cmocka_unit_test(own_process_is_listed),
	};

	return cmocka_run_group_tests_name("procs", tests, NULL, NULL);
}
