// SPDX-License-Identifier: GPL-2.0
/*
 * target.c - what is traced (PIDs, a cgroup, a command) and when it is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../probes/event.h"
#include "procs.h"
#include "target.h"

#define CGROUP2_MAGIC		0x63677270	/* CGROUP2_SUPER_MAGIC */
#define INIT_PIDNS_INO		0xEFFFFFFCu	/* PROC_PID_INIT_INO */
#define CGROUP_CHECK_NS		200000000ull	/* how often a cgroup's removal is looked for */

/* Is the running kernel at least major.minor? */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return true;	/* unknown: let the verifier decide */
	return ma > major || (ma == major && mi >= minor);
}

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

/* Refuse what /proc (rc, st) says cannot or must not be traced; 0 or -1 with a message. */
static int check_stat(const struct config *cfg, pid_t pid, int rc, const struct proc_stat *st,
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
	if (check_stat(cfg, pid, rc, &st, err, errlen))
		goto err;
	*tgid = proc_tgid(pid);
	if (*tgid <= 0)
		*tgid = pid;
	/* Checked through /proc after the pidfd was opened: the same process if it lives. */
	if (!pidfd_alive(fd) || (fd >= 0 && proc_tgid(*tgid) != *tgid)) {
		check_stat(cfg, pid, -ESRCH, &st, err, errlen);
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

static int resolve_pids(struct target *t, const struct config *cfg, char *err, size_t errlen)
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

/* --unit NAME: the one directory NAME or NAME.service under the cgroup2 mount. */
static int find_unit(struct target *t, const char *name, char *err, size_t errlen)
{
	const char *root = cgroup2_root();

	if (!root) {
		snprintf(err, errlen, "no cgroup v2 hierarchy at /sys/fs/cgroup or "
			 "/sys/fs/cgroup/unified: --unit needs one");
		return -1;
	}
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
	snprintf(t->cgroup, sizeof(t->cgroup), "%s", unit_found[0]);
	return 0;
}

/* Depth of dir below the root of its (cgroup2) file system: 0 for the root. */
static int cgroup_level(const char *dir)
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

static int resolve_cgroup(struct target *t, const struct config *cfg, char *err, size_t errlen)
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
	/* Whoever reads the tool's output may be in the cgroup: never traced (no feedback). */
	t->nexcluded = proc_output_readers(STDOUT_FILENO, getpid(), t->excluded, BWM_MAX_PIDS);
	t->nexcluded += proc_output_readers(STDERR_FILENO, getpid(), t->excluded + t->nexcluded,
					    BWM_MAX_PIDS - t->nexcluded);
	t->cgroup_id = st.st_ino;
	t->cgroup_level = cgroup_level(real);
	return 0;
}

/* CMD as a shell would find it: a path if it has a '/', else the first match in PATH. */
static int find_command(const char *cmd, char *out, size_t size)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(cmd, '/')) {
		snprintf(out, size, "%s", cmd);
		return access(out, F_OK);
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; ; p += strcspn(p, ":") + 1) {
		int n = (int)strcspn(p, ":");
		struct stat st;

		snprintf(out, size, "%.*s%s%s", n, n ? p : ".", "/", cmd);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		if (!p[n])
			break;
	}
	return -1;
}

/* --user: name or number, to uid, gid and (for initgroups) the name. */
static int find_user(const char *user, struct passwd *pw, char *buf, size_t size)
{
	struct passwd *res = NULL;
	char *end;
	unsigned long id = strtoul(user, &end, 10);

	if (*user && !*end)
		getpwuid_r(id, pw, buf, size, &res);
	else
		getpwnam_r(user, pw, buf, size, &res);
	return res ? 0 : -1;
}

/* In the child: wait for the go, become the user, restore signals, exec. Never returns. */
static void run_held(int release, int report, const char *path, char **argv,
		     const struct passwd *pw)
{
	char go;
	int e;

	if (read(release, &go, 1) != 1)
		_exit(127);	/* the tool ended before releasing it: run nothing */
	close(release);
	signal(SIGPIPE, SIG_DFL);
	if (pw && (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) ||
		   setuid(pw->pw_uid))) {
		e = errno;
		e = e ? -e : -EPERM;	/* negative: could not switch user */
		if (write(report, &e, sizeof(e)) < 0)
			_exit(126);
		_exit(126);
	}
	execv(path, argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(e == ENOENT ? 127 : 126);
}

static int start_command(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX], pwbuf[4096];
	struct passwd pw;
	int go[2], rep[2];

	t->command = cfg->command[0];
	if (find_command(t->command, path, sizeof(path))) {
		snprintf(err, errlen, "%s: command not found", t->command);
		return 127;
	}
	if (cfg->user && find_user(cfg->user, &pw, pwbuf, sizeof(pwbuf))) {
		snprintf(err, errlen, "no such user: %s (give a name or number from "
			 "/etc/passwd)", cfg->user);
		return 1;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return 1;
	}
	fflush(NULL);
	t->child = fork();
	if (t->child < 0) {
		snprintf(err, errlen, "cannot start %s: %s", t->command, strerror(errno));
		t->child = 0;
		return 1;
	}
	if (t->child == 0) {
		close(go[1]);
		close(rep[0]);
		run_held(go[0], rep[1], path, cfg->command, cfg->user ? &pw : NULL);
	}
	close(go[0]);
	close(rep[1]);
	t->release_fd = go[1];
	t->exec_fd = rep[0];
	t->tgids[t->n++] = t->child;
	return 0;
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
		return resolve_pids(t, cfg, err, errlen);
	case TARGET_CGROUP:
		return resolve_cgroup(t, cfg, err, errlen);
	case TARGET_COMMAND:
		return start_command(t, cfg, err, errlen);
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
		return resolve_cgroup(t, cfg, err, errlen);
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
		     long pid_max, char *err, size_t errlen)
{
	size_t i;

	/* The watch takes the pidfds the checks opened (the command's it opens itself). */
	tree_watch_init(&t->watch, t->tgids, t->pidfds, t->n);
	for (i = 0; i < t->n; i++)
		t->pidfds[i] = -1;
	if (t->kind == TARGET_CGROUP)
		return 0;
	return tree_register(tr, cfg, t->tgids, t->n, pid_max, err, errlen);
}

int target_start(struct target *t, char *err, size_t errlen)
{
	ssize_t n;
	int e = 0;

	if (!t->child)
		return 0;
	if (write(t->release_fd, "g", 1) != 1) {
		snprintf(err, errlen, "cannot start %s: %s", t->command, strerror(errno));
		return 1;
	}
	close(t->release_fd);
	t->release_fd = -1;
	do
		n = read(t->exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(t->exec_fd);
	t->exec_fd = -1;
	if (n != sizeof(e))
		return 0;	/* EOF: exec succeeded */
	if (e < 0)
		snprintf(err, errlen, "cannot run %s as the given user: %s", t->command,
			 strerror(-e));
	else
		snprintf(err, errlen, "cannot run %s: %s", t->command, strerror(e));
	return e == ENOENT ? 127 : 126;
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

/* Is the cgroup's directory gone (or another directory in its place)? */
static bool cgroup_gone(struct target *t, uint64_t now)
{
	struct stat st;

	if (now < t->next_check)
		return false;
	t->next_check = now + CGROUP_CHECK_NS;
	return stat(t->cgroup, &st) != 0 || st.st_ino != t->cgroup_id;
}

bool target_done(struct target *t, struct tracer *tr, const struct config *cfg, uint64_t now)
{
	if (t->kind == TARGET_CGROUP)
		return cgroup_gone(t, now);
	return tree_done(&t->watch, tr, cfg, now);
}

/* Reap the command if it has exited (or wait for it). */
static void reap(struct target *t, bool wait)
{
	if (!t->child || t->reaped)
		return;
	if (waitpid(t->child, &t->status, wait ? 0 : WNOHANG) == t->child)
		t->reaped = true;
}

bool target_forward(struct target *t, int sig, bool pass_on)
{
	if (!t->child)
		return false;
	reap(t, false);
	if (t->reaped)
		return false;	/* the command is over: a signal ends the tool */
	if (pass_on)
		kill(t->child, sig);
	return true;
}

int target_exit_status(struct target *t)
{
	if (!t->child || t->release_fd >= 0)
		return -1;
	reap(t, false);
	if (!t->reaped)
		return -1;	/* still running (-d, or the output's reader went away) */
	if (WIFSIGNALED(t->status))
		return 128 + WTERMSIG(t->status);
	return WEXITSTATUS(t->status);
}

void target_free(struct target *t)
{
	size_t i;

	if (t->child && t->release_fd >= 0) {
		kill(t->child, SIGKILL);	/* never released: CMD never ran */
		reap(t, true);
	}
	if (t->release_fd >= 0)
		close(t->release_fd);
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	t->release_fd = -1;
	t->exec_fd = -1;
	for (i = 0; i < t->n; i++) {
		if (t->pidfds[i] >= 0)
			close(t->pidfds[i]);	/* checked, never registered */
		t->pidfds[i] = -1;
	}
	tree_watch_free(&t->watch);
}
