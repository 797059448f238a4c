/*
 * check_zone.c -- unit tests for zone.c: which zone a name belongs to
 * (longest match, label boundaries), the answers of a local zone (RRsets,
 * ANY, CNAME chains inside and out of the zone, NODATA, empty
 * non-terminals, NXDOMAIN with the written or the made SOA and its
 * negative TTL, case, class, the size limit) and the checks of records.
 *
 * Configurations are built by hand, so nothing here depends on the YAML
 * parser.  Every answer is parsed back with ldns_wire2pkt and compared
 * section by section in presentation form.
 */
#include <check.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "wire.h"
#include "zone.h"

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28
#define T_ANY	255
#define C_IN	1
#define C_CH	3

#define R_NOERROR	0
#define R_NXDOMAIN	3
#define R_REFUSED	5

/* The SOA zone.h makes for corp.internal, and its negative TTL. */
#define MADE_SOA	"corp.internal.\t300\tIN\tSOA\tcorp.internal. " \
			"hostmaster.corp.internal. 1 3600 600 86400 300\n"

/*
 * Helpers
 */

/* "www.Example.com." (or without the dot) -> wire form, case kept. */
static size_t
to_wire(const char *text, uint8_t *out)
{
	ldns_rdf	*rdf;
	size_t		 len;

	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	rdf = ldns_dname_new_frm_str(text);
	ck_assert_ptr_nonnull(rdf);
	len = ldns_rdf_size(rdf);
	memcpy(out, ldns_rdf_data(rdf), len);
	ldns_rdf_deep_free(rdf);
	return len;
}

/* Add a zone to cfg: records NULL-terminated for a local zone, or NULL. */
static struct config_zone *
add_zone(struct config *cfg, const char *name, const char *const *records)
{
	struct config_zone	*z;
	size_t			 n = 0, i;

	cfg->zones = reallocarray(cfg->zones, cfg->nzones + 1,
	    sizeof(*cfg->zones));
	ck_assert_ptr_nonnull(cfg->zones);
	z = &cfg->zones[cfg->nzones++];
	memset(z, 0, sizeof(*z));
	z->name = strdup(name);
	z->wirelen = to_wire(name, z->wire);
	wire_name_lower(z->wire, z->wirelen);
	z->line = z->col = 1;
	if (records == NULL) {
		z->kind = ZONE_FORWARD;
		return z;
	}
	z->kind = ZONE_LOCAL;
	while (records[n] != NULL)
		n++;
	z->local = calloc(n + 1, sizeof(*z->local));
	z->local_line = calloc(n + 1, sizeof(int));
	z->local_col = calloc(n + 1, sizeof(int));
	for (i = 0; i < n; i++) {
		z->local[i] = strdup(records[i]);
		z->local_line[i] = (int)i + 1;
		z->local_col[i] = 1;
	}
	z->nlocal = n;
	return z;
}

static struct zones *
build(const struct config *cfg)
{
	struct zones	*zs;
	char		 err[512] = "";

	zs = zones_build(cfg, err, sizeof(err));
	if (zs == NULL)
		ck_abort_msg("zones_build: %s", err);
	return zs;
}

static const struct zone *
find(const struct zones *zs, const char *name)
{
	uint8_t	 w[DNS_MAX_NAME];
	size_t	 len = to_wire(name, w);

	wire_name_lower(w, len);
	return zones_find(zs, w, len);
}

/* The configured name of the zone name belongs to, or NULL. */
static const char *
find_name(const struct zones *zs, const char *name)
{
	const struct zone	*z;

	if ((z = find(zs, name)) == NULL)
		return NULL;
	return zone_config(z)->name;
}

/* An answer, parsed back. */
struct ans {
	uint8_t		 wire[65535];
	size_t		 len;
	ldns_pkt	*pkt;
	char		 an[4096];	/* answer section, one RR a line */
	char		 ns[1024];	/* authority section */
};

static void
section_str(ldns_rr_list *list, char *buf, size_t bufsz)
{
	size_t	 i;
	char	*s;

	buf[0] = '\0';
	for (i = 0; i < ldns_rr_list_rr_count(list); i++) {
		s = ldns_rr2str(ldns_rr_list_rr(list, i));
		ck_assert_ptr_nonnull(s);
		strncat(buf, s, bufsz - strlen(buf) - 1);
		free(s);
	}
}

/* Ask zone z for name/type/class; the answer is checked and parsed. */
static void
ask_class(struct ans *a, const struct zone *z, const char *name,
    uint16_t type, uint16_t cls)
{
	uint8_t		 w[DNS_MAX_NAME];
	size_t		 wlen = to_wire(name, w);
	ldns_rdf	*qname;
	ldns_rr		*q;

	memset(a, 0, sizeof(*a));
	a->len = zone_local_answer(z, w, wlen, type, cls, a->wire,
	    sizeof(a->wire));
	ck_assert_uint_gt(a->len, DNS_HDR_LEN);
	/* The question is the name as given, uncompressed, right after. */
	ck_assert_uint_ge(a->len, DNS_HDR_LEN + wlen + 4);
	ck_assert_int_eq(memcmp(a->wire + DNS_HDR_LEN, w, wlen), 0);
	ck_assert_uint_eq(wire_get16(a->wire + DNS_HDR_LEN + wlen), type);
	ck_assert_uint_eq(wire_get16(a->wire + DNS_HDR_LEN + wlen + 2), cls);
	ck_assert_int_eq(ldns_wire2pkt(&a->pkt, a->wire, a->len),
	    LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(a->pkt), 0);
	ck_assert(ldns_pkt_qr(a->pkt));
	ck_assert(ldns_pkt_aa(a->pkt));
	ck_assert(!ldns_pkt_rd(a->pkt));
	ck_assert(!ldns_pkt_tc(a->pkt));
	ck_assert_int_eq(ldns_pkt_get_opcode(a->pkt), LDNS_PACKET_QUERY);
	ck_assert_uint_eq(ldns_pkt_qdcount(a->pkt), 1);
	ck_assert_uint_eq(ldns_pkt_arcount(a->pkt), 0);
	q = ldns_rr_list_rr(ldns_pkt_question(a->pkt), 0);
	qname = ldns_rr_owner(q);
	ck_assert_uint_eq(ldns_rdf_size(qname), wlen);
	section_str(ldns_pkt_answer(a->pkt), a->an, sizeof(a->an));
	section_str(ldns_pkt_authority(a->pkt), a->ns, sizeof(a->ns));
}

static void
ask(struct ans *a, const struct zone *z, const char *name, uint16_t type)
{
	ask_class(a, z, name, type, C_IN);
}

static void
ans_done(struct ans *a)
{
	ldns_pkt_free(a->pkt);
	a->pkt = NULL;
}

/* rcode, answer and authority sections in one go. */
static void
expect(struct ans *a, int rcode, const char *an, const char *ns)
{
	ck_assert_int_eq(ldns_pkt_get_rcode(a->pkt), rcode);
	ck_assert_str_eq(a->an, an);
	ck_assert_str_eq(a->ns, ns);
}

/*
 * zones_find
 */

START_TEST(test_find_longest)
{
	struct config	 cfg;
	struct zones	*zs;

	memset(&cfg, 0, sizeof(cfg));
	add_zone(&cfg, "example.com", NULL);
	add_zone(&cfg, "sub.example.com", NULL);
	add_zone(&cfg, "ample.com", NULL);
	add_zone(&cfg, "org", NULL);
	add_zone(&cfg, "a.b.c.example.com", NULL);
	zs = build(&cfg);

	ck_assert_str_eq(find_name(zs, "example.com"), "example.com");
	ck_assert_str_eq(find_name(zs, "www.example.com."), "example.com");
	ck_assert_str_eq(find_name(zs, "sub.example.com"), "sub.example.com");
	ck_assert_str_eq(find_name(zs, "x.y.sub.example.com"),
	    "sub.example.com");
	ck_assert_str_eq(find_name(zs, "xsub.example.com"), "example.com");
	ck_assert_str_eq(find_name(zs, "b.c.example.com"), "example.com");
	ck_assert_str_eq(find_name(zs, "z.a.b.c.example.com"),
	    "a.b.c.example.com");
	ck_assert_str_eq(find_name(zs, "ample.com"), "ample.com");
	ck_assert_str_eq(find_name(zs, "www.ample.com"), "ample.com");
	ck_assert_str_eq(find_name(zs, "foo.org"), "org");
	ck_assert_str_eq(find_name(zs, "org"), "org");
	/* Not on a label boundary, or not below. */
	ck_assert_ptr_null(find(zs, "xample.com"));
	ck_assert_ptr_null(find(zs, "com"));
	ck_assert_ptr_null(find(zs, "example.net"));
	ck_assert_ptr_null(find(zs, "norg"));
	ck_assert_ptr_null(find(zs, "."));
	/* The configuration of the zone found. */
	ck_assert_ptr_eq(zone_config(find(zs, "a.sub.example.com")),
	    &cfg.zones[1]);
	ck_assert_int_eq(zone_config(find(zs, "a.org"))->kind, ZONE_FORWARD);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/* Names that are not well-formed wire names, no zones, NULL. */
START_TEST(test_find_edges)
{
	struct config	 cfg;
	struct zones	*zs;
	const uint8_t	 bad[] = "\x07" "example\x03" "com";
	const uint8_t	 longlab[] = "\x50" "x";

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_ptr_null(zones_find(NULL, (const uint8_t *)"\0", 1));
	zs = build(&cfg);		/* no zones: an empty set */
	ck_assert_ptr_nonnull(zs);
	ck_assert_ptr_null(find(zs, "example.com"));
	zones_free(zs);
	zones_free(NULL);

	add_zone(&cfg, "example.com", NULL);
	zs = build(&cfg);
	ck_assert_ptr_nonnull(find(zs, "EXAMPLE.com"));
	/* The literal's NUL is the root label: with it the name is fine. */
	ck_assert_ptr_nonnull(zones_find(zs, bad, sizeof(bad)));
	ck_assert_ptr_null(zones_find(zs, bad, sizeof(bad) - 1));
	ck_assert_ptr_null(zones_find(zs, bad, sizeof(bad) - 2));
	ck_assert_ptr_null(zones_find(zs, longlab, sizeof(longlab)));
	ck_assert_ptr_null(zones_find(zs, bad, 0));
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/* Many zones: each is found, and its parent is not mistaken for it. */
START_TEST(test_find_many)
{
	struct config	 cfg;
	struct zones	*zs;
	char		 name[64], q[80];
	int		 i;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "z%d.test", (i * 7919) % 1000);
		add_zone(&cfg, name, NULL);
	}
	add_zone(&cfg, "test", NULL);
	zs = build(&cfg);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "z%d.test", i);
		snprintf(q, sizeof(q), "host.%s", name);
		ck_assert_str_eq(find_name(zs, q), name);
	}
	ck_assert_str_eq(find_name(zs, "z1000.test"), "test");
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/*
 * Local answers
 */

static const char *const corp[] = {
	"db 300 A 10.1.2.3",
	"db.corp.internal. 300 IN A 10.1.2.4",
	"db AAAA 2001:db8::1",
	"@ MX 10 mail",
	"@ 600 A 10.0.0.1",
	"mail A 10.0.0.25",
	"www 60 CNAME db",
	"alias CNAME www",
	"out CNAME www.example.com.",
	"nx CNAME missing",
	"nd CNAME mail",
	"x.y.deep TXT \"hi there\"",
	"loop1 CNAME loop2",
	"loop2 CNAME loop1",
	"dup A 192.0.2.1",
	"dup A 192.0.2.1",
	"dup A 192.0.2.2",
	"Mixed.Case A 192.0.2.9",
	"in CNAME b.sub",
	"b.sub A 192.0.2.77",
	NULL
};

struct fixture {
	struct config	 cfg;
	struct zones	*zs;
	const struct zone *z;
};

static void
corp_setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	add_zone(&f->cfg, "corp.internal", corp);
	f->zs = build(&f->cfg);
	f->z = find(f->zs, "corp.internal");
	ck_assert_ptr_nonnull(f->z);
}

static void
corp_done(struct fixture *f)
{
	zones_free(f->zs);
	config_release(&f->cfg);
}

START_TEST(test_local_rrset)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	ask(&a, f.z, "db.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.3\n"
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.4\n", "");
	ck_assert_uint_eq(ldns_pkt_ancount(a.pkt), 2);
	ck_assert_uint_eq(ldns_pkt_nscount(a.pkt), 0);
	ans_done(&a);

	/* No TTL written: CONFIG_LOCAL_TTL. */
	ask(&a, f.z, "db.corp.internal", T_AAAA);
	expect(&a, R_NOERROR,
	    "db.corp.internal.\t3600\tIN\tAAAA\t2001:db8::1\n", "");
	ans_done(&a);

	/* A relative owner, and the apex written as "@". */
	ask(&a, f.z, "mail.corp.internal", T_A);
	expect(&a, R_NOERROR, "mail.corp.internal.\t3600\tIN\tA\t10.0.0.25\n",
	    "");
	ans_done(&a);
	ask(&a, f.z, "corp.internal", T_A);
	expect(&a, R_NOERROR, "corp.internal.\t600\tIN\tA\t10.0.0.1\n", "");
	ans_done(&a);
	ask(&a, f.z, "corp.internal", T_MX);
	expect(&a, R_NOERROR,
	    "corp.internal.\t3600\tIN\tMX\t10 mail.corp.internal.\n", "");
	ans_done(&a);

	/* The written duplicate is served once. */
	ask(&a, f.z, "dup.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "dup.corp.internal.\t3600\tIN\tA\t192.0.2.1\n"
	    "dup.corp.internal.\t3600\tIN\tA\t192.0.2.2\n", "");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

START_TEST(test_local_any)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	ask(&a, f.z, "db.corp.internal", T_ANY);
	expect(&a, R_NOERROR,
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.3\n"
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.4\n"
	    "db.corp.internal.\t3600\tIN\tAAAA\t2001:db8::1\n", "");
	ans_done(&a);

	/* The apex has the made SOA too. */
	ask(&a, f.z, "corp.internal", T_ANY);
	expect(&a, R_NOERROR,
	    "corp.internal.\t3600\tIN\tMX\t10 mail.corp.internal.\n"
	    "corp.internal.\t600\tIN\tA\t10.0.0.1\n"
	    "corp.internal.\t3600\tIN\tSOA\tcorp.internal. "
	    "hostmaster.corp.internal. 1 3600 600 86400 300\n", "");
	ans_done(&a);
	ask(&a, f.z, "corp.internal", T_SOA);
	expect(&a, R_NOERROR,
	    "corp.internal.\t3600\tIN\tSOA\tcorp.internal. "
	    "hostmaster.corp.internal. 1 3600 600 86400 300\n", "");
	ans_done(&a);

	/* ANY at a CNAME is the CNAME, not followed (RFC 1034 4.3.2). */
	ask(&a, f.z, "www.corp.internal", T_ANY);
	expect(&a, R_NOERROR,
	    "www.corp.internal.\t60\tIN\tCNAME\tdb.corp.internal.\n", "");
	ans_done(&a);

	/* ANY at an empty non-terminal: NODATA. */
	ask(&a, f.z, "deep.corp.internal", T_ANY);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ans_done(&a);
	corp_done(&f);
}
END_TEST

START_TEST(test_local_cname)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	/* A chain inside the zone, with the target's records. */
	ask(&a, f.z, "alias.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "alias.corp.internal.\t3600\tIN\tCNAME\twww.corp.internal.\n"
	    "www.corp.internal.\t60\tIN\tCNAME\tdb.corp.internal.\n"
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.3\n"
	    "db.corp.internal.\t300\tIN\tA\t10.1.2.4\n", "");
	ans_done(&a);

	/* Asked for the CNAME itself: not followed. */
	ask(&a, f.z, "www.corp.internal", T_CNAME);
	expect(&a, R_NOERROR,
	    "www.corp.internal.\t60\tIN\tCNAME\tdb.corp.internal.\n", "");
	ans_done(&a);

	/* A target outside the zone: only the CNAME, the caller goes on. */
	ask(&a, f.z, "out.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "out.corp.internal.\t3600\tIN\tCNAME\twww.example.com.\n", "");
	ans_done(&a);

	/* A target that does not exist: NXDOMAIN (RFC 6604) with the SOA. */
	ask(&a, f.z, "nx.corp.internal", T_A);
	expect(&a, R_NXDOMAIN,
	    "nx.corp.internal.\t3600\tIN\tCNAME\tmissing.corp.internal.\n",
	    MADE_SOA);
	ans_done(&a);

	/* A target without the type: NODATA after the CNAME. */
	ask(&a, f.z, "nd.corp.internal", T_TXT);
	expect(&a, R_NOERROR,
	    "nd.corp.internal.\t3600\tIN\tCNAME\tmail.corp.internal.\n",
	    MADE_SOA);
	ans_done(&a);

	/* A loop ends when it comes back. */
	ask(&a, f.z, "loop1.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "loop1.corp.internal.\t3600\tIN\tCNAME\tloop2.corp.internal.\n"
	    "loop2.corp.internal.\t3600\tIN\tCNAME\tloop1.corp.internal.\n",
	    "");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

/* Up to 8 CNAMEs are followed; the target of the 8th is answered. */
START_TEST(test_local_chain_limit)
{
	struct config	 cfg;
	struct zones	*zs;
	struct ans	 a;
	char		*recs[32], buf[64];
	int		 i, n = 0;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i <= 8; i++) {
		snprintf(buf, sizeof(buf), "h%d CNAME h%d", i, i + 1);
		recs[n++] = strdup(buf);
	}
	recs[n++] = strdup("h9 A 192.0.2.9");
	for (i = 1; i <= 9; i++) {
		snprintf(buf, sizeof(buf), "k%d CNAME k%d", i, i + 1);
		recs[n++] = strdup(buf);
	}
	recs[n++] = strdup("k10 A 192.0.2.10");
	recs[n] = NULL;
	add_zone(&cfg, "chain.test", (const char *const *)recs);
	zs = build(&cfg);

	ask(&a, find(zs, "chain.test"), "h1.chain.test", T_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(a.pkt), R_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(a.pkt), 9);
	ck_assert_ptr_nonnull(strstr(a.an,
	    "h9.chain.test.\t3600\tIN\tA\t192.0.2.9\n"));
	ans_done(&a);

	ask(&a, find(zs, "chain.test"), "k1.chain.test", T_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(a.pkt), R_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(a.pkt), 8);
	ck_assert_ptr_nonnull(strstr(a.an,
	    "k8.chain.test.\t3600\tIN\tCNAME\tk9.chain.test.\n"));
	ck_assert_ptr_null(strstr(a.an, "k9.chain.test.\t3600\tIN\tCNAME"));
	ans_done(&a);

	for (i = 0; i < n; i++)
		free(recs[i]);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

START_TEST(test_local_nodata)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	/* An existing name without the type. */
	ask(&a, f.z, "db.corp.internal", T_TXT);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ck_assert_uint_eq(ldns_pkt_nscount(a.pkt), 1);
	ans_done(&a);
	ask(&a, f.z, "corp.internal", T_AAAA);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ans_done(&a);

	/* Empty non-terminals: names above a record's owner. */
	ask(&a, f.z, "deep.corp.internal", T_A);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ans_done(&a);
	ask(&a, f.z, "y.deep.corp.internal", T_TXT);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ans_done(&a);
	ask(&a, f.z, "x.y.deep.corp.internal", T_TXT);
	expect(&a, R_NOERROR,
	    "x.y.deep.corp.internal.\t3600\tIN\tTXT\t\"hi there\"\n", "");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

START_TEST(test_local_nxdomain)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	ask(&a, f.z, "nope.corp.internal", T_A);
	expect(&a, R_NXDOMAIN, "", MADE_SOA);
	ck_assert_uint_eq(ldns_pkt_ancount(a.pkt), 0);
	ck_assert_uint_eq(ldns_pkt_nscount(a.pkt), 1);
	ans_done(&a);
	/* Below a name that exists, and beside an empty non-terminal. */
	ask(&a, f.z, "z.db.corp.internal", T_A);
	expect(&a, R_NXDOMAIN, "", MADE_SOA);
	ans_done(&a);
	ask(&a, f.z, "q.deep.corp.internal", T_A);
	expect(&a, R_NXDOMAIN, "", MADE_SOA);
	ans_done(&a);
	corp_done(&f);
}
END_TEST

/* A written SOA is served, with TTL min(TTL, MINIMUM) in negatives. */
START_TEST(test_local_soa)
{
	static const char *const recs[] = {
		"@ 7200 SOA ns1 admin.other.test. 5 7200 900 604800 600",
		"ns1 A 192.0.2.53",
		NULL
	};
	static const char *const low[] = {
		"low.test. 60 IN SOA ns.low.test. h.low.test. 9 1 2 3 600",
		NULL
	};
	struct config	 cfg;
	struct zones	*zs;
	struct ans	 a;

	memset(&cfg, 0, sizeof(cfg));
	add_zone(&cfg, "other.test", recs);
	add_zone(&cfg, "low.test", low);
	zs = build(&cfg);

	ask(&a, find(zs, "other.test"), "other.test", T_SOA);
	expect(&a, R_NOERROR, "other.test.\t7200\tIN\tSOA\tns1.other.test. "
	    "admin.other.test. 5 7200 900 604800 600\n", "");
	ans_done(&a);
	ask(&a, find(zs, "x.other.test"), "x.other.test", T_A);
	expect(&a, R_NXDOMAIN, "", "other.test.\t600\tIN\tSOA\tns1.other.test. "
	    "admin.other.test. 5 7200 900 604800 600\n");
	ans_done(&a);
	ask(&a, find(zs, "ns1.other.test"), "ns1.other.test", T_AAAA);
	expect(&a, R_NOERROR, "", "other.test.\t600\tIN\tSOA\tns1.other.test. "
	    "admin.other.test. 5 7200 900 604800 600\n");
	ans_done(&a);
	/* The SOA's own TTL when it is the lower. */
	ask(&a, find(zs, "x.low.test"), "x.low.test", T_A);
	expect(&a, R_NXDOMAIN, "", "low.test.\t60\tIN\tSOA\tns.low.test. "
	    "h.low.test. 9 1 2 3 600\n");
	ans_done(&a);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/* Names match in any case; the answer keeps the question's spelling. */
START_TEST(test_local_case)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	ask(&a, f.z, "DB.Corp.INTERNAL", T_A);
	expect(&a, R_NOERROR,
	    "DB.Corp.INTERNAL.\t300\tIN\tA\t10.1.2.3\n"
	    "DB.Corp.INTERNAL.\t300\tIN\tA\t10.1.2.4\n", "");
	ans_done(&a);
	ask(&a, f.z, "mixed.case.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "mixed.case.corp.internal.\t3600\tIN\tA\t192.0.2.9\n", "");
	ans_done(&a);
	/* The SOA owner points at the apex inside the question. */
	ask(&a, f.z, "NOPE.CORP.INTERNAL", T_A);
	expect(&a, R_NXDOMAIN, "", "CORP.INTERNAL.\t300\tIN\tSOA\t"
	    "corp.internal. hostmaster.corp.internal. 1 3600 600 86400 300\n");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

START_TEST(test_local_refused)
{
	struct fixture	 f;
	struct ans	 a;

	corp_setup(&f);
	ask_class(&a, f.z, "db.corp.internal", T_A, C_CH);
	expect(&a, R_REFUSED, "", "");
	ans_done(&a);
	ask_class(&a, f.z, "db.corp.internal", T_A, 255);
	expect(&a, R_REFUSED, "", "");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

/* 0 when the answer does not fit, or the zone is not local. */
START_TEST(test_local_size)
{
	struct fixture	 f;
	struct ans	 a;
	uint8_t		 w[DNS_MAX_NAME], buf[512];
	size_t		 wlen = to_wire("db.corp.internal", w), need;

	corp_setup(&f);
	ask(&a, f.z, "db.corp.internal", T_A);
	need = a.len;
	ans_done(&a);
	ck_assert_uint_eq(zone_local_answer(f.z, w, wlen, T_A, C_IN, buf,
	    need), need);
	ck_assert_uint_eq(zone_local_answer(f.z, w, wlen, T_A, C_IN, buf,
	    need - 1), 0);
	ck_assert_uint_eq(zone_local_answer(f.z, w, wlen, T_A, C_IN, buf,
	    DNS_HDR_LEN), 0);
	ck_assert_uint_eq(zone_local_answer(f.z, w, wlen, T_A, C_IN, buf, 0),
	    0);
	ck_assert_uint_eq(zone_local_answer(NULL, w, wlen, T_A, C_IN, buf,
	    sizeof(buf)), 0);
	corp_done(&f);

	/* A forward zone answers nothing here. */
	memset(&f, 0, sizeof(f));
	add_zone(&f.cfg, "corp.internal", NULL);
	f.zs = build(&f.cfg);
	ck_assert_uint_eq(zone_local_answer(find(f.zs, "corp.internal"), w,
	    wlen, T_A, C_IN, buf, sizeof(buf)), 0);
	corp_done(&f);
}
END_TEST

/* Many records at one name: the 64 KiB buffer is the limit. */
START_TEST(test_local_big)
{
	struct config	 cfg;
	struct zones	*zs;
	struct ans	 a;
	uint8_t		 w[DNS_MAX_NAME], *buf;
	char		*recs[CONFIG_MAX_LOCAL + 1], t[300];
	size_t		 wlen = to_wire("t.big.test", w), len;
	int		 i;

	memset(&cfg, 0, sizeof(cfg));
	memset(t, 'x', 250);
	t[250] = '\0';
	for (i = 0; i < 300; i++) {
		recs[i] = malloc(400);
		snprintf(recs[i], 400, "t TXT \"%03d%s\"", i, t);
	}
	recs[i] = NULL;
	add_zone(&cfg, "big.test", (const char *const *)recs);
	zs = build(&cfg);
	buf = malloc(65535);
	len = zone_local_answer(find(zs, "big.test"), w, wlen, T_TXT, C_IN,
	    buf, 65535);
	ck_assert_uint_eq(len, 0);		/* ~ 300 * 270 bytes */
	/* Without the TXT records it fits. */
	ask(&a, find(zs, "big.test"), "t.big.test", T_A);
	expect(&a, R_NOERROR, "", "big.test.\t300\tIN\tSOA\tbig.test. "
	    "hostmaster.big.test. 1 3600 600 86400 300\n");
	ans_done(&a);
	free(buf);
	for (i = 0; i < 300; i++)
		free(recs[i]);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/* An empty local zone: NXDOMAIN below it, its SOA at the apex. */
START_TEST(test_local_empty)
{
	static const char *const none[] = { NULL };
	struct config	 cfg;
	struct zones	*zs;
	struct ans	 a;

	memset(&cfg, 0, sizeof(cfg));
	add_zone(&cfg, "corp.internal", none);
	zs = build(&cfg);
	ask(&a, find(zs, "x.corp.internal"), "a.b.x.corp.internal", T_A);
	expect(&a, R_NXDOMAIN, "", MADE_SOA);
	ans_done(&a);
	ask(&a, find(zs, "corp.internal"), "corp.internal", T_A);
	expect(&a, R_NOERROR, "", MADE_SOA);
	ans_done(&a);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/* A CNAME into a zone below the local one is left to its zone. */
START_TEST(test_local_inner_zone)
{
	struct fixture	 f;
	struct ans	 a;

	memset(&f, 0, sizeof(f));
	add_zone(&f.cfg, "corp.internal", corp);
	add_zone(&f.cfg, "sub.corp.internal", NULL);
	f.zs = build(&f.cfg);
	f.z = find(f.zs, "corp.internal");
	ck_assert_str_eq(zone_config(find(f.zs, "b.sub.corp.internal"))->name,
	    "sub.corp.internal");
	ask(&a, f.z, "in.corp.internal", T_A);
	expect(&a, R_NOERROR,
	    "in.corp.internal.\t3600\tIN\tCNAME\tb.sub.corp.internal.\n", "");
	ans_done(&a);
	corp_done(&f);
}
END_TEST

/* A zone name long enough that hostmaster.ZONE would not fit. */
START_TEST(test_local_long_name)
{
	static const char *const recs[] = { "a A 192.0.2.1", NULL };
	struct config	 cfg;
	struct zones	*zs;
	struct ans	 a;
	char		 name[256], q[300];
	size_t		 off = 0;
	int		 i;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < 4; i++)
		off += (size_t)snprintf(name + off, sizeof(name) - off,
		    "%s%.60d", i ? "." : "", 0);
	/* 4 * 61 + 1 = 245 bytes in wire form */
	add_zone(&cfg, name, recs);
	zs = build(&cfg);
	snprintf(q, sizeof(q), "b.%s", name);
	ask(&a, find(zs, name), q, T_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(a.pkt), R_NXDOMAIN);
	ck_assert_uint_eq(ldns_pkt_nscount(a.pkt), 1);
	ans_done(&a);
	zones_free(zs);
	config_release(&cfg);
}
END_TEST

/*
 * Checking records
 */

static void
check_ok(const char *text, const char *zone)
{
	char	 why[256] = "";

	if (zone_check_record(text, zone, why, sizeof(why)) != 0)
		ck_abort_msg("'%s' in %s: %s", text, zone, why);
}

static void
check_bad(const char *text, const char *zone, const char *want)
{
	char	 why[256] = "";

	ck_assert_int_eq(zone_check_record(text, zone, why, sizeof(why)), -1);
	if (strncmp(why, want, strlen(want)) != 0)
		ck_abort_msg("'%s': got '%s', want '%s'", text, why, want);
}

START_TEST(test_check_record)
{
	check_ok("www A 10.0.0.1", "corp.internal");
	check_ok("@ MX 10 mail", "corp.internal");
	check_ok("@ 300 IN NS ns1.example.net.", "corp.internal");
	check_ok("www.corp.internal. 1d IN AAAA 2001:db8::1", "corp.internal");
	check_ok("WWW.CORP.Internal. TXT \"x\"", "corp.internal");
	check_ok("corp.internal. SOA ns hm 1 2 3 4 5", "corp.internal");
	check_ok("@ SOA ns hm 1 2 3 4 5", "corp.internal");
	check_ok("x TYPE65280 \\# 2 abcd", "corp.internal");
	check_ok("_sip._tcp SRV 0 5 5060 sip", "corp.internal");
	check_ok("x CAA 0 issue \"ca.example\"", "corp.internal");
	check_ok("a.b.c PTR x.example.", "corp.internal");

	check_bad("", "corp.internal", "empty record");
	check_bad(" A 10.0.0.1", "corp.internal",
	    "a record starts with its owner name (or @)");
	check_bad("\tA 10.0.0.1", "corp.internal",
	    "a record starts with its owner name (or @)");
	check_bad("$TTL 300", "corp.internal",
	    "zone-file directives ($ORIGIN, $TTL, ...) are not records");
	check_bad("$ORIGIN other.", "corp.internal",
	    "zone-file directives");
	check_bad("www A", "corp.internal", "bad record: ");
	check_bad("www A 10.0.0.300", "corp.internal", "bad record: ");
	check_bad("www A 1.2.3.4 extra", "corp.internal", "bad record: ");
	check_bad("www FOO 1", "corp.internal", "bad record: ");
	check_bad("www CH TXT hi", "corp.internal",
	    "class CH: a local zone holds class IN only");
	check_bad("www RRSIG A 8 2 3600 20200101000000 20190101000000 1 "
	    "corp.internal. AAAA", "corp.internal",
	    "type RRSIG: DNSSEC records cannot be served (a local zone is not "
	    "signed)");
	check_bad("@ DNSKEY 257 3 8 AwEAAQ==", "corp.internal",
	    "type DNSKEY: DNSSEC");
	check_bad("x DS 1 8 2 abcd", "corp.internal", "type DS: DNSSEC");
	check_bad("x CDS 1 8 2 abcd", "corp.internal", "type CDS: DNSSEC");
	check_bad("x NSEC3PARAM 1 0 0 -", "corp.internal",
	    "type NSEC3PARAM: DNSSEC");
	check_bad("x NSEC y A", "corp.internal", "type NSEC: DNSSEC");
	check_bad("x TYPE41 \\# 0", "corp.internal",
	    "type OPT: not a record type");
	check_bad("x TYPE252 \\# 0", "corp.internal",
	    "type AXFR: a query or meta type, not a record type");
	check_bad("x TYPE255 \\# 0", "corp.internal",
	    "type ANY: a query or meta type");
	check_bad("x TYPE250 \\# 0", "corp.internal", "type TSIG: a query");
	check_bad("x TYPE0 \\# 0", "corp.internal", "type TYPE0: not a record");
	check_bad("x.example.com. A 10.0.0.1", "corp.internal",
	    "owner 'x.example.com.' is not in the zone");
	check_bad("xcorp.internal. A 10.0.0.1", "corp.internal",
	    "owner 'xcorp.internal.' is not in the zone");
	check_bad("internal. A 10.0.0.1", "corp.internal",
	    "owner 'internal.' is not in the zone");
	check_bad("*.dev A 10.0.0.1", "corp.internal",
	    "owner '*.dev.corp.internal.': wildcards are not supported in "
	    "local zones");
	check_bad("sub SOA ns hm 1 2 3 4 5", "corp.internal",
	    "a SOA record belongs at the zone apex (@), not at "
	    "'sub.corp.internal.'");
}
END_TEST

/* Check one set: the index and reason of the first problem, or -1. */
static void
check_set(const char *const *texts, long want, const char *why_want)
{
	char	 why[256] = "";
	size_t	 n = 0;
	long	 got;

	while (texts[n] != NULL)
		n++;
	got = zone_check_records((char *const *)texts, n, "corp.internal",
	    why, sizeof(why));
	if (got != want)
		ck_abort_msg("got %ld (%s), want %ld", got, why, want);
	if (why_want != NULL)
		ck_assert_str_eq(why, why_want);
}

START_TEST(test_check_records)
{
	static const char *const ok[] = {
		"@ SOA ns hm 1 2 3 4 5", "@ A 10.0.0.1", "www CNAME db",
		"db A 10.0.0.2", "db A 10.0.0.3", "db AAAA 2001:db8::1", NULL
	};
	static const char *const apex[] = {
		"db A 10.0.0.2", "@ CNAME db", NULL
	};
	static const char *const apex_abs[] = {
		"CORP.internal. CNAME db.example.", NULL
	};
	static const char *const two[] = {
		"a CNAME b", "x A 10.0.0.1", "a CNAME c", NULL
	};
	static const char *const beside[] = {
		"a A 10.0.0.1", "b A 10.0.0.2", "A.corp.internal. CNAME x", NULL
	};
	static const char *const beside2[] = {
		"a CNAME x", "a TXT hi", NULL
	};
	static const char *const soas[] = {
		"@ SOA ns hm 1 2 3 4 5", "x A 10.0.0.1",
		"corp.internal. SOA ns2 hm 2 2 3 4 5", NULL
	};
	/* The earliest offender wins, whatever the names' order. */
	static const char *const first[] = {
		"z A 10.0.0.1", "z CNAME q", "a A 10.0.0.1", "a CNAME q", NULL
	};
	static const char *const none[] = { NULL };

	check_set(ok, -1, NULL);
	check_set(none, -1, NULL);
	check_set(apex, 1, "a CNAME cannot be at the zone apex (it has the "
	    "SOA)");
	check_set(apex_abs, 0, NULL);
	check_set(two, 2, "a second CNAME at 'a.corp.internal.' (local[0])");
	check_set(beside, 2, "a CNAME cannot be beside other data at "
	    "'a.corp.internal.' (local[0])");
	check_set(beside2, 1, "other data cannot be beside a CNAME at "
	    "'a.corp.internal.' (local[0])");
	check_set(soas, 2, "a second SOA record (local[0])");
	check_set(first, 1, "a CNAME cannot be beside other data at "
	    "'z.corp.internal.' (local[0])");
}
END_TEST

/* zones_build() checks the records as well and says where. */
START_TEST(test_build_bad)
{
	static const char *const bad[] = {
		"www A 10.0.0.1", "x.example.com. A 10.0.0.1", NULL
	};
	struct config	 cfg;
	char		 err[512] = "";

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = strdup("/etc/dnsward/dnsward.yaml");
	add_zone(&cfg, "fwd.test", NULL);
	add_zone(&cfg, "corp.internal", bad);
	ck_assert_ptr_null(zones_build(&cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "/etc/dnsward/dnsward.yaml:2:1: zone "
	    "'corp.internal': local[1]: owner 'x.example.com.' is not in the "
	    "zone");
	config_release(&cfg);
}
END_TEST

static Suite *
zone_suite(void)
{
	Suite	*s = suite_create("zone");
	TCase	*tc;

	tc = tcase_create("find");
	tcase_add_test(tc, test_find_longest);
	tcase_add_test(tc, test_find_edges);
	tcase_add_test(tc, test_find_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_test(tc, test_local_rrset);
	tcase_add_test(tc, test_local_any);
	tcase_add_test(tc, test_local_cname);
	tcase_add_test(tc, test_local_chain_limit);
	tcase_add_test(tc, test_local_nodata);
	tcase_add_test(tc, test_local_nxdomain);
	tcase_add_test(tc, test_local_soa);
	tcase_add_test(tc, test_local_case);
	tcase_add_test(tc, test_local_refused);
	tcase_add_test(tc, test_local_size);
	tcase_add_test(tc, test_local_big);
	tcase_add_test(tc, test_local_empty);
	tcase_add_test(tc, test_local_inner_zone);
	tcase_add_test(tc, test_local_long_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_check_record);
	tcase_add_test(tc, test_check_records);
	tcase_add_test(tc, test_build_bad);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(zone_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
