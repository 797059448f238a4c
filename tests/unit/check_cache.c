/*
 * check_cache.c -- unit tests for cache.c: store and lookup (the bytes
 * come back as stored, TTLs counted down in every section, the OPT left
 * alone), TTL clamps and RFC 2181 top-bit TTLs, RFC 2308 negative caching
 * and what is refused, key separation, replacement, RFC 8767 serve-stale,
 * the memory bound and segmented-LRU eviction, flush by name, statistics,
 * and concurrent use.
 *
 * Every test passes its own `now`: nothing sleeps or reads the clock.
 * Replies are built with ldns (small, readable test data) except in the
 * bulk tests, which write tens of thousands of one-record replies by hand.
 */
#include <check.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "wire.h"

#define T_A		1
#define T_TXT		16
#define C_CH		3

#define MIB		(1024 * 1024)
#define DEF_MAX_TTL	86400

/* build() flags: what the reply looks like. */
#define M_EDNS		0x01		/* an OPT, UDP size 1232 */
#define M_DO		0x02		/* an OPT with DO (implies M_EDNS) */
#define M_CD		0x04		/* CD set, key gets CACHE_CD */
#define M_TC		0x08		/* truncated */
#define M_BADVERS	0x10		/* OPT extended rcode 1 (rcode 16) */

#define SOA_RR(ttl, min)						\
	"example.com. " #ttl " IN SOA ns.example.com. host.example.com. "\
	"2024010101 7200 900 1209600 " #min

/*
 * Replies built with ldns
 */

struct msg {
	uint8_t		*b;
	size_t		 len;
	struct wire_edns e;
	uint8_t		 name[DNS_MAX_NAME];	/* qname, lower case */
	struct cache_key k;
};

static void
push(ldns_pkt *pkt, ldns_pkt_section sec, const char **rrs)
{
	ldns_rr	*rr;

	for (; rrs != NULL && *rrs != NULL; rrs++) {
		ck_assert_msg(ldns_rr_new_frm_str(&rr, *rrs, 0, NULL, NULL) ==
		    LDNS_STATUS_OK, "bad test rr: %s", *rrs);
		ldns_pkt_push_rr(pkt, sec, rr);
	}
}

/*
 * A reply to question ("www.example.com. IN A") with the given rcode,
 * flags and sections (NULL-terminated arrays of RRs in presentation form,
 * or NULL).  m->k is the key a resolver would use for it.
 */
static void
build(struct msg *m, const char *question, int rcode, unsigned flags,
    const char **an, const char **ns, const char **ar)
{
	struct wire_question	 q;
	ldns_pkt		*pkt;
	ldns_rr			*rr;

	memset(m, 0, sizeof(*m));
	ck_assert_ptr_nonnull(pkt = ldns_pkt_new());
	ldns_pkt_set_id(pkt, 0x4242);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_rd(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	ldns_pkt_set_tc(pkt, (flags & M_TC) != 0);
	ldns_pkt_set_cd(pkt, (flags & M_CD) != 0);
	if (flags & (M_EDNS | M_DO | M_BADVERS)) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		ldns_pkt_set_edns_do(pkt, (flags & M_DO) != 0);
		if (flags & M_BADVERS)
			ldns_pkt_set_edns_extended_rcode(pkt, 1);
	}
	ck_assert_msg(ldns_rr_new_question_frm_str(&rr, question, NULL,
	    NULL) == LDNS_STATUS_OK, "bad test question: %s", question);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, rr);
	push(pkt, LDNS_SECTION_ANSWER, an);
	push(pkt, LDNS_SECTION_AUTHORITY, ns);
	push(pkt, LDNS_SECTION_ADDITIONAL, ar);
	ck_assert_int_eq(ldns_pkt2wire(&m->b, pkt, &m->len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);

	ck_assert_int_eq(wire_question(m->b, m->len, &q), 0);
	ck_assert_int_eq(wire_scan(m->b, m->len, q.end, &m->e), 0);
	ck_assert_int_eq(m->e.present, (flags & (M_EDNS | M_DO | M_BADVERS))
	    != 0);
	memcpy(m->name, q.name, q.namelen);
	wire_name_lower(m->name, q.namelen);
	m->k.name = m->name;
	m->k.namelen = q.namelen;
	m->k.qtype = q.qtype;
	m->k.qclass = q.qclass;
	m->k.flags = (uint8_t)(((flags & M_DO) ? CACHE_DO : 0) |
	    ((flags & M_CD) ? CACHE_CD : 0));
}

/* The common case: one answer RR. */
static void
build1(struct msg *m, const char *question, const char *rr, unsigned flags)
{
	build(m, question, LDNS_RCODE_NOERROR, flags,
	    (const char *[]){ rr, NULL }, NULL, NULL);
}

static void
msg_free(struct msg *m)
{
	free(m->b);
	m->b = NULL;
}

/* "www.example.com" -> wire form (as written, case kept). */
static size_t
wname(const char *text, uint8_t *out)
{
	size_t	 n = 0;

	while (*text != '\0') {
		size_t	 l = strcspn(text, ".");

		ck_assert_uint_gt(l, 0);
		ck_assert_uint_lt(n + l + 2, DNS_MAX_NAME);
		out[n++] = (uint8_t)l;
		memcpy(out + n, text, l);
		n += l;
		text += l;
		if (*text == '.')
			text++;
	}
	out[n++] = 0;
	return n;
}

/*
 * Looking at replies
 */

#define MAX_RRS	512

/* Every RR after the question: type, section and where its TTL is. */
struct rrs {
	int		 n;
	uint16_t	 type[MAX_RRS];
	int		 section[MAX_RRS];	/* 0 answer, 1 auth, 2 add */
	size_t		 ttlpos[MAX_RRS];
	uint32_t	 ttl[MAX_RRS];
};

static void
walk(const uint8_t *b, size_t len, struct rrs *r)
{
	struct wire_question	 q;
	size_t			 pos, rdpos;
	uint16_t		 rdlen, count[3];
	int			 s, i;

	memset(r, 0, sizeof(*r));
	ck_assert_uint_ge(len, DNS_HDR_LEN);
	ck_assert_int_eq(wire_question(b, len, &q), 0);
	count[0] = DNS_ANCOUNT(b);
	count[1] = DNS_NSCOUNT(b);
	count[2] = DNS_ARCOUNT(b);
	pos = q.end;
	for (s = 0; s < 3; s++)
		for (i = 0; i < count[s]; i++) {
			ck_assert_int_lt(r->n, MAX_RRS);
			ck_assert_int_eq(wire_skip_rr(b, len, &pos,
			    &r->type[r->n], &rdpos, &rdlen), 0);
			r->section[r->n] = s;
			r->ttlpos[r->n] = rdpos - 6;
			r->ttl[r->n] = wire_get32(b + rdpos - 6);
			r->n++;
		}
	ck_assert_uint_eq(pos, len);
}

/* The TTL of the i-th RR (all sections, in order). */
static uint32_t
ttl_of(const uint8_t *b, size_t len, int i)
{
	struct rrs	r;

	walk(b, len, &r);
	ck_assert_int_lt(i, r.n);
	return r.ttl[i];
}

/* Every RR but the OPT has TTL want. */
static void
expect_ttls(const uint8_t *b, size_t len, uint32_t want)
{
	struct rrs	r;
	int		i, seen = 0;

	walk(b, len, &r);
	for (i = 0; i < r.n; i++) {
		if (r.type[i] == DNS_TYPE_OPT)
			continue;
		ck_assert_msg(r.ttl[i] == want, "RR %d (section %d, type %u):"
		    " TTL %u, want %u", i, r.section[i], r.type[i], r.ttl[i],
		    want);
		seen++;
	}
	ck_assert_int_gt(seen, 0);
}

static void
dump(const char *what, const uint8_t *b, size_t n)
{
	size_t	 i;

	fprintf(stderr, "%s (%zu):", what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", b[i]);
	fprintf(stderr, "\n");
}

/*
 * got is want except for the TTLs of RRs other than the OPT (whose "TTL"
 * is extended rcode, version and flags: compared like every other byte).
 */
static void
expect_same_but_ttls(const uint8_t *got, size_t glen, const uint8_t *want,
    size_t wlen)
{
	uint8_t		 a[DNS_MAX_UDP], b[DNS_MAX_UDP];
	struct rrs	 r;
	int		 i;

	ck_assert_uint_eq(glen, wlen);
	memcpy(a, got, glen);
	memcpy(b, want, wlen);
	walk(a, glen, &r);
	for (i = 0; i < r.n; i++)
		if (r.type[i] != DNS_TYPE_OPT)
			memset(a + r.ttlpos[i], 0, 4);
	walk(b, wlen, &r);
	for (i = 0; i < r.n; i++)
		if (r.type[i] != DNS_TYPE_OPT)
			memset(b + r.ttlpos[i], 0, 4);
	if (memcmp(a, b, glen) != 0) {
		dump("got", got, glen);
		dump("want", want, wlen);
		ck_abort_msg("reply differs in more than TTLs");
	}
}

/*
 * The cache
 */

struct out {
	uint8_t		 b[DNS_MAX_UDP];
	size_t		 len;
	struct wire_edns e;
};

static struct cache *
mkcache(size_t max_bytes, uint32_t min_ttl, uint32_t max_ttl,
    uint32_t neg_max, uint32_t stale)
{
	struct cache_config	 cfg;
	struct cache		*c;
	char			 err[256] = "";

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_bytes = max_bytes;
	cfg.min_ttl = min_ttl;
	cfg.max_ttl = max_ttl;
	cfg.negative_max_ttl = neg_max;
	cfg.serve_stale = stale;
	c = cache_new(&cfg, err, sizeof(err));
	ck_assert_msg(c != NULL, "cache_new: %s", err);
	return c;
}

static struct cache *
defcache(void)
{
	return mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600, 0);
}

static struct cache_stats
stats(struct cache *c)
{
	struct cache_stats	s;

	memset(&s, 0xa5, sizeof(s));
	cache_get_stats(c, &s);
	return s;
}

static int
store(struct cache *c, const struct msg *m, uint32_t now)
{
	return cache_store(c, &m->k, m->b, m->len, &m->e, now);
}

/*
 * Look k up; on a hit (fresh or stale), check that o->e describes the copy
 * as wire_scan() would.
 */
static enum cache_result
look(struct cache *c, const struct cache_key *k, int allow_stale,
    uint32_t now, struct out *o)
{
	struct wire_question	 q;
	struct wire_edns	 e;
	enum cache_result	 r;

	o->len = 0;
	memset(&o->e, 0xa5, sizeof(o->e));
	r = cache_lookup(c, k, allow_stale, now, o->b, sizeof(o->b), &o->len,
	    &o->e);
	if (r == CACHE_MISS)
		return r;
	ck_assert_uint_ge(o->len, DNS_HDR_LEN);
	ck_assert_uint_le(o->len, sizeof(o->b));
	ck_assert_int_eq(wire_question(o->b, o->len, &q), 0);
	ck_assert_int_eq(wire_scan(o->b, o->len, q.end, &e), 0);
	ck_assert_int_eq(o->e.present, e.present);
	if (e.present) {
		ck_assert_uint_eq(o->e.udp_size, e.udp_size);
		ck_assert_uint_eq(o->e.ext_rcode, e.ext_rcode);
		ck_assert_uint_eq(o->e.version, e.version);
		ck_assert_int_eq(o->e.do_bit, e.do_bit);
		ck_assert_uint_eq(o->e.rr_start, e.rr_start);
		ck_assert_uint_eq(o->e.rr_end, e.rr_end);
		ck_assert_uint_eq(o->e.opt_start, e.opt_start);
		ck_assert_uint_eq(o->e.opt_len, e.opt_len);
	}
	return r;
}

/* A hit at now whose RRs all have TTL ttl, otherwise equal to m. */
static void
expect_hit(struct cache *c, const struct msg *m, uint32_t now, uint32_t ttl)
{
	struct out	*o;

	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m->k, 0, now, o), CACHE_HIT);
	expect_same_but_ttls(o->b, o->len, m->b, m->len);
	expect_ttls(o->b, o->len, ttl);
	free(o);
}

static void
expect_miss(struct cache *c, const struct cache_key *k, int allow_stale,
    uint32_t now)
{
	struct out	*o;

	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, k, allow_stale, now, o), CACHE_MISS);
	free(o);
}

/*
 * One-record replies written by hand, for the bulk tests:
 * <prefix><i>.bulk.test A 192.0.2.<v>, the key pointing at the qname.
 */

struct small {
	uint8_t		 b[96];
	size_t		 len;
	struct wire_edns e;
	struct cache_key k;
};

static void
small_put(struct small *s, const void *p, size_t n)
{
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void
small_put16(struct small *s, uint16_t v)
{
	wire_put16(s->b + s->len, v);
	s->len += 2;
}

static void
small_reply(struct small *s, const char *prefix, unsigned i, uint8_t v,
    uint32_t ttl)
{
	char		 label[32];
	uint8_t		 l;
	const uint8_t	 ttlb[4] = { ttl >> 24, ttl >> 16, ttl >> 8, ttl };
	const uint8_t	 addr[4] = { 192, 0, 2, v };

	memset(s, 0, sizeof(*s));
	small_put16(s, 0x4242);
	small_put16(s, 0x8180);
	small_put16(s, 1);
	small_put16(s, 1);
	small_put16(s, 0);
	small_put16(s, 0);
	l = (uint8_t)snprintf(label, sizeof(label), "%s%u", prefix, i);
	small_put(s, &l, 1);
	small_put(s, label, l);
	small_put(s, "\4bulk\4test", 11);
	s->k.name = s->b + DNS_HDR_LEN;
	s->k.namelen = s->len - DNS_HDR_LEN;
	s->k.qtype = T_A;
	s->k.qclass = DNS_CLASS_IN;
	small_put16(s, T_A);
	small_put16(s, DNS_CLASS_IN);
	small_put16(s, 0xc00c);
	small_put16(s, T_A);
	small_put16(s, DNS_CLASS_IN);
	small_put(s, ttlb, 4);
	small_put16(s, 4);
	small_put(s, addr, 4);
	memset(&s->e, 0, sizeof(s->e));
}

static int
small_store(struct cache *c, const struct small *s, uint32_t now)
{
	return cache_store(c, &s->k, s->b, s->len, &s->e, now);
}

static enum cache_result
small_look(struct cache *c, const struct small *s, uint32_t now,
    uint8_t *out, size_t outsz, size_t *len)
{
	struct wire_edns	e;

	return cache_lookup(c, &s->k, 0, now, out, outsz, len, &e);
}

/*
 * Store and lookup
 */

static const char *www_an[] = {
	"www.example.com. 300 IN A 192.0.2.1",
	"www.example.com. 300 IN A 192.0.2.2",
	NULL
};
static const char *www_ns[] = {
	"example.com. 300 IN NS ns.example.com.",
	NULL
};
static const char *www_ar[] = {
	"ns.example.com. 300 IN A 192.0.2.53",
	NULL
};

/* A full reply (three sections and an OPT with DO), all TTLs 300. */
static void
build_www(struct msg *m, unsigned flags)
{
	build(m, "www.example.com. IN A", LDNS_RCODE_NOERROR, flags, www_an,
	    www_ns, www_ar);
}

START_TEST(store_lookup_same_bytes)
{
	struct cache	*c = defcache();
	struct msg	 m;
	struct out	*o;
	uint8_t		*saved;

	build_www(&m, M_DO);
	ck_assert_ptr_nonnull(saved = malloc(m.len));
	memcpy(saved, m.b, m.len);
	ck_assert_int_eq(store(c, &m, 100), 1);
	/* The cache keeps its own copy. */
	memset(m.b, 0xff, m.len);

	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m.k, 0, 100, o), CACHE_HIT);
	ck_assert_uint_eq(o->len, m.len);
	if (memcmp(o->b, saved, m.len) != 0) {
		dump("got", o->b, o->len);
		dump("want", saved, m.len);
		ck_abort_msg("hit at the time of store differs from the "
		    "stored reply");
	}
	ck_assert_int_eq(o->e.present, 1);
	ck_assert_int_eq(o->e.do_bit, 1);
	ck_assert_uint_eq(o->e.udp_size, 1232);
	free(o);
	free(saved);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(store_epoch)
{
	struct cache	*c = defcache();
	struct msg	 m;
	struct out	*o;
	atomic_uint	 epoch;

	/* Stored only while the epoch is the one the caller saw. */
	atomic_init(&epoch, 7);
	build_www(&m, M_DO);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(cache_store_epoch(c, &m.k, m.b, m.len, &m.e, 100,
	    &epoch, 6), 0);
	ck_assert_int_eq(look(c, &m.k, 0, 100, o), CACHE_MISS);
	ck_assert_int_eq(cache_store_epoch(c, &m.k, m.b, m.len, &m.e, 100,
	    &epoch, 7), 1);
	ck_assert_int_eq(look(c, &m.k, 0, 100, o), CACHE_HIT);
	/* The epoch moves on: the entry stays until flushed, no new one. */
	atomic_store(&epoch, 8);
	ck_assert_uint_eq(cache_flush(c, NULL, 0), 1);
	ck_assert_int_eq(cache_store_epoch(c, &m.k, m.b, m.len, &m.e, 100,
	    &epoch, 7), 0);
	ck_assert_int_eq(look(c, &m.k, 0, 100, o), CACHE_MISS);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(ttl_countdown)
{
	struct cache		*c = defcache();
	struct cache_stats	 s;
	struct msg		 m;
	struct out		*o;
	struct rrs		 r;
	int			 i, nopt = 0, sect[3] = { 0, 0, 0 };

	build_www(&m, M_DO);
	ck_assert_int_eq(store(c, &m, 100), 1);
	expect_hit(c, &m, 160, 240);

	/* Each section was counted down, and the OPT left alone. */
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m.k, 0, 160, o), CACHE_HIT);
	walk(o->b, o->len, &r);
	for (i = 0; i < r.n; i++) {
		if (r.type[i] == DNS_TYPE_OPT) {
			/* ext rcode 0, version 0, DO, Z 0 */
			ck_assert_uint_eq(r.ttl[i], 0x00008000);
			nopt++;
		} else {
			ck_assert_uint_eq(r.ttl[i], 240);
			sect[r.section[i]]++;
		}
	}
	ck_assert_int_eq(nopt, 1);
	ck_assert_int_eq(sect[0], 2);
	ck_assert_int_eq(sect[1], 1);
	ck_assert_int_eq(sect[2], 1);
	free(o);

	/* Lookups do not compound: each counts from the time of store. */
	expect_hit(c, &m, 220, 180);
	expect_hit(c, &m, 160, 240);
	expect_hit(c, &m, 399, 1);

	/* Expired (serve-stale off): a miss, and the entry is gone. */
	expect_miss(c, &m.k, 0, 400);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.expired, 1);
	expect_miss(c, &m.k, 0, 300);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/*
 * An OPT without DO has an all-zero "TTL": it must not make the reply look
 * like TTL 0.  A reply with no OPT at all is cached as well.
 */
START_TEST(opt_ttl_not_a_ttl)
{
	struct cache	*c = defcache();
	struct msg	 m, n;

	build_www(&m, M_EDNS);
	ck_assert_int_eq(store(c, &m, 100), 1);
	expect_hit(c, &m, 130, 270);
	ck_assert_uint_eq(wire_get32(m.b + m.e.rr_start + 5), 0);

	build1(&n, "plain.example.com. IN A",
	    "plain.example.com. 300 IN A 192.0.2.7", 0);
	ck_assert_int_eq(store(c, &n, 100), 1);
	expect_hit(c, &n, 100, 300);
	msg_free(&m);
	msg_free(&n);
	cache_free(c);
}
END_TEST

/*
 * RRs with different TTLs each count down from their own value; the entry
 * lives as long as the shortest.
 */
START_TEST(mixed_ttls)
{
	struct cache	*c = defcache();
	struct msg	 m;
	struct out	*o;

	build(&m, "www.example.com. IN A", LDNS_RCODE_NOERROR, 0,
	    (const char *[]){ "www.example.com. 300 IN A 192.0.2.1", NULL },
	    (const char *[]){ "example.com. 3600 IN NS ns.example.com.",
		NULL },
	    (const char *[]){ "ns.example.com. 100 IN A 192.0.2.53", NULL });
	ck_assert_int_eq(store(c, &m, 1000), 1);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m.k, 0, 1050, o), CACHE_HIT);
	expect_same_but_ttls(o->b, o->len, m.b, m.len);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 0), 250);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 1), 3550);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 2), 50);
	ck_assert_int_eq(look(c, &m.k, 0, 1099, o), CACHE_HIT);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 2), 1);
	ck_assert_int_eq(look(c, &m.k, 0, 1100, o), CACHE_MISS);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/*
 * Workers read the clock before taking a shard lock, so a lookup may carry
 * a `now` a little older than the store: the entry has spent no time in
 * the cache, its TTLs neither wrap nor drop to 0.
 */
START_TEST(now_before_store)
{
	struct cache		*c = defcache();
	struct msg		 m;
	struct out		*o;
	enum cache_result	 r;
	struct rrs		 rr;
	int			 i;

	build_www(&m, 0);
	ck_assert_int_eq(store(c, &m, 1000), 1);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	r = look(c, &m.k, 1, 998, o);
	ck_assert_int_ne(r, CACHE_STALE);
	if (r == CACHE_HIT) {
		walk(o->b, o->len, &rr);
		for (i = 0; i < rr.n; i++)
			ck_assert_uint_eq(rr.ttl[i], 300);
	}
	expect_hit(c, &m, 1000, 300);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(lookup_empty)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build_www(&m, 0);
	expect_miss(c, &m.k, 0, 100);
	ck_assert_uint_eq(stats(c).misses, 1);
	/*
	 * Whether the allow_stale lookup (the fallback after every upstream
	 * failed, so the second lookup of the same query) counts as another
	 * miss, cache.h does not say: not checked.
	 */
	expect_miss(c, &m.k, 1, 100);
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_uint_eq(stats(c).hits, 0);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/* An out buffer one byte short: a miss, nothing written past it. */
START_TEST(out_too_small)
{
	struct cache		*c = defcache();
	struct wire_edns	 e;
	struct msg		 m;
	uint8_t			*buf;
	size_t			 len, i;

	build_www(&m, M_DO);
	ck_assert_int_eq(store(c, &m, 100), 1);
	ck_assert_ptr_nonnull(buf = malloc(m.len + 64));
	memset(buf, 0xaa, m.len + 64);
	len = 12345;
	ck_assert_int_eq(cache_lookup(c, &m.k, 0, 110, buf, m.len - 1, &len,
	    &e), CACHE_MISS);
	for (i = m.len - 1; i < m.len + 64; i++)
		ck_assert_msg(buf[i] == 0xaa, "byte %zu past outsz written",
		    i - (m.len - 1));

	/* Same for a stale copy. */
	ck_assert_int_eq(cache_lookup(c, &m.k, 1, 110, buf, 0, &len, &e),
	    CACHE_MISS);

	/* The entry is still there, and an exact fit works. */
	memset(buf, 0xaa, m.len + 64);
	ck_assert_int_eq(cache_lookup(c, &m.k, 0, 110, buf, m.len, &len, &e),
	    CACHE_HIT);
	ck_assert_uint_eq(len, m.len);
	expect_same_but_ttls(buf, len, m.b, m.len);
	for (i = m.len; i < m.len + 64; i++)
		ck_assert_uint_eq(buf[i], 0xaa);
	free(buf);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(now_is_monotonic)
{
	uint32_t	a, b;

	a = cache_now();
	b = cache_now();
	ck_assert_uint_ge(b, a);
}
END_TEST

/*
 * TTL clamps
 */

START_TEST(clamp_min)
{
	struct cache	*c = mkcache(4 * MIB, 60, DEF_MAX_TTL, 3600, 0);
	struct msg	 m;

	build1(&m, "low.example.com. IN A", "low.example.com. 10 IN A "
	    "192.0.2.1", 0);
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_hit(c, &m, 1000, 60);
	expect_hit(c, &m, 1059, 1);
	expect_miss(c, &m.k, 0, 1060);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(clamp_max)
{
	struct cache	*c = mkcache(4 * MIB, 0, 3600, 3600, 0);
	struct msg	 m, n;
	struct out	*o;

	build1(&m, "high.example.com. IN A", "high.example.com. 86400 IN A "
	    "192.0.2.1", 0);
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_hit(c, &m, 1000, 3600);
	expect_hit(c, &m, 4599, 1);
	expect_miss(c, &m.k, 0, 4600);

	/* Only the RR above the bound is lowered. */
	build(&n, "www.example.com. IN A", LDNS_RCODE_NOERROR, 0,
	    (const char *[]){ "www.example.com. 300 IN A 192.0.2.1", NULL },
	    NULL,
	    (const char *[]){ "ns.example.com. 86400 IN A 192.0.2.53",
		NULL });
	ck_assert_int_eq(store(c, &n, 1000), 1);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &n.k, 0, 1010, o), CACHE_HIT);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 0), 290);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 1), 3590);
	free(o);
	msg_free(&m);
	msg_free(&n);
	cache_free(c);
}
END_TEST

/* Overwrite the TTL of the i-th RR of m. */
static void
set_ttl(struct msg *m, int i, uint32_t ttl)
{
	struct rrs	r;

	walk(m->b, m->len, &r);
	ck_assert_int_lt(i, r.n);
	m->b[r.ttlpos[i]] = (uint8_t)(ttl >> 24);
	m->b[r.ttlpos[i] + 1] = (uint8_t)(ttl >> 16);
	m->b[r.ttlpos[i] + 2] = (uint8_t)(ttl >> 8);
	m->b[r.ttlpos[i] + 3] = (uint8_t)ttl;
}

/* RFC 2181 8: a TTL with the top bit set is 0, not a huge value. */
START_TEST(ttl_top_bit)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600, 0);
	struct msg	 m;
	const uint32_t	 bad[] = { 0x80000000, 0x80000001, 0xffffffff };
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build1(&m, "top.example.com. IN A", "top.example.com. 300 IN A"
		    " 192.0.2.1", 0);
		set_ttl(&m, 0, bad[i]);
		ck_assert_msg(store(c, &m, 1000) == 0, "TTL %#x cached",
		    bad[i]);
		expect_miss(c, &m.k, 0, 1000);
		expect_miss(c, &m.k, 0, 1001);
		msg_free(&m);
	}
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_uint_eq(stats(c).uncacheable, 3);
	cache_free(c);
}
END_TEST

/* The same in the additional section: the reply's shortest TTL is 0. */
START_TEST(ttl_top_bit_additional)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600, 0);
	struct msg	 m;

	build_www(&m, 0);
	set_ttl(&m, 3, 0x80000000);
	ck_assert_int_eq(store(c, &m, 1000), 0);
	expect_miss(c, &m.k, 0, 1000);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(ttl_zero)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600, 0);
	struct msg	 m;

	build1(&m, "zero.example.com. IN A", "zero.example.com. 0 IN A "
	    "192.0.2.1", 0);
	ck_assert_int_eq(store(c, &m, 1000), 0);
	expect_miss(c, &m.k, 0, 1000);
	ck_assert_uint_eq(stats(c).uncacheable, 1);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/*
 * Negative answers (RFC 2308)
 */

static void
build_neg(struct msg *m, int rcode, const char *soa)
{
	build(m, "nx.example.com. IN A", rcode, 0, NULL,
	    soa != NULL ? (const char *[]){ soa, NULL } : NULL, NULL);
}

/*
 * A negative entry lives `life` seconds from 1000, and the SOA it hands
 * out says how long is left (RFC 2308 3, 5).
 */
static void
expect_negative_life(struct cache *c, const struct msg *m, uint32_t life)
{
	struct out	*o;

	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m->k, 0, 1000, o), CACHE_HIT);
	ck_assert_uint_eq(DNS_RCODE(o->b), DNS_RCODE(m->b));
	ck_assert_uint_eq(DNS_ANCOUNT(o->b), 0);
	ck_assert_uint_eq(DNS_NSCOUNT(o->b), 1);
	expect_same_but_ttls(o->b, o->len, m->b, m->len);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 0), life);
	ck_assert_int_eq(look(c, &m->k, 0, 1000 + life / 2, o), CACHE_HIT);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 0), life - life / 2);
	ck_assert_int_eq(look(c, &m->k, 0, 1000 + life - 1, o), CACHE_HIT);
	ck_assert_uint_eq(ttl_of(o->b, o->len, 0), 1);
	ck_assert_int_eq(look(c, &m->k, 0, 1000 + life, o), CACHE_MISS);
	free(o);
}

/* SOA MINIMUM below the SOA TTL: MINIMUM wins. */
START_TEST(nxdomain_soa_minimum)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build_neg(&m, LDNS_RCODE_NXDOMAIN, SOA_RR(3600, 300));
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_negative_life(c, &m, 300);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/* SOA TTL below MINIMUM: the TTL wins. */
START_TEST(nxdomain_soa_ttl)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build_neg(&m, LDNS_RCODE_NXDOMAIN, SOA_RR(120, 3600));
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_negative_life(c, &m, 120);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(nxdomain_negative_max)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 900, 0);
	struct msg	 m;

	build_neg(&m, LDNS_RCODE_NXDOMAIN, SOA_RR(7200, 7200));
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_negative_life(c, &m, 900);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(nodata_soa)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 900, 0);
	struct msg	 m;

	build(&m, "www.example.com. IN AAAA", LDNS_RCODE_NOERROR, 0, NULL,
	    (const char *[]){ SOA_RR(3600, 600), NULL }, NULL);
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_negative_life(c, &m, 600);
	msg_free(&m);

	build(&m, "www.example.com. IN TXT", LDNS_RCODE_NOERROR, 0, NULL,
	    (const char *[]){ SOA_RR(86400, 86400), NULL }, NULL);
	ck_assert_int_eq(store(c, &m, 1000), 1);
	expect_negative_life(c, &m, 900);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/* Store m, expect it refused, counted and not found. */
static void
expect_refused(struct cache *c, struct msg *m, const char *what)
{
	uint64_t	before = stats(c).uncacheable;

	ck_assert_msg(store(c, m, 1000) == 0, "%s was cached", what);
	ck_assert_uint_eq(stats(c).uncacheable, before + 1);
	expect_miss(c, &m->k, 1, 1000);
	expect_miss(c, &m->k, 1, 1001);
	msg_free(m);
}

START_TEST(nxdomain_no_soa)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build_neg(&m, LDNS_RCODE_NXDOMAIN, NULL);
	expect_refused(c, &m, "NXDOMAIN without SOA");
	/* An NS in place of the SOA is no better. */
	build_neg(&m, LDNS_RCODE_NXDOMAIN,
	    "example.com. 3600 IN NS ns.example.com.");
	expect_refused(c, &m, "NXDOMAIN with NS, no SOA");
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(nodata_no_soa)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build(&m, "www.example.com. IN AAAA", LDNS_RCODE_NOERROR, 0, NULL,
	    NULL, NULL);
	expect_refused(c, &m, "empty NOERROR");
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(referral)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build(&m, "www.sub.example.com. IN A", LDNS_RCODE_NOERROR, 0, NULL,
	    (const char *[]){ "sub.example.com. 3600 IN NS ns1.sub.example."
		"com.", "sub.example.com. 3600 IN NS ns2.sub.example.com.",
		NULL },
	    (const char *[]){ "ns1.sub.example.com. 3600 IN A 192.0.2.1",
		"ns2.sub.example.com. 3600 IN A 192.0.2.2", NULL });
	expect_refused(c, &m, "referral");
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(error_rcodes)
{
	struct cache	*c = defcache();
	struct msg	 m;
	const int	 rc[] = { LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED,
	    LDNS_RCODE_FORMERR, LDNS_RCODE_NOTIMPL };
	size_t		 i;
	char		 what[32];

	for (i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
		/* With an answer and a SOA: the rcode alone decides. */
		build(&m, "www.example.com. IN A", rc[i], 0, www_an,
		    (const char *[]){ SOA_RR(3600, 300), NULL }, NULL);
		snprintf(what, sizeof(what), "rcode %d", rc[i]);
		expect_refused(c, &m, what);
		build(&m, "www.example.com. IN A", rc[i], 0, NULL, NULL, NULL);
		expect_refused(c, &m, what);
	}
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(truncated)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build(&m, "www.example.com. IN A", LDNS_RCODE_NOERROR, M_TC, www_an,
	    NULL, NULL);
	expect_refused(c, &m, "TC=1 answer");
	build(&m, "www.example.com. IN A", LDNS_RCODE_NOERROR, M_TC, NULL,
	    NULL, NULL);
	expect_refused(c, &m, "TC=1 empty");
	build(&m, "nx.example.com. IN A", LDNS_RCODE_NXDOMAIN, M_TC, NULL,
	    (const char *[]){ SOA_RR(3600, 300), NULL }, NULL);
	expect_refused(c, &m, "TC=1 NXDOMAIN");
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(extended_rcode)
{
	struct cache	*c = defcache();
	struct msg	 m;

	build(&m, "www.example.com. IN A", LDNS_RCODE_NOERROR, M_BADVERS,
	    www_an, NULL, NULL);
	ck_assert_uint_eq(m.e.ext_rcode, 1);
	expect_refused(c, &m, "BADVERS");
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

/*
 * Keys
 */

START_TEST(key_qtype)
{
	struct cache	*c = defcache();
	struct msg	 a, aaaa;
	struct cache_key k;

	build1(&a, "www.example.com. IN A", "www.example.com. 300 IN A "
	    "192.0.2.1", 0);
	build1(&aaaa, "www.example.com. IN AAAA", "www.example.com. 300 IN "
	    "AAAA 2001:db8::1", 0);
	ck_assert_int_eq(store(c, &a, 100), 1);
	expect_miss(c, &aaaa.k, 1, 100);
	k = a.k;
	k.qtype = T_TXT;
	expect_miss(c, &k, 1, 100);

	ck_assert_int_eq(store(c, &aaaa, 100), 1);
	expect_hit(c, &a, 110, 290);
	expect_hit(c, &aaaa, 110, 290);
	ck_assert_uint_eq(stats(c).entries, 2);
	msg_free(&a);
	msg_free(&aaaa);
	cache_free(c);
}
END_TEST

START_TEST(key_qclass)
{
	struct cache	*c = defcache();
	struct msg	 in, ch;

	build1(&in, "version.example. IN TXT", "version.example. 300 IN TXT "
	    "\"in\"", 0);
	build1(&ch, "version.example. CH TXT", "version.example. 300 CH TXT "
	    "\"chaos\"", 0);
	ck_assert_uint_eq(ch.k.qclass, C_CH);
	ck_assert_int_eq(store(c, &in, 100), 1);
	expect_miss(c, &ch.k, 1, 100);
	ck_assert_int_eq(store(c, &ch, 100), 1);
	expect_hit(c, &in, 100, 300);
	expect_hit(c, &ch, 100, 300);
	msg_free(&in);
	msg_free(&ch);
	cache_free(c);
}
END_TEST

/* The DO and CD flags of the key make separate entries. */
START_TEST(key_flags)
{
	struct cache	*c = defcache();
	struct msg	 m[4];
	const unsigned	 fl[4] = { M_EDNS, M_DO, M_EDNS | M_CD, M_DO | M_CD };
	const char	*addr[4] = {
		"www.example.com. 300 IN A 192.0.2.10",
		"www.example.com. 300 IN A 192.0.2.11",
		"www.example.com. 300 IN A 192.0.2.12",
		"www.example.com. 300 IN A 192.0.2.13",
	};
	int		 i, j;

	for (i = 0; i < 4; i++)
		build1(&m[i], "www.example.com. IN A", addr[i], fl[i]);
	ck_assert_uint_eq(m[0].k.flags, 0);
	ck_assert_uint_eq(m[1].k.flags, CACHE_DO);
	ck_assert_uint_eq(m[2].k.flags, CACHE_CD);
	ck_assert_uint_eq(m[3].k.flags, CACHE_DO | CACHE_CD);

	/* One at a time: only its own key finds it. */
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(store(c, &m[i], 100), 1);
		for (j = 0; j < 4; j++)
			if (j == i)
				expect_hit(c, &m[j], 100, 300);
			else
				expect_miss(c, &m[j].k, 1, 100);
		ck_assert_uint_eq(cache_flush(c, NULL, 0), 1);
	}

	/* All four side by side, each with its own content. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(store(c, &m[i], 100), 1);
	ck_assert_uint_eq(stats(c).entries, 4);
	for (i = 0; i < 4; i++) {
		expect_hit(c, &m[i], 100, 300);
		msg_free(&m[i]);
	}
	cache_free(c);
}
END_TEST

/*
 * The resolver lower-cases the key: an entry stored for a mixed-case
 * question is found by a key written in lower case independently.
 */
START_TEST(key_lower_case)
{
	struct cache	*c = defcache();
	struct msg	 m;
	struct out	*o;
	struct cache_key k;
	uint8_t		 name[DNS_MAX_NAME];

	build1(&m, "WWW.Example.COM. IN A", "WWW.Example.COM. 300 IN A "
	    "192.0.2.1", 0);
	ck_assert_mem_eq(m.k.name, "\3www\7example\3com", 17);
	ck_assert_int_eq(store(c, &m, 100), 1);

	k = m.k;
	k.name = name;
	k.namelen = wname("www.example.com", name);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &k, 0, 100, o), CACHE_HIT);
	/* The reply is handed back as stored, case and all. */
	ck_assert_uint_eq(o->len, m.len);
	ck_assert_mem_eq(o->b, m.b, m.len);
	free(o);

	/* Names differing otherwise do not match. */
	k.namelen = wname("ww.example.com", name);
	expect_miss(c, &k, 0, 100);
	k.namelen = wname("example.com", name);
	expect_miss(c, &k, 0, 100);
	k.namelen = wname("www.example.com.example.com", name);
	expect_miss(c, &k, 0, 100);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(replace)
{
	struct cache	*c = defcache();
	struct msg	 old, new;
	uint64_t	 entries;

	build1(&old, "www.example.com. IN A", "www.example.com. 300 IN A "
	    "192.0.2.1", 0);
	build(&new, "www.example.com. IN A", LDNS_RCODE_NOERROR, 0, www_an,
	    www_ns, NULL);
	ck_assert_int_eq(store(c, &old, 100), 1);
	entries = stats(c).entries;
	ck_assert_uint_eq(entries, 1);

	ck_assert_int_eq(store(c, &new, 200), 1);
	ck_assert_uint_eq(stats(c).entries, entries);
	expect_hit(c, &new, 250, 250);
	/* The new entry's lifetime counts from its own store. */
	expect_hit(c, &new, 499, 1);
	expect_miss(c, &new.k, 0, 500);

	/* And back: a shorter reply replaces a longer one. */
	ck_assert_int_eq(store(c, &old, 600), 1);
	ck_assert_uint_eq(stats(c).entries, 1);
	expect_hit(c, &old, 600, 300);
	msg_free(&old);
	msg_free(&new);
	cache_free(c);
}
END_TEST

/*
 * Serve-stale (RFC 8767)
 */

START_TEST(stale_serve)
{
	struct cache		*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600,
	    3600);
	struct cache_stats	 s;
	struct msg		 m;
	struct out		*o;
	struct rrs		 r;
	int			 i;

	build_www(&m, M_DO);
	ck_assert_int_eq(store(c, &m, 100), 1);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));

	/* Fresh is fresh, whether stale is allowed or not. */
	ck_assert_int_eq(look(c, &m.k, 1, 399, o), CACHE_HIT);
	expect_ttls(o->b, o->len, 1);

	/* Expired: not for a normal lookup, and that does not remove it. */
	expect_miss(c, &m.k, 0, 400);
	ck_assert_uint_eq(stats(c).entries, 1);
	ck_assert_int_eq(look(c, &m.k, 1, 400, o), CACHE_STALE);
	expect_same_but_ttls(o->b, o->len, m.b, m.len);
	walk(o->b, o->len, &r);
	for (i = 0; i < r.n; i++)
		if (r.type[i] == DNS_TYPE_OPT)
			ck_assert_uint_eq(r.ttl[i], 0x00008000);
		else
			ck_assert_uint_eq(r.ttl[i], CACHE_STALE_TTL);
	ck_assert_uint_eq(stats(c).stale, 1);

	ck_assert_int_eq(look(c, &m.k, 1, 3999, o), CACHE_STALE);
	expect_ttls(o->b, o->len, CACHE_STALE_TTL);
	ck_assert_uint_eq(stats(c).stale, 2);
	expect_miss(c, &m.k, 0, 3999);

	/* Beyond expiry + serve-stale: gone. */
	s = stats(c);
	ck_assert_uint_eq(s.entries, 1);
	ck_assert_uint_eq(s.expired, 0);
	ck_assert_int_eq(look(c, &m.k, 1, 4001, o), CACHE_MISS);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.expired, 1);
	ck_assert_uint_eq(s.bytes, 0);
	ck_assert_int_eq(look(c, &m.k, 1, 400, o), CACHE_MISS);

	/* A fresh store after all that is fresh again. */
	ck_assert_int_eq(store(c, &m, 5000), 1);
	ck_assert_int_eq(look(c, &m.k, 1, 5010, o), CACHE_HIT);
	expect_ttls(o->b, o->len, 290);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/* Too old even to be stale: removed by a lookup without allow_stale too. */
START_TEST(stale_removed_without_allow)
{
	struct cache		*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600,
	    600);
	struct cache_stats	 s;
	struct msg		 m;

	build_www(&m, 0);
	ck_assert_int_eq(store(c, &m, 100), 1);
	expect_miss(c, &m.k, 0, 2000);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.expired, 1);
	expect_miss(c, &m.k, 1, 500);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(stale_negative)
{
	struct cache	*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600, 3600);
	struct msg	 m;
	struct out	*o;

	build_neg(&m, LDNS_RCODE_NXDOMAIN, SOA_RR(3600, 300));
	ck_assert_int_eq(store(c, &m, 1000), 1);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m.k, 1, 1300, o), CACHE_STALE);
	ck_assert_uint_eq(DNS_RCODE(o->b), LDNS_RCODE_NXDOMAIN);
	expect_same_but_ttls(o->b, o->len, m.b, m.len);
	expect_ttls(o->b, o->len, CACHE_STALE_TTL);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

START_TEST(stale_off)
{
	struct cache		*c = defcache();
	struct cache_stats	 s;
	struct msg		 m;

	build_www(&m, 0);
	ck_assert_int_eq(store(c, &m, 100), 1);
	expect_miss(c, &m.k, 1, 400);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.expired, 1);
	ck_assert_uint_eq(s.stale, 0);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/*
 * Memory bound and eviction
 */

START_TEST(new_too_small)
{
	struct cache_config	 cfg;
	char			 err[256];
	const size_t		 sizes[] = { 0, 1, 16 };
	size_t			 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.max_bytes = sizes[i];
		cfg.max_ttl = DEF_MAX_TTL;
		cfg.negative_max_ttl = 3600;
		memset(err, 0, sizeof(err));
		ck_assert_msg(cache_new(&cfg, err, sizeof(err)) == NULL,
		    "cache of %zu bytes created", sizes[i]);
		ck_assert_msg(err[0] != '\0', "no message for %zu bytes",
		    sizes[i]);
		ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
	}
	cache_free(NULL);
}
END_TEST

START_TEST(eviction_bound)
{
	const size_t		 max = 256 * 1024;
	const unsigned		 n = 50000;
	struct cache		*c = mkcache(max, 0, DEF_MAX_TTL, 3600, 0);
	struct cache_stats	 s;
	struct small		 m;
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 i;

	ck_assert_uint_eq(stats(c).max_bytes, max);
	for (i = 0; i < n; i++) {
		small_reply(&m, "e", i, 1, 3600);
		ck_assert_int_eq(small_store(c, &m, 1000), 1);
		if (i % 1000 == 999) {
			s = stats(c);
			ck_assert_msg(s.bytes <= max, "%llu bytes after %u",
			    (unsigned long long)s.bytes, i + 1);
		}
	}
	s = stats(c);
	ck_assert_uint_le(s.bytes, max);
	ck_assert_uint_lt(s.entries, n);
	ck_assert_uint_gt(s.entries, 0);
	ck_assert_uint_gt(s.evictions, 0);
	ck_assert_uint_eq(s.inserts, n);
	ck_assert_uint_eq(s.inserts, s.entries + s.evictions);
	ck_assert_uint_eq(s.expired, 0);
	/* Each entry costs at least its reply. */
	ck_assert_uint_ge(s.bytes, s.entries * m.len);
	/* And the bound is used, not left mostly empty. */
	ck_assert_msg(s.bytes >= max / 2, "only %llu of %zu bytes used",
	    (unsigned long long)s.bytes, max);

	/* The newest entry is there; the first is long gone. */
	ck_assert_int_eq(small_look(c, &m, 1000, buf, sizeof(buf), &len),
	    CACHE_HIT);
	ck_assert_uint_eq(len, m.len);
	ck_assert_mem_eq(buf, m.b, m.len);
	small_reply(&m, "e", 0, 1, 3600);
	ck_assert_int_eq(small_look(c, &m, 1000, buf, sizeof(buf), &len),
	    CACHE_MISS);
	cache_free(c);
}
END_TEST

/*
 * Segmented LRU: entries that were hit survive a flood of names asked
 * once, 20 times the capacity of the cache.  A plain LRU loses them all.
 */
START_TEST(hot_survive_churn)
{
	const size_t		 max = MIB;
	const unsigned		 nhot = 100;
	struct cache		*c = mkcache(max, 0, DEF_MAX_TTL, 3600, 0);
	struct cache_stats	 s;
	struct small		*hot, m;
	uint8_t			 buf[512];
	size_t			 len, per;
	unsigned		 i, ncold, lost = 0;

	ck_assert_ptr_nonnull(hot = calloc(nhot, sizeof(*hot)));
	for (i = 0; i < nhot; i++) {
		small_reply(&hot[i], "hot", i, 1, 86400);
		ck_assert_int_eq(small_store(c, &hot[i], 1000), 1);
	}
	for (i = 0; i < nhot; i++)
		ck_assert_int_eq(small_look(c, &hot[i], 1001, buf,
		    sizeof(buf), &len), CACHE_HIT);

	s = stats(c);
	ck_assert_uint_eq(s.entries, nhot);
	per = s.bytes / s.entries;
	ncold = (unsigned)(20 * (max / per));
	for (i = 0; i < ncold; i++) {
		small_reply(&m, "cold", i, 2, 86400);
		ck_assert_int_eq(small_store(c, &m, 1002 + i / 1000), 1);
	}
	s = stats(c);
	ck_assert_uint_gt(s.evictions, ncold / 2);
	ck_assert_uint_le(s.bytes, max);

	for (i = 0; i < nhot; i++)
		if (small_look(c, &hot[i], 2000, buf, sizeof(buf), &len) !=
		    CACHE_HIT)
			lost++;
		else
			expect_same_but_ttls(buf, len, hot[i].b, hot[i].len);
	ck_assert_msg(lost == 0, "%u of %u hot entries lost to %u cold ones",
	    lost, nhot, ncold);
	free(hot);
	cache_free(c);
}
END_TEST

/*
 * A reply of n bytes or a little more (TXT records), for the question
 * "<label>.example.com. IN TXT".
 */
static void
build_sized(struct msg *m, const char *label, size_t n)
{
	const char	**an;
	char		 txt[256], q[128], *rr;
	size_t		 i, nrr = n / 266 + 1;

	memset(txt, 'x', 250);
	txt[250] = '\0';
	ck_assert_ptr_nonnull(an = calloc(nrr + 1, sizeof(*an)));
	for (i = 0; i < nrr; i++) {
		ck_assert_int_gt(asprintf(&rr, "%s.example.com. 300 IN TXT "
		    "\"%03zu%s\"", label, i, txt), 0);
		an[i] = rr;
	}
	snprintf(q, sizeof(q), "%s.example.com. IN TXT", label);
	build(m, q, LDNS_RCODE_NOERROR, 0, an, NULL, NULL);
	for (i = 0; i < nrr; i++)
		free((char *)an[i]);
	free(an);
	ck_assert_uint_ge(m->len, n);
}

/*
 * cache_store() returning 1 means the entry is there: a lookup right after
 * finds it, even when the protected segment is full and the new entry is
 * large.  Tried in a small cache for replies of 1 to 8 KiB.
 */
START_TEST(stored_is_found)
{
	const size_t	 max = 16 * 1024;
	struct cache	*c;
	struct small	 hot;
	struct msg	 big;
	struct out	*o;
	uint8_t		 buf[512];
	size_t		 len, n;
	unsigned	 i;
	int		 stored, found, bad = 0;

	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	for (n = 1024; n <= 8192; n += 256) {
		c = mkcache(max, 0, DEF_MAX_TTL, 3600, 0);
		/* Names asked twice: the protected segment fills up. */
		for (i = 0; i < 400; i++) {
			small_reply(&hot, "hot", i, 1, 3600);
			ck_assert_int_eq(small_store(c, &hot, 1000), 1);
			small_look(c, &hot, 1000, buf, sizeof(buf), &len);
		}
		build_sized(&big, "big", n);
		stored = store(c, &big, 1000);
		found = look(c, &big.k, 0, 1000, o) == CACHE_HIT;
		if (stored && !found) {
			fprintf(stderr, "stored_is_found: a %zu-byte reply "
			    "stored (returned 1) but not found\n", big.len);
			bad++;
		}
		ck_assert_int_le(found, stored);
		ck_assert_uint_le(stats(c).bytes, max);
		msg_free(&big);
		cache_free(c);
	}
	free(o);
	ck_assert_msg(bad == 0, "%d replies stored but not found", bad);
}
END_TEST

/* A reply near 64 KiB in a small cache: refused or stored, the bound holds. */
START_TEST(oversized_reply)
{
	const size_t	 max = 256 * 1024;
	struct cache	*c = mkcache(max, 0, DEF_MAX_TTL, 3600, 0);
	struct msg	 m;
	struct out	*o;
	const char	**an;
	char		 txt[300], *rr;
	size_t		 i, n = 230;
	int		 stored;

	memset(txt, 'x', 250);
	txt[250] = '\0';
	ck_assert_ptr_nonnull(an = calloc(n + 1, sizeof(*an)));
	for (i = 0; i < n; i++) {
		ck_assert_int_gt(asprintf(&rr, "big.example.com. 300 IN TXT "
		    "\"%03zu%s\"", i, txt), 0);
		an[i] = rr;
	}
	build(&m, "big.example.com. IN TXT", LDNS_RCODE_NOERROR, 0, an, NULL,
	    NULL);
	for (i = 0; i < n; i++)
		free((char *)an[i]);
	free(an);
	ck_assert_uint_gt(m.len, 60000);

	stored = store(c, &m, 100);
	ck_assert_uint_le(stats(c).bytes, max);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	if (stored) {
		ck_assert_int_eq(look(c, &m.k, 0, 110, o), CACHE_HIT);
		expect_same_but_ttls(o->b, o->len, m.b, m.len);
		expect_ttls(o->b, o->len, 290);
	} else
		ck_assert_int_eq(look(c, &m.k, 0, 110, o), CACHE_MISS);
	free(o);
	msg_free(&m);
	cache_free(c);
}
END_TEST

/*
 * Flush
 */

struct named {
	const char	*name;
	struct msg	 m;
};

static void
flush_fill(struct cache *c, struct named *set, size_t n)
{
	char	 q[300], rr[300];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(q, sizeof(q), "%s. IN A", set[i].name);
		snprintf(rr, sizeof(rr), "%s. 300 IN A 192.0.2.%zu",
		    set[i].name, i + 1);
		build1(&set[i].m, q, rr, 0);
		ck_assert_int_eq(store(c, &set[i].m, 100), 1);
	}
	ck_assert_uint_eq(stats(c).entries, n);
}

static void
flush_free(struct named *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		msg_free(&set[i].m);
}

static size_t
flush_name(struct cache *c, const char *text)
{
	uint8_t	 name[DNS_MAX_NAME];

	return cache_flush(c, name, wname(text, name));
}

START_TEST(flush_all)
{
	struct cache		*c = defcache();
	struct cache_stats	 s;
	struct named		 set[] = {
		{ .name = "example.com" }, { .name = "a.example.com" },
		{ .name = "example.org" }, { .name = "com" },
		{ .name = "x.y.z.example.net" },
	};
	size_t			 i, n = sizeof(set) / sizeof(set[0]);

	flush_fill(c, set, n);
	ck_assert_uint_eq(cache_flush(c, NULL, 0), n);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.bytes, 0);
	for (i = 0; i < n; i++)
		expect_miss(c, &set[i].m.k, 1, 100);
	ck_assert_uint_eq(cache_flush(c, NULL, 0), 0);

	/* Usable afterwards. */
	ck_assert_int_eq(store(c, &set[0].m, 100), 1);
	expect_hit(c, &set[0].m, 100, 300);
	flush_free(set, n);
	cache_free(c);
}
END_TEST

START_TEST(flush_subtree)
{
	struct cache	*c = defcache();
	struct named	 set[] = {
		{ .name = "example.com" },		/* 0: removed */
		{ .name = "a.example.com" },		/* 1: removed */
		{ .name = "b.a.example.com" },		/* 2: removed */
		{ .name = "example.org" },		/* 3 */
		{ .name = "notexample.com" },		/* 4 */
		{ .name = "com" },			/* 5 */
		{ .name = "zz\\007example\\003com" },	/* 6: 1 label */
		{ .name = "example.com.example.net" },	/* 7 */
		{ .name = "xample.com" },		/* 8 */
	};
	size_t		 i, n = sizeof(set) / sizeof(set[0]);

	flush_fill(c, set, n);
	/* 6 ends in the bytes of \7example\3com\0 but is not below it. */
	ck_assert_uint_eq(set[6].m.k.namelen, 16);
	ck_assert_mem_eq(set[6].m.k.name + 3, "\7example\3com", 13);

	ck_assert_uint_eq(flush_name(c, "example.com"), 3);
	for (i = 0; i < n; i++)
		if (i <= 2)
			expect_miss(c, &set[i].m.k, 1, 100);
		else
			expect_hit(c, &set[i].m, 100, 300);
	ck_assert_uint_eq(stats(c).entries, n - 3);
	ck_assert_uint_eq(flush_name(c, "example.com"), 0);
	flush_free(set, n);
	cache_free(c);
}
END_TEST

/* Every type and flag variant of a name goes. */
START_TEST(flush_all_keys_of_name)
{
	struct cache	*c = defcache();
	struct msg	 m[5];
	int		 i;

	build1(&m[0], "www.example.com. IN A", www_an[0], 0);
	build1(&m[1], "www.example.com. IN A", www_an[0], M_DO);
	build1(&m[2], "www.example.com. IN A", www_an[0], M_CD);
	build1(&m[3], "www.example.com. IN AAAA", "www.example.com. 300 IN "
	    "AAAA 2001:db8::1", 0);
	build1(&m[4], "www.example.net. IN A", "www.example.net. 300 IN A "
	    "192.0.2.1", 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(store(c, &m[i], 100), 1);
	ck_assert_uint_eq(flush_name(c, "www.example.com"), 4);
	for (i = 0; i < 4; i++)
		expect_miss(c, &m[i].k, 1, 100);
	expect_hit(c, &m[4], 100, 300);
	for (i = 0; i < 5; i++)
		msg_free(&m[i]);
	cache_free(c);
}
END_TEST

START_TEST(flush_case)
{
	struct cache	*c = defcache();
	struct named	 set[] = {
		{ .name = "example.com" }, { .name = "a.example.com" },
		{ .name = "b.a.example.com" }, { .name = "c.example.com" },
	};
	size_t		 n = sizeof(set) / sizeof(set[0]);

	flush_fill(c, set, n);
	ck_assert_uint_eq(flush_name(c, "A.Example.COM"), 2);
	expect_hit(c, &set[0].m, 100, 300);
	expect_miss(c, &set[1].m.k, 1, 100);
	expect_miss(c, &set[2].m.k, 1, 100);
	expect_hit(c, &set[3].m, 100, 300);
	ck_assert_uint_eq(flush_name(c, "EXAMPLE.COM"), 2);
	ck_assert_uint_eq(stats(c).entries, 0);
	flush_free(set, n);
	cache_free(c);
}
END_TEST

START_TEST(flush_root)
{
	struct cache		*c = defcache();
	struct cache_stats	 s;
	struct named		 set[] = {
		{ .name = "example.com" }, { .name = "a.example.com" },
		{ .name = "example.org" }, { .name = "com" }, { .name = "net" },
	};
	size_t			 n = sizeof(set) / sizeof(set[0]);

	flush_fill(c, set, n);
	ck_assert_uint_eq(cache_flush(c, (const uint8_t *)"", 1), n);
	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.bytes, 0);
	expect_miss(c, &set[0].m.k, 1, 100);
	flush_free(set, n);
	cache_free(c);
}
END_TEST

START_TEST(flush_absent)
{
	struct cache	*c = defcache();
	struct named	 set[] = { { .name = "a.example.com" } };

	ck_assert_uint_eq(flush_name(c, "example.com"), 0);
	ck_assert_uint_eq(cache_flush(c, (const uint8_t *)"", 1), 0);
	ck_assert_uint_eq(cache_flush(c, NULL, 0), 0);
	flush_fill(c, set, 1);
	/* Below the entry's name, not above it. */
	ck_assert_uint_eq(flush_name(c, "b.a.example.com"), 0);
	ck_assert_uint_eq(flush_name(c, "example.org"), 0);
	expect_hit(c, &set[0].m, 100, 300);
	flush_free(set, 1);
	cache_free(c);
}
END_TEST

/*
 * Statistics
 */

START_TEST(stats_counters)
{
	struct cache		*c = mkcache(4 * MIB, 0, DEF_MAX_TTL, 3600,
	    3600);
	struct cache_stats	 s;
	struct msg		 m, bad;
	struct out		*o;

	s = stats(c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.bytes, 0);
	ck_assert_uint_eq(s.max_bytes, 4 * MIB);
	ck_assert_uint_eq(s.hits, 0);
	ck_assert_uint_eq(s.misses, 0);
	ck_assert_uint_eq(s.stale, 0);
	ck_assert_uint_eq(s.inserts, 0);
	ck_assert_uint_eq(s.evictions, 0);
	ck_assert_uint_eq(s.expired, 0);
	ck_assert_uint_eq(s.uncacheable, 0);

	build_www(&m, 0);
	expect_miss(c, &m.k, 0, 100);
	ck_assert_uint_eq(stats(c).misses, 1);

	ck_assert_int_eq(store(c, &m, 100), 1);
	s = stats(c);
	ck_assert_uint_eq(s.inserts, 1);
	ck_assert_uint_eq(s.entries, 1);
	ck_assert_uint_ge(s.bytes, m.len);
	ck_assert_uint_le(s.bytes, s.max_bytes);

	expect_hit(c, &m, 110, 290);
	expect_hit(c, &m, 120, 280);
	s = stats(c);
	ck_assert_uint_eq(s.hits, 2);
	ck_assert_uint_eq(s.misses, 1);
	ck_assert_uint_eq(s.stale, 0);

	build(&bad, "www.example.com. IN A", LDNS_RCODE_SERVFAIL, 0, NULL,
	    NULL, NULL);
	ck_assert_int_eq(store(c, &bad, 100), 0);
	s = stats(c);
	ck_assert_uint_eq(s.uncacheable, 1);
	ck_assert_uint_eq(s.inserts, 1);

	expect_miss(c, &m.k, 0, 500);
	ck_assert_uint_eq(stats(c).misses, 2);
	ck_assert_ptr_nonnull(o = malloc(sizeof(*o)));
	ck_assert_int_eq(look(c, &m.k, 1, 500, o), CACHE_STALE);
	free(o);
	s = stats(c);
	ck_assert_uint_eq(s.stale, 1);
	ck_assert_uint_eq(s.hits, 2);
	ck_assert_uint_eq(s.evictions, 0);
	ck_assert_uint_eq(s.expired, 0);
	msg_free(&m);
	msg_free(&bad);
	cache_free(c);
}
END_TEST

/*
 * Threads
 */

#define TH_N		4
#define TH_OPS		50000
#define TH_KEYS		4096
#define TH_NOW		1000

struct th_shared {
	struct cache	*c;
	struct small	*v[2];		/* two versions of every key */
	size_t		 minlen;
	size_t		 max;
};

struct th {
	pthread_t		 t;
	struct th_shared	*sh;
	uint32_t		 seed;
	uint64_t		 stored, hits, misses, lookups;
	char			 err[256];
};

static uint32_t
xorshift(uint32_t *s)
{
	uint32_t	x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void *
th_run(void *arg)
{
	struct th		*t = arg;
	struct th_shared	*sh = t->sh;
	struct cache_stats	 s;
	struct wire_edns	 e;
	uint8_t			 buf[256];
	size_t			 len;
	uint32_t		 r, k;
	unsigned		 i;
	const struct small	*a, *b;

	for (i = 0; i < TH_OPS && t->err[0] == '\0'; i++) {
		r = xorshift(&t->seed);
		k = (r >> 8) % TH_KEYS;
		a = &sh->v[0][k];
		b = &sh->v[1][k];
		switch (r % 1000) {
		case 0:
			if ((r >> 20) % 20 == 0)
				cache_flush(sh->c, NULL, 0);
			else
				cache_flush(sh->c, a->k.name, a->k.namelen);
			break;
		case 1:
			cache_get_stats(sh->c, &s);
			if (s.bytes > sh->max ||
			    s.bytes < s.entries * sh->minlen)
				snprintf(t->err, sizeof(t->err), "stats: "
				    "%llu entries, %llu bytes",
				    (unsigned long long)s.entries,
				    (unsigned long long)s.bytes);
			break;
		default:
			if (r % 2 == 0) {
				if (cache_store(sh->c, &a->k, (r & 0x100) ?
				    b->b : a->b, a->len, &a->e, TH_NOW) != 1)
					snprintf(t->err, sizeof(t->err),
					    "store %u refused", k);
				else
					t->stored++;
				break;
			}
			t->lookups++;
			switch (cache_lookup(sh->c, &a->k, 0, TH_NOW, buf,
			    sizeof(buf), &len, &e)) {
			case CACHE_HIT:
				t->hits++;
				if (len != a->len || (memcmp(buf, a->b, len) !=
				    0 && memcmp(buf, b->b, len) != 0))
					snprintf(t->err, sizeof(t->err),
					    "key %u: wrong reply", k);
				break;
			case CACHE_MISS:
				t->misses++;
				break;
			default:
				snprintf(t->err, sizeof(t->err),
				    "key %u: stale", k);
				break;
			}
			break;
		}
	}
	return NULL;
}

START_TEST(concurrent)
{
	const size_t		 max = 256 * 1024;
	struct th_shared	 sh;
	struct th		 t[TH_N];
	struct cache_stats	 s;
	uint64_t		 stored = 0, hits = 0, misses = 0;
	unsigned		 i;

	memset(&sh, 0, sizeof(sh));
	sh.c = mkcache(max, 0, DEF_MAX_TTL, 3600, 3600);
	sh.max = max;
	sh.minlen = SIZE_MAX;
	for (i = 0; i < 2; i++)
		ck_assert_ptr_nonnull(sh.v[i] = calloc(TH_KEYS,
		    sizeof(struct small)));
	for (i = 0; i < TH_KEYS; i++) {
		small_reply(&sh.v[0][i], "t", i, 1, 3600);
		small_reply(&sh.v[1][i], "t", i, 2, 3600);
		if (sh.v[0][i].len < sh.minlen)
			sh.minlen = sh.v[0][i].len;
	}
	memset(t, 0, sizeof(t));
	for (i = 0; i < TH_N; i++) {
		t[i].sh = &sh;
		t[i].seed = 0x9e3779b9u * (i + 1);
		ck_assert_int_eq(pthread_create(&t[i].t, NULL, th_run, &t[i]),
		    0);
	}
	for (i = 0; i < TH_N; i++)
		pthread_join(t[i].t, NULL);
	for (i = 0; i < TH_N; i++) {
		ck_assert_msg(t[i].err[0] == '\0', "thread %u: %s", i,
		    t[i].err);
		stored += t[i].stored;
		hits += t[i].hits;
		misses += t[i].misses;
	}

	s = stats(sh.c);
	ck_assert_uint_le(s.bytes, max);
	ck_assert_uint_ge(s.bytes, s.entries * sh.minlen);
	ck_assert_uint_le(s.entries, TH_KEYS);
	ck_assert_uint_eq(s.hits, hits);
	ck_assert_uint_eq(s.misses, misses);
	ck_assert_uint_eq(s.stale, 0);
	ck_assert_uint_eq(s.uncacheable, 0);
	ck_assert_uint_le(s.inserts, stored);
	ck_assert_uint_ge(s.inserts, s.entries);
	ck_assert_uint_gt(hits, 0);

	/* Every entry left is whole. */
	for (i = 0; i < TH_KEYS; i++) {
		uint8_t	 buf[256];
		size_t	 len;

		if (small_look(sh.c, &sh.v[0][i], TH_NOW, buf, sizeof(buf),
		    &len) != CACHE_HIT)
			continue;
		ck_assert_uint_eq(len, sh.v[0][i].len);
		ck_assert(memcmp(buf, sh.v[0][i].b, len) == 0 ||
		    memcmp(buf, sh.v[1][i].b, len) == 0);
	}
	ck_assert_uint_eq(cache_flush(sh.c, NULL, 0), s.entries);
	s = stats(sh.c);
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.bytes, 0);
	for (i = 0; i < 2; i++)
		free(sh.v[i]);
	cache_free(sh.c);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc;

	tc = tcase_create("store_lookup");
	tcase_add_test(tc, store_lookup_same_bytes);
	tcase_add_test(tc, store_epoch);
	tcase_add_test(tc, ttl_countdown);
	tcase_add_test(tc, opt_ttl_not_a_ttl);
	tcase_add_test(tc, mixed_ttls);
	tcase_add_test(tc, now_before_store);
	tcase_add_test(tc, lookup_empty);
	tcase_add_test(tc, out_too_small);
	tcase_add_test(tc, now_is_monotonic);
	suite_add_tcase(s, tc);

	tc = tcase_create("ttl");
	tcase_add_test(tc, clamp_min);
	tcase_add_test(tc, clamp_max);
	tcase_add_test(tc, ttl_top_bit);
	tcase_add_test(tc, ttl_top_bit_additional);
	tcase_add_test(tc, ttl_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("negative");
	tcase_add_test(tc, nxdomain_soa_minimum);
	tcase_add_test(tc, nxdomain_soa_ttl);
	tcase_add_test(tc, nxdomain_negative_max);
	tcase_add_test(tc, nodata_soa);
	tcase_add_test(tc, nxdomain_no_soa);
	tcase_add_test(tc, nodata_no_soa);
	tcase_add_test(tc, referral);
	tcase_add_test(tc, error_rcodes);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, extended_rcode);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, key_qtype);
	tcase_add_test(tc, key_qclass);
	tcase_add_test(tc, key_flags);
	tcase_add_test(tc, key_lower_case);
	tcase_add_test(tc, replace);
	suite_add_tcase(s, tc);

	tc = tcase_create("stale");
	tcase_add_test(tc, stale_serve);
	tcase_add_test(tc, stale_removed_without_allow);
	tcase_add_test(tc, stale_negative);
	tcase_add_test(tc, stale_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, new_too_small);
	tcase_add_test(tc, eviction_bound);
	tcase_add_test(tc, hot_survive_churn);
	tcase_add_test(tc, oversized_reply);
	tcase_add_test(tc, stored_is_found);
	suite_add_tcase(s, tc);

	tc = tcase_create("flush");
	tcase_add_test(tc, flush_all);
	tcase_add_test(tc, flush_subtree);
	tcase_add_test(tc, flush_all_keys_of_name);
	tcase_add_test(tc, flush_case);
	tcase_add_test(tc, flush_root);
	tcase_add_test(tc, flush_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_test(tc, stats_counters);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(cache_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
