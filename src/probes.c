// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - find and read the BPF program templates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes.h"

/* Copies of probes/ linked into the binary by src/embedded.S. */
extern const char bwm_embedded_event_h[], bwm_embedded_event_h_end[];
extern const char bwm_embedded_common[], bwm_embedded_common_end[];
extern const char bwm_embedded_lifecycle[], bwm_embedded_lifecycle_end[];
extern const char bwm_embedded_write[], bwm_embedded_write_end[];

static const struct {
	const char *name;
	int stage;
	const char *start, *end;
} known[TPL_COUNT] = {
	[TPL_EVENT_H] = { "event.h", 0, bwm_embedded_event_h, bwm_embedded_event_h_end },
	[TPL_COMMON] = { "common.bpf.h", 0, bwm_embedded_common, bwm_embedded_common_end },
	[TPL_LIFECYCLE] = { "lifecycle.bpf.c", 1, bwm_embedded_lifecycle,
			    bwm_embedded_lifecycle_end },
	[TPL_WRITE] = { "write.bpf.c", 2, bwm_embedded_write, bwm_embedded_write_end },
};

/* Read a whole file; -errno on failure. */
static int read_file(const char *path, char **text, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int load_embedded(struct templates *t)
{
	int i;

	for (i = 0; i < TPL_COUNT; i++) {
		struct template *tp = &t->t[i];
		size_t n = known[i].end - known[i].start;

		tp->text = malloc(n + 1);
		if (!tp->text)
			return -ENOMEM;
		memcpy(tp->text, known[i].start, n);
		tp->text[n] = '\0';
		tp->len = n;
		snprintf(tp->path, sizeof(tp->path), "<embedded>/%s", known[i].name);
	}
	snprintf(t->origin, sizeof(t->origin), "the copy embedded in the binary");
	return 0;
}

int probes_load(const char *dir, struct templates *t, char *err, size_t errlen)
{
	int i, rc;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < TPL_COUNT; i++) {
		t->t[i].name = known[i].name;
		t->t[i].stage = known[i].stage;
	}
	if (!dir) {
		if (load_embedded(t) == 0)
			return 0;
		snprintf(err, errlen, "out of memory reading the embedded templates");
		probes_free(t);
		return -1;
	}
	for (i = 0; i < TPL_COUNT; i++) {
		struct template *tp = &t->t[i];

		if ((size_t)snprintf(tp->path, sizeof(tp->path), "%s/%s", dir, tp->name) >=
		    sizeof(tp->path)) {
			snprintf(err, errlen, "template directory name too long: %s", dir);
			probes_free(t);
			return -1;
		}
		rc = read_file(tp->path, &tp->text, &tp->len);
		if (rc) {
			snprintf(err, errlen, "cannot read template %s: %s (copy probes/ there, "
				 "or drop --probe-dir to use the built-in ones)",
				 tp->path, strerror(-rc));
			probes_free(t);
			return -1;
		}
	}
	snprintf(t->origin, sizeof(t->origin), "%s (from --probe-dir)", dir);
	return 0;
}

void probes_free(struct templates *t)
{
	int i;

	for (i = 0; i < TPL_COUNT; i++) {
		free(t->t[i].text);
		t->t[i].text = NULL;
	}
}
