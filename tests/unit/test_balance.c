// SPDX-License-Identifier: GPL-2.0
/*
 * test_balance - each record's bytes not carried, by the reason the ledger
 * counts them under (src/balance.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "balance.h"
#include "format.h"
#include "ledger.h"

#define WHOLE	(BWM_F_FIRST | BWM_F_LAST)

static struct bwm_event rec(int type, unsigned flags, uint64_t total, uint64_t offset,
			    uint32_t len)
{
	return (struct bwm_event){ .type = type, .flags = flags, .total = total,
				   .offset = offset, .len = len };
}

static void past_max_bytes(void **state)
{
	struct bwm_event ev = rec(BWM_EV_WRITE, BWM_F_LAST, 100001, 32768, 32768);
	struct shortfall s;

	(void)state;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.past_max, 34465);
	assert_int_equal(balance_sum(&s), 34465);
	/* only the last record of a call says it */
	ev.flags = BWM_F_FIRST;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(balance_sum(&s), 0);
}

static void unread_under_the_limit_is_unreadable(void **state)
{
	struct bwm_event ev = rec(BWM_EV_WRITE, WHOLE, 4096, 0, 0);
	struct shortfall s;

	(void)state;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.unreadable, 4096);
	assert_int_equal(s.past_max, 0);
}

static void iovecs_past_the_walk_are_unwalked(void **state)
{
	/* a sendmmsg message of 12 iovecs of 7 bytes: 8 walked */
	struct bwm_event ev = rec(BWM_EV_WRITE, WHOLE | BWM_F_MMSG | BWM_F_UNWALKED, 84, 0, 56);
	struct shortfall s;

	(void)state;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.unwalked, 28);
	assert_int_equal(balance_sum(&s), 28);
	/* and past --max-bytes as well: each part under its reason */
	balance_shortfall(&ev, 40, &s);
	assert_int_equal(s.past_max, 44);
	assert_int_equal(s.unreadable + s.unwalked, 0);
}

static void a_message_past_32k_is_unwalked_up_to_max_bytes(void **state)
{
	struct bwm_event ev = rec(BWM_EV_WRITE, WHOLE | BWM_F_MMSG, 70000, 0, 32768);
	struct shortfall s;

	(void)state;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.past_max, 70000 - 65536);
	assert_int_equal(s.unwalked, 65536 - 32768);
	balance_shortfall(&ev, 1 << 20, &s);
	assert_int_equal(s.past_max, 0);
	assert_int_equal(s.unwalked, 70000 - 32768);
}

static void skipped_messages_and_transfers(void **state)
{
	struct bwm_event ev = rec(BWM_EV_WRITE, WHOLE | BWM_F_MSGS_SKIPPED, 1568, 8, 0);
	struct shortfall s;

	(void)state;
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.messages, 8);
	assert_int_equal(s.unwalked, 1568);
	assert_int_equal(balance_record_bytes(&ev), 1568);
	ev = rec(BWM_EV_XFER, WHOLE, 5000, 0, 0);
	balance_shortfall(&ev, 65536, &s);
	assert_int_equal(s.transferred, 5000);
	assert_int_equal(balance_record_bytes(&ev), 5000);
	ev = rec(BWM_EV_EXIT, 0, 256, 0, 0);
	assert_int_equal(balance_record_bytes(&ev), 0);
}

static void a_dropped_record_stands_for_its_bytes(void **state)
{
	struct bwm_event first = rec(BWM_EV_WRITE, BWM_F_FIRST, 100001, 0, 32768);
	struct bwm_event last = rec(BWM_EV_WRITE, BWM_F_LAST, 100001, 32768, 32768);

	(void)state;
	assert_int_equal(balance_record_bytes(&first), 32768);
	assert_int_equal(balance_record_bytes(&last), 100001 - 32768);
}

/* The summary line of a ledger with these losses. */
static char *summary_line(const struct ledger *src)
{
	struct ledger l = *src;
	char *buf = NULL;
	size_t n = 0;

	l.out = open_memstream(&buf, &n);
	ledger_summary(&l, 3, 70400, 0.4);
	fclose(l.out);
	return buf;
}

static void summary_line_names_each_reason(void **state)
{
	struct ledger l = { 0 };
	char *line;

	(void)state;
	line = summary_line(&l);
	assert_string_equal(line, "bpf_write_monitor: 3 lines, 70400 bytes captured, "
			    "0 events lost, 0.4 s\n");
	free(line);
	l.n[LOSS_NOT_CAPTURED] = 34465;
	l.n[LOSS_UNWALKED_BYTES] = 1568;
	l.n[LOSS_UNWALKED_MESSAGES] = 8;	/* a count of messages, not bytes */
	l.n[LOSS_UNREADABLE_BYTES] = 1;
	l.n[LOSS_TRANSFERRED_BYTES] = 12000;
	l.n[LOSS_LOST_BYTES] = 100;
	assert_int_equal(ledger_bytes_uncaptured(&l), 34465 + 1568 + 1 + 12000 + 100);
	line = summary_line(&l);
	assert_string_equal(line, "bpf_write_monitor: 3 lines, 70400 bytes captured, "
			    "0 events lost, 48134 bytes not captured (34465 past --max-bytes, "
			    "1568 not walked, 1 unreadable, 12000 moved by splice/sendfile, "
			    "100 in lost events), 0.4 s\n");
	free(line);
}

static void summary_record_has_a_field_for_each_reason(void **state)
{
	struct ledger l = { 0 };
	struct outbuf ob = { 0 };

	(void)state;
	l.n[LOSS_UNWALKED_BYTES] = 1568;
	l.n[LOSS_TRANSFERRED_BYTES] = 12000;
	l.n[LOSS_UNSTASHED_CALLS] = 2;
	ledger_summary_json(&l, &ob, 3, 70400, 0.4);
	ob_put(&ob, "", 1);
	assert_non_null(strstr(ob.p, "{\"type\":\"summary\",\"lines\":3,\"bytes\":70400,"
				     "\"events_lost\":0,\"uncaptured_bytes\":13568,"));
	assert_non_null(strstr(ob.p, ",\"unwalked_bytes\":1568,"));
	assert_non_null(strstr(ob.p, ",\"transferred_bytes\":12000,"));
	assert_non_null(strstr(ob.p, ",\"unstashed_calls\":2,"));
	assert_non_null(strstr(ob.p, ",\"not_captured_bytes\":0,"));
	ob_free(&ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(past_max_bytes),
		cmocka_unit_test(unread_under_the_limit_is_unreadable),
		cmocka_unit_test(iovecs_past_the_walk_are_unwalked),
		cmocka_unit_test(a_message_past_32k_is_unwalked_up_to_max_bytes),
		cmocka_unit_test(skipped_messages_and_transfers),
		cmocka_unit_test(a_dropped_record_stands_for_its_bytes),
		cmocka_unit_test(summary_line_names_each_reason),
		cmocka_unit_test(summary_record_has_a_field_for_each_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
