// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the program text builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "program.h"

static bool all_but_sendmmsg(const char *cat, const char *ev)
{
	return !(strcmp(cat, "syscalls") == 0 && strcmp(ev, "sys_exit_sendmmsg") == 0);
}

static void fill(struct templates *t, const char *dir, const char *write_text)
{
	static const char *const names[TPL_COUNT] = { "event.h", "arch-x86_64.h",
						      "common.bpf.h",
						      "lifecycle.bpf.c", "write.bpf.c" };
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < TPL_COUNT; i++) {
		t->t[i].name = names[i];
		snprintf(t->t[i].path, sizeof(t->t[i].path), "%s/%s", dir, names[i]);
		t->t[i].text = strdup(i == TPL_WRITE ? write_text : "struct e { int x; };");
		t->t[i].len = strlen(t->t[i].text);
		t->t[i].stage = i == TPL_WRITE ? 2 : i == TPL_LIFECYCLE ? 1 : 0;
	}
}

static const char write_text[] =
	"#if BWM_TP(syscalls, sys_exit_write)\n"
	"TRACEPOINT_PROBE(syscalls, sys_exit_write) { return 0; }\n"
	"#endif\n"
	"TRACEPOINT_PROBE( syscalls , sys_exit_sendmmsg ) { return 0; }\n"
	"TRACEPOINT_PROBE(syscalls, sys_exit_write) { return 0; }\n"
	"BWM_ALSO(syscalls, sys_exit_write, sys_exit_sendto)\n"
	"/* TRACEPOINT_PROBE(broken */";

static void build(struct program *prog, const char *dir, const struct config *cfg)
{
	struct program_params p = {
		.cfg = cfg, .target = 1234, .self = 99, .pid_max = 32768, .ncpus = 4,
		.exit_code_off = 1164, .exit_has_group_dead = true,
		.tp_exists = all_but_sendmmsg,
	};
	struct templates t;
	char err[256];

	fill(&t, dir, write_text);
	assert_int_equal(program_build(&p, &t, prog, err, sizeof(err)), 0);
	probes_free(&t);
}

static void constants_are_baked_as_numbers(void **state)
{
	struct config cfg = { .pid = 1234, .fd_mask = BWM_FD_STDOUT | BWM_FD_STDERR,
			      .origin_comm = true, .max_bytes = 40000 };
	struct program prog;

	(void)state;
	build(&prog, "/p", &cfg);
	assert_non_null(strstr(prog.text, "\n#define BWM_TARGET_PID 1234\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_FD_MASK 0x6\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_SELF_PID 99\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_WANT_COMM 1\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_PID_MAX 32768\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_DESCENDANTS 0\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_MAX_BYTES 40000\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_CAP 65536\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_NR_CPUS 4\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_EXITS 0\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_EXIT_CODE_OFF 1164\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_EXIT_HAS_GROUP_DEAD 1\n"));
	program_free(&prog);
}

static void target_constants(void **state)
{
	struct config cfg = { .pid = 12, .fd_mask = BWM_FD_STDOUT, .max_bytes = 100 };
	static const pid_t pids[] = { 12, 34 }, readers[] = { 56 };
	struct program_params p = {
		.cfg = &cfg, .target = 12, .targets = pids, .ntargets = 2, .self = 99,
		.pid_max = 32768, .ncpus = 4, .exit_code_off = -1, .tp_exists = all_but_sendmmsg,
	};
	struct program prog;
	struct templates t;
	char err[256];

	(void)state;
	fill(&t, "/p", write_text);
	assert_int_equal(program_build(&p, &t, &prog, err, sizeof(err)), 0);
	assert_non_null(strstr(prog.text, "\n#define BWM_TARGET_PID 12\n"));
	assert_non_null(strstr(prog.text,
			       "\n#define BWM_IS_TARGET(t) (bwm_opaque(t) == BWM_TARGET_PID || (t) == 34)\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_IS_EXCLUDED(t) (0)\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_CGROUP_ID 0ull\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_PIDNS_INO 0ull\n"));
	program_free(&prog);
	p.targets = NULL;
	p.ntargets = 0;
	p.target = 0;
	p.cgroup_id = 4242;
	p.cgroup_level = 3;
	p.excluded = readers;
	p.nexcluded = 1;
	p.pidns_dev = 4;
	p.pidns_ino = 4026532000ull;
	assert_int_equal(program_build(&p, &t, &prog, err, sizeof(err)), 0);
	assert_non_null(strstr(prog.text, "BPF program for cgroup 4242 (stdout)"));
	assert_non_null(strstr(prog.text, "\n#define BWM_IS_EXCLUDED(t) (0 || (t) == 56)\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_CGROUP_ID 4242ull\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_CGROUP_LEVEL 3\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_PIDNS_DEV 4ull\n"));
	assert_non_null(strstr(prog.text, "\n#define BWM_PIDNS_INO 4026532000ull\n"));
	program_free(&prog);
	probes_free(&t);
}

static void templates_follow_line_markers_in_order(void **state)
{
	struct config cfg = { .pid = 1, .fd_mask = BWM_FD_STDOUT };
	struct program prog;
	char *ev, *wr;

	(void)state;
	build(&prog, "/p", &cfg);
	ev = strstr(prog.text, "#line 1 \"/p/event.h\"\nstruct e { int x; };\n");
	wr = strstr(prog.text, "#line 1 \"/p/write.bpf.c\"\n#if BWM_TP(syscalls, sys_exit_write)");
	assert_non_null(ev);
	assert_non_null(wr);
	assert_true(ev < wr);
	program_free(&prog);
}

static void only_present_tracepoints_are_defined(void **state)
{
	struct config cfg = { .pid = 1, .fd_mask = BWM_FD_STDOUT };
	struct program prog;

	(void)state;
	build(&prog, "/p", &cfg);
	assert_non_null(strstr(prog.text, "#define BWM_TP(cat, ev) BWM_TP_##cat##__##ev\n"));
	assert_non_null(strstr(prog.text, "#define BWM_TP_syscalls__sys_exit_write 1\n"));
	assert_null(strstr(prog.text, "BWM_TP_syscalls__sys_exit_sendmmsg"));
	assert_non_null(strstr(prog.text, "#define BWM_TP_syscalls__sys_exit_sendto 1\n"));
	assert_int_equal(prog.nrefs, 3);	/* duplicates and broken uses are skipped */
	assert_true(prog.refs[0].present);
	assert_string_equal(prog.refs[0].ev, "sys_exit_write");
	assert_false(prog.refs[1].present);
	assert_string_equal(prog.refs[2].ev, "sys_exit_sendto");
	assert_string_equal(prog.refs[2].func_ev, "sys_exit_write");
	assert_true(prog.refs[2].present);
	assert_int_equal(prog.refs[2].stage, 2);
	program_free(&prog);
}

static void paths_are_escaped(void **state)
{
	struct config cfg = { .pid = 1, .fd_mask = BWM_FD_STDOUT };
	struct program prog;

	(void)state;
	build(&prog, "/tmp/a\"b\\c\nd", &cfg);
	assert_non_null(strstr(prog.text, "#line 1 \"/tmp/a\\\"b\\\\c\\012d/write.bpf.c\"\n"));
	program_free(&prog);
}

static void c_escape(void **state)
{
	char out[64];

	(void)state;
	program_c_escape("plain", out, sizeof(out));
	assert_string_equal(out, "plain");
	program_c_escape("q\"b\\\x01\xff", out, sizeof(out));
	assert_string_equal(out, "q\\\"b\\\\\\001\\377");
	program_c_escape("truncated at the end of the buffer", out, 10);
	assert_true(strlen(out) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(constants_are_baked_as_numbers),
		cmocka_unit_test(target_constants),
		cmocka_unit_test(templates_follow_line_markers_in_order),
		cmocka_unit_test(only_present_tracepoints_are_defined),
		cmocka_unit_test(paths_are_escaped),
		cmocka_unit_test(c_escape),
	};

	return cmocka_run_group_tests_name("program", tests, NULL, NULL);
}
