// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_templates - the template loader and the program builder on hostile
 * files in a --probe-dir: the input is split at "\n%%\n" into the five
 * templates (event.h, arch-MACHINE.h, common.bpf.h, lifecycle.bpf.c,
 * write.bpf.c); its first byte makes one of them (not the arch header) a
 * symlink, a directory, a FIFO, missing, or group-writable, and picks which
 * tracepoints exist.
 * Invariants: a load either fails with a one-line message or yields text
 * that holds every template byte for byte; the program text ends at its NUL.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fuzz.h"
#include "probes.h"
#include "program.h"

static char dir[64];
static uint8_t tp_mask;

static bool tp_exists(const char *cat, const char *ev)
{
	return (tp_mask >> ((strlen(cat) + strlen(ev)) % 8)) & 1;
}

/* The templates' file names, in the loader's order (TPL_...): arch-MACHINE.h second. */
static char names[TPL_COUNT][64] = {
	"event.h", "arch-.h", "common.bpf.h", "lifecycle.bpf.c", "write.bpf.c",
};

static void clean_dir(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < TPL_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) && rmdir(path))
			continue;
	}
}

static void put_file(const char *name, const uint8_t *p, size_t n, uint8_t kind)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	switch (kind) {
	case 1:
		FUZZ_ASSERT(symlink("/etc/hostname", path) == 0);
		return;
	case 2:
		FUZZ_ASSERT(mkdir(path, 0755) == 0);
		return;
	case 3:
		FUZZ_ASSERT(mkfifo(path, 0644) == 0);
		return;
	case 4:
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, p, n) == (ssize_t)n);
	if (kind == 5)
		FUZZ_ASSERT(fchmod(fd, 0664) == 0);
	close(fd);
}

static void remove_dir(void)
{
	clean_dir();
	rmdir(dir);
}

/* Which template ctl spoils: event.h, common.bpf.h, lifecycle.bpf.c or write.bpf.c. */
static int spoiled(uint8_t ctl)
{
	int k = ctl >> 3 & 3;

	return k ? k + 1 : TPL_EVENT_H;
}

/* The input's parts as the five templates; the first byte may spoil one of them. */
static void write_templates(struct cursor *c, uint8_t ctl, const uint8_t **part, size_t *len)
{
	int i;

	if (!dir[0]) {
		struct utsname u;

		FUZZ_ASSERT(uname(&u) == 0);
		snprintf(names[TPL_ARCH], sizeof(names[TPL_ARCH]), "arch-%s.h", u.machine);
		strcpy(dir, "/tmp/bwm-fuzz-templates-XXXXXX");
		FUZZ_ASSERT(mkdtemp(dir) && chmod(dir, 0755) == 0);
		atexit(remove_dir);
	}
	clean_dir();
	for (i = 0; i < TPL_COUNT; i++) {
		const uint8_t *sep = c->left >= 4 ? memmem(c->p, c->left, "\n%%\n", 4) : NULL;
		size_t n = sep ? (size_t)(sep - c->p) : c->left;

		part[i] = c->p;
		len[i] = n;
		c->p += n + (sep ? 4 : 0);
		c->left -= n + (sep ? 4 : 0);
		put_file(names[i], part[i], n, (ctl >> 5) == 0 && i == spoiled(ctl) ?
						 1 + (ctl & 7) % 5 : 0);
	}
}

/* Every template is in the text, whole, unless a NUL byte cuts it. */
static void check_program(const struct program *prog, const uint8_t **part, const size_t *len)
{
	size_t k, sum = 0;
	bool nul = false;
	int i;

	for (i = 0; i < TPL_COUNT; i++) {
		sum += len[i];
		nul = nul || memchr(part[i], 0, len[i]);
	}
	FUZZ_ASSERT(prog->text && (nul || strlen(prog->text) > sum));
	for (k = 0; k < prog->nrefs; k++)
		FUZZ_ASSERT(prog->refs[k].cat[0] && prog->refs[k].ev[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	uint8_t ctl = take_u8(&c);
	struct config cfg = { .pid = 42, .fd_mask = 6, .buffer_pages = 64, .max_bytes = 100 };
	struct program_params params = {
		.cfg = &cfg, .target = 42, .self = 7, .pid_max = 4194304, .ncpus = 4,
		.exit_code_off = 1234, .tp_exists = tp_exists,
	};
	const uint8_t *part[TPL_COUNT];
	size_t len[TPL_COUNT];
	struct templates tpl;
	struct program prog;
	char err[1024];
	int i;

	tp_mask = ctl ^ 0x5a;
	cfg.descendants = ctl & 1;
	cfg.json = ctl & 2;
	write_templates(&c, ctl, part, len);
	if (probes_load(dir, &tpl, err, sizeof(err))) {
		FUZZ_ASSERT(err[0] && !strchr(err, '\n'));
		return 0;
	}
	for (i = 0; i < TPL_COUNT; i++) {
		FUZZ_ASSERT(tpl.t[i].len == len[i] && !memcmp(tpl.t[i].text, part[i], len[i]));
		FUZZ_ASSERT(tpl.t[i].text[len[i]] == '\0');
	}
	if (program_build(&params, &tpl, &prog, err, sizeof(err)) == 0) {
		check_program(&prog, part, len);
		program_free(&prog);
	}
	probes_free(&tpl);
	return 0;
}
