/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_OPTIONS_H
#define BWM_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define BWM_NAME		"bpf_write_monitor"
#define BWM_VERSION		"0.1.0"

#define BWM_FD_STDOUT		(1u << 1)
#define BWM_FD_STDERR		(1u << 2)
#define BWM_MAX_FD		31	/* --fd: the in-kernel mask has 32 bits */

#define BWM_DEFAULT_PAGES	1024	/* per CPU; see README "Buffer size" */
#define BWM_MAX_PAGES		65536
#define BWM_DEFAULT_MAX_BYTES	65536	/* captured per call */
#define BWM_MAX_MAX_BYTES	(1 << 20)
#define BWM_DEFAULT_LINE_TIMEOUT 100	/* ms; see README "Lines" */
#define BWM_MAX_LINE_TIMEOUT	3600000
#define BWM_DEFAULT_MAX_HELD	(64ul << 20)
#define BWM_MIN_MAX_HELD	4096ul
#define BWM_MAX_PIDS		64	/* --pid A,B,...: targets at most */
#define BWM_DEFAULT_KEEP	200	/* --on-failure: lines kept per process and stream */
#define BWM_MAX_KEEP		1000000

/* What a run traces: exactly one kind (see src/target.h). */
enum target_kind {
	TARGET_PIDS = 0,	/* --pid A,B,... */
	TARGET_CGROUP,		/* --cgroup PATH or --unit NAME */
	TARGET_COMMAND,		/* -- CMD [ARGS...] */
};

/* Everything the command line decides, filled once by options_parse(), then read-only. */
struct config {
	enum target_kind kind;	/* which of the three below */
	pid_t pid;		/* --pid: the first PID */
	pid_t pids[BWM_MAX_PIDS];	/* --pid A,B,...: each once, in order */
	unsigned npids;
	const char *cgroup;	/* --cgroup PATH */
	const char *unit;	/* --unit NAME */
	char **command;		/* -- CMD [ARGS...], NULL-terminated (argv's tail) */
	const char *user;	/* --user: run the command as USER */
	unsigned fd_mask;	/* bit N: capture fd N (-1, -2, --fd LIST) */
	bool timestamp;		/* --with-timestamp */
	bool origin_pid;	/* --with-origin-pid */
	bool origin_comm;	/* --with-origin-process-name */
	bool descendants;	/* --include-descendants */
	bool exclude_kernel;	/* --exclude-kernel */
	bool exits;		/* --exits */
	unsigned on_failure;	/* --on-failure[=N]: lines kept per stream; 0: off */
	double duration;	/* --duration, seconds; 0: until done */
	bool ascii;		/* --ascii */
	bool raw;		/* --raw */
	bool json;		/* --json */
	const char *output;	/* --output FILE, or NULL for stdout */
	bool journal;		/* --journal: entries to systemd-journald, not text */
	bool quiet;		/* --quiet */
	bool verbose;		/* --verbose */
	bool ebpf;		/* --ebpf */
	unsigned buffer_pages;	/* --buffer-pages, per CPU, a power of two */
	unsigned long max_bytes;	/* --max-bytes, per call */
	unsigned line_timeout;	/* --line-timeout, ms; 0: the seed's line rules */
	unsigned long max_held;	/* --max-held, bytes of partial lines held in all */
	const char *probe_dir;	/* --probe-dir */
	bool no_cache;		/* --no-cache */
};

enum options_result {
	OPTIONS_RUN = 0,	/* go ahead */
	OPTIONS_EXIT_OK,	/* --help or --version was printed */
	OPTIONS_ERROR,		/* a one-line error was printed */
};

/* Parse argv into cfg; messages (help, errors) go to out and err. */
enum options_result options_parse(int argc, char **argv, struct config *cfg, FILE *out, FILE *err);

/* "stdout", "stderr", "stdout, stderr, fd3", ...: the streams cfg selects (a static buffer). */
const char *options_streams(const struct config *cfg);

#endif /* BWM_OPTIONS_H */
