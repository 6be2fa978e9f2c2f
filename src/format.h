/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_FORMAT_H
#define BWM_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lines.h"

/* A growable byte buffer; on allocation failure it stops growing and sets oom. */
struct outbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void ob_put(struct outbuf *ob, const void *data, size_t n);
void ob_puts(struct outbuf *ob, const char *s);
void ob_putu(struct outbuf *ob, uint64_t v);
/* Make room for n more bytes; returns where they go, or NULL. */
char *ob_reserve(struct outbuf *ob, size_t n);
void ob_free(struct outbuf *ob);

struct format_opts {
	bool timestamp;		/* HH:MM:SS.mmm */
	bool pid;
	bool comm;
	bool label;		/* "stdout: " / "stderr: " */
	bool ascii;		/* sanitizer mode */
};

struct formatter {
	struct format_opts o;
	time_t cached_sec;	/* localtime of cached_sec is in cached_hms */
	char cached_hms[9];
};

void format_init(struct formatter *f, const struct format_opts *o);

/* "stdout", "stderr", or "fdN". */
const char *format_stream(uint8_t fd, char *buf, size_t size);

/*
 * Render one captured line: prefixes, the sanitized text, a note when bytes
 * were not captured, and a newline. wall_ns: the write's time since the epoch.
 */
void format_line(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *text, size_t len, uint64_t missing);

/* Render the accounting line of an in-kernel transfer (splice, sendfile). */
void format_transfer(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		     int64_t wall_ns, uint64_t bytes);

/*
 * Render a lifecycle line: the prefix, then "label: text" (the label is
 * always shown: "fork", "exec", "exit").
 */
void format_event(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		  int64_t wall_ns, const char *label, const char *text, size_t len);

/* "exited with status 3", "killed by SIGTERM", ... of a wait(2) status. */
void format_status(char *buf, size_t size, unsigned status, bool known);

#endif /* BWM_FORMAT_H */
