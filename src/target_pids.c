// SPDX-License-Identifier: GPL-2.0
/*
 * target_pids.c - --pid A,B,...: live processes, checked through pidfds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../probes/event.h"
#include "procs.h"
#include "target.h"
#include "target_kinds.h"

/*
 * A pidfd for pid's thread group, opened before anything is read from /proc
 * so that the checks and the tracing are about one process, never a recycled
 * PID. A thread is no group leader: the pidfd is its group's. -1 with errno
 * (ESRCH: no such process; ENOSYS: no pidfd_open(), the checks go on without).
 */
static int open_pidfd(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);
	pid_t tgid;

	if (fd >= 0 || errno != EINVAL)
		return fd;
	tgid = proc_tgid(pid);
	if (tgid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return syscall(SYS_pidfd_open, tgid, 0);
}

/* Is the process of pidfd still there (a zombie is, and is refused apart)? */
static bool pidfd_alive(int pidfd)
{
	return pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

int target_check_stat(const struct config *cfg, pid_t pid, int rc, const struct proc_stat *st,
		      char *err, size_t errlen)
{
	if (rc == -ENOENT || rc == -ESRCH) {
		snprintf(err, errlen, "no such process: %d (is it still running? find it with "
			 "pgrep)", (int)pid);
		return -1;
	}
	if (rc) {
		snprintf(err, errlen, "cannot read /proc/%d/stat: %s", (int)pid, strerror(-rc));
		return -1;
	}
	if (st->state == 'Z' || st->state == 'X') {
		snprintf(err, errlen, "process %d is a zombie: it has exited and will write "
			 "nothing more", (int)pid);
		return -1;
	}
	if (st->flags & PROC_PF_KTHREAD) {
		if (cfg->exclude_kernel) {
			snprintf(err, errlen, "PID %d is a kernel thread, which --exclude-kernel "
				 "excludes: nothing is left to trace (drop -K)", (int)pid);
			return -1;
		}
		if (!cfg->quiet)
			fprintf(stderr, "%s: PID %d is a kernel thread: kernel threads make no "
				"system calls, so they write nothing to capture\n", BWM_NAME,
				(int)pid);
	}
	return 0;
}

/*
 * One --pid: a live process that is not this tool; its thread-group id in
 * *tgid and its pidfd in *pidfd (-1 without pidfd_open()). The pidfd is
 * opened first, /proc is read next, and the pidfd must still refer to a
 * live process after: a PID recycled in between is never traced.
 */
static int check_pid(const struct config *cfg, pid_t pid, pid_t *tgid, int *pidfd, char *err,
		     size_t errlen)
{
	struct proc_stat st = { 0 };
	int fd = open_pidfd(pid), rc;

	rc = fd < 0 && errno == ESRCH ? -ESRCH : proc_read_stat(pid, &st);
	if (target_check_stat(cfg, pid, rc, &st, err, errlen))
		goto err;
	*tgid = proc_tgid(pid);
	if (*tgid <= 0)
		*tgid = pid;
	/* Checked through /proc after the pidfd was opened: the same process if it lives. */
	if (!pidfd_alive(fd) || (fd >= 0 && proc_tgid(*tgid) != *tgid)) {
		target_check_stat(cfg, pid, -ESRCH, &st, err, errlen);
		goto err;
	}
	if (*tgid == getpid()) {
		snprintf(err, errlen, "refusing to trace bpf_write_monitor itself: pick another PID");
		goto err;
	}
	if (*tgid != pid && !cfg->quiet)
		fprintf(stderr, "%s: %d is a thread of process %d: tracing the process\n",
			BWM_NAME, (int)pid, (int)*tgid);
	*pidfd = fd;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

int target_resolve_pids(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	unsigned i;
	size_t j;
	pid_t tgid;
	int pidfd;

	for (i = 0; i < cfg->npids; i++) {
		if (check_pid(cfg, cfg->pids[i], &tgid, &pidfd, err, errlen))
			return 1;
		for (j = 0; j < t->n && t->tgids[j] != tgid; j++)
			;
		if (j < t->n) {
			if (pidfd >= 0)
				close(pidfd);	/* two threads of one process: once */
			continue;
		}
		t->pidfds[t->n] = pidfd;
		t->tgids[t->n++] = tgid;
	}
	return 0;
}
