/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_VERIFIER_H
#define BWM_VERIFIER_H

/*
 * Run worker(job) on up to four threads at once (loading verifies programs
 * one by one, slowly), with stderr pointed at a scratch memfd meanwhile
 * (libbcc prints whole verifier logs there): its fd goes to *scratch_out
 * (the caller closes it), or it is closed when scratch_out is NULL.
 */
void verify_in_parallel(void *(*worker)(void *), void *job, const char *scratch_name,
			 int *scratch_out);

/*
 * Print the end of a verifier log, the part that says what went wrong, and
 * a hint, on stderr.
 */
void verifier_print_log_tail(const char *log);

/* Show the HINT lines (and libbcc's own one-line errors) that libbcc wrote to scratch. */
void verifier_replay_hints(int scratch);

#endif /* BWM_VERIFIER_H */
