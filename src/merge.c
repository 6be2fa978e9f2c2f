// SPDX-License-Identifier: GPL-2.0
/*
 * merge.c - the timestamp merger: per-CPU record queues merged into one
 * ordered event stream.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "merge.h"

/* A queued record: its size, then the record, padded to 8 bytes. */
struct entry {
	uint64_t size;
	struct bwm_event ev;
};

#define ENTRY_ALIGN(n)	(((n) + 7) & ~(size_t)7)

struct cpu_queue {
	char *buf;		/* 8-byte aligned (malloc) */
	size_t head, tail, cap;
	size_t count;
	uint64_t lost;
	uint64_t capped;	/* records dropped past the cap */
};

struct merger {
	int ncpu;
	struct cpu_queue *q;
	int *heap;		/* CPUs with queued records, ordered by head timestamp */
	size_t cap;		/* bytes queued per CPU at most (0: no cap) */
	uint64_t malformed;
	uint64_t no_memory;	/* records dropped: no memory to queue them */
	uint64_t no_memory_bytes;	/* the bytes written they stood for */
};

struct merger *merge_new(int ncpu)
{
	struct merger *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ncpu = ncpu;
	r->q = calloc(ncpu, sizeof(*r->q));
	r->heap = calloc(ncpu, sizeof(*r->heap));
	if (!r->q || !r->heap) {
		merge_free(r);
		return NULL;
	}
	return r;
}

void merge_free(struct merger *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; r->q && i < r->ncpu; i++)
		free(r->q[i].buf);
	free(r->q);
	free(r->heap);
	free(r);
}

void merge_set_cap(struct merger *r, size_t bytes)
{
	r->cap = bytes;
}

/* Room for n more bytes at the tail: compact, or grow. */
static int queue_reserve(struct cpu_queue *q, size_t n)
{
	size_t cap;
	char *buf;

	if (q->tail + n <= q->cap)
		return 0;
	if (q->head > 0 && q->tail - q->head + n <= q->cap) {
		memmove(q->buf, q->buf + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
		return 0;
	}
	cap = q->cap ? q->cap : 65536;
	while (cap < q->tail - q->head + n)
		cap *= 2;
	buf = malloc(cap);
	if (!buf)
		return -1;
	if (q->buf)
		memcpy(buf, q->buf + q->head, q->tail - q->head);
	free(q->buf);
	q->buf = buf;
	q->tail -= q->head;
	q->head = 0;
	q->cap = cap;
	return 0;
}

int merge_push(struct merger *r, int cpu, const void *raw, size_t size)
{
	struct cpu_queue *q;
	struct bwm_event ev;
	struct entry *e;
	size_t need;
	bool over;

	if (cpu < 0 || cpu >= r->ncpu || size < sizeof(ev)) {
		r->malformed++;
		return -1;
	}
	memcpy(&ev, raw, sizeof(ev));
	if (ev.len > size - sizeof(ev)) {
		r->malformed++;
		return -1;
	}
	size = sizeof(ev) + ev.len;	/* drop the perf buffer's padding */
	q = &r->q[cpu];
	need = ENTRY_ALIGN(sizeof(uint64_t) + size);
	over = r->cap && q->tail - q->head + need > r->cap;
	if (over || queue_reserve(q, need)) {	/* past the cap: as with no memory */
		q->capped += over;
		r->no_memory++;
		r->no_memory_bytes += balance_record_bytes(&ev);
		return -1;
	}
	e = (struct entry *)(q->buf + q->tail);
	e->size = size;
	memcpy(&e->ev, raw, size);
	q->tail += need;
	q->count++;
	return 0;
}

void merge_lost(struct merger *r, int cpu, uint64_t n)
{
	if (cpu >= 0 && cpu < r->ncpu)
		r->q[cpu].lost += n;
}

static const struct entry *queue_head(const struct cpu_queue *q)
{
	return (const struct entry *)(q->buf + q->head);
}

static void queue_pop(struct cpu_queue *q)
{
	q->head += ENTRY_ALIGN(sizeof(uint64_t) + queue_head(q)->size);
	if (--q->count == 0)
		q->head = q->tail = 0;
}

/* Is CPU a's head older than CPU b's? Ties go to the lower CPU. */
static int older(const struct merger *r, int a, int b)
{
	uint64_t ta = queue_head(&r->q[a])->ev.ts, tb = queue_head(&r->q[b])->ev.ts;

	return ta < tb || (ta == tb && a < b);
}

static void sift_down(struct merger *r, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i, t;

		if (l < n && older(r, r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < n && older(r, r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = t;
		i = m;
	}
}

size_t merge_release(struct merger *r, uint64_t limit, event_fn fn, void *cookie)
{
	size_t released = 0;
	int n = 0, i;

	for (i = 0; i < r->ncpu; i++)
		if (r->q[i].count)
			r->heap[n++] = i;
	for (i = n / 2 - 1; i >= 0; i--)
		sift_down(r, n, i);
	while (n > 0) {
		struct cpu_queue *q = &r->q[r->heap[0]];
		const struct entry *e = queue_head(q);

		if (e->ev.ts > limit)
			break;
		fn(cookie, &e->ev);
		released++;
		queue_pop(q);
		if (q->count == 0)
			r->heap[0] = r->heap[--n];
		sift_down(r, n, 0);
	}
	return released;
}

uint64_t merge_lost_on(const struct merger *r, int cpu)
{
	return cpu >= 0 && cpu < r->ncpu ? r->q[cpu].lost : 0;
}

uint64_t merge_capped_on(const struct merger *r, int cpu)
{
	return cpu >= 0 && cpu < r->ncpu ? r->q[cpu].capped : 0;
}

uint64_t merge_malformed(const struct merger *r)
{
	return r->malformed;
}

uint64_t merge_no_memory_bytes(const struct merger *r)
{
	return r->no_memory_bytes;
}

uint64_t merge_no_memory(const struct merger *r)
{
	return r->no_memory;
}

size_t merge_queued(const struct merger *r)
{
	size_t n = 0;
	int i;

	for (i = 0; i < r->ncpu; i++)
		n += r->q[i].count;
	return n;
}
