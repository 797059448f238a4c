/*
 * cache.h -- the answer cache: upstream replies, shared by every worker.
 *
 * What is cached is the upstream's reply as it was accepted by the
 * forwarder, never a policy verdict: a hit goes through the same response
 * policy as a fresh answer, so a policy change applies to cached data at
 * once.  Entries are keyed by (lower-case name, qtype, qclass, DO, CD), so
 * answers for different types or DNSSEC flags never mix.
 *
 * TTLs are clamped when an answer is stored (cache.min-ttl, max-ttl; a
 * negative answer lives min(SOA TTL, SOA MINIMUM) clamped to
 * negative-max-ttl, RFC 2308 5) and counted down in what a lookup returns.
 * NOERROR with answers, NODATA with a SOA and NXDOMAIN with a SOA are
 * cached; everything else is not: SERVFAIL and other rcodes, extended
 * rcodes, truncated replies, referrals, negative answers without a SOA,
 * anything but one uncompressed question of a standard query, and replies
 * whose lifetime after clamping is 0 (a TTL with the top bit set counts as
 * 0, RFC 2181 8; min-ttl may raise it).  min-ttl and max-ttl apply to
 * positive answers; every record of a negative one is limited to its
 * negative lifetime.  The lifetime of an entry is its smallest TTL.
 *
 * Memory is bounded by cache.size: the table is split into shards, each
 * with its own lock and its share of the bound.  Eviction is segmented LRU:
 * a new entry starts in a probation segment and moves to the protected one
 * (at most 80 % of the shard) when it is hit, so a flood of names asked
 * once (churn, scans, random subdomains) only ever evicts other names asked
 * once, never the hot entries.  Expired entries are kept as long as
 * serve-stale allows, for RFC 8767 stale answers when every upstream fails.
 *
 * Hashing is keyed with a random secret (SipHash), so clients cannot aim
 * names at one bucket.
 */
#ifndef DNSWARD_CACHE_H
#define DNSWARD_CACHE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

struct wire_edns;

/* Flags of a key. */
#define CACHE_DO	0x01		/* the client set DO */
#define CACHE_CD	0x02		/* the client set CD */

/* RFC 8767 4: the TTL of a stale answer. */
#define CACHE_STALE_TTL	30

struct cache_config {
	size_t		 max_bytes;	/* memory bound (entries + overhead) */
	uint32_t	 min_ttl;	/* seconds */
	uint32_t	 max_ttl;
	uint32_t	 negative_max_ttl;
	uint32_t	 serve_stale;	/* seconds past expiry; 0 = off */
};

struct cache_key {
	const uint8_t	*name;		/* wire format, lower case */
	size_t		 namelen;
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint8_t		 flags;		/* CACHE_DO | CACHE_CD */
};

enum cache_result {
	CACHE_MISS = 0,
	CACHE_HIT,			/* fresh entry */
	CACHE_STALE			/* expired, within serve-stale */
};

struct cache_stats {
	uint64_t	 entries;
	uint64_t	 bytes;		/* accounted memory of the entries */
	uint64_t	 max_bytes;
	uint64_t	 hits;
	uint64_t	 misses;
	uint64_t	 stale;		/* stale answers handed out */
	uint64_t	 inserts;
	uint64_t	 evictions;	/* removed to stay under the bound */
	uint64_t	 expired;	/* removed because too old to serve */
	uint64_t	 uncacheable;	/* replies cache_store() refused */
};

struct cache;

/*
 * A new, empty cache.  NULL with a message in err on failure (memory, or a
 * bound too small to hold anything).
 */
struct cache	*cache_new(const struct cache_config *, char *err,
		    size_t errsz);

/* Free the cache and every entry; accepts NULL. */
void		 cache_free(struct cache *);

/*
 * Seconds on a monotonic clock, the time base of store and lookup.  Tests
 * pass their own values instead.
 */
uint32_t	 cache_now(void);

/*
 * Store an accepted upstream reply msg[0..len) for key at time now; e
 * describes its OPT (wire_scan()).  An entry for the same key is replaced.
 * Returns 1 if stored, 0 if the reply is not cacheable (or does not fit
 * the bound).  Thread-safe.
 */
int		 cache_store(struct cache *, const struct cache_key *,
		    const uint8_t *msg, size_t len, const struct wire_edns *e,
		    uint32_t now);

/*
 * The same, only while *epoch is want, checked under the lock of the
 * key's shard: a writer that changes *epoch and then calls cache_flush()
 * cannot leave an entry stored for the old value (each store lands before
 * the flush of its shard, or sees the new value).  0 when refused.
 */
int		 cache_store_epoch(struct cache *, const struct cache_key *,
		    const uint8_t *msg, size_t len, const struct wire_edns *e,
		    uint32_t now, const atomic_uint *epoch, unsigned want);

/*
 * Look key up at time now.  A fresh entry is copied into out[0..outsz)
 * with every TTL counted down by the time it spent in the cache (CACHE_HIT);
 * with allow_stale, an expired entry still within serve-stale is copied
 * with every TTL set to CACHE_STALE_TTL (CACHE_STALE).  *len and *e then
 * describe the copy (e as wire_scan() would).  Otherwise CACHE_MISS (also
 * when out is too small), and an entry too old even to be stale is
 * removed.  A miss counts in the stats only without allow_stale (the stale
 * lookup follows a miss already counted).  Thread-safe.
 */
enum cache_result cache_lookup(struct cache *, const struct cache_key *,
		    int allow_stale, uint32_t now, uint8_t *out, size_t outsz,
		    size_t *len, struct wire_edns *e);

/*
 * Remove every entry for name and every name below it (name in wire
 * format, any case; the root removes everything), or every entry when name
 * is NULL.  Returns the number removed.  Thread-safe.
 */
size_t		 cache_flush(struct cache *, const uint8_t *name,
		    size_t namelen);

/* Current counters (a consistent view of each shard). */
void		 cache_get_stats(struct cache *, struct cache_stats *);

#endif /* DNSWARD_CACHE_H */
