// SPDX-License-Identifier: GPL-2.0
/* Unit tests: opening --output FILE (private files, no symlinks, no hangs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "output.h"

static char dir[64];
static char path[128];
static char err[1024];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/bwm-output-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/out", dir);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

static void make_file(const char *p, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void new_file_is_created_0600(void **state)
{
	mode_t old = umask(0);
	int fd = output_open(path, err, sizeof(err));

	(void)state;
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
}

static void private_file_is_appended_to(void **state)
{
	char buf[16] = { 0 };
	int fd;

	(void)state;
	make_file(path, 0600);
	fd = open(path, O_WRONLY);
	assert_int_equal(write(fd, "a", 1), 1);
	close(fd);
	fd = output_open(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "b", 1), 1);
	close(fd);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	close(fd);
	assert_string_equal(buf, "ab");
}

static void file_readable_by_others_is_refused(void **state)
{
	(void)state;
	make_file(path, 0644);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(mode_of(path), 0644);
}

static void file_open_to_the_group_is_refused(void **state)
{
	(void)state;
	make_file(path, 0620);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 0620"));
}

static void file_of_another_user_is_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	make_file(path, 0600);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "owned by UID 65534"));
}

static void symlink_is_not_followed(void **state)
{
	char target[160];

	(void)state;
	snprintf(target, sizeof(target), "%s/target", dir);
	make_file(target, 0600);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symlink"));
}

static void dangling_symlink_creates_nothing(void **state)
{
	char target[160];

	(void)state;
	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_int_equal(access(target, F_OK), -1);
}

static void fifo_nobody_reads_is_refused_at_once(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "> FIFO"));
}

static void fifo_with_a_reader_is_refused(void **state)
{
	int rd;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	rd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(output_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "it is a FIFO"));
	assert_non_null(strstr(err, "shell redirection"));
	close(rd);
}

static void device_is_refused(void **state)
{
	(void)state;
	assert_int_equal(output_open("/dev/null", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "it is a device"));
}

static void directory_is_refused(void **state)
{
	(void)state;
	assert_int_equal(output_open(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(new_file_is_created_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(private_file_is_appended_to, setup, teardown),
		cmocka_unit_test_setup_teardown(file_readable_by_others_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(file_open_to_the_group_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(file_of_another_user_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_is_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(dangling_symlink_creates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_nobody_reads_is_refused_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fifo_with_a_reader_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(device_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(directory_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
