/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_KBTF_H
#define BWM_KBTF_H

#include <stdbool.h>

#include "kfeat.h"

/*
 * Byte offset of member in struct sname of the *running* kernel, from its BTF
 * (/sys/kernel/btf/vmlinux), looking through anonymous structs and unions;
 * -1 when there is no BTF or no such member. The kernel headers libbcc
 * compiles against may be stand-ins for another version: offsets that must
 * be right come from here and are baked into the program as constants.
 */
long kbtf_member_offset(const char *sname, const char *member);

/* Free the running kernel's BTF, parsed once by kbtf_member_offset(). */
void kbtf_release(void);

/*
 * What the running kernel's BPF offers a tracepoint program, probed by
 * loading a tiny program (libbpf): 1 yes, 0 no, negative when it cannot be
 * told (e.g. no privileges). helper: a BPF_FUNC_* id.
 */
int kbtf_has_helper(int helper);
int kbtf_has_tracepoint_programs(void);
int kbtf_has_perf_event_array(void);

/*
 * The running kernel, for kfeat_detect(). load_probes: probe helpers and
 * program types by loading programs (needs privileges); else "cannot tell".
 */
const struct kfeat_ops *kbtf_ops(bool load_probes);

#endif /* BWM_KBTF_H */
