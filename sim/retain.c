/*
 * retain.c - dominators, retained sizes and shortest reference paths of
 * the live object graph (see retain.h for the algorithm and its source).
 *
 * Everything below works on explicit arrays: the depth-first search
 * keeps its own stack of (node, next reference) pairs, path compression
 * walks up the forest with an array stack, and the breadth-first search
 * uses a queue, so no graph shape reaches the C stack.
 */
#include "retain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "xalloc.h"

/* ---- building graphs ---- */

struct idslot {
	uint64_t id;
	uint32_t slot;
};

static int cmp_idslot(const void *a, const void *b)
{
	uint64_t x = ((const struct idslot *)a)->id, y = ((const struct idslot *)b)->id;

	return x < y ? -1 : x > y;
}

static void graph_alloc_nodes(struct retain_graph *g, uint32_t n)
{
	memset(g, 0, sizeof *g);
	g->n = n;
	g->id = xcalloc((size_t)n + 1, sizeof *g->id);
	g->size = xcalloc((size_t)n + 1, sizeof *g->size);
	g->type = xcalloc((size_t)n + 1, sizeof *g->type);
	g->site = xcalloc((size_t)n + 1, sizeof *g->site);
	g->off = xcalloc((size_t)n + 2, sizeof *g->off);
}

void retain_graph_from_heap(struct retain_graph *g, const struct heap *h,
			    const uint32_t *sites)
{
	uint32_t limit = heap_slot_limit(h), n = 0, *node_of;
	struct idslot *order;
	uint64_t nref = 0, k = 0;

	order = xmalloc(((size_t)heap_live_objects(h) + 1) * sizeof *order);
	for (uint32_t s = 0; s < limit; s++) {
		const struct heap_obj *o = heap_obj(h, s);

		if (heap_obj_live(o))
			order[n++] = (struct idslot){ o->id, s };
	}
	qsort(order, n, sizeof *order, cmp_idslot);
	node_of = xmalloc(((size_t)limit + 1) * sizeof *node_of);
	graph_alloc_nodes(g, n);
	for (uint32_t v = 1; v <= n; v++) {
		const struct heap_obj *o = heap_obj(h, order[v - 1].slot);

		node_of[order[v - 1].slot] = v;
		g->id[v] = o->id;
		g->size[v] = heap_obj_size(h, o);
		g->type[v] = heap_obj_type(o);
		g->site[v] = sites ? sites[order[v - 1].slot] : 0;
		if (o->roots)
			nref++;
		nref += heap_obj_nout(o);
	}
	g->ref = xmalloc((size_t)(nref ? nref : 1) * sizeof *g->ref);
	/* Node 0's referents: the objects the root set holds, in ID order. */
	for (uint32_t v = 1; v <= n; v++)
		if (heap_obj(h, order[v - 1].slot)->roots)
			g->ref[k++] = v;
	for (uint32_t v = 1; v <= n; v++) {
		const struct heap_obj *o = heap_obj(h, order[v - 1].slot);
		const uint32_t *e = heap_obj_cedges(o);
		uint32_t m = heap_obj_nout(o);

		g->off[v] = k;
		for (uint32_t i = 0; i < m; i++)
			g->ref[k++] = node_of[e[i]];
	}
	g->off[n + 1] = k;
	free(node_of);
	free(order);
}

/* While building: edges as (src, dst) pairs in g->ref, two words each,
 * and their count in g->off[n + 1]; the capacity in pairs is kept in
 * off[0] (both are rewritten by retain_graph_seal). */
void retain_graph_init(struct retain_graph *g, uint32_t n)
{
	graph_alloc_nodes(g, n);
	g->off[0] = 16;
	g->ref = xmalloc(2 * 16 * sizeof *g->ref);
}

void retain_graph_edge(struct retain_graph *g, uint32_t src, uint32_t dst)
{
	uint64_t k = g->off[g->n + 1];

	if (k == g->off[0]) {
		g->off[0] *= 2;
		g->ref = xreallocarray(g->ref, (size_t)(2 * g->off[0]), sizeof *g->ref);
	}
	g->ref[2 * k] = src;
	g->ref[2 * k + 1] = dst;
	g->off[g->n + 1] = k + 1;
}

void retain_graph_seal(struct retain_graph *g)
{
	uint64_t m = g->off[g->n + 1];
	uint32_t *pairs = g->ref, *ref = xmalloc((size_t)(m ? m : 1) * sizeof *ref);
	uint64_t *at = xcalloc((size_t)g->n + 2, sizeof *at);

	/* A counting sort by source, stable. */
	for (uint64_t i = 0; i < m; i++)
		at[pairs[2 * i] + 1]++;
	for (uint32_t v = 0; v <= g->n; v++)
		at[v + 1] += at[v];
	memcpy(g->off, at, ((size_t)g->n + 2) * sizeof *at);
	for (uint64_t i = 0; i < m; i++)
		ref[at[pairs[2 * i]]++] = pairs[2 * i + 1];
	free(at);
	free(pairs);
	g->ref = ref;
}

void retain_graph_free(struct retain_graph *g)
{
	free(g->id);
	free(g->size);
	free(g->type);
	free(g->site);
	free(g->off);
	free(g->ref);
	memset(g, 0, sizeof *g);
}

uint64_t retain_graph_refs(const struct retain_graph *g)
{
	return g->off[g->n + 1] - g->off[1];
}

/* ---- Lengauer-Tarjan ---- */

/*
 * The working state, indexed by preorder number (1 = node 0, the root
 * set; 0 = "none"), except dfn, which is indexed by node.
 */
struct lt {
	uint32_t n;             /* reachable nodes, node 0 included */
	uint32_t *dfn;          /* node -> preorder number, 0: unreached */
	uint32_t *vertex;       /* preorder number -> node */
	uint32_t *parent;       /* DFS tree parent */
	uint32_t *semi;
	uint32_t *ancestor;     /* the forest of processed nodes */
	uint32_t *label;        /* smallest semi on the compressed path */
	uint32_t *idom;
	uint32_t *bucket, *bnext; /* nodes whose semidominator is w */
	uint32_t *stack;        /* compress's path */
	uint64_t *poff;         /* predecessors, by preorder number */
	uint32_t *pred;
};

/* Step 1: preorder numbers and DFS tree parents from node 0. */
static void lt_dfs(struct lt *t, const struct retain_graph *g)
{
	uint32_t *node = xmalloc(((size_t)g->n + 1) * sizeof *node);
	uint64_t *next = xmalloc(((size_t)g->n + 1) * sizeof *next);
	size_t sp = 0;
	uint32_t count = 1;

	t->dfn[0] = 1;
	t->vertex[1] = 0;
	t->parent[1] = 0;
	node[sp] = 0;
	next[sp++] = g->off[0];
	while (sp > 0) {
		uint32_t v = node[sp - 1];

		if (next[sp - 1] == g->off[v + 1]) {
			sp--;
			continue;
		}
		uint32_t w = g->ref[next[sp - 1]++];

		if (t->dfn[w])
			continue;
		t->dfn[w] = ++count;
		t->vertex[count] = w;
		t->parent[count] = t->dfn[v];
		node[sp] = w;
		next[sp++] = g->off[w];
	}
	t->n = count;
	free(node);
	free(next);
}

/* The reachable nodes' predecessors among reachable nodes, by preorder
 * number (references from garbage cannot matter to dominators). */
static void lt_preds(struct lt *t, const struct retain_graph *g)
{
	uint64_t total;

	t->poff = xcalloc((size_t)t->n + 2, sizeof *t->poff);
	for (uint32_t d = 1; d <= t->n; d++) {
		uint32_t v = t->vertex[d];

		for (uint64_t i = g->off[v]; i < g->off[v + 1]; i++)
			t->poff[t->dfn[g->ref[i]] + 1]++;
	}
	for (uint32_t d = 1; d <= t->n; d++)
		t->poff[d + 1] += t->poff[d];
	total = t->poff[t->n + 1];
	t->pred = xmalloc((size_t)(total ? total : 1) * sizeof *t->pred);
	for (uint32_t d = 1; d <= t->n; d++) {
		uint32_t v = t->vertex[d];

		for (uint64_t i = g->off[v]; i < g->off[v + 1]; i++) {
			uint32_t w = t->dfn[g->ref[i]];

			t->pred[t->poff[w]++] = d;
		}
	}
	/* The fill moved each start to the next one's: shift back. */
	for (uint32_t d = t->n + 1; d > 1; d--)
		t->poff[d] = t->poff[d - 1];
	t->poff[1] = 0;
}

/*
 * Path compression from v up the forest: afterwards ancestor[v] is a
 * root of its tree's child and label[v] the node of smallest semi on
 * the path (the recursive COMPRESS of the paper, with its recursion
 * turned into a walk up that records the path, then a walk down).
 */
static void lt_compress(struct lt *t, uint32_t v)
{
	size_t sp = 0;

	while (t->ancestor[t->ancestor[v]] != 0) {
		t->stack[sp++] = v;
		v = t->ancestor[v];
	}
	while (sp > 0) {
		uint32_t x = t->stack[--sp], a = t->ancestor[x];

		if (t->semi[t->label[a]] < t->semi[t->label[x]])
			t->label[x] = t->label[a];
		t->ancestor[x] = t->ancestor[a];
	}
}

static uint32_t lt_eval(struct lt *t, uint32_t v)
{
	if (t->ancestor[v] == 0)
		return v;
	lt_compress(t, v);
	return t->label[v];
}

/* Steps 2 and 3: semidominators, then immediate dominators. */
static void lt_dominators(struct lt *t)
{
	for (uint32_t d = 1; d <= t->n; d++) {
		t->semi[d] = d;
		t->label[d] = d;
	}
	for (uint32_t w = t->n; w >= 2; w--) {
		uint32_t p = t->parent[w];

		for (uint64_t i = t->poff[w]; i < t->poff[w + 1]; i++) {
			uint32_t u = lt_eval(t, t->pred[i]);

			if (t->semi[u] < t->semi[w])
				t->semi[w] = t->semi[u];
		}
		t->bnext[w] = t->bucket[t->semi[w]];
		t->bucket[t->semi[w]] = w;
		t->ancestor[w] = p;     /* LINK(parent, w) */
		for (uint32_t v = t->bucket[p]; v; v = t->bnext[v]) {
			uint32_t u = lt_eval(t, v);

			t->idom[v] = t->semi[u] < t->semi[v] ? u : p;
		}
		t->bucket[p] = 0;
	}
	for (uint32_t w = 2; w <= t->n; w++)
		if (t->idom[w] != t->semi[w])
			t->idom[w] = t->idom[t->idom[w]];
	t->idom[1] = 0;
}

/* Frees what only steps 2 and 3 need (before the next arrays are made,
 * to keep the peak low). */
static void lt_free_work(struct lt *t)
{
	free(t->semi);
	free(t->ancestor);
	free(t->label);
	free(t->bucket);
	free(t->bnext);
	free(t->stack);
	free(t->poff);
	free(t->pred);
	t->semi = t->ancestor = t->label = t->bucket = t->bnext = t->stack = NULL;
	t->poff = NULL;
	t->pred = NULL;
}

static void lt_free(struct lt *t)
{
	lt_free_work(t);
	free(t->dfn);
	free(t->vertex);
	free(t->parent);
	free(t->idom);
}

/* ---- retained sizes and paths ---- */

/* Each node adds what it retains to its idom, in reverse preorder. */
static void sum_retained(const struct lt *t, const struct retain_graph *g,
			 struct retain_result *r)
{
	for (uint32_t d = t->n; d >= 1; d--) {
		uint32_t v = t->vertex[d];

		r->retained_bytes[v] += g->size[v];
		r->retained_objects[v] += 1;
		if (d > 1) {
			uint32_t up = t->vertex[t->idom[d]];

			r->idom[v] = up;
			r->retained_bytes[up] += r->retained_bytes[v];
			r->retained_objects[up] += r->retained_objects[v];
		}
	}
	/* Node 0 is not an object: it counted itself once. */
	r->retained_objects[0] -= 1;
}

/* Breadth-first from node 0: one shortest path to every reachable node,
 * the first found taking references in their order. */
static void shortest_paths(const struct retain_graph *g, struct retain_result *r)
{
	uint32_t *queue = xmalloc(((size_t)g->n + 1) * sizeof *queue);
	size_t head = 0, tail = 0;

	for (uint32_t v = 0; v <= g->n; v++)
		r->path_prev[v] = RETAIN_NONE;
	queue[tail++] = 0;
	r->depth[0] = 0;
	while (head < tail) {
		uint32_t v = queue[head++];

		for (uint64_t i = g->off[v]; i < g->off[v + 1]; i++) {
			uint32_t w = g->ref[i];

			if (w == 0 || r->path_prev[w] != RETAIN_NONE)
				continue;
			r->path_prev[w] = v;
			r->depth[w] = r->depth[v] + 1;
			queue[tail++] = w;
		}
	}
	free(queue);
}

void retain_compute(const struct retain_graph *g, struct retain_result *r)
{
	size_t cells = (size_t)g->n + 2;
	struct lt t = {
		.dfn = xcalloc(cells, sizeof *t.dfn),
		.vertex = xcalloc(cells, sizeof *t.vertex),
		.parent = xcalloc(cells, sizeof *t.parent),
	};

	memset(r, 0, sizeof *r);
	r->n = g->n;
	lt_dfs(&t, g);
	lt_preds(&t, g);
	t.semi = xcalloc(cells, sizeof *t.semi);
	t.ancestor = xcalloc(cells, sizeof *t.ancestor);
	t.label = xcalloc(cells, sizeof *t.label);
	t.idom = xcalloc(cells, sizeof *t.idom);
	t.bucket = xcalloc(cells, sizeof *t.bucket);
	t.bnext = xcalloc(cells, sizeof *t.bnext);
	t.stack = xmalloc(cells * sizeof *t.stack);
	lt_dominators(&t);
	lt_free_work(&t);

	r->idom = xmalloc(cells * sizeof *r->idom);
	for (uint32_t v = 0; v <= g->n; v++)
		r->idom[v] = RETAIN_NONE;
	r->retained_bytes = xcalloc(cells, sizeof *r->retained_bytes);
	r->retained_objects = xcalloc(cells, sizeof *r->retained_objects);
	sum_retained(&t, g, r);
	r->reachable = t.n - 1;
	r->reachable_bytes = r->retained_bytes[0];
	for (uint32_t v = 1; v <= g->n; v++)
		if (!t.dfn[v]) {
			r->garbage_objects++;
			r->garbage_bytes += g->size[v];
		}
	lt_free(&t);
	r->path_prev = xmalloc(cells * sizeof *r->path_prev);
	r->depth = xcalloc(cells, sizeof *r->depth);
	shortest_paths(g, r);
}

void retain_result_free(struct retain_result *r)
{
	free(r->idom);
	free(r->retained_bytes);
	free(r->retained_objects);
	free(r->path_prev);
	free(r->depth);
	memset(r, 0, sizeof *r);
}

size_t retain_path(const struct retain_result *r, uint32_t v, uint32_t *buf,
		   size_t max)
{
	size_t len = (size_t)r->depth[v] + 1;

	if (len > max)
		return len;
	for (size_t i = len; i-- > 0;) {
		buf[i] = v;
		v = r->path_prev[v];
	}
	return len;
}

/* ---- ranking ---- */

/* Whether node a ranks before node b: more retained bytes, then the
 * smaller ID. */
static int ranks_before(const struct retain_graph *g, const struct retain_result *r,
			uint32_t a, uint32_t b)
{
	if (r->retained_bytes[a] != r->retained_bytes[b])
		return r->retained_bytes[a] > r->retained_bytes[b];
	return g->id[a] < g->id[b];
}

/* out[0..k) is a heap whose top ranks last: the weakest of the best. */
static void sift_down(const struct retain_graph *g, const struct retain_result *r,
		      uint32_t *h, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, rt = l + 1, w = i;

		if (l < k && ranks_before(g, r, h[w], h[l]))
			w = l;
		if (rt < k && ranks_before(g, r, h[w], h[rt]))
			w = rt;
		if (w == i)
			return;
		uint32_t x = h[i];

		h[i] = h[w];
		h[w] = x;
		i = w;
	}
}

size_t retain_top(const struct retain_graph *g, const struct retain_result *r,
		  uint32_t *out, size_t top)
{
	size_t k = 0;

	if (top == 0)
		return 0;
	for (uint32_t v = 1; v <= g->n; v++) {
		if (r->idom[v] == RETAIN_NONE)
			continue;
		if (k < top) {
			out[k++] = v;
			if (k == top)
				for (size_t i = k / 2; i-- > 0;)
					sift_down(g, r, out, k, i);
			continue;
		}
		if (ranks_before(g, r, v, out[0])) {
			out[0] = v;
			sift_down(g, r, out, k, 0);
		}
	}
	if (k < top)
		for (size_t i = k / 2; i-- > 0;)
			sift_down(g, r, out, k, i);
	/* Heap sort: pop the weakest to the back. */
	for (size_t end = k; end > 1; end--) {
		uint32_t x = out[0];

		out[0] = out[end - 1];
		out[end - 1] = x;
		sift_down(g, r, out, end - 1, 0);
	}
	return k;
}

/* ---- groups ---- */

/*
 * The dominator tree's children lists (CSR by node), for a walk from
 * node 0 that knows, on entering a node, whether one of its dominators
 * has the same key.
 */
static void dom_children(const struct retain_result *r, uint64_t **off_out,
			 uint32_t **kid_out)
{
	uint64_t *off = xcalloc((size_t)r->n + 2, sizeof *off);
	uint32_t *kid = xmalloc(((size_t)r->n + 1) * sizeof *kid);

	for (uint32_t v = 1; v <= r->n; v++)
		if (r->idom[v] != RETAIN_NONE)
			off[r->idom[v] + 1]++;
	for (uint32_t v = 0; v <= r->n; v++)
		off[v + 1] += off[v];
	for (uint32_t v = 1; v <= r->n; v++)
		if (r->idom[v] != RETAIN_NONE)
			kid[off[r->idom[v]]++] = v;
	for (uint32_t v = r->n + 1; v > 0; v--)
		off[v] = off[v - 1];
	off[0] = 0;
	*off_out = off;
	*kid_out = kid;
}

/*
 * part >= whole * percent / 100 for percent <= 100, exactly, without the
 * 71-bit product: with whole = 100q + rem, the bound is q * percent (no
 * overflow: q <= 2^64 / 100) plus rem * percent / 100, rounded up since
 * part is whole.
 */
static int share_at_least(uint64_t part, uint64_t whole, unsigned percent)
{
	uint64_t q = whole / 100, rem = whole % 100;

	return part >= q * percent + (rem * percent + 99) / 100;
}

uint32_t retain_accumulation(const struct retain_graph *g,
			     const struct retain_result *r, unsigned percent,
			     uint64_t *children)
{
	uint64_t *off;
	uint32_t *kid, v = 0;

	dom_children(r, &off, &kid);
	for (;;) {
		uint32_t best = RETAIN_NONE;

		for (uint64_t i = off[v]; i < off[v + 1]; i++)
			if (best == RETAIN_NONE || ranks_before(g, r, kid[i], best))
				best = kid[i];
		if (best == RETAIN_NONE || r->retained_bytes[best] == 0 ||
		    !share_at_least(r->retained_bytes[best], r->retained_bytes[v], percent))
			break;
		v = best;
	}
	*children = off[v + 1] - off[v];
	free(off);
	free(kid);
	return v;
}

/* Reachable nodes in ranking order (retained bytes descending, then ID):
 * a sort key that needs no context in qsort. */
struct ranked {
	uint64_t bytes;
	uint64_t id;
	uint32_t node;
};

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The dominator tree's children lists (CSR by node) with each node's
 * children in ranking order: filled from the nodes sorted by rank. */
static void ranked_children(const struct retain_graph *g, const struct retain_result *r,
			    uint64_t **off_out, uint32_t **kid_out)
{
	struct ranked *v = xmalloc(((size_t)r->reachable + 1) * sizeof *v);
	uint64_t *off = xcalloc((size_t)r->n + 2, sizeof *off);
	uint32_t *kid = xmalloc(((size_t)r->n + 1) * sizeof *kid);
	size_t k = 0;

	for (uint32_t x = 1; x <= r->n; x++)
		if (r->idom[x] != RETAIN_NONE) {
			v[k++] = (struct ranked){ r->retained_bytes[x], g->id[x], x };
			off[r->idom[x] + 1]++;
		}
	qsort(v, k, sizeof *v, cmp_ranked);
	for (uint32_t x = 0; x <= r->n; x++)
		off[x + 1] += off[x];
	for (size_t i = 0; i < k; i++)
		kid[off[r->idom[v[i].node]]++] = v[i].node;
	for (uint32_t x = r->n + 1; x > 0; x--)
		off[x] = off[x - 1];
	off[0] = 0;
	free(v);
	*off_out = off;
	*kid_out = kid;
}

size_t retain_icicle(const struct retain_graph *g, const struct retain_result *r,
		     uint32_t max_depth, uint64_t min_bytes, struct retain_cell **out)
{
	uint64_t *off;
	uint32_t *kid;
	struct retain_cell *c = xmalloc(16 * sizeof *c);
	size_t n = 0, cap = 16;

	ranked_children(g, r, &off, &kid);
	c[n++] = (struct retain_cell){ 0, 0, 0 };
	/* The cells array is the breadth-first queue: parents come first. */
	for (size_t head = 0; head < n; head++) {
		struct retain_cell p = c[head];
		uint64_t at = p.start;

		if (p.depth == max_depth)
			continue;
		for (uint64_t i = off[p.node]; i < off[p.node + 1]; i++) {
			uint32_t w = kid[i];

			if (r->retained_bytes[w] < min_bytes || r->retained_bytes[w] == 0)
				break;          /* ranked: the rest are smaller */
			if (n == cap)
				c = xreallocarray(c, cap *= 2, sizeof *c);
			c[n++] = (struct retain_cell){ w, p.depth + 1, at };
			at += r->retained_bytes[w];
		}
	}
	free(off);
	free(kid);
	*out = c;
	return n;
}

/*
 * The lower bound: for each key, the retained sizes of its topmost
 * members (those with no dominator of the same key), whose subtrees are
 * disjoint, so the sum is the union of all members' subtrees. An
 * iterative walk of the dominator tree with a count per key of the
 * members on the current path.
 */
static void group_bounds(const struct retain_graph *g, const struct retain_result *r,
			 const uint32_t *key, struct retain_group *grp)
{
	uint64_t *off, *next = xmalloc(((size_t)r->n + 1) * sizeof *next);
	uint32_t *kid, *stack = xmalloc(((size_t)r->n + 1) * sizeof *stack);
	uint32_t *onpath = NULL;
	uint32_t maxkey = 0;
	size_t sp = 0;

	for (uint32_t v = 1; v <= g->n; v++)
		if (key[v] > maxkey)
			maxkey = key[v];
	onpath = xcalloc((size_t)maxkey + 1, sizeof *onpath);
	dom_children(r, &off, &kid);
	stack[sp] = 0;
	next[sp++] = off[0];
	while (sp > 0) {
		uint32_t v = stack[sp - 1];

		if (next[sp - 1] == off[v + 1]) {
			if (v)
				onpath[key[v]]--;
			sp--;
			continue;
		}
		uint32_t w = kid[next[sp - 1]++];

		if (onpath[key[w]]++ == 0) {
			grp[key[w]].retained_bytes += r->retained_bytes[w];
			grp[key[w]].retained_objects += r->retained_objects[w];
		}
		stack[sp] = w;
		next[sp++] = off[w];
	}
	free(onpath);
	free(off);
	free(kid);
	free(next);
	free(stack);
}

/*
 * Exact: what stays reachable from node 0 when the group's members are
 * removed; the group retains the rest of the reachable set. `seen` is a
 * stamp array (a node is seen when seen[v] == stamp).
 */
static void group_exact(const struct retain_graph *g, const struct retain_result *r,
			const uint32_t *key, uint32_t k, uint32_t *seen, uint32_t stamp,
			uint32_t *queue, struct retain_group *out)
{
	size_t head = 0, tail = 0;
	uint64_t bytes = 0, objects = 0;

	queue[tail++] = 0;
	seen[0] = stamp;
	while (head < tail) {
		uint32_t v = queue[head++];

		for (uint64_t i = g->off[v]; i < g->off[v + 1]; i++) {
			uint32_t w = g->ref[i];

			if (seen[w] == stamp || key[w] == k)
				continue;
			seen[w] = stamp;
			queue[tail++] = w;
			bytes += g->size[w];
			objects++;
		}
	}
	out->retained_bytes = r->reachable_bytes - bytes;
	out->retained_objects = r->reachable - objects;
	out->exact = 1;
}

static int group_before(const struct retain_group *a, const struct retain_group *b)
{
	if (a->retained_bytes != b->retained_bytes)
		return a->retained_bytes > b->retained_bytes;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	return a->key < b->key;
}

static int cmp_group(const void *pa, const void *pb)
{
	const struct retain_group *a = pa, *b = pb;

	return group_before(a, b) ? -1 : group_before(b, a);
}

size_t retain_groups(const struct retain_graph *g, const struct retain_result *r,
		     const uint32_t *key, uint32_t nkeys, size_t top,
		     struct retain_group **out)
{
	struct retain_group *grp = xcalloc(nkeys ? nkeys : 1, sizeof *grp);
	uint64_t work = (uint64_t)r->reachable + 1 + g->off[g->n + 1];
	uint32_t *seen, *queue;
	size_t n = 0, exact;

	for (uint32_t k = 0; k < nkeys; k++)
		grp[k].key = k;
	for (uint32_t v = 1; v <= g->n; v++) {
		struct retain_group *x = &grp[key[v]];

		x->objects++;
		x->bytes += g->size[v];
		if (r->idom[v] != RETAIN_NONE)
			x->reachable_objects++;
	}
	group_bounds(g, r, key, grp);
	for (uint32_t k = 0; k < nkeys; k++)
		if (grp[k].objects)
			grp[n++] = grp[k];
	qsort(grp, n, sizeof *grp, cmp_group);
	exact = work * n <= RETAIN_GROUP_BUDGET || n <= top ? n : top;
	seen = xcalloc((size_t)g->n + 1, sizeof *seen);
	queue = xmalloc(((size_t)g->n + 1) * sizeof *queue);
	for (size_t i = 0; i < exact; i++) {
		/* A group with no reachable member frees nothing reachable. */
		if (grp[i].reachable_objects == 0) {
			grp[i].exact = 1;
			continue;
		}
		group_exact(g, r, key, grp[i].key, seen, (uint32_t)i + 1, queue, &grp[i]);
	}
	free(seen);
	free(queue);
	qsort(grp, n, sizeof *grp, cmp_group);
	*out = grp;
	return n;
}

/* ---- checking ---- */

#define FAIL(...) (snprintf(msg, msglen, __VA_ARGS__), -1)

int retain_check(const struct retain_graph *g, const struct retain_result *r,
		 char *msg, size_t msglen)
{
	uint64_t *bytes = xcalloc((size_t)g->n + 1, sizeof *bytes);
	uint64_t live = 0, reach = 0;
	int rc = 0;

	for (uint32_t v = 1; v <= g->n && rc == 0; v++) {
		uint32_t d = r->idom[v], p = r->path_prev[v];

		live += g->size[v];
		if (d == RETAIN_NONE) {
			if (p != RETAIN_NONE || r->retained_bytes[v])
				rc = FAIL("unreachable object %u has a path or retains", v);
			continue;
		}
		reach += g->size[v];
		if (p == RETAIN_NONE || r->depth[v] != r->depth[p] + 1)
			rc = FAIL("object %u: no shortest path step", v);
		else if (d != 0 && (r->idom[d] == RETAIN_NONE || r->depth[d] >= r->depth[v]))
			rc = FAIL("object %u: its idom %u is unreachable or no closer", v, d);
		bytes[d] += r->retained_bytes[v];
	}
	for (uint32_t v = 0; v <= g->n && rc == 0; v++) {
		uint64_t own = v ? g->size[v] : 0;

		if (v && r->idom[v] == RETAIN_NONE)
			continue;
		if (r->retained_bytes[v] != own + bytes[v])
			rc = FAIL("object %u retains %llu bytes, not its own plus its "
				  "dominator children's %llu", v,
				  (unsigned long long)r->retained_bytes[v],
				  (unsigned long long)(own + bytes[v]));
	}
	if (rc == 0 && (reach != r->reachable_bytes || live - reach != r->garbage_bytes))
		rc = FAIL("reachable %llu + garbage %llu bytes != live %llu",
			  (unsigned long long)r->reachable_bytes,
			  (unsigned long long)r->garbage_bytes, (unsigned long long)live);
	for (uint32_t v = 1; v <= g->n && rc == 0; v++) {
		uint32_t p = r->path_prev[v];
		int found = 0;

		if (p == RETAIN_NONE)
			continue;
		for (uint64_t i = g->off[p]; i < g->off[p + 1] && !found; i++)
			found = g->ref[i] == v;
		if (!found)
			rc = FAIL("path step %u -> %u is no reference", p, v);
	}
	free(bytes);
	return rc;
}
