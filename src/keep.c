// SPDX-License-Identifier: GPL-2.0
/*
 * keep.c - --on-failure: each traced process's last lines, shown only when
 * it fails.
 *
 * Every kept line is on two lists: its process's (oldest first: what is
 * printed) and the list of all kept lines (oldest first: what the
 * --max-held cap drops). Both are in arrival order (seq), and a process's
 * list stays so when a child's lines are merged into it, so the oldest line
 * of all is always the first of its process: dropping it is O(1).
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "keep.h"
#include "procs.h"

#define BUCKETS		4096	/* processes hash to chains */
#define NFDS		32

struct kproc;

struct kline {
	struct kline *gprev, *gnext;	/* all kept lines, oldest first */
	struct kline *pnext;		/* its process's lines, oldest first */
	struct kproc *owner;
	uint64_t seq;			/* arrival order */
	uint64_t missing;
	struct line_meta m;
	uint32_t len;
	char text[];
};

struct kproc {
	uint32_t tgid;
	uint32_t parent;		/* 0: not known */
	char comm[BWM_COMM_LEN];	/* as of its latest line */
	struct kproc *hnext;		/* hash chain */
	struct kline *head, *tail;
	uint32_t n;
	uint32_t count[NFDS];		/* lines per fd */
};

struct keep {
	struct keep_opts o;
	struct emit *emit;
	struct ledger *ledger;
	struct kproc *table[BUCKETS];
	struct kline *ghead, *gtail;
	uint64_t seq;
	size_t lines, held;
};

struct keep *keep_new(const struct keep_opts *o, struct emit *emit, struct ledger *ledger)
{
	struct keep *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->o = *o;
	if (!k->o.per_stream)
		k->o.per_stream = 1;
	k->emit = emit;
	k->ledger = ledger;
	return k;
}

static struct kproc **slot(struct keep *k, uint32_t tgid)
{
	struct kproc **pp = &k->table[(tgid * 2654435761u) % BUCKETS];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->hnext;
	return pp;
}

static struct kproc *find(struct keep *k, uint32_t tgid)
{
	return *slot(k, tgid);
}

/* The process's record, made when missing (NULL when out of memory). */
static struct kproc *get(struct keep *k, uint32_t tgid, bool ask_proc)
{
	struct kproc **pp = slot(k, tgid), *p = *pp;
	struct proc_stat st;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	/* Traced since before the run (no fork seen): /proc knows its parent. */
	if (ask_proc && k->o.inherit && proc_read_stat(tgid, &st) == 0 && st.ppid > 0)
		p->parent = st.ppid;
	*pp = p;
	return p;
}

/* Take a line off the list of all and free it; the caller unlinks it from its process. */
static void release(struct keep *k, struct kline *l, enum loss_kind why)
{
	if (l->gprev)
		l->gprev->gnext = l->gnext;
	else
		k->ghead = l->gnext;
	if (l->gnext)
		l->gnext->gprev = l->gprev;
	else
		k->gtail = l->gprev;
	l->owner->count[l->m.fd % NFDS]--;
	l->owner->n--;
	k->lines--;
	k->held -= sizeof(*l) + l->len;
	if (why < LOSS_KINDS)
		ledger_add(k->ledger, why, 1);
	free(l);
}

/* Drop lines of p, oldest first, while a stream holds more than N. */
static void trim(struct keep *k, struct kproc *p)
{
	struct kline **pp = &p->head, *l;

	p->tail = NULL;
	while ((l = *pp)) {
		if (p->count[l->m.fd % NFDS] > k->o.per_stream) {
			*pp = l->pnext;
			release(k, l, KEPT_OLDER);
			continue;
		}
		p->tail = l;
		pp = &l->pnext;
	}
}

/* Past the cap: drop the oldest line of all (the first of its process). */
static void cap(struct keep *k)
{
	while (k->held > k->o.max_held && k->ghead) {
		struct kline *l = k->ghead;
		struct kproc *p = l->owner;

		p->head = l->pnext;
		if (!p->head)
			p->tail = NULL;
		release(k, l, KEPT_CAPPED);
	}
}

void keep_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
	       uint64_t missing)
{
	struct keep *k = cookie;
	struct kproc *p = get(k, m->tgid, true);
	struct kline *l = p ? malloc(sizeof(*l) + len) : NULL;

	if (!l) {
		ledger_add(k->ledger, LOSS_NO_MEMORY, 1);
		return;
	}
	memset(l, 0, sizeof(*l));
	if (m->comm[0])
		memcpy(p->comm, m->comm, sizeof(p->comm));
	l->owner = p;
	l->seq = k->seq++;
	l->missing = missing;
	l->m = *m;
	l->len = len;
	memcpy(l->text, text, len);
	l->gprev = k->gtail;
	if (k->gtail)
		k->gtail->gnext = l;
	else
		k->ghead = l;
	k->gtail = l;
	if (p->tail)
		p->tail->pnext = l;
	else
		p->head = l;
	p->tail = l;
	p->n++;
	k->lines++;
	k->held += sizeof(*l) + len;
	if (++p->count[m->fd % NFDS] > k->o.per_stream) {
		if (p->head->m.fd == m->fd) {	/* the usual case: one stream */
			struct kline *old = p->head;

			p->head = old->pnext;
			release(k, old, KEPT_OLDER);
		} else {
			trim(k, p);
		}
	}
	cap(k);
}

void keep_fork(struct keep *k, uint32_t child, uint32_t parent)
{
	struct kproc *p;

	if (!k->o.inherit || !get(k, parent, false))
		return;	/* the parent is traced: it forked */
	p = get(k, child, false);
	if (p)
		p->parent = parent;
}

/* Unlink p from the table and free it (its lines are gone or handed over). */
static void forget(struct keep *k, struct kproc *p)
{
	struct kproc **pp = slot(k, p->tgid);

	*pp = p->hnext;
	free(p);
}

/* Drop every line of p, counting them under why. */
static void drop_all(struct keep *k, struct kproc *p, enum loss_kind why)
{
	struct kline *l;

	while ((l = p->head)) {
		p->head = l->pnext;
		release(k, l, why);
	}
	p->tail = NULL;
}

/* Merge child's lines into parent's, in arrival order; then keep N per stream. */
static void hand_over(struct keep *k, struct kproc *child, struct kproc *parent)
{
	struct kline *a = parent->head, *b = child->head, head = { 0 }, *t = &head, *l;
	int fd;

	for (l = b; l; l = l->pnext)
		l->owner = parent;
	while (a || b) {
		if (!b || (a && a->seq < b->seq)) {
			t->pnext = a;
			a = a->pnext;
		} else {
			t->pnext = b;
			b = b->pnext;
		}
		t = t->pnext;
	}
	t->pnext = NULL;
	parent->head = head.pnext;
	parent->tail = t == &head ? NULL : t;
	parent->n += child->n;
	for (fd = 0; fd < NFDS; fd++)
		parent->count[fd] += child->count[fd];
	child->head = child->tail = NULL;
	child->n = 0;
	memset(child->count, 0, sizeof(child->count));
	trim(k, parent);
}

/* The header above a process's lines (text only): "PID 4242 (sh) exited with status 2; ..." */
static void header(struct keep *k, const struct kproc *p, const char comm[BWM_COMM_LEN],
		   const char *how)
{
	char name[BWM_COMM_LEN], line[160];
	size_t i;

	for (i = 0; i < BWM_COMM_LEN - 1 && comm[i]; i++)
		name[i] = comm[i] < ' ' || comm[i] == 0x7f ? '?' : comm[i];
	name[i] = '\0';
	snprintf(line, sizeof(line), "PID %u (%s) %s; its last %u line%s:\n", p->tgid, name, how,
		 p->n, p->n == 1 ? "" : "s");
	ob_puts(&k->emit->sink->ob, line);
}

/* Print p's lines in order (they are printed, not kept: freed without a count). */
static void show(struct keep *k, struct kproc *p)
{
	struct kline *l;

	while ((l = p->head)) {
		emit_line(k->emit, &l->m, l->text, l->len, l->missing);
		p->head = l->pnext;
		release(k, l, LOSS_KINDS);
	}
	p->tail = NULL;
}

bool keep_exit(struct keep *k, const struct bwm_event *ev, const struct line_meta *m)
{
	struct kproc *p = find(k, ev->tgid), *parent;
	bool known = ev->flags & BWM_F_STATUS, json = k->emit->cfg->json, printed = false;
	char how[64];

	if (known && ev->total == 0) {
		if (!p)
			return false;
		parent = k->o.inherit && p->parent ? find(k, p->parent) : NULL;
		if (parent && p->n)
			hand_over(k, p, parent);
		else
			drop_all(k, p, KEPT_SUCCEEDED);
		forget(k, p);
		return false;
	}
	ledger_add(k->ledger, KEPT_FAILED, 1);
	if (!p)
		return false;
	if (p->n) {
		if (!json) {
			format_status(how, sizeof(how), ev->total, known);
			header(k, p, ev->comm, how);
		}
		show(k, p);
		if (json) {
			emit_lifecycle(k->emit, ev, m);
			printed = true;
		}
	}
	forget(k, p);
	return printed;
}

void keep_finish(struct keep *k)
{
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		struct kproc *p;

		while ((p = k->table[i])) {
			if (p->n && k->o.show_running) {
				struct proc_stat st;

				/* Lines carry no comm without -C or --json: it is alive, ask. */
				if (!p->comm[0] && proc_read_stat(p->tgid, &st) == 0)
					memcpy(p->comm, st.comm, sizeof(p->comm));
				if (!k->emit->cfg->json)
					header(k, p, p->comm, "still running");
				show(k, p);
			} else {
				drop_all(k, p, KEPT_RUNNING);
			}
			forget(k, p);
		}
	}
}

size_t keep_lines(const struct keep *k)
{
	return k->lines;
}

size_t keep_held(const struct keep *k)
{
	return k->held;
}

void keep_free(struct keep *k)
{
	struct kline *l, *next;
	size_t i;

	if (!k)
		return;
	for (l = k->ghead; l; l = next) {
		next = l->gnext;
		free(l);
	}
	for (i = 0; i < BUCKETS; i++) {
		struct kproc *p, *pn;

		for (p = k->table[i]; p; p = pn) {
			pn = p->hnext;
			free(p);
		}
	}
	free(k);
}
