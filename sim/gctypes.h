/*
 * gctypes.h - which trace types a CPython cycle collector sees.
 *
 * Every CPython collector (gc_generational.c, gc_incremental.c,
 * gc_freethreaded.c) asks the same question of each object: is its type
 * one the collector tracks (a container: list, dict, a class instance),
 * or plain memory it never sees (int, str, an untyped block)? A policy
 * answers it with three knobs kept in a struct gctypes_params inside its
 * own parameters:
 *
 *   tracked_types      comma-separated names the collector tracks; "tuple"
 *                      and "dict" are also told apart, since the
 *                      collectors untrack them (_PyTuple_MaybeUntrack,
 *                      _PyDict_MaybeUntrack)
 *   untracked_types    names it never sees
 *   other_types_tracked  whether a typed name on neither list is tracked
 *                      (a class defined in Python: CPython 3.12+ gives its
 *                      instances a pre-header, so they are GC_SEES_OTHER)
 *
 * Untyped objects are never seen. The answer is cached per typetab index.
 */
#ifndef MEMSIM_GCTYPES_H
#define MEMSIM_GCTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "knob.h"
#include "typetab.h"

#define GCTYPES_LIST_MAX 1024   /* bytes of a type-name list knob, with NUL */

/* How a collector sees a type. */
enum gctypes_kind {
	GCTYPES_UNKNOWN,        /* not yet looked up (cache only) */
	GCTYPES_INVISIBLE,      /* never tracked */
	GCTYPES_VISIBLE,        /* tracked */
	GCTYPES_TUPLE,          /* tracked, untracked when it holds nothing trackable */
	GCTYPES_DICT,           /* likewise for dicts */
};

struct gctypes_params {
	int other_types_tracked;                /* bool */
	char tracked_types[GCTYPES_LIST_MAX];
	char untracked_types[GCTYPES_LIST_MAX];
};

/* CPython's container types and plain-data types, as trace names. */
#define GCTYPES_TRACKED_DEFAULT \
	"list,dict,tuple,set,frozenset,object,instance," \
	"function,cell,frame,generator,coroutine,async_generator," \
	"method,builtin_function_or_method,instancemethod,classobj," \
	"classmethod,staticmethod,property,module,type,deque," \
	"defaultdict,OrderedDict,weakref,super,enumerate,zip,map,filter"
/* dictkeys: a dict's PyDictKeysObject (Objects/dictobject.c) is plain
 * memory, not an object the collector could see. */
#define GCTYPES_UNTRACKED_DEFAULT \
	"int,long,float,complex,bool,str,unicode,bytes," \
	"bytearray,NoneType,range,memoryview,dictkeys"

#define GCTYPES_PARAMS_DEFAULT { .other_types_tracked = 1, \
	.tracked_types = GCTYPES_TRACKED_DEFAULT, \
	.untracked_types = GCTYPES_UNTRACKED_DEFAULT }

/* The knob-table entries of a struct gctypes_params found at byte offset
 * OFF of a policy's parameters: the boolean, and the two lists (kept
 * apart so a table may place them where its output has always had them). */
#define GCTYPES_KNOB_OTHER(OFF) \
	{ .name = "other_types_tracked", .kind = KNOB_BOOL, \
	  .offset = (OFF) + offsetof(struct gctypes_params, other_types_tracked), \
	  .doc = "typed objects named in neither list (class instances) are collector-visible" }
#define GCTYPES_KNOB_LISTS(OFF) \
	{ .name = "tracked_types", .kind = KNOB_STRING, \
	  .offset = (OFF) + offsetof(struct gctypes_params, tracked_types), \
	  .max = GCTYPES_LIST_MAX, \
	  .doc = "comma-separated type names the collector tracks" }, \
	{ .name = "untracked_types", .kind = KNOB_STRING, \
	  .offset = (OFF) + offsetof(struct gctypes_params, untracked_types), \
	  .max = GCTYPES_LIST_MAX, \
	  .doc = "comma-separated type names the collector never sees" }

/* The per-type cache of one collector instance. */
struct gctypes {
	const struct gctypes_params *p; /* borrowed: the policy's copy */
	const struct typetab *types;    /* may be NULL: every name is "" */
	uint8_t *kinds;                 /* enum gctypes_kind by type index */
	uint32_t nkinds;
};

/* Checks the lists' syntax (names as in the trace format, no empty
 * entries) and that no name is on both; 0, or -1 with a message. */
int gctypes_validate(const struct gctypes_params *p, char *msg, size_t msglen);

/* p and types must outlive c. */
void gctypes_init(struct gctypes *c, const struct gctypes_params *p,
		  const struct typetab *types);
void gctypes_free(struct gctypes *c);

/* How the collector sees objects of `type` (a typetab index or
 * TYPETAB_UNTYPED); never GCTYPES_UNKNOWN. */
enum gctypes_kind gctypes_kind(struct gctypes *c, uint32_t type);

/* gc.h's sees() answer for `type`: GC_SEES_NOT, GC_SEES_BUILTIN (on the
 * tracked list) or GC_SEES_OTHER (tracked as a name on neither list). */
int gctypes_sees(struct gctypes *c, uint32_t type);

#endif
