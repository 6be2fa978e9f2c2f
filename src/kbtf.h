/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_KBTF_H
#define BWM_KBTF_H

/*
 * Byte offset of member in struct sname of the *running* kernel, from its BTF
 * (/sys/kernel/btf/vmlinux), looking through anonymous structs and unions;
 * -1 when there is no BTF or no such member. The kernel headers libbcc
 * compiles against may be stand-ins for another version: offsets that must
 * be right come from here and are baked into the program as constants.
 */
long kbtf_member_offset(const char *sname, const char *member);

#endif /* BWM_KBTF_H */
