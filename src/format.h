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
	bool label;		/* "stdout: " / "stderr: " on every line */
	int bare_fd;		/* without label: the one stream shown bare (others get one) */
	bool ascii;		/* sanitizer mode */
	bool json;		/* one JSON object per line instead of text */
};

struct formatter {
	struct format_opts o;
	time_t cached_sec;	/* local time of cached_sec: */
	char cached_hms[9];	/* HH:MM:SS */
	char cached_date[32];	/* YYYY-MM-DDTHH:MM:SS and, from 19, the UTC offset */
};

void format_init(struct formatter *f, const struct format_opts *o);

/* "stdout", "stderr", or "fdN". */
const char *format_stream(uint8_t fd, char *buf, size_t size);

/*
 * Render one captured line: prefixes, the sanitized text, a note when bytes
 * were not captured or the line was cut by a cap ("[... continued]": the rest
 * is the writer's next line), and a newline; or, with json, one JSON object:
 *   {"type":"line","time":"2026-03-02T14:32:01.042000+01:00","pid":1847,"tid":1847,
 *    "comm":"nginx","stream":"stdout","line":"...","writes":1,
 *    "continued":false,"truncated":false}
 * wall_ns: the write's time since the epoch.
 */
void format_line(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *text, size_t len, uint64_t missing);

/* An in-kernel transfer (splice, sendfile): "[N bytes via kernel transfer]". */
void format_transfer(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		     int64_t wall_ns, uint64_t bytes);

/* A note in the stream of a writer, e.g. "[... 3 more messages not captured]". */
void format_note(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *note);

/* Lifecycle lines (-x): "fork: PID (parent PPID)", "exec: PID PATH", "exit: PID STATUS". */
void format_fork(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, uint32_t parent);
void format_exec(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *path, size_t len);
void format_exit(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, unsigned status, bool known);

/* --json: records lost, and the bytes written they stood for, when noticed. */
void format_lost(struct formatter *f, struct outbuf *ob, int64_t wall_ns, uint64_t events,
		 uint64_t bytes);

/* "exited with status 3", "killed by SIGTERM", ... of a wait(2) status. */
void format_status(char *buf, size_t size, unsigned status, bool known);

/* Append s (n bytes) as a JSON string, quotes included. */
void format_json_string(struct outbuf *ob, const char *s, size_t n);

#endif /* BWM_FORMAT_H */
