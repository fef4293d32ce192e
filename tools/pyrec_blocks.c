/*
 * pyrec_blocks.c - pyrec's table of live blocks (pyrec_blocks.h has the
 * layout and the bound; docs/recording.md the measurements).
 *
 *  1. hash(addr) = (addr >> 3) * 0x9E3779B97F4A7C15 (odd, so a bijection
 *     on 64 bits: equal hashes mean equal addresses); the home slot is
 *     hash * cap >> 64, which is monotonic in the hash (Lemire's
 *     multiply-shift range reduction), so Robin Hood ordering keeps the
 *     whole table sorted by hash.
 *  2. find: from the home slot, skip smaller hashes; stop at an empty
 *     slot or a larger hash (absent) or an equal one (found).
 *  3. put: the first slot with an empty or a larger hash is the block's;
 *     the run from there to the next empty slot moves right by one.
 *  4. del: the displaced blocks after the hole (home before their slot)
 *     move left by one, up to the first empty or at-home slot.
 *  5. grow (85% full, or a run reaching the tail): 1.5x; blocks are
 *     copied in slot order to max(new home, previous + 1), which is
 *     where Robin Hood insertion in hash order puts them, and the old
 *     arrays are released 64 KiB at a time behind the copy.
 *  6. IDs: a bitmap and a one-bit-per-word "full" summary; the lowest
 *     free ID is found from `hint`, the lowest word that may have one.
 */
#define _GNU_SOURCE
#include "pyrec_blocks.h"

#include <string.h>
#include <sys/mman.h>

#define HASH_MUL 0x9E3779B97F4A7C15u
#define MIN_CAP 4096
#define MAX_LOAD_NUM 85         /* grow past 85% ... */
#define MAX_LOAD_DEN 100
#define RELEASE_STEP ((size_t)64 << 10)  /* bytes released at a time */
#define ADDR_LIMIT ((uint64_t)1 << 47)

static uint64_t hash_of_key(uint64_t key)
{
	return (key >> PYB_AUX_BITS) * HASH_MUL;
}

static size_t home_of(uint64_t h, size_t cap)
{
	return (size_t)(((unsigned __int128)h * cap) >> 64);
}

static void *map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define SLOT_BYTES (sizeof(uint64_t) + sizeof(uint32_t))

static size_t slots_bytes(size_t cap)
{
	return (cap + PYB_TAIL) * SLOT_BYTES;
}

static void account(struct pyb_table *t, size_t plus, size_t minus)
{
	t->bytes = t->bytes + plus - minus;
	if (t->bytes > t->bytes_peak)
		t->bytes_peak = t->bytes;
}

/* Maps the key and ID arrays for CAP home slots (zero-filled). */
static int slots_map(size_t cap, uint64_t **key, uint32_t **id)
{
	*key = map((cap + PYB_TAIL) * sizeof **key);
	*id = map((cap + PYB_TAIL) * sizeof **id);
	if (*key && *id)
		return 0;
	if (*key)
		munmap(*key, (cap + PYB_TAIL) * sizeof **key);
	if (*id)
		munmap(*id, (cap + PYB_TAIL) * sizeof **id);
	return -1;
}

int pyb_init(struct pyb_table *t)
{
	memset(t, 0, sizeof *t);
	if (slots_map(MIN_CAP, &t->key, &t->id) < 0)
		return -1;
	t->cap = MIN_CAP;
	t->nwords = 64;
	t->word = map(t->nwords * sizeof *t->word);
	t->full = map(sizeof *t->full);
	if (!t->word || !t->full)
		return -1;
	t->word[0] = 1;         /* ID 0 is the root set's */
	account(t, slots_bytes(t->cap) + t->nwords * sizeof *t->word + sizeof *t->full, 0);
	return 0;
}

void pyb_free(struct pyb_table *t)
{
	if (t->key)
		munmap(t->key, (t->cap + PYB_TAIL) * sizeof *t->key);
	if (t->id)
		munmap(t->id, (t->cap + PYB_TAIL) * sizeof *t->id);
	if (t->word)
		munmap(t->word, t->nwords * sizeof *t->word);
	if (t->full)
		munmap(t->full, (t->nwords / 64) * sizeof *t->full);
	memset(t, 0, sizeof *t);
}

size_t pyb_find(const struct pyb_table *t, uintptr_t addr)
{
	uint64_t h = (uint64_t)(addr >> 3) * HASH_MUL;
	size_t i = home_of(h, t->cap), end = t->cap + PYB_TAIL;

	for (; i < end && t->key[i]; i++) {
		uint64_t hs = hash_of_key(t->key[i]);

		if (hs == h)
			return i;
		if (hs > h)
			break;
	}
	return PYB_NOT_FOUND;
}

/* Releases the whole pages of [base, base + upto) not yet released, in
 * steps of RELEASE_STEP; returns 1 when it released some. */
static int release_behind(void *base, size_t upto, size_t *done)
{
	size_t page = 4096, to = upto / page * page;

	if (to < *done + RELEASE_STEP)
		return 0;
	madvise((char *)base + *done, to - *done, MADV_DONTNEED);
	*done = to;
	return 1;
}

/* Copies every block into a table of NEWCAP home slots. -1: no memory,
 * or the copy would pass the tail (the caller tries a larger table). */
static int rebuild(struct pyb_table *t, size_t newcap)
{
	uint64_t *nk;
	uint32_t *ni;
	size_t end = t->cap + PYB_TAIL, nend = newcap + PYB_TAIL, next = 0;
	size_t kdone = 0, idone = 0;

	if (slots_map(newcap, &nk, &ni) < 0)
		return -1;
	/* A dry run first: the copy must fit before the old table goes. */
	for (size_t i = 0; i < end; i++) {
		if (!t->key[i])
			continue;
		size_t h = home_of(hash_of_key(t->key[i]), newcap);

		next = (h > next ? h : next) + 1;
		if (next > nend) {
			munmap(nk, nend * sizeof *nk);
			munmap(ni, nend * sizeof *ni);
			return -1;
		}
	}
	/* Resident bytes during the copy: the new table up to the last
	 * page written, the old one from the first page not released. */
	size_t other = t->bytes - slots_bytes(t->cap);

	next = 0;
	for (size_t i = 0; i < end; i++) {
		if (t->key[i]) {
			size_t h = home_of(hash_of_key(t->key[i]), newcap);
			size_t at = h > next ? h : next;

			nk[at] = t->key[i];
			ni[at] = t->id[i];
			next = at + 1;
		}
		if (release_behind(t->key, (i + 1) * sizeof *t->key, &kdone) |
		    release_behind(t->id, (i + 1) * sizeof *t->id, &idone)) {
			t->bytes = other + next * SLOT_BYTES + slots_bytes(t->cap) - kdone - idone;
			account(t, 0, 0);
		}
	}
	munmap(t->key, end * sizeof *t->key);
	munmap(t->id, end * sizeof *t->id);
	t->bytes = other + slots_bytes(newcap);
	account(t, 0, 0);
	t->key = nk;
	t->id = ni;
	t->cap = newcap;
	return 0;
}

static int grow(struct pyb_table *t)
{
	for (size_t c = t->cap + t->cap / 2; c > t->cap; c += c / 2)
		if (rebuild(t, c) == 0)
			return 0;
	return -1;
}

int pyb_put(struct pyb_table *t, uintptr_t addr, uint32_t id, unsigned aux)
{
	if ((addr & 7) || addr == 0 || (uint64_t)addr >= ADDR_LIMIT)
		return -1;
	uint64_t key = ((uint64_t)(addr >> 3) << PYB_AUX_BITS) | (aux & PYB_AUX_MASK);
	uint64_t h = (uint64_t)(addr >> 3) * HASH_MUL;

	if ((t->n + 1) * MAX_LOAD_DEN > t->cap * MAX_LOAD_NUM && grow(t) < 0)
		return -1;
	for (;;) {
		size_t end = t->cap + PYB_TAIL, p = home_of(h, t->cap), e;

		while (p < end && t->key[p] && hash_of_key(t->key[p]) < h)
			p++;
		for (e = p; e < end && t->key[e]; e++)
			;
		if (e == end) {
			if (grow(t) < 0)
				return -1;
			continue;
		}
		memmove(t->key + p + 1, t->key + p, (e - p) * sizeof *t->key);
		memmove(t->id + p + 1, t->id + p, (e - p) * sizeof *t->id);
		t->key[p] = key;
		t->id[p] = id;
		if (++t->n > t->peak)
			t->peak = t->n;
		return 0;
	}
}

void pyb_del(struct pyb_table *t, size_t slot)
{
	size_t end = t->cap + PYB_TAIL, j = slot + 1;

	while (j < end && t->key[j] && home_of(hash_of_key(t->key[j]), t->cap) < j)
		j++;
	memmove(t->key + slot, t->key + slot + 1, (j - slot - 1) * sizeof *t->key);
	memmove(t->id + slot, t->id + slot + 1, (j - slot - 1) * sizeof *t->id);
	t->key[j - 1] = 0;
	t->n--;
}

/* Doubles the ID bitmap (mremap keeps the pages; the new half is zero). */
static int ids_grow(struct pyb_table *t)
{
	size_t n = t->nwords * 2;
	void *w = mremap(t->word, t->nwords * sizeof *t->word, n * sizeof *t->word, MREMAP_MAYMOVE);
	void *f;

	if (w == MAP_FAILED)
		return -1;
	t->word = w;
	f = mremap(t->full, t->nwords / 64 * sizeof *t->full, n / 64 * sizeof *t->full,
		   MREMAP_MAYMOVE);
	if (f == MAP_FAILED)
		return -1;
	t->full = f;
	account(t, (n - t->nwords) * sizeof *t->word + (n - t->nwords) / 64 * sizeof *t->full, 0);
	t->nwords = n;
	return 0;
}

uint32_t pyb_id_new(struct pyb_table *t)
{
	for (;;) {
		for (size_t s = t->hint / 64; s < t->nwords / 64; s++) {
			if (t->full[s] == UINT64_MAX)
				continue;
			size_t w = s * 64 + (size_t)__builtin_ctzll(~t->full[s]);
			unsigned b = (unsigned)__builtin_ctzll(~t->word[w]);
			uint64_t id = (uint64_t)w * 64 + b;

			if (id > UINT32_MAX)
				return 0;
			t->word[w] |= (uint64_t)1 << b;
			if (t->word[w] == UINT64_MAX)
				t->full[s] |= (uint64_t)1 << (w % 64);
			t->hint = w;
			return (uint32_t)id;
		}
		t->hint = t->nwords;
		if ((uint64_t)t->nwords * 64 > UINT32_MAX || ids_grow(t) < 0)
			return 0;
	}
}

void pyb_id_free(struct pyb_table *t, uint32_t id)
{
	size_t w = id / 64;

	t->word[w] &= ~((uint64_t)1 << (id % 64));
	t->full[w / 64] &= ~((uint64_t)1 << (w % 64));
	if (w < t->hint)
		t->hint = w;
}

int pyb_check(const struct pyb_table *t)
{
	size_t end = t->cap + PYB_TAIL, n = 0;
	uint64_t prev = 0;
	int have_prev = 0;

	for (size_t i = 0; i < end; i++) {
		if (!t->key[i])
			continue;
		uint64_t h = hash_of_key(t->key[i]);

		if (home_of(h, t->cap) > i || (have_prev && h <= prev))
			return -1;
		if (!(t->word[t->id[i] / 64] >> (t->id[i] % 64) & 1))
			return -1;      /* a block's ID must be allocated */
		prev = h;
		have_prev = 1;
		n++;
	}
	if (n != t->n)
		return -1;
	for (size_t w = 0; w < t->nwords; w++) {
		int full = t->word[w] == UINT64_MAX;

		if (full != (int)(t->full[w / 64] >> (w % 64) & 1))
			return -1;
		if (w < t->hint && !full)
			return -1;
	}
	return 0;
}
