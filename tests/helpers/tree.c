// SPDX-License-Identifier: GPL-2.0
/*
 * tree - a process tree writing interleaved lines, for the integration tests.
 *
 *   tree CHILDREN GRANDCHILDREN LINES
 *
 * Waits for one byte on stdin (the test's "go"), then forks CHILDREN children,
 * each of which forks GRANDCHILDREN grandchildren. Every process writes to
 * stdout and to stderr a first line "start pid=<pid> fd=<fd>", then LINES lines
 *
 *   pid=<pid> role=<root|child|grandchild> fd=<1|2> n=<i>
 *
 * in write() calls of about 13 bytes that cut lines anywhere, alternating between
 * the two streams, so that partial lines of many writers are in flight at
 * once. (By the seed's rules a newline-less write with nothing held is
 * printed as it is, so every piece but the first must find bytes held: the
 * first write holds the whole first line and a piece of the next, and no
 * write ends right after a newline.)
 *
 * Parents wait for their children; everything exits 0.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define PIECE 13

static void lines(const char *role, int count)
{
	char *text[3] = { NULL };
	size_t len[3] = { 0 }, off[3] = { 0 };
	int i, fd;

	for (fd = 1; fd <= 2; fd++) {
		FILE *f = open_memstream(&text[fd], &len[fd]);

		if (!f)
			die("open_memstream");
		fprintf(f, "start pid=%d fd=%d\n", getpid(), fd);
		for (i = 0; i < count; i++)
			fprintf(f, "pid=%d role=%s fd=%d n=%d\n", getpid(), role, fd, i);
		fclose(f);
		/* The first write: the first line and a piece of the second. */
		off[fd] = strchr(text[fd], '\n') - text[fd] + 1 + 5;
		write_all(fd, text[fd], off[fd]);
	}
	while (off[1] < len[1] || off[2] < len[2]) {
		for (fd = 1; fd <= 2; fd++) {
			size_t n = len[fd] - off[fd] < PIECE ? len[fd] - off[fd] : PIECE;

			/* Never stop right after a newline: the next piece would find nothing held. */
			while (off[fd] + n < len[fd] && text[fd][off[fd] + n - 1] == '\n')
				n++;
			write_all(fd, text[fd] + off[fd], n);
			off[fd] += n;
			sched_yield();
		}
	}
	free(text[1]);
	free(text[2]);
}

static void spawn(const char *role, int n, int grandchildren, int count)
{
	int i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			if (grandchildren)
				spawn("grandchild", grandchildren, 0, count);
			lines(role, count);
			while (wait(NULL) > 0)
				;
			_exit(0);
		}
	}
}

int main(int argc, char **argv)
{
	char c;

	if (argc != 4) {
		fprintf(stderr, "usage: tree CHILDREN GRANDCHILDREN LINES\n");
		return 2;
	}
	if (read(0, &c, 1) < 0)
		die("read");
	spawn("child", atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
	lines("root", atoi(argv[3]));
	while (wait(NULL) > 0)
		;
	return 0;
}
