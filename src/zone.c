/*
 * zone.c -- zones: where a name is resolved.  See zone.h.
 *
 * zones_find() looks the name's suffixes up, longest first, in the zones
 * sorted by name: one binary search per label, whatever the number of
 * zones.
 *
 * A local zone is parsed once, with ldns, into wire data: each record is
 * its owner (lower case), type, TTL and rdata as ldns writes it, names in
 * the rdata uncompressed (which is always allowed).  Records are grouped
 * into nodes sorted by owner, and every name between an owner and the apex
 * is a node too, without records (an empty non-terminal, RFC 8020), so one
 * binary search tells the answer apart: records, NODATA or NXDOMAIN.  The
 * apex always has a SOA: the one written, or one made from the zone name.
 *
 * Answers are written straight into the caller's buffer, without an
 * allocation: the question as given, then owners as pointers into it (or
 * into the CNAME whose target they are).
 *
 * A zones structure keeps pointers into the configuration it was built
 * from (zone_config() returns them), so that must outlive it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"
#include "wire.h"
#include "zone.h"

#define ZONE_MAX_CHAIN	8		/* CNAMEs followed in one answer */
#define ZONE_NONE	((size_t)-1)
#define ZONE_PTR_MAX	0x3fff		/* highest compression pointer */
#define TYPE_ANY	255

/* The SOA made for a zone that writes none (zone.h). */
#define SOA_TTL		3600
#define SOA_SERIAL	1
#define SOA_REFRESH	3600
#define SOA_RETRY	600
#define SOA_EXPIRE	86400
#define SOA_MINIMUM	300
static const uint8_t soa_rname_label[] = "\x0ahostmaster";

/* One record, as served. */
struct zone_rr {
	uint8_t		*owner;		/* wire, lower case; owned */
	size_t		 ownerlen;
	uint16_t	 type;
	uint32_t	 ttl;
	uint8_t		*rdata;		/* wire, names uncompressed; owned */
	uint16_t	 rdlen;
};

/* A name of a local zone with its records; none: empty non-terminal. */
struct zone_node {
	const uint8_t	*name;		/* lower case; a record's owner or
					   the apex */
	size_t		 namelen;
	size_t		 first;		/* records: rrs[first..first+n) */
	size_t		 n;
};

struct zone {
	const struct config_zone *cfg;
	struct zone_rr	*rrs;		/* by node, file order within one */
	size_t		 nrrs;
	struct zone_node *nodes;	/* sorted by name_cmp() */
	size_t		 nnodes;
	const struct zone_rr *soa;	/* at the apex, written or made */
	const struct zone **inner;	/* zones below this one */
	size_t		 ninner;
};

struct zones {
	struct zone	*zones;		/* configuration order */
	size_t		 n;
	const struct zone **sorted;	/* by name, for zones_find() */
};

/* A node to be: a record's owner (or one of its ancestors), or the apex. */
struct zone_ent {
	const uint8_t	*name;
	size_t		 namelen;
	size_t		 rec;		/* index of the record; ZONE_NONE */
};

/* Where an answer is being written. */
struct zone_out {
	uint8_t		*p;
	size_t		 sz;
	size_t		 len;
	int		 full;
	uint16_t	 ancount;
	uint16_t	 nscount;
	uint8_t		 rcode;
};

/*
 * Names
 */

/* Any total order of lower-case wire names (for sorting and searching). */
static int
name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int	 c;

	if ((c = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/*
 * Copy the uncompressed wire name of len bytes into out, lower case.
 * -1 unless it is well formed and exactly len bytes long.
 */
static int
name_copy(const uint8_t *name, size_t len, uint8_t *out)
{
	size_t	 i = 0;

	if (len == 0 || len > DNS_MAX_NAME)
		return -1;
	while (i < len && name[i] != 0) {
		if (name[i] > 63)
			return -1;
		i += (size_t)name[i] + 1;
	}
	if (i != len - 1)
		return -1;
	memcpy(out, name, len);
	wire_name_lower(out, len);
	return 0;
}

/*
 * Where suffix starts in name, on a label boundary (case-insensitive), or
 * ZONE_NONE.  Both are well-formed wire names; a name is its own suffix.
 */
static size_t
name_suffix_at(const uint8_t *name, size_t len, const uint8_t *suffix,
    size_t slen)
{
	size_t	 off = 0;

	while (off < len && len - off >= slen) {
		if (len - off == slen)
			return wire_name_equal(name + off, slen, suffix, slen) ?
			    off : ZONE_NONE;
		if (name[off] == 0)
			break;
		off += (size_t)name[off] + 1;
	}
	return ZONE_NONE;
}

/* ldns's form of a zone name as configured ("corp.internal"). */
static ldns_rdf *
zone_origin(const char *zone)
{
	char	 buf[DNS_MAX_NAME + 2];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%s.", zone);
	if (n < 0 || (size_t)n >= sizeof(buf) || strcmp(buf, "..") == 0)
		return NULL;
	return ldns_dname_new_frm_str(buf);
}

/* "www.corp.internal." into buf, for messages. */
static const char *
name_str(const ldns_rdf *name, char *buf, size_t bufsz)
{
	wire_name_to_str(ldns_rdf_data(name), ldns_rdf_size(name), buf,
	    bufsz);
	return buf;
}

/*
 * Checking records
 */

/*
 * Parse one record as written.  Every record names its owner (or "@"):
 * with ldns, a line that starts with a blank takes the owner of the line
 * before, and records here are checked one at a time.
 */
static int
zone_parse(const char *text, ldns_rdf *origin, ldns_rr **rr, char *why,
    size_t whysz)
{
	ldns_status	 st;

	*rr = NULL;
	if (*text == '\0') {
		snprintf(why, whysz, "empty record");
		return -1;
	}
	if (*text == ' ' || *text == '\t') {
		snprintf(why, whysz, "a record starts with its owner name "
		    "(or @)");
		return -1;
	}
	if (*text == '$') {
		snprintf(why, whysz, "zone-file directives ($ORIGIN, $TTL, "
		    "...) are not records");
		return -1;
	}
	st = ldns_rr_new_frm_str(rr, text, CONFIG_LOCAL_TTL, origin, NULL);
	if (st != LDNS_STATUS_OK) {
		*rr = NULL;
		snprintf(why, whysz, "bad record: %s",
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	return 0;
}

/* Types a local zone does not serve; NULL when t is fine. */
static const char *
zone_type_bad(uint16_t t)
{
	switch (t) {
	case LDNS_RR_TYPE_RRSIG:
	case LDNS_RR_TYPE_NSEC:
	case LDNS_RR_TYPE_NSEC3:
	case LDNS_RR_TYPE_NSEC3PARAM:
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_CDS:
	case LDNS_RR_TYPE_CDNSKEY:
	case LDNS_RR_TYPE_DLV:
	case LDNS_RR_TYPE_SIG:
	case LDNS_RR_TYPE_NXT:
		return "DNSSEC records cannot be served (a local zone is not "
		    "signed)";
	case 0:
	case LDNS_RR_TYPE_OPT:
		return "not a record type";
	default:
		/* RFC 6895: 128..255 are query and meta types. */
		if (t >= 128 && t <= 255)
			return "a query or meta type, not a record type";
		return NULL;
	}
}

/* The checks of zone_check_record() on a parsed record. */
static int
zone_rr_check(const ldns_rr *rr, const ldns_rdf *origin, char *why,
    size_t whysz)
{
	const ldns_rdf	*owner = ldns_rr_owner(rr);
	const uint8_t	*o = ldns_rdf_data(owner);
	uint16_t	 t = ldns_rr_get_type(rr);
	const char	*bad;
	char		 nbuf[WIRE_NAME_STRLEN], *cls, *tname;
	size_t		 at;

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		cls = ldns_rr_class2str(ldns_rr_get_class(rr));
		snprintf(why, whysz, "class %s: a local zone holds class IN "
		    "only", cls ? cls : "?");
		free(cls);
		return -1;
	}
	if ((bad = zone_type_bad(t)) != NULL) {
		tname = ldns_rr_type2str(t);
		snprintf(why, whysz, "type %s: %s", tname ? tname : "?", bad);
		free(tname);
		return -1;
	}
	at = name_suffix_at(o, ldns_rdf_size(owner), ldns_rdf_data(origin),
	    ldns_rdf_size(origin));
	if (at == ZONE_NONE) {
		snprintf(why, whysz, "owner '%s' is not in the zone",
		    name_str(owner, nbuf, sizeof(nbuf)));
		return -1;
	}
	if (o[0] == 1 && o[1] == '*') {
		snprintf(why, whysz, "owner '%s': wildcards are not supported "
		    "in local zones", name_str(owner, nbuf, sizeof(nbuf)));
		return -1;
	}
	if (t == LDNS_RR_TYPE_SOA && at != 0) {
		snprintf(why, whysz, "a SOA record belongs at the zone apex "
		    "(@), not at '%s'", name_str(owner, nbuf, sizeof(nbuf)));
		return -1;
	}
	return 0;
}

int
zone_check_record(const char *text, const char *zone, char *why,
    size_t whysz)
{
	ldns_rdf	*origin;
	ldns_rr		*rr;
	int		 rc;

	if ((origin = zone_origin(zone)) == NULL) {
		snprintf(why, whysz, "bad zone name '%s'", zone);
		return -1;
	}
	if ((rc = zone_parse(text, origin, &rr, why, whysz)) == 0)
		rc = zone_rr_check(rr, origin, why, whysz);
	ldns_rr_free(rr);
	ldns_rdf_deep_free(origin);
	return rc;
}

/* A parsed record and its place in the list, for zone_check_records(). */
struct zone_chk {
	ldns_rr		*rr;
	size_t		 i;
};

/* By owner (case-insensitive), then by place. */
static int
zone_chk_cmp(const void *a, const void *b)
{
	const struct zone_chk	*x = a, *y = b;
	int			 c;

	if ((c = ldns_dname_compare(ldns_rr_owner(x->rr),
	    ldns_rr_owner(y->rr))) != 0)
		return c;
	return (x->i > y->i) - (x->i < y->i);
}

/* Keep the problem of the earliest offending record. */
static void __attribute__((format(printf, 5, 6)))
zone_chk_fail(size_t i, size_t *worst, char *why, size_t whysz,
    const char *fmt, ...)
{
	va_list	 ap;

	if (i >= *worst)
		return;
	*worst = i;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

/* The records of one owner, c[0..n), in file order. */
static void
zone_chk_owner(const struct zone_chk *c, size_t n, const ldns_rdf *origin,
    size_t *worst, char *why, size_t whysz)
{
	size_t	 k, cname = ZONE_NONE, other = ZONE_NONE, soa = ZONE_NONE;
	char	 nbuf[WIRE_NAME_STRLEN];
	int	 apex;

	name_str(ldns_rr_owner(c[0].rr), nbuf, sizeof(nbuf));
	apex = ldns_dname_compare(ldns_rr_owner(c[0].rr), origin) == 0;
	for (k = 0; k < n; k++) {
		if (ldns_rr_get_type(c[k].rr) == LDNS_RR_TYPE_CNAME) {
			if (apex)
				zone_chk_fail(c[k].i, worst, why, whysz,
				    "a CNAME cannot be at the zone apex "
				    "(it has the SOA)");
			else if (cname != ZONE_NONE)
				zone_chk_fail(c[k].i, worst, why, whysz,
				    "a second CNAME at '%s' (local[%zu])",
				    nbuf, cname);
			else if (other != ZONE_NONE)
				zone_chk_fail(c[k].i, worst, why, whysz,
				    "a CNAME cannot be beside other data at "
				    "'%s' (local[%zu])", nbuf, other);
			if (cname == ZONE_NONE)
				cname = c[k].i;
			continue;
		}
		if (ldns_rr_get_type(c[k].rr) == LDNS_RR_TYPE_SOA) {
			if (soa != ZONE_NONE)
				zone_chk_fail(c[k].i, worst, why, whysz,
				    "a second SOA record (local[%zu])", soa);
			else
				soa = c[k].i;
		}
		if (cname != ZONE_NONE)
			zone_chk_fail(c[k].i, worst, why, whysz,
			    "other data cannot be beside a CNAME at '%s' "
			    "(local[%zu])", nbuf, cname);
		if (other == ZONE_NONE)
			other = c[k].i;
	}
}

long
zone_check_records(char *const *texts, size_t n, const char *zone,
    char *why, size_t whysz)
{
	struct zone_chk	*c;
	ldns_rdf	*origin;
	size_t		 i, j, worst = ZONE_NONE;

	if (n == 0)
		return -1;
	if ((origin = zone_origin(zone)) == NULL) {
		snprintf(why, whysz, "bad zone name '%s'", zone);
		return 0;
	}
	if ((c = calloc(n, sizeof(*c))) == NULL) {
		snprintf(why, whysz, "out of memory");
		ldns_rdf_deep_free(origin);
		return 0;
	}
	for (i = 0; i < n; i++) {
		c[i].i = i;
		if (zone_parse(texts[i], origin, &c[i].rr, why, whysz) == -1) {
			worst = i;
			goto done;
		}
	}
	qsort(c, n, sizeof(*c), zone_chk_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && ldns_dname_compare(
		    ldns_rr_owner(c[i].rr), ldns_rr_owner(c[j].rr)) == 0; j++)
			;
		zone_chk_owner(c + i, j - i, origin, &worst, why, whysz);
	}
done:
	for (i = 0; i < n; i++)
		ldns_rr_free(c[i].rr);
	free(c);
	ldns_rdf_deep_free(origin);
	return worst == ZONE_NONE ? -1 : (long)worst;
}

/*
 * Building
 */

static void
zone_rr_release(struct zone_rr *rr)
{
	free(rr->owner);
	free(rr->rdata);
	rr->owner = rr->rdata = NULL;
}

/* The wire data of a parsed record. */
static int
zone_rr_from_ldns(const ldns_rr *rr, struct zone_rr *out)
{
	uint8_t	*w = NULL;
	size_t	 sz = 0, pos = 0, rdlen;

	memset(out, 0, sizeof(*out));
	if (ldns_rr2wire(&w, rr, LDNS_SECTION_ANSWER, &sz) != LDNS_STATUS_OK)
		return -1;
	if (wire_skip_name(w, sz, &pos) == -1 || sz - pos < 10)
		goto fail;
	rdlen = wire_get16(w + pos + 8);
	if (sz - pos - 10 != rdlen)
		goto fail;
	out->ownerlen = pos;
	out->type = wire_get16(w + pos);
	out->ttl = wire_get32(w + pos + 4);
	out->rdlen = (uint16_t)rdlen;
	if ((out->owner = malloc(pos)) == NULL ||
	    (out->rdata = malloc(rdlen ? rdlen : 1)) == NULL)
		goto fail;
	memcpy(out->owner, w, pos);
	wire_name_lower(out->owner, pos);
	memcpy(out->rdata, w + pos + 10, rdlen);
	free(w);
	return 0;
fail:
	zone_rr_release(out);
	free(w);
	return -1;
}

/* The apex SOA of zone.h, for a zone that writes none. */
static int
zone_soa_make(const struct config_zone *cz, struct zone_rr *out)
{
	static const uint32_t	 times[] = { SOA_SERIAL, SOA_REFRESH,
				    SOA_RETRY, SOA_EXPIRE, SOA_MINIMUM };
	size_t			 rnamelen, off = 0, i;
	uint8_t			*rd;

	memset(out, 0, sizeof(*out));
	/* hostmaster.ZONE, unless that would be too long a name. */
	rnamelen = cz->wirelen + sizeof(soa_rname_label) - 1;
	if (rnamelen > DNS_MAX_NAME)
		rnamelen = cz->wirelen;
	if ((out->owner = malloc(cz->wirelen)) == NULL ||
	    (rd = out->rdata = malloc(cz->wirelen + rnamelen + 20)) == NULL) {
		zone_rr_release(out);
		return -1;
	}
	memcpy(out->owner, cz->wire, cz->wirelen);
	out->ownerlen = cz->wirelen;
	out->type = LDNS_RR_TYPE_SOA;
	out->ttl = SOA_TTL;
	memcpy(rd, cz->wire, cz->wirelen);
	off = cz->wirelen;
	if (rnamelen != cz->wirelen) {
		memcpy(rd + off, soa_rname_label, sizeof(soa_rname_label) - 1);
		off += sizeof(soa_rname_label) - 1;
	}
	memcpy(rd + off, cz->wire, cz->wirelen);
	off += cz->wirelen;
	for (i = 0; i < 5; i++, off += 4) {
		rd[off] = (uint8_t)(times[i] >> 24);
		rd[off + 1] = (uint8_t)(times[i] >> 16);
		rd[off + 2] = (uint8_t)(times[i] >> 8);
		rd[off + 3] = (uint8_t)times[i];
	}
	out->rdlen = (uint16_t)off;
	return 0;
}

static int
zone_ent_cmp(const void *a, const void *b)
{
	const struct zone_ent	*x = a, *y = b;
	int			 c;

	if ((c = name_cmp(x->name, x->namelen, y->name, y->namelen)) != 0)
		return c;
	return (x->rec > y->rec) - (x->rec < y->rec);
}

/* Records by owner, type and data, then by place in the list. */
static int
zone_rr_cmp(const void *a, const void *b)
{
	const struct zone_rr	*x = *(const struct zone_rr *const *)a;
	const struct zone_rr	*y = *(const struct zone_rr *const *)b;
	int			 c;

	if ((c = name_cmp(x->owner, x->ownerlen, y->owner, y->ownerlen)) != 0)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if ((c = name_cmp(x->rdata, x->rdlen, y->rdata, y->rdlen)) != 0)
		return c;
	return (x > y) - (x < y);
}

/*
 * Drop a record that repeats an earlier one (same owner, type and data:
 * RFC 2181 5, an RRset has no duplicates).  Its owner becomes NULL.
 */
static int
zone_dedup(struct zone_rr *recs, size_t n)
{
	struct zone_rr	**order;
	size_t		  i;

	if (n < 2)
		return 0;
	if ((order = calloc(n, sizeof(*order))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		order[i] = &recs[i];
	qsort(order, n, sizeof(*order), zone_rr_cmp);
	for (i = 1; i < n; i++) {
		if (order[i - 1]->owner == NULL ||
		    name_cmp(order[i - 1]->owner, order[i - 1]->ownerlen,
		    order[i]->owner, order[i]->ownerlen) != 0 ||
		    order[i - 1]->type != order[i]->type ||
		    name_cmp(order[i - 1]->rdata, order[i - 1]->rdlen,
		    order[i]->rdata, order[i]->rdlen) != 0)
			continue;
		/* Keep the earlier one where the later one was compared. */
		zone_rr_release(order[i]);
		order[i] = order[i - 1];
	}
	free(order);
	return 0;
}

/*
 * The nodes: each record's owner, the names between it and the apex, and
 * the apex.  recs[0..n) are in file order and move into z->rrs (a
 * duplicate, its owner NULL, is left out).  Node names point into the
 * owners of the records, or at the apex in the configuration.
 */
static int
zone_index(struct zone *z, struct zone_rr *recs, size_t n)
{
	const struct config_zone *cz = z->cfg;
	struct zone_ent	*ents;
	struct zone_node *node = NULL;
	size_t		 nents = 1, i, off;

	if (zone_dedup(recs, n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		for (off = 0; recs[i].owner != NULL &&
		    recs[i].ownerlen - off >= cz->wirelen;
		    off += (size_t)recs[i].owner[off] + 1) {
			nents++;
			if (recs[i].ownerlen - off == cz->wirelen)
				break;
		}
	if ((ents = calloc(nents, sizeof(*ents))) == NULL ||
	    (z->nodes = calloc(nents, sizeof(*z->nodes))) == NULL ||
	    (z->rrs = calloc(n ? n : 1, sizeof(*z->rrs))) == NULL) {
		free(ents);
		return -1;
	}
	nents = 0;
	ents[nents++] = (struct zone_ent){ cz->wire, cz->wirelen, ZONE_NONE };
	for (i = 0; i < n; i++) {
		if (recs[i].owner == NULL)
			continue;
		/* The owner and each name above it, up to the apex. */
		for (off = 0; recs[i].ownerlen - off > cz->wirelen;
		    off += (size_t)recs[i].owner[off] + 1)
			ents[nents++] = (struct zone_ent){ recs[i].owner + off,
			    recs[i].ownerlen - off, off == 0 ? i : ZONE_NONE };
		if (recs[i].ownerlen == cz->wirelen)
			ents[nents++] = (struct zone_ent){ recs[i].owner,
			    recs[i].ownerlen, i };
	}
	qsort(ents, nents, sizeof(*ents), zone_ent_cmp);

	for (i = 0; i < nents; i++) {
		if (node == NULL || name_cmp(node->name, node->namelen,
		    ents[i].name, ents[i].namelen) != 0) {
			node = &z->nodes[z->nnodes++];
			node->name = ents[i].name;
			node->namelen = ents[i].namelen;
			node->first = z->nrrs;
		}
		if (ents[i].rec == ZONE_NONE)
			continue;
		z->rrs[z->nrrs++] = recs[ents[i].rec];
		memset(&recs[ents[i].rec], 0, sizeof(recs[0]));
		node->n++;
	}
	free(ents);
	for (i = 0; i < z->nrrs; i++)
		if (z->rrs[i].type == LDNS_RR_TYPE_SOA &&
		    z->rrs[i].ownerlen == cz->wirelen) {
			z->soa = &z->rrs[i];
			break;
		}
	return 0;
}

/* Parse, check and index the records of local zone z. */
static int
zone_build_local(struct zone *z, const char *path, char *err, size_t errsz)
{
	const struct config_zone *cz = z->cfg;
	struct zone_rr	*recs;
	ldns_rdf	*origin;
	ldns_rr		*rr;
	char		 why[512];
	size_t		 n = 0, i;
	int		 soa = 0, rc = -1;

	if ((origin = zone_origin(cz->name)) == NULL) {
		snprintf(err, errsz, "%s: zone '%s': bad name", path,
		    cz->name);
		return -1;
	}
	if ((recs = calloc(cz->nlocal + 1, sizeof(*recs))) == NULL)
		goto nomem;
	for (i = 0; i < cz->nlocal; i++) {
		if (zone_parse(cz->local[i], origin, &rr, why,
		    sizeof(why)) == -1 ||
		    zone_rr_check(rr, origin, why, sizeof(why)) == -1) {
			ldns_rr_free(rr);
			snprintf(err, errsz, "%s:%d:%d: zone '%s': local[%zu]: "
			    "%s", path, cz->local_line[i], cz->local_col[i],
			    cz->name, i, why);
			goto done;
		}
		if (zone_rr_from_ldns(rr, &recs[n]) == -1) {
			ldns_rr_free(rr);
			goto nomem;
		}
		ldns_rr_free(rr);
		if (recs[n++].type == LDNS_RR_TYPE_SOA)
			soa = 1;
	}
	if (!soa && zone_soa_make(cz, &recs[n++]) == -1)
		goto nomem;
	if (zone_index(z, recs, n) == -1)
		goto nomem;
	rc = 0;
	goto done;
nomem:
	snprintf(err, errsz, "zone '%s': out of memory", cz->name);
done:
	for (i = 0; i < n; i++)
		zone_rr_release(&recs[i]);
	free(recs);
	ldns_rdf_deep_free(origin);
	return rc;
}

static int
zone_sorted_cmp(const void *a, const void *b)
{
	const struct zone	*x = *(const struct zone *const *)a;
	const struct zone	*y = *(const struct zone *const *)b;

	return name_cmp(x->cfg->wire, x->cfg->wirelen, y->cfg->wire,
	    y->cfg->wirelen);
}

/* Zones below local zone z: their names are not z's. */
static int
zone_find_inner(struct zones *zs, struct zone *z)
{
	const struct config_zone *cz = z->cfg, *oz;
	size_t		 i;

	for (i = 0; i < zs->n; i++) {
		oz = zs->zones[i].cfg;
		if (oz->wirelen <= cz->wirelen || name_suffix_at(oz->wire,
		    oz->wirelen, cz->wire, cz->wirelen) == ZONE_NONE)
			continue;
		if (z->inner == NULL && (z->inner = calloc(zs->n,
		    sizeof(*z->inner))) == NULL)
			return -1;
		z->inner[z->ninner++] = &zs->zones[i];
	}
	return 0;
}

struct zones *
zones_build(const struct config *cfg, char *err, size_t errsz)
{
	struct zones	*zs;
	size_t		 i;

	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		goto nomem;
	if (cfg->nzones == 0)
		return zs;
	if ((zs->zones = calloc(cfg->nzones, sizeof(*zs->zones))) == NULL ||
	    (zs->sorted = calloc(cfg->nzones, sizeof(*zs->sorted))) == NULL)
		goto nomem;
	for (i = 0; i < cfg->nzones; i++) {
		zs->zones[i].cfg = &cfg->zones[i];
		zs->sorted[i] = &zs->zones[i];
		zs->n++;
		if (cfg->zones[i].kind == ZONE_LOCAL &&
		    zone_build_local(&zs->zones[i], cfg->path ? cfg->path :
		    "(config)", err, errsz) == -1)
			goto fail;
	}
	qsort(zs->sorted, zs->n, sizeof(*zs->sorted), zone_sorted_cmp);
	for (i = 0; i < zs->n; i++)
		if (zs->zones[i].cfg->kind == ZONE_LOCAL &&
		    zone_find_inner(zs, &zs->zones[i]) == -1)
			goto nomem;
	return zs;
nomem:
	snprintf(err, errsz, "zones: out of memory");
fail:
	zones_free(zs);
	return NULL;
}

void
zones_free(struct zones *zs)
{
	struct zone	*z;
	size_t		 i, j;

	if (zs == NULL)
		return;
	for (i = 0; i < zs->n; i++) {
		z = &zs->zones[i];
		for (j = 0; j < z->nrrs; j++)
			zone_rr_release(&z->rrs[j]);
		free(z->rrs);
		free(z->nodes);
		free(z->inner);
	}
	free(zs->zones);
	free(zs->sorted);
	free(zs);
}

/*
 * Lookups
 */

/* The zone named exactly name (lower case), or NULL. */
static const struct zone *
zones_lookup(const struct zones *zs, const uint8_t *name, size_t len)
{
	size_t	 lo = 0, hi = zs->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = name_cmp(name, len, zs->sorted[mid]->cfg->wire,
		    zs->sorted[mid]->cfg->wirelen);
		if (c == 0)
			return zs->sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct zone *
zones_find(const struct zones *zs, const uint8_t *name, size_t namelen)
{
	const struct zone	*z;
	uint8_t			 lname[DNS_MAX_NAME];
	size_t			 off;

	if (zs == NULL || zs->n == 0 || name_copy(name, namelen, lname) == -1)
		return NULL;
	/* Longest first: the name itself, then each parent but the root. */
	for (off = 0; lname[off] != 0; off += (size_t)lname[off] + 1)
		if ((z = zones_lookup(zs, lname + off, namelen - off)) != NULL)
			return z;
	return NULL;
}

const struct config_zone *
zone_config(const struct zone *z)
{
	return z->cfg;
}

/* Is name (lower case) z's: at or below it, and in no zone below it? */
static int
zone_holds(const struct zone *z, const uint8_t *name, size_t len)
{
	const struct config_zone *in;
	size_t			 i;

	if (name_suffix_at(name, len, z->cfg->wire, z->cfg->wirelen) ==
	    ZONE_NONE)
		return 0;
	for (i = 0; i < z->ninner; i++) {
		in = z->inner[i]->cfg;
		if (name_suffix_at(name, len, in->wire, in->wirelen) !=
		    ZONE_NONE)
			return 0;
	}
	return 1;
}

/* The node of name (lower case), or NULL. */
static const struct zone_node *
zone_node_find(const struct zone *z, const uint8_t *name, size_t len)
{
	size_t	 lo = 0, hi = z->nnodes, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = name_cmp(name, len, z->nodes[mid].name,
		    z->nodes[mid].namelen);
		if (c == 0)
			return &z->nodes[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * Writing answers
 */

static void
out_put(struct zone_out *o, const void *data, size_t n)
{
	if (o->full || n > o->sz - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
}

static void
out_put16(struct zone_out *o, uint16_t v)
{
	uint8_t	 b[2];

	wire_put16(b, v);
	out_put(o, b, sizeof(b));
}

static void
out_put32(struct zone_out *o, uint32_t v)
{
	uint8_t	 b[4];

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	out_put(o, b, sizeof(b));
}

/*
 * One record with its owner written as a pointer to ptr (ZONE_NONE: the
 * name itself) and the given TTL.  Returns the offset of its rdata.
 */
static size_t
out_rr(struct zone_out *o, size_t ptr, const struct zone_rr *rr,
    uint32_t ttl)
{
	size_t	 rdoff;

	if (ptr != ZONE_NONE && ptr <= ZONE_PTR_MAX)
		out_put16(o, (uint16_t)(0xc000 | ptr));
	else
		out_put(o, rr->owner, rr->ownerlen);
	out_put16(o, rr->type);
	out_put16(o, LDNS_RR_CLASS_IN);
	out_put32(o, ttl);
	out_put16(o, rr->rdlen);
	rdoff = o->len;
	out_put(o, rr->rdata, rr->rdlen);
	return rdoff;
}

/* The records of node of type (every one for ANY); how many. */
static size_t
out_rrset(struct zone_out *o, const struct zone *z,
    const struct zone_node *node, uint16_t type, size_t ptr)
{
	const struct zone_rr	*rr;
	size_t			 i, n = 0;

	for (i = 0; i < node->n; i++) {
		rr = &z->rrs[node->first + i];
		if (type != TYPE_ANY && rr->type != type)
			continue;
		out_rr(o, ptr, rr, rr->ttl);
		o->ancount++;
		n++;
	}
	return n;
}

/*
 * NXDOMAIN or NODATA: the SOA in the authority section, its TTL
 * min(TTL, MINIMUM) (RFC 2308), its owner a pointer to the apex in the
 * question name.
 */
static void
out_negative(struct zone_out *o, const struct zone *z, uint8_t rcode,
    const uint8_t *qname, size_t qnamelen)
{
	const struct zone_rr	*soa = z->soa;
	uint32_t		 ttl, min;
	size_t			 at;

	o->rcode = rcode;
	if (soa == NULL || soa->rdlen < 20)
		return;
	ttl = soa->ttl;
	min = wire_get32(soa->rdata + soa->rdlen - 4);
	at = name_suffix_at(qname, qnamelen, z->cfg->wire, z->cfg->wirelen);
	out_rr(o, at == ZONE_NONE ? ZONE_NONE : DNS_HDR_LEN + at, soa,
	    min < ttl ? min : ttl);
	o->nscount++;
}

/* The CNAME of node, or NULL. */
static const struct zone_rr *
node_cname(const struct zone *z, const struct zone_node *node)
{
	size_t	 i;

	for (i = 0; i < node->n; i++)
		if (z->rrs[node->first + i].type == LDNS_RR_TYPE_CNAME)
			return &z->rrs[node->first + i];
	return NULL;
}

/*
 * The answer and authority sections for name (lower case) and qtype,
 * following CNAMEs inside the zone.  qname is the question as written
 * (for the SOA owner).
 */
static void
out_answer(struct zone_out *o, const struct zone *z, const uint8_t *qname,
    size_t qnamelen, uint16_t qtype)
{
	const struct zone_node	*node, *seen[ZONE_MAX_CHAIN + 1];
	const struct zone_rr	*cname;
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 len = qnamelen, ptr = DNS_HDR_LEN, nseen = 0;
	size_t			 i, rdoff;

	if (name_copy(qname, qnamelen, name) == -1) {
		o->rcode = DNS_RCODE_FORMERR;
		return;
	}
	for (;;) {
		if ((node = zone_node_find(z, name, len)) == NULL) {
			out_negative(o, z, DNS_RCODE_NXDOMAIN, qname,
			    qnamelen);
			return;
		}
		cname = NULL;
		if (qtype != TYPE_ANY && qtype != LDNS_RR_TYPE_CNAME)
			cname = node_cname(z, node);
		if (cname == NULL) {
			if (out_rrset(o, z, node, qtype, ptr) == 0)
				out_negative(o, z, DNS_RCODE_NOERROR, qname,
				    qnamelen);
			return;
		}
		/* A loop, or a ninth CNAME: the answer so far. */
		for (i = 0; i < nseen; i++)
			if (seen[i] == node)
				return;
		if (nseen == ZONE_MAX_CHAIN)
			return;
		seen[nseen++] = node;
		rdoff = out_rr(o, ptr, cname, cname->ttl);
		o->ancount++;
		/* A target outside the zone: the caller resolves it. */
		if (name_copy(cname->rdata, cname->rdlen, name) == -1 ||
		    !zone_holds(z, name, cname->rdlen))
			return;
		len = cname->rdlen;
		ptr = rdoff;
	}
}

size_t
zone_local_answer(const struct zone *z, const uint8_t *name, size_t namelen,
    uint16_t qtype, uint16_t qclass, uint8_t *out, size_t outsz)
{
	struct zone_out	 o;
	uint8_t		 hdr[DNS_HDR_LEN];

	if (z == NULL || z->cfg->kind != ZONE_LOCAL || namelen == 0 ||
	    namelen > DNS_MAX_NAME)
		return 0;
	memset(&o, 0, sizeof(o));
	o.p = out;
	o.sz = outsz;
	memset(hdr, 0, sizeof(hdr));
	out_put(&o, hdr, sizeof(hdr));
	out_put(&o, name, namelen);
	out_put16(&o, qtype);
	out_put16(&o, qclass);
	if (qclass != LDNS_RR_CLASS_IN)
		o.rcode = DNS_RCODE_REFUSED;
	else
		out_answer(&o, z, name, namelen, qtype);
	if (o.full)
		return 0;
	out[2] = 0x84;			/* QR, opcode QUERY, AA */
	out[3] = o.rcode;		/* RA clear: the zone is ours */
	wire_put16(out + 4, 1);
	wire_put16(out + 6, o.ancount);
	wire_put16(out + 8, o.nscount);
	return o.len;
}
