// SPDX-License-Identifier: GPL-2.0
/*
 * lines.c - per-writer, per-stream line joining, with bounded memory.
 *
 * Pure: chunks in, lines out through a callback. A writer is one thread
 * writing to one fd, so stdout and stderr pieces never mix, nor do the pieces
 * of two threads or two processes. Time is the events' own (kernel
 * timestamps), so the output depends on what was written and when, not on
 * when the tool got round to reading it.
 *
 * Writers that hold bytes are on two lists: by the first piece of their line
 * (the oldest is passed on when the cap on held bytes is hit, and first at the
 * end) and by their latest piece (the quiet ones are at the front). Events
 * come in timestamp order, so appending at the tail keeps both sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "lines.h"

enum { BY_FIRST, BY_LAST, NLISTS };

struct writer {
	struct writer *next;		/* hash chain */
	struct writer *prev_in[NLISTS], *next_in[NLISTS];
	uint64_t key;
	uint32_t tgid;
	struct line_meta first;		/* of the held line's first piece */
	uint64_t last_ts;		/* of its latest piece */
	char *buf;			/* bytes held: a line being joined */
	size_t len, cap;
	uint32_t writes;		/* write calls in the line so far */
	bool had_pending;		/* bytes were held when the current write began */
	bool newline_seen;		/* the current write had a newline */
	bool open_line;			/* a line was passed on without its newline */
};

struct wlist {
	struct writer *head, *tail;
};

struct lines {
	struct writer **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
	struct wlist list[NLISTS];	/* writers holding bytes */
	size_t held;			/* bytes they hold */
	struct lines_opts o;
	line_fn fn;
	void *cookie;
};

#define KEEP_BUF	1024		/* a buffer up to this size is kept for the next line */

static uint64_t writer_key(uint32_t tid, uint8_t fd)
{
	return (uint64_t)tid << 8 | fd;
}

static size_t bucket_of(uint64_t key, size_t nbuckets)
{
	return (key * 0x9e3779b97f4a7c15ull >> 32) & (nbuckets - 1);
}

static void list_append(struct wlist *ls, int i, struct writer *w)
{
	w->prev_in[i] = ls->tail;
	w->next_in[i] = NULL;
	if (ls->tail)
		ls->tail->next_in[i] = w;
	else
		ls->head = w;
	ls->tail = w;
}

static void list_remove(struct wlist *ls, int i, struct writer *w)
{
	if (w->prev_in[i])
		w->prev_in[i]->next_in[i] = w->next_in[i];
	else
		ls->head = w->next_in[i];
	if (w->next_in[i])
		w->next_in[i]->prev_in[i] = w->prev_in[i];
	else
		ls->tail = w->prev_in[i];
	w->prev_in[i] = w->next_in[i] = NULL;
}

struct lines *lines_new(const struct lines_opts *o, line_fn fn, void *cookie)
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
	l->o = *o;
	if (!l->o.max_line)
		l->o.max_line = 1;
	if (!l->o.max_held)
		l->o.max_held = 1;
	l->fn = fn;
	l->cookie = cookie;
	return l;
}

static void writer_free(struct writer *w)
{
	free(w->buf);
	free(w);
}

static void free_writers(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			next = w->next;
			writer_free(w);
		}
		l->buckets[i] = NULL;
	}
	l->count = 0;
	l->held = 0;
	memset(l->list, 0, sizeof(l->list));
}

void lines_free(struct lines *l)
{
	if (!l)
		return;
	free_writers(l);
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
			size_t j = bucket_of(w->key, n);

			next = w->next;
			w->next = b[j];
			b[j] = w;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = n;
}

static struct writer *lookup_writer(const struct lines *l, uint64_t key)
{
	struct writer *w;

	for (w = l->buckets[bucket_of(key, l->nbuckets)]; w; w = w->next)
		if (w->key == key)
			return w;
	return NULL;
}

static struct writer *find_writer(struct lines *l, uint64_t key)
{
	struct writer *w = lookup_writer(l, key);
	size_t b = bucket_of(key, l->nbuckets);

	if (w)
		return w;
	if (l->count >= l->nbuckets * 2) {
		grow_table(l);
		b = bucket_of(key, l->nbuckets);
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

/* Unlink a writer that holds nothing, and free it. */
static void drop_writer(struct lines *l, struct writer *w)
{
	struct writer **pp = &l->buckets[bucket_of(w->key, l->nbuckets)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			l->count--;
			writer_free(w);
			return;
		}
	}
}

/* Pass on the held line (possibly empty) and hold nothing. */
static void emit_held(struct lines *l, struct writer *w, uint64_t missing, bool continued)
{
	struct line_meta m = w->first;

	m.continued = continued;
	m.writes = w->writes ? w->writes : 1;
	l->fn(l->cookie, &m, w->buf ? w->buf : "", w->len, missing);
	if (w->len) {
		list_remove(&l->list[BY_FIRST], BY_FIRST, w);
		list_remove(&l->list[BY_LAST], BY_LAST, w);
		l->held -= w->len;
		w->len = 0;
	}
	if (w->cap > KEEP_BUF) {
		free(w->buf);
		w->buf = NULL;
		w->cap = 0;
	}
	w->writes = 1;		/* what follows belongs to the current write */
}

/* Room for n more bytes, growing by an eighth: a 64 KiB line takes about 64 KiB. */
static int reserve(struct lines *l, struct writer *w, size_t n)
{
	size_t need = w->len + n, cap;
	char *buf;

	if (need <= w->cap)
		return 0;
	cap = need + need / 8;
	cap = cap < 64 ? 64 : (cap + 63) & ~(size_t)63;
	if (cap > l->o.max_line)
		cap = l->o.max_line;
	buf = realloc(w->buf, cap);
	if (!buf)
		return -1;
	w->buf = buf;
	w->cap = cap;
	return 0;
}

/* The cap on all held bytes: pass on the oldest held lines, marked continued. */
static void enforce_cap(struct lines *l)
{
	while (l->held > l->o.max_held && l->list[BY_FIRST].head) {
		struct writer *w = l->list[BY_FIRST].head;

		emit_held(l, w, 0, true);
		w->open_line = true;
	}
}

/* Pass on bytes of m's write as a line of their own (nothing held, or no memory to hold). */
static void pass_on(struct lines *l, const struct line_meta *m, const char *p, size_t n,
		    uint64_t missing)
{
	struct line_meta first = *m;

	first.continued = false;
	first.writes = 1;
	l->fn(l->cookie, &first, p, n, missing);
}

/* Hold n more bytes of m's write; an overlong line is passed on in max_line pieces. */
static void hold(struct lines *l, struct writer *w, const struct line_meta *m, const char *p,
		 size_t n)
{
	while (n > 0) {
		size_t take;

		if (w->len == l->o.max_line)
			emit_held(l, w, 0, true);
		take = l->o.max_line - w->len;
		if (take > n)
			take = n;
		if (reserve(l, w, take)) {
			/* Out of memory: pass on what is held, then this piece from where it is. */
			if (w->len)
				emit_held(l, w, 0, true);
			pass_on(l, m, p, n, 0);
			return;
		}
		if (w->len == 0) {
			w->first = *m;
			list_append(&l->list[BY_FIRST], BY_FIRST, w);
			list_append(&l->list[BY_LAST], BY_LAST, w);
		}
		memcpy(w->buf + w->len, p, take);
		w->len += take;
		l->held += take;
		p += take;
		n -= take;
		enforce_cap(l);
	}
}

/* A newline ends the held line plus n bytes (straight from the write when nothing is held). */
static void end_line(struct lines *l, struct writer *w, const struct line_meta *m,
		     const char *p, size_t n)
{
	if (w->len == 0 && n <= l->o.max_line) {
		pass_on(l, m, p, n, 0);
		return;
	}
	hold(l, w, m, p, n);
	emit_held(l, w, 0, false);
}

/* The writer wrote again: it is the most recent one. */
static void touch(struct lines *l, struct writer *w, uint64_t ts)
{
	w->last_ts = ts;
	if (w->len && l->list[BY_LAST].tail != w) {
		list_remove(&l->list[BY_LAST], BY_LAST, w);
		list_append(&l->list[BY_LAST], BY_LAST, w);
	}
}

/* A write begins: count it, and drop a newline that only ends a line passed on without one. */
static void begin_write(struct writer *w, const char **data, size_t *len)
{
	w->had_pending = w->len > 0;
	w->newline_seen = false;
	w->writes = w->len ? w->writes + 1 : 1;
	if (w->open_line && w->len == 0 && *len > 0 && (*data)[0] == '\n') {
		(*data)++;
		(*len)--;
		w->newline_seen = true;
	}
	w->open_line = false;
}

/*
 * The common case, on its own: a whole write of whole lines (each one fits a
 * line) from a writer that holds nothing. Each line is passed on as the rest
 * of lines_feed() would, without a writer to make and free.
 */
static bool whole_lines(struct lines *l, const struct line_meta *m, const char *data, size_t len,
			unsigned flags, uint64_t missing)
{
	const char *nl;

	if ((flags & (BWM_F_FIRST | BWM_F_LAST)) != (BWM_F_FIRST | BWM_F_LAST) || missing ||
	    len == 0 || len > l->o.max_line || data[len - 1] != '\n' ||
	    lookup_writer(l, writer_key(m->tid, m->fd)))
		return false;
	while (len > 0 && (nl = memchr(data, '\n', len)) != NULL) {
		pass_on(l, m, data, nl - data, 0);
		len -= nl - data + 1;
		data = nl + 1;
	}
	return true;
}

void lines_feed(struct lines *l, const struct line_meta *m, const char *data, size_t len,
		unsigned flags, uint64_t missing)
{
	struct writer *w;
	const char *nl;

	lines_tick(l, m->ts);
	if (whole_lines(l, m, data, len, flags, missing))
		return;
	w = find_writer(l, writer_key(m->tid, m->fd));
	if (!w) {
		pass_on(l, m, data, len, missing);	/* out of memory: as it is */
		return;
	}
	w->tgid = m->tgid;
	if (flags & BWM_F_FIRST)
		begin_write(w, &data, &len);
	while (len > 0 && (nl = memchr(data, '\n', len)) != NULL) {
		end_line(l, w, m, data, nl - data);
		w->newline_seen = true;
		len -= nl - data + 1;
		data = nl + 1;
	}
	hold(l, w, m, data, len);
	touch(l, w, m->ts);
	if (!(flags & BWM_F_LAST))
		return;
	if (missing) {
		if (w->len == 0)
			w->first = *m;
		emit_held(l, w, missing, false);
		w->open_line = true;	/* cut short: a lone newline next only ends it */
	} else if (!l->o.window_ns && !w->newline_seen && !w->had_pending && w->len > 0) {
		emit_held(l, w, 0, false);	/* the seed's rule 2 */
		w->open_line = true;
	}
	if (w->len == 0 && !w->open_line)
		drop_writer(l, w);
}

void lines_tick(struct lines *l, uint64_t now)
{
	struct writer *w;

	if (!l->o.window_ns)
		return;
	while ((w = l->list[BY_LAST].head) != NULL && now > w->last_ts &&
	       now - w->last_ts > l->o.window_ns) {
		emit_held(l, w, 0, false);
		w->open_line = true;
	}
}

/* Pass on and forget the writers that match. */
static void flush_where(struct lines *l, bool (*match)(const struct writer *, uint32_t),
			uint32_t id)
{
	size_t i;

	for (i = 0; i < l->nbuckets; i++) {
		struct writer *w = l->buckets[i], *next;

		for (; w; w = next) {
			next = w->next;
			if (!match(w, id))
				continue;
			if (w->len > 0)
				emit_held(l, w, 0, false);
			drop_writer(l, w);
		}
	}
}

static bool of_thread(const struct writer *w, uint32_t tid)
{
	return (uint32_t)(w->key >> 8) == tid;
}

static bool of_process(const struct writer *w, uint32_t tgid)
{
	return w->tgid == tgid;
}

void lines_flush_thread(struct lines *l, uint32_t tid)
{
	flush_where(l, of_thread, tid);
}

void lines_flush_process(struct lines *l, uint32_t tgid)
{
	flush_where(l, of_process, tgid);
}

void lines_flush_all(struct lines *l)
{
	while (l->list[BY_FIRST].head)
		emit_held(l, l->list[BY_FIRST].head, 0, false);
	free_writers(l);
}

size_t lines_pending(const struct lines *l)
{
	const struct writer *w;
	size_t n = 0;

	for (w = l->list[BY_FIRST].head; w; w = w->next_in[BY_FIRST])
		n++;
	return n;
}

size_t lines_held(const struct lines *l)
{
	return l->held;
}
