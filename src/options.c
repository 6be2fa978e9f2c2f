// SPDX-License-Identifier: GPL-2.0
/*
 * options.c - argv to one immutable struct config, and the help text.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char usage[] =
"USAGE: " BWM_NAME " -p PID[,PID...] | -c CGROUP | --unit NAME [OPTIONS]\n"
"       " BWM_NAME " [OPTIONS] [-u USER] -- COMMAND [ARGS...]\n"
"OPTIONS: [-1] [-2] [--fd FD,...] [-T] [-P] [-C] [-f] [-K] [-x] [--on-failure[=N]]\n"
"         [-d SECONDS] [-a] [-r | -j] [-o FILE | -J]\n"
"         [-m BYTES] [-t MS] [-M BYTES] [-b PAGES] [-I DIR] [-q] [-v]\n"
"         [--no-cache]\n"
"\n"
"Print what a running process writes to its stdout and stderr, even when that\n"
"output goes to /dev/null, a closed pipe or a file nobody reads.\n"
"\n"
"  -p, --pid PID[,PID...]           processes to trace (up to %u); ends when all exit\n"
"  -c, --cgroup PATH                trace every process in a cgroup v2 directory and the\n"
"                                   cgroups below it, also those that enter it later\n"
"      --unit NAME                  the cgroup of systemd unit NAME (or NAME.service)\n"
"  -- COMMAND [ARGS...]             run COMMAND, trace it and its descendants (-f), and\n"
"                                   exit with its status\n"
"  -u, --user USER                  run COMMAND as USER (name or number)\n"
"  -1, --stdout                     capture fd 1 (the default when neither -1 nor -2)\n"
"  -2, --stderr                     capture fd 2\n"
"      --fd FD[,FD...]              capture these fds (0 to 31), e.g. --fd 1,2,3: a daemon's\n"
"                                   log on fd 3; lines labelled \"fd3\"\n"
"  -T, --with-timestamp             prefix lines with the time of the write, HH:MM:SS.mmm\n"
"  -P, --with-origin-pid            prefix lines with the writing PID\n"
"  -C, --with-origin-process-name   prefix lines with the writing process name\n"
"  -f, --include-descendants        also trace all current and future descendants\n"
"  -K, --exclude-kernel             skip kernel threads\n"
"  -x, --exits                      also print when a traced process forks, execs, exits\n"
"      --on-failure[=N]             print nothing as it comes: keep each process's last N\n"
"                                   lines per stream (default %u) and print them when it\n"
"                                   exits non-zero or is killed; with -f a process also\n"
"                                   keeps what its children that exited 0 printed; with -x\n"
"                                   those still running at the end are shown too\n"
"  -d, --duration SECONDS           stop after SECONDS (default: when all have exited)\n"
"  -a, --ascii                      print printable ASCII only, other bytes as \\xNN\n"
"  -r, --raw                        print the exact bytes of one stream: no prefix,\n"
"                                   no line assembly, no sanitizing\n"
"  -j, --json                       one JSON object per line (time, pid, comm, stream, line)\n"
"  -o, --output FILE                append to FILE (created mode 0600) instead of stdout\n"
"  -J, --journal                    send each line to systemd-journald as an entry with\n"
"                                   fields (OBJECT_PID, BWM_STREAM, ...), not to stdout\n"
"  -m, --max-bytes BYTES            capture up to BYTES per call (default %u, up to %u)\n"
"  -t, --line-timeout MS            join a writer's pieces of a line until it is quiet for\n"
"                                   MS (default %u; 0: print a newline-less write at once\n"
"                                   when nothing is held)\n"
"  -M, --max-held BYTES             hold at most BYTES of unfinished lines in all (default\n"
"                                   %lu): past it the oldest is printed, \"[... continued]\"\n"
"  -b, --buffer-pages PAGES         perf buffer pages per CPU, a power of two (default %u)\n"
"  -I, --probe-dir DIR              read the BPF program templates from DIR\n"
"      --no-cache                   compile afresh: neither use nor fill the compile cache\n"
"  -q, --quiet                      no header, exit message or summary on stderr\n"
"  -v, --verbose                    say which templates, probes and cache entry are used\n"
"  -h, --help                       show this help and exit\n"
"  -V, --version                    show the version and exit\n"
"\n"
"examples:\n"
"    " BWM_NAME " -p 1234                # what PID 1234 writes to stdout\n"
"    " BWM_NAME " -p 1234 -2             # only its stderr\n"
"    " BWM_NAME " -p 1234 -1 -2 -T -P -C # both streams, with time, PID and name\n"
"    " BWM_NAME " -p 1234 -f -x          # it and its descendants, with forks and exits\n"
"    " BWM_NAME " -p 1234,5678 -P        # two processes, with PIDs\n"
"    " BWM_NAME " -P -- make -j2         # run make and trace it and its children\n"
"    " BWM_NAME " -c /sys/fs/cgroup/x -P # everything in a cgroup\n"
"    " BWM_NAME " --unit cron -P -C      # everything the cron service runs\n"
"    " BWM_NAME " -p 1 -f -K -1 -2 -P -C # everything, system-wide\n"
"    " BWM_NAME " -p 1234 -d 10          # for ten seconds\n"
"    " BWM_NAME " -p 1234 -b 4096        # bigger buffers for very bursty writers\n"
"    " BWM_NAME " -p 1234 -r > copy      # an exact copy of its stdout, binary included\n"
"    " BWM_NAME " -p 1234 -m 1048576     # capture writes of up to 1 MiB whole\n"
"    " BWM_NAME " -p 1234 -j             # JSON records, typed (doc/records.schema.json)\n"
"    " BWM_NAME " -p 1234 -j | jq -r 'select(.type == \"line\") | .line'\n"
"                                      # its lines, with jq\n"
"    " BWM_NAME " -p 1234 -o /var/log/x  # append to a file\n"
"    " BWM_NAME " --unit cron -1 -2 -J   # into the journal, one entry per line\n"
"    " BWM_NAME " --unit cron --on-failure -o /var/log/cron-failures.log\n"
"                                        # the last lines of each cron job that fails\n"
"    " BWM_NAME " -p 1234 -I ~/probes    # with edited copies of the BPF templates\n"
"    " BWM_NAME " -p 1234 --ebpf         # print the BPF program and exit\n";

static const struct option long_options[] = {
	{ "pid",			required_argument,	NULL, 'p' },
	{ "cgroup",			required_argument,	NULL, 'c' },
	{ "unit",			required_argument,	NULL, 'U' },
	{ "user",			required_argument,	NULL, 'u' },
	{ "stdout",			no_argument,		NULL, '1' },
	{ "stderr",			no_argument,		NULL, '2' },
	{ "fd",				required_argument,	NULL, 'F' },
	{ "with-timestamp",		no_argument,		NULL, 'T' },
	{ "with-origin-pid",		no_argument,		NULL, 'P' },
	{ "with-origin-process-name",	no_argument,		NULL, 'C' },
	{ "include-descendants",	no_argument,		NULL, 'f' },
	{ "exclude-kernel",		no_argument,		NULL, 'K' },
	{ "exits",			no_argument,		NULL, 'x' },
	{ "on-failure",			optional_argument,	NULL, 'W' },
	{ "duration",			required_argument,	NULL, 'd' },
	{ "ascii",			no_argument,		NULL, 'a' },
	{ "raw",			no_argument,		NULL, 'r' },
	{ "json",			no_argument,		NULL, 'j' },
	{ "output",			required_argument,	NULL, 'o' },
	{ "journal",			no_argument,		NULL, 'J' },
	{ "max-bytes",			required_argument,	NULL, 'm' },
	{ "line-timeout",		required_argument,	NULL, 't' },
	{ "max-held",			required_argument,	NULL, 'M' },
	{ "buffer-pages",		required_argument,	NULL, 'b' },
	{ "probe-dir",			required_argument,	NULL, 'I' },
	{ "quiet",			no_argument,		NULL, 'q' },
	{ "verbose",			no_argument,		NULL, 'v' },
	{ "help",			no_argument,		NULL, 'h' },
	{ "version",			no_argument,		NULL, 'V' },
	{ "ebpf",			no_argument,		NULL, 'E' },
	{ "no-cache",			no_argument,		NULL, 'N' },
	{ 0 },
};

/*
 * The leading '+' stops at the first non-option (a command's own options are
 * its own); the ':' makes getopt report a missing value as ':'.
 */
static const char short_options[] = "+:p:c:u:12TPCfKxd:arjJo:m:t:M:b:I:qvhV";

/* strtol with the whole string, errno and range checked. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;	/* no sign, no blanks */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A positive number of seconds, at most a year. */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 366 * 86400.0)
		return -1;
	*out = v;
	return 0;
}

/* The options that only switch a bool on. */
static const struct {
	int opt;
	size_t off;
} flags[] = {
	{ 'T', offsetof(struct config, timestamp) },
	{ 'P', offsetof(struct config, origin_pid) },
	{ 'C', offsetof(struct config, origin_comm) },
	{ 'f', offsetof(struct config, descendants) },
	{ 'K', offsetof(struct config, exclude_kernel) },
	{ 'x', offsetof(struct config, exits) },
	{ 'a', offsetof(struct config, ascii) },
	{ 'r', offsetof(struct config, raw) },
	{ 'j', offsetof(struct config, json) },
	{ 'J', offsetof(struct config, journal) },
	{ 'q', offsetof(struct config, quiet) },
	{ 'v', offsetof(struct config, verbose) },
	{ 'E', offsetof(struct config, ebpf) },
	{ 'N', offsetof(struct config, no_cache) },
};

/* Set a flag option; false if c is none. */
static bool set_flag(int c, struct config *cfg)
{
	size_t i;

	if (c == '1' || c == '2') {
		cfg->fd_mask |= c == '1' ? BWM_FD_STDOUT : BWM_FD_STDERR;
		return true;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (flags[i].opt == c) {
			*(bool *)((char *)cfg + flags[i].off) = true;
			return true;
		}
	}
	return false;
}

/* --line-timeout MS, --max-held BYTES: how lines are joined. */
static int parse_lines_option(int c, const char *arg, struct config *cfg, FILE *err)
{
	long v;

	if (c == 't') {
		if (parse_long(arg, 0, BWM_MAX_LINE_TIMEOUT, &v)) {
			fprintf(err, "%s: invalid --line-timeout: %s (expected milliseconds from 0 "
				"to %d, e.g. -t 100)\n", BWM_NAME, arg, BWM_MAX_LINE_TIMEOUT);
			return -1;
		}
		cfg->line_timeout = v;
		return 0;
	}
	if (parse_long(arg, BWM_MIN_MAX_HELD, LONG_MAX, &v)) {
		fprintf(err, "%s: invalid --max-held: %s (expected a number of bytes, at least "
			"%lu, e.g. -M %lu)\n", BWM_NAME, arg, BWM_MIN_MAX_HELD, BWM_DEFAULT_MAX_HELD);
		return -1;
	}
	cfg->max_held = v;
	return 0;
}

/* The next comma-separated item of *p into buf (cut to fit); false after the last one. */
static bool next_item(const char **p, char *buf, size_t size, bool first)
{
	size_t n;

	if (!first && *(*p)++ != ',')
		return false;
	n = strcspn(*p, ",");
	memcpy(buf, *p, n < size ? n : size - 1);
	buf[n < size ? n : size - 1] = '\0';
	*p += n;
	return true;
}

/* --fd A,B,...: each an fd from 0 to 31, added to the mask. */
static int parse_fds(const char *arg, struct config *cfg, FILE *err)
{
	char buf[16];
	const char *p = arg;
	bool first = true;
	long v;

	while (next_item(&p, buf, sizeof(buf), first)) {
		first = false;
		if (parse_long(buf, 0, BWM_MAX_FD, &v)) {
			fprintf(err, "%s: invalid --fd: %s (expected fds from 0 to %d, separated by "
				"commas: --fd 1,2,3)\n", BWM_NAME, *buf ? buf : arg, BWM_MAX_FD);
			return -1;
		}
		cfg->fd_mask |= 1u << v;
	}
	return 0;
}

/* --pid A,B,...: each a number from 1 to INT_MAX; repeats are dropped. */
static int parse_pids(const char *arg, struct config *cfg, FILE *err)
{
	char buf[32];
	const char *p = arg;
	bool first = true;
	unsigned i;
	long v;

	while (next_item(&p, buf, sizeof(buf), first)) {
		first = false;
		if (parse_long(buf, 1, INT_MAX, &v)) {
			fprintf(err, "%s: invalid PID: %s (expected numbers from 1 to %d, separated "
				"by commas: -p 12,34)\n", BWM_NAME, *buf ? buf : arg, INT_MAX);
			return -1;
		}
		for (i = 0; i < cfg->npids && cfg->pids[i] != v; i++)
			;
		if (i == cfg->npids && cfg->npids == BWM_MAX_PIDS) {
			fprintf(err, "%s: too many PIDs: at most %u (trace a common ancestor with -f, "
				"or a cgroup with --cgroup)\n", BWM_NAME, BWM_MAX_PIDS);
			return -1;
		}
		if (i == cfg->npids)
			cfg->pids[cfg->npids++] = v;
	}
	cfg->pid = cfg->pids[0];
	return 0;
}

/* Exactly one kind of target: --pid, --cgroup or --unit, or a command. */
static int choose_target(struct config *cfg, FILE *err)
{
	int kinds = !!cfg->npids + !!cfg->cgroup + !!cfg->unit + !!cfg->command;

	if (kinds > 1) {
		fprintf(err, "%s: give one kind of target: --pid, --cgroup, --unit or -- COMMAND, "
			"not several (see --help)\n", BWM_NAME);
		return -1;
	}
	if (!kinds) {
		fprintf(err, "%s: nothing to trace: give --pid PID, --cgroup PATH, --unit NAME or "
			"-- COMMAND (see --help)\n", BWM_NAME);
		return -1;
	}
	if (cfg->user && !cfg->command) {
		fprintf(err, "%s: --user is for a command: %s -u USER -- COMMAND\n", BWM_NAME,
			BWM_NAME);
		return -1;
	}
	if ((cfg->cgroup && !*cfg->cgroup) || (cfg->unit && !*cfg->unit)) {
		fprintf(err, "%s: --cgroup and --unit need a name\n", BWM_NAME);
		return -1;
	}
	cfg->kind = cfg->command ? TARGET_COMMAND : cfg->npids ? TARGET_PIDS : TARGET_CGROUP;
	if (cfg->kind == TARGET_COMMAND)
		cfg->descendants = true;	/* a command is traced with its children */
	if (cfg->kind == TARGET_CGROUP)
		cfg->descendants = false;	/* the cgroup holds them: no map needed */
	return 0;
}

/* Set an option that takes a value; 0, or -1 with the error printed. */
static int set_value(int c, const char *arg, struct config *cfg, FILE *err)
{
	long v;

	switch (c) {
	case 'p':
		return parse_pids(arg, cfg, err);
	case 'F':
		return parse_fds(arg, cfg, err);
	case 'W':
		if (!arg)
			v = BWM_DEFAULT_KEEP;
		else if (parse_long(arg, 1, BWM_MAX_KEEP, &v))
			return fprintf(err, "%s: invalid --on-failure: %s (expected a number of lines "
				       "from 1 to %d, e.g. --on-failure=%d)\n", BWM_NAME, arg,
				       BWM_MAX_KEEP, BWM_DEFAULT_KEEP), -1;
		cfg->on_failure = v;
		return 0;
	case 'c':
		cfg->cgroup = arg;
		return 0;
	case 'U':
		cfg->unit = arg;
		return 0;
	case 'u':
		cfg->user = arg;
		return 0;
	case 'd':
		if (parse_seconds(arg, &cfg->duration))
			return fprintf(err, "%s: invalid duration: %s (expected seconds, e.g. -d 10 "
				       "or -d 0.5)\n", BWM_NAME, arg), -1;
		return 0;
	case 'o':
		if (!*arg)
			return fprintf(err, "%s: --output needs a file name\n", BWM_NAME), -1;
		cfg->output = arg;
		return 0;
	case 'm':
		if (parse_long(arg, 1, BWM_MAX_MAX_BYTES, &v))
			return fprintf(err, "%s: invalid --max-bytes: %s (expected a number of bytes "
				       "from 1 to %d)\n", BWM_NAME, arg, BWM_MAX_MAX_BYTES), -1;
		cfg->max_bytes = v;
		return 0;
	case 'b':
		if (parse_long(arg, 1, BWM_MAX_PAGES, &v) || (v & (v - 1)))
			return fprintf(err, "%s: invalid buffer size: %s (expected a power of two "
				       "from 1 to %d pages, e.g. -b %u)\n", BWM_NAME, arg,
				       BWM_MAX_PAGES, BWM_DEFAULT_PAGES), -1;
		cfg->buffer_pages = v;
		return 0;
	case 'I':
		cfg->probe_dir = arg;
		return 0;
	case 't':
	case 'M':
		return parse_lines_option(c, arg, cfg, err);
	}
	return 1;
}

/* An option getopt did not take: missing value or unknown. */
static void unknown(int c, char **argv, FILE *err)
{
	if (c == ':')
		fprintf(err, "%s: option %s needs a value (see --help)\n", BWM_NAME,
			argv[optind - 1]);
	else if (optopt > ' ' && optopt < 0x7f)
		fprintf(err, "%s: unknown option -%c (see --help)\n", BWM_NAME, optopt);
	else if (optopt)	/* a byte the terminal must not get raw */
		fprintf(err, "%s: unknown option -\\x%02x (see --help)\n", BWM_NAME,
			(unsigned char)optopt);
	else
		fprintf(err, "%s: unknown option %s (see --help)\n", BWM_NAME, argv[optind - 1]);
}

/* What the options say together: required ones, defaults, combinations; 0 or -1. */
static int check_combinations(int argc, char **argv, struct config *cfg, FILE *err)
{
	if (optind < argc && strcmp(argv[optind - 1], "--"))
		return fprintf(err, "%s: unexpected argument: %s (a PID goes after --pid, a "
			       "command after --)\n", BWM_NAME, argv[optind]), -1;
	if (optind < argc)
		cfg->command = argv + optind;
	if (choose_target(cfg, err))
		return -1;
	if (!cfg->fd_mask)
		cfg->fd_mask = BWM_FD_STDOUT;
	if (cfg->raw && (cfg->fd_mask & (cfg->fd_mask - 1)))
		return fprintf(err, "%s: --raw copies one stream: give one of --stdout, --stderr "
			       "or --fd N\n", BWM_NAME), -1;
	if (cfg->raw && cfg->on_failure)
		return fprintf(err, "%s: --raw copies bytes as they come: it does not mix with "
			       "--on-failure\n", BWM_NAME), -1;
	if (cfg->journal && (cfg->raw || cfg->json || cfg->output || cfg->timestamp ||
			     cfg->origin_pid || cfg->origin_comm || cfg->ascii))
		return fprintf(err, "%s: --journal sends each line as written, its time, PID and "
			       "name as fields: drop -r, -j, -o, -T, -P, -C and -a\n", BWM_NAME), -1;
	if (cfg->raw && cfg->json)
		return fprintf(err, "%s: --raw and --json do not mix: choose one\n", BWM_NAME), -1;
	if (cfg->raw && (cfg->timestamp || cfg->origin_pid || cfg->origin_comm || cfg->ascii ||
			 cfg->exits))
		return fprintf(err, "%s: --raw prints the bytes only: drop the prefix, --ascii and "
			       "--exits options\n", BWM_NAME), -1;
	return 0;
}

enum options_result options_parse(int argc, char **argv, struct config *cfg, FILE *out, FILE *err)
{
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->buffer_pages = BWM_DEFAULT_PAGES;
	cfg->max_bytes = BWM_DEFAULT_MAX_BYTES;
	cfg->line_timeout = BWM_DEFAULT_LINE_TIMEOUT;
	cfg->max_held = BWM_DEFAULT_MAX_HELD;
	optind = 0;	/* not 1: glibc would go on with a cluster (-fZx) left half read */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		if (c == 'h') {
			fprintf(out, usage, BWM_MAX_PIDS, BWM_DEFAULT_KEEP, BWM_DEFAULT_MAX_BYTES, BWM_MAX_MAX_BYTES,
				BWM_DEFAULT_LINE_TIMEOUT, BWM_DEFAULT_MAX_HELD, BWM_DEFAULT_PAGES);
			return OPTIONS_EXIT_OK;
		}
		if (c == 'V') {
			fprintf(out, "%s %s\n", BWM_NAME, BWM_VERSION);
			return OPTIONS_EXIT_OK;
		}
		if (set_flag(c, cfg))
			continue;
		rc = set_value(c, optarg, cfg, err);
		if (rc < 0)
			return OPTIONS_ERROR;
		if (rc > 0) {
			unknown(c, argv, err);
			return OPTIONS_ERROR;
		}
	}
	if (check_combinations(argc, argv, cfg, err))
		return OPTIONS_ERROR;
	return OPTIONS_RUN;
}

const char *options_streams(const struct config *cfg)
{
	static char buf[32 * 7];
	size_t len = 0;
	unsigned fd;

	buf[0] = '\0';
	for (fd = 0; fd <= BWM_MAX_FD; fd++) {
		if (!(cfg->fd_mask & (1u << fd)))
			continue;
		if (fd == 1 || fd == 2)
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "",
					fd == 1 ? "stdout" : "stderr");
		else
			len += snprintf(buf + len, sizeof(buf) - len, "%sfd%u", len ? ", " : "", fd);
	}
	return buf;
}
