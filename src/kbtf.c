// SPDX-License-Identifier: GPL-2.0
/*
 * kbtf.c - struct member offsets from the running kernel's BTF, and what its
 * BPF offers, probed (libbpf).
 *
 * Kept apart from tracer.c: libbpf's headers and libbcc's libbpf.h clash.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "host.h"
#include "kbtf.h"

/* Offset in bytes of member in composite type t, searching anonymous members too. */
static long find_member(const struct btf *btf, const struct btf_type *t, const char *member,
			int depth)
{
	const struct btf_member *m = btf_members(t);
	int i, n = btf_vlen(t);

	for (i = 0; i < n; i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		long bits = btf_member_bit_offset(t, i), inner;
		const struct btf_type *mt;

		if (name && !strcmp(name, member))
			return bits % 8 ? -1 : bits / 8;
		if ((name && *name) || depth > 8)
			continue;
		mt = btf__type_by_id(btf, m->type);
		while (mt && (btf_is_mod(mt) || btf_is_typedef(mt)))
			mt = btf__type_by_id(btf, mt->type);
		if (!mt || !btf_is_composite(mt))
			continue;
		inner = find_member(btf, mt, member, depth + 1);
		if (inner >= 0)
			return bits / 8 + inner;
	}
	return -1;
}

static struct btf *vmlinux;

long kbtf_member_offset(const char *sname, const char *member)
{
	const struct btf_type *t;
	long off = -1;
	int id;

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)	/* libbpf 1.x: NULL and errno on failure */
		return -1;
	id = btf__find_by_name_kind(vmlinux, sname, BTF_KIND_STRUCT);
	if (id > 0 && (t = btf__type_by_id(vmlinux, id)) != NULL)
		off = find_member(vmlinux, t, member, 0);
	return off;
}

void kbtf_release(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
}

int kbtf_has_helper(int helper)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, helper, NULL);
}

int kbtf_has_tracepoint_programs(void)
{
	return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL);
}

int kbtf_has_perf_event_array(void)
{
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERF_EVENT_ARRAY, NULL);
}

static bool has_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

static const char *env(const char *name)
{
	return getenv(name);
}

static int cannot_tell(void)
{
	return -1;
}

static int cannot_tell_helper(int helper)
{
	(void)helper;
	return -1;
}

const struct kfeat_ops *kbtf_ops(bool load_probes)
{
	static struct utsname u;
	static struct kfeat_ops ops = {
		.has_btf = has_btf,
		.has_helper = kbtf_has_helper,
		.has_tracepoint_programs = kbtf_has_tracepoint_programs,
		.has_perf_event_array = kbtf_has_perf_event_array,
		.tp_has_field = host_tracepoint_has_field,
		.member_offset = kbtf_member_offset,
		.env = env,
	};

	if (!ops.release)
		ops.release = uname(&u) == 0 ? u.release : "unknown";
	ops.has_helper = load_probes ? kbtf_has_helper : cannot_tell_helper;
	ops.has_tracepoint_programs = load_probes ? kbtf_has_tracepoint_programs : cannot_tell;
	ops.has_perf_event_array = load_probes ? kbtf_has_perf_event_array : cannot_tell;
	return &ops;
}
