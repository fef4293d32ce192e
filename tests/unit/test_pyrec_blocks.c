/*
 * test_pyrec_blocks.c - tools/pyrec_blocks.c, pyrec's table of live
 * blocks, against a second, naive implementation kept in the test (a
 * direct-mapped array over a small address range), through growth,
 * deletion runs and ID reuse; and its bound of 24 bytes per live block.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../../tools/pyrec_blocks.h"

#define SPAN 400000             /* distinct addresses */
#define BASE ((uintptr_t)0x7f0000000000u)

static uint64_t rng = 88172645463325252u;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The naive model: per address, the ID (0: absent) and aux. */
static uint32_t model_id[SPAN];
static unsigned model_aux[SPAN];

static uintptr_t addr_of(size_t i)
{
	return BASE + (uintptr_t)i * 16;
}

/* 3 million random puts, deletions, aux updates and lookups; the table
 * must agree with the model at every step and pass its own check. */
static void test_against_model(void)
{
	struct pyb_table t;
	size_t live = 0, bad = 0;

	CHECK(pyb_init(&t) == 0);
	memset(model_id, 0, sizeof model_id);
	for (long step = 0; step < 3000000; step++) {
		size_t i = (size_t)(next_rand() % SPAN);
		size_t slot = pyb_find(&t, addr_of(i));
		int op = (int)(next_rand() % 8);

		if ((slot == PYB_NOT_FOUND) != (model_id[i] == 0) ||
		    (slot != PYB_NOT_FOUND && (pyb_id(&t, slot) != model_id[i] ||
					       pyb_aux(&t, slot) != model_aux[i]))) {
			bad++;
			break;
		}
		/* Grow to ~60% of the span, then shrink, then grow again. */
		int want_put = step < 1000000 ? op < 6 : step < 2000000 ? op < 2 : op < 5;

		if (!model_id[i] && want_put) {
			uint32_t id = pyb_id_new(&t);
			unsigned aux = (unsigned)(next_rand() & PYB_AUX_MASK);

			CHECK(id != 0);
			CHECK(pyb_put(&t, addr_of(i), id, aux) == 0);
			model_id[i] = id;
			model_aux[i] = aux;
			live++;
		} else if (model_id[i] && !want_put) {
			pyb_id_free(&t, model_id[i]);
			pyb_del(&t, slot);
			model_id[i] = 0;
			live--;
		} else if (model_id[i]) {
			unsigned aux = (unsigned)(next_rand() & PYB_AUX_MASK);

			pyb_set_aux(&t, slot, aux);
			model_aux[i] = aux;
		}
		if (step % 250000 == 0)
			CHECK(pyb_check(&t) == 0);
	}
	CHECK_U64(bad, 0);
	CHECK_U64(t.n, live);
	CHECK(pyb_check(&t) == 0);
	pyb_free(&t);
}

/* IDs are the lowest free ones: 1, 2, 3; freeing 2 gives 2 back. */
static void test_lowest_free_id(void)
{
	struct pyb_table t;

	CHECK(pyb_init(&t) == 0);
	CHECK_U64(pyb_id_new(&t), 1);
	CHECK_U64(pyb_id_new(&t), 2);
	CHECK_U64(pyb_id_new(&t), 3);
	pyb_id_free(&t, 2);
	CHECK_U64(pyb_id_new(&t), 2);
	CHECK_U64(pyb_id_new(&t), 4);
	/* Past the first bitmap (64 words * 64 IDs = 4096). */
	for (uint32_t k = 5; k < 10000; k++)
		if (pyb_id_new(&t) != k) {
			CHECK_U64(k, 0);
			break;
		}
	pyb_id_free(&t, 7);
	pyb_id_free(&t, 5000);
	CHECK_U64(pyb_id_new(&t), 7);
	CHECK_U64(pyb_id_new(&t), 5000);
	CHECK_U64(pyb_id_new(&t), 10000);
	CHECK(pyb_check(&t) == 0);
	pyb_free(&t);
}

/* Misaligned, zero and too-high addresses are refused, not mis-keyed. */
static void test_refused_addresses(void)
{
	struct pyb_table t;

	CHECK(pyb_init(&t) == 0);
	CHECK(pyb_put(&t, 0, 1, 0) < 0);
	CHECK(pyb_put(&t, BASE + 4, 1, 0) < 0);
	CHECK(pyb_put(&t, (uintptr_t)1 << 47, 1, 0) < 0);
	CHECK(pyb_put(&t, BASE + 8, 1, 0) == 0);
	CHECK(pyb_find(&t, BASE + 8) != PYB_NOT_FOUND);
	CHECK(pyb_find(&t, BASE + 16) == PYB_NOT_FOUND);
	pyb_free(&t);
}

/*
 * The bound: with N live blocks the table maps at most 24 bytes per
 * block, at every step of a growth from 0 to 2 million (measured at each
 * put: bytes_peak / n), once past the minimum table.
 */
static void test_bytes_per_block(void)
{
	struct pyb_table t;
	double worst = 0;

	CHECK(pyb_init(&t) == 0);
	for (uint32_t k = 1; k <= 2000000; k++) {
		/* k * odd mod 2^40: distinct addresses in a scattered order. */
		uintptr_t a = ((uintptr_t)1 << 44) + (((uintptr_t)k * 0x5851F42Du) & (((uintptr_t)1 << 40) - 1)) * 8;

		if (pyb_put(&t, a, k, 0) != 0) {
			CHECK(0);
			break;
		}
		if (k >= 100000) {
			double per = (double)t.bytes_peak / k;

			if (per > worst)
				worst = per;
		}
	}
	printf("# worst bytes per live block (table + ID bitmap, peak): %.2f\n", worst);
	CHECK(worst <= 24.0);
	pyb_free(&t);
}

int main(void)
{
	TEST_RUN(test_against_model);
	TEST_RUN(test_lowest_free_id);
	TEST_RUN(test_refused_addresses);
	TEST_RUN(test_bytes_per_block);
	return test_done();
}
