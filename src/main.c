// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_write_monitor - print what a running process writes to stdout/stderr.
 *
 * main.c: the pipeline, step by step (see README "How it works"):
 *   options -> host and target checks -> program text -> compile (child)
 *   -> load and attach (the seed's order) -> event loop -> teardown report.
 * Also the signals and the exit status.
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

#include "buffers.h"
#include "cache_load.h"
#include "compile.h"
#include "feedback.h"
#include "format.h"
#include "host.h"
#include "exits.h"
#include "kbtf.h"
#include "kfeat.h"
#include "ledger.h"
#include "lines.h"
#include "load.h"
#include "merge.h"
#include "options.h"
#include "output.h"
#include "procs.h"
#include "program.h"
#include "probes.h"
#include "sink.h"
#include "target.h"

#define DRAIN_MS	25		/* an idle line appears within this */
#define WAKEUP_EVENTS	64		/* records per reader wakeup */
#define MAX_LINE	(1 << 20)	/* longer lines are passed on in pieces */
#define SINK_HIGH	(1 << 20)	/* flush output past this many buffered bytes */
#define MAX_BUFFERS	1024
#define CPU_CHECK_NS	1000000000ull	/* how often CPUs brought online are looked for */
#define STOP_GRACE_NS	500000000ull	/* after a stop request, output gets this much more */
#define STOP_TICK_US	100000		/* a blocked write is interrupted this often then */

static volatile sig_atomic_t exiting;		/* a stop signal not yet taken by run() */
static volatile sig_atomic_t stopping;		/* one came: the output's grace runs */
static volatile sig_atomic_t from_terminal;	/* the kernel sent it: the whole process group */

/*
 * A stop request (SIGINT, SIGTERM, SIGHUP): run() takes it (and passes it on
 * to a command). From the first one on, the output has STOP_GRACE_NS more to
 * take what is left, and SIGALRM interrupts a write the output blocks every
 * STOP_TICK_US (no SA_RESTART), so that the sink can give up in time.
 */
static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	struct itimerval tick = {
		.it_interval = { .tv_usec = STOP_TICK_US }, .it_value = { .tv_usec = STOP_TICK_US },
	};

	(void)uctx;
	if (!stopping)
		setitimer(ITIMER_REAL, &tick, NULL);
	from_terminal = info && info->si_code == SI_KERNEL;
	stopping = 1;
	exiting = sig;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Everything one run owns, set up by the steps of main() and torn down by teardown(). */
struct app {
	struct config cfg;
	struct program_params params;
	struct templates tpl;
	struct program prog;
	struct compiler *compiler;
	struct tracer *tracer;
	struct buffers *buffers;
	struct merger *merger;
	struct lines *lines;
	struct formatter fmt;
	struct sink sink;
	struct ledger ledger;
	struct target target;
	struct exits exits;	/* which exit records mean a process exited */
	struct reader_watch readers;	/* -f: readers of the output that appear later */
	struct feedback *feedback;	/* the loop breaker */
	int out_fd;
	int64_t wall_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t *full;		/* per CPU: records the probes found the buffer full for */
	uint64_t lines_out;
	uint64_t bytes_in;	/* payload bytes captured */
	uint64_t started;	/* CLOCK_MONOTONIC ns when tracing began */
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

/* ---- events to output ------------------------------------------------------ */

static void check_feedback(struct app *app, const struct line_meta *m, uint64_t hash);

static void on_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
		    uint64_t missing)
{
	struct app *app = cookie;
	size_t start = app->sink.ob.len;
	uint64_t hash = feedback_hash(text, len);

	check_feedback(app, m, hash);
	format_line(&app->fmt, &app->sink.ob, m, m->ts + app->wall_offset, text, len, missing);
	if (app->sink.ob.len > start) {	/* the line as printed, without its newline */
		const char *out = app->sink.ob.p + start;
		size_t n = app->sink.ob.len - start - 1;

		/* Printed as written (no prefix, nothing escaped): the same hash. */
		if (n != len || memcmp(out, text, n))
			hash = feedback_hash(out, n);
		feedback_printed(app->feedback, hash, m->tgid);
	}
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
		ledger_add(&app->ledger, LOSS_NOT_CAPTURED, ev->total);
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
			(unsigned long long)missing, stream, app->cfg.max_bytes);
		ledger_add(&app->ledger, LOSS_NOT_CAPTURED, missing);
	}
}

/* fork, exec, exit: flush what an exited process left held, and report with -x. */
static void on_lifecycle(struct app *app, const struct bwm_event *ev, const struct line_meta *m)
{
	int64_t wall = m->ts + app->wall_offset;

	if (ev->type == BWM_EV_TASK_EXIT) {
		lines_flush_thread(app->lines, ev->tid);	/* a reused TID starts afresh */
		return;
	}
	if (ev->type == BWM_EV_EXIT)
		lines_flush_process(app->lines, ev->tgid);
	if (!app->cfg.exits)
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

/* A sendmmsg() note: messages beyond those the probe walks. */
static void on_skipped(struct app *app, const struct bwm_event *ev, const struct line_meta *m)
{
	char note[64];

	snprintf(note, sizeof(note), "[... %llu more messages not captured]",
		 (unsigned long long)ev->offset);
	format_note(&app->fmt, &app->sink.ob, m, m->ts + app->wall_offset, note);
	app->lines_out++;
}

/* An exit record, or NULL when it is to be dropped (the exit is reported already). */
static const struct bwm_event *exit_record(struct app *app, const struct bwm_event *ev)
{
	int type = exits_classify(&app->exits, ev);

	if (!type)
		return NULL;
	/* /proc told it (exits_settle()): the probe did not forget the process */
	if (type == BWM_EV_EXIT && app->exits.method == KFEAT_EXIT_PROC && app->cfg.descendants)
		tracer_forget_pid(app->tracer, ev->tgid);
	return ev;
}

static void on_event(void *cookie, const struct bwm_event *ev)
{
	struct app *app = cookie;
	struct line_meta m = {
		.ts = ev->ts, .tgid = ev->tgid, .tid = ev->tid, .fd = ev->fd,
	};
	uint64_t end = ev->offset + ev->len, missing = 0;

	if (ev->type == BWM_EV_EXIT || ev->type == BWM_EV_TASK_EXIT) {
		ev = exit_record(app, ev);
		if (!ev)
			return;
	} else if (ev->type == BWM_EV_FORK) {
		exits_forget(&app->exits, ev->tgid);
	}

	if (ev->type == BWM_EV_WRITE)
		app->bytes_in += ev->len;
	if (ev->type == BWM_EV_WRITE && (ev->flags & BWM_F_LAST) && ev->total > end)
		missing = ev->total - end;
	if (app->cfg.raw && ev->type <= BWM_EV_XFER) {
		on_raw_event(app, ev, missing);
		return;
	}
	memcpy(m.comm, ev->comm, sizeof(m.comm));
	lines_tick(app->lines, ev->ts);		/* lines quiet since before it go first */
	switch (ev->type) {
	case BWM_EV_WRITE:
		if (ev->flags & BWM_F_MSGS_SKIPPED)
			on_skipped(app, ev, &m);
		else
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

/*
 * Records lost: the probes count what a full buffer refused (at once) and
 * the buffer counts the same records (told only with its next record), so
 * a CPU's loss is the larger of the two; records refused for any other
 * reason are counted by the probes alone.
 */
static void note_losses(struct app *app)
{
	uint64_t other = tracer_dropped(app->tracer, app->full, app->params.ncpus);
	uint64_t no_memory = merge_no_memory(app->merger);
	uint64_t untracked = tracer_untracked(app->tracer);
	struct ledger *l = &app->ledger;
	int cpu;

	/* Both are running totals: the ledger takes what is new. */
	if (other > l->n[LOSS_NO_BUFFER])
		ledger_add(l, LOSS_NO_BUFFER, other - l->n[LOSS_NO_BUFFER]);
	if (no_memory > l->n[LOSS_NO_MEMORY])
		ledger_add(l, LOSS_NO_MEMORY, no_memory - l->n[LOSS_NO_MEMORY]);
	if (untracked > l->n[LOSS_UNTRACKED])
		ledger_add(l, LOSS_UNTRACKED, untracked - l->n[LOSS_UNTRACKED]);
	for (cpu = 0; cpu < app->params.ncpus; cpu++) {
		uint64_t lost = merge_lost_on(app->merger, cpu);

		ledger_cpu_full(l, cpu, app->full[cpu] > lost ? app->full[cpu] : lost);
	}
}

/*
 * Move what the kernel wrote into lines. The limit is read before draining:
 * everything stamped before it is in the buffers by now (see merge.h).
 */
static void drain(struct app *app, bool final)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	app->wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - now);
	buffers_drain(app->buffers);
	merge_release(app->merger, final ? UINT64_MAX : now, on_event, app);
	exits_settle(&app->exits, clock_ns(CLOCK_MONOTONIC), now, final, on_event, app);
	if (!final)
		lines_tick(app->lines, now);	/* every event stamped before now is in */
	note_losses(app);
	if (final)
		lines_flush_all(app->lines);
	sink_flush(&app->sink);
}

/* The line joiner: the window and the caps of the command line. */
static struct lines *new_lines(struct app *app)
{
	const struct config *cfg = &app->cfg;
	struct lines_opts o = {
		.max_line = cfg->max_bytes > MAX_LINE ? cfg->max_bytes : MAX_LINE,
		.max_held = cfg->max_held,
		.window_ns = cfg->line_timeout * 1000000ull,
	};

	return lines_new(&o, on_line, app);
}

/* ---- step 2: host and target ----------------------------------------------- */

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
 * Privileges, the target (see target.h; a command is started, held), tracefs
 * and headers, then the compiler child (it loads libbcc, ~0.1 s, while the
 * program is prepared). For --ebpf, only what shapes the program. Returns 0
 * or the exit status to end with.
 */
static int check_host(struct app *app)
{
	char err[1024];
	int rc;

	if (app->cfg.ebpf) {
		rc = target_preview(&app->target, &app->cfg, err, sizeof(err));
		if (rc)
			fail(err);
		target_params(&app->target, &app->params);
		return rc;
	}
	if (host_check_privileges(err, sizeof(err))) {
		fail(err);
		return 1;
	}
	rc = target_resolve(&app->target, &app->cfg, err, sizeof(err));
	if (rc) {
		fail(err);
		return rc;
	}
	target_params(&app->target, &app->params);
	if (host_check_tracefs(err, sizeof(err)) || host_check_headers(err, sizeof(err))) {
		fail(err);
		return 1;
	}
	/* With the cache, a compiler is started only on a miss (cache_obtain()). */
	if (app->cfg.no_cache)
		app->compiler = compiler_start(app->cfg.verbose, err, sizeof(err));
	if (app->cfg.no_cache && !app->compiler) {
		fail(err);
		return 1;
	}
	return 0;
}

/* ---- step 3: the program text ---------------------------------------------- */

/*
 * What the running kernel offers decides the capture path and the exit
 * method (src/kfeat.c); -v says which and why. 1 with a message printed.
 */
static int kernel_features(struct app *app)
{
	const struct config *cfg = &app->cfg;
	struct program_params *p = &app->params;
	struct kfeat k;
	char err[512];
	int rc = kfeat_detect(kbtf_ops(!cfg->ebpf), cfg->exits, &k, err, sizeof(err));

	if (!rc && cfg->kind == TARGET_CGROUP)
		rc = kfeat_cgroup(kbtf_ops(!cfg->ebpf), &k, err, sizeof(err));
	kbtf_release();
	if (rc) {
		fail(err);
		return 1;
	}
	p->entry_exit = k.entry_exit;
	p->exit_method = k.exit_method;
	p->exit_has_group_dead = k.exit_method == KFEAT_EXIT_GROUP_DEAD;
	p->exit_code_off = k.exit_code_off;
	p->signal_off = k.signal_off;
	p->live_off = k.live_off;
	p->cgroup_under = k.cgroup_under;
	exits_init(&app->exits, k.exit_method);
	if (k.notice[0] && !cfg->quiet && !cfg->ebpf)
		fprintf(stderr, "%s: notice: %s\n", BWM_NAME, k.notice);
	if (cfg->verbose) {
		fprintf(stderr, "%s: capture path: %s\n", BWM_NAME, k.path_why);
		fprintf(stderr, "%s: process exits: %s\n", BWM_NAME, k.exit_why);
		if (cfg->kind == TARGET_CGROUP)
			fprintf(stderr, "%s: cgroup filter: %s\n", BWM_NAME, k.cgroup_why);
	}
	return 0;
}

static int build_program(struct app *app)
{
	const struct config *cfg = &app->cfg;
	struct program_params *p = &app->params;
	char err[1024];

	if (kernel_features(app))
		return 1;
	if (probes_load(cfg->probe_dir, &app->tpl, err, sizeof(err))) {
		fail(err);
		return 1;
	}
	if (cfg->verbose)
		fprintf(stderr, "%s: templates from %s\n", BWM_NAME, app->tpl.origin);
	if (program_build(p, &app->tpl, &app->prog, err, sizeof(err))) {
		fail(err);
		return 1;
	}
	return 0;
}

/* --ebpf: the program text, and nothing loaded. */
static int print_program(struct app *app)
{
	fputs(app->prog.text, stdout);
	return fflush(stdout) ? 1 : 0;
}

/* ---- step 4: output and the stages between events and lines ------------------ */

static void install_signals(void)
{
	/* No SA_RESTART: a stop interrupts a blocked write (see on_signal). */
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	struct sigaction alarm = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&alarm.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &alarm, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int open_pipeline(struct app *app)
{
	const struct config *cfg = &app->cfg;
	int ncpu = app->params.ncpus;

	install_signals();
	app->out_fd = open_output(cfg);
	if (app->out_fd < 0)
		return 1;
	sink_init(&app->sink, app->out_fd);
	sink_set_stop(&app->sink, &stopping, STOP_GRACE_NS);
	format_init(&app->fmt, &(struct format_opts){
		.timestamp = cfg->timestamp, .pid = cfg->origin_pid, .comm = cfg->origin_comm,
		/* Bare lines only for one stream with no prefix. */
		.label = cfg->timestamp || cfg->origin_pid || cfg->origin_comm ||
			 (cfg->fd_mask != BWM_FD_STDOUT && cfg->fd_mask != BWM_FD_STDERR),
		.bare_fd = cfg->fd_mask == BWM_FD_STDERR ? 2 : 1,
		.ascii = cfg->ascii,
		.json = cfg->json,
	});
	app->full = calloc(ncpu, sizeof(*app->full));
	app->merger = merge_new(ncpu);
	app->lines = new_lines(app);
	app->feedback = feedback_new();
	if (!app->full || !app->merger || !app->lines || !app->feedback ||
	    ledger_init(&app->ledger, ncpu, stderr)) {
		fail("out of memory");
		return 1;
	}
	return 0;
}

/* ---- feedback: whatever reads the output is not traced -------------------------- */

/* -f: readers of the output that appeared since the last look are not traced. */
static void exclude_new_readers(struct app *app, uint64_t now)
{
	pid_t pids[16];
	size_t n, i;

	if (!app->cfg.descendants)
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
static void check_feedback(struct app *app, const struct line_meta *m, uint64_t hash)
{
	enum feedback_verdict v = feedback_captured(app->feedback, m->tgid, hash, m->ts);
	char comm[BWM_COMM_LEN + 1];
	size_t i;

	if (v == FEEDBACK_NONE)
		return;
	if (app->cfg.descendants && v == FEEDBACK_SUSPECT) {
		app->readers.next_scan = 0;
		exclude_new_readers(app, 1);
		return;
	}
	if (v != FEEDBACK_LOOP)
		return;
	for (i = 0; i < BWM_COMM_LEN && m->comm[i]; i++)
		comm[i] = m->comm[i] < ' ' || m->comm[i] == 0x7f ? '?' : m->comm[i];
	comm[i] = '\0';
	fprintf(stderr, "%s: PID %u (%s) writes back what this tool prints: %s (send the output "
		"elsewhere, e.g. -o FILE)\n", BWM_NAME, m->tgid, comm,
		app->cfg.descendants ? "not traced from now on" : "ending");
	if (app->cfg.descendants)
		tracer_set_pid(app->tracer, m->tgid, 0, false);
	else
		exiting = SIGTERM;
}

/* ---- step 5: compile, load, attach in the seed's order ------------------------- */

static void say_tracing(const struct app *app, long traced)
{
	const struct config *cfg = &app->cfg;

	char what[PATH_MAX + 64];

	if (cfg->quiet)
		return;
	target_describe(&app->target, what, sizeof(what));
	if (cfg->kind == TARGET_CGROUP)
		fprintf(stderr, "Tracing %s (%s)... Ctrl-C to end, or remove the cgroup.\n",
			what, options_streams(cfg));
	else if (cfg->descendants)
		fprintf(stderr, "Tracing %s and %s descendants (%ld process%s; %s)... "
			"Ctrl-C to end.\n", what, app->target.n > 1 ? "their" : "its", traced,
			traced == 1 ? "" : "es", options_streams(cfg));
	else
		fprintf(stderr, "Tracing %s (%s)... Ctrl-C to end.\n", what,
			options_streams(cfg));
}

static int load_and_attach(struct app *app)
{
	const struct config *cfg = &app->cfg;
	static struct compiled compiled;
	char err[1024];
	long traced;
	int rc = cache_obtain(cfg, &app->params, &app->tpl, app->prog.text, &app->compiler,
			      &compiled, err, sizeof(err));

	app->compiler = NULL;
	if (rc || !(app->tracer = tracer_new(&compiled, err, sizeof(err)))) {
		if (!exiting)
			fail(err);
		return 1;
	}
	if (target_load_cgroup(&app->target, app->tracer, err, sizeof(err)))
		goto fail;
	/* Buffers first: a record submitted with no buffer behind it is lost. */
	app->buffers = buffers_open(tracer_map_fd(app->tracer, BWM_MAP_NAME(BWM_MAP_EVENTS)),
				    app->merger, cfg->buffer_pages, WAKEUP_EVENTS, err, sizeof(err));
	/* The seed's order: lifecycle probes, PIDs, enable flag, write probes. */
	if (!app->buffers ||
	    tracer_attach(app->tracer, &app->prog, 1, cfg->verbose, err, sizeof(err)))
		goto fail;
	traced = target_register(&app->target, app->tracer, cfg, app->params.pid_max, err,
				 sizeof(err));
	if (traced < 0)
		goto fail;
	exclude_new_readers(app, 0);	/* learns who reads already: tree_register excluded them */
	if (tracer_set_enabled(app->tracer, true)) {
		snprintf(err, sizeof(err), "cannot set the bwm_enabled flag (does common.bpf.h "
			 "still define it?)");
		goto fail;
	}
	if (tracer_attach(app->tracer, &app->prog, 2, cfg->verbose, err, sizeof(err)))
		goto fail;
	say_tracing(app, traced);
	app->started = clock_ns(CLOCK_MONOTONIC);
	/* A command runs from here on: its first write finds the probes attached. */
	rc = target_start(&app->target, err, sizeof(err));
	if (rc) {
		fail(err);
		return rc;
	}
	return 0;
fail:
	fail(err);
	return 1;
}

/* ---- step 6: the event loop ----------------------------------------------------- */

/*
 * Poll every buffer (again: EEXIST for those already polled is fine) and the
 * targets' pidfds, each until it has fired once (EPOLLONESHOT): a pidfd
 * stays readable once its process has exited, and would wake the loop at
 * once for ever.
 */
static void watch_fds(struct app *app, int ep)
{
	int fds[MAX_BUFFERS], n, nbuf, i;

	nbuf = n = buffers_fds(app->buffers, fds, MAX_BUFFERS);
	n += target_watch_fds(&app->target, fds + n, MAX_BUFFERS - n);
	for (i = 0; i < n; i++) {
		/* A target's pidfd stays readable once it has exited: one wakeup is enough. */
		struct epoll_event ev = { .events = EPOLLIN | (i >= nbuf ? EPOLLONESHOT : 0),
					  .data.fd = fds[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
}

/* Look for CPUs brought online; poll their buffers too. */
static void check_cpus(struct app *app, int ep)
{
	char err[256];
	int added = buffers_add_cpus(app->buffers, app->cfg.verbose, err, sizeof(err));

	if (added < 0)
		fail(err);
	else if (added > 0)
		watch_fds(app, ep);
}

/* Wait for records or the drain timer, until told to stop or all is done. */
static int run(struct app *app)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), next_cpu_check = now + CPU_CHECK_NS;
	uint64_t deadline = app->cfg.duration > 0 ? now + (uint64_t)(app->cfg.duration * 1e9) :
						    UINT64_MAX;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		fail("epoll_create1 failed");
		return 1;
	}
	watch_fds(app, ep);
	while (!app->sink.error) {
		struct epoll_event evs[16];
		int sig = exiting;

		/* A command gets the signal; the tool ends when it is done. */
		exiting = 0;
		if (sig && !target_forward(&app->target, sig, !from_terminal))
			break;
		if (epoll_wait(ep, evs, 16, DRAIN_MS) < 0 && errno != EINTR) {
			fail("epoll_wait failed");
			break;
		}
		drain(app, false);
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			break;
		if (target_done(&app->target, app->tracer, &app->cfg, now)) {
			app->done = true;
			break;
		}
		exclude_new_readers(app, now);
		if (now >= next_cpu_check) {
			check_cpus(app, ep);
			next_cpu_check = now + CPU_CHECK_NS;
		}
	}
	close(ep);
	return 0;
}

/* Load, attach and run: steps 4 to 6. */
static int trace(struct app *app)
{
	int rc = open_pipeline(app);

	if (!rc)
		rc = load_and_attach(app);	/* 126 or 127 when a command cannot run */
	return rc ? rc : run(app);
}

/* ---- step 7: teardown, the reverse of set-up, on every path ------------------------ */

/* Why the tool ended by itself. */
static void report_done(struct app *app)
{
	char what[PATH_MAX + 64];

	if (!app->done || app->cfg.quiet)
		return;
	target_describe(&app->target, what, sizeof(what));
	if (app->cfg.kind == TARGET_CGROUP)
		fprintf(stderr, "%s: %s was removed\n", BWM_NAME, what);
	else if (app->cfg.descendants)
		fprintf(stderr, "%s: %s and all %s descendants have exited\n", BWM_NAME, what,
			app->target.n > 1 ? "their" : "its");
	else
		fprintf(stderr, "%s: %s %s exited\n", BWM_NAME, what,
			app->target.n > 1 ? "have" : "has");
}

static void report_end(struct app *app)
{
	const struct config *cfg = &app->cfg;
	double secs;

	ledger_add(&app->ledger, LOSS_MALFORMED, merge_malformed(app->merger));
	ledger_report(&app->ledger);
	report_done(app);
	ledger_add(&app->ledger, LOSS_UNPRINTED_LINES, app->sink.unwritten_lines);
	ledger_add(&app->ledger, LOSS_UNPRINTED_BYTES, app->sink.unwritten_bytes);
	secs = app->started ? (clock_ns(CLOCK_MONOTONIC) - app->started) / 1e9 : 0;
	if (app->started && cfg->json) {
		/* The last record: the same figures for a machine (none with the output gone). */
		ledger_summary_json(&app->ledger, &app->sink.ob, app->lines_out, app->bytes_in,
				    secs);
		sink_flush(&app->sink);
	}
	if (app->started && !cfg->quiet)
		ledger_summary(&app->ledger, app->lines_out, app->bytes_in, secs);
}

/* After a command: its status (128+N for signal N), once all is printed; 0 if it runs on. */
static int command_status(struct app *app)
{
	char what[PATH_MAX + 64];
	int status = target_exit_status(&app->target);

	if (status >= 0 || app->cfg.kind != TARGET_COMMAND)
		return status >= 0 ? status : 0;
	if (!app->cfg.quiet && app->started) {
		target_describe(&app->target, what, sizeof(what));
		fprintf(stderr, "%s: %s still runs: left running, no longer traced\n", BWM_NAME,
			what);
	}
	return 0;
}

/* Returns rc, or 1 when the output could not be written (a reader that went away is fine). */
static int teardown(struct app *app, int rc)
{
	char err[256];

	if (app->tracer) {
		/* The seed's teardown: flag, write probes, lifecycle probes, then the rest. */
		tracer_set_enabled(app->tracer, false);
		tracer_detach(app->tracer, 2);
		tracer_detach(app->tracer, 1);
		if (app->buffers)
			drain(app, true);
		/* The output is done with: no more ticks into what is left to do. */
		setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
		report_end(app);
		buffers_free(app->buffers);
		tracer_close(app->tracer);
	}
	compiler_cancel(app->compiler);
	if (rc == 0)
		rc = command_status(app);
	target_free(&app->target);
	if (app->sink.error && app->sink.error != EPIPE) {
		snprintf(err, sizeof(err), "cannot write output: %s", strerror(app->sink.error));
		fail(err);
		rc = 1;
	}
	lines_free(app->lines);
	feedback_free(app->feedback);
	merge_free(app->merger);
	ledger_free(&app->ledger);
	free(app->full);
	sink_free(&app->sink);
	if (app->out_fd > STDERR_FILENO)
		close(app->out_fd);
	program_free(&app->prog);
	probes_free(&app->tpl);
	return rc;
}

/* What the program is built for: this run's facts beside the config. */
static void init_params(struct app *app)
{
	app->params.cfg = &app->cfg;
	app->params.tp_exists = host_has_tracepoint;
	app->params.self = getpid();
	app->params.pid_max = proc_pid_max();
	app->params.ncpus = proc_possible_cpus();
	app->params.target = app->cfg.pid;
	app->out_fd = -1;
}

int main(int argc, char **argv)
{
	static struct app app;
	int rc;

	switch (options_parse(argc, argv, &app.cfg, stdout, stderr)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_ERROR:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	init_params(&app);
	rc = check_host(&app);
	if (!rc)
		rc = build_program(&app);
	if (!rc)
		rc = app.cfg.ebpf ? print_program(&app) : trace(&app);
	return teardown(&app, rc);
}
