/*
 * policy.c -- rule groups compiled from configuration, and the stages that
 * evaluate them.  See policy.h.
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "acl.h"
#include "config.h"
#include "feed.h"
#include "geo.h"
#include "ipset.h"
#include "log.h"
#include "policy.h"
#include "wire.h"

/* RFC 8914 info-codes. */
#define EDE_BLOCKED	15
#define EDE_FILTERED	17

struct prule {
	const struct config_rule *cr;
	struct feed		**feeds;	/* cr->nfeeds */
	struct feed		**ipfeeds;	/* cr->nipfeeds */
	int			 redirect;	/* asked for CNAME targets */
	int			 answer;	/* decided on the answer */
	uint32_t		 rank;		/* evaluation order, 0 first */
};

struct pgroup {
	const struct config_group *cg;
	struct prule		*rules;		/* by priority */
	size_t			 nrules;
};

struct policy {
	const struct config	*cfg;
	struct feed		**feeds;	/* cfg->nfeeds */
	struct geo		*country;	/* geo.country-db, or NULL */
	struct geo		*asn;		/* geo.asn-db, or NULL */
	atomic_ulong		 geo_errors;	/* lookups that failed */
	struct pgroup		*groups;	/* by priority */
	size_t			 ngroups;
	int			 answer_rules;	/* some rule has answer-ip */
};

/* Evaluation state of one name, with an optional explain trace. */
struct eval {
	const struct policy	*p;
	const struct policy_query *pq;
	struct policy_result	*res;
	FILE			*trace;
	int			 alerted;	/* an alert rule matched */
	struct policy_result	 alert;		/* the first one */
	const struct policy_addr *addr;		/* answer-ip: what matched */
	struct feed_ip_hit	 iphit;
};

typedef enum policy_verdict (*policy_stage_fn)(struct eval *);

/* ---- building ----------------------------------------------------- */

static int
cmp_group(const void *a, const void *b)
{
	const struct pgroup *x = a, *y = b;

	return (x->cg->priority > y->cg->priority) -
	    (x->cg->priority < y->cg->priority);
}

static int
cmp_rule(const void *a, const void *b)
{
	const struct prule *x = a, *y = b;

	return (x->cr->priority > y->cr->priority) -
	    (x->cr->priority < y->cr->priority);
}

static int
policy_build_group(struct policy *p, struct pgroup *g,
    const struct config_group *cg)
{
	size_t	 i, j;

	g->cg = cg;
	g->nrules = cg->nrules;
	if ((g->rules = calloc(cg->nrules ? cg->nrules : 1,
	    sizeof(*g->rules))) == NULL)
		return -1;
	for (i = 0; i < cg->nrules; i++) {
		const struct config_rule *cr = &cg->rules[i];
		struct prule		 *r = &g->rules[i];
		enum redirection	  redir = cr->redirection;

		r->cr = cr;
		if (redir == REDIR_DEFAULT)
			redir = p->cfg->redirection;
		r->redirect = redir != REDIR_TRUST &&
		    (cr->nfeeds > 0 || cr->ntlds > 0);
		if ((r->feeds = calloc(cr->nfeeds ? cr->nfeeds : 1,
		    sizeof(*r->feeds))) == NULL ||
		    (r->ipfeeds = calloc(cr->nipfeeds ? cr->nipfeeds : 1,
		    sizeof(*r->ipfeeds))) == NULL)
			return -1;
		for (j = 0; j < cr->nfeeds; j++)
			r->feeds[j] = p->feeds[cr->feeds[j]];
		for (j = 0; j < cr->nipfeeds; j++)
			r->ipfeeds[j] = p->feeds[cr->ipfeeds[j]];
		r->answer = cr->nipfeeds > 0 || cr->ncountries > 0 ||
		    cr->nasns > 0;
		p->answer_rules |= r->answer;
	}
	qsort(g->rules, g->nrules, sizeof(*g->rules), cmp_rule);
	return 0;
}

/*
 * A feed of format auto turns out to hold names or addresses only once it
 * is read: a rule must use it for what it holds.
 */
static int
policy_check_kinds(struct policy *p, char *err, size_t errsz)
{
	const struct config	*cfg = p->cfg;
	size_t			 g, r, j, k;

	for (g = 0; g < cfg->ngroups; g++)
		for (r = 0; r < cfg->groups[g].nrules; r++) {
			const struct config_rule *cr = &cfg->groups[g].rules[r];

			for (j = 0; j < cr->nfeeds; j++) {
				k = cr->feeds[j];
				if (feed_format(p->feeds[k]) == FEED_IP)
					goto names;
			}
			for (j = 0; j < cr->nipfeeds; j++) {
				k = cr->ipfeeds[j];
				if (feed_format(p->feeds[k]) != FEED_IP &&
				    feed_format(p->feeds[k]) != FEED_RPZ)
					goto addrs;
			}
			continue;
names:
			snprintf(err, errsz, "%s:%d:%d: rule '%s': feed '%s' "
			    "holds addresses (read as format ip); match "
			    "answers with answer-ip", cfg->path, cr->line,
			    cr->col, cr->name, cfg->feeds[k].id);
			return -1;
addrs:
			snprintf(err, errsz, "%s:%d:%d: rule '%s': answer-ip "
			    "feed '%s' holds names, not addresses", cfg->path,
			    cr->line, cr->col, cr->name, cfg->feeds[k].id);
			return -1;
		}
	return 0;
}

/* The version of feed fc in prev, if prev has one loaded the same way. */
static struct feed *
prev_feed(const struct policy *prev, const struct config_feed *fc)
{
	size_t	 i;

	if (prev == NULL)
		return NULL;
	for (i = 0; i < prev->cfg->nfeeds; i++)
		if (feed_same_config(prev->feeds[i], fc))
			return prev->feeds[i];
	return NULL;
}

/*
 * The shrink guard: may the new version `now` replace `was`?  max-shrink
 * is the share of entries a version may lose.
 */
static int
shrink_ok(const struct config_feed *fc, const struct feed_stats *was,
    const struct feed_stats *now)
{
	if (fc->max_shrink >= 100 || now->entries >= was->entries)
		return 1;
	/* lost / was > max_shrink / 100, without overflow for sane sizes */
	return (unsigned long long)(was->entries - now->entries) * 100 <=
	    (unsigned long long)was->entries * fc->max_shrink;
}

static void
say(const struct policy_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct policy_build *b, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	if (b->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->report(b->arg, msg);
}

/*
 * One feed of the new policy: shared with prev, or read again (and then
 * judged by the shrink guard against prev's version).  -1 with err set
 * when it must fail the build.
 */
static int
policy_feed(struct policy *p, size_t i, const struct policy_build *b,
    char *err, size_t errsz)
{
	const struct config_feed *fc = &p->cfg->feeds[i];
	struct feed		*old = prev_feed(b->prev, fc);
	const struct feed_stats	*ws;
	struct feed_stats	 st;
	char			 why[512];

	if (old != NULL && b->check != NULL && !b->check[i]) {
		p->feeds[i] = feed_ref(old);
		return 0;
	}
	p->feeds[i] = feed_load(fc, b->track_lines, &st, b->report, b->arg,
	    why, sizeof(why));
	if (p->feeds[i] == NULL) {
		if (old != NULL && b->check != NULL) {
			/* A refresh: the running version stays. */
			say(b, "%s:%d:%d: feed '%s': %s; keeping the version "
			    "loaded before", p->cfg->path, fc->line, fc->col,
			    fc->id, why);
			p->feeds[i] = feed_ref(old);
			if (b->refused != NULL)
				b->refused(b->arg, fc);
			return 0;
		}
		snprintf(err, errsz, "%s:%d:%d: feed '%s': %s", p->cfg->path,
		    fc->line, fc->col, fc->id, why);
		return -1;
	}
	if (old != NULL && !b->force &&
	    !shrink_ok(fc, (ws = feed_get_stats(old)), &st)) {
		say(b, "%s:%d:%d: feed '%s': %s: refused: %zu entries, %zu "
		    "before (-%zu%%; max-shrink %u%%); keeping the version "
		    "loaded before (dnsward-ctl reload --force takes it)",
		    p->cfg->path, fc->line, fc->col, fc->id, fc->path,
		    st.entries, ws->entries,
		    (size_t)((ws->entries - st.entries) * 100 / ws->entries),
		    fc->max_shrink);
		feed_free(p->feeds[i]);
		p->feeds[i] = feed_ref(old);
		if (b->refused != NULL)
			b->refused(b->arg, fc);
		return 0;
	}
	if (b->loaded != NULL)
		(*b->loaded)++;
	if (b->feed_cb != NULL)
		b->feed_cb(b->arg, fc, &st);
	return 0;
}

static int
policy_load_feeds(struct policy *p, const struct policy_build *b, char *err,
    size_t errsz)
{
	const struct config	*cfg = p->cfg;
	size_t			 i;

	if ((p->feeds = calloc(cfg->nfeeds ? cfg->nfeeds : 1,
	    sizeof(*p->feeds))) == NULL)
		return -1;
	for (i = 0; i < cfg->nfeeds; i++)
		if (policy_feed(p, i, b, err, errsz) == -1)
			return -1;
	return policy_check_kinds(p, err, errsz);
}

/* The geo databases: a missing or corrupt one fails the policy. */
static int
policy_open_geo(struct policy *p, char *err, size_t errsz)
{
	const struct config	*cfg = p->cfg;
	char			 why[512];

	if (cfg->geo_country_db != NULL && (p->country = geo_open(
	    cfg->geo_country_db, GEO_COUNTRY, why, sizeof(why))) == NULL) {
		snprintf(err, errsz, "%s:%d:%d: geo.country-db: %s", cfg->path,
		    cfg->geo_country_line, cfg->geo_country_col, why);
		return -1;
	}
	if (cfg->geo_asn_db != NULL && (p->asn = geo_open(cfg->geo_asn_db,
	    GEO_ASN, why, sizeof(why))) == NULL) {
		snprintf(err, errsz, "%s:%d:%d: geo.asn-db: %s", cfg->path,
		    cfg->geo_asn_line, cfg->geo_asn_col, why);
		return -1;
	}
	return 0;
}

struct policy *
policy_new(const struct config *cfg, int track_lines, feed_report_fn report,
    policy_feed_fn feed_cb, void *arg, char *err, size_t errsz)
{
	struct policy_build	 b;

	memset(&b, 0, sizeof(b));
	b.track_lines = track_lines;
	b.report = report;
	b.feed_cb = feed_cb;
	b.arg = arg;
	return policy_build(cfg, &b, err, errsz);
}

struct policy *
policy_build(const struct config *cfg, const struct policy_build *b,
    char *err, size_t errsz)
{
	struct policy	*p;
	size_t		 i, j;
	uint32_t	 rank;

	snprintf(err, errsz, "out of memory");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = cfg;
	if (policy_load_feeds(p, b, err, errsz) == -1 ||
	    policy_open_geo(p, err, errsz) == -1)
		goto fail;
	snprintf(err, errsz, "out of memory");
	p->ngroups = cfg->ngroups;
	if ((p->groups = calloc(cfg->ngroups ? cfg->ngroups : 1,
	    sizeof(*p->groups))) == NULL)
		goto fail;
	for (i = 0; i < cfg->ngroups; i++)
		if (policy_build_group(p, &p->groups[i], &cfg->groups[i]) == -1)
			goto fail;
	qsort(p->groups, p->ngroups, sizeof(*p->groups), cmp_group);
	/* One rank across groups: where the query phase stopped. */
	for (i = 0, rank = 0; i < p->ngroups; i++)
		for (j = 0; j < p->groups[i].nrules; j++)
			p->groups[i].rules[j].rank = rank++;
	return p;
fail:
	policy_free(p);
	return NULL;
}

size_t
policy_nfeeds(const struct policy *p)
{
	return p->cfg->nfeeds;
}

const struct feed *
policy_feed_at(const struct policy *p, size_t i)
{
	return p->feeds[i];
}

uint64_t
policy_geo_errors(const struct policy *p)
{
	return atomic_load_explicit(&p->geo_errors, memory_order_relaxed);
}

void
policy_free(struct policy *p)
{
	size_t	 i, j;

	if (p == NULL)
		return;
	for (i = 0; p->groups != NULL && i < p->ngroups; i++) {
		for (j = 0; p->groups[i].rules != NULL &&
		    j < p->groups[i].nrules; j++) {
			free(p->groups[i].rules[j].feeds);
			free(p->groups[i].rules[j].ipfeeds);
		}
		free(p->groups[i].rules);
	}
	free(p->groups);
	for (i = 0; p->feeds != NULL && i < p->cfg->nfeeds; i++)
		feed_free(p->feeds[i]);
	free(p->feeds);
	geo_close(p->country);
	geo_close(p->asn);
	free(p);
}

/* ---- matching ----------------------------------------------------- */

static void
trace(struct eval *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trace(struct eval *e, const char *fmt, ...)
{
	va_list	 ap;

	if (e->trace == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(e->trace, fmt, ap);
	va_end(ap);
}

static const char *
trace_name(const uint8_t *name, size_t len, char *buf, size_t bufsz)
{
	wire_name_to_str(name, len, buf, bufsz);
	return buf;
}

/* The name's last label as a C string, lower case (names arrive so). */
static int
name_tld(const uint8_t *name, size_t len, char *out, size_t outsz)
{
	size_t	 i = 0, last = len;

	while (i < len && name[i] != 0) {
		last = i;
		i += (size_t)name[i] + 1;
	}
	if (last >= len || name[last] + 1u > outsz)
		return -1;
	memcpy(out, name + last + 1, name[last]);
	out[name[last]] = '\0';
	return 0;
}

static int
match_qtype(struct eval *e, const struct config_rule *cr)
{
	char	 buf[16];
	size_t	 i;

	for (i = 0; i < cr->nqtypes; i++)
		if (cr->qtypes[i] == e->pq->qtype) {
			trace(e, "      qtype: %s is listed\n",
			    wire_type_name(e->pq->qtype, buf, sizeof(buf)));
			return 1;
		}
	trace(e, "      qtype: %s not listed\n",
	    wire_type_name(e->pq->qtype, buf, sizeof(buf)));
	return 0;
}

static int
match_tld(struct eval *e, const struct config_rule *cr)
{
	char	 tld[64];
	size_t	 i;

	if (name_tld(e->pq->name, e->pq->namelen, tld, sizeof(tld)) == 0)
		for (i = 0; i < cr->ntlds; i++)
			if (strcmp(cr->tlds[i], tld) == 0) {
				trace(e, "      tld: '%s' is listed\n", tld);
				return 1;
			}
	trace(e, "      tld: not listed\n");
	return 0;
}

/*
 * For explain: the text of line `line` of a feed file (read again here;
 * explain is not on the query path), cut to fit buf.
 */
static const char *
feed_line_text(const char *path, uint32_t line, char *buf, size_t bufsz)
{
	FILE	*f;
	uint32_t n = 0;
	int	 c;
	size_t	 i = 0;

	buf[0] = '\0';
	if (line == 0 || (f = fopen(path, "r")) == NULL)
		return buf;
	while (n + 1 < line && (c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	while ((c = getc(f)) != EOF && c != '\n' && c != '\r' &&
	    i + 1 < bufsz)
		buf[i++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	buf[i] = '\0';
	fclose(f);
	return buf;
}

/* The first feed of the rule listing the name (exceptions do not). */
static int
match_feeds(struct eval *e, const struct prule *r, struct feed_hit *hit,
    const struct feed **which)
{
	char	 buf[WIRE_NAME_STRLEN];
	size_t	 i;

	for (i = 0; i < r->cr->nfeeds; i++) {
		if (!feed_lookup(r->feeds[i], e->pq->name, e->pq->namelen, hit)) {
			trace(e, "      feed %s: not listed\n",
			    feed_id(r->feeds[i]));
			continue;
		}
		if (e->trace != NULL) {
			const char *path = e->p->cfg->feeds[r->cr->feeds[i]].path;
			char	 text[160];

			trace(e, "      feed %s: entry %s%s (%s", feed_id(r->feeds[i]),
			    hit->scope == FEED_SCOPE_BELOW ? "*." : "",
			    trace_name(e->pq->name + hit->offset,
			    e->pq->namelen - hit->offset, buf, sizeof(buf)),
			    path);
			/* The running daemon's feeds keep no line numbers. */
			if (hit->line != 0)
				trace(e, " line %u: \"%s\"", hit->line,
				    feed_line_text(path, hit->line, text,
				    sizeof(text)));
			trace(e, ")%s\n", hit->action == FEED_EXCEPTION ?
			    " is an exception: not listed" : "");
		}
		if (hit->action == FEED_EXCEPTION)
			continue;
		*which = r->feeds[i];
		return 1;
	}
	return 0;
}

/* Is hit a stronger answer-ip match than best? A block beats passthru. */
static int
ip_hit_better(const struct feed_ip_hit *hit, const struct feed_ip_hit *best)
{
	int	 hp = hit->action == FEED_PASSTHRU;
	int	 bp = best->action == FEED_PASSTHRU;

	if (hp != bp)
		return bp;
	return hit->plen > best->plen;
}

/*
 * A failed geo lookup is counted and traced; it matches no country or AS
 * (the databases were verified when opened, so it should not happen).
 */
static void
geo_failed(struct eval *e, const char *what, const char *why)
{
	unsigned long	 n;

	n = atomic_fetch_add_explicit(&((struct policy *)e->p)->geo_errors, 1,
	    memory_order_relaxed) + 1;
	/* Never silent; never a flood either. */
	if (n == 1 || n % 10000 == 0)
		log_warnx("geo: %s lookup failed (%lu so far): %s", what, n,
		    why ? why : "?");
	trace(e, "      %s: lookup failed: %s\n", what, why ? why : "?");
}

/* A country lookup's outcome: 0 with cc ("GB", "??" unknown), or -1. */
static int
country_result(struct eval *e, enum geo_result r, char cc[3],
    const char *why)
{
	switch (r) {
	case GEO_FOUND:
		return 0;
	case GEO_UNKNOWN:
		memcpy(cc, "??", 3);
		return 0;
	default:
		geo_failed(e, "country", why);
		return -1;
	}
}

static int
addr_country(struct eval *e, int af, const uint8_t *a, char cc[3])
{
	const char	*why = NULL;

	return country_result(e, geo_country_addr(e->p->country, af, a, cc,
	    &why), cc, why);
}

static int
cc_listed(const char (*list)[3], size_t n, const char cc[3])
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (list[i][0] == cc[0] && list[i][1] == cc[1])
			return 1;
	return 0;
}

static const char *
cc_text(const char cc[3])
{
	return cc[0] == '?' ? "unknown" : cc;
}

/* client-country: where the client's address is registered. */
static int
match_client_country(struct eval *e, const struct config_rule *cr)
{
	const char	*why = NULL;
	char		 cc[3];

	if (country_result(e, geo_country(e->p->country, e->pq->client, cc,
	    &why), cc, why) == -1)
		return 0;
	if (cc_listed(cr->client_countries, cr->nclient_countries, cc)) {
		trace(e, "      client-country: %s is listed\n", cc_text(cc));
		return 1;
	}
	trace(e, "      client-country: %s not listed\n", cc_text(cc));
	return 0;
}

/*
 * The answer conditions of a rule (answer-ip, answer-country, answer-asn),
 * all against the same address: an address matches when it meets every
 * one the rule has.  Of the addresses that match, an answer-ip rule takes
 * the one whose feed entry is not an rpz-ip passthru, then the longest
 * prefix (so the order of the records, which the answering zone chooses,
 * cannot turn a block into a passthru); other rules take the first.
 */
static int
addr_answer_ip(struct eval *e, const struct prule *r,
    const struct policy_addr *pa, struct feed_ip_hit *best, size_t *feed)
{
	struct feed_ip_hit	 hit;
	size_t			 j;
	int			 found = 0;

	for (j = 0; j < r->cr->nipfeeds; j++) {
		if (!feed_lookup_ip(r->ipfeeds[j], pa->af, pa->a, &hit))
			continue;
		if (!found || ip_hit_better(&hit, best)) {
			*best = hit;
			*feed = j;
			found = 1;
		}
	}
	return found;
}

static int
addr_in_country(struct eval *e, const struct config_rule *cr,
    const struct policy_addr *pa, char cc[3])
{
	return addr_country(e, pa->af, pa->a, cc) == 0 &&
	    cc_listed(cr->countries, cr->ncountries, cc);
}

static int
addr_in_asn(struct eval *e, const struct config_rule *cr,
    const struct policy_addr *pa, uint32_t *asn)
{
	const char	*why = NULL;
	size_t		 j;

	switch (geo_asn_addr(e->p->asn, pa->af, pa->a, asn, &why)) {
	case GEO_FOUND:
		break;
	case GEO_UNKNOWN:
		return 0;
	default:
		geo_failed(e, "asn", why);
		return 0;
	}
	for (j = 0; j < cr->nasns; j++)
		if (cr->asns[j] == *asn)
			return 1;
	return 0;
}

static int
match_answer(struct eval *e, const struct prule *r,
    const struct feed **which)
{
	const struct config_rule *cr = r->cr;
	struct feed_ip_hit	 hit, best;
	const struct policy_addr *bestaddr = NULL;
	char			 a[IPSET_STRLEN], pfx[IPSET_STRLEN], cc[3];
	size_t			 i, f = 0, bestf = 0;
	uint32_t		 asn;

	for (i = 0; i < e->pq->naddrs; i++) {
		const struct policy_addr *pa = &e->pq->addrs[i];

		if (cr->nipfeeds > 0 && !addr_answer_ip(e, r, pa, &hit, &f))
			continue;
		if (cr->ncountries > 0 && !addr_in_country(e, cr, pa, cc))
			continue;
		if (cr->nasns > 0 && !addr_in_asn(e, cr, pa, &asn))
			continue;
		if (e->trace != NULL) {
			if (inet_ntop(pa->af, pa->a, a, sizeof(a)) == NULL)
				snprintf(a, sizeof(a), "?");
			trace(e, "      answer address %s matches", a);
			if (cr->nipfeeds > 0)
				trace(e, " (answer-ip %s: %s, line %u)",
				    feed_id(r->ipfeeds[f]), ipset_format(hit.af,
				    hit.prefix, hit.plen, pfx, sizeof(pfx)),
				    hit.line);
			trace(e, "\n");
		}
		if (cr->nipfeeds == 0) {
			bestaddr = pa;
			break;
		}
		if (bestaddr == NULL || ip_hit_better(&hit, &best)) {
			bestaddr = pa;
			best = hit;
			bestf = f;
		}
	}
	if (bestaddr == NULL) {
		trace(e, "      no address of the answer meets the answer "
		    "conditions\n");
		return 0;
	}
	e->addr = bestaddr;
	if (cr->nipfeeds > 0) {
		e->iphit = best;
		*which = r->ipfeeds[bestf];
	}
	return 1;
}

/* The block response of a matched rule: its own, or the RPZ entry's. */
static void
block_response(struct eval *e, const struct prule *r,
    const struct feed_hit *hit)
{
	struct policy_result	*res = e->res;

	res->response = r->cr->response;
	res->override = &r->cr->override;
	if (res->response == RESP_AUTO && hit != NULL) {
		switch (hit->action) {
		case FEED_NODATA:
			res->response = RESP_NODATA;
			break;
		case FEED_DROP:
			res->response = RESP_DROP;
			break;
		case FEED_OVERRIDE:
			res->response = RESP_OVERRIDE;
			res->override = NULL;
			res->rrs = hit->rrs;
			res->nrrs = hit->nrrs;
			break;
		default:
			break;
		}
	}
	if (res->response == RESP_AUTO)
		res->response = RESP_NXDOMAIN;
	res->ede = EDE_BLOCKED;
	res->ttl = e->p->cfg->block_ttl;
}

/*
 * Do the rule's conditions all hold?  Fills the feed hit when a feed
 * condition matched.
 */
static int
rule_matches(struct eval *e, const struct prule *r, struct feed_hit *hit,
    const struct feed **feed)
{
	const struct config_rule *cr = r->cr;

	if (r->answer != (e->pq->phase == POLICY_ANSWER)) {
		trace(e, r->answer ? "      decided on the answer's addresses "
		    "(answer-ip)\n" : "      not an answer rule\n");
		return 0;
	}
	if (e->pq->phase == POLICY_REDIRECT && !r->redirect) {
		trace(e, "      not asked for redirect targets\n");
		return 0;
	}
	if (cr->nqtypes > 0 && !match_qtype(e, cr))
		return 0;
	if (cr->ntlds > 0 && !match_tld(e, cr))
		return 0;
	if (cr->nfeeds > 0 && !match_feeds(e, r, hit, feed))
		return 0;
	if (cr->nclient_countries > 0 && !match_client_country(e, cr))
		return 0;
	if (r->answer && !match_answer(e, r, feed))
		return 0;
	return 1;
}

static const char *
rule_reason(const struct config_rule *cr)
{
	if (cr->nipfeeds > 0)
		return "answer-ip";
	if (cr->ncountries > 0)
		return "answer-country";
	if (cr->nasns > 0)
		return "answer-asn";
	if (cr->nclient_countries > 0 && cr->nfeeds == 0 && cr->ntlds == 0 &&
	    cr->nqtypes == 0)
		return "client-country";
	if (cr->nfeeds > 0)
		return "feed";
	if (cr->ntlds > 0)
		return "tld";
	return "qtype";
}

/* A rule matched: fill the result; say whether evaluation stops. */
static int
rule_decide(struct eval *e, const struct pgroup *g, const struct prule *r,
    const struct feed_hit *hit, const struct feed *feed, uint32_t pos)
{
	struct policy_result	*res = e->res;
	struct feed_hit		 iph, *ahit = NULL;
	int			 byname = r->cr->nfeeds > 0 && feed != NULL &&
				    !r->answer;

	memset(res, 0, sizeof(*res));
	res->reason = rule_reason(r->cr);
	res->group = g->cg->name;
	res->rule = r->cr->name;
	res->pos = pos;
	res->feed = feed != NULL ? feed_id(feed) : NULL;
	if (r->answer && e->addr != NULL) {
		/* The name's own feed hit, if any, is not what decided. */
		byname = 0;
		res->addr_af = e->addr->af;
		memcpy(res->addr, e->addr->a, sizeof(res->addr));
		if (r->cr->nipfeeds > 0) {
			res->prefix_af = e->iphit.af;
			memcpy(res->prefix, e->iphit.prefix,
			    sizeof(res->prefix));
			res->plen = e->iphit.plen;
			res->line = e->iphit.line;
		}
		/* Where the address is, for the log. */
		if (e->p->country != NULL && addr_country(e, e->addr->af,
		    e->addr->a, res->country) == -1)
			res->country[0] = '\0';
		if (e->p->asn != NULL && geo_asn_addr(e->p->asn, e->addr->af,
		    e->addr->a, &res->asn, NULL) == GEO_ERROR)
			res->asn = 0;
	}
	if (byname) {
		res->matched_off = hit->offset;
		res->line = hit->line;
	}
	if (r->answer && e->addr != NULL && r->cr->nipfeeds > 0 &&
	    r->cr->action != RULE_ALERT) {
		/* An rpz-ip trigger's action stands for the feed entry's. */
		memset(&iph, 0, sizeof(iph));
		iph.action = e->iphit.action;
		iph.line = e->iphit.line;
		ahit = &iph;
	}
	if (r->cr->action != RULE_ALERT &&
	    ((byname && hit->action == FEED_PASSTHRU) ||
	    (ahit != NULL && ahit->action == FEED_PASSTHRU))) {
		/*
		 * RPZ rpz-passthru: the feed itself says allow.  An alert rule
		 * only logs: it never decides, so it is not asked here.
		 */
		res->verdict = POLICY_ALLOW;
		res->action = DLOG_ACTION_ALLOW;
		return 1;
	}
	switch (r->cr->action) {
	case RULE_ALLOW:
		res->verdict = POLICY_ALLOW;
		res->action = DLOG_ACTION_ALLOW;
		return 1;
	case RULE_BLOCK:
		res->verdict = POLICY_BLOCK;
		res->action = DLOG_ACTION_BLOCK;
		block_response(e, r, byname ? hit : ahit);
		return 1;
	case RULE_ALERT:
		if (!e->alerted) {
			e->alerted = 1;
			e->alert = *res;
			e->alert.action = DLOG_ACTION_ALERT;
		}
		return 0;
	}
	return 0;
}

static enum policy_verdict
eval_group(struct eval *e, const struct pgroup *g)
{
	size_t	 i;

	for (i = 0; i < g->nrules; i++) {
		const struct prule	*r = &g->rules[i];
		struct feed_hit		 hit;
		const struct feed	*feed = NULL;
		uint32_t		 pos = r->rank;
		int			 m;

		if (e->pq->phase == POLICY_ANSWER && pos >= e->pq->stop)
			return POLICY_NEXT;

		trace(e, "    rule %s (priority %d, %s):\n", r->cr->name,
		    r->cr->priority, r->cr->action == RULE_ALLOW ? "allow" :
		    r->cr->action == RULE_BLOCK ? "block" : "alert");
		memset(&hit, 0, sizeof(hit));
		m = rule_matches(e, r, &hit, &feed);
		trace(e, "      => %s\n", m ? "MATCH" : "no match");
		if (m && rule_decide(e, g, r, &hit, feed, pos))
			return e->res->verdict;
	}
	return POLICY_NEXT;
}

/* ---- stages ------------------------------------------------------- */

static enum policy_verdict
stage_groups(struct eval *e)
{
	size_t	 i;

	for (i = 0; i < e->p->ngroups; i++) {
		const struct pgroup	*g = &e->p->groups[i];
		enum policy_verdict	 v;

		if (g->cg->clients != NULL &&
		    !acl_match(g->cg->clients, e->pq->client)) {
			trace(e, "  group %s (priority %d): client not in "
			    "scope, skipped\n", g->cg->name, g->cg->priority);
			continue;
		}
		trace(e, "  group %s (priority %d):\n", g->cg->name,
		    g->cg->priority);
		if ((v = eval_group(e, g)) != POLICY_NEXT)
			return v;
	}
	return POLICY_NEXT;
}

/* policy.default; not for redirect targets (see policy.h). */
static enum policy_verdict
stage_default(struct eval *e)
{
	struct policy_result	*res = e->res;

	memset(res, 0, sizeof(*res));
	res->reason = "default";
	res->pos = POLICY_POS_END;
	if (e->pq->phase != POLICY_QUERY) {
		res->verdict = POLICY_ALLOW;
		res->action = DLOG_ACTION_ALLOW;
	} else if (e->p->cfg->policy_default == RULE_BLOCK) {
		res->verdict = POLICY_BLOCK;
		res->action = DLOG_ACTION_BLOCK;
		res->response = RESP_NXDOMAIN;
		res->ede = EDE_FILTERED;
		res->ttl = e->p->cfg->block_ttl;
	} else {
		res->verdict = POLICY_ALLOW;
		res->action = DLOG_ACTION_ALLOW;
	}
	trace(e, "  default: %s\n", res->verdict == POLICY_BLOCK ?
	    "block" : "allow");
	return res->verdict;
}

static const struct {
	const char	*name;
	policy_stage_fn	 run;
} stages[] = {
	{ "groups",	stage_groups },
	{ "default",	stage_default },
};

static void
policy_eval(struct eval *e)
{
	size_t	 i;

	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (stages[i].run(e) != POLICY_NEXT)
			break;
	/* An alert shows in the record when the name is let through. */
	if (e->alerted && e->res->verdict == POLICY_ALLOW &&
	    e->res->rule == NULL) {
		*e->res = e->alert;
		e->res->verdict = POLICY_ALLOW;
		e->res->pos = POLICY_POS_END;	/* alerts do not decide */
	}
}

int
policy_has_answer_rules(const struct policy *p)
{
	return p->answer_rules;
}

void
policy_check(const struct policy *p, const struct policy_query *pq,
    struct policy_result *res)
{
	struct eval	 e;

	memset(&e, 0, sizeof(e));
	e.p = p;
	e.pq = pq;
	e.res = res;
	policy_eval(&e);
}

void
policy_explain(const struct policy *p, const struct policy_query *pq,
    FILE *out, struct policy_result *res)
{
	struct eval	 e;

	memset(&e, 0, sizeof(e));
	e.p = p;
	e.pq = pq;
	e.res = res;
	e.trace = out;
	policy_eval(&e);
}
