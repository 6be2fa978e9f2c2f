// SPDX-License-Identifier: GPL-2.0
/*
 * forker - a parent that forks continuously while the monitor starts.
 *
 *   forker PIDFILE
 *
 * Forks a child every millisecond until one byte arrives on stdin (the
 * test's "go"), at most 3000 children (then it waits for go). Each child
 * waits until the parent closes a shared pipe, then writes "child <pid>\n"
 * to stdout and exits. After go, the parent writes every child's pid to
 * PIDFILE (one per line), lets them all go, waits for them and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 3000

int main(int argc, char **argv)
{
	static pid_t kids[MAX_CHILDREN];
	struct pollfd go = { .fd = 0, .events = POLLIN };
	int gate[2], n = 0, i;
	FILE *f;

	if (argc != 2 || pipe(gate)) {
		fprintf(stderr, "usage: forker PIDFILE\n");
		return 2;
	}
	while (n < MAX_CHILDREN && poll(&go, 1, 0) == 0) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "forker: fork: %s\n", strerror(errno));
			return 99;
		}
		if (pid == 0) {
			char c, line[32];

			close(gate[1]);
			if (read(gate[0], &c, 1) < 0)
				_exit(98);
			if (write(1, line, snprintf(line, sizeof(line), "child %d\n", getpid())) < 0)
				_exit(97);
			_exit(0);
		}
		kids[n++] = pid;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	/* At the limit, still wait for go: on a slow machine (an emulated guest) the
	 * monitor may not be tracing yet, and the children must write after it is. */
	while (poll(&go, 1, -1) < 0 && errno == EINTR)
		;
	f = fopen(argv[1], "w");
	if (!f)
		return 99;
	for (i = 0; i < n; i++)
		fprintf(f, "%d\n", kids[i]);
	fclose(f);
	close(gate[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}
