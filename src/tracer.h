/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_TRACER_H
#define BWM_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "program.h"
#include "reader.h"

/*
 * The only code that talks to libbcc. The program is compiled and loaded in
 * a short-lived child process that dlopen()s libbcc (clang and LLVM, ~120 MB)
 * and hands the program and map fds back over a socket; the tracer itself
 * links only libbcc_bpf (attach, maps, perf buffers), so it stays small.
 */
struct tracer;

/*
 * Start the compiler child: it loads libbcc while the caller prepares the
 * program. NULL (and a message in err) on failure.
 */
struct compiler;
struct compiler *compiler_start(bool verbose, char *err, size_t errlen);

/* Stop a compiler that will not be used. */
void compiler_cancel(struct compiler *c);

/*
 * Compile and load prog in the compiler child (which then exits; c is freed).
 * Compiler errors and verifier logs go to stderr as they happen; err gets a
 * one-line summary with what to do. NULL on failure.
 */
struct tracer *tracer_load(struct compiler *c, const struct program *prog, char *err,
			   size_t errlen);

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
int tracer_forget_pid(struct tracer *t, pid_t pid);

/* Call fn for each entry of bwm_monitored until it returns non-zero; returns that. */
int tracer_each_pid(struct tracer *t, int (*fn)(pid_t pid, uint32_t mask, void *arg), void *arg);

/* Set the global capture flag. */
int tracer_set_enabled(struct tracer *t, bool on);

/*
 * Open a perf buffer of pages pages on every online CPU, each waking the
 * reader only every wakeup records, feeding records to r.
 */
int tracer_open_buffers(struct tracer *t, struct reader *r, unsigned pages, unsigned wakeup,
			char *err, size_t errlen);

/*
 * Open buffers on the CPUs that came online since; how many, or -1 with a
 * message in err. (Until then, records there are counted as dropped.)
 */
int tracer_add_cpus(struct tracer *t, bool verbose, char *err, size_t errlen);

/* The buffers' fds, to poll; returns how many (at most max). */
int tracer_buffer_fds(const struct tracer *t, int *fds, int max);

/* Move everything the kernel has written to the buffers into the reader. */
void tracer_drain(struct tracer *t);

/*
 * Records the probes could not queue (bwm_dropped): those a full buffer
 * refused go to full[cpu] (ncpu entries; the buffer reports them as lost only
 * with its next record on that CPU); returns how many were refused for any
 * other reason. Leaves full alone and returns 0 when the map cannot be read.
 */
uint64_t tracer_dropped(const struct tracer *t, uint64_t *full, int ncpu);

/* How many probes are attached. */
int tracer_attached(const struct tracer *t);

/* Fd of a map by name, -1 if the program has none. */
int tracer_map_fd(const struct tracer *t, const char *name);

/* Detach everything, free the buffers, close programs and maps. */
void tracer_close(struct tracer *t);

#endif /* BWM_TRACER_H */
