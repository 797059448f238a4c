/*
 * check_respond.c -- unit tests for respond.c: the exact packet of every
 * policy answer (NXDOMAIN, NODATA, REFUSED, DROP, OVERRIDE from
 * configuration and from RPZ data, the walled-garden default), the CNAME
 * override target and the chased answer; the answer composed for a CNAME
 * hop into a zone (respond_splice).
 *
 * The query and the policy result are built by hand, so nothing here
 * depends on configuration or feeds.  Each answer is compared byte for
 * byte with the packet written out in the test, and parsed back with
 * ldns_wire2pkt to check it section by section.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "policy.h"
#include "query.h"
#include "respond.h"
#include "wire.h"

#define T_A	1
#define T_SOA	6
#define T_CNAME	5
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28
#define T_ANY	255

#define OUR_SIZE	1232
#define QID		0xbeef

/*
 * Packets written by hand
 */

struct pkt {
	uint8_t	 b[4096];
	size_t	 len;
};

static void
put(struct pkt *p, const void *data, size_t len)
{
	ck_assert_uint_le(p->len + len, sizeof(p->b));
	if (len > 0)
		memcpy(p->b + p->len, data, len);
	p->len += len;
}

static void
put8(struct pkt *p, uint8_t v)
{
	put(p, &v, 1);
}

static void
put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

/* "www.Example.com" -> wire form as written (case kept). */
static size_t
wire_name(const char *text, uint8_t *out)
{
	size_t	 n = 0;

	while (*text != '\0') {
		size_t	 l = strcspn(text, ".");

		ck_assert_uint_gt(l, 0);
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

static void
putname(struct pkt *p, const char *text)
{
	uint8_t	 w[DNS_MAX_NAME];

	put(p, w, wire_name(text, w));
}

/* Lower-case wire name (what the policy matched). */
static size_t
lname(const char *text, uint8_t *out)
{
	size_t	 n = wire_name(text, out);

	wire_name_lower(out, n);
	return n;
}

/*
 * The client's query, parsed as query.c would (only the fields the
 * responders read).
 */
static void
client_query(struct query *q, const char *name, uint16_t qtype, int rd,
    int cd, int edns, int dobit)
{
	struct pkt	 p;

	memset(q, 0, sizeof(*q));
	memset(&p, 0, sizeof(p));
	put16(&p, QID);
	put16(&p, (uint16_t)((rd ? 0x0100 : 0) | (cd ? 0x0010 : 0)));
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 0);
	put16(&p, 0);
	putname(&p, name);
	put16(&p, qtype);
	put16(&p, DNS_CLASS_IN);
	ck_assert_int_eq(wire_question(p.b, p.len, &q->q), 0);
	q->id = QID;
	q->rd = (uint8_t)rd;
	q->cd = (uint8_t)cd;
	q->has_question = 1;
	q->edns.present = edns;
	q->edns.udp_size = 4096;
	q->edns.do_bit = dobit;
	q->rcode = -1;
}

/* Header and question of our answer to q. */
static void
exp_head(struct pkt *e, const struct query *q, int rcode, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	memset(e, 0, sizeof(*e));
	put16(e, q->id);
	/* QR, opcode 0, AA clear, TC clear, RD echoed; RA, CD echoed. */
	put8(e, (uint8_t)(0x80 | (q->rd ? 1 : 0)));
	put8(e, (uint8_t)(0x80 | (q->cd ? 0x10 : 0) | rcode));
	put16(e, 1);
	put16(e, an);
	put16(e, ns);
	put16(e, ar);
	put(e, q->q.name, q->q.namelen);
	put16(e, q->q.qtype);
	put16(e, DNS_CLASS_IN);
}

/* The policy SOA; owner is a pointer when ptr != 0, else the name. */
static void
exp_soa(struct pkt *e, uint16_t ptr, const char *owner, uint32_t ttl)
{
	if (ptr != 0)
		put16(e, (uint16_t)(0xc000 | ptr));
	else {
		uint8_t	 w[DNS_MAX_NAME];

		put(e, w, lname(owner, w));
	}
	put16(e, T_SOA);
	put16(e, DNS_CLASS_IN);
	put32(e, ttl);
	put16(e, 47);
	putname(e, "localhost");
	putname(e, "nobody.invalid");
	put32(e, 1);
	put32(e, 3600);
	put32(e, 600);
	put32(e, 86400);
	put32(e, ttl);
}

static void
exp_opt(struct pkt *e, int dobit, int ede, const char *text)
{
	size_t	 tlen = strlen(text);

	put8(e, 0);
	put16(e, 41);
	put16(e, OUR_SIZE);
	put8(e, 0);
	put8(e, 0);
	put16(e, dobit ? 0x8000 : 0);
	put16(e, (uint16_t)(6 + tlen));
	put16(e, 15);
	put16(e, (uint16_t)(2 + tlen));
	put16(e, (uint16_t)ede);
	put(e, text, tlen);
}

static void
exp_rr(struct pkt *e, uint16_t type, uint32_t ttl, const void *rdata,
    uint16_t rdlen)
{
	put16(e, 0xc00c);
	put16(e, type);
	put16(e, DNS_CLASS_IN);
	put32(e, ttl);
	put16(e, rdlen);
	put(e, rdata, rdlen);
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

static void
expect_packet(const uint8_t *got, size_t n, const struct pkt *want)
{
	if (n != want->len || memcmp(got, want->b, n) != 0) {
		dump("got", got, n);
		dump("want", want->b, want->len);
		ck_abort_msg("packet differs (got %zu bytes, want %zu)", n,
		    want->len);
	}
}

/*
 * Policy results written by hand
 */

static void
block_result(struct policy_result *r, enum block_response resp,
    const char *feed)
{
	memset(r, 0, sizeof(*r));
	r->verdict = POLICY_BLOCK;
	r->action = DLOG_ACTION_BLOCK;
	r->reason = feed != NULL ? "feed" : "tld";
	r->group = "g";
	r->rule = "r";
	r->feed = feed;
	r->response = resp;
	r->ede = 15;
	r->ttl = 45;
}

static size_t
block(const struct query *q, const struct policy_result *r,
    const char *matched, uint8_t *out, size_t outsz)
{
	uint8_t	 m[DNS_MAX_NAME];
	size_t	 mlen = lname(matched, m);

	return respond_block(q, r, m, mlen, OUR_SIZE, out, outsz);
}

/*
 * Parsing back with ldns
 */

static ldns_pkt *
parse(const uint8_t *b, size_t n)
{
	ldns_pkt	*p = NULL;

	ck_assert_int_eq(ldns_wire2pkt(&p, b, n), LDNS_STATUS_OK);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void
check_flags(const ldns_pkt *p, const struct query *q, int rcode)
{
	ck_assert_uint_eq(ldns_pkt_id(p), q->id);
	ck_assert_int_eq(ldns_pkt_qr(p), 1);
	ck_assert_int_eq(ldns_pkt_aa(p), 0);
	ck_assert_int_eq(ldns_pkt_tc(p), 0);
	ck_assert_int_eq(ldns_pkt_ra(p), 1);
	ck_assert_int_eq(ldns_pkt_rd(p), q->rd ? 1 : 0);
	ck_assert_int_eq(ldns_pkt_cd(p), q->cd ? 1 : 0);
	ck_assert_int_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), rcode);
}

/* The question is the client's, name case included. */
static void
check_question(const ldns_pkt *p, const struct query *q)
{
	ldns_rr		*rr;
	ldns_rdf	*owner;

	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	owner = ldns_rr_owner(rr);
	ck_assert_uint_eq(ldns_rdf_size(owner), q->q.namelen);
	ck_assert_mem_eq(ldns_rdf_data(owner), q->q.name, q->q.namelen);
	ck_assert_int_eq(ldns_rr_get_type(rr), q->q.qtype);
	ck_assert_int_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
}

static void
check_dname(const ldns_rdf *rdf, const char *text)
{
	ldns_rdf	*want;

	ck_assert_int_eq(ldns_str2rdf_dname(&want, text), LDNS_STATUS_OK);
	ck_assert_msg(ldns_dname_compare(rdf, want) == 0, "name differs "
	    "from %s", text);
	ldns_rdf_deep_free(want);
}

static void
check_soa(const ldns_pkt *p, const char *owner, uint32_t ttl)
{
	ldns_rr	*soa;

	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ck_assert_int_eq(ldns_rr_get_class(soa), LDNS_RR_CLASS_IN);
	ck_assert_uint_eq(ldns_rr_ttl(soa), ttl);
	check_dname(ldns_rr_owner(soa), owner);
	ck_assert_uint_eq(ldns_rr_rd_count(soa), 7);
	check_dname(ldns_rr_rdf(soa, 0), "localhost.");
	check_dname(ldns_rr_rdf(soa, 1), "nobody.invalid.");
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), ttl);
}

/* OPT with our size, the client's DO and one EDE option (code, text). */
static void
check_ede(ldns_pkt *p, int dobit, int code, const char *text)
{
	ldns_rdf	*data;
	const uint8_t	*d;
	size_t		 tlen = strlen(text);

	ck_assert_int_eq(ldns_pkt_edns(p), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), OUR_SIZE);
	ck_assert_int_eq(ldns_pkt_edns_do(p), dobit ? 1 : 0);
	ck_assert_uint_eq(ldns_pkt_edns_version(p), 0);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 0);
	data = ldns_pkt_edns_data(p);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(ldns_rdf_size(data), 6 + tlen);
	d = ldns_rdf_data(data);
	ck_assert_uint_eq(wire_get16(d), 15);
	ck_assert_uint_eq(wire_get16(d + 2), 2 + tlen);
	ck_assert_uint_eq(wire_get16(d + 4), (unsigned)code);
	ck_assert_mem_eq(d + 6, text, tlen);
}

static void
check_no_edns(const ldns_pkt *p)
{
	ck_assert_int_eq(ldns_pkt_edns(p), 0);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 0);
}

/*
 * Negative answers
 */

static const char text_feed[] = "blocked by rule 'r' in group 'g' (feed 'f')";

START_TEST(nxdomain_edns)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;
	int			 dobit;

	for (dobit = 0; dobit <= 1; dobit++) {
		client_query(&q, "Www.Bad.Example.COM", T_A, 1, 1, 1, dobit);
		block_result(&r, RESP_NXDOMAIN, "f");
		n = block(&q, &r, "bad.example.com", out, sizeof(out));

		exp_head(&e, &q, 3, 0, 1, 1);
		exp_soa(&e, DNS_HDR_LEN + 4, NULL, 45);	/* after "\3Www" */
		exp_opt(&e, dobit, 15, text_feed);
		expect_packet(out, n, &e);

		p = parse(out, n);
		check_flags(p, &q, LDNS_RCODE_NXDOMAIN);
		check_question(p, &q);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
		check_soa(p, "bad.example.com.", 45);
		check_ede(p, dobit, 15, text_feed);
		/* ldns counts the OPT apart from the additional section. */
		ck_assert_uint_eq(ldns_pkt_arcount(p), 0);
		ldns_pkt_free(p);
	}
}
END_TEST

START_TEST(nxdomain_no_edns)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;

	client_query(&q, "bad.example.com", T_AAAA, 0, 0, 0, 0);
	block_result(&r, RESP_NXDOMAIN, "f");
	r.ttl = 3600;
	n = block(&q, &r, "bad.example.com", out, sizeof(out));

	exp_head(&e, &q, 3, 0, 1, 0);
	exp_soa(&e, DNS_HDR_LEN, NULL, 3600);	/* the whole question name */
	expect_packet(out, n, &e);

	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NXDOMAIN);
	check_question(p, &q);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	check_soa(p, "bad.example.com.", 3600);
	check_no_edns(p);
	ldns_pkt_free(p);
}
END_TEST

/* The SOA owner is a pointer only at a label boundary of the question. */
START_TEST(soa_owner_uncompressed)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096], m[DNS_MAX_NAME];
	struct pkt		 e, qp;
	size_t			 n, mlen;
	ldns_pkt		*p;

	/*
	 * A CNAME target that matched is not the question name or above it:
	 * the SOA is owned by the question name instead (RFC 2308: caches
	 * keep a negative answer only with a SOA at or above the name).
	 */
	client_query(&q, "www.example.com", T_A, 1, 0, 0, 0);
	block_result(&r, RESP_NXDOMAIN, "f");
	n = block(&q, &r, "tracker.evil.net", out, sizeof(out));
	exp_head(&e, &q, 3, 0, 1, 0);
	exp_soa(&e, DNS_HDR_LEN, NULL, 45);
	expect_packet(out, n, &e);
	p = parse(out, n);
	check_soa(p, "www.example.com.", 45);
	ldns_pkt_free(p);

	/*
	 * The question's bytes end in "\3bad\7example\3com\0", but "\3bad"
	 * starts inside the label "z\3bad": bad.example.com is no ancestor,
	 * so the question name owns the SOA (no pointer into the label).
	 */
	memset(&qp, 0, sizeof(qp));
	put16(&qp, QID);
	put16(&qp, 0x0100);
	put16(&qp, 1);
	put16(&qp, 0);
	put16(&qp, 0);
	put16(&qp, 0);
	put(&qp, "\x05z\x03" "bad\x07" "example\x03" "com", 19);
	put16(&qp, T_A);
	put16(&qp, DNS_CLASS_IN);
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(wire_question(qp.b, qp.len, &q.q), 0);
	q.id = QID;
	q.rd = 1;
	q.has_question = 1;
	mlen = lname("bad.example.com", m);
	n = respond_block(&q, &r, m, mlen, OUR_SIZE, out, sizeof(out));
	exp_head(&e, &q, 3, 0, 1, 0);
	exp_soa(&e, DNS_HDR_LEN, NULL, 45);
	expect_packet(out, n, &e);
	p = parse(out, n);
	ck_assert_ptr_nonnull(p);
	ldns_pkt_free(p);

	/* The root as the matched name: a pointer to the question's end. */
	client_query(&q, "a.b", T_A, 1, 0, 0, 0);
	n = respond_block(&q, &r, (const uint8_t *)"", 1, OUR_SIZE, out,
	    sizeof(out));
	exp_head(&e, &q, 3, 0, 1, 0);
	exp_soa(&e, DNS_HDR_LEN + 4, NULL, 45);
	expect_packet(out, n, &e);
	p = parse(out, n);
	check_soa(p, ".", 45);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nodata)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;
	static const char	 text[] =
	    "blocked by rule 'r' in group 'g' (tld)";

	client_query(&q, "x.Risky.ZIP", T_TXT, 1, 0, 1, 0);
	block_result(&r, RESP_NODATA, NULL);
	n = block(&q, &r, "x.risky.zip", out, sizeof(out));

	exp_head(&e, &q, 0, 0, 1, 1);
	exp_soa(&e, DNS_HDR_LEN, NULL, 45);
	exp_opt(&e, 0, 15, text);
	expect_packet(out, n, &e);

	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NOERROR);
	check_question(p, &q);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	check_soa(p, "x.risky.zip.", 45);
	check_ede(p, 0, 15, text);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(refused)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;

	client_query(&q, "bad.example.com", T_A, 1, 0, 1, 1);
	block_result(&r, RESP_REFUSED, "f");
	n = block(&q, &r, "bad.example.com", out, sizeof(out));

	exp_head(&e, &q, 5, 0, 0, 1);
	exp_opt(&e, 1, 15, text_feed);
	expect_packet(out, n, &e);

	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_REFUSED);
	check_question(p, &q);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	check_ede(p, 1, 15, text_feed);
	ldns_pkt_free(p);

	/* Without EDNS: header and question only. */
	client_query(&q, "bad.example.com", T_A, 0, 0, 0, 0);
	n = block(&q, &r, "bad.example.com", out, sizeof(out));
	exp_head(&e, &q, 5, 0, 0, 0);
	expect_packet(out, n, &e);
}
END_TEST

START_TEST(drop)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];

	client_query(&q, "bad.example.com", T_A, 1, 0, 1, 0);
	block_result(&r, RESP_DROP, "f");
	ck_assert_uint_eq(block(&q, &r, "bad.example.com", out, sizeof(out)),
	    0);
}
END_TEST

/* The walled-garden default: EDE 17 Filtered. */
START_TEST(default_block)
{
	static const char	 text[] = "not allowed by policy (default block)";
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;

	client_query(&q, "Unlisted.Example", T_A, 1, 0, 1, 0);
	memset(&r, 0, sizeof(r));
	r.verdict = POLICY_BLOCK;
	r.action = DLOG_ACTION_BLOCK;
	r.reason = "default";
	r.response = RESP_NXDOMAIN;
	r.ede = 17;
	r.ttl = 60;
	n = block(&q, &r, "unlisted.example", out, sizeof(out));

	exp_head(&e, &q, 3, 0, 1, 1);
	exp_soa(&e, DNS_HDR_LEN, NULL, 60);
	exp_opt(&e, 0, 17, text);
	expect_packet(out, n, &e);

	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NXDOMAIN);
	check_soa(p, "unlisted.example.", 60);
	check_ede(p, 0, 17, text);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(ede_text)
{
	struct policy_result	 r;
	char			 buf[256];

	block_result(&r, RESP_NXDOMAIN, "malware");
	r.rule = "malware-rule";
	r.group = "baseline";
	respond_ede_text(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "blocked by rule 'malware-rule' in group "
	    "'baseline' (feed 'malware')");
	r.feed = NULL;
	r.reason = "qtype";
	respond_ede_text(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "blocked by rule 'malware-rule' in group "
	    "'baseline' (qtype)");
	r.rule = NULL;
	respond_ede_text(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "not allowed by policy (default block)");
	/* Cut, still terminated. */
	respond_ede_text(&r, buf, 8);
	ck_assert_str_eq(buf, "not all");
}
END_TEST

/*
 * Overrides
 */

static void
config_override(struct config_override *o)
{
	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", o->a[0]), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.2", o->a[1]), 1);
	o->na = 2;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", o->aaaa[0]), 1);
	o->naaaa = 1;
	o->ttl = 77;
}

/* Answer to a query of qtype for the config override o. */
static void
override_case(const struct config_override *o, uint16_t qtype, int edns)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n, i;
	unsigned		 an = 0;
	ldns_pkt		*p;
	ldns_rr_list		*ans;
	int			 wanta = qtype == T_A || qtype == T_ANY;
	int			 wantaaaa = qtype == T_AAAA || qtype == T_ANY;

	client_query(&q, "Sink.Example.com", qtype, 1, 0, edns, 0);
	block_result(&r, RESP_OVERRIDE, "f");
	r.override = o;
	n = block(&q, &r, "sink.example.com", out, sizeof(out));

	an = (wanta ? (unsigned)o->na : 0) + (wantaaaa ?
	    (unsigned)o->naaaa : 0);
	exp_head(&e, &q, 0, (uint16_t)an, an == 0, edns ? 1 : 0);
	for (i = 0; wanta && i < o->na; i++)
		exp_rr(&e, T_A, o->ttl, o->a[i], 4);
	for (i = 0; wantaaaa && i < o->naaaa; i++)
		exp_rr(&e, T_AAAA, o->ttl, o->aaaa[i], 16);
	if (an == 0)
		exp_soa(&e, DNS_HDR_LEN, NULL, 45);
	if (edns)
		exp_opt(&e, 0, 15, text_feed);
	expect_packet(out, n, &e);

	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NOERROR);
	check_question(p, &q);
	ck_assert_uint_eq(ldns_pkt_ancount(p), an);
	ans = ldns_pkt_answer(p);
	for (i = 0; i < an; i++) {
		ldns_rr	*rr = ldns_rr_list_rr(ans, i);

		check_dname(ldns_rr_owner(rr), "sink.example.com.");
		ck_assert_uint_eq(ldns_rr_ttl(rr), o->ttl);
		ck_assert_int_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		if (wanta && i < o->na) {
			ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
			ck_assert_mem_eq(ldns_rdf_data(ldns_rr_rdf(rr, 0)),
			    o->a[i], 4);
		} else {
			ck_assert_int_eq(ldns_rr_get_type(rr),
			    LDNS_RR_TYPE_AAAA);
			ck_assert_mem_eq(ldns_rdf_data(ldns_rr_rdf(rr, 0)),
			    o->aaaa[i - (wanta ? o->na : 0)], 16);
		}
	}
	if (an == 0)
		check_soa(p, "sink.example.com.", 45);
	else
		ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	if (edns)
		check_ede(p, 0, 15, text_feed);
	else
		check_no_edns(p);
	ldns_pkt_free(p);
}

START_TEST(override_config)
{
	struct config_override	 o;

	config_override(&o);
	override_case(&o, T_A, 1);
	override_case(&o, T_A, 0);
	override_case(&o, T_AAAA, 1);
	override_case(&o, T_ANY, 1);
	override_case(&o, T_MX, 1);
	override_case(&o, T_MX, 0);

	/* Only A values: AAAA gets NODATA. */
	o.naaaa = 0;
	override_case(&o, T_AAAA, 1);
	override_case(&o, T_A, 1);
}
END_TEST

/* RPZ local data: the records of the query's type. */
START_TEST(override_rpz)
{
	static const uint8_t a1[4] = { 192, 0, 2, 7 };
	static const uint8_t a2[4] = { 192, 0, 2, 8 };
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7 };
	const struct feed_rr rrs[] = {
		{ T_A, 120, 4, a1 },
		{ T_AAAA, 130, 16, aaaa },
		{ T_A, 140, 4, a2 },
	};
	struct query		 q;
	struct policy_result	 r;
	uint8_t			 out[4096];
	struct pkt		 e;
	size_t			 n;
	ldns_pkt		*p;

	block_result(&r, RESP_OVERRIDE, "f");
	r.rrs = rrs;
	r.nrrs = 3;

	client_query(&q, "local.example.com", T_A, 1, 0, 1, 0);
	n = block(&q, &r, "local.example.com", out, sizeof(out));
	exp_head(&e, &q, 0, 2, 0, 1);
	exp_rr(&e, T_A, 120, a1, 4);
	exp_rr(&e, T_A, 140, a2, 4);
	exp_opt(&e, 0, 15, text_feed);
	expect_packet(out, n, &e);
	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 2);
	ck_assert_uint_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 1)),
	    140);
	ldns_pkt_free(p);

	client_query(&q, "local.example.com", T_AAAA, 1, 0, 0, 0);
	n = block(&q, &r, "local.example.com", out, sizeof(out));
	exp_head(&e, &q, 0, 1, 0, 0);
	exp_rr(&e, T_AAAA, 130, aaaa, 16);
	expect_packet(out, n, &e);

	client_query(&q, "local.example.com", T_ANY, 1, 0, 0, 0);
	n = block(&q, &r, "local.example.com", out, sizeof(out));
	exp_head(&e, &q, 0, 3, 0, 0);
	exp_rr(&e, T_A, 120, a1, 4);
	exp_rr(&e, T_AAAA, 130, aaaa, 16);
	exp_rr(&e, T_A, 140, a2, 4);
	expect_packet(out, n, &e);
	p = parse(out, n);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);

	client_query(&q, "local.example.com", T_MX, 1, 0, 0, 0);
	n = block(&q, &r, "local.example.com", out, sizeof(out));
	exp_head(&e, &q, 0, 0, 1, 0);
	exp_soa(&e, DNS_HDR_LEN, NULL, 45);
	expect_packet(out, n, &e);
}
END_TEST

/*
 * CNAME overrides: the target, and the chased answer
 */

static const uint8_t target_wire[] = "\x06target\x07" "example\x03net";

START_TEST(cname_target)
{
	struct policy_result	 r;
	struct config_override	 o;
	uint8_t			 t[DNS_MAX_NAME];
	size_t			 tlen = 0;
	uint32_t		 ttl = 0;
	static const uint8_t	 a1[4] = { 192, 0, 2, 7 };
	const struct feed_rr	 rrs[] = {
		{ T_CNAME, 90, sizeof(target_wire), target_wire },
	};
	const struct feed_rr	 arrs[] = { { T_A, 90, 4, a1 } };

	/* From configuration. */
	memset(&o, 0, sizeof(o));
	memcpy(o.cname, target_wire, sizeof(target_wire));
	o.cnamelen = sizeof(target_wire);
	o.ttl = 60;
	block_result(&r, RESP_OVERRIDE, NULL);
	r.override = &o;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 1);
	ck_assert_uint_eq(tlen, sizeof(target_wire));
	ck_assert_mem_eq(t, target_wire, tlen);
	ck_assert_uint_eq(ttl, 60);

	/* From RPZ data. */
	block_result(&r, RESP_OVERRIDE, "f");
	r.rrs = rrs;
	r.nrrs = 1;
	tlen = 0;
	ttl = 0;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 1);
	ck_assert_uint_eq(tlen, sizeof(target_wire));
	ck_assert_mem_eq(t, target_wire, tlen);
	ck_assert_uint_eq(ttl, 90);

	/* Not a CNAME override. */
	r.rrs = arrs;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 0);
	config_override(&o);
	block_result(&r, RESP_OVERRIDE, "f");
	r.override = &o;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 0);
	memcpy(o.cname, target_wire, sizeof(target_wire));
	o.cnamelen = sizeof(target_wire);
	o.na = o.naaaa = 0;
	r.response = RESP_NXDOMAIN;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 0);
	r.response = RESP_OVERRIDE;
	r.verdict = POLICY_ALLOW;
	ck_assert_int_eq(respond_cname_target(&r, t, &tlen, &ttl), 0);
}
END_TEST

/* An upstream reply to "target.example.net A", built with ldns. */
static uint8_t *
upstream(ldns_pkt_rcode rcode, const char *const *answer,
    const char *const *authority, size_t *len)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*wire = NULL;
	size_t		 i;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str("target.example.net."),
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_id(p, 0x1234);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, rcode);
	for (i = 0; answer != NULL && answer[i] != NULL; i++) {
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, answer[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (i = 0; authority != NULL && authority[i] != NULL; i++) {
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, authority[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static void
chase_query(struct query *q, int edns)
{
	client_query(q, "WwW.Example.COM", T_A, 1, 1, edns, 1);
	memcpy(q->chase_name, target_wire, sizeof(target_wire));
	q->chase_len = sizeof(target_wire);
	q->chase_ttl = 60;
	q->chase = 1;
	q->has_pres = 1;
	block_result(&q->pres, RESP_OVERRIDE, NULL);
	q->pres.reason = "feed";
	q->pres.feed = "f";
}

/* 1 if s is complete UTF-8 (no sequence cut short at the end). */
static int
utf8_complete(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 need;

	while (*p != '\0') {
		need = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		while (--need > 0)
			if ((*++p & 0xc0) != 0x80)
				return 0;
		p++;
	}
	return 1;
}

/* RFC 8914 wants UTF-8: a cut EDE text never ends inside a character. */
START_TEST(ede_text_utf8_cut)
{
	struct policy_result	 r;
	char			 buf[64];
	size_t			 sz;

	memset(&r, 0, sizeof(r));
	r.rule = "r\xc3\xa9gle-\xe2\x82\xac-\xf0\x9f\x94\x92-\xc3\xa9\xc3\xa9";
	r.group = "g";
	r.feed = "f";
	for (sz = 1; sz <= sizeof(buf); sz++) {
		respond_ede_text(&r, buf, sz);
		ck_assert_msg(utf8_complete(buf), "size %zu: '%s'", sz, buf);
		ck_assert(strncmp(buf, "blocked by rule 'r", strlen(buf) <
		    18 ? strlen(buf) : 18) == 0);
	}
	/* Uncut when it fits. */
	respond_ede_text(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "blocked by rule 'r\xc3\xa9gle-\xe2\x82\xac-"
	    "\xf0\x9f\x94\x92-\xc3\xa9\xc3\xa9' in group 'g' (feed 'f')");
}
END_TEST

START_TEST(chase_answer)
{
	static const char *const answer[] = {
		"target.example.net. 300 IN A 192.0.2.5",
		"target.example.net. 300 IN A 192.0.2.6",
		NULL
	};
	struct query	 q;
	uint8_t		*up, out[4096];
	size_t		 uplen, n;
	ldns_pkt	*p;
	ldns_rr		*rr;
	int		 edns;

	up = upstream(LDNS_RCODE_NOERROR, answer, NULL, &uplen);
	for (edns = 0; edns <= 1; edns++) {
		chase_query(&q, edns);
		n = respond_chase(&q, up, uplen, OUR_SIZE, out, sizeof(out));
		ck_assert_uint_gt(n, 0);
		/* The client's question, byte for byte, right after the header. */
		ck_assert_mem_eq(out + DNS_HDR_LEN, q.q.name, q.q.namelen);

		p = parse(out, n);
		check_flags(p, &q, LDNS_RCODE_NOERROR);
		check_question(p, &q);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 3);
		rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
		ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_CNAME);
		ck_assert_int_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		ck_assert_uint_eq(ldns_rr_ttl(rr), 60);
		/* The CNAME's owner is the client's name, case kept. */
		ck_assert_uint_eq(ldns_rdf_size(ldns_rr_owner(rr)),
		    q.q.namelen);
		ck_assert_mem_eq(ldns_rdf_data(ldns_rr_owner(rr)), q.q.name,
		    q.q.namelen);
		check_dname(ldns_rr_rdf(rr, 0), "target.example.net.");
		rr = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
		ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
		check_dname(ldns_rr_owner(rr), "target.example.net.");
		ck_assert_uint_eq(ldns_rr_ttl(rr), 300);
		ck_assert_mem_eq(ldns_rdf_data(ldns_rr_rdf(rr, 0)),
		    "\xc0\x00\x02\x05", 4);
		rr = ldns_rr_list_rr(ldns_pkt_answer(p), 2);
		ck_assert_mem_eq(ldns_rdf_data(ldns_rr_rdf(rr, 0)),
		    "\xc0\x00\x02\x06", 4);
		ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
		if (edns)
			check_ede(p, 1, 15, text_feed);
		else
			check_no_edns(p);
		ldns_pkt_free(p);
	}
	free(up);
}
END_TEST

START_TEST(chase_nxdomain)
{
	static const char *const auth[] = {
		"example.net. 900 IN SOA ns.example.net. host.example.net. "
		    "7 3600 600 86400 300",
		NULL
	};
	struct query	 q;
	uint8_t		*up, out[4096];
	size_t		 uplen, n;
	ldns_pkt	*p;
	ldns_rr		*rr;

	up = upstream(LDNS_RCODE_NXDOMAIN, NULL, auth, &uplen);
	chase_query(&q, 1);
	n = respond_chase(&q, up, uplen, OUR_SIZE, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	p = parse(out, n);
	check_flags(p, &q, LDNS_RCODE_NXDOMAIN);
	check_question(p, &q);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_CNAME);
	check_dname(ldns_rr_rdf(rr, 0), "target.example.net.");
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	check_dname(ldns_rr_owner(rr), "example.net.");
	check_ede(p, 1, 15, text_feed);
	ldns_pkt_free(p);
	free(up);

	/* Garbage from upstream: no answer. */
	chase_query(&q, 1);
	ck_assert_uint_eq(respond_chase(&q, (const uint8_t *)"\1\2\3", 3,
	    OUR_SIZE, out, sizeof(out)), 0);
}
END_TEST

/* A buffer too small for a policy answer: nothing is written past it. */
START_TEST(small_buffer)
{
	struct query		 q;
	struct policy_result	 r;
	uint8_t			*out;

	client_query(&q, "bad.example.com", T_A, 1, 0, 1, 0);
	block_result(&r, RESP_NXDOMAIN, "f");
	out = malloc(100);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(block(&q, &r, "bad.example.com", out, 100), 0);
	free(out);
}
END_TEST

/*
 * RPZ local data comes from a feed: its record count must not be trusted
 * with the output buffer.  250 A records (4,000 bytes of answer) into a
 * buffer of the smallest size respond_block() accepts: the answer must
 * stay inside it (cut, or refused with 0), never overflow.
 */
START_TEST(override_rpz_many_records)
{
	enum { NRRS = 250, OUTSZ = DNS_HDR_LEN + 4 * DNS_MAX_NAME + 2048 };
	static const uint8_t a1[4] = { 192, 0, 2, 7 };
	struct feed_rr		*rrs;
	struct query		 q;
	struct policy_result	 r;
	uint8_t			*out;
	size_t			 n, i;
	ldns_pkt		*p;

	rrs = calloc(NRRS, sizeof(*rrs));
	ck_assert_ptr_nonnull(rrs);
	for (i = 0; i < NRRS; i++) {
		rrs[i].type = T_A;
		rrs[i].ttl = 60;
		rrs[i].rdlen = 4;
		rrs[i].rdata = a1;
	}
	block_result(&r, RESP_OVERRIDE, "f");
	r.rrs = rrs;
	r.nrrs = NRRS;
	client_query(&q, "local.example.com", T_A, 1, 0, 1, 0);
	out = malloc(OUTSZ);		/* exact size: ASan sees overflows */
	ck_assert_ptr_nonnull(out);
	n = block(&q, &r, "local.example.com", out, OUTSZ);
	ck_assert_uint_le(n, OUTSZ);
	if (n > 0) {
		p = parse(out, n);
		ldns_pkt_free(p);
	}
	free(out);
	free(rrs);
}
END_TEST

/*
 * respond_splice: a CNAME hop into a zone, composed.
 */

/* A message: question name/type, then records "sec|rr" (sec a/n/x). */
static uint8_t *
msg(size_t *len, int rcode, const char *qname, const char *const *rrs)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*wire = NULL;
	size_t		 i;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ad(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rrs[i] + 2, 300,
		    NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, rrs[i][0] == 'a' ? LDNS_SECTION_ANSWER :
		    rrs[i][0] == 'n' ? LDNS_SECTION_AUTHORITY :
		    LDNS_SECTION_ADDITIONAL, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static size_t
dname(const char *text, uint8_t *out)
{
	ldns_rdf	*r = ldns_dname_new_frm_str(text);
	size_t		 n;

	ck_assert_ptr_nonnull(r);
	n = ldns_rdf_size(r);
	memcpy(out, ldns_rdf_data(r), n);
	ldns_rdf_deep_free(r);
	return n;
}

/* The i-th answer record of p as text, without the final newline. */
static char *
answer_str(ldns_pkt *p, ldns_pkt_section sec, size_t i)
{
	ldns_rr_list	*l = sec == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
			    ldns_pkt_authority(p);
	char		*s;

	ck_assert_uint_lt(i, ldns_rr_list_rr_count(l));
	s = ldns_rr2str(ldns_rr_list_rr(l, i));
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void
ck_rr(ldns_pkt *p, ldns_pkt_section sec, size_t i, const char *want)
{
	char	*s = answer_str(p, sec, i);

	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(splice_private_record)
{
	static const char *const prev_rrs[] = {
		"a|acct.example.test. 300 IN CNAME acct.privatelink.example.test.",
		"a|acct.privatelink.example.test. 60 IN A 192.0.2.77",
		"x|ns.example.test. 300 IN A 192.0.2.1",
		NULL };
	static const char *const hop_rrs[] = {
		"a|acct.privatelink.example.test. 10 IN A 10.0.0.5",
		NULL };
	uint8_t		*prev, *resp, *out, hop[256];
	size_t		 plen, rlen, olen, hlen;
	ldns_pkt	*p;

	prev = msg(&plen, LDNS_RCODE_NOERROR, "acct.example.test.", prev_rrs);
	resp = msg(&rlen, LDNS_RCODE_NOERROR, "acct.privatelink.example.test.",
	    hop_rrs);
	hlen = dname("ACCT.privatelink.example.test.", hop);
	ck_assert_int_eq(respond_splice(prev, plen, hop, hlen, resp, rlen,
	    &out, &olen), 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, olen), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_qr(p) && ldns_pkt_ra(p) && ldns_pkt_rd(p));
	ck_assert(!ldns_pkt_aa(p) && !ldns_pkt_ad(p));
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 2);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 0);
	ck_rr(p, LDNS_SECTION_ANSWER, 0, "acct.example.test.\t300\tIN\tCNAME"
	    "\tacct.privatelink.example.test.");
	ck_rr(p, LDNS_SECTION_ANSWER, 1, "acct.privatelink.example.test.\t10"
	    "\tIN\tA\t10.0.0.5");
	/* The question is uncompressed right after the header. */
	ck_assert_uint_eq(out[12], 4);
	ck_assert_mem_eq(out + 13, "acct", 4);
	ldns_pkt_free(p);
	free(out);
	free(prev);
	free(resp);
}
END_TEST

START_TEST(splice_long_chain_nxdomain)
{
	static const char *const prev_rrs[] = {
		"a|www.example.test. 300 IN CNAME a.example.test.",
		"a|a.example.test. 300 IN CNAME b.cdn.test.",
		"a|b.cdn.test. 300 IN CNAME x.privatelink.example.test.",
		"a|x.privatelink.example.test. 300 IN CNAME edge.cdn.test.",
		"a|edge.cdn.test. 300 IN A 192.0.2.9",
		NULL };
	static const char *const hop_rrs[] = {
		"n|privatelink.example.test. 300 IN SOA ns. h. 1 2 3 4 5",
		NULL };
	uint8_t		*prev, *resp, *out, hop[256];
	size_t		 plen, rlen, olen, hlen;
	ldns_pkt	*p;

	prev = msg(&plen, LDNS_RCODE_NOERROR, "www.example.test.", prev_rrs);
	resp = msg(&rlen, LDNS_RCODE_NXDOMAIN,
	    "x.privatelink.example.test.", hop_rrs);
	hlen = dname("x.privatelink.example.test.", hop);
	ck_assert_int_eq(respond_splice(prev, plen, hop, hlen, resp, rlen,
	    &out, &olen), 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, olen), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	/* The chain up to the hop, nothing the public view said after it. */
	ck_assert_uint_eq(ldns_pkt_ancount(p), 3);
	ck_rr(p, LDNS_SECTION_ANSWER, 2, "b.cdn.test.\t300\tIN\tCNAME\t"
	    "x.privatelink.example.test.");
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	ck_rr(p, LDNS_SECTION_AUTHORITY, 0, "privatelink.example.test.\t300"
	    "\tIN\tSOA\tns. h. 1 2 3 4 5");
	ldns_pkt_free(p);
	free(out);
	free(prev);
	free(resp);
}
END_TEST

START_TEST(splice_refused)
{
	static const char *const prev_rrs[] = {
		"a|acct.example.test. 300 IN CNAME other.example.test.",
		"a|other.example.test. 300 IN A 192.0.2.1",
		NULL };
	static const char *const loop_rrs[] = {
		"a|a.test. 300 IN CNAME b.test.",
		"a|b.test. 300 IN CNAME a.test.",
		NULL };
	uint8_t		*prev, *resp, *out = (uint8_t *)"x", hop[256];
	uint8_t		 junk[40];
	size_t		 plen, rlen, olen, hlen;

	prev = msg(&plen, LDNS_RCODE_NOERROR, "acct.example.test.", prev_rrs);
	resp = msg(&rlen, LDNS_RCODE_NOERROR, "x.test.", NULL);
	/* The chain does not reach the hop's name. */
	hlen = dname("x.test.", hop);
	ck_assert_int_eq(respond_splice(prev, plen, hop, hlen, resp, rlen,
	    &out, &olen), -1);
	ck_assert_ptr_null(out);
	/* Either message broken. */
	memset(junk, 0xff, sizeof(junk));
	hlen = dname("other.example.test.", hop);
	ck_assert_int_eq(respond_splice(junk, sizeof(junk), hop, hlen, resp,
	    rlen, &out, &olen), -1);
	ck_assert_int_eq(respond_splice(prev, plen, hop, hlen, junk,
	    sizeof(junk), &out, &olen), -1);
	ck_assert_int_eq(respond_splice(prev, 5, hop, hlen, resp, rlen, &out,
	    &olen), -1);
	free(prev);
	/* A CNAME loop ends (bounded), without reaching the hop. */
	prev = msg(&plen, LDNS_RCODE_NOERROR, "a.test.", loop_rrs);
	ck_assert_int_eq(respond_splice(prev, plen, hop, hlen, resp, rlen,
	    &out, &olen), -1);
	free(prev);
	free(resp);
}
END_TEST

static Suite *
respond_suite(void)
{
	Suite	*s = suite_create("respond");
	TCase	*tc;

	tc = tcase_create("negative");
	tcase_add_test(tc, nxdomain_edns);
	tcase_add_test(tc, nxdomain_no_edns);
	tcase_add_test(tc, soa_owner_uncompressed);
	tcase_add_test(tc, nodata);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, drop);
	tcase_add_test(tc, default_block);
	tcase_add_test(tc, ede_text);
	tcase_add_test(tc, small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("override");
	tcase_add_test(tc, override_config);
	tcase_add_test(tc, override_rpz);
	tcase_add_test(tc, override_rpz_many_records);
	tcase_add_test(tc, cname_target);
	tcase_add_test(tc, chase_answer);
	tcase_add_test(tc, chase_nxdomain);
	tcase_add_test(tc, ede_text_utf8_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("splice");
	tcase_add_test(tc, splice_private_record);
	tcase_add_test(tc, splice_long_chain_nxdomain);
	tcase_add_test(tc, splice_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(respond_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
