// SPDX-License-Identifier: GPL-2.0
/*
 * compile_child.c - the compiler child: it dlopen()s libbcc (clang and LLVM,
 * ~120 MB), compiles the program text, loads (verifies) every tracepoint
 * function and hands the program and map fds back over a socket (or, asked
 * for an image, the compiled instructions and map definitions), then exits.
 * libbcc's chatter on stdout never reaches the data stream.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

#include "compile_wire.h"
#include "image.h"
#include "options.h"
#include "verifier.h"

#define LIBBCC			"libbcc.so.0"
#define VERIFIER_LOG_SIZE	(1 << 22)

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

static int load_all(struct load_job *j)
{
	int scratch, i, refused = -1;

	verify_in_parallel(load_worker, j, "bwm-bcc-log", &scratch);
	for (i = 0; i < j->n && refused < 0; i++)
		if (j->fds[i] < 0)
			refused = i;
	if (refused >= 0) {
		verifier_print_log_tail(j->failed_log[refused] ? j->failed_log[refused] : "");
		verifier_replay_hints(scratch);
	}
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

/* Add the map name (fd here) to img, its definition read from the kernel. */
static int image_add_map(struct image *img, const char *name, int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct image_map *m = &img->maps[img->nmaps];

	if (img->nmaps >= IMAGE_MAX_MAPS || bpf_obj_get_info(fd, &info, &len))
		return -1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->type = info.type;
	m->key_size = info.key_size;
	m->value_size = info.value_size;
	m->max_entries = info.max_entries;
	m->flags = info.map_flags;
	m->fd = fd;
	img->nmaps++;
	return 0;
}

/*
 * MODE_IMAGE: the compiled instructions of every tracepoint
 * function and the definitions of the maps they reference (by their fds
 * here), serialized into a memfd that goes back as the only item.
 */
static void send_image(int sock, const struct bcc_api *api, void *mod, struct wire_reply *rep)
{
	static struct image img;
	size_t k, n = api->num_functions(mod), len = 0;
	uint8_t *buf = NULL;
	int fd = memfd_create("bwm-image", MFD_CLOEXEC), ok = fd >= 0;

	snprintf(img.license, sizeof(img.license), "%s", api->license(mod));
	img.kern_version = api->kern_version(mod);
	for (k = 0; k < n && ok; k++) {
		const char *name = api->function_name(mod, k);

		if (!strncmp(name, "tracepoint__", 12))
			ok = !image_add_prog(&img, name, api->function_start(mod, name),
						   api->function_size(mod, name));
	}
	n = api->num_tables(mod);
	for (k = 0; k < n && ok; k++)
		ok = !image_add_map(&img, api->table_name(mod, k), api->table_fd_id(mod, k));
	if (ok)
		buf = image_serialize(&img, &len);
	if (!buf || write(fd, buf, len) != (ssize_t)len) {
		snprintf(rep->msg, sizeof(rep->msg), "cannot describe the compiled program for "
			 "the cache (too many programs or maps?)");
		rep->status = 1;
		send_reply(sock, rep, NULL);
		_exit(1);
	}
	rep->n = 1;
	snprintf(rep->items[0].name, sizeof(rep->items[0].name), "image");
	rep->items[0].is_map = 2;
	send_reply(sock, rep, &fd);
	_exit(0);
}

/*
 * The child: load libbcc while the parent prepares the program, then
 * compile it, load every tracepoint function and send the fds back (or,
 * for the cache, send the compiled image).
 */
void compile_child(int sock, bool verbose)
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
	if (!text || (text[0] != MODE_LOAD && text[0] != MODE_IMAGE))
		_exit(0);
	job.api = &api;
	job.mod = compile_unprivileged(&api, text + 1);
	if (!job.mod) {
		snprintf(rep.msg, sizeof(rep.msg), "failed to compile the BPF program (compiler "
			 "messages above; see the generated text with --ebpf)");
		goto fail;
	}
	if (text[0] == MODE_IMAGE)
		send_image(sock, &api, job.mod, &rep);
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
