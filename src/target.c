// SPDX-License-Identifier: GPL-2.0
/*
 * target.c - what is traced and when it is over: the parts common to every
 * kind (target_pids.c, target_cgroup.c, target_command.c have the rest).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../probes/event.h"
#include "procs.h"
#include "target.h"
#include "target_kinds.h"

#define INIT_PIDNS_INO		0xEFFFFFFCu	/* PROC_PID_INIT_INO */

/* Is the running kernel at least major.minor? */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return true;	/* unknown: let the verifier decide */
	return ma > major || (ma == major && mi >= minor);
}

/* The tool's PID namespace, when it is not the initial one. */
static int find_pidns(struct target *t, char *err, size_t errlen)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) || st.st_ino == INIT_PIDNS_INO)
		return 0;
	if (!kernel_at_least(5, 7)) {
		snprintf(err, errlen, "this tool runs in a PID namespace, which needs kernel 5.7 "
			 "or later (bpf_get_ns_current_pid_tgid): run it in the host's PID "
			 "namespace");
		return -1;
	}
	t->pidns_dev = st.st_dev;
	t->pidns_ino = st.st_ino;
	return 0;
}

/* Nothing resolved yet, nothing open. */
static void target_clear(struct target *t, const struct config *cfg)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->kind = cfg->kind;
	t->release_fd = -1;
	t->exec_fd = -1;
	for (i = 0; i < BWM_MAX_PIDS; i++)
		t->pidfds[i] = -1;
}

int target_resolve(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	target_clear(t, cfg);
	if (find_pidns(t, err, errlen))
		return 1;
	switch (t->kind) {
	case TARGET_PIDS:
		return target_resolve_pids(t, cfg, err, errlen);
	case TARGET_CGROUP:
		return target_resolve_cgroup(t, cfg, err, errlen);
	case TARGET_COMMAND:
		return target_start_command(t, cfg, err, errlen);
	}
	return 1;
}

int target_preview(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	unsigned i;

	target_clear(t, cfg);
	if (find_pidns(t, err, errlen))
		return 1;
	for (i = 0; i < cfg->npids; i++)
		t->tgids[t->n++] = cfg->pids[i];
	if (t->kind == TARGET_CGROUP)
		return target_resolve_cgroup(t, cfg, err, errlen);
	return 0;
}

void target_params(const struct target *t, struct program_params *p)
{
	p->target = t->n ? t->tgids[0] : 0;
	p->targets = t->n ? t->tgids : NULL;
	p->ntargets = t->n;
	p->excluded = t->excluded;
	p->nexcluded = t->nexcluded;
	p->cgroup_id = t->cgroup_id;
	p->cgroup_level = t->cgroup_level;
	p->pidns_dev = t->pidns_dev;
	p->pidns_ino = t->pidns_ino;
}

int target_load_cgroup(const struct target *t, struct tracer *tr, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (t->kind != TARGET_CGROUP || tracer_map_fd(tr, BWM_MAP_NAME(BWM_MAP_CGROUP)) < 0)
		return 0;
	fd = open(t->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_ino != t->cgroup_id) {
		snprintf(err, errlen, "cannot open cgroup %s: %s", t->cgroup,
			 fd < 0 ? strerror(errno) : "it was replaced");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = tracer_set_cgroup(tr, fd);
	close(fd);	/* the map holds the cgroup itself */
	if (rc) {
		snprintf(err, errlen, "cannot put cgroup %s in the bwm_cgroup map: %s", t->cgroup,
			 strerror(-rc));
		return -1;
	}
	return 0;
}

long target_register(struct target *t, struct tracer *tr, const struct config *cfg,
		     const struct reader *ex, size_t nex, long pid_max, char *err,
		     size_t errlen)
{
	size_t i;

	/* The watch takes the pidfds the checks opened (the command's it opens itself). */
	tree_watch_init(&t->watch, t->tgids, t->pidfds, t->n);
	for (i = 0; i < t->n; i++)
		t->pidfds[i] = -1;
	if (t->kind == TARGET_CGROUP)
		return 0;
	return tree_register(tr, cfg, t->tgids, t->n, ex, nex, pid_max, err, errlen);
}

void target_describe(const struct target *t, char *buf, size_t size)
{
	size_t i, o;

	if (t->kind == TARGET_CGROUP) {
		snprintf(buf, size, "cgroup %s", t->cgroup);
		return;
	}
	if (t->kind == TARGET_COMMAND) {
		snprintf(buf, size, "%s (PID %d)", t->command, (int)t->child);
		return;
	}
	o = snprintf(buf, size, "PID%s ", t->n > 1 ? "s" : "");
	for (i = 0; i < t->n && o < size; i++)
		o += snprintf(buf + o, size - o, "%s%d", i ? ", " : "", (int)t->tgids[i]);
}

int target_watch_fds(const struct target *t, int *fds, int max)
{
	return tree_watch_fds(&t->watch, fds, max);
}

bool target_done(struct target *t, struct tracer *tr, const struct config *cfg, uint64_t now)
{
	if (t->kind == TARGET_CGROUP)
		return target_cgroup_gone(t, now);
	return tree_done(&t->watch, tr, cfg, now);
}

void target_free(struct target *t)
{
	size_t i;

	target_command_free(t);
	for (i = 0; i < t->n; i++) {
		if (t->pidfds[i] >= 0)
			close(t->pidfds[i]);	/* checked, never registered */
		t->pidfds[i] = -1;
	}
	tree_watch_free(&t->watch);
}
