/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_HOST_H
#define BWM_HOST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * What the host must provide before anything is compiled or loaded. Each
 * check returns 0, or -1 with a one-line message (with the fix) in err.
 */

/* Root, or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set. */
int host_check_privileges(char *err, size_t errlen);

/* tracefs where libbcc will look for it, with syscall tracepoints. */
int host_check_tracefs(char *err, size_t errlen);

/* Kernel headers where libbcc will look for them. */
int host_check_headers(char *err, size_t errlen);

/* The tracefs directory libbcc uses, or NULL if none is mounted. */
const char *host_tracefs(void);

/* Does the running kernel have tracepoint cat:ev? (true when tracefs is unreadable) */
bool host_has_tracepoint(const char *cat, const char *ev);

/* Does tracepoint cat:ev have the field? (false when tracefs is unreadable) */
bool host_tracepoint_has_field(const char *cat, const char *ev, const char *field);

#endif /* BWM_HOST_H */
