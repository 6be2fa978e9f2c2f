/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arch-x86_64.h - everything the probes take from the architecture, in one
 * place: the syscall register layout, the syscall numbers and the errno
 * values they compare with. The frontend pastes the file of the machine it
 * runs on (uname -m): a port to arm64 is a new probes/arch-aarch64.h with
 * the same names, not edits all over the templates.
 *
 * Nothing here comes from the kernel headers libbcc compiles against: they
 * may be stand-ins for another version, and which of them happens to define
 * an errno value differs from one kernel to the next (5.10's and 6.12's own
 * headers define no ENOSPC where the templates see it).
 */
#ifndef BWM_ARCH_H
#define BWM_ARCH_H

/*
 * The syscall's arguments in the user registers the task saved on entry
 * (exit-only capture path, bpf_task_pt_regs()). The x86-64 syscall ABI
 * passes them in di, si, dx; the kernel writes the return value to ax
 * only, so at the syscall's exit they still hold what the caller passed.
 * orig_ax holds the syscall number.
 */
#define BWM_ARG1(r)	((r)->di)
#define BWM_ARG2(r)	((r)->si)
#define BWM_ARG3(r)	((r)->dx)
#define BWM_NR(r)	((r)->orig_ax)

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl, an ABI). */
#define BWM_NR_SENDMSG		46
#define BWM_NR_CLONE		56
#define BWM_NR_FORK		57
#define BWM_NR_VFORK		58
#define BWM_NR_SPLICE		275
#define BWM_NR_COPY_FILE_RANGE	326
#define BWM_NR_CLONE3		435

/* errno values the probes compare with (asm-generic/errno-base.h). */
#define BWM_ENOSPC		28

/* CLONE_THREAD (uapi/linux/sched.h; the same on every architecture). */
#define BWM_CLONE_THREAD	0x00010000

/*
 * Not captured on x86-64 today: 32-bit (ia32 compat) tasks, whose write
 * syscalls go through the compat entry with other numbers and a 32-bit
 * struct iovec; the syscalls:sys_* tracepoints do not fire for them.
 */

#endif /* BWM_ARCH_H */
