// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: the pieces of the targets that need no root and no BPF
 * (src/target_*.c): what /proc says of a PID, a command found like a shell
 * finds it, a user, a unit's cgroup directory found below a cgroup2 root.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "target.h"
#include "target_kinds.h"

static void gone_process_is_refused_with_how_to_find_one(void **state)
{
	struct config cfg = { 0 };
	struct proc_stat st = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(target_check_stat(&cfg, 4242, -ENOENT, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "no such process: 4242 (is it still running? find it with pgrep)");
	assert_int_equal(target_check_stat(&cfg, 4242, -ESRCH, &st, err, sizeof(err)), -1);
	assert_int_equal(target_check_stat(&cfg, 4242, -EACCES, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read /proc/4242/stat: Permission denied");
}

static void zombie_is_refused(void **state)
{
	struct config cfg = { 0 };
	struct proc_stat st = { .state = 'Z' };
	char err[256];

	(void)state;
	assert_int_equal(target_check_stat(&cfg, 7, 0, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "process 7 is a zombie: it has exited and will write nothing more");
	st.state = 'S';
	assert_int_equal(target_check_stat(&cfg, 7, 0, &st, err, sizeof(err)), 0);
}

static void kernel_thread_is_refused_only_with_exclude_kernel(void **state)
{
	struct config cfg = { .quiet = true };
	struct proc_stat st = { .state = 'S', .flags = PROC_PF_KTHREAD };
	char err[256];

	(void)state;
	assert_int_equal(target_check_stat(&cfg, 2, 0, &st, err, sizeof(err)), 0);
	cfg.exclude_kernel = true;
	assert_int_equal(target_check_stat(&cfg, 2, 0, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PID 2 is a kernel thread, which --exclude-kernel excludes"));
}

/* A directory for the test, removed (with what is in it) by the caller's rm. */
static char *scratch(void)
{
	char *d = strdup("/tmp/bwm-target-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void put(const char *dir, const char *name, mode_t mode)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void rm(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void command_is_found_in_path_like_a_shell_does(void **state)
{
	char *a = scratch(), *b = scratch(), path[2 * PATH_MAX], out[PATH_MAX], want[PATH_MAX];
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	(void)state;
	put(a, "tool", 0644);		/* not executable: skipped */
	put(b, "tool", 0755);
	snprintf(path, sizeof(path), "%s:%s", a, b);
	setenv("PATH", path, 1);
	assert_int_equal(target_find_command("tool", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/tool", b);
	assert_string_equal(out, want);
	assert_int_equal(target_find_command("no-such-tool", out, sizeof(out)), -1);
	/* A name with a slash is a path: taken as it is if it exists. */
	assert_int_equal(target_find_command(want, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(target_find_command("./no/such/tool", out, sizeof(out)), -1);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	rm(a);
	rm(b);
	free(a);
	free(b);
}

static void user_is_a_name_or_a_number(void **state)
{
	struct passwd pw;
	char buf[4096];

	(void)state;
	assert_int_equal(target_find_user("root", &pw, buf, sizeof(buf)), 0);
	assert_int_equal(pw.pw_uid, 0);
	assert_int_equal(target_find_user("0", &pw, buf, sizeof(buf)), 0);
	assert_string_equal(pw.pw_name, "root");
	assert_int_equal(target_find_user("no-such-user-bwm", &pw, buf, sizeof(buf)), -1);
	assert_int_equal(target_find_user("", &pw, buf, sizeof(buf)), -1);
}

static void mkdirs(const char *root, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void unit_is_found_by_name_or_name_service(void **state)
{
	char *root = scratch(), out[PATH_MAX], err[512], want[PATH_MAX];

	(void)state;
	mkdirs(root, "system.slice");
	mkdirs(root, "system.slice/cron.service");
	mkdirs(root, "system.slice/ssh.service");
	mkdirs(root, "user.slice");
	mkdirs(root, "user.slice/app.scope");
	snprintf(want, sizeof(want), "%s/system.slice/cron.service", root);
	assert_int_equal(target_find_unit(root, "cron", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, want);
	assert_int_equal(target_find_unit(root, "cron.service", out, sizeof(out), err,
					  sizeof(err)), 0);
	assert_string_equal(out, want);
	snprintf(want, sizeof(want), "%s/user.slice/app.scope", root);
	assert_int_equal(target_find_unit(root, "app.scope", out, sizeof(out), err, sizeof(err)),
			 0);
	assert_string_equal(out, want);
	rm(root);
	free(root);
}

static void unit_that_is_missing_or_ambiguous_is_refused(void **state)
{
	char *root = scratch(), out[PATH_MAX], err[1024];

	(void)state;
	mkdirs(root, "a");
	mkdirs(root, "a/web.service");
	mkdirs(root, "b");
	mkdirs(root, "b/web");
	assert_int_equal(target_find_unit(root, "nginx", out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no unit nginx: no cgroup nginx or nginx.service under"));
	assert_int_equal(target_find_unit(root, "web", out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 cgroups match unit web"));
	assert_int_equal(target_find_unit(root, "a/web", out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--unit takes a unit name, not a path: a/web"));
	/* The root itself is never the unit. */
	assert_int_equal(target_find_unit(root, strrchr(root, '/') + 1, out, sizeof(out), err,
					  sizeof(err)), -1);
	rm(root);
	free(root);
}

static void cgroup_level_counts_directories_below_the_mount(void **state)
{
	char *root = scratch(), p[PATH_MAX];
	int base = target_cgroup_level(root);

	(void)state;
	assert_true(base >= 0);
	mkdirs(root, "x");
	mkdirs(root, "x/y");
	snprintf(p, sizeof(p), "%s/x/y", root);
	assert_int_equal(target_cgroup_level(p), base + 2);
	assert_int_equal(target_cgroup_level("/"), 0);
	snprintf(p, sizeof(p), "%s/none", root);
	assert_int_equal(target_cgroup_level(p), -1);
	rm(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gone_process_is_refused_with_how_to_find_one),
		cmocka_unit_test(zombie_is_refused),
		cmocka_unit_test(kernel_thread_is_refused_only_with_exclude_kernel),
		cmocka_unit_test(command_is_found_in_path_like_a_shell_does),
		cmocka_unit_test(user_is_a_name_or_a_number),
		cmocka_unit_test(unit_is_found_by_name_or_name_service),
		cmocka_unit_test(unit_that_is_missing_or_ambiguous_is_refused),
		cmocka_unit_test(cgroup_level_counts_directories_below_the_mount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
