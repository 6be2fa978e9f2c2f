/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_BALANCE_H
#define BWM_BALANCE_H

#include <stdint.h>

#include "../probes/event.h"

/*
 * The balance (balance.c): for every record, the bytes written that it
 * stands for but does not carry, by the reason the ledger counts them under.
 * Bytes written = bytes captured + the sum of these over all records + the
 * bytes of records that never arrived (counted by the probes).
 */
struct shortfall {
	uint64_t past_max;	/* past --max-bytes */
	uint64_t unwalked;	/* iovecs or messages past the probes' walk limits */
	uint64_t messages;	/* sendmmsg messages not walked (their bytes: unwalked) */
	uint64_t unreadable;	/* in user buffers the probe could not read */
	uint64_t transferred;	/* moved inside the kernel (splice, sendfile) */
};

/*
 * What record ev leaves out, by reason; max_bytes is --max-bytes. Only a
 * call's last record (BWM_F_LAST) and transfer and skipped-message records
 * leave anything out; lifecycle records leave nothing.
 */
void balance_shortfall(const struct bwm_event *ev, uint64_t max_bytes, struct shortfall *s);

/* All bytes a shortfall counts. */
uint64_t balance_sum(const struct shortfall *s);

/* The bytes written a record stands for (its payload and shortfall), for a record dropped. */
uint64_t balance_record_bytes(const struct bwm_event *ev);

#endif /* BWM_BALANCE_H */
