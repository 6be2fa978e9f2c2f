// SPDX-License-Identifier: GPL-2.0
/*
 * sink.c - buffered output to a file descriptor that may be a pipe, a
 * terminal or a file, blocking or not.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

void sink_init(struct sink *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
}

int sink_flush(struct sink *s)
{
	size_t off = 0;

	if (s->error) {
		s->ob.len = 0;
		return -1;
	}
	while (off < s->ob.len) {
		ssize_t n = write(s->fd, s->ob.p + off, s->ob.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = s->fd, .events = POLLOUT };

			poll(&p, 1, 1000);
			continue;
		}
		if (n < 0) {
			s->error = errno;
			break;
		}
		off += n;
	}
	s->ob.len = 0;
	return s->error ? -1 : 0;
}

void sink_free(struct sink *s)
{
	ob_free(&s->ob);
}
