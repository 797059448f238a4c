/*
 * dlog.c -- the decision log: per-worker rings drained by one writer thread.
 *
 * Ring: a single-producer/single-consumer byte ring per worker, power-of-two
 * sized, with free-running head (producer) and tail (consumer) counters.
 * An entry is
 *
 *	struct dlog_ent (reply length, flags) | struct dlog_rec | reply bytes
 *
 * stored byte-wise and wrapping freely at the end of the buffer, so there is
 * no padding and no "skip to start" marker.  The producer publishes an entry
 * with a release store of head; the consumer frees space with a release
 * store of tail.  Nothing on the producer side locks or allocates.
 *
 * Replies longer than dlog->reply_cap (min(16 KiB, ring/4)) are not stored:
 * the record still goes through, its answers are logged as [] with
 * "answers_truncated":true.  16 KiB covers every UDP reply and nearly all TCP
 * ones; a bigger reply would cost a quarter of a small ring and a line of
 * tens of kilobytes.
 *
 * The writer sleeps on a condition variable for at most DLOG_IDLE_MS when
 * every ring is empty.  Producers never take the mutex: a producer that sees
 * its ring past half full while the writer is idle signals the condition
 * (without the mutex); a lost wakeup only costs one timeout.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "addr.h"
#include "dlog.h"
#include "ipset.h"
#include "wire.h"

#define DLOG_RING_MIN	4096		/* bytes; holds a few records */
#define DLOG_REPLY_MAX	16384		/* longest reply stored in a ring */
#define DLOG_IDLE_MS	20		/* writer's sleep when rings are empty */
#define DLOG_LINE_INIT	65536		/* initial size of the writer's line */
#define DLOG_CACHELINE	64

#define DLOG_ENT_TRUNCATED	0x1	/* reply was longer than reply_cap */

/* Header of one ring entry; struct dlog_rec and the reply follow. */
struct dlog_ent {
	uint32_t	reply_len;	/* bytes of reply stored */
	uint32_t	flags;
};

#define DLOG_ENT_FIXED	(sizeof(struct dlog_ent) + sizeof(struct dlog_rec))

/* Producer and consumer fields on separate cache lines. */
struct dlog_ring {
	_Alignas(DLOG_CACHELINE) _Atomic size_t head;	/* written by worker */
	size_t		tail_seen;	/* worker's last look at tail */

	_Alignas(DLOG_CACHELINE) _Atomic size_t tail;	/* written by writer */

	_Alignas(DLOG_CACHELINE) uint8_t *buf;
	size_t		size;		/* power of two */
};

struct dlog {
	struct dlog_ring **rings;
	unsigned	nrings;
	size_t		reply_cap;

	_Atomic uint64_t dropped;
	_Atomic uint64_t written;
	atomic_int	reopen;		/* set from a signal handler */
	atomic_int	stop;
	atomic_int	idle;		/* writer is (about to be) asleep */

	pthread_mutex_t	lock;		/* only for the writer's timed wait */
	pthread_cond_t	wake;
	pthread_t	thread;
	int		running;

	/* Writer-owned from here on. */
	char		*path;
	FILE		*file;
	int		 to_stdout;
	int		 to_syslog;
	int		 dirty;		/* written since the last flush */
	int		 write_failed;	/* warned about a write error */
	char		*line;
	size_t		 linesz;
	uint8_t		*reply;		/* reply_cap bytes */
};

/* A bounded output buffer that keeps counting past its end, as snprintf. */
struct dlog_out {
	char	*buf;
	size_t	 size;
	size_t	 len;		/* bytes needed so far */
};

static const char *dlog_rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"
};

static const char *dlog_actions[] = { "NONE", "ALLOW", "BLOCK", "ALERT" };

/*
 * JSON escaping.
 */

/* The escape of byte c into esc (at most 6 bytes, no NUL). */
static size_t
dlog_escape_byte(unsigned char c, char *esc)
{
	static const char hex[] = "0123456789abcdef";
	char	short_form;

	switch (c) {
	case '"':	short_form = '"'; break;
	case '\\':	short_form = '\\'; break;
	case '\b':	short_form = 'b'; break;
	case '\f':	short_form = 'f'; break;
	case '\n':	short_form = 'n'; break;
	case '\r':	short_form = 'r'; break;
	case '\t':	short_form = 't'; break;
	default:
		if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			return 1;
		}
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
		return 6;
	}
	esc[0] = '\\';
	esc[1] = short_form;
	return 2;
}

size_t
dlog_json_escape(const char *src, size_t len, char *out, size_t outsz)
{
	char	esc[8];
	size_t	i = 0, n, need = 0, k, run;

	while (i < len) {
		/* Runs of plain printable ASCII are copied whole. */
		for (run = 0; i + run < len; run++) {
			unsigned char c = (unsigned char)src[i + run];

			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
				break;
		}
		if (run > 0) {
			if (need + 1 < outsz)
				memcpy(out + need, src + i, need + run + 1 <
				    outsz ? run : outsz - need - 1);
			need += run;
			i += run;
			continue;
		}
		n = dlog_escape_byte((unsigned char)src[i++], esc);
		for (k = 0; k < n; k++, need++)
			if (need + 1 < outsz)
				out[need] = esc[k];
	}
	if (outsz > 0)
		out[need < outsz ? need : outsz - 1] = '\0';
	return need;
}

/*
 * Formatting.
 */

static void
dlog_out_put(struct dlog_out *o, const char *s, size_t n)
{
	size_t	room;

	if (o->len + 1 < o->size) {
		room = o->size - o->len - 1;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
dlog_out_str(struct dlog_out *o, const char *s)
{
	dlog_out_put(o, s, strlen(s));
}

/* The JSON-escaped body of s[0..n), without quotes. */
static void
dlog_out_esc(struct dlog_out *o, const char *s, size_t n)
{
	char	*p = NULL;
	size_t	 room = 0;

	if (o->len < o->size) {
		p = o->buf + o->len;
		room = o->size - o->len;
	}
	o->len += dlog_json_escape(s, n, p, room);
}

/*
 * The writer formats every record, so the common pieces avoid printf and
 * allocation: keys and numbers are appended directly, the timestamp's
 * second is formatted once per second, type and class names come from
 * ldns' static descriptor table.
 */
static void
dlog_out_key(struct dlog_out *o, const char *key)
{
	dlog_out_put(o, ",\"", 2);
	dlog_out_put(o, key, strlen(key));
	dlog_out_put(o, "\":", 2);
}

static void
dlog_out_uint(struct dlog_out *o, unsigned long long v)
{
	char	 tmp[24];
	size_t	 i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	dlog_out_put(o, tmp + i, sizeof(tmp) - i);
}

/* ,"key":"escaped value" -- or null when val is NULL. */
static void
dlog_out_field(struct dlog_out *o, const char *key, const char *val)
{
	dlog_out_key(o, key);
	if (val == NULL) {
		dlog_out_str(o, "null");
		return;
	}
	dlog_out_put(o, "\"", 1);
	dlog_out_esc(o, val, strlen(val));
	dlog_out_put(o, "\"", 1);
}

/* Same for text that ldns allocated (NULL only when out of memory). */
static void
dlog_out_ldns(struct dlog_out *o, const char *key, char *val)
{
	dlog_out_field(o, key, val);
	free(val);
}

static void
dlog_out_time(struct dlog_out *o, const struct timespec *ts)
{
	static __thread time_t	 last = (time_t)-1;
	static __thread char	 secs[32];
	struct tm		 tm;
	long			 ms;
	char			 frac[8];

	if (ts->tv_sec != last) {
		if (gmtime_r(&ts->tv_sec, &tm) == NULL ||
		    strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S",
		    &tm) == 0) {
			last = (time_t)-1;
			dlog_out_str(o, "\"query_timestamp\":null");
			return;
		}
		last = ts->tv_sec;
	}
	ms = ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000 ?
	    ts->tv_nsec / 1000000 : 0;
	frac[0] = '.';
	frac[1] = (char)('0' + ms / 100);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	frac[4] = 'Z';
	frac[5] = '"';
	dlog_out_str(o, "\"query_timestamp\":\"");
	dlog_out_str(o, secs);
	dlog_out_put(o, frac, 6);
}

/* "A", "MX", ... without allocating; "TYPE65280" for unknown types. */
static void
dlog_out_type(struct dlog_out *o, const char *key, uint16_t type)
{
	char	 buf[16];

	dlog_out_field(o, key, wire_type_name(type, buf, sizeof(buf)));
}

static void
dlog_out_class(struct dlog_out *o, const char *key, uint16_t rrclass)
{
	if (rrclass == LDNS_RR_CLASS_IN)
		dlog_out_field(o, key, "IN");
	else
		dlog_out_ldns(o, key, ldns_rr_class2str(rrclass));
}

static void
dlog_out_client(struct dlog_out *o, const struct dlog_rec *rec)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&rec->src;
	char			 ip[INET6_ADDRSTRLEN];

	ip[0] = '\0';
	if (sa->sa_family == AF_INET) {
		/* inet_ntop() goes through sprintf; this is every record. */
		const uint8_t *b = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		int	 i;

		dlog_out_str(o, ",\"srcaddr\":\"");
		for (i = 0; i < 4; i++) {
			if (i > 0)
				dlog_out_put(o, ".", 1);
			dlog_out_uint(o, b[i]);
		}
		dlog_out_put(o, "\"", 1);
	} else {
		addr_ip_str(sa, ip, sizeof(ip));
		dlog_out_field(o, "srcaddr", ip);
	}
	dlog_out_key(o, "srcport");
	dlog_out_uint(o, addr_port(sa));
	dlog_out_field(o, "transport",
	    rec->transport == DLOG_TCP ? "TCP" : "UDP");
}

static void
dlog_out_question(struct dlog_out *o, const struct dlog_rec *rec)
{
	char	name[WIRE_NAME_STRLEN];

	if (rec->qname_len == 0) {
		dlog_out_str(o, ",\"query_name\":null,\"query_type\":null,"
		    "\"query_class\":null");
		return;
	}
	wire_name_to_str(rec->qname, rec->qname_len, name, sizeof(name));
	dlog_out_field(o, "query_name", name);
	dlog_out_type(o, "query_type", rec->qtype);
	dlog_out_class(o, "query_class", rec->qclass);
}

static void
dlog_out_rcode(struct dlog_out *o, int rcode)
{
	char	tmp[32];

	if (rcode < 0) {
		dlog_out_field(o, "rcode", NULL);
		return;
	}
	if ((size_t)rcode < sizeof(dlog_rcodes) / sizeof(dlog_rcodes[0]))
		dlog_out_field(o, "rcode", dlog_rcodes[rcode]);
	else if (rcode == DNS_RCODE_BADVERS)
		dlog_out_field(o, "rcode", "BADVERS");
	else {
		snprintf(tmp, sizeof(tmp), "RCODE%d", rcode);
		dlog_out_field(o, "rcode", tmp);
	}
}

/* One answer: {"Rdata":"f1 f2 ...","Type":"A","Class":"IN"} */
static void
dlog_out_rr(struct dlog_out *o, const ldns_rr *rr)
{
	char	*s;
	size_t	 i;

	dlog_out_str(o, "{\"Rdata\":\"");
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			dlog_out_put(o, " ", 1);
		if ((s = ldns_rdf2str(ldns_rr_rdf(rr, i))) != NULL)
			dlog_out_esc(o, s, strlen(s));
		free(s);
	}
	dlog_out_put(o, "\"", 1);
	dlog_out_type(o, "Type", ldns_rr_get_type(rr));
	dlog_out_class(o, "Class", ldns_rr_get_class(rr));
	dlog_out_put(o, "}", 1);
}

/* A wire name whose labels hold only [A-Za-z0-9_-]: printed as is. */
static int
dlog_plain_name(const uint8_t *name, size_t len)
{
	size_t	 p = 0, i;

	while (p < len && name[p] != 0) {
		for (i = p + 1; i <= p + name[p] && i < len; i++) {
			uint8_t	 c = name[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return 0;
		}
		p += (size_t)name[p] + 1;
	}
	return 1;
}

/*
 * The answer records of the common kinds (IN class A, AAAA, and the name
 * types CNAME, DNAME, NS, PTR with plain names), formatted straight from
 * the wire exactly as ldns would print them.  Returns 0 when one record is
 * of another kind (nothing written: the caller uses ldns), 1 when done.
 */
static int
dlog_out_answers_fast(struct dlog_out *o, const uint8_t *pkt, size_t len)
{
	struct wire_question	 q;
	uint8_t			 name[DNS_MAX_NAME];
	char			 text[WIRE_NAME_STRLEN];
	size_t			 p, rdpos, nlen, np;
	uint16_t		 type, rdlen;
	unsigned		 i, an = DNS_ANCOUNT(pkt), pass;

	if (wire_question(pkt, len, &q) == -1)
		return 0;
	/* Pass 0 checks every record, pass 1 writes. */
	for (pass = 0; pass < 2; pass++) {
		p = q.end;
		for (i = 0; i < an; i++) {
			if (wire_skip_rr(pkt, len, &p, &type, &rdpos,
			    &rdlen) == -1 ||
			    wire_get16(pkt + rdpos - 8) != DNS_CLASS_IN)
				return 0;
			switch (type) {
			case DNS_TYPE_A:
				if (rdlen != 4)
					return 0;
				if (pass == 0)
					continue;
				snprintf(text, sizeof(text), "%u.%u.%u.%u",
				    pkt[rdpos], pkt[rdpos + 1], pkt[rdpos + 2],
				    pkt[rdpos + 3]);
				break;
			case DNS_TYPE_AAAA:
				if (rdlen != 16)
					return 0;
				if (pass == 0)
					continue;
				if (inet_ntop(AF_INET6, pkt + rdpos, text,
				    sizeof(text)) == NULL)
					return 0;
				break;
			case DNS_TYPE_CNAME:
			case DNS_TYPE_DNAME:
			case DNS_TYPE_NS:
			case DNS_TYPE_PTR:
				np = rdpos;
				if (wire_read_name(pkt, len, &np, name,
				    &nlen) == -1 || np != rdpos + rdlen ||
				    !dlog_plain_name(name, nlen))
					return 0;
				if (pass == 0)
					continue;
				wire_name_to_str(name, nlen, text, sizeof(text));
				break;
			default:
				return 0;
			}
			if (i > 0)
				dlog_out_put(o, ",", 1);
			dlog_out_str(o, "{\"Rdata\":\"");
			dlog_out_str(o, text);
			dlog_out_put(o, "\"", 1);
			dlog_out_type(o, "Type", type);
			dlog_out_str(o, ",\"Class\":\"IN\"}");
		}
	}
	return 1;
}

/* "answers":[...] from the reply's answer section; [] if it won't parse. */
static void
dlog_out_answers(struct dlog_out *o, const uint8_t *reply, size_t reply_len,
    int truncated)
{
	ldns_pkt	*pkt = NULL;
	ldns_rr_list	*an;
	size_t		 i;

	dlog_out_str(o, ",\"answers\":[");
	/*
	 * Parsing is the writer's main cost; replies without answer records
	 * (every block, NXDOMAIN, NODATA and error) need none.
	 */
	if (reply != NULL && reply_len >= DNS_HDR_LEN &&
	    DNS_ANCOUNT(reply) > 0 &&
	    !dlog_out_answers_fast(o, reply, reply_len) &&
	    ldns_wire2pkt(&pkt, reply, reply_len) == LDNS_STATUS_OK) {
		an = ldns_pkt_answer(pkt);
		for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
			if (i > 0)
				dlog_out_put(o, ",", 1);
			dlog_out_rr(o, ldns_rr_list_rr(an, i));
		}
	}
	ldns_pkt_free(pkt);
	dlog_out_put(o, "]", 1);
	if (truncated)
		dlog_out_str(o, ",\"answers_truncated\":true");
}

static void
dlog_out_outcome(struct dlog_out *o, const struct dlog_rec *rec)
{
	char	up[ADDR_STRLEN];

	dlog_out_field(o, "firewall_rule_action",
	    (unsigned)rec->action < sizeof(dlog_actions) /
	    sizeof(dlog_actions[0]) ? dlog_actions[rec->action] : "NONE");
	dlog_out_field(o, "firewall_rule_group_id",
	    rec->group[0] != '\0' ? rec->group : NULL);
	dlog_out_field(o, "rule", rec->rule[0] != '\0' ? rec->rule : NULL);
	dlog_out_field(o, "firewall_domain_list_id",
	    rec->feed[0] != '\0' ? rec->feed : NULL);
	if (rec->matched_len > 0) {
		char	 name[WIRE_NAME_STRLEN];

		wire_name_to_str(rec->matched, rec->matched_len, name,
		    sizeof(name));
		dlog_out_field(o, "matched_name", name);
	} else
		dlog_out_field(o, "matched_name", NULL);
	if (rec->answer_af != 0) {
		char	 a[IPSET_STRLEN];

		if (inet_ntop(rec->answer_af, rec->answer_addr, a,
		    sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		dlog_out_field(o, "answer_ip", a);
		if (rec->prefix_af != 0)
			dlog_out_field(o, "matched_prefix", ipset_format(
			    rec->prefix_af, rec->prefix, rec->plen, a,
			    sizeof(a)));
		if (rec->answer_country[0] != '\0')
			dlog_out_field(o, "answer_country",
			    rec->answer_country[0] == '?' ? "unknown" :
			    rec->answer_country);
		if (rec->answer_asn != 0) {
			dlog_out_key(o, "answer_asn");
			dlog_out_uint(o, rec->answer_asn);
		}
	}
	if (rec->reason != NULL)
		dlog_out_field(o, "reason", rec->reason);
	if (rec->recursion)
		dlog_out_field(o, "upstream", "recursion");
	else if (rec->has_upstream) {
		up[0] = '\0';
		addr_str(&rec->upstream, up, sizeof(up));
		dlog_out_field(o, "upstream", up);
	}
	if (rec->zone_len > 0) {
		char	 name[WIRE_NAME_STRLEN];

		wire_name_to_str(rec->zone, rec->zone_len, name,
		    sizeof(name));
		/* "a.b." as the configuration writes it: "a.b". */
		if (strlen(name) > 1 && name[strlen(name) - 1] == '.')
			name[strlen(name) - 1] = '\0';
		dlog_out_field(o, "zone", name);
	}
	if (rec->fallback)
		dlog_out_str(o, ",\"fallback\":true");
	if (rec->cache != NULL)
		dlog_out_field(o, "cache", rec->cache);
	dlog_out_key(o, "latency_us");
	dlog_out_uint(o, rec->latency_us);
	dlog_out_key(o, "id");
	dlog_out_uint(o, rec->worker < 0 ? 0 : (unsigned)rec->worker);
}

static size_t
dlog_format_ent(const struct dlog_rec *rec, const uint8_t *reply,
    size_t reply_len, int truncated, char *buf, size_t bufsz)
{
	struct dlog_out	o = { buf, bufsz, 0 };

	dlog_out_put(&o, "{", 1);
	dlog_out_time(&o, &rec->ts);
	dlog_out_client(&o, rec);
	dlog_out_question(&o, rec);
	dlog_out_rcode(&o, rec->rcode);
	dlog_out_answers(&o, reply, reply_len, truncated);
	dlog_out_outcome(&o, rec);
	dlog_out_put(&o, "}", 1);
	if (bufsz > 0)
		buf[o.len < bufsz ? o.len : bufsz - 1] = '\0';
	return o.len;
}

size_t
dlog_format(const struct dlog_rec *rec, const uint8_t *reply,
    size_t reply_len, char *buf, size_t bufsz)
{
	return dlog_format_ent(rec, reply, reply_len, 0, buf, bufsz);
}

/*
 * Rings.
 */

static struct dlog_ring *
dlog_ring_new(size_t size)
{
	struct dlog_ring	*r;

	/* calloc would not honour the cache-line alignment of the type. */
	if (posix_memalign((void **)&r, DLOG_CACHELINE, sizeof(*r)) != 0)
		return NULL;
	memset(r, 0, sizeof(*r));
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->size = size;
	if ((r->buf = malloc(size)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void
dlog_ring_free(struct dlog_ring *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

/* Copy n bytes into the ring at free-running position pos. */
static void
dlog_ring_put(struct dlog_ring *r, size_t pos, const void *src, size_t n)
{
	size_t	off = pos & (r->size - 1);
	size_t	first = n < r->size - off ? n : r->size - off;

	if (n == 0)
		return;
	memcpy(r->buf + off, src, first);
	memcpy(r->buf, (const uint8_t *)src + first, n - first);
}

static void
dlog_ring_get(const struct dlog_ring *r, size_t pos, void *dst, size_t n)
{
	size_t	off = pos & (r->size - 1);
	size_t	first = n < r->size - off ? n : r->size - off;

	if (n == 0)
		return;
	memcpy(dst, r->buf + off, first);
	memcpy((uint8_t *)dst + first, r->buf, n - first);
}

/* Room for need bytes at head?  Re-reads tail only when the cache says no. */
static int
dlog_ring_room(struct dlog_ring *r, size_t head, size_t need)
{
	if (r->size - (head - r->tail_seen) >= need)
		return 1;
	r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->size - (head - r->tail_seen) >= need;
}

/* Past half full and the writer asleep: wake it, without the mutex. */
static void
dlog_nudge(struct dlog *d, struct dlog_ring *r, size_t head)
{
	if (head - r->tail_seen < r->size / 2)
		return;
	/*
	 * tail_seen is only refreshed when the ring looks full; look at the
	 * real tail before waking the writer, or a stale view would wake it
	 * on every record (measured: 16k wakeups a second, each one taking
	 * the core from the worker).
	 */
	r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - r->tail_seen < r->size / 2)
		return;
	if (atomic_load_explicit(&d->idle, memory_order_relaxed) &&
	    atomic_exchange_explicit(&d->idle, 0, memory_order_relaxed))
		pthread_cond_signal(&d->wake);
}

void
dlog_submit(struct dlog *d, unsigned worker, const struct dlog_rec *rec,
    const uint8_t *reply, size_t reply_len)
{
	struct dlog_ring	*r;
	struct dlog_ent		 ent = { 0, 0 };
	size_t			 head;

	if (worker >= d->nrings) {
		atomic_fetch_add_explicit(&d->dropped, 1, memory_order_relaxed);
		return;
	}
	r = d->rings[worker];
	if (reply == NULL)
		reply_len = 0;
	if (reply_len > d->reply_cap)
		ent.flags = DLOG_ENT_TRUNCATED;
	else
		ent.reply_len = (uint32_t)reply_len;

	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (!dlog_ring_room(r, head, DLOG_ENT_FIXED + ent.reply_len)) {
		atomic_fetch_add_explicit(&d->dropped, 1, memory_order_relaxed);
		return;
	}
	dlog_ring_put(r, head, &ent, sizeof(ent));
	dlog_ring_put(r, head + sizeof(ent), rec, sizeof(*rec));
	dlog_ring_put(r, head + DLOG_ENT_FIXED, reply, ent.reply_len);
	head += DLOG_ENT_FIXED + ent.reply_len;
	atomic_store_explicit(&r->head, head, memory_order_release);
	dlog_nudge(d, r, head);
}

/*
 * Sinks.
 */

/* Open path for appending, created mode 0640. */
static FILE *
dlog_open(const char *path, char *err, size_t errsz)
{
	FILE	*f;
	int	 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1 || (f = fdopen(fd, "a")) == NULL) {
		snprintf(err, errsz, "open %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	/*
	 * Large writes: the writer flushes whenever the rings run dry, and
	 * between those points one write(2) per 256 KiB, not per 4 KiB.
	 */
	setvbuf(f, NULL, _IOFBF, 256 * 1024);
	return f;
}

static void
dlog_reopen_file(struct dlog *d)
{
	FILE	*f;
	char	 err[512];

	if (d->path == NULL)
		return;
	if ((f = dlog_open(d->path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsward: decision log: %s; "
		    "still writing the old file\n", err);
		return;
	}
	if (fclose(d->file) != 0)
		fprintf(stderr, "dnsward: decision log: close %s: %s\n",
		    d->path, strerror(errno));
	d->file = f;
}

/* Warn once per run of failures, so a full disk does not flood stderr. */
static void
dlog_check_write(struct dlog *d, int ok, const char *what)
{
	if (ok) {
		d->write_failed = 0;
		return;
	}
	if (!d->write_failed)
		fprintf(stderr, "dnsward: decision log: write %s: %s\n",
		    what, strerror(errno));
	d->write_failed = 1;
}

/* Write line[0..len) (NUL at len, room for a newline) to every sink. */
static void
dlog_emit(struct dlog *d, char *line, size_t len)
{
	if (d->to_syslog)
		syslog(LOG_INFO, "%s", line);
	line[len] = '\n';
	if (d->file != NULL)
		dlog_check_write(d, fwrite(line, 1, len + 1, d->file) ==
		    len + 1, d->path);
	if (d->to_stdout)
		dlog_check_write(d, fwrite(line, 1, len + 1, stdout) ==
		    len + 1, "stdout");
	d->dirty = 1;
}

static void
dlog_flush(struct dlog *d)
{
	if (!d->dirty)
		return;
	if (d->file != NULL)
		dlog_check_write(d, fflush(d->file) == 0, d->path);
	if (d->to_stdout)
		dlog_check_write(d, fflush(stdout) == 0, "stdout");
	d->dirty = 0;
}

/*
 * Writer.
 */

/* Format into d->line, growing it for the rare huge answer section. */
static size_t
dlog_format_line(struct dlog *d, const struct dlog_rec *rec, size_t rlen,
    int truncated)
{
	size_t	 n;
	char	*p;

	n = dlog_format_ent(rec, d->reply, rlen, truncated, d->line,
	    d->linesz);
	if (n + 2 <= d->linesz)
		return n;
	if ((p = realloc(d->line, n + 2)) == NULL)
		return (size_t)-1;
	d->line = p;
	d->linesz = n + 2;
	return dlog_format_ent(rec, d->reply, rlen, truncated, d->line,
	    d->linesz);
}

/* Consume every entry that was in ring r when we looked.  Returns count. */
static size_t
dlog_drain_ring(struct dlog *d, struct dlog_ring *r)
{
	struct dlog_ent	 ent;
	struct dlog_rec	 rec;
	size_t		 head, tail, n, count = 0;

	head = atomic_load_explicit(&r->head, memory_order_acquire);
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	while (tail != head) {
		dlog_ring_get(r, tail, &ent, sizeof(ent));
		dlog_ring_get(r, tail + sizeof(ent), &rec, sizeof(rec));
		dlog_ring_get(r, tail + DLOG_ENT_FIXED, d->reply,
		    ent.reply_len);
		tail += DLOG_ENT_FIXED + ent.reply_len;
		/* The copy is ours: hand the space back before formatting. */
		atomic_store_explicit(&r->tail, tail, memory_order_release);
		n = dlog_format_line(d, &rec, ent.reply_len,
		    ent.flags & DLOG_ENT_TRUNCATED);
		if (n == (size_t)-1) {
			atomic_fetch_add_explicit(&d->dropped, 1,
			    memory_order_relaxed);
			continue;
		}
		dlog_emit(d, d->line, n);
		atomic_fetch_add_explicit(&d->written, 1,
		    memory_order_relaxed);
		count++;
	}
	return count;
}

static size_t
dlog_drain(struct dlog *d)
{
	size_t		count = 0;
	unsigned	i;

	for (i = 0; i < d->nrings; i++)
		count += dlog_drain_ring(d, d->rings[i]);
	return count;
}

/* Sleep until nudged or DLOG_IDLE_MS pass. */
static void
dlog_idle(struct dlog *d)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += DLOG_IDLE_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	atomic_store_explicit(&d->idle, 1, memory_order_relaxed);
	pthread_mutex_lock(&d->lock);
	if (!atomic_load(&d->stop))
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
	atomic_store_explicit(&d->idle, 0, memory_order_relaxed);
}

/*
 * The writer's loop; dlog_free() also runs it on its own thread, with stop
 * already set, when the writer was never started.  stop is read before the
 * drain so that everything submitted before dlog_free() is written.
 */
static void *
dlog_writer(void *arg)
{
	struct dlog	*d = arg;
	int		 stop;

	for (;;) {
		stop = atomic_load_explicit(&d->stop, memory_order_acquire);
		if (atomic_exchange(&d->reopen, 0))
			dlog_reopen_file(d);
		if (dlog_drain(d) > 0)
			continue;
		dlog_flush(d);
		if (stop)
			break;
		dlog_idle(d);
	}
	return NULL;
}

/*
 * Life cycle.
 */

/* Ring size: a power of two, at least DLOG_RING_MIN.  0 if too large. */
static size_t
dlog_ring_size(size_t want)
{
	size_t	size = DLOG_RING_MIN;

	while (size < want) {
		if (size > SIZE_MAX / 2)
			return 0;
		size *= 2;
	}
	return size;
}

static int
dlog_init_sync(struct dlog *d)
{
	pthread_condattr_t	attr;
	int			rv = -1;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&d->wake, &attr) == 0) {
		if (pthread_mutex_init(&d->lock, NULL) == 0)
			rv = 0;
		else
			pthread_cond_destroy(&d->wake);
	}
	pthread_condattr_destroy(&attr);
	return rv;
}

static int
dlog_alloc(struct dlog *d, unsigned nworkers, size_t ringsz)
{
	unsigned	i;

	d->reply_cap = ringsz / 4 < DLOG_REPLY_MAX ? ringsz / 4 :
	    DLOG_REPLY_MAX;
	d->linesz = DLOG_LINE_INIT;
	if ((d->rings = calloc(nworkers, sizeof(*d->rings))) == NULL ||
	    (d->line = malloc(d->linesz)) == NULL ||
	    (d->reply = malloc(d->reply_cap)) == NULL)
		return -1;
	d->nrings = nworkers;
	for (i = 0; i < nworkers; i++)
		if ((d->rings[i] = dlog_ring_new(ringsz)) == NULL)
			return -1;
	return 0;
}

/* Free what dlog_new() built; the sinks are closed by the caller. */
static void
dlog_release(struct dlog *d)
{
	unsigned	i;

	for (i = 0; i < d->nrings; i++)
		dlog_ring_free(d->rings[i]);
	free(d->rings);
	free(d->line);
	free(d->reply);
	free(d->path);
	free(d);
}

static int
dlog_open_sinks(struct dlog *d, const struct dlog_sinks *sinks, char *err,
    size_t errsz)
{
	if (sinks->file != NULL) {
		if ((d->path = strdup(sinks->file)) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		if ((d->file = dlog_open(d->path, err, errsz)) == NULL)
			return -1;
	}
	d->to_stdout = sinks->to_stdout;
	d->to_syslog = sinks->to_syslog;
	if (d->to_syslog)
		openlog("dnsward", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return 0;
}

struct dlog *
dlog_new(const struct dlog_sinks *sinks, unsigned nworkers,
    size_t ring_bytes, char *err, size_t errsz)
{
	struct dlog	*d;
	size_t		 ringsz;

	if (nworkers == 0) {
		snprintf(err, errsz, "decision log: no workers");
		return NULL;
	}
	if ((ringsz = dlog_ring_size(ring_bytes)) == 0) {
		snprintf(err, errsz, "decision log: ring size %zu too large",
		    ring_bytes);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (dlog_alloc(d, nworkers, ringsz) == -1) {
		snprintf(err, errsz, "out of memory");
		dlog_release(d);
		return NULL;
	}
	if (dlog_init_sync(d) == -1) {
		snprintf(err, errsz, "decision log: cannot create lock");
		dlog_release(d);
		return NULL;
	}
	if (dlog_open_sinks(d, sinks, err, errsz) == -1) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		dlog_release(d);
		return NULL;
	}
	return d;
}

int
dlog_start(struct dlog *d)
{
	sigset_t	all, old;
	int		rv;

	if (d->running)
		return 0;
	/* Signals belong to the event loops, never to the writer. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&d->thread, NULL, dlog_writer, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		errno = rv;
		return -1;
	}
	d->running = 1;
	return 0;
}

void
dlog_reopen(struct dlog *d)
{
	atomic_store(&d->reopen, 1);
}

uint64_t
dlog_dropped(const struct dlog *d)
{
	return atomic_load_explicit(&d->dropped, memory_order_relaxed);
}

uint64_t
dlog_written(const struct dlog *d)
{
	return atomic_load_explicit(&d->written, memory_order_relaxed);
}

void
dlog_free(struct dlog *d)
{
	if (d == NULL)
		return;
	/* Under the lock, so the writer cannot miss the wakeup. */
	pthread_mutex_lock(&d->lock);
	atomic_store_explicit(&d->stop, 1, memory_order_release);
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	if (d->running)
		pthread_join(d->thread, NULL);
	else
		dlog_writer(d);
	if (d->file != NULL && fclose(d->file) != 0)
		fprintf(stderr, "dnsward: decision log: close %s: %s\n",
		    d->path, strerror(errno));
	if (d->to_syslog)
		closelog();
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	dlog_release(d);
}
