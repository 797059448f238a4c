/*
 * feed.c -- named domain lists loaded from files (see feed.h).
 *
 * A feed is read whole into one buffer and parsed in place, line by line,
 * with no allocation per line: each name goes straight from text to wire
 * form on the stack and into the set (domset.c).  RPZ local data, the one
 * thing only some entries have, lives in a side table looked up only when
 * an entry says it has some.
 *
 * RPZ zone files: ldns parses any record this file does not, but not the
 * common shapes.  ldns_rr_new_frm_str() alone takes 0.65 s for a million
 * "name CNAME ." lines on the reference machine (before inserting
 * anything), over the whole budget of a 1M-name load (0.5 s).  So single
 * line records "owner [ttl] [class] TYPE rdata" of types CNAME, A, AAAA,
 * SOA and NS, $ORIGIN and $TTL are parsed here; everything else (records
 * spanning lines in parentheses, quoted or escaped text, other types, odd
 * field orders) goes to ldns with the current origin and previous owner,
 * so odd-but-valid zones still load and invalid ones get ldns's reason.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "domset.h"
#include "ipset.h"
#include "feed.h"
#include "wire.h"

#define RPZ_LDNS_MAX	2048	/* longest record text handed to ldns */
#define DETECT_LINES	50	/* meaningful lines looked at by FEED_AUTO */
#define RPZ_DEFAULT_TTL	3600	/* no TTL and no $TTL: ldns's default */
#define NAMEBUF		(DNS_MAX_NAME + 1)
#define WHYSZ		128
#define MAX_TOKENS	16

#define TYPE_A		1
#define TYPE_NS		2
#define TYPE_CNAME	5
#define TYPE_SOA	6
#define TYPE_AAAA	28

/*
 * What some (record, scope) pairs have beyond the record's flags: RPZ
 * local data, or (when lines are tracked) the line of a scope that a
 * later line added to an existing record.  Sorted by (rec, scope).
 */
struct feed_side {
	uint32_t	 rec;
	uint32_t	 scope;
	uint32_t	 line;		/* 0: the record's own line */
	uint32_t	 rr;		/* first of nrr in feed.rrs */
	uint32_t	 nrr;
};

struct feed {
	atomic_uint	 refs;
	struct feed_stats st;		/* of this load */
	char		*path;		/* configuration it was loaded with */
	enum feed_format cfg_format;
	enum feed_match	 cfg_match;
	char		*id;
	enum feed_format format;	/* as read (auto resolved) */
	struct domset	*set;
	struct ipset	*ips;		/* addresses; NULL when none */
	int		 track;
	struct feed_side *side;
	size_t		 nside;
	struct feed_rr	*rrs;
	size_t		 nrrs;
	uint8_t		*rdata;		/* what rrs[].rdata point into */
};

/* RPZ local data seen while loading, keyed like feed_side. */
struct pend_rr {
	uint32_t	 rec;
	uint32_t	 scope;
	uint16_t	 type;
	uint16_t	 rdlen;
	uint32_t	 ttl;
	uint32_t	 rdoff;		/* into loader.rd */
};

/* A name waiting to be added (see queue_slot()). */
struct pending {
	uint32_t	 hash;
	uint32_t	 line;
	uint16_t	 klen;
	uint8_t		 scope;
	uint8_t		 act;
	uint8_t		 rpz;		/* an RPZ record: local data below */
	uint16_t	 type;
	uint16_t	 rdlen;
	uint32_t	 ttl;
	uint8_t		 key[NAMEBUF];
	uint8_t		 rd[NAMEBUF];
};

#define QDEPTH		16

/* State of an RPZ zone being read. */
struct rpz {
	uint8_t		 origin[NAMEBUF];	/* $ORIGIN, for relative names */
	size_t		 originlen;
	uint8_t		 apex[NAMEBUF];		/* triggers are relative to it */
	size_t		 apexlen;
	int		 apex_set;
	uint8_t		 prev[NAMEBUF];		/* owner of the last record */
	size_t		 prevlen;
	uint32_t	 ttl;			/* $TTL */
};

/* A growable array (the side tables only; never per name). */
struct vec {
	void		*p;
	size_t		 n, cap;
};

struct loader {
	const char	*path;
	struct feed_stats *st;
	feed_report_fn	 report;
	void		*arg;
	int		 track;
	unsigned	 plain_scope;	/* of a plain name: match: */
	size_t		 reported;
	const char	*p, *end;	/* the unread part of the buffer */
	uint32_t	 lineno;	/* last line read */
	uint32_t	 recline;	/* first line of the current entry */
	enum domset_add	 fatal;		/* DOMSET_ERR_*, or DOMSET_NEW */
	struct domset_build *b;
	struct ipset_builder *ib;	/* format: ip */
	struct vec	 rrs;		/* struct pend_rr */
	struct vec	 rd;		/* their rdata bytes */
	struct vec	 sides;		/* struct feed_side, lines only */
	struct pending	 q[QDEPTH];	/* names waiting to be added */
	size_t		 qhead, qn;
	struct rpz	 rpz;
};

/* The file's bytes. */
struct fbuf {
	char		*p;
	size_t		 len, cap;
	int		 mapped;
	struct stat	 sb;		/* of the file read */
};

static const char *const rpz_unsupported[] = {
	"rpz-client-ip", "rpz-nsdname", "rpz-nsip", NULL
};

/* An address prefix's value: the RPZ action above the line number. */
#define IPV_ACTION_SHIFT	29
#define IPV_LINE_MASK		((1U << IPV_ACTION_SHIFT) - 1)

const char *
feed_format_name(enum feed_format f)
{
	switch (f) {
	case FEED_AUTO:		return "auto";
	case FEED_PLAIN:	return "plain";
	case FEED_HOSTS:	return "hosts";
	case FEED_RPZ:		return "rpz";
	case FEED_ADBLOCK:	return "adblock";
	case FEED_IP:		return "ip";
	}
	return "?";
}

/* Growable arrays. */

static void *
vec_push(struct vec *v, size_t size, size_t count)
{
	void	*p;

	if (v->n + count > v->cap) {
		size_t	 cap = v->cap ? v->cap * 2 : 64;

		while (cap < v->n + count)
			cap *= 2;
		if ((p = reallocarray(v->p, cap, size)) == NULL)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	p = (char *)v->p + v->n * size;
	v->n += count;
	return p;
}

/* Reading the file. */

/*
 * A regular file is read with one read() into an anonymous mapping (not
 * mmap of the file: an updater rewriting it in place would SIGBUS us),
 * which goes back to the kernel as soon as the load is done.
 */
static void	fbuf_free(struct fbuf *);
static void	file_identity(const struct stat *, struct feed_file *);

static int
fbuf_read(const char *path, struct fbuf *fb, char *err, size_t errsz)
{
	struct stat sb;
	ssize_t	 r;
	int	 fd, e;

	memset(fb, 0, sizeof(*fb));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &sb) == -1)
		goto fail;
	fb->sb = sb;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
		fb->cap = (size_t)sb.st_size + 1;
		fb->p = mmap(NULL, fb->cap, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fb->p == MAP_FAILED) {
			fb->p = NULL;
			goto fail;
		}
		/* Fewer page faults: they are most of a read's cost in a VM. */
		(void)madvise(fb->p, fb->cap, MADV_HUGEPAGE);
		fb->mapped = 1;
	}
	/* Loop: short reads, and files that grew or are not regular. */
	for (;;) {
		if (fb->len == fb->cap) {
			char	*p;

			if (fb->mapped)
				p = mremap(fb->p, fb->cap, fb->cap * 2,
				    MREMAP_MAYMOVE);
			else
				p = realloc(fb->p, fb->cap ? fb->cap * 2 : 65536);
			if (p == NULL || p == MAP_FAILED)
				goto fail;
			fb->p = p;
			fb->cap = fb->cap ? fb->cap * 2 : 65536;
		}
		r = read(fd, fb->p + fb->len, fb->cap - fb->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		fb->len += (size_t)r;
	}
	close(fd);
	return 0;
fail:
	e = errno;
	snprintf(err, errsz, "%s: %s", path, strerror(e));
	if (fd != -1)
		close(fd);
	/* The caller frees nothing on failure: a failed reload must not leak. */
	if (fb->p != NULL)
		fbuf_free(fb);
	return -1;
}

static void
fbuf_free(struct fbuf *fb)
{
	if (fb->mapped)
		munmap(fb->p, fb->cap);
	else
		free(fb->p);
	fb->p = NULL;
}

/* Lines and tokens. */

static int
next_line(struct loader *l, const char **s, const char **e)
{
	const char *nl;

	if (l->p >= l->end)
		return 0;
	*s = l->p;
	if ((nl = memchr(l->p, '\n', (size_t)(l->end - l->p))) == NULL)
		nl = l->end;
	*e = nl;
	l->p = nl < l->end ? nl + 1 : nl;
	if (*e > *s && (*e)[-1] == '\r')
		(*e)--;
	l->recline = ++l->lineno;
	l->st->lines++;
	return 1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_ws(const char *s, const char *e)
{
	while (s < e && is_blank(*s))
		s++;
	return s;
}

static const char *
token_end(const char *s, const char *e)
{
	while (s < e && !is_blank(*s))
		s++;
	return s;
}

static const char *
trim_end(const char *s, const char *e)
{
	while (e > s && is_blank(e[-1]))
		e--;
	return e;
}

static int
token_is(const char *s, const char *e, const char *word)
{
	size_t	 n = strlen(word);

	return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* An IPv4 or IPv6 address (with an optional %zone), as hosts files have. */
static int
is_address(const char *s, const char *e)
{
	char	 buf[INET6_ADDRSTRLEN + 16], *pct;
	uint8_t	 a[16];

	if ((size_t)(e - s) >= sizeof(buf))
		return 0;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	if ((pct = strchr(buf, '%')) != NULL)
		*pct = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ||
	    inet_pton(AF_INET6, buf, a) == 1;
}

/* Reporting. */

static void __attribute__((format(printf, 2, 3)))
bad(struct loader *l, const char *fmt, ...)
{
	char	 why[WHYSZ * 2], msg[WHYSZ * 2 + 512];
	va_list	 ap;

	l->st->errors++;
	if (l->report == NULL || l->reported >= FEED_REPORT_MAX)
		return;
	l->reported++;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s:%u: %s", l->path, l->recline, why);
	l->report(l->arg, msg);
}

/* A bad line with the column of the offending text. */
static void
bad_col(struct loader *l, size_t col, const char *why)
{
	char	 msg[IPSET_WHYSZ + 512];

	l->st->errors++;
	if (l->report == NULL || l->reported >= FEED_REPORT_MAX)
		return;
	l->reported++;
	snprintf(msg, sizeof(msg), "%s:%u:%zu: %s", l->path, l->recline, col,
	    why);
	l->report(l->arg, msg);
}

static void
bad_char(char *why, uint8_t c)
{
	if (c >= 0x80)
		snprintf(why, WHYSZ, "non-ASCII name: use the xn-- form");
	else if (c >= 0x21 && c < 0x7f)
		snprintf(why, WHYSZ, "invalid character '%c' (0x%02x)", c, c);
	else
		snprintf(why, WHYSZ, "invalid character 0x%02x", c);
}

/* Names. */

/* c lower-cased if a name may hold it, else -1. */
static inline int
name_char(uint8_t c)
{
	if ((unsigned)(c - 'a') < 26 || (unsigned)(c - '0') < 10 ||
	    c == '-' || c == '_')
		return c;
	if ((unsigned)(c - 'A') < 26)
		return c + ('a' - 'A');
	return -1;
}

/*
 * Text to lower-case wire form in out (NAMEBUF bytes).  A name without a
 * trailing dot is relative to origin (NULL: the root); "@" is the origin,
 * "." the root.  '*' is accepted only as a whole first label.  Returns 0,
 * or -1 with the reason in why (WHYSZ bytes).
 */
static int
name_parse(const char *s, size_t n, const uint8_t *origin, size_t originlen,
    uint8_t *out, size_t *outlen, char *why)
{
	size_t	 pos = 1, lab = 0, i;
	int	 absolute = 0, c;

	if (n == 1 && s[0] == '@' && origin != NULL) {
		memcpy(out, origin, originlen);
		*outlen = originlen;
		return 0;
	}
	if (origin == NULL) {
		origin = (const uint8_t *)"";
		originlen = 1;
	}
	if (n == 1 && s[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (pos - lab == 1) {
				snprintf(why, WHYSZ, "empty label");
				return -1;
			}
			out[lab] = (uint8_t)(pos - lab - 1);
			lab = pos++;
			absolute = i == n - 1;
			continue;
		}
		if (s[i] == '*' && i == 0 && (n == 1 || s[1] == '.'))
			c = '*';
		else if ((c = name_char((uint8_t)s[i])) == -1) {
			bad_char(why, (uint8_t)s[i]);
			return -1;
		}
		if (pos - lab - 1 == 63) {
			snprintf(why, WHYSZ, "label longer than 63 bytes");
			return -1;
		}
		if (pos >= DNS_MAX_NAME - 1)
			goto toolong;
		out[pos++] = (uint8_t)c;
	}
	if (n == 0) {
		snprintf(why, WHYSZ, "empty name");
		return -1;
	}
	if (absolute) {
		out[lab] = 0;
		*outlen = lab + 1;
		return 0;
	}
	out[lab] = (uint8_t)(pos - lab - 1);
	if (pos + originlen > DNS_MAX_NAME)
		goto toolong;
	memcpy(out + pos, origin, originlen);
	*outlen = pos + originlen;
	return 0;
toolong:
	snprintf(why, WHYSZ, "name longer than 255 bytes");
	return -1;
}

/*
 * Check a wire name that ldns parsed (escapes can put anything in a
 * label) against what feeds accept, and lower-case it.  0 or -1 + why.
 */
static int
name_check_wire(uint8_t *name, size_t len, char *why)
{
	size_t	 pos = 0, i;
	int	 c;

	while (pos < len && name[pos] != 0) {
		uint8_t	 l = name[pos];

		for (i = pos + 1; i <= pos + l; i++) {
			if (name[i] == '*' && pos == 0 && l == 1)
				continue;
			if ((c = name_char(name[i])) == -1) {
				bad_char(why, name[i]);
				return -1;
			}
			name[i] = (uint8_t)c;
		}
		pos += (size_t)l + 1;
	}
	return 0;
}

static int
is_wild(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

/*
 * Building the set.  Names are not added as they are parsed: each waits
 * in a short queue with its hash computed and its index slot prefetched,
 * and is added QDEPTH names later, when that slot is in cache.  The
 * insert's outcome (new, duplicate, local data for a known trigger) is
 * only needed for counting, so nothing depends on it sooner.
 */

static void
side_line(struct loader *l, uint32_t rec, unsigned bits, uint32_t line)
{
	struct feed_side *sd;
	unsigned bit;

	for (bit = FEED_SCOPE_EXACT; bit <= FEED_SCOPE_BELOW; bit <<= 1) {
		if ((bits & bit) == 0)
			continue;
		if ((sd = vec_push(&l->sides, sizeof(*sd), 1)) == NULL) {
			l->fatal = DOMSET_ERR_MEM;
			return;
		}
		memset(sd, 0, sizeof(*sd));
		sd->rec = rec;
		sd->scope = bit;
		sd->line = line;
	}
}

static void
rpz_add_rr(struct loader *l, uint32_t rec, const struct pending *p)
{
	struct pend_rr *rr;
	uint8_t	*d;

	if (l->rd.n + p->rdlen > UINT32_MAX) {
		/* Offsets into the rdata are 32 bits, like the arena's. */
		l->fatal = DOMSET_ERR_SIZE;
		return;
	}
	rr = vec_push(&l->rrs, sizeof(*rr), 1);
	d = rr != NULL ? vec_push(&l->rd, 1, p->rdlen) : NULL;
	if (d == NULL) {
		l->fatal = DOMSET_ERR_MEM;
		return;
	}
	memcpy(d, p->rd, p->rdlen);
	rr->rec = rec;
	rr->scope = p->scope;
	rr->type = p->type;
	rr->ttl = p->ttl;
	rr->rdlen = p->rdlen;
	rr->rdoff = (uint32_t)(l->rd.n - p->rdlen);
}

/*
 * In AdBlock an exception beats a block of the same name whatever their
 * order (that is what @@ means there), so an exception overrides a listed
 * scope instead of losing to it as a duplicate would.
 */
static void
list_apply(struct loader *l, const struct pending *p, enum domset_add res,
    uint32_t rec, unsigned had)
{
	unsigned bit, overridden = 0;

	if (p->act == FEED_EXCEPTION)
		for (bit = FEED_SCOPE_EXACT; bit <= FEED_SCOPE_BELOW;
		    bit <<= 1) {
			if ((had & p->scope & bit) == 0 ||
			    domset_build_action(l->b, rec, bit) ==
			    FEED_EXCEPTION)
				continue;
			domset_build_set_action(l->b, rec, bit, FEED_EXCEPTION);
			/* Explain cites the @@ line, which decides now. */
			if (l->track)
				side_line(l, rec, bit, p->line);
			overridden = 1;
		}
	if (res == DOMSET_DUP && !overridden)
		l->st->duplicates++;
}

/* Another record at a known trigger is more local data, not a duplicate. */
static void
rpz_apply(struct loader *l, const struct pending *p, enum domset_add res,
    uint32_t rec)
{
	if (p->act != FEED_OVERRIDE) {
		if (res == DOMSET_DUP)
			l->st->duplicates++;
	} else if (res != DOMSET_DUP ||
	    domset_build_action(l->b, rec, p->scope) == FEED_OVERRIDE)
		rpz_add_rr(l, rec, p);
	else
		l->st->duplicates++;
}

/*
 * Add a queued name.  A new name, or a new scope of a known one, is an
 * entry.
 */
static void
queue_apply(struct loader *l, const struct pending *p)
{
	enum domset_add res;
	uint32_t rec;
	unsigned had;

	if (l->fatal != DOMSET_NEW)
		return;
	res = domset_build_add(l->b, p->key, p->klen, p->hash, p->scope,
	    p->act, p->line, &rec, &had);
	switch (res) {
	case DOMSET_NEW:
		l->st->entries++;
		break;
	case DOMSET_ADDED:
		l->st->entries++;
		if (l->track)
			side_line(l, rec, p->scope & ~had, p->line);
		break;
	case DOMSET_DUP:
		break;
	default:
		l->fatal = res;
		return;
	}
	if (p->rpz)
		rpz_apply(l, p, res, rec);
	else
		list_apply(l, p, res, rec, had);
}

/* A free place in the queue, applying the oldest name if it is full. */
static struct pending *
queue_slot(struct loader *l)
{
	if (l->qn == QDEPTH) {
		queue_apply(l, &l->q[l->qhead]);
		l->qhead = (l->qhead + 1) % QDEPTH;
		l->qn--;
	}
	return &l->q[(l->qhead + l->qn) % QDEPTH];
}

/* Queue the name written into the slot from queue_slot(). */
static void
queue_commit(struct loader *l, struct pending *p, unsigned scope,
    enum feed_action act, int rpz)
{
	p->scope = (uint8_t)scope;
	p->act = (uint8_t)act;
	p->rpz = (uint8_t)rpz;
	p->line = l->recline;
	p->hash = domset_hash(p->key, p->klen);
	domset_build_prefetch(l->b, p->hash);
	l->qn++;
}

static void
queue_drain(struct loader *l)
{
	while (l->qn > 0) {
		queue_apply(l, &l->q[l->qhead]);
		l->qhead = (l->qhead + 1) % QDEPTH;
		l->qn--;
	}
}

/*
 * Queue one name of a list format; "*.name" gives the scope below, else
 * dflt.  0, or -1 with why.
 */
static int
list_add(struct loader *l, const char *s, const char *e, unsigned dflt,
    enum feed_action act, char *why)
{
	struct pending *p = queue_slot(l);
	size_t	 klen;
	unsigned scope = dflt;

	if (name_parse(s, (size_t)(e - s), NULL, 0, p->key, &klen, why) == -1)
		return -1;
	if (is_wild(p->key)) {
		memmove(p->key, p->key + 2, klen - 2);
		klen -= 2;
		scope = FEED_SCOPE_BELOW;
	}
	if (klen == 1) {
		snprintf(why, WHYSZ, "the root cannot be listed");
		return -1;
	}
	p->klen = (uint16_t)klen;
	queue_commit(l, p, scope, act, 0);
	return 0;
}

/* Plain lists: one name a line, # comments. */
static void
plain_line(struct loader *l, const char *s, const char *e)
{
	char	 why[WHYSZ];
	const char *t, *r;

	s = skip_ws(s, e);
	if (s == e || *s == '#')
		return;
	t = token_end(s, e);
	r = skip_ws(t, e);
	if (r != e && *r != '#') {
		bad(l, "unexpected text after the name");
		return;
	}
	if (list_add(l, s, t, l->plain_scope, FEED_LISTED, why) == -1)
		bad(l, "%s", why);
}

/*
 * The boilerplate of every hosts file ("127.0.0.1 localhost", "::1
 * ip6-localhost", "0.0.0.0 0.0.0.0"): blocklists published as hosts files
 * keep it, and listing these names would block the host's own loopback
 * names, so they are skipped (not counted as entries or errors).
 */
/*
 * format: ip -- one address or prefix per line.  The line number is the
 * value kept with the prefix (the first line wins for duplicates).
 */
static void
ip_line(struct loader *l, const char *s, const char *e)
{
	char		 why[IPSET_WHYSZ];
	uint8_t		 addr[16];
	unsigned	 plen;
	size_t		 col;
	int		 af, r;

	if ((r = ipset_parse_line(s, (size_t)(e - s), &af, addr, &plen, &col,
	    why, sizeof(why))) == 0)
		return;
	if (r == -1) {
		bad_col(l, col, why);
		return;
	}
	switch (ipset_add(l->ib, af, addr, plen, l->recline & IPV_LINE_MASK)) {
	case IPSET_NEW:
		l->st->entries++;
		break;
	case IPSET_DUP:
		l->st->duplicates++;
		break;
	case IPSET_ERR_INVAL:
		bad_col(l, 1, "not an address");
		break;
	case IPSET_ERR_MEM:
		l->fatal = DOMSET_ERR_MEM;
		break;
	}
}

static int
hosts_boilerplate(const char *s, const char *t)
{
	static const char *const names[] = {
		"localhost", "localhost.localdomain", "local", "broadcasthost",
		"ip6-localhost", "ip6-loopback", "ip6-localnet",
		"ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
		"ip6-allhosts"
	};
	size_t	 i, n = (size_t)(t - s);

	if (is_address(s, t))
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * Hosts files: "ADDRESS name [name...] [# comment]".  A bad name does not
 * cost the good ones on its line; the line counts as one bad line.
 */
static void
hosts_line(struct loader *l, const char *s, const char *e)
{
	char	 why[WHYSZ], first[WHYSZ] = "";
	const char *t;
	int	 names = 0;

	s = skip_ws(s, e);
	if (s == e || *s == '#')
		return;
	t = token_end(s, e);
	if (!is_address(s, t)) {
		bad(l, "hosts line without an address");
		return;
	}
	for (s = skip_ws(t, e); s < e && *s != '#'; s = skip_ws(t, e)) {
		t = token_end(s, e);
		names++;
		if (hosts_boilerplate(s, t))
			continue;
		if (list_add(l, s, t, FEED_SCOPE_EXACT, FEED_LISTED,
		    why) == -1 && first[0] == '\0')
			memcpy(first, why, sizeof(first));
	}
	if (names == 0)
		bad(l, "hosts line without a name");
	else if (first[0] != '\0')
		bad(l, "%s", first);
}

/*
 * AdBlock: "||name^" and "@@||name^"; "!" comments, "[Adblock ...]"
 * headers and "# " comments (AdGuard DNS lists have them).  Paths,
 * options, regexes and cosmetic rules ("##") are bad lines: a DNS
 * firewall cannot honour them, and silently widening them to the whole
 * domain would block more than the list's author meant.
 */
static void
adblock_line(struct loader *l, const char *s, const char *e)
{
	char	 why[WHYSZ];
	const char *caret, *n;
	enum feed_action act = FEED_LISTED;

	s = skip_ws(s, e);
	e = trim_end(s, e);
	if (s == e || *s == '!' || *s == '[')
		return;
	if (*s == '#' && (e - s == 1 || strchr("#@?$%", s[1]) == NULL))
		return;
	if (e - s >= 2 && s[0] == '@' && s[1] == '@') {
		act = FEED_EXCEPTION;
		s += 2;
	}
	if (e - s < 2 || s[0] != '|' || s[1] != '|')
		goto unsupported;
	s += 2;
	if ((caret = memchr(s, '^', (size_t)(e - s))) == NULL ||
	    caret + 1 != e)
		goto unsupported;
	n = (caret - s >= 2 && s[0] == '*' && s[1] == '.') ? s + 2 : s;
	for (; n < caret; n++)
		if (strchr("/|$*?=,~:", *n) != NULL)
			goto unsupported;
	if (list_add(l, s, caret, FEED_SCOPE_BOTH, act, why) == -1)
		bad(l, "%s", why);
	return;
unsupported:
	bad(l, "unsupported adblock rule");
}

/* RPZ. */

/* "3600", "1h", "1h30m", "2w": seconds in *ttl.  0 or -1. */
static int
ttl_parse(const char *s, const char *e, uint32_t *ttl)
{
	uint64_t total = 0, v = 0;
	int	 digits = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		uint64_t mul;

		if (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint64_t)(*s - '0');
			digits = 1;
			if (v > UINT32_MAX)
				return -1;
			continue;
		}
		switch (*s | 0x20) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return -1;
		}
		if (!digits)
			return -1;
		total += v * mul;
		v = 0;
		digits = 0;
	}
	total += v;
	if (total > UINT32_MAX)
		return -1;
	*ttl = (uint32_t)total;
	return 0;
}

static int
is_class(const char *s, const char *e)
{
	return token_is(s, e, "CH") || token_is(s, e, "HS") ||
	    token_is(s, e, "CS") || token_is(s, e, "ANY") ||
	    ((size_t)(e - s) > 5 && strncasecmp(s, "CLASS", 5) == 0);
}

/*
 * The action of "CNAME target" (RPZ's encodings), or -1 after reporting.
 * A CNAME to the owner itself is the older form of rpz-passthru.
 */
static int
rpz_cname_action(struct loader *l, const uint8_t *owner, size_t ownerlen,
    const uint8_t *t, size_t tlen)
{
	if (tlen == 1)
		return FEED_NXDOMAIN;
	if (tlen == 3 && is_wild(t))
		return FEED_NODATA;
	if (tlen == 14 && memcmp(t, "\014rpz-passthru", 13) == 0)
		return FEED_PASSTHRU;
	if (tlen == 10 && memcmp(t, "\010rpz-drop", 9) == 0)
		return FEED_DROP;
	if (tlen > 5 && memcmp(t + 1, "rpz-", 4) == 0 && t[t[0] + 1] == 0) {
		bad(l, "unsupported action %.*s.", t[0], t + 1);
		return -1;
	}
	if (tlen == ownerlen && memcmp(t, owner, tlen) == 0)
		return FEED_PASSTHRU;
	if (is_wild(t)) {
		bad(l, "unsupported CNAME target: wildcard");
		return -1;
	}
	return FEED_OVERRIDE;
}

/*
 * Where the trigger ends in owner (the apex starts there), or -1 when the
 * owner is not under the apex.
 */
static ssize_t
rpz_trigger_len(const struct rpz *z, const uint8_t *owner, size_t ownerlen)
{
	size_t	 pos = 0;

	while (ownerlen - pos > z->apexlen)
		pos += (size_t)owner[pos] + 1;
	if (ownerlen - pos != z->apexlen ||
	    memcmp(owner + pos, z->apex, z->apexlen) != 0)
		return -1;
	return (ssize_t)pos;
}

/* The label just above the apex names the trigger kind (rpz-ip, ...). */
static int
rpz_kind_unsupported(const uint8_t *owner, size_t tlen)
{
	size_t	 pos = 0, last = 0, i;

	while (pos < tlen) {
		last = pos;
		pos += (size_t)owner[pos] + 1;
	}
	for (i = 0; rpz_unsupported[i] != NULL; i++)
		if (owner[last] == strlen(rpz_unsupported[i]) &&
		    strncasecmp((const char *)owner + last + 1,
		    rpz_unsupported[i], owner[last]) == 0)
			return 1;
	return 0;
}

/* Does the trigger (owner[0..tlen)) end in the label "rpz-ip"? */
static int
rpz_ip_trigger(const uint8_t *owner, size_t tlen)
{
	size_t	 pos = 0, last = 0;

	while (pos < tlen) {
		last = pos;
		pos += (size_t)owner[pos] + 1;
	}
	return owner[last] == 6 && strncasecmp((const char *)owner + last + 1,
	    "rpz-ip", 6) == 0;
}

/*
 * An rpz-ip trigger (draft-vixie-dnsop-dns-rpz 4.2): the prefix its owner
 * spells, with the action of its CNAME; the answer addresses it matches
 * are checked by answer-ip rules.  Local data (A/AAAA) for an address
 * trigger is not supported: such a line is bad.
 */
static void
rpz_ip_record(struct loader *l, const uint8_t *owner, size_t ownerlen,
    size_t tlen, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	char		 why[IPSET_WHYSZ];
	uint8_t		 addr[16];
	unsigned	 plen;
	int		 af, act;

	/* The labels before "rpz-ip" (7 bytes with its length byte). */
	if (ipset_parse_rpz_ip(owner, tlen - 7, &af, addr, &plen, why,
	    sizeof(why)) == -1) {
		bad(l, "rpz-ip trigger: %s", why);
		return;
	}
	if (type != TYPE_CNAME) {
		bad(l, "rpz-ip trigger: only CNAME actions are supported");
		return;
	}
	if ((act = rpz_cname_action(l, owner, ownerlen, rd, rdlen)) == -1)
		return;
	if (act == FEED_OVERRIDE) {
		bad(l, "rpz-ip trigger: local data is not supported");
		return;
	}
	if (l->ib == NULL && (l->ib = ipset_builder_new()) == NULL) {
		l->fatal = DOMSET_ERR_MEM;
		return;
	}
	switch (ipset_add(l->ib, af, addr, plen, (uint32_t)act <<
	    IPV_ACTION_SHIFT | (l->recline & IPV_LINE_MASK))) {
	case IPSET_NEW:
		l->st->entries++;
		break;
	case IPSET_DUP:
		l->st->duplicates++;
		break;
	case IPSET_ERR_INVAL:
		bad(l, "rpz-ip trigger: not an address");
		break;
	case IPSET_ERR_MEM:
		l->fatal = DOMSET_ERR_MEM;
		break;
	}
}

/*
 * One record of the zone, whichever parser read it.  The apex is fixed by
 * the first record: its owner if it is the SOA, else the $ORIGIN then in
 * effect (the root when there is none).
 */
static void
rpz_record(struct loader *l, const uint8_t *owner, size_t ownerlen,
    uint16_t type, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	struct rpz *z = &l->rpz;
	struct pending *p;
	char	 tbuf[16];
	ssize_t	 tl;
	unsigned scope = FEED_SCOPE_EXACT;
	int	 act;

	if (!z->apex_set) {
		if (type == TYPE_SOA) {
			memcpy(z->apex, owner, ownerlen);
			z->apexlen = ownerlen;
		} else {
			memcpy(z->apex, z->origin, z->originlen);
			z->apexlen = z->originlen;
		}
		z->apex_set = 1;
	}
	if ((tl = rpz_trigger_len(z, owner, ownerlen)) == -1) {
		bad(l, "not under the zone origin");
		return;
	}
	if (tl == 0) {
		if (type != TYPE_SOA && type != TYPE_NS)
			bad(l, "record at the zone apex");
		return;
	}
	if (rpz_kind_unsupported(owner, (size_t)tl)) {
		bad(l, "unsupported trigger");
		return;
	}
	if (rpz_ip_trigger(owner, (size_t)tl)) {
		rpz_ip_record(l, owner, ownerlen, (size_t)tl, type, rd, rdlen);
		return;
	}
	switch (type) {
	case TYPE_CNAME:
		act = rpz_cname_action(l, owner, ownerlen, rd, rdlen);
		if (act == -1)
			return;
		break;
	case TYPE_A:
	case TYPE_AAAA:
		act = FEED_OVERRIDE;
		break;
	default:
		bad(l, "unsupported record type %s",
		    wire_type_name(type, tbuf, sizeof(tbuf)));
		return;
	}
	if (act == FEED_OVERRIDE && rdlen == 0) {
		bad(l, "record without data");
		return;
	}
	p = queue_slot(l);
	memcpy(p->key, owner, (size_t)tl);
	p->key[tl] = 0;
	p->klen = (uint16_t)(tl + 1);
	if (is_wild(p->key)) {
		if (p->klen == 3) {
			bad(l, "unsupported trigger");
			return;
		}
		memmove(p->key, p->key + 2, p->klen - 2u);
		p->klen -= 2;
		scope = FEED_SCOPE_BELOW;
	}
	p->type = type;
	p->ttl = ttl;
	p->rdlen = (uint16_t)rdlen;
	memcpy(p->rd, rd, rdlen);
	queue_commit(l, p, scope, (enum feed_action)act, 1);
}

static void
rpz_set_prev(struct rpz *z, const uint8_t *owner, size_t len)
{
	memcpy(z->prev, owner, len);
	z->prevlen = len;
}

static uint32_t
rpz_default_ttl(const struct rpz *z)
{
	return z->ttl != UINT32_MAX ? z->ttl : RPZ_DEFAULT_TTL;
}

/* Parentheses still open at the end of [s, e) (outside quotes, comments). */
static int
paren_depth(const char *s, const char *e, int depth)
{
	int	 quoted = 0;

	for (; s < e; s++) {
		if (*s == '\\' && s + 1 < e)
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*s == ';')
			break;
		else if (*s == '(')
			depth++;
		else if (*s == ')')
			depth--;
	}
	return depth;
}

/* Owner, type, TTL and rdata of an ldns record into rpz_record(). */
static void
rpz_from_ldns(struct loader *l, ldns_rr *rr)
{
	uint8_t	 owner[NAMEBUF], rd[NAMEBUF];
	char	 why[WHYSZ];
	ldns_rdf *o = ldns_rr_owner(rr), *f;
	size_t	 olen = ldns_rdf_size(o), rdlen = 0;
	uint16_t type = ldns_rr_get_type(rr);

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		bad(l, "unsupported class");
		return;
	}
	if (olen > DNS_MAX_NAME) {
		bad(l, "name longer than 255 bytes");
		return;
	}
	memcpy(owner, ldns_rdf_data(o), olen);
	if (name_check_wire(owner, olen, why) == -1) {
		bad(l, "%s", why);
		return;
	}
	rpz_set_prev(&l->rpz, owner, olen);
	f = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : NULL;
	if ((type == TYPE_A || type == TYPE_AAAA || type == TYPE_CNAME) &&
	    f != NULL && ldns_rdf_size(f) <= sizeof(rd)) {
		rdlen = ldns_rdf_size(f);
		memcpy(rd, ldns_rdf_data(f), rdlen);
		if (type == TYPE_CNAME)
			wire_name_lower(rd, rdlen);
	}
	rpz_record(l, owner, olen, type, ldns_rr_ttl(rr), rd, rdlen);
}

/*
 * Hand the record starting at [s, e) to ldns, with the lines after it
 * while its parentheses are open.
 */
static void
rpz_ldns(struct loader *l, const char *s, const char *e)
{
	ldns_rdf *origin, *prev = NULL;
	ldns_rr	*rr = NULL;
	ldns_status status;
	const char *ls = NULL, *le = NULL;
	char	*text;
	int	 depth;

	for (depth = paren_depth(s, e, 0); depth > 0 && l->p < l->end;
	    depth = paren_depth(ls, le, depth)) {
		uint32_t start = l->recline;

		next_line(l, &ls, &le);
		l->recline = start;
		e = le;
	}
	/*
	 * ldns' zone parser has had memory-safety bugs on hostile input
	 * (CVE-2020-19860/19861), and an unconfirmed heap corruption was
	 * seen here under fuzzing: hand it only what a real RPZ record of
	 * the types we use can look like.
	 */
	if (e - s > RPZ_LDNS_MAX) {
		bad(l, "record longer than %d bytes", RPZ_LDNS_MAX);
		return;
	}
	if ((text = strndup(s, (size_t)(e - s))) == NULL) {
		l->fatal = DOMSET_ERR_MEM;
		return;
	}
	origin = ldns_dname_new_frm_data((uint16_t)l->rpz.originlen,
	    l->rpz.origin);
	if (l->rpz.prevlen > 0)
		prev = ldns_dname_new_frm_data((uint16_t)l->rpz.prevlen,
		    l->rpz.prev);
	status = ldns_rr_new_frm_str(&rr, text, rpz_default_ttl(&l->rpz),
	    origin, &prev);
	if (status == LDNS_STATUS_OK)
		rpz_from_ldns(l, rr);
	else if (origin == NULL)
		l->fatal = DOMSET_ERR_MEM;
	else
		bad(l, "%s", ldns_get_errorstr_by_id(status));
	ldns_rr_free(rr);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	free(text);
}

/* $ORIGIN and $TTL; other directives ($INCLUDE, ...) are bad lines. */
static void
rpz_directive(struct loader *l, const char *s, const char *e)
{
	struct rpz *z = &l->rpz;
	uint8_t	 name[NAMEBUF];
	char	 why[WHYSZ];
	const char *t = token_end(s, e), *a, *ae;
	size_t	 len;

	a = skip_ws(t, e);
	ae = token_end(a, e);
	if (token_is(s, t, "$ORIGIN")) {
		if (a == ae || skip_ws(ae, e) != e) {
			bad(l, "$ORIGIN needs one name");
			return;
		}
		if (name_parse(a, (size_t)(ae - a), z->origin, z->originlen,
		    name, &len, why) == -1) {
			bad(l, "%s", why);
			return;
		}
		memcpy(z->origin, name, len);
		z->originlen = len;
	} else if (token_is(s, t, "$TTL")) {
		if (skip_ws(ae, e) != e || ttl_parse(a, ae, &z->ttl) == -1)
			bad(l, "invalid $TTL");
	} else
		bad(l, "unsupported directive %.*s",
		    (int)(t - s > 64 ? 64 : t - s), s);
}

/* The fast path for a single-line record; 0, or -1 to ask ldns. */
static int
rpz_fast(struct loader *l, const char *s, const char *e)
{
	struct rpz *z = &l->rpz;
	const char *ts[MAX_TOKENS], *te[MAX_TOKENS], *p;
	uint8_t	 owner[NAMEBUF], rd[NAMEBUF];
	char	 why[WHYSZ], addr[INET6_ADDRSTRLEN + 1];
	size_t	 olen, rdlen = 0;
	uint32_t ttl = rpz_default_ttl(z);
	uint16_t type;
	int	 n = 0, i = 0, nrd, ttl_seen = 0;

	for (p = skip_ws(s, e); p < e; p = skip_ws(te[n++], e)) {
		if (n == MAX_TOKENS)
			return -1;
		ts[n] = p;
		te[n] = token_end(p, e);
	}
	if (is_blank(*s)) {
		if (z->prevlen == 0) {
			bad(l, "record without an owner");
			return 0;
		}
		memcpy(owner, z->prev, z->prevlen);
		olen = z->prevlen;
	} else if (name_parse(ts[i], (size_t)(te[i] - ts[i]), z->origin,
	    z->originlen, owner, &olen, why) == -1) {
		bad(l, "%s", why);
		return 0;
	} else
		i++;
	for (; i < n; i++) {
		if (!ttl_seen && ttl_parse(ts[i], te[i], &ttl) == 0)
			ttl_seen = 1;
		else if (is_class(ts[i], te[i])) {
			bad(l, "unsupported class %.*s",
			    (int)(te[i] - ts[i] > 64 ? 64 : te[i] - ts[i]),
			    ts[i]);
			return 0;
		} else if (!token_is(ts[i], te[i], "IN"))
			break;
	}
	if (i == n)
		return -1;
	nrd = n - i - 1;
	if (token_is(ts[i], te[i], "CNAME") && nrd == 1) {
		type = TYPE_CNAME;
		if (name_parse(ts[i + 1], (size_t)(te[i + 1] - ts[i + 1]),
		    z->origin, z->originlen, rd, &rdlen, why) == -1) {
			bad(l, "%s", why);
			return 0;
		}
	} else if ((token_is(ts[i], te[i], "A") ||
	    token_is(ts[i], te[i], "AAAA")) && nrd == 1) {
		type = te[i] - ts[i] == 1 ? TYPE_A : TYPE_AAAA;
		if ((size_t)(te[i + 1] - ts[i + 1]) >= sizeof(addr))
			return -1;
		memcpy(addr, ts[i + 1], (size_t)(te[i + 1] - ts[i + 1]));
		addr[te[i + 1] - ts[i + 1]] = '\0';
		if (inet_pton(type == TYPE_A ? AF_INET : AF_INET6, addr,
		    rd) != 1)
			return -1;
		rdlen = type == TYPE_A ? 4 : 16;
	} else if (token_is(ts[i], te[i], "SOA") && nrd == 7)
		type = TYPE_SOA;
	else if (token_is(ts[i], te[i], "NS") && nrd == 1)
		type = TYPE_NS;
	else
		return -1;
	rpz_set_prev(z, owner, olen);
	rpz_record(l, owner, olen, type, ttl, rd, rdlen);
	return 0;
}

static void
rpz_line(struct loader *l, const char *s, const char *e)
{
	const char *c;

	for (c = s; c < e; c++) {
		if (*c == ';')
			break;
		if (*c == '(' || *c == '"' || *c == '\\') {
			rpz_ldns(l, s, e);
			return;
		}
	}
	e = trim_end(s, c);
	if (skip_ws(s, e) == e)
		return;
	if (*s == '$')
		rpz_directive(l, s, e);
	else if (rpz_fast(l, s, e) == -1)
		rpz_ldns(l, s, e);
}

/* Format detection. */

static enum feed_format
detect_line(const char *s, const char *e)
{
	const char *t = token_end(s, e), *p;

	if (*s == '!' || *s == '[' || (e - s >= 2 && s[0] == '|' &&
	    s[1] == '|') || (e - s >= 4 && memcmp(s, "@@||", 4) == 0))
		return FEED_ADBLOCK;
	if (token_is(s, t, "$ORIGIN") || token_is(s, t, "$TTL"))
		return FEED_RPZ;
	for (p = skip_ws(t, e); p < e; p = skip_ws(token_end(p, e), e))
		if (token_is(p, token_end(p, e), "SOA") ||
		    token_is(p, token_end(p, e), "CNAME"))
			return FEED_RPZ;
	if (is_address(s, t) && skip_ws(t, e) < e)
		return FEED_HOSTS;
	{
		uint8_t		 addr[16];
		unsigned	 plen;
		int		 af;

		if (ipset_parse_line(s, (size_t)(e - s), &af, addr, &plen,
		    NULL, NULL, 0) == 1)
			return FEED_IP;
	}
	return FEED_AUTO;
}

/*
 * The first DETECT_LINES lines that are not blank or # ; comments decide;
 * a list with nothing but names is plain.
 */
static enum feed_format
detect(const char *p, const char *end)
{
	const char *s, *e;
	enum feed_format f;
	int	 n = 0;

	while (p < end && n < DETECT_LINES) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		s = skip_ws(p, e);
		p = e < end ? e + 1 : e;
		e = trim_end(s, e);
		if (e > s && e[-1] == '\r')
			e--;
		if (s == e || *s == '#' || *s == ';')
			continue;
		n++;
		if ((f = detect_line(s, e)) != FEED_AUTO)
			return f;
	}
	return FEED_PLAIN;
}

/* Finishing: the side table. */

static int
pend_cmp(const void *a, const void *b, void *arg)
{
	const struct pend_rr *x = a, *y = b;
	const uint8_t *rd = arg;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->rdlen != y->rdlen)
		return x->rdlen < y->rdlen ? -1 : 1;
	return memcmp(rd + x->rdoff, rd + y->rdoff, x->rdlen);
}

static int
side_cmp(const void *a, const void *b)
{
	const struct feed_side *x = a, *y = b;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	return 0;
}

/* Local data: sorted, identical records dropped (and counted). */
static int
finish_rrs(struct loader *l, struct feed *f)
{
	struct pend_rr *pr = l->rrs.p;
	struct feed_side *sd;
	size_t	 i;

	if (l->rrs.n == 0)
		return 0;
	qsort_r(pr, l->rrs.n, sizeof(*pr), pend_cmp, l->rd.p);
	if ((f->rrs = calloc(l->rrs.n, sizeof(*f->rrs))) == NULL)
		return -1;
	f->rdata = l->rd.p;
	l->rd.p = NULL;
	for (i = 0; i < l->rrs.n; i++) {
		if (i > 0 && pend_cmp(&pr[i - 1], &pr[i], f->rdata) == 0) {
			l->st->duplicates++;
			continue;
		}
		if (i == 0 || pr[i - 1].rec != pr[i].rec ||
		    pr[i - 1].scope != pr[i].scope) {
			if ((sd = vec_push(&l->sides, sizeof(*sd), 1)) == NULL)
				return -1;
			memset(sd, 0, sizeof(*sd));
			sd->rec = pr[i].rec;
			sd->scope = pr[i].scope;
			sd->rr = (uint32_t)f->nrrs;
		}
		sd = (struct feed_side *)l->sides.p + l->sides.n - 1;
		sd->nrr++;
		f->rrs[f->nrrs].type = pr[i].type;
		f->rrs[f->nrrs].ttl = pr[i].ttl;
		f->rrs[f->nrrs].rdlen = pr[i].rdlen;
		f->rrs[f->nrrs].rdata = f->rdata + pr[i].rdoff;
		f->nrrs++;
	}
	return 0;
}

/* Merge the line and local-data entries of one (rec, scope) into one. */
static int
finish_side(struct loader *l, struct feed *f)
{
	struct feed_side *sd = l->sides.p;
	size_t	 i, n = 0;

	if (finish_rrs(l, f) == -1)
		return -1;
	sd = l->sides.p;
	if (l->sides.n == 0)
		return 0;
	qsort(sd, l->sides.n, sizeof(*sd), side_cmp);
	for (i = 0; i < l->sides.n; i++) {
		if (n > 0 && side_cmp(&sd[n - 1], &sd[i]) == 0) {
			if (sd[i].line != 0)
				sd[n - 1].line = sd[i].line;
			if (sd[i].nrr != 0) {
				sd[n - 1].rr = sd[i].rr;
				sd[n - 1].nrr = sd[i].nrr;
			}
			continue;
		}
		sd[n++] = sd[i];
	}
	f->side = sd;
	f->nside = n;
	l->sides.p = NULL;
	return 0;
}

/* Loading. */

static void
parse(struct loader *l, enum feed_format fmt)
{
	void	(*fn)(struct loader *, const char *, const char *);
	const char *s, *e;

	switch (fmt) {
	case FEED_HOSTS:	fn = hosts_line; break;
	case FEED_RPZ:		fn = rpz_line; break;
	case FEED_ADBLOCK:	fn = adblock_line; break;
	case FEED_IP:		fn = ip_line; break;
	default:		fn = plain_line; break;
	}
	while (l->fatal == DOMSET_NEW && next_line(l, &s, &e))
		fn(l, s, e);
	queue_drain(l);
}

static size_t
count_lines(const char *p, const char *end)
{
	size_t	 n = 1;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
loader_release(struct loader *l)
{
	domset_build_free(l->b);
	ipset_builder_free(l->ib);
	free(l->rrs.p);
	free(l->rd.p);
	free(l->sides.p);
}

static struct feed *
feed_build(struct loader *l, const struct config_feed *fc)
{
	struct feed *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->track = l->track;
	f->format = l->st->format;
	f->cfg_format = fc->format;
	f->cfg_match = fc->match;
	if ((f->id = strdup(fc->id != NULL ? fc->id : "")) == NULL ||
	    (f->path = strdup(fc->path)) == NULL ||
	    finish_side(l, f) == -1) {
		feed_free(f);
		return NULL;
	}
	f->set = domset_finish(l->b);
	l->b = NULL;
	if (f->set == NULL) {
		feed_free(f);
		return NULL;
	}
	if (l->ib != NULL) {
		f->ips = ipset_build(l->ib);
		l->ib = NULL;
		if (f->ips == NULL) {
			feed_free(f);
			return NULL;
		}
	}
	l->st->memory = sizeof(*f) + strlen(f->id) + 1 +
	    domset_memory(f->set) + f->nside * sizeof(*f->side) +
	    f->nrrs * sizeof(*f->rrs) + (f->nrrs ? l->rd.n : 0) +
	    (f->ips != NULL ? ipset_memory(f->ips) : 0);
	return f;
}

struct feed *
feed_load(const struct config_feed *fc, int track_lines,
    struct feed_stats *st, feed_report_fn report, void *arg, char *err,
    size_t errsz)
{
	struct feed_stats dummy;
	struct loader l;
	struct timespec t0;
	struct fbuf fb;
	struct feed *f = NULL;
	enum feed_format fmt = fc->format;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	st->format = fmt;
	memset(&l, 0, sizeof(l));
	l.path = fc->path;
	l.st = st;
	l.report = report;
	l.arg = arg;
	l.track = track_lines;
	l.plain_scope = fc->match == FEED_MATCH_EXACT ? FEED_SCOPE_EXACT :
	    FEED_SCOPE_BOTH;
	l.rpz.origin[0] = 0;
	l.rpz.originlen = 1;
	l.rpz.ttl = UINT32_MAX;
	if (fbuf_read(fc->path, &fb, err, errsz) == -1)
		return NULL;
	l.p = fb.p;
	l.end = fb.p + fb.len;
	file_identity(&fb.sb, &st->file);
	if (EVP_Digest(fb.p, fb.len, st->sha256, NULL, EVP_sha256(),
	    NULL) != 1) {
		snprintf(err, errsz, "%s: SHA-256 failed", fc->path);
		fbuf_free(&fb);
		return NULL;
	}
	if (fb.len >= 3 && memcmp(l.p, "\xef\xbb\xbf", 3) == 0)
		l.p += 3;
	if (fmt == FEED_AUTO)
		st->format = fmt = detect(l.p, l.end);
	/* A list of addresses has no names: an empty name set. */
	if ((l.b = domset_build_new(fmt == FEED_IP ? 1 :
	    count_lines(l.p, l.end), track_lines)) != NULL &&
	    (fmt != FEED_IP || (l.ib = ipset_builder_new()) != NULL)) {
		parse(&l, fmt);
		if (l.fatal == DOMSET_NEW)
			f = feed_build(&l, fc);
	}
	if (f == NULL)
		snprintf(err, errsz, "%s: %s", fc->path,
		    l.fatal == DOMSET_ERR_SIZE ? "too large (over 4 GB of names)" :
		    "out of memory");
	if (f != NULL && report != NULL && st->errors > FEED_REPORT_MAX) {
		char	 msg[1024];

		/* The first few were shown line by line; then a count. */
		snprintf(msg, sizeof(msg), "%s: %zu more bad lines not shown",
		    fc->path, st->errors - FEED_REPORT_MAX);
		report(arg, msg);
	}
	loader_release(&l);
	fbuf_free(&fb);
	st->load_seconds = elapsed(&t0);
	clock_gettime(CLOCK_REALTIME, &st->loaded_at);
	if (f != NULL)
		f->st = *st;
	return f;
}

/* Lookup. */

static const struct feed_side *
side_find(const struct feed *f, uint32_t rec, unsigned scope)
{
	struct feed_side key;

	memset(&key, 0, sizeof(key));
	key.rec = rec;
	key.scope = scope;
	return bsearch(&key, f->side, f->nside, sizeof(*f->side), side_cmp);
}

int
feed_lookup(const struct feed *f, const uint8_t *name, size_t namelen,
    struct feed_hit *hit)
{
	const struct feed_side *sd;
	struct domset_match m;

	if (f == NULL || !domset_lookup(f->set, name, namelen, &m))
		return 0;
	memset(hit, 0, sizeof(*hit));
	hit->offset = m.offset;
	hit->action = (enum feed_action)m.action;
	hit->scope = (enum feed_scope)m.scope;
	/* One entry covering the name and below, as a plain "a.example" is. */
	if (m.scopes == FEED_SCOPE_BOTH && m.other_action == m.action &&
	    m.action != FEED_OVERRIDE)
		hit->scope = FEED_SCOPE_BOTH;
	hit->line = m.line;
	if (f->nside == 0 || (m.action != FEED_OVERRIDE && !f->track))
		return 1;
	if ((sd = side_find(f, m.rec, m.scope)) != NULL) {
		if (sd->line != 0)
			hit->line = sd->line;
		hit->rrs = sd->nrr ? f->rrs + sd->rr : NULL;
		hit->nrrs = sd->nrr;
	}
	return 1;
}

int
feed_lookup_ip(const struct feed *f, int af, const uint8_t *addr,
    struct feed_ip_hit *hit)
{
	struct ipset_match	 m;

	if (f == NULL || f->ips == NULL || !ipset_lookup(f->ips, af, addr, &m))
		return 0;
	memset(hit, 0, sizeof(*hit));
	hit->action = (enum feed_action)(m.value >> IPV_ACTION_SHIFT);
	hit->af = m.af;
	memcpy(hit->prefix, m.addr, sizeof(hit->prefix));
	hit->plen = m.plen;
	hit->line = m.value & IPV_LINE_MASK;
	return 1;
}

int
feed_has_addresses(const struct feed *f)
{
	return f != NULL && f->ips != NULL;
}

enum feed_format
feed_format(const struct feed *f)
{
	return f->format;
}

const char *
feed_id(const struct feed *f)
{
	return f->id;
}

struct feed *
feed_ref(struct feed *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

const struct feed_stats *
feed_get_stats(const struct feed *f)
{
	return &f->st;
}

static void
file_identity(const struct stat *sb, struct feed_file *ff)
{
	memset(ff, 0, sizeof(*ff));
	ff->dev = sb->st_dev;
	ff->ino = sb->st_ino;
	ff->size = sb->st_size;
	ff->mtime = sb->st_mtim;
	ff->ctime = sb->st_ctim;
}

int
feed_file_stat(const char *path, struct feed_file *ff)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1)
		return -1;
	file_identity(&sb, ff);
	return 0;
}

int
feed_file_equal(const struct feed_file *a, const struct feed_file *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

int
feed_same_config(const struct feed *f, const struct config_feed *fc)
{
	return strcmp(f->id, fc->id) == 0 && strcmp(f->path, fc->path) == 0 &&
	    f->cfg_format == fc->format && f->cfg_match == fc->match;
}

void
feed_sha256_hex(const struct feed_stats *st, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < sizeof(st->sha256); i++) {
		out[2 * i] = hex[st->sha256[i] >> 4];
		out[2 * i + 1] = hex[st->sha256[i] & 15];
	}
	out[64] = '\0';
}

void
feed_free(struct feed *f)
{
	if (f == NULL ||
	    atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(f->path);
	domset_free(f->set);
	ipset_free(f->ips);
	free(f->side);
	free(f->rrs);
	free(f->rdata);
	free(f->id);
	free(f);
}
