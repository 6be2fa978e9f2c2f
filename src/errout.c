// SPDX-License-Identifier: GPL-2.0
/*
 * errout.c - stderr that gives way to a stop (see errout.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "errout.h"
#include "grace.h"

#define POLL_MS		100

static struct {
	struct grace grace;
} eo;

/* The stream's write: all of it, or what is left dropped once out of time. */
static ssize_t errout_write(void *cookie, const char *buf, size_t len)
{
	size_t off = 0;

	(void)cookie;
	while (off < len && !eo.grace.gave_up) {
		ssize_t n = write(STDERR_FILENO, buf + off, len - off);

		if (n > 0) {
			off += n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = STDERR_FILENO, .events = POLLOUT };

			poll(&p, 1, POLL_MS);
		} else if (n < 0 && errno != EINTR) {
			break;		/* gone (EPIPE) or broken: nothing more to do */
		}
		if (off < len && grace_over(&eo.grace))
			break;
	}
	return len;
}

int errout_install(const volatile sig_atomic_t *stop, uint64_t grace_ns)
{
	cookie_io_functions_t io = { .write = errout_write };
	FILE *f;

	eo.grace = (struct grace){ .stop = stop, .grace_ns = grace_ns };
	f = fopencookie(NULL, "w", io);
	if (!f)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	fflush(stderr);
	stderr = f;
	return 0;
}
