/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_TARGET_H
#define BWM_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "program.h"
#include "load.h"
#include "readscan.h"
#include "tree.h"

/*
 * What is traced and when it is over: one kind per run (cfg->kind).
 *
 *   PIDs     --pid A,B,...: live processes (a thread's PID stands for its
 *            process); over when all of them (and, with -f, their
 *            descendants) have exited.
 *   cgroup   --cgroup PATH or --unit NAME: a cgroup v2 directory; every
 *            process in it or below it, whenever it got there; over when
 *            the directory is removed (or at Ctrl-C, -d).
 *   command  -- CMD [ARGS...]: a child started held (blocked before exec, so
 *            CMD runs nothing before the probes are attached), released by
 *            target_start(); traced with its descendants; over when they
 *            have all exited; the tool exits with its status.
 *
 * When the tool runs in a PID namespace other than the initial one, every
 * PID (--pid, the records, the output) is that namespace's.
 */
struct target {
	enum target_kind kind;
	pid_t tgids[BWM_MAX_PIDS];	/* the processes traced (PIDs, command) */
	int pidfds[BWM_MAX_PIDS];	/* their pidfds, opened before the checks, until the
					 * watch takes them; -1: none (yet) */
	size_t n;
	char cgroup[PATH_MAX];	/* the cgroup's directory */
	uint64_t cgroup_id;	/* its inode number: the kernel's cgroup id */
	int cgroup_level;	/* its depth below the cgroup2 mount */
	pid_t excluded[BWM_MAX_PIDS];	/* cgroup: the readers of the tool's output */
	struct reader excluded_why[BWM_MAX_PIDS];	/* the same, with why (readers.c says it) */
	size_t nexcluded;
	uint64_t pidns_dev;	/* the tool's PID namespace if not the initial one, else 0 */
	uint64_t pidns_ino;
	const char *command;	/* the command's name, as given */
	pid_t child;		/* the command, 0 when none */
	int release_fd;		/* a byte written here lets the child exec */
	int exec_fd;		/* CLOEXEC: the child's errno if exec fails, EOF if not */
	bool reaped;
	int status;		/* the child's wait status, once reaped */
	struct tree_watch watch;
	uint64_t next_check;	/* CLOCK_MONOTONIC ns: when to look at the cgroup again */
};

/*
 * Find what cfg names and check it: the PIDs live, the cgroup a cgroup v2
 * directory, the command found in PATH (then started, held). Returns 0, or
 * the exit status to end with (1; 127 when the command is not found) with a
 * one-line message in err.
 */
int target_resolve(struct target *t, const struct config *cfg, char *err, size_t errlen);

/*
 * For --ebpf: the same without checking the PIDs or starting the command
 * (whose PID shows as 0). 0, or 1 with a message in err.
 */
int target_preview(struct target *t, const struct config *cfg, char *err, size_t errlen);

/* Put what the probes need (PIDs, cgroup, namespace) into the program's constants. */
void target_params(const struct target *t, struct program_params *p);

/*
 * A cgroup whose probes filter with bpf_current_task_under_cgroup (the
 * program has bwm_cgroup): put the cgroup in that map, before any probe is
 * attached. 0 (also when there is nothing to do), or -1 with a message.
 */
int target_load_cgroup(const struct target *t, struct tracer *tr, char *err, size_t errlen);

/*
 * Register the traced processes in the maps (see tree_register()) after the
 * lifecycle probes are attached, ex (nex) excluded; returns how many, or -1
 * with a message.
 */
long target_register(struct target *t, struct tracer *tr, const struct config *cfg,
		     const struct reader *ex, size_t nex, long pid_max, char *err,
		     size_t errlen);

/*
 * Everything is attached: let the command exec. 0, or the exit status to end
 * with (126, 127 like a shell) and a message in err when exec failed.
 */
int target_start(struct target *t, char *err, size_t errlen);

/* "PID 12", "PIDs 12, 34", "cgroup /sys/fs/cgroup/x", "command sh (PID 12)". */
void target_describe(const struct target *t, char *buf, size_t size);

/* Fds that become readable when a traced process exits (at most max). */
int target_watch_fds(const struct target *t, int *fds, int max);

/* Is it over (see above)? now: CLOCK_MONOTONIC ns. */
bool target_done(struct target *t, struct tracer *tr, const struct config *cfg, uint64_t now);

/*
 * A signal the tool got: passed on to the command when pass_on (not when
 * the terminal sent it to the whole foreground process group, the command
 * included: Ctrl-C interrupts it once). True when the tool should keep
 * running until the command is done, false when it should end.
 */
bool target_forward(struct target *t, int sig, bool pass_on);

/*
 * The tool's exit status after a command: its exit status, or 128+N when
 * signal N ended it; -1 for the other kinds, and while the command still
 * runs (the tool ended first: -d, or the reader of its output went away;
 * the command is left running).
 */
int target_exit_status(struct target *t);

/* Close what is open; a command never released is killed. */
void target_free(struct target *t);

#endif /* BWM_TARGET_H */
