/*
 * test_typetab.c - interned type names: numbering, lookup, and names that
 * never move (simulation threads read them while the reader interns).
 */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "typetab.h"

/* Indices are 1, 2, ... in order of first appearance; 0 is untyped. */
static void test_numbering(void)
{
	struct typetab *t = typetab_create();

	CHECK_U64(typetab_count(t), 1);
	CHECK_STR(typetab_name(t, TYPETAB_UNTYPED), "");
	CHECK_U64(typetab_intern(t, "list", 4), 1);
	CHECK_U64(typetab_intern(t, "int", 3), 2);
	CHECK_U64(typetab_intern(t, "list", 4), 1);
	CHECK_U64(typetab_intern(t, "dict_extra", 4), 3);  /* "dict" */
	CHECK_U64(typetab_intern(t, "", 0), TYPETAB_UNTYPED);
	CHECK_STR(typetab_name(t, 3), "dict");
	CHECK_U64(typetab_find(t, "int"), 2);
	CHECK_U64(typetab_find(t, "float"), UINT32_MAX);
	CHECK_STR(typetab_name(t, 4), "");                   /* out of range */
	CHECK_U64(typetab_count(t), 4);
	typetab_destroy(t);
}

/*
 * 200,000 names of up to 63 characters: past many directory blocks
 * (16 << k pointers each) and character blocks (4 KiB doubling). The
 * pointer returned for the first names must stay the same throughout.
 */
static void test_names_never_move(void)
{
	struct typetab *t = typetab_create();
	const char *first[16];
	char name[64];
	int ok = 1;

	for (uint32_t i = 0; i < 200000; i++) {
		int n = snprintf(name, sizeof name, "t%u_%.*s", i, (int)(i % 50),
				 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		uint32_t k = typetab_intern(t, name, (size_t)n);

		ok &= k == i + 1;
		if (i < 16)
			first[i] = typetab_name(t, k);
	}
	CHECK(ok);
	CHECK_U64(typetab_count(t), 200001);
	for (uint32_t i = 0; i < 16; i++)
		CHECK(typetab_name(t, i + 1) == first[i]);
	CHECK_STR(typetab_name(t, 200000), "t199999_abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw");
	CHECK_U64(typetab_find(t, "t12345_abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs"), 12346);
	typetab_destroy(t);
}

int main(void)
{
	TEST_RUN(test_numbering);
	TEST_RUN(test_names_never_move);
	return test_done();
}
