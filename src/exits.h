/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_EXITS_H
#define BWM_EXITS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "procs.h"

/*
 * exits - which exit records mean that a traced process has exited.
 *
 * The exit probe sends EXIT for a process's last thread and TASK_EXIT for a
 * thread whose process lives on, when the kernel can tell (group_dead, or
 * signal->live with BTF). Without either (KFEAT_EXIT_PROC) it sends
 * TASK_EXIT for every traced thread, and the process has exited when none of
 * its threads is left that has not begun to exit: /proc says (a thread that
 * has not is still to send its own TASK_EXIT). Two threads can both see a
 * dead group: the process is reported once.
 */
#define EXITS_RECENT	64

struct exits {
	int method;			/* enum kfeat_exit */
	pid_t recent[EXITS_RECENT];	/* processes reported exited lately */
	unsigned next;
};

void exits_init(struct exits *x, int method);

/*
 * What an EXIT or TASK_EXIT record of tgid means: BWM_EV_EXIT (the process
 * has exited: report it), BWM_EV_TASK_EXIT (a thread exited, the process
 * lives on), or 0 (its exit is reported already: drop it).
 */
int exits_classify(struct exits *x, int type, pid_t tgid);

/* A process was created (FORK): a reused pid is not an exited process. */
void exits_forget(struct exits *x, pid_t tgid);

/*
 * Are all these threads of a process gone or exiting (state Z or X, or
 * PF_EXITING)? Pure; n == 0 is true.
 */
bool exits_all_exiting(const struct proc_stat *threads, size_t n);

/* Has every thread of tgid exited or begun to, as /proc/TGID/task shows? */
bool exits_group_gone(pid_t tgid);

#endif /* BWM_EXITS_H */
