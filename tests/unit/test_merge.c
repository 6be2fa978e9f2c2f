// SPDX-License-Identifier: GPL-2.0
/* Unit tests: per-CPU queues merged into timestamp order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"

static char got[8192];

static void collect(void *cookie, const struct bwm_event *ev)
{
	size_t o = strlen(got);

	(void)cookie;
	snprintf(got + o, sizeof(got) - o, "%s%llu:%.*s", o ? " " : "",
		 (unsigned long long)ev->ts, (int)ev->len, ev->data);
}

/* Push a record as the perf buffer would: padded to 8 bytes. */
static int push(struct merger *r, int cpu, uint64_t ts, const char *data)
{
	char raw[256] = { 0 };
	struct bwm_event ev = { .ts = ts, .type = BWM_EV_WRITE, .len = strlen(data) };
	size_t size = (sizeof(ev) + ev.len + 7) & ~7ul;

	memcpy(raw, &ev, sizeof(ev));
	memcpy(raw + sizeof(ev), data, ev.len);
	return merge_push(r, cpu, raw, size);
}

static int setup(void **state)
{
	got[0] = '\0';
	*state = merge_new(4);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	merge_free(*state);
	return 0;
}

static void merges_cpus_by_timestamp(void **state)
{
	struct merger *r = *state;

	push(r, 0, 10, "a");
	push(r, 0, 40, "d");
	push(r, 1, 20, "b");
	push(r, 3, 30, "c");
	push(r, 1, 50, "e");
	assert_int_equal(merge_release(r, UINT64_MAX, collect, NULL), 5);
	assert_string_equal(got, "10:a 20:b 30:c 40:d 50:e");
	assert_int_equal(merge_queued(r), 0);
}

static void holds_events_after_the_limit(void **state)
{
	struct merger *r = *state;

	push(r, 0, 10, "a");
	push(r, 1, 30, "c");
	assert_int_equal(merge_release(r, 20, collect, NULL), 1);
	assert_string_equal(got, "10:a");
	push(r, 0, 25, "b");
	assert_int_equal(merge_release(r, 40, collect, NULL), 2);
	assert_string_equal(got, "10:a 25:b 30:c");
}

static void ties_keep_cpu_order_and_queue_order(void **state)
{
	struct merger *r = *state;

	push(r, 1, 10, "x");
	push(r, 0, 10, "y");
	push(r, 0, 10, "z");
	merge_release(r, UINT64_MAX, collect, NULL);
	assert_string_equal(got, "10:y 10:z 10:x");
}

static void malformed_records_are_counted(void **state)
{
	struct merger *r = *state;
	struct bwm_event ev = { .ts = 1, .len = 1000 };

	assert_int_equal(merge_push(r, 0, &ev, sizeof(ev)), -1);
	assert_int_equal(merge_push(r, 0, "short", 5), -1);
	assert_int_equal(merge_push(r, 9, &ev, sizeof(ev)), -1);
	assert_int_equal(merge_malformed(r), 3);
	assert_int_equal(merge_queued(r), 0);
}

static void lost_records_are_counted_per_cpu(void **state)
{
	struct merger *r = *state;

	merge_lost(r, 1, 5);
	merge_lost(r, 1, 2);
	merge_lost(r, 3, 1);
	assert_int_equal(merge_lost_on(r, 1), 7);
	assert_int_equal(merge_lost_on(r, 3), 1);
	assert_int_equal(merge_lost_on(r, 0) + merge_lost_on(r, 1) + merge_lost_on(r, 2) +
			 merge_lost_on(r, 3), 8);
}

static uint64_t seen, last_ts;
static int ordered;

static void count_in_order(void *cookie, const struct bwm_event *ev)
{
	(void)cookie;
	ordered &= ev->ts >= last_ts;
	last_ts = ev->ts;
	seen++;
}

static void many_records_grow_the_queues(void **state)
{
	struct merger *r = *state;
	uint64_t i;

	for (i = 0; i < 100000; i++)
		push(r, i % 4, i * 3 + (i % 4), "0123456789012345678901234567890123456789");
	seen = last_ts = 0;
	ordered = 1;
	assert_int_equal(merge_release(r, UINT64_MAX, count_in_order, NULL), 100000);
	assert_true(ordered);
	assert_int_equal(seen, 100000);
}

/* Each record below: an 8-byte size, a header, 40 bytes, padded to 8. */
#define REC	((8 + sizeof(struct bwm_event) + 40 + 7) & ~(size_t)7)

static void past_the_cap_a_record_is_dropped_and_counted(void **state)
{
	struct merger *r = *state;
	const char *d = "0123456789012345678901234567890123456789";
	uint64_t i, took = 0;

	merge_set_cap(r, 10 * REC);
	for (i = 0; i < 25; i++)
		took += push(r, 0, i, d) == 0;
	assert_int_equal(took, 10);			/* the oldest 10 are queued */
	assert_int_equal(merge_no_memory(r), 15);
	assert_int_equal(merge_capped_on(r, 0), 15);
	assert_int_equal(merge_capped_on(r, 1), 0);
	assert_int_equal(merge_no_memory_bytes(r), 15 * 40);	/* what they stood for */
	assert_int_equal(push(r, 1, 100, d), 0);	/* per CPU */
	got[0] = '\0';
	assert_int_equal(merge_release(r, 4, collect, NULL), 5);
	for (i = 0; i < 5; i++)				/* room again as they go */
		assert_int_equal(push(r, 0, 200 + i, d), 0);
	assert_int_equal(push(r, 0, 300, d), -1);
	assert_int_equal(merge_no_memory(r), 16);
	assert_int_equal(merge_release(r, UINT64_MAX, count_in_order, NULL), 11);
}

static void the_tools_cap_is_twice_a_buffer_and_1_mib_at_least(void **state)
{
	(void)state;
	assert_int_equal(MERGE_CAP(1024, 4096), 8u << 20);
	assert_int_equal(MERGE_CAP(1, 4096), 1u << 20);
	assert_int_equal(MERGE_CAP(65536, 4096), 512ul << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(merges_cpus_by_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(holds_events_after_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(ties_keep_cpu_order_and_queue_order, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_records_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_records_are_counted_per_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(many_records_grow_the_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(past_the_cap_a_record_is_dropped_and_counted, setup,
						teardown),
		cmocka_unit_test(the_tools_cap_is_twice_a_buffer_and_1_mib_at_least),
	};

	return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
