/*
 * retain.h - why memory stays: the dominator tree of the live object graph.
 *
 * Glossary (docs/retention.md has the long version):
 *   graph      the live objects as nodes 1..n and their references as
 *              edges; node 0 stands for the root set (ID 0 of the trace:
 *              locals, globals, the interpreter), with an edge to every
 *              object the root set holds
 *   reachable  on some path from node 0; the other live objects are
 *              cyclic garbage, which only a cycle collector frees
 *   dominator  d dominates v when every path from node 0 to v passes
 *              through d; the immediate dominator idom(v) is the closest
 *              such d other than v, and the idoms form a tree rooted at 0
 *   retained   the objects v dominates (itself included): exactly what
 *              would be freed if v lost all its incoming references.
 *              Retained bytes are their requested sizes, as the trace
 *              gives them (an allocator's rounding is replay's business)
 *
 * The algorithm (retain_compute), after Lengauer and Tarjan, "A fast
 * algorithm for finding dominators in a flowgraph", TOPLAS 1(1), 1979,
 * the "simple" version (path compression, no balancing: O(m log n)):
 *   1. a depth-first search from node 0 numbers the reachable nodes in
 *      preorder and records each one's tree parent;
 *   2. in reverse preorder, each node's semidominator is the smallest
 *      preorder number reachable "from above" through its predecessors,
 *      found with a forest of the nodes processed so far whose paths are
 *      compressed as they are evaluated; each node then waits in the
 *      bucket of its semidominator, and the bucket of its tree parent is
 *      emptied, giving those nodes' idoms or a deferred reference;
 *   3. in preorder, the deferred idoms are resolved.
 * Then, in reverse preorder, each node adds its retained bytes and
 * objects to its idom's (an idom precedes its nodes in preorder), and a
 * breadth-first search from node 0 records one shortest path to each
 * node. Every pass is a loop over explicit arrays: no recursion on the C
 * stack, so a chain or a cycle of 10 million objects is as safe as a
 * flat set. Memory is about 90 bytes per live object and 12 per
 * reference at the peak, all freed by retain_result_free.
 *
 * Groups (retain_groups): the objects of one type, or allocated at one
 * site, retain together what would be freed if all of them died: the
 * objects not reachable from node 0 once the group is removed. That is
 * one search per group; a cheap lower bound (the union of the dominator
 * subtrees of the group's members) ranks them first, and the exact value
 * is computed for every group while the work stays within
 * RETAIN_GROUP_BUDGET reference visits, else for the top ones only
 * (the others say their value is a lower bound).
 *
 * This module only computes; cmd_retain.c reports.
 */
#ifndef MEMSIM_RETAIN_H
#define MEMSIM_RETAIN_H

#include <stddef.h>
#include <stdint.h>

#define RETAIN_NONE UINT32_MAX  /* "no node": unreachable, no idom */

/* Exact group values are computed for every group while groups x
 * (reachable objects + references) stays below this many visits. */
#define RETAIN_GROUP_BUDGET (UINT64_C(1) << 30)

/*
 * The graph to analyse. Node 0 is the root set; objects are nodes 1..n.
 * Node v's referents are ref[off[v] .. off[v + 1]) (node indices 1..n;
 * a referent may repeat, and an object may refer to itself). The arrays
 * id, size, type and site have n + 1 entries; entry 0 belongs to the
 * root set (ID 0, size 0). `type` is a typetab index and `site` a stack
 * node index of the trace (0 when absent): retain only groups by them.
 */
struct retain_graph {
	uint32_t n;
	uint64_t *id;           /* the object's trace ID */
	uint64_t *size;         /* bytes requested */
	uint32_t *type;
	uint32_t *site;
	uint64_t *off;          /* n + 2 entries */
	uint32_t *ref;
};

struct heap;

/*
 * Copies the live objects of `h` into *g (nodes in ID order, so results
 * do not depend on the heap's slot recycling; references in the order
 * they were added; the root set's referents in ID order, once each).
 * `sites`, if not NULL, gives each slot's site (indexed by slot).
 * The heap is only read. Free with retain_graph_free.
 */
void retain_graph_from_heap(struct retain_graph *g, const struct heap *h,
			    const uint32_t *sites);

/*
 * Builds a graph edge by edge, for sources that list references out of
 * order (a heap snapshot). retain_graph_init sets up n objects whose
 * id/size/type/site the caller fills; retain_graph_edge records that
 * node src (0: the root set) refers to node dst; retain_graph_seal sorts
 * the recorded edges into off/ref (stable: each node's referents keep
 * the order they were recorded in).
 */
void retain_graph_init(struct retain_graph *g, uint32_t n);
void retain_graph_edge(struct retain_graph *g, uint32_t src, uint32_t dst);
void retain_graph_seal(struct retain_graph *g);

void retain_graph_free(struct retain_graph *g);

/* Number of references between objects (edges not from the root set). */
uint64_t retain_graph_refs(const struct retain_graph *g);

/* The analysis of one graph. Arrays have n + 1 entries (node 0 first). */
struct retain_result {
	uint32_t n;
	uint32_t reachable;             /* objects reachable from node 0 */
	uint64_t reachable_bytes;
	uint64_t garbage_objects;       /* live but not reachable */
	uint64_t garbage_bytes;
	uint32_t *idom;                 /* node; RETAIN_NONE when unreachable
	                                 * (and for node 0) */
	uint64_t *retained_bytes;       /* [0]: reachable_bytes; 0 when
	                                 * unreachable */
	uint32_t *retained_objects;     /* [0]: reachable */
	uint32_t *path_prev;            /* the node before v on a shortest
	                                 * path from node 0 (0 for an object
	                                 * the root set holds); RETAIN_NONE
	                                 * when unreachable */
	uint32_t *depth;                /* references on that path (1 for an
	                                 * object the root set holds); 0 when
	                                 * unreachable */
};

/*
 * Computes dominators, retained sizes and shortest paths of g (see the
 * header). The graph is only read and must outlive nothing: the result
 * keeps no pointer into it. Free with retain_result_free.
 */
void retain_compute(const struct retain_graph *g, struct retain_result *r);
void retain_result_free(struct retain_result *r);

/*
 * The `top` reachable objects retaining the most bytes, best first (ties
 * by ascending ID), into out[0..); returns how many (at most top).
 */
size_t retain_top(const struct retain_graph *g, const struct retain_result *r,
		  uint32_t *out, size_t top);

/*
 * Writes the shortest path from node 0 to reachable node v (node 0
 * first, v last) into buf when it has at most `max` nodes, and returns
 * its length in nodes (depth + 1) either way.
 */
size_t retain_path(const struct retain_result *r, uint32_t v, uint32_t *buf,
		   size_t max);

/*
 * The accumulation point (as Eclipse MAT's leak suspects name it): from
 * node 0, step to the dominator child retaining the most bytes (ties:
 * the smaller ID) while it retains at least `percent` % of what its
 * dominator retains; the node reached is where retention spreads over
 * many children (a cache, a list, a registry). Returns that node, or 0
 * when the root set's own biggest child is already below the share (no
 * single object holds the memory). *children receives its number of
 * dominator children. O(n).
 */
uint32_t retain_accumulation(const struct retain_graph *g,
			     const struct retain_result *r, unsigned percent,
			     uint64_t *children);

/*
 * The top of the dominator tree laid out as an icicle: one cell per
 * object at most `max_depth` dominator levels below the root set whose
 * retained bytes are at least `min_bytes`, its dominator children side by
 * side below it, biggest first (ties: the smaller ID). A cell spans
 * [start, start + retained_bytes) in bytes, inside its dominator's span;
 * the root set's cell (node 0, depth 0) spans the reachable bytes. The
 * cells, parents before children, go into a newly allocated *out (caller
 * frees); returns their number. O(n log n); at most max_depth x
 * (reachable bytes / min_bytes) + 1 cells.
 */
struct retain_cell {
	uint32_t node;
	uint32_t depth;
	uint64_t start;
};

size_t retain_icicle(const struct retain_graph *g, const struct retain_result *r,
		     uint32_t max_depth, uint64_t min_bytes, struct retain_cell **out);

/* One group of objects (a type, or a site). */
struct retain_group {
	uint32_t key;                   /* type or site index */
	uint64_t objects;               /* live objects in the group */
	uint64_t bytes;                 /* their own bytes */
	uint64_t reachable_objects;     /* of them, reachable */
	uint64_t retained_bytes;        /* freed if every member died */
	uint64_t retained_objects;
	int exact;                      /* 0: retained_* are lower bounds */
};

/*
 * Groups the live objects by key[v] (key = g->type or g->site; keys
 * below nkeys), keeps the groups that have objects, sorted by retained
 * bytes (descending; then own bytes; then key ascending), and returns
 * their number with a newly allocated array in *out (caller frees).
 * Exact values for every group within RETAIN_GROUP_BUDGET (see the
 * header), else for at least the first `top` by the lower bound.
 */
size_t retain_groups(const struct retain_graph *g, const struct retain_result *r,
		     const uint32_t *key, uint32_t nkeys, size_t top,
		     struct retain_group **out);

/* Checks the result's invariants on g in O(n + m): node 0 and each
 * object's idom come before it on its shortest path's level order (an
 * idom is reachable and no deeper than the node), the idoms form a tree
 * rooted at node 0, each retained size is the node's own plus its
 * dominator children's, garbage and reachable add up to the live set,
 * and each path step is a reference of g. 0, or -1 with a message. */
int retain_check(const struct retain_graph *g, const struct retain_result *r,
		 char *msg, size_t msglen);

#endif
