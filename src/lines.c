// SPDX-License-Identifier: GPL-2.0
/*
 * lines.c - per-writer, per-stream line reassembly.
 *
 * Pure: chunks in, lines out through a callback. A writer is one thread
 * writing to one fd, so stdout and stderr partials never mix, nor do the
 * partials of two threads or two processes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

struct writer {
	struct writer *next;		/* hash chain */
	uint64_t key;
	struct line_meta meta;		/* of the latest chunk */
	char *buf;			/* bytes held: a line being assembled */
	size_t len, cap;
	bool had_pending;		/* bytes were held when the current write began */
	bool newline_seen;		/* the current write had a newline */
	bool open_line;			/* a newline-less write was emitted as a line */
};

struct lines {
	struct writer **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
	size_t max_line;
	line_fn fn;
	void *cookie;
	uint64_t dropped;		/* bytes not held for want of memory */
};

static uint64_t writer_key(uint32_t tid, uint8_t fd)
{
	return (uint64_t)tid << 8 | fd;
}

static size_t bucket_of(const struct lines *l, uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ull >> 32) & (l->nbuckets - 1);
}

struct lines *lines_new(size_t max_line, line_fn fn, void *cookie)
{
	struct lines *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->nbuckets = 256;
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	if (!l->buckets) {
		free(l);
		return NULL;
	}
	l->max_line = max_line ? max_line : 1;
	l->fn = fn;
	l->cookie = cookie;
	return l;
}

static void writer_free(struct writer *w)
{
	free(w->buf);
	free(w);
}

void lines_free(struct lines *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			next = w->next;
			writer_free(w);
		}
	}
	free(l->buckets);
	free(l);
}

static void grow_table(struct lines *l)
{
	size_t n = l->nbuckets * 2, i;
	struct writer **b = calloc(n, sizeof(*b));

	if (!b)
		return;		/* longer chains, still correct */
	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			size_t j = (w->key * 0x9e3779b97f4a7c15ull >> 32) & (n - 1);

			next = w->next;
			w->next = b[j];
			b[j] = w;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = n;
}

static struct writer *find_writer(struct lines *l, uint64_t key, bool create)
{
	struct writer *w;
	size_t b = bucket_of(l, key);

	for (w = l->buckets[b]; w; w = w->next)
		if (w->key == key)
			return w;
	if (!create)
		return NULL;
	if (l->count >= l->nbuckets * 2) {
		grow_table(l);
		b = bucket_of(l, key);
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->key = key;
	w->next = l->buckets[b];
	l->buckets[b] = w;
	l->count++;
	return w;
}

static void drop_writer(struct lines *l, struct writer *w)
{
	struct writer **pp = &l->buckets[bucket_of(l, w->key)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			l->count--;
			writer_free(w);
			return;
		}
	}
}

static void emit(struct lines *l, struct writer *w, uint64_t missing)
{
	l->fn(l->cookie, &w->meta, w->buf ? w->buf : "", w->len, missing);
	w->len = 0;
}

/* Hold n more bytes, emitting max_line pieces of an overlong line. */
static void hold(struct lines *l, struct writer *w, const char *p, size_t n)
{
	while (n > 0) {
		size_t room, take;

		if (w->len == l->max_line)
			emit(l, w, 0);
		room = l->max_line - w->len;
		take = n < room ? n : room;
		if (w->len + take > w->cap) {
			size_t cap = w->cap ? w->cap : 256;
			char *buf;

			while (cap < w->len + take)
				cap *= 2;
			if (cap > l->max_line)
				cap = l->max_line;
			buf = realloc(w->buf, cap);
			if (!buf) {
				l->dropped += n;	/* out of memory: counted, dropped */
				return;
			}
			w->buf = buf;
			w->cap = cap;
		}
		memcpy(w->buf + w->len, p, take);
		w->len += take;
		p += take;
		n -= take;
	}
}

void lines_feed(struct lines *l, const struct line_meta *m, const char *data, size_t len,
		unsigned flags, uint64_t missing)
{
	struct writer *w = find_writer(l, writer_key(m->tid, m->fd), true);
	const char *nl;

	if (!w) {
		l->dropped += len;	/* out of memory: counted, dropped */
		return;
	}
	w->meta = *m;
	if (flags & BWM_F_FIRST) {
		w->had_pending = w->len > 0;
		w->newline_seen = false;
		if (w->open_line && w->len == 0 && len > 0 && data[0] == '\n') {
			/* It only ends the line already emitted. */
			data++;
			len--;
			w->newline_seen = true;
		}
		w->open_line = false;
	}
	while (len > 0 && (nl = memchr(data, '\n', len)) != NULL) {
		hold(l, w, data, nl - data);
		emit(l, w, 0);
		w->newline_seen = true;
		len -= nl - data + 1;
		data = nl + 1;
	}
	hold(l, w, data, len);
	if (flags & BWM_F_LAST) {
		if (missing) {
			emit(l, w, missing);
			w->open_line = true;	/* cut short: a lone newline next only ends it */
		} else if (!w->newline_seen && !w->had_pending && w->len > 0) {
			emit(l, w, 0);
			w->open_line = true;
		}
		if (w->len == 0 && !w->open_line)
			drop_writer(l, w);
	}
}

void lines_flush_process(struct lines *l, uint32_t tgid)
{
	size_t i;

	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			next = w->next;
			if (w->meta.tgid != tgid)
				continue;
			if (w->len > 0)
				emit(l, w, 0);
			drop_writer(l, w);
		}
	}
}

static int by_ts(const void *a, const void *b)
{
	const struct writer *x = *(struct writer *const *)a, *y = *(struct writer *const *)b;

	return x->meta.ts < y->meta.ts ? -1 : x->meta.ts > y->meta.ts;
}

void lines_flush_all(struct lines *l)
{
	struct writer **v = calloc(l->count ? l->count : 1, sizeof(*v));
	size_t i, n = 0;

	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w;

		for (w = l->buckets[i]; w; w = w->next)
			if (w->len > 0 && v)
				v[n++] = w;
	}
	if (v)
		qsort(v, n, sizeof(*v), by_ts);
	for (i = 0; i < n; i++)
		emit(l, v[i], 0);
	for (i = 0; !v && i < l->nbuckets; i++) {	/* no memory to sort: in any order */
		struct writer *w;

		for (w = l->buckets[i]; w; w = w->next)
			if (w->len > 0)
				emit(l, w, 0);
	}
	free(v);
	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			next = w->next;
			writer_free(w);
		}
		l->buckets[i] = NULL;
	}
	l->count = 0;
}

size_t lines_pending(const struct lines *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->nbuckets; i++) {
		const struct writer *w;

		for (w = l->buckets[i]; w; w = w->next)
			n += w->len > 0;
	}
	return n;
}

uint64_t lines_dropped(const struct lines *l)
{
	return l->dropped;
}
