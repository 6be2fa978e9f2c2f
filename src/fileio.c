// SPDX-License-Identifier: GPL-2.0
/*
 * fileio.c - whole-file reads through one read loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"

ssize_t fileio_read_upto(int fd, char *buf, size_t size)
{
	size_t total = 0;

	while (total < size) {
		ssize_t n = read(fd, buf + total, size - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		total += n;
	}
	return total;
}

int fileio_read_fd(int fd, char **text, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r = fileio_read_upto(fd, buf + n, cap - n - 1);
		char *p;

		if (r < 0) {
			free(buf);
			return r;
		}
		n += r;
		if (n + 1 < cap)
			break;		/* short of the room: the end of the file */
		p = realloc(buf, cap * 2);
		if (!p) {
			free(buf);
			return -ENOMEM;
		}
		buf = p;
		cap *= 2;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

ssize_t fileio_read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = fileio_read_upto(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}
