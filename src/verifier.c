// SPDX-License-Identifier: GPL-2.0
/*
 * verifier.c - verifying programs several at a time, and telling an operator
 * what the verifier objected to (its log's end and a hint).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "options.h"
#include "verifier.h"

#define VERIFIER_TAIL_LINES	20

/* What to do about the verifier's most common objections. */
static const struct {
	const char *needle;
	const char *hint;
} verifier_hints[] = {
	{ "invalid access to map value", "an access past the end of a map value: bound the "
	  "offset and size (see the masks in write.bpf.c)" },
	{ "min value is negative", "a length may be negative: make it an unsigned u64, clamp "
	  "it, then mask it (asm volatile) so the bound survives" },
	{ "unbounded memory access", "a length has no upper bound: clamp and mask it" },
	{ "invalid mem access", "a pointer may be NULL or is not a pointer: check map "
	  "lookups for NULL and read kernel or user memory with bpf_probe_read_*()" },
	{ "back-edge", "a loop the verifier cannot bound: give it a constant bound" },
	{ "too large", "the program is too big or too complex: lower a loop bound" },
	{ "stack", "the 512-byte stack is exceeded: keep big buffers in a per-CPU map" },
};

/*
 * Print the end of a verifier log, the part that says what went wrong, and
 * a hint. The "; ... @ file:line" annotations are dropped: their line
 * numbers count lines of libbcc's rewritten source, not of the template.
 */
void verifier_print_log_tail(const char *log)
{
	const char *p = log + strlen(log), *line, *hint = NULL;
	int lines = 0;
	size_t i;

	while (p > log && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > log && lines <= VERIFIER_TAIL_LINES) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	fprintf(stderr, "%s: verifier log (last lines):\n%s", BWM_NAME, p > log ? "...\n" : "");
	for (line = p; *line; ) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (!(line[0] == ';' && memmem(line, n, " @ ", 3)))
			fprintf(stderr, "%.*s\n", (int)n, line);
		line += n + (end != NULL);
	}
	for (i = 0; i < sizeof(verifier_hints) / sizeof(verifier_hints[0]) && !hint; i++)
		if (strstr(p, verifier_hints[i].needle))
			hint = verifier_hints[i].hint;
	fprintf(stderr, "%s: hint: %s\n", BWM_NAME, hint ? hint : "the last lines above say "
		"what the verifier objected to; --ebpf shows the whole program");
}

/* Point stderr at a scratch file; returns the saved stderr, or -1 (nothing redirected). */
static int stderr_to(int scratch)
{
	int saved = scratch >= 0 ? dup(STDERR_FILENO) : -1;

	if (saved >= 0)
		dup2(scratch, STDERR_FILENO);
	return saved;
}

static void stderr_back(int saved)
{
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
}

/* Show the HINT lines (and libbcc's own one-line errors) that libbcc wrote to scratch. */
void verifier_replay_hints(int scratch)
{
	char line[512];
	FILE *f;

	if (scratch < 0 || (f = fdopen(dup(scratch), "r")) == NULL)
		return;
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "HINT:", 5) || !strncmp(line, "bpf:", 4))
			fputs(line, stderr);
	fclose(f);
}

void verify_in_parallel(void *(*worker)(void *), void *job, const char *scratch_name,
			 int *scratch_out)
{
	int scratch = memfd_create(scratch_name, MFD_CLOEXEC), saved, started = 0, i;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu;
	pthread_t th[4];

	fflush(stderr);
	saved = stderr_to(scratch);
	for (i = 0; i < nth; i++)
		started += pthread_create(&th[started], NULL, worker, job) == 0;
	if (!started)
		worker(job);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	stderr_back(saved);
	if (scratch_out)
		*scratch_out = scratch;
	else if (scratch >= 0)
		close(scratch);
}
