/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_TARGET_KINDS_H
#define BWM_TARGET_KINDS_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "procs.h"

/*
 * The kinds of target, one file each, behind target.h: what target.c calls,
 * and the pieces the unit tests check (tests/unit/test_target.c). None of
 * them touches a BPF map.
 */
struct target;

/* target_pids.c: every --pid live and traceable; 0, or 1 with a message. */
int target_resolve_pids(struct target *t, const struct config *cfg, char *err, size_t errlen);

/*
 * Refuse what /proc says (rc: proc_read_stat()'s, st) cannot or must not be
 * traced: gone, a zombie, a kernel thread with -K (without -K one is taken,
 * with a note on stderr). 0 or -1 with a message.
 */
int target_check_stat(const struct config *cfg, pid_t pid, int rc, const struct proc_stat *st,
		      char *err, size_t errlen);

/* target_cgroup.c: --cgroup or --unit to a cgroup v2 directory; 0, or 1 with a message. */
int target_resolve_cgroup(struct target *t, const struct config *cfg, char *err, size_t errlen);

/*
 * --unit NAME: the one directory NAME or NAME.service below root (a cgroup2
 * mount), into out. 0, or -1 with a message (none, several, a path given).
 */
int target_find_unit(const char *root, const char *name, char *out, size_t outlen, char *err,
		     size_t errlen);

/* Depth of dir below the root of its file system: 0 for the root, -1 if it is not there. */
int target_cgroup_level(const char *dir);

/* Is the cgroup's directory gone (or another in its place)? Looked at every 0.2 s. */
bool target_cgroup_gone(struct target *t, uint64_t now);

/* target_command.c: find the command, start it held; 0, or 1 or 127 with a message. */
int target_start_command(struct target *t, const struct config *cfg, char *err, size_t errlen);

/* CMD as a shell would find it (a path if it has a '/', else the first match in PATH): 0 or -1. */
int target_find_command(const char *cmd, char *out, size_t size);

/* --user: a name or number from the password database; 0 or -1. */
int target_find_user(const char *user, struct passwd *pw, char *buf, size_t size);

/* Kill a command never released; close its pipes. */
void target_command_free(struct target *t);

#endif /* BWM_TARGET_KINDS_H */
