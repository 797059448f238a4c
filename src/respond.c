/*
 * respond.c -- answers made by policy.  See respond.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"
#include "feed.h"
#include "policy.h"
#include "query.h"
#include "respond.h"
#include "wire.h"

#define TYPE_A		1
#define TYPE_SOA	6
#define TYPE_CNAME	5
#define TYPE_AAAA	28
#define TYPE_ANY	255
#define EDE_TEXT_MAX	200

/* SOA rdata of policy answers: RFC 6761 names that resolve nowhere. */
static const uint8_t soa_mname[] = "\x09localhost";		/* + root */
static const uint8_t soa_rname[] = "\x06nobody\x07invalid";	/* + root */

/* RFC 8914 wants UTF-8: never end on half a character after a cut. */
static void
utf8_cut(char *buf)
{
	size_t	 len = strlen(buf), i = len, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)buf[i - 1];
	if (c < 0x80)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (len - (i - 1) < need)
		buf[i - 1] = '\0';
}

void
respond_ede_text(const struct policy_result *res, char *buf, size_t bufsz)
{
	if (res->rule == NULL)
		snprintf(buf, bufsz, "not allowed by policy (default block)");
	else if (res->feed != NULL)
		snprintf(buf, bufsz, "blocked by rule '%s' in group '%s' "
		    "(feed '%s')", res->rule, res->group, res->feed);
	else
		snprintf(buf, bufsz, "blocked by rule '%s' in group '%s' (%s)",
		    res->rule, res->group, res->reason);
	utf8_cut(buf);
}

/*
 * Where in the question name the SOA owner starts: the matched name when
 * it is the question name or one of its ancestors (at a label boundary),
 * else the question name itself.  RFC 2308: caches keep a negative answer
 * only with a SOA at or above the name, so the owner is always written as
 * a pointer into the question.
 */
static size_t
soa_owner_offset(const struct query *q, const uint8_t *name, size_t len)
{
	size_t	 off, i = 0;

	if (len > q->q.namelen || !wire_name_equal(q->q.name +
	    q->q.namelen - len, len, name, len))
		return 0;
	off = q->q.namelen - len;
	while (i < off)
		i += (size_t)q->q.name[i] + 1;
	return i == off ? off : 0;
}

static size_t
put_rr_head(uint8_t *out, size_t n, uint16_t type, uint32_t ttl,
    uint16_t rdlen)
{
	wire_put16(out + n, type);
	wire_put16(out + n + 2, DNS_CLASS_IN);
	out[n + 4] = (uint8_t)(ttl >> 24);
	out[n + 5] = (uint8_t)(ttl >> 16);
	out[n + 6] = (uint8_t)(ttl >> 8);
	out[n + 7] = (uint8_t)ttl;
	wire_put16(out + n + 8, rdlen);
	return n + 10;
}

static size_t
put_soa(size_t owner_off, uint32_t ttl, uint8_t *out, size_t n)
{
	size_t	 rdlen = sizeof(soa_mname) + sizeof(soa_rname) + 20;
	uint32_t vals[5] = { 1, 3600, 600, 86400, ttl };
	size_t	 i;

	wire_put16(out + n, (uint16_t)(0xc000 | (DNS_HDR_LEN + owner_off)));
	n += 2;
	n = put_rr_head(out, n, TYPE_SOA, ttl, (uint16_t)rdlen);
	memcpy(out + n, soa_mname, sizeof(soa_mname));	/* NUL = root */
	n += sizeof(soa_mname);
	memcpy(out + n, soa_rname, sizeof(soa_rname));
	n += sizeof(soa_rname);
	for (i = 0; i < 5; i++) {
		out[n] = (uint8_t)(vals[i] >> 24);
		out[n + 1] = (uint8_t)(vals[i] >> 16);
		out[n + 2] = (uint8_t)(vals[i] >> 8);
		out[n + 3] = (uint8_t)vals[i];
		n += 4;
	}
	return n;
}

/*
 * Room kept after the answer records for a SOA (owner, rdata) and the OPT
 * with its EDE text.
 */
#define RESPOND_TAIL	(DNS_MAX_NAME + 64 + WIRE_OPT_LEN + 6 + EDE_TEXT_MAX)

/*
 * Override records of the query's type; returns how many were added.
 * Records that would not leave RESPOND_TAIL bytes in out are left out (an
 * RPZ feed may carry any number of them).
 */
static unsigned
put_override(const struct query *q, const struct policy_result *res,
    uint8_t *out, size_t *np, size_t outsz)
{
	const struct config_override *o = res->override;
	uint16_t qt = q->q.qtype;
	unsigned cnt = 0;
	size_t	 i, n = *np;

	if (o != NULL) {
		for (i = 0; i < o->na && (qt == TYPE_A || qt == TYPE_ANY); i++) {
			wire_put16(out + n, 0xc00c);
			n = put_rr_head(out, n + 2, TYPE_A, o->ttl, 4);
			memcpy(out + n, o->a[i], 4);
			n += 4;
			cnt++;
		}
		for (i = 0; i < o->naaaa && (qt == TYPE_AAAA ||
		    qt == TYPE_ANY); i++) {
			wire_put16(out + n, 0xc00c);
			n = put_rr_head(out, n + 2, TYPE_AAAA, o->ttl, 16);
			memcpy(out + n, o->aaaa[i], 16);
			n += 16;
			cnt++;
		}
	}
	for (i = 0; i < res->nrrs; i++) {
		const struct feed_rr *rr = &res->rrs[i];

		if (rr->type != qt && qt != TYPE_ANY)
			continue;
		if (n + 12 + (size_t)rr->rdlen + RESPOND_TAIL > outsz)
			break;
		wire_put16(out + n, 0xc00c);
		n = put_rr_head(out, n + 2, rr->type, rr->ttl, rr->rdlen);
		memcpy(out + n, rr->rdata, rr->rdlen);
		n += rr->rdlen;
		cnt++;
	}
	*np = n;
	return cnt;
}

static int
block_rcode(const struct policy_result *res)
{
	switch (res->response) {
	case RESP_NXDOMAIN:
		return DNS_RCODE_NXDOMAIN;
	case RESP_REFUSED:
		return DNS_RCODE_REFUSED;
	default:
		return DNS_RCODE_NOERROR;
	}
}

size_t
respond_block(const struct query *q, const struct policy_result *res,
    const uint8_t *matched, size_t matchedlen, uint16_t edns_size,
    uint8_t *out, size_t outsz)
{
	char	 text[EDE_TEXT_MAX];
	size_t	 n;
	unsigned an = 0, ns = 0;

	/* Fixed overrides (at most 2 x CONFIG_MAX_OVERRIDE) fit in this. */
	if (res->response == RESP_DROP || outsz < DNS_HDR_LEN +
	    DNS_MAX_NAME + 4 + 2 * CONFIG_MAX_OVERRIDE * 28 + RESPOND_TAIL)
		return 0;
	if ((n = query_put_header(q, block_rcode(res), out, outsz)) == 0)
		return 0;
	if (res->response == RESP_OVERRIDE)
		an = put_override(q, res, out, &n, outsz);
	if ((res->response == RESP_OVERRIDE && an == 0) ||
	    res->response == RESP_NXDOMAIN || res->response == RESP_NODATA) {
		n = put_soa(soa_owner_offset(q, matched, matchedlen), res->ttl,
		    out, n);
		ns = 1;
	}
	wire_put16(out + 6, (uint16_t)an);
	wire_put16(out + 8, (uint16_t)ns);
	if (q->edns.present) {
		respond_ede_text(res, text, sizeof(text));
		n = query_put_opt(q, 0, edns_size, res->ede, text, out, n,
		    outsz);
		wire_put16(out + 10, 1);
	}
	return n;
}

int
respond_cname_target(const struct policy_result *res, uint8_t *target,
    size_t *targetlen, uint32_t *ttl)
{
	size_t	 i;

	if (res->verdict != POLICY_BLOCK || res->response != RESP_OVERRIDE)
		return 0;
	if (res->override != NULL && res->override->cnamelen > 0) {
		memcpy(target, res->override->cname, res->override->cnamelen);
		*targetlen = res->override->cnamelen;
		*ttl = res->override->ttl;
		return 1;
	}
	for (i = 0; i < res->nrrs; i++)
		if (res->rrs[i].type == TYPE_CNAME &&
		    res->rrs[i].rdlen <= DNS_MAX_NAME) {
			memcpy(target, res->rrs[i].rdata, res->rrs[i].rdlen);
			*targetlen = res->rrs[i].rdlen;
			*ttl = res->rrs[i].ttl;
			return 1;
		}
	return 0;
}

/*
 * The chased answer is rare (CNAME overrides only), so it is assembled
 * with ldns, which also re-compresses the upstream records correctly.
 */
static ldns_pkt *
chase_pkt(const struct query *q, const ldns_pkt *up)
{
	ldns_pkt	*p;
	ldns_rdf	*qname, *target;
	ldns_rr		*cname, *question;
	size_t		 i;

	if ((p = ldns_pkt_new()) == NULL)
		return NULL;
	ldns_pkt_set_id(p, q->id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, q->rd);
	ldns_pkt_set_cd(p, q->cd);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, ldns_pkt_get_rcode(up));
	qname = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, q->q.namelen,
	    q->q.name);
	target = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, q->chase_len,
	    q->chase_name);
	question = ldns_rr_new();
	cname = ldns_rr_new_frm_type(LDNS_RR_TYPE_CNAME);
	if (qname == NULL || target == NULL || question == NULL ||
	    cname == NULL) {
		ldns_rdf_deep_free(qname);
		ldns_rdf_deep_free(target);
		ldns_rr_free(question);
		ldns_rr_free(cname);
		ldns_pkt_free(p);
		return NULL;
	}
	ldns_rr_set_owner(question, ldns_rdf_clone(qname));
	ldns_rr_set_type(question, q->q.qtype);
	ldns_rr_set_class(question, q->q.qclass);
	ldns_rr_set_question(question, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, question);
	ldns_rr_set_owner(cname, qname);
	ldns_rr_set_ttl(cname, q->chase_ttl);
	ldns_rr_set_class(cname, LDNS_RR_CLASS_IN);
	ldns_rr_set_rdf(cname, target, 0);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, cname);
	for (i = 0; i < ldns_pkt_ancount(up); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
		    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_answer(up), i)));
	for (i = 0; i < ldns_pkt_nscount(up); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
		    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_authority(up), i)));
	return p;
}

size_t
respond_chase(const struct query *q, const uint8_t *resp, size_t len,
    uint16_t edns_size, uint8_t *out, size_t outsz)
{
	ldns_pkt	*up = NULL, *p = NULL;
	uint8_t		*wire = NULL;
	size_t		 wlen = 0, n = 0;

	if (ldns_wire2pkt(&up, resp, len) != LDNS_STATUS_OK)
		return 0;
	if ((p = chase_pkt(q, up)) == NULL)
		goto done;
	if (ldns_pkt2wire(&wire, p, &wlen) != LDNS_STATUS_OK ||
	    wlen > outsz)
		goto done;
	memcpy(out, wire, wlen);
	n = wlen;
	if (q->edns.present) {
		char	 text[EDE_TEXT_MAX];

		respond_ede_text(&q->pres, text, sizeof(text));
		n = query_put_opt(q, 0, edns_size, q->pres.ede, text, out, n,
		    outsz);
		if (n != 0)
			wire_put16(out + 10, (uint16_t)(DNS_ARCOUNT(out) + 1));
	}
done:
	free(wire);
	ldns_pkt_free(p);
	ldns_pkt_free(up);
	return n;
}

/* Is name (an ldns dname) one of the n names in chain? */
static int
splice_in_chain(const ldns_rdf *name, ldns_rdf **chain, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (ldns_dname_compare(name, chain[i]) == 0)
			return 1;
	return 0;
}

/*
 * The composed answer of a hop (see respond.h), assembled with ldns: it is
 * made on the miss path of names whose CNAME chain enters a zone only.
 */
int
respond_splice(const uint8_t *prev, size_t prevlen, const uint8_t *hop,
    size_t hoplen, const uint8_t *resp, size_t len, uint8_t **out,
    size_t *outlen)
{
	ldns_pkt	*a = NULL, *b = NULL, *p = NULL;
	ldns_rdf	*chain[RESPOND_MAX_CHAIN], *target = NULL;
	ldns_rr_list	*an;
	ldns_rr		*rr;
	size_t		 nchain = 0, i, step;
	int		 rc = -1, reached = 0;

	*out = NULL;
	if (ldns_wire2pkt(&a, prev, prevlen) != LDNS_STATUS_OK ||
	    ldns_wire2pkt(&b, resp, len) != LDNS_STATUS_OK ||
	    ldns_pkt_qdcount(a) != 1 || (p = ldns_pkt_new()) == NULL ||
	    (target = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, hoplen,
	    hop)) == NULL)
		goto done;
	/* The names of prev's chain before the hop's target. */
	an = ldns_pkt_answer(a);
	chain[nchain++] = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(a),
	    0));
	for (step = 0; step < RESPOND_MAX_CHAIN - 1 && !reached; step++) {
		ldns_rdf *next = NULL;

		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr),
			    chain[nchain - 1]) == 0) {
				next = ldns_rr_rdf(rr, 0);
				break;
			}
		}
		if (next == NULL)
			goto done;	/* the hop's target is not in prev */
		if (ldns_dname_compare(next, target) == 0)
			reached = 1;
		else
			chain[nchain++] = next;
	}
	if (!reached)
		goto done;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, ldns_pkt_rd(a));
	ldns_pkt_set_cd(p, ldns_pkt_cd(a));
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, ldns_pkt_get_rcode(b));
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
	    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(a), 0)));
	/* prev's records of the chain (CNAMEs, their signatures; DNAMEs). */
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNAME ||
		    splice_in_chain(ldns_rr_owner(rr), chain, nchain))
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
			    ldns_rr_clone(rr));
	}
	for (i = 0; i < ldns_pkt_ancount(b); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
		    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_answer(b), i)));
	for (i = 0; i < ldns_pkt_nscount(b); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
		    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_authority(b), i)));
	if (ldns_pkt2wire(out, p, outlen) != LDNS_STATUS_OK ||
	    *outlen > DNS_MAX_UDP) {
		free(*out);
		*out = NULL;
		goto done;
	}
	rc = 0;
done:
	ldns_rdf_deep_free(target);
	ldns_pkt_free(p);
	ldns_pkt_free(b);
	ldns_pkt_free(a);
	return rc;
}
