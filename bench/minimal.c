// SPDX-License-Identifier: GPL-2.0
/*
 * minimal - the reference for the bystander cost: the smallest BCC program on
 * sys_exit_write (the tracepoint of bpf_write_monitor's write probe) that
 * rejects every write but one PID's (a PID that does not write). Prints
 * "ready" once attached, and detaches on SIGINT or SIGTERM.
 *
 *   minimal PID
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

static volatile sig_atomic_t done;

static void stop(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	const char *fn = "tracepoint__syscalls__sys_exit_write";
	char text[256];
	void *mod;
	int prog, link;

	if (argc != 2)
		return 2;
	snprintf(text, sizeof(text), "TRACEPOINT_PROBE(syscalls, sys_exit_write)\n"
		 "{\n\tif ((bpf_get_current_pid_tgid() >> 32) != %d)\n\t\treturn 0;\n"
		 "\treturn 0;\n}\n", atoi(argv[1]));
	mod = bpf_module_create_c_from_string(text, 0, NULL, 0, true, NULL);
	if (!mod)
		return 1;
	prog = bcc_func_load(mod, BPF_PROG_TYPE_TRACEPOINT, fn, bpf_function_start(mod, fn),
			     bpf_function_size(mod, fn), bpf_module_license(mod),
			     bpf_module_kern_version(mod), 0, NULL, 0, NULL, -1);
	if (prog < 0)
		return 1;
	link = bpf_attach_tracepoint(prog, "syscalls", "sys_exit_write");
	if (link < 0)
		return 1;
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	fprintf(stderr, "ready\n");
	while (!done)
		pause();
	bpf_close_perf_event_fd(link);
	close(prog);
	bpf_module_destroy(mod);
	return 0;
}
