/*
 * check_query.c -- unit tests for the request stages (query_check), the
 * error replies (query_build_error), the rewrite of an upstream reply for
 * the client (query_rewrite) and the upstream side of forwarding
 * (fwd_build_query, fwd_accept).
 *
 * No sockets and no event loop: a fake worker with the default
 * configuration and policy is enough for all of these.  Client queries are
 * written byte by byte; upstream replies are built with ldns; every reply
 * we produce is parsed back with ldns_wire2pkt to prove it is well-formed.
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
#include "dlog.h"
#include "forward.h"
#include "policy.h"
#include "query.h"
#include "server.h"
#include "wire.h"

#define CLIENT_OK	"127.0.0.1"	/* in the default allow-clients */
#define CLIENT_OUT	"203.0.113.1"	/* not */
#define OUR_SIZE	1232		/* default edns-buffer-size */

#define FLAG_RD		0x0100
#define FLAG_CD		0x0010
#define FLAG_AD		0x0020
#define FLAG_QR		0x8000

/*
 * The fake worker
 */

static struct worker	*w;
static struct daemon	 d;
static struct config	 cfg;
static struct gen	 g;	/* never freed through gen_unref() */

static void
setup(void)
{
	w = calloc(1, sizeof(*w));
	ck_assert_ptr_nonnull(w);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(config_defaults(&cfg), 0);
	{
		char	 err[256];

		g.policy = policy_new(&cfg, 0, NULL, NULL, NULL, err,
		    sizeof(err));
	}
	ck_assert_ptr_nonnull(g.policy);
	g.cfg = &cfg;
	atomic_init(&g.refs, 1);
	atomic_init(&d.gen, &g);
	w->d = &d;
	w->gen = &g;
}

static void
teardown(void)
{
	policy_free(g.policy);
	config_release(&cfg);
	free(w);
	w = NULL;
}

static void
query_init(struct query *q, const char *client)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&q->client;

	memset(q, 0, sizeof(*q));
	q->w = w;
	q->gen = &g;
	q->fwd.last_up = -1;
	q->fwd.fd = -1;
	q->rcode = -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53000);
	ck_assert_int_eq(inet_pton(AF_INET, client, &sin->sin_addr), 1);
	q->clientlen = sizeof(*sin);
	q->transport = DLOG_UDP;
}

/*
 * Writing client queries
 */

struct pkt {
	uint8_t	 b[4096];
	size_t	 len;
};

static void
put(struct pkt *p, const void *data, size_t len)
{
	ck_assert_uint_le(p->len + len, sizeof(p->b));
	if (len == 0)
		return;
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

static void
hdr(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	p->len = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

static void
putname(struct pkt *p, const char *dotted)
{
	const char *s = dotted;

	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t	 l = dot != NULL ? (size_t)(dot - s) : strlen(s);

		put8(p, (uint8_t)l);
		put(p, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
}

static void
putq(struct pkt *p, const char *name, uint16_t type, uint16_t class)
{
	putname(p, name);
	put16(p, type);
	put16(p, class);
}

static void
putopt(struct pkt *p, uint16_t size, uint8_t ext, uint8_t ver, int dobit,
    const void *opts, uint16_t optlen)
{
	put8(p, 0);
	put16(p, DNS_TYPE_OPT);
	put16(p, size);
	put8(p, ext);
	put8(p, ver);
	put8(p, dobit ? 0x80 : 0);
	put8(p, 0);
	put16(p, optlen);
	put(p, opts, optlen);
}

/* The client's name, as it sends it (mixed case on purpose). */
#define QNAME		"WwW.ExAmple.COM"
#define QNAME_WIRE	"\3WwW\7ExAmple\3COM"
#define QNAME_LEN	17

/* A good query: id 0x1234, given flags, QNAME A IN, optional OPT. */
static void
good_query(struct pkt *p, uint16_t flags, int edns, uint16_t size, int dobit)
{
	hdr(p, 0x1234, flags, 1, 0, 0, edns ? 1 : 0);
	putq(p, QNAME, 1, DNS_CLASS_IN);
	if (edns)
		putopt(p, size, 0, 0, dobit, NULL, 0);
}

static enum query_stage
run(struct query *q, const char *client, const struct pkt *p,
    struct query_verdict *v)
{
	query_init(q, client);
	return query_check(q, p->b, p->len, v);
}

/*
 * query_check
 */

START_TEST(check_too_short)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 0, 0, 0);
	query_init(&q, CLIENT_OK);
	ck_assert_int_eq(query_check(&q, p.b, 11, &v), QUERY_DROP);
	ck_assert_str_eq(v.reason, "malformed");
	ck_assert_int_eq(v.action, DLOG_ACTION_NONE);
	query_init(&q, CLIENT_OK);
	ck_assert_int_eq(query_check(&q, p.b, 0, &v), QUERY_DROP);
	ck_assert_str_eq(v.reason, "malformed");
}
END_TEST

START_TEST(check_response)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_QR | FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_DROP);
	ck_assert_str_eq(v.reason, "response");
	/* Even from a client the ACL refuses: never answer a response. */
	ck_assert_int_eq(run(&q, CLIENT_OUT, &p, &v), QUERY_DROP);
	ck_assert_str_eq(v.reason, "response");
}
END_TEST

START_TEST(check_acl)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OUT, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_REFUSED);
	ck_assert_int_eq(v.ede, 18);
	ck_assert_int_eq(v.action, DLOG_ACTION_BLOCK);
	ck_assert_str_eq(v.reason, "acl");
	ck_assert_int_eq(q.has_question, 1);	/* for the reply and log */

	/* ACL comes before the opcode and the question checks. */
	hdr(&p, 1, 5 << 11, 0, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OUT, &p, &v), QUERY_REPLY);
	ck_assert_str_eq(v.reason, "acl");
}
END_TEST

START_TEST(check_opcode)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	const uint16_t		 opcodes[] = { 1, 2, 4, 5, 15 };
	size_t			 i;

	for (i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		good_query(&p, (uint16_t)(opcodes[i] << 11) | FLAG_RD, 0, 0, 0);
		ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
		ck_assert_int_eq(v.rcode, DNS_RCODE_NOTIMP);
		ck_assert_int_eq(v.ede, -1);
		ck_assert_int_eq(q.opcode, opcodes[i]);
	}
	/* UPDATE with zero "questions" (zone count 0) is still NOTIMP. */
	hdr(&p, 1, 5 << 11, 0, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_NOTIMP);
}
END_TEST

START_TEST(check_qdcount)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	hdr(&p, 1, FLAG_RD, 0, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 0);

	hdr(&p, 1, FLAG_RD, 2, 0, 0, 0);
	putq(&p, "a.example", 1, 1);
	putq(&p, "b.example", 1, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 0);
}
END_TEST

START_TEST(check_ancount)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	hdr(&p, 1, FLAG_RD, 1, 1, 0, 0);
	putq(&p, "a.example", 1, 1);
	putname(&p, "a.example");
	put16(&p, 1);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 4);
	put32(&p, 0xc0000201);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 1);

	/* NSCOUNT 1 likewise. */
	p.b[7] = 0;
	p.b[9] = 1;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
}
END_TEST

START_TEST(check_truncated_question)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	/* Cut in the class, in the type, in the name. */
	p.len -= 1;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 0);
	p.len -= 3;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	p.len -= 5;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 0);
	/* Only a header. */
	ck_assert_int_eq(run(&q, CLIENT_OK, &(struct pkt){ .len = 12,
	    .b = { 0, 1, 1, 0, 0, 1 } }, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
}
END_TEST

START_TEST(check_trailing)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 0, 0, 0);
	put8(&p, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_int_eq(q.has_question, 1);
	ck_assert_int_eq(q.edns.present, 0);

	good_query(&p, FLAG_RD, 1, 4096, 1);
	put16(&p, 0xdead);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	/* A message that does not parse: its OPT is not believed. */
	ck_assert_int_eq(q.edns.present, 0);

	/* ARCOUNT 1, no record. */
	good_query(&p, FLAG_RD, 0, 0, 0);
	p.b[11] = 1;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
}
END_TEST

START_TEST(check_two_opt)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 1, 4096, 0);
	putopt(&p, 4096, 0, 0, 0, NULL, 0);
	p.b[11] = 2;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	ck_assert_str_eq(v.reason, "formerr");
}
END_TEST

START_TEST(check_badvers)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	hdr(&p, 0x4242, FLAG_RD, 1, 0, 0, 1);
	putq(&p, QNAME, 1, 1);
	putopt(&p, 4096, 0, 1, 1, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_BADVERS);
	ck_assert_str_eq(v.reason, "badvers");
	ck_assert_int_eq(q.edns.present, 1);
	ck_assert_int_eq(q.edns.version, 1);
	ck_assert_uint_eq(q.udp_limit, OUR_SIZE);
}
END_TEST

START_TEST(check_qtype_class)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	hdr(&p, 1, 0, 1, 0, 0, 0);
	putq(&p, "example.com", DNS_TYPE_AXFR, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_REFUSED);
	ck_assert_str_eq(v.reason, "xfr");

	hdr(&p, 1, 0, 1, 0, 0, 0);
	putq(&p, "example.com", DNS_TYPE_IXFR, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_REFUSED);
	ck_assert_str_eq(v.reason, "xfr");

	hdr(&p, 1, FLAG_RD, 1, 0, 0, 0);
	putq(&p, "version.bind", 16, 3);		/* TXT CH */
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_REFUSED);
	ck_assert_str_eq(v.reason, "class");
	ck_assert_int_eq(v.ede, -1);

	hdr(&p, 1, FLAG_RD, 1, 0, 0, 0);
	putq(&p, "example.com", 1, 255);		/* class ANY */
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_str_eq(v.reason, "class");

	hdr(&p, 1, FLAG_RD, 1, 0, 0, 0);
	putq(&p, "example.com", DNS_TYPE_OPT, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
}
END_TEST

START_TEST(check_good)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD | FLAG_CD | FLAG_AD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	/* The policy's decision is kept in the query, for reply and log. */
	ck_assert_int_eq(q.has_pres, 1);
	ck_assert_int_eq(q.action, DLOG_ACTION_ALLOW);
	ck_assert_str_eq(q.reason, "default");
	ck_assert_ptr_null(q.pres.rule);
	ck_assert_int_eq(v.rcode, -1);
	ck_assert_int_eq(v.ede, -1);
	ck_assert_uint_eq(q.id, 0x1234);
	ck_assert_uint_eq(q.opcode, 0);
	ck_assert_uint_eq(q.rd, 1);
	ck_assert_uint_eq(q.cd, 1);
	ck_assert_uint_eq(q.ad, 1);
	ck_assert_int_eq(q.has_question, 1);
	ck_assert_uint_eq(q.q.namelen, QNAME_LEN);
	ck_assert_mem_eq(q.q.name, QNAME_WIRE, QNAME_LEN);	/* as sent */
	ck_assert_uint_eq(q.q.qtype, 1);
	ck_assert_uint_eq(q.q.qclass, 1);
	ck_assert_uint_eq(q.q.end, p.len);
	ck_assert_int_eq(q.edns.present, 0);
	ck_assert_uint_eq(q.udp_limit, 512);

	good_query(&p, 0, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.rd, 0);
	ck_assert_uint_eq(q.cd, 0);
	ck_assert_uint_eq(q.ad, 0);

	/* A name of exactly 255 bytes. */
	hdr(&p, 7, FLAG_RD, 1, 0, 0, 0);
	{
		int	 i;

		for (i = 0; i < 3; i++) {
			put8(&p, 63);
			put(&p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaaaa", 63);
		}
		put8(&p, 61);
		put(&p, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		    "bbbbbb", 61);
		put8(&p, 0);
	}
	put16(&p, 1);
	put16(&p, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.q.namelen, 255);
}
END_TEST

START_TEST(check_good_edns)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;

	good_query(&p, FLAG_RD, 1, 4096, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_int_eq(q.edns.present, 1);
	ck_assert_int_eq(q.edns.do_bit, 1);
	ck_assert_uint_eq(q.edns.udp_size, 4096);
	ck_assert_uint_eq(q.udp_limit, OUR_SIZE);

	good_query(&p, FLAG_RD, 1, 1000, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_int_eq(q.edns.do_bit, 0);
	ck_assert_uint_eq(q.udp_limit, 1000);

	good_query(&p, FLAG_RD, 1, OUR_SIZE, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.udp_limit, OUR_SIZE);

	good_query(&p, FLAG_RD, 1, 100, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.udp_limit, 512);

	good_query(&p, FLAG_RD, 1, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.udp_limit, 512);

	/* Our own size follows the configuration. */
	cfg.edns_buffer_size = 4096;
	good_query(&p, FLAG_RD, 1, 65535, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(q.udp_limit, 4096);
}
END_TEST

/*
 * query_build_error
 */

/* Build the error reply of the verdict and check it parses with ldns. */
static size_t
error_reply(const struct query *q, const struct query_verdict *v,
    uint8_t *out, size_t outsz, ldns_pkt **lp)
{
	size_t	 n;

	n = query_build_error(q, v->rcode, v->ede, OUR_SIZE, out, outsz);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ldns_wire2pkt(lp, out, n), LDNS_STATUS_OK);
	return n;
}

/* Header checks common to every error reply. */
static void
check_reply_header(const uint8_t *r, const struct query *q, int rcode)
{
	ck_assert_uint_eq(DNS_ID(r), q->id);
	ck_assert_uint_eq(DNS_QR(r), 1);
	ck_assert_uint_eq(DNS_OPCODE(r), q->opcode);
	ck_assert_uint_eq(DNS_AA(r), 0);
	ck_assert_uint_eq(DNS_TC(r), 0);
	ck_assert_uint_eq(DNS_RD(r), q->rd);
	ck_assert_uint_eq(DNS_RA(r), 1);
	ck_assert_uint_eq(DNS_AD(r), 0);
	ck_assert_uint_eq(DNS_CD(r), q->cd);
	ck_assert_uint_eq(r[3] & 0x40, 0);		/* Z */
	ck_assert_uint_eq(DNS_RCODE(r), (unsigned)rcode & 0xf);
	ck_assert_uint_eq(DNS_ANCOUNT(r), 0);
	ck_assert_uint_eq(DNS_NSCOUNT(r), 0);
}

/* The question is there (as the client wrote it) or not. */
static void
check_reply_question(const uint8_t *r, size_t n, const struct query *q,
    int present)
{
	if (!present) {
		ck_assert_uint_eq(DNS_QDCOUNT(r), 0);
		return;
	}
	ck_assert_uint_eq(DNS_QDCOUNT(r), 1);
	ck_assert_uint_ge(n, DNS_HDR_LEN + q->q.namelen + 4);
	ck_assert_mem_eq(r + DNS_HDR_LEN, q->q.name, q->q.namelen);
	ck_assert_uint_eq(wire_get16(r + DNS_HDR_LEN + q->q.namelen),
	    q->q.qtype);
	ck_assert_uint_eq(wire_get16(r + DNS_HDR_LEN + q->q.namelen + 2),
	    q->q.qclass);
}

/*
 * The OPT of reply r: absent, or with our size, ext_rcode, version 0, the
 * client's DO, and either no option or exactly one EDE with info ede.
 */
static void
check_reply_opt(const uint8_t *r, size_t n, const struct query *q,
    int present, uint8_t ext_rcode, int ede)
{
	struct wire_question	 rq;
	struct wire_edns	 e;
	size_t			 qend = DNS_HDR_LEN;

	if (DNS_QDCOUNT(r) == 1) {
		ck_assert_int_eq(wire_question(r, n, &rq), 0);
		qend = rq.end;
	}
	ck_assert_int_eq(wire_scan(r, n, qend, &e), 0);
	if (!present) {
		ck_assert_int_eq(e.present, 0);
		ck_assert_uint_eq(DNS_ARCOUNT(r), 0);
		return;
	}
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(DNS_ARCOUNT(r), 1);
	ck_assert_uint_eq(e.udp_size, OUR_SIZE);
	ck_assert_uint_eq(e.ext_rcode, ext_rcode);
	ck_assert_uint_eq(e.version, 0);
	ck_assert_int_eq(e.do_bit, q->edns.do_bit);
	ck_assert_uint_eq(r[e.rr_start + 8], 0);	/* rest of the flags */
	ck_assert_uint_eq(r[e.rr_start + 7] & 0x7f, 0);
	if (ede < 0) {
		ck_assert_uint_eq(e.opt_len, 0);
		return;
	}
	ck_assert_uint_eq(e.opt_len, 6);
	ck_assert_uint_eq(wire_get16(r + e.opt_start), EDNS_OPT_EDE);
	ck_assert_uint_eq(wire_get16(r + e.opt_start + 2), 2);
	ck_assert_uint_eq(wire_get16(r + e.opt_start + 4), (uint16_t)ede);
}

START_TEST(error_acl)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	good_query(&p, FLAG_RD | FLAG_CD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OUT, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_REFUSED);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 0, 0, -1);	/* no EDNS, no EDE */
	ck_assert_uint_eq(n, DNS_HDR_LEN + QNAME_LEN + 4);
	ck_assert_int_eq(ldns_pkt_get_rcode(lp), LDNS_RCODE_REFUSED);
	ck_assert_int_eq(ldns_pkt_qdcount(lp), 1);
	ldns_pkt_free(lp);
}
END_TEST

/*
 * A refused client that sent EDNS gets the OPT with EDE 18 (Prohibited)
 * the ACL stage asks for: RFC 6891 section 7 wants an OPT in the reply
 * whenever the request had one.
 */
START_TEST(error_acl_edns)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	good_query(&p, FLAG_RD, 1, 4096, 1);
	ck_assert_int_eq(run(&q, CLIENT_OUT, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.ede, 18);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_REFUSED);
	check_reply_question(out, n, &q, 1);
	ldns_pkt_free(lp);
	check_reply_opt(out, n, &q, 1, 0, 18);
}
END_TEST

START_TEST(error_notimp)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	good_query(&p, (5 << 11) | FLAG_RD | FLAG_CD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_NOTIMP);
	ck_assert_uint_eq(DNS_OPCODE(out), 5);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 0, 0, -1);
	ck_assert_int_eq(ldns_pkt_get_opcode(lp), LDNS_PACKET_UPDATE);
	ck_assert_int_eq(ldns_pkt_get_rcode(lp), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(lp);

	good_query(&p, 2 << 11, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_NOTIMP);
	ck_assert_uint_eq(DNS_OPCODE(out), 2);
	ldns_pkt_free(lp);
}
END_TEST

/* NOTIMP to a client that sent EDNS must carry an OPT (RFC 6891 7). */
START_TEST(error_notimp_edns)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	good_query(&p, (4 << 11), 1, 4096, 1);	/* NOTIFY with EDNS */
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_NOTIMP);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	ldns_pkt_free(lp);
	check_reply_header(out, &q, DNS_RCODE_NOTIMP);
	check_reply_opt(out, n, &q, 1, 0, -1);
}
END_TEST

START_TEST(error_formerr)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	/* QDCOUNT 0: no question to echo. */
	hdr(&p, 0x5555, FLAG_RD, 0, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 0);
	ck_assert_uint_eq(n, DNS_HDR_LEN);
	ck_assert_uint_eq(DNS_ID(out), 0x5555);
	ldns_pkt_free(lp);

	/* QDCOUNT 2: none either. */
	hdr(&p, 0x5556, 0, 2, 0, 0, 0);
	putq(&p, "a.example", 1, 1);
	putq(&p, "b.example", 1, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 0);
	ldns_pkt_free(lp);

	/* Truncated question. */
	good_query(&p, FLAG_RD, 0, 0, 0);
	p.len -= 2;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 0);
	ldns_pkt_free(lp);

	/* Trailing bytes: the question parsed, so it is echoed. */
	good_query(&p, FLAG_RD | FLAG_CD, 0, 0, 0);
	put8(&p, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 0, 0, -1);
	ldns_pkt_free(lp);

	/* Two OPT: a malformed OPT section, not answered with an OPT. */
	good_query(&p, FLAG_RD, 1, 4096, 1);
	putopt(&p, 4096, 0, 0, 0, NULL, 0);
	p.b[11] = 2;
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 0, 0, -1);
	ldns_pkt_free(lp);

	/* qtype OPT with EDNS: the OPT is answered. */
	hdr(&p, 9, FLAG_RD, 1, 0, 0, 1);
	putq(&p, "example.com", DNS_TYPE_OPT, 1);
	putopt(&p, 1400, 0, 0, 1, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 0, -1);
	ldns_pkt_free(lp);
}
END_TEST

/*
 * FORMERR for a well-formed message with a wrong count (ANCOUNT 1): the
 * request parses and has an OPT, so the reply should carry one.
 */
START_TEST(error_formerr_count_edns)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	hdr(&p, 0x77, FLAG_RD, 1, 1, 0, 1);
	putq(&p, "a.example", 1, 1);
	putname(&p, "a.example");
	put16(&p, 1);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 4);
	put32(&p, 0xc0000201);
	putopt(&p, 4096, 0, 0, 1, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_FORMERR);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	ldns_pkt_free(lp);
	check_reply_header(out, &q, DNS_RCODE_FORMERR);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 0, -1);
}
END_TEST

START_TEST(error_badvers)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	hdr(&p, 0x4242, FLAG_RD, 1, 0, 0, 1);
	putq(&p, QNAME, 1, 1);
	putopt(&p, 4096, 0, 1, 1, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	/* 16 = ext-rcode 1 in the OPT, 0 in the header. */
	check_reply_header(out, &q, 0);
	ck_assert_uint_eq(DNS_RCODE(out), 0);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 1, -1);
	ck_assert_int_eq(ldns_pkt_edns(lp), 1);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(lp), 1);
	ck_assert_uint_eq(ldns_pkt_edns_version(lp), 0);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(lp), OUR_SIZE);
	ldns_pkt_free(lp);

	/* DO clear is echoed clear. */
	hdr(&p, 0x4243, 0, 1, 0, 0, 1);
	putq(&p, QNAME, 1, 1);
	putopt(&p, 512, 0, 7, 0, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	ck_assert_int_eq(v.rcode, DNS_RCODE_BADVERS);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_opt(out, n, &q, 1, 1, -1);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 0);
	ldns_pkt_free(lp);
}
END_TEST

START_TEST(error_refused_edns)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	/* AXFR with EDNS (DO clear): REFUSED, OPT without options. */
	hdr(&p, 0x1111, 0, 1, 0, 0, 1);
	putq(&p, "Example.COM", DNS_TYPE_AXFR, 1);
	putopt(&p, 4096, 0, 0, 0, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_REFUSED);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 0, -1);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 0);
	ldns_pkt_free(lp);

	/* CH class with EDNS and DO. */
	hdr(&p, 0x1112, FLAG_RD | FLAG_CD, 1, 0, 0, 1);
	putq(&p, "version.bind", 16, 3);
	putopt(&p, 1232, 0, 0, 1, NULL, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_REPLY);
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_REFUSED);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 0, -1);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 1);
	ldns_pkt_free(lp);
}
END_TEST

START_TEST(error_ede)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n;

	/* A policy block / upstream failure on a good EDNS query. */
	good_query(&p, FLAG_RD, 1, 4096, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	v.rcode = DNS_RCODE_SERVFAIL;
	v.ede = 22;
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_header(out, &q, DNS_RCODE_SERVFAIL);
	check_reply_question(out, n, &q, 1);
	check_reply_opt(out, n, &q, 1, 0, 22);
	ck_assert_uint_eq(n, DNS_HDR_LEN + QNAME_LEN + 4 + 11 + 6);
	ldns_pkt_free(lp);

	v.rcode = DNS_RCODE_REFUSED;
	v.ede = 15;
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_opt(out, n, &q, 1, 0, 15);
	ldns_pkt_free(lp);

	/* Without EDNS the EDE has nowhere to go. */
	good_query(&p, FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	v.rcode = DNS_RCODE_SERVFAIL;
	v.ede = 22;
	n = error_reply(&q, &v, out, sizeof(out), &lp);
	check_reply_opt(out, n, &q, 0, 0, -1);
	ck_assert_uint_eq(n, DNS_HDR_LEN + QNAME_LEN + 4);
	ldns_pkt_free(lp);
}
END_TEST

START_TEST(error_small_buffer)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	uint8_t			 out[DNS_MAX_UDP];

	good_query(&p, FLAG_RD, 1, 4096, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	ck_assert_uint_eq(query_build_error(&q, 2, 22, OUR_SIZE, out, 100), 0);
	ck_assert_uint_eq(query_build_error(&q, 2, 22, OUR_SIZE, out,
	    DNS_HDR_LEN), 0);
	ck_assert_uint_eq(query_build_error(&q, 2, 22, OUR_SIZE, out, 0), 0);
}
END_TEST

/*
 * Upstream replies, built with ldns
 */

struct up {
	uint16_t	 id;
	const char	*qname;
	uint16_t	 qtype, qclass;
	int		 noqr, aa, ad, rd, cd, tc;
	uint8_t		 rcode;
	int		 opcode;
	int		 answers;	/* A records for qname */
	int		 authority;	/* add an SOA */
	int		 extra;		/* add a glue A in additional */
	int		 edns;
	uint16_t	 udp;
	int		 dobit;
	uint8_t		 ext_rcode;
	const uint8_t	*opts;
	size_t		 optlen;
};

static ldns_rr *
rr(const char *text)
{
	ldns_rr	*r = NULL;

	ck_assert_int_eq(ldns_rr_new_frm_str(&r, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	return r;
}

/* The upstream reply u in wire form; caller frees. */
static uint8_t *
up_wire(const struct up *u, size_t *len)
{
	ldns_pkt	*p = ldns_pkt_new();
	ldns_rr		*q;
	uint8_t		*wire = NULL;
	char		 text[512];
	int		 i;

	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_id(p, u->id);
	ldns_pkt_set_qr(p, !u->noqr);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)u->opcode);
	ldns_pkt_set_aa(p, u->aa);
	ldns_pkt_set_tc(p, u->tc);
	ldns_pkt_set_rd(p, u->rd);
	ldns_pkt_set_cd(p, u->cd);
	ldns_pkt_set_ra(p, 1);
	ldns_pkt_set_ad(p, u->ad);
	ldns_pkt_set_rcode(p, u->rcode);

	q = ldns_rr_new();
	ck_assert_ptr_nonnull(q);
	ldns_rr_set_question(q, true);
	ldns_rr_set_owner(q, ldns_dname_new_frm_str(u->qname));
	ldns_rr_set_type(q, (ldns_rr_type)(u->qtype ? u->qtype : 1));
	ldns_rr_set_class(q, (ldns_rr_class)(u->qclass ? u->qclass : 1));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q));
	for (i = 0; i < u->answers; i++) {
		snprintf(text, sizeof(text), "%s 300 IN A 192.0.2.%d",
		    u->qname, i + 1);
		ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr(text)));
	}
	if (u->authority)
		ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
		    rr("example.com. 60 IN SOA ns.example.com. "
		    "hostmaster.example.com. 1 7200 3600 1209600 60")));
	if (u->extra)
		ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL,
		    rr("ns.example.com. 300 IN A 192.0.2.53")));
	if (u->edns) {
		ldns_pkt_set_edns_udp_size(p, u->udp);
		ldns_pkt_set_edns_do(p, u->dobit);
		ldns_pkt_set_edns_extended_rcode(p, u->ext_rcode);
		if (u->optlen > 0)
			ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_data(
			    LDNS_RDF_TYPE_UNKNOWN, u->optlen, u->opts));
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

/* A resolved client query in q (via query_check). */
static void
client(struct query *q, uint16_t flags, int edns, uint16_t size, int dobit)
{
	struct pkt		 p;
	struct query_verdict	 v;

	good_query(&p, flags, edns, size, dobit);
	ck_assert_int_eq(run(q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	fwd_build_query(q, 0xbeef, OUR_SIZE);
	q->fwd.id = 0xbeef;
}

/*
 * Rewrite resp (which must pass fwd_accept) for q into out; the result,
 * if any, must parse with ldns.  Returns its length.
 */
static size_t
rewrite(const struct query *q, const uint8_t *resp, size_t len,
    uint8_t *out, size_t outsz, ldns_pkt **lp)
{
	struct wire_edns	 e;
	size_t			 n;

	ck_assert_int_eq(fwd_accept(q, resp, len, &e), 1);
	n = query_rewrite(q, resp, len, &e, OUR_SIZE, out, outsz);
	if (n > 0 && lp != NULL)
		ck_assert_int_eq(ldns_wire2pkt(lp, out, n), LDNS_STATUS_OK);
	return n;
}

/* The OPT of a rewritten reply (present or not). */
static void
out_edns(const uint8_t *r, size_t n, struct wire_edns *e)
{
	struct wire_question	 rq;

	ck_assert_int_eq(wire_question(r, n, &rq), 0);
	ck_assert_int_eq(wire_scan(r, n, rq.end, e), 0);
}

START_TEST(rewrite_basic)
{
	struct query	 q;
	struct up	 u = { .id = 0xbeef, .qname = "www.example.com.",
			    .aa = 1, .rd = 1, .answers = 2 };
	uint8_t		*resp, out[DNS_MAX_UDP];
	size_t		 len, n;
	ldns_pkt	*lp = NULL;
	ldns_rr_list	*an;
	ldns_rdf	*want;

	client(&q, FLAG_RD | FLAG_CD, 0, 0, 0);
	resp = up_wire(&u, &len);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(DNS_ID(out), 0x1234);
	ck_assert_uint_eq(DNS_QR(out), 1);
	ck_assert_uint_eq(DNS_OPCODE(out), 0);
	ck_assert_uint_eq(DNS_AA(out), 0);
	ck_assert_uint_eq(DNS_TC(out), 0);
	ck_assert_uint_eq(DNS_RD(out), 1);
	ck_assert_uint_eq(DNS_RA(out), 1);
	ck_assert_uint_eq(DNS_CD(out), 1);
	ck_assert_uint_eq(DNS_RCODE(out), 0);
	ck_assert_uint_eq(DNS_QDCOUNT(out), 1);
	ck_assert_uint_eq(DNS_ANCOUNT(out), 2);
	ck_assert_uint_eq(DNS_NSCOUNT(out), 0);
	ck_assert_uint_eq(DNS_ARCOUNT(out), 0);
	/* The client's spelling of the name, not the upstream's. */
	ck_assert_mem_eq(out + DNS_HDR_LEN, QNAME_WIRE, QNAME_LEN);
	ck_assert_uint_eq(n, len);	/* same size: nothing added, nothing lost */

	an = ldns_pkt_answer(lp);
	ck_assert_uint_eq(ldns_rr_list_rr_count(an), 2);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(an, 0)),
	    LDNS_RR_TYPE_A);
	want = ldns_dname_new_frm_str("www.example.com.");
	ck_assert_int_eq(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(an,
	    1)), want), 0);
	ldns_rdf_deep_free(want);
	ldns_pkt_free(lp);
	free(resp);

	/* Client without RD/CD, upstream with them: the client's flags. */
	client(&q, 0, 0, 0, 0);
	u.rd = 1;
	u.cd = 1;
	u.rcode = LDNS_RCODE_NXDOMAIN;
	u.answers = 0;
	u.authority = 1;
	resp = up_wire(&u, &len);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(DNS_RD(out), 0);
	ck_assert_uint_eq(DNS_CD(out), 0);
	ck_assert_uint_eq(DNS_RA(out), 1);
	ck_assert_uint_eq(DNS_RCODE(out), DNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(DNS_NSCOUNT(out), 1);
	ck_assert_int_eq(ldns_pkt_get_rcode(lp), LDNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_authority(lp), 0)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(lp);
	free(resp);
}
END_TEST

START_TEST(rewrite_ad)
{
	static const struct {
		uint16_t	 flags;		/* client header flags */
		int		 edns, dobit, up_ad, want;
	} t[] = {
		{ FLAG_RD,		0, 0, 1, 0 },	/* plain: AD cleared */
		{ FLAG_RD,		1, 0, 1, 0 },	/* EDNS, no DO */
		{ FLAG_RD,		1, 1, 1, 1 },	/* DO */
		{ FLAG_RD | FLAG_AD,	0, 0, 1, 1 },	/* AD asked */
		{ FLAG_RD | FLAG_AD,	1, 1, 0, 0 },	/* upstream said no */
		{ FLAG_RD,		1, 1, 0, 0 },
	};
	struct query	 q;
	struct up	 u = { .id = 0xbeef, .qname = "www.example.com.",
			    .answers = 1 };
	uint8_t		*resp, out[DNS_MAX_UDP];
	size_t		 i, len, n;
	ldns_pkt	*lp;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		client(&q, t[i].flags, t[i].edns, 4096, t[i].dobit);
		u.ad = t[i].up_ad;
		resp = up_wire(&u, &len);
		lp = NULL;
		n = rewrite(&q, resp, len, out, sizeof(out), &lp);
		ck_assert_msg(n > 0, "case %zu", i);
		ck_assert_msg(DNS_AD(out) == t[i].want, "case %zu: AD %d", i,
		    DNS_AD(out));
		ldns_pkt_free(lp);
		free(resp);
	}
}
END_TEST

/* NSID (3, "ns1"), EDE (15, 6 Bogus + "x"), cookie (10, 8 bytes). */
static const uint8_t UP_OPTS[] = {
	0, 3, 0, 3, 'n', 's', '1',
	0, 15, 0, 3, 0, 6, 'x',
	0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	0, 15, 0, 2, 0, 22,
};
#define UP_EDE1		(UP_OPTS + 7)
#define UP_EDE1_LEN	7
#define UP_EDE2		(UP_OPTS + 7 + 7 + 12)
#define UP_EDE2_LEN	6

START_TEST(rewrite_strip_opt)
{
	struct query		 q;
	struct up		 u = { .id = 0xbeef,
				    .qname = "www.example.com.", .answers = 1,
				    .extra = 1, .edns = 1, .udp = 4096,
				    .dobit = 1, .opts = UP_OPTS,
				    .optlen = sizeof(UP_OPTS) };
	struct wire_edns	 e;
	uint8_t			*resp, out[DNS_MAX_UDP];
	size_t			 len, n;
	ldns_pkt		*lp = NULL;
	ldns_rr_list		*ar;

	/* Client without EDNS: OPT gone, the glue stays. */
	client(&q, FLAG_RD, 0, 0, 0);
	resp = up_wire(&u, &len);
	ck_assert_uint_eq(DNS_ARCOUNT(resp), 2);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(DNS_ARCOUNT(out), 1);
	out_edns(out, n, &e);
	ck_assert_int_eq(e.present, 0);
	ck_assert_int_eq(ldns_pkt_edns(lp), 0);
	ar = ldns_pkt_additional(lp);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ar), 1);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ar, 0)),
	    LDNS_RR_TYPE_A);
	ck_assert_uint_eq(n, len - 11 - sizeof(UP_OPTS));
	ldns_pkt_free(lp);
	free(resp);
}
END_TEST

START_TEST(rewrite_own_opt)
{
	struct query		 q;
	struct up		 u = { .id = 0xbeef,
				    .qname = "www.example.com.", .answers = 1,
				    .extra = 1, .edns = 1, .udp = 4096,
				    .dobit = 0, .opts = UP_OPTS,
				    .optlen = sizeof(UP_OPTS) };
	struct wire_edns	 e;
	uint8_t			*resp, out[DNS_MAX_UDP];
	size_t			 len, n;
	ldns_pkt		*lp = NULL;

	/* Client with EDNS and DO: our size, its DO, EDE options only. */
	client(&q, FLAG_RD, 1, 4096, 1);
	resp = up_wire(&u, &len);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(DNS_ARCOUNT(out), 2);
	out_edns(out, n, &e);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.udp_size, OUR_SIZE);
	ck_assert_int_eq(e.do_bit, 1);
	ck_assert_uint_eq(e.version, 0);
	ck_assert_uint_eq(e.ext_rcode, 0);
	ck_assert_uint_eq(e.rr_end, n);
	ck_assert_uint_eq(e.opt_len, UP_EDE1_LEN + UP_EDE2_LEN);
	ck_assert_mem_eq(out + e.opt_start, UP_EDE1, UP_EDE1_LEN);
	ck_assert_mem_eq(out + e.opt_start + UP_EDE1_LEN, UP_EDE2,
	    UP_EDE2_LEN);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(lp), OUR_SIZE);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_additional(lp)), 1);
	ldns_pkt_free(lp);
	free(resp);

	/* Client EDNS without DO, upstream with DO: DO clear. */
	u.dobit = 1;
	client(&q, FLAG_RD, 1, 1232, 0);
	resp = up_wire(&u, &len);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	out_edns(out, n, &e);
	ck_assert_int_eq(e.present, 1);
	ck_assert_int_eq(e.do_bit, 0);
	ldns_pkt_free(lp);
	free(resp);

	/* Upstream without OPT: ours is added. */
	u.edns = 0;
	u.extra = 0;
	client(&q, FLAG_RD, 1, 4096, 1);
	resp = up_wire(&u, &len);
	ck_assert_uint_eq(DNS_ARCOUNT(resp), 0);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_eq(n, len + 11);
	ck_assert_uint_eq(DNS_ARCOUNT(out), 1);
	out_edns(out, n, &e);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.udp_size, OUR_SIZE);
	ck_assert_int_eq(e.do_bit, 1);
	ck_assert_uint_eq(e.opt_len, 0);
	ldns_pkt_free(lp);
	free(resp);
}
END_TEST

START_TEST(rewrite_opt_not_last)
{
	struct query		 q;
	struct pkt		 p;
	struct wire_edns	 e;
	uint8_t			 out[DNS_MAX_UDP];

	client(&q, FLAG_RD, 1, 4096, 0);
	hdr(&p, 0xbeef, 0x8180, 1, 1, 0, 2);
	putq(&p, "www.example.com", 1, 1);
	put(&p, "\xc0\x0c\0\1\0\1\0\0\1\0\0\4\xc0\0\2\1", 16);
	putopt(&p, 4096, 0, 0, 0, NULL, 0);
	put(&p, "\xc0\x0c\0\1\0\1\0\0\1\0\0\4\xc0\0\2\2", 16);
	ck_assert_int_eq(fwd_accept(&q, p.b, p.len, &e), 1);
	ck_assert_uint_eq(query_rewrite(&q, p.b, p.len, &e, OUR_SIZE, out,
	    sizeof(out)), 0);

	/* The same for a client without EDNS. */
	client(&q, FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(fwd_accept(&q, p.b, p.len, &e), 1);
	ck_assert_uint_eq(query_rewrite(&q, p.b, p.len, &e, OUR_SIZE, out,
	    sizeof(out)), 0);
}
END_TEST

START_TEST(rewrite_ext_rcode)
{
	struct query		 q;
	struct up		 u = { .id = 0xbeef,
				    .qname = "www.example.com.", .edns = 1,
				    .udp = 1232, .rcode = 7, .ext_rcode = 1 };
	struct wire_edns	 e;
	uint8_t			*resp, out[DNS_MAX_UDP];
	size_t			 len, n;
	ldns_pkt		*lp = NULL;

	/* BADCOOKIE (23) cannot be told to a client without EDNS. */
	client(&q, FLAG_RD, 0, 0, 0);
	resp = up_wire(&u, &len);
	ck_assert_uint_eq(rewrite(&q, resp, len, out, sizeof(out), NULL), 0);

	/* With EDNS: 7 in the header, 1 in the OPT. */
	client(&q, FLAG_RD, 1, 4096, 0);
	n = rewrite(&q, resp, len, out, sizeof(out), &lp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(DNS_RCODE(out), 7);
	out_edns(out, n, &e);
	ck_assert_uint_eq(e.ext_rcode, 1);
	ldns_pkt_free(lp);
	free(resp);
}
END_TEST

START_TEST(rewrite_small_buffer)
{
	struct query	 q;
	struct up	 u = { .id = 0xbeef, .qname = "www.example.com.",
			    .answers = 30 };
	uint8_t		*resp, out[DNS_MAX_UDP];
	size_t		 len;

	client(&q, FLAG_RD, 1, 4096, 0);
	resp = up_wire(&u, &len);
	ck_assert_uint_gt(len, 300);
	ck_assert_uint_eq(rewrite(&q, resp, len, out, 300, NULL), 0);
	ck_assert_uint_eq(rewrite(&q, resp, len, out, len, NULL), 0);
	ck_assert_uint_eq(rewrite(&q, resp, len, out, len + 11, NULL),
	    len + 11);
	free(resp);
}
END_TEST

/*
 * An upstream that compresses its question name (legal, if odd: a pointer
 * into the header bytes 00 01 of QDCOUNT spells the root) shifts every
 * offset after the question when we write the question uncompressed; the
 * records copied behind it then hold pointers to the wrong bytes.  The
 * rewrite must give a well-formed reply or refuse (0).
 */
START_TEST(rewrite_compressed_question)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p, r;
	struct wire_edns	 e;
	uint8_t			 out[DNS_MAX_UDP];
	ldns_pkt		*lp = NULL;
	size_t			 n, label;

	/* Client asks ". NS". */
	hdr(&p, 0x1234, FLAG_RD, 1, 0, 0, 0);
	putq(&p, "", 2, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	q.fwd.id = 0xbeef;

	hdr(&r, 0xbeef, 0x8180, 1, 2, 0, 0);
	put(&r, "\xc0\x04\0\2\0\1", 6);		/* question: ptr to 4 */
	put(&r, "\xc0\x0c\0\2\0\1\0\0\0\x3c\0\x14", 12);
	label = r.len + 2;			/* "root-servers" label */
	putname(&r, "a.root-servers.net");
	put(&r, "\xc0\x0c\0\2\0\1\0\0\0\x3c\0\x04", 12);
	put(&r, "\1b", 2);
	put16(&r, (uint16_t)(0xc000 | label));
	ck_assert_int_eq(ldns_wire2pkt(&lp, r.b, r.len), LDNS_STATUS_OK);
	ldns_pkt_free(lp);
	lp = NULL;

	ck_assert_int_eq(fwd_accept(&q, r.b, r.len, &e), 1);
	n = query_rewrite(&q, r.b, r.len, &e, OUR_SIZE, out, sizeof(out));
	if (n == 0)
		return;
	ck_assert_int_eq(ldns_wire2pkt(&lp, out, n), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(lp)), 2);
	ldns_pkt_free(lp);
}
END_TEST

/*
 * fwd_build_query
 */

START_TEST(build_query)
{
	struct query	 q;
	uint8_t		*pk;
	ldns_pkt	*lp = NULL;
	size_t		 qn;

	client(&q, FLAG_RD | FLAG_CD | FLAG_AD, 1, 4096, 1);
	fwd_build_query(&q, 0xabcd, OUR_SIZE);
	pk = q.fwd.pkt;
	ck_assert_uint_eq(q.fwd.pktlen, DNS_HDR_LEN + QNAME_LEN + 4 + 11);
	ck_assert_uint_eq(DNS_ID(pk), 0xabcd);
	ck_assert_uint_eq(DNS_QR(pk), 0);
	ck_assert_uint_eq(DNS_OPCODE(pk), 0);
	ck_assert_uint_eq(DNS_AA(pk), 0);
	ck_assert_uint_eq(DNS_TC(pk), 0);
	ck_assert_uint_eq(DNS_RD(pk), 1);
	ck_assert_uint_eq(DNS_RA(pk), 0);
	ck_assert_uint_eq(DNS_CD(pk), 1);
	ck_assert_uint_eq(DNS_RCODE(pk), 0);
	ck_assert_uint_eq(DNS_QDCOUNT(pk), 1);
	ck_assert_uint_eq(DNS_ANCOUNT(pk), 0);
	ck_assert_uint_eq(DNS_NSCOUNT(pk), 0);
	ck_assert_uint_eq(DNS_ARCOUNT(pk), 1);
	ck_assert_mem_eq(pk + DNS_HDR_LEN, QNAME_WIRE, QNAME_LEN);
	qn = DNS_HDR_LEN + QNAME_LEN;
	ck_assert_uint_eq(wire_get16(pk + qn), 1);
	ck_assert_uint_eq(wire_get16(pk + qn + 2), 1);
	ck_assert_mem_eq(pk + qn + 4, "\0\0\x29\x04\xd0\0\0\x80\0\0\0", 11);

	ck_assert_int_eq(ldns_wire2pkt(&lp, pk, q.fwd.pktlen), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(lp), 0xabcd);
	ck_assert_int_eq(ldns_pkt_edns(lp), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(lp), OUR_SIZE);
	ck_assert_int_eq(ldns_pkt_edns_do(lp), 1);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_question(lp)), 1);
	ldns_pkt_free(lp);

	/* No RD, no CD, no EDNS from the client: still EDNS upstream. */
	client(&q, 0, 0, 0, 0);
	fwd_build_query(&q, 0x0001, 4096);
	pk = q.fwd.pkt;
	ck_assert_uint_eq(DNS_ID(pk), 1);
	ck_assert_uint_eq(pk[2], 0);
	/* AD is always asked for (RFC 6840 5.7), so cached answers keep it. */
	ck_assert_uint_eq(pk[3], 0x20);
	ck_assert_uint_eq(DNS_ARCOUNT(pk), 1);
	ck_assert_mem_eq(pk + qn + 4, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
}
END_TEST

START_TEST(build_query_longest)
{
	struct query		 q;
	struct query_verdict	 v;
	struct pkt		 p;
	int			 i;

	hdr(&p, 7, FLAG_RD, 1, 0, 0, 0);
	for (i = 0; i < 3; i++) {
		put8(&p, 63);
		put(&p, "ccccccccccccccccccccccccccccccccccccccccccccccc"
		    "cccccccccccccccc", 63);
	}
	put8(&p, 61);
	put(&p, "ddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	    "dddddd", 61);
	put8(&p, 0);
	put16(&p, 16);
	put16(&p, 1);
	ck_assert_int_eq(run(&q, CLIENT_OK, &p, &v), QUERY_RESOLVE);
	fwd_build_query(&q, 2, OUR_SIZE);
	ck_assert_uint_eq(q.fwd.pktlen, FWD_QUERY_MAX);
	ck_assert_mem_eq(q.fwd.pkt + DNS_HDR_LEN, p.b + DNS_HDR_LEN, 255 + 4);
}
END_TEST

/*
 * fwd_accept
 */

START_TEST(accept_good)
{
	struct query		 q;
	struct up		 u = { .id = 0xbeef,
				    .qname = "WWW.EXAMPLE.com.", .answers = 1,
				    .edns = 1, .udp = 4096, .dobit = 1 };
	struct wire_edns	 e;
	uint8_t			*resp;
	size_t			 len;

	client(&q, FLAG_RD, 1, 4096, 1);
	resp = up_wire(&u, &len);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(fwd_accept(&q, resp, len, &e), 1);
	ck_assert_int_eq(e.present, 1);
	ck_assert_uint_eq(e.udp_size, 4096);
	ck_assert_int_eq(e.do_bit, 1);
	ck_assert_uint_eq(e.rr_end, len);
	free(resp);

	/* No OPT in the reply: edns says so. */
	u.edns = 0;
	resp = up_wire(&u, &len);
	memset(&e, 0xff, sizeof(e));
	ck_assert_int_eq(fwd_accept(&q, resp, len, &e), 1);
	ck_assert_int_eq(e.present, 0);
	free(resp);
}
END_TEST

/* Accept u as the reply to the client query?  (u built, tested, freed.) */
static int
accepts(const struct query *q, const struct up *u)
{
	struct wire_edns	 e;
	uint8_t			*resp;
	size_t			 len;
	int			 r;

	resp = up_wire(u, &len);
	r = fwd_accept(q, resp, len, &e);
	free(resp);
	return r;
}

START_TEST(accept_reject)
{
	struct query	 q;
	const struct up	 good = { .id = 0xbeef, .qname = "www.example.com.",
			    .answers = 1 };
	struct up	 u;

	client(&q, FLAG_RD, 0, 0, 0);
	ck_assert_int_eq(accepts(&q, &good), 1);

	u = good;
	u.id = 0xbeee;
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.noqr = 1;
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.qtype = 28;
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.qclass = 3;
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.qname = "www.example.net.";
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.qname = "ww.example.com.";
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.qname = "www.example.com.evil.";
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.opcode = LDNS_PACKET_NOTIFY;
	ck_assert_int_eq(accepts(&q, &u), 0);
	u = good;
	u.opcode = LDNS_PACKET_STATUS;
	ck_assert_int_eq(accepts(&q, &u), 0);
}
END_TEST

START_TEST(accept_counts_and_body)
{
	struct query		 q;
	const struct up		 good = { .id = 0xbeef,
				    .qname = "www.example.com.", .answers = 1,
				    .edns = 1, .udp = 1232 };
	struct wire_edns	 e;
	uint8_t			*resp, buf[1024];
	size_t			 len;

	client(&q, FLAG_RD, 0, 0, 0);
	resp = up_wire(&good, &len);
	ck_assert_uint_lt(len + 2, sizeof(buf));
	memcpy(buf, resp, len);
	free(resp);
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 1);

	/* QDCOUNT 0 and 2. */
	buf[5] = 0;
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 0);
	buf[5] = 2;
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 0);
	buf[5] = 1;

	/* Cut short, anywhere: header, question, answer, OPT. */
	ck_assert_int_eq(fwd_accept(&q, buf, 11, &e), 0);
	ck_assert_int_eq(fwd_accept(&q, buf, 12, &e), 0);
	ck_assert_int_eq(fwd_accept(&q, buf, 12 + 17 + 3, &e), 0);
	ck_assert_int_eq(fwd_accept(&q, buf, len - 11 - 1, &e), 0);
	ck_assert_int_eq(fwd_accept(&q, buf, len - 1, &e), 0);

	/* Trailing garbage. */
	buf[len] = 0;
	ck_assert_int_eq(fwd_accept(&q, buf, len + 1, &e), 0);

	/* ANCOUNT says 2. */
	buf[7] = 2;
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 0);
	buf[7] = 1;

	/* OPT moved to the answer section: ANCOUNT 2, ARCOUNT 0. */
	buf[7] = 2;
	buf[11] = 0;
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 0);
	buf[7] = 1;
	buf[11] = 1;
	ck_assert_int_eq(fwd_accept(&q, buf, len, &e), 1);
}
END_TEST

static Suite *
query_suite(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc;

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, check_too_short);
	tcase_add_test(tc, check_response);
	tcase_add_test(tc, check_acl);
	tcase_add_test(tc, check_opcode);
	tcase_add_test(tc, check_qdcount);
	tcase_add_test(tc, check_ancount);
	tcase_add_test(tc, check_truncated_question);
	tcase_add_test(tc, check_trailing);
	tcase_add_test(tc, check_two_opt);
	tcase_add_test(tc, check_badvers);
	tcase_add_test(tc, check_qtype_class);
	tcase_add_test(tc, check_good);
	tcase_add_test(tc, check_good_edns);
	suite_add_tcase(s, tc);

	tc = tcase_create("build_error");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, error_acl);
	tcase_add_test(tc, error_acl_edns);
	tcase_add_test(tc, error_notimp);
	tcase_add_test(tc, error_notimp_edns);
	tcase_add_test(tc, error_formerr);
	tcase_add_test(tc, error_formerr_count_edns);
	tcase_add_test(tc, error_badvers);
	tcase_add_test(tc, error_refused_edns);
	tcase_add_test(tc, error_ede);
	tcase_add_test(tc, error_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rewrite_basic);
	tcase_add_test(tc, rewrite_ad);
	tcase_add_test(tc, rewrite_strip_opt);
	tcase_add_test(tc, rewrite_own_opt);
	tcase_add_test(tc, rewrite_opt_not_last);
	tcase_add_test(tc, rewrite_ext_rcode);
	tcase_add_test(tc, rewrite_small_buffer);
	tcase_add_test(tc, rewrite_compressed_question);
	suite_add_tcase(s, tc);

	tc = tcase_create("forward");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, build_query);
	tcase_add_test(tc, build_query_longest);
	tcase_add_test(tc, accept_good);
	tcase_add_test(tc, accept_reject);
	tcase_add_test(tc, accept_counts_and_body);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(query_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
