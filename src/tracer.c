// SPDX-License-Identifier: GPL-2.0
/*
 * tracer.c - compile, load, attach, detach; maps and perf buffers (libbcc).
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "procs.h"
#include "tracer.h"

#define LIBBCC			"libbcc.so.0"
#define MAX_ITEMS		64
#define VERIFIER_LOG_SIZE	(1 << 22)
#define VERIFIER_TAIL_LINES	20

struct prog {
	char name[128];		/* tracepoint__<cat>__<ev> */
	int fd;
	bool attached;
};

/* A program attached to a tracepoint: the perf event that holds it there. */
struct link {
	char cat[64];
	char ev[64];
	int stage;		/* 1: lifecycle, 2: write */
	int fd;			/* -1 once detached */
};

struct map {
	char name[64];
	int fd;
};

struct cpu_buf {
	struct tracer *t;
	int cpu;
	struct perf_reader *pr;
};

struct tracer {
	struct prog progs[MAX_ITEMS];
	int nprogs;
	struct link links[MAX_ITEMS];
	int nlinks;
	struct map maps[MAX_ITEMS];
	int nmaps;
	struct cpu_buf *bufs;	/* room for every possible CPU, filled as they come online */
	int nbufs;
	int ncpu;		/* possible CPUs */
	uint64_t *dropped;	/* room for bwm_dropped's per-CPU values, read each drain */
	unsigned pages;
	unsigned wakeup;
	struct reader *reader;
};

/* What the compiler child sends back, with the fds as SCM_RIGHTS. */
struct wire_item {
	char name[128];
	int is_map;
};

struct wire_reply {
	int status;		/* 0, or an errno-like code */
	char msg[512];		/* one-line summary when status != 0 */
	int n;
	struct wire_item items[MAX_ITEMS];
};

/* ---- the compiler child ---------------------------------------------- */

struct bcc_api {
	typeof(&bpf_module_create_c_from_string) create;
	typeof(&bpf_module_destroy) destroy;
	typeof(&bpf_num_functions) num_functions;
	typeof(&bpf_function_name) function_name;
	typeof(&bpf_function_start) function_start;
	typeof(&bpf_function_size) function_size;
	typeof(&bpf_module_license) license;
	typeof(&bpf_module_kern_version) kern_version;
	typeof(&bpf_num_tables) num_tables;
	typeof(&bpf_table_name) table_name;
	typeof(&bpf_table_fd_id) table_fd_id;
	typeof(&bcc_func_load) func_load;
};

static int bind_bcc(struct bcc_api *api, struct wire_reply *rep)
{
	/* Lazy binding: resolving all of LLVM's symbols up front costs ~100 ms. */
	void *h = dlopen(LIBBCC, RTLD_LAZY | RTLD_LOCAL);

	if (!h) {
		snprintf(rep->msg, sizeof(rep->msg), "cannot load %s: %s (install it: "
			 "sudo apt-get install libbpfcc)", LIBBCC, dlerror());
		return -1;
	}
#define BIND(field, sym)						\
	do {								\
		*(void **)&api->field = dlsym(h, #sym);			\
		if (!api->field) {					\
			snprintf(rep->msg, sizeof(rep->msg),		\
				 "%s has no %s: libbcc 0.26 or newer is needed", LIBBCC, #sym); \
			return -1;					\
		}							\
	} while (0)
	BIND(create, bpf_module_create_c_from_string);
	BIND(destroy, bpf_module_destroy);
	BIND(num_functions, bpf_num_functions);
	BIND(function_name, bpf_function_name);
	BIND(function_start, bpf_function_start);
	BIND(function_size, bpf_function_size);
	BIND(license, bpf_module_license);
	BIND(kern_version, bpf_module_kern_version);
	BIND(num_tables, bpf_num_tables);
	BIND(table_name, bpf_table_name);
	BIND(table_fd_id, bpf_table_fd_id);
	BIND(func_load, bcc_func_load);
#undef BIND
	return 0;
}

/* What to do about the verifier's most common objections. */
static const struct {
	const char *needle;
	const char *hint;
} verifier_hints[] = {
	{ "invalid access to map value", "an access past the end of a map value: bound the "
	  "offset and size (see the masks in write.bpf.c)" },
	{ "min value is negative", "a length may be negative: make it an unsigned u64, clamp "
	  "it, then mask it (asm volatile) so the bound survives" },
	{ "unbounded memory access", "a length has no upper bound: clamp and mask it" },
	{ "invalid mem access", "a pointer may be NULL or is not a pointer: check map "
	  "lookups for NULL and read kernel or user memory with bpf_probe_read_*()" },
	{ "back-edge", "a loop the verifier cannot bound: give it a constant bound" },
	{ "too large", "the program is too big or too complex: lower a loop bound" },
	{ "stack", "the 512-byte stack is exceeded: keep big buffers in a per-CPU map" },
};

/*
 * Print the end of a verifier log, the part that says what went wrong, and
 * a hint. The "; ... @ file:line" annotations are dropped: their line
 * numbers count lines of libbcc's rewritten source, not of the template.
 */
static void print_log_tail(const char *log)
{
	const char *p = log + strlen(log), *line, *hint = NULL;
	int lines = 0;
	size_t i;

	while (p > log && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > log && lines <= VERIFIER_TAIL_LINES) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	fprintf(stderr, "%s: verifier log (last lines):\n%s", BWM_NAME, p > log ? "...\n" : "");
	for (line = p; *line; ) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (!(line[0] == ';' && memmem(line, n, " @ ", 3)))
			fprintf(stderr, "%.*s\n", (int)n, line);
		line += n + (end != NULL);
	}
	for (i = 0; i < sizeof(verifier_hints) / sizeof(verifier_hints[0]) && !hint; i++)
		if (strstr(p, verifier_hints[i].needle))
			hint = verifier_hints[i].hint;
	fprintf(stderr, "%s: hint: %s\n", BWM_NAME, hint ? hint : "the last lines above say "
		"what the verifier objected to; --ebpf shows the whole program");
}

/* Loading (verifying) the programs, several at a time. */
struct load_job {
	const struct bcc_api *api;
	void *mod;
	const char *names[MAX_ITEMS];
	int fds[MAX_ITEMS];
	int errs[MAX_ITEMS];		/* errno of a refused program */
	char *failed_log[MAX_ITEMS];	/* the verifier's log of a refused program */
	int n;
	int next;
};

static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	char *log = malloc(VERIFIER_LOG_SIZE);
	int i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n) {
		const char *name = j->names[i];

		if (log)
			log[0] = '\0';
		j->fds[i] = j->api->func_load(j->mod, BPF_PROG_TYPE_TRACEPOINT, name,
					      j->api->function_start(j->mod, name),
					      j->api->function_size(j->mod, name),
					      j->api->license(j->mod), j->api->kern_version(j->mod),
					      0, log, log ? VERIFIER_LOG_SIZE : 0, NULL, -1);
		/* libbcc returns -errno, or -1 with errno set. */
		j->errs[i] = j->fds[i] == -1 ? errno : -j->fds[i];
		if (j->fds[i] < 0 && log) {
			size_t len = strlen(log);

			/* Keep the end, where the verifier says what it objected to. */
			j->failed_log[i] = strdup(len > 16384 ? log + len - 16384 : log);
		}
	}
	free(log);
	return NULL;
}

/*
 * Load every function, in parallel (verifying the loops takes a while).
 * libbcc prints a refused program's whole verifier log; that goes to a
 * scratch file instead, and only its HINT lines and the log's end are shown.
 * Returns the index of a refused program, or -1.
 */
static int load_all(struct load_job *j)
{
	int saved = dup(STDERR_FILENO), scratch = memfd_create("bwm-bcc-log", MFD_CLOEXEC);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t th[4];
	int nth = ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu, started = 0, i, refused = -1;
	char line[512];
	FILE *f;

	if (saved >= 0 && scratch >= 0)
		dup2(scratch, STDERR_FILENO);
	for (i = 0; i < nth; i++)
		started += pthread_create(&th[started], NULL, load_worker, j) == 0;
	if (!started)
		load_worker(j);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (saved >= 0 && scratch >= 0)
		dup2(saved, STDERR_FILENO);
	for (i = 0; i < j->n && refused < 0; i++)
		if (j->fds[i] < 0)
			refused = i;
	if (refused >= 0) {
		print_log_tail(j->failed_log[refused] ? j->failed_log[refused] : "");
		if (scratch >= 0 && (f = fdopen(dup(scratch), "r")) != NULL) {
			rewind(f);
			while (fgets(line, sizeof(line), f))
				if (!strncmp(line, "HINT:", 5) || !strncmp(line, "bpf:", 4))
					fputs(line, stderr);
			fclose(f);
		}
	}
	if (saved >= 0)
		close(saved);
	if (scratch >= 0)
		close(scratch);
	return refused;
}

static int send_reply(int sock, struct wire_reply *rep, int *fds)
{
	char control[CMSG_SPACE(sizeof(int) * MAX_ITEMS)] = { 0 };
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (rep->n > 0) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * rep->n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * rep->n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * rep->n);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/*
 * Compile. As root, libbcc reads all of /proc/kallsyms into a table several
 * times while compiling (for kernel-symbol features these probes do not
 * use), which more than doubles the time; it skips that when the effective
 * uid is not 0. So compile with euid nobody, keeping the capabilities
 * (SECBIT_NO_SETUID_FIXUP) that reading tracefs and the headers needs.
 */
static void *compile_unprivileged(const struct bcc_api *api, const char *text)
{
	bool dropped = geteuid() == 0 && prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) == 0 &&
		       seteuid(65534) == 0;
	void *mod = api->create(text, 0, NULL, 0, true, NULL);

	if (dropped && seteuid(0) != 0) {
		fprintf(stderr, "%s: cannot restore the effective uid: %s\n", BWM_NAME,
			strerror(errno));
		_exit(1);
	}
	return mod;
}

/* The program text, as one message; NULL when the parent gave up. */
static char *receive_text(int sock)
{
	ssize_t n = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
	char *text;

	if (n <= 0 || !(text = malloc(n + 1)))
		return NULL;
	if (recv(sock, text, n, 0) != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/*
 * The child: load libbcc while the parent prepares the program, then
 * compile it, load every tracepoint function and send the fds back.
 */
static void compile_child(int sock, bool verbose)
{
	static struct wire_reply rep;
	static struct load_job job;
	int fds[MAX_ITEMS], refused, i;
	struct bcc_api api;
	char *text;
	size_t k, n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* libbcc prints some diagnostics on stdout: keep the data stream clean. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	memset(&rep, 0, sizeof(rep));
	if (bind_bcc(&api, &rep)) {
		free(receive_text(sock));
		goto fail;
	}
	text = receive_text(sock);
	if (!text)
		_exit(0);
	job.api = &api;
	job.mod = compile_unprivileged(&api, text);
	if (!job.mod) {
		snprintf(rep.msg, sizeof(rep.msg), "failed to compile the BPF program (compiler "
			 "messages above; see the generated text with --ebpf)");
		goto fail;
	}
	n = api.num_functions(job.mod);
	for (k = 0; k < n && job.n < MAX_ITEMS / 2; k++) {
		const char *name = api.function_name(job.mod, k);

		if (!strncmp(name, "tracepoint__", 12))
			job.names[job.n++] = name;
	}
	refused = load_all(&job);
	if (refused >= 0) {
		snprintf(rep.msg, sizeof(rep.msg), "the kernel refused program %s: %s (the "
			 "verifier's reasons are above)", job.names[refused],
			 strerror(job.errs[refused]));
		goto fail;
	}
	for (i = 0; i < job.n; i++) {
		if (verbose)
			fprintf(stderr, "%s: loaded %s\n", BWM_NAME, job.names[i]);
		snprintf(rep.items[rep.n].name, sizeof(rep.items[0].name), "%s", job.names[i]);
		fds[rep.n++] = job.fds[i];
	}
	n = api.num_tables(job.mod);
	for (k = 0; k < n && rep.n < MAX_ITEMS; k++) {
		snprintf(rep.items[rep.n].name, sizeof(rep.items[0].name), "%s",
			 api.table_name(job.mod, k));
		rep.items[rep.n].is_map = 1;
		fds[rep.n++] = api.table_fd_id(job.mod, k);
	}
	send_reply(sock, &rep, fds);
	_exit(0);
fail:
	rep.status = 1;
	rep.n = 0;
	send_reply(sock, &rep, NULL);
	_exit(1);
}

/* ---- the tracer -------------------------------------------------------- */

static int receive_reply(int sock, struct wire_reply *rep, int *fds, int *nfds)
{
	char control[CMSG_SPACE(sizeof(int) * MAX_ITEMS)];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rep))
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			*nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), *nfds * sizeof(int));
		}
	}
	return 0;
}

/* Split "tracepoint__<cat>__<ev>"; 0 on success. */
static int split_function(const char *name, char *cat, char *ev)
{
	const char *c = name + 12, *sep = strstr(c, "__");

	if (strncmp(name, "tracepoint__", 12) || !sep || sep == c || sep - c >= 64 ||
	    strlen(sep + 2) >= 64)
		return -1;
	memcpy(cat, c, sep - c);
	cat[sep - c] = '\0';
	strcpy(ev, sep + 2);
	return 0;
}

struct compiler {
	pid_t pid;
	int sock;
};

struct compiler *compiler_start(bool verbose, char *err, size_t errlen)
{
	struct compiler *c = calloc(1, sizeof(*c));
	int sv[2];

	if (!c || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		free(c);
		return NULL;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	if (c->pid == 0) {
		close(sv[0]);
		compile_child(sv[1], verbose);
	}
	close(sv[1]);
	c->sock = sv[0];
	return c;
}

/* Close the line to the child (one that has no text yet then leaves), reap it; its status. */
static int compiler_end(struct compiler *c)
{
	int status = 0;

	close(c->sock);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(c);
	return status;
}

void compiler_cancel(struct compiler *c)
{
	if (c)
		compiler_end(c);
}

struct tracer *tracer_load(struct compiler *c, const struct program *prog, char *err,
			   size_t errlen)
{
	static struct wire_reply rep;
	int fds[MAX_ITEMS], nfds = 0, status, i;
	struct tracer *t;

	if (send(c->sock, prog->text, strlen(prog->text), MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "cannot hand the program to the compiler: %s%s",
			 strerror(errno), errno == EMSGSIZE ? " (the templates are too big)" : "");
		compiler_end(c);
		return NULL;
	}
	memset(&rep, 0, sizeof(rep));
	if (receive_reply(c->sock, &rep, fds, &nfds))
		rep.status = -1;
	status = compiler_end(c);
	if (rep.status != 0 || nfds != rep.n) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (rep.status > 0)
			snprintf(err, errlen, "%s", rep.msg);
		else if (WIFSIGNALED(status))
			snprintf(err, errlen, "the BPF compiler (libbcc) crashed with signal %d",
				 WTERMSIG(status));
		else
			snprintf(err, errlen, "the BPF compiler (libbcc) exited without a result");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < rep.n; i++) {
		if (rep.items[i].is_map) {
			struct map *m = &t->maps[t->nmaps++];

			snprintf(m->name, sizeof(m->name), "%s", rep.items[i].name);
			m->fd = fds[i];
		} else {
			struct prog *p = &t->progs[t->nprogs++];

			snprintf(p->name, sizeof(p->name), "%s", rep.items[i].name);
			p->fd = fds[i];
		}
	}
	return t;
}

static struct prog *find_prog(struct tracer *t, const char *name)
{
	int i;

	for (i = 0; i < t->nprogs; i++)
		if (!strcmp(t->progs[i].name, name))
			return &t->progs[i];
	return NULL;
}

static int attach_one(struct tracer *t, struct prog *p, const char *cat, const char *ev,
		      int stage, bool verbose, char *err, size_t errlen)
{
	struct link *l = &t->links[t->nlinks];

	if (t->nlinks == MAX_ITEMS) {
		snprintf(err, errlen, "too many probes (at most %d)", MAX_ITEMS);
		return -1;
	}
	errno = 0;
	l->fd = bpf_attach_tracepoint(p->fd, cat, ev);
	if (l->fd < 0) {
		snprintf(err, errlen, "failed to attach %s:%s: %s (is tracefs mounted and the "
			 "tracepoint enabled in this kernel?)", cat, ev,
			 strerror(errno ? errno : EINVAL));
		return -1;
	}
	snprintf(l->cat, sizeof(l->cat), "%s", cat);
	snprintf(l->ev, sizeof(l->ev), "%s", ev);
	l->stage = stage;
	t->nlinks++;
	p->attached = true;
	if (verbose)
		fprintf(stderr, "%s: attached %s:%s\n", BWM_NAME, cat, ev);
	return 0;
}

static bool ref_present(const struct program *prog, const char *cat, const char *ev)
{
	size_t i;

	for (i = 0; i < prog->nrefs; i++)
		if (!strcmp(prog->refs[i].cat, cat) && !strcmp(prog->refs[i].ev, ev))
			return prog->refs[i].present;
	return false;
}

int tracer_attach(struct tracer *t, const struct program *prog, int stage, bool verbose,
		  char *err, size_t errlen)
{
	char cat[64], ev[64], name[160];
	size_t i;
	int j;

	for (i = 0; i < prog->nrefs; i++) {
		const struct probe_ref *r = &prog->refs[i];
		struct prog *p;

		if (r->stage != stage || !r->present)
			continue;
		snprintf(name, sizeof(name), "tracepoint__%s__%s", r->cat, r->func_ev);
		p = find_prog(t, name);
		if (!p) {
			if (!strcmp(r->ev, r->func_ev) || !ref_present(prog, r->cat, r->func_ev))
				continue;	/* compiled out by the template's own #if */
			snprintf(err, errlen, "BWM_ALSO(%s, %s, %s): there is no probe for %s:%s",
				 r->cat, r->func_ev, r->ev, r->cat, r->func_ev);
			return -1;
		}
		if (attach_one(t, p, r->cat, r->ev, stage, verbose, err, errlen))
			return -1;
	}
	/* A probe the scan did not see (not written with TRACEPOINT_PROBE): with the writes. */
	for (j = 0; stage == 2 && j < t->nprogs; j++) {
		struct prog *p = &t->progs[j];

		if (p->attached)
			continue;
		if (split_function(p->name, cat, ev)) {
			snprintf(err, errlen, "cannot tell the tracepoint of function %s "
				 "(name it with TRACEPOINT_PROBE(category, event))", p->name);
			return -1;
		}
		if (attach_one(t, p, cat, ev, stage, verbose, err, errlen))
			return -1;
	}
	return 0;
}

static void *close_link(void *arg)
{
	bpf_close_perf_event_fd((int)(intptr_t)arg);
	return NULL;
}

/*
 * Each detach waits for an RCU grace period (~70 ms here): close the links
 * in parallel so that they share some, falling back to one by one.
 */
void tracer_detach(struct tracer *t, int stage)
{
	pthread_t th[MAX_ITEMS];
	bool started[MAX_ITEMS] = { false };
	int i;

	for (i = 0; i < t->nlinks; i++) {
		struct link *l = &t->links[i];

		if (l->stage != stage || l->fd < 0)
			continue;
		started[i] = pthread_create(&th[i], NULL, close_link, (void *)(intptr_t)l->fd) == 0;
		if (!started[i])
			close_link((void *)(intptr_t)l->fd);
		l->fd = -1;
	}
	for (i = 0; i < t->nlinks; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

uint64_t tracer_dropped(const struct tracer *t, uint64_t *full, int ncpu)
{
	int fd = tracer_map_fd(t, "bwm_dropped"), other = 0, when_full = 1, i;
	uint64_t sum = 0;

	if (fd < 0 || !t->dropped)
		return 0;
	if (bpf_lookup_elem(fd, &when_full, t->dropped) == 0)
		for (i = 0; i < t->ncpu && i < ncpu; i++)
			full[i] = t->dropped[i];
	if (bpf_lookup_elem(fd, &other, t->dropped) == 0)
		for (i = 0; i < t->ncpu; i++)
			sum += t->dropped[i];
	return sum;
}

int tracer_attached(const struct tracer *t)
{
	int i, n = 0;

	for (i = 0; i < t->nlinks; i++)
		n += t->links[i].fd >= 0;
	return n;
}

int tracer_map_fd(const struct tracer *t, const char *name)
{
	int i;

	for (i = 0; i < t->nmaps; i++)
		if (!strcmp(t->maps[i].name, name))
			return t->maps[i].fd;
	return -1;
}

int tracer_set_enabled(struct tracer *t, bool on)
{
	int fd = tracer_map_fd(t, "bwm_enabled"), key = 0;
	uint32_t val = on;

	if (fd < 0)
		return -ENOENT;
	return bpf_update_elem(fd, &key, &val, 0);
}

int tracer_set_pid(struct tracer *t, pid_t pid, uint32_t mask, bool only_new)
{
	int fd = tracer_map_fd(t, "bwm_monitored");
	uint32_t key = pid;

	if (fd < 0)
		return -ENOENT;
	if (bpf_update_elem(fd, &key, &mask, only_new ? BPF_NOEXIST : BPF_ANY))
		return -errno;
	return 0;
}

int tracer_forget_pid(struct tracer *t, pid_t pid)
{
	int fd = tracer_map_fd(t, "bwm_monitored");
	uint32_t key = pid;

	if (fd < 0)
		return -ENOENT;
	return bpf_delete_elem(fd, &key) ? -errno : 0;
}

int tracer_each_pid(struct tracer *t, int (*fn)(pid_t pid, uint32_t mask, void *arg), void *arg)
{
	int fd = tracer_map_fd(t, "bwm_monitored"), rc = 0;
	uint32_t key, next, mask;
	bool first = true;

	if (fd < 0)
		return -ENOENT;
	while (!rc && (first ? bpf_get_first_key(fd, &next, sizeof(next)) :
			       bpf_get_next_key(fd, &key, &next)) == 0) {
		first = false;
		key = next;
		if (bpf_lookup_elem(fd, &key, &mask) == 0)
			rc = fn(key, mask, arg);
	}
	return rc;
}

static void on_sample(void *cookie, void *raw, int size)
{
	struct cpu_buf *b = cookie;

	reader_push(b->t->reader, b->cpu, raw, size);
}

static void on_lost(void *cookie, uint64_t n)
{
	struct cpu_buf *b = cookie;

	reader_lost(b->t->reader, b->cpu, n);
}

int tracer_open_buffers(struct tracer *t, struct reader *r, unsigned pages, unsigned wakeup,
			char *err, size_t errlen)
{
	if (tracer_map_fd(t, "bwm_events") < 0) {
		snprintf(err, errlen, "the program has no bwm_events map "
			 "(BPF_PERF_OUTPUT(bwm_events) in common.bpf.h)");
		return -1;
	}
	t->ncpu = proc_possible_cpus();
	t->bufs = calloc(t->ncpu, sizeof(*t->bufs));
	t->dropped = calloc(t->ncpu, sizeof(*t->dropped));
	if (!t->bufs || !t->dropped) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->reader = r;
	t->pages = pages;
	t->wakeup = wakeup;
	return tracer_add_cpus(t, false, err, errlen) < 0 ? -1 : 0;
}

int tracer_add_cpus(struct tracer *t, bool verbose, char *err, size_t errlen)
{
	int events = tracer_map_fd(t, "bwm_events"), cpu, i, added = 0;
	bool *online = calloc(t->ncpu, sizeof(*online));

	if (!online || proc_online_cpus(online, t->ncpu) <= 0) {
		free(online);
		snprintf(err, errlen, "cannot read /sys/devices/system/cpu/online");
		return -1;
	}
	for (i = 0; i < t->nbufs; i++)
		online[t->bufs[i].cpu] = false;		/* has one already */
	for (cpu = 0; cpu < t->ncpu; cpu++) {
		struct bcc_perf_buffer_opts opts = {
			.pid = -1, .cpu = cpu, .wakeup_events = t->wakeup,
		};
		struct cpu_buf *b = &t->bufs[t->nbufs];
		int fd;

		if (!online[cpu])
			continue;
		b->t = t;
		b->cpu = cpu;
		b->pr = bpf_open_perf_buffer_opts(on_sample, on_lost, b, t->pages, &opts);
		if (!b->pr) {
			snprintf(err, errlen, "cannot open a perf buffer of %u pages on CPU %d: %s "
				 "(try a smaller --buffer-pages)", t->pages, cpu, strerror(errno));
			free(online);
			return -1;
		}
		t->nbufs++;
		fd = perf_reader_fd(b->pr);
		if (bpf_update_elem(events, &cpu, &fd, 0)) {
			snprintf(err, errlen, "cannot register the perf buffer of CPU %d: %s",
				 cpu, strerror(errno));
			free(online);
			return -1;
		}
		added++;
		if (verbose)
			fprintf(stderr, "%s: opened a perf buffer on CPU %d\n", BWM_NAME, cpu);
	}
	free(online);
	return added;
}

int tracer_buffer_fds(const struct tracer *t, int *fds, int max)
{
	int i;

	for (i = 0; i < t->nbufs && i < max; i++)
		fds[i] = perf_reader_fd(t->bufs[i].pr);
	return i;
}

void tracer_drain(struct tracer *t)
{
	int i;

	for (i = 0; i < t->nbufs; i++)
		perf_reader_event_read(t->bufs[i].pr);
}

void tracer_close(struct tracer *t)
{
	int i;

	if (!t)
		return;
	tracer_set_enabled(t, false);
	tracer_detach(t, 2);
	tracer_detach(t, 1);
	for (i = 0; i < t->nbufs; i++)
		perf_reader_free(t->bufs[i].pr);
	free(t->bufs);
	free(t->dropped);
	for (i = 0; i < t->nprogs; i++)
		close(t->progs[i].fd);
	for (i = 0; i < t->nmaps; i++)
		close(t->maps[i].fd);
	free(t);
}
