/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_LOAD_H
#define BWM_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compile.h"
#include "program.h"

/*
 * The loaded programs and maps (load.c, libbcc_bpf): attaching them to their
 * tracepoints in the seed's stages, detaching, and the maps the frontend
 * reads or writes (capture flag, monitored processes, drop counters).
 */
struct tracer;

/* Take over what the compiler handed back (the fds are the tracer's now). */
struct tracer *tracer_new(const struct compiled *c, char *err, size_t errlen);

/*
 * Attach the probes of a stage (1: lifecycle, 2: write) to their tracepoints,
 * as the program's references say (BWM_ALSO attaches one probe to several).
 */
int tracer_attach(struct tracer *t, const struct program *prog, int stage, bool verbose,
		  char *err, size_t errlen);

/* Detach the probes of a stage (closing their perf event fds). */
void tracer_detach(struct tracer *t, int stage);

/*
 * bwm_monitored (with descendants): trace pid with mask (0 excludes it and,
 * through fork, its children); only_new: leave an existing entry alone.
 * 0, -EEXIST, or -errno.
 */
int tracer_set_pid(struct tracer *t, pid_t pid, uint32_t mask, bool only_new);
/* pid's fd mask in bwm_monitored: 0, or -ENOENT when it has no entry (not in the tree). */
int tracer_get_pid(struct tracer *t, pid_t pid, uint32_t *mask);
int tracer_forget_pid(struct tracer *t, pid_t pid);

/* Call fn for each entry of bwm_monitored until it returns non-zero; returns that. */
int tracer_each_pid(struct tracer *t, int (*fn)(pid_t pid, uint32_t mask, void *arg), void *arg);

/* Are children forked in a PID namespace waiting in bwm_pending (see common.bpf.h)? */
bool tracer_has_pending(struct tracer *t);

/* bwm_cgroup ("under" cgroup filter): the cgroup of directory fd dirfd. 0, or -errno. */
int tracer_set_cgroup(struct tracer *t, int dirfd);

/* Set the global capture flag. */
int tracer_set_enabled(struct tracer *t, bool on);

/*
 * Records the probes could not queue (bwm_dropped): those a full buffer
 * refused go to full[cpu] (ncpu entries; the buffer reports them as lost only
 * with its next record on that CPU); returns how many were refused for any
 * other reason. Leaves full alone and returns 0 when the map cannot be read.
 */
uint64_t tracer_dropped(const struct tracer *t, uint64_t *full, int ncpu);

/* Slot BWM_DROP_* of bwm_dropped summed over CPUs (0 when the map cannot be read). */
uint64_t tracer_dropped_slot(const struct tracer *t, int slot);

/* Fd of a map by name (BWM_MAP_NAME(BWM_MAP_...)), -1 if the program has none. */
int tracer_map_fd(const struct tracer *t, const char *name);

/* Clear the flag, detach everything, close programs and maps. */
void tracer_close(struct tracer *t);

#endif /* BWM_LOAD_H */
