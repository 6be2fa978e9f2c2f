// SPDX-License-Identifier: GPL-2.0
/*
 * format.c - render lines: [HH:MM:SS.mmm ][PID ][COMM ][stream: ]line
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "sanitize.h"

char *ob_reserve(struct outbuf *ob, size_t n)
{
	if (ob->len + n > ob->cap) {
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

/* HH:MM:SS.mmm of wall_ns, local time. */
static void put_time(struct formatter *f, struct outbuf *ob, int64_t wall_ns)
{
	time_t sec = wall_ns / 1000000000;
	unsigned ms = (wall_ns % 1000000000) / 1000000;
	char frac[5];

	if (sec != f->cached_sec) {
		struct tm tm;

		localtime_r(&sec, &tm);
		snprintf(f->cached_hms, sizeof(f->cached_hms), "%02d:%02d:%02d",
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		f->cached_sec = sec;
	}
	ob_put(ob, f->cached_hms, 8);
	frac[0] = '.';
	frac[1] = '0' + ms / 100;
	frac[2] = '0' + ms / 10 % 10;
	frac[3] = '0' + ms % 10;
	frac[4] = ' ';
	ob_put(ob, frac, 5);
}

/* The prefix; label: an event's name, or NULL for the stream name (when labels are on). */
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
		char comm[SANITIZE_MAX_OUT(BWM_COMM_LEN)];
		size_t n = sanitize(m->comm, strnlen(m->comm, BWM_COMM_LEN), comm, f->o.ascii);

		ob_put(ob, comm, n);
		ob_put(ob, " ", 1);
	}
	if (label || f->o.label) {
		ob_puts(ob, label ? label : format_stream(m->fd, tmp, sizeof(tmp)));
		ob_put(ob, ": ", 2);
	}
}

void format_line(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		 int64_t wall_ns, const char *text, size_t len, uint64_t missing)
{
	char *dst;

	put_prefix(f, ob, m, wall_ns, NULL);
	dst = ob_reserve(ob, SANITIZE_MAX_OUT(len));
	if (dst)
		ob->len += sanitize(text, len, dst, f->o.ascii);
	if (missing) {
		ob_puts(ob, len ? " [... " : "[... ");
		ob_putu(ob, missing);
		ob_puts(ob, " more bytes not captured]");
	}
	ob_put(ob, "\n", 1);
}

void format_transfer(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		     int64_t wall_ns, uint64_t bytes)
{
	put_prefix(f, ob, m, wall_ns, NULL);
	ob_put(ob, "[", 1);
	ob_putu(ob, bytes);
	ob_puts(ob, " bytes via kernel transfer]\n");
}

void format_event(struct formatter *f, struct outbuf *ob, const struct line_meta *m,
		  int64_t wall_ns, const char *label, const char *text, size_t len)
{
	char *dst;

	put_prefix(f, ob, m, wall_ns, label);
	dst = ob_reserve(ob, SANITIZE_MAX_OUT(len));
	if (dst)
		ob->len += sanitize(text, len, dst, f->o.ascii);
	ob_put(ob, "\n", 1);
}

void format_status(char *buf, size_t size, unsigned status, bool known)
{
	unsigned sig = status & 0x7f;
	const char *name;

	if (!known) {
		snprintf(buf, size, "exited");
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
