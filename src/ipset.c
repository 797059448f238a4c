/*
 * ipset.c -- a compact immutable set of IP prefixes, longest-prefix match,
 * and the parsers of IP feed lines and RPZ rpz-ip owner names.
 *
 * See ipset.h for the structure.  The builder keeps fixed-size records
 * (the masked prefix in network byte order, its length, the value) and an
 * open-addressing hash over them, so a duplicate is known when it is
 * added.  Building sorts the records by (address, length) with an LSD
 * radix sort, which puts every prefix after the prefixes holding it, then
 * sweeps them once with a stack of the open prefixes: each start and
 * each end + 1 of a prefix is a point where the most specific owner may
 * change.  The sweep runs twice (count, then store) so the set is one
 * mapping of exactly its size.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipset.h"

#define NOPLEN		0xff	/* owner of a gap: no prefix */
#define INFOSZ		5	/* owner: value (host order), length */
#define REC4		12	/* address 4, length 1, pad, value 4 */
#define REC6		24	/* address 16, length 1, pad, value 4 */
/* So that the range starts (at most two a prefix) fit 32-bit indexes. */
#define MAX_PREFIXES	0x7fffffffU
#define INDEX_MAX_BITS	20
#define NOTFOUND	((size_t)-1)
#define QUOTE_MAX	40	/* bytes of input quoted in a message */
#define RPZ_MAX_LABELS	9	/* the prefix length and eight groups */

/* wyhash's constants. */
#define H_P1	0xe7037ed1a0b428dbULL
#define H_P2	0x8ebc6af09c88c6e3ULL

/* The two families: index 0 is IPv4, 1 is IPv6. */
static const struct family {
	int		 af;
	size_t		 alen;		/* address bytes */
	size_t		 recsz;		/* builder record */
	unsigned	 maxplen;
	size_t		 per_bucket;	/* range starts per bucket */
} fams[2] = {
	{ AF_INET, 4, REC4, 32, 8 },
	{ AF_INET6, 16, REC6, 128, 4 }
};

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* One family of a builder. */
struct bfam {
	uint8_t		*rec;		/* records of recsz bytes */
	size_t		 n, cap;	/* records, room (in records) */
	uint64_t	*slots;		/* hash << 32 | (record + 1) */
	size_t		 nslots;	/* a power of two, or 0 */
};

struct ipset_builder {
	struct bfam	 f[2];
};

/* One family of a built set. */
struct sfam {
	size_t		 count;		/* prefixes */
	size_t		 n;		/* range starts */
	uint32_t	*s4;		/* IPv4 starts, ascending */
	uint64_t	*s6;		/* IPv6 starts: high, low words */
	uint8_t		*info;		/* owner of each range, INFOSZ */
	uint32_t	*idx;		/* first start of each bucket */
	unsigned	 bits;		/* index bits, after skip */
	unsigned	 skip;		/* leading bits all starts share */
	uint64_t	 common;	/* leading 64 bits of the first start */
	size_t		 bytes;
};

struct ipset {
	struct sfam	 f[2];
	void		*map;
	size_t		 maplen;
};

/*
 * Memory.  As in domset.c, big buffers are mapped, not malloc'ed, so that
 * a reload gives their pages back to the kernel.  Under AddressSanitizer
 * they are malloc'ed, so that a read past an array's end is caught rather
 * than lost in the rest of a page.
 */
#if defined(__SANITIZE_ADDRESS__)
#define IPSET_MALLOC	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IPSET_MALLOC	1
#endif
#endif

#ifdef IPSET_MALLOC
static void *
map_new(size_t n)
{
	return calloc(1, n);
}

static void *
map_resize(void *p, size_t old, size_t n)
{
	return realloc(p, n);
}

static void
map_free(void *p, size_t n)
{
	free(p);
}
#else
static void *
map_new(size_t n)
{
	void	*p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (n >= 2 * 1024 * 1024)
		(void)madvise(p, n, MADV_HUGEPAGE);
	return p;
}

static void *
map_resize(void *p, size_t old, size_t n)
{
	p = mremap(p, old, n, MREMAP_MAYMOVE);
	return p == MAP_FAILED ? NULL : p;
}

static void
map_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}
#endif

static int
fam_of(int af)
{
	if (af == AF_INET)
		return 0;
	if (af == AF_INET6)
		return 1;
	return -1;
}

/* Clear the bits of the n-byte address a beyond plen. */
static void
mask_bits(uint8_t *a, size_t n, unsigned plen)
{
	size_t	 i = plen / 8;

	if (i >= n)
		return;
	a[i] &= (uint8_t)(0xff00u >> (plen % 8));
	memset(a + i + 1, 0, n - i - 1);
}

/*
 * The record key of a prefix (masked address, length) into key; an IPv6
 * prefix inside ::ffff:0:0/96 becomes its IPv4 prefix.  Returns the
 * family index, or -1 when af or plen is bad.
 */
static int
prefix_key(int af, const uint8_t *addr, unsigned plen, uint8_t *key)
{
	int	 fi;

	if ((fi = fam_of(af)) == -1 || plen > fams[fi].maxplen)
		return -1;
	if (fi == 1 && plen >= 96 && memcmp(addr, v4mapped, 12) == 0) {
		addr += 12;
		plen -= 96;
		fi = 0;
	}
	memcpy(key, addr, fams[fi].alen);
	mask_bits(key, fams[fi].alen, plen);
	key[fams[fi].alen] = (uint8_t)plen;
	return fi;
}

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The hash of a record key (alen address bytes, then the length). */
static uint32_t
key_hash(const uint8_t *key, size_t alen)
{
	uint64_t w0 = 0, w1 = 0, h;

	memcpy(&w0, key, alen < 8 ? alen : 8);
	if (alen > 8)
		memcpy(&w1, key + 8, 8);
	h = mum(w0 ^ H_P1, w1 ^ H_P2 ^ key[alen]);
	return (uint32_t)(h ^ (h >> 32));
}

/* Builder. */

struct ipset_builder *
ipset_builder_new(void)
{
	return calloc(1, sizeof(struct ipset_builder));
}

static void
bfam_release(struct bfam *f, size_t recsz)
{
	map_free(f->rec, f->cap * recsz);
	map_free(f->slots, f->nslots * sizeof(uint64_t));
	memset(f, 0, sizeof(*f));
}

void
ipset_builder_free(struct ipset_builder *b)
{
	if (b == NULL)
		return;
	bfam_release(&b->f[0], REC4);
	bfam_release(&b->f[1], REC6);
	free(b);
}

size_t
ipset_builder_count(const struct ipset_builder *b)
{
	return b->f[0].n + b->f[1].n;
}

/* The slot holding key (hash h), or the empty slot where it would go. */
static size_t
bfam_probe(const struct bfam *f, const struct family *fd, const uint8_t *key,
    uint32_t h)
{
	size_t	 mask = f->nslots - 1, i;

	for (i = h & mask; f->slots[i] != 0; i = (i + 1) & mask) {
		uint64_t v = f->slots[i];

		if ((uint32_t)(v >> 32) == h && memcmp(f->rec +
		    ((uint32_t)v - 1) * fd->recsz, key, fd->alen + 1) == 0)
			break;
	}
	return i;
}

static int
bfam_grow_slots(struct bfam *f)
{
	size_t	 n = f->nslots ? f->nslots * 2 : 1024, i, j;
	uint64_t *s;

	if ((s = map_new(n * sizeof(uint64_t))) == NULL)
		return -1;
	for (i = 0; i < f->nslots; i++) {
		if (f->slots[i] == 0)
			continue;
		for (j = (f->slots[i] >> 32) & (n - 1); s[j] != 0;
		    j = (j + 1) & (n - 1))
			;
		s[j] = f->slots[i];
	}
	map_free(f->slots, f->nslots * sizeof(uint64_t));
	f->slots = s;
	f->nslots = n;
	return 0;
}

static int
bfam_grow_recs(struct bfam *f, size_t recsz)
{
	size_t	 cap = f->cap ? f->cap * 2 : 1024;
	uint8_t	*p;

	if (f->rec == NULL)
		p = map_new(cap * recsz);
	else
		p = map_resize(f->rec, f->cap * recsz, cap * recsz);
	if (p == NULL)
		return -1;
	f->rec = p;
	f->cap = cap;
	return 0;
}

enum ipset_add
ipset_add(struct ipset_builder *b, int af, const uint8_t *addr,
    unsigned plen, uint32_t value)
{
	const struct family *fd;
	struct bfam *f;
	uint8_t	 key[17], *r;
	uint32_t h;
	size_t	 i;
	int	 fi;

	if ((fi = prefix_key(af, addr, plen, key)) == -1)
		return IPSET_ERR_INVAL;
	fd = &fams[fi];
	f = &b->f[fi];
	if (f->n + 1 > f->nslots / 4 * 3 && bfam_grow_slots(f) == -1)
		return IPSET_ERR_MEM;
	h = key_hash(key, fd->alen);
	i = bfam_probe(f, fd, key, h);
	if (f->slots[i] != 0)
		return IPSET_DUP;
	if (ipset_builder_count(b) >= MAX_PREFIXES)
		return IPSET_ERR_MEM;
	if (f->n == f->cap && bfam_grow_recs(f, fd->recsz) == -1)
		return IPSET_ERR_MEM;
	r = f->rec + f->n * fd->recsz;
	memset(r, 0, fd->recsz);
	memcpy(r, key, fd->alen + 1);
	memcpy(r + fd->recsz - 4, &value, 4);
	f->slots[i] = (uint64_t)h << 32 | (f->n + 1);
	f->n++;
	return IPSET_NEW;
}

int
ipset_builder_get(const struct ipset_builder *b, int af, const uint8_t *addr,
    unsigned plen, uint32_t *value)
{
	const struct family *fd;
	const struct bfam *f;
	uint8_t	 key[17];
	size_t	 i;
	int	 fi;

	if ((fi = prefix_key(af, addr, plen, key)) == -1)
		return 0;
	fd = &fams[fi];
	f = &b->f[fi];
	if (f->nslots == 0)
		return 0;
	i = bfam_probe(f, fd, key, key_hash(key, fd->alen));
	if (f->slots[i] == 0)
		return 0;
	memcpy(value, f->rec + ((uint32_t)f->slots[i] - 1) * fd->recsz +
	    fd->recsz - 4, 4);
	return 1;
}

/*
 * Sort n records of rs bytes by their first klen bytes (the address in
 * network order, then the length), least significant byte first; a pass
 * whose byte is the same in every record is skipped.  0, or -1 when out
 * of memory.
 */
static int
radix_sort(uint8_t *a, size_t n, size_t rs, size_t klen)
{
	size_t	(*cnt)[256], d, i, sum, c;
	uint8_t	*src = a, *dst, *t;

	if (n < 2)
		return 0;
	if ((cnt = calloc(klen, sizeof(*cnt))) == NULL)
		return -1;
	if ((dst = map_new(n * rs)) == NULL) {
		free(cnt);
		return -1;
	}
	for (i = 0; i < n; i++)
		for (d = 0; d < klen; d++)
			cnt[d][a[i * rs + d]]++;
	for (d = klen; d-- > 0;) {
		if (cnt[d][a[d]] == n)
			continue;
		for (i = 0, sum = 0; i < 256; i++) {
			c = cnt[d][i];
			cnt[d][i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++) {
			const uint8_t *r = src + i * rs;

			memcpy(dst + cnt[d][r[d]]++ * rs, r, rs);
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a) {
		memcpy(a, src, n * rs);
		dst = src;
	}
	map_free(dst, n * rs);
	free(cnt);
	return 0;
}

/*
 * The sweep.  Emitted boundaries come in ascending order; several at the
 * same point (prefixes ending there, one starting there) leave the last
 * one's owner.  A boundary whose owner is the previous range's is
 * dropped: two adjacent ranges with the same length and value may merge
 * even when they belong to two prefixes, as the lookup derives the prefix
 * from the address (masked to the length), never from the range start.
 */
struct sweep {
	struct sfam	*f;		/* where to store; NULL: count */
	int		 v6;
	size_t		 n;		/* boundaries committed */
	int		 pending;
	unsigned __int128 pos;		/* of the pending boundary */
	unsigned __int128 last;		/* of the last committed one */
	uint8_t		 plen, lplen;	/* pending, last committed */
	uint32_t	 value, lvalue;
};

static void
sweep_commit(struct sweep *w)
{
	uint8_t	*info;

	if (!w->pending)
		return;
	w->pending = 0;
	if (w->plen == w->lplen && (w->plen == NOPLEN ||
	    w->value == w->lvalue))
		return;
	if (w->f != NULL) {
		if (w->v6) {
			w->f->s6[2 * w->n] = (uint64_t)(w->pos >> 64);
			w->f->s6[2 * w->n + 1] = (uint64_t)w->pos;
		} else
			w->f->s4[w->n] = (uint32_t)w->pos;
		info = w->f->info + w->n * INFOSZ;
		memcpy(info, &w->value, 4);
		info[4] = w->plen;
	}
	w->n++;
	w->last = w->pos;
	w->lplen = w->plen;
	w->lvalue = w->value;
}

static void
sweep_emit(struct sweep *w, unsigned __int128 pos, uint8_t plen,
    uint32_t value)
{
	if (w->pending && pos != w->pos)
		sweep_commit(w);
	w->pending = 1;
	w->pos = pos;
	w->plen = plen;
	w->value = value;
}

/* An open prefix of the sweep. */
struct open {
	unsigned __int128 end;		/* last address */
	uint32_t	 value;
	uint8_t		 plen;
};

/* Close the innermost open prefix: its parent (or nothing) follows it. */
static void
sweep_close(struct sweep *w, struct open *st, size_t *depth,
    unsigned __int128 max)
{
	struct open *o = &st[--*depth];

	if (o->end == max)
		return;
	if (*depth > 0)
		sweep_emit(w, o->end + 1, st[*depth - 1].plen,
		    st[*depth - 1].value);
	else
		sweep_emit(w, o->end + 1, NOPLEN, 0);
}

/*
 * Sweep the sorted records of family fi into f (NULL: count).  Returns
 * the number of range starts; *last gets the last one.
 */
static size_t
sweep(const struct bfam *b, int fi, struct sfam *f, unsigned __int128 *last)
{
	/* Distinct prefixes nest at most maxplen + 1 deep. */
	struct open st[129];
	struct sweep w;
	const struct family *fd = &fams[fi];
	unsigned __int128 max, s, host;
	size_t	 i, k, depth = 0;
	unsigned width = (unsigned)fd->alen * 8;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.v6 = fi;
	w.lplen = NOPLEN;
	max = fi ? ~(unsigned __int128)0 : 0xffffffffU;
	for (i = 0; i < b->n; i++) {
		const uint8_t *r = b->rec + i * fd->recsz;
		unsigned plen = r[fd->alen];
		uint32_t value;

		for (s = 0, k = 0; k < fd->alen; k++)
			s = s << 8 | r[k];
		memcpy(&value, r + fd->recsz - 4, 4);
		host = plen == width ? 0 : max >> plen;
		while (depth > 0 && st[depth - 1].end < s)
			sweep_close(&w, st, &depth, max);
		sweep_emit(&w, s, (uint8_t)plen, value);
		st[depth].end = s | host;
		st[depth].value = value;
		st[depth].plen = (uint8_t)plen;
		depth++;
	}
	while (depth > 0)
		sweep_close(&w, st, &depth, max);
	sweep_commit(&w);
	*last = w.last;
	return w.n;
}

/* The leading 64 bits of range start i. */
static inline uint64_t
start64(const struct sfam *f, int fi, size_t i)
{
	return fi ? f->s6[2 * i] : (uint64_t)f->s4[i] << 32;
}

static inline size_t
bucket(const struct sfam *f, uint64_t k)
{
	return f->bits == 0 ? 0 : (size_t)((k << f->skip) >> (64 - f->bits));
}

static unsigned
index_bits(size_t n, size_t per_bucket)
{
	unsigned bits = 0;

	while (bits < INDEX_MAX_BITS && (per_bucket << (bits + 1)) <= n)
		bits++;
	return bits;
}

/*
 * Index bits and skip for n starts from first to last: the index covers
 * the bits after those all starts share, as far as the family has bits.
 */
static void
index_plan(struct sfam *f, int fi, size_t n, uint64_t first, uint64_t last)
{
	unsigned width = fi ? 64 : 32;

	f->skip = first == last ? 64 : (unsigned)__builtin_clzll(first ^ last);
	f->common = first;
	f->bits = 0;
	if (f->skip < width) {
		f->bits = index_bits(n, fams[fi].per_bucket);
		if (f->bits > width - f->skip)
			f->bits = width - f->skip;
	}
}

static void
index_fill(struct sfam *f, int fi)
{
	size_t	 nb = (size_t)1 << f->bits, b = 0, i, t;

	for (i = 0; i < f->n; i++)
		for (t = bucket(f, start64(f, fi, i)); b <= t; b++)
			f->idx[b] = (uint32_t)i;
	for (; b <= nb; b++)
		f->idx[b] = (uint32_t)f->n;
}

static size_t
index_bytes(const struct sfam *f)
{
	return f->n == 0 ? 0 : (((size_t)1 << f->bits) + 1) * sizeof(uint32_t);
}

struct ipset *
ipset_build(struct ipset_builder *b)
{
	struct ipset *s = NULL;
	unsigned __int128 last[2];
	size_t	 len[2], off;
	uint8_t	*p;
	int	 fi;

	if (b == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	for (fi = 0; fi < 2; fi++) {
		struct bfam *bf = &b->f[fi];
		struct sfam *f = &s->f[fi];

		/* The hash is done with: give it back before sorting. */
		map_free(bf->slots, bf->nslots * sizeof(uint64_t));
		bf->slots = NULL;
		bf->nslots = 0;
		if (radix_sort(bf->rec, bf->n, fams[fi].recsz,
		    fams[fi].alen + 1) == -1)
			goto fail;
		f->count = bf->n;
		f->n = sweep(bf, fi, NULL, &last[fi]);
		if (f->n > 0) {
			uint64_t first = 0;
			size_t	 k;

			for (k = 0; k < 8 && k < fams[fi].alen; k++)
				first = first << 8 | bf->rec[k];
			if (fi == 0)
				first <<= 32;
			index_plan(f, fi, f->n, first, fi ?
			    (uint64_t)(last[fi] >> 64) :
			    (uint64_t)last[fi] << 32);
		}
		len[fi] = f->n * (fams[fi].alen + INFOSZ) + index_bytes(f);
		f->bytes = len[fi];
	}
	s->maplen = len[0] + len[1];
	if (s->maplen > 0) {
		if ((s->map = map_new(s->maplen)) == NULL)
			goto fail;
		/* 8-byte words first, then 4-byte, then the owner bytes. */
		p = s->map;
		s->f[1].s6 = (uint64_t *)p;
		off = s->f[1].n * 16;
		s->f[0].s4 = (uint32_t *)(p + off);
		off += s->f[0].n * 4;
		for (fi = 0; fi < 2; fi++) {
			s->f[fi].idx = (uint32_t *)(p + off);
			off += index_bytes(&s->f[fi]);
		}
		for (fi = 0; fi < 2; fi++) {
			s->f[fi].info = p + off;
			off += s->f[fi].n * INFOSZ;
		}
	}
	for (fi = 0; fi < 2; fi++) {
		if (s->f[fi].n == 0)
			continue;
		(void)sweep(&b->f[fi], fi, &s->f[fi], &last[fi]);
		index_fill(&s->f[fi], fi);
	}
	ipset_builder_free(b);
	return s;
fail:
	ipset_builder_free(b);
	ipset_free(s);
	return NULL;
}

void
ipset_free(struct ipset *s)
{
	if (s == NULL)
		return;
	map_free(s->map, s->maplen);
	free(s);
}

size_t
ipset_count(const struct ipset *s)
{
	return s == NULL ? 0 : s->f[0].count + s->f[1].count;
}

size_t
ipset_memory(const struct ipset *s)
{
	size_t	 pg = 4096;

	if (s == NULL)
		return 0;
	return (s->maplen + pg - 1) / pg * pg + sizeof(*s);
}

void
ipset_stats(const struct ipset *s, struct ipset_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (s == NULL)
		return;
	st->v4 = s->f[0].count;
	st->v6 = s->f[1].count;
	st->v4_ranges = s->f[0].n;
	st->v6_ranges = s->f[1].n;
	st->v4_bytes = s->f[0].bytes;
	st->v6_bytes = s->f[1].bytes;
}

/* Lookup. */

/*
 * The bucket of k in [*lo, *hi), or the answer when k lies outside the
 * leading bits every start shares: NOTFOUND below them, the last start
 * above.  Returns 1 when the bucket is to be searched.
 */
static inline int
find_bucket(const struct sfam *f, uint64_t k, size_t *lo, size_t *hi,
    size_t *ans)
{
	size_t	 t;

	if (f->skip > 0) {
		uint64_t kt = k >> (64 - f->skip), ct = f->common >>
		    (64 - f->skip);

		if (kt != ct) {
			*ans = kt < ct ? NOTFOUND : f->n - 1;
			return 0;
		}
	}
	t = bucket(f, k);
	*lo = f->idx[t];
	*hi = f->idx[t + 1];
	return 1;
}

/* The last range start at or below a, or NOTFOUND. */
static size_t
find4(const struct sfam *f, uint32_t a)
{
	size_t	 lo, hi, mid, ans;

	if (f->n == 0)
		return NOTFOUND;
	if (!find_bucket(f, (uint64_t)a << 32, &lo, &hi, &ans))
		return ans;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->s4[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NOTFOUND : lo - 1;
}

static size_t
find6(const struct sfam *f, uint64_t ah, uint64_t al)
{
	size_t	 lo, hi, mid, ans;

	if (f->n == 0)
		return NOTFOUND;
	if (!find_bucket(f, ah, &lo, &hi, &ans))
		return ans;
	while (lo < hi) {
		const uint64_t *st;

		mid = lo + (hi - lo) / 2;
		st = &f->s6[2 * mid];
		if (st[0] < ah || (st[0] == ah && st[1] <= al))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NOTFOUND : lo - 1;
}

/* Fill *m from range i of family fi holding addr; 0 when it is a gap. */
static int
match_fill(const struct sfam *f, int fi, size_t i, const uint8_t *addr,
    struct ipset_match *m)
{
	const uint8_t *info;

	if (i == NOTFOUND)
		return 0;
	info = f->info + i * INFOSZ;
	if (info[4] == NOPLEN)
		return 0;
	memset(m, 0, sizeof(*m));
	m->af = fams[fi].af;
	memcpy(m->addr, addr, fams[fi].alen);
	mask_bits(m->addr, fams[fi].alen, info[4]);
	m->plen = info[4];
	memcpy(&m->value, info, 4);
	return 1;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	size_t	 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
ipset_lookup(const struct ipset *s, int af, const uint8_t *addr,
    struct ipset_match *m)
{
	uint32_t a4;

	if (s == NULL)
		return 0;
	if (af == AF_INET6) {
		if (memcmp(addr, v4mapped, 12) == 0) {
			a4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] <<
			    16 | (uint32_t)addr[14] << 8 | addr[15];
			if (match_fill(&s->f[0], 0, find4(&s->f[0], a4),
			    addr + 12, m))
				return 1;
		}
		return match_fill(&s->f[1], 1, find6(&s->f[1], be64(addr),
		    be64(addr + 8)), addr, m);
	}
	if (af != AF_INET)
		return 0;
	a4 = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
	    (uint32_t)addr[2] << 8 | addr[3];
	return match_fill(&s->f[0], 0, find4(&s->f[0], a4), addr, m);
}

char *
ipset_format(int af, const uint8_t *addr, unsigned plen, char *buf,
    size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if ((af != AF_INET && af != AF_INET6) ||
	    inet_ntop(af, addr, a, sizeof(a)) == NULL)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s/%u", a, plen);
	return buf;
}

/* Parsers. */

static void __attribute__((format(printf, 3, 4)))
why_set(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

/* s[0, n) for a message: printable ASCII, at most QUOTE_MAX bytes. */
static const char *
quote(char *buf, size_t bufsz, const char *s, size_t n)
{
	size_t	 i, k = n > QUOTE_MAX ? QUOTE_MAX : n;

	if (k >= bufsz)
		k = bufsz - 1;
	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[i] = '\0';
	if (k < n && bufsz >= k + 4)
		memcpy(buf + k, "...", 4);
	return buf;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The value of a hex digit, or -1. */
static int
hex_val(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
is_addr_char(int c)
{
	return hex_val(c) >= 0 || c == ':' || c == '.';
}

/* Whether a (alen bytes) has bits set beyond plen. */
static int
host_bits(const uint8_t *a, size_t alen, unsigned plen)
{
	uint8_t	 m[16];

	memcpy(m, a, alen);
	mask_bits(m, alen, plen);
	return memcmp(m, a, alen) != 0;
}

int
ipset_parse_text(const char *s, size_t len, int *af, uint8_t addr[16],
    unsigned *plen, size_t *errcol, char *why, size_t whysz)
{
	char	 buf[INET6_ADDRSTRLEN + 1], q[QUOTE_MAX + 4];
	char	 net[IPSET_STRLEN];
	size_t	 i, j, col = 1;
	unsigned max, p;
	uint8_t	 m[16];

	for (i = 0; i < len && is_addr_char((unsigned char)s[i]); i++)
		;
	if (len == 0) {
		why_set(why, whysz, "missing address");
		goto bad;
	}
	if (i == 0 || i >= sizeof(buf))
		goto bad_addr;
	memcpy(buf, s, i);
	buf[i] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*af = AF_INET6;
		max = 128;
	} else
		goto bad_addr;
	p = max;
	if (i < len && s[i] == '/') {
		j = ++i;
		for (p = 0; i < len && is_digit((unsigned char)s[i]); i++)
			if (p < 1000)
				p = p * 10 + (unsigned)(s[i] - '0');
		if (i == j) {
			why_set(why, whysz, "missing prefix length after '/'");
			col = j + 1;
			goto bad;
		}
		if (p > max || i - j > 3) {
			why_set(why, whysz, "prefix length %s out of range "
			    "(0-%u)", quote(q, sizeof(q), s + j, i - j), max);
			col = j + 1;
			goto bad;
		}
	}
	if (i < len) {
		why_set(why, whysz, "trailing garbage \"%s\"",
		    quote(q, sizeof(q), s + i, len - i));
		col = i + 1;
		goto bad;
	}
	if (host_bits(addr, max / 8, p)) {
		memcpy(m, addr, 16);
		mask_bits(m, max / 8, p);
		/* The text is known printable and short by now. */
		why_set(why, whysz, "%.*s: host bits set (%s?)", (int)len, s,
		    ipset_format(*af, m, p, net, sizeof(net)));
		goto bad;
	}
	*plen = p;
	return 0;
bad_addr:
	why_set(why, whysz, "bad address \"%s\"", quote(q, sizeof(q), s, len));
bad:
	if (errcol != NULL)
		*errcol = col;
	return -1;
}

int
ipset_parse_line(const char *line, size_t len, int *af, uint8_t addr[16],
    unsigned *plen, size_t *errcol, char *why, size_t whysz)
{
	char	 q[QUOTE_MAX + 4];
	size_t	 i = 0, tok, e, col;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	while (i < len && is_blank((unsigned char)line[i]))
		i++;
	if (i == len || line[i] == '#' || line[i] == ';')
		return 0;
	for (tok = i; i < len && !is_blank((unsigned char)line[i]) &&
	    line[i] != '#' && line[i] != ';'; i++)
		;
	if (ipset_parse_text(line + tok, i - tok, af, addr, plen, &col, why,
	    whysz) == -1) {
		if (errcol != NULL)
			*errcol = tok + col;
		return -1;
	}
	while (i < len && is_blank((unsigned char)line[i]))
		i++;
	if (i < len && line[i] != '#' && line[i] != ';') {
		for (e = i; e < len && !is_blank((unsigned char)line[e]); e++)
			;
		why_set(why, whysz, "unexpected \"%s\" after the address",
		    quote(q, sizeof(q), line + i, e - i));
		if (errcol != NULL)
			*errcol = i + 1;
		return -1;
	}
	return 1;
}

/* A label of the rpz-ip owner. */
struct label {
	const char	*p;
	size_t		 n;
};

/* A decimal label of 1..3 digits into *v; -1 when it is not one. */
static int
label_dec(const struct label *l, unsigned *v)
{
	size_t	 i;

	if (l->n == 0 || l->n > 3)
		return -1;
	for (*v = 0, i = 0; i < l->n; i++) {
		if (!is_digit((unsigned char)l->p[i]))
			return -1;
		*v = *v * 10 + (unsigned)(l->p[i] - '0');
	}
	return 0;
}

/* A 16-bit group of 1..4 hex digits into *v; -1 when it is not one. */
static int
label_hex(const struct label *l, unsigned *v)
{
	size_t	 i;
	int	 d;

	if (l->n == 0 || l->n > 4)
		return -1;
	for (*v = 0, i = 0; i < l->n; i++) {
		if ((d = hex_val((unsigned char)l->p[i])) == -1)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

static int
label_zz(const struct label *l)
{
	return l->n == 2 && (l->p[0] | 0x20) == 'z' && (l->p[1] | 0x20) == 'z';
}

/* The address labels (1..nl-1, last group first) of an IPv4 trigger. */
static int
rpz_v4(const struct label *lab, uint8_t *addr, char *why, size_t whysz)
{
	char	 q[QUOTE_MAX + 4];
	unsigned o;
	size_t	 k;

	for (k = 1; k <= 4; k++) {
		if (label_dec(&lab[k], &o) == -1 || o > 255) {
			why_set(why, whysz, "bad IPv4 octet \"%s\"",
			    quote(q, sizeof(q), lab[k].p, lab[k].n));
			return -1;
		}
		addr[4 - k] = (uint8_t)o;
	}
	return 0;
}

static int
rpz_v6(const struct label *lab, size_t nl, uint8_t *addr, char *why,
    size_t whysz)
{
	char	 q[QUOTE_MAX + 4];
	size_t	 k, nzz = 0, groups, g = 0;
	unsigned v;

	for (k = 1; k < nl; k++)
		nzz += label_zz(&lab[k]);
	/* At most RPZ_MAX_LABELS: with a zz, at most 7 groups remain. */
	groups = nl - 1 - nzz;
	if (nzz > 1) {
		why_set(why, whysz, "more than one zz");
		return -1;
	}
	if (nzz == 0 && groups != 8) {
		why_set(why, whysz, "%zu labels after the prefix length: IPv4 "
		    "needs 4, IPv6 8 or a zz", groups);
		return -1;
	}
	memset(addr, 0, 16);
	for (k = nl - 1; k >= 1; k--) {
		if (label_zz(&lab[k])) {
			g += 8 - groups;
			continue;
		}
		if (label_hex(&lab[k], &v) == -1) {
			why_set(why, whysz, "bad IPv6 group \"%s\"",
			    quote(q, sizeof(q), lab[k].p, lab[k].n));
			return -1;
		}
		addr[2 * g] = (uint8_t)(v >> 8);
		addr[2 * g + 1] = (uint8_t)v;
		g++;
	}
	return 0;
}

int
ipset_parse_rpz_owner(const char *s, size_t len, int *af, uint8_t addr[16],
    unsigned *plen, char *why, size_t whysz)
{
	struct label lab[RPZ_MAX_LABELS];
	char	 q[QUOTE_MAX + 4], net[IPSET_STRLEN];
	uint8_t	 m[16];
	size_t	 i, start = 0, nl = 0, nzz = 0;
	unsigned p, max;

	if (len == 0) {
		why_set(why, whysz, "empty rpz-ip trigger");
		return -1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start) {
			why_set(why, whysz, "empty label in rpz-ip trigger "
			    "\"%s\"", quote(q, sizeof(q), s, len));
			return -1;
		}
		if (nl == RPZ_MAX_LABELS) {
			why_set(why, whysz, "too many labels in rpz-ip "
			    "trigger \"%s\"", quote(q, sizeof(q), s, len));
			return -1;
		}
		lab[nl].p = s + start;
		lab[nl].n = i - start;
		nzz += label_zz(&lab[nl]);
		nl++;
		start = i + 1;
	}
	if (label_dec(&lab[0], &p) == -1) {
		why_set(why, whysz, "bad prefix length \"%s\"",
		    quote(q, sizeof(q), lab[0].p, lab[0].n));
		return -1;
	}
	if (nl == 1) {
		why_set(why, whysz, "no address after the prefix length");
		return -1;
	}
	memset(addr, 0, 16);
	if (nl == 5 && nzz == 0) {
		*af = AF_INET;
		max = 32;
	} else {
		*af = AF_INET6;
		max = 128;
	}
	if (p < 1 || p > max) {
		why_set(why, whysz, "%s prefix length %u out of range (1-%u)",
		    max == 32 ? "IPv4" : "IPv6", p, max);
		return -1;
	}
	if (max == 32 && rpz_v4(lab, addr, why, whysz) == -1)
		return -1;
	if (max == 128 && rpz_v6(lab, nl, addr, why, whysz) == -1)
		return -1;
	if (host_bits(addr, max / 8, p)) {
		memcpy(m, addr, 16);
		mask_bits(m, max / 8, p);
		why_set(why, whysz, "host bits set beyond /%u (%s?)", p,
		    ipset_format(*af, m, p, net, sizeof(net)));
		return -1;
	}
	*plen = p;
	return 0;
}

int
ipset_parse_rpz_ip(const uint8_t *labels, size_t len, int *af,
    uint8_t addr[16], unsigned *plen, char *why, size_t whysz)
{
	char	 buf[256];
	size_t	 pos = 0, out = 0, k;

	while (pos < len) {
		size_t	 l = labels[pos];

		if (l == 0 || l > 63 || l > len - pos - 1) {
			why_set(why, whysz, "malformed rpz-ip owner name");
			return -1;
		}
		if (out + l + 1 >= sizeof(buf)) {
			why_set(why, whysz, "rpz-ip owner name too long");
			return -1;
		}
		if (out > 0)
			buf[out++] = '.';
		for (k = 1; k <= l; k++) {
			uint8_t	 c = labels[pos + k];

			if (!is_digit(c) && !((c | 0x20) >= 'a' &&
			    (c | 0x20) <= 'z')) {
				why_set(why, whysz, "invalid character 0x%02x "
				    "in rpz-ip trigger", c);
				return -1;
			}
			buf[out++] = (char)c;
		}
		pos += l + 1;
	}
	return ipset_parse_rpz_owner(buf, out, af, addr, plen, why, whysz);
}
