/* SPDX-License-Identifier: GPL-2.0 */
/* What the test helper programs share: dying with a reason, writing it all. */
#ifndef BWM_TEST_HELPERS_H
#define BWM_TEST_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit 99 with "<program>: <what>: <errno text>" on stderr. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(99);
}

/* write() all n bytes, through EINTR and short writes; die on an error. */
static inline void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		p += w;
		n -= w;
	}
}

#endif /* BWM_TEST_HELPERS_H */
