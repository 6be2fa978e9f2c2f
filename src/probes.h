/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_PROBES_H
#define BWM_PROBES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* The templates, in the order they go into the program text. */
enum template_id {
	TPL_EVENT_H,		/* probes/event.h */
	TPL_ARCH,		/* probes/arch-MACHINE.h (uname -m): registers, syscall numbers */
	TPL_COMMON,		/* probes/common.bpf.h */
	TPL_LIFECYCLE,		/* probes/lifecycle.bpf.c */
	TPL_WRITE,		/* probes/write.bpf.c */
	TPL_COUNT,
};

struct template {
	const char *name;	/* "write.bpf.c" */
	char path[PATH_MAX];	/* where it was read, for #line and messages */
	char *text;		/* NUL-terminated */
	size_t len;
	int stage;		/* attach stage of its probes: 1 lifecycle, 2 write; 0 none */
};

struct templates {
	struct template t[TPL_COUNT];
	char origin[PATH_MAX + 64];	/* "DIR (--probe-dir)", "the copy embedded ...", ... */
};

/*
 * Load the templates from the first of: dir (--probe-dir), the directory in
 * $BPF_WRITE_MONITOR_PROBES, the installed directory (if it exists), the
 * copy embedded in the binary at build time. A directory and its files must
 * be owned by root and not group- or world-writable. On failure, a one-line
 * message in err.
 */
int probes_load(const char *dir, struct templates *t, char *err, size_t errlen);
void probes_free(struct templates *t);

/* Are these the templates embedded in the binary, byte for byte (wherever they were read)? */
bool probes_embedded(const struct templates *t);

#endif /* BWM_PROBES_H */
