// SPDX-License-Identifier: GPL-2.0
/*
 * target_cgroup.c - --cgroup PATH and --unit NAME: a cgroup v2 directory.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../probes/event.h"
#include "procs.h"
#include "readscan.h"
#include "target.h"
#include "target_kinds.h"

#define CGROUP2_MAGIC		0x63677270	/* CGROUP2_SUPER_MAGIC */
#define CGROUP_CHECK_NS		200000000ull	/* how often a cgroup's removal is looked for */

/* The cgroup2 mount: /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid). */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sf;
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_MAGIC)
			return roots[i];
	return NULL;
}

static const char *unit_name;
static char unit_found[2][PATH_MAX];
static int unit_matches;

static int unit_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t n = strlen(unit_name);

	(void)st;
	if (type != FTW_D || ftw->level == 0)
		return 0;
	if (strcmp(base, unit_name) &&
	    (strncmp(base, unit_name, n) || strcmp(base + n, ".service")))
		return 0;
	if (unit_matches < 2)
		snprintf(unit_found[unit_matches], PATH_MAX, "%s", path);
	unit_matches++;
	return 0;
}

int target_find_unit(const char *root, const char *name, char *out, size_t outlen, char *err,
		     size_t errlen)
{
	if (strchr(name, '/')) {
		snprintf(err, errlen, "--unit takes a unit name, not a path: %s (use --cgroup "
			 "PATH for a path)", name);
		return -1;
	}
	unit_name = name;
	unit_matches = 0;
	nftw(root, unit_visit, 32, FTW_PHYS | FTW_MOUNT);
	if (unit_matches == 0) {
		snprintf(err, errlen, "no unit %s: no cgroup %s or %s.service under %s (is it "
			 "running? systemctl status %s)", name, name, name, root, name);
		return -1;
	}
	if (unit_matches > 1) {
		snprintf(err, errlen, "%d cgroups match unit %s, e.g. %s and %s: give one with "
			 "--cgroup PATH", unit_matches, name, unit_found[0], unit_found[1]);
		return -1;
	}
	snprintf(out, outlen, "%s", unit_found[0]);
	return 0;
}

/* --unit NAME: the one directory NAME or NAME.service under the cgroup2 mount. */
static int find_unit(struct target *t, const char *name, char *err, size_t errlen)
{
	const char *root = cgroup2_root();

	if (!root) {
		snprintf(err, errlen, "no cgroup v2 hierarchy at /sys/fs/cgroup or "
			 "/sys/fs/cgroup/unified: --unit needs one");
		return -1;
	}
	return target_find_unit(root, name, t->cgroup, sizeof(t->cgroup), err, errlen);
}

int target_cgroup_level(const char *dir)
{
	char path[PATH_MAX], *slash;
	struct stat here, up;
	int level = 0;

	snprintf(path, sizeof(path), "%s", dir);
	if (stat(path, &here))
		return -1;
	while ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		if (stat(path, &up) || up.st_dev != here.st_dev)
			break;
		level++;
	}
	return level;
}

/*
 * Whoever reads the tool's output, and other runs of it, may be in the
 * cgroup: not traced (no feedback). Baked into the program: for the whole
 * run (readers_fixed() says so once the run is set up).
 */
static void exclude_readers(struct target *t)
{
	struct reader ex[MAX_READERS];
	size_t n = readscan_all(STDOUT_FILENO, getpid(), ex, MAX_READERS), i;

	for (i = 0; i < n && t->nexcluded < BWM_MAX_PIDS; i++) {
		t->excluded_why[t->nexcluded] = ex[i];
		t->excluded[t->nexcluded++] = ex[i].pid;
	}
}

int target_resolve_cgroup(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct statfs sf;
	struct stat st;

	if (cfg->unit && find_unit(t, cfg->unit, err, errlen))
		return 1;
	if (cfg->cgroup)
		snprintf(t->cgroup, sizeof(t->cgroup), "%s", cfg->cgroup);
	if (!realpath(t->cgroup, real) || stat(real, &st)) {
		snprintf(err, errlen, "cannot use cgroup %s: %s (give a directory under the "
			 "cgroup2 mount)", t->cgroup, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory: --cgroup takes a cgroup's directory, "
			 "e.g. /sys/fs/cgroup/system.slice/cron.service", t->cgroup);
		return 1;
	}
	if (statfs(real, &sf) || sf.f_type != CGROUP2_MAGIC) {
		snprintf(err, errlen, "%s is not in a cgroup v2 hierarchy (cgroup v1 is not "
			 "supported: use the cgroup2 mount, /sys/fs/cgroup or "
			 "/sys/fs/cgroup/unified)", t->cgroup);
		return 1;
	}
	snprintf(t->cgroup, sizeof(t->cgroup), "%s", real);
	exclude_readers(t);
	t->cgroup_id = st.st_ino;
	t->cgroup_level = target_cgroup_level(real);
	return 0;
}

bool target_cgroup_gone(struct target *t, uint64_t now)
{
	struct stat st;

	if (now < t->next_check)
		return false;
	t->next_check = now + CGROUP_CHECK_NS;
	return stat(t->cgroup, &st) != 0 || st.st_ino != t->cgroup_id;
}
