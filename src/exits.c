// SPDX-License-Identifier: GPL-2.0
/*
 * exits.c - tell when a traced process has exited (see exits.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exits.h"
#include "kfeat.h"

#define PF_EXITING	0x00000004u	/* Linux task flag: in do_exit() */

void exits_init(struct exits *x, int method)
{
	memset(x, 0, sizeof(*x));
	x->method = method;
}

static bool recent(const struct exits *x, pid_t tgid)
{
	unsigned i;

	for (i = 0; i < EXITS_RECENT; i++)
		if (x->recent[i] == tgid)
			return true;
	return false;
}

void exits_forget(struct exits *x, pid_t tgid)
{
	unsigned i;

	for (i = 0; i < EXITS_RECENT; i++)
		if (x->recent[i] == tgid)
			x->recent[i] = 0;
}

bool exits_all_exiting(const struct proc_stat *threads, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct proc_stat *t = &threads[i];

		if (t->state != 'Z' && t->state != 'X' && !(t->flags & PF_EXITING))
			return false;
	}
	return true;
}

int exits_group_state(pid_t tgid)
{
	struct dirent *d;
	char path[64];
	int state = 1;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	dir = opendir(path);
	if (!dir)
		return 1;	/* no such process any more */
	while (state >= 0 && (d = readdir(dir)) != NULL) {
		struct proc_stat st;
		pid_t tid = atoi(d->d_name);

		if (tid <= 0 || proc_read_stat(tid, &st) != 0 || st.state == 'Z' || st.state == 'X')
			continue;	/* gone meanwhile, or past its exit */
		state = exits_all_exiting(&st, 1) ? 0 : -1;
	}
	closedir(dir);
	return state;
}

static void mark_recent(struct exits *x, pid_t tgid)
{
	x->recent[x->next++ % EXITS_RECENT] = tgid;
}

static void remove_pending(struct exits *x, unsigned i)
{
	x->pending[i] = x->pending[--x->npending];
}

/* A thread of a process exited: look at its process at the next settle. */
static void add_pending(struct exits *x, const struct bwm_event *ev)
{
	unsigned i;

	for (i = 0; i < x->npending; i++)
		if (x->pending[i].ev.tgid == ev->tgid)
			break;
	if (i == EXITS_PENDING)
		i = 0;	/* full: the oldest is dropped (it would mean 256 exiting at once) */
	else if (i == x->npending)
		x->npending++;
	x->pending[i].ev = *ev;
	x->pending[i].seen_gone = 0;
}

int exits_classify(struct exits *x, const struct bwm_event *ev)
{
	if (recent(x, ev->tgid))
		return 0;
	if (ev->type == BWM_EV_TASK_EXIT) {
		if (x->method == KFEAT_EXIT_PROC)
			add_pending(x, ev);
		return BWM_EV_TASK_EXIT;
	}
	mark_recent(x, ev->tgid);
	return BWM_EV_EXIT;
}

/* Update each pending process from /proc; drop those that live on. */
static void look_at_pending(struct exits *x, uint64_t now)
{
	unsigned i = 0;

	while (i < x->npending) {
		struct exits_pending *p = &x->pending[i];
		int state = p->seen_gone ? 1 : exits_group_state(p->ev.tgid);

		if (state < 0) {	/* lives on */
			remove_pending(x, i);
			continue;
		}
		if (state == 1 && !p->seen_gone)
			p->seen_gone = now;
		i++;
	}
}

void exits_settle(struct exits *x, uint64_t now, uint64_t limit, bool final,
		  void (*emit)(void *cookie, const struct bwm_event *ev), void *cookie)
{
	look_at_pending(x, now);
	for (;;) {	/* the ready ones, oldest exit first */
		unsigned i, best = x->npending;
		struct bwm_event ev;

		for (i = 0; i < x->npending; i++) {
			const struct exits_pending *p = &x->pending[i];

			if (!final && (!p->seen_gone || p->seen_gone > limit))
				continue;
			if (best == x->npending || p->ev.ts < x->pending[best].ev.ts)
				best = i;
		}
		if (best == x->npending)
			return;
		ev = x->pending[best].ev;
		ev.type = BWM_EV_EXIT;
		remove_pending(x, best);
		emit(cookie, &ev);
	}
}
