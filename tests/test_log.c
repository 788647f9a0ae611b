/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Escaping of packet bytes before they reach a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "log.h"

static void test_escape_hostile_bytes(void **state)
{
	const uint8_t in[] = "a%n\n\r\\b\xff\x00z";
	char out[128];
	size_t n;

	(void)state;
	n = log_escape(out, sizeof(out), in, sizeof(in) - 1);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "a\\037n\\010\\013\\092b\\255\\000z");
	/* nothing that syslog or a terminal would interpret survives */
	assert_null(strchr(out, '%'));
	assert_null(strchr(out, '\n'));
}

static void test_escape_cuts_at_whole_escape(void **state)
{
	const uint8_t in[] = "ab\x01";
	char out[6];

	(void)state;
	/* "ab" fits, "\001" needs 4 more plus the NUL */
	assert_int_equal(log_escape(out, sizeof(out), in, 3), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(log_escape(out, 1, in, 3), 0);
	assert_string_equal(out, "");
	assert_int_equal(log_escape(out, 0, in, 3), 0);
}

static void test_errno_kept(void **state)
{
	(void)state;
	log_init("test_log", 0, 0);
	errno = ENOENT;
	log_warn("a %s", "test");
	assert_int_equal(errno, ENOENT);
	log_warnx("x");
	log_info("y");
	log_debug("z");
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_hostile_bytes),
		cmocka_unit_test(test_escape_cuts_at_whole_escape),
		cmocka_unit_test(test_errno_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
