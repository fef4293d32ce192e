/*
 * test_units.c - sim/units.c: the number syntax of sizes and counts.
 * Expected values are powers of two and hexadecimal worked by hand.
 */
#include "test.h"
#include "units.h"

static uint64_t parse_ok(const char *s)
{
	const char *why = NULL;
	uint64_t v = 12345;

	CHECK(units_parse_str(s, &v, &why) == 0);
	return v;
}

static const char *parse_bad(const char *s)
{
	const char *why = NULL;
	uint64_t v = 777;

	CHECK(units_parse_str(s, &v, &why) == -1);
	CHECK_U64(v, 777);      /* untouched on error */
	return why ? why : "";
}

static void test_decimal_and_hex(void)
{
	CHECK_U64(parse_ok("0"), 0);
	CHECK_U64(parse_ok("700"), 700);
	CHECK_U64(parse_ok("0x2bc"), 700);      /* 2*256 + 11*16 + 12 */
	CHECK_U64(parse_ok("0X2BC"), 700);
	CHECK_U64(parse_ok("18446744073709551615"), UINT64_MAX);
	CHECK_U64(parse_ok("0xffffffffffffffff"), UINT64_MAX);
	CHECK_U64(parse_ok("007"), 7);
}

static void test_suffixes(void)
{
	CHECK_U64(parse_ok("1K"), 1024);
	CHECK_U64(parse_ok("10k"), 10240);
	CHECK_U64(parse_ok("256K"), 262144);
	CHECK_U64(parse_ok("1M"), 1048576);
	CHECK_U64(parse_ok("4m"), 4194304);
	CHECK_U64(parse_ok("2G"), 2147483648u);
	CHECK_U64(parse_ok("1T"), UINT64_C(1099511627776));
	CHECK_U64(parse_ok("0x10K"), 16384);
	CHECK_U64(parse_ok("16777215T"), UINT64_C(16777215) << 40);
}

static void test_rejects(void)
{
	CHECK_STR(parse_bad(""), "not a whole number");
	CHECK_STR(parse_bad("K"), "not a whole number");
	CHECK_STR(parse_bad("0x"), "not a whole number");
	CHECK_STR(parse_bad("0xK"), "not a whole number");
	CHECK_STR(parse_bad("-1"), "not a whole number");
	CHECK_STR(parse_bad("+1"), "not a whole number");
	CHECK_STR(parse_bad(" 1"), "not a whole number");
	CHECK_STR(parse_bad("1 "), "not a whole number");
	CHECK_STR(parse_bad("1.5K"), "not a whole number");
	CHECK_STR(parse_bad("1e3"), "not a whole number");
	CHECK_STR(parse_bad("10KB"), "not a whole number");
	CHECK_STR(parse_bad("10KK"), "not a whole number");
	CHECK_STR(parse_bad("12ab"), "not a whole number");
	CHECK_STR(parse_bad("18446744073709551616"), "too large for 64 bits");
	CHECK_STR(parse_bad("0x10000000000000000"), "too large for 64 bits");
	CHECK_STR(parse_bad("16777216T"), "too large for 64 bits");
}

static void test_length_bound(void)
{
	const char *why;
	uint64_t v = 0;

	/* Only s[0..len) is read: "64K,128K" up to its comma. */
	CHECK(units_parse_u64("64K,128K", 3, &v, &why) == 0);
	CHECK_U64(v, 65536);
}

int main(void)
{
	TEST_RUN(test_decimal_and_hex);
	TEST_RUN(test_suffixes);
	TEST_RUN(test_rejects);
	TEST_RUN(test_length_bound);
	return test_done();
}
