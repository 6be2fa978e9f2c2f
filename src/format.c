// SPDX-License-Identifier: GPL-2.0
/*
 * format.c - render lines, in text ([HH:MM:SS.mmm ][PID ][COMM ][stream: ]line)
 * or as JSON objects, one per line.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "sanitize.h"

char *ob_reserve(struct outbuf *ob, size_t n)
{
	/* An empty buffer has no memory yet: even 0 bytes get some (no NULL + 0). */
	if (ob->len + n > ob->cap || !ob->p) {
		size_t cap = ob->cap ? ob->cap : 4096;
		char *p;

		while (cap < ob->len + n)
			cap *= 2;
		p = realloc(ob->p, cap);
		if (!p) {
			ob->oom = true;
			return NULL;
		}
		ob->p = p;
		ob->cap = cap;
	}
	return ob->p + ob->len;
}

void ob_put(struct outbuf *ob, const void *data, size_t n)
{
	char *dst = ob_reserve(ob, n);

	if (!dst)
		return;
	memcpy(dst, data, n);
	ob->len += n;
}

void ob_puts(struct outbuf *ob, const char *s)
{
	ob_put(ob, s, strlen(s));
}

void ob_putu(struct outbuf *ob, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	ob_put(ob, tmp + i, sizeof(tmp) - i);
}

void ob_free(struct outbuf *ob)
{
	free(ob->p);
	memset(ob, 0, sizeof(*ob));
}

void format_init(struct formatter *f, const struct format_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->o = *o;
	f->cached_sec = -1;
}

const char *format_stream(uint8_t fd, char *buf, size_t size)
{
	if (fd == 1)
		return "stdout";
	if (fd == 2)
		return "stderr";
	snprintf(buf, size, "fd%u", fd);
	return buf;
}

/* Refresh the cached local time strings for second sec. */
static void cache_time(struct formatter *f, time_t sec)
{
	struct tm tm;
	long off;

	if (sec == f->cached_sec)
		return;
	localtime_r(&sec, &tm);
	snprintf(f->cached_hms, sizeof(f->cached_hms), "%02d:%02d:%02d",
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	strftime(f->cached_date, 20, "%Y-%m-%dT%H:%M:%S", &tm);
	off = labs(tm.tm_gmtoff / 60) % (24 * 60);
	snprintf(f->cached_date + 19, sizeof(f->cached_date) - 19, "%c%02ld:%02ld",
		 tm.tm_gmtoff < 0 ? '-' : '+', off / 60, off % 60);
	f->cached_sec = sec;
}

/* HH:MM:SS.mmm and a space. */
static void put_time(struct formatter *f, struct outbuf *ob, int64_t wall_ns)
{
	unsigned ms = (wall_ns % 1000000000) / 1000000;
	char frac[5] = { '.', '0' + ms / 100, '0' + ms / 10 % 10, '0' + ms % 10, ' ' };

	cache_time(f, wall_ns / 1000000000);
	ob_put(ob, f->cached_hms, 8);
	ob_put(ob, frac, 5);
}

static void put_sanitized(struct formatter *f, struct outbuf *ob, const char *text, size_t len)
{
	char *dst = ob_reserve(ob, SANITIZE_MAX_OUT(len));

	if (dst)
		ob->len += sanitize(text, len, dst, f->o.ascii);
}

/*
 * Sanitized text on one line: a newline in a comm or a program's path (or in
 * a line, from a caller that did not split it) would start a line that looks
 * like captured output; it is shown as \x0a.
 */
static void put_one_line(struct formatter *f, struct outbuf *ob, const char *text, size_t len)
{
	size_t start = ob->len, i;
	char *p;

	put_sanitized(f, ob, text, len);
	while ((p = memchr(ob->p + start, '\n', ob->len - start)) != NULL) {
		i = p - ob->p;
		if (!ob_reserve(ob, 3))
			break;
		memmove(ob->p + i + 4, ob->p + i + 1, ob->len - i - 1);
		memcpy(ob->p + i, "\\x0a", 4);
		ob->len += 3;
		start = i + 4;
	}
}

/* The text prefix; label: an event's name, or NULL for the stream's name when due. */
static void put_prefix(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		       int64_t wall_ns, const char *label)
{
	char tmp[16];

	if (f->o.timestamp)
		put_time(f, ob, wall_ns);
	if (f->o.pid) {
		ob_putu(ob, m->tgid);
		ob_put(ob, " ", 1);
	}
	if (f->o.comm) {
		put_one_line(f, ob, m->comm, strnlen(m->comm, BWM_COMM_LEN));
		ob_put(ob, " ", 1);
	}
	if (!label && (f->o.label || m->fd != f->o.bare_fd))
		label = format_stream(m->fd, tmp, sizeof(tmp));
	if (label) {
		ob_puts(ob, label);
		ob_put(ob, ": ", 2);
	}
}

void format_json_string(struct outbuf *ob, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	ob_put(ob, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', c };

			ob_put(ob, esc, 2);
		} else if (c == '\t') {
			ob_put(ob, "\\t", 2);
		} else if (c == '\n') {
			ob_put(ob, "\\n", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

			ob_put(ob, esc, 6);
		} else {
			ob_put(ob, &s[i], 1);
		}
	}
	ob_put(ob, "\"", 1);
}

/* A sanitized string as a JSON string (the text the text mode would show). */
static void put_json_text(struct formatter *f, struct outbuf *ob, const char *text, size_t len)
{
	char *tmp = malloc(SANITIZE_MAX_OUT(len) + 1);

	if (!tmp) {
		ob->oom = true;
		return;
	}
	format_json_string(ob, tmp, sanitize(text, len, tmp, f->o.ascii));
	free(tmp);
}

/* {"type":"...","time":"..." -- the caller adds fields and "}\n". */
static void put_json_type_time(struct formatter *f, struct outbuf *ob, const char *type,
			       int64_t wall_ns)
{
	char frac[8];

	cache_time(f, wall_ns / 1000000000);
	snprintf(frac, sizeof(frac), ".%06u", (unsigned)(wall_ns % 1000000000 / 1000));
	ob_puts(ob, "{\"type\":\"");
	ob_puts(ob, type);
	ob_puts(ob, "\",\"time\":\"");
	ob_put(ob, f->cached_date, 19);
	ob_puts(ob, frac);
	ob_puts(ob, f->cached_date + 19);
	ob_puts(ob, "\"");
}

/*
 * {"type":"...","time":"...","pid":N,"tid":N,"comm":"..." -- the caller adds
 * fields and "}\n". The types are those of doc/records.schema.json.
 */
static void put_json_head(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
			  int64_t wall_ns, const char *type)
{
	put_json_type_time(f, ob, type, wall_ns);
	ob_puts(ob, ",\"pid\":");
	ob_putu(ob, m->tgid);
	ob_puts(ob, ",\"tid\":");
	ob_putu(ob, m->tid);
	ob_puts(ob, ",\"comm\":");
	put_json_text(f, ob, m->comm, strnlen(m->comm, BWM_COMM_LEN));
}

static void put_json_stream(struct outbuf *ob, const struct line_meta *m)
{
	char tmp[16];

	ob_puts(ob, ",\"stream\":\"");
	ob_puts(ob, format_stream(m->fd, tmp, sizeof(tmp)));
	ob_puts(ob, "\"");
}

/* A line as JSON: the joined text, how many writes made it, whether it was cut. */
static void put_json_line(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
			  int64_t wall_ns, const char *text, size_t len, uint64_t missing)
{
	put_json_head(f, ob, m, wall_ns, "line");
	put_json_stream(ob, m);
	ob_puts(ob, ",\"line\":");
	put_json_text(f, ob, text, len);
	ob_puts(ob, ",\"writes\":");
	ob_putu(ob, m->writes ? m->writes : 1);
	ob_puts(ob, m->continued ? ",\"continued\":true" : ",\"continued\":false");
	ob_puts(ob, missing ? ",\"truncated\":true,\"missing_bytes\":" :
			      ",\"truncated\":false}\n");
	if (missing) {
		ob_putu(ob, missing);
		ob_puts(ob, "}\n");
	}
}

void format_line(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *text, size_t len, uint64_t missing)
{
	if (f->o.json) {
		put_json_line(f, ob, m, wall_ns, text, len, missing);
		return;
	}
	put_prefix(f, ob, m, wall_ns, NULL);
	put_one_line(f, ob, text, len);		/* the assembler's lines have none: cheap */
	if (missing) {
		ob_puts(ob, len ? " [... " : "[... ");
		ob_putu(ob, missing);
		ob_puts(ob, " more bytes not captured]");
	} else if (m->continued) {
		ob_puts(ob, len ? " [... continued]" : "[... continued]");
	}
	ob_put(ob, "\n", 1);
}

void format_transfer(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		     int64_t wall_ns, uint64_t bytes)
{
	if (f->o.json) {
		put_json_head(f, ob, m, wall_ns, "transfer");
		put_json_stream(ob, m);
		ob_puts(ob, ",\"kernel_transfer_bytes\":");
		ob_putu(ob, bytes);
		ob_puts(ob, "}\n");
		return;
	}
	put_prefix(f, ob, m, wall_ns, NULL);
	ob_put(ob, "[", 1);
	ob_putu(ob, bytes);
	ob_puts(ob, " bytes via kernel transfer]\n");
}

void format_note(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *note)
{
	if (f->o.json) {
		put_json_head(f, ob, m, wall_ns, "note");
		put_json_stream(ob, m);
		ob_puts(ob, ",\"note\":");
		format_json_string(ob, note, strlen(note));
		ob_puts(ob, "}\n");
		return;
	}
	put_prefix(f, ob, m, wall_ns, NULL);
	ob_puts(ob, note);
	ob_put(ob, "\n", 1);
}

/* "label: text" lines of lifecycle events; the label is always shown. */
static void put_event(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		      int64_t wall_ns, const char *label, const char *text, size_t len)
{
	put_prefix(f, ob, m, wall_ns, label);
	put_one_line(f, ob, text, len);
	ob_put(ob, "\n", 1);
}

void format_fork(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, uint32_t parent)
{
	char text[64];

	if (f->o.json) {
		put_json_head(f, ob, m, wall_ns, "fork");
		ob_puts(ob, ",\"parent\":");
		ob_putu(ob, parent);
		ob_puts(ob, "}\n");
		return;
	}
	snprintf(text, sizeof(text), "%u (parent %u)", m->tgid, parent);
	put_event(f, ob, m, wall_ns, "fork", text, strlen(text));
}

void format_exec(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *path, size_t len)
{
	char text[320];
	int n;

	if (f->o.json) {
		put_json_head(f, ob, m, wall_ns, "exec");
		ob_puts(ob, ",\"path\":");
		put_json_text(f, ob, path, len);
		ob_puts(ob, "}\n");
		return;
	}
	n = snprintf(text, sizeof(text), "%u %.*s", m->tgid, (int)len, path);
	put_event(f, ob, m, wall_ns, "exec", text, n < (int)sizeof(text) ? (size_t)n :
							       sizeof(text) - 1);
}

void format_exit(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, unsigned status, bool known)
{
	char text[96], how[64];

	if (f->o.json) {
		put_json_head(f, ob, m, wall_ns, "exit");
		if (known && !(status & 0x7f)) {
			ob_puts(ob, ",\"exit_status\":");
			ob_putu(ob, (status >> 8) & 0xff);
		} else if (known) {
			const char *name = sigabbrev_np(status & 0x7f);

			snprintf(how, sizeof(how), "SIG%s", name ? name : "?");
			ob_puts(ob, ",\"signal\":");
			format_json_string(ob, how, strlen(how));
			ob_puts(ob, status & 0x80 ? ",\"core_dumped\":true" : ",\"core_dumped\":false");
		} else {
			ob_puts(ob, ",\"status_known\":false");
		}
		ob_puts(ob, "}\n");
		return;
	}
	format_status(how, sizeof(how), status, known);
	snprintf(text, sizeof(text), "%u %s", m->tgid, how);
	put_event(f, ob, m, wall_ns, "exit", text, strlen(text));
}

void format_lost(struct formatter *f, struct outbuf *ob, int64_t wall_ns, uint64_t events,
		 uint64_t bytes)
{
	put_json_type_time(f, ob, "lost", wall_ns);
	ob_puts(ob, ",\"events\":");
	ob_putu(ob, events);
	ob_puts(ob, ",\"bytes\":");
	ob_putu(ob, bytes);
	ob_puts(ob, "}\n");
}

void format_status(char *buf, size_t size, unsigned status, bool known)
{
	unsigned sig = status & 0x7f;
	const char *name;

	if (!known) {
		snprintf(buf, size, "exited (status unknown)");
		return;
	}
	if (!sig) {
		snprintf(buf, size, "exited with status %u", (status >> 8) & 0xff);
		return;
	}
	name = sigabbrev_np(sig);
	if (name)
		snprintf(buf, size, "killed by SIG%s%s", name, status & 0x80 ? " (core dumped)" : "");
	else
		snprintf(buf, size, "killed by signal %u%s", sig, status & 0x80 ? " (core dumped)" : "");
}
