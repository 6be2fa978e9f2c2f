// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_write_monitor - print what a running process writes to stdout/stderr.
 *
 * main.c: wiring, the event loop, signals and the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "feedback.h"
#include "format.h"
#include "host.h"
#include "lines.h"
#include "options.h"
#include "output.h"
#include "procs.h"
#include "program.h"
#include "probes.h"
#include "reader.h"
#include "sink.h"
#include "tracer.h"
#include "tree.h"
#include "kbtf.h"

#define DRAIN_MS	25		/* an idle line appears within this */
#define WAKEUP_EVENTS	64		/* records per reader wakeup */
#define MAX_LINE	(1 << 20)	/* longer lines are passed on in pieces */
#define SINK_HIGH	(1 << 20)	/* flush output past this many buffered bytes */
#define MAX_BUFFERS	1024
#define CPU_CHECK_NS	1000000000ull	/* how often CPUs brought online are looked for */
#define STOP_GRACE_NS	1000000000ull	/* after a stop request, output gets this much more */
#define STOP_TICK_US	100000		/* a blocked write is interrupted this often then */

static volatile sig_atomic_t exiting;

/*
 * A stop request; from now on SIGALRM interrupts, every STOP_TICK_US, a write
 * the output blocks (no SA_RESTART), so that the sink can give up in time.
 */
static void on_signal(int sig)
{
	struct itimerval tick = {
		.it_interval = { .tv_usec = STOP_TICK_US }, .it_value = { .tv_usec = STOP_TICK_US },
	};

	if (!exiting)
		setitimer(ITIMER_REAL, &tick, NULL);
	exiting = sig;
}

static void on_alarm(int sig)
{
	(void)sig;
}

struct app {
	const struct config *cfg;
	uint64_t not_captured;	/* --raw: bytes written but not in the output */
	struct formatter fmt;
	struct sink sink;
	struct lines *lines;
	struct reader *reader;
	struct tracer *tracer;
	int64_t wall_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int ncpu;
	uint64_t *lost_reported;	/* per CPU: events lost, as reported so far */
	uint64_t *full;		/* per CPU: records the probes found the buffer full for */
	uint64_t dropped;	/* reported so far: records not queued for another reason */
	uint64_t lines_out;
	uint64_t bytes_in;	/* payload bytes captured */
	uint64_t started;	/* CLOCK_MONOTONIC ns when tracing began */
	struct tree_watch watch;
	struct reader_watch readers;	/* -f: readers of the output that appear later */
	struct feedback *feedback;	/* the loop breaker */
	bool done;		/* everything traced has exited */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fail(const char *msg)
{
	fprintf(stderr, "%s: %s\n", BWM_NAME, msg);
}

static void check_feedback(struct app *app, const struct line_meta *m, const char *text,
			   size_t len);

static void on_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
		    uint64_t missing)
{
	struct app *app = cookie;
	size_t start = app->sink.ob.len;

	check_feedback(app, m, text, len);
	format_line(&app->fmt, &app->sink.ob, m, m->ts + app->wall_offset, text, len, missing);
	if (app->sink.ob.len > start)	/* the line as printed, without its newline */
		feedback_printed(app->feedback, app->sink.ob.p + start,
				 app->sink.ob.len - start - 1, m->tgid);
	app->lines_out++;
	if (app->sink.ob.len > SINK_HIGH)
		sink_flush(&app->sink);
}

/* --raw: the bytes go out as they are; what cannot is said on stderr. */
static void on_raw_event(struct app *app, const struct bwm_event *ev, uint64_t missing)
{
	char name[16];
	const char *stream = format_stream(ev->fd, name, sizeof(name));

	if (ev->type == BWM_EV_XFER) {
		fprintf(stderr, "%s: PID %u moved %llu bytes to %s inside the kernel (splice, "
			"sendfile): they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)ev->total, stream);
		app->not_captured += ev->total;
		return;
	}
	if (ev->flags & BWM_F_MSGS_SKIPPED) {
		fprintf(stderr, "%s: PID %u sent %llu more messages to %s than could be walked: "
			"they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)ev->offset, stream);
		return;
	}
	ob_put(&app->sink.ob, ev->data, ev->len);
	if (app->sink.ob.len > SINK_HIGH)
		sink_flush(&app->sink);
	if (missing) {
		fprintf(stderr, "%s: PID %u wrote %llu more bytes to %s than --max-bytes %lu "
			"captured: they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)missing, stream, app->cfg->max_bytes);
		app->not_captured += missing;
	}
}

/* fork, exec, exit: flush what an exited process left held, and report with -x. */
static void on_lifecycle(struct app *app, const struct bwm_event *ev, const struct line_meta *m)
{
	int64_t wall = m->ts + app->wall_offset;

	if (ev->type == BWM_EV_EXIT)
		lines_flush_process(app->lines, ev->tgid);
	if (!app->cfg->exits)
		return;
	switch (ev->type) {
	case BWM_EV_FORK:
		format_fork(&app->fmt, &app->sink.ob, m, wall, ev->total);
		break;
	case BWM_EV_EXEC:
		format_exec(&app->fmt, &app->sink.ob, m, wall, ev->data, ev->len);
		break;
	case BWM_EV_EXIT:
		format_exit(&app->fmt, &app->sink.ob, m, wall, ev->total, ev->flags & BWM_F_STATUS);
		break;
	}
	app->lines_out++;
}

static void on_event(void *cookie, const struct bwm_event *ev)
{
	struct app *app = cookie;
	struct line_meta m = {
		.ts = ev->ts, .tgid = ev->tgid, .tid = ev->tid, .fd = ev->fd,
	};
	uint64_t end = ev->offset + ev->len, missing = 0;
	char note[64];

	if (ev->type == BWM_EV_WRITE)
		app->bytes_in += ev->len;
	if (ev->type == BWM_EV_WRITE && (ev->flags & BWM_F_LAST) && ev->total > end)
		missing = ev->total - end;
	if (app->cfg->raw && ev->type <= BWM_EV_XFER) {
		on_raw_event(app, ev, missing);
		return;
	}
	memcpy(m.comm, ev->comm, sizeof(m.comm));
	switch (ev->type) {
	case BWM_EV_WRITE:
		if (ev->flags & BWM_F_MSGS_SKIPPED) {
			snprintf(note, sizeof(note), "[... %llu more messages not captured]",
				 (unsigned long long)ev->offset);
			format_note(&app->fmt, &app->sink.ob, &m, m.ts + app->wall_offset, note);
			app->lines_out++;
			break;
		}
		lines_feed(app->lines, &m, ev->data, ev->len, ev->flags, missing);
		break;
	case BWM_EV_XFER:
		format_transfer(&app->fmt, &app->sink.ob, &m, m.ts + app->wall_offset, ev->total);
		app->lines_out++;
		break;
	default:
		on_lifecycle(app, ev, &m);
		break;
	}
}

/* Total events lost: buffer overflows and records the probes could not queue. */
static uint64_t buffer_lost(const struct app *app)
{
	uint64_t n = 0;
	int cpu;

	for (cpu = 0; cpu < app->ncpu; cpu++)
		n += app->lost_reported[cpu];
	return n;
}

static uint64_t lost_total(const struct app *app)
{
	return buffer_lost(app) + app->dropped;
}

static void report_lost(struct app *app)
{
	uint64_t dropped = tracer_dropped(app->tracer, app->full, app->ncpu);
	int cpu;

	if (dropped > app->dropped) {
		fprintf(stderr, "%s: lost %llu events the probes could not queue (a CPU brought "
			"online has no buffer until the tool notices it, within a second)\n", BWM_NAME,
			(unsigned long long)(dropped - app->dropped));
		app->dropped = dropped;
	}
	for (cpu = 0; cpu < app->ncpu; cpu++) {
		uint64_t lost = reader_lost_on(app->reader, cpu);

		/* The buffer tells of a loss with its next record; the probes count it at once. */
		if (app->full[cpu] > lost)
			lost = app->full[cpu];
		if (lost > app->lost_reported[cpu]) {
			fprintf(stderr, "%s: lost %llu events on CPU #%d\n", BWM_NAME,
				(unsigned long long)(lost - app->lost_reported[cpu]), cpu);
			app->lost_reported[cpu] = lost;
		}
	}
}

/*
 * Move what the kernel wrote into lines. The limit is read before draining:
 * everything stamped before it is in the buffers by now (see reader.h).
 */
static void drain(struct app *app, bool final)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	app->wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - now);
	tracer_drain(app->tracer);
	reader_release(app->reader, final ? UINT64_MAX : now, on_event, app);
	report_lost(app);
	if (final)
		lines_flush_all(app->lines);
	sink_flush(&app->sink);
}

/* Where the output goes: stdout, or --output FILE (see output.h). -1 with a message printed. */
static int open_output(const struct config *cfg)
{
	char msg[2 * PATH_MAX + 256];
	int fd;

	if (!cfg->output)
		return STDOUT_FILENO;
	fd = output_open(cfg->output, msg, sizeof(msg));
	if (fd < 0)
		fail(msg);
	return fd;
}

/*
 * A pidfd for --pid's thread group, opened before anything is read from /proc
 * so that the checks and the tracing are about one process, never a recycled
 * PID. A thread is no group leader: the pidfd is its group's. -1 with errno.
 */
static int open_target_pidfd(pid_t pid)
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

/* Does the process of pidfd still run (or is a zombie not reaped: checked apart)? */
static bool pidfd_alive(int pidfd)
{
	return pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

static void fail_no_such_process(pid_t pid)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "no such process: %d (is it still running? find it with "
		 "pgrep)", (int)pid);
	fail(msg);
}

/* Refuse what cannot or must not be traced; 0 or -1 with a message printed. */
static int check_stat(const struct config *cfg, const struct proc_stat *st)
{
	char msg[256];

	if (st->state == 'Z' || st->state == 'X') {
		snprintf(msg, sizeof(msg), "process %d is a zombie: it has exited and will write "
			 "nothing more", (int)cfg->pid);
		fail(msg);
		return -1;
	}
	if (!(st->flags & PROC_PF_KTHREAD))
		return 0;
	if (cfg->exclude_kernel) {
		snprintf(msg, sizeof(msg), "PID %d is a kernel thread, which --exclude-kernel "
			 "excludes: nothing is left to trace (drop -K)", (int)cfg->pid);
		fail(msg);
		return -1;
	}
	if (!cfg->quiet)
		fprintf(stderr, "%s: PID %d is a kernel thread: kernel threads make no system "
			"calls, so they write nothing to capture\n", BWM_NAME, (int)cfg->pid);
	return 0;
}

/*
 * Resolve --pid to a live thread group: its pidfd is opened first, /proc is
 * read next, and the pidfd must still refer to a live process after. 0 (and
 * *tgid, *pidfd: -1 where pidfd_open() is missing) or -1 with a message printed.
 */
static int check_target(const struct config *cfg, pid_t *tgid, int *pidfd)
{
	struct proc_stat st;
	char msg[256];
	int rc, fd = open_target_pidfd(cfg->pid);

	if (fd < 0 && errno == ESRCH) {
		fail_no_such_process(cfg->pid);
		return -1;
	}
	rc = proc_read_stat(cfg->pid, &st);
	if (rc == -ENOENT || rc == -ESRCH) {
		fail_no_such_process(cfg->pid);
		goto err;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "cannot read /proc/%d/stat: %s", (int)cfg->pid,
			 strerror(-rc));
		fail(msg);
		goto err;
	}
	if (check_stat(cfg, &st))
		goto err;
	*tgid = proc_tgid(cfg->pid);
	if (*tgid <= 0)
		*tgid = cfg->pid;
	/* Checked through /proc after the pidfd was opened: the same process if it lives. */
	if (!pidfd_alive(fd) || (fd >= 0 && proc_tgid(*tgid) != *tgid)) {
		fail_no_such_process(cfg->pid);
		goto err;
	}
	if (*tgid == getpid()) {
		fail("refusing to trace bpf_write_monitor itself: pick another PID");
		goto err;
	}
	if (*tgid != cfg->pid && !cfg->quiet)
		fprintf(stderr, "%s: %d is a thread of process %d: tracing the process\n",
			BWM_NAME, (int)cfg->pid, (int)*tgid);
	*pidfd = fd;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Poll every buffer (again: EEXIST for those already polled is fine) and the
 * target until it has exited: its pidfd stays readable, so it leaves the set.
 */
static void watch_fds(struct app *app, int ep)
{
	int fds[MAX_BUFFERS], n, i;

	n = tracer_buffer_fds(app->tracer, fds, MAX_BUFFERS);
	if (tree_watch_fd(&app->watch) >= 0 && !app->watch.target_gone && n < MAX_BUFFERS)
		fds[n++] = tree_watch_fd(&app->watch);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
}

/* -f: readers of the output that appeared since the last look are not traced. */
static void exclude_new_readers(struct app *app, uint64_t now)
{
	pid_t pids[16];
	size_t n, i;

	if (!app->cfg->descendants)
		return;
	n = tree_new_readers(&app->readers, app->tracer, app->sink.fd, now, pids, 16);
	for (i = 0; i < n; i++) {
		struct proc_stat st = { 0 };
		char *c;

		proc_read_stat(pids[i], &st);
		for (c = st.comm; *c; c++)
			if (*c < ' ' || *c == 0x7f)
				*c = '?';	/* no terminal control from a comm */
		fprintf(stderr, "%s: PID %d (%s) reads this tool's output: not traced from now on "
			"(it would feed the output back)\n", BWM_NAME, (int)pids[i], st.comm);
	}
}

/*
 * The loop breaker: a traced process that writes back what the tool prints.
 * A suspect (it echoes its own lines) is cut when the reader scan finds it
 * reading the output; a loop (it echoes others' lines at a flood's rate) is
 * cut at once. Without -f, the target itself cannot be cut: the tool ends.
 */
static void check_feedback(struct app *app, const struct line_meta *m, const char *text,
			   size_t len)
{
	enum feedback_verdict v = feedback_captured(app->feedback, m->tgid, text, len, m->ts);
	char comm[BWM_COMM_LEN + 1];
	size_t i;

	if (v == FEEDBACK_NONE)
		return;
	if (app->cfg->descendants && v == FEEDBACK_SUSPECT) {
		app->readers.next_scan = 0;
		exclude_new_readers(app, 1);
		return;
	}
	for (i = 0; i < BWM_COMM_LEN && m->comm[i]; i++)
		comm[i] = m->comm[i] < ' ' || m->comm[i] == 0x7f ? '?' : m->comm[i];
	comm[i] = '\0';
	if (v == FEEDBACK_LOOP && app->cfg->descendants) {
		tracer_set_pid(app->tracer, m->tgid, 0, false);
		fprintf(stderr, "%s: PID %u (%s) writes back what this tool prints: not traced "
			"from now on (send the output elsewhere, e.g. -o FILE)\n", BWM_NAME,
			m->tgid, comm);
	} else if (v == FEEDBACK_LOOP) {
		fprintf(stderr, "%s: PID %u (%s) writes back what this tool prints: ending "
			"(send the output elsewhere, e.g. -o FILE)\n", BWM_NAME, m->tgid, comm);
		exiting = SIGTERM;
	}
}

/* The last line on stderr: what was captured, lost, and not printed. */
static void print_summary(const struct app *app)
{
	char unprinted[160] = "";

	if (app->sink.gave_up)
		snprintf(unprinted, sizeof(unprinted), ", %llu lines (%llu bytes) not printed "
			 "(the output stopped taking them)",
			 (unsigned long long)app->sink.unwritten_lines,
			 (unsigned long long)app->sink.unwritten_bytes);
	fprintf(stderr, "%s: %llu lines, %llu bytes captured, %llu events lost%s, %.1f s\n",
		BWM_NAME, (unsigned long long)app->lines_out, (unsigned long long)app->bytes_in,
		(unsigned long long)lost_total(app), unprinted,
		(clock_ns(CLOCK_MONOTONIC) - app->started) / 1e9);
}

/* Wait for records or the drain timer, until told to stop or all is done. */
static int run(struct app *app)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), next_cpu_check = now + CPU_CHECK_NS;
	uint64_t deadline = app->cfg->duration > 0 ? now + (uint64_t)(app->cfg->duration * 1e9) :
						     UINT64_MAX;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char err[256];

	if (ep < 0) {
		fail("epoll_create1 failed");
		return -1;
	}
	watch_fds(app, ep);
	while (!exiting && !app->sink.error) {
		struct epoll_event evs[16];

		if (epoll_wait(ep, evs, 16, DRAIN_MS) < 0 && errno != EINTR) {
			fail("epoll_wait failed");
			break;
		}
		drain(app, false);
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			break;
		if (tree_done(&app->watch, app->tracer, app->cfg, now)) {
			app->done = true;
			break;
		}
		exclude_new_readers(app, now);
		if (app->watch.target_gone && tree_watch_fd(&app->watch) >= 0)
			epoll_ctl(ep, EPOLL_CTL_DEL, tree_watch_fd(&app->watch), NULL);
		if (now >= next_cpu_check) {
			int added = tracer_add_cpus(app->tracer, app->cfg->verbose, err, sizeof(err));

			if (added < 0)
				fail(err);
			else if (added > 0)
				watch_fds(app, ep);
			next_cpu_check = now + CPU_CHECK_NS;
		}
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	struct program_params params = { .tp_exists = host_has_tracepoint };
	struct program prog = { 0 };
	struct templates tpl;
	struct app app = { .watch.pidfd = -1 };
	struct compiler *compiler = NULL;
	struct config cfg;
	char err[1024];
	pid_t target = 0;
	long traced = 0;
	int rc = 1, out_fd = -1, pidfd = -1;

	switch (options_parse(argc, argv, &cfg, stdout, stderr)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_ERROR:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	app.cfg = &cfg;
	params.cfg = &cfg;
	params.self = getpid();
	params.pid_max = proc_pid_max();
	params.ncpus = proc_possible_cpus();
	params.target = cfg.pid;
	params.exit_code_off = -1;

	if (!cfg.ebpf) {
		if (host_check_privileges(err, sizeof(err))) {
			fail(err);
			return 1;
		}
		if (check_target(&cfg, &target, &pidfd))
			return 1;
		params.target = target;
		if (host_check_tracefs(err, sizeof(err)) || host_check_headers(err, sizeof(err))) {
			fail(err);
			return 1;
		}
		/* libbcc loads (~0.1 s) in the compiler child while the program is prepared. */
		compiler = compiler_start(cfg.verbose, err, sizeof(err));
		if (!compiler) {
			fail(err);
			return 1;
		}
	}
	if (cfg.descendants || cfg.exits) {
		/* Only the lifecycle probes need these (and BTF takes a while to parse). */
		params.exit_code_off = kbtf_member_offset("task_struct", "exit_code");
		params.exit_has_group_dead = host_tracepoint_has_field("sched",
								       "sched_process_exit",
								       "group_dead");
	}
	if (probes_load(cfg.probe_dir, &tpl, err, sizeof(err))) {
		fail(err);
		compiler_cancel(compiler);
		return 1;
	}
	if (cfg.verbose)
		fprintf(stderr, "%s: templates from %s\n", BWM_NAME, tpl.origin);
	if (program_build(&params, &tpl, &prog, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	if (cfg.ebpf) {
		fputs(prog.text, stdout);
		rc = fflush(stdout) ? 1 : 0;
		goto out;
	}

	install_signals();
	out_fd = open_output(&cfg);
	if (out_fd < 0)
		goto out;
	sink_init(&app.sink, out_fd);
	sink_set_stop(&app.sink, &exiting, STOP_GRACE_NS);
	format_init(&app.fmt, &(struct format_opts){
		.timestamp = cfg.timestamp, .pid = cfg.origin_pid, .comm = cfg.origin_comm,
		/* Bare lines only for one stream with no prefix. */
		.label = cfg.timestamp || cfg.origin_pid || cfg.origin_comm ||
			 (cfg.fd_mask != BWM_FD_STDOUT && cfg.fd_mask != BWM_FD_STDERR),
		.bare_fd = cfg.fd_mask == BWM_FD_STDERR ? 2 : 1,
		.ascii = cfg.ascii,
		.json = cfg.json,
	});
	app.ncpu = params.ncpus;
	app.lost_reported = calloc(app.ncpu, sizeof(*app.lost_reported));
	app.full = calloc(app.ncpu, sizeof(*app.full));
	app.reader = reader_new(app.ncpu);
	app.lines = lines_new(cfg.max_bytes > MAX_LINE ? cfg.max_bytes : MAX_LINE, on_line, &app);
	app.feedback = feedback_new();
	if (!app.lost_reported || !app.full || !app.reader || !app.lines || !app.feedback) {
		fail("out of memory");
		goto out;
	}

	app.tracer = tracer_load(compiler, &prog, err, sizeof(err));
	compiler = NULL;
	if (!app.tracer) {
		if (!exiting)
			fail(err);
		goto out;
	}
	/* Buffers first: a record submitted with no buffer behind it is lost. */
	if (tracer_open_buffers(app.tracer, app.reader, cfg.buffer_pages, WAKEUP_EVENTS,
				err, sizeof(err))) {
		fail(err);
		goto out;
	}
	/* The seed's order: lifecycle probes, PIDs, enable flag, write probes. */
	if (tracer_attach(app.tracer, &prog, 1, cfg.verbose, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	tree_watch_init(&app.watch, target, pidfd);
	pidfd = -1;
	traced = tree_register(app.tracer, &cfg, target, params.pid_max, err, sizeof(err));
	if (traced < 0) {
		fail(err);
		goto out;
	}
	exclude_new_readers(&app, 0);	/* learns who reads already: tree_register excluded them */
	if (tracer_set_enabled(app.tracer, true)) {
		fail("cannot set the bwm_enabled flag (does write.bpf.c still define it?)");
		goto out;
	}
	if (tracer_attach(app.tracer, &prog, 2, cfg.verbose, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	if (!cfg.quiet && cfg.descendants)
		fprintf(stderr, "Tracing PID %d and its descendants (%ld process%s; %s)... "
			"Ctrl-C to end.\n", (int)target, traced, traced == 1 ? "" : "es",
			options_streams(&cfg));
	else if (!cfg.quiet)
		fprintf(stderr, "Tracing PID %d (%s)... Ctrl-C to end.\n", (int)target,
			options_streams(&cfg));

	app.started = clock_ns(CLOCK_MONOTONIC);
	if (run(&app) == 0)
		rc = 0;
out:
	if (app.tracer) {
		/* The seed's teardown: flag, write probes, lifecycle probes, then the rest. */
		tracer_set_enabled(app.tracer, false);
		tracer_detach(app.tracer, 2);
		tracer_detach(app.tracer, 1);
		if (app.reader && app.lines)
			drain(&app, true);
		if (lost_total(&app))
			fprintf(stderr, "%s: lost %llu events in total%s\n", BWM_NAME,
				(unsigned long long)lost_total(&app),
				buffer_lost(&app) ? " (a bigger --buffer-pages helps)" : "");
		if (app.not_captured)
			fprintf(stderr, "%s: %llu bytes written are not in the copy (see above)\n",
				BWM_NAME, (unsigned long long)app.not_captured);
		if (reader_malformed(app.reader))
			fprintf(stderr, "%s: dropped %llu malformed records\n", BWM_NAME,
				(unsigned long long)reader_malformed(app.reader));
		tracer_close(app.tracer);
		if (app.done && !cfg.quiet && cfg.descendants)
			fprintf(stderr, "%s: PID %d and all its descendants have exited\n",
				BWM_NAME, (int)target);
		else if (app.done && !cfg.quiet)
			fprintf(stderr, "%s: PID %d has exited\n", BWM_NAME, (int)target);
		if (app.started && !cfg.quiet)
			print_summary(&app);
	}
	compiler_cancel(compiler);
	tree_watch_free(&app.watch);
	if (pidfd >= 0)
		close(pidfd);
	if (app.sink.error && app.sink.error != EPIPE) {
		snprintf(err, sizeof(err), "cannot write output: %s", strerror(app.sink.error));
		fail(err);
		rc = 1;
	}
	lines_free(app.lines);
	feedback_free(app.feedback);
	reader_free(app.reader);
	free(app.lost_reported);
	free(app.full);
	sink_free(&app.sink);
	if (out_fd > STDERR_FILENO)
		close(out_fd);
	program_free(&prog);
	probes_free(&tpl);
	return rc;
}
