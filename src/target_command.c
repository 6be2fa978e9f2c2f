// SPDX-License-Identifier: GPL-2.0
/*
 * target_command.c - -- CMD [ARGS...]: a child started held, released once
 * everything is attached; its exit status becomes the tool's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../probes/event.h"
#include "procs.h"
#include "target.h"
#include "target_kinds.h"

int target_find_command(const char *cmd, char *out, size_t size)
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

int target_find_user(const char *user, struct passwd *pw, char *buf, size_t size)
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

int target_start_command(struct target *t, const struct config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX], pwbuf[4096];
	struct passwd pw;
	int go[2], rep[2];

	t->command = cfg->command[0];
	if (target_find_command(t->command, path, sizeof(path))) {
		snprintf(err, errlen, "%s: command not found", t->command);
		return 127;
	}
	if (cfg->user && target_find_user(cfg->user, &pw, pwbuf, sizeof(pwbuf))) {
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

void target_command_free(struct target *t)
{
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
}
