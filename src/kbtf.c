// SPDX-License-Identifier: GPL-2.0
/*
 * kbtf.c - struct member offsets from the running kernel's BTF (libbpf).
 *
 * Kept apart from tracer.c: libbpf's headers and libbcc's libbpf.h clash.
 */
#include <string.h>

#include <bpf/btf.h>

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

long kbtf_member_offset(const char *sname, const char *member)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	long off = -1;
	int id;

	if (!btf)	/* libbpf 1.x: NULL and errno on failure */
		return -1;
	id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	if (id > 0 && (t = btf__type_by_id(btf, id)) != NULL)
		off = find_member(btf, t, member, 0);
	btf__free(btf);
	return off;
}
