/*
 * domset.h -- a compact immutable set of domain names, matched by suffix.
 *
 * The compiled form of a feed (feed.c).  Each distinct name is one record
 * in a single arena:
 *
 *	flags (1 byte) | line (4 bytes, only when lines are tracked) | name
 *
 * where name is the lower-case uncompressed wire form.  The flags byte
 * holds two scope bits (the name itself, names below it) and an action of
 * 3 bits for each scope, so "a.example" and "*.a.example" share a record
 * even when their actions differ (an RPZ zone may say NXDOMAIN for one and
 * PASSTHRU for the other).
 *
 * The index is an open-addressing table (linear probing, power-of-two
 * size, load <= 0.75) of 32-bit slots: the record's arena offset + 1 in the
 * low bits, and in the bits the arena size leaves free a tag taken from
 * the name's hash, so most probes that would compare a foreign name are
 * rejected without touching the arena.
 *
 * The hash of a name is built label by label from the right (the TLD
 * first), so a lookup gets the hash of every suffix of the query name from
 * one pass over its bytes, then probes once per label.
 *
 * Building uses a wider table (hash + offset in 64 bits) that grows as
 * needed; domset_finish() compacts it into the 32-bit index above.
 */
#ifndef DNSWARD_DOMSET_H
#define DNSWARD_DOMSET_H

#include <stddef.h>
#include <stdint.h>

#define DOMSET_EXACT	0x01	/* = FEED_SCOPE_EXACT */
#define DOMSET_BELOW	0x02	/* = FEED_SCOPE_BELOW */

/* What domset_build_add() did. */
enum domset_add {
	DOMSET_NEW = 0,		/* a new record */
	DOMSET_ADDED,		/* a scope added to an existing record */
	DOMSET_DUP,		/* every scope was there already: unchanged */
	DOMSET_ERR_MEM,		/* out of memory */
	DOMSET_ERR_SIZE		/* the arena would pass 4 GB */
};

struct domset_build;
struct domset;

/* A record found by domset_lookup(). */
struct domset_match {
	size_t		 offset;	/* where in the query name it starts */
	uint32_t	 rec;		/* the record's arena offset (its id) */
	unsigned	 scope;		/* DOMSET_EXACT or _BELOW: what matched */
	unsigned	 scopes;	/* every scope bit the record has */
	unsigned	 action;	/* of the scope that matched */
	unsigned	 other_action;	/* of the other scope, if present */
	uint32_t	 line;		/* first line of the record, or 0 */
};

/*
 * Start a set sized for about hint names.  track_lines keeps a line
 * number per record.  NULL when out of memory.
 */
struct domset_build *domset_build_new(size_t hint, int track_lines);

/* The hash of a wire name (well formed, lower case), for the two below. */
uint32_t	 domset_hash(const uint8_t *name, size_t namelen);

/*
 * Start fetching the index slot of a name about to be added.  An insert
 * is one cache miss in a table of megabytes; loading a feed hashes names
 * some lines ahead and prefetches, so the misses overlap with parsing.
 */
void		 domset_build_prefetch(const struct domset_build *,
		    uint32_t hash);

/*
 * Add the wire name (lower case, at most 255 bytes, not the root; hash
 * from domset_hash()) with scope bits and an action (< 8) for those bits.
 * Scope bits the record already has keep their action (the first one
 * wins).  *rec receives the record's id, *had the scope bits it had
 * before (0 for a new record).
 */
enum domset_add	 domset_build_add(struct domset_build *, const uint8_t *name,
		    size_t namelen, uint32_t hash, unsigned scope,
		    unsigned action, uint32_t line, uint32_t *rec,
		    unsigned *had);

/* The action of one scope bit of a record being built. */
unsigned	 domset_build_action(const struct domset_build *, uint32_t rec,
		    unsigned scope);

/* Replace the action of the given scope bits of a record being built. */
void		 domset_build_set_action(struct domset_build *, uint32_t rec,
		    unsigned scope, unsigned action);

/* Records so far. */
size_t		 domset_build_count(const struct domset_build *);

/* Free an unfinished set; accepts NULL. */
void		 domset_build_free(struct domset_build *);

/*
 * Compact into the immutable set.  Consumes b whatever the result; NULL
 * when out of memory.
 */
struct domset	*domset_finish(struct domset_build *b);

/*
 * Find the most specific record matching the wire name: the name itself
 * with DOMSET_EXACT, else the nearest proper ancestor (never the root)
 * with DOMSET_BELOW.  Returns 1 and fills *m, or 0.  A malformed name
 * (bad label lengths, longer than 255 bytes) matches nothing.
 */
int		 domset_lookup(const struct domset *, const uint8_t *name,
		    size_t namelen, struct domset_match *m);

/* Records, and bytes held (arena and index). */
size_t		 domset_count(const struct domset *);
size_t		 domset_memory(const struct domset *);

/* Free; accepts NULL. */
void		 domset_free(struct domset *);

#endif /* DNSWARD_DOMSET_H */
