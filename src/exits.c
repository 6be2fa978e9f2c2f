// SPDX-License-Identifier: GPL-2.0
/*
 * exits.c - tell when a traced process has exited (see exits.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/event.h"
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

bool exits_group_gone(pid_t tgid)
{
	struct dirent *d;
	char path[64];
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	dir = opendir(path);
	if (!dir)
		return true;	/* no such process any more */
	while ((d = readdir(dir)) != NULL) {
		struct proc_stat st;
		pid_t tid = atoi(d->d_name);

		/* One thread that has not begun to exit is enough to know. */
		if (tid > 0 && proc_read_stat(tid, &st) == 0 && !exits_all_exiting(&st, 1))
			break;
	}
	closedir(dir);
	return d == NULL;
}

int exits_classify(struct exits *x, int type, pid_t tgid)
{
	if (recent(x, tgid))
		return 0;
	if (type == BWM_EV_TASK_EXIT &&
	    (x->method != KFEAT_EXIT_PROC || !exits_group_gone(tgid)))
		return BWM_EV_TASK_EXIT;
	x->recent[x->next++ % EXITS_RECENT] = tgid;
	return BWM_EV_EXIT;
}
