/* SPDX-License-Identifier: GPL-2.0 */
/*
 * embedded.S - the probes/ templates linked into the binary, so that a lone
 * binary still works. Assembled from the repository root (see Makefile).
 */
	.section .rodata
	.balign 8

	.global bwm_embedded_event_h
	.global bwm_embedded_event_h_end
bwm_embedded_event_h:
	.incbin "probes/event.h"
bwm_embedded_event_h_end:

	.global bwm_embedded_arch
	.global bwm_embedded_arch_end
bwm_embedded_arch:
	.incbin "probes/arch-x86_64.h"
bwm_embedded_arch_end:

	.global bwm_embedded_common
	.global bwm_embedded_common_end
bwm_embedded_common:
	.incbin "probes/common.bpf.h"
bwm_embedded_common_end:

	.global bwm_embedded_lifecycle
	.global bwm_embedded_lifecycle_end
bwm_embedded_lifecycle:
	.incbin "probes/lifecycle.bpf.c"
bwm_embedded_lifecycle_end:

	.global bwm_embedded_write
	.global bwm_embedded_write_end
bwm_embedded_write:
	.incbin "probes/write.bpf.c"
bwm_embedded_write_end:

	.section .note.GNU-stack,"",@progbits
