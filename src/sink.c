// SPDX-License-Identifier: GPL-2.0
/*
 * sink.c - buffered output to a file descriptor that may be a pipe, a
 * terminal or a file, blocking or not; it never blocks the tool's stop.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

#define POLL_MS		100	/* a stop is noticed within this on a non-blocking fd */

void sink_init(struct sink *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
}

void sink_set_stop(struct sink *s, const volatile sig_atomic_t *stop, uint64_t grace_ns)
{
	s->grace = (struct grace){ .stop = stop, .grace_ns = grace_ns };
}

/* Count bytes that will never be written, and the lines they end. */
static void count_unwritten(struct sink *s, const char *p, size_t n)
{
	const char *end = p + n;

	s->unwritten_bytes += n;
	while (p < end && (p = memchr(p, '\n', end - p)) != NULL) {
		s->unwritten_lines++;
		p++;
	}
}

int sink_flush(struct sink *s)
{
	size_t off = 0;

	if (s->error) {
		s->ob.len = 0;
		return -1;
	}
	while (off < s->ob.len && !s->grace.gave_up) {
		ssize_t n = write(s->fd, s->ob.p + off, s->ob.len - off);

		if (n > 0)
			off += n;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = s->fd, .events = POLLOUT };

			poll(&p, 1, POLL_MS);
		} else if (n < 0 && errno != EINTR) {
			s->error = errno;
			break;
		}
		if (off < s->ob.len && grace_over(&s->grace))
			break;
	}
	if (s->grace.gave_up && !s->error)
		count_unwritten(s, s->ob.p + off, s->ob.len - off);
	s->ob.len = 0;
	return s->error ? -1 : 0;
}

void sink_free(struct sink *s)
{
	ob_free(&s->ob);
}
