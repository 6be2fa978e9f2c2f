// SPDX-License-Identifier: GPL-2.0
/*
 * load - workloads for `make bench`. Each round waits for one byte on stdin
 * (the benchmark's "go"), runs, and prints one result line on stderr.
 *
 *   load write ROUNDS N LEN        N write()s of LEN-byte lines to fd 1, back to
 *                                  back: "ns_per_op <ns>"
 *   load getppid ROUNDS N          N getppid() calls: "ns_per_op <ns>"
 *   load rate RATE SECONDS LEN K   write() K lines of LEN bytes at a time, RATE
 *                                  lines a second, for SECONDS (one round):
 *                                  "lines <n> seconds <s>"
 *   load tick COUNT MS             COUNT lines "tick <i> <CLOCK_MONOTONIC ns>",
 *                                  one every MS milliseconds (one round)
 *   load prompt COUNT MS           the same without the newline: "prompt <i> <ns> ",
 *                                  pieces a line joiner holds until they go quiet
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void go(void)
{
	char c;

	if (read(0, &c, 1) != 1)
		exit(0);	/* the benchmark is done with us */
}

static char *lines(size_t len, int k)
{
	char *buf = malloc(len * k);
	int i;

	if (!buf)
		exit(99);
	memset(buf, 'x', len * k);
	for (i = 0; i < k; i++)
		buf[(i + 1) * len - 1] = '\n';
	return buf;
}

static void put(const char *buf, size_t n)
{
	if (write(1, buf, n) != (ssize_t)n && errno != EAGAIN)
		exit(98);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "write") && argc == 5) {
		int rounds = atoi(argv[2]), r;
		long n = atol(argv[3]), i;
		size_t len = atol(argv[4]);
		char *buf = lines(len, 1);

		for (r = 0; r < rounds; r++) {
			unsigned long long t;

			go();
			t = now_ns();
			for (i = 0; i < n; i++)
				put(buf, len);
			fprintf(stderr, "ns_per_op %.1f\n", (double)(now_ns() - t) / n);
		}
		return 0;
	}
	if (!strcmp(mode, "getppid") && argc == 4) {
		int rounds = atoi(argv[2]), r;
		long n = atol(argv[3]), i;

		for (r = 0; r < rounds; r++) {
			unsigned long long t;

			go();
			t = now_ns();
			for (i = 0; i < n; i++)
				syscall(SYS_getppid);
			fprintf(stderr, "ns_per_op %.1f\n", (double)(now_ns() - t) / n);
		}
		return 0;
	}
	if (!strcmp(mode, "rate") && argc == 6) {
		double rate = atof(argv[2]), secs = atof(argv[3]);
		size_t len = atol(argv[4]);
		int k = atoi(argv[5]);
		char *buf = lines(len, k);
		unsigned long long start, t;
		long done = 0;

		go();
		start = now_ns();
		/* Keep the count written up to the schedule, one write of k lines at a time. */
		while ((t = now_ns()) - start < secs * 1e9) {
			if (done >= (long)((t - start) / 1e9 * rate)) {
				nanosleep(&(struct timespec){ 0, 20000 }, NULL);	/* ahead */
				continue;
			}
			put(buf, len * k);
			done += k;
		}
		fprintf(stderr, "lines %ld seconds %.3f\n", done, (now_ns() - start) / 1e9);
		return 0;
	}
	if ((!strcmp(mode, "tick") || !strcmp(mode, "prompt")) && argc == 4) {
		int count = atoi(argv[2]), ms = atoi(argv[3]), i;
		const char *fmt = mode[0] == 't' ? "tick %d %llu\n" : "prompt %d %llu ";

		go();
		for (i = 0; i < count; i++) {
			char line[64];
			int n = snprintf(line, sizeof(line), fmt, i, now_ns());

			put(line, n);
			nanosleep(&(struct timespec){ ms / 1000, ms % 1000 * 1000000L }, NULL);
		}
		fprintf(stderr, "done\n");
		return 0;
	}
	fprintf(stderr, "usage: see bench/load.c\n");
	return 2;
}
