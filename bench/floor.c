// SPDX-License-Identifier: GPL-2.0
/*
 * floor PID PAGES WAKEUP - the least a BCC capture of a process's stdout can
 * cost: the "floor" of ../shared/tools/floor/cap.c, which `make bench` holds
 * bpf_write_monitor to. One program on sys_enter_write (a PID and fd 1
 * check, up to FLOOR_MAX bytes copied into a per-CPU scratch, one
 * perf_submit of the bytes and their length), PAGES pages of perf buffer per
 * CPU, the reader woken every WAKEUP records; the reader only counts (lines
 * by their newlines) and writes the bytes to /dev/null.
 *
 * cap.c copies at most 256 bytes; this copies up to 1024, so that the
 * multi-line writes of the sustained-rate runs (10 lines of 100 bytes) are
 * whole here too. A 100-byte write costs the same in both.
 *
 * Prints "ready" on stderr once attached; on SIGINT or SIGTERM it drains and
 * prints "records N lost N lines N bytes N".
 */
#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_MAX	1024
#define FLOOR_CPUS	256

static const char text[] =
	"struct ev { u32 len; char buf[1024]; };\n"
	"BPF_PERCPU_ARRAY(scratch, struct ev, 1);\n"
	"BPF_PERF_OUTPUT(events);\n"
	"TRACEPOINT_PROBE(syscalls, sys_enter_write) {\n"
	"  if ((bpf_get_current_pid_tgid() >> 32) != TARGET || args->fd != 1) return 0;\n"
	"  int k = 0; struct ev *e = scratch.lookup(&k); if (!e) return 0;\n"
	"  u64 n = args->count; if (n > 1024) n = 1024; e->len = n;\n"
	"  asm volatile(\"\" : \"+r\"(n)); if (n > 1024) return 0;\n"
	"  bpf_probe_read_user(e->buf, n, (void *)args->buf);\n"
	"  u64 sz = 4 + n; asm volatile(\"\" : \"+r\"(sz)); if (sz > sizeof(*e)) return 0;\n"
	"  events.perf_submit(args, e, sz);\n"
	"  return 0; }\n";

struct ev {
	unsigned len;
	char buf[FLOOR_MAX];
};

static FILE *out;
static unsigned long long records, lost, lines, bytes;
static volatile sig_atomic_t stop;

static void on_record(void *cookie, void *data, int size)
{
	struct ev *e = data;
	unsigned len = e->len > FLOOR_MAX ? FLOOR_MAX : e->len, i;

	(void)cookie;
	(void)size;
	for (i = 0; i < len; i++)
		lines += e->buf[i] == '\n';
	fwrite(e->buf, 1, len, out);
	bytes += len;
	records++;
}

static void on_lost(void *cookie, unsigned long n)
{
	(void)cookie;
	lost += n;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct perf_reader *rd[FLOOR_CPUS];
	const char *fn = "tracepoint__syscalls__sys_enter_write";
	char def[64];
	const char *cflags[1] = { def };
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), c, fd, map, pages, wakeup, i;
	void *mod;

	if (argc != 4) {
		fprintf(stderr, "usage: floor PID PAGES WAKEUP\n");
		return 2;
	}
	pages = atoi(argv[2]);
	wakeup = atoi(argv[3]);
	if (ncpu > FLOOR_CPUS)
		ncpu = FLOOR_CPUS;
	snprintf(def, sizeof(def), "-DTARGET=%d", atoi(argv[1]));
	out = fopen("/dev/null", "w");
	mod = bpf_module_create_c_from_string(text, 0, cflags, 1, true, NULL);
	if (!out || !mod) {
		fprintf(stderr, "floor: compile failed\n");
		return 1;
	}
	fd = bcc_func_load(mod, BPF_PROG_TYPE_TRACEPOINT, fn, bpf_function_start(mod, fn),
			   bpf_function_size(mod, fn), bpf_module_license(mod),
			   bpf_module_kern_version(mod), 0, NULL, 0, NULL, 0);
	if (fd < 0 || bpf_attach_tracepoint(fd, "syscalls", "sys_enter_write") < 0) {
		fprintf(stderr, "floor: load or attach failed\n");
		return 1;
	}
	map = bpf_table_fd(mod, "events");
	for (c = 0; c < ncpu; c++) {
		struct bcc_perf_buffer_opts o = { .pid = -1, .cpu = c, .wakeup_events = wakeup };
		int pfd;

		rd[c] = bpf_open_perf_buffer_opts(on_record, on_lost, NULL, pages, &o);
		if (!rd[c]) {
			fprintf(stderr, "floor: no perf buffer on CPU %d\n", c);
			return 1;
		}
		pfd = perf_reader_fd(rd[c]);
		bpf_update_elem(map, &c, &pfd, 0);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ready\n");
	while (!stop)
		perf_reader_poll(ncpu, rd, 100);
	for (i = 0; i < 3; i++)
		for (c = 0; c < ncpu; c++)
			perf_reader_event_read(rd[c]);
	fclose(out);
	fprintf(stderr, "records %llu lost %llu lines %llu bytes %llu\n", records, lost, lines,
		bytes);
	return 0;
}
