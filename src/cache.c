/*
 * cache.c -- sharded, memory-bounded answer cache with segmented LRU.
 * See cache.h.
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "wire.h"

#define CACHE_MAX_SHARDS	64
#define CACHE_SHARD_MIN		(256 * 1024)	/* bound of one shard, at least */
#define CACHE_MIN_BYTES		(16 * 1024)
#define CACHE_INIT_BUCKETS	256
/* The protected segment may hold this share (percent) of a shard. */
#define CACHE_PROTECTED_PCT	80

enum { SEG_PROBATION = 0, SEG_PROTECTED = 1 };

struct centry {
	struct centry		*hnext;		/* hash chain */
	TAILQ_ENTRY(centry)	 lru;		/* its segment, MRU first */
	uint64_t		 hash;
	uint32_t		 stored;	/* cache_now() at store */
	uint32_t		 expire;	/* stored + lifetime */
	uint32_t		 size;		/* accounted bytes */
	uint16_t		 msglen;
	uint16_t		 nttl;		/* TTL fields to count down */
	uint16_t		 qtype;
	uint16_t		 qclass;
	uint8_t			 flags;
	uint8_t			 namelen;
	uint8_t			 seg;
	struct wire_edns	 e;		/* the message's OPT */
	/* name[namelen], msg[msglen], pad, uint16_t ttl offsets[nttl] */
	uint8_t			 data[];
};

TAILQ_HEAD(centry_list, centry);

struct shard {
	pthread_mutex_t		 lock;
	struct centry		**buckets;
	size_t			 nbuckets;	/* power of two */
	size_t			 count;
	size_t			 bytes;
	size_t			 prot_bytes;	/* of them, protected */
	size_t			 budget;
	struct centry_list	 seg[2];
	uint64_t		 hits, misses, stale, inserts, evictions,
				 expired, uncacheable;
} __attribute__((aligned(64)));

struct cache {
	struct cache_config	 cfg;
	uint64_t		 k0, k1;	/* SipHash key */
	unsigned		 nshards;	/* power of two */
	unsigned		 shard_shift;
	size_t			 max_entry;	/* largest accounted entry */
	struct shard		*shards;
};

/* ---- SipHash-1-3 (Aumasson, Bernstein), keyed per cache ----------- */

#define ROTL64(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);	\
	v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);	\
} while (0)

static uint64_t
get64le(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

static uint64_t
siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t	 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	 m, b = (uint64_t)len << 56;
	size_t		 i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = get64le(in + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	while (left-- > 0)
		b |= (uint64_t)in[i + left] << (8 * left);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t
key_hash(const struct cache *c, const struct cache_key *k)
{
	uint8_t	 buf[DNS_MAX_NAME + 5];

	memcpy(buf, k->name, k->namelen);
	buf[k->namelen] = (uint8_t)(k->qtype >> 8);
	buf[k->namelen + 1] = (uint8_t)k->qtype;
	buf[k->namelen + 2] = (uint8_t)(k->qclass >> 8);
	buf[k->namelen + 3] = (uint8_t)k->qclass;
	buf[k->namelen + 4] = k->flags;
	return siphash13(c->k0, c->k1, buf, k->namelen + 5);
}

/* ---- entries ------------------------------------------------------ */

static uint8_t *
entry_msg(struct centry *ce)
{
	return ce->data + ce->namelen;
}

static uint16_t *
entry_ttls(struct centry *ce)
{
	size_t	 off = ((size_t)ce->namelen + ce->msglen + 1) & ~(size_t)1;

	return (uint16_t *)(void *)(ce->data + off);
}

static size_t
entry_alloc_size(size_t namelen, size_t msglen, size_t nttl)
{
	return sizeof(struct centry) + ((namelen + msglen + 1) & ~(size_t)1) +
	    nttl * sizeof(uint16_t);
}

static int
entry_is(const struct centry *ce, uint64_t h, const struct cache_key *k)
{
	return ce->hash == h && ce->qtype == k->qtype &&
	    ce->qclass == k->qclass && ce->flags == k->flags &&
	    ce->namelen == k->namelen &&
	    memcmp(ce->data, k->name, k->namelen) == 0;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Check that msg can be cached, find its TTL fields and its lifetime.
 * Fills offs[] (room for (len - 12) / 11 entries) and returns how many,
 * or -1 when not cacheable; *life receives the lifetime in seconds.  The
 * TTLs are not clamped here (see clamp_ttls()).
 */
struct scan {
	size_t		 nttl;
	int		 negative;
	int		 has_soa;
	uint32_t	 soa_min;	/* min(SOA TTL, SOA MINIMUM) */
};

static int
scan_reply(const uint8_t *msg, size_t len, const struct wire_edns *e,
    uint16_t *offs, struct scan *s)
{
	struct wire_question	 q;
	unsigned		 an, ns, ar, i;
	size_t			 pos, rdpos;
	uint16_t		 type, rdlen;
	int			 rcode;

	memset(s, 0, sizeof(*s));
	if (len < DNS_HDR_LEN || len > UINT16_MAX || !DNS_QR(msg) ||
	    DNS_TC(msg) || DNS_OPCODE(msg) != 0 || DNS_QDCOUNT(msg) != 1)
		return -1;
	rcode = DNS_RCODE(msg);
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)
		return -1;
	if (e->present && e->ext_rcode != 0)
		return -1;
	/* query_rewrite() needs an uncompressed question. */
	if (wire_question(msg, len, &q) == -1 ||
	    q.end != DNS_HDR_LEN + q.namelen + 4)
		return -1;
	an = DNS_ANCOUNT(msg);
	ns = DNS_NSCOUNT(msg);
	ar = DNS_ARCOUNT(msg);
	pos = q.end;
	for (i = 0; i < an + ns + ar; i++) {
		if (wire_skip_rr(msg, len, &pos, &type, &rdpos, &rdlen) == -1)
			return -1;
		if (type == DNS_TYPE_OPT && i >= an + ns)
			continue;
		offs[s->nttl++] = (uint16_t)(rdpos - 6);
		if (type == DNS_TYPE_SOA && i >= an && i < an + ns &&
		    rdlen >= 22) {
			uint32_t ttl = get32(msg + rdpos - 6);
			uint32_t min = get32(msg + rdpos + rdlen - 4);

			if (ttl & 0x80000000U)
				ttl = 0;
			if (min & 0x80000000U)
				min = 0;
			s->has_soa = 1;
			s->soa_min = ttl < min ? ttl : min;
		}
	}
	if (pos != len)
		return -1;
	if (rcode == DNS_RCODE_NXDOMAIN || an == 0) {
		/* RFC 2308 5: without a SOA a negative answer is not cached. */
		if (!s->has_soa)
			return -1;
		s->negative = 1;
	}
	return 0;
}

/* Clamp the TTLs of the stored copy in place; returns the lifetime. */
static uint32_t
clamp_ttls(const struct cache_config *cfg, uint8_t *msg, const uint16_t *offs,
    const struct scan *s)
{
	uint32_t	 life = UINT32_MAX, ttl;
	size_t		 i;

	for (i = 0; i < s->nttl; i++) {
		ttl = get32(msg + offs[i]);
		if (ttl & 0x80000000U)		/* RFC 2181 8 */
			ttl = 0;
		if (s->negative) {
			if (ttl > s->soa_min)
				ttl = s->soa_min;
			if (ttl > cfg->negative_max_ttl)
				ttl = cfg->negative_max_ttl;
		} else {
			if (ttl < cfg->min_ttl)
				ttl = cfg->min_ttl;
			if (ttl > cfg->max_ttl)
				ttl = cfg->max_ttl;
		}
		put32(msg + offs[i], ttl);
		if (ttl < life)
			life = ttl;
	}
	return life == UINT32_MAX ? 0 : life;
}

/* ---- shards ------------------------------------------------------- */

static struct shard *
shard_of(struct cache *c, uint64_t h)
{
	return &c->shards[c->nshards == 1 ? 0 : h >> c->shard_shift];
}

static struct centry **
bucket_of(struct shard *sh, uint64_t h)
{
	return &sh->buckets[h & (sh->nbuckets - 1)];
}

static void
shard_unlink(struct shard *sh, struct centry *ce)
{
	struct centry	**pp = bucket_of(sh, ce->hash);

	while (*pp != ce)
		pp = &(*pp)->hnext;
	*pp = ce->hnext;
	TAILQ_REMOVE(&sh->seg[ce->seg], ce, lru);
	if (ce->seg == SEG_PROTECTED)
		sh->prot_bytes -= ce->size;
	sh->bytes -= ce->size;
	sh->count--;
	free(ce);
}

/* Double the bucket array when the table is fuller than one per bucket. */
static void
shard_grow(struct shard *sh)
{
	struct centry	**nb, *ce, *next;
	size_t		 n = sh->nbuckets * 2, i;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;			/* longer chains, still correct */
	for (i = 0; i < sh->nbuckets; i++) {
		for (ce = sh->buckets[i]; ce != NULL; ce = next) {
			next = ce->hnext;
			ce->hnext = nb[ce->hash & (n - 1)];
			nb[ce->hash & (n - 1)] = ce;
		}
	}
	free(sh->buckets);
	sh->buckets = nb;
	sh->nbuckets = n;
}

/* Keep the protected segment within its share: demote its oldest. */
static void
shard_balance(struct shard *sh)
{
	struct centry	*ce;
	size_t		 max = sh->budget / 100 * CACHE_PROTECTED_PCT;

	while (sh->prot_bytes > max &&
	    (ce = TAILQ_LAST(&sh->seg[SEG_PROTECTED], centry_list)) != NULL) {
		TAILQ_REMOVE(&sh->seg[SEG_PROTECTED], ce, lru);
		sh->prot_bytes -= ce->size;
		ce->seg = SEG_PROBATION;
		TAILQ_INSERT_HEAD(&sh->seg[SEG_PROBATION], ce, lru);
	}
}

static void
shard_touch(struct shard *sh, struct centry *ce)
{
	TAILQ_REMOVE(&sh->seg[ce->seg], ce, lru);
	if (ce->seg == SEG_PROBATION) {
		ce->seg = SEG_PROTECTED;
		sh->prot_bytes += ce->size;
	}
	TAILQ_INSERT_HEAD(&sh->seg[SEG_PROTECTED], ce, lru);
	shard_balance(sh);
}

/*
 * Evict, oldest probationary first, until the shard fits its bound; never
 * the entry just stored (a big one may need protected ones to go).
 */
static void
shard_evict(struct shard *sh, const struct centry *keep)
{
	struct centry	*ce;

	while (sh->bytes > sh->budget) {
		ce = TAILQ_LAST(&sh->seg[SEG_PROBATION], centry_list);
		if (ce == NULL || ce == keep)
			ce = TAILQ_LAST(&sh->seg[SEG_PROTECTED], centry_list);
		if (ce == NULL)
			break;
		shard_unlink(sh, ce);
		sh->evictions++;
	}
}

static struct centry *
shard_find(struct shard *sh, uint64_t h, const struct cache_key *k)
{
	struct centry	*ce;

	for (ce = *bucket_of(sh, h); ce != NULL; ce = ce->hnext)
		if (entry_is(ce, h, k))
			return ce;
	return NULL;
}

/* ---- API ---------------------------------------------------------- */

uint32_t
cache_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

struct cache *
cache_new(const struct cache_config *cfg, char *err, size_t errsz)
{
	struct cache	*c;
	unsigned	 i, n = 1, shift = 0;
	uint8_t		 seed[16];
	size_t		 got = 0;
	ssize_t		 r;

	if (cfg->max_bytes < CACHE_MIN_BYTES) {
		snprintf(err, errsz, "cache size %zu bytes is too small "
		    "(at least %u)", cfg->max_bytes, CACHE_MIN_BYTES);
		return NULL;
	}
	while (n < CACHE_MAX_SHARDS && cfg->max_bytes / (n * 2) >=
	    CACHE_SHARD_MIN)
		n *= 2;
	while ((1U << shift) < n)
		shift++;
	while (got < sizeof(seed)) {
		if ((r = getrandom(seed + got, sizeof(seed) - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "getrandom: %s", strerror(errno));
			return NULL;
		}
		got += (size_t)r;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    posix_memalign((void **)&c->shards, 64,
	    n * sizeof(struct shard)) != 0) {
		free(c);
		snprintf(err, errsz, "cache: out of memory");
		return NULL;
	}
	memset(c->shards, 0, n * sizeof(struct shard));
	c->cfg = *cfg;
	c->k0 = get64le(seed);
	c->k1 = get64le(seed + 8);
	c->nshards = n;
	c->shard_shift = 64 - shift;
	for (i = 0; i < n; i++) {
		struct shard *sh = &c->shards[i];

		pthread_mutex_init(&sh->lock, NULL);
		TAILQ_INIT(&sh->seg[SEG_PROBATION]);
		TAILQ_INIT(&sh->seg[SEG_PROTECTED]);
		sh->budget = cfg->max_bytes / n;
		sh->nbuckets = CACHE_INIT_BUCKETS;
		if ((sh->buckets = calloc(sh->nbuckets,
		    sizeof(*sh->buckets))) == NULL) {
			c->nshards = i + 1;
			cache_free(c);
			snprintf(err, errsz, "cache: out of memory");
			return NULL;
		}
	}
	/* One entry may take at most a quarter of its shard. */
	c->max_entry = c->shards[0].budget / 4;
	return c;
}

void
cache_free(struct cache *c)
{
	struct centry	*ce, *next;
	unsigned	 i;
	size_t		 b;

	if (c == NULL)
		return;
	for (i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->shards[i];

		for (b = 0; sh->buckets != NULL && b < sh->nbuckets; b++)
			for (ce = sh->buckets[b]; ce != NULL; ce = next) {
				next = ce->hnext;
				free(ce);
			}
		free(sh->buckets);
		pthread_mutex_destroy(&sh->lock);
	}
	free(c->shards);
	free(c);
}

int
cache_store(struct cache *c, const struct cache_key *k, const uint8_t *msg,
    size_t len, const struct wire_edns *e, uint32_t now)
{
	return cache_store_epoch(c, k, msg, len, e, now, NULL, 0);
}

int
cache_store_epoch(struct cache *c, const struct cache_key *k,
    const uint8_t *msg, size_t len, const struct wire_edns *e, uint32_t now,
    const atomic_uint *epoch, unsigned want)
{
	uint16_t	 offs[(DNS_MAX_UDP - DNS_HDR_LEN) / 11 + 1];
	struct scan	 s;
	struct centry	*ce, *old;
	struct shard	*sh;
	uint32_t	 life;
	uint64_t	 h;
	size_t		 size;

	if (k->namelen == 0 || k->namelen > DNS_MAX_NAME)
		return 0;
	h = key_hash(c, k);
	sh = shard_of(c, h);
	if (scan_reply(msg, len, e, offs, &s) == -1)
		goto uncacheable;
	size = entry_alloc_size(k->namelen, len, s.nttl);
	if (size > c->max_entry || (ce = malloc(size)) == NULL)
		goto uncacheable;
	memset(ce, 0, sizeof(*ce));
	memcpy(ce->data, k->name, k->namelen);
	ce->namelen = (uint8_t)k->namelen;
	ce->msglen = (uint16_t)len;
	memcpy(entry_msg(ce), msg, len);
	if ((life = clamp_ttls(&c->cfg, entry_msg(ce), offs, &s)) == 0) {
		free(ce);
		goto uncacheable;
	}
	ce->nttl = (uint16_t)s.nttl;
	memcpy(entry_ttls(ce), offs, s.nttl * sizeof(uint16_t));
	ce->hash = h;
	ce->stored = now;
	ce->expire = now + life < now ? UINT32_MAX : now + life;
	ce->qtype = k->qtype;
	ce->qclass = k->qclass;
	ce->flags = k->flags;
	ce->e = *e;
	ce->seg = SEG_PROBATION;
	/*
	 * The allocator's header and rounding (glibc: 8 bytes, 16-byte
	 * chunks) and the entry's share of the bucket array count too.
	 */
	ce->size = (uint32_t)(((size + 8 + 15) & ~(size_t)15) +
	    2 * sizeof(void *));

	pthread_mutex_lock(&sh->lock);
	if (epoch != NULL &&
	    atomic_load_explicit(epoch, memory_order_acquire) != want) {
		pthread_mutex_unlock(&sh->lock);
		free(ce);
		return 0;
	}
	if ((old = shard_find(sh, h, k)) != NULL)
		shard_unlink(sh, old);
	ce->hnext = *bucket_of(sh, h);
	*bucket_of(sh, h) = ce;
	TAILQ_INSERT_HEAD(&sh->seg[SEG_PROBATION], ce, lru);
	sh->bytes += ce->size;
	sh->count++;
	sh->inserts++;
	shard_evict(sh, ce);
	if (sh->count > sh->nbuckets)
		shard_grow(sh);
	pthread_mutex_unlock(&sh->lock);
	return 1;

uncacheable:
	pthread_mutex_lock(&sh->lock);
	sh->uncacheable++;
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

enum cache_result
cache_lookup(struct cache *c, const struct cache_key *k, int allow_stale,
    uint32_t now, uint8_t *out, size_t outsz, size_t *len,
    struct wire_edns *e)
{
	struct centry		*ce;
	struct shard		*sh;
	enum cache_result	 r;
	const uint16_t		*offs;
	uint32_t		 age, ttl;
	uint64_t		 h;
	size_t			 i;

	if (k->namelen == 0 || k->namelen > DNS_MAX_NAME)
		return CACHE_MISS;
	h = key_hash(c, k);
	sh = shard_of(c, h);
	pthread_mutex_lock(&sh->lock);
	if ((ce = shard_find(sh, h, k)) == NULL || ce->msglen > outsz) {
		r = CACHE_MISS;
	} else if (now < ce->expire) {
		r = CACHE_HIT;
	} else if (c->cfg.serve_stale > 0 &&
	    now - ce->expire < c->cfg.serve_stale) {
		r = allow_stale ? CACHE_STALE : CACHE_MISS;
	} else {
		shard_unlink(sh, ce);
		sh->expired++;
		r = CACHE_MISS;
	}
	if (r == CACHE_MISS) {
		if (!allow_stale)
			sh->misses++;
		pthread_mutex_unlock(&sh->lock);
		return CACHE_MISS;
	}
	memcpy(out, entry_msg(ce), ce->msglen);
	*len = ce->msglen;
	*e = ce->e;
	offs = entry_ttls(ce);
	age = now > ce->stored ? now - ce->stored : 0;
	for (i = 0; i < ce->nttl; i++) {
		if (r == CACHE_STALE)
			ttl = CACHE_STALE_TTL;
		else {
			ttl = get32(out + offs[i]);
			ttl = ttl > age ? ttl - age : 0;
		}
		put32(out + offs[i], ttl);
	}
	if (r == CACHE_HIT) {
		sh->hits++;
		shard_touch(sh, ce);
	} else
		sh->stale++;
	pthread_mutex_unlock(&sh->lock);
	return r;
}

/* Is name (lower case) equal to or below zone (lower case)? */
static int
name_under(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	size_t	 p = 0;

	while (p < len) {
		if (len - p == zlen && memcmp(name + p, zone, zlen) == 0)
			return 1;
		if (name[p] == 0)
			break;
		p += (size_t)name[p] + 1;
	}
	return 0;
}

size_t
cache_flush(struct cache *c, const uint8_t *name, size_t namelen)
{
	uint8_t		 zone[DNS_MAX_NAME];
	struct centry	*ce, *next;
	size_t		 removed = 0, b;
	unsigned	 i;

	if (name != NULL) {
		if (namelen == 0 || namelen > DNS_MAX_NAME)
			return 0;
		memcpy(zone, name, namelen);
		wire_name_lower(zone, namelen);
	}
	for (i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->shards[i];

		pthread_mutex_lock(&sh->lock);
		for (b = 0; b < sh->nbuckets; b++)
			for (ce = sh->buckets[b]; ce != NULL; ce = next) {
				next = ce->hnext;
				if (name != NULL && !name_under(ce->data,
				    ce->namelen, zone, namelen))
					continue;
				shard_unlink(sh, ce);
				removed++;
			}
		pthread_mutex_unlock(&sh->lock);
	}
	return removed;
}

void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
	unsigned	 i;

	memset(st, 0, sizeof(*st));
	st->max_bytes = c->cfg.max_bytes;
	for (i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->shards[i];

		pthread_mutex_lock(&sh->lock);
		st->entries += sh->count;
		st->bytes += sh->bytes;
		st->hits += sh->hits;
		st->misses += sh->misses;
		st->stale += sh->stale;
		st->inserts += sh->inserts;
		st->evictions += sh->evictions;
		st->expired += sh->expired;
		st->uncacheable += sh->uncacheable;
		pthread_mutex_unlock(&sh->lock);
	}
}
