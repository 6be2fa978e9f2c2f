// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - find, check and read the BPF program templates.
 *
 * Templates are code that the kernel runs on behalf of root: a directory and
 * its templates are used only when owned by root and not writable by group
 * or others, checked on the open file descriptors (no window between the
 * check and the read, no symlink followed for the templates).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fileio.h"
#include "probes.h"

#include "config.h"	/* BWM_PROBES_DIR, from the Makefile's PREFIX */

/* The architecture header embedded in the binary (others come from a directory). */
#define EMBEDDED_ARCH	"x86_64"

/* Copies of probes/ linked into the binary by src/embedded.S. */
extern const char bwm_embedded_event_h[], bwm_embedded_event_h_end[];
extern const char bwm_embedded_arch[], bwm_embedded_arch_end[];
extern const char bwm_embedded_common[], bwm_embedded_common_end[];
extern const char bwm_embedded_lifecycle[], bwm_embedded_lifecycle_end[];
extern const char bwm_embedded_write[], bwm_embedded_write_end[];

static const struct {
	const char *name;
	int stage;
	const char *start, *end;
} known[TPL_COUNT] = {
	[TPL_EVENT_H] = { "event.h", 0, bwm_embedded_event_h, bwm_embedded_event_h_end },
	[TPL_ARCH] = { "arch-" EMBEDDED_ARCH ".h", 0, bwm_embedded_arch, bwm_embedded_arch_end },
	[TPL_COMMON] = { "common.bpf.h", 0, bwm_embedded_common, bwm_embedded_common_end },
	[TPL_LIFECYCLE] = { "lifecycle.bpf.c", 1, bwm_embedded_lifecycle,
			    bwm_embedded_lifecycle_end },
	[TPL_WRITE] = { "write.bpf.c", 2, bwm_embedded_write, bwm_embedded_write_end },
};

/* Is this file safe to take code from? NULL if so, else why not. */
static const char *unsafe(const struct stat *st)
{
	if (st->st_uid != 0)
		return "is not owned by root";
	if (st->st_mode & S_IWOTH)
		return "is writable by everyone";
	if (st->st_mode & S_IWGRP)
		return "is writable by its group";
	return NULL;
}

static void refuse(char *err, size_t errlen, const char *path, const char *why, bool dir)
{
	snprintf(err, errlen, "refusing template %s %s: %s %s (fix: sudo chown root:root %s && "
		 "sudo chmod go-w %s)", dir ? "directory" : "file", path, path, why, path, path);
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
	return 0;
}

/* Load every template from dir, checking the directory and each file. */
static int load_dir(const char *dir, struct templates *t, char *err, size_t errlen)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), i, rc;
	struct stat st;
	const char *why;

	if (dfd < 0) {
		snprintf(err, errlen, "cannot open template directory %s: %s (copy probes/ there)",
			 dir, strerror(errno));
		return -1;
	}
	if (fstat(dfd, &st) == 0 && (why = unsafe(&st)) != NULL) {
		refuse(err, errlen, dir, why, true);
		goto fail;
	}
	for (i = 0; i < TPL_COUNT; i++) {
		struct template *tp = &t->t[i];
		int fd;

		if ((size_t)snprintf(tp->path, sizeof(tp->path), "%s/%s", dir, tp->name) >=
		    sizeof(tp->path)) {
			snprintf(err, errlen, "template directory name too long: %s", dir);
			goto fail;
		}
		fd = openat(dfd, tp->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			snprintf(err, errlen, "cannot read template %s: %s (copy all of probes/ "
				 "there)", tp->path, strerror(errno));
			goto fail;
		}
		why = fstat(fd, &st) || !S_ISREG(st.st_mode) ? "is not a regular file" : unsafe(&st);
		if (why) {
			refuse(err, errlen, tp->path, why, false);
			close(fd);
			goto fail;
		}
		rc = fileio_read_fd(fd, &tp->text, &tp->len);
		close(fd);
		if (rc) {
			snprintf(err, errlen, "cannot read template %s: %s", tp->path, strerror(-rc));
			goto fail;
		}
	}
	close(dfd);
	return 0;
fail:
	close(dfd);
	return -1;
}

/*
 * The architecture header is the running kernel's (uname -m: the probes see
 * its registers and syscall numbers), probes/arch-MACHINE.h.
 */
static const char *arch_header(bool embedded, char *err, size_t errlen)
{
	static char name[sizeof(((struct utsname *)0)->machine) + 8];
	struct utsname u;

	if (uname(&u)) {
		snprintf(err, errlen, "uname: %s", strerror(errno));
		return NULL;
	}
	if (embedded && strcmp(u.machine, EMBEDDED_ARCH)) {
		snprintf(err, errlen, "no probes for the %s architecture: the probes/arch-%s.h a "
			 "port needs does not exist yet (see README.md, Architectures)", u.machine,
			 u.machine);
		return NULL;
	}
	snprintf(name, sizeof(name), "arch-%s.h", u.machine);
	return name;
}

int probes_load(const char *dir, struct templates *t, char *err, size_t errlen)
{
	const char *env = getenv("BPF_WRITE_MONITOR_PROBES");
	const char *from = NULL;
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < TPL_COUNT; i++) {
		t->t[i].name = known[i].name;
		t->t[i].stage = known[i].stage;
	}
	if (dir) {
		from = "--probe-dir";
	} else if (env && *env) {
		dir = env;
		from = "BPF_WRITE_MONITOR_PROBES";
	} else if (access(BWM_PROBES_DIR, F_OK) == 0) {
		dir = BWM_PROBES_DIR;
		from = "the installed copy";
	}
	t->t[TPL_ARCH].name = arch_header(!dir, err, errlen);
	if (!t->t[TPL_ARCH].name)
		return -1;
	if (!dir) {
		if (load_embedded(t)) {
			snprintf(err, errlen, "out of memory reading the embedded templates");
			probes_free(t);
			return -1;
		}
		snprintf(t->origin, sizeof(t->origin), "the copy embedded in the binary");
		return 0;
	}
	if (load_dir(dir, t, err, errlen)) {
		probes_free(t);
		return -1;
	}
	snprintf(t->origin, sizeof(t->origin), "%s (%s)", dir, from);
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

bool probes_embedded(const struct templates *t)
{
	int i;

	for (i = 0; i < TPL_COUNT; i++) {
		size_t n = known[i].end - known[i].start;

		if (!t->t[i].text || t->t[i].len != n || memcmp(t->t[i].text, known[i].start, n))
			return false;
	}
	return true;
}
